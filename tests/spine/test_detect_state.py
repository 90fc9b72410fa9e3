"""The detection checkpoint: exact, no pickle ever loaded, no telemetry in clear, 0600, atomic."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import numpy as np
import pytest

from ben.cli.demo import DEMO_TIMING
from ben.core.errors import StorageError
from ben.detect.calibrated import Timing
from ben.spine import detect_state
from ben.spine.detection import Detection
from ben.spine.detector_thread import DetectorThread
from ben.spine.incidents import Correlator

from tests.helpers import killed_at_call
from tests.spine.test_detection import S, findings, stored_rows

SECRET = "/pay"  # the attribute value in every series key of stored_rows()
QUICK = Timing(**DEMO_TIMING)  # the demo's short memories: detection within seconds


class Boom:
    def __reduce__(self):
        return (Path.touch, (Path(os.environ["BEN_TEST_MARKER"]),))


@pytest.mark.parametrize("algorithm", ["calibrated", "bank"])
def test_checkpoint_restores_exactly(tmp_path: Path, algorithm: str) -> None:
    table = stored_rows()
    whole = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK, algorithm=algorithm)
    whole.process(table)
    first = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK, algorithm=algorithm)
    first.process(table.slice(0, 3_000))  # mid-way, with buckets and rings in flight
    key = detect_state.load_key(tmp_path / "detect.key")
    last_seq, back = detect_state.decode(detect_state.encode(first, 150, key), key)
    assert last_seq == 150 and back.series == first.series and back.points == first.points
    assert back.peers == first.peers and back.per_peer == first.per_peer == {"sc/sdk": len(first.series)}
    assert back.algorithm == algorithm
    if algorithm == "calibrated":  # the state matrix, bit for bit, and the timing
        assert back.bank.states.tobytes() == first.bank.states.tobytes() and back.bank.timing == QUICK
        assert np.array_equal(back.bank.last_ts, first.bank.last_ts)
    back.process(table.slice(3_000))
    assert findings(back) == findings(whole)
    assert findings(back)[1], "no incident to compare"


def test_a_checkpoint_of_another_algorithm_starts_detection_fresh(tmp_path: Path) -> None:
    path = tmp_path / "detect.ckpt"
    old = DetectorThread(Detection(S, algorithm="bank"), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    old.detection.process(stored_rows(30))
    old.last_seq = 30
    old.checkpoint()
    now = DetectorThread(Detection(S, timing=QUICK), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    assert now.resume(stored_upto=40) == 0 and now.last_seq == 40
    assert now.detection.algorithm == "calibrated" and not now.detection.series


def test_no_pickle_is_ever_loaded_and_nothing_in_clear(tmp_path: Path, monkeypatch) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setenv("BEN_TEST_MARKER", str(marker))
    path = tmp_path / "detect.ckpt"
    path.write_bytes(pickle.dumps((10, Boom())))  # an old-format (or hostile) pickle checkpoint
    thread = DetectorThread(Detection(S), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    assert thread.resume(stored_upto=7) == 0
    assert not marker.exists(), "a pickle payload ran"
    assert not path.exists() and list(tmp_path.glob("detect.unreadable-*"))  # moved aside, fresh start
    assert thread.last_seq == 7
    thread.detection.process(stored_rows(60))
    thread.checkpoint()
    blob = path.read_bytes()
    assert blob.startswith(detect_state.MAGIC)
    for clear in (SECRET.encode(), b"route", b"latency_ms", b"checkout-api"):
        assert clear not in blob, clear
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "detect.key").stat().st_mode) == 0o600
    assert not path.with_suffix(".tmp").exists()
    # Round trip through the file, then a tampered file is refused before anything is parsed.
    again = DetectorThread(Detection(S), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    assert again.resume(stored_upto=thread.last_seq) == 0 and again.detection.series == thread.detection.series
    key = (tmp_path / "detect.key").read_bytes()
    bad = bytearray(blob)
    bad[-5] ^= 1
    with pytest.raises(StorageError, match="authentication"):
        detect_state.decode(bytes(bad), key)
    with pytest.raises(StorageError, match="bad magic"):
        detect_state.decode(pickle.dumps((1, 2)), key)


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "detect.key"
    detect_state.load_key(key)
    key.chmod(0o644)
    with pytest.raises(StorageError, match="chmod 600"):
        detect_state.load_key(key)


def test_a_spine_stopped_while_starting_leaves_its_checkpoint_alone(tmp_path: Path) -> None:
    """SIGTERM before detection started (the spine still opening its store): shutdown returns at once (it
    raised "cannot join thread before it is started", a traceback at the user), and writes no checkpoint."""
    import time

    path = tmp_path / "detect.ckpt"
    thread = DetectorThread(Detection(S), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    started = time.monotonic()
    thread.shutdown(timeout=5.0)
    assert time.monotonic() - started < 1.0 and not path.exists()


def test_a_kill_while_the_checkpoint_key_is_made_never_leaves_an_empty_key(tmp_path: Path, monkeypatch) -> None:
    """ADR 0046 round 6: the key file was made (O_EXCL), then written: a spine killed between the two left an
    empty key, and every later checkpoint was refused ("0 bytes, expected a 32-byte key") until it was removed
    by hand. Killed at any step now, the next call gets a whole key; an empty file an old start left is replaced."""

    for kill_at in range(1, 8):
        path = tmp_path / f"k{kill_at}" / "detect.key"
        path.parent.mkdir()
        with killed_at_call(monkeypatch, os, ("open", "fdopen", "write", "fchmod", "fsync", "link"), kill_at):
            detect_state.load_key(path)
        assert not path.exists() or len(path.read_bytes()) == detect_state.KEY_BYTES, f"killed at call {kill_at}"
        assert detect_state.load_key(path) == detect_state.load_key(path)
    empty = tmp_path / "empty.key"
    empty.touch(mode=0o600)
    assert len(detect_state.load_key(empty)) == detect_state.KEY_BYTES


def test_series_units_survive_a_checkpoint_and_an_older_one_has_none(tmp_path: Path) -> None:
    """ADR 0012, 2026-12-07 round 2: a series' unit is read from its first row (an OTLP metric's ``unit``, stored
    as the row's body); a restart from the checkpoint must not lose it (the next anomaly would read unitless)."""
    import json
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    table = stored_rows(30)
    bodies = ["s" if n == "latency_ms" else "{requests}" for n in table["name"].to_pylist()]
    det = Detection(S, timing=QUICK)
    det.process(table.set_column(table.column_names.index("body"), "body", [bodies]))
    assert det.units == ["s", "requests"], (det.series, det.units)  # latency_ms, then requests
    key = detect_state.load_key(tmp_path / "detect.key")
    blob = detect_state.encode(det, 30, key)
    assert detect_state.decode(blob, key)[1].units == det.units
    nonce = blob[len(detect_state.MAGIC):len(detect_state.MAGIC) + 12]  # the same checkpoint without "units"
    plain = AESGCM(key).decrypt(nonce, blob[len(detect_state.MAGIC) + 12:], detect_state.MAGIC)
    (size,) = struct.unpack_from("<I", plain, 0)
    header = json.loads(plain[4:4 + size])
    del header["units"]
    head = json.dumps(header).encode()
    older = AESGCM(key).encrypt(nonce, struct.pack("<I", len(head)) + head + plain[4 + size:], detect_state.MAGIC)
    back = detect_state.decode(detect_state.MAGIC + nonce + older, key)[1]
    assert back.units == [""] * len(det.series)
