"""The attack matrix (ADR 0045, round 16): lines and entries a peer makes the control plane write per request.

A real spine with a trust store and a real sidecar on its unix socket. A member of the sidecar's socket group may
register command handlers (``Control.Commands``), and every registration was an INFO line in the sidecar's log
and an announcement of the sidecar's targets to the spine; with ``[[sidecars]] targets`` pinned, an announcement
that names other targets than the last was a ``target_not_pinned`` audit entry, kept for good (round 14 wrote one
per change: alternating names changes every time). A pinned sidecar (a certificate of the CA with its key)
attaching in a loop wrote two lines a stream. Now registrations and attaches are logged a burst a minute, then
counted in the next line; unpinned announcements are audited ``attach_refusals_audited`` a window per sidecar, the
rest counted in one entry at the window's end or the spine's stop.
"""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

import grpc

from ben.cli.procs import Cluster, wait_for
from ben.control import client
from ben.control.documents import make_envelope
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc
from tests.control.conftest import SIDECAR_ID, make_setup
from tests.control.test_target_pins import Attached

AUDITED = 10
LOOPS = 200


def _entries(addr: str, code: str) -> list[dict]:
    return [json.loads(e["body"]) | {"actor": e["actor"]} for e in client.audit_entries(addr)
            if e["kind"] == "refusal" and json.loads(e["body"]).get("code") == code]


def _drain(call) -> None:
    try:
        for _ in call:
            pass
    except grpc.RpcError:  # cancelled at the end
        pass


def test_a_subsystem_registering_in_a_loop_writes_a_burst_of_lines_and_entries_not_one_each() -> None:
    home = Path(tempfile.mkdtemp(prefix="bpl-", dir="/tmp"))
    setup = make_setup(home)
    setup.trust.write_text(setup.trust.read_text().rstrip() + '\ntargets = ["shop*"]\n')
    control = {**setup.control_options()["control"], "attach_refusals_audited": AUDITED}
    cluster = Cluster(home, spine={"control": control}, sidecar=setup.sidecar_options())
    done = threading.Event()

    def registrations():  # one stream, a made-up subsystem a message: each is a new set of targets
        for i in range(LOOPS):
            yield pb.SubsystemUp(register=pb.Register(subsystem=f"rogue-{i:03d}", actions=["ping"]))
        done.wait(120)

    try:
        cluster.start()
        wait_for(lambda: f"sidecar {SIDECAR_ID} attached" in cluster.spine.tail(200), 60, "the sidecar attached")
        channel = grpc.insecure_channel(cluster.sidecar_addr)
        call = pb_grpc.ControlStub(channel).Commands(registrations(), timeout=120)
        threading.Thread(target=_drain, args=(call,), daemon=True).start()
        wait_for(lambda: cluster.status("spine").get("commands_refused_total{reason=target_not_pinned}", 0) == LOOPS,
                 60, "every announcement counted")  # every one is in the figures, as before
        sidecar_lines = cluster.sidecar.tail(2000).count("control: subsystem rogue-")
        assert sidecar_lines <= 21, sidecar_lines  # on the code before: 200
        own = _entries(cluster.spine_addr, "target_not_pinned")
        assert len(own) == AUDITED, len(own)  # on the code before: 200, one per announcement, kept for good
        done.set()
        call.cancel()
        channel.close()
        cluster.spine.stop()  # the stop writes what was counted
        cluster.start_spine()
        (collapsed,) = _entries(cluster.spine_addr, "target_announcements_collapsed")
        assert collapsed["count"] == LOOPS - AUDITED and collapsed["caller"] == f"sidecar {SIDECAR_ID}"
        assert collapsed["targets"][0] == f"rogue-{AUDITED:03d}" and "attach_refusals_audited" in collapsed["reason"]
        assert all(part["ok"] for part in json.loads(client.verify_audit(cluster.spine_addr).report_json))
    finally:
        done.set()
        cluster.stop()


def test_a_pinned_sidecar_attaching_in_a_loop_writes_a_burst_of_lines_not_two_a_stream() -> None:
    home = Path(tempfile.mkdtemp(prefix="bpa-", dir="/tmp"))
    setup = make_setup(home)
    cluster = Cluster(home, spine=setup.control_options())
    try:
        cluster.start_spine()
        addr = cluster.spine_addr
        _, signed = make_envelope(setup.alice, "ping", "shop", {}, "a command each attach is given again")
        client.send(addr, signed)
        for _ in range(50):  # each stream is attached (it is given the command) and ends
            attached = Attached(addr, SIDECAR_ID, setup.sidecar, ["shop"])
            wait_for(lambda: attached.deliveries, 30, "the command delivered")
            attached.close()
        wait_for(lambda: f"sidecar {SIDECAR_ID} detached" in cluster.spine.tail(400), 30, "a detach logged")
        log = cluster.spine.tail(4000)
        attaches, detaches = log.count(f"sidecar {SIDECAR_ID} attached"), log.count(f"sidecar {SIDECAR_ID} detached")
        assert attaches <= 10 and detaches <= 10, (attaches, detaches)  # on the code before: 50 and 50
    finally:
        cluster.stop()


def test_registrations_no_command_can_target_cannot_cut_the_sidecar_off_its_spine() -> None:
    """Round 16: a registration's subsystem and actions were taken as they came (up to a 16 MB message). Two
    subsystems of 9 MB names made the sidecar's announcement of its targets larger than a message to the spine
    may be: its control stream broke at every attach, and no command reached any subsystem of the host. A
    registration whose subsystem no command can target (``TARGET_RE``) or whose actions none can name is now
    ignored (logged, counted in the next line), and the honest subsystem still gets its command."""
    from tests.control.conftest import Recorder, attach

    home = Path(tempfile.mkdtemp(prefix="bpr-", dir="/tmp"))
    setup = make_setup(home)
    cluster = Cluster(home, spine=setup.control_options(), sidecar=setup.sidecar_options())
    done = threading.Event()
    calls, channels, honest = [], [], None

    def huge(i: int):
        yield pb.SubsystemUp(register=pb.Register(subsystem=f"{i}" * (9 << 20), actions=["ping"]))
        done.wait(120)

    try:
        cluster.start()
        wait_for(lambda: f"sidecar {SIDECAR_ID} attached" in cluster.spine.tail(200), 60, "the sidecar attached")
        for i in range(2):
            channels.append(grpc.insecure_channel(cluster.sidecar_addr,
                                                  options=[("grpc.max_send_message_length", 16 << 20)]))
            calls.append(pb_grpc.ControlStub(channels[-1]).Commands(huge(i), timeout=120))
            threading.Thread(target=_drain, args=(calls[-1],), daemon=True).start()
        recorder = Recorder()
        honest = attach(cluster.sidecar_addr, "shop", recorder)
        _, signed = make_envelope(setup.alice, "ping", "shop", {}, "the honest subsystem's command")
        command_id = client.send(cluster.spine_addr, signed).command_id
        wait_for(lambda: client.get_command(cluster.spine_addr, command_id)["state"] == "accepted", 60,
                 "the honest subsystem's command answered")  # on the code before: the link broke, never delivered
        assert recorder.count(command_id) == 1
    finally:
        done.set()
        for call in calls:
            call.cancel()
        for channel in channels:
            channel.close()
        if honest is not None:
            honest.shutdown(timeout=5)
        cluster.stop()
