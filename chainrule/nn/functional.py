"""``chainrule.nn.functional`` (``F``): the functional form of every layer and loss.

Each function here is the stateless op a module calls with its parameters; the ops
themselves (forward and backward) live in ``chainrule/ops``.
"""

from chainrule.ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from chainrule.ops.linalg import linear  # noqa: F401
from chainrule.ops.shape import pad  # noqa: F401
