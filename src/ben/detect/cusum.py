"""Two-sided CUSUM detector: accumulated evidence of a sustained shift up or down.

Each point is standardised against a slower EWMA baseline (``z = (x - mean) / sigma``) and
accumulated as ``hi = max(0, hi + z - k)`` and ``lo = max(0, lo - z - k)``; the statistic is
``max(hi, lo)`` in sigma units, flagged at ``h``. ``k`` is half the smallest shift (in sigmas)
worth finding quickly. ``excursion_points`` counts points since the statistic was last zero
(the classical change-point estimate), and ``deviation_sigma = +/-(k + S / points)`` estimates
the size of the shift, so ``baseline + deviation_sigma * scale`` is the level observed since.
The statistic is capped at ``cap * h`` so a long excursion ends soon after the data settle.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import BIG, Detector, DetectorBank, check_param, scale_floor, score_of

__all__ = ["CUSUMBank", "CUSUM"]


class CUSUMBank(DetectorBank):
    """Two-sided CUSUM over many series (see :class:`CUSUM` for the parameters)."""

    kind = "cusum"
    _param_names = ("span", "k", "h", "warmup", "clip", "cap", "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, span: float = 64.0, k: float = 1.0, h: float = 6.0, warmup: int = 32,
                 clip: float = 3.0, cap: float = 2.0, rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("span", span, 1.0)
        check_param("k", k, 0.0)
        check_param("h", h, 1e-9)
        check_param("warmup", warmup, 1, integer=True)
        check_param("clip", clip, 1e-9)
        check_param("cap", cap, 1.0)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.span, self.k, self.h, self.warmup = float(span), float(k), float(h), int(warmup)
        self.clip, self.cap = float(clip), float(cap)
        self.rel_scale, self.min_scale = float(rel_scale), float(min_scale)
        self._alpha = 2.0 / (self.span + 1.0)
        super().__init__(n_series)

    def _fields(self):
        return {"mean": ((), np.float64, 0.0), "var": ((), np.float64, 0.0), "hi": ((), np.float64, 0.0),
                "lo": ((), np.float64, 0.0), "run_hi": ((), np.int64, 0), "run_lo": ((), np.int64, 0)}

    def _step(self, rows, x):
        m, v, n = self.mean[rows], self.var[rows], self.n[rows]
        nmin = int(n.min()) if len(n) else 0
        all_warm = nmin >= self.warmup
        warm = True if all_warm else n >= self.warmup
        sigma = np.sqrt(v)
        np.maximum(sigma, scale_floor(m, self.rel_scale, self.min_scale), out=sigma)
        d = x - m
        z = d / sigma
        np.clip(z, -BIG, BIG, out=z)
        limit = self.cap * self.h
        hi = self.hi[rows] + z
        hi -= self.k
        np.clip(hi, 0.0, limit, out=hi)
        lo = self.lo[rows] - z
        lo -= self.k
        np.clip(lo, 0.0, limit, out=lo)
        if not all_warm:
            hi *= warm
            lo *= warm
        run_hi = np.where(hi > 0, self.run_hi[rows] + 1, 0)
        run_lo = np.where(lo > 0, self.run_lo[rows] + 1, 0)
        up = hi >= lo
        stat = np.maximum(hi, lo)
        run = np.where(up, run_hi, run_lo)
        score, flag = score_of(stat.copy(), self.h, warm)
        a = self._alpha if nmin >= self.span else np.maximum(self._alpha, 1.0 / (n + 1.0))
        lim = sigma * self.clip
        if not all_warm:
            lim[~warm] = np.inf
        dc = np.clip(d, -lim, lim)
        new_m = m + a * dc
        new_v = (v + a * dc * dc) * (1.0 - a)
        self.mean[rows], self.var[rows], self.n[rows] = new_m, new_v, n + 1
        self.hi[rows], self.lo[rows], self.run_hi[rows], self.run_lo[rows] = hi, lo, run_hi, run_lo
        shift = stat / np.maximum(run, 1)
        shift += self.k
        dev = np.where(stat > 0, np.where(up, shift, -shift), z)
        aux = {"baseline": m, "scale": sigma, "observed": x, "deviation_sigma": dev, "statistic": stat,
               "threshold": np.full(len(x), self.h), "excursion_points": run, "points": n + 1,
               "level": m + dev * sigma}
        return score, flag, aux


class CUSUM(Detector):
    """Two-sided CUSUM detector for one series.

    Parameters
    ----------
    span : float, default 64
        Memory of the baseline mean and sigma in points.
    k : float, default 1.0
        Allowance in sigmas: shifts below ``k`` sigma are not accumulated (ignores slow wander
        and seasonality); shifts of ``2k`` sigma and more are found in about ``h / k`` points.
    h : float, default 6.0
        Decision threshold on the statistic (sigma units); score 0.5 there.
    warmup : int, default 32
        Points learned before the first verdict.
    clip : float, default 3.0
        Once warm, deviations beyond ``clip`` sigmas are clipped before updating the baseline.
    cap : float, default 2.0
        The statistic is capped at ``cap * h``.
    rel_scale, min_scale : float
        Sigma floor ``max(min_scale, rel_scale * |mean|)``.
    name : str
        Names the series in errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> values = np.r_[120 + rng.normal(0, 5, 100), 140 + rng.normal(0, 5, 50)]  # +4 sigma at 100
    >>> det = CUSUM(name="p99_ms")
    >>> flagged = [i for i, v in enumerate(values) if det.update(i, v).flag]
    >>> flagged[0]
    102
    >>> det = CUSUM(name="p99_ms")
    >>> ev = [det.update(i, v) for i, v in enumerate(values)][104].evidence
    >>> round(ev["baseline"]), round(ev["level"]), int(ev["excursion_points"])
    (122, 146, 5)
    """

    bank_class = CUSUMBank

    def __init__(self, span: float = 64.0, k: float = 1.0, h: float = 6.0, warmup: int = 32, clip: float = 3.0,
                 cap: float = 2.0, rel_scale: float = 1e-4, min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, span=span, k=k, h=h, warmup=warmup, clip=clip, cap=cap,
                         rel_scale=rel_scale, min_scale=min_scale)
