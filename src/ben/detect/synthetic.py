"""Labelled synthetic series for the detectors' quality benchmark.

``generate(n_series, length, seed)`` returns :class:`LabelledSeries`, seeded and reproducible.
Series kinds (``kind``) and what is injected:

- ``clean``: a level with AR(1) noise; no fault.
- ``noisy``: heavy-tailed noise (Student t, 4-6 degrees of freedom) or low Poisson counts; no fault.
- ``flat``: a constant (the same value every point); no fault.
- ``seasonal``: a daily sine (period 96, 144 or 288 points: one day at 15-, 10- or 5-minute
  samples, so a series holds 7 to 20 days; amplitude 2-6 sigma) plus noise;
  half of them carry a fault (a spike or a level shift), half none.
- ``counter``: a monotone total that resets to zero 1-3 times (watched as a counter); no fault.
- ``spike``, ``level_shift``, ``variance``, ``drift``: a clean base (or, for 30%, a heavy-tailed
  one) with one or two faults of that type.

Faults (``Fault(kind, start, end)``, point indices, inclusive), sigma being the noise's sd:

- ``spike``: 1-3 points moved by 5-10 sigma (8-15 sigma on a heavy-tailed base, where 5-sigma
  points are ordinary; sign random). Window: the points.
- ``level_shift``: a permanent step of 3-8 sigma. Window: ``[start, start + 100]`` (as NAB's
  windows, about 5% of the series: detectors may keep reporting the new level for a while).
- ``variance``: the noise multiplied by 3-6 for 60-200 points. Window: those points.
- ``drift``: a ramp of 6-12 sigma over 150-400 points, then held. Window: the ramp.

Faults start after point 300 (the detectors' warm-up is 64-96 points; seasonal series need a
period or two). Timestamps are 5 minutes apart from 2026-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Fault", "LabelledSeries", "generate", "FAULT_KINDS", "SERIES_KINDS", "FAULT_FREE_KINDS"]

FAULT_KINDS = ("spike", "level_shift", "variance", "drift", "seasonal")
FAULT_FREE_KINDS = ("clean", "noisy", "flat", "seasonal_clean", "counter")
SERIES_KINDS = ("spike", "level_shift", "variance", "drift", "seasonal", "clean", "noisy", "flat",
                "seasonal_clean", "counter")
T0_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
STEP_NS = 300_000_000_000


@dataclass(frozen=True)
class Fault:
    """A labelled fault: its type and its window of points ``[start, end]`` (inclusive)."""

    kind: str
    start: int
    end: int


@dataclass
class LabelledSeries:
    """One synthetic series with its labels."""

    name: str
    kind: str
    ts_ns: np.ndarray
    values: np.ndarray
    faults: list[Fault] = field(default_factory=list)
    counter: bool = False


def _noise(rng: np.random.Generator, length: int, sigma: float, heavy: bool) -> np.ndarray:
    phi = rng.uniform(0.0, 0.5)
    if heavy:
        df = rng.integers(4, 7)
        e = rng.standard_t(df, length) / np.sqrt(df / (df - 2))
    else:
        e = rng.normal(0.0, 1.0, length)
    out = np.empty(length)
    acc = 0.0
    scale = np.sqrt(1.0 - phi * phi)
    for i in range(length):
        acc = phi * acc + scale * e[i]
        out[i] = acc
    return out * sigma


def _base(rng: np.random.Generator, length: int, heavy: bool) -> tuple[np.ndarray, float]:
    level = float(np.exp(rng.uniform(np.log(5.0), np.log(5000.0))))
    sigma = level * rng.uniform(0.01, 0.1)
    return level + _noise(rng, length, sigma, heavy), sigma


def _place(rng: np.random.Generator, length: int, count: int, span: int) -> list[int]:
    starts: list[int] = []
    for _ in range(50 * count):
        s = int(rng.integers(300, max(301, length - span - 50)))
        if all(abs(s - o) > span + 150 for o in starts):
            starts.append(s)
        if len(starts) == count:
            break
    return sorted(starts)


def _inject(rng: np.random.Generator, x: np.ndarray, sigma: float, kind: str, start: int,
            heavy: bool = False) -> Fault:
    n = len(x)
    sign = rng.choice([-1.0, 1.0])
    if kind == "spike":
        width = int(rng.integers(1, 4))
        size = rng.uniform(8.0, 15.0) if heavy else rng.uniform(5.0, 10.0)
        x[start:start + width] += sign * size * sigma
        return Fault(kind, start, start + width - 1)
    if kind == "level_shift":
        x[start:] += sign * rng.uniform(3.0, 8.0) * sigma
        return Fault(kind, start, min(n - 1, start + 100))
    if kind == "variance":
        width = int(rng.integers(60, 201))
        mean = x[max(0, start - 100):start].mean()
        x[start:start + width] = mean + (x[start:start + width] - mean) * rng.uniform(3.0, 6.0)
        return Fault(kind, start, min(n, start + width) - 1)
    if kind == "drift":
        width = int(rng.integers(150, 401))
        ramp = np.linspace(0.0, 1.0, width) * sign * rng.uniform(6.0, 12.0) * sigma
        end = min(n, start + width)
        x[start:end] += ramp[:end - start]
        x[end:] += ramp[end - start - 1]
        return Fault(kind, start, end - 1)
    raise ValueError(kind)


def _one(rng: np.random.Generator, kind: str, length: int, index: int) -> LabelledSeries:
    ts = T0_NS + np.arange(length, dtype=np.int64) * STEP_NS
    name = f"{kind}-{index:04d}"
    faults: list[Fault] = []
    if kind == "flat":
        x = np.full(length, float(np.round(np.exp(rng.uniform(0, np.log(1000.0))))))
        return LabelledSeries(name, kind, ts, x)
    if kind == "counter":
        inc = rng.poisson(rng.uniform(1.0, 200.0), length).astype(np.float64)
        total = np.cumsum(inc)
        for r in sorted(rng.integers(200, length, int(rng.integers(1, 4)))):
            total[r:] -= total[r - 1]  # restarts from its increment at the reset
        return LabelledSeries(name, kind, ts, total, counter=True)
    if kind == "noisy" and rng.random() < 0.4:
        lam = rng.uniform(1.0, 20.0)
        x = rng.poisson(lam, length).astype(np.float64)
        return LabelledSeries(name, kind, ts, x)
    heavy = kind == "noisy" or (kind in FAULT_KINDS and rng.random() < 0.3)
    x, sigma = _base(rng, length, heavy)
    if kind in ("seasonal", "seasonal_clean"):
        period = int(rng.choice([96, 144, 288]))
        x += rng.uniform(2.0, 6.0) * sigma * np.sin(2 * np.pi * np.arange(length) / period + rng.uniform(0, 6.3))
        if kind == "seasonal":
            sub = str(rng.choice(["spike", "level_shift"]))
            faults.append(_inject(rng, x, sigma, sub, _place(rng, length, 1, 60)[0]))
            faults = [Fault("seasonal", f.start, f.end) for f in faults]
        return LabelledSeries(name, kind, ts, x, faults)
    if kind in ("spike", "level_shift", "variance", "drift"):
        count = 1 if kind in ("level_shift", "drift") else int(rng.integers(1, 3))
        span = {"spike": 3, "level_shift": 30, "variance": 200, "drift": 400}[kind]
        for s in _place(rng, length, count, span):
            faults.append(_inject(rng, x, sigma, kind, s, heavy))
    return LabelledSeries(name, kind, ts, x, faults)


def generate(n_series: int = 200, length: int = 2000, seed: int = 0) -> list[LabelledSeries]:
    """``n_series`` labelled series of ``length`` points, the kinds in turn (seeded).

    Examples
    --------
    >>> data = generate(20, 1000, seed=1)
    >>> sorted({s.kind for s in data}) == sorted(SERIES_KINDS)
    True
    >>> sum(len(s.faults) for s in data) > 0
    True
    """
    rng = np.random.default_rng(seed)
    return [_one(rng, SERIES_KINDS[i % len(SERIES_KINDS)], length, i) for i in range(n_series)]
