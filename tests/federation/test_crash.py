"""Nothing lost, nothing twice, with real processes: the publishing cluster kill -9'd, the consuming one
kill -9'd, nats-server kill -9'd and restarted, while incidents open and resolve; and the same at seeded random
moments (``kill_rounds``, ADR 0046 round 6)."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from ben.control.keys import generate
from tests.federation import kill_rounds
from tests.federation.conftest import wait_for
from tests.federation.kill_rounds import read_json, spawn
from tests.federation.peer_proc import plan

COUNT = 24


def _received(west: Path) -> int:
    return read_json(west / "counts.json").get("ids", 0)


def test_every_summary_arrives_exactly_once_through_kill_9(tmp_path, nats_server):
    key = generate(tmp_path / "keys", "east")
    trust = tmp_path / "trust.toml"
    trust.write_text(f'[clusters.east]\npublic_key = "{key.public_text}"\n')
    east_dir, west_dir = tmp_path / "east", tmp_path / "west"
    east_args = ("--key", str(key.path), "--count", str(COUNT), "--interval", "0.1")
    # Each dies by SIGKILL at its worst moment: east after a PubAck, before its outbox forgot the summary
    # (so it publishes it again); west after storing a summary, before acking it (so it is delivered again).
    procs = {"east": spawn("east", east_dir, nats_server.url, *east_args, "--kill-after", "5"),
             "west": spawn("west", west_dir, nats_server.url, "--trust", str(trust), "--kill-after", "8")}
    expected = len(plan(COUNT))
    try:
        assert procs["east"].wait(90) == -signal.SIGKILL
        procs["east"] = spawn("east", east_dir, nats_server.url, *east_args)
        assert procs["west"].wait(90) == -signal.SIGKILL
        procs["west"] = spawn("west", west_dir, nats_server.url, "--trust", str(trust))
        got = _received(west_dir)
        wait_for(lambda: _received(west_dir) >= got + 2, 90, "summaries after both restarts", 0.1)
        procs["east"].send_signal(signal.SIGKILL)                 # and once more at a random moment
        procs["east"].wait(10)
        procs["east"] = spawn("east", east_dir, nats_server.url, *east_args)
        nats_server.kill()                                        # NATS dies while incidents open
        time.sleep(0.5)  # noqa: the outage itself (incidents keep opening meanwhile), not a wait for a condition
        nats_server.start()
        wait_for(lambda: (east_dir / "done").exists(), 120, "east to store every incident change", 0.1)
        wait_for(lambda: read_json(east_dir / "federation" / "status.json").get("outbox_depth", 1) == 0
                 and _received(west_dir) >= expected, 120, f"{expected} summaries at west", 0.1)
        for role in ("east", "west"):
            procs[role].terminate()
            code = procs[role].wait(60)
            assert code == 0, (role, code, (tmp_path / role / f"{role}.log").read_text()[-3000:])
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)
    counts = read_json(west_dir / "counts.json")
    assert counts == {"rows": expected, "ids": expected}         # every summary in the table: none lost
    inserted = (west_dir / "inserts.log").read_text().split()
    assert len(inserted) == len(set(inserted)) == expected       # and each inserted once, across the kills


def test_random_kill_rounds_of_publisher_consumer_and_nats_lose_and_duplicate_nothing(tmp_path) -> None:
    """Two seeded rounds of ``kill_rounds`` (``BEN_FED_CRASH_SEED`` replays one; the long run is its CLI):
    each summary stored once at west, once in the stream, and west's consumer left with nothing pending."""
    seed = int(os.environ.get("BEN_FED_CRASH_SEED", random.SystemRandom().randrange(1_000_000)))
    print(f"federation kill rounds seed={seed} (BEN_FED_CRASH_SEED={seed} replays this run)")
    summary = kill_rounds.run(rounds=2, seed=seed, home=tmp_path / "h", count=60)
    print(summary)
    assert sum(summary["faults"].values()) == 2 and summary["summaries"] == len(plan(60)), summary
    assert not summary["findings"], f"seed={seed}: {summary['findings']}"
    assert summary["stored"] == summary["rows"] == summary["stream_messages"] == summary["summaries"], summary
    assert summary["inserted_twice"] == summary["consumer_pending"] == summary["consumer_ack_pending"] == 0, summary
