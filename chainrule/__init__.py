"""chainrule: a readable deep-learning framework on NumPy, numerically matching PyTorch.

import chainrule as cr
x = cr.tensor([1.0, 2.0], requires_grad=True)
(x * x).sum().backward()
x.grad  # tensor([2., 4.])
"""

__version__ = "0.1.0"

from chainrule.tensor import Tensor  # noqa: I001  (first: everything else builds on it)
from chainrule import autograd
from chainrule import nn
from chainrule.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.random import manual_seed, get_rng_state, set_rng_state
from chainrule.backend import get_num_threads, set_num_threads
from chainrule.ops.creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
    bool_ as bool,
    float16,
    float32,
    float64,
    half,
    float,
    double,
    long,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from chainrule.ops.elementwise import (
    abs,
    add,
    clamp,
    clone,
    cos,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from chainrule.ops.linalg import matmul
from chainrule.ops.reduce import amax, amin, argmax, argmin, logsumexp, max, mean, min, norm, std, sum, var
from chainrule.ops.shape import (
    cat,
    chunk,
    expand,
    flatten,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

clip = clamp
concat = concatenate = cat


def is_tensor(obj) -> bool:
    """True for chainrule Tensors (and Parameters)."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """Number of elements of ``t``."""
    return t.numel()


from chainrule import callbacks, data, optim, viz  # noqa: E402,F401  (cr.callbacks, cr.data, cr.optim, cr.viz)
from chainrule.serialization import load, save  # noqa: E402,F401
from chainrule.summary import summary  # noqa: E402,F401
from chainrule.train import evaluate, fit, predict  # noqa: E402,F401  (cr.fit, cr.evaluate, cr.predict)
