"""Detection on labelled (real) data, scored with the NAB rules.

    ben bench detect-real DIR [--generate [--hard] [--seed S] [--files N]] [--baseline] [--json]

DIR holds a corpus in the layout of :mod:`ben.detect.corpus` (NAB's: ``data/<group>/<file>.csv`` with
``timestamp,value`` and ``labels/combined_windows.json``); ``--generate`` first writes the realistic
synthetic corpus there (``--hard``: the categories it under-represents, one anomaly each). Each file goes
point by point through a default ``SeriesMonitor(name)``; a point's ``verdict.score`` counts wherever
``verdict.episodes`` holds an episode in state ``"open"`` (for the default monitor: where an episode
opens, what reaches a person), every other point is no detection. One threshold is swept over the whole
corpus (:func:`ben.detect.nab.score_corpus`). A corpus without windows (real data believed normal)
measures the false-alarm rate: ``onsets_per_10k`` (onsets after the probationary period per 10,000
points).

Returns ``standard``, ``low_fp``, ``low_fn`` (normalised NAB scores), the episode ``precision`` and
``recall`` (every onset after the probationary period, no threshold), ``median_delay_s`` (window start
to the first onset inside it) and a ``files`` table. With ``--baseline``, the same corpus also goes
through the detector bank's monitor (``BankSeriesMonitor``, the default before calibrated detection,
still what ``MonitorBank`` runs) and ``baseline`` holds its figures, measured in the same run.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _say(progress: bool, msg: str) -> None:
    if progress and msg:
        print(msg, file=sys.stderr, flush=True)


#: A file of more points than this says how far it is every so many points while it is scored.
SAY_EVERY_POINTS = 500_000


def onset_scores(series, make=None, say=None) -> np.ndarray:
    """``verdict.score`` at every point whose ``verdict.episodes`` holds an episode in state ``"open"``
    (NaN elsewhere: no detection), fed point by point through ``update``. A verdict lists the episodes
    that point opened or closed, so for the default monitor these are the onsets; a monitor that
    listed an open episode at every point would be scored at every one of them."""
    from ben.detect import SeriesMonitor

    mon = (make or SeriesMonitor)(series.name)
    out = np.full(len(series.values), np.nan)
    for i, (t, v) in enumerate(zip(series.ts_ns.tolist(), series.values.tolist())):
        verdict = mon.update(t, v)
        if any(e.state == "open" for e in verdict.episodes):
            out[i] = verdict.score
        if say is not None and i and not i % SAY_EVERY_POINTS:
            say(f"{series.name}: {i}/{len(out)} points")
    return out


def evaluate(corpus, scores) -> dict:
    """NAB scores under the three profiles plus episode precision / recall / delay per file and overall."""
    from ben.detect.nab import PROFILES, FileLabels, probation_rows, score_corpus

    files = [FileLabels(s.name, s.ts_ns, s.windows) for s in corpus]
    out = {}
    for key, prof in PROFILES.items():
        res = score_corpus(files, scores, prof)
        out[key] = round(res["score"], 2)
        out[f"{key}_threshold"] = res["threshold"]
    table, tp_all, on_all, win_all, hit_all, delays = [], 0, 0, 0, 0, []
    for s, sc in zip(corpus, scores):
        prob = probation_rows(len(s.ts_ns))
        onsets = np.flatnonzero(np.isfinite(sc))
        onsets = onsets[onsets >= prob]
        ts = s.ts_ns
        inside = np.zeros(len(onsets), bool)
        hits, file_delays = 0, []
        scored = [(a, b) for a, b in s.windows if b >= ts[prob] and _holds_a_row(ts, a, b)] if len(ts) > prob else []
        for a, b in scored:
            m = (ts[onsets] >= a) & (ts[onsets] <= b)
            inside |= m
            if m.any():
                hits += 1
                file_delays.append((ts[onsets[m][0]] - a) / 1e9)
        tp_all += int(inside.sum())
        on_all += len(onsets)
        win_all += len(scored)
        hit_all += hits
        delays += file_delays
        table.append({"file": s.name, "points": len(ts), "windows": len(scored), "detected": hits,
                      "onsets": int(len(onsets)), "true_onsets": int(inside.sum()),
                      "median_delay_s": float(np.median(file_delays)) if file_delays else None})
    out["precision"] = round(tp_all / on_all, 4) if on_all else 0.0
    out["recall"] = round(hit_all / win_all, 4) if win_all else 0.0
    out["median_delay_s"] = float(np.median(delays)) if delays else None
    out["windows"], out["onsets"] = win_all, on_all
    scored = sum(max(len(s.ts_ns) - probation_rows(len(s.ts_ns)), 0) for s in corpus)
    out["onsets_per_10k"] = round(1e4 * on_all / scored, 2) if scored else 0.0
    out["files"] = table
    return out


def _not_read(root: str) -> str:
    """The note for files of ``data/`` that are not read ("" when there is none): only ``*.csv`` is, so an export
    saved as ``.CSV``, ``.tsv`` or ``.csv.gz`` was left out of the scores in silence."""
    from pathlib import Path

    data = Path(root) / "data"
    others = sorted(p.relative_to(data).as_posix() for p in data.rglob("*")
                    if not p.name.startswith(".") and p.suffix != ".csv" and p.is_file())
    if not others:
        return ""
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return (f"detect-real: {len(others)} file{'s' if len(others) > 1 else ''} of {data} not read (only *.csv is "
            f"read): {', '.join(others[:3])}{more}")


def _holds_a_row(ts: np.ndarray, start: int, end: int) -> bool:
    """Whether a row's time is inside ``[start, end]`` (NAB's scores leave out a window that holds none)."""
    return bool(np.searchsorted(ts, end, "right") > np.searchsorted(ts, start, "left"))


def _unscored_windows(corpus) -> str:
    """The note for labelled windows NAB's rules do not score ("" when there is none): one that ends within its
    file's probationary period, or holds no row of its file. They were left out of every figure in silence."""
    from ben.detect.nab import probation_rows

    unscored = []
    for s in corpus:
        ts, prob = s.ts_ns, probation_rows(len(s.ts_ns))
        for i, (start, end) in enumerate(s.windows):
            if len(ts) <= prob or end < ts[prob]:
                unscored.append(f"{s.name} window {i}: it ends within the file's first {prob} rows, NAB's "
                                "probationary period (15% of the rows, at most 750)")
            elif not _holds_a_row(ts, start, end):
                unscored.append(f"{s.name} window {i}: no row of the file is inside it")
    if not unscored:
        return ""
    more = f"; and {len(unscored) - 2} more" if len(unscored) > 2 else ""
    return (f"detect-real: {len(unscored)} labelled window{'s are' if len(unscored) > 1 else ' is'} not scored "
            f"(NAB's rules): {'; '.join(unscored[:2])}{more}")


def _scored(corpus, make, progress: bool, who: str) -> list:
    """Every file's onset scores, saying how far it is about ten times while it works (the per-file lines
    come after the scoring: 40 files, or one of millions of points, were minutes without a word)."""
    total, done, scores = len(corpus), 0, []
    points = sum(len(s.values) for s in corpus)
    for i, series in enumerate(corpus, 1):
        scores.append(onset_scores(series, make, (lambda msg: _say(progress, f"{who}: {msg}"))
                                   if len(series.values) > SAY_EVERY_POINTS else None))
        done += len(series.values)
        if i == total or i * 10 // total != (i - 1) * 10 // total:
            _say(progress, f"{who}: scored {i}/{total} files ({done}/{points} points)")
    return scores


def run(root: str, generate: bool = False, seed: int = 17, n_files: int = 40, progress: bool = True,
        make=None, baseline: bool = False, hard: bool = False) -> dict:
    """Read (or first generate) the corpus at ``root``, run the monitors, score. ``hard``: generate the
    harder operational categories (:func:`ben.detect.corpus.generate_hard_corpus`) instead."""
    from ben.detect.corpus import (check_corpus_out, generate_corpus, generate_hard_corpus, read_corpus,
                                   replace_corpus)

    if generate:  # a corpus there is replaced whole (its other files were scored too); a user's directory refused
        check_corpus_out(root, "CORPUS")
        _say(progress, f"detect-real: writing {n_files} generated files (seed {seed}{', hard' if hard else ''}) "
                       f"to {root}")
        replace_corpus(root, (generate_hard_corpus if hard else generate_corpus)(n_files, seed=seed), "CORPUS")
    corpus = read_corpus(root)
    _say(True, _unscored_windows(corpus))  # --json too: the windows it counts are fewer than the labels give
    _say(True, _not_read(root))
    points = sum(len(s.values) for s in corpus)
    _say(progress, f"detect-real: {len(corpus)} files, {points} points, "
                   f"{sum(len(s.windows) for s in corpus)} windows")
    started = time.perf_counter()
    scores = _scored(corpus, make, progress, "detect-real")
    elapsed = time.perf_counter() - started
    out = evaluate(corpus, scores)
    if progress:
        for row in out["files"]:
            delay = "-" if row["median_delay_s"] is None else f"{row['median_delay_s']:.0f}s"
            _say(progress, f"{row['file']:>40} {row['points']:>6} windows {row['detected']}/{row['windows']} "
                           f"onsets {row['true_onsets']}/{row['onsets']} delay {delay}")
        _say(progress, f"NAB standard {out['standard']:.1f}  low_fp {out['low_fp']:.1f}  "
                       f"low_fn {out['low_fn']:.1f}  precision {out['precision']:.3f}  recall {out['recall']:.3f}  "
                       f"onsets per 10k points {out['onsets_per_10k']:.2f}")
    out["points"] = points
    out["points_per_s"] = points / elapsed if elapsed > 0 else 0.0
    if baseline:
        from ben.detect.series import BankSeriesMonitor

        _say(progress, "detect-real: the same corpus through BankSeriesMonitor (the baseline)")
        base = evaluate(corpus, _scored(corpus, BankSeriesMonitor, progress, "baseline"))
        out["baseline"] = {k: v for k, v in base.items() if k != "files"}
        _say(progress, f"baseline: NAB standard {base['standard']:.1f}  low_fp {base['low_fp']:.1f}  "
                       f"low_fn {base['low_fn']:.1f}  precision {base['precision']:.3f}  recall {base['recall']:.3f}")
    return out
