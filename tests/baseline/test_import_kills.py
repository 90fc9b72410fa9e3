"""``ben baseline import`` under kill -9 (ADR 0046, round 5): killed while it writes the detect-real corpus over
the one a previous import wrote, it leaves that corpus whole (never half of the new one beside the old labels),
and the next import leaves nothing of the killed one behind."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import wait_for

LIBRARY = Path(__file__).resolve().parents[2] / "docs" / "baseline-library"


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def stamps(root: Path) -> dict[str, int]:
    """Every entry under ``root`` and its mtime (a file rewritten, made or removed changes this)."""
    out = {}
    for p in root.rglob("*"):
        try:
            out[str(p.relative_to(root))] = p.lstat().st_mtime_ns
        except OSError:
            pass
    return out


def test_a_killed_import_leaves_the_corpus_it_had_and_the_next_one_nothing_behind(tmp_path: Path) -> None:
    pkg = tmp_path / "lib"
    shutil.copytree(LIBRARY, pkg, ignore=shutil.ignore_patterns("corpus"))
    ben = [sys.executable, "-m", "ben", "baseline", "import", str(pkg)]
    first = subprocess.run(ben, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    whole = files(pkg / "corpus")
    assert any(name.endswith(".csv") for name in whole) and "labels/combined_windows.json" in whole

    for _ in range(1):   # killed as soon as it writes anything (a corpus file, or its staging directory)
        before = stamps(pkg)
        proc = subprocess.Popen(ben, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: stamps(pkg) != before or proc.poll() is not None, 120, "the import writing",
                     interval=0.0005)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        assert proc.returncode == -signal.SIGKILL, "the import ended before it was killed"
        assert files(pkg / "corpus") == whole        # the old corpus, whole

    again = subprocess.run(ben, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert files(pkg / "corpus") == whole
    assert sorted(p.name for p in pkg.iterdir()) == sorted(p.name for p in LIBRARY.iterdir())   # nothing left over
