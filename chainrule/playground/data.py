"""The playground's 2-D data sets: seeded generators and the CSV upload parser.

Every set lives on the plane [-6, 6]² (points mostly within [-5, 5]) and is drawn from its own
NumPy generator seeded by the configuration, so the same link always shows the same points.

Classification labels are class indices (0/1 for two classes, 0..K-1 for K); regression
targets are floats in about [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DOMAIN = 6.0  # the input plane is [-DOMAIN, DOMAIN]²
N_POINTS = 500  # points per generated set (training + test)
MAX_UPLOAD_ROWS = 5000
MAX_CLASSES = 8

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "blobs", "spiral3")
REGRESSION = ("plane", "multigauss")
DATASETS = CLASSIFICATION + REGRESSION + ("upload",)


class DataError(ValueError):
    """A data set could not be made or an uploaded file is invalid (the message says why)."""


@dataclass
class DataSet:
    """Generated (or uploaded) 2-D points with labels, split into training and test parts."""

    x: np.ndarray  # (n, 2) float64 points
    y: np.ndarray  # (n,) int64 class indices, or float64 targets
    task: str  # 'classification' | 'regression'
    classes: int  # number of classes (0 for regression)
    warning: str = ""  # what the user should know about how an upload was read

    @property
    def n(self) -> int:
        return len(self.x)


# -- generators ------------------------------------------------------------------------------------
def _circle(rng, n, noise):
    radius = 5.0
    x, y = [], []
    for label, (r0, r1) in ((1, (0.0, 0.5 * radius)), (0, (0.7 * radius, radius))):
        m = n // 2 if label == 1 else n - n // 2
        r = rng.uniform(r0, r1, m)
        a = rng.uniform(0, 2 * math.pi, m)
        pts = np.stack([r * np.sin(a), r * np.cos(a)], 1)
        x.append(pts + rng.uniform(-radius, radius, (m, 2)) * noise)
        y.append(np.full(m, label))
    return np.concatenate(x), np.concatenate(y)


def _xor(rng, n, noise):
    pts = rng.uniform(-5, 5, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)  # keep points off the axes
    noisy = pts + rng.uniform(-5, 5, (n, 2)) * noise
    return pts, (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)


def _gauss(rng, n, noise):
    std = 0.5 + 3.5 * noise  # noise 0..0.5 -> std 0.5..2.25
    m = n // 2
    a = rng.normal((2, 2), std, (m, 2))
    b = rng.normal((-2, -2), std, (n - m, 2))
    return np.concatenate([a, b]), np.concatenate([np.ones(m), np.zeros(n - m)])


def _spiral(rng, n, noise, arms=2):
    per = [n // arms + (1 if i < n % arms else 0) for i in range(arms)]
    x, y = [], []
    for k, m in enumerate(per):
        t = np.linspace(0, 1, m, endpoint=False)
        r = 5 * t
        a = 1.75 * t * 2 * math.pi + 2 * math.pi * k / arms
        pts = np.stack([r * np.sin(a), r * np.cos(a)], 1)
        x.append(pts + rng.uniform(-1, 1, (m, 2)) * noise * 5 * 0.4)
        y.append(np.full(m, (1 - k) if arms == 2 else k))
    return np.concatenate(x), np.concatenate(y)


def _blobs(rng, n, noise, k=3):
    std = 0.6 + 3.0 * noise
    per = [n // k + (1 if i < n % k else 0) for i in range(k)]
    x, y = [], []
    for c, m in enumerate(per):
        a = 2 * math.pi * c / k + math.pi / 2
        x.append(rng.normal((3 * math.cos(a), 3 * math.sin(a)), std, (m, 2)))
        y.append(np.full(m, c))
    return np.concatenate(x), np.concatenate(y)


def _plane(rng, n, noise):
    pts = rng.uniform(-5, 5, (n, 2))
    noisy = pts + rng.uniform(-5, 5, (n, 2)) * noise
    return pts, np.clip((noisy[:, 0] + noisy[:, 1]) / 10.0, -1, 1)


_CENTRES = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _multigauss(rng, n, noise):
    pts = rng.uniform(-5, 5, (n, 2))
    noisy = pts + rng.uniform(-5, 5, (n, 2)) * noise
    t = np.zeros(n)
    for cx, cy, sign in _CENTRES:
        t += sign * np.exp(-((noisy[:, 0] - cx) ** 2 + (noisy[:, 1] - cy) ** 2) / 2.0)
    return pts, np.clip(t, -1, 1)


_GEN = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "blobs": _blobs,
    "spiral3": lambda rng, n, noise: _spiral(rng, n, noise, arms=3),
    "plane": _plane,
    "multigauss": _multigauss,
}


def generate(name: str, noise: float, seed: int, n: int = N_POINTS) -> DataSet:
    """The data set ``name`` with ``noise`` in [0, 0.5], drawn from a generator seeded by ``seed``."""
    if name not in _GEN:
        raise DataError(f"data: unknown data set {name!r}; expected one of {', '.join(_GEN)}")
    rng = np.random.default_rng(seed)
    x, y = _GEN[name](rng, n, float(noise))
    x = np.clip(x, -DOMAIN, DOMAIN)
    # shuffle so a train/test split takes both classes
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    if name in REGRESSION:
        return DataSet(x.astype(np.float64), y.astype(np.float64), "regression", 0)
    y = y.astype(np.int64)
    return DataSet(x.astype(np.float64), y, "classification", int(y.max()) + 1)


def split(data: DataSet, ratio: float, seed: int) -> tuple[DataSet, DataSet]:
    """(train, test): the first ``ratio`` of a seeded permutation for training, the rest for testing."""
    n = data.n
    order = np.random.default_rng(seed + 7919).permutation(n)
    n_train = min(max(int(round(n * ratio)), 1), n - 1)
    tr, te = order[:n_train], order[n_train:]
    return (
        DataSet(data.x[tr], data.y[tr], data.task, data.classes),
        DataSet(data.x[te], data.y[te], data.task, data.classes),
    )


# -- upload ----------------------------------------------------------------------------------------
def parse_csv(text: str, max_rows: int = MAX_UPLOAD_ROWS) -> tuple[DataSet, str]:
    """Parse ``x1,x2,label`` lines (an optional header line is skipped) into a DataSet.

    Labels that are all integers with 2..8 distinct values make a classification set (−1/+1
    become 0/1); anything else is a regression set.  Points outside the plane [-6, 6]² are scaled
    down to fit.  Returns the set and a one-line note on what was read.
    """
    if not isinstance(text, str):
        raise DataError("upload: the file must be text (CSV lines x1,x2,label)")
    rows: list[tuple[float, float, float]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = True
    for i, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        is_first, first = first, False
        parts = [p.strip() for p in line.replace(";", ",").replace("\t", ",").split(",")]
        if len(parts) != 3:
            raise DataError(
                f"upload: line {i} has {len(parts)} fields, expected 3 (x1,x2,label): {line[:60]!r}"
            )
        try:
            vals = tuple(float(p) for p in parts)
        except ValueError:
            if is_first:
                continue  # a header line
            raise DataError(f"upload: line {i} is not three numbers: {line[:60]!r}") from None
        if not all(math.isfinite(v) for v in vals):
            raise DataError(f"upload: line {i} has a value that is not finite: {line[:60]!r}")
        rows.append(vals)  # type: ignore[arg-type]
        if len(rows) > max_rows:
            raise DataError(f"upload: more than {max_rows} rows; use fewer points")
    if len(rows) < 4:
        raise DataError(f"upload: need at least 4 rows of x1,x2,label, got {len(rows)}")
    arr = np.asarray(rows, dtype=np.float64)
    x, lab = arr[:, :2], arr[:, 2]
    notes = [f"{len(rows)} points"]
    span = float(np.abs(x).max())
    if span > DOMAIN:
        x = x * (5.0 / span)
        notes.append(f"scaled by {5.0 / span:.3g} to fit the plane [-6, 6]²")
    values = np.unique(lab)
    if np.all(lab == np.round(lab)) and 2 <= len(values) <= MAX_CLASSES:
        if set(values.tolist()) == {-1.0, 1.0}:
            y = (lab > 0).astype(np.int64)
        else:
            remap = {v: k for k, v in enumerate(values.tolist())}
            y = np.asarray([remap[v] for v in lab.tolist()], dtype=np.int64)
        notes.append(f"{len(values)} classes")
        return DataSet(x, y, "classification", len(values)), ", ".join(notes)
    if len(values) < 2:
        raise DataError("upload: every label is the same; need two or more classes or varying targets")
    lo, hi = float(lab.min()), float(lab.max())
    scale = max(abs(lo), abs(hi))
    y = lab / scale if scale > 1 else lab
    notes.append("regression targets" + (f" scaled by {1 / scale:.3g} into [-1, 1]" if scale > 1 else ""))
    warning = ""
    if np.all(lab == np.round(lab)):
        warning = (
            f"the labels are {len(values)} different whole numbers, more than the {MAX_CLASSES} classes "
            "the playground draws, so they are read as regression targets (a number to predict); "
            f"for classes, use at most {MAX_CLASSES} label values"
        )
    return DataSet(x, y.astype(np.float64), "regression", 0, warning), ", ".join(notes)


# -- features --------------------------------------------------------------------------------------
FEATURES = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sinx1": lambda a, b: np.sin(a),
    "sinx2": lambda a, b: np.sin(b),
}
FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁x₂",
    "sinx1": "sin(x₁)",
    "sinx2": "sin(x₂)",
}
# the same formulas as Python source, for the exported script
FEATURE_SOURCE = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1 * x1",
    "x2sq": "x2 * x2",
    "x1x2": "x1 * x2",
    "sinx1": "np.sin(x1)",
    "sinx2": "np.sin(x2)",
}


def features(x: np.ndarray, names: list[str]) -> np.ndarray:
    """The (n, len(names)) float32 input matrix of the chosen features of points ``x`` (n, 2)."""
    a, b = x[:, 0], x[:, 1]
    return np.stack([FEATURES[f](a, b) for f in names], 1).astype(np.float32)
