"""Compiled block kernels (numba) for the time-major fast path of the detector banks.

Each kernel advances every series of a bank through a block ``X[steps, series]`` in place and
writes the raw outputs, the score, the flag and the run length the numpy fast path computed;
the loop runs step by step over all series (series are independent, so the inner loop is
throughput-bound and the compiler may use SIMD; series by series, step after step, would be a
chain of dependent square roots and divisions). Exactness: compiled without ``fastmath``, each
IEEE operation is done as written, in the order the numpy path does it (no contraction into
fused multiply-adds), so the results are bit for bit those of the per-point numpy code, which
stays the reference (``_recur``; the conformance tests compare both). ``np.maximum(a, b)`` is
``a if a > b else b``, ``np.minimum(a, b)`` is ``a if a < b else b`` and ``np.clip(x, lo, hi)``
is ``min(max(x, lo), hi)`` with the first operand kept on ties, which is what numpy does (signed
zeros included). ``error_model="numpy"``: a division by zero gives inf/nan as in numpy, no check.

This module is imported on the first fast-path block (``ben.detect.base.kernels``), never at
``import ben.detect``: processes that only use the per-point path (the spine) do not load numba.
Compiled code is cached (``cache=True``) in ``__pycache__`` next to this file, or in numba's
user cache directory (``~/.cache/numba``) when the package directory is read-only
(``NUMBA_CACHE_DIR`` overrides both); with neither writable, each process compiles in memory.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numba import njit

from ben.detect.primitives import BIG, FLOOR_EVERY, MEANAD_SIGMA
from ben.detect.robust import MAD_SIGMA
from ben.detect.variance import MIN_SD

# numba freezes module globals into compiled code, and its disk cache is keyed on this file only:
# a constant changed in its owner would leave a stale cached kernel. ``_frozen`` (compiled and
# cached like the kernels) reports the values the cache holds; a mismatch fails the import.
CONSTANTS = (BIG, FLOOR_EVERY, MEANAD_SIGMA, MIN_SD, MAD_SIGMA)

_OPTIONS = {"nogil": True, "error_model": "numpy", "boundscheck": False}
_log = logging.getLogger(__name__)


def _jit(fn):
    """``njit`` with the options above, cached on disk; when no cache directory is writable
    (read-only install and home, no ``NUMBA_CACHE_DIR``), compiled in memory by each process
    (logged once: the first block then takes several seconds)."""
    try:
        return njit(cache=True, **_OPTIONS)(fn)
    except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
        if not _NO_CACHE:
            _log.warning("detector kernels: %s; compiling without a disk cache (set NUMBA_CACHE_DIR to a "
                         "writable directory)", exc)
            _NO_CACHE.append(fn.__name__)
        return njit(cache=False, **_OPTIONS)(fn)


_NO_CACHE: list[str] = []


@_jit
def _frozen():
    """The owners' constants as compiled (see ``CONSTANTS``)."""
    return (BIG, FLOOR_EVERY, MEANAD_SIGMA, MIN_SD, MAD_SIGMA)


if tuple(_frozen()) != CONSTANTS:
    raise ImportError(f"the cached detector kernels were compiled with constants {tuple(_frozen())}, the code "
                      f"now has {CONSTANTS}: delete the numba cache (__pycache__ of ben.detect, or NUMBA_CACHE_DIR)")


@_jit
def _verdict_only(st, threshold, score, flag, run, t, i):
    """Score, flag and run length of one point from its statistic (``_block``'s elementwise part);
    returns the capped statistic."""
    s = st if st < BIG else BIG
    fl = s >= threshold
    flag[t, i] = fl
    score[t, i] = s / (s + threshold)
    run[i] = run[i] + 1 if fl else 0
    return s


@_jit
def _sigma(m, var, floor, i, refresh, rel_scale, min_scale):
    """``sigma_of`` for series ``i``: ``max(sqrt(var), floor)``, the floor ``max(min_scale,
    rel_scale * |mean|)`` refreshed on ``refresh`` steps (EWMA and CUSUM share it)."""
    if refresh:
        f = abs(m) * rel_scale
        f = f if f > min_scale else min_scale
        floor[i] = f
    else:
        f = floor[i]
    sg = math.sqrt(var[i])
    return sg if sg > f else f


@_jit
def ewma_block(X, n0, mean, var, floor, slope, run, has_trend, trend, alpha, keep, rel_scale, min_scale, clip,
               threshold, want_raw, stat, base, scale, dev, score, flag):
    """:meth:`EWMABank._recur` (fast path) for every step of ``X``; ``keep = 1 - alpha``.

    The raw outputs (``stat``, ``base``, ``scale``, ``dev``) are written only when ``want_raw``
    (evidence: the block is replayed for the series asked about); scores, flags always."""
    steps, ns = X.shape
    for t in range(steps):
        refresh = (n0 + t) % FLOOR_EVERY == 0
        for i in range(ns):
            m = mean[i]
            sg = _sigma(m, var, floor, i, refresh, rel_scale, min_scale)
            if has_trend:
                m = m + slope[i]
            z = (X[t, i] - m) / sg
            if want_raw:
                base[t, i] = m
                scale[t, i] = sg
                dev[t, i] = z
            dc = -clip if z < -clip else z
            dc = clip if dc > clip else dc
            dc = dc * sg
            step = dc * alpha
            mean[i] = m + step
            if has_trend:
                slope[i] = slope[i] + step * trend
            step = step * dc
            var[i] = (var[i] + step) * keep
            c = _verdict_only(abs(z), threshold, score, flag, run, t, i)
            if want_raw:
                stat[t, i] = c


@_jit
def cusum_block(X, n0, mean, var, floor, slope, hi, lo, run_hi, run_lo, run, has_trend, trend, alpha, keep,
                rel_scale, min_scale, clip, k, limit, threshold, want_raw, stat, base, scale, out_hi, out_lo, score,
                flag):
    """:meth:`CUSUMBank._recur` (fast path) and ``_finish`` for every step of ``X`` (raw outputs
    only when ``want_raw``, as :func:`ewma_block`)."""
    steps, ns = X.shape
    for t in range(steps):
        refresh = (n0 + t) % FLOOR_EVERY == 0
        for i in range(ns):
            m = mean[i]
            sg = _sigma(m, var, floor, i, refresh, rel_scale, min_scale)
            if has_trend:
                m = m + slope[i]
            if want_raw:
                base[t, i] = m
                scale[t, i] = sg
            z = (X[t, i] - m) / sg
            h = (hi[i] + z) - k
            h = 0.0 if h < 0.0 else h
            h = limit if h > limit else h
            lw = (lo[i] - z) - k
            lw = 0.0 if lw < 0.0 else lw
            lw = limit if lw > limit else lw
            hi[i] = h
            lo[i] = lw
            if want_raw:
                out_hi[t, i] = h
                out_lo[t, i] = lw
            dc = -clip if z < -clip else z
            dc = clip if dc > clip else dc
            dc = dc * sg
            step = dc * alpha
            mean[i] = m + step
            if has_trend:
                slope[i] = slope[i] + step * trend
            step = step * dc
            var[i] = (var[i] + step) * keep
        for i in range(ns):  # a second pass: one loop over all these arrays is not vectorised
            h, lw = hi[i], lo[i]
            run_hi[i] = run_hi[i] + 1 if h > 0 else 0
            run_lo[i] = run_lo[i] + 1 if lw > 0 else 0
            c = _verdict_only(h if h > lw else lw, threshold, score, flag, run, t, i)
            if want_raw:
                stat[t, i] = c


@_jit
def variance_block(X, n0, last, ref, ref_var, mad, sigma, sd, s, run_s, run, beta, keep, rel_scale, min_scale,
                   clip, k, limit, threshold, want_raw, stat, base, scale, dev, out_sd, out_ref, score, flag):
    """:meth:`VarianceBank._recur` (fast path, with ``_refresh``) for every step of ``X`` (raw
    outputs only when ``want_raw``, as :func:`ewma_block`)."""
    steps, ns = X.shape
    for t in range(steps):
        if (n0 + t) % FLOOR_EVERY == 0:
            for i in range(ns):
                f = abs(last[i]) * rel_scale
                f = f if f > min_scale else min_scale
                q = math.sqrt(ref_var[i])
                sd[i] = q if q > MIN_SD else MIN_SD
                g = mad[i] * MEANAD_SIGMA
                sigma[i] = g if g > f else f
        for i in range(ns):
            prev = last[i]
            sg, sdi, r = sigma[i], sd[i], ref[i]
            x = X[t, i]
            d = x - prev
            last[i] = x
            ad = abs(d)
            u = ad / (ad + sg)
            z = (u - r) / sdi
            c = (s[i] + z) - k
            c = c if c > 0.0 else 0.0
            c = c if c < limit else limit
            s[i] = c
            z = z * sdi
            step = z * beta
            r = r + step
            ref[i] = r
            step = step * z
            ref_var[i] = (ref_var[i] + step) * keep
            lim = sg * clip
            ad = ad if ad < lim else lim
            mad[i] = mad[i] + (ad - mad[i]) * beta
            if want_raw:
                base[t, i] = prev
                dev[t, i] = d / sg
                scale[t, i] = sg
                out_sd[t, i] = sdi
                out_ref[t, i] = r
        for i in range(ns):  # a second pass, as in cusum_block
            c = s[i]
            run_s[i] = run_s[i] + 1 if c > 0 else 0
            c = _verdict_only(c, threshold, score, flag, run, t, i)
            if want_raw:
                stat[t, i] = c


@_jit
def robust_segment(X, t0, t1, n0, median, sigma, buf, threshold, run, score, flag):
    """Steps ``t0..t1`` of :meth:`RobustBank._fast_raw` (baseline constant): window, verdicts
    (``z`` itself is recomputed for the points whose evidence is wanted, the same operations)."""
    ns = X.shape[1]
    w = buf.shape[1]
    for t in range(t0, t1):
        for i in range(ns):
            z = (X[t, i] - median[i]) / sigma[i]
            _verdict_only(abs(z), threshold, score, flag, run, t, i)
    _to_rows(X, t0, t1, (n0 + t0) % w, buf)


@_jit
def _to_rows(X, t0, t1, pos0, buf):
    """``buf[i, (pos0 + t - t0) % width] = X[t, i]``, series by series: each series' buffer row
    is one or two cache lines, written once per segment instead of once per step."""
    ns = X.shape[1]
    w = buf.shape[1]
    for i in range(ns):
        pos = pos0
        for t in range(t0, t1):
            buf[i, pos] = X[t, i]
            pos += 1
            if pos == w:
                pos = 0


@_jit
def robust_full(sT, median, sigma, rel_scale, min_scale, zero):
    """Median and low-MAD sigma of full sorted windows ``sT`` (``(window, series)``), as
    :meth:`RobustBank._refresh`; series whose MAD is 0 are only marked in ``zero`` (the numpy
    code does their mean-absolute-deviation fallback). Returns how many were marked."""
    w, ns = sT.shape
    h = (w + 1) // 2
    marked = 0
    for i in range(ns):
        med = (sT[(w - 1) // 2, i] + sT[w // 2, i]) * 0.5
        best = np.inf
        for j in range(w - h + 1):
            left = med - sT[j, i]
            right = sT[j + h - 1, i] - med
            v = left if left > right else right
            best = v if v < best else best
        sc = best * MAD_SIGMA
        if sc == 0:
            zero[i] = True
            marked += 1
            continue
        zero[i] = False
        f = abs(med) * rel_scale
        f = f if f > min_scale else min_scale
        median[i] = med
        sigma[i] = sc if sc > f else f
    return marked


@_jit
def drift_segment(X, t0, t1, pos0, stat, xbuf, threshold, run, score, flag):
    """Steps ``t0..t1`` of :meth:`DriftBank._fast_raw` (the statistic held): buffer and verdicts.
    ``stat`` is the held statistic, already capped; ``pos0`` the buffer position of step ``t0``."""
    ns = X.shape[1]
    _to_rows(X, t0, t1, pos0, xbuf)
    for t in range(t0, t1):
        for i in range(ns):
            s = stat[i]
            fl = s >= threshold
            flag[t, i] = fl
            score[t, i] = s / (s + threshold)
            run[i] = run[i] + 1 if fl else 0


@_jit
def drift_process(xbuf, mean, var, sigma, recent, ref, rec, kl, hot, blocks, rel_scale, min_scale, offset, top,
                  a_ref, a_rec, w_ref, w_rec, threshold, relearn, eps, p_out, q_out):
    """:meth:`DriftBank._process` of every series (a full buffer each, ``blocks`` blocks seen)
    up to the logarithm: histograms, baselines, and ``p = rec + eps``, ``q = p / (ref + eps)``
    (float32) for the statistic (:func:`drift_kl` after numpy's float32 ``log``).

    ``w_ref``, ``w_rec`` are one block's histogram weights, ``a_ref``, ``a_rec`` the baselines'.
    float32 where numpy works in float32 (binning, the block sums).
    """
    ns, st = xbuf.shape
    bins = ref.shape[1]
    started = blocks >= 2
    counts = np.zeros((2, bins), dtype=np.int64)
    off32, top32, zero32 = np.float32(offset), np.float32(top), np.float32(0.0)
    nb = blocks - 1
    hw_rec = 0.0
    hw_ref = 0.0
    if started:
        hw_rec = w_rec if w_rec > 1.0 / nb else 1.0 / nb
        hw_ref = w_ref if w_ref > 1.0 / nb else 1.0 / nb
    ab = 1.0 / blocks
    A = a_ref if a_ref > ab else ab
    Ar = a_rec if a_rec > ab else ab
    inv = 1.0 / st
    for i in range(ns):
        m, v, r = mean[i], var[i], recent[i]
        fl = abs(m) * rel_scale
        fl = fl if fl > min_scale else min_scale
        sg = math.sqrt(v)
        sg = sg if sg > fl else fl
        sg32 = np.float32(sg)
        s1 = zero32
        s2 = zero32
        counts[:, :] = 0
        for j in range(st):
            d32 = np.float32(xbuf[i, j] - m)
            if started:
                z = d32 / sg32
                z = z + off32
                z = z if z > zero32 else zero32
                z = z if z < top32 else top32
                counts[j & 1, int(z)] += 1
            if j == 0:
                s1 = d32
                s2 = d32 * d32
            else:
                s1 = s1 + d32
                s2 = s2 + d32 * d32
        if started:
            calm = kl[i] < threshold or hot[i] * st >= relearn
            for b in range(bins):
                fq = (counts[0, b] + counts[1, b]) * inv
                rc = rec[i, b] * (1.0 - hw_rec)
                rc = rc + fq * hw_rec
                rec[i, b] = rc
                if calm:
                    rf = ref[i, b] * (1.0 - hw_ref)
                    ref[i, b] = rf + fq * hw_ref
                p = rc + eps
                p_out[i, b] = p
                q_out[i, b] = np.float32(p / (ref[i, b] + eps))
        s1d = np.float64(s1) / st
        bv = np.float64(s2) / st
        bv = bv - s1d * s1d
        bv = bv if bv > 0.0 else 0.0
        bm = m + s1d
        d = s1d
        if started:
            lim = 3.0 * sg
            d = -lim if d < -lim else d
            d = lim if d > lim else d
        mn = m + A * d
        vn = (1.0 - A) * (v + A * d * d) + A * bv
        mean[i] = mn
        var[i] = vn
        recent[i] = r + Ar * (bm - r)
        fl = abs(mn) * rel_scale
        fl = fl if fl > min_scale else min_scale
        sg = math.sqrt(vn)
        sigma[i] = sg if sg > fl else fl


@_jit
def drift_kl(p, ratio, kl, hot, threshold):
    """The end of :meth:`DriftBank._histograms`: ``KL = sum(p * log q)`` bin after bin, ``hot``."""
    ns, bins = p.shape
    for i in range(ns):
        acc = p[i, 0] * np.float64(ratio[i, 0])
        for b in range(1, bins):
            acc = acc + p[i, b] * np.float64(ratio[i, b])
        kl[i] = acc
        hot[i] = hot[i] + 1 if acc >= threshold else 0


@_jit
def combine_k2(scores, solo_ok, shift, out):
    """:func:`ben.detect.noise.combine` for ``k = 2`` and 3 or 5+ detectors (a running maximum
    and second maximum), then ``max(kth, max(solo scores) - shift)`` when ``shift >= 0`` (the
    numpy code's operations in its order). ``scores``: a tuple of ``(steps, series)`` arrays."""
    nd = len(scores)
    steps, ns = out.shape
    for t in range(steps):
        for i in range(ns):
            a, b = scores[0][t, i], scores[1][t, i]
            top = a if a > b else b
            kth = a if a < b else b
            for d in range(2, nd):
                s = scores[d][t, i]
                low = top if top < s else s
                kth = kth if kth > low else low
                top = top if top > s else s
            if shift >= 0.0:
                first = True
                solo = 0.0
                for d in range(nd):
                    if solo_ok[d]:
                        s = scores[d][t, i]
                        if first:
                            solo = s
                            first = False
                        else:
                            solo = solo if solo > s else s
                solo = solo - shift
                kth = kth if kth > solo else solo
            out[t, i] = kth


@_jit
def noise_busy(C, n0, warmup, in_ep, muted, ca, cn, busy):
    """The first part of ``MonitorBank._noise`` over every series: ``busy`` = an anomalous point
    (combined score >= 0.5, past the warm-up) in the chunk, or in an episode, muted, or counting
    anomalous points; the others only add the chunk to their count of normal points ``cn``."""
    steps, ns = C.shape
    for i in range(ns):
        b = in_ep[i] or muted[i] or ca[i] > 0
        if not b:
            for t in range(steps):
                if C[t, i] >= 0.5 and n0[i] + t >= warmup:
                    b = True
                    break
        busy[i] = b
        if not b:
            cn[i] += steps
