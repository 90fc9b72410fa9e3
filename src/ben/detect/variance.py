"""Variance-change detector: a one-sided CUSUM on the bounded size of point-to-point changes.

The detector watches ``d = x - x_prev``: a level shift moves one ``d``, a spike two, a drift
or a seasonal swing adds a small mean to ``d`` (a fraction of a sigma per point), while a noise
increase scales every ``d``. ``d`` is standardised by a slow reference sigma (``1.2533`` times
the exponentially weighted mean of ``|d|`` over ``ref_span`` points, ``|d|`` winsorised at
``clip`` sigmas), and its bounded magnitude ``u = |z| / (1 + |z|)`` is compared with a slow
reference (exponentially weighted mean and standard deviation of ``u`` over ``ref_span``
points): ``w = (u - ref) / sd``, accumulated as ``S = clip(S + w - k, 0, cap * h)``, flagged at
``h``.

Why this transform: a scale change multiplies ``|z|`` and so *shifts* ``u`` (by about 1.2
standard deviations of ``u`` for a threefold noise increase on Gaussian noise, 1.9 for
sixfold), while ``u < 1`` bounds what one point can add (about 3.3 for Gaussian noise), so a
spike or a step stays below ``h`` and heavy tails are tamed. (It does the job of ``log|z|``
without a logarithm per point, which would double the detector's cost.) Only increases are
accumulated: they are what an incident looks like. The references keep learning (slowly), so
a lasting new scale is absorbed after a few ``ref_span``.

Evidence: ``baseline`` is the previous value, ``scale`` the reference sigma of ``d``
(refreshed, with the sd of ``u``, every 16 points of the series), ``deviation_sigma`` the
change in those sigmas, and ``ratio`` the factor by which the noise grew, estimated from the
mean ``u`` since the excursion began.
"""

from __future__ import annotations

import numpy as np

from ben.detect.base import DetectorBank
from ben.detect.cusum import _LazyRuns
from ben.detect.primitives import FLOOR_EVERY, MEANAD_SIGMA, check_param, last_runs, scale_floor
from ben.detect.single import SeriesDetector

__all__ = ["VarianceBank", "Variance"]

MIN_SD = 0.05  # floor of the standard deviation of u (quantised and flat series); 0.19 for Gaussian


class VarianceBank(DetectorBank):
    """Variance-increase CUSUM over many series (see :class:`Variance` for the parameters)."""

    kind = "variance"
    _param_names = ("ref_span", "k", "h", "warmup", "clip", "cap", "rel_scale", "min_scale")

    def __init__(self, n_series: int = 1, *, ref_span: float = 256.0, k: float = 0.5, h: float = 8.0,
                 warmup: int = 64, clip: float = 3.0, cap: float = 3.0, rel_scale: float = 1e-4,
                 min_scale: float = 1e-9):
        check_param("ref_span", ref_span, 1.0)
        check_param("k", k, 0.0)
        check_param("h", h, 1e-9)
        check_param("warmup", warmup, 1, integer=True)
        check_param("clip", clip, 1e-9)
        check_param("cap", cap, 1.0)
        check_param("rel_scale", rel_scale, 0.0)
        check_param("min_scale", min_scale, 1e-300)
        self.ref_span = float(ref_span)
        self.k, self.h, self.warmup, self.clip, self.cap = float(k), float(h), int(warmup), float(clip), float(cap)
        self.rel_scale, self.min_scale = float(rel_scale), float(min_scale)
        self._beta = 2.0 / (self.ref_span + 1.0)
        self._steady = max(self.warmup, int(np.ceil(self.ref_span)))
        super().__init__(n_series)

    def _fields(self):
        f = np.float64
        return {"last": ((), f, 0.0), "ref": ((), f, 0.0), "ref_var": ((), f, 0.0), "mad": ((), f, 0.0),
                "sigma": ((), f, 1.0), "sd": ((), f, MIN_SD), "s": ((), f, 0.0), "run_s": ((), np.int64, 0)}

    _raw = ("stat", "baseline", "scale", "deviation_sigma", "sd", "ref")

    @property
    def threshold(self) -> float:
        return self.h

    _kernel = True
    _replay = True

    def _fast_kernel(self, kern, X, score, flag, want_raw=True):
        run0 = self.run_s.copy() if want_raw else None
        shape = X.shape if want_raw else (0, 0)
        raw = {k: np.empty(shape) for k in self._raw}
        kern.variance_block(X=X, n0=int(self.n[0]), last=self.last, ref=self.ref, ref_var=self.ref_var, mad=self.mad,
                            sigma=self.sigma, sd=self.sd, s=self.s, run_s=self.run_s, run=self.run,
                            beta=self._beta, keep=1.0 - self._beta, rel_scale=self.rel_scale,
                            min_scale=self.min_scale, clip=self.clip, k=self.k, limit=self.cap * self.h,
                            threshold=self.h, want_raw=want_raw, stat=raw["stat"], base=raw["baseline"],
                            scale=raw["scale"], dev=raw["deviation_sigma"], out_sd=raw["sd"],
                            out_ref=raw["ref"], score=score, flag=flag)
        if not want_raw:
            return None
        raw["run_s"] = _LazyRuns(raw["stat"], run0)
        return raw

    def _recur(self, S, x, out, t, n0):
        n, ref, rv, mad = S["n"], S["ref"], S["ref_var"], S["mad"]
        fast = out is not None
        nmin = n0 if fast else (int(n.min()) if len(n) else 0)
        sd, sigma = S["sd"], S["sigma"]
        if fast:
            if n0 % FLOOR_EVERY == 0:
                self._refresh(S, slice(None))
        else:
            due = (n % FLOOR_EVERY == 0) | (n < FLOOR_EVERY)  # (sigma settles from the start)
            if due.any():
                self._refresh(S, due)
        last = S["last"]
        d = np.subtract(x, last, out=out["deviation_sigma"][t] if fast else None)
        if fast:
            out["baseline"][t] = last
            last[...] = x
        else:
            base = last.copy()
            last[...] = x
            if nmin == 0:
                d *= n > 0  # the first point has no predecessor
        ad = np.abs(d)
        u = np.add(ad, sigma)
        np.divide(ad, u, out=u)
        z = np.subtract(u, ref)
        z /= sd
        warm = True if nmin >= self.warmup else n >= self.warmup
        s = S["s"]
        s += z
        s -= self.k
        np.maximum(s, 0.0, out=s)
        np.minimum(s, self.cap * self.h, out=s)
        if nmin < self.warmup:
            s *= warm
        if not fast:
            run_s = S["run_s"]
            run_s += 1
            run_s *= s > 0
        # references of u and |d|: running means until ref_span, then exponential
        # (the first point has no difference yet)
        if nmin >= self.ref_span:
            b = self._beta
        else:
            b = np.maximum(self._beta, 1.0 / np.maximum(n, 1.0))
            b *= n > 0
        z *= sd  # u - ref
        step = z * b
        ref += step
        step *= z
        rv += step
        rv *= 1.0 - b
        if nmin < self.warmup:
            lim = np.where(warm, sigma * self.clip, np.inf)
        else:
            lim = sigma * self.clip
        np.minimum(ad, lim, out=ad)
        ad -= mad
        ad *= b
        mad += ad
        d /= sigma
        if fast:
            out["stat"][t], out["scale"][t], out["sd"][t], out["ref"][t] = s, sigma, sd, ref
            return None
        n += 1
        return {"stat": s.copy(), "warm": warm, "baseline": base, "scale": sigma.copy(), "deviation_sigma": d,
                "sd": sd.copy(), "ref": ref.copy(), "run_s": run_s.copy()}

    def _refresh(self, S, which) -> None:
        """Every ``FLOOR_EVERY`` points: the floor, the sd of ``u`` and the reference sigma."""
        floor = scale_floor(S["last"][which], self.rel_scale, self.min_scale)
        S["sd"][which] = np.maximum(np.sqrt(S["ref_var"][which]), MIN_SD)
        S["sigma"][which] = np.maximum(S["mad"][which] * MEANAD_SIGMA, floor)

    def _fast_raw(self, X):
        """Per-step recursion; the excursion lengths are rebuilt from the block's statistic."""
        run0 = self.run_s.copy()
        raw = super()._fast_raw(X)

        self.run_s[:] = last_runs(raw["stat"] > 0, run0)
        raw["run_s"] = _LazyRuns(raw["stat"], run0)
        return raw

    def _derive(self, aux: dict) -> dict:
        """Excursion length and the estimated noise ratio, for the points whose evidence is wanted."""
        run = aux.pop("run_s")
        run = run.full() if isinstance(run, _LazyRuns) else run
        stat = aux["statistic"]
        u = stat / np.maximum(run, 1)
        u += self.k
        u *= aux["sd"]
        u += aux["ref"]  # the mean u since the excursion began
        np.minimum(u, 0.999, out=u)
        ref = np.minimum(aux["ref"], 0.999)
        ratio = (u / (1.0 - u)) / np.maximum(ref / (1.0 - ref), 1e-12)
        ratio[stat <= 0] = 1.0
        aux.update(excursion_points=run, ratio=ratio)
        return aux


class Variance(SeriesDetector):
    """Variance-increase detector for one series (CUSUM on the bounded magnitude of the change
    from the previous point).

    Parameters
    ----------
    ref_span : float, default 256
        Memory of the references (the sigma of the point-to-point change, and the mean and sd of
        ``u``) in points.
    k : float, default 0.5
        Allowance in standard deviations of ``u``: a noise increase of about 1.5x and more
        accumulates (3x shifts ``u`` by about 1.2 sd on Gaussian noise).
    h : float, default 8.0
        Decision threshold on the statistic; score 0.5 there.
    warmup : int, default 64
        Points learned before the first verdict.
    clip : float, default 3.0
        Changes beyond ``clip`` sigmas are clipped before updating the reference sigma.
    cap : float, default 3.0
        The statistic is capped at ``cap * h`` (above 2: the monitor lets this detector alarm
        alone at about twice its threshold).
    rel_scale, min_scale : float
        Sigma floor ``max(min_scale, rel_scale * |previous value|)`` (flat series).
    name : str
        Names the series in errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(5)
    >>> values = 50 + rng.normal(0, 1, 600)
    >>> values[400:500] = 50 + rng.normal(0, 4, 100)  # the noise grows fourfold at 400
    >>> det = Variance(name="latency")
    >>> verdicts = [det.update(i, v) for i, v in enumerate(values)]
    >>> flags = [v.flag for v in verdicts]
    >>> first = flags.index(True)
    >>> 400 <= first < 430, any(flags[:400])
    (True, False)
    >>> 2 < verdicts[first + 10].evidence["ratio"] < 8
    True
    """

    bank_class = VarianceBank

    def __init__(self, ref_span: float = 256.0, k: float = 0.5, h: float = 8.0, warmup: int = 64, clip: float = 3.0,
                 cap: float = 3.0, rel_scale: float = 1e-4, min_scale: float = 1e-9, *, name: str = "series"):
        super().__init__(name=name, ref_span=ref_span, k=k, h=h, warmup=warmup, clip=clip, cap=cap,
                         rel_scale=rel_scale, min_scale=min_scale)
