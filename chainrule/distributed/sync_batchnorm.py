"""``SyncBatchNorm``: batch normalisation with the statistics of the whole batch over all ranks."""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import State
from chainrule.backend import np
from chainrule.distributed import comm
from chainrule.nn.normalization import _BatchNorm
from chainrule.tensor import Tensor


def _sum_over_ranks(array):
    """``array`` summed elementwise over all ranks (a new array)."""
    t = Tensor._make(np.ascontiguousarray(array))
    return comm.all_reduce(t, "sum")._data


class _SyncBatchNormFn(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats):
        a = x._data
        axes = (0, *range(2, a.ndim))
        shape = (1, -1) + (1,) * (a.ndim - 2)
        c = a.shape[1]
        totals = _sum_over_ranks(np.concatenate([a.sum(axes), [a.size // c]]).astype(np.float64))
        n = totals[-1]
        mean = (totals[:c] / n).astype(a.dtype)
        centred = a - mean.reshape(shape)
        var = (_sum_over_ranks((centred * centred).sum(axes)) / n).astype(a.dtype)
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = centred * invstd.reshape(shape)
        w = weight._data.reshape(shape) if weight is not None else None
        ctx.xhat, ctx.invstd, ctx.n, ctx.w, ctx.axes, ctx.shape = xhat, invstd, n, w, axes, shape
        stats.update(mean=mean, var=var, n=n)  # for the running statistics, recorded or not
        y = xhat if w is None else xhat * w
        return y if bias is None else y + bias._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        if State.grad_enabled:
            raise RuntimeError("SyncBatchNorm: backward with create_graph=True is not supported")
        g, xhat, axes, shape = grad._data, ctx.xhat, ctx.axes, ctx.shape
        dxhat = g if ctx.w is None else g * ctx.w
        c = xhat.shape[1]
        sums = _sum_over_ranks(np.concatenate([dxhat.sum(axes), (dxhat * xhat).sum(axes)]))
        mean_dxhat, mean_dxhat_xhat = (sums[:c] / ctx.n).reshape(shape), (sums[c:] / ctx.n).reshape(shape)
        dx = ctx.invstd.reshape(shape) * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)
        gw = None if ctx.w is None else Tensor._make((g * xhat).sum(axes))
        gb = Tensor._make(g.sum(axes)) if ctx.needs_input_grad[2] else None
        return Tensor._make(dx.astype(g.dtype)), gw, gb, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of the whole batch across all ranks.

    For inputs (N, C, *) on each rank: ``mean_c`` and ``var_c`` (biased) are taken over the
    ``Σ_r N_r · prod(*)`` values of channel c on all ranks, ``y = (x − mean) / sqrt(var + eps) · γ + β``;
    the running statistics use the unbiased variance, as ``nn.BatchNorm2d``. With DDP, two ranks of
    batch B then train exactly as one process of batch 2B with ``BatchNorm``. Without
    ``cr.distributed.init()`` (or with one rank), in ``eval()`` mode, it is plain batch norm.
    Backward runs two all-reduces per layer (PyTorch's algorithm); double backward is refused.

    Example (run under ``mpirun``)::

        norm = cr.distributed.SyncBatchNorm(16)
        y = norm(cr.randn(8, 16, 5, 5))
    """

    _dims = (2, 3, 4, 5)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not (self.training and comm.is_initialized() and comm.world_size() > 1):
            return super().forward(input)
        self._check_input_dim(input)
        stats: dict = {}
        out = _SyncBatchNormFn.apply(input, self.weight, self.bias, self.eps, stats)
        if self.track_running_stats and self.running_mean is not None:
            self.num_batches_tracked._data[...] += 1
            f = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
            mean, var, n = stats["mean"], stats["var"], stats["n"]
            self.running_mean._data[...] = (1 - f) * self.running_mean._data + f * mean
            self.running_var._data[...] = (1 - f) * self.running_var._data + f * var * (n / max(n - 1, 1))
        return out
