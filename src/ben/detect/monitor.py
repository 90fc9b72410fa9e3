"""Monitors: every detector plus noise control, emitting anomaly episodes.

:class:`MonitorBank` is the vectorised form the spine runs (many series, time-major blocks);
:class:`SeriesMonitor` is the same code for one series. Counters (monotone totals that reset)
are watched as their per-point increase, a reset counting as an increase from zero.
Bad points are reported per point in banks (``status``) and raised by :class:`SeriesMonitor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ben.detect.base import (DetectorBank, Verdict, _as_batch, _as_block, _block_fast_ok, block_runs, check_points,
                             kernels, last_runs, rounds)
from ben.detect.cusum import CUSUMBank
from ben.detect.drift import DriftBank
from ben.detect.episode import Episode
from ben.detect.errors import DetectorError
from ben.detect.ewma import EWMABank
from ben.detect.noise import NoiseControl, combine
from ben.detect.robust import RobustBank
from ben.detect.seasonal import SeasonalBank
from ben.detect.state import BankState
from ben.detect.variance import VarianceBank

__all__ = ["MonitorBank", "MonitorResult", "MonitorVerdict", "DETECTORS"]

DETECTORS: dict[str, type[DetectorBank]] = {"ewma": EWMABank, "cusum": CUSUMBank, "robust": RobustBank,
                                            "drift": DriftBank, "variance": VarianceBank}
_BASELINE_ORDER = ("cusum", "ewma", "robust", "drift", "variance")
SUSTAINED = ("cusum", "drift", "variance")  # sustained-change detectors: may alarm alone (NoiseControl.solo)


class MonitorResult(NamedTuple):
    """Combined ``scores``, ``flags`` (in an episode), ``status`` per point, and episode events."""

    scores: np.ndarray
    flags: np.ndarray
    status: np.ndarray
    episodes: list[Episode]


@dataclass(frozen=True, slots=True)
class MonitorVerdict(Verdict):
    """A :class:`~ben.detect.Verdict` plus the episode events this point caused."""

    episodes: tuple[Episode, ...] = ()


class _NoiseState(BankState):
    kind = "noise"

    def __init__(self, n_series: int = 1, *, flap_episodes: int = 2):
        self.flap_episodes = int(flap_episodes)
        super().__init__(n_series)

    def _fields(self):
        f = np.float64
        return {"ca": ((), np.int64, 0), "cn": ((), np.int64, 0), "in_ep": ((), bool, False),
                "muted": ((), bool, False), "mute_until": ((), np.int64, 0), "mute_ts": ((), np.int64, 0),
                "ring": ((self.flap_episodes,), np.int64, -(2 ** 62)), "opens": ((), np.int64, 0),
                "counter": ((), bool, False), "last_x": ((), f, np.nan),
                "ep_start": ((), np.int64, 0), "ep_points": ((), np.int64, 0), "ep_peak": ((), f, 0.0),
                "ep_peak_ts": ((), np.int64, 0), "ep_peak_x": ((), f, 0.0), "ep_mask": ((), np.int64, 0),
                "ep_base": ((), f, 0.0), "ep_scale": ((), f, 1.0), "ep_sum": ((), f, 0.0),
                "ep_cusum": ((), f, 0.0), "ep_cusum_pts": ((), np.int64, 0), "ep_new": ((), bool, False)}

    def params(self):
        return {"flap_episodes": self.flap_episodes}


class _SlowView:
    """Detector outputs of one round of single points (``_step`` results)."""

    def __init__(self, outs):
        self.outs = outs

    def flags(self, d: int, t: int, cols: np.ndarray) -> np.ndarray:
        return self.outs[d][1][cols]

    def aux(self, d: int, t: int, cols: np.ndarray) -> dict:
        return {k: v[cols] for k, v in self.outs[d][2].items()}


class _FastView:
    """Detector outputs of a block chunk (``_block`` results, evidence on demand)."""

    def __init__(self, dets, outs):
        self.dets, self.outs = dets, outs

    def flags(self, d: int, t: int, cols: np.ndarray) -> np.ndarray:
        return self.outs[d][1][t, cols]

    def aux(self, d: int, t: int, cols: np.ndarray) -> dict:
        return self.dets[d]._aux_at(np.full(len(cols), t), cols)


class MonitorBank:
    """All detectors and noise control over ``n_series`` series.

    Parameters
    ----------
    n_series : int
        Series held (``grow`` adds more).
    detectors : sequence of str
        Names from ``DETECTORS`` (default: all five).
    noise : NoiseControl
        Warm-up, combination, dwell/hysteresis, flap suppression.
    params : dict
        Per-detector keyword arguments, e.g. ``{"cusum": {"h": 8.0}}``.
    counters : array of bool, optional
        Which series are counters (watched as increases).
    seasonal : bool or dict, default True
        Per-series seasonal baseline (:class:`~ben.detect.seasonal.SeasonalBank`; a dict gives its
        parameters): series found periodic during their first ``history`` points feed the
        detectors their deseasonalised value; the others are untouched. ``False`` disables it.
    """

    def __init__(self, n_series: int = 1, *, detectors=tuple(DETECTORS), noise: NoiseControl | None = None,
                 params: dict | None = None, counters=None, seasonal: bool | dict = True):
        self.noise = noise or NoiseControl()
        if seasonal is True:
            seasonal = {}
        self.season = SeasonalBank(n_series, **seasonal) if isinstance(seasonal, dict) else None
        params = params or {}
        unknown = set(detectors) - set(DETECTORS) or set(params) - set(detectors)
        if unknown or not detectors:
            raise DetectorError(f"unknown or unused detectors {sorted(unknown)}; known: {sorted(DETECTORS)}")
        if self.noise.weights is not None and len(self.noise.weights) != len(detectors):
            raise DetectorError(f"weights has {len(self.noise.weights)} entries for {len(detectors)} detectors")
        self.names = tuple(detectors)
        self.dets = [DETECTORS[d](n_series, **params.get(d, {})) for d in self.names]
        self.st = _NoiseState(n_series, flap_episodes=self.noise.flap_episodes)
        self._base = next(self.names.index(d) for d in _BASELINE_ORDER if d in self.names)
        self._cusum = self.names.index("cusum") if "cusum" in self.names else None
        self.last_scores: dict[str, float] = {}
        self._solo_ok = tuple(name in SUSTAINED for name in self.names)
        if counters is not None:
            self.st.counter[:] = np.asarray(counters, dtype=bool)

    @property
    def n_series(self) -> int:
        return self.st.n_series

    # ---- state -------------------------------------------------------------------------
    def checkpoint(self) -> dict:
        """Plain data: noise params, monitor state, and each detector's checkpoint by name."""
        out = {"noise": self.noise.params(), "monitor": self.st.checkpoint(),
               "detectors": {name: d.checkpoint() for name, d in zip(self.names, self.dets)}}
        if self.season is not None:
            out["seasonal"] = self.season.checkpoint()
        return out

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> MonitorBank:
        """A monitor holding ``checkpoint`` (one without ``seasonal``, from before it existed: seasonal off)."""
        dets = checkpoint["detectors"]
        seasonal = checkpoint["seasonal"]["params"] if "seasonal" in checkpoint else False
        bank = cls(0, detectors=tuple(dets), noise=NoiseControl.from_params(checkpoint["noise"]),
                   params={k: v["params"] for k, v in dets.items()}, seasonal=seasonal)
        bank.restore(checkpoint)
        return bank

    def restore(self, checkpoint: dict) -> None:
        """Replace the state with a checkpoint of a monitor with the same configuration.

        A checkpoint without ``seasonal`` (taken before the seasonal baseline existed, or with it
        off) turns it off: its detectors have seen raw values.
        """
        if set(checkpoint["detectors"]) != set(self.names):
            raise DetectorError(f"checkpoint detectors {sorted(checkpoint['detectors'])} differ from "
                                f"{sorted(self.names)}", problem="bad_state")
        self.st.restore(checkpoint["monitor"])
        for name, d in zip(self.names, self.dets):
            d.restore(checkpoint["detectors"][name])
        if "seasonal" in checkpoint:
            if self.season is None:
                self.season = SeasonalBank(0, **checkpoint["seasonal"]["params"])
            self.season.restore(checkpoint["seasonal"])
        else:
            self.season = None

    def select(self, i: int) -> dict:
        """Checkpoint of series ``i`` alone (for :meth:`SeriesMonitor.from_state`)."""
        out = {"noise": self.noise.params(), "monitor": self.st.select(i),
               "detectors": {name: d.select(i) for name, d in zip(self.names, self.dets)}}
        if self.season is not None:
            out["seasonal"] = self.season.select(i)
        return out

    def grow(self, n_series: int, counters=None) -> None:
        """Hold ``n_series`` series; the new ones start fresh (``counters`` for the new ones)."""
        old = self.n_series
        self.st.grow(n_series)
        for d in self.dets:
            d.grow(n_series)
        if self.season is not None:
            self.season.grow(n_series)
        if counters is not None:
            self.st.counter[old:] = np.asarray(counters, dtype=bool)

    # ---- updates -------------------------------------------------------------------------
    def update(self, series_index, ts_ns, values) -> MonitorResult:
        """Feed points of many series (same series in time order); bad points get a status."""
        idx, ts, x = _as_batch(series_index, ts_ns, values, self.n_series)
        scores, flags = np.zeros(len(x)), np.zeros(len(x), dtype=bool)
        status = np.zeros(len(x), dtype=np.uint8)
        events: list[Episode] = []
        for sel in rounds(idx):
            rows = idx[sel]
            st = check_points(rows, ts[sel], x[sel], self.st.last_ts)
            status[sel] = st
            if st.any():
                sel, rows = sel[st == 0], rows[st == 0]
            if len(sel) == 0:
                continue
            xs = self._rate(rows, x[sel][None, :])[0] if self.st.counter.any() else x[sel]
            xd = self.season.transform(rows, xs[None, :])[0] if self.season is not None else xs
            outs = [d._step(rows, xd) for d in self.dets]
            c = combine([o[0] for o in outs], self.noise, self._solo_ok)
            self.last_scores = {name: o[0][-1] for name, o in zip(self.names, outs)}
            view = _SlowView(outs)
            fl = self._noise(rows, c[None, :], ts[sel][None, :], xs[None, :], view, events, (xs - xd)[None, :])
            scores[sel], flags[sel] = c, fl[0]
            self.st.last_ts[rows] = ts[sel]
        return MonitorResult(scores, flags, status, events)

    def update_block(self, ts_ns, values) -> MonitorResult:
        """Feed one value per series per step, ``values`` of shape ``(steps, n_series)``: the fast path."""
        ts, x = _as_block(ts_ns, values, self.n_series)
        steps = len(ts)
        if not _block_fast_ok(ts, x, self.st.last_ts) or self.n_series == 0:
            res = self.update(np.tile(np.arange(self.n_series), steps), np.repeat(ts, self.n_series), x.reshape(-1))
            shape = x.shape
            return MonitorResult(res.scores.reshape(shape), res.flags.reshape(shape), res.status.reshape(shape),
                                 res.episodes)
        scores, flags = np.empty(x.shape), np.empty(x.shape, dtype=bool)
        events: list[Episode] = []
        everything = slice(None)
        for c0 in range(0, steps, DetectorBank.CHUNK):
            xc = x[c0:c0 + DetectorBank.CHUNK]
            if self.st.counter.any():
                xc = self._rate(everything, xc)
            xd = self.season.transform(self._all, xc) if self.season is not None else xc
            outs = [d._block(xd, want_aux=False) for d in self.dets]
            c = self._combine_block([o[0] for o in outs])
            tsc = np.broadcast_to(ts[c0:c0 + len(xc), None], xc.shape)
            flags[c0:c0 + len(xc)] = self._noise(everything, c, tsc, xc, _FastView(self.dets, outs), events,
                                                 None if xd is xc else xc - xd)
            scores[c0:c0 + len(xc)] = c
        if steps:
            self.st.last_ts[:] = ts[-1]
        return MonitorResult(scores, flags, np.zeros(x.shape, dtype=np.uint8), events)

    def _combine_block(self, scores: list[np.ndarray]) -> np.ndarray:
        """:func:`combine` of a chunk's scores, compiled for the default rule (k = 2, not 4 detectors)."""
        nc = self.noise
        kern = kernels() if nc.weights is None and min(nc.k, len(scores)) == 2 and len(scores) != 4 else None
        if kern is None:
            return combine(scores, nc, self._solo_ok)
        out = np.empty(scores[0].shape)
        shift = nc.solo - 0.5 if any(self._solo_ok) and nc.solo < 1.0 else -1.0
        kern.combine_k2(scores=tuple(scores), solo_ok=np.array(self._solo_ok), shift=shift, out=out)
        return out

    def _rate(self, rows, X):
        """Counters become their increase per point (a reset counts from zero; the first point is 0)."""
        st = self.st
        is_c = st.counter[rows]
        prev = np.vstack([st.last_x[rows][None, :], X[:-1]])
        inc = X - prev
        inc[inc < 0] = X[inc < 0]
        inc[np.isnan(inc)] = 0.0
        st.last_x[rows] = np.where(is_c, X[-1], np.nan)
        return np.where(is_c, inc, X)

    @property
    def _all(self) -> np.ndarray:
        if len(getattr(self, "_arange", ())) != self.n_series:
            self._arange = np.arange(self.n_series)
        return self._arange

    def _noise(self, rows, C, TS, X, view, events, off=None) -> np.ndarray:
        """Warm-up, dwell, hysteresis and flap suppression over a chunk ``(steps, series)``."""
        st, nc = self.st, self.noise
        steps = len(C)
        ids = np.arange(self.n_series)[rows]
        n0 = st.n[rows]
        flags = np.zeros(C.shape, dtype=bool)
        kern = kernels() if isinstance(rows, slice) and C.flags.c_contiguous else None
        if kern is not None:  # compiled scan for the busy series (few); the quiet ones count normal points
            busy = np.empty(len(ids), dtype=bool)
            kern.noise_busy(C=C, n0=n0, warmup=nc.warmup, in_ep=st.in_ep, muted=st.muted, ca=st.ca, cn=st.cn, busy=busy)
            st.n[rows] = n0 + steps
            cols = np.flatnonzero(busy)
            if len(cols) == 0:
                return flags
            A = C[:, cols] >= 0.5
            if int(n0[cols].min()) < nc.warmup:
                A &= (n0[cols][None, :] + np.arange(steps)[:, None]) >= nc.warmup
        else:
            A = C >= 0.5
            if int(n0.min()) < nc.warmup:
                A &= (n0[None, :] + np.arange(steps)[:, None]) >= nc.warmup
            st.n[rows] = n0 + steps
            busy = A.any(axis=0)
            busy |= st.in_ep[rows]
            busy |= st.muted[rows]
            busy |= st.ca[rows] > 0
            quiet = ids[~busy]
            st.cn[quiet] += steps
            cols = np.flatnonzero(busy)
            if len(cols) == 0:
                return flags
            A = A[:, cols]
        cols, A = self._settle_simple(ids, cols, A, C)
        if len(cols) == 0:
            return flags
        b = ids[cols]
        for t in range(steps):
            a, c = A[t], C[t, cols]
            n = n0[cols] + t
            st.ca[b] = (st.ca[b] + 1) * a
            st.cn[b] = (st.cn[b] + 1) * ~a
            muted = st.muted[b]
            if muted.any():
                self._unmute(b[muted], n[muted], TS[t, cols][muted], events)
            start = a & ~st.in_ep[b] & ~st.muted[b] & ((st.ca[b] >= nc.dwell) | (c >= nc.instant))
            if start.any():
                self._open(b, cols, start, n, t, TS, view, events, off)
            live = st.in_ep[b]
            if live.any():
                self._track(b[live], cols[live], t, a[live], c[live], X, TS, view, events)
            flags[t, cols] = st.in_ep[b]
        return flags

    def _settle_simple(self, ids, cols, A, C):
        """Busy series that are neither in an episode nor muted and open none in this chunk only
        count anomalous and normal points: done for the whole chunk at once (the same counts the
        per-step loop gives). Returns the other columns, and their ``A``, for that loop."""
        st, nc = self.st, self.noise
        b = ids[cols]
        ca0 = st.ca[b]
        starts = A & ((block_runs(A, ca0) >= nc.dwell) | (C[:, cols] >= nc.instant))
        simple = ~(st.in_ep[b] | st.muted[b] | starts.any(axis=0))
        if simple.any():
            sb = b[simple]
            st.ca[sb] = last_runs(A[:, simple], ca0[simple])
            st.cn[sb] = last_runs(~A[:, simple], st.cn[sb])
            rest = ~simple
            return cols[rest], A[:, rest]
        return cols, A

    def _unmute(self, ids, n, ts, events):
        st = self.st
        done = n + 1 >= st.mute_until[ids]
        for i, tsi in zip(ids[done], ts[done]):
            events.append(Episode(int(i), "mute", "closed", int(st.mute_ts[i]), int(tsi), 0, 0.0, int(tsi),
                                  float("nan"), (), float("nan"), float("nan"), float("nan"), 0.0))
        st.muted[ids[done]] = False

    def _open(self, b, cols, start, n, t, TS, view, events, off=None):
        st, nc = self.st, self.noise
        o_ids, o_cols, o_n = b[start], cols[start], n[start]
        if nc.flap_window > 0:
            slot = st.opens[o_ids] % nc.flap_episodes
            flap = o_n - st.ring[o_ids, slot] <= nc.flap_window
            for i, col, ni in zip(o_ids[flap], o_cols[flap], o_n[flap]):
                tsi = int(TS[t, col])
                st.muted[i], st.mute_until[i], st.mute_ts[i] = True, ni + nc.mute_points, tsi
                events.append(Episode(int(i), "mute", "open", tsi, None, 0, 0.0, tsi, float("nan"), (),
                                      float("nan"), float("nan"), float("nan"), 0.0))
            ok = ~flap
            st.ring[o_ids[ok], slot[ok]] = o_n[ok]
            st.opens[o_ids[ok]] += 1
            o_ids, o_cols = o_ids[ok], o_cols[ok]
        if len(o_ids) == 0:
            return
        aux = view.aux(self._base, t, o_cols)
        st.ep_start[o_ids] = TS[t, o_cols]
        st.ep_points[o_ids], st.ep_peak[o_ids], st.ep_mask[o_ids], st.ep_sum[o_ids] = 0, -1.0, 0, 0.0
        st.ep_base[o_ids], st.ep_scale[o_ids] = aux["baseline"], aux["scale"]
        if off is not None:  # deseasonalised baselines: add back the profile at this phase
            st.ep_base[o_ids] += off[t, o_cols]
        st.in_ep[o_ids] = True
        st.ep_new[o_ids] = True

    def _track(self, ids, cols, t, a, c, X, TS, view, events):
        st, nc = self.st, self.noise
        h_ids, h_cols, h_c = ids[a], cols[a], c[a]
        st.ep_points[h_ids] += 1
        st.ep_sum[h_ids] += X[t, h_cols]
        for bit in range(len(self.dets)):
            fired = view.flags(bit, t, h_cols)
            st.ep_mask[h_ids[fired]] |= 1 << bit
        peak = h_c > st.ep_peak[h_ids]
        p_ids, p_cols = h_ids[peak], h_cols[peak]
        st.ep_peak[p_ids], st.ep_peak_ts[p_ids], st.ep_peak_x[p_ids] = h_c[peak], TS[t, p_cols], X[t, p_cols]
        if self._cusum is not None and len(p_ids):
            aux = view.aux(self._cusum, t, p_cols)
            st.ep_cusum[p_ids], st.ep_cusum_pts[p_ids] = aux["statistic"], aux["excursion_points"]
        for i in ids[st.ep_new[ids]]:
            events.append(self._episode(int(i), "open", None))
        st.ep_new[ids] = False
        closing = ids[st.cn[ids] >= nc.clear]
        for i, col in zip(closing, cols[st.cn[ids] >= nc.clear]):
            events.append(self._episode(int(i), "closed", int(TS[t, col])))
        st.in_ep[closing] = False

    def _episode(self, i: int, state: str, end_ts: int | None) -> Episode:
        st = self.st
        pts = int(st.ep_points[i])
        scale = float(st.ep_scale[i])
        names = tuple(name for bit, name in enumerate(self.names) if int(st.ep_mask[i]) >> bit & 1)
        return Episode(i, "anomaly", state, int(st.ep_start[i]), end_ts, pts, float(st.ep_peak[i]),
                       int(st.ep_peak_ts[i]), float(st.ep_peak_x[i]), names, float(st.ep_base[i]), scale,
                       float(st.ep_sum[i] / max(pts, 1)), float((st.ep_peak_x[i] - st.ep_base[i]) / scale),
                       float(st.ep_cusum[i]), int(st.ep_cusum_pts[i]))

    def open_episodes(self) -> list[Episode]:
        """The episodes open now, with their current figures."""
        return [self._episode(int(i), "open", None) for i in np.flatnonzero(self.st.in_ep)]
