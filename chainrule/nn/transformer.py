"""Attention and Transformer layers with PyTorch's parameter names and layout.

``MultiheadAttention``, ``TransformerEncoderLayer``, ``TransformerEncoder``,
``TransformerDecoderLayer``, ``TransformerDecoder`` and ``Transformer`` hold the same parameters
under the same names and shapes as ``torch.nn`` (``self_attn.in_proj_weight`` (3E, E),
``self_attn.out_proj.weight``, ``linear1``, ``norm1``, ...), so a state dict moves between the two
unchanged. The math is in ``chainrule/ops/attention.py``.

Example::

    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64)
    encoder = nn.TransformerEncoder(layer, num_layers=2)
    x = cr.randn(10, 3, 32)                                   # (length, batch, d_model)
    mask = nn.Transformer.generate_square_subsequent_mask(10)  # causal: -inf above the diagonal
    encoder(x, mask=mask).shape                               # (10, 3, 32)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.nn import init
from chainrule.nn.containers import ModuleList
from chainrule.nn.dropout import Dropout
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module, Parameter, new_parameter
from chainrule.nn.normalization import LayerNorm
from chainrule.ops import _args
from chainrule.ops import attention as att
from chainrule.ops.activation import gelu, relu
from chainrule.tensor import Tensor


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` (PyTorch's name for the output projection of ``MultiheadAttention``)."""


class MultiheadAttention(Module):
    r"""Multi-head attention, as ``torch.nn.MultiheadAttention``.

    Each head h projects the inputs and attends with scaled dot products:

    $$
    \operatorname{head}_h = \operatorname{softmax}\left(\frac{(Q W^{Q}_h)(K W^{K}_h)^{\top}}{\sqrt{d_k}} +
    M\right) V W^{V}_h,
    \qquad
    \operatorname{MHA}(Q, K, V) = \left[\operatorname{head}_1, \dots, \operatorname{head}_H\right] W^{O}
    $$

    with d_k = E / H and M the attention mask (−∞ where a bool mask is True, added as is when it
    is a float mask). Parameters in PyTorch's layout: ``in_proj_weight`` (3E, E) stacking
    W_q, W_k, W_v (or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim``
    differ from E), ``in_proj_bias`` (3E,), ``out_proj`` a Linear(E, E); Xavier-uniform
    projections and zero biases.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``: the weights are
    averaged over the heads (per head with ``average_attn_weights=False``), None unless
    ``need_weights``.

    Args:
        embed_dim: the model's width E.
        num_heads: the number of heads H (dividing E).
        dropout: dropout on the attention weights while training (default 0).
        bias: learn the projection biases (default True).
        add_bias_kv: add learned bias rows to the keys and values (default False).
        add_zero_attn: add a row of zeros to the keys and values (default False).
        kdim: the features of the keys (default E).
        vdim: the features of the values (default E).
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E) (default False).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Shape:
        - Input: query (L, N, E), key (S, N, kdim), value (S, N, vdim); (N, L, E) etc. with
          ``batch_first``; or unbatched (L, E), (S, kdim), (S, vdim).
        - Masks: ``key_padding_mask`` (N, S), ``attn_mask`` (L, S) or (N·H, L, S).
        - Output: (L, N, E) like the query, and weights (N, L, S) (or (N, H, L, S)).

    Example:
        >>> mha = cr.nn.MultiheadAttention(16, num_heads=4, batch_first=True)
        >>> x = cr.randn(2, 5, 16)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((2, 5, 16), (2, 5, 5))
        >>> [round(s, 4) for s in w.sum(dim=-1)[0].tolist()]
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        if (
            not isinstance(embed_dim, int)
            or embed_dim <= 0
            or not isinstance(num_heads, int)
            or num_heads <= 0
        ):
            raise ValueError(
                f"MultiheadAttention: embed_dim and num_heads must be positive ints, "
                f"got {embed_dim!r}, {num_heads!r}"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = (
            embed_dim,
            num_heads,
            float(dropout),
            batch_first,
        )
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads

        def empty(*shape):
            return new_parameter("MultiheadAttention", shape, device, dtype)

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k, self.bias_v = empty(1, 1, embed_dim), empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, device=device, dtype=dtype
        )
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        op = "MultiheadAttention"
        for name, t, last in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            _args.tensor(op, name, t, floating=True)
            if t.ndim not in (2, 3) or t.shape[-1] != last:
                raise RuntimeError(
                    f"{op}: {name} must be (L, N, {last}) ((N, L, {last}) with batch_first) or unbatched "
                    f"(L, {last}), got shape {tuple(t.shape)}"
                )
        if not query.ndim == key.ndim == value.ndim:
            raise RuntimeError(f"{op}: query, key and value must all be batched (3-D) or all unbatched (2-D)")
        if is_causal and attn_mask is None:
            raise RuntimeError(
                f"{op}: is_causal is a hint that attn_mask is causal; an attn_mask is needed too"
            )
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if (
            key.shape[0] != value.shape[0]
            or key.shape[1] != query.shape[1]
            or value.shape[1] != query.shape[1]
        ):
            raise RuntimeError(
                f"{op}: key and value must have the same length and all three the same batch size, "
                f"got shapes "
                f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)} (sequence first)"
            )
        out, weights = att.multi_head_attention_forward(
            query,
            key,
            value,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.out_proj.weight,
            self.out_proj.bias,
            dropout_p=self.dropout,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            average_attn_weights=average_attn_weights,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            bias_k=self.bias_k,
            bias_v=self.bias_v,
            add_zero_attn=self.add_zero_attn,
        )
        if unbatched:
            return out.squeeze(1), (weights.squeeze(0) if weights is not None else None)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


def _activation(name: str | Callable) -> Callable:
    if callable(name):
        return name
    if name == "relu":
        return relu
    if name == "gelu":
        return gelu
    raise RuntimeError(f"Transformer: activation should be 'relu', 'gelu' or a callable, not {name!r}")


def _clones(module: Module, n: int) -> ModuleList:
    """``n`` independent copies of ``module`` with the same starting values (as PyTorch's deepcopy)."""
    copies = []
    for _ in range(n):
        memo: dict = {}
        for t in list(module.parameters()) + list(module.buffers()):
            fresh = (
                Parameter(t._data.copy(), requires_grad=t.requires_grad)
                if isinstance(t, Parameter)
                else t.clone()
            )
            memo[id(t)] = fresh
        copies.append(copy.deepcopy(module, memo))
    return ModuleList(copies)


class TransformerEncoderLayer(Module):
    r"""Self-attention then a feed-forward block, each with a residual and LayerNorm, as ``torch.nn``.

    Post-norm (the default):

    $$
    \begin{aligned}
    x &\leftarrow \operatorname{LayerNorm}_1\left(x + \operatorname{SA}(x)\right) \\
    x &\leftarrow \operatorname{LayerNorm}_2\left(x + \operatorname{FF}(x)\right), \qquad
    \operatorname{FF}(x) = W_2\, \operatorname{dropout}\left(\operatorname{act}(W_1 x + b_1)\right) + b_2
    \end{aligned}
    $$

    With ``norm_first`` each norm moves inside its branch: x ← x + SA(LayerNorm₁(x)), then
    x ← x + FF(LayerNorm₂(x)). Submodules: ``self_attn`` (MultiheadAttention), ``linear1``,
    ``linear2``, ``norm1``, ``norm2``. ``forward(src, src_mask=None, src_key_padding_mask=None,
    is_causal=False)``.

    Args:
        d_model: the model's width E.
        nhead: the number of attention heads.
        dim_feedforward: the hidden width of the feed-forward block (default 2048).
        dropout: dropout after attention, inside and after the feed-forward block (default 0.1).
        activation: ``'relu'`` (default), ``'gelu'`` or a callable.
        layer_norm_eps: ε of the LayerNorms (default 1e-5).
        batch_first: (N, S, E) instead of (S, N, E) (default False).
        norm_first: pre-norm instead of post-norm (default False).
        bias: learn the biases of the linear layers and norms (default True).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Shape:
        - Input: src (S, N, E), or (N, S, E) with ``batch_first``; ``src_mask`` (S, S);
          ``src_key_padding_mask`` (N, S).
        - Output: the shape of the input.

    Example:
        >>> layer = cr.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)
        >>> layer(cr.randn(10, 2, 32)).shape
        (10, 2, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None) -> Tensor:
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    r"""Self-attention, attention over the encoder's output (``memory``), then feed-forward, as ``torch.nn``.

    Post-norm (the default):

    $$
    \begin{aligned}
    x &\leftarrow \operatorname{LayerNorm}_1\left(x + \operatorname{SA}(x)\right) \\
    x &\leftarrow \operatorname{LayerNorm}_2\left(x + \operatorname{MHA}(x, m, m)\right) \\
    x &\leftarrow \operatorname{LayerNorm}_3\left(x + \operatorname{FF}(x)\right)
    \end{aligned}
    $$

    with m the memory; ``norm_first`` puts each norm inside its residual branch instead.
    Submodules: ``self_attn``, ``multihead_attn``, ``linear1``, ``linear2``, ``norm1``-``norm3``.
    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.

    Args:
        d_model: the model's width E.
        nhead: the number of attention heads.
        dim_feedforward: the hidden width of the feed-forward block (default 2048).
        dropout: dropout after each attention and in the feed-forward block (default 0.1).
        activation: ``'relu'`` (default), ``'gelu'`` or a callable.
        layer_norm_eps: ε of the LayerNorms (default 1e-5).
        batch_first: (N, T, E) instead of (T, N, E) (default False).
        norm_first: pre-norm instead of post-norm (default False).
        bias: learn the biases of the linear layers and norms (default True).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Shape:
        - Input: tgt (T, N, E) and memory (S, N, E) (batch first with ``batch_first``);
          ``tgt_mask`` (T, T), ``memory_mask`` (T, S).
        - Output: (T, N, E), the shape of tgt.

    Example:
        >>> layer = cr.nn.TransformerDecoderLayer(32, 4, dim_feedforward=64)
        >>> layer(cr.randn(7, 2, 32), cr.randn(10, 2, 32)).shape
        (7, 2, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask):
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask):
        x = self.multihead_attn(
            x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    r"""A stack of ``num_layers`` encoder layers, then ``norm`` if given, as ``torch.nn.TransformerEncoder``.

    $$
    x_{\ell} = \operatorname{layer}_{\ell}(x_{\ell - 1}), \quad \ell = 1, \dots, L, \qquad
    y = \operatorname{norm}(x_L)
    $$

    The layers are copies of ``encoder_layer`` (the same starting weights, as PyTorch);
    parameters under ``layers.0.``, ``layers.1.``, ... and ``norm.``.
    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.

    Args:
        encoder_layer: the layer to copy.
        num_layers: the number of copies L.
        norm: a final normalisation (e.g. a LayerNorm), or None.
        enable_nested_tensor: accepted for compatibility with PyTorch.
        mask_check: accepted for compatibility with PyTorch.

    Shape:
        - Input: src (S, N, E), or (N, S, E) with a ``batch_first`` layer.
        - Output: the shape of the input.

    Example:
        >>> layer = cr.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)
        >>> enc = cr.nn.TransformerEncoder(layer, num_layers=2)
        >>> enc(cr.randn(10, 2, 32)).shape
        (10, 2, 32)
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}"
            )
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be a positive int, got {num_layers!r}")
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    r"""A stack of ``num_layers`` decoder layers, then ``norm`` if given, as ``torch.nn.TransformerDecoder``.

    $$
    x_{\ell} = \operatorname{layer}_{\ell}(x_{\ell - 1}, m), \quad \ell = 1, \dots, L, \qquad
    y = \operatorname{norm}(x_L)
    $$

    with m the encoder's output (``memory``); the layers are copies of ``decoder_layer``.

    Args:
        decoder_layer: the layer to copy.
        num_layers: the number of copies L.
        norm: a final normalisation, or None.

    Shape:
        - Input: tgt (T, N, E) and memory (S, N, E) (batch first with a ``batch_first`` layer).
        - Output: (T, N, E), the shape of tgt.

    Example:
        >>> layer = cr.nn.TransformerDecoderLayer(32, 4, dim_feedforward=64)
        >>> dec = cr.nn.TransformerDecoder(layer, num_layers=2)
        >>> dec(cr.randn(7, 2, 32), cr.randn(10, 2, 32)).shape
        (7, 2, 32)
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(
                f"TransformerDecoder: decoder_layer must be a Module, got {type(decoder_layer).__name__}"
            )
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerDecoder: num_layers must be a positive int, got {num_layers!r}")
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
            )
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    r"""The encoder-decoder Transformer (Vaswani et al., 2017), as ``torch.nn.Transformer``.

    $$
    m = \operatorname{Encoder}(\text{src}), \qquad y = \operatorname{Decoder}(\text{tgt}, m)
    $$

    ``encoder`` is a TransformerEncoder of ``num_encoder_layers`` layers with a final LayerNorm,
    ``decoder`` a TransformerDecoder likewise; every parameter of 2 or more dims is re-drawn
    Xavier-uniform. ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None)``;
    ``generate_square_subsequent_mask(T)`` gives the causal mask of a decoder.

    Args:
        d_model: the model's width E (default 512).
        nhead: the number of attention heads (default 8).
        num_encoder_layers: encoder layers (default 6).
        num_decoder_layers: decoder layers (default 6).
        dim_feedforward: the hidden width of the feed-forward blocks (default 2048).
        dropout: dropout (default 0.1).
        activation: ``'relu'`` (default), ``'gelu'`` or a callable.
        custom_encoder: an encoder to use instead.
        custom_decoder: a decoder to use instead.
        layer_norm_eps: ε of the LayerNorms (default 1e-5).
        batch_first: (N, S, E) instead of (S, N, E) (default False).
        norm_first: pre-norm layers (default False).
        bias: learn the biases (default True).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Shape:
        - Input: src (S, N, E) and tgt (T, N, E) (batch first with ``batch_first``);
          ``tgt_mask`` (T, T).
        - Output: (T, N, E).

    Example:
        >>> model = cr.nn.Transformer(32, 4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64)
        >>> tgt_mask = cr.nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(cr.randn(10, 2, 32), cr.randn(7, 2, 32), tgt_mask=tgt_mask).shape
        (7, 2, 32)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        common = (
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*common, **kw)
            self.encoder = TransformerEncoder(
                layer, num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*common, **kw)
            self.decoder = TransformerDecoder(
                layer, num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            )
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError(
                f"Transformer: the batch size of src and tgt must be equal, "
                f"got {tuple(src.shape)} and {tuple(tgt.shape)}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"Transformer: the feature size of src and tgt must be d_model={self.d_model}, got "
                f"{tuple(src.shape)} and {tuple(tgt.shape)}"
            )
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """A (sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees 0..i)."""
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        arr = np.triu(np.full((sz, sz), -np.inf, dt), 1)
        return Tensor._make(backend.to_device(arr, backend.normalize_device(device)))
