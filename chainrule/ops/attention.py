"""Attention: ``scaled_dot_product_attention`` and the forward of ``nn.MultiheadAttention``.

Both are compositions of differentiable ops (batched matmul, softmax, dropout), so their
gradients come from those ops' backwards: reading the forward is reading the whole story.

    scores  = Q Kᵀ · scale + bias          (bias: 0 where allowed, -inf where masked)
    weights = softmax(scores, dim=-1)      (each query's distribution over the keys)
    out     = dropout(weights) V
"""

from __future__ import annotations

import math

from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops.activation import softmax
from chainrule.ops.dropout import dropout
from chainrule.ops.linalg import linear, matmul
from chainrule.ops.shape import cat
from chainrule.tensor import Tensor


def _bias_from_mask(op: str, mask: Tensor, dtype, allowed_if_true: bool) -> Tensor:
    """An additive mask: a float mask is used as is; a bool mask becomes 0 (attend) / -inf (masked)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: a mask must be a Tensor, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        xp = xp_of(mask._data)
        attend = mask._data if allowed_if_true else ~mask._data
        return Tensor._make(xp.where(attend, dtype.type(0), dtype.type(-np.inf)).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: a mask must be bool or floating point, got dtype {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    dims broadcast. ``scale`` defaults to 1/√E. ``attn_mask`` broadcasts to (..., L, S): a bool
    mask says which keys each query may attend to (True = attend), a float mask is added to the
    scores. ``is_causal`` lets query i see keys 0..i only (no ``attn_mask`` then). ``dropout_p``
    drops attention weights (always, as PyTorch: pass 0.0 in evaluation).

    Example:
        >>> q = k = v = cr.randn(2, 4, 5, 8)            # (batch, heads, length, dim)
        >>> cr.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 5, 8)
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        _args.tensor(op, name, t, floating=True)
        if t.ndim < 2:
            raise RuntimeError(f"{op}: {name} needs at least 2 dims (..., length, dim), got {tuple(t.shape)}")
    if enable_gqa:
        raise NotImplementedError(f"{op}: enable_gqa (grouped-query attention) is not implemented")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"{op}: query and key must have the same last dim, "
            f"got {tuple(query.shape)} and {tuple(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{op}: key and value must have the same length (dim -2), "
            f"got {tuple(key.shape)} and {tuple(value.shape)}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: pass either attn_mask or is_causal=True, not both")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        xp = xp_of(query._data)
        attend = xp.tril(xp.ones((L, S), dtype=bool))
        attn_mask = Tensor._make(attend)
    if attn_mask is not None:
        bias = _bias_from_mask(op, attn_mask, query.dtype, allowed_if_true=True)
        try:
            np.broadcast_shapes(tuple(bias.shape), tuple(scores.shape))
        except ValueError:
            raise RuntimeError(
                f"{op}: attn_mask of shape {tuple(bias.shape)} does not broadcast to the scores' shape "
                f"{tuple(scores.shape)} (..., L, S)"
            ) from None
        scores = scores + bias
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


def _merge_masks(op, attn_mask, key_padding_mask, batch, heads, L, S, dtype):
    """Merge the attention masks into one additive mask.

    One additive (batch·heads, L, S) mask from MultiheadAttention's attn_mask (True = masked) and
    key_padding_mask (batch, S) (True = padding), as PyTorch converts and adds them.
    """
    bias = None
    if attn_mask is not None:
        bias = _bias_from_mask(op, attn_mask, dtype, allowed_if_true=False)
        if bias.ndim == 2:
            if tuple(bias.shape) != (L, S):
                raise RuntimeError(
                    f"{op}: the 2-D attn_mask should have shape {(L, S)}, got {tuple(bias.shape)}"
                )
            bias = bias.unsqueeze(0)
        elif bias.ndim == 3:
            if tuple(bias.shape) != (batch * heads, L, S):
                raise RuntimeError(
                    f"{op}: the 3-D attn_mask should have shape {(batch * heads, L, S)}, "
                    f"got {tuple(bias.shape)}"
                )
        else:
            raise RuntimeError(f"{op}: attn_mask must be 2-D or 3-D, got shape {tuple(bias.shape)}")
    if key_padding_mask is not None:
        pad = _bias_from_mask(op, key_padding_mask, dtype, allowed_if_true=False)
        if tuple(pad.shape) != (batch, S):
            raise RuntimeError(
                f"{op}: expected key_padding_mask of shape {(batch, S)}, got {tuple(pad.shape)}"
            )
        pad = pad.reshape(batch, 1, 1, S).expand(batch, heads, 1, S).reshape(batch * heads, 1, S)
        bias = pad if bias is None else bias + pad
    return bias


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    dropout_p: float = 0.0,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    average_attn_weights: bool = True,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    bias_k: Tensor | None = None,
    bias_v: Tensor | None = None,
    add_zero_attn: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, N, E) query and (S, N, E) key/value (sequence first), as PyTorch.

    Q, K, V are projected (by ``in_proj_weight`` split in three, or the separate ``*_proj_weight``),
    split into ``num_heads`` heads of E/heads dims, attended (scale 1/√(E/heads)), joined and
    projected by ``out_proj``. Masks: ``attn_mask`` (L, S) or (N·heads, L, S), ``key_padding_mask``
    (N, S); bool True means "do not attend", a float mask is added to the scores.
    ``bias_k``/``bias_v`` (1, 1, E) append one learned key and value to every sequence, and
    ``add_zero_attn`` one of zeros (per head), both always attended, as PyTorch.
    Returns (output (L, N, E), weights (N, L, S') averaged over heads — or (N, heads, L, S') —
    when ``need_weights``, else None), S' counting the appended keys.
    """
    op = "multi_head_attention_forward"
    L, N, E = query.shape
    S = key.shape[0]
    hd = E // num_heads
    if in_proj_weight is not None:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q = linear(query, w_q, b_q)
    k = linear(key, w_k, b_k)
    v = linear(value, w_v, b_v)
    extra = 0  # keys appended to every sequence (always attended: the masks get zero columns)
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}: bias_k and bias_v must be given together")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)], 0)
        v = cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)], 0)
        extra += 1
    # (len, N, E) -> (N·heads, len, hd): each head of each sample attends on its own
    q = q.reshape(L, N * num_heads, hd).transpose(0, 1)
    k = k.reshape(S + extra, N * num_heads, hd).transpose(0, 1)
    v = v.reshape(S + extra, N * num_heads, hd).transpose(0, 1)
    if add_zero_attn:
        zeros = Tensor._make(xp_of(k._data).zeros((N * num_heads, 1, hd), k.dtype))
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        extra += 1
    bias = _merge_masks(op, attn_mask, key_padding_mask, N, num_heads, L, S, query.dtype)
    if bias is not None and extra:
        pad = Tensor._make(xp_of(bias._data).zeros((*bias.shape[:-1], extra), bias.dtype))
        bias = cat([bias, pad], -1)
    S = S + extra
    scores = matmul(q * (1.0 / math.sqrt(hd)), k.transpose(1, 2))
    if bias is not None:
        scores = scores + bias
    weights = softmax(scores, dim=-1)
    if training and dropout_p > 0.0:
        attended = matmul(dropout(weights, dropout_p, training=True), v)
    else:
        attended = matmul(weights, v)
    out = attended.transpose(0, 1).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, num_heads, L, S)
    return out, (weights.mean(dim=1) if average_attn_weights else weights)
