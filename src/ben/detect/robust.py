"""Robust detector: distance from the median of a recent window, in MAD-sigmas.

The window holds the last ``window`` points of the series (a ring buffer); its median and MAD
(scaled by 1.4826 to estimate sigma for normal data) are recomputed every ``refresh`` points,
and the point is compared with the baseline *before* it joins the window. When more than half
the window is one value (MAD = 0), the mean absolute deviation around the median times 1.2533
is used instead, then the floor ``max(min_scale, rel_scale * |median|)``. Recomputing every
``refresh`` points rather than every point is what makes this cheap across 10,000 series
(a sort of the window per refresh); the median of a 64-point window moves slowly anyway.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import Detector, DetectorBank, check_param, scale_floor, score_of

__all__ = ["RobustBank", "Robust"]

MAD_SIGMA = 1.4826
MEANAD_SIGMA = 1.2533


class RobustBank(DetectorBank):
    """Median/MAD detector over many series (see :class:`Robust` for the parameters)."""

    kind = "robust"
    _param_names = ("window", "threshold", "refresh", "warmup", "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, window: int = 64, threshold: float = 5.0, refresh: int = 16,
                 warmup: int = 32, rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("window", window, 3, integer=True)
        check_param("threshold", threshold, 1e-9)
        check_param("refresh", refresh, 1, window, integer=True)
        check_param("warmup", warmup, 3, integer=True)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.window, self.threshold, self.refresh = int(window), float(threshold), int(refresh)
        self.warmup, self.rel_scale, self.min_scale = int(warmup), float(rel_scale), float(min_scale)
        super().__init__(n_series)

    def _fields(self):
        return {"buf": ((self.window,), np.float64, np.nan), "median": ((), np.float64, 0.0),
                "scale": ((), np.float64, 0.0), "run": ((), np.int64, 0)}

    def _step(self, rows, x):
        n = self.n[rows]
        med, scale = self.median[rows], self.scale[rows]
        sigma = np.maximum(scale, scale_floor(med, self.rel_scale, self.min_scale))
        z = (x - med) / sigma
        nmin = int(n.min()) if len(n) else 0
        warm = True if nmin >= self.warmup else n >= self.warmup
        score, flag = score_of(np.abs(z), self.threshold, warm)
        run = np.where(flag, self.run[rows] + 1, 0)
        pos = n % self.window
        if isinstance(rows, slice) and len(n) and pos[0] == pos[-1] and (pos == pos[0]).all():
            self.buf[:, pos[0]] = x
        else:
            self.buf[np.arange(self.n_series)[rows], pos] = x
        n1 = n + 1
        self.n[rows], self.run[rows] = n1, run
        due = (n1 % self.refresh == 0) | (n1 == self.warmup)
        if due.any():
            which = np.arange(self.n_series)[rows][due]
            self._refresh(which, np.minimum(n1[due], self.window))
        aux = {"baseline": med, "scale": sigma, "observed": x, "deviation_sigma": z, "statistic": np.abs(z),
               "threshold": np.full(len(x), self.threshold), "excursion_points": run, "points": n1}
        return score, flag, aux

    def _refresh(self, which: np.ndarray, count: np.ndarray) -> None:
        """Median and robust scale of the filled part of the window (NaNs sort last)."""
        s = np.sort(self.buf[which], axis=1)
        lo, hi = ((count - 1) // 2)[:, None], (count // 2)[:, None]
        med = 0.5 * (np.take_along_axis(s, lo, 1) + np.take_along_axis(s, hi, 1))
        dev = np.abs(s - med)
        dev.sort(axis=1)
        mad = 0.5 * (np.take_along_axis(dev, lo, 1) + np.take_along_axis(dev, hi, 1))[:, 0]
        scale = mad * MAD_SIGMA
        zero = scale == 0
        if zero.any():
            total = np.nansum(dev[zero], axis=1)
            scale[zero] = total / count[zero] * MEANAD_SIGMA
        self.median[which], self.scale[which] = med[:, 0], scale


class Robust(Detector):
    """Median/MAD detector for one series.

    Parameters
    ----------
    window : int, default 64
        Points in the baseline window.
    threshold : float, default 5.0
        Flag when ``|x - median| / (1.4826 * MAD) >= threshold`` (score 0.5 there).
    refresh : int, default 16
        The median and MAD are recomputed every ``refresh`` points (and at warm-up).
    warmup : int, default 32
        Points learned before the first verdict.
    rel_scale, min_scale : float
        Sigma floor ``max(min_scale, rel_scale * |median|)``.
    name : str
        Names the series in errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(11)
    >>> values = 50 + rng.standard_t(3, 300)   # heavy tails: 130 is a genuine t(3) outlier
    >>> values[200:203] = 75
    >>> det = Robust(name="queue_depth")
    >>> flagged = [i for i, v in enumerate(values) if det.update(i, v).flag]
    >>> flagged
    [130, 200, 201, 202]
    """

    bank_class = RobustBank

    def __init__(self, window: int = 64, threshold: float = 5.0, refresh: int = 16, warmup: int = 32,
                 rel_scale: float = 1e-4, min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, window=window, threshold=threshold, refresh=refresh, warmup=warmup,
                         rel_scale=rel_scale, min_scale=min_scale)
