"""The batch loop of :class:`~ben.detect.CalibratedBank`: ``loop`` compiled (numba, cached on disk; load it
through :func:`ben.detect._calibrated_rows.compiled_loop`, which drops a stale cache first), and
:func:`plain_loop`, the same code as plain Python around ``step.py_func`` (``BEN_DETECT_KERNELS=0``)."""

from __future__ import annotations

import math
import types

from numba import njit

from ben.detect._calibrated_kernel import step
from ben.detect.base import NOT_FINITE, OUT_OF_ORDER
from ben.detect.calibrated import EV_NONE, I_EP

__all__ = ["loop", "plain_loop"]


def _loop(states, last, rows, ts, xs, p, scores, flags, events, status, snaps, snap_at, start):
    """Feed points ``start:`` until the end or until ``snaps`` is full; (next index, snapshots)."""
    k = 0
    cap = snaps.shape[0]
    for i in range(start, len(xs)):
        r = rows[i]
        t = ts[i]
        x = xs[i]
        if not math.isfinite(x):
            status[i] = NOT_FINITE
            scores[i] = 0.0
            flags[i] = states[r, I_EP] > 0.5
            events[i] = EV_NONE
            continue
        if t < last[r]:
            status[i] = OUT_OF_ORDER
            scores[i] = 0.0
            flags[i] = states[r, I_EP] > 0.5
            events[i] = EV_NONE
            continue
        last[r] = t
        s = states[r]
        sc, fl, ev = step(s=s, ts_ns=t, x=x, p=p)
        scores[i] = sc
        flags[i] = fl
        events[i] = ev
        status[i] = 0
        if ev != EV_NONE:
            snaps[k, :] = s
            snap_at[k] = i
            k += 1
            if k == cap:
                return i + 1, k
    return len(xs), k


loop = njit(cache=True)(_loop)


def plain_loop():
    """The same loop as plain Python, calling the plain ``step`` (identical results, far slower)."""
    return types.FunctionType(_loop.__code__, {**_loop.__globals__, "step": step.py_func}, "plain_loop")
