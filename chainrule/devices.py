"""Devices as PyTorch names them: ``cr.device``, ``cr.cuda`` and ``cr.accelerator``.

A ``cr.device`` is a string (``'cpu'`` or ``'cuda'``) with PyTorch's ``.type`` and ``.index``, so
code written either way works: ``x.to(cr.device("cpu"))``, ``x.device == "cpu"``,
``x.device.type == "cuda"``. ``'cuda'`` means CuPy on the first GPU; an index names which GPU
but chainrule runs everything on GPU 0, so only indices ``0`` (and none) are accepted there.

Example:
    >>> d = cr.device("cpu:0")
    >>> d, d.type, d.index
    (device(type='cpu', index=0), 'cpu', 0)
    >>> cr.ones(2).to(d).device == "cpu"
    True
"""

from __future__ import annotations

from typing import Any

from chainrule import backend


class device(str):  # noqa: N801  (PyTorch's name)
    """A device: ``device('cpu')``, ``device('cuda:0')``, ``device('cuda', 0)``, or another device.

    It compares equal to its type string (``'cpu'``/``'cuda'``), which is what chainrule's own
    functions take; ``str(d)`` gives ``'cpu'``, ``'cpu:0'``, ``'cuda'`` or ``'cuda:0'`` as PyTorch.
    """

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002  (PyTorch's keyword)
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        kind, _, num = type.partition(":")
        if num:
            if index is not None:
                raise RuntimeError(
                    f"device: type (string) {type!r} must not include an index when index= is given"
                )
            if not num.isdigit():
                raise RuntimeError(
                    f"device: invalid device string {type!r} (expected e.g. 'cpu:0', 'cuda:0')"
                )
            index = int(num)
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"device: chainrule runs on 'cpu' and 'cuda' only, got {type!r}")
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise RuntimeError(f"device: index must be a non-negative int, got {index!r}")
            if kind == "cuda" and index != 0:
                raise RuntimeError(f"device: chainrule uses one GPU, 'cuda:0'; got index {index}")
        d = super().__new__(cls, kind)
        d.index = index
        return d

    @property
    def type(self) -> str:
        """``'cpu'`` or ``'cuda'``."""
        return str.__str__(self)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        return str.__eq__(self, other) if isinstance(other, str) else NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = str.__hash__

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")
CUDA = device("cuda")


def of_array(array: Any) -> device:
    """The device holding ``array`` (the value of ``Tensor.device``)."""
    return CPU if backend.device_of(array) == "cpu" else CUDA


class cuda:  # noqa: N801  (PyTorch's module name)
    """``cr.cuda``: whether chainrule can run on a GPU (through CuPy), as ``torch.cuda``."""

    @staticmethod
    def is_available() -> bool:
        """True when CuPy and a working GPU are present (then ``'cuda'`` tensors work)."""
        return backend.cupy_module() is not None

    @staticmethod
    def device_count() -> int:
        """Number of usable GPUs: chainrule uses at most one."""
        return 1 if cuda.is_available() else 0

    @staticmethod
    def current_device() -> int:
        """The GPU in use (always 0); raises when there is none."""
        if not cuda.is_available():
            raise RuntimeError("cuda.current_device: no GPU is available (CuPy with a working GPU is needed)")
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Seed the generator; chainrule draws all random numbers on the CPU: ``cr.manual_seed``."""
        from chainrule.random import manual_seed

        manual_seed(seed)

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize(device: Any = None) -> None:
        """Wait until queued GPU work is done (nothing to wait for without a GPU)."""
        cp = backend.cupy_module()
        if cp is not None:
            cp.cuda.Stream.null.synchronize()


class accelerator:  # noqa: N801  (PyTorch's module name)
    """``cr.accelerator``: CUDA through CuPy, the one accelerator chainrule knows (``torch.accelerator``)."""

    @staticmethod
    def is_available() -> bool:
        """True when a GPU can be used."""
        return cuda.is_available()

    @staticmethod
    def current_accelerator(check_available: bool = False) -> device | None:
        """``device('cuda')`` when a GPU is there, else None."""
        return CUDA if cuda.is_available() else None

    @staticmethod
    def device_count() -> int:
        """Number of usable accelerators (0 or 1)."""
        return cuda.device_count()

    @staticmethod
    def synchronize(device: Any = None) -> None:
        """Wait for queued accelerator work."""
        cuda.synchronize(device)
