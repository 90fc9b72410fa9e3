"""Shared helpers for the detector tests: every detector, built both ways."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import (CUSUM, EWMA, CUSUMBank, Drift, DriftBank, EWMABank, Robust, RobustBank, Variance,
                        VarianceBank)

# Small spans / warm-ups so that short test series exercise warm-up *and* the steady state.
CASES = {
    "ewma": (EWMA, EWMABank, {"span": 8.0, "warmup": 6}),
    "cusum": (CUSUM, CUSUMBank, {"span": 8.0, "warmup": 6}),
    "robust": (Robust, RobustBank, {"window": 8, "refresh": 4, "warmup": 6}),
    "drift": (Drift, DriftBank, {"ref_span": 64.0, "recent_span": 8.0, "warmup": 16, "stride": 4, "relearn": 16}),
    "variance": (Variance, VarianceBank, {"ref_span": 32.0, "warmup": 6, "h": 4.0}),
    "ewma-defaults": (EWMA, EWMABank, {}),
    "ewma-plain": (EWMA, EWMABank, {"span": 8.0, "warmup": 6, "trend": 0.0}),
    "variance-defaults": (Variance, VarianceBank, {}),
    "drift-defaults": (Drift, DriftBank, {}),
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    """(single-series class, bank class, params) for every detector."""
    return CASES[request.param]


def series(seed: int, length: int = 700, n: int = 1) -> np.ndarray:
    """Noisy values with a variance burst, a level shift, a spike and a ramp, ``(length, n)``."""
    rng = np.random.default_rng(seed)
    x = 100 + rng.standard_t(5, size=(length, n)) * 3
    x[length // 2:] += 25
    x[length // 3] += 60
    x[2 * length // 3:] += np.linspace(0, 30, length - 2 * length // 3)[:, None]
    burst = slice(length * 3 // 14, length * 3 // 10)  # the noise grows fourfold for a while
    x[burst] += rng.standard_t(5, size=(burst.stop - burst.start, n)) * 12
    return x
