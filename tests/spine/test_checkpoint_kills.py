"""The detection checkpoint against kill -9 of a real spine and across the format change (ADR 0028: the
calibrated state gained the onset habit, ``CalibratedBank`` format 5; ADR 0046, round 4): a spine killed as
it writes its checkpoint leaves nothing behind and goes on from the last one whole; a spine started on a
checkpoint the previous version wrote (format 4) goes on from it, its states exact and the habit empty."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ben.cli.procs import Cluster, wait_for
from ben.detect import calibrated as cal
from ben.sdk import Client
from ben.spine import detect_state

SERIES = 400  # enough state that a checkpoint takes a while to write, so a kill can land inside it


def checkpoint_of(spine_dir: Path) -> tuple[int, object]:
    return detect_state.decode((spine_dir / "detect.ckpt").read_bytes(), (spine_dir / "detect.key").read_bytes())


def as_format_4(spine_dir: Path) -> np.ndarray:
    """Write the checkpoint again as the previous version did (``CalibratedBank`` format 4: the state before
    the onset habit, ``N_STATE_5`` values a series); its states."""
    seq, det = checkpoint_of(spine_dir)
    cp = det.bank.checkpoint()
    old = dict(cp, calibrated_bank=4, n_state=cal.N_STATE_5, states=cp["states"][:, :cal.N_STATE_5].copy())
    det.bank = SimpleNamespace(checkpoint=lambda: old)
    detect_state.write(spine_dir / "detect.ckpt", detect_state.encode(det, seq, (spine_dir / "detect.key").read_bytes()))
    return old["states"]


def temporaries(spine_dir: Path) -> list[Path]:
    return sorted(spine_dir.glob(".detect.ckpt.*.tmp"))


def kill_inside_a_checkpoint_write(c: Cluster, deadline: float) -> bool:
    """SIGKILL the running spine while its checkpoint's temporary file exists (started again until a kill
    lands there); True once one did."""
    spine_dir = c.home / "spine"
    while time.monotonic() < deadline:
        seen = False
        until = time.monotonic() + 5
        while not seen and time.monotonic() < until:
            seen = bool(temporaries(spine_dir))
        c.spine.kill()
        if seen and temporaries(spine_dir):
            return True
        c.start_spine()
    return False


def test_a_spine_killed_writing_its_checkpoint_goes_on_from_the_last_one_and_reads_the_old_format(home: Path) -> None:
    c = Cluster(home, spine={"detect": {"checkpoint_interval_s": 0.2}})
    spine_dir = home / "spine"
    stop = threading.Event()
    client = None
    try:
        c.start()
        client = Client("ckpt", sidecar=c.sidecar_addr, full_policy="block")

        def emit() -> None:  # every series, again and again: each stored table brings a checkpoint
            i = 0
            while not stop.is_set():
                client.gauge(f"ckpt.s{i % SERIES}", float(i % 7))
                i += 1
                if i % 200 == 0:
                    stop.wait(0.02)
        loader = threading.Thread(target=emit, daemon=True)
        loader.start()
        wait_for(lambda: (spine_dir / "detect.ckpt").exists() and len(checkpoint_of(spine_dir)[1].series) == SERIES,
                 60, "a checkpoint of every series")
        assert kill_inside_a_checkpoint_write(c, time.monotonic() + 60), "no kill landed inside a checkpoint write"
        log_at = c.spine.log_path.stat().st_size
        c.start_spine()
        assert not temporaries(spine_dir), "the temporary file of the killed checkpoint write is still there"
        text = c.spine.log_path.read_bytes()[log_at:].decode(errors="replace")
        assert "detection resumed from its checkpoint" in text and "unreadable" not in text, text
        stop.set()
        loader.join(10)
        assert client.flush(timeout=60), client.last_error
        c.wait_drained()
        c.spine.stop()  # its last checkpoint: every series, nothing stored after it

        old_states = as_format_4(spine_dir)  # as the previous version left it
        log_at = c.spine.log_path.stat().st_size
        c.start_spine()
        text = c.spine.log_path.read_bytes()[log_at:].decode(errors="replace")
        assert "detection resumed from its checkpoint" in text and "unreadable" not in text, text
        assert c.status("spine")["detect_series"] == SERIES
        c.spine.stop()
        _, det = checkpoint_of(spine_dir)
        states = det.bank.checkpoint()["states"]
        assert states.shape == (SERIES, cal.N_STATE)
        assert np.array_equal(states[:, :cal.N_STATE_5], old_states) and not states[:, cal.N_STATE_5:].any()
    finally:
        stop.set()
        if client is not None:
            client.shutdown(timeout=1)
        c.stop()
