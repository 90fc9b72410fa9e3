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


def test_a_start_that_takes_a_while_says_what_it_waits_for(tmp_path: Path, monkeypatch) -> None:
    """``make demo`` on a fresh clone of a busy machine: the spine's first start compiles detection's kernels (~15 s of
    CPU; 97 s with the machine's cores shared), the demo waited 60 s in silence and gave up with "not ready after
    60.0s". It now waits longer (``demo.START_TIMEOUT_S``) and says every few seconds what the component is doing,
    from its log; the spine logs its kernels' loading and how long it took."""
    from ben.cli import demo, procs
    from ben.cli.procs import Cluster

    monkeypatch.setattr(procs, "PROGRESS_EVERY_S", 0.0)  # every poll: any start is slow enough to be heard
    said: list[tuple[str, float, str]] = []
    cluster = Cluster(tmp_path / "c")
    try:
        cluster.start(60.0, lambda what, waited, line: said.append((what, waited, line)))
    finally:
        cluster.stop()
    assert {what for what, _, _ in said} == {"spine", "sidecar"}
    assert all(waited >= 0 for _, waited, _ in said)
    assert any(line for what, _, line in said if what == "spine")  # its log's last line, as it starts
    log = (tmp_path / "c" / "logs" / "spine.log").read_text()
    assert "detection: loading its compiled kernels" in log and "detection: kernels ready in" in log
    assert demo.START_TIMEOUT_S >= 300
