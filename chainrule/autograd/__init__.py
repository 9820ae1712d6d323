"""The autograd engine.

The autograd engine: graph nodes (``Function``), backprop (``engine``), ``grad``,
``gradcheck``, ``detect_anomaly`` and the grad-mode switches.
"""

from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

# The rest needs chainrule.tensor, which itself imports grad_mode from this package,
# so those names are loaded on first use (PEP 562) instead of here.
_LAZY = {
    "Function": "chainrule.autograd.function",
    "grad": "chainrule.autograd.functional",
    "gradcheck": "chainrule.autograd.gradcheck",
    "GradcheckError": "chainrule.autograd.gradcheck",
    "detect_anomaly": "chainrule.autograd.anomaly",
    "is_anomaly_enabled": "chainrule.autograd.anomaly",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")


__all__ = [
    "no_grad",
    "enable_grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "set_grad_enabled",
    *_LAZY,
]
