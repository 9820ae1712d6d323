"""``cr.utils``: PyTorch's ``torch.utils`` paths. ``cr.utils.data`` *is* ``cr.data`` (the same module object).

from chainrule.utils.data import DataLoader, Dataset   # as from torch.utils.data
"""

import sys

from chainrule import data

sys.modules[__name__ + ".data"] = data  # `import chainrule.utils.data` finds the same module

__all__ = ["data"]
