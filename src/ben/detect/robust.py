"""Robust detector: distance from the median of a recent window, in MAD-sigmas.

The window holds the last ``window`` points of the series (a ring buffer); its median and low
MAD (the ``(window + 1) // 2``-th smallest absolute deviation, as R's ``mad(low=TRUE)``; scaled
by 1.4826 to estimate sigma for normal data) are recomputed every ``refresh`` points,
and the point is compared with the baseline *before* it joins the window. When more than half
the window is one value (MAD = 0), the mean absolute deviation around the median times 1.2533
is used instead, then the floor ``max(min_scale, rel_scale * |median|)``. Recomputing every
``refresh`` points rather than every point is what makes this cheap across 10,000 series
(one sort of the window per refresh). With the defaults (``window=32``, ``refresh=16``) the
baseline is the median of the last 32 points as of the latest refresh (at most 16 points old;
refreshing every 32 points lagged seasonal swings enough to cause false alarms).
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import DetectorBank
from ben.detect.primitives import BIG, MEANAD_SIGMA, check_param, held, scale_floor
from ben.detect.single import SeriesDetector

__all__ = ["RobustBank", "Robust"]

MAD_SIGMA = 1.4826


class RobustBank(DetectorBank):
    """Median/MAD detector over many series (see :class:`Robust` for the parameters)."""

    kind = "robust"
    _param_names = ("window", "threshold", "refresh", "warmup", "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, window: int = 32, threshold: float = 5.0, refresh: int = 16,
                 warmup: int = 32, rel_scale: float = 1e-4, min_scale: float = 1e-9):
        check_param("window", window, 3, integer=True)
        check_param("threshold", threshold, 1e-9)
        check_param("refresh", refresh, 1, window, integer=True)
        check_param("warmup", warmup, 3, integer=True)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.window, self.threshold, self.refresh = int(window), float(threshold), int(refresh)
        self.warmup, self.rel_scale, self.min_scale = int(warmup), float(rel_scale), float(min_scale)
        self._steady = self.warmup
        super().__init__(n_series)

    def _fields(self):
        return {"buf": ((self.window,), np.float64, np.nan), "median": ((), np.float64, 0.0),
                "sigma": ((), np.float64, 1.0)}

    def _recur(self, S, x, out, t, n0):
        n, med, sigma = S["n"], S["median"], S["sigma"]
        fast = out is not None
        if fast:
            base, scale = out["baseline"][t], out["scale"][t]
            base[...], scale[...] = med, sigma
        else:
            base, scale = med.copy(), sigma.copy()
        z = np.subtract(x, med, out=out["deviation_sigma"][t] if fast else None)
        z /= sigma
        stat = np.abs(z, out=out["stat"][t] if fast else None)
        if fast:
            S["buf"][:, n0 % self.window] = x
            n1 = n0 + 1
            if n1 % self.refresh == 0 or n1 == self.warmup:
                self._refresh(S, slice(None), np.full(len(x), min(n1, self.window)))
            return None
        nmin = int(n.min()) if len(n) else 0
        warm = True if nmin >= self.warmup else n >= self.warmup
        S["buf"][np.arange(len(x)), n % self.window] = x
        n += 1
        due = (n % self.refresh == 0) | (n == self.warmup)
        if due.any():
            self._refresh(S, due, np.minimum(n[due], self.window))
        return {"stat": stat, "warm": warm, "baseline": base, "scale": scale, "deviation_sigma": z}

    _kernel = True

    def _fast_kernel(self, kern, X, score, flag, want_raw=True):
        """As :meth:`_fast_raw`, compiled: segments between refreshes, verdicts fused in."""
        steps, w = len(X), self.window
        n0 = int(self.n[0])
        meds, sigmas, lengths = [], [], []
        t = 0
        while t < steps:
            n = n0 + t
            seg = min(steps - t, self.refresh - n % self.refresh)
            meds.append(self.median.copy())
            sigmas.append(self.sigma.copy())
            lengths.append(seg)
            kern.robust_segment(X=X, t0=t, t1=t + seg, n0=n0, median=self.median, sigma=self.sigma, buf=self.buf,
                                threshold=self.threshold, run=self.run, score=score, flag=flag)
            if (n + seg) % self.refresh == 0:
                self._refresh_fast(kern, min(n + seg, w))
            t += seg
        base, scale = held(meds, lengths), held(sigmas, lengths)
        stat, z = _LazyZ(X, base, scale, True), _LazyZ(X, base, scale, False)
        if want_raw:
            stat, z = stat[:, :], z[:, :]
        return {"stat": stat, "baseline": base, "scale": scale, "deviation_sigma": z}

    def _refresh_fast(self, kern, count: int) -> None:
        """:meth:`_refresh` of every series: full windows compiled after numpy's sort; the rare
        series whose MAD is 0 (and partial windows) by the numpy code itself."""
        every = np.full(self.n_series, count)
        if count != self.window:
            self._refresh(self._state, slice(None), every)
            return
        sT = np.sort(self.buf.T, axis=0)
        zero = np.empty(self.n_series, dtype=bool)
        if kern.robust_full(sT=sT, median=self.median, sigma=self.sigma, rel_scale=self.rel_scale,
                            min_scale=self.min_scale, zero=zero):
            self._refresh(self._state, zero, every[zero])

    def _fast_raw(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorised over time: the baseline is constant between refreshes."""
        steps, w = len(X), self.window
        n0 = int(self.n[0])
        z = np.empty(X.shape)
        meds, sigmas, lengths = [], [], []
        t = 0
        while t < steps:
            n = n0 + t
            seg = min(steps - t, self.refresh - n % self.refresh)
            xs = X[t:t + seg]
            med, sigma = self.median.copy(), self.sigma.copy()
            meds.append(med)
            sigmas.append(sigma)
            lengths.append(seg)
            np.subtract(xs, med, out=z[t:t + seg])
            z[t:t + seg] /= sigma
            p0 = n % w
            if p0 + seg <= w:
                self.buf[:, p0:p0 + seg] = xs.T
            else:
                self.buf[:, (n + np.arange(seg)) % w] = xs.T
            if (n + seg) % self.refresh == 0:
                self._refresh(self._state, slice(None), np.full(X.shape[1], min(n + seg, w)))
            t += seg
        self.n += steps
        return {"stat": np.abs(z), "baseline": held(meds, lengths), "scale": held(sigmas, lengths),
                "deviation_sigma": z}

    def _refresh(self, S, which, count: np.ndarray) -> None:
        """Median and robust sigma of the filled part of the window (NaNs sort last)."""
        w = self.window
        if count[0] == w and (count == w).all():
            # full windows: sorted series-minor (w, n), so every step below is a contiguous pass
            sT = np.sort(S["buf"][which].T, axis=0)
            med = sT[(w - 1) // 2] + sT[w // 2]
            med *= 0.5
            mad = self._mad_full(sT, med)
            s, med2 = None, None
        else:
            s = np.sort(S["buf"][which], axis=1)
            lo, hi = ((count - 1) // 2)[:, None], (count // 2)[:, None]
            med2 = np.take_along_axis(s, lo, 1)
            med2 += np.take_along_axis(s, hi, 1)
            med2 *= 0.5
            dev = np.abs(s - med2)
            dev.sort(axis=1)
            mad = np.take_along_axis(dev, lo, 1)[:, 0]
            med = med2[:, 0]
        scale = mad * MAD_SIGMA
        zero = scale == 0
        if zero.any():
            win = sT[:, zero].T if s is None else s[zero]
            dev = np.abs(win - med[zero][:, None])
            scale[zero] = np.nansum(dev, axis=1) / count[zero] * MEANAD_SIGMA
        np.maximum(scale, scale_floor(med, self.rel_scale, self.min_scale), out=scale)
        S["median"][which], S["sigma"][which] = med, scale

    def _mad_full(self, sT: np.ndarray, med: np.ndarray) -> np.ndarray:
        """Low MAD (the ``(w + 1) // 2``-th smallest deviation) of full sorted windows ``sT``
        (shape ``(w, n)``), no second sort.

        The h values nearest the median are a contiguous run of the sorted window, so the h-th
        smallest deviation is ``min over j of max(med - s[j], s[j + h - 1] - med)``.
        """
        w = self.window
        h = (w + 1) // 2
        left = np.subtract(med, sT[:w - h + 1])
        right = np.subtract(sT[h - 1:], med)
        np.maximum(left, right, out=left)
        return left.min(axis=0)


class _LazyZ:
    """``z = (x - median) / sigma`` of a block (``stat``: ``min(|z|, BIG)``), computed for the
    points asked for only, with the operations of :meth:`RobustBank._fast_raw`."""

    def __init__(self, X: np.ndarray, median: np.ndarray, sigma: np.ndarray, stat: bool):
        self.X, self.median, self.sigma, self.stat = X, median, sigma, stat

    def __getitem__(self, key):
        z = np.subtract(self.X[key], self.median[key])
        z /= self.sigma[key]
        if self.stat:
            np.abs(z, out=z)
            np.minimum(z, BIG, out=z)
        return z


class Robust(SeriesDetector):
    """Median/MAD detector for one series.

    Parameters
    ----------
    window : int, default 32
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
    >>> values = 50 + rng.normal(0, 1, 300)
    >>> values[200:203] = 60
    >>> det = Robust(name="queue_depth")
    >>> flagged = [i for i, v in enumerate(values) if det.update(i, v).flag]
    >>> flagged
    [200, 201, 202]
    """

    bank_class = RobustBank

    def __init__(self, window: int = 32, threshold: float = 5.0, refresh: int = 16, warmup: int = 32,
                 rel_scale: float = 1e-4, min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, window=window, threshold=threshold, refresh=refresh, warmup=warmup,
                         rel_scale=rel_scale, min_scale=min_scale)
