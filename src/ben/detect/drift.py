"""Drift detector: KL divergence of the recent distribution from a long reference.

The series is taken in blocks of ``stride`` points. Each block is standardised against a slow,
winsorised EWMA baseline (``ref_span`` points), ``z = (x - mean) / sigma``, and binned into
``bins`` bins of one sigma each, the outer two open (``bins=8``: below -3, -3..-2, ..., above 3).
From the second block on, two exponentially weighted histograms of ``z`` follow the series: a
long *reference* (``ref_span`` points) and a short *recent* one (``recent_span``), each moved
towards the block's bin frequencies by one block's EWMA weight ``1 - (1 - alpha) ** stride``
(a plain average while history is short). At the end of every block the statistic
``KL(recent || reference)`` (nats, ``eps`` added to every bin, the log taken in float32) is
recomputed; it is held in between. Verdicts start after ``warmup + recent_span`` points: a drift
is only visible against enough history (seasonal series need a period or two). Working per
block is what makes this cheap across 10,000 series (the logarithms are the expensive part).
The reference learns only while the statistic is below the threshold, so a drift does not teach
the reference its own new normal; after ``relearn`` points above it, the reference learns again
(the new level becomes normal), and the baseline keeps moving (winsorised at 3 sigma).
Evidence: ``baseline`` is the long EWMA mean, ``level`` the recent one.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import DetectorBank
from ben.detect.errors import DetectorError
from ben.detect.primitives import BIG, check_param, held, scale_floor
from ben.detect.single import SeriesDetector

__all__ = ["DriftBank", "Drift"]


class DriftBank(DetectorBank):
    """KL drift detector over many series (see :class:`Drift` for the parameters)."""

    kind = "drift"
    _param_names = ("bins", "ref_span", "recent_span", "threshold", "warmup", "stride", "relearn", "eps",
                    "rel_scale", "min_scale")
    _raw = ("stat", "baseline", "scale", "level")
    CHUNK = 16

    def __init__(self, n_series: int = 1, *, bins: int = 8, ref_span: float = 1024.0, recent_span: float = 64.0,
                 threshold: float = 0.65, warmup: int = 512, stride: int = 32, relearn: int = 256,
                 eps: float = 1e-3, rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("bins", bins, 4, 64, integer=True)
        check_param("ref_span", ref_span, 1.0)
        check_param("recent_span", recent_span, 1.0, ref_span)
        check_param("threshold", threshold, 1e-9)
        check_param("stride", stride, 1, 256, integer=True)
        check_param("warmup", warmup, stride, integer=True)
        if warmup % stride:
            raise DetectorError(f"parameter warmup={warmup!r} must be a multiple of stride={stride!r}")
        check_param("relearn", relearn, 0, integer=True)
        check_param("eps", eps, 1e-12, 1.0)
        self.relearn = int(relearn)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.bins, self.ref_span, self.recent_span = int(bins), float(ref_span), float(recent_span)
        self.threshold, self.warmup, self.stride, self.eps = float(threshold), int(warmup), int(stride), float(eps)
        self.rel_scale, self.min_scale = float(rel_scale), float(min_scale)
        a_ref, a_rec = 2.0 / (self.ref_span + 1.0), 2.0 / (self.recent_span + 1.0)
        self._A_ref = 1.0 - (1.0 - a_ref) ** self.stride  # weight of one block in the EWMAs
        self._A_rec = 1.0 - (1.0 - a_rec) ** self.stride
        half = self.bins // 2  # unit-sigma bins, the outer two open
        self._offset = float(half)
        self._decay_ref = (1.0 - a_ref) ** self.stride
        self._decay_rec = (1.0 - a_rec) ** self.stride
        self._steady = self.warmup + int(np.ceil(self.recent_span))
        super().__init__(n_series)

    def _fields(self):
        b, f = self.bins, np.float64
        return {"mean": ((), f, 0.0), "var": ((), f, 0.0), "sigma": ((), f, 0.0), "recent": ((), f, 0.0),
                "ref": ((b,), f, 0.0), "rec": ((b,), f, 0.0), "kl": ((), f, 0.0),
                "xbuf": ((self.stride,), f, 0.0), "hot": ((), np.int64, 0)}

    _kernel = True

    def _segments(self, steps: int):
        """``(t, n, length)`` of each run of a block's steps up to the next end of a stride block
        (``t``: first step of the run, ``n``: points the series had seen before it)."""
        st, n0 = self.stride, int(self.n[0])
        t = 0
        while t < steps:
            n = n0 + t
            seg = min(steps - t, st - n % st)
            yield t, n, seg
            t += seg

    def _fast_kernel(self, kern, X, score, flag, want_raw=True):
        """As :meth:`_fast_raw`, compiled: segments between blocks, verdicts fused in."""
        st = self.stride
        snaps: dict[str, list] = {"stat": [], "baseline": [], "scale": [], "level": []}
        lengths = []
        for t, n, seg in self._segments(len(X)):
            stat = np.minimum(self.kl, BIG)
            snaps["stat"].append(stat)
            for key, name in (("baseline", "mean"), ("scale", "sigma"), ("level", "recent")):
                snaps[key].append(self._state[name].copy())
            lengths.append(seg)
            kern.drift_segment(X=X, t0=t, t1=t + seg, pos0=n % st, stat=stat, xbuf=self.xbuf, threshold=self.threshold,
                               run=self.run, score=score, flag=flag)
            if (n + seg) % st == 0:
                self._process_fast(kern, (n + seg) // st)
        return {k: held(v, lengths) for k, v in snaps.items()}

    def _process_fast(self, kern, blocks: int) -> None:
        """:meth:`_process` of every series, compiled; the float32 logarithm stays numpy's."""
        p = np.empty((self.n_series, self.bins))
        q = np.empty((self.n_series, self.bins), dtype=np.float32)
        kern.drift_process(xbuf=self.xbuf, mean=self.mean, var=self.var, sigma=self.sigma, recent=self.recent,
                           ref=self.ref, rec=self.rec, kl=self.kl, hot=self.hot, blocks=blocks,
                           rel_scale=self.rel_scale, min_scale=self.min_scale, offset=self._offset,
                           top=self.bins - 0.5, a_ref=self._A_ref, a_rec=self._A_rec,
                           w_ref=1.0 - self._decay_ref, w_rec=1.0 - self._decay_rec, threshold=self.threshold,
                           relearn=self.relearn, eps=self.eps, p_out=p, q_out=q)
        if blocks >= 2:
            kern.drift_kl(p=p, ratio=np.log(q), kl=self.kl, hot=self.hot, threshold=self.threshold)

    def _fast_raw(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorised over time: the outputs only change at the end of a block."""
        steps, st = len(X), self.stride
        snaps: dict[str, list] = {"stat": [], "baseline": [], "scale": [], "level": []}
        lengths = []
        for t, n, seg in self._segments(steps):
            for key, name in (("stat", "kl"), ("baseline", "mean"), ("scale", "sigma"), ("level", "recent")):
                snaps[key].append(self._state[name].copy())
            lengths.append(seg)
            self.xbuf[:, n % st:n % st + seg] = X[t:t + seg].T
            if (n + seg) % st == 0:
                self._process(self._state, slice(None), np.full(X.shape[1], (n + seg) // st))
        self.n += steps
        return {k: held(v, lengths) for k, v in snaps.items()}

    def _recur(self, S, x, out, t, n0):
        fast = out is not None
        if fast:
            for key, name in (("stat", "kl"), ("baseline", "mean"), ("scale", "sigma"), ("level", "recent")):
                out[key][t] = S[name]
            S["xbuf"][:, n0 % self.stride] = x
            if (n0 + 1) % self.stride == 0:
                self._process(S, slice(None), np.full(len(x), (n0 + 1) // self.stride))
            return None
        n = S["n"]
        raw = {"stat": S["kl"].copy(), "baseline": S["mean"].copy(), "scale": S["sigma"].copy(),
               "level": S["recent"].copy()}
        S["xbuf"][np.arange(len(x)), n % self.stride] = x
        n += 1
        due = np.flatnonzero(n % self.stride == 0)
        if len(due):
            sub = {k: v[due] for k, v in S.items()}
            self._process(sub, slice(None), n[due] // self.stride)
            for k, v in sub.items():
                S[k][due] = v
        raw["warm"] = n > self.warmup + self.recent_span
        return raw

    def _process(self, S, which, blocks) -> None:
        """A full buffer of ``stride`` points per series: histograms first, then the baselines."""
        xb = S["xbuf"][which]
        m, v, r = S["mean"][which], S["var"][which], S["recent"][which]
        sigma = np.maximum(np.sqrt(v), scale_floor(m, self.rel_scale, self.min_scale))
        dev = xb - m[:, None]
        dev32 = dev.astype(np.float32)
        started = blocks >= 2
        if started.any():
            z = dev32 / sigma[:, None].astype(np.float32)
            if started.all():
                self._histograms(S, which, z, blocks - 1)
            else:
                sub = {k: val[started] for k, val in S.items()}
                self._histograms(sub, slice(None), z[started], blocks[started] - 1)
                for k, val in sub.items():
                    S[k][started] = val
        s1 = _row_sums(dev32).astype(np.float64) / self.stride
        dev32 *= dev32
        bv = _row_sums(dev32).astype(np.float64) / self.stride
        bv -= s1 * s1
        np.maximum(bv, 0.0, out=bv)
        bm = m + s1
        A = np.maximum(self._A_ref, 1.0 / blocks)
        Ar = np.maximum(self._A_rec, 1.0 / blocks)
        d = s1
        if started.any():
            lim = 3.0 * sigma if started.all() else np.where(started, 3.0 * sigma, np.inf)
            np.clip(d, -lim, lim, out=d)
        S["mean"][which] = m + A * d
        S["var"][which] = (1.0 - A) * (v + A * d * d) + A * bv
        S["recent"][which] = r + Ar * (bm - r)
        S["sigma"][which] = np.maximum(np.sqrt(S["var"][which]), scale_floor(S["mean"][which], self.rel_scale,
                                                                               self.min_scale))

    def _histograms(self, S, which, z, nb) -> None:
        """Fold a block of standardised points into both histograms; recompute KL.

        Each histogram moves towards the block's bin frequencies by one block's EWMA weight, or
        by ``1 / nb`` for the ``nb``-th block seen (a plain average while history is short).
        Bins are counted with byte compares and popcounts (float32 is plenty for binning).
        """
        z += self._offset
        np.maximum(z, 0.0, out=z)
        np.minimum(z, self.bins - 0.5, out=z)
        k = z.astype(np.int8)
        rows, width = k.shape
        if width % 8:
            k = np.concatenate([k, np.full((rows, 8 - width % 8), -1, np.int8)], axis=1)
        freq = np.empty((rows, self.bins))
        for b in range(self.bins):
            words = np.bitwise_count((k == b).view(np.uint64))
            freq[:, b] = _row_sums(words.astype(np.uint16))  # (uint8 sums would wrap at stride 256)
        freq *= 1.0 / self.stride
        w_rec = np.maximum(1.0 - self._decay_rec, 1.0 / nb)[:, None]
        w_ref = np.maximum(1.0 - self._decay_ref, 1.0 / nb)[:, None]
        rec = S["rec"][which] * (1.0 - w_rec)
        rec += freq * w_rec
        ref = S["ref"][which] * (1.0 - w_ref)
        ref += freq * w_ref
        hot = S["hot"][which]
        calm = (S["kl"][which] < self.threshold) | (hot * self.stride >= self.relearn)
        if not calm.all():
            ref = np.where(calm[:, None], ref, S["ref"][which])
        S["rec"][which], S["ref"][which] = rec, ref
        p = rec + self.eps
        q = ref + self.eps
        np.divide(p, q, out=q)
        ratio = np.log(q.astype(np.float32))
        terms = p * ratio
        kl = _row_sums(terms)
        S["kl"][which] = kl
        S["hot"][which] = (hot + 1) * (kl >= self.threshold)


def _row_sums(a: np.ndarray) -> np.ndarray:
    """Sum of each row, column by column (the same order for one row or many)."""
    acc = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        acc += a[:, j]
    return acc


class Drift(SeriesDetector):
    """KL-divergence drift detector for one series.

    Parameters
    ----------
    bins : int, default 8
        Histogram bins of one sigma of ``z`` each, the outer two open.
    ref_span : float, default 1024
        Memory of the reference histogram (and the baseline mean / sigma) in points.
    recent_span : float, default 64
        Memory of the recent histogram in points.
    threshold : float, default 0.65
        Flag when ``KL(recent || reference) >= threshold`` nats (score 0.5 there).
    warmup : int, default 512
        Points that only train the baseline and the histograms (a multiple of ``stride``);
        verdicts start ``recent_span`` points later.
    stride : int, default 32
        Block length: histograms, baselines and the statistic are updated every ``stride``
        points (the statistic is held in between).
    relearn : int, default 256
        Points above the threshold after which the reference learns again.
    eps : float, default 1e-3
        Added to every bin's probability (the divergence stays finite).
    rel_scale, min_scale : float
        Sigma floor ``max(min_scale, rel_scale * |mean|)``.
    name : str
        Names the series in errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(5)
    >>> ramp = np.r_[np.zeros(800), np.linspace(0, 8, 200)]   # slow drift of 8 sigma
    >>> values = 10 + rng.normal(0, 1, 1000) + ramp
    >>> det = Drift(name="disk_used")
    >>> first = next(i for i, v in enumerate(values) if det.update(i, v).flag)
    >>> 800 < first < 920
    True
    """

    bank_class = DriftBank

    def __init__(self, bins: int = 8, ref_span: float = 1024.0, recent_span: float = 64.0, threshold: float = 0.65,
                 warmup: int = 512, stride: int = 32, relearn: int = 256, eps: float = 1e-3,
                 rel_scale: float = 1e-4, min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, bins=bins, ref_span=ref_span, recent_span=recent_span, threshold=threshold,
                         warmup=warmup, stride=stride, relearn=relearn, eps=eps, rel_scale=rel_scale,
                         min_scale=min_scale)
