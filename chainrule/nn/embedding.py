"""``Embedding``: a lookup table of learned vectors.

``Embedding``: a table of ``num_embeddings`` learned vectors of size ``embedding_dim``,
looked up by integer index (words, tokens, categories), as ``torch.nn.Embedding``.

Parameter ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1) as PyTorch; the
``padding_idx`` row starts at zero and never receives a gradient.

Example::

    emb = nn.Embedding(1000, 32, padding_idx=0)
    emb(cr.tensor([[5, 7, 0]])).shape       # (1, 3, 32)
"""

from __future__ import annotations

from chainrule.nn import init
from chainrule.nn.module import Module, Parameter, new_parameter
from chainrule.ops import _args
from chainrule.ops.embedding import embedding, embedding_bag
from chainrule.tensor import Tensor


def _padding_index(layer: str, padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` (negative counts from the end) as a row of the table, or None."""
    if padding_idx is None:
        return None
    _args.integer(layer, "padding_idx", padding_idx)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{layer}: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
        )
    return padding_idx % num_embeddings


class Embedding(Module):
    r"""A lookup table of learned vectors, as ``torch.nn.Embedding``.

    Row i of ``weight`` is the vector of index i (a word, a token, a category):

    $$
    y_{\dots} = W_{x_{\dots}, :}
    $$

    so the output is one-hot(x) · W without building the one-hot matrix. ``weight``
    (num_embeddings, embedding_dim) is initialised N(0, 1) as PyTorch; the ``padding_idx`` row starts
    at zero and never receives a gradient.

    Args:
        num_embeddings: the number of rows (the vocabulary size).
        embedding_dim: the size of each vector.
        padding_idx: an index whose row stays zero and gets no gradient (default None).
        max_norm: renormalise each looked-up row whose ``norm_type``-norm exceeds this, in place.
        norm_type: the p of the norm for ``max_norm`` (default 2).
        scale_grad_by_freq: divide each row's gradient by how often its index occurs in the batch.
        sparse: accepted for compatibility with PyTorch (gradients are always dense).
        device: where the parameter lives.
        dtype: the parameter's dtype (default float32).

    Shape:
        - Input: (*), integer indices in [0, num_embeddings).
        - Output: (*, embedding_dim).

    Example:
        >>> emb = cr.nn.Embedding(1000, 32, padding_idx=0)
        >>> emb(cr.tensor([[5, 7, 0]])).shape
        (1, 3, 32)
        >>> float(emb.weight[0].abs().sum())
        0.0
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        num_embeddings = _args.integer("Embedding", "num_embeddings", num_embeddings, 0)
        embedding_dim = _args.integer("Embedding", "embedding_dim", embedding_dim, 0)
        _args.number("Embedding", "max_norm", max_norm, above=0, optional=True)
        _args.number("Embedding", "norm_type", norm_type, above=0)
        padding_idx = _padding_index("Embedding", padding_idx, num_embeddings)
        if scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: scale_grad_by_freq and sparse gradients are not supported")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = new_parameter("Embedding", (num_embeddings, embedding_dim), device, dtype)
            self.weight.requires_grad = not _freeze
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Redraw the table from N(0, 1), the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D); frozen unless ``freeze=False``."""
        if not isinstance(embeddings, Tensor):
            raise TypeError(
                f"Embedding.from_pretrained: embeddings must be a 2-D Tensor, got {type(embeddings).__name__}"
            )
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}"
            )
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s


class EmbeddingBag(Module):
    r"""Sums, means or maxima of bags of embeddings without building the bags, as ``torch.nn.EmbeddingBag``.

    $$
    \text{out}_b = \operatorname{reduce}_{i \in \text{bag } b} \; w_i \cdot \text{weight}[\text{idx}_i]
    $$

    Parameter ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1) with the
    ``padding_idx`` row zero, as PyTorch.  ``forward(input, offsets=None, per_sample_weights=None)``:
    a 2-D input is B bags of equal length, a 1-D one is cut into bags at ``offsets``.

    Args:
        num_embeddings: the size of the table.
        embedding_dim: the size of each vector.
        max_norm: rescale, in place, looked-up rows of a larger norm to this norm.
        norm_type: the p of the p-norm of ``max_norm``.
        scale_grad_by_freq: not supported (raises).
        mode: ``'sum'``, ``'mean'`` (default) or ``'max'``.
        sparse: not supported (raises).
        include_last_offset: ``offsets`` has B + 1 entries, the last the end of the last bag.
        padding_idx: an index that does not contribute (nor count in a mean) and gets no gradient.

    Shape:
        - Input: (B, L) int, or (M,) int with offsets (B,) (B + 1 with ``include_last_offset``)
        - Output: (B, embedding_dim)

    Example:
        >>> bag = cr.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(cr.tensor([1, 2, 4, 5, 4, 3, 2, 9]), cr.tensor([0, 4])).shape
        (2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = "EmbeddingBag"
        num_embeddings = _args.integer(name, "num_embeddings", num_embeddings, 0)
        embedding_dim = _args.integer(name, "embedding_dim", embedding_dim, 0)
        _args.number(name, "max_norm", max_norm, above=0, optional=True)
        _args.number(name, "norm_type", norm_type, above=0)
        _args.choice(name, "mode", mode, ("sum", "mean", "max"))
        padding_idx = _padding_index(name, padding_idx, num_embeddings)
        if scale_grad_by_freq or sparse:
            raise NotImplementedError(f"{name}: scale_grad_by_freq and sparse gradients are not supported")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse = mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            self.weight = new_parameter(name, (num_embeddings, embedding_dim), device, dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"{name}: _weight has shape {tuple(_weight.shape)}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight)

    reset_parameters = Embedding.reset_parameters

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag holding ``embeddings`` (2-D); frozen unless ``freeze=False``."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError(
                "EmbeddingBag.from_pretrained: embeddings must be a 2-D Tensor, got "
                f"{getattr(embeddings, 'shape', type(embeddings).__name__)}"
            )
        rows, dim = embeddings.shape
        bag = cls(
            rows,
            dim,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
        )
        bag.weight.requires_grad = not freeze
        return bag

    def forward(
        self,
        input: Tensor,  # noqa: A002
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        s += f", mode='{self.mode}'"
        if self.include_last_offset:
            s += ", include_last_offset=True"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
