"""``gradcheck``: compare backprop's gradients with finite differences.

The analytic Jacobian comes from the engine (one backward pass per output
element); the numerical one from central differences,

    ∂f/∂xᵢ ≈ (f(x + ε eᵢ) - f(x - ε eᵢ)) / (2ε),

in float64.  They must agree within ``atol + rtol · |numerical|``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.autograd.functional import grad
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np, to_numpy
from chainrule.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical gradients disagree."""


def _outputs(fn, inputs) -> list:
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def gradcheck(
    fn: Callable,
    inputs: Tensor | Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every gradient of ``fn`` at ``inputs`` matches finite differences.

    ``inputs``: a Tensor or a tuple of arguments; the Tensors among them that
    require grad are checked (use float64 for meaningful precision).
    Raises ``GradcheckError`` naming the worst mismatch otherwise.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: none of the inputs requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 for finite differences"
            )

    outs = _outputs(fn, inputs)
    worst: tuple[float, Any] = (0.0, None)
    for k, out in enumerate(outs):
        if out.dtype.kind != "f":
            continue
        n_out = out._data.size
        analytic = {i: np.zeros((n_out, inputs[i]._data.size)) for i in checked}
        if out.requires_grad:
            for j in range(n_out):
                seed = np.zeros(n_out, out.dtype)
                seed[j] = 1.0
                gs = grad(
                    out,
                    [inputs[i] for i in checked],
                    Tensor._make(seed.reshape(out.shape)),
                    retain_graph=True,
                    allow_unused=True,
                )
                for i, g in zip(checked, gs):
                    if g is not None:
                        analytic[i][j] = to_numpy(g._data).ravel()
        for i in checked:
            x = inputs[i]._data
            numeric = np.zeros((n_out, x.size))
            for e in range(x.size):
                at = np.unravel_index(e, x.shape)  # in place, whatever the memory layout of x
                orig = x[at].item()
                with no_grad():
                    x[at] = orig + eps
                    plus = to_numpy(_outputs(fn, inputs)[k]._data).astype(np.float64).ravel()
                    x[at] = orig - eps
                    minus = to_numpy(_outputs(fn, inputs)[k]._data).astype(np.float64).ravel()
                    x[at] = orig
                numeric[:, e] = (plus - minus) / (2 * eps)
            err = np.abs(analytic[i] - numeric) - (atol + rtol * np.abs(numeric))
            if err.size and err.max() > worst[0]:
                j, e = (int(v) for v in np.unravel_index(int(np.argmax(err)), err.shape))
                worst = (err.max(), (k, i, j, e, analytic[i][j, e], numeric[j, e]))
    if worst[1] is not None:
        k, i, j, e, a, n = worst[1]
        msg = (
            f"gradcheck: Jacobian mismatch for output {k} with respect to input {i}: element "
            f"(output {j}, input {e}) analytic {a:.10g} vs numerical {n:.10g} "
            f"(atol={atol}, rtol={rtol})"
        )
        if raise_exception:
            raise GradcheckError(msg)
        return False
    return True
