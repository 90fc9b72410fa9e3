"""Where the default detector gains and loses on a development corpus, by category (ADR 0044).

    python bench/dev_corpora_report.py OUT/labelled [--json] [--reference]

Each file goes through a default ``SeriesMonitor`` point by point, as ``ben bench detect-real`` does
(the same scores: :func:`detect_real.onset_scores`'s rule). Per category (a file's group), the NAB
scores of that category alone (its own threshold sweep), the windows scored and detected, the false
onsets (after the probationary period, outside every window) per 10,000 points, the detectors named
by the episodes that opened them, how many came first after a gap in the sampling (more than 3 median
steps) and on which weekday, and the delay of each first detection from the real event's start
(``OUT/sources.json``'s ``event_spans``; negative: before the event, inside its window).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ben.cli.bench import load
from ben.detect.corpus import read_corpus

_NS = 1_000_000_000
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _Onsets:
    """Score and episode facts at each point where an episode opened."""

    def __init__(self, n: int):
        self.scores = np.full(n, np.nan)
        self.detectors: dict[int, tuple[str, ...]] = {}
        self.sigma: dict[int, float] = {}


def run_file(series) -> _Onsets:
    """Feed ``series`` through a default ``SeriesMonitor`` and keep what each opening said."""
    from ben.detect import SeriesMonitor

    mon = SeriesMonitor(series.name)
    out = _Onsets(len(series.values))
    for i, (t, v) in enumerate(zip(series.ts_ns.tolist(), series.values.tolist())):
        verdict = mon.update(t, v)
        opened = [e for e in verdict.episodes if e.state == "open"]
        if opened:
            out.scores[i] = verdict.score
            out.detectors[i] = tuple(getattr(opened[0], "detectors", ()) or ())
            out.sigma[i] = float(getattr(opened[0], "peak_deviation_sigma", float("nan")))
    return out


def ewma_scores(x: np.ndarray, alpha: float = 0.001) -> np.ndarray:
    """A reference detector at every point: ``z / (z + 3)`` of an EWMA z-score (mean and variance
    with weight ``alpha``; issue 17 lists its held-out score), to tell a hard corpus from a weak detector."""
    mean, var = float(x[0]), 0.0
    out = np.zeros(len(x))
    for i, v in enumerate(x.tolist()):
        sd = var ** 0.5
        z = abs(v - mean) / sd if sd > 0 else 0.0
        out[i] = z / (z + 3.0)
        d = v - mean
        mean += alpha * d
        var = (1 - alpha) * (var + alpha * d * d)
    return out


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * _NS


def analyse(root: str | Path, reference: bool = False) -> dict:
    """Per-category figures of ``root`` (a corpus written by ``bench/dev_corpora.py``)."""
    from ben.detect.nab import probation_rows

    root = Path(root)
    corpus = read_corpus(root)
    spans: dict[str, list] = {}
    sources = root.parent / "sources.json"
    if sources.is_file():
        for key, row in json.loads(sources.read_text()).items():
            sub, _, name = key.partition("/")
            if sub == root.name:
                spans[name] = [(_ts(a), _ts(b), kind) for a, b, kind in row.get("event_spans", [])]
    evaluate = load("detect_real").evaluate
    runs = [run_file(s) for s in corpus]
    groups: dict[str, list[int]] = {}
    for k, s in enumerate(corpus):
        groups.setdefault(s.name.split("/")[0], []).append(k)
    out = {"overall": {k: v for k, v in evaluate(corpus, [r.scores for r in runs]).items() if k != "files"},
           "categories": {}}
    if reference:
        ref = evaluate(corpus, [ewma_scores(s.values) for s in corpus])
        out["ewma_reference"] = {k: ref[k] for k in ("standard", "low_fp", "low_fn")}
    for group, idx in sorted(groups.items()):
        res = evaluate([corpus[k] for k in idx], [runs[k].scores for k in idx])
        fp_detectors, tp_detectors, delays, missed, fp_sigma = Counter(), Counter(), [], [], []
        fp_points = fp = after_gap = 0
        weekdays: Counter = Counter()
        for k in idx:
            s, r = corpus[k], runs[k]
            prob = probation_rows(len(s.ts_ns))
            onsets = np.flatnonzero(np.isfinite(r.scores))
            onsets = onsets[onsets >= prob]
            fp_points += max(len(s.ts_ns) - prob, 0)
            inside = np.zeros(len(onsets), bool)
            for a, b in s.windows:
                if len(s.ts_ns) <= prob or b < s.ts_ns[prob]:
                    continue
                m = (s.ts_ns[onsets] >= a) & (s.ts_ns[onsets] <= b)
                inside |= m
                event = next((e for e in spans.get(s.name, []) if a <= e[0] <= b or a <= e[1] <= b), None)
                if m.any():
                    first = int(onsets[m][0])
                    if event is not None:
                        delays.append((int(s.ts_ns[first]) - event[0]) / _NS)
                else:
                    missed.append(s.name + (f" ({event[2]} from "
                                            f"{datetime.fromtimestamp(event[0] / _NS, tz=timezone.utc):%Y-%m-%d %H:%M})"
                                            if event else ""))
            step = float(np.median(np.diff(s.ts_ns))) if len(s.ts_ns) > 1 else 0.0
            for i, hit in zip(onsets.tolist(), inside.tolist()):
                (tp_detectors if hit else fp_detectors).update(r.detectors.get(i, ()) or ("?",))
                if not hit:
                    fp += 1
                    fp_sigma.append(abs(r.sigma.get(i, float("nan"))))
                    after_gap += bool(i and s.ts_ns[i] - s.ts_ns[i - 1] > 3 * step)
                    weekdays[_DAYS[int((s.ts_ns[i] // (86_400 * _NS) + 3) % 7)]] += 1
        finite = [x for x in fp_sigma if np.isfinite(x)]
        out["categories"][group] = {
            "files": len(idx), "points": int(sum(len(corpus[k].values) for k in idx)),
            "standard": res["standard"], "low_fp": res["low_fp"], "low_fn": res["low_fn"],
            "windows": res["windows"], "detected": round(res["recall"] * res["windows"]),
            "onsets": res["onsets"], "false_onsets": fp,
            "false_onsets_per_10k": round(1e4 * fp / fp_points, 2) if fp_points else 0.0,
            "median_delay_from_event_s": statistics.median(delays) if delays else None,
            "delays_from_event_s": sorted(delays), "missed": missed,
            "false_onset_detectors": dict(fp_detectors.most_common()),
            "true_onset_detectors": dict(tp_detectors.most_common()),
            "false_onsets_after_gap": after_gap,
            "false_onsets_by_weekday": {d: weekdays[d] for d in _DAYS if weekdays[d]},
            "false_onset_median_sigma": round(statistics.median(finite), 1) if finite else None,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="a corpus written by bench/dev_corpora.py (e.g. OUT/labelled)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--reference", action="store_true", help="also score the EWMA z-score reference detector")
    a = ap.parse_args()
    res = analyse(a.corpus, reference=a.reference)
    if a.json:
        print(json.dumps(res, indent=1))
        return
    o = res["overall"]
    print(f"overall: standard {o['standard']:.1f} low_fp {o['low_fp']:.1f} low_fn {o['low_fn']:.1f} "
          f"windows {o['windows']} onsets {o['onsets']}")
    if "ewma_reference" in res:
        r = res["ewma_reference"]
        print(f"EWMA z-score reference: standard {r['standard']:.1f} low_fp {r['low_fp']:.1f} low_fn {r['low_fn']:.1f}")
    for group, c in res["categories"].items():
        delay = "-" if c["median_delay_from_event_s"] is None else f"{c['median_delay_from_event_s'] / 3600:.1f} h"
        print(f"{group:>22} files {c['files']:>3} std {c['standard']:6.1f} lowfp {c['low_fp']:6.1f} "
              f"lowfn {c['low_fn']:6.1f} windows {c['detected']}/{c['windows']} false {c['false_onsets']} "
              f"({c['false_onsets_per_10k']}/10k, {c['false_onsets_after_gap']} after a gap) delay {delay} "
              f"fp-detectors {c['false_onset_detectors']} fp-days {c['false_onsets_by_weekday']}")
        for m in c["missed"]:
            print(f"{'':>24}missed {m}")


if __name__ == "__main__":
    main()
