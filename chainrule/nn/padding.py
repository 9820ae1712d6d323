"""Padding layers, as ``torch.nn``.

``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``
and ``CircularPad1d/2d/3d``.

Each pads the last 1, 2 or 3 dims of its input by ``F.pad`` (``chainrule/ops/shape.py``) with the
widths given as (left, right[, top, bottom[, front, back]]), an int meaning the same width on every
side.  Constant and zero padding take negative widths (they crop); the other modes pad the last
dims of a (C, *) or (N, C, *) map.
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops.shape import pad
from chainrule.tensor import Tensor


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    value: float = 0.0  # the fill of the constant modes

    def __init__(self, padding):
        super().__init__()
        name = type(self).__name__
        self.padding = _args.ints(
            name, "padding", padding, 2 * self._nd, minimum=None if self._mode == "constant" else 0
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        _args.tensor(type(self).__name__, "input", input)
        return pad(input, self.padding, self._mode, self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = _args.number(type(self).__name__, "value", value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    r"""Pad the last dim with zeros, as ``torch.nn.ZeroPad1d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 2 widths (left, right).

    Shape:
        - Input: (N, C, W) or (C, W)
        - Output: (N, C, W + left + right)

    Example:
        >>> m = cr.nn.ZeroPad1d((1, 2))
        >>> m(cr.arange(3.0).reshape(1, 1, 3))
        tensor([[[0., 0., 1., 2., 0., 0.]]])
    """

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    r"""Pad the last 2 dims with zeros, as ``torch.nn.ZeroPad2d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 4 widths (left, right, top, bottom).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ZeroPad2d((1, 0, 1, 0))
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[0., 0., 0.],
                  [0., 0., 1.],
                  [0., 2., 3.]]]])
    """

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    r"""Pad the last 3 dims with zeros, as ``torch.nn.ZeroPad3d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 6 widths (left, right, top, bottom, front, back).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D + front + back, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ZeroPad3d(1)
        >>> m(cr.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3


class ConstantPad1d(_ConstantPadNd):
    r"""Pad the last dim with the constant ``value``, as ``torch.nn.ConstantPad1d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 2 widths (left, right).
        value: the fill value.

    Shape:
        - Input: (N, C, W) or (C, W)
        - Output: (N, C, W + left + right)

    Example:
        >>> m = cr.nn.ConstantPad1d((1, 2), 2.0)
        >>> m(cr.arange(3.0).reshape(1, 1, 3))
        tensor([[[2., 0., 1., 2., 2., 2.]]])
    """

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    r"""Pad the last 2 dims with the constant ``value``, as ``torch.nn.ConstantPad2d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 4 widths (left, right, top, bottom).
        value: the fill value.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ConstantPad2d((1, 0, 1, 0), 2.0)
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[2., 2., 2.],
                  [2., 0., 1.],
                  [2., 2., 3.]]]])
    """

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    r"""Pad the last 3 dims with the constant ``value``, as ``torch.nn.ConstantPad3d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{constant})
    $$

    Args:
        padding: an int (every side) or the 6 widths (left, right, top, bottom, front, back).
        value: the fill value.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D + front + back, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ConstantPad3d(1, 2.0)
        >>> m(cr.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3


class ReflectionPad1d(_PadNd):
    r"""Pad the last dim with the input mirrored at its edges, as ``torch.nn.ReflectionPad1d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{reflect})
    $$

    Args:
        padding: an int (every side) or the 2 widths (left, right).

    Shape:
        - Input: (N, C, W) or (C, W)
        - Output: (N, C, W + left + right)

    Example:
        >>> m = cr.nn.ReflectionPad1d((1, 2))
        >>> m(cr.arange(3.0).reshape(1, 1, 3))
        tensor([[[1., 0., 1., 2., 1., 0.]]])
    """

    _nd = 1
    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    r"""Pad the last 2 dims with the input mirrored at its edges, as ``torch.nn.ReflectionPad2d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{reflect})
    $$

    Args:
        padding: an int (every side) or the 4 widths (left, right, top, bottom).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ReflectionPad2d((1, 0, 1, 0))
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[3., 2., 3.],
                  [1., 0., 1.],
                  [3., 2., 3.]]]])
    """

    _nd = 2
    _mode = "reflect"


class ReflectionPad3d(_PadNd):
    r"""Pad the last 3 dims with the input mirrored at its edges, as ``torch.nn.ReflectionPad3d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{reflect})
    $$

    Args:
        padding: an int (every side) or the 6 widths (left, right, top, bottom, front, back).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D + front + back, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ReflectionPad3d(1)
        >>> m(cr.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3
    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    r"""Pad the last dim with copies of the edge values, as ``torch.nn.ReplicationPad1d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{replicate})
    $$

    Args:
        padding: an int (every side) or the 2 widths (left, right).

    Shape:
        - Input: (N, C, W) or (C, W)
        - Output: (N, C, W + left + right)

    Example:
        >>> m = cr.nn.ReplicationPad1d((1, 2))
        >>> m(cr.arange(3.0).reshape(1, 1, 3))
        tensor([[[0., 0., 1., 2., 2., 2.]]])
    """

    _nd = 1
    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    r"""Pad the last 2 dims with copies of the edge values, as ``torch.nn.ReplicationPad2d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{replicate})
    $$

    Args:
        padding: an int (every side) or the 4 widths (left, right, top, bottom).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ReplicationPad2d((1, 0, 1, 0))
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[0., 0., 1.],
                  [0., 0., 1.],
                  [2., 2., 3.]]]])
    """

    _nd = 2
    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    r"""Pad the last 3 dims with copies of the edge values, as ``torch.nn.ReplicationPad3d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{replicate})
    $$

    Args:
        padding: an int (every side) or the 6 widths (left, right, top, bottom, front, back).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D + front + back, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.ReplicationPad3d(1)
        >>> m(cr.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3
    _mode = "replicate"


class CircularPad1d(_PadNd):
    r"""Pad the last dim with the input wrapped around, as ``torch.nn.CircularPad1d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{circular})
    $$

    Args:
        padding: an int (every side) or the 2 widths (left, right).

    Shape:
        - Input: (N, C, W) or (C, W)
        - Output: (N, C, W + left + right)

    Example:
        >>> m = cr.nn.CircularPad1d((1, 2))
        >>> m(cr.arange(3.0).reshape(1, 1, 3))
        tensor([[[2., 0., 1., 2., 0., 1.]]])
    """

    _nd = 1
    _mode = "circular"


class CircularPad2d(_PadNd):
    r"""Pad the last 2 dims with the input wrapped around, as ``torch.nn.CircularPad2d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{circular})
    $$

    Args:
        padding: an int (every side) or the 4 widths (left, right, top, bottom).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.CircularPad2d((1, 0, 1, 0))
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[3., 2., 3.],
                  [1., 0., 1.],
                  [3., 2., 3.]]]])
    """

    _nd = 2
    _mode = "circular"


class CircularPad3d(_PadNd):
    r"""Pad the last 3 dims with the input wrapped around, as ``torch.nn.CircularPad3d``.

    $$
    \text{out} = \operatorname{pad}(x,\ \text{padding},\ \text{mode}=\text{circular})
    $$

    Args:
        padding: an int (every side) or the 6 widths (left, right, top, bottom, front, back).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D + front + back, H + top + bottom, W + left + right)

    Example:
        >>> m = cr.nn.CircularPad3d(1)
        >>> m(cr.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3
    _mode = "circular"
