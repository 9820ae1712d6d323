"""``chainrule.nn``: modules (layers, activations, losses), ``functional``, ``init``, ``utils``."""

from chainrule.nn import functional, init  # noqa: F401
from chainrule.nn.containers import Flatten, Identity, ModuleDict, ModuleList, Sequential, Unflatten  # noqa: F401
from chainrule.nn.linear import Linear  # noqa: F401
from chainrule.nn.module import Module, Parameter  # noqa: F401
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
