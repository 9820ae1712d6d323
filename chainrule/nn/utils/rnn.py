"""``cr.nn.utils.rnn``: batches of sequences of different lengths, as ``torch.nn.utils.rnn``.

A batch of variable-length sequences is either *padded*, one (T, B, *) tensor (``(B, T, *)``
with ``batch_first``) whose short sequences are filled up with ``padding_value``, or *packed*,
a ``PackedSequence``: the real steps only, time step by time step, the sequences sorted by
decreasing length so that the ``batch_sizes[t]`` sequences still running at step t come first::

    sequences  a = [a0 a1 a2], b = [b0], c = [c0 c1]
    packed     data = [a0 c0 b0 | a1 c1 | a2], batch_sizes = [3, 2, 1],
               sorted_indices = [0, 2, 1] (a, c, b), unsorted_indices = [0, 2, 1]

Every recurrent layer (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) takes a ``PackedSequence`` and
returns one, with each sequence's final state taken at its own last step::

    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed)                      # h_n[-1]: each sequence's last real step
    y, lengths = pad_packed_sequence(out, batch_first=True)

Everything here is differentiable: gradients flow from the packed data back to the padded input
(and from padded outputs to the packed data); padding positions get no gradient.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.ops.shape import cat
from chainrule.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_PackedSequenceBase = namedtuple(
    "_PackedSequenceBase", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


def _int_array(name: str, what: str, value: Any) -> np.ndarray:
    """``value`` (a Tensor, array or sequence of ints) as a 1-D int64 NumPy array, or a clear error."""
    arr = backend.to_device(value._data, "cpu") if isinstance(value, Tensor) else np.asarray(value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(
            f"{name}: {what} must be a 1-D sequence of integers, got {arr.dtype} of shape {arr.shape}"
        )
    return arr.astype(np.int64)


def _index(arr: np.ndarray, like: Tensor) -> Tensor:
    """An int64 index array as a Tensor on ``like``'s device."""
    return Tensor._make(backend.to_device(np.ascontiguousarray(arr, dtype=np.int64), like.device))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (``None`` stays ``None``), as PyTorch's helper.

    Example:
        >>> cr.nn.utils.rnn.invert_permutation(cr.tensor([2, 0, 1]))
        tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    perm = _int_array("invert_permutation", "permutation", permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return Tensor._make(inverse)


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences, packed time step by time step, as PyTorch's.

    Fields (a named tuple, as ``torch.nn.utils.rnn.PackedSequence``):

    - ``data`` (sum of lengths, *): the steps of all sequences, step 0 of every sequence
      first, then step 1 of those at least 2 long, ...; within a step, longest sequence first;
    - ``batch_sizes`` (max length,) int64: how many sequences have a step t;
    - ``sorted_indices`` (B,) int64 or None: the batch index of the sequence in each sorted
      position (None: the batch was already sorted by decreasing length);
    - ``unsorted_indices``: its inverse permutation.

    Build one with ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand.

    Example:
        >>> a, b = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])
        >>> packed = cr.nn.utils.rnn.pack_sequence([a, b])
        >>> packed.data, packed.batch_sizes
        (tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if not isinstance(data, Tensor):
            raise TypeError(f"PackedSequence: data must be a Tensor, got {type(data).__name__}")
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required; build one with pack_padded_sequence")
        sizes = _int_array("PackedSequence", "batch_sizes", batch_sizes)
        if sizes.size == 0 or int(sizes.min()) < 1 or bool(np.any(np.diff(sizes) > 0)):
            raise ValueError(
                f"PackedSequence: batch_sizes must be positive and non-increasing, got {sizes.tolist()}"
            )
        if data.ndim < 1 or data.shape[0] != int(sizes.sum()):
            raise ValueError(
                f"PackedSequence: data has {data.shape[0] if data.ndim else 0} rows but batch_sizes "
                f"sum to {int(sizes.sum())}"
            )
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, Tensor._make(sizes), sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> PackedSequence:
        return self if data is self.data else type(self)(data, *self[1:])

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with ``data`` moved/cast as ``Tensor.to`` does (``batch_sizes`` stays)."""
        return self._with_data(self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        """The sequence with ``data`` on the CPU."""
        return self._with_data(self.data.cpu())

    def double(self) -> PackedSequence:
        """The sequence with ``data`` as float64."""
        return self._with_data(self.data.double())

    def float(self) -> PackedSequence:
        """The sequence with ``data`` as float32."""
        return self._with_data(self.data.float())

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a GPU."""
        return self.data.device != "cpu"


def _pack_rows(lengths: np.ndarray, order: np.ndarray, T: int, B: int, batch_first: bool) -> np.ndarray:
    """For each row of the packed data, its row in the padded input seen as (T·B, *) or (B·T, *).

    Step t of the sequence in sorted position j is ``order[j]`` of the batch.
    """
    sizes = (lengths[None, :] > np.arange(int(lengths[0]))[:, None]).sum(1)
    t = np.repeat(np.arange(sizes.size), sizes)
    j = np.concatenate([np.arange(s) for s in sizes])
    b = order[j]
    return (b * T + t) if batch_first else (t * B + b)


def pack_padded_sequence(
    input: Tensor,  # noqa: A002 - PyTorch's argument name
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch of sequences (drop the padding), as ``torch.nn.utils.rnn.pack_padded_sequence``.

    Args:
        input: (T, B, *) padded sequences, or (B, T, *) with ``batch_first``.
        lengths: the length of each sequence (a list or 1-D int tensor), each in 1..T.
        batch_first: the input is (B, T, *).
        enforce_sorted: the lengths must be in decreasing order (``False``: any order; they are
            sorted here and the permutation is kept in the result).

    Returns:
        a ``PackedSequence``.

    Raises:
        ValueError: lengths not positive, longer than T, or unsorted with ``enforce_sorted``.

    Example:
        >>> x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])   # (B=2, T=3), lengths 3 and 1
        >>> cr.nn.utils.rnn.pack_padded_sequence(x, [3, 1], batch_first=True).data
        tensor([1., 4., 2., 3.])
    """
    name = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dims (T, B, *), got shape {tuple(input.shape)}")
    lens = _int_array(name, "lengths", lengths)
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lens.size != B:
        raise ValueError(
            f"{name}: got {lens.size} lengths for a batch of {B} sequences (input {tuple(input.shape)})"
        )
    if B == 0:
        raise ValueError(f"{name}: expected a non-empty batch, got input shape {tuple(input.shape)}")
    if int(lens.min()) <= 0:
        raise ValueError(f"{name}: the length of every sequence must be > 0, got lengths {lens.tolist()}")
    if int(lens.max()) > T:
        raise ValueError(f"{name}: a length ({int(lens.max())}) exceeds the {T} steps of the input")
    if enforce_sorted:
        if bool(np.any(np.diff(lens) > 0)):
            raise RuntimeError(
                f"{name}: `lengths` must be sorted in decreasing order when enforce_sorted=True, got "
                f"{lens.tolist()}; pass enforce_sorted=False to sort them here"
            )
        order, sorted_indices = np.arange(B), None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = Tensor._make(order.astype(np.int64))
    rows = _pack_rows(lens[order], order, T, B, batch_first)
    flat = input.reshape((T * B, *input.shape[2:]))
    data = flat[_index(rows, input)]
    sizes = (lens[None, :] > np.arange(int(lens.max()))[:, None]).sum(1)
    return PackedSequence(data, Tensor._make(sizes.astype(np.int64)), sorted_indices, None)


def _gather_padded(rows: Tensor, index: np.ndarray, padding_value: float) -> Tensor:
    """``rows`` (N, *) with one extra row of ``padding_value`` at index N, gathered by ``index``."""
    pad = backend.to_device(np.full((1, *rows.shape[1:]), padding_value, rows.dtype), rows.device)
    return cat([rows, Tensor._make(pad)], 0)[_index(index, rows)]


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Unpack a ``PackedSequence`` into a padded batch, as ``torch.nn.utils.rnn.pad_packed_sequence``.

    The inverse of ``pack_padded_sequence``: sequences come back in their original batch order.

    Args:
        sequence: the packed batch.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padding positions (default 0).
        total_length: pad to this many steps (at least the longest length; default: the longest).

    Returns:
        (padded, lengths): the padded batch and the int64 length of each sequence.

    Example:
        >>> packed = cr.nn.utils.rnn.pack_sequence([cr.tensor([1.0, 2.0]), cr.tensor([3.0])])
        >>> cr.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
        (tensor([[ 1.,  2.],
                [ 3., -1.]]), tensor([2, 1]))
    """
    name = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{name}: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = _int_array(name, "batch_sizes", sequence.batch_sizes)
    T, B = sizes.size, int(sizes[0])
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                f"{name}: total_length={total_length} is less than the longest sequence ({T} steps); "
                "expected total_length to be at least that"
            )
        T_out = int(total_length)
    else:
        T_out = T
    lens_sorted = (sizes[None, :] > np.arange(B)[:, None]).sum(1)  # length in each sorted position
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    unsorted = (
        np.arange(B)
        if sequence.unsorted_indices is None
        else _int_array(name, "unsorted_indices", sequence.unsorted_indices)
    )
    t = np.arange(T_out)[:, None]
    j = unsorted[None, :]  # (1, B): the sorted position of each original batch entry
    real = t < lens_sorted[j]
    index = np.where(real, offsets[np.minimum(t, T - 1)] + j, sequence.data.shape[0])  # (T_out, B)
    if batch_first:
        index = index.T
    padded = _gather_padded(sequence.data, index.reshape(-1), padding_value)
    shape = (B, T_out) if batch_first else (T_out, B)
    return padded.reshape((*shape, *sequence.data.shape[1:])), Tensor._make(
        lens_sorted[unsorted].astype(np.int64)
    )


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of different lengths into one padded tensor, as ``torch.nn.utils.rnn.pad_sequence``.

    Args:
        sequences: tensors (L_i, *) with the same trailing dims.
        batch_first: return (B, T, *) instead of (T, B, *), T the longest length.
        padding_value: the value of the padding positions (default 0).
        padding_side: ``'right'`` (pad after each sequence, default) or ``'left'``.

    Returns:
        the padded batch.

    Example:
        >>> seqs = [cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])]
        >>> cr.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_side="left")
        tensor([[1., 2., 3.],
                [0., 0., 4.]])
    """
    name = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{name}: invalid padding_side={padding_side!r}; expected 'left' or 'right'")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    seqs = list(sequences)
    if not seqs:
        raise ValueError(f"{name}: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"{name}: sequences[{i}] is a {type(s).__name__}, expected a Tensor")
        if s.ndim < 1 or s.shape[1:] != seqs[0].shape[1:] or s.dtype != seqs[0].dtype:
            raise ValueError(
                f"{name}: sequences[{i}] has shape {tuple(s.shape)} and dtype {s.dtype}, but sequences[0] "
                f"has {tuple(seqs[0].shape)} and {seqs[0].dtype}; the trailing dims and dtypes must match"
            )
    lens = np.array([s.shape[0] for s in seqs], np.int64)
    T, B = int(lens.max()), len(seqs)
    offsets = np.concatenate([[0], np.cumsum(lens)])[:-1]
    t = np.arange(T)[:, None]
    shift = (T - lens)[None, :] if padding_side == "left" else 0
    real = (t >= shift) & (t < shift + lens[None, :])
    index = np.where(real, offsets[None, :] + t - shift, int(lens.sum()))  # (T, B)
    if batch_first:
        index = index.T
    padded = _gather_padded(cat(seqs, 0), index.reshape(-1), padding_value)
    shape = (B, T) if batch_first else (T, B)
    return padded.reshape((*shape, *seqs[0].shape[1:]))


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences, as ``torch.nn.utils.rnn.unpad_sequence``.

    Example:
        >>> x = cr.tensor([[1.0, 2.0], [3.0, 0.0]])
        >>> cr.nn.utils.rnn.unpad_sequence(x, [2, 1], batch_first=True)
        [tensor([1., 2.]), tensor([3.])]
    """
    lens = _int_array("unpad_sequence", "lengths", lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if lens.size != x.shape[0]:
        raise ValueError(f"unpad_sequence: got {lens.size} lengths for a batch of {x.shape[0]} sequences")
    return [x[b, : int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *), as ``torch.nn.utils.rnn.pack_sequence``.

    Equivalent to ``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``.

    Example:
        >>> seqs = [cr.tensor([1.0]), cr.tensor([2.0, 3.0])]
        >>> packed = cr.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
        >>> packed.data, packed.sorted_indices
        (tensor([2., 1., 3.]), tensor([1, 0]))
    """
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a ``PackedSequence``, in batch order, as ``torch.nn.utils.rnn.unpack_sequence``.

    Example:
        >>> packed = cr.nn.utils.rnn.pack_sequence([cr.tensor([1.0, 2.0]), cr.tensor([3.0])])
        >>> cr.nn.utils.rnn.unpack_sequence(packed)
        [tensor([1., 2.]), tensor([3.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
