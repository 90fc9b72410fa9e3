"""The detection checkpoint and its key against damage: restored exactly, or set aside / left alone
with one log line saying what to do; never a checkpoint that raises into detection or the shutdown."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ben.spine.detection import Detection
from ben.spine.detector_thread import DetectorThread
from tests.spine.test_detect_state import QUICK
from tests.spine.test_detection import S, stored_rows


def checkpointed(tmp_path: Path) -> tuple[Path, DetectorThread]:
    path = tmp_path / "detect.ckpt"
    thread = DetectorThread(Detection(S, timing=QUICK), store=None, checkpoint_path=path)  # type: ignore[arg-type]
    thread.detection.process(stored_rows(40))
    thread.last_seq = 40
    thread.checkpoint()
    assert path.exists()
    return path, thread


def fresh(path: Path) -> DetectorThread:
    return DetectorThread(Detection(S, timing=QUICK), store=None, checkpoint_path=path)  # type: ignore[arg-type]


def test_a_checkpoint_restores_exactly_after_a_clean_write(tmp_path: Path) -> None:
    path, before = checkpointed(tmp_path)
    after = fresh(path)
    assert after.resume(stored_upto=40) == 0 and after.last_seq == 40
    assert after.detection.series == before.detection.series and after.detection.points == before.detection.points


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty"])
def test_a_damaged_checkpoint_is_set_aside_in_one_line_and_detection_starts_fresh(tmp_path: Path, how: str,
                                                                                   caplog) -> None:
    path, _ = checkpointed(tmp_path)
    data = bytearray(path.read_bytes())
    data = {"truncated": data[: len(data) // 2], "empty": b"",
            "flipped": data[:100] + bytes(b ^ 0x55 for b in data[100:108]) + data[108:]}[how]
    path.write_bytes(bytes(data))
    thread = fresh(path)
    with caplog.at_level(logging.ERROR):
        assert thread.resume(stored_upto=50) == 0
    assert thread.last_seq == 50 and not thread.detection.series
    aside = list(tmp_path.glob("detect.unreadable-*"))
    assert len(aside) == 1 and not path.exists()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and str(path) in lines[0] and str(aside[0]) in lines[0], lines
    thread.checkpoint()  # detection goes on checkpointing, with the key it has
    assert path.exists() and fresh(path).resume(stored_upto=50) == 0


def test_a_key_readable_by_others_leaves_the_checkpoint_alone_and_says_chmod(tmp_path: Path, caplog) -> None:
    path, before = checkpointed(tmp_path)
    key = tmp_path / "detect.key"
    key.chmod(0o644)
    thread = fresh(path)
    with caplog.at_level(logging.ERROR):
        assert thread.resume(stored_upto=50) == 0
        thread.checkpoint()  # neither raises nor overwrites the checkpoint
        thread.shutdown(timeout=1)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and f"chmod 600 {key}" in lines[0], lines
    assert path.exists() and not list(tmp_path.glob("detect.unreadable-*"))  # before: set aside
    key.chmod(0o600)  # fixed: the checkpoint restores exactly
    again = fresh(path)
    assert again.resume(stored_upto=40) == 0 and again.detection.series == before.detection.series


def test_a_damaged_key_never_raises_from_a_checkpoint(tmp_path: Path, caplog) -> None:
    path, _ = checkpointed(tmp_path)
    key = tmp_path / "detect.key"
    key.write_bytes(key.read_bytes()[:10])
    thread = fresh(path)
    with caplog.at_level(logging.ERROR):
        thread.resume(stored_upto=50)
        for _ in range(3):
            thread.checkpoint()  # before: StorageError each time, a traceback per stored table
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and f"delete {key}" in lines[0], lines
    key.unlink()  # the fix it names: a new key, the old checkpoint set aside, checkpoints again
    again = fresh(path)
    assert again.resume(stored_upto=50) == 0 and list(tmp_path.glob("detect.unreadable-*"))
    again.checkpoint()
    assert path.exists() and not getattr(again, "checkpoint_failed", "")


def test_a_checkpoint_that_cannot_be_written_is_said_once_and_tried_again(tmp_path: Path, caplog) -> None:
    path, thread = checkpointed(tmp_path)
    os.unlink(path)
    path.mkdir()  # a directory in its place: the rename fails
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            thread.checkpoint()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and str(path) in lines[0] and thread.checkpoint_failed, lines
    path.rmdir()
    thread.checkpoint()
    assert path.is_file() and not thread.checkpoint_failed
