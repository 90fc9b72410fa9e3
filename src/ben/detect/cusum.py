"""Two-sided CUSUM detector: accumulated evidence of a sustained shift up or down.

Each point is standardised against a slower EWMA baseline (``z = (x - mean) / sigma``) and
accumulated as ``hi = max(0, hi + z - k)`` and ``lo = max(0, lo - z - k)``; the statistic is
``max(hi, lo)`` in sigma units, flagged at ``h``. ``k`` is half the smallest shift (in sigmas)
worth finding quickly. ``excursion_points`` counts points since the statistic was last zero
(the classical change-point estimate), and ``deviation_sigma = +/-(k + S / points)`` (0 while
the statistic is 0) estimates
the size of the shift, so ``baseline + deviation_sigma * scale`` is the level observed since.
The statistic is capped at ``cap * h`` so a long excursion ends soon after the data settle.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import DetectorBank
from ben.detect.primitives import block_runs, check_param, last_runs, sigma_of
from ben.detect.single import SeriesDetector

__all__ = ["CUSUMBank", "CUSUM"]


class CUSUMBank(DetectorBank):
    """Two-sided CUSUM over many series (see :class:`CUSUM` for the parameters)."""

    kind = "cusum"
    _param_names = ("span", "k", "h", "trend", "warmup", "clip", "cap", "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, span: float = 16.0, k: float = 1.0, h: float = 6.0, trend: float = 0.2,
                 warmup: int = 32,
                 clip: float = 3.0, cap: float = 2.0, rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("span", span, 1.0)
        check_param("k", k, 0.0)
        check_param("h", h, 1e-9)
        check_param("warmup", warmup, 1, integer=True)
        check_param("clip", clip, 1e-9)
        check_param("cap", cap, 1.0)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        check_param("trend", trend, 0.0, 1.0)
        self.span, self.k, self.h, self.warmup = float(span), float(k), float(h), int(warmup)
        self.trend = float(trend)
        self.clip, self.cap = float(clip), float(cap)
        self.rel_scale, self.min_scale = float(rel_scale), float(min_scale)
        self._alpha = 2.0 / (self.span + 1.0)
        self._steady = max(self.warmup, int(np.ceil(self.span)))
        super().__init__(n_series)

    def _fields(self):
        f, i = np.float64, np.int64
        return {"mean": ((), f, 0.0), "slope": ((), f, 0.0), "floor": ((), f, 0.0), "var": ((), f, 0.0),
                "hi": ((), f, 0.0), "lo": ((), f, 0.0), "run_hi": ((), i, 0), "run_lo": ((), i, 0)}

    _raw = ("baseline", "scale", "hi", "lo")

    _kernel = True
    _replay = True

    def _fast_kernel(self, kern, X, score, flag, want_raw=True):
        run_hi0, run_lo0 = (self.run_hi.copy(), self.run_lo.copy()) if want_raw else (None, None)
        shape = X.shape if want_raw else (0, 0)
        raw = {k: np.empty(shape) for k in ("stat", "baseline", "scale", "hi", "lo")}
        kern.cusum_block(X=X, n0=int(self.n[0]), mean=self.mean, var=self.var, floor=self.floor, slope=self.slope,
                         hi=self.hi, lo=self.lo, run_hi=self.run_hi, run_lo=self.run_lo, run=self.run,
                         has_trend=bool(self.trend), trend=self.trend, alpha=self._alpha,
                         keep=1.0 - self._alpha, rel_scale=self.rel_scale, min_scale=self.min_scale,
                         clip=self.clip, k=self.k, limit=self.cap * self.h, threshold=self.h, want_raw=want_raw,
                         stat=raw["stat"], base=raw["baseline"], scale=raw["scale"], out_hi=raw["hi"],
                         out_lo=raw["lo"], score=score, flag=flag)
        if not want_raw:
            return None
        raw["run_hi"] = _LazyRuns(raw["hi"], run_hi0)
        raw["run_lo"] = _LazyRuns(raw["lo"], run_lo0)
        return raw

    def _recur(self, S, x, out, t, n0):
        m, v, n = S["mean"], S["var"], S["n"]
        fast = out is not None
        nmin = n0 if fast else (int(n.min()) if len(n) else 0)
        sigma = sigma_of(S, n0, self.rel_scale, self.min_scale, out["scale"][t] if fast else None)
        base = out["baseline"][t] if fast else np.empty_like(m)
        if self.trend:
            m += S["slope"]  # the baseline is the one-step forecast of a local linear trend
        base[...] = m
        z = np.subtract(x, m)
        z /= sigma
        warm = True if nmin >= self.warmup else n >= self.warmup
        limit = self.cap * self.h
        hi, lo = S["hi"], S["lo"]
        hi += z
        hi -= self.k
        np.clip(hi, 0.0, limit, out=hi)
        lo -= z
        lo -= self.k
        np.clip(lo, 0.0, limit, out=lo)
        if nmin < self.warmup:
            hi *= warm
            lo *= warm
        if not fast:
            run_hi, run_lo = S["run_hi"], S["run_lo"]
            run_hi += 1
            run_hi *= hi > 0
            run_lo += 1
            run_lo *= lo > 0
        dc = np.clip(z, -self.clip, self.clip)
        if nmin < self.warmup:
            dc[~warm] = z[~warm]
        dc *= sigma
        a = self._alpha if nmin >= self.span else np.maximum(self._alpha, 1.0 / (n + 1.0))
        step = dc * a
        m += step
        if self.trend:
            S["slope"] += step * self.trend
        step *= dc
        v += step
        v *= 1.0 - a
        if fast:
            out["hi"][t], out["lo"][t] = hi, lo
            return None
        n += 1
        return {"baseline": base, "scale": sigma, "hi": hi.copy(), "lo": lo.copy(), "run_hi": run_hi.copy(),
                "run_lo": run_lo.copy(), "warm": warm}

    def _finish(self, raw):
        """The statistic: the larger side (the rest of the evidence is derived on demand)."""
        raw["stat"] = np.maximum(raw["hi"], raw["lo"])
        return raw

    def _fast_raw(self, X):
        """Per-step recursion; the excursion lengths are rebuilt from the block's two sides."""
        run_hi0, run_lo0 = self.run_hi.copy(), self.run_lo.copy()
        raw = super()._fast_raw(X)
        up, down = raw["hi"] > 0, raw["lo"] > 0
        self.run_hi[:], self.run_lo[:] = last_runs(up, run_hi0), last_runs(down, run_lo0)
        raw["run_hi"] = _LazyRuns(raw["hi"], run_hi0)
        raw["run_lo"] = _LazyRuns(raw["lo"], run_lo0)
        return raw

    def _derive(self, aux: dict) -> dict:
        """Excursion length and shift estimate, for the points whose evidence is wanted."""
        hi, lo, stat = aux["hi"], aux["lo"], aux["statistic"]
        up = hi >= lo
        run_hi, run_lo = (r.full() if isinstance(r, _LazyRuns) else r for r in (aux["run_hi"], aux["run_lo"]))
        aux["run_hi"], aux["run_lo"] = run_hi, run_lo
        run = np.where(up, run_hi, run_lo)
        shift = stat / np.maximum(run, 1)
        shift += self.k
        dev = np.where(up, shift, -shift)
        dev *= stat > 0
        aux.update(excursion_points=run, deviation_sigma=dev, level=aux["baseline"] + dev * aux["scale"])
        return aux

    @property
    def threshold(self) -> float:
        return self.h


class _LazyRuns:
    """Run lengths of ``values > 0`` over a block, computed only for the points whose evidence
    is asked for."""

    def __init__(self, values: np.ndarray, run0: np.ndarray):
        self.values, self.run0 = values, run0

    def __getitem__(self, key):
        step, series = key
        step, series = np.asarray(step), np.asarray(series)
        runs = block_runs(self.values[:, series] > 0, self.run0[series])
        return runs[step, np.arange(len(series))]

    def full(self) -> np.ndarray:
        return block_runs(self.values > 0, self.run0)


class CUSUM(SeriesDetector):
    """Two-sided CUSUM detector for one series.

    Parameters
    ----------
    span : float, default 16
        Memory of the baseline mean and sigma in points.
    k : float, default 1.0
        Allowance in sigmas: shifts below ``k`` sigma are not accumulated (ignores slow wander
        and seasonality); shifts of ``2k`` sigma and more are found in about ``h / k`` points.
    h : float, default 6.0
        Decision threshold on the statistic (sigma units); score 0.5 there.
    trend : float, default 0.2
        Gain of a local linear trend (Holt, as :class:`~ben.detect.EWMA`'s): the baseline is the
        one-step forecast ``mean + slope``; 0 gives a plain EWMA baseline.
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
    >>> values = np.r_[120 + rng.normal(0, 5, 100), 150 + rng.normal(0, 5, 50)]  # +6 sigma at 100
    >>> det = CUSUM(name="p99_ms")
    >>> verdicts = [det.update(i, v) for i, v in enumerate(values)]
    >>> [i for i, v in enumerate(verdicts) if v.flag][:3]
    [101, 102, 103]
    >>> ev = verdicts[101].evidence
    >>> round(ev["baseline"]), round(ev["level"]), int(ev["excursion_points"])
    (122, 156, 2)
    """

    bank_class = CUSUMBank

    def __init__(self, span: float = 16.0, k: float = 1.0, h: float = 6.0, trend: float = 0.2, warmup: int = 32,
                 clip: float = 3.0, cap: float = 2.0, rel_scale: float = 1e-4, min_scale: float = 1e-9, *,
                 name: str = "series"):
        super().__init__(name=name, span=span, k=k, h=h, trend=trend, warmup=warmup, clip=clip, cap=cap,
                         rel_scale=rel_scale, min_scale=min_scale)
