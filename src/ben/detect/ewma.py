"""EWMA z-score detector: how far is this point from an exponentially weighted mean, in sigmas.

Mean and variance are exponentially weighted with ``alpha = 2 / (span + 1)``, the mean following
a local linear trend (``trend``, Holt; the baseline is the one-step forecast); for the first
``span`` points the weight is ``1 / (n + 1)`` (plain running mean and variance), so the
baseline is unbiased from the start. Once warm, the update uses the deviation winsorised at
``clip`` sigmas, so one huge spike does not blow up the variance and hide the next one.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import DetectorBank
from ben.detect.primitives import check_param, sigma_of
from ben.detect.single import SeriesDetector

__all__ = ["EWMABank", "EWMA"]


class EWMABank(DetectorBank):
    """EWMA z-score over many series (see :class:`EWMA` for the parameters)."""

    kind = "ewma"
    _param_names = ("span", "threshold", "warmup", "clip", "rel_scale", "min_scale", "trend")

    def __init__(self, n_series: int = 1, *, span: float = 32.0, threshold: float = 4.0, warmup: int = 24,
                 clip: float = 4.0, rel_scale: float = 1e-4, min_scale: float = 1e-9, trend: float = 0.2):
        check_param("span", span, 1.0)
        check_param("trend", trend, 0.0, 1.0)
        self.trend = float(trend)
        check_param("threshold", threshold, 1e-9)
        check_param("warmup", warmup, 1, integer=True)
        check_param("clip", clip, 1e-9)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.span, self.threshold, self.warmup = float(span), float(threshold), int(warmup)
        self.clip, self.rel_scale, self.min_scale = float(clip), float(rel_scale), float(min_scale)
        self._alpha = 2.0 / (self.span + 1.0)
        self._steady = max(self.warmup, int(np.ceil(self.span)))
        super().__init__(n_series)

    def restore(self, checkpoint: dict) -> None:
        """As :meth:`DetectorBank.restore`; checkpoints from before ``trend`` existed restore as
        ``trend=0`` (the plain EWMA they were)."""
        super().restore(_with_trend(checkpoint))

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> EWMABank:
        return super().from_checkpoint(_with_trend(checkpoint))

    def _fields(self):
        f = np.float64
        fields = {"mean": ((), f, 0.0), "floor": ((), f, 0.0), "var": ((), f, 0.0)}
        if self.trend:
            fields["slope"] = ((), f, 0.0)
        return fields

    _kernel = True
    _replay = True

    def _fast_kernel(self, kern, X, score, flag, want_raw=True):
        shape = X.shape if want_raw else (0, 0)
        raw = {k: np.empty(shape) for k in self._raw}
        slope = self.slope if self.trend else self.mean[:0]
        kern.ewma_block(X=X, n0=int(self.n[0]), mean=self.mean, var=self.var, floor=self.floor, slope=slope,
                        run=self.run, has_trend=bool(self.trend), trend=self.trend, alpha=self._alpha,
                        keep=1.0 - self._alpha, rel_scale=self.rel_scale, min_scale=self.min_scale,
                        clip=self.clip, threshold=self.threshold, want_raw=want_raw, stat=raw["stat"],
                        base=raw["baseline"], scale=raw["scale"], dev=raw["deviation_sigma"], score=score,
                        flag=flag)
        return raw if want_raw else None

    def _recur(self, S, x, out, t, n0):
        m, v, n = S["mean"], S["var"], S["n"]
        fast = out is not None
        nmin = n0 if fast else (int(n.min()) if len(n) else 0)
        sigma = sigma_of(S, n0, self.rel_scale, self.min_scale, out["scale"][t] if fast else None)
        if self.trend:
            m += S["slope"]  # the baseline is the one-step forecast of a local linear trend
        base = out["baseline"][t] if fast else np.empty_like(m)
        base[...] = m
        d = np.subtract(x, m)
        z = np.divide(d, sigma, out=out["deviation_sigma"][t] if fast else None)
        stat = np.abs(z, out=out["stat"][t] if fast else None)
        warm = True if nmin >= self.warmup else n >= self.warmup
        dc = np.clip(z, -self.clip, self.clip, out=d)
        if nmin < self.warmup:
            dc[~warm] = z[~warm]
        dc *= sigma
        a = self._alpha if nmin >= self.span else np.maximum(self._alpha, 1.0 / (n + 1.0))
        step = dc * a
        m += step
        if self.trend:
            slope_step = step * self.trend
            if nmin == 0:
                slope_step *= n > 0  # the first point only starts the level
            S["slope"] += slope_step
        step *= dc
        v += step
        v *= 1.0 - a
        if fast:
            return None
        n += 1
        return {"stat": stat, "warm": warm, "baseline": base, "scale": sigma, "deviation_sigma": z}


def _with_trend(checkpoint: dict) -> dict:
    params = checkpoint.get("params")
    if isinstance(params, dict) and "trend" not in params:
        return {**checkpoint, "params": {**params, "trend": 0.0}}
    return checkpoint


class EWMA(SeriesDetector):
    """EWMA z-score detector for one series.

    Parameters
    ----------
    span : float, default 32
        Memory of the baseline in points (``alpha = 2 / (span + 1)``).
    threshold : float, default 4.0
        Flag when ``|x - mean| / sigma >= threshold`` (score 0.5 there).
    warmup : int, default 24
        Points learned before the first verdict (score 0, no flag).
    clip : float, default 4.0
        Once warm, deviations beyond ``clip`` sigmas are clipped before updating the baseline.
    rel_scale, min_scale : float, default 1e-4, 1e-9
        Sigma is never taken below ``max(min_scale, rel_scale * |mean|)`` (flat series).
    trend : float, default 0.2
        Gain of a local linear trend (Holt): the baseline is the one-step forecast
        ``mean + slope``, the slope learning ``trend * alpha`` of each (winsorised) deviation.
        It keeps the baseline on smooth swings (seasonality), where a plain EWMA lags by about
        ``span / 2`` points; 0 gives the plain EWMA.
    name : str
        Names the series in errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> values = 100 + rng.normal(0, 2, 200)
    >>> values[150] = 140  # a spike of 20 sigma
    >>> det = EWMA(name="p99_ms")
    >>> verdicts = [det.update(i * 1_000_000_000, v) for i, v in enumerate(values)]
    >>> [i for i, v in enumerate(verdicts) if v.flag]
    [150]
    >>> ev = verdicts[150].evidence
    >>> round(ev["baseline"]), round(ev["observed"]), ev["deviation_sigma"] > 10
    (100, 140, True)
    """

    bank_class = EWMABank

    def __init__(self, span: float = 32.0, threshold: float = 4.0, warmup: int = 24, clip: float = 4.0,
                 rel_scale: float = 1e-4, min_scale: float = 1e-9, trend: float = 0.2, *, name: str = "series"):
        super().__init__(name=name, span=span, threshold=threshold, warmup=warmup, clip=clip,
                         rel_scale=rel_scale, min_scale=min_scale, trend=trend)
