"""``python -m chainrule``: the ``chainrule`` command (``python -m chainrule demo``, ``--version``, ...)."""

import sys

from chainrule.cli import main

if __name__ == "__main__":
    sys.exit(main())
