"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor holds

- ``_data``: the values, a NumPy array (a CuPy array on ``'cuda'``); inside the library every
  op reads and writes this array.  The public ``.data`` is, as in PyTorch, a *Tensor* sharing
  that memory, cut from the graph (``p.data.add_(g, alpha=-lr)`` updates ``p``),
- ``requires_grad``: whether gradients should flow to it,
- ``grad_fn``: the graph node (a ``Function`` instance) of the op that made it,
  ``None`` for leaves (tensors created by the user, such as weights),
- ``grad``: after ``backward()``, dL/d(this tensor), for leaves.

Every op on tensors is defined in ``chainrule/ops`` (forward and backward side
by side); the methods here only dispatch to them.

Example:
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()       # y = Σ x²
    >>> y.backward()
    >>> x.grad                  # dy/dx = 2x
    tensor([2., 4., 6.])
"""

from __future__ import annotations

import builtins
import copy
from typing import Any

from chainrule import backend
from chainrule.autograd.grad_mode import State
from chainrule.backend import np, xp_of


class Tensor:
    """An array with reverse-mode automatic differentiation (see the module docstring)."""

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_output_nr", "_vc", "__weakref__")
    _data: Any
    requires_grad: bool
    grad: Tensor | None
    grad_fn: Any
    _output_nr: int
    _vc: list[int] | None
    __array_priority__ = 1000
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None):
        arr = _to_array(data, dtype, backend.normalize_device(device) if device is not None else None)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._vc = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool = False, grad_fn=None, output_nr: int = 0) -> Tensor:
        """Wrap an existing array without copying or checking (the engine's fast path).

        A NumPy scalar (what NumPy returns for 0-d results) becomes a 0-d array, so every
        tensor holds a writable array that keeps its dtype in later arithmetic.
        """
        if type(data) is not np.ndarray and isinstance(data, np.generic):
            data = np.asarray(data)
        t = object.__new__(cls)
        t._data = data
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._vc = None
        return t

    # -- version counter: catches in-place changes to what backward needs ------------------
    @property
    def _version(self) -> int:
        """The version counter of the tensor's memory.

        How often this tensor's memory was changed in place; shared with the tensors that view
        the same memory (``detach()``, reshape, transpose, basic indexing), as PyTorch.
        """
        vc = self._vc
        return 0 if vc is None else vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        vc = getattr(self, "_vc", None)
        if vc is None:
            self._vc = [value]
        else:
            vc[0] = value

    def _version_counter(self) -> list:
        """The (shared) counter, created on first use."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    def _view_of(self, base: Tensor) -> Tensor:
        """Share ``base``'s version counter when this tensor's array views the same memory; returns self."""
        a, b = self._data, base._data
        if (a if a.base is None else a.base) is (b if b.base is None else b.base):
            self._vc = base._version_counter()
        return self

    # -- attributes ------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values as a Tensor sharing this tensor's memory, detached from the graph (as PyTorch).

        In-place changes through it (``p.data.mul_(0.5)``) change ``p`` and are not recorded by
        autograd.  Unlike PyTorch they still count as changes of ``p``: a backward that needs the
        old values raises instead of silently using the new ones.  Assigning ``p.data = other``
        makes ``p`` hold ``other``'s values instead.

        Example:
            >>> w = cr.ones(3, requires_grad=True)
            >>> w.data.mul_(2.0)       # no error: .data is outside autograd
            tensor([2., 2., 2.])
            >>> w
            tensor([2., 2., 2.], requires_grad=True)
        """
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data: can only assign a Tensor to .data, got {type(value).__name__}; "
                "wrap arrays with cr.as_tensor(...) first"
            )
        if self.requires_grad and value._data.dtype.kind not in "fc":
            raise TypeError(
                f"data: a tensor that requires grad can't hold dtype {value.dtype} (it would no longer "
                "be differentiable); convert with .float() first"
            )
        self._data = value._data
        self._vc = None  # new memory: a fresh version counter, as PyTorch

    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple (``torch.Size`` in PyTorch)."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self):
        """The element type, a NumPy dtype (``cr.float32``, ``cr.int64``, ...)."""
        return self._data.dtype

    @property
    def device(self) -> str:
        """A ``cr.device``: a string ``'cpu'``/``'cuda'`` with PyTorch's ``.type`` and ``.index``."""
        return _device.of_array(self._data)

    @property
    def is_leaf(self) -> bool:
        """Whether the tensor was made by the user, not by an op (no ``grad_fn``); leaves get ``.grad``."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """The tensor with all dimensions reversed (the transpose, for a matrix)."""
        return _shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """Transpose of the last two dimensions."""
        n = self._data.ndim
        if n < 2:
            raise RuntimeError(f"mT: expected a tensor with at least 2 dims, got shape {tuple(self.shape)}")
        return _shape.Permute.apply(self, tuple(range(n - 2)) + (n - 1, n - 2))._view_of(self)

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_shape.norm_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self._data.itemsize

    # -- autograd ----------------------------------------------------------------------
    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

        ``gradient`` is dL/d(self), needed unless ``self`` holds a single value (then 1).
        The graph is freed afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: the tensor does not require grad and has no grad_fn (shape "
                f"{tuple(self.shape)}); did you forget requires_grad=True, or run under no_grad?"
            )
        data = self._data
        if gradient is None:
            if data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, but the tensor has "
                    f"shape {tuple(self.shape)}; pass gradient= of that shape"
                )
            gradient = Tensor._make(xp_of(data).asarray(1, data.dtype).reshape(data.shape))
        elif not isinstance(gradient, Tensor):
            gradient = Tensor(gradient, dtype=self.dtype)
        if gradient._data.shape != data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(gradient.shape)} but the tensor has shape "
                f"{tuple(self.shape)}"
            )
        if retain_graph is None:
            retain_graph = create_graph
        _engine.run_backward([self], [gradient], retain_graph, create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing the same data, cut from the graph.

        A tensor sharing the same data (and version counter), cut from the graph (no grad_fn,
        no requires_grad).
        """
        t = Tensor._make(self._data)
        t._vc = self._version_counter()
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (no ``grad_fn``, no ``requires_grad``); returns it."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this leaf as needing gradients (in place); returns self."""
        if requires_grad and self._data.dtype.kind == "c":
            raise TypeError(
                f"requires_grad_: complex tensors can't require gradients in chainrule (dtype "
                f"{self.dtype}): complex autograd is not implemented; use separate real and imaginary parts"
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad_: only tensors of floating point dtype can require gradients, "
                f"got dtype {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf tensors; use .detach()"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too during backward."""
        if self.grad_fn is None:
            return
        retained = getattr(self.grad_fn, "_retained", None)
        if retained is None:
            retained = self.grad_fn._retained = {}
        retained[self._output_nr] = self

    # -- conversion --------------------------------------------------------------------
    def item(self) -> Any:
        """The single value as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element can be converted to a Python scalar, got shape "
                f"{tuple(self.shape)}"
            )
        return self._data.item()

    def numpy(self):
        """The values as a NumPy array (shares memory on the CPU); not allowed while requiring grad."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use .detach().numpy()"
            )
        return backend.to_numpy(self._data)

    def tolist(self) -> Any:
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return backend.to_numpy(self._data).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_numpy(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``.to('cuda')``, ``.to(cr.float64)``, ``.to(other_tensor)``, or ``dtype=``/``device=`` keywords."""
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str) or a is None:
                device = a
            else:
                dtype = a
        return _ew.to(
            self,
            None if dtype is None else np.dtype(dtype),
            None if device is None else backend.normalize_device(device),
        )

    def float(self) -> Tensor:
        """A float32 copy (the tensor itself when it already is float32)."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """A float64 copy (the tensor itself when it already is float64)."""
        return self.to(np.float64)

    def half(self) -> Tensor:
        """A float16 copy (the tensor itself when it already is float16)."""
        return self.to(np.float16)

    def long(self) -> Tensor:
        """An int64 copy (the tensor itself when it already is int64)."""
        return self.to(np.int64)

    def int(self) -> Tensor:
        """An int32 copy (the tensor itself when it already is int32)."""
        return self.to(np.int32)

    def bool(self) -> Tensor:
        """A bool copy (the tensor itself when it already is bool)."""
        return self.to(np.bool_)

    def cpu(self) -> Tensor:
        """The tensor on the CPU (itself when it is there already)."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """The tensor on the GPU (needs CuPy; itself when it is there already)."""
        return self.to("cuda")

    def type(self, dtype: Any) -> Tensor:
        """The tensor converted to ``dtype`` (as ``to(dtype)``)."""
        return self.to(dtype)

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to the original."""
        return _ew.clone(self)

    def contiguous(self) -> Tensor:
        """The tensor itself: every chainrule tensor is usable as contiguous memory."""
        return self

    # -- Python protocol -----------------------------------------------------------------
    def __repr__(self) -> str:
        arr = backend.to_numpy(self._data)
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if arr.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={arr.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __hash__(self) -> builtins.int:
        return id(self)

    def __len__(self) -> builtins.int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._data.size} values is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.item())

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> builtins.int:
        return int(self.item())

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be an index, got {self.dtype}")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return self.item().__format__(spec)
        return repr(self).__format__(spec)

    # -- arithmetic (ops/elementwise.py) -------------------------------------------------------
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    # comparisons give bool tensors that carry no gradient
    def __eq__(self, other):
        return _ew.compare("eq", self, other)  # type: ignore[override]

    def __ne__(self, other):
        return _ew.compare("ne", self, other)  # type: ignore[override]

    def __lt__(self, other):
        return _ew.compare("lt", self, other)

    def __le__(self, other):
        return _ew.compare("le", self, other)

    def __gt__(self, other):
        return _ew.compare("gt", self, other)

    def __ge__(self, other):
        return _ew.compare("ge", self, other)

    def __invert__(self):
        return _ew.logical_not(self)

    def __and__(self, other):
        return _ew.compare("and", self, other)

    def __or__(self, other):
        return _ew.compare("or", self, other)

    def __xor__(self, other):
        return _ew.compare("xor", self, other)

    def eq(self, other):
        """Element-wise ``self == other`` as a bool tensor (``cr.eq``)."""
        return _ew.compare("eq", self, other)

    def ne(self, other):
        """Element-wise ``self != other`` as a bool tensor (``cr.ne``)."""
        return _ew.compare("ne", self, other)

    def lt(self, other):
        """Element-wise ``self < other`` as a bool tensor (``cr.lt``)."""
        return _ew.compare("lt", self, other)

    def le(self, other):
        """Element-wise ``self <= other`` as a bool tensor (``cr.le``)."""
        return _ew.compare("le", self, other)

    def gt(self, other):
        """Element-wise ``self > other`` as a bool tensor (``cr.gt``)."""
        return _ew.compare("gt", self, other)

    def ge(self, other):
        """Element-wise ``self >= other`` as a bool tensor (``cr.ge``)."""
        return _ew.compare("ge", self, other)

    def add(self, other):
        """``cr.add`` as a method: ``t.add(...)`` is ``cr.add(t, ...)``."""
        return _ew.add(self, other)

    def sub(self, other):
        """``cr.sub`` as a method: ``t.sub(...)`` is ``cr.sub(t, ...)``."""
        return _ew.sub(self, other)

    def mul(self, other):
        """``cr.mul`` as a method: ``t.mul(...)`` is ``cr.mul(t, ...)``."""
        return _ew.mul(self, other)

    def div(self, other):
        """``cr.div`` as a method: ``t.div(...)`` is ``cr.div(t, ...)``."""
        return _ew.div(self, other)

    def pow(self, other):
        """``cr.pow`` as a method: ``t.pow(...)`` is ``cr.pow(t, ...)``."""
        return _ew.pow(self, other)

    def neg(self):
        """``cr.neg`` as a method: ``t.neg(...)`` is ``cr.neg(t, ...)``."""
        return _ew.neg(self)

    def abs(self):
        """``cr.abs`` as a method: ``t.abs(...)`` is ``cr.abs(t, ...)``."""
        return _ew.abs(self)

    def exp(self):
        """``cr.exp`` as a method: ``t.exp(...)`` is ``cr.exp(t, ...)``."""
        return _ew.exp(self)

    def log(self):
        """``cr.log`` as a method: ``t.log(...)`` is ``cr.log(t, ...)``."""
        return _ew.log(self)

    def sqrt(self):
        """``cr.sqrt`` as a method: ``t.sqrt(...)`` is ``cr.sqrt(t, ...)``."""
        return _ew.sqrt(self)

    def sin(self):
        """``cr.sin`` as a method: ``t.sin(...)`` is ``cr.sin(t, ...)``."""
        return _ew.sin(self)

    def cos(self):
        """``cr.cos`` as a method: ``t.cos(...)`` is ``cr.cos(t, ...)``."""
        return _ew.cos(self)

    def tanh(self):
        """``cr.tanh`` as a method: ``t.tanh(...)`` is ``cr.tanh(t, ...)``."""
        return _ew.tanh(self)

    def sigmoid(self):
        """``cr.sigmoid`` as a method: ``t.sigmoid(...)`` is ``cr.sigmoid(t, ...)``."""
        return _ew.sigmoid(self)

    def relu(self):
        """``cr.relu`` as a method: ``t.relu(...)`` is ``cr.relu(t, ...)``."""
        return _ew.relu(self)

    def sign(self):
        """``cr.sign`` as a method: ``t.sign(...)`` is ``cr.sign(t, ...)``."""
        return _ew.sign(self)

    def square(self):
        """Element-wise x², differentiable."""
        return _ew.mul(self, self)

    def reciprocal(self):
        """Element-wise 1/x, differentiable."""
        return _ew.div(1.0, self)

    def rsqrt(self):
        """Element-wise 1/√x, differentiable."""
        return _ew.div(1.0, _ew.sqrt(self))

    def clamp(self, min=None, max=None):
        """``cr.clamp`` as a method: ``t.clamp(...)`` is ``cr.clamp(t, ...)``."""
        return _ew.clamp(self, min, max)

    def clip(self, min=None, max=None):
        """Clamp every element to [min, max] (alias of ``clamp``)."""
        return _ew.clamp(self, min, max)

    def maximum(self, other):
        """``cr.maximum`` as a method: ``t.maximum(...)`` is ``cr.maximum(t, ...)``."""
        return _ew.maximum(self, other)

    def minimum(self, other):
        """``cr.minimum`` as a method: ``t.minimum(...)`` is ``cr.minimum(t, ...)``."""
        return _ew.minimum(self, other)

    def matmul(self, other):
        """``cr.matmul`` as a method: ``t.matmul(...)`` is ``cr.matmul(t, ...)``."""
        return _linalg.matmul(self, other)

    def isnan(self):
        """A bool tensor, True where the value is NaN."""
        return Tensor._make(xp_of(self._data).isnan(self._data))

    def isfinite(self):
        """A bool tensor, True where the value is neither NaN nor ±inf."""
        return Tensor._make(xp_of(self._data).isfinite(self._data))

    def any(self, dim=None, keepdim=False):
        """Whether any element (along ``dim``) is nonzero, as a bool tensor."""
        return _reduce.any_all("any", self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """Whether every element (along ``dim``) is nonzero, as a bool tensor."""
        return _reduce.any_all("all", self, dim, keepdim)

    # -- reductions (ops/reduce.py) ----------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        """``cr.sum`` as a method: ``t.sum(...)`` is ``cr.sum(t, ...)``."""
        return _reduce.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        """``cr.mean`` as a method: ``t.mean(...)`` is ``cr.mean(t, ...)``."""
        return _reduce.mean(self, dim, keepdim, dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """``cr.var`` as a method: ``t.var(...)`` is ``cr.var(t, ...)``."""
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """``cr.std`` as a method: ``t.std(...)`` is ``cr.std(t, ...)``."""
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        """``cr.max`` as a method: ``t.max(...)`` is ``cr.max(t, ...)``."""
        return _reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """``cr.min`` as a method: ``t.min(...)`` is ``cr.min(t, ...)``."""
        return _reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        """``cr.amax`` as a method: ``t.amax(...)`` is ``cr.amax(t, ...)``."""
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        """``cr.amin`` as a method: ``t.amin(...)`` is ``cr.amin(t, ...)``."""
        return _reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        """``cr.argmax`` as a method: ``t.argmax(...)`` is ``cr.argmax(t, ...)``."""
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """``cr.argmin`` as a method: ``t.argmin(...)`` is ``cr.argmin(t, ...)``."""
        return _reduce.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        """``cr.logsumexp`` as a method: ``t.logsumexp(...)`` is ``cr.logsumexp(t, ...)``."""
        return _reduce.logsumexp(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        """``cr.norm`` as a method: ``t.norm(...)`` is ``cr.norm(t, ...)``."""
        return _reduce.norm(self, p, dim, keepdim)

    # -- shape (ops/shape.py) ------------------------------------------------------------------------
    def reshape(self, *shape):
        """``cr.reshape`` as a method: ``t.reshape(...)`` is ``cr.reshape(t, ...)``."""
        return _shape.reshape(self, _shape.shape_arg(shape))

    def view(self, *shape):
        """The tensor with a new shape, sharing memory (as ``reshape``; one size may be -1)."""
        return _shape.reshape(self, _shape.shape_arg(shape))

    def view_as(self, other):
        """The tensor reshaped to ``other``'s shape."""
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other):
        """The tensor reshaped to ``other``'s shape."""
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """``cr.flatten`` as a method: ``t.flatten(...)`` is ``cr.flatten(t, ...)``."""
        return _shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        """``cr.squeeze`` as a method: ``t.squeeze(...)`` is ``cr.squeeze(t, ...)``."""
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        """``cr.unsqueeze`` as a method: ``t.unsqueeze(...)`` is ``cr.unsqueeze(t, ...)``."""
        return _shape.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        """``cr.transpose`` as a method: ``t.transpose(...)`` is ``cr.transpose(t, ...)``."""
        return _shape.transpose(self, dim0, dim1)

    def swapaxes(self, axis0, axis1):
        """Swap two dimensions (alias of ``transpose``)."""
        return _shape.transpose(self, axis0, axis1)

    def t(self):
        """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is)."""
        return _shape.transpose(self, 0, 1) if self.ndim == 2 else self

    def permute(self, *dims):
        """``cr.permute`` as a method: ``t.permute(...)`` is ``cr.permute(t, ...)``."""
        return _shape.permute(self, _shape.shape_arg(dims))

    def expand(self, *sizes):
        """``cr.expand`` as a method: ``t.expand(...)`` is ``cr.expand(t, ...)``."""
        return _shape.expand(self, _shape.shape_arg(sizes))

    def expand_as(self, other):
        """The tensor broadcast to ``other``'s shape, without copying (as ``expand``)."""
        return _shape.expand(self, other.shape)

    def repeat(self, *sizes):
        """``cr.repeat`` as a method: ``t.repeat(...)`` is ``cr.repeat(t, ...)``."""
        return _shape.repeat(self, _shape.shape_arg(sizes))

    def split(self, split_size, dim=0):
        """``cr.split`` as a method: ``t.split(...)`` is ``cr.split(t, ...)``."""
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        """``cr.chunk`` as a method: ``t.chunk(...)`` is ``cr.chunk(t, ...)``."""
        return _shape.chunk(self, chunks, dim)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        """In-place assignment ``t[index] = value``; not recorded by autograd."""
        self._check_inplace("__setitem__")
        if isinstance(value, Tensor):
            if value.requires_grad and State.grad_enabled:
                raise RuntimeError(
                    f"__setitem__: the assigned value (shape {tuple(value.shape)}) requires grad, but "
                    "assignment is not recorded by autograd; build the result out of place (cr.where, "
                    "cr.cat) or assign value.detach()"
                )
            value = value._data
        try:
            self._data[_shape.normalize_index(index)] = value
        except (ValueError, IndexError) as e:
            raise type(e)(f"__setitem__: {e} (tensor shape {tuple(self.shape)})") from None
        self._version += 1

    # -- in-place updates (outside autograd, e.g. under no_grad) -----------------------------------
    def _check_inplace(self, op: str) -> None:
        if State.grad_enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad (shape {tuple(self.shape)}) is being used in an "
                    "in-place operation; wrap it in cr.no_grad() or use an out-of-place op"
                )
            raise RuntimeError(
                f"{op}: in-place operations on tensors that are part of the graph are not supported "
                f"(shape {tuple(self.shape)}, grad_fn={self.grad_fn!r}); use an out-of-place op"
            )

    def _inplace(self, op: str, result) -> Tensor:
        """Write ``result`` (a value, or a function of the current array) into this tensor's memory."""
        self._check_inplace(op)
        try:
            self._data[...] = result(self._data) if callable(result) else result
        except ValueError as e:
            raise ValueError(f"{op}: {e} (tensor shape {tuple(self.shape)})") from None
        self._version += 1
        return self

    def _value(self, other):
        return other._data if isinstance(other, Tensor) else other

    def _ufunc_(self, op: str, ufunc, other, alpha=1.0) -> Tensor:
        """Apply a ufunc in place.

        ``self = ufunc(self, other·alpha)`` written straight into this tensor's memory (no temporary
        copy of the result: an optimizer-style update of a big weight touches it once).
        """
        self._check_inplace(op)
        v = self._value(other)
        if alpha != 1.0:
            v = v * alpha
        try:
            ufunc(self._data, v, out=self._data, casting="same_kind")
        except (ValueError, TypeError) as e:
            kind = TypeError if isinstance(e, TypeError) else ValueError
            raise kind(
                f"{op}: {e} (tensor shape {tuple(self.shape)}, dtype {self.dtype}; "
                f"other shape {tuple(getattr(v, 'shape', ()))})"
            ) from None
        self._version += 1
        return self

    def add_(self, other, alpha=1.0):
        """In place: ``self += alpha * other``; returns ``self``."""
        return self._ufunc_("add_", xp_of(self._data).add, other, alpha)

    def sub_(self, other, alpha=1.0):
        """In place: ``self -= alpha * other``; returns ``self``."""
        return self._ufunc_("sub_", xp_of(self._data).subtract, other, alpha)

    def mul_(self, other):
        """In place: ``self *= other``; returns ``self``."""
        return self._ufunc_("mul_", xp_of(self._data).multiply, other)

    def div_(self, other):
        """In place: ``self /= other``; returns ``self``."""
        return self._ufunc_("div_", xp_of(self._data).true_divide, other)

    def zero_(self):
        """Fill with zeros in place; returns ``self``."""
        return self._inplace("zero_", 0)

    def fill_(self, value):
        """Fill with ``value`` in place; returns ``self``."""
        return self._inplace("fill_", self._value(value))

    def copy_(self, src):
        """Copy the values of ``src`` (broadcast to this shape) into this tensor; returns ``self``."""
        return self._inplace("copy_", self._value(src))

    def clamp_(self, min=None, max=None):
        """Clamp to [min, max] in place; returns ``self``."""
        return self._inplace("clamp_", lambda a: xp_of(a).clip(a, min, max))

    def normal_(self, mean=0.0, std=1.0):
        """Fill in place with draws from N(mean, std²); returns ``self``."""
        from chainrule import random as _random

        return self._inplace("normal_", _random.normal(self.shape, self.dtype, self.device) * std + mean)

    def uniform_(self, a=0.0, b=1.0):
        """Fill in place with draws from U(a, b); returns ``self``."""
        from chainrule import random as _random

        return self._inplace("uniform_", _random.uniform(self.shape, self.dtype, self.device, a, b))

    def __iadd__(self, other):
        return self._augmented(other, "add_", _ew.add)

    def __isub__(self, other):
        return self._augmented(other, "sub_", _ew.sub)

    def __imul__(self, other):
        return self._augmented(other, "mul_", _ew.mul)

    def __itruediv__(self, other):
        return self._augmented(other, "div_", _ew.div)

    def _augmented(self, other, name: str, op):
        # `w -= lr * w.grad` under no_grad must update w itself (as PyTorch), not rebind the name;
        # inside a recorded graph we fall back to the out-of-place op.
        if State.grad_enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self.requires_grad and self.grad_fn is None:
                self._check_inplace(name)
            return op(self, other)
        return getattr(self, name)(other)

    # -- wider vocabulary (ops/mathx.py, ops/indexing.py, ops/sorting.py, ops/creation.py, linalg.py) --
    def _inplace_result(self, op: str, result: Tensor) -> Tensor:
        """Write an op's out-of-place ``result`` into this tensor (the ``name_`` forms)."""
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op}: the result's shape {tuple(result.shape)} differs from {tuple(self.shape)}"
            )
        return self._inplace(op, result._data.astype(self._data.dtype, copy=False))

    def acos(self):
        """``cr.acos`` as a method: ``t.acos(...)`` is ``cr.acos(t, ...)``."""
        return _mx.acos(self)

    def asin(self):
        """``cr.asin`` as a method: ``t.asin(...)`` is ``cr.asin(t, ...)``."""
        return _mx.asin(self)

    def atan(self):
        """``cr.atan`` as a method: ``t.atan(...)`` is ``cr.atan(t, ...)``."""
        return _mx.atan(self)

    def atan2(self, other):
        """``cr.atan2`` as a method: ``t.atan2(...)`` is ``cr.atan2(t, ...)``."""
        return _mx.atan2(self, other)

    def arctan2(self, other):
        """Element-wise atan2(self, other) (alias of ``atan2``)."""
        return _mx.atan2(self, other)

    def sinh(self):
        """``cr.sinh`` as a method: ``t.sinh(...)`` is ``cr.sinh(t, ...)``."""
        return _mx.sinh(self)

    def cosh(self):
        """``cr.cosh`` as a method: ``t.cosh(...)`` is ``cr.cosh(t, ...)``."""
        return _mx.cosh(self)

    def tan(self):
        """``cr.tan`` as a method: ``t.tan(...)`` is ``cr.tan(t, ...)``."""
        return _mx.tan(self)

    def ceil(self):
        """``cr.ceil`` as a method: ``t.ceil(...)`` is ``cr.ceil(t, ...)``."""
        return _mx.ceil(self)

    def floor(self):
        """``cr.floor`` as a method: ``t.floor(...)`` is ``cr.floor(t, ...)``."""
        return _mx.floor(self)

    def round(self, decimals=0):
        """``cr.round`` as a method: ``t.round(...)`` is ``cr.round(t, ...)``."""
        return _mx.round(self, decimals=decimals)

    def trunc(self):
        """``cr.trunc`` as a method: ``t.trunc(...)`` is ``cr.trunc(t, ...)``."""
        return _mx.trunc(self)

    def frac(self):
        """``cr.frac`` as a method: ``t.frac(...)`` is ``cr.frac(t, ...)``."""
        return _mx.frac(self)

    def expm1(self):
        """``cr.expm1`` as a method: ``t.expm1(...)`` is ``cr.expm1(t, ...)``."""
        return _mx.expm1(self)

    def log2(self):
        """``cr.log2`` as a method: ``t.log2(...)`` is ``cr.log2(t, ...)``."""
        return _mx.log2(self)

    def log10(self):
        """``cr.log10`` as a method: ``t.log10(...)`` is ``cr.log10(t, ...)``."""
        return _mx.log10(self)

    def erf(self):
        """``cr.erf`` as a method: ``t.erf(...)`` is ``cr.erf(t, ...)``."""
        return _mx.erf(self)

    def fmod(self, other):
        """``cr.fmod`` as a method: ``t.fmod(...)`` is ``cr.fmod(t, ...)``."""
        return _mx.fmod(self, other)

    def remainder(self, other):
        """``cr.remainder`` as a method: ``t.remainder(...)`` is ``cr.remainder(t, ...)``."""
        return _mx.remainder(self, other)

    def lerp(self, end, weight):
        """``cr.lerp`` as a method: ``t.lerp(...)`` is ``cr.lerp(t, ...)``."""
        return _mx.lerp(self, end, weight)

    def logaddexp(self, other):
        """``cr.logaddexp`` as a method: ``t.logaddexp(...)`` is ``cr.logaddexp(t, ...)``."""
        return _mx.logaddexp(self, other)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """``cr.addmm`` as a method: ``t.addmm(...)`` is ``cr.addmm(t, ...)``."""
        return _mx.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """``cr.baddbmm`` as a method: ``t.baddbmm(...)`` is ``cr.baddbmm(t, ...)``."""
        return _mx.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def bmm(self, mat2):
        """``cr.bmm`` as a method: ``t.bmm(...)`` is ``cr.bmm(t, ...)``."""
        return _mx.bmm(self, mat2)

    def dot(self, other):
        """``cr.dot`` as a method: ``t.dot(...)`` is ``cr.dot(t, ...)``."""
        return _mx.dot(self, other)

    def outer(self, vec2):
        """``cr.outer`` as a method: ``t.outer(...)`` is ``cr.outer(t, ...)``."""
        return _mx.outer(self, vec2)

    def kron(self, other):
        """``cr.kron`` as a method: ``t.kron(...)`` is ``cr.kron(t, ...)``."""
        return _mx.kron(self, other)

    def cross(self, other, dim=None):
        """``cr.cross`` as a method: ``t.cross(...)`` is ``cr.cross(t, ...)``."""
        return _mx.cross(self, other, dim)

    def trace(self):
        """``cr.trace`` as a method: ``t.trace(...)`` is ``cr.trace(t, ...)``."""
        return _mx.trace(self)

    def diag(self, diagonal=0):
        """``cr.diag`` as a method: ``t.diag(...)`` is ``cr.diag(t, ...)``."""
        return _mx.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """``cr.diagonal`` as a method: ``t.diagonal(...)`` is ``cr.diagonal(t, ...)``."""
        return _mx.diagonal(self, offset, dim1, dim2)

    def cumsum(self, dim, *, dtype=None):
        """``cr.cumsum`` as a method: ``t.cumsum(...)`` is ``cr.cumsum(t, ...)``."""
        return _mx.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        """``cr.cumprod`` as a method: ``t.cumprod(...)`` is ``cr.cumprod(t, ...)``."""
        return _mx.cumprod(self, dim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """``cr.prod`` as a method: ``t.prod(...)`` is ``cr.prod(t, ...)``."""
        return _mx.prod(self, dim, keepdim, dtype=dtype)

    def softmax(self, dim, dtype=None):
        """``cr.softmax`` as a method: ``t.softmax(...)`` is ``cr.softmax(t, ...)``."""
        from chainrule.ops.activation import softmax

        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        """``cr.log_softmax`` as a method: ``t.log_softmax(...)`` is ``cr.log_softmax(t, ...)``."""
        from chainrule.ops.activation import log_softmax

        return log_softmax(self, dim, dtype=dtype)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """``cr.isclose`` as a method: ``t.isclose(...)`` is ``cr.isclose(t, ...)``."""
        return _mx.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """``cr.allclose`` as a method: ``t.allclose(...)`` is ``cr.allclose(t, ...)``."""
        return _mx.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        """``cr.equal`` as a method: ``t.equal(...)`` is ``cr.equal(t, ...)``."""
        return _mx.equal(self, other)

    def isinf(self):
        """``cr.isinf`` as a method: ``t.isinf(...)`` is ``cr.isinf(t, ...)``."""
        return _mx.isinf(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """``cr.nan_to_num`` as a method: ``t.nan_to_num(...)`` is ``cr.nan_to_num(t, ...)``."""
        return _mx.nan_to_num(self, nan, posinf, neginf)

    def logical_and(self, other):
        """``cr.logical_and`` as a method: ``t.logical_and(...)`` is ``cr.logical_and(t, ...)``."""
        return _mx.logical_and(self, other)

    def logical_or(self, other):
        """``cr.logical_or`` as a method: ``t.logical_or(...)`` is ``cr.logical_or(t, ...)``."""
        return _mx.logical_or(self, other)

    def logical_xor(self, other):
        """``cr.logical_xor`` as a method: ``t.logical_xor(...)`` is ``cr.logical_xor(t, ...)``."""
        return _mx.logical_xor(self, other)

    def logical_not(self):
        """``cr.logical_not`` as a method: ``t.logical_not(...)`` is ``cr.logical_not(t, ...)``."""
        return _mx.logical_not(self)

    def count_nonzero(self, dim=None):
        """``cr.count_nonzero`` as a method: ``t.count_nonzero(...)`` is ``cr.count_nonzero(t, ...)``."""
        return _mx.count_nonzero(self, dim)

    def gather(self, dim, index):
        """``cr.gather`` as a method: ``t.gather(...)`` is ``cr.gather(t, ...)``."""
        return _ix.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """``cr.scatter`` as a method: ``t.scatter(...)`` is ``cr.scatter(t, ...)``."""
        return _ix.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        """``cr.scatter_add`` as a method: ``t.scatter_add(...)`` is ``cr.scatter_add(t, ...)``."""
        return _ix.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        """``cr.index_select`` as a method: ``t.index_select(...)`` is ``cr.index_select(t, ...)``."""
        return _ix.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        """``cr.index_add`` as a method: ``t.index_add(...)`` is ``cr.index_add(t, ...)``."""
        return _ix.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        """``cr.index_copy`` as a method: ``t.index_copy(...)`` is ``cr.index_copy(t, ...)``."""
        return _ix.index_copy(self, dim, index, source)

    def index_fill(self, dim, index, value):
        """``cr.index_fill`` as a method: ``t.index_fill(...)`` is ``cr.index_fill(t, ...)``."""
        return _ix.index_fill(self, dim, index, value)

    def masked_fill(self, mask, value):
        """``cr.masked_fill`` as a method: ``t.masked_fill(...)`` is ``cr.masked_fill(t, ...)``."""
        return _ix.masked_fill(self, mask, value)

    def masked_select(self, mask):
        """``cr.masked_select`` as a method: ``t.masked_select(...)`` is ``cr.masked_select(t, ...)``."""
        return _ix.masked_select(self, mask)

    def take(self, index):
        """``cr.take`` as a method: ``t.take(...)`` is ``cr.take(t, ...)``."""
        return _ix.take(self, index)

    def nonzero(self, *, as_tuple=False):
        """``cr.nonzero`` as a method: ``t.nonzero(...)`` is ``cr.nonzero(t, ...)``."""
        return _ix.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        """``cr.argwhere`` as a method: ``t.argwhere(...)`` is ``cr.argwhere(t, ...)``."""
        return _ix.argwhere(self)

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (``cr.where(condition, self, other)``)."""
        return _ew.where(condition, self, other)

    def select(self, dim, index):
        """``cr.select`` as a method: ``t.select(...)`` is ``cr.select(t, ...)``."""
        return _ix.select(self, dim, index)

    def unbind(self, dim=0):
        """``cr.unbind`` as a method: ``t.unbind(...)`` is ``cr.unbind(t, ...)``."""
        return _ix.unbind(self, dim)

    def tile(self, *dims):
        """``cr.tile`` as a method: ``t.tile(...)`` is ``cr.tile(t, ...)``."""
        return _ix.tile(self, _shape.shape_arg(dims))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """As a method: ``t.repeat_interleave(r)`` is ``cr.repeat_interleave(t, r)``."""
        return _ix.repeat_interleave(self, repeats, dim)

    def roll(self, shifts, dims=None):
        """``cr.roll`` as a method: ``t.roll(...)`` is ``cr.roll(t, ...)``."""
        return _ix.roll(self, shifts, dims)

    def flip(self, *dims):
        """``cr.flip`` as a method: ``t.flip(...)`` is ``cr.flip(t, ...)``."""
        return _ix.flip(self, _shape.shape_arg(dims))

    def fliplr(self):
        """``cr.fliplr`` as a method: ``t.fliplr(...)`` is ``cr.fliplr(t, ...)``."""
        return _ix.fliplr(self)

    def flipud(self):
        """``cr.flipud`` as a method: ``t.flipud(...)`` is ``cr.flipud(t, ...)``."""
        return _ix.flipud(self)

    def rot90(self, k=1, dims=(0, 1)):
        """``cr.rot90`` as a method: ``t.rot90(...)`` is ``cr.rot90(t, ...)``."""
        return _ix.rot90(self, k, dims)

    def movedim(self, source, destination):
        """``cr.movedim`` as a method: ``t.movedim(...)`` is ``cr.movedim(t, ...)``."""
        return _ix.movedim(self, source, destination)

    def moveaxis(self, source, destination):
        """Move dimensions to new positions (alias of ``movedim``)."""
        return _ix.movedim(self, source, destination)

    def broadcast_to(self, *size):
        """``cr.broadcast_to`` as a method: ``t.broadcast_to(...)`` is ``cr.broadcast_to(t, ...)``."""
        return _ix.broadcast_to(self, _shape.shape_arg(size))

    def type_as(self, other):
        """The tensor converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def unflatten(self, dim, sizes):
        """``cr.unflatten`` as a method: ``t.unflatten(...)`` is ``cr.unflatten(t, ...)``."""
        return _ix.unflatten(self, dim, sizes)

    def sort(self, dim=-1, descending=False, stable=False):
        """``cr.sort`` as a method: ``t.sort(...)`` is ``cr.sort(t, ...)``."""
        return _so.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        """``cr.argsort`` as a method: ``t.argsort(...)`` is ``cr.argsort(t, ...)``."""
        return _so.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """``cr.topk`` as a method: ``t.topk(...)`` is ``cr.topk(t, ...)``."""
        return _so.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        """``cr.kthvalue`` as a method: ``t.kthvalue(...)`` is ``cr.kthvalue(t, ...)``."""
        return _so.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        """``cr.median`` as a method: ``t.median(...)`` is ``cr.median(t, ...)``."""
        return _so.median(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        """``cr.mode`` as a method: ``t.mode(...)`` is ``cr.mode(t, ...)``."""
        return _so.mode(self, dim, keepdim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """``cr.unique`` as a method: ``t.unique(...)`` is ``cr.unique(t, ...)``."""
        return _so.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        """As a method: ``t.unique_consecutive()`` is ``cr.unique_consecutive(t)``."""
        return _so.unique_consecutive(self, return_inverse, return_counts, dim)

    def histc(self, bins=100, min=0, max=0):
        """``cr.histc`` as a method: ``t.histc(...)`` is ``cr.histc(t, ...)``."""
        return _so.histc(self, bins, min, max)

    def aminmax(self, *, dim=None, keepdim=False):
        """``cr.aminmax`` as a method: ``t.aminmax(...)`` is ``cr.aminmax(t, ...)``."""
        return _so.aminmax(self, dim=dim, keepdim=keepdim)

    def bernoulli(self, p=None, *, generator=None):
        """``cr.bernoulli`` as a method: ``t.bernoulli(...)`` is ``cr.bernoulli(t, ...)``."""
        from chainrule.ops.creation import bernoulli

        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``cr.multinomial`` as a method: ``t.multinomial(...)`` is ``cr.multinomial(t, ...)``."""
        from chainrule.ops.creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    def bfloat16(self) -> Tensor:
        """A bfloat16 copy (through ml_dtypes)."""
        from chainrule.ops.creation import bfloat16

        return self.to(bfloat16)

    def register_hook(self, hook):
        """Register a hook on this tensor's gradient.

        Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces the
        gradient.  Returns a handle whose ``remove()`` unregisters the hook (as PyTorch).
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        from chainrule.autograd.hooks import register_tensor_hook

        return register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` once per backward, after this leaf's ``.grad`` has been accumulated.

        The hook returns None; it sees the whole gradient of the pass (the moment every
        contribution has been added), which is when a data-parallel wrapper can start reducing
        it. Not called by ``cr.autograd.grad`` (no ``.grad`` is written there). Returns a handle
        whose ``remove()`` unregisters the hook (as PyTorch).

        Example:
            >>> w = cr.ones(3, requires_grad=True)
            >>> seen = []
            >>> h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
            >>> (w * 2).sum().backward()
            >>> seen
            [[2.0, 2.0, 2.0]]
        """
        if not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                "doesn't require grad"
            )
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered "
                f"on non-leaf tensors (this one was made by {self.grad_fn.name()})"
            )
        from chainrule.autograd.hooks import register_post_accumulate_grad_hook

        return register_post_accumulate_grad_hook(self, hook)

    def __dlpack__(self, *args, **kwargs):
        """DLPack export (NumPy, PyTorch and CuPy read it without a copy); refused while requiring grad."""
        if self.requires_grad:
            raise RuntimeError("__dlpack__: can't export a tensor that requires grad; use .detach() first")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # in-place forms of the element-wise and index ops above (outside autograd, as the others here)
    def acos_(self):
        """In-place ``acos``: the result is written into this tensor, which is returned."""
        return self._inplace_result("acos_", _mx.acos(self.detach()))

    def asin_(self):
        """In-place ``asin``: the result is written into this tensor, which is returned."""
        return self._inplace_result("asin_", _mx.asin(self.detach()))

    def atan_(self):
        """In-place ``atan``: the result is written into this tensor, which is returned."""
        return self._inplace_result("atan_", _mx.atan(self.detach()))

    def sinh_(self):
        """In-place ``sinh``: the result is written into this tensor, which is returned."""
        return self._inplace_result("sinh_", _mx.sinh(self.detach()))

    def cosh_(self):
        """In-place ``cosh``: the result is written into this tensor, which is returned."""
        return self._inplace_result("cosh_", _mx.cosh(self.detach()))

    def tan_(self):
        """In-place ``tan``: the result is written into this tensor, which is returned."""
        return self._inplace_result("tan_", _mx.tan(self.detach()))

    def ceil_(self):
        """In-place ``ceil``: the result is written into this tensor, which is returned."""
        return self._inplace_result("ceil_", _mx.ceil(self.detach()))

    def floor_(self):
        """In-place ``floor``: the result is written into this tensor, which is returned."""
        return self._inplace_result("floor_", _mx.floor(self.detach()))

    def round_(self, decimals=0):
        """In-place ``round``: the result is written into this tensor, which is returned."""
        return self._inplace_result("round_", _mx.round(self.detach(), decimals=decimals))

    def trunc_(self):
        """In-place ``trunc``: the result is written into this tensor, which is returned."""
        return self._inplace_result("trunc_", _mx.trunc(self.detach()))

    def frac_(self):
        """In-place ``frac``: the result is written into this tensor, which is returned."""
        return self._inplace_result("frac_", _mx.frac(self.detach()))

    def expm1_(self):
        """In-place ``expm1``: the result is written into this tensor, which is returned."""
        return self._inplace_result("expm1_", _mx.expm1(self.detach()))

    def log2_(self):
        """In-place ``log2``: the result is written into this tensor, which is returned."""
        return self._inplace_result("log2_", _mx.log2(self.detach()))

    def log10_(self):
        """In-place ``log10``: the result is written into this tensor, which is returned."""
        return self._inplace_result("log10_", _mx.log10(self.detach()))

    def erf_(self):
        """In-place ``erf``: the result is written into this tensor, which is returned."""
        return self._inplace_result("erf_", _mx.erf(self.detach()))

    def fmod_(self, other):
        """In-place ``fmod``: the result is written into this tensor, which is returned."""
        return self._inplace_result("fmod_", _mx.fmod(self.detach(), other))

    def remainder_(self, other):
        """In-place ``remainder``: the result is written into this tensor, which is returned."""
        return self._inplace_result("remainder_", _mx.remainder(self.detach(), other))

    def lerp_(self, end, weight):
        """In-place ``lerp``: the result is written into this tensor, which is returned."""
        return self._inplace_result("lerp_", _mx.lerp(self.detach(), end, weight))

    def atan2_(self, other):
        """In-place ``atan2``: the result is written into this tensor, which is returned."""
        return self._inplace_result("atan2_", _mx.atan2(self.detach(), other))

    def cumsum_(self, dim):
        """In-place ``cumsum``: the result is written into this tensor, which is returned."""
        return self._inplace_result("cumsum_", _mx.cumsum(self.detach(), dim))

    def cumprod_(self, dim):
        """In-place ``cumprod``: the result is written into this tensor, which is returned."""
        return self._inplace_result("cumprod_", _mx.cumprod(self.detach(), dim))

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        """In-place ``nan_to_num``: the result is written into this tensor, which is returned."""
        return self._inplace_result("nan_to_num_", _mx.nan_to_num(self.detach(), nan, posinf, neginf))

    def logical_and_(self, other):
        """In-place ``logical_and``: the result is written into this tensor, which is returned."""
        return self._inplace_result("logical_and_", _mx.logical_and(self.detach(), other))

    def logical_or_(self, other):
        """In-place ``logical_or``: the result is written into this tensor, which is returned."""
        return self._inplace_result("logical_or_", _mx.logical_or(self.detach(), other))

    def logical_not_(self):
        """In-place ``logical_not``: the result is written into this tensor, which is returned."""
        return self._inplace_result("logical_not_", _mx.logical_not(self.detach()))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """In-place ``scatter``: the result is written into this tensor, which is returned."""
        out = _ix.scatter(self.detach(), dim, index, src, value=value, reduce=reduce)
        return self._inplace_result("scatter_", out)

    def scatter_add_(self, dim, index, src):
        """In-place ``scatter_add``: the result is written into this tensor, which is returned."""
        return self._inplace_result("scatter_add_", _ix.scatter_add(self.detach(), dim, index, src))

    def index_add_(self, dim, index, source, *, alpha=1):
        """In-place ``index_add``: the result is written into this tensor, which is returned."""
        out = _ix.index_add(self.detach(), dim, index, source, alpha=alpha)
        return self._inplace_result("index_add_", out)

    def index_copy_(self, dim, index, source):
        """In-place ``index_copy``: the result is written into this tensor, which is returned."""
        return self._inplace_result("index_copy_", _ix.index_copy(self.detach(), dim, index, source))

    def index_fill_(self, dim, index, value):
        """In-place ``index_fill``: the result is written into this tensor, which is returned."""
        return self._inplace_result("index_fill_", _ix.index_fill(self.detach(), dim, index, value))

    def masked_fill_(self, mask, value):
        """In-place ``masked_fill``: the result is written into this tensor, which is returned."""
        return self._inplace_result("masked_fill_", _ix.masked_fill(self.detach(), mask, value))

    def bernoulli_(self, p=0.5, *, generator=None):
        """In-place ``bernoulli``: the result is written into this tensor, which is returned."""
        from chainrule.ops.creation import bernoulli

        return self._inplace_result("bernoulli_", bernoulli(self.detach(), p, generator=generator))

    def abs_(self):
        """In-place ``abs``: the result is written into this tensor, which is returned."""
        return self._inplace_result("abs_", _ew.abs(self.detach()))

    def neg_(self):
        """In-place ``neg``: the result is written into this tensor, which is returned."""
        return self._inplace_result("neg_", _ew.neg(self.detach()))

    def exp_(self):
        """In-place ``exp``: the result is written into this tensor, which is returned."""
        return self._inplace_result("exp_", _ew.exp(self.detach()))

    def log_(self):
        """In-place ``log``: the result is written into this tensor, which is returned."""
        return self._inplace_result("log_", _ew.log(self.detach()))

    def sqrt_(self):
        """In-place ``sqrt``: the result is written into this tensor, which is returned."""
        return self._inplace_result("sqrt_", _ew.sqrt(self.detach()))

    def sin_(self):
        """In-place ``sin``: the result is written into this tensor, which is returned."""
        return self._inplace_result("sin_", _ew.sin(self.detach()))

    def cos_(self):
        """In-place ``cos``: the result is written into this tensor, which is returned."""
        return self._inplace_result("cos_", _ew.cos(self.detach()))

    def tanh_(self):
        """In-place ``tanh``: the result is written into this tensor, which is returned."""
        return self._inplace_result("tanh_", _ew.tanh(self.detach()))

    def sigmoid_(self):
        """In-place ``sigmoid``: the result is written into this tensor, which is returned."""
        return self._inplace_result("sigmoid_", _ew.sigmoid(self.detach()))

    def relu_(self):
        """In-place ``relu``: the result is written into this tensor, which is returned."""
        return self._inplace_result("relu_", _ew.relu(self.detach()))

    def pow_(self, exponent):
        """In-place ``pow``: the result is written into this tensor, which is returned."""
        return self._inplace_result("pow_", _ew.pow(self.detach(), exponent))

    def square_(self):
        """In-place ``square``: the result is written into this tensor, which is returned."""
        return self._inplace_result("square_", _mx.square(self.detach()))

    def reciprocal_(self):
        """In-place ``reciprocal``: the result is written into this tensor, which is returned."""
        return self._inplace_result("reciprocal_", _mx.reciprocal(self.detach()))

    def rsqrt_(self):
        """In-place ``rsqrt``: the result is written into this tensor, which is returned."""
        return self._inplace_result("rsqrt_", _mx.rsqrt(self.detach()))

    def sign_(self):
        """In-place ``sign``: the result is written into this tensor, which is returned."""
        return self._inplace_result("sign_", _ew.sign(self.detach()))

    def swapdims(self, dim0, dim1):
        """Swap two dimensions (alias of ``transpose``)."""
        return _shape.transpose(self, dim0, dim1)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """``cr.addmv`` as a method: ``t.addmv(...)`` is ``cr.addmv(t, ...)``."""
        return _mx.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def arccos(self):
        """Element-wise arccos (alias of ``acos``)."""
        return _mx.acos(self)

    def arcsin(self):
        """Element-wise arcsin (alias of ``asin``)."""
        return _mx.asin(self)

    def arctan(self):
        """Element-wise arctan (alias of ``atan``)."""
        return _mx.atan(self)

    def fix(self):
        """Round towards zero (alias of ``trunc``)."""
        return _mx.trunc(self)

    def ger(self, vec2):
        """Outer product with ``vec2`` (alias of ``outer``)."""
        return _mx.outer(self, vec2)

    def vdot(self, other):
        """Dot product of two 1-D tensors (as ``dot`` for real tensors)."""
        return _mx.dot(self, other)

    def isposinf(self):
        """``cr.isposinf`` as a method: ``t.isposinf(...)`` is ``cr.isposinf(t, ...)``."""
        return _mx.isposinf(self)

    def isneginf(self):
        """``cr.isneginf`` as a method: ``t.isneginf(...)`` is ``cr.isneginf(t, ...)``."""
        return _mx.isneginf(self)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """``cr.diag_embed`` as a method: ``t.diag_embed(...)`` is ``cr.diag_embed(t, ...)``."""
        return _mx.diag_embed(self, offset, dim1, dim2)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        """In-place ``addmm``: the result is written into this tensor, which is returned."""
        return self._inplace_result("addmm_", _mx.addmm(self.detach(), mat1, mat2, beta=beta, alpha=alpha))

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        """In-place ``baddbmm``: the result is written into this tensor, which is returned."""
        out = _mx.baddbmm(self.detach(), batch1, batch2, beta=beta, alpha=alpha)
        return self._inplace_result("baddbmm_", out)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        """In-place ``addmv``: the result is written into this tensor, which is returned."""
        return self._inplace_result("addmv_", _mx.addmv(self.detach(), mat, vec, beta=beta, alpha=alpha))

    def eq_(self, other):
        """In-place ``eq``: the result is written into this tensor, which is returned."""
        return self._inplace_result("eq_", _mx.eq(self.detach(), other))

    def ne_(self, other):
        """In-place ``ne``: the result is written into this tensor, which is returned."""
        return self._inplace_result("ne_", _mx.ne(self.detach(), other))

    def gt_(self, other):
        """In-place ``gt``: the result is written into this tensor, which is returned."""
        return self._inplace_result("gt_", _mx.gt(self.detach(), other))

    def ge_(self, other):
        """In-place ``ge``: the result is written into this tensor, which is returned."""
        return self._inplace_result("ge_", _mx.ge(self.detach(), other))

    def lt_(self, other):
        """In-place ``lt``: the result is written into this tensor, which is returned."""
        return self._inplace_result("lt_", _mx.lt(self.detach(), other))

    def le_(self, other):
        """In-place ``le``: the result is written into this tensor, which is returned."""
        return self._inplace_result("le_", _mx.le(self.detach(), other))

    def logical_xor_(self, other):
        """In-place ``logical_xor``: the result is written into this tensor, which is returned."""
        return self._inplace_result("logical_xor_", _mx.logical_xor(self.detach(), other))

    def arccos_(self):
        """In-place ``acos``; returns ``self``."""
        return self.acos_()

    def arcsin_(self):
        """In-place ``asin``; returns ``self``."""
        return self.asin_()

    def arctan_(self):
        """In-place ``atan``; returns ``self``."""
        return self.atan_()

    def fix_(self):
        """In-place ``trunc``; returns ``self``."""
        return self.trunc_()

    def clip_(self, min=None, max=None):
        """Clamp to [min, max] in place (alias of ``clamp_``); returns ``self``."""
        return self.clamp_(min, max)

    # -- PyTorch names that scripts use (chainrule/ops/misc.py) ------------------------------------
    def mm(self, mat2: Tensor) -> Tensor:
        """2-D matrix product ``self @ mat2`` (see ``cr.mm``)."""
        return _misc.mm(self, mat2)

    def narrow(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:
        """The slice ``start : start + length`` of dimension ``dim`` (see ``cr.narrow``)."""
        return _misc.narrow(self, dim, start, length)

    def tril(self, diagonal: builtins.int = 0) -> Tensor:
        """Lower triangle of the last two dims (see ``cr.tril``)."""
        return _misc.tril(self, diagonal)

    def triu(self, diagonal: builtins.int = 0) -> Tensor:
        """Upper triangle of the last two dims (see ``cr.triu``)."""
        return _misc.triu(self, diagonal)

    def log1p(self) -> Tensor:
        """ln(1 + x) element-wise (see ``cr.log1p``)."""
        return _misc.log1p(self)

    def new_zeros(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
    ) -> Tensor:
        """Zeros of ``size`` with this tensor's dtype and device: ``w.new_zeros(2, 3)``."""
        return _misc.new_like("new_zeros", self, size, 0, dtype, device, requires_grad)

    def new_ones(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
    ) -> Tensor:
        """Ones of ``size`` with this tensor's dtype and device."""
        return _misc.new_like("new_ones", self, size, 1, dtype, device, requires_grad)

    def new_empty(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
    ) -> Tensor:
        """A tensor of ``size`` with this tensor's dtype and device (chainrule fills it with zeros)."""
        return _misc.new_like("new_empty", self, size, None, dtype, device, requires_grad)

    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
    ) -> Tensor:
        """``fill_value`` in a tensor of ``size`` with this tensor's dtype and device."""
        return _misc.new_like("new_full", self, (size,), fill_value, dtype, device, requires_grad)

    def new_tensor(
        self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
    ) -> Tensor:
        """A copy of ``data`` with this tensor's dtype and device unless given."""
        t = Tensor(data, dtype=dtype or self.dtype, device=device or self.device)
        return t.requires_grad_(True) if requires_grad else t

    # -- copy and pickle (as PyTorch: values and requires_grad, never the graph) -------------
    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._data, self.requires_grad))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (created by the user, not by an op) can be deep-copied, "
                "as in PyTorch; use t.detach().clone() for a copy of the values"
            )
        if id(self) not in memo:
            out = _rebuild_tensor(self._data.copy(), self.requires_grad)
            memo[id(self)] = out
            if self.grad is not None:
                out.grad = copy.deepcopy(self.grad, memo)
        return memo[id(self)]


def _rebuild_tensor(data, requires_grad: bool) -> Tensor:
    """Unpickle a Tensor: a leaf holding ``data``."""
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _to_array(data: Any, dtype: Any, device: str | None):
    """Array for ``cr.tensor(data)``: Python floats -> float32, ints -> int64, arrays keep dtype (copied)."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, np.ndarray) or (backend.device_of(data) == "cuda"):
        arr = data.copy()
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        of_tensors = False  # a list of tensors keeps their dtype
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            of_tensors = all(isinstance(d, Tensor) for d in data)
            data = [d._data if isinstance(d, Tensor) else d for d in data]
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"tensor: can't convert nested lists of uneven lengths ({e})") from None
        if arr.dtype.kind not in "fbciu":
            raise TypeError(f"tensor: can't convert data of type {type(data).__name__} (dtype {arr.dtype})")
        if dtype is not None or (of_tensors and arr.dtype.kind == "f"):
            pass  # the requested dtype (cast below, no float32 rounding on the way), or the tensors' own
        elif arr.dtype == np.float64:
            arr = arr.astype(backend.get_default_dtype())  # PyTorch's default dtype for Python floats
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    if device is not None:
        arr = backend.to_device(arr, device)
    return arr


from chainrule import devices as _device  # noqa: E402
from chainrule.autograd import engine as _engine  # noqa: E402  (the engine imports Tensor from here)
from chainrule.ops import elementwise as _ew  # noqa: E402  (the ops import Tensor from here)
from chainrule.ops import indexing as _ix  # noqa: E402
from chainrule.ops import linalg as _linalg  # noqa: E402
from chainrule.ops import mathx as _mx  # noqa: E402
from chainrule.ops import misc as _misc  # noqa: E402
from chainrule.ops import reduce as _reduce  # noqa: E402
from chainrule.ops import shape as _shape  # noqa: E402
from chainrule.ops import sorting as _so  # noqa: E402
