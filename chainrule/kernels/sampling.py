"""Linear interpolation along one axis, and its adjoint (the backward of ``F.interpolate``'s linear modes).

A linear resize step reads, for every output position i, two input positions i0 ≤ i1 with weights
w0 and w1: ``y[i] = w0[i]·x[i0[i]] + w1[i]·x[i1[i]]``.  The source indices never decrease along the
output, so the outputs that read one input position form a run.  The adjoint adds every output's
gradient back onto its two sources; rather than ``add.at`` (slow, element by element), pass k adds
the k-th output of every run in one fancy-index add (no position twice in a pass, so it is exact):
two or three passes when upsampling, one when downsampling.  References at the end: ``add.at``.

``plan`` is the tuple (i0, i1, w0, w1) of NumPy arrays, one entry per output position.
"""

from __future__ import annotations

import numpy

from chainrule.backend import xp_of


def linear_mix(x, axis: int, plan):
    """y = w0 · x[i0] + w1 · x[i1] along ``axis`` of the array ``x``."""
    i0, i1, w0, w1 = plan
    xp = xp_of(x)
    shape = (len(w0),) + (1,) * (x.ndim - axis - 1)
    a = xp.take(x, xp.asarray(i0), axis=axis)
    a *= xp.asarray(w0).reshape(shape)
    b = xp.take(x, xp.asarray(i1), axis=axis)
    b *= xp.asarray(w1).reshape(shape)
    a += b
    return a


def linear_mix_adjoint(g, axis: int, plan, n_in: int):
    """The gradient of ``linear_mix``: each g_i added to dx[i0_i] times w0_i and to dx[i1_i] times w1_i."""
    i0, i1, w0, w1 = plan
    xp = xp_of(g)
    shape = (len(w0),) + (1,) * (g.ndim - axis - 1)
    dx = xp.zeros(g.shape[:axis] + (n_in,) + g.shape[axis + 1 :], g.dtype)
    lead = (slice(None),) * axis
    for idx, w in ((i0, w0), (i1, w1)):
        part = g * xp.asarray(w).reshape(shape)
        run_start = numpy.concatenate([[0], numpy.flatnonzero(numpy.diff(idx)) + 1])
        rank = numpy.arange(len(idx)) - numpy.repeat(run_start, numpy.diff(numpy.append(run_start, len(idx))))
        for k in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = numpy.flatnonzero(rank == k)
            dx[lead + (xp.asarray(idx[sel]),)] += xp.take(part, xp.asarray(sel), axis=axis)
    return dx


# ----------------------------------------------------------------------------- references


def linear_mix_reference(x, axis: int, plan):
    """``linear_mix`` one output position at a time."""
    i0, i1, w0, w1 = plan
    xm = numpy.moveaxis(x, axis, 0)
    out = numpy.stack([w0[i] * xm[i0[i]] + w1[i] * xm[i1[i]] for i in range(len(i0))])
    return numpy.moveaxis(out, 0, axis)


def linear_mix_adjoint_reference(g, axis: int, plan, n_in: int):
    """``linear_mix_adjoint`` by ``add.at``."""
    i0, i1, w0, w1 = plan
    gm = numpy.moveaxis(g, axis, 0)
    dx = numpy.zeros((n_in,) + gm.shape[1:], g.dtype)
    shape = (len(w0),) + (1,) * (gm.ndim - 1)
    numpy.add.at(dx, i0, gm * w0.reshape(shape))
    numpy.add.at(dx, i1, gm * w1.reshape(shape))
    return numpy.moveaxis(dx, 0, axis)
