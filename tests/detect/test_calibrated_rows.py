"""The default detection's disk caches are dropped when the sources they froze change (numba alone
keys a cache on its own file, so a changed ``step`` or constant would otherwise run stale)."""

from __future__ import annotations

import shutil

from ben.detect import _calibrated_rows as rows


def test_a_changed_source_drops_the_caches_an_unchanged_one_keeps_them(tmp_path, monkeypatch):
    for name in rows._SOURCES:
        shutil.copy(rows._HERE / name, tmp_path / name)
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    monkeypatch.setattr(rows, "_HERE", tmp_path)

    def run() -> None:
        monkeypatch.setattr(rows, "_checked", False)
        rows.drop_stale_caches()

    def plant() -> list:
        files = [cache / "_calibrated_kernel.step-1.py311.nbi", cache / "_calibrated_rows_loop.loop-1.py311.1.nbc",
                 cache / "other.thing-1.py311.nbi"]
        for f in files:
            f.write_bytes(b"x")
        return files

    kernel, loop, other = plant()
    run()                                   # no stamp yet: whatever is cached may be stale
    assert not kernel.exists() and not loop.exists() and other.exists()
    kernel, loop, other = plant()
    run()                                   # same sources: the caches stay
    assert kernel.exists() and loop.exists()
    (tmp_path / "calibrated.py").write_text((tmp_path / "calibrated.py").read_text() + "\n# a constant moved\n")
    run()                                   # a source changed: dropped, one stamp left
    assert not kernel.exists() and not loop.exists() and other.exists()
    assert len(list(cache.glob("calibrated-sources-*.stamp"))) == 1


def test_the_cached_loop_is_the_bank_loop():
    from ben.detect.calibrated_bank import _loop_for

    assert _loop_for(None, True) is rows.compiled_loop()
