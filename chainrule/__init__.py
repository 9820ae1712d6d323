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

from chainrule.devices import accelerator, cuda, device  # noqa: E402  (PyTorch's device names)
from chainrule.ops.misc import log1p, mm, narrow, randn_like, tril, triu  # noqa: E402

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

# -- wider vocabulary: math, logic, indexing, sorting, creation, linalg (ops/mathx, ops/indexing,
# ops/sorting, ops/creation, linalg.py)
from chainrule import linalg  # noqa: E402
from chainrule.backend import get_default_dtype, set_default_dtype  # noqa: E402
from chainrule.random import Generator  # noqa: E402
from chainrule.ops.creation import (  # noqa: E402
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    from_dlpack,
    logspace,
    multinomial,
    normal,
    rand_like,
    randint_like,
    tril_indices,
    triu_indices,
)
from chainrule.ops.activation import log_softmax, softmax  # noqa: E402
from chainrule.ops.dropout import dropout  # noqa: E402
from chainrule.ops.indexing import (  # noqa: E402
    argwhere,
    broadcast_to,
    dstack,
    flip,
    fliplr,
    flipud,
    gather,
    hstack,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    masked_select,
    meshgrid,
    movedim,
    nonzero,
    repeat_interleave,
    roll,
    rot90,
    scatter,
    scatter_add,
    select,
    take,
    tile,
    unbind,
    unflatten,
    vstack,
)
from chainrule.ops.mathx import (  # noqa: E402
    acos,
    addmm,
    addmv,
    all,
    allclose,
    any,
    arctan2,
    asin,
    atan,
    atan2,
    baddbmm,
    bmm,
    cdist,
    ceil,
    cosh,
    count_nonzero,
    cross,
    cumprod,
    cumsum,
    diag,
    diag_embed,
    diagonal,
    dot,
    einsum,
    eq,
    equal,
    erf,
    expm1,
    floor,
    fmod,
    frac,
    ge,
    ger,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    kron,
    le,
    lerp,
    log10,
    log2,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    nan_to_num,
    ne,
    outer,
    prod,
    reciprocal,
    remainder,
    round,
    rsqrt,
    sinh,
    square,
    tan,
    tensordot,
    trace,
    trunc,
    vdot,
)
from chainrule.ops.sorting import (  # noqa: E402
    aminmax,
    argsort,
    bucketize,
    histc,
    kthvalue,
    median,
    mode,
    searchsorted,
    sort,
    std_mean,
    topk,
    unique,
    unique_consecutive,
    var_mean,
)

moveaxis = movedim
swapaxes = swapdims = transpose
arccos, arcsin, arctan, fix = acos, asin, atan, trunc
from chainrule import distributed  # noqa: E402,F401  (cr.distributed; mpi4py is imported by its init())
from chainrule import onnx  # noqa: E402,F401  (cr.onnx.export; the onnx package is imported by export())
from chainrule import utils  # noqa: E402,F401  (cr.utils.data is cr.data, PyTorch's path)


def __getattr__(name: str):
    """``cr.bfloat16`` on first use (importing ml_dtypes, NumPy's bfloat16, is slow)."""
    if name == "bfloat16":
        from chainrule.ops import creation

        return creation.bfloat16
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
