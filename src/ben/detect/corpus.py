"""Labelled corpora of series: the layout ``ben bench detect-real`` reads, and a realistic generator.

Layout (NAB's)::

    DIR/data/<group>/<file>.csv        header ``timestamp,value``; timestamps ISO 8601 (UTC, e.g.
                                       ``2026-03-01 00:05:00``) or epoch seconds
    DIR/labels/combined_windows.json   {"<group>/<file>.csv": [["<start>", "<end>"], ...], ...}

Files without an entry in the labels have no anomaly window; the labels file itself is required (``{}``: a
corpus without anomalies). Rows are in time order with finite values; a window overlaps its file's data,
names a file of ``data/`` and shares no row with another window of that file (each file is named once).
Anything else is a :class:`DetectorError` naming the file and its line. :func:`write_corpus` generates such
a corpus from operational-looking series: daily and weekly cycles by wall clock, heavy tails, integer
and quantised values, 1-min / 5-min / 1-h sampling with jitter and gaps, counters that reset, slow
drifts, public holidays (a weekday like a Sunday), bursty mention counts (Poisson with everyday bursts),
regime changes that are incidents (labelled) and that are not (a deploy that moves a level a little,
unlabelled), spikes, level shifts, variance changes, flat-lines, dips to zero, drifts to failure,
sensors that heat up then fail, storms of mentions and broken daily patterns. Lengths run as real
exports do: mostly two weeks at 5 minutes (4,032 points), some of 12,000-16,000, hourly ones of
1,200-2,200. Windows are sized as NAB's: 10% of the file's length divided by
its number of anomalies, centred on the anomaly.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ben.core.files import is_utf16, may_write_dir, read_input, read_input_text, replace_dir, utf8_text
from ben.detect.errors import DetectorError

__all__ = ["Series", "read_corpus", "write_corpus", "replace_corpus", "check_corpus_out", "generate_corpus",
           "generate_hard_corpus"]

_NS = 1_000_000_000


@dataclass(frozen=True)
class Series:
    """One labelled file: its name, timestamps (ns), values and windows ``(start_ns, end_ns)``."""

    name: str
    ts_ns: np.ndarray
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]
    kinds: tuple[str, ...] = ()


def _parse_ts(text: str, where: str) -> int:
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or abs(seconds) > _MAX_EPOCH_S:
            raise DetectorError(f"{where}: timestamp {text!r} is no time (epoch seconds up to year 9999)")
        return int(round(seconds * _NS))
    try:
        dt = datetime.fromisoformat(text.replace("T", " ").replace("Z", ""))
    except ValueError as exc:
        raise DetectorError(f"{where}: timestamp {text!r} is neither ISO 8601 nor epoch seconds") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1000


def _fmt_ts(ns: int) -> str:
    return datetime.fromtimestamp(ns / _NS, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


#: Epoch seconds past year 9999 are no time (ISO 8601 cannot write them either).
_MAX_EPOCH_S = 253_402_300_799


def _read_labels(label_path: Path) -> dict[str, list]:
    """The labels file: a JSON object of lists of ``[start, end]``; DetectorError naming the file otherwise."""
    if not label_path.is_file():
        raise DetectorError(f"{label_path}: not found (the anomaly windows, {{\"<group>/<file>.csv\": "
                            f"[[\"<start>\", \"<end>\"], ...]}}; write {{}} for a corpus without anomalies)")
    try:
        text = read_input_text(label_path, max_bytes=None)
        labels = json.loads(text, object_pairs_hook=_no_key_twice)
    except _KeyTwice as twice:  # json keeps the last in silence: the windows given first were not scored
        line = _line_of_second(text, twice.key)
        raise DetectorError(f"{label_path}{f':{line}' if line else ''}: {twice.key!r} is given twice (JSON keeps "
                            "only the last, and the windows of the first would not be scored): give each file "
                            "once, with all its windows") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectorError(f"{label_path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise DetectorError(f"{label_path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    if not isinstance(labels, dict):
        raise DetectorError(f"{label_path}: expected a JSON object {{\"<group>/<file>.csv\": [[start, end], ...]}}, "
                            f"got {type(labels).__name__}")
    for key, pairs in labels.items():
        if not isinstance(pairs, list):
            raise DetectorError(f"{label_path}: the windows of {key!r} must be a list of [start, end], "
                                f"got {type(pairs).__name__}")
    return labels


class _KeyTwice(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_key_twice(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _KeyTwice(key)
        out[key] = value
    return out


def _line_of_second(text: str, key: str) -> int:
    """The line of ``key``'s second occurrence as a JSON string in ``text`` (0: not found as written)."""
    quoted = json.dumps(key, ensure_ascii=False)
    first = text.find(quoted)
    second = text.find(quoted, first + 1) if first >= 0 else -1
    return text.count("\n", 0, second) + 1 if second >= 0 else 0


def _check_overlaps(where: str, windows: list[tuple[int, int]], pairs: list) -> None:
    """A window given twice, or two that share a row: each row is scored in one window only (NAB's rules), so
    the one scored second took the rows of the first, which then counted as missed whatever was detected."""
    order = sorted(range(len(windows)), key=lambda i: windows[i])
    for before, after in zip(order, order[1:]):
        if windows[after][0] <= windows[before][1]:
            first, second = sorted((before, after))
            same = windows[first] == windows[second]
            raise DetectorError(f"{where}: window {second} {pairs[second]!r} "
                                f"{'is window ' + str(first) + ' again' if same else 'overlaps window ' + str(first)}"
                                f"{'' if same else ' ' + repr(pairs[first])}: a row is scored in one window only "
                                "(give each anomaly one window; merge windows that overlap)")


def _read_csv(path: Path) -> tuple[list[int], list[float]]:
    """One file's rows; DetectorError naming the file and the line of the first bad row."""
    try:
        raw = read_input(path, max_bytes=None)
    except OSError as exc:
        raise DetectorError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = utf8_text(raw)  # Excel's "CSV UTF-8" puts a byte order mark first: the header was refused
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        if is_utf16(raw):
            raise DetectorError(f"{path}: UTF-16 text, not UTF-8 (save the file as UTF-8)") from None
        raise DetectorError(f"{path}:{line}: not UTF-8 text (a binary file?)") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DetectorError(f"{path}:{line}: a NUL byte (a binary file?)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _rows(path, reader)
    except csv.Error as exc:  # a field over csv's limit (128 KiB), a quote left open
        raise DetectorError(f"{path}:{reader.line_num}: not CSV ({exc})") from None


def _rows(path: Path, reader) -> tuple[list[int], list[float]]:
    header = next(reader, None)
    if header is None:
        raise DetectorError(f"{path}: empty file (expected the header 'timestamp,value', then rows)")
    if [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
        raise DetectorError(f"{path}:1: the header must be 'timestamp,value', got {','.join(header)!r}")
    ts: list[int] = []
    vals: list[float] = []
    for row in reader:
        line = reader.line_num
        if not row or row == [""]:
            continue  # a blank line
        if len(row) < 2:
            raise DetectorError(f"{path}:{line}: expected 'timestamp,value', got {','.join(row)!r}")
        t = _parse_ts(row[0], f"{path}:{line}")
        if ts and t < ts[-1]:
            raise DetectorError(f"{path}:{line}: timestamp {row[0].strip()!r} is before the row above "
                                f"({_fmt_ts(ts[-1])}): rows must be in time order")
        try:
            v = float(row[1])
        except ValueError:
            raise DetectorError(f"{path}:{line}: value {row[1]!r} is not a number") from None
        if not math.isfinite(v):
            raise DetectorError(f"{path}:{line}: value {row[1].strip()!r} is not a finite number")
        ts.append(t)
        vals.append(v)
    if not ts:
        raise DetectorError(f"{path}: no rows after the header 'timestamp,value'")
    return ts, vals


def read_corpus(root: str | Path) -> list[Series]:
    """Read a corpus in the layout above (raises :class:`DetectorError` naming the bad file, and its line)."""
    root = Path(root)
    data = root / "data"
    if not data.is_dir():
        raise DetectorError(f"{root}: no data/ directory (expected DIR/data/<group>/<file>.csv)")
    label_path = root / "labels" / "combined_windows.json"
    labels = _read_labels(label_path)
    out = []
    for path in sorted(data.rglob("*.csv")):
        key = path.relative_to(data).as_posix()
        ts, vals = _read_csv(path)
        windows = []
        for i, pair in enumerate(labels.get(key, [])):
            where = f"{label_path}: window {i} of {key!r}"
            if not isinstance(pair, list) or len(pair) != 2:
                raise DetectorError(f"{where}: {pair!r} is not [start, end]")
            a, b = _parse_ts(str(pair[0]), where), _parse_ts(str(pair[1]), where)
            if a > b:
                raise DetectorError(f"{where}: its end {pair[1]!r} is before its start {pair[0]!r}")
            if b < ts[0] or a > ts[-1]:
                raise DetectorError(f"{where}: [{pair[0]!r}, {pair[1]!r}] is outside the file's data "
                                    f"({_fmt_ts(ts[0])} to {_fmt_ts(ts[-1])})")
            windows.append((a, b))
        _check_overlaps(f"{label_path}: {key!r}", windows, labels.get(key, []))
        out.append(Series(key, np.asarray(ts, dtype=np.int64), np.asarray(vals, dtype=np.float64), tuple(windows)))
    if not out:
        raise DetectorError(f"{data}: no .csv files")
    unknown = sorted(set(labels) - {s.name for s in out})
    if unknown:
        raise DetectorError(f"{label_path}: {unknown[0]!r} names no file of {data}"
                            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    return out


#: What a corpus directory holds; a directory holding anything else is the user's, never written over.
CORPUS_FILES = frozenset({"data", "labels"})


def check_corpus_out(root: str | Path, flag: str) -> None:
    """ConfigError naming ``flag`` unless ``root`` is new, empty or a corpus (``data/`` beside
    ``labels/combined_windows.json``): a directory of the user's is not written into (ADR 0033)."""
    may_write_dir(Path(root), CORPUS_FILES, "labels/combined_windows.json", "data", flag, "a detect-real corpus")


def replace_corpus(root: str | Path, series: list[Series], flag: str) -> None:
    """``series`` as the whole corpus at ``root``, whole or not at all: a corpus there before is replaced, not
    written over (its files of other names stayed and were scored as files without anomalies), a directory of
    the user's is refused (``check_corpus_out``)."""
    check_corpus_out(root, flag)
    replace_dir(Path(root), lambda staging: write_corpus(staging, series), flag)


def write_corpus(root: str | Path, series: list[Series]) -> None:
    """Write ``series`` in the layout above (into ``root`` as it is: ``replace_corpus`` makes it whole)."""
    root = Path(root)
    labels = {}
    for s in series:
        path = root / "data" / s.name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "value"])
            for t, v in zip(s.ts_ns, s.values):
                w.writerow([_fmt_ts(int(t)), repr(float(v))])
        labels[s.name] = [[_fmt_ts(a), _fmt_ts(b)] for a, b in s.windows]
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels, indent=1, sort_keys=True))


# ----------------------------------------------------------------------------------------------- generator

_ANOMALIES = ("spike", "shift", "variance", "flatline", "dip", "ramp", "pattern")


def _daily_shape(hours: np.ndarray, rng) -> np.ndarray:
    peak = rng.uniform(10, 16)
    width = rng.uniform(2.5, 5)
    d = np.minimum(np.abs(hours - peak), 24 - np.abs(hours - peak))
    return np.exp(-0.5 * (d / width) ** 2)


def _length(dt: float, kind: str, rng) -> int:
    """Points of one file, as real monitoring exports run: two weeks at 5 min (4,032) most often,
    a few long ones (two months of 5-minute mention counts, or a sensor's 2.5 months), ~1,500 hourly."""
    if dt >= 3600:
        return int(rng.integers(1200, 2200))
    if kind == "mentions" or rng.random() < 0.1:
        return int(rng.integers(12000, 16000))
    return int(rng.choice([4032, 4032, int(rng.integers(1000, 4000)), int(rng.integers(4000, 8000))]))


def _one(idx: int, rng) -> Series:
    kind = str(rng.choice(["cpu", "latency", "requests", "temperature", "counter", "random_walk", "queue",
                           "mentions"]))
    dt = 300.0 if kind == "mentions" else float(rng.choice([60, 300, 300, 300, 3600, 10]))
    n = _length(dt, kind, rng)
    start = int(datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp()) + int(rng.integers(0, 60)) * 86_400
    steps = dt * (1 + rng.uniform(-0.15, 0.15, n) * (rng.random() < 0.4))
    t = start + np.cumsum(steps)
    if rng.random() < 0.4:                       # gaps: a few outages of the collector
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(n // 5, n - 10))
            t[at:] += dt * int(rng.integers(5, 60))
    hours = (t % 86_400) / 3600.0
    day = (t // 86_400).astype(np.int64)
    dow = (day + 3) % 7                          # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
    level = float(rng.choice([1.0, 20.0, 55.0, 300.0, 2000.0]))
    noise_sd = level * rng.uniform(0.03, 0.12)
    seasonal = rng.random() < 0.65 and kind not in ("temperature", "random_walk")
    amp = level * rng.uniform(0.2, 0.8) if seasonal else 0.0
    weekend = rng.uniform(0.3, 0.9) if seasonal and rng.random() < 0.6 else 1.0
    off = (dow >= 5).astype(float)
    prob = int(min(0.15 * n, 750))
    if weekend < 1.0 and rng.random() < 0.5:      # a public holiday: a weekday like a Sunday (not an incident)
        weekdays = np.unique(day[prob:][dow[prob:] < 5])
        if len(weekdays) > 2:
            off[day == int(rng.choice(weekdays[1:-1]))] = 1.0
    base = level + amp * _daily_shape(hours, rng) * (1.0 - (1.0 - weekend) * off)
    if kind == "random_walk":
        base = base + np.cumsum(rng.normal(0, noise_sd * 0.15, n))
    if kind == "temperature" or rng.random() < 0.2:   # slow drift, not an incident
        base = base + np.linspace(0, rng.uniform(-1, 1) * 3 * noise_sd, n)
    if kind == "mentions":                        # social-media mentions: Poisson counts with bursts
        rate = np.maximum(base / level * rng.uniform(2, 40), 0.2)
        for _ in range(int(rng.integers(2, 8))):  # everyday bursts (a popular post): not incidents
            at = int(rng.integers(0, n - 5))
            rate[at:at + int(rng.integers(1, 12))] *= rng.uniform(1.5, 3.0)
        noise = rng.poisson(rate) - rate
        base = rate
        noise_sd = float(np.sqrt(rate.mean()))
    elif kind == "latency":
        noise = noise_sd * (rng.lognormal(0, 0.6, n) - np.exp(0.18))
    else:
        noise = noise_sd * rng.standard_t(3, n) / 1.7
    x = base + noise
    labels, kinds = [], []
    n_anom = int(rng.choice([0, 1, 1, 2, 2, 3]))
    spots = sorted(rng.choice(np.arange(prob + n // 20, n - n // 20), size=n_anom, replace=False)) if n_anom else []
    spots = [s for i, s in enumerate(spots) if i == 0 or s - spots[i - 1] > n // 8]
    sd = float(np.std(np.diff(x)) / np.sqrt(2)) + 1e-9
    for at in spots:
        a = str(rng.choice(_ANOMALIES))
        if kind == "mentions" and a in ("variance", "dip", "ramp"):
            a = "burst"
        if kind == "temperature" and rng.random() < 0.5:
            a = "failure"
        dur = int(rng.integers(3, max(4, n // 40)))
        end = min(n, at + dur)
        if a == "spike":
            x[at:at + int(rng.integers(1, 3))] += rng.choice([-1, 1]) * sd * rng.uniform(6, 15)
        elif a == "burst":                       # a storm of mentions: many times the usual rate, hours long
            width = int(rng.integers(3, 30))
            x[at:at + width] += rng.poisson(base[at:at + width] * rng.uniform(4, 12))
        elif a == "failure":                     # a machine heats up over hours, then fails (drops)
            lead = int(rng.integers(n // 60, n // 20))
            at = max(prob + 1, at - lead)
            x[at:at + lead] += np.linspace(0, sd * rng.uniform(4, 8), len(x[at:at + lead]))
            x[at + lead:at + lead + dur] = base[at + lead:at + lead + dur] * rng.uniform(0.3, 0.7)
        elif a == "shift":
            x[at:] += rng.choice([-1, 1]) * sd * rng.uniform(3, 8)
        elif a == "variance":
            x[at:end] += rng.normal(0, sd * rng.uniform(3, 6), end - at)
        elif a == "flatline":
            x[at:end + n // 30] = x[at]
        elif a == "dip":
            x[at:end] = base[at:end] * rng.uniform(0, 0.2)
        elif a == "ramp":
            ramp = np.linspace(0, sd * rng.uniform(5, 12), end - at)
            x[at:end] += ramp
            x[end:] += ramp[-1]
        else:                                    # the daily pattern stops (a stuck job, a dead region)
            if not seasonal:
                x[at:at + 2] += sd * 10
            else:
                x[at:end + n // 30] = level + noise[at:end + n // 30] * 0.5
        labels.append(int(at))
        kinds.append(a)
    if rng.random() < 0.3:                        # a deploy that moves the level a little: not an incident
        at = int(rng.integers(prob, n))
        if all(abs(at - s) > n // 10 for s in labels):
            x[at:] += sd * rng.uniform(1.0, 2.0) * rng.choice([-1, 1])
    if kind in ("requests", "queue", "mentions") or rng.random() < 0.15:
        x = np.maximum(np.round(x), 0)          # integer counts
    elif rng.random() < 0.2:
        q = 10 ** np.floor(np.log10(sd + 1e-12))
        x = np.round(x / q) * q                 # quantised gauge
    if kind == "counter":
        inc = np.maximum(x, 0)
        total = np.cumsum(inc)
        for r in sorted(rng.integers(prob, n, size=int(rng.integers(0, 3)))):
            total[r:] -= total[r - 1]           # a restart resets the counter to zero
        x = total
    t_ns = (t * _NS).astype(np.int64)
    half = int(0.1 * n / max(len(labels), 1)) // 2
    windows = tuple((int(t_ns[max(0, s - half)]), int(t_ns[min(n - 1, s + half)])) for s in labels)
    return Series(f"{kind}/{kind}_{idx:03d}.csv", t_ns, x.astype(np.float64), windows, tuple(kinds))


def generate_corpus(n_files: int = 40, seed: int = 17) -> list[Series]:
    """``n_files`` labelled series (deterministic for a seed)."""
    return list(iter_corpus(n_files, seed))


def iter_corpus(n_files: int = 40, seed: int = 17) -> Iterator[Series]:
    """:func:`generate_corpus`'s series one at a time (the same series, for a long run to show progress)."""
    rng = np.random.default_rng(seed)
    for i in range(n_files):
        yield _one(i, rng)


# ------------------------------------------------------------------------- harder operational categories

_HARD_KINDS = ("traffic", "adexchange", "deploy", "heating", "storms")


def _hard(idx: int, rng) -> Series:
    """One series of a category :func:`generate_corpus` under-represents (see :func:`generate_hard_corpus`)."""
    kind = _HARD_KINDS[idx % len(_HARD_KINDS)]
    start = int(datetime(2026, 2, 2, tzinfo=timezone.utc).timestamp()) + int(rng.integers(0, 30)) * 86_400
    if kind == "traffic":          # a road sensor: irregular sampling (3-30 min) and outages of hours
        n = int(rng.integers(1500, 2600))
        steps = rng.lognormal(np.log(420.0), 0.5, n)
        for _ in range(int(rng.integers(2, 6))):
            steps[int(rng.integers(n // 6, n - 5))] += rng.uniform(3600, 4 * 3600)
    elif kind == "adexchange":     # hourly, ~1,500 points: the warm-up is a large part of the file
        n = int(rng.integers(1300, 1700))
        steps = np.full(n, 3600.0)
    else:
        n = 4032
        steps = np.full(n, 300.0)
    t = start + np.cumsum(steps)
    hours = (t % 86_400) / 3600.0
    dow = ((t // 86_400).astype(np.int64) + 3) % 7
    prob = int(min(0.15 * n, 750))
    if kind == "traffic":          # speed: rush-hour dips on weekdays, noise, capped at the limit
        base = 62.0 - 25.0 * (_daily_shape(hours, rng) * (dow < 5))
        x = np.minimum(base + rng.normal(0, 4.0, n), 75.0)
    elif kind == "adexchange":     # cost per click: heavy tails (lognormal), a weekly rhythm
        base = 1.0 + 0.3 * (dow < 5) + 0.2 * _daily_shape(hours, rng)
        x = base * rng.lognormal(0, 0.35, n)
    elif kind == "deploy":         # latency whose level moves for good after a deploy (labelled once)
        base = 180.0 + 40.0 * _daily_shape(hours, rng)
        x = base + 12.0 * (rng.lognormal(0, 0.7, n) - 1.28)
    elif kind == "heating":        # machine temperature: slow noise, a long heating, then failure
        base = 80.0 + np.cumsum(rng.normal(0, 0.05, n))
        x = base + rng.normal(0, 0.6, n)
    else:                          # counts with many zeros and everyday storms (a popular post)
        rate = 0.4 + 0.8 * _daily_shape(hours, rng)
        for _ in range(int(rng.integers(3, 9))):
            at = int(rng.integers(0, n - 5))
            rate[at:at + int(rng.integers(2, 10))] *= rng.uniform(4, 12)
        base = rate
        x = rng.poisson(rate).astype(np.float64)
    at = int(rng.integers(prob + n // 10, n - n // 8))
    onsets = (at,)
    sd = float(np.std(np.diff(x)) / np.sqrt(2)) + 1e-9
    if kind == "traffic":          # an accident: speed collapses for an hour or two
        end = int(np.searchsorted(t, t[at] + rng.uniform(3600, 7200)))
        x[at:end] = rng.uniform(8, 20) + rng.normal(0, 2.0, end - at)
    elif kind == "adexchange":     # the price moves to a new level (a campaign misconfigured)
        x[at:] *= rng.choice([0.45, 1.9])
    elif kind == "deploy":
        x[at:] += rng.choice([-1, 1]) * sd * rng.uniform(3, 6)
    elif kind == "heating":        # heats for a day or so, then fails: both labelled
        lead = int(rng.integers(300, 450))
        at = min(at, n - lead - 60)
        x[at:at + lead] += np.linspace(0, rng.uniform(6, 12), lead)
        x[at + lead:at + lead + 30] = rng.uniform(20, 40)
        onsets = (at, at + lead)
    else:                          # a storm far larger and longer than the everyday ones
        width = int(rng.integers(12, 48))
        x[at:at + width] += rng.poisson(rng.uniform(15, 40), len(x[at:at + width]))
    t_ns = (t * _NS).astype(np.int64)
    onsets = onsets if kind == "heating" else (at,)
    half = int(0.1 * n / len(onsets)) // 2        # NAB-sized windows, centred on each onset
    windows = tuple((int(t_ns[max(0, a - half)]), int(t_ns[min(n - 1, a + half)])) for a in onsets)
    return Series(f"{kind}/{kind}_{idx:03d}.csv", t_ns, x.astype(np.float64), windows, (kind,) * len(onsets))


def generate_hard_corpus(n_files: int = 20, seed: int = 1) -> list[Series]:
    """``n_files`` labelled series of categories :func:`generate_corpus` under-represents, in turn:
    road-traffic speeds sampled irregularly (3-30 min, outages of hours), hourly ad-exchange prices of
    ~1,500 points (the warm-up a large part of the file), latency whose level moves for good after a
    deploy (labelled once, at its onset), a machine that heats up for a day before it fails, and counts
    with many zeros and everyday storms. One labelled anomaly each (two for the machine: the heating's
    onset and the failure); deterministic for a seed."""
    rng = np.random.default_rng(seed)
    return [_hard(i, rng) for i in range(n_files)]
