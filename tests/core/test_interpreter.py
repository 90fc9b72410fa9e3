"""ben's Python children do not import from the directory ben was started in (python -P)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ben.cli.procs import Proc
from ben.core.interpreter import python_argv
from ben.store.process import ChdbProcessStore

SRC = Path(__file__).resolve().parents[2] / "src" / "ben"

#: Modules a child imports first thing: ben itself (``-m ben``), the CLI's, the store worker's.
POISONED = ("ben", "typer", "attr", "pyarrow", "chdb")


@pytest.fixture
def poisoned_cwd(tmp_path, monkeypatch) -> Path:
    """The working directory holds modules that, if imported, leave a mark and exit."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in POISONED:
        (cwd / f"{name}.py").write_text(
            "import pathlib\n"
            f"pathlib.Path(__file__).with_name('{name}.ran').touch()\n"
            "raise SystemExit(97)\n")
    monkeypatch.chdir(cwd)
    return cwd


def _ran(cwd: Path) -> list[str]:
    return sorted(p.name for p in cwd.glob("*.ran"))


def test_python_argv_isolates_the_path():
    argv = python_argv("-m", "ben", "spine")
    assert argv[1:] == ["-P", "-m", "ben", "spine"]


def test_a_ben_component_ignores_modules_in_the_working_directory(poisoned_cwd, tmp_path):
    proc = Proc(["--help"], tmp_path / "logs" / "help.log")
    assert proc.popen.wait(timeout=120) == 0, proc.tail()
    assert "Usage" in proc.tail(200)
    assert _ran(poisoned_cwd) == []


def test_the_store_worker_ignores_modules_in_the_working_directory(poisoned_cwd, tmp_path):
    store = ChdbProcessStore(tmp_path / "chdb", ready_timeout_s=120)
    try:
        assert store.rows("SELECT 1") == [(1,)]
    finally:
        store.close()
    assert _ran(poisoned_cwd) == []


def test_no_child_python_started_without_python_argv():
    """Every Python child ben starts goes through python_argv (a new ``sys.executable`` would bypass -P)."""
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in SRC.rglob("*.py") if p.name != "interpreter.py"
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if "sys.executable" in line]
    assert offenders == []


def test_the_old_command_line_would_have_run_the_poisoned_module(poisoned_cwd):
    """The check above can fail: without -P the same start runs the working directory's ben.py."""
    old = subprocess.run(python_argv("-m", "ben", "--help")[:1] + ["-m", "ben", "--help"], capture_output=True,
                         timeout=120)
    assert old.returncode == 97
    assert _ran(poisoned_cwd) == ["ben.ran"]
