"""The attack matrix (ADR 0045, round 15): refused attaches fill the control log. A real spine with a trust store,
its unix socket; the caller is anyone who may connect (the socket group, a certificate of the CA).

Every refused ``Control.Attach`` was an audit entry of its own, and the control plane's log is not trimmed: 2,000
attaches with made-up sidecar ids from one client wrote 2,000 entries (1.1 MB in 16.6 s, round 14), without end.
Now a caller has ``[spine.control] attach_refusals_audited`` entries a window; past it its refusals are counted, and
the window's end (or the spine's stop) writes one entry saying how many, by code, with the ids they claimed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import grpc

from ben.cli.procs import Cluster
from ben.control import client
from ben.control.documents import attach_proof
from ben.v1 import control_pb2 as pb
from tests.control.conftest import make_setup
from tests.control.test_attack import _attach

AUDITED = 10
TRIES = 60


def _refusals(addr: str) -> list[dict]:
    return [json.loads(e["body"]) | {"actor": e["actor"]} for e in client.audit_entries(addr)
            if e["kind"] == "refusal" and e["command_id"] == ""]


def test_a_caller_looping_refused_attaches_gets_its_budget_of_entries_and_an_honest_count() -> None:
    home = Path(tempfile.mkdtemp(prefix="bar-", dir="/tmp"))
    setup = make_setup(home)
    cluster = Cluster(home, spine={"control": {"trust": str(setup.trust), "policy": str(setup.policy),
                                               "attach_refusals_audited": AUDITED}},
                      sidecar=setup.sidecar_options())
    rogue = setup.stranger
    try:
        cluster.start()
        addr = cluster.spine_addr
        for i in range(TRIES):
            sidecar_id = f"made-up-{i:03d}"
            err = _attach(addr, lambda challenge, sidecar_id=sidecar_id: pb.SidecarHello(
                sidecar_id=sidecar_id, public_key=rogue.public_text, targets=["shop"],
                proof=rogue.sign(attach_proof(sidecar_id, challenge))))
            assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err  # every one refused, as before
        own = [r for r in _refusals(addr) if r["code"] == "unknown_sidecar"]
        assert len(own) == AUDITED, len(own)  # the budget, not the 60
        assert own[0]["actor"] == "sidecar:made-up-000"
        cluster.spine.stop()  # the stop writes what was counted
        cluster.start_spine()
        (collapsed,) = [r for r in _refusals(addr) if r["code"] == "attach_refusals_collapsed"]
        assert collapsed["count"] == TRIES - AUDITED and collapsed["by_code"] == {"unknown_sidecar": TRIES - AUDITED}
        assert collapsed["caller"] == "local callers" and collapsed["sidecar_ids"][0] == f"made-up-{AUDITED:03d}"
        assert len(collapsed["sidecar_ids"]) == 16 and "attach_refusals_audited" in collapsed["reason"]
        out = client.verify_audit(addr)
        assert all(part["ok"] for part in json.loads(out.report_json)), out.report_json  # the chain is whole
    finally:
        cluster.stop()
