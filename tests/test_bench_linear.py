"""``chainrule bench linear`` runs and reports both rows with their product FLOPs."""

from __future__ import annotations

import pytest

from chainrule.bench import bench_linear


def test_linear_rows_report_both_shapes_and_the_limit():
    rows = bench_linear.run(1)
    assert [r["name"] for r in rows] == [
        "linear (32·35, 256) -> 1000, fwd+bwd",
        "linear (32, 35, 256) -> 1000, fwd+bwd",
    ]
    for r in rows:
        assert r["chainrule_ms"] > 0 and r["numpy_ms"] > 0
        assert r["gflop"] == pytest.approx(3 * 2 * 32 * 35 * 256 * 1000 / 1e9)
