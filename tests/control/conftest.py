"""Control-plane fixtures: keys, a trust store and a policy on disk, a cluster that uses them, and
an SDK client in the test process whose handlers record every call."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, wait_for
from ben.control import keys
from ben.sdk import Client

POLICY = """
kill_switch = false

[actions.set_mode]
targets = ["shop*"]
blast_radius = 2
rate = 4
window_s = 3600

[actions.throttle_job]
targets = ["shop*", "batch*"]
blast_radius = 100
rate = 1000
breaker_failures = 3

[actions.quarantine_artifact]
targets = ["*"]
blast_radius = 100
rate = 1000
require_approval = true

[actions.ping]
targets = ["*"]
blast_radius = 100
rate = 1000

[actions.boom]
targets = ["*"]
blast_radius = 100
rate = 1000

[actions.slow_job]
targets = ["*"]
blast_radius = 100
rate = 1000

[actions.fragile]
targets = ["*"]
blast_radius = 100
rate = 1000
breaker_failures = 2

[actions.two_person]
targets = ["*"]
blast_radius = 100
rate = 1000
require_distinct_approver = true

[actions.limited]
targets = ["shop*"]
blast_radius = 2
rate = 3
window_s = 3600

[actions.capped]
targets = ["shop*"]
blast_radius = 1
rate = 2
window_s = 3600
"""


SIDECAR_ID = "sc-test"


def trust_toml(operator: keys.Signer, bot: keys.Signer, viewer: keys.Signer, sidecar: keys.Signer | None = None,
               bob: keys.Signer | None = None) -> str:
    second = f"""
[[keys]]
name = "bob"
role = "operator"
public_key = "{bob.public_text}"
""" if bob is not None else ""
    return f"""
[roles.operator]
kind = "human"
actions = ["*"]
targets = ["*"]
approve = true

[roles.automation]
kind = "automation"
actions = ["throttle_job", "set_mode", "ping", "limited"]
targets = ["shop*", "batch*"]

[roles.viewer]
kind = "human"
actions = ["ping"]
targets = ["shop"]

[[keys]]
name = "alice"
role = "operator"
public_key = "{operator.public_text}"

[[keys]]
name = "nightly-bot"
role = "automation"
public_key = "{bot.public_text}"

{second}
[[keys]]
name = "victor"
role = "viewer"
public_key = "{viewer.public_text}"
""" + (f"""
[[sidecars]]
id = "{SIDECAR_ID}"
public_key = "{sidecar.public_text}"
""" if sidecar is not None else "")


@dataclass
class Setup:
    home: Path
    alice: keys.Signer
    bot: keys.Signer
    victor: keys.Signer
    stranger: keys.Signer
    trust: Path
    policy: Path
    sidecar: keys.Signer  # the sidecar's receipt key, pinned in the trust store under SIDECAR_ID
    bob: keys.Signer      # a second operator (two-person rule)

    def control_options(self) -> dict:
        return {"control": {"trust": str(self.trust), "policy": str(self.policy)}}

    def sidecar_options(self) -> dict:
        """A sidecar with the pinned id and key (the key where a sidecar creates its own)."""
        return {"id": SIDECAR_ID, **self.control_options()}


def make_setup(home: Path) -> Setup:
    kdir = home / "keys"
    alice, bot, victor, stranger = (keys.generate(kdir, n) for n in ("alice", "bot", "victor", "stranger"))
    sidecar = keys.generate(home / "sidecar" / "control", "sidecar")
    trust = home / "trust.toml"
    bob = keys.generate(kdir, "bob")
    trust.write_text(trust_toml(alice, bot, victor, sidecar, bob))
    policy = home / "policy.toml"
    policy.write_text(POLICY)
    return Setup(home, alice, bot, victor, stranger, trust, policy, sidecar, bob)


@dataclass
class Recorder:
    """Handlers that record every call (thread-safe)."""

    calls: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: threading.Event = field(default_factory=threading.Event)  # a slow_job began
    release: threading.Event = field(default_factory=threading.Event)  # slow_job may finish

    def handler(self, cmd):
        with self.lock:
            self.calls.append(cmd)
        if cmd.action == "slow_job":
            self.started.set()
            self.release.wait(30)
        if cmd.action == "boom":
            raise RuntimeError("the job runner is down")
        return {"done": cmd.action, "seen": len(self.calls)}

    def count(self, command_id: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c.id == command_id)


def attach(sidecar_addr: str, subsystem: str, recorder: Recorder, cluster: Cluster | None = None,
           actions=("set_mode", "throttle_job", "quarantine_artifact", "ping", "boom", "limited", "slow_job",
                    "two_person", "capped")) -> Client:
    client = Client(subsystem, sidecar=sidecar_addr)
    for action in actions:
        client.on_command(action, recorder.handler)
    wait_for(lambda: client.commands_connected, 30, f"{subsystem}'s command stream")
    if cluster is not None:
        wait_for(lambda: cluster.status("sidecar").get("subsystems_attached", 0) >= 1, 30, "the subsystem attached")
    return client


@dataclass
class Live:
    setup: Setup
    cluster: Cluster
    recorder: Recorder
    clients: list[Client]


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """One cluster for a module (starting one costs seconds): spine + sidecar with trust and policy,
    and SDK clients for subsystems "shop", "shop-eu" and "batch" in this process."""
    home = Path(tempfile.mkdtemp(prefix="bc-", dir="/tmp"))
    setup = make_setup(home)
    from ben.cli.demo import DEMO_TIMING  # detection that learns in seconds (the default learns for an hour)

    cluster = Cluster(home, spine={**setup.control_options(), "detect": {"timing": DEMO_TIMING}},
                      sidecar=setup.sidecar_options())
    recorder = Recorder()
    clients: list[Client] = []
    try:
        cluster.start()
        clients = [attach(cluster.sidecar_addr, name, recorder) for name in ("shop", "shop-eu", "batch")]
        wait_for(lambda: cluster.status("sidecar").get("subsystems_attached", 0) == 3, 30, "three subsystems")
        yield Live(setup, cluster, recorder, clients)
    finally:
        for c in clients:
            c.shutdown(timeout=2)
        cluster.stop()
        from tests.conftest import dump_logs

        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)
