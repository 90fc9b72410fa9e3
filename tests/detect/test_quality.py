"""The synthetic benchmark: seeded, labelled, and the matching rules."""

from __future__ import annotations

import numpy as np

from ben.detect.quality import match, score
from ben.detect.synthetic import FAULT_KINDS, Fault, LabelledSeries, generate


def test_generate_is_seeded_and_labelled():
    a, b, c = generate(30, 800, seed=4), generate(30, 800, seed=4), generate(30, 800, seed=5)
    assert all(np.array_equal(x.values, y.values) and x.faults == y.faults for x, y in zip(a, b))
    assert not all(np.array_equal(x.values, y.values) for x, y in zip(a, c))
    kinds = {f.kind for s in a for f in s.faults}
    assert kinds == set(FAULT_KINDS)
    assert all(np.isfinite(s.values).all() and len(s.values) == 800 for s in a)
    counters = [s for s in a if s.counter]
    assert counters and all((np.diff(s.values) < 0).sum() >= 1 for s in counters)


def test_matching_rules():
    faults = [Fault("spike", 100, 102), Fault("spike", 500, 500)]
    s = LabelledSeries("x", "spike", np.arange(1000), np.zeros(1000), faults)
    m = match(s, [50, 101, 102, 120, 123, 510, 530], tolerance=20)
    assert m["detected"] == {0: 1, 1: 10}      # first alarm per fault; delay from the start
    assert m["false_alarms"] == 3  # 50 (before), 123 and 530 (past end + tolerance); 102, 120 duplicates
    free = LabelledSeries("y", "clean", np.arange(1000), np.zeros(1000))
    rep = score([s, free], [[101], [5, 6]], tolerance=20)
    assert rep["detected"] == 1 and rep["faults"] == 2 and rep["false_alarms"] == 2
    assert rep["false_alarms_per_10k"] == 20.0
    assert rep["per_type"]["spike"]["recall"] == 0.5
