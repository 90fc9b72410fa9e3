"""The compiled batch loop of :class:`~ben.detect.CalibratedBank`, cached on disk like the kernels.

numba keys a function's disk cache on its own source file only: a cached caller is not recompiled
when a function it inlines from another module changes (``step`` here), nor a kernel when the
constants it froze at compile time change (``ben.detect.calibrated``). :func:`drop_stale_caches`
closes that gap: it keeps a stamp of those sources' digest beside the caches and deletes the
default detection's cache files when the digest moves, before numba can load them. So a spine
start loads the loop (well under a second) instead of compiling it (seconds), and never a stale one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SOURCES = ("calibrated.py", "base.py", "_calibrated_parts.py", "_calibrated_kernel.py", "_calibrated_rows_loop.py")
_CACHED = ("_calibrated_parts", "_calibrated_kernel", "_calibrated_rows_loop")
_checked = False


def drop_stale_caches() -> None:
    """Delete the default detection's numba cache files if its sources changed since they were made."""
    global _checked
    if _checked:
        return
    _checked = True
    try:
        digest = hashlib.sha256(b"".join((_HERE / name).read_bytes() for name in _SOURCES)).hexdigest()[:16]
        cache = _HERE / "__pycache__"
        stamp = cache / f"calibrated-sources-{digest}.stamp"
        if stamp.exists():
            return
        cache.mkdir(exist_ok=True)
        for old in list(cache.glob("calibrated-sources-*.stamp")) + [
                f for mod in _CACHED for f in cache.glob(f"{mod}.*.nb[ic]")]:
            old.unlink(missing_ok=True)
        stamp.touch()
    except OSError:   # a read-only install: numba uses its own cache directory (and its own checks)
        pass


def compiled_loop():
    """The compiled loop (loaded from the disk cache when its sources did not change)."""
    drop_stale_caches()
    from ben.detect._calibrated_rows_loop import loop

    return loop
