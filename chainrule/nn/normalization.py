"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``, as ``torch.nn``.

Batch norm normalises each channel with the statistics of the current batch while
training and keeps exponential running averages (buffers ``running_mean``,
``running_var``, ``num_batches_tracked``) that replace them in ``eval()`` mode.
Layer norm normalises each sample over its last dims, the same in training and eval.

Example::

    model = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 2))
    model.train(); model(x)     # batch statistics, running averages updated
    model.eval(); model(x)      # running statistics
"""

from __future__ import annotations

import warnings

from chainrule import backend
from chainrule.backend import np
from chainrule.nn import init
from chainrule.nn.module import Module, new_array, new_parameter
from chainrule.ops import _args
from chainrule.ops.normalization import batch_norm, instance_norm, layer_norm, local_response_norm
from chainrule.tensor import Tensor


class _BatchNorm(Module):
    """Shared code of the batch normalisation layers.

    Shared code of BatchNorm1d/2d: parameters ``weight`` (γ, ones) and ``bias`` (β, zeros) of
    shape (num_features,) when ``affine``; running statistics when ``track_running_stats``.

    ``momentum=None`` gives a cumulative moving average (factor 1 / num_batches_tracked).
    """

    _dims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        num_features = _args.integer(name, "num_features", num_features, 1)
        _args.number(name, "eps", eps, above=0)  # eps <= 0 divides by zero on a constant channel
        _args.number(name, "momentum", momentum, minimum=0, maximum=1, optional=True)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self.bias_enabled = affine, track_running_stats, bias
        if affine:
            self.weight = new_parameter(type(self).__name__, (num_features,), device, dtype, 1.0)
            if bias:
                self.bias = new_parameter(type(self).__name__, (num_features,), device, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer(
                "running_mean", Tensor._make(new_array(type(self).__name__, (num_features,), device, dtype))
            )
            self.register_buffer(
                "running_var",
                Tensor._make(new_array(type(self).__name__, (num_features,), device, dtype, 1.0)),
            )
            counter = backend.to_device(np.zeros((), np.int64), backend.normalize_device(device))
            self.register_buffer("num_batches_tracked", Tensor._make(counter))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, x: Tensor) -> None:
        name = type(self).__name__
        if x.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {dims} input, got {x.ndim}D input of shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in dim 1, got input of shape {tuple(x.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            if input.numel() // self.num_features > 1:  # (an invalid batch raises below, counting nothing)
                self.num_batches_tracked._data[...] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item() or 1)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias_enabled}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation over (N, C) or (N, C, L) inputs (Ioffe & Szegedy, 2015).

    $$
    y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta
    $$

    In ``train()`` mode the mean and the (biased) variance are those of the batch, per channel
    (over N, and L for 3-D inputs), and the running averages are updated with the unbiased variance:

    $$
    \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_{\mathcal B}, \qquad
    \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{n}{n - 1}\,\sigma^2_{\mathcal B}
    $$

    (m = ``momentum``; ``momentum=None`` gives the cumulative average, m = 1/num_batches_tracked).
    In ``eval()`` mode the running statistics μ̂, σ̂² replace the batch ones.

    Args:
        num_features: the number of channels C.
        eps: ε added to the variance, > 0 (default 1e-5).
        momentum: m, the weight of the new batch in the running averages (default 0.1), or None.
        affine: learn γ (``weight``, ones) and β (``bias``, zeros) of shape (C,) (default True).
        track_running_stats: keep the buffers ``running_mean``, ``running_var`` and
            ``num_batches_tracked``; without them, batch statistics are used in eval mode too.
        device: where the parameters and buffers live.
        dtype: their dtype (default float32).
        bias: learn β (default True; False keeps only γ).

    Shape:
        - Input: (N, C) or (N, C, L).
        - Output: the shape of the input.

    Example:
        >>> bn = cr.nn.BatchNorm1d(3)
        >>> y = bn(cr.randn(16, 3) * 5 + 2)
        >>> [round(abs(v), 4) for v in y.mean(dim=0).tolist()]
        [0.0, 0.0, 0.0]
        >>> [round(v, 3) for v in y.std(dim=0, correction=0).tolist()]
        [1.0, 1.0, 1.0]
        >>> bn.running_mean.shape, int(bn.num_batches_tracked)
        ((3,), 1)
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    r"""Batch normalisation of images, per channel over the batch and the positions (Ioffe & Szegedy, 2015).

    $$
    y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta
    $$

    In ``train()`` mode the mean and the (biased) variance are those of the batch, per channel
    over N, H and W, and the running averages are updated with the unbiased variance:

    $$
    \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_{\mathcal B}, \qquad
    \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{n}{n - 1}\,\sigma^2_{\mathcal B}
    $$

    (m = ``momentum``; ``momentum=None`` gives the cumulative average, m = 1/num_batches_tracked).
    In ``eval()`` mode the running statistics μ̂, σ̂² replace the batch ones.

    Each channel is standardised with one mean and one variance, so the normalisation respects the
    weight sharing of the convolution before it.

    Args:
        num_features: the number of channels C.
        eps: ε added to the variance, > 0 (default 1e-5).
        momentum: m, the weight of the new batch in the running averages (default 0.1), or None.
        affine: learn γ (``weight``, ones) and β (``bias``, zeros) of shape (C,) (default True).
        track_running_stats: keep the buffers ``running_mean``, ``running_var`` and
            ``num_batches_tracked``; without them, batch statistics are used in eval mode too.
        device: where the parameters and buffers live.
        dtype: their dtype (default float32).
        bias: learn β (default True; False keeps only γ).

    Shape:
        - Input: (N, C, H, W).
        - Output: (N, C, H, W), the shape of the input.

    Example:
        >>> bn = cr.nn.BatchNorm2d(8)
        >>> x = cr.randn(4, 8, 5, 5) * 3 + 1
        >>> y = bn(x)
        >>> round(abs(float(y[:, 0].mean())), 4), round(float(y[:, 0].std(correction=0)), 3)
        (0.0, 1.0)
        >>> bn.eval()(x).shape
        (4, 8, 5, 5)
    """

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    r"""Batch norm over (N, C, D, H, W) volumes, per channel, as ``torch.nn.BatchNorm3d``.

    $$
    y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}\,\gamma + \beta
    $$

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the running averages' update factor (None: a cumulative average).
        affine: learn ``weight`` (γ, ones) and ``bias`` (β, zeros).
        track_running_stats: keep ``running_mean``/``running_var`` for ``eval()``.

    Shape:
        - Input: (N, C, D, H, W)
        - Output: the same

    Example:
        >>> m = cr.nn.BatchNorm3d(2)
        >>> m(cr.randn(4, 2, 3, 3, 3)).shape
        (4, 2, 3, 3, 3)
    """

    _dims = (5,)


class _InstanceNorm(_BatchNorm):
    """Shared code of InstanceNorm1d/2d/3d: BatchNorm's parameters and buffers, PyTorch's other defaults."""

    _nd = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        name = type(self).__name__
        _args.tensor(name, "input", input)
        if input.ndim not in (self._nd + 1, self._nd + 2):
            raise ValueError(
                f"{name}: expected {self._nd + 1}D or {self._nd + 2}D input, got {input.ndim}D input "
                f"of shape {tuple(input.shape)}"
            )
        feature_dim = input.ndim - self._nd - 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"{name}: expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), got input of shape {tuple(input.shape)}"
                )
            warnings.warn(
                f"{name}: input's size at dim={feature_dim} does not match num_features "
                f"({self.num_features}); it is not used because affine=False",
                stacklevel=2,
            )
        x = input.unsqueeze(0) if input.ndim == self._nd + 1 else input
        out = instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if input.ndim == self._nd + 1 else out


class InstanceNorm1d(_InstanceNorm):
    r"""Instance norm: each (sample, channel) of (N, C, L) standardised, as ``torch.nn.InstanceNorm1d``.

    $$
    y_{nc\cdot} = \frac{x_{nc\cdot} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}\,\gamma_c + \beta_c
    $$

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the running averages' update factor.
        affine: learn ``weight`` (γ, ones) and ``bias`` (β, zeros); off by default, as PyTorch.
        track_running_stats: keep running statistics, used in ``eval()``; off by default.

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: the same

    Example:
        >>> m = cr.nn.InstanceNorm1d(2)
        >>> m(cr.tensor([[[1.0, 3.0], [0.0, 10.0]]]))
        tensor([[[-1.,  1.],
                 [-1.,  1.]]])
    """

    _nd = 1


class InstanceNorm2d(_InstanceNorm):
    r"""Instance norm: each (sample, channel) map standardised, as ``torch.nn.InstanceNorm2d``.

    $$
    y_{nc\cdot} = \frac{x_{nc\cdot} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}\,\gamma_c + \beta_c
    $$

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the running averages' update factor.
        affine: learn ``weight`` (γ, ones) and ``bias`` (β, zeros); off by default, as PyTorch.
        track_running_stats: keep running statistics, used in ``eval()``; off by default.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: the same

    Example:
        >>> m = cr.nn.InstanceNorm2d(3, affine=True)
        >>> m(cr.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _nd = 2


class InstanceNorm3d(_InstanceNorm):
    r"""Instance norm over (N, C, D, H, W), as ``torch.nn.InstanceNorm3d``.

    $$
    y_{nc\cdot} = \frac{x_{nc\cdot} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}\,\gamma_c + \beta_c
    $$

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the running averages' update factor.
        affine: learn ``weight`` and ``bias``; off by default, as PyTorch.
        track_running_stats: keep running statistics, used in ``eval()``; off by default.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: the same

    Example:
        >>> m = cr.nn.InstanceNorm3d(1)
        >>> m(cr.randn(2, 1, 2, 2, 2)).shape
        (2, 1, 2, 2, 2)
    """

    _nd = 3


class LocalResponseNorm(Module):
    r"""Normalise each channel by the energy of its neighbouring channels, as ``torch.nn.LocalResponseNorm``.

    $$
    b_c = a_c \Big/ \Big(k + \frac{\alpha}{n} \sum_{c'=c-\lfloor n/2 \rfloor}^{c+\lfloor (n-1)/2 \rfloor}
    a_{c'}^2\Big)^{\beta}
    $$

    Args:
        size: n, the number of neighbouring channels.
        alpha: the multiplicative factor.
        beta: the exponent.
        k: the additive factor.

    Shape:
        - Input: (N, C, *) with at least 3 dims
        - Output: the same

    Example:
        >>> m = cr.nn.LocalResponseNorm(3, alpha=1.0, beta=1.0)
        >>> m(cr.ones(1, 3, 1))
        tensor([[[0.6],
                 [0.5],
                 [0.6]]])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = _args.integer("LocalResponseNorm", "size", size, 1)
        self.alpha = _args.number("LocalResponseNorm", "alpha", alpha)
        self.beta = _args.number("LocalResponseNorm", "beta", beta)
        self.k = _args.number("LocalResponseNorm", "k", k)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LayerNorm(Module):
    r"""Layer normalisation over the last dims of each sample (Ba, Kiros & Hinton, 2016).

    $$
    y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta
    $$

    where the mean and the (biased) variance are taken over the last ``len(normalized_shape)`` dims
    of each sample: the same computation in training and evaluation, independent of the batch
    (the normalisation of transformers).

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last dim).
        eps: ε added to the variance (default 1e-5).
        elementwise_affine: learn γ (``weight``, ones) and β (``bias``, zeros) of that shape
            (default True).
        bias: learn β (default True).
        device: where the parameters live.
        dtype: their dtype (default float32).

    Shape:
        - Input: (*, *normalized_shape).
        - Output: the shape of the input.

    Example:
        >>> ln = cr.nn.LayerNorm(4)
        >>> ln(cr.tensor([[1.0, 2.0, 3.0, 4.0]]))
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]], grad_fn=<NormalizeBackward>)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if not shape or any(not isinstance(s, int) or s <= 0 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        _args.number("LayerNorm", "eps", eps, minimum=0)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.bias_enabled = bias
        if elementwise_affine:
            self.weight = new_parameter("LayerNorm", shape, device, dtype, 1.0)
            if bias:
                self.bias = new_parameter("LayerNorm", shape, device, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Set γ to ones and β to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias_enabled}"
        )
