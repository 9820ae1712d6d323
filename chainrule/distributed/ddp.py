"""``DistributedDataParallel``: the same model on every rank, gradients averaged over ranks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.backend import np
from chainrule.distributed import comm as _comm
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

_BUCKET_MB = 25.0


class _EndOfBackward(Function):
    """A graph node that runs after every node of the model's backward.

    A node created before the model's forward: the engine runs nodes newest first, so this one
    runs after every node of the model, when every parameter's gradient is complete.
    """

    @staticmethod
    def forward(ctx, anchor, ddp, sync):
        ctx.ddp, ctx.sync = ddp, sync
        return np.zeros((), dtype=anchor._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.sync:
            ctx.ddp._finish_reduction()
        return None, None, None


class _Join(Function):
    """Identity on ``x`` that also hands a zero gradient to the end-of-backward node ``marker``."""

    @staticmethod
    def forward(ctx, x, marker):
        return x._data.view()

    @staticmethod
    def backward(ctx, grad):
        return grad, grad.sum() * 0


def _flat_grad(p: Tensor):
    """``p``'s gradient as a flat host array; zeros (of ``p``'s dtype) when it has none."""
    if p.grad is None:
        return np.zeros(p._data.size, p._data.dtype)
    return _comm._host(p.grad._data).ravel()


class DistributedDataParallel(Module):
    """Data-parallel training: wrap the model on every rank, train each rank on its own shard.

    At construction the parameters and buffers of rank 0 are copied to every rank. After each
    ``backward`` every parameter's ``.grad`` holds the mean over ranks of the local gradients,
    ``g = (1/P) Σ_r g_r``, so with the mean loss of a batch of ``B`` per rank the step equals one
    process's step on the ``P·B`` samples together. BatchNorm normalises with each rank's own
    batch statistics; with ``broadcast_buffers`` (the default, as PyTorch) rank 0's buffers
    (running statistics) are copied to every rank before each training forward.

    The gradients are reduced in buckets of about ``bucket_cap_mb`` MB (parameters in reverse
    order, one dtype per bucket, so the last layers, whose gradients come first, fill the first
    bucket), each flattened into one contiguous buffer and summed with a non-blocking
    ``Iallreduce``. A bucket is sent during ``backward``, as soon as all its parameters'
    gradients are complete (``Tensor.register_post_accumulate_grad_hook``), while the engine goes
    on with the earlier layers; buckets are sent in the same order on every rank, as MPI
    requires. When the model's part of ``backward`` is over (a graph node created before the
    forward runs last) the remaining buckets are sent, every request is awaited and ``.grad``
    receives the mean. Parameters without a gradient count as zero gradients.

    ``no_sync()``: forwards run inside it skip the reduction in their backward, so gradients
    accumulate locally; the first backward of a forward outside it reduces the accumulated sum.

    ``module`` is the wrapped model; ``state_dict`` keys carry the ``module.`` prefix, as
    PyTorch's DDP (save ``ddp.module.state_dict()`` for keys without it).

    Example (run with ``mpirun -n 2 python script.py``)::

        cr.distributed.init()
        ddp = cr.distributed.DistributedDataParallel(model)
        loss_fn(ddp(x), y).backward()  # .grad now averaged over ranks
    """

    def __init__(self, module: Module, bucket_cap_mb: float = _BUCKET_MB, broadcast_buffers: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a cr.nn.Module, got {type(module).__name__}"
            )
        if not bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}"
            )
        _comm._comm("DistributedDataParallel")
        self.module = module
        object.__setattr__(self, "bucket_cap_mb", float(bucket_cap_mb))
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "require_backward_grad_sync", True)
        object.__setattr__(self, "_anchor", Tensor._make(np.zeros((), dtype=np.float64), True))
        tensors = [p for p in module.parameters()]
        if broadcast_buffers:
            tensors += [b for b in module.buffers() if b is not None]
        for t in tensors:
            _comm.broadcast(t, 0)
        object.__setattr__(self, "_buckets", self._make_buckets())
        object.__setattr__(self, "_bucket_of", {id(p): i for i, b in enumerate(self._buckets) for p in b})
        object.__setattr__(self, "_sync_pass", False)
        object.__setattr__(self, "_overlap", True)  # False: send every bucket at the end (benchmarks)
        self._reset_pass()
        for bucket in self._buckets:
            for p in bucket:
                p.register_post_accumulate_grad_hook(self._grad_ready)

    def _make_buckets(self) -> list[list]:
        cap = self.bucket_cap_mb * 2**20
        buckets: list[list] = []
        open_: dict = {}  # dtype -> (bucket, bytes so far)
        for p in reversed([p for p in self.module.parameters() if p.requires_grad]):
            dtype = p._data.dtype
            bucket, size = open_.get(dtype, (None, 0))
            if bucket is None or size + p._data.nbytes > cap and bucket:
                bucket, size = [], 0
                buckets.append(bucket)
            bucket.append(p)
            open_[dtype] = (bucket, size + p._data.nbytes)
        return buckets

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        marker = None
        if self.broadcast_buffers and self.training and is_grad_enabled() and _comm.world_size() > 1:
            for b in self.module.buffers():
                if b is not None:
                    _comm.broadcast(b, 0)
        if _comm.world_size() > 1 and any(p.requires_grad for p in self.module.parameters()):
            # created before the model's nodes, so the engine runs its backward after theirs
            marker = _EndOfBackward.apply(self._anchor, self, self.require_backward_grad_sync)
            self._reset_pass()
            object.__setattr__(self, "_sync_pass", self.require_backward_grad_sync and marker.requires_grad)
        out = self.module(*args, **kwargs)
        if marker is None or not marker.requires_grad:  # no graph recorded (no_grad, inference)
            return out
        return self._join(out, marker)

    def _join(self, out: Any, marker: Tensor) -> Any:
        if isinstance(out, Tensor):
            return _Join.apply(out, marker) if out.requires_grad else out
        if isinstance(out, (tuple, list)):
            return type(out)(self._join(o, marker) for o in out)
        if isinstance(out, dict):
            return {k: self._join(v, marker) for k, v in out.items()}
        return out

    def _reset_pass(self) -> None:
        """Forget the buckets sent by the previous backward."""
        object.__setattr__(self, "_ready", [0] * len(self._buckets))  # complete gradients per bucket
        object.__setattr__(self, "_sent", [])  # (bucket, flat buffer, request), in bucket order

    def _grad_ready(self, p: Tensor) -> None:
        """Post-accumulate-grad hook: send every leading bucket whose gradients are all complete."""
        if not (self._sync_pass and self._overlap):
            return
        self._ready[self._bucket_of[id(p)]] += 1
        n = len(self._sent)
        while n < len(self._buckets) and self._ready[n] == len(self._buckets[n]):
            self._send(n)
            n += 1
        if self._sent:  # MPI progresses a non-blocking collective only inside MPI calls
            _comm._state["MPI"].Request.Testall([r for _, _, r in self._sent])

    def _send(self, i: int) -> None:
        """Pack bucket ``i``'s gradients into one buffer and start summing it over the ranks."""
        MPI = _comm._state["MPI"]
        bucket = self._buckets[i]
        flat = np.concatenate([_flat_grad(p) for p in bucket])
        world = _comm._comm("DistributedDataParallel")
        self._sent.append((bucket, flat, world.Iallreduce(MPI.IN_PLACE, flat, op=MPI.SUM)))

    def _finish_reduction(self) -> None:
        """Send the buckets still unsent, wait for all and give every ``.grad`` the mean."""
        for i in range(len(self._sent), len(self._buckets)):
            self._send(i)
        size = _comm.world_size()
        for bucket, flat, request in self._sent:
            request.Wait()
            flat /= size
            offset = 0
            for p in bucket:
                n = p._data.size
                values = flat[offset : offset + n].reshape(p._data.shape)
                offset += n
                if backend.xp_of(p._data) is not np:
                    values = backend.xp_of(p._data).asarray(values)
                if p.grad is None:
                    p.grad = Tensor._make(values.copy())
                else:
                    p.grad._data = values.copy()
        self._reset_pass()

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip the gradient reduction for the forwards run inside (gradient accumulation).

        Example::

            with ddp.no_sync():
                loss_fn(ddp(x1), y1).backward()   # local gradients only
            loss_fn(ddp(x2), y2).backward()  # reduces the sum of both
        """
        before = self.require_backward_grad_sync
        object.__setattr__(self, "require_backward_grad_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "require_backward_grad_sync", before)

    def extra_repr(self) -> str:
        return f"world_size={_comm.world_size()}, bucket_cap_mb={self.bucket_cap_mb:g}"
