"""NAB scoring of detections against labelled anomaly windows (implemented from the published rules).

The Numenta Anomaly Benchmark's scoring (Lavin & Ahmad 2015, "Evaluating real-time anomaly detection
algorithms"; Ahmad et al. 2017, "Unsupervised real-time anomaly detection for streaming data"):

- Each file has labelled anomaly windows ``[start, end]``. Its first ``floor(min(0.15 n, 750))`` rows are
  a probationary period: detections there are ignored (windows ending there are not scored).
- A detection is a row whose score is ``>= threshold``. ``sigma(y) = 2 / (1 + exp(5 y)) - 1`` (``-1``
  for ``y > 3``).
- Inside a window only the first detection counts, as ``A_TP * sigma(y) / sigma(-1)`` with
  ``y = -(end_row - i + 1) / window_rows``: about 1 at the window's start, 0 at its end.
- A detection outside every window is a false positive worth ``A_FP * sigma(y)`` (negative): after a
  window, ``y = (i - prev_end_row) / (prev_window_rows - 1)`` (false positives just after a window cost
  less); before any window ``-A_FP``.
- A window without detection costs ``-A_FN``.
- The threshold is the one maximising the raw score summed over the corpus (swept over the distinct
  scores); the normalised score is ``100 (S - S_null) / (S_perfect - S_null)``, ``S_null`` never
  detecting, ``S_perfect`` one detection at the start of every window.

:func:`score_corpus` does the sweep over all files at once (one threshold for the corpus).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PROFILES", "Profile", "FileLabels", "sigma", "probation_rows", "score_corpus", "file_parts"]


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile."""

    tp: float
    fp: float
    fn: float


PROFILES = {"standard": Profile(1.0, 0.11, 1.0), "low_fp": Profile(1.0, 0.22, 1.0),
            "low_fn": Profile(1.0, 0.11, 2.0)}


@dataclass(frozen=True)
class FileLabels:
    """One file: its rows' timestamps (ns, ascending) and its windows as ``(start_ns, end_ns)``."""

    name: str
    ts_ns: np.ndarray
    windows: tuple[tuple[int, int], ...]


def sigma(y: float) -> float:
    """NAB's scaled sigmoid: ``2 / (1 + e^(5y)) - 1``, and ``-1`` for ``y > 3``."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n: int) -> int:
    """Rows of a file of ``n`` rows that are not scored (NAB's probationary period)."""
    return int(math.floor(min(0.15 * n, 750.0)))


@dataclass(frozen=True)
class _Parts:
    """Per-row scoring parts of one file (independent of the threshold)."""

    window: np.ndarray   # window id (global) of each scored row, -1 outside windows
    tp: np.ndarray       # unweighted TP value (sigma / sigma(-1)) of a row inside a window
    fp: np.ndarray       # unweighted FP value (negative sigma) of a row outside windows
    rows: np.ndarray     # row index in the file of each scored row
    n_windows: int


def file_parts(labels: FileLabels, first_window: int = 0) -> _Parts:
    """Per-row TP/FP values of one file (rows of the probationary period dropped)."""
    ts = np.asarray(labels.ts_ns, dtype=np.int64)
    n = len(ts)
    prob = probation_rows(n)
    win = np.full(n, -1, np.int64)
    tp = np.zeros(n)
    fp = np.full(n, -1.0)
    max_tp = sigma(-1.0)
    spans = []
    for start, end in labels.windows:
        lo = int(np.searchsorted(ts, start, "left"))
        hi = int(np.searchsorted(ts, end, "right")) - 1
        if hi < lo or hi < prob:
            continue
        spans.append((lo, hi))
    spans.sort()
    for k, (lo, hi) in enumerate(spans):
        width = hi - lo + 1
        idx = np.arange(lo, hi + 1)
        win[idx] = first_window + k
        tp[idx] = [sigma(-(hi - i + 1) / width) / max_tp for i in idx]
        nxt = spans[k + 1][0] if k + 1 < len(spans) else n
        after = np.arange(hi + 1, nxt)
        if len(after):
            fp[after] = [sigma((i - hi) / max(width - 1, 1)) for i in after]
    keep = np.arange(n) >= prob
    return _Parts(win[keep], tp[keep], fp[keep], np.flatnonzero(keep), len(spans))


def score_corpus(files: list[FileLabels], scores: list[np.ndarray], profile: Profile) -> dict:
    """NAB score of ``scores`` (one array per file, NaN or -inf = no detection) over ``files``.

    Returns ``score`` (normalised), ``raw``, ``null``, ``perfect``, ``threshold`` and ``detections``
    (per file, the rows detected at that threshold).
    """
    all_win, all_tp, all_fp, all_s, n_windows = [], [], [], [], 0
    parts = []
    for labels, s in zip(files, scores):
        p = file_parts(labels, first_window=n_windows)
        parts.append(p)
        n_windows += p.n_windows
        s = np.asarray(s, dtype=np.float64)[p.rows]
        s = np.where(np.isfinite(s), s, -np.inf)
        all_win.append(p.window)
        all_tp.append(p.tp)
        all_fp.append(p.fp)
        all_s.append(s)
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    win = np.concatenate(all_win) if all_win else np.zeros(0, np.int64)
    tp = np.concatenate(all_tp) if all_tp else np.zeros(0)
    fp = np.concatenate(all_fp) if all_fp else np.zeros(0)
    s = np.concatenate(all_s) if all_s else np.zeros(0)
    best_raw, best_thr = null, math.inf
    order = np.argsort(-s, kind="stable")
    best_tp = np.zeros(n_windows)
    found = np.zeros(n_windows, bool)
    fp_sum = tp_sum = 0.0
    detected = 0
    i = 0
    while i < len(order) and np.isfinite(s[order[i]]):
        thr = s[order[i]]
        while i < len(order) and s[order[i]] == thr:
            r = order[i]
            w = win[r]
            if w < 0:
                fp_sum += profile.fp * fp[r]
            else:
                v = profile.tp * tp[r]
                if not found[w]:
                    found[w] = True
                    detected += 1
                    best_tp[w] = v
                    tp_sum += v
                elif v > best_tp[w]:
                    tp_sum += v - best_tp[w]
                    best_tp[w] = v
            i += 1
        raw = fp_sum + tp_sum - profile.fn * (n_windows - detected)
        if raw > best_raw:
            best_raw, best_thr = raw, float(thr)
    norm = 100.0 * (best_raw - null) / (perfect - null) if perfect != null else 0.0
    detections = [p.rows[np.asarray(sc, dtype=np.float64)[p.rows] >= best_thr] for p, sc in zip(parts, scores)]
    return {"score": norm, "raw": best_raw, "null": null, "perfect": perfect, "threshold": best_thr,
            "windows": n_windows, "detections": detections}
