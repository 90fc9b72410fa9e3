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
    assert demo.START_TIMEOUT_S >= 300


def test_a_slow_warm_up_of_detection_s_kernels_is_said_and_a_quick_one_is_not(monkeypatch, caplog) -> None:
    """What the demo's progress shows while the spine compiles: a warm-up that takes SLOW_WARM_UP_S or more is said
    as it goes and when done; a quick one (kernels loaded from the cache) prints nothing, so a spine that fails to
    start still says one line (``tests/cli/test_bad_input_fourteenth.py``)."""
    import logging

    from ben.core.config import DetectConfig
    from ben.spine import detection

    caplog.set_level(logging.INFO, logger="ben.spine.detection")
    detection.Detection.from_config(DetectConfig())  # loaded (compiled once if the cache was cold)
    caplog.clear()
    detection.Detection.from_config(DetectConfig())
    assert not [r for r in caplog.records if "kernels" in r.getMessage()]
    monkeypatch.setattr(detection, "SLOW_WARM_UP_S", 0.0)  # every warm-up is slow
    detection.Detection.from_config(DetectConfig())
    said = [r.getMessage() for r in caplog.records]
    assert any("kernels ready in" in m for m in said), said  # (the line "as it goes" races a warm-up this quick)
