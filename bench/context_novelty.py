"""Contextual novelty as a detector and fused with the default monitor's onsets (prototype, ADR 0047).

    python bench/context_novelty.py CACHE_DIR NAME=CORPUS_DIR [NAME=CORPUS_DIR ...] [--stage S] [--json OUT]

Implemented from published descriptions only (no code of any benchmark or detector was read):
each value is discretised relative to the series' own learned range into ``levels`` levels (plus one
symbol below and one above the range), a context is the last ``depth`` symbols, and a point's novelty
is how rarely its context was seen among all contexts so far (a context never seen scores high, a
familiar one low, so false alarms fade as the series is learned).

For every corpus the default ``SeriesMonitor`` runs once, point by point through ``update`` (the
held-out harness' API), and its onsets (the points whose verdict lists an ``"open"`` episode, with
their ``verdict.score``) are cached in CACHE_DIR. Each variant then rescores those onsets, or adds
its own, and is scored by :func:`ben.detect.nab.score_corpus` as ``ben bench detect-real`` scores the
monitor (standard profile, one threshold per corpus); a corpus without windows reports onsets per
10k points. Stages: ``base`` (the monitor alone), ``alone`` (the novelty as a detector, every point
scored), ``fuse`` / ``open`` (onsets rescored by the novelty around them; onsets opened by it),
``relent`` (a relative-entropy window score after Wang et al. 2011, alone and fused), ``kept`` (the
two variants run once on the kept-aside corpora), ``auc`` (how well each feature, at the monitor's
onsets, tells true onsets from false ones), ``missed`` (whether the novelty stands out in the
windows the monitor misses).
"""


import argparse
import json
import math
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

MAX_DEPTH = 4


@numba.njit(cache=False)  # loaded by file path (ben.cli.bench.load): no importable module to cache for
def _context_counts(x, levels, range_mode, warm, expand, delta_levels):
    """Per point and depth 1..MAX_DEPTH: how often the point's context was seen before (``counts``),
    and how many distinct contexts (``distinct``) and contexts in all (``total``) had been seen.

    ``range_mode`` 0: the range is the running min / max (a value outside it gets the symbol below /
    above, then widens it). 1: as 0 during ``warm`` points, then a value outside moves the edge only
    ``expand`` of the way towards it (one outlier does not compress every later level).
    ``delta_levels`` > 0: a symbol is the value's level and its change from the previous value,
    discretised into ``delta_levels`` levels of the largest change seen (signed)."""
    n = len(x)
    nsym = (levels + 2) * max(delta_levels, 1)
    dmax = 0.0
    counts = np.zeros((n, MAX_DEPTH))
    distinct = np.zeros((n, MAX_DEPTH))
    total = np.zeros((n, MAX_DEPTH))
    tables = []
    size = 1
    for d in range(MAX_DEPTH):
        size *= nsym
        tables.append(np.zeros(size))
    dist = np.zeros(MAX_DEPTH)
    tot = np.zeros(MAX_DEPTH)
    hist = np.zeros(MAX_DEPTH, np.int64)
    lo = x[0]
    hi = x[0]
    for i in range(n):
        v = x[i]
        if v < lo:
            sym = 0
        elif v > hi:
            sym = levels + 1
        elif hi > lo:
            sym = 1 + min(int((v - lo) / (hi - lo) * levels), levels - 1)
        else:
            sym = 1 + levels // 2
        if delta_levels > 0:
            dv = v - x[i - 1] if i > 0 else 0.0
            if dmax > 0.0:
                q = int((dv / dmax + 1.0) * 0.5 * delta_levels)
                q = min(max(q, 0), delta_levels - 1)
            else:
                q = delta_levels // 2
            dmax = max(dmax, abs(dv))
            sym = sym * delta_levels + q
        if range_mode == 0 or i < warm:
            lo = min(lo, v)
            hi = max(hi, v)
        else:
            if v < lo:
                lo += expand * (v - lo)
            if v > hi:
                hi += expand * (v - hi)
        for d in range(MAX_DEPTH - 1, 0, -1):
            hist[d] = hist[d - 1]
        hist[0] = sym
        key = 0
        for d in range(MAX_DEPTH):
            key = key * nsym + hist[d]
            if i < d:
                counts[i, d] = -1.0
                continue
            t = tables[d]
            c = t[key]
            counts[i, d] = c
            distinct[i, d] = dist[d]
            total[i, d] = tot[d]
            if c == 0.0:
                dist[d] += 1.0
            t[key] = c + 1.0
            tot[d] += 1.0
    return counts, distinct, total


@numba.njit(cache=False)  # loaded by file path (ben.cli.bench.load): no importable module to cache for
def _relative_entropy(x, bins, window, n_refs, every):
    """Relative-entropy (KL) change score per point, after the description of Wang et al. (2011):
    the histogram of the last ``window`` values (``bins`` levels of the running range) against up to
    ``n_refs`` reference histograms; a point's statistic is ``2 window KL`` to the nearest reference
    (chi-square with ``bins - 1`` degrees of freedom when the window matches it). Every ``every``
    points a window that matches no reference (statistic above the chi-square 99th percentile,
    approximated) becomes a new reference, the oldest being replaced."""
    n = len(x)
    out = np.zeros(n)
    refs = np.zeros((n_refs, bins))
    used = 0
    nxt = 0
    lo = x[0]
    hi = x[0]
    k = bins - 1.0
    # Wilson-Hilferty approximation of the chi-square 99th percentile
    z = 2.326
    crit = k * (1.0 - 2.0 / (9.0 * k) + z * math.sqrt(2.0 / (9.0 * k))) ** 3
    for i in range(n):
        lo = min(lo, x[i])
        hi = max(hi, x[i])
        if i + 1 < window:
            continue
        h = np.full(bins, 0.5 / bins)
        for j in range(i + 1 - window, i + 1):
            b = int((x[j] - lo) / (hi - lo) * bins) if hi > lo else 0
            h[min(max(b, 0), bins - 1)] += 1.0
        h /= h.sum()
        best = 1e18
        for r in range(used):
            kl = 0.0
            for b in range(bins):
                kl += h[b] * math.log(h[b] / refs[r, b])
            best = min(best, kl)
        stat = 2.0 * window * best if used else 0.0
        out[i] = stat
        if (used == 0 or stat > crit) and (i + 1 - window) % every == 0:
            refs[nxt] = h
            nxt = (nxt + 1) % n_refs
            used = min(used + 1, n_refs)
    return out


@dataclass
class Run:
    """One file: timestamps, values, windows, the monitor's onset scores (NaN elsewhere) and flags."""

    name: str
    ts: np.ndarray
    x: np.ndarray
    windows: tuple
    onset: np.ndarray
    flags: np.ndarray


def monitor_runs(corpus_dir: str, cache: Path) -> list[Run]:
    from ben.detect import SeriesMonitor
    from ben.detect.corpus import read_corpus

    key = cache / (corpus_dir.strip("/").replace("/", "_") + ".pkl")
    if key.exists():
        return pickle.loads(key.read_bytes())
    runs = []
    for s in read_corpus(corpus_dir):
        mon = SeriesMonitor(s.name)
        onset = np.full(len(s.values), np.nan)
        flags = np.zeros(len(s.values), np.bool_)
        for i, (t, v) in enumerate(zip(s.ts_ns.tolist(), s.values.tolist())):
            verdict = mon.update(t, v)
            flags[i] = verdict.flag
            if any(e.state == "open" for e in verdict.episodes):
                onset[i] = verdict.score
        runs.append(Run(s.name, np.asarray(s.ts_ns), np.asarray(s.values, float), tuple(s.windows), onset,
                        flags))
    cache.mkdir(parents=True, exist_ok=True)
    key.write_bytes(pickle.dumps(runs))
    return runs


def nab(runs: list[Run], scores: list[np.ndarray]) -> dict:
    from ben.detect.nab import PROFILES, FileLabels, probation_rows, score_corpus

    files = [FileLabels(r.name, r.ts, r.windows) for r in runs]
    out = {}
    if sum(len(r.windows) for r in runs) == 0:
        on = pts = 0
        for r, sc in zip(runs, scores):
            prob = probation_rows(len(r.ts))
            on += int(np.isfinite(sc[prob:]).sum())
            pts += len(r.ts) - prob
        return {"onsets_per_10k": round(1e4 * on / max(pts, 1), 2)}
    for key in ("standard", "low_fp"):
        out[key] = round(score_corpus(files, scores, PROFILES[key])["score"], 2)
    return out


@dataclass(frozen=True)
class Ctx:
    """One context configuration: levels, range mode, context depth (1-based) and score form."""

    levels: int = 8
    range_mode: int = 0
    depth: int = 3
    form: str = "gt"
    warm: int = 150
    expand: float = 0.1
    delta_levels: int = 0

    def key(self) -> tuple:
        return (self.levels, self.range_mode, self.warm, self.expand, self.delta_levels)


def surprisal(counts, distinct, total, depth: int, form: str) -> np.ndarray:
    """The novelty of each point's context in nats (0 where there is no context yet).

    ``gt``: a context never seen has the probability that the next context is a new one (distinct
    contexts over contexts seen, Good-Turing-like), a seen one its frequency; ``inv``: ``1 / (1 + c)``
    scaled to nats (``-ln`` of ``c / (c + 1)``, infinite-free: a new context scores ``ln(total + 1)``)."""
    c = counts[:, depth - 1]
    d = distinct[:, depth - 1]
    t = total[:, depth - 1]
    if form == "gt":
        p = np.where(c > 0, c / (t + 1.0), (d + 1.0) / (t + 1.0))
        s = -np.log(np.clip(p, 1e-12, 1.0))
    elif form == "inv":
        s = np.where(c > 0, 1.0 / (1.0 + c), 1.0) * np.log1p(t)
    else:
        raise ValueError(form)
    return np.where(c < 0, 0.0, s)


def novelty(run: Run, cfg: Ctx, memo: dict) -> np.ndarray:
    # keyed by the run itself (files of different corpora share names and lengths); the run is held
    # in the memo so that its id is not reused
    k = (id(run),) + cfg.key()
    if k not in memo:
        memo[k] = (run, _context_counts(run.x, cfg.levels, cfg.range_mode, cfg.warm, cfg.expand,
                                        cfg.delta_levels))
    return surprisal(*memo[k][1], cfg.depth, cfg.form)


def alone(s: np.ndarray, suppress: int) -> np.ndarray:
    """The novelty as a detector: every point scored (``suppress`` > 0: only a point above the
    ``suppress`` points before it)."""
    out = s / (s + 5.0)
    if suppress <= 0:
        return out
    prev = np.full(len(s), -np.inf)
    if len(s) > 1:
        pad = np.concatenate([np.full(suppress, -np.inf), s[:-1]])
        prev = np.lib.stride_tricks.sliding_window_view(pad, suppress).max(axis=1)
    keep = s > prev
    return np.where(keep, out, np.nan)


def _window_max(s: np.ndarray, i: int, back: int) -> float:
    return float(s[max(0, i - back):i + 1].max())


def fused(run: Run, s: np.ndarray, *, a: float, mid: float, back: int, mult: bool = False,
          open_at: float = math.inf, gap: int = 12, open_weight: float = 0.5) -> np.ndarray:
    """The monitor's onsets rescored by the novelty around them; with ``open_at``, a point whose
    novelty reaches it opens an onset where the monitor has no episode (one per ``gap`` points)."""
    out = run.onset.copy()
    idx = np.flatnonzero(np.isfinite(out))
    for i in idx:
        sc = out[i]
        e = 10.0 * sc / (1.0 - sc)
        nv = _window_max(s, i, back)
        e2 = e * math.exp(a * (nv - mid)) if mult else e + a * (nv - mid)
        e2 = max(e2, 1e-6)
        out[i] = e2 / (e2 + 10.0)
    if math.isfinite(open_at):
        last = -10 ** 9
        for i in range(len(s)):
            if run.flags[i] or np.isfinite(out[i]):
                last = i
                continue
            if s[i] >= open_at and i - last >= gap:
                e = open_weight * s[i]
                out[i] = e / (e + 10.0)
                last = i
    return out


def _relent_memo(memo: dict, run: Run, window: int) -> np.ndarray:
    k = ("re", id(run), window)
    if k not in memo:
        memo[k] = (run, relent_feature(run, window))
    return memo[k][1]


def relent_feature(run: Run, window: int) -> np.ndarray:
    """``ln(1 + statistic / critical value)`` of :func:`_relative_entropy` (10 levels, 20 references)."""
    k = 9.0
    crit = k * (1.0 - 2.0 / (9.0 * k) + 2.326 * math.sqrt(2.0 / (9.0 * k))) ** 3
    return np.log1p(_relative_entropy(run.x, 10, window, 20, window) / crit)


def auc(pos: list, neg: list) -> float:
    """Probability that a true onset's feature outranks a false one's (ties count half)."""
    p, n = np.asarray(pos, float), np.asarray(neg, float)
    if not len(p) or not len(n):
        return float("nan")
    return float((p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean())


def onset_auc(runs: list[Run], feature) -> tuple[float, int, int]:
    """AUC of ``feature(run)`` at the monitor's onsets after the probation: true (inside a window)
    against false ones."""
    from ben.detect.nab import probation_rows

    pos, neg = [], []
    for r in runs:
        f = feature(r)
        idx = np.flatnonzero(np.isfinite(r.onset))
        for i in idx[idx >= probation_rows(len(r.ts))]:
            (pos if any(a <= r.ts[i] <= b for a, b in r.windows) else neg).append(f[i])
    return auc(pos, neg), len(pos), len(neg)


def missed_windows(runs: list[Run], cfg: Ctx, memo: dict) -> dict:
    """Windows without an onset of the monitor, and how many of them hold a point whose novelty
    passes the 99th / 99.9th percentile of the novelty outside windows and episodes (after the
    probation)."""
    from ben.detect.nab import probation_rows

    missed, background = [], []
    for r in runs:
        prob = probation_rows(len(r.ts))
        s = novelty(r, cfg, memo)
        inside = np.zeros(len(r.ts), bool)
        for a, b in r.windows:
            m = (r.ts >= a) & (r.ts <= b)
            inside |= m
            if b >= r.ts[prob] and not np.isfinite(r.onset[m]).any():
                missed.append(float(s[m].max()))
        background.append(s[prob:][~inside[prob:] & ~r.flags[prob:]])
    q99, q999 = np.quantile(np.concatenate(background), [0.99, 0.999])
    got = np.asarray(missed)
    return {"missed": len(got), "above_q99": int((got > q99).sum()), "above_q999": int((got > q999).sum()),
            "q99": round(float(q99), 2), "q999": round(float(q999), 2)}


def _variants(stage: str, memo: dict):
    """``(label, scores(run))`` of every variant a stage measures (what ADR 0047 reports)."""
    if stage == "alone":
        for lv in (5, 8, 12):
            for rm in (0, 1):
                for depth in (1, 2, 3, 4):
                    cfg = Ctx(levels=lv, range_mode=rm, depth=depth)
                    for sup in (0, 12):
                        yield (f"alone L{lv} r{rm} d{depth} gt sup{sup}",
                               lambda r, cfg=cfg, sup=sup: alone(novelty(r, cfg, memo), sup))
    elif stage == "fuse":
        for lv in (5, 8):
            for rm in (0, 1):
                for depth in (2, 3):
                    cfg = Ctx(levels=lv, range_mode=rm, depth=depth)
                    for back in (0, 3):
                        for aa, mult in ((1.0, False), (2.0, False), (0.3, True), (0.15, True)):
                            yield (f"fuse L{lv} r{rm} d{depth} back{back} a{aa} mid3.0 mult{int(mult)}",
                                   lambda r, cfg=cfg, back=back, aa=aa, mult=mult:
                                   fused(r, novelty(r, cfg, memo), a=aa, mid=3.0, back=back, mult=mult))
    elif stage == "open":
        for depth in (1, 2):
            cfg = Ctx(levels=8, depth=depth)
            for aa in (0.25, 0.5):
                yield (f"fuse L8 r0 d{depth} back0 a{aa} mid3.0 mult0",
                       lambda r, cfg=cfg, aa=aa: fused(r, novelty(r, cfg, memo), a=aa, mid=3.0, back=0))
            yield (f"fuse L8 r0 d{depth} back0 a0.5 lower-only",
                   lambda r, cfg=cfg: fused(r, np.minimum(novelty(r, cfg, memo), 3.0), a=0.5, mid=3.0, back=0))
        for depth in (2, 3):
            cfg = Ctx(levels=8, range_mode=1, depth=depth)
            for thr in (6.0, 8.0, 10.0):
                for w in (0.5, 1.0):
                    yield (f"open L8 r1 d{depth} at{thr} w{w}",
                           lambda r, cfg=cfg, thr=thr, w=w:
                           fused(r, novelty(r, cfg, memo), a=0.0, mid=0.0, back=0, open_at=thr, open_weight=w))
    elif stage == "relent":
        for window in (48, 24):
            for aa in (0.5, 1.0, 2.0):
                yield (f"fuse relative-entropy W{window} a{aa} mid ln2",
                       lambda r, window=window, aa=aa: fused(r, _relent_memo(memo, r, window), a=aa,
                                                             mid=math.log(2.0), back=0))
            yield (f"alone relative-entropy W{window} sup12",
                   lambda r, window=window: alone(10.0 * _relent_memo(memo, r, window), 12))
    elif stage == "kept":
        yield ("fuse L8 r0 d2 back0 a0.5 mid3.0 mult0",
               lambda r: fused(r, novelty(r, Ctx(levels=8, depth=2), memo), a=0.5, mid=3.0, back=0))
        yield ("fuse L8 r0 d1 back0 a0.25 mid3.0 mult0",
               lambda r: fused(r, novelty(r, Ctx(levels=8, depth=1), memo), a=0.25, mid=3.0, back=0))


def _auc_features(memo: dict):
    yield "monitor onset score", lambda r: r.onset
    for lv in (5, 8, 12):
        for rm in (0, 1):
            for depth in (1, 2, 3):
                cfg = Ctx(levels=lv, range_mode=rm, depth=depth)
                yield f"novelty L{lv} r{rm} d{depth}", lambda r, cfg=cfg: novelty(r, cfg, memo)
    for lv in (5, 8):
        for depth in (1, 2, 3):
            for dl in (3, 5):
                cfg = Ctx(levels=lv, depth=depth, delta_levels=dl)
                yield f"novelty L{lv} d{depth} delta{dl}", lambda r, cfg=cfg: novelty(r, cfg, memo)
    for window in (48, 24):
        yield f"relative entropy W{window}", lambda r, window=window: relent_feature(r, window)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache")
    ap.add_argument("corpora", nargs="+", help="NAME=DIR")
    ap.add_argument("--json")
    ap.add_argument("--stage", default="alone", choices=("base", "alone", "fuse", "open", "relent", "kept", "auc", "missed"))
    a = ap.parse_args()
    cache = Path(a.cache)
    corpora = {}
    for item in a.corpora:
        name, d = item.split("=", 1)
        corpora[name] = monitor_runs(d, cache)
        print(f"{name}: {len(corpora[name])} files", file=sys.stderr, flush=True)
    memo: dict = {}
    rows = []
    if a.stage == "missed":
        for depth in (1, 2, 3):
            row = {"novelty": f"L8 r1 d{depth}"}
            for name, runs in corpora.items():
                if any(r.windows for r in runs):
                    row[name] = missed_windows(runs, Ctx(levels=8, range_mode=1, depth=depth), memo)
            rows.append(row)
            print(json.dumps(row), flush=True)
    elif a.stage == "auc":
        for label, feature in _auc_features(memo):
            row = {"feature": label}
            for name, runs in corpora.items():
                if any(r.windows for r in runs):
                    row[name] = round(onset_auc(runs, feature)[0], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    else:
        for label, fn in [("monitor (baseline)", lambda r: r.onset)] + (
                [] if a.stage == "base" else list(_variants(a.stage, memo))):
            row = {"variant": label}
            for name, runs in corpora.items():
                r = nab(runs, [fn(run) for run in runs])
                row[name] = r.get("standard", r.get("onsets_per_10k"))
            rows.append(row)
            print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
