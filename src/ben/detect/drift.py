"""Drift detector: KL divergence of the recent distribution from a long reference.

Each point is standardised against a slow EWMA baseline (``ref_span`` points),
``z = (x - mean) / sigma``, and binned on fixed edges: the normal quantiles ``i / bins`` (a
normal series fills those bins evenly) plus tail edges at +/-4 and +/-6 sigma, so a level that
leaves the historical range lands in bins the reference has (almost) never seen. After
``warmup`` points two exponentially weighted histograms of ``z`` follow the series: a long *reference*
(``ref_span`` points) and a short *recent* one (``recent_span``). Every ``stride`` points the
statistic ``KL(recent || reference)`` (nats, with ``eps`` added to every bin) is recomputed
and held in between: drift is slow, and the logarithms are the expensive part across 10,000
series. Seasonality inside the historical range moves mass between bins the reference already
knows; a level that leaves the range lands where the reference is empty and scores high.
Evidence: ``baseline`` is the long EWMA mean, ``observed`` the recent EWMA mean.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from ben.detect.base import Detector, DetectorBank, check_param, scale_floor, score_of

__all__ = ["DriftBank", "Drift"]


class DriftBank(DetectorBank):
    """KL drift detector over many series (see :class:`Drift` for the parameters)."""

    kind = "drift"
    _param_names = ("bins", "ref_span", "recent_span", "threshold", "warmup", "stride", "eps",
                    "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, bins: int = 8, ref_span: float = 512.0, recent_span: float = 32.0,
                 threshold: float = 1.5, warmup: int = 64, stride: int = 4, eps: float = 1e-3,
                 rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("bins", bins, 2, 64, integer=True)
        check_param("ref_span", ref_span, 1.0)
        check_param("recent_span", recent_span, 1.0, ref_span)
        check_param("threshold", threshold, 1e-9)
        check_param("warmup", warmup, 2, integer=True)
        check_param("stride", stride, 1, integer=True)
        check_param("eps", eps, 1e-12, 1.0)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.bins, self.ref_span, self.recent_span = int(bins), float(ref_span), float(recent_span)
        self.threshold, self.warmup, self.stride, self.eps = float(threshold), int(warmup), int(stride), float(eps)
        self.rel_scale, self.min_scale = float(rel_scale), float(min_scale)
        self._a_ref = 2.0 / (self.ref_span + 1.0)
        self._a_rec = 2.0 / (self.recent_span + 1.0)
        normal = NormalDist()
        inner = [normal.inv_cdf(i / self.bins) for i in range(1, self.bins)]
        self._edges = np.array([-6.0, -4.0, *inner, 4.0, 6.0])
        cdf = np.array([0.0, *(normal.cdf(e) for e in self._edges), 1.0])
        self._prior = np.diff(cdf)
        super().__init__(n_series)

    def _fields(self):
        b = len(self._edges) + 1
        return {"mean": ((), np.float64, 0.0), "var": ((), np.float64, 0.0), "recent": ((), np.float64, 0.0),
                "ref": ((b,), np.float64, 0.0), "rec": ((b,), np.float64, 0.0), "kl": ((), np.float64, 0.0),
                "run": ((), np.int64, 0)}

    def _step(self, rows, x):
        n = self.n[rows]
        nmin = int(n.min()) if len(n) else 0
        m, v, r = self.mean[rows], self.var[rows], self.recent[rows]
        sigma = np.maximum(np.sqrt(v), scale_floor(m, self.rel_scale, self.min_scale))
        d = x - m
        z = d / sigma
        kl = self.kl[rows]
        n1 = n + 1
        if n1.max(initial=0) >= self.warmup:
            kl = self._histogram_step(rows, z, n1, nmin + 1 >= self.warmup, kl)
        a = self._a_ref if nmin >= self.ref_span else np.maximum(self._a_ref, 1.0 / n1)
        ar = self._a_rec if nmin >= self.recent_span else np.maximum(self._a_rec, 1.0 / n1)
        self.mean[rows] = m + a * d
        self.var[rows] = (v + a * d * d) * (1.0 - a)
        new_r = r + ar * (x - r)
        self.recent[rows] = new_r
        self.n[rows] = n1
        lag = n1 - self.warmup
        warm = True if nmin + 1 - self.warmup >= self.recent_span else lag >= self.recent_span
        score, flag = score_of(kl.copy(), self.threshold, warm)
        run = np.where(flag, self.run[rows] + 1, 0)
        self.run[rows] = run
        aux = {"baseline": m, "scale": sigma, "observed": new_r, "deviation_sigma": (new_r - m) / sigma,
               "statistic": kl, "threshold": np.full(len(x), self.threshold), "excursion_points": run,
               "points": n1}
        return score, flag, aux

    def _histogram_step(self, rows, z, n1, all_started: bool, kl: np.ndarray) -> np.ndarray:
        """Add ``z`` to the histograms of series past warm-up; refresh KL where due.

        The reference learns only while the statistic is below the threshold, so a drift does not
        teach the reference its own new normal; the baseline mean keeps moving, so it ends.
        """
        ids = np.arange(self.n_series)[rows]
        if not all_started:
            keep = n1 >= self.warmup
            ids, z, n1, kl_sub = ids[keep], z[keep], n1[keep], kl[keep]
        else:
            kl_sub = kl
        if int(n1.min()) <= self.warmup:
            fresh = ids[n1 == self.warmup]
            self.ref[fresh] = self._prior
            self.rec[fresh] = self._prior
        k = np.searchsorted(self._edges, z)
        ref, rec = self.ref[ids], self.rec[ids]
        line = np.arange(len(ids))
        calm = (kl_sub < self.threshold).astype(np.float64)
        a_ref = calm * self._a_ref
        ref *= (1.0 - a_ref)[:, None]
        ref[line, k] += a_ref
        rec *= 1.0 - self._a_rec
        rec[line, k] += self._a_rec
        self.ref[ids], self.rec[ids] = ref, rec
        due = (n1 - self.warmup) % self.stride == 0
        if due.any():
            p, q = rec[due] + self.eps, ref[due] + self.eps
            value = (p * np.log(p / q)).sum(axis=1)
            kl_sub = kl_sub.copy()
            kl_sub[due] = value
            self.kl[ids[due]] = value
            if all_started:
                return kl_sub
            kl = kl.copy()
            kl[keep] = kl_sub
        return kl


class Drift(Detector):
    """KL-divergence drift detector for one series.

    Parameters
    ----------
    bins : int, default 8
        Inner histogram bins (normal quantiles of ``z``); four tail bins are added.
    ref_span : float, default 512
        Memory of the reference histogram (and the baseline mean / sigma) in points.
    recent_span : float, default 32
        Memory of the recent histogram in points.
    threshold : float, default 1.5
        Flag when ``KL(recent || reference) >= threshold`` nats (score 0.5 there).
    warmup : int, default 64
        Points that only train the baseline; verdicts start ``recent_span`` points later.
    stride : int, default 4
        The KL statistic is recomputed every ``stride`` points and held in between.
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
    >>> ramp = np.r_[np.zeros(400), np.linspace(0, 8, 200)]   # slow drift of 8 sigma
    >>> values = 10 + rng.normal(0, 1, 600) + ramp
    >>> det = Drift(name="disk_used")
    >>> first = next(i for i, v in enumerate(values) if det.update(i, v).flag)
    >>> 400 < first < 520
    True
    """

    bank_class = DriftBank

    def __init__(self, bins: int = 8, ref_span: float = 512.0, recent_span: float = 32.0, threshold: float = 1.5,
                 warmup: int = 64, stride: int = 4, eps: float = 1e-3, rel_scale: float = 1e-4,
                 min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, bins=bins, ref_span=ref_span, recent_span=recent_span, threshold=threshold,
                         warmup=warmup, stride=stride, eps=eps, rel_scale=rel_scale, min_scale=min_scale)
