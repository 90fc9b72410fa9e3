"""The compiled block kernels (``ben.detect._kernels``) against the numpy paths, bit for bit.

The per-point numpy code (``_recur`` through ``update``) is the reference; the numpy block fast
path is kept too (``use_kernels(False)``). Every comparison here is exact: the bytes of the
float64 arrays, so even a signed zero would count.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ben.detect import DETECTORS, DetectorError, MonitorBank, NoiseControl
from ben.detect import base as detect_base
from ben.detect.base import ENV_KERNELS, kernels, use_kernels
from ben.detect.noise import combine
from tests.detect.conftest import CASES

# blocks of awkward lengths: they cross warm-up, chunk (16), floor (16), refresh and stride boundaries
CUTS = [1, 2, 5, 16, 17, 31, 64, 100, 129, 200, 257, 333]


def kinds_of_data(length: int, seed: int) -> np.ndarray:
    """Series of many kinds side by side, ``(length, 10)``."""
    rng = np.random.default_rng(seed)
    cols = [
        100 + rng.standard_t(3, length) * 5,                                   # heavy tails
        np.round(rng.normal(50, 0.4, length)),                                 # quantised: the MAD is often 0
        np.full(length, 7.0),                                                  # flat
        -1e6 + rng.normal(0, 1e3, length),                                     # large, negative
        1e-6 * rng.normal(0, 1, length),                                       # tiny, around 0
        np.cumsum(rng.normal(0, 1, length)),                                   # random walk
        10 + 3 * np.sin(np.arange(length) * 2 * np.pi / 48) + rng.normal(0, 0.5, length),  # seasonal
        np.where(np.arange(length) > length // 2, 40.0, 10.0) + rng.normal(0, 1, length),  # level shift
        rng.normal(0, 1, length) * np.where(np.arange(length) > length // 3, 6.0, 1.0),    # variance
        rng.choice([0.0, -0.0, 1.0], length),                                  # signed zeros
    ]
    x = np.stack(cols, axis=1)
    x[length // 4, 0] += 500  # a spike
    return x


def feed(bank, x: np.ndarray, cuts=CUTS, evidence: bool = True) -> list:
    """Feed ``x`` in blocks of the lengths in ``cuts`` (cycled); every result (monitors: ``evidence=False``)."""
    out, t, k = [], 0, 0
    kw = {"evidence": True} if evidence else {}
    ts = np.arange(len(x), dtype=np.int64) * 1_000_000_000
    while t < len(x):
        step = cuts[k % len(cuts)]
        out.append(bank.update_block(ts[t:t + step], x[t:t + step], **kw))
        t, k = t + step, k + 1
    return out


def same_bits(a, b, where: str = "") -> None:
    """Exact equality of nested results: arrays by their bytes, dtypes and shapes too."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            same_bits(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            same_bits(u, v, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), f"{where}: first difference at {np.flatnonzero(a.ravel() != b.ravel())[:5]}"
    else:
        assert repr(a) == repr(b), where


@pytest.fixture
def numpy_path():
    """Run the block fast path in numpy inside the ``with``; kernels back on afterwards."""
    class Switch:
        def __enter__(self):
            self.old = use_kernels(False)

        def __exit__(self, *exc):
            use_kernels(self.old)

    return Switch()


def bank_run(bank_cls, params, x, cuts=CUTS):
    bank = bank_cls(x.shape[1], **params)
    results = feed(bank, x, cuts)
    return [(r.scores, r.flags, r.status, r.evidence) for r in results], bank.checkpoint()


CASES_MORE = {
    **CASES,
    "robust-defaults": (None, DETECTORS["robust"], {}),
    "cusum-defaults": (None, DETECTORS["cusum"], {}),
    "cusum-plain": (None, DETECTORS["cusum"], {"span": 8.0, "warmup": 6, "trend": 0.0}),
    "robust-partial-windows": (None, DETECTORS["robust"], {"window": 16, "refresh": 2, "warmup": 3}),
    "drift-stride-10": (None, DETECTORS["drift"], {"stride": 10, "warmup": 20, "recent_span": 8.0, "ref_span": 64.0,
                                                   "relearn": 20}),
    "drift-stride-256": (None, DETECTORS["drift"], {"stride": 256, "warmup": 512, "recent_span": 64.0}),
}


@pytest.mark.parametrize("name", sorted(CASES_MORE))
def test_kernel_block_equals_numpy_block_and_points(name, numpy_path):
    _, bank_cls, params = CASES_MORE[name]
    x = kinds_of_data(1400, seed=sum(map(ord, name)))
    assert kernels() is not None
    compiled = bank_run(bank_cls, params, x)
    with numpy_path:
        reference = bank_run(bank_cls, params, x)
    same_bits(compiled, reference, name)
    # and the per-point path (rounds of single points), the reference the block paths follow
    points = bank_cls(x.shape[1], **params)
    ts = np.arange(len(x), dtype=np.int64) * 1_000_000_000
    res = points.update(np.tile(np.arange(x.shape[1]), len(x)), np.repeat(ts, x.shape[1]), x.reshape(-1))
    same_bits(np.concatenate([r[0] for r in compiled[0]]), res.scores.reshape(x.shape), f"{name} points")
    same_bits(compiled[1], points.checkpoint(), f"{name} state")


def test_kernel_path_is_taken(monkeypatch):
    """The fast path calls the compiled kernels (not silently the numpy code)."""
    calls = []
    kern = kernels()
    for name in ("ewma_block", "cusum_block", "variance_block", "robust_segment", "robust_full", "drift_segment",
                 "drift_process", "drift_kl", "combine_k2"):
        real = getattr(kern, name)
        monkeypatch.setattr(kern, name,
                            lambda *a, _real=real, _name=name, **kw: (calls.append(_name), _real(*a, **kw))[1])
    feed(MonitorBank(4, seasonal=False), kinds_of_data(800, 3)[:, :4], cuts=[800], evidence=False)
    assert set(calls) == {"ewma_block", "cusum_block", "variance_block", "robust_segment", "robust_full",
                          "drift_segment", "drift_process", "drift_kl", "combine_k2"}


def test_robust_zero_mad_fallback_is_exercised_and_exact(numpy_path):
    """Quantised series: the compiled refresh hands MAD = 0 series to the numpy fallback."""
    x = np.round(np.random.default_rng(5).normal(20, np.linspace(0.2, 1.5, 40), size=(600, 40)))
    bank = DETECTORS["robust"](40)
    feed(bank, x[:200], cuts=[200])
    sT = np.sort(bank.buf.T, axis=0)
    zero = np.empty(40, dtype=bool)
    marked = kernels().robust_full(sT, bank.median.copy(), bank.sigma.copy(), 1e-4, 1e-9, zero)
    assert 0 < marked < 40 and marked == zero.sum()
    compiled = bank_run(DETECTORS["robust"], {}, x)
    with numpy_path:
        reference = bank_run(DETECTORS["robust"], {}, x)
    same_bits(compiled, reference)


@pytest.mark.parametrize("seasonal", [True, False])
def test_monitor_kernels_equal_numpy(seasonal, numpy_path):
    x = kinds_of_data(1500, seed=11)
    x = np.concatenate([x, 100 + 10 * np.cumsum(np.abs(np.random.default_rng(1).normal(0, 1, (1500, 2))), axis=0)],
                       axis=1)
    x[1000:, 1] = 0.0  # the second counter resets
    counters = [False] * 10 + [True, True]

    def go():
        bank = MonitorBank(12, counters=counters, seasonal=seasonal)
        res = feed(bank, x, evidence=False)
        episodes = [e for r in res for e in r.episodes]
        return [(r.scores, r.flags) for r in res], repr(episodes), bank.checkpoint(), len(episodes)

    compiled = go()
    with numpy_path:
        reference = go()
    assert compiled[3] > 5  # episodes were opened and closed along the way
    same_bits(compiled[:3], reference[:3])


@pytest.mark.parametrize("n_det", [2, 3, 5, 6])
@pytest.mark.parametrize("solo", [0.67, 1.0])
@pytest.mark.parametrize("which", ["odd", "none", "all"])
def test_combine_kernel_equals_numpy(n_det, solo, which):
    rng = np.random.default_rng(n_det)
    scores = [rng.choice([0.0, 0.25, 0.5, 0.6, 0.9], size=(16, 300)) for _ in range(n_det)]  # ties, zeros
    scores[0][:, :50] = rng.random((16, 50))
    solo_ok = tuple({"odd": bool(i % 2), "none": False, "all": True}[which] for i in range(n_det))
    noise = NoiseControl(solo=solo)
    bank = MonitorBank(1, noise=noise, seasonal=False)
    bank._solo_ok = solo_ok
    calls = []
    kern = kernels()
    real = kern.combine_k2
    try:
        kern.combine_k2 = lambda *a, **kw: (calls.append(1), real(*a, **kw))[1]
        got = bank._combine_block(scores)
    finally:
        kern.combine_k2 = real
    assert calls == [1]
    same_bits(got, combine(scores, noise, solo_ok))


def test_kernels_that_fail_to_load_give_a_clear_error(monkeypatch):
    monkeypatch.setitem(detect_base._KERNELS, "module", None)
    monkeypatch.setitem(sys.modules, "ben.detect._kernels", None)  # makes the import fail
    monkeypatch.delattr(sys.modules["ben.detect"], "_kernels", raising=False)
    bank = DETECTORS["ewma"](3, warmup=2, span=2.0)
    bank.update_block(np.arange(4), np.ones((4, 3)))  # start-up: the numpy path, no kernels yet
    with pytest.raises(DetectorError, match=f"compiled detector kernels.*{ENV_KERNELS}=0"):
        bank.update_block(np.arange(4, 8), np.ones((4, 3)))


def _python(code: str, **env) -> str:
    import os

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_does_not_load_numba_and_env_switches_kernels_off():
    code = ("import sys, numpy as np; import ben.detect as d; print('numba' in sys.modules); "
            "b = d.EWMABank(2); b.update_block(np.arange(100), np.random.default_rng(0).normal(size=(100, 2))); "
            "print('numba' in sys.modules)")
    assert _python(code).split() == ["False", "True"]
    assert _python(code, **{ENV_KERNELS: "0"}).split() == ["False", "False"]
    # the words a newcomer writes for "off" (before: only "0"; "false" left the kernels on, ADR 0033 round 13)
    assert _python(code, **{ENV_KERNELS: " False"}).split() == ["False", "False"]
    assert _python(code, **{ENV_KERNELS: "off"}).split() == ["False", "False"]


def test_no_writable_cache_directory_compiles_in_memory(monkeypatch, caplog):
    """A read-only install with no writable home: numba cannot cache; the kernels still load
    (compiled in each process) and say so once in the log."""
    import importlib.util
    import logging

    import numba

    from ben.detect import _kernels

    real = numba.njit

    def no_locator(*args, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function 'f': no locator available for file 'x.py'")
        return real(*args, **options)

    monkeypatch.setattr(numba, "njit", no_locator)
    spec = importlib.util.spec_from_file_location("ben_detect_kernels_uncached", _kernels.__file__)
    mod = importlib.util.module_from_spec(spec)
    with caplog.at_level(logging.WARNING):
        spec.loader.exec_module(mod)
    assert len(mod._NO_CACHE) == 1 and "compiling without a disk cache" in caplog.text
    C = np.random.default_rng(0).random((16, 50)) ** 8  # some series quiet, some busy
    got = [np.zeros(50, dtype=bool) for _ in range(2)]
    cn = [np.zeros(50, dtype=np.int64) for _ in range(2)]
    for k, m in enumerate((mod, _kernels)):
        m.noise_busy(C, np.full(50, 100), 64, np.zeros(50, bool), np.zeros(50, bool), np.zeros(50, np.int64), cn[k],
                     got[k])
    assert np.array_equal(got[0], got[1]) and np.array_equal(cn[0], cn[1]) and got[0].any() and cn[0].any()


def test_fortran_ordered_and_strided_blocks_give_the_same_results():
    x = kinds_of_data(900, 21)
    ref = bank_run(DETECTORS["cusum"], {}, x)
    same_bits(bank_run(DETECTORS["cusum"], {}, np.asfortranarray(x)), ref)
    wide = np.repeat(x, 2, axis=1)[:, ::2]  # a strided view
    same_bits(bank_run(DETECTORS["cusum"], {}, wide), ref)
    sigs = {str(s[0]) for s in kernels().cusum_block.signatures}
    assert sigs == {"array(float64, 2d, C)"}


def test_quiet_busy_series_settled_at_once_equal_the_per_step_loop(monkeypatch):
    """``MonitorBank._settle_simple`` (busy series that open nothing, done for the whole chunk)
    against the per-step loop alone, on data with spikes, shifts, flapping and mutes."""
    rng = np.random.default_rng(8)
    x = 100 + rng.standard_t(4, size=(2500, 30)) * 2
    x[700::97, :10] += 30                  # isolated spikes: anomalous points, some episodes
    x[900:, 10:15] += np.arange(5) * 4     # level shifts of several sizes
    x[1200::40, 15:20] += 60               # repeated spikes: flap suppression mutes these
    noise = NoiseControl(dwell=3)

    def go():
        bank = MonitorBank(30, noise=noise)
        res = feed(bank, x, evidence=False)
        events = [e for r in res for e in r.episodes]
        return [(r.scores, r.flags) for r in res], repr(events), bank.checkpoint(), events

    fast = go()
    monkeypatch.setattr(MonitorBank, "_settle_simple", lambda self, ids, cols, A, C: (cols, A))
    loop = go()
    kinds = {e.kind for e in fast[3]}
    assert kinds == {"anomaly", "mute"} and len(fast[3]) > 20
    same_bits(fast[:3], loop[:3])
