"""Process group over MPI: ``init``, ``rank``, ``world_size`` and the collectives on Tensors.

Every process of an ``mpirun -n P python script.py`` job calls ``init()`` once; the collectives
then act on the Tensors of all ``P`` processes at once, in place, as ``torch.distributed``:

    import chainrule as cr
    cr.distributed.init()
    t = cr.tensor([float(cr.distributed.rank())])
    cr.distributed.all_reduce(t, op="sum")   # every rank now holds 0 + 1 + ... + (P-1)

They run mpi4py's buffer API (``Allreduce``, ``Bcast``, ``Allgather``) directly on the NumPy
arrays inside the Tensors; CuPy arrays go through host memory. ``init()`` also installs an
exception hook: an uncaught exception in any rank prints its traceback and calls
``MPI_Abort``, so every rank stops instead of waiting forever in the next collective.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.tensor import Tensor

_state: dict[str, Any] = {"comm": None, "MPI": None}

_MISSING = (
    "cr.distributed: {what}; install the 'dist' extra (pip install 'chainrule[dist]', which brings "
    "mpi4py and the MPICH runtime) or Debian's mpich/openmpi-bin, then launch with mpirun -n P python ..."
)


def _abort_on_exception(exc_type, exc, tb) -> None:
    """sys.excepthook of an MPI job: print the error, then take every rank down with it."""
    # one write, then a moment for the launcher to forward it: MPI_Abort kills the rank at once
    sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.flush()
    comm = _state["comm"]
    if comm is not None:
        time.sleep(0.5)
        comm.Abort(1)


def init() -> None:
    """Join the MPI job this process was started in (``mpirun``/``mpiexec``/``srun``).

    Rank and world size come from the MPI environment; a process started without a launcher is
    a job of one. Calling it again does nothing. Raises ``RuntimeError`` naming the ``dist``
    extra when mpi4py or an MPI library is missing.

    Example::

        cr.distributed.init()
        cr.distributed.rank(), cr.distributed.world_size()   # (0, 1) in a job of one
    """
    if _state["comm"] is not None:
        return
    try:
        from mpi4py import MPI
    except ImportError as e:
        what = "mpi4py is not installed" if e.name == "mpi4py" else f"no MPI library could be loaded ({e})"
        raise RuntimeError(_MISSING.format(what=what)) from None
    except RuntimeError as e:  # mpi4py present, its MPI library is not
        raise RuntimeError(_MISSING.format(what=f"no MPI runtime could be loaded ({e})")) from None
    _state["MPI"] = MPI
    _state["comm"] = MPI.COMM_WORLD
    sys.excepthook = _abort_on_exception


def is_initialized() -> bool:
    """Whether ``init()`` has run in this process."""
    return _state["comm"] is not None


def _comm(op: str):
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError(f"cr.distributed.{op}: call cr.distributed.init() first")
    return comm


def rank() -> int:
    """This process's index in the job, 0 .. world_size()-1."""
    return _comm("rank").Get_rank()


def world_size() -> int:
    """The number of processes in the job."""
    return _comm("world_size").Get_size()


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _comm("barrier").Barrier()


def _check_tensor(op: str, tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"cr.distributed.{op}: expected a Tensor, got {type(tensor).__name__}")


def _host(array):
    """A C-contiguous NumPy array with ``array``'s values (the array itself when it already is one)."""
    if backend.xp_of(array) is not np:
        return backend.to_numpy(array)
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _store(tensor: Tensor, values) -> None:
    """Write ``values`` back into ``tensor``'s own memory (in place, as the torch collectives)."""
    if values is tensor._data:
        return
    xp = backend.xp_of(tensor._data)
    tensor._data[...] = values if xp is np else xp.asarray(values)


_OPS = ("sum", "mean", "max")


def all_reduce(tensor: Tensor, op: str = "sum") -> Tensor:
    """Replace ``tensor`` on every rank by the elementwise ``op`` over all ranks, in place.

    ``op``: ``'sum'`` (Σ_r t_r), ``'mean'`` (Σ_r t_r / P) or ``'max'``. Shapes and dtypes must agree
    across ranks. Returns ``tensor``.

    Example::

        t = cr.ones(3)
        cr.distributed.all_reduce(t, op="sum")   # tensor([2., 2., 2.]) with 2 ranks
    """
    comm = _comm("all_reduce")
    _check_tensor("all_reduce", tensor)
    if op not in _OPS:
        raise ValueError(f"cr.distributed.all_reduce: op must be one of {_OPS}, got {op!r}")
    if op == "mean" and tensor._data.dtype.kind != "f":
        raise TypeError(
            f"cr.distributed.all_reduce: op='mean' needs a float tensor, got {tensor._data.dtype}"
        )
    MPI = _state["MPI"]
    buf = _host(tensor._data)
    comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.MAX if op == "max" else MPI.SUM)
    if op == "mean":
        buf /= comm.Get_size()
    _store(tensor, buf)
    return tensor


def broadcast(tensor: Tensor, src: int = 0) -> Tensor:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank, in place. Returns ``tensor``."""
    comm = _comm("broadcast")
    _check_tensor("broadcast", tensor)
    size = comm.Get_size()
    if not isinstance(src, (int, np.integer)) or not 0 <= src < size:
        raise ValueError(f"cr.distributed.broadcast: src must be a rank in [0, {size}), got {src!r}")
    buf = _host(tensor._data)
    comm.Bcast(buf, root=int(src))
    _store(tensor, buf)
    return tensor


def all_gather(tensor_list: list, tensor: Tensor) -> list:
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank (in place, as PyTorch).

    ``tensor_list`` holds ``world_size()`` Tensors of ``tensor``'s shape and dtype. Returns it.
    """
    comm = _comm("all_gather")
    _check_tensor("all_gather", tensor)
    size = comm.Get_size()
    if not isinstance(tensor_list, list) or len(tensor_list) != size:
        raise ValueError(
            f"cr.distributed.all_gather: tensor_list must be a list of {size} Tensors (one per rank), "
            f"got {type(tensor_list).__name__}"
            + (f" of length {len(tensor_list)}" if isinstance(tensor_list, list) else "")
        )
    for i, t in enumerate(tensor_list):
        _check_tensor("all_gather", t)
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ValueError(
                f"cr.distributed.all_gather: tensor_list[{i}] has shape {tuple(t.shape)} and dtype "
                f"{t.dtype} but tensor has shape {tuple(tensor.shape)} and dtype {tensor.dtype}"
            )
    send = _host(tensor._data)
    recv = np.empty((size, *send.shape), dtype=send.dtype)
    comm.Allgather(send, recv)
    for t, values in zip(tensor_list, recv):
        _store(t, values)
    return tensor_list
