"""bench/context_novelty.py: the contextual-novelty and relative-entropy prototypes of ADR 0047.

They were measured and parked (not part of the default monitor); these tests pin what the figures in
ADR 0047 rely on: novelty fades as a pattern is learned and a new one scores high, the fusion moves an
onset's score the intended way, and the relative-entropy statistic sees a change of distribution."""

import math

import numpy as np

from ben.cli.bench import load

cn = load("context_novelty")
_NS = 1_000_000_000


def _run(x, onset_at=(), score=0.6, windows=()):
    x = np.asarray(x, float)
    onset = np.full(len(x), np.nan)
    onset[list(onset_at)] = score
    return cn.Run("f.csv", np.arange(len(x), dtype=np.int64) * 300 * _NS, x, tuple(windows), onset,
                  np.zeros(len(x), bool))


def test_novelty_fades_as_a_pattern_repeats_and_a_new_pattern_scores_high():
    x = np.tile(np.arange(10.0), 60)                       # a sawtooth, learned after a few periods
    x[550] = 4.5                                           # one value where the pattern never went
    s = cn.novelty(_run(x), cn.Ctx(levels=10, depth=3), {})
    familiar = s[400:540].max()
    assert familiar < math.log(10.0) + 0.1                 # learned: each context is a tenth of all
    assert s[550] > familiar + 1.0                         # a new context stands out
    assert s[551] > familiar + 1.0                         # and so do the contexts that include it
    assert s[5:15].max() < s[550]                          # while every context is new, one more means little


def test_a_familiar_context_lowers_an_onset_and_a_new_one_raises_it():
    x = np.tile(np.arange(10.0), 60)
    x[550] = 4.5
    run = _run(x, onset_at=(450, 550))
    s = cn.novelty(run, cn.Ctx(levels=10, depth=3), {})
    out = cn.fused(run, s, a=0.5, mid=3.0, back=0)
    assert out[450] < 0.6 < out[550]
    assert np.isnan(out[:450]).all()                       # no onset is added without open_at


def test_novelty_opens_an_onset_only_where_the_monitor_has_none_and_not_twice_in_a_gap():
    x = np.tile(np.arange(10.0), 60)
    x[550] = x[552] = 4.5
    run = _run(x)
    run.flags[:300] = True                                 # the monitor holds an episode: novelty stays out
    s = cn.novelty(run, cn.Ctx(levels=10, depth=3), {})
    out = cn.fused(run, s, a=0.0, mid=0.0, back=0, open_at=s[400:540].max() + 1.0, gap=12)
    assert np.flatnonzero(np.isfinite(out)).tolist() == [550]


def test_relative_entropy_sees_a_change_of_distribution_then_learns_it_as_a_reference():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 1500)
    x[1000:] = rng.normal(3.0, 1.0, 500)                   # the level moves by 3 sigma and stays
    f = cn.relent_feature(_run(x), 48)
    assert f[1000:1060].max() > f[600:1000].max() + 1.0
    assert np.median(f[1100:]) < 0.8                       # the new distribution is a reference now


def test_auc_counts_ties_half():
    assert cn.auc([2.0, 3.0], [1.0]) == 1.0
    assert cn.auc([1.0], [1.0]) == 0.5
    assert math.isnan(cn.auc([], [1.0]))


def test_files_of_two_corpora_with_one_name_and_length_get_their_own_novelty():
    # semi-real and hard corpora of different seeds share file names and lengths
    memo = {}
    a = _run(np.tile(np.arange(10.0), 30))
    b = _run(np.random.default_rng(5).normal(0.0, 1.0, 300))
    cfg = cn.Ctx(levels=10, depth=2)
    assert not np.array_equal(cn.novelty(a, cfg, memo), cn.novelty(b, cfg, memo))
    assert np.array_equal(cn.novelty(b, cfg, memo), cn.novelty(b, cfg, {}))
