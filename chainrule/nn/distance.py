"""Distance modules, as ``torch.nn``: ``CosineSimilarity`` and ``PairwiseDistance``."""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops import distance as D
from chainrule.tensor import Tensor


class CosineSimilarity(Module):
    r"""Cosine similarity along ``dim``, as ``torch.nn.CosineSimilarity``.

    $$
    \cos(x_1, x_2) = \frac{x_1 \cdot x_2}
    {\max(\lVert x_1 \rVert_2, \epsilon) \max(\lVert x_2 \rVert_2, \epsilon)}
    $$

    Args:
        dim: the dimension of the vectors.
        eps: the smallest norm.

    Shape:
        - Input1: (*1, D, *2), D at ``dim``
        - Input2: broadcastable with Input1
        - Output: the broadcast shape without ``dim``

    Example:
        >>> cos = cr.nn.CosineSimilarity(dim=1)
        >>> cos(cr.tensor([[1.0, 0.0]]), cr.tensor([[0.0, 2.0]]))
        tensor([0.])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = _args.integer("CosineSimilarity", "dim", dim)
        self.eps = _args.number("CosineSimilarity", "eps", eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return D.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    r"""The p-norm distance between rows, as ``torch.nn.PairwiseDistance``.

    $$
    d(x_1, x_2) = \lVert x_1 - x_2 + \epsilon \rVert_p
    $$

    Args:
        p: the norm's exponent.
        eps: added to the difference (equal rows keep a gradient).
        keepdim: keep the reduced last dim as size 1.

    Shape:
        - Input1: (N, D) or (D,)
        - Input2: broadcastable with Input1
        - Output: (N,) or () (with a trailing 1 if ``keepdim``)

    Example:
        >>> pdist = cr.nn.PairwiseDistance(p=1.0, eps=0.0)
        >>> pdist(cr.tensor([[0.0, 0.0]]), cr.tensor([[1.0, -2.0]]))
        tensor([3.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = _args.number("PairwiseDistance", "p", p)
        self.eps = _args.number("PairwiseDistance", "eps", eps)
        self.keepdim = bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return D.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"
