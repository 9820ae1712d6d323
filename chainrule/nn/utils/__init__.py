"""``cr.nn.utils``: utilities for parameters and gradients.

``cr.nn.utils``: gradient clipping, weight normalisation, flattening parameters, and the
L1/L2 ``penalty`` regulariser.

Example (one training step with clipping and an L2 penalty)::

    loss = loss_fn(model(x), y) + nn.utils.penalty(model, l2=1e-4)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np, xp_of
from chainrule.nn.module import Module, Parameter
from chainrule.ops.shape import cat
from chainrule.tensor import Tensor


def _param_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a, p: float):
    """The p-norm of an array (all elements), in its dtype, as torch.linalg.vector_norm."""
    xp = xp_of(a)
    if p == math.inf:
        return xp.abs(a).max() if a.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return xp.abs(a).min()
    if p == 0:
        return xp.asarray((a != 0).sum(), dtype=a.dtype)
    if p == 1:
        return xp.abs(a).sum()
    if p == 2:
        return xp.sqrt((a * a).sum())
    return (xp.abs(a) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """Clip the gradients' joint norm in place.

    Rescale the gradients in place so that their joint ``norm_type``-norm is at most ``max_norm``,
    as ``torch.nn.utils.clip_grad_norm_``.

    The total norm is the norm of the per-parameter gradient norms (all gradients seen as one
    vector); every gradient is multiplied by min(1, max_norm / (total + 1e-6)).
    Returns the total norm *before* clipping (a 0-d Tensor), handy for logging.

    Example: ``total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)``.
    """
    params = _param_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._make(np.zeros((), np.float32))
    xp = xp_of(grads[0]._data)
    norms = xp.stack([xp.asarray(_vector_norm(g._data, norm_type)) for g in grads])
    total = xp.asarray(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
            f"({float(total)}), so it cannot be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            if coef != 1.0:
                g._data *= coef
                g._version += 1
    return Tensor._make(total)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place, as PyTorch."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _param_list(parameters):
            if p.grad is not None:
                xp_of(p.grad._data).clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
                p.grad._version += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable), as PyTorch."""
    params = _param_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (in place), as PyTorch."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = _param_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, but the parameters hold "
            f"{total} values (expected shape ({total},))"
        )
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = vec._data[start : start + n].reshape(p.shape)
            p._version += 1
            start += n


# ----------------------------------------------------------------------------- weight norm


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """‖v‖₂ over every dim but ``dim``, kept as size-1 dims (over everything when dim == -1)."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(i for i in range(v.ndim) if i != dim)
    return (v * v).sum(axes, keepdim=True).sqrt() if axes else v.abs()


class _WeightNorm:
    """The forward pre-hook of ``weight_norm``: recompute w = g · v / ‖v‖ before every forward."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalisation of a module's weight.

    Reparameterise ``module.<name>`` as w = g · v / ‖v‖ (Salimans & Kingma, 2016), as
    ``torch.nn.utils.weight_norm``: parameters ``<name>_g`` (the norms, shape with ``dim`` kept and
    the other dims 1; a scalar for ``dim=None``) and ``<name>_v`` (the direction) replace ``<name>``,
    which is recomputed before every forward.  Returns the module.

    Example: ``layer = nn.utils.weight_norm(nn.Linear(20, 40))`` -> parameters weight_g (40, 1) and
    weight_v (40, 20).
    """
    hooks = module.__dict__.setdefault("_weight_norm_hooks", {})
    if name in hooks:
        raise RuntimeError(
            f"weight_norm: cannot register two weight_norm hooks on the same parameter {name!r}"
        )
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    dim = -1 if dim is None else dim
    if dim < -1:
        dim += weight.ndim
    if not -1 <= dim < weight.ndim:
        raise IndexError(
            f"weight_norm: dim {dim} is out of range for {name!r} of shape {tuple(weight.shape)}"
        )
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    with no_grad():
        g = _norm_except_dim(Tensor._make(weight._data), dim)
    module.register_parameter(name + "_g", Parameter(g._data.copy()))
    module.register_parameter(name + "_v", Parameter(weight._data))
    fn(module, ())
    hooks[name] = (fn, module.register_forward_pre_hook(fn))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter again (with the current w)."""
    hooks = module.__dict__.get("_weight_norm_hooks", {})
    if name not in hooks:
        raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {type(module).__name__}")
    fn, handle = hooks.pop(name)
    with no_grad():
        weight = fn.compute_weight(module)
    handle.remove()
    module.__dict__.pop(name, None)
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight._data))
    return module


# ----------------------------------------------------------------------------- penalty

_NORM_LAYER = re.compile(r"(Batch|Layer|Group|Instance|RMS|LocalResponse)Norm")


def _is_norm_layer(module: Module) -> bool:
    return any(_NORM_LAYER.match(c.__name__) or c.__name__ == "_BatchNorm" for c in type(module).__mro__)


def penalty(module: Module, l1: float = 0.0, l2: float = 0.0) -> Tensor:
    """An L1/L2 penalty on a module's weights.

    The regulariser l1 · Σ|w| + ½ · l2 · Σw² over the module's weights, as a scalar Tensor
    to add to the loss (L1 favours sparse weights, L2 is weight decay for plain SGD).

    Skipped: biases (any parameter whose own name starts with ``bias``, e.g. ``bias``,
    ``bias_ih_l0``) and every parameter of normalisation layers (BatchNorm*, LayerNorm, ...).
    Shared parameters count once.

    Example: ``loss = F.cross_entropy(model(x), y) + nn.utils.penalty(model, l2=1e-4)``.
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty: l1 and l2 must be non-negative, got l1={l1}, l2={l2}")
    seen: set = set()
    total = None
    for _, mod in module.named_modules():
        if _is_norm_layer(mod):
            for p in mod.parameters(recurse=False):
                seen.add(id(p))
            continue
        for pname, p in mod._parameters.items():
            if p is None or id(p) in seen or pname.startswith("bias"):
                continue
            seen.add(id(p))
            term = None
            if l1:
                term = p.abs().sum() * float(l1)
            if l2:
                sq = (p * p).sum() * (0.5 * float(l2))
                term = sq if term is None else term + sq
            if term is not None:
                total = term if total is None else total + term
    if total is None:
        ref = next(module.parameters(), None)
        dtype = ref.dtype if ref is not None else np.float32
        return Tensor._make(np.zeros((), dtype))
    return total


from chainrule.nn.utils import rnn  # noqa: E402,F401  (cr.nn.utils.rnn: packed sequences)
