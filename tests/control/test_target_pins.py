"""Which sidecar takes a target's commands (ADR 0045, round 14): a real spine, two pinned sidecars.

Commands go to an attached sidecar that announces their target, and any pinned sidecar (its own key, its own
certificate) could announce another's subsystems: the spine pushed it their commands, parameters and all, and took
its receipt for them, ``ok`` for a command nothing ran. ``[[sidecars]] targets`` in the trust store now names the
targets a sidecar may take; it is given only those of its announcement, the rest is audited
(``target_not_pinned``). Without ``targets`` a sidecar may take any, as before.
"""

from __future__ import annotations

import queue
import threading

import grpc

from ben.cli.procs import Cluster, wait_for
from ben.control import client, keys
from ben.control.documents import attach_proof, make_envelope
from ben.v1 import control_pb2, control_pb2_grpc
from tests.control.conftest import POLICY, trust_toml


class Attached:
    """A sidecar's control stream, by hand: the hello answers the challenge; deliveries are collected."""

    def __init__(self, address: str, sidecar_id: str, key: keys.Signer, targets: list[str]):
        self.deliveries: list = []
        self._out: queue.Queue = queue.Queue()
        self._channel = grpc.insecure_channel(address)
        self._call = control_pb2_grpc.ControlStub(self._channel).Attach(self._requests(), timeout=120)

        def read() -> None:
            try:
                for delivery in self._call:
                    if delivery.challenge:
                        proof = key.sign(attach_proof(sidecar_id, bytes(delivery.challenge)))
                        self._out.put(control_pb2.SidecarUp(hello=control_pb2.SidecarHello(
                            sidecar_id=sidecar_id, public_key=key.public_text, targets=targets, proof=proof)))
                    elif delivery.HasField("envelope"):
                        self.deliveries.append(delivery)
            except grpc.RpcError:
                pass

        threading.Thread(target=read, daemon=True).start()

    def _requests(self):
        while (item := self._out.get()) is not None:
            yield item

    def announce(self, targets: list[str]) -> None:
        self._out.put(control_pb2.SidecarUp(targets=control_pb2.Targets(targets=targets)))

    def close(self) -> None:
        self._out.put(None)
        self._call.cancel()
        self._channel.close()


def test_a_sidecar_takes_only_the_commands_of_the_targets_pinned_to_it(home) -> None:
    kdir = home / "keys"
    alice, bot, victor = (keys.generate(kdir, n) for n in ("alice", "bot", "victor"))
    sc_a, sc_b = (keys.generate(home / "control", n) for n in ("sc-a", "sc-b"))
    trust = home / "trust.toml"
    trust.write_text(trust_toml(alice, bot, victor) + "".join(
        f'\n[[sidecars]]\nid = "{n}"\npublic_key = "{k.public_text}"\ntargets = ["{t}"]\n'
        for n, k, t in (("sc-a", sc_a, "shop-a*"), ("sc-b", sc_b, "shop-b*"))))
    policy = home / "policy.toml"
    policy.write_text(POLICY)
    cluster = Cluster(home, spine={"control": {"trust": str(trust), "policy": str(policy)}})
    attached: list[Attached] = []
    try:
        cluster.start_spine()
        address = cluster.spine_addr
        ids = {}
        for target in ("shop-b", "shop-a"):
            _, signed = make_envelope(alice, "ping", target, {}, f"ping {target}")
            ids[target] = client.send(address, signed).command_id
        # sc-a announces its own subsystem and sc-b's: it is given its own command, not sc-b's
        attached.append(Attached(address, "sc-a", sc_a, ["shop-a", "shop-b"]))
        wait_for(lambda: attached[0].deliveries, 30, "sc-a's own command")
        assert client.get_command(address, ids["shop-b"])["state"] == "pending"  # on the code before: delivered
        assert len(attached[0].deliveries) == 1 and client.get_command(address, ids["shop-a"])["sidecar_id"] == "sc-a"
        wait_for(lambda: "target_not_pinned" in cluster.spine.tail(200), 30, "the refusal logged")
        # the same announcement again writes no audit entry (a pinned sidecar cannot flood the audit log with it);
        # another one does
        for _ in range(50):
            attached[0].announce(["shop-a", "shop-b"])
        attached[0].announce(["shop-a", "shop-c"])
        wait_for(lambda: "'shop-c'" in cluster.spine.tail(400), 30, "the second announcement's refusal")
        assert cluster.spine.tail(400).count("(target_not_pinned)") == 2, cluster.spine.tail(400)
        # sc-b, whose target it is, takes it
        attached.append(Attached(address, "sc-b", sc_b, ["shop-b"]))
        wait_for(lambda: attached[1].deliveries, 30, "sc-b's command")
        rec = client.get_command(address, ids["shop-b"])
        assert rec["state"] == "delivered" and rec["sidecar_id"] == "sc-b", rec
        # the operator narrows sc-a's targets while it is attached: its next claim counts (Send pumps before it
        # answers)
        trust.write_text(trust.read_text().replace('targets = ["shop-a*"]', 'targets = ["shop-z*"]'))
        _, signed = make_envelope(alice, "ping", "shop-a", {}, "ping shop-a again")
        later = client.send(address, signed).command_id
        assert client.get_command(address, later)["state"] == "pending" and len(attached[0].deliveries) == 1
    finally:
        for a in attached:
            a.close()
        cluster.stop()
