"""Components started as processes (``ben.cli.procs``: ``ben demo``, the benches, the tests)."""

from __future__ import annotations

from pathlib import Path

from ben import __version__
from ben.cli.procs import Proc


def test_a_module_file_in_the_current_directory_is_not_imported(tmp_path: Path, monkeypatch) -> None:
    """``ben demo`` started its spine and sidecar as ``python -m ben``, which puts the current directory first
    on sys.path: run from a directory holding an ``attr.py`` (aiohttp imports ``attr``), its sidecar died with
    "unexpected ModuleNotFoundError ... (a bug in ben)" (ADR 0033)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in ("typer", "attr", "grpc"):
        (cwd / f"{name}.py").write_text(f'raise ImportError("{name}.py of the current directory imported")\n')
    monkeypatch.chdir(cwd)
    proc = Proc(["--version"], tmp_path / "version.log")
    assert proc.popen.wait(60) == 0, proc.tail()
    assert __version__ in proc.tail()
