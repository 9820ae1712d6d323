"""``cr.linalg``: norms, inverse, determinant, solve, SVD, QR, symmetric eigendecomposition, Cholesky.

Every function takes a matrix or a batch of them in the last two dims, as ``torch.linalg``, and is
differentiable where PyTorch's is.  The backwards are written once (operators and ``bm``):

- inv:      gA = -Yᵀ g Yᵀ                                     (Y = A⁻¹)
- det:      gA = g · det(A) · A⁻ᵀ
- solve:    gB = A⁻ᵀ g,  gA = -gB Xᵀ                          (AX = B)
- cholesky: gA = sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹), Φ = lower triangle with the diagonal halved
- eigh:     gA = V (diag(gL) + skew(Vᵀ gV)/2 / E) Vᵀ,  E_ij = λ_j - λ_i
- svd:      gA = U [skew(Uᵀ gU)/E · S + S · skew(Vᵀ gV)/E + diag(gS)] Vᵀ
            + (I - UUᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I - VVᵀ),   E_jk = S_k² - S_j²
- qr:       gA = (gQ + Q copyltu(M)) R⁻ᵀ,  M = R gRᵀ - gQᵀ Q   (m ≥ n)

>>> A = cr.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> cr.linalg.det(A)
tensor(5., grad_fn=<DetBackward>)
"""

from __future__ import annotations

from collections import namedtuple

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
from chainrule.ops import elementwise as _ew
from chainrule.ops import reduce as _reduce
from chainrule.tensor import Tensor

__all__ = [
    "norm",
    "vector_norm",
    "matrix_norm",
    "inv",
    "det",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "qr",
    "eigh",
    "eigvalsh",
    "cholesky",
    "matmul",
    "cross",
]

SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def _square(op: str, A: Tensor) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be a batch of square matrices, got shape {tuple(A.shape)}")
    _float(op, A)


def _float(op: str, A: Tensor) -> None:
    if A._data.dtype.kind != "f":
        raise TypeError(f"linalg.{op}: expected a floating point tensor, got {A.dtype}")


def _lapack(op: str, fn, *arrays):
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as e:
        raise RuntimeError(f"linalg.{op}: {e}") from None


# ----------------------------------------------------------------------------- Functions


class Inv(Function):
    """Y = A⁻¹;  gA = -Yᵀ g Yᵀ."""

    array_backward = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_output()
        return _lapack("inv", xp_of(A._data).linalg.inv, A._data)

    @staticmethod
    def backward(ctx, grad):
        (Y,) = ctx.outputs
        Yt = bm.mT(Y)
        return -(Yt @ grad @ Yt)


class Det(Function):
    """d = det(A);  gA = g · d · A⁻ᵀ."""

    array_backward = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        ctx.save_output()
        return xp_of(A._data).linalg.det(A._data)

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        (d,) = ctx.outputs
        scale = (grad * d).reshape(d.shape + (1, 1))
        return scale * bm.mT(bm.inv(A))


class Solve(Function):
    """X = A⁻¹ B (B a batch of matrices);  gB = A⁻ᵀ g, gA = -gB Xᵀ."""

    array_backward = True

    @staticmethod
    def forward(ctx, A, B):
        ctx.save_for_backward(A)
        ctx.save_output()
        xp = xp_of(A._data)
        b = xp.broadcast_to(B._data, np.broadcast_shapes(A.shape[:-2], B.shape[:-2]) + B.shape[-2:])
        return _lapack("solve", xp.linalg.solve, A._data, b)

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        (X,) = ctx.outputs
        gB = bm.solve(bm.mT(A), grad)
        gA = -(gB @ bm.mT(X)) if ctx.needs_input_grad[0] else None
        B = ctx.inputs[1]
        return (
            bm.unbroadcast(gA, A.shape) if gA is not None else None,
            bm.unbroadcast(gB, B.shape) if ctx.needs_input_grad[1] else None,
        )


class Cholesky(Function):
    """L with A = L Lᵀ;  gA = sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹)."""

    array_backward = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_output()
        return _lapack("cholesky", xp_of(A._data).linalg.cholesky, A._data)

    @staticmethod
    def backward(ctx, grad):
        (L,) = ctx.outputs
        P = bm.mT(L) @ grad
        phi = bm.tril_mask(P) - bm.diag_embed(bm.diagonal(P)) * 0.5
        Linv = bm.inv(L)
        gA = bm.mT(Linv) @ phi @ Linv
        return (gA + bm.mT(gA)) * 0.5


def _off_diag_inverse(E):
    """1 / E off the diagonal of the last two dims, 0 on it."""
    eye = np.eye(E.shape[-1], dtype=E.dtype)
    return (1.0 / (E + bm.const(eye, E))) * bm.const(1.0 - eye, E)


def _eigh_arrays(a, uplo):
    return tuple(_lapack("eigh", lambda m: xp_of(m).linalg.eigh(m, UPLO=uplo), a))


def _svd_arrays(a):
    return tuple(_lapack("svd", lambda m: xp_of(m).linalg.svd(m, full_matrices=False), a))


def _qr_arrays(a, mode):
    return tuple(xp_of(a).linalg.qr(a, mode=mode))


def _again(cls, arrays_fn, A, *args):
    """A decomposition's outputs, recomputed for its backward.

    A decomposition's outputs again, for its backward (its outputs may be gone by then): on arrays
    recomputed directly, on Tensors through ``cls`` so that second derivatives see them.
    """
    if isinstance(A, Tensor):
        return cls.apply(A, *args)
    return arrays_fn(A, *args)


class Eigh(Function):
    """Symmetric eigendecomposition.

    (λ, V) with A = V diag(λ) Vᵀ (the lower triangle of A is read);
    gA = V (diag(gλ) + skew(Vᵀ gV)/2 / E) Vᵀ.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, A, uplo):
        ctx.uplo = uplo
        ctx.save_for_backward(A)
        return _eigh_arrays(A._data, uplo)

    @staticmethod
    def backward(ctx, gL, gV):
        (A,) = ctx.saved_tensors
        L, V = _again(Eigh, _eigh_arrays, A, ctx.uplo)  # recomputed: recorded under create_graph
        E = L.reshape(L.shape[:-1] + (1, L.shape[-1])) - L.reshape(L.shape + (1,))  # E_ij = λ_j - λ_i
        VgV = bm.mT(V) @ gV
        inner = (VgV - bm.mT(VgV)) * 0.5 * _off_diag_inverse(E) + bm.diag_embed(gL)
        return V @ inner @ bm.mT(V), None


class Svd(Function):
    """Reduced SVD A = U diag(S) Vh; the backward of the module docstring."""

    array_backward = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return _svd_arrays(A._data)

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        (A,) = ctx.saved_tensors
        U, S, Vh = _again(Svd, _svd_arrays, A)
        V, gV = bm.mT(Vh), bm.mT(gVh)
        m, n = U.shape[-2], V.shape[-2]
        S2 = S * S
        Finv = _off_diag_inverse(S2.reshape(S2.shape[:-1] + (1, S2.shape[-1])) - S2.reshape(S2.shape + (1,)))
        UgU = bm.mT(U) @ gU
        VgV = bm.mT(V) @ gV
        Srow = S.reshape(S.shape[:-1] + (1, S.shape[-1]))  # scales columns
        Scol = S.reshape(S.shape + (1,))  # scales rows
        inner = (UgU - bm.mT(UgU)) * Finv * Srow + Scol * ((VgV - bm.mT(VgV)) * Finv) + bm.diag_embed(gS)
        gA = U @ inner @ Vh
        Sinv = 1.0 / S
        if m > S.shape[-1]:
            proj = gU - U @ UgU
            gA = gA + (proj * Sinv.reshape(Sinv.shape[:-1] + (1, Sinv.shape[-1]))) @ Vh
        if n > S.shape[-1]:
            proj = gV - V @ VgV
            gA = gA + U @ (bm.mT(proj) * Sinv.reshape(Sinv.shape + (1,)))
        return gA


class Qr(Function):
    """Reduced QR A = Q R (m ≥ n); gA = (gQ + Q copyltu(M)) R⁻ᵀ, M = R gRᵀ - gQᵀ Q."""

    array_backward = True

    @staticmethod
    def forward(ctx, A, mode):
        ctx.mode = mode
        ctx.save_for_backward(A)
        return _qr_arrays(A._data, mode)

    @staticmethod
    def backward(ctx, gQ, gR):
        (A,) = ctx.saved_tensors
        Q, R = _again(Qr, _qr_arrays, A, ctx.mode)
        M = R @ bm.mT(gR) - bm.mT(gQ) @ Q
        low = bm.tril_mask(M, -1)
        copyltu = low + bm.mT(low) + bm.diag_embed(bm.diagonal(M))
        return bm.mT(bm.solve(R, bm.mT(gQ + Q @ copyltu))), None


# ----------------------------------------------------------------------------- functions


def inv(A: Tensor) -> Tensor:
    """The inverse of (a batch of) square matrices; RuntimeError when singular.

    >>> cr.linalg.inv(cr.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    _square("inv", A)
    return Inv.apply(A)


def det(A: Tensor) -> Tensor:
    """The determinant of (a batch of) square matrices."""
    _square("det", A)
    return Det.apply(A)


def slogdet(A: Tensor):
    """``(sign, logabsdet)`` of the determinant; differentiable through logabsdet."""
    _square("slogdet", A)
    d = det(A)
    return SlogdetResult(Tensor._make(xp_of(d._data).sign(d._data)), _ew.log(_ew.abs(d)))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (B a vector (n,) or matrices (n, k), batches broadcast).

    >>> cr.linalg.solve(cr.tensor([[2.0, 0.0], [0.0, 4.0]]), cr.tensor([2.0, 4.0]))
    tensor([1., 1.])
    """
    _square("solve", A)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: A {tuple(A.shape)} and B {tuple(B.shape)} don't fit (A X = B)")
    x = Solve.apply(A, b)
    return x.squeeze(-1) if vector else x


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The lower-triangular L with A = L Lᵀ (A symmetric positive-definite; ``upper=True``: Lᵀ)."""
    _square("cholesky", A)
    L = Cholesky.apply(A)
    return L.mT if upper else L


def eigh(A: Tensor, UPLO: str = "L"):  # noqa: N803 - PyTorch's name
    """``(eigenvalues, eigenvectors)`` of a symmetric matrix, ascending; reads the ``UPLO`` triangle."""
    _square("eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = Eigh.apply(A, UPLO)
    return EighResult(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues of a symmetric matrix, ascending."""
    return eigh(A, UPLO).eigenvalues


def svd(A: Tensor, full_matrices: bool = True):
    """Singular value decomposition.

    ``(U, S, Vh)`` with A = U diag(S) Vh, S descending; differentiable with ``full_matrices=False``
    (as PyTorch, whose full U, Vh have no unique gradient).
    """
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise RuntimeError(f"linalg.svd: expected a batch of matrices, got {getattr(A, 'shape', A)}")
    _float("svd", A)
    if full_matrices and A.shape[-1] != A.shape[-2]:
        if A.requires_grad:
            raise RuntimeError(
                "linalg.svd: full_matrices=True has no gradient for non-square A; pass full_matrices=False"
            )
        u, s, vh = np.linalg.svd(A._data, full_matrices=True)
        return SVDResult(Tensor._make(u), Tensor._make(s), Tensor._make(vh))
    return SVDResult(*Svd.apply(A))


def svdvals(A: Tensor) -> Tensor:
    """The singular values, descending."""
    return svd(A, full_matrices=False).S


def qr(A: Tensor, mode: str = "reduced"):
    """QR decomposition.

    ``(Q, R)`` with A = Q R, Q orthonormal columns, R upper triangular (``mode`` 'reduced' or
    'complete'; differentiable for m ≥ n in 'reduced').
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise RuntimeError(f"linalg.qr: expected a batch of matrices, got {getattr(A, 'shape', A)}")
    _float("qr", A)
    if mode == "r":
        r = np.linalg.qr(A._data, mode="r")
        return QRResult(Tensor._make(np.zeros((0,), A.dtype)), Tensor._make(r))
    if A.requires_grad and (A.shape[-2] < A.shape[-1] or (mode == "complete" and A.shape[-2] != A.shape[-1])):
        raise RuntimeError("linalg.qr: the gradient is implemented for m >= n and mode='reduced'")
    return QRResult(*Qr.apply(A, mode))


def _dims(dim, ndim: int, op: str):
    from chainrule.ops.shape import norm_dims

    return None if dim is None else norm_dims(dim, ndim, op)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The vector norm of order ``ord``.

    (Σ |x|^ord)^(1/ord) over ``dim`` (all entries when None); ord ±inf is the max/min |x|, 0 counts
    nonzeros.

    >>> cr.linalg.vector_norm(cr.tensor([3.0, 4.0]))
    tensor(5.)
    """
    if dtype is not None:
        x = x.to(np.dtype(dtype))
    _float("vector_norm", x)
    dims = _dims(dim, x.ndim, "vector_norm")
    inf = float("inf")
    if ord == 2:
        return _reduce.norm(x, 2, dims, keepdim)
    if ord == inf:
        return _ew.abs(x).amax(dims, keepdim)
    if ord == -inf:
        return _ew.abs(x).amin(dims, keepdim)
    if ord == 0:  # a count: zero gradient, but part of the graph as PyTorch's
        count = Tensor._make((x._data != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype))
        return _ew.add(_ew.mul(x, 0.0).sum(dims, keepdim), count)
    if ord == 1:
        return _ew.abs(x).sum(dims, keepdim)
    return _ew.pow(_ew.pow(_ew.abs(x), float(ord)).sum(dims, keepdim), 1.0 / ord)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """A matrix norm.

    A matrix norm over the two dims ``dim``: 'fro' (√Σ a²), 'nuc' (Σ singular values), 1/-1 (max/min
    column abs sum), inf/-inf (rows), 2/-2 (largest/smallest singular value).
    """
    if dtype is not None:
        A = A.to(np.dtype(dtype))
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: A must have at least 2 dims, got shape {tuple(A.shape)}")
    r, c = _dims(tuple(dim), A.ndim, "matrix_norm")
    inf = float("inf")
    if ord == "fro":
        return vector_norm(A, 2, (r, c), keepdim)
    if ord in ("nuc", 2, -2):
        from chainrule.ops.indexing import movedim

        s = svdvals(movedim(A, (r, c), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((r, c)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, inf, -inf):
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        sums = _ew.abs(A).sum(summed, True)
        out = sums.amax(other, True) if ord > 0 else sums.amin(other, True)
        return out if keepdim else out.squeeze(max(r, c)).squeeze(min(r, c))
    raise RuntimeError(f"linalg.matrix_norm: unsupported ord {ord!r}")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """A vector or matrix norm.

    A vector norm (1-D input or an int ``dim``) or a matrix norm (2-D input or a 2-tuple ``dim``);
    without ``ord`` and ``dim``: the 2-norm of all entries.
    """
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if dim is None and A.ndim != 2:
        raise RuntimeError(
            f"linalg.norm: with ord={ord!r} and dim=None, A must be 1-D or 2-D, got {A.ndim}-D"
        )
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``."""
    from chainrule.ops.linalg import matmul as _matmul

    return _matmul(a, b)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross product along ``dim`` (default the last)."""
    from chainrule.ops.mathx import cross as _cross

    return _cross(input, other, dim)
