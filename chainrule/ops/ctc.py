"""Connectionist temporal classification loss (``F.ctc_loss``), as PyTorch computes it on the CPU.

Forward: the alpha recursion of Graves et al. (2006) in log space over the extended target
l' = (blank, l₁, blank, l₂, ..., blank), vectorised over the batch and the positions s, one step
per time t:

    α_t(s) = log(e^{α_{t-1}(s)} + e^{α_{t-1}(s-1)} + [l'_s ≠ l'_{s-2}] e^{α_{t-1}(s-2)}) + lp_t(l'_s)

each log-sum-exp shifted by its maximum (0 when all three are -∞), and
nll = -log(e^{α_{T-1}(2L)} + e^{α_{T-1}(2L-1)}).

Backward: the beta recursion, run the other way, and PyTorch's gradient

    ∂/∂lp_t(c) = (e^{lp_t(c)} - Σ_{s: l'_s = c} e^{α_t(s) + β_t(s) + nll - lp_t(c)}) · grad

whose first term assumes ``log_probs`` are normalised (the output of ``log_softmax``): it is
the gradient through log_softmax of the true one, as PyTorch's.  The recursions run on arrays,
so the op has no second derivative (neither has PyTorch's).
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import State
from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops.loss import _reduction
from chainrule.tensor import Tensor

_NEG_INF = float("-inf")


def _logsumexp3(a, b, c):
    """log(eᵃ + eᵇ + eᶜ) shifted by the maximum (0 where all are -∞), as PyTorch's CTC kernel."""
    xp = xp_of(a)
    m = xp.maximum(a, b)
    xp.maximum(m, c, out=m)
    xp.copyto(m, 0, where=m == _NEG_INF)
    with np.errstate(under="ignore", divide="ignore"):
        total = xp.exp(a - m)
        total += xp.exp(b - m)
        total += xp.exp(c - m)
        xp.log(total, out=total)
    total += m
    return total


def _mask(keep, dtype):
    """0 where ``keep``, -∞ elsewhere: added to a log-probability, it removes a path."""
    return xp_of(keep).where(keep, 0, _NEG_INF).astype(dtype)


class CTCLoss(Function):
    """Per-sample CTC negative log-likelihood of (T, N, C) log-probabilities; see the module docstring.

    ``apply(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)`` with
    ``targets`` an (N, S) int array padded past each target length and the lengths int arrays
    -> (N,) losses (inf where no alignment exists).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        lp = log_probs._data
        xp = xp_of(lp)
        t_max, n, _ = lp.shape
        s_max = targets.shape[1]
        ext = xp.full((n, 2 * s_max + 1), blank, np.int64)
        ext[:, 1::2] = targets
        pos = xp.arange(2 * s_max + 1)
        valid = pos[None, :] < 2 * target_lengths[:, None] + 1
        skip = xp.zeros(ext.shape, bool)
        skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
        lp_ext = lp[:, xp.arange(n)[:, None], ext]  # (T, N, 2S+1): lp_t(l'_s)
        off = _mask(valid, lp.dtype)  # positions past a sample's own 2L+1
        width = ext.shape[1]
        padded = xp.full((t_max, n, width + 2), _NEG_INF, lp.dtype)  # two -∞ columns before s = 0
        alpha = padded[:, :, 2:]
        if t_max:
            alpha[0, :, 0] = lp_ext[0, :, 0]
            if s_max:
                alpha[0, :, 1] = xp.where(target_lengths > 0, lp_ext[0, :, 1], _NEG_INF)
        skip_off = _mask(skip, lp.dtype)
        for t in range(1, t_max):
            prev = padded[t - 1]
            step = _logsumexp3(prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_off)
            step += lp_ext[t]
            step += off
            alpha[t] = step
        rows = xp.arange(n)
        last = xp.maximum(input_lengths - 1, 0)
        l1 = alpha[last, rows, 2 * target_lengths]
        l2 = xp.where(target_lengths > 0, alpha[last, rows, xp.maximum(2 * target_lengths - 1, 0)], _NEG_INF)
        m = xp.maximum(l1, l2)
        m = xp.where(m == _NEG_INF, 0, m)
        with np.errstate(under="ignore", divide="ignore"):
            nll = -(xp.log(xp.exp(l1 - m) + xp.exp(l2 - m)) + m)
        empty = input_lengths == 0
        nll = xp.where(empty, xp.where(target_lengths == 0, 0.0, float("inf")), nll).astype(lp.dtype)
        if ctx.recorded:
            ctx.save_for_backward(log_probs)
            ctx.alpha, ctx.lp_ext, ctx.ext, ctx.off, ctx.skip = alpha, lp_ext, ext, off, skip
            ctx.lengths = (input_lengths, target_lengths)
            ctx.nll, ctx.zero_infinity = nll, zero_infinity
        return nll

    @staticmethod
    def backward(ctx, grad):
        if State.grad_enabled:
            raise RuntimeError(
                f"{ctx.name()}: second derivatives (create_graph=True) through ctc_loss are not supported; "
                "its alpha-beta recursions run on arrays (PyTorch has none either)"
            )
        (log_probs,) = ctx.saved_tensors
        lp = log_probs._data if isinstance(log_probs, Tensor) else log_probs
        xp = xp_of(lp)
        t_max, n, c = lp.shape
        input_lengths, target_lengths = ctx.lengths
        alpha, lp_ext, ext, off = ctx.alpha, ctx.lp_ext, ctx.ext, ctx.off
        width = ext.shape[1]
        skip_next = xp.zeros(ext.shape, bool)  # s -> s+2 allowed: l'_{s+2} ≠ l'_s
        skip_next[:, :-2] = ctx.skip[:, 2:]
        skip_off = _mask(skip_next, lp.dtype)
        end = 2 * target_lengths
        last = input_lengths - 1
        padded = xp.full((t_max, n, width + 2), _NEG_INF, lp.dtype)  # two -∞ columns after s = 2S
        beta = padded[:, :, :width]
        nxt = xp.full((n, width + 2), _NEG_INF, lp.dtype)
        for t in range(t_max - 1, -1, -1):
            step = _logsumexp3(nxt[:, :width], nxt[:, 1:-1], nxt[:, 2:] + skip_off)
            step += lp_ext[t]
            step += off
            step[t > last] = _NEG_INF
            (start,) = xp.nonzero(t == last)  # the samples whose last frame is t: beta's start
            if start.size:
                step[start] = _NEG_INF
                step[start, end[start]] = lp_ext[t, start, end[start]]
                two = start[target_lengths[start] > 0]
                step[two, end[two] - 1] = lp_ext[t, two, end[two] - 1]
            beta[t] = step
            nxt = padded[t]
        rows = xp.arange(n)
        nll = ctx.nll
        with np.errstate(under="ignore", invalid="ignore", over="ignore"):
            post = xp.exp(alpha + beta + nll[None, :, None] - lp_ext)  # (T, N, 2S+1), 0 off every path
        index = (xp.arange(t_max)[:, None, None] * n + rows[None, :, None]) * c + ext[None]
        gamma = xp.bincount(index.ravel(), weights=post.ravel(), minlength=t_max * n * c)
        gamma = gamma.reshape(t_max, n, c).astype(lp.dtype, copy=False)
        g = xp.broadcast_to(xp.asarray(grad, dtype=lp.dtype), (n,))
        out = (xp.exp(lp) - gamma) * g[None, :, None]
        inside = xp.arange(t_max)[:, None] < input_lengths[None, :]  # (T, N)
        infinite = xp.isinf(nll)
        if ctx.zero_infinity:
            inside = inside & ~infinite[None, :]
        else:  # no alignment: PyTorch's e^{-∞ + ∞} is nan for every class
            out = xp.where(infinite[None, :, None], float("nan"), out)
        return xp.where(inside[:, :, None], out, 0).astype(lp.dtype, copy=False), None, None, None, None, None

    def release(self) -> None:
        super().release()
        self.alpha = self.lp_ext = self.off = None


def _lengths(op: str, name: str, value, n: int):
    """Lengths (a Tensor, a sequence or an int) as an int64 NumPy array of shape (n,)."""
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu":
            raise TypeError(f"{op}: {name} must hold integers, got dtype {value.dtype}")
        arr = np.asarray(value.detach().cpu().numpy()).astype(np.int64).reshape(-1)
    else:
        items = [value] if isinstance(value, (int, np.integer)) else value
        try:
            arr = np.array(
                [_args.integer(op, name, int(v) if isinstance(v, np.integer) else v) for v in items]
            )
        except TypeError:
            raise TypeError(f"{op}: {name} must be a Tensor or a sequence of ints, got {value!r}") from None
        arr = arr.astype(np.int64).reshape(-1)
    if arr.shape != (n,):
        raise RuntimeError(f"{op}: {name} must be of size batch_size ({n}), got {arr.shape[0]} values")
    if (arr < 0).any():
        raise RuntimeError(f"{op}: {name} must be non-negative, got {int(arr[arr < 0][0])}")
    return arr


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    r"""Connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``.

    The negative log of the total probability of every alignment of the target with the input
    (repeats merged, blanks removed):

    $$
    \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_n)} \prod_{t=1}^{T_n} p_t(\pi_t)
    $$

    computed by the forward (alpha) recursion in log space; the gradient comes from the
    alpha-beta recursion and, as PyTorch's, treats ``log_probs`` as normalised (pass the output
    of ``log_softmax``). No second derivative, as PyTorch.

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities.
        targets: (N, S) class indices padded past each target length, or the targets of the
            batch concatenated, (sum(target_lengths),); never ``blank``.
        input_lengths: (N,) lengths ≤ T (a Tensor, a tuple or, unbatched, an int).
        target_lengths: (N,) lengths ≤ S.
        blank: the index of the blank class.
        reduction: ``'mean'`` (each loss divided by its target length, then the batch mean),
            ``'sum'`` or ``'none'`` (N,).
        zero_infinity: replace infinite losses (no alignment fits) and their gradients by 0.

    Returns:
        A scalar, or (N,) for ``'none'`` (a scalar unbatched).

    Raises:
        RuntimeError: lengths that do not fit the inputs, a blank outside [0, C).
        IndexError: a target class outside [0, C).

    Shape:
        - Log_probs: (T, N, C) or (T, C), from ``log_softmax``
        - Targets: (N, S) padded, or (sum(target_lengths),) concatenated
        - Input_lengths, Target_lengths: (N,)
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> lp = cr.tensor([[[0.0, -100.0]], [[-100.0, 0.0]]])  # T=2, N=1, C=2
        >>> float(cr.nn.functional.ctc_loss(lp, cr.tensor([[1]]), [2], [1], reduction="sum"))
        0.0
    """
    op = "ctc_loss"
    reduction = _reduction(op, reduction)
    if not isinstance(log_probs, Tensor) or log_probs.dtype.kind != "f":
        got = log_probs.dtype if isinstance(log_probs, Tensor) else type(log_probs).__name__
        raise TypeError(f"{op}: log_probs must be a floating point Tensor, got {got}")
    if not isinstance(targets, Tensor) or targets.dtype.kind not in "iu":
        got = targets.dtype if isinstance(targets, Tensor) else type(targets).__name__
        raise TypeError(f"{op}: targets must be an integer Tensor, got {got}")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(
            f"{op}: log_probs must be (T, N, C) or unbatched (T, C), got shape {tuple(log_probs.shape)}"
        )
    batched = log_probs.ndim == 3
    if not batched:
        log_probs = log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1])
        targets = targets.reshape(1, -1)
    t_max, n, c = log_probs.shape
    blank = _args.integer(op, "blank", blank)
    if not 0 <= blank < c:
        raise RuntimeError(f"{op}: blank must be in label range [0, {c}), got {blank}")
    il = _lengths(op, "input_lengths", input_lengths, n)
    tl = _lengths(op, "target_lengths", target_lengths, n)
    if (il > t_max).any():
        raise RuntimeError(
            f"{op}: expected input_lengths to have value at most {t_max}, but got {int(il.max())}"
        )
    t = np.asarray(targets.detach().cpu().numpy()).astype(np.int64)
    if t.ndim == 2:
        if t.shape[0] != n:
            raise RuntimeError(f"{op}: targets have {t.shape[0]} rows for a batch of {n}")
        if n and t.shape[1] < tl.max():
            raise RuntimeError(
                f"{op}: expected targets to have size at least {int(tl.max())} at dimension 1 (the longest "
                f"target length), but got size {t.shape[1]}"
            )
        padded = t[:, : int(tl.max()) if n else 0]
    elif t.ndim == 1:
        if t.shape[0] < tl.sum():
            raise RuntimeError(
                f"{op}: expected the concatenated targets to have at least sum(target_lengths) = "
                f"{int(tl.sum())} elements, got {t.shape[0]}"
            )
        padded = np.zeros((n, int(tl.max()) if n else 0), np.int64)
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]])
        for i in range(n):
            padded[i, : tl[i]] = t[starts[i] : starts[i] + tl[i]]
    else:
        raise RuntimeError(
            f"{op}: targets must be (N, S) or concatenated (sum(target_lengths),), got {t.shape}"
        )
    used = np.arange(padded.shape[1])[None, :] < tl[:, None]
    bad = used & ((padded < 0) | (padded >= c))
    if bad.any():
        raise IndexError(f"{op}: target class {int(padded[bad][0])} is out of range for {c} classes")
    padded = np.where(used, padded, blank)
    xp = xp_of(log_probs._data)
    loss = CTCLoss.apply(
        log_probs, xp.asarray(padded), xp.asarray(il), xp.asarray(tl), blank, bool(zero_infinity)
    )
    if zero_infinity:
        loss = loss.masked_fill(loss == float("inf"), 0.0)
    if reduction == "mean":
        lengths = Tensor._make(xp.asarray(np.maximum(tl, 1).astype(log_probs.dtype)))
        return (loss / lengths).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.reshape(())
