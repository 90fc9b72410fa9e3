"""NAB scoring on hand-made cases (numbers worked out from the published rules)."""

import math

import numpy as np
import pytest

from ben.detect.nab import PROFILES, FileLabels, probation_rows, score_corpus, sigma

STD = PROFILES["standard"]
TS = np.arange(100, dtype=np.int64) * 60_000_000_000          # 100 rows, one a minute
WINDOW = ((int(TS[50]), int(TS[59])),)                         # rows 50..59: 10 rows


def _score(rows_scores, windows=WINDOW, profile=STD, ts=TS):
    s = np.full(len(ts), np.nan)
    for row, value in rows_scores.items():
        s[row] = value
    return score_corpus([FileLabels("f", ts, windows)], [s], profile)


def test_sigma_and_probation():
    assert sigma(0.0) == 0.0
    assert sigma(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert sigma(3.5) == -1.0
    assert probation_rows(100) == 15 and probation_rows(10_000) == 750


def test_detection_at_window_start_is_perfect():
    assert _score({50: 0.9})["score"] == pytest.approx(100.0)


def test_detection_at_window_end_earns_little():
    res = _score({59: 0.9})
    tp = sigma(-0.1) / sigma(-1.0)
    assert res["raw"] == pytest.approx(tp)
    assert res["score"] == pytest.approx(100 * (tp + 1) / 2)


def test_only_the_first_detection_in_a_window_counts():
    res = _score({52: 0.9, 55: 0.9, 58: 0.9})
    assert res["raw"] == pytest.approx(sigma(-8 / 10) / sigma(-1.0))


def test_false_positive_before_any_window_costs_a_fp():
    res = _score({20: 0.9, 50: 0.9})
    assert res["raw"] == pytest.approx(1.0 - 0.11)
    assert res["score"] == pytest.approx(100 * (1.89) / 2)


def test_false_positive_right_after_a_window_costs_less():
    res = _score({50: 0.9, 60: 0.9})
    fp = sigma(1 / 9)
    assert -1 < fp < 0
    assert res["raw"] == pytest.approx(1.0 + 0.11 * fp)


def test_probationary_rows_are_not_scored():
    assert _score({10: 0.9, 50: 0.9})["raw"] == pytest.approx(1.0)


def test_the_sweep_drops_low_scored_false_positives():
    res = _score({20: 0.3, 30: 0.4, 50: 0.9})
    assert res["threshold"] == 0.9 and res["raw"] == pytest.approx(1.0)
    res = _score({20: 0.95, 50: 0.9})       # a FP above the TP: worth keeping (-0.11 beats -1)
    assert res["threshold"] == 0.9 and res["raw"] == pytest.approx(0.89)


def test_missed_windows_and_profiles():
    assert _score({})["score"] == 0.0
    res = _score({59: 0.9}, profile=PROFILES["low_fn"])
    tp = sigma(-0.1) / sigma(-1.0)
    assert res["null"] == -2.0 and res["score"] == pytest.approx(100 * (tp + 2) / 3)
    res = _score({20: 0.9, 50: 0.9}, profile=PROFILES["low_fp"])
    assert res["raw"] == pytest.approx(1.0 - 0.22)


def test_one_threshold_over_all_files():
    s1 = np.full(100, np.nan)
    s1[50] = 0.5                             # a TP scored 0.5 in file 1
    s2 = np.full(100, np.nan)
    s2[[20, 25, 30]] = 0.6                   # three FPs scored higher in file 2 (no window)
    files = [FileLabels("a", TS, WINDOW), FileLabels("b", TS, ())]
    res = score_corpus(files, [s1, s2], STD)
    assert res["threshold"] == 0.5 and res["raw"] == pytest.approx(1.0 - 3 * 0.11)
    s2[[20, 25, 30]] = 0.4
    res = score_corpus(files, [s1, s2], STD)
    assert res["threshold"] == 0.5 and res["raw"] == pytest.approx(1.0)
