"""pytest configuration shared by the test suite and the package's doctests.

The ``>>>`` examples in ``chainrule/`` run with ``python -m pytest --doctest-modules chainrule``
(scripts/test.sh does): each sees ``cr`` (chainrule) and ``np`` (NumPy) without importing them,
and starts from ``cr.manual_seed(0)``, so examples that draw random numbers print the same values.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace["cr"] = cr
    doctest_namespace["np"] = np
    cr.manual_seed(0)
    dtype = cr.get_default_dtype()
    yield
    cr.set_default_dtype(dtype)  # an example that changes the default can't leak it into the next
