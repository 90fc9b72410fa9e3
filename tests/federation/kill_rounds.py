"""Federation over NATS JetStream under kill -9 at seeded random moments (ADR 0046 round 6).

Two clusters' federations in processes of their own (``peer_proc``: ``east`` publishes the incidents it
stores, ``west`` consumes) and a real ``nats-server -js``; each round kills one of them, or several, at a
random moment, or at the moment that matters most:

- ``east`` / ``west`` / ``nats``: SIGKILL of the publisher, the consumer, or nats-server (down 0-2 s);
- ``nats-puback``: nats-server SIGKILLed 0-5 ms after the publisher counted new PubAcks (its outbox forgets
  what JetStream acknowledged: a server that lost it after its PubAck would lose the summary for good);
- ``west-insert``: the consumer SIGKILLed 0-5 ms after an insert (before or after its acks: delivered again);
- ``east+nats``: both, the publisher first.

Then east stores its last incident change, everything drains, and the checks: every summary east's outbox
published is stored at west once (``counts.json``: rows and distinct ids, no FINAL; ``inserts.log``: each id
inserted once across the kills), the stream holds each summary once, and west's durable consumer has
nothing pending and nothing awaiting its ack (no stuck consumer); both stop on SIGTERM.

    .venv/bin/python -m tests.federation.kill_rounds --rounds 30 --seed 7      # the long run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ben.control.keys import generate
from tests.federation.conftest import NATS, NatsServer, free_port, wait_for
from tests.federation.peer_proc import plan

ROOT = Path(__file__).resolve().parents[2]
FAULTS = ("east", "west", "nats", "nats-puback", "west-insert", "east+nats")


def spawn(role: str, directory: Path, nats_url: str, *extra: str) -> subprocess.Popen:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (directory / "done", directory / "federation" / "status.json"):  # the last instance's word
        stale.unlink(missing_ok=True)
    with open(directory / f"{role}.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "tests.federation.peer_proc", role, "--dir", str(directory),
                                 "--nats", nats_url, *extra], cwd=ROOT, stdout=log, stderr=log,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


async def _jetstream_state(url: str) -> dict:
    import nats

    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        stream = await js.stream_info("BEN_FEDERATION")
        consumer = await js.consumer_info("BEN_FEDERATION", "ben-west")
        return {"stream_messages": stream.state.messages, "consumer_pending": consumer.num_pending,
                "consumer_ack_pending": consumer.num_ack_pending, "consumer_redelivered": consumer.num_redelivered}
    finally:
        await nc.close()


class Rounds:
    """The processes, the faults and the checks (see the module docstring)."""

    def __init__(self, home: Path, seed: int, count: int, log=print):
        self.home, self.seed, self.count, self.log = home, seed, count, log
        self.rng = random.Random(seed)
        self.nats = NatsServer(home / "jetstream", free_port())
        key = generate(home / "keys", "east")
        trust = home / "trust.toml"
        trust.write_text(f'[clusters.east]\npublic_key = "{key.public_text}"\n')
        self.dirs = {"east": home / "east", "west": home / "west"}
        self.args = {"east": ("--key", str(key.path), "--count", str(count), "--interval", "0.05"),
                     "west": ("--trust", str(trust))}
        self.procs: dict[str, subprocess.Popen] = {}
        self.faults: dict[str, int] = {}
        self.findings: list[str] = []

    def start(self, role: str) -> None:
        """Start it and wait until its federation runs (it writes its status each poll): the next round's moment
        is then one under load, not one in its start."""
        self.procs[role] = spawn(role, self.dirs[role], self.nats.url, *self.args[role])
        status = self.dirs[role] / "federation" / "status.json"
        try:
            wait_for(lambda: status.exists() or self.procs[role].poll() is not None, 120, f"{role} to run", 0.05)
        except AssertionError:
            self.findings.append(f"{role} did not run within 120 s of its start: {self.tail(role)}")
        if self.procs[role].poll() is not None:
            self.findings.append(f"{role} exited in its start ({self.procs[role].returncode}): {self.tail(role)}")

    def kill(self, role: str) -> None:
        proc = self.procs[role]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        elif proc.returncode != 0:
            self.findings.append(f"{role} had exited by itself with {proc.returncode}: {self.tail(role)}")

    def tail(self, role: str) -> str:
        try:
            return (self.dirs[role] / f"{role}.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def published(self) -> int:
        return read_json(self.dirs["east"] / "federation" / "status.json").get("published", 0)

    def moment(self, changed, timeout: float = 10.0) -> bool:
        """Wait until ``changed()`` (a new PubAck, a new insert) or the timeout; then 0-5 ms more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not changed():
            time.sleep(0.001)
        time.sleep(self.rng.uniform(0.0, 0.005))
        return time.monotonic() < deadline

    def round(self, n: int, total: int) -> None:
        time.sleep(self.rng.uniform(0.2, 1.5))  # a random moment under load: that is the point
        fault = self.rng.choice(FAULTS)
        self.faults[fault] = self.faults.get(fault, 0) + 1
        detail = ""
        if fault in ("east", "west"):
            self.kill(fault)
            self.start(fault)
        elif fault in ("nats", "east+nats"):
            if fault == "east+nats":
                self.kill("east")
            self.nats.kill()
            time.sleep(self.rng.uniform(0.0, 2.0))  # the outage itself (the outbox grows meanwhile)
            self.nats.start()
            if fault == "east+nats":
                self.start("east")
        elif fault == "nats-puback":
            seen = self.published()
            hit = self.moment(lambda: self.published() > seen)
            self.nats.kill()
            detail = "after new PubAcks" if hit else "no PubAck in 10 s"
            time.sleep(self.rng.uniform(0.0, 1.0))
            self.nats.start()
        elif fault == "west-insert":
            inserts = self.dirs["west"] / "inserts.log"
            seen = _size(inserts)
            hit = self.moment(lambda: _size(inserts) > seen)
            self.kill("west")
            detail = "after an insert" if hit else "no insert in 10 s"
            self.start("west")
        self.log(f"round {n}/{total} seed={self.seed} {fault}{': ' + detail if detail else ''} | "
                 f"published so far {self.published()}, stored at west "
                 f"{read_json(self.dirs['west'] / 'counts.json').get('ids', 0)}")

    def finish(self, timeout: float) -> dict:
        expected = len(plan(self.count))
        east, west = self.dirs["east"], self.dirs["west"]
        for role in ("east", "west"):
            if self.procs[role].poll() is not None:   # (killed and not restarted: never here; said if so)
                self.findings.append(f"{role} was not running at the end: {self.tail(role)}")
                self.start(role)
        try:
            wait_for(lambda: (east / "done").exists(), timeout, "east to store every incident change", 0.1)
            wait_for(lambda: read_json(east / "federation" / "status.json").get("outbox_depth", 1) == 0
                     and read_json(west / "counts.json").get("ids", 0) >= expected, timeout,
                     f"{expected} summaries at west", 0.1)
        except AssertionError as exc:
            self.findings.append(f"{exc}: east {read_json(east / 'federation' / 'status.json')}, west "
                                 f"{read_json(west / 'counts.json')}")
        state: dict = {}

        def settled() -> bool:   # every summary in the stream once, and west's consumer through it all
            state.update(asyncio.run(_jetstream_state(self.nats.url)))
            return (state["stream_messages"] >= expected and not state["consumer_pending"]
                    and not state["consumer_ack_pending"])
        try:
            wait_for(settled, 60, "west's consumer to have nothing pending", 0.5)
        except AssertionError:
            self.findings.append(f"west's consumer is stuck: {state}")
        for role in ("east", "west"):
            self.procs[role].terminate()
            try:
                code = self.procs[role].wait(60)
            except subprocess.TimeoutExpired:
                code = None
                self.kill(role)
            if code != 0:
                self.findings.append(f"{role} did not stop cleanly on SIGTERM ({code}): {self.tail(role)}")
        counts = read_json(west / "counts.json")
        inserted = (west / "inserts.log").read_text().split() if (west / "inserts.log").exists() else []
        summary = {"seed": self.seed, "faults": self.faults, "summaries": expected, "stored": counts.get("ids", 0),
                   "rows": counts.get("rows", 0), "inserted_twice": len(inserted) - len(set(inserted)), **state}
        if counts != {"rows": expected, "ids": expected}:
            self.findings.append(f"west stored {counts}, expected {expected} summaries once each")
        if summary["inserted_twice"]:
            self.findings.append(f"{summary['inserted_twice']} summaries inserted twice at west")
        if state["stream_messages"] != expected:
            self.findings.append(f"the stream holds {state['stream_messages']} messages, not the {expected} summaries")
        summary["findings"] = self.findings
        return summary


def run(*, rounds: int, seed: int, home: Path | None = None, count: int = 0, timeout: float = 300.0,
        log=print) -> dict:
    """Run the rounds; the summary (faults drawn, summaries, stored, duplicates, the consumer, findings).
    ``count``: incidents east opens (default: enough to publish through every round)."""
    if not Path(NATS).exists():
        raise SystemExit("nats-server is not installed: run scripts/debian-deps.sh")
    own = home is None
    home = Path(tempfile.mkdtemp(prefix="ben-fedkill-")) if own else home
    home.mkdir(parents=True, exist_ok=True)
    r = Rounds(home, seed, count or 10 * rounds + 20, log)
    r.nats.start()
    try:
        r.start("east")
        r.start("west")
        for n in range(1, rounds + 1):
            r.round(n, rounds)
        return r.finish(timeout)
    finally:
        for proc in r.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        r.nats.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--count", type=int, default=0, help="incidents east opens (default 10 per round + 20)")
    p.add_argument("--home", type=Path, default=None)
    p.add_argument("--json", action="store_true", help="the summary as one JSON object")
    a = p.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1_000_000)
    summary = run(rounds=a.rounds, seed=seed, home=a.home, count=a.count,
                  log=(lambda *_: None) if a.json else print)
    print(json.dumps(summary) if a.json else json.dumps(summary, indent=1))
    return 1 if summary["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
