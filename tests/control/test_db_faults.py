"""The control database (audit log, query log, ledger) against damaged files, with real RocksDB.

A process appends audit entries and is killed (``os._exit``: nothing flushed, the entries are in
RocksDB's log only, as after kill -9), then a file is damaged and the database opened again.
Before: a flipped byte in the log or in a table file opened without a word, the chain shorter
(RocksDB dropped everything from the damage on; a scan stopped at a bad block as if the keys were
not there), ``verify`` intact, and the next entry renumbered over those still on disk.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ben.control.audit import AuditLog
from ben.control.db import ControlDb
from ben.control.keys import Signer, generate
from ben.core.errors import WalError

FLUSHED, IN_LOG = 150, 150


def _append(db_path: Path, signer: Signer, n: int, tag: str) -> None:
    db = ControlDb(db_path)
    log = AuditLog(db, signer, "test")
    for i in range(n):
        log.append("command", f"{tag}{i}", {"reason": "r" * 150})
    db.close()


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> tuple[Path, Signer]:
    """One crashed database for the module (each test damages a copy of it)."""
    return _crashed(tmp_path_factory.mktemp("image"))


@pytest.fixture
def crashed(image, tmp_path: Path):
    def copy(_tmp_path: Path) -> tuple[Path, Signer]:
        shutil.copytree(image[0], tmp_path / "db")
        return tmp_path / "db", image[1]
    return copy


def _crashed(tmp_path: Path) -> tuple[Path, Signer]:
    """FLUSHED entries in a table file (a clean close), IN_LOG more in RocksDB's log (a killed process)."""
    signer = generate(tmp_path / "keys", "audit")
    path = tmp_path / "db"
    _append(path, signer, FLUSHED, "a")
    code = (f"import os; from pathlib import Path; from ben.control.db import ControlDb; "
            f"from ben.control.audit import AuditLog; from ben.control.keys import load_signer; "
            f"db = ControlDb(Path({str(path)!r})); log = AuditLog(db, load_signer({str(tmp_path / 'keys' / 'audit.key')!r}), 't')\n"
            f"for i in range({IN_LOG}): log.append('command', f'b{{i}}', {{'reason': 'r' * 150}})\n"
            "os._exit(0)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert list(path.glob("*.sst")) and any(p.stat().st_size > 0 for p in path.glob("*.log")), sorted(path.iterdir())
    return path, signer


def damage(file: Path, how: str) -> None:
    data = bytearray(file.read_bytes())
    if how == "flip":
        for i in range(len(data) // 2, len(data) // 2 + 8):
            data[i] ^= 0xFF
    elif how == "cut":
        data = data[: len(data) // 2]
    elif how == "torn":
        # A write cut short at the end of the log: a record's header (checksum, length 1,000, type "full")
        # and 293 bytes of its body. (Random bytes once made a whole record with a bad checksum: damage,
        # not a torn tail, and rightly refused.)
        data += b"\x5a" * 4 + (1000).to_bytes(2, "little") + b"\x01" + b"\xa5" * 293
    file.write_bytes(bytes(data))


def newest(path: Path, pattern: str) -> Path:
    return sorted(path.glob(pattern))[-1]


@pytest.mark.parametrize("pattern, how", [
    ("*.log", "flip"),       # inside the log: acknowledged entries after it
    ("*.sst", "flip"),       # a table block: before, a scan stopped there and numbering restarted at 1 + what it saw
    ("*.sst", "cut"),
    ("MANIFEST-*", "flip"),
    ("MANIFEST-*", "cut"),
])
def test_damage_refuses_in_one_line_naming_the_database_and_what_to_do(tmp_path: Path, crashed, pattern: str, how: str) -> None:
    path, _ = crashed(tmp_path)
    damage(newest(path, pattern), how)
    with pytest.raises(WalError) as caught:
        ControlDb(path)
    text = str(caught.value)
    assert "\n" not in text and f"control database {path} is damaged" in text and f"mv {path} {path}.bad" in text, text
    saved = list(tmp_path.glob("db.damaged-*"))  # the files as found, for an operator
    assert len(saved) == 1 and str(saved[0]) in text and list(saved[0].glob(pattern)), text


def test_a_torn_log_tail_is_dropped_with_a_warning_and_every_entry_kept(tmp_path: Path, crashed, caplog) -> None:
    path, signer = crashed(tmp_path)
    damage(newest(path, "*.log"), "torn")
    db = ControlDb(path)
    log = AuditLog(db, signer, "test")
    assert log.last_seq == FLUSHED + IN_LOG
    assert log.verify({signer.id: signer.public}).ok
    log.append("command", "after", {"reason": "after the restart"})
    assert log.verify({signer.id: signer.public}).entries == FLUSHED + IN_LOG + 1
    db.close()
    assert "incomplete write" in caplog.text and "db.damaged-" in caplog.text


def test_a_scan_that_meets_damage_raises_instead_of_ending_early(tmp_path: Path, crashed, monkeypatch) -> None:
    """Damage met by a scan after the open (here: the open's own check skipped): the scan says so; it
    never ends short, as if the keys after the damaged block were not there."""
    path, _ = crashed(tmp_path)
    damage(newest(path, "*.sst"), "flip")
    monkeypatch.setattr(ControlDb, "_check_all", lambda self: None)
    db = ControlDb(path)
    try:
        with pytest.raises(WalError, match="reading stopped on an error"):
            for _ in db.scan(b"a"):
                pass
    finally:
        db.close()


@pytest.mark.parametrize("how", ["cut", "flip", "empty"])
def test_a_damaged_component_key_says_which_file_and_what_to_do(tmp_path: Path, how: str) -> None:
    from ben.control.keys import load_or_create
    from ben.core.errors import ConfigError

    load_or_create(tmp_path, "spine")
    key = tmp_path / "spine.key"
    if how == "empty":
        key.write_bytes(b"")
    else:
        damage(key, how)
    with pytest.raises(ConfigError) as caught:
        load_or_create(tmp_path, "spine")
    text = str(caught.value)
    assert "\n" not in text and str(key) in text and "spine.key is damaged" in text, text
    assert "Restore it from a backup" in text and "move spine.key and spine.pub aside" in text, text


def test_a_spine_on_a_damaged_control_database_exits_with_one_line(home: Path) -> None:
    """The start refuses once, in one line, with the exit code of a bad start: no traceback, no loop."""
    from ben.cli.procs import Cluster

    cluster = Cluster(home)
    cluster.start_spine()
    cluster.spine.kill()  # the control database as a kill -9 leaves it
    db = home / "spine" / "control" / "db"
    damage(newest(db, "MANIFEST-*"), "flip")
    done = subprocess.run([sys.executable, "-m", "ben", "spine", "--config", str(cluster.config)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"control database {db} is damaged" in errors[0] and f"mv {db}" in errors[0], \
        done.stderr[-2000:]
