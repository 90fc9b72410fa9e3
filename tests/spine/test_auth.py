"""Nobody gets in (ADR 0034): real spine and sidecar processes over real sockets.

A plain TCP spine refuses to start; mutual TLS with `ben certs` material carries ingest, a peer
without a valid client certificate cannot ingest, attach or query; operators are authenticated
by uid on the unix socket; an unredacted batch sent straight to the spine is stored redacted;
a 64 MB message is refused before it is parsed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from ben.cli.procs import Cluster, Proc, wait_for
from ben.core.admin import fetch_status
from ben.control.documents import Signed
from ben.core.certs import init_ca, issue
from ben.core.errors import TransportError
from ben.v1 import admin_pb2, admin_pb2_grpc, control_pb2, control_pb2_grpc, telemetry_pb2, telemetry_pb2_grpc
from tests.helpers import Load, assert_exactly_once

CARD = "4111 1111 1111 1111"
EMAIL = "victim@example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _closed(s: socket.socket) -> bool:
    s.settimeout(0.01)
    try:
        while s.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def make_certs(directory: Path) -> Path:
    init_ca(directory)
    issue(directory, "spine", server=True)
    for name in ("sc-1", "alice", "intruder"):
        issue(directory, name)
    return directory


def tls(directory: Path, name: str) -> dict:
    return {"cert": str(directory / f"{name}.crt"), "key": str(directory / f"{name}.key"),
            "ca": str(directory / "ca.crt")}


def client_env(monkeypatch, certs: Path, name: str) -> None:
    monkeypatch.setenv("BEN_TLS_CERT", str(certs / f"{name}.crt"))
    monkeypatch.setenv("BEN_TLS_KEY", str(certs / f"{name}.key"))
    monkeypatch.setenv("BEN_TLS_CA", str(certs / "ca.crt"))


def one_alert(sender: str, body: str = f"card {CARD} mail {EMAIL}", seq: int = 1) -> telemetry_pb2.IngestRequest:
    batch = telemetry_pb2.Batch(producer_id="p-direct", first_event_seq=seq, strings=["", "payment.failed", body],
                                ts_unix_nano=[time.time_ns()], values=[1.0], kinds=[telemetry_pb2.KIND_ALERT],
                                names=[1], bodies=[2], attr_counts=[0],
                                source=telemetry_pb2.Source(subsystem="direct"))
    return telemetry_pb2.IngestRequest(sender_id=sender, first_seq=seq, last_seq=seq, batch=batch,
                                       lane=telemetry_pb2.LANE_ALERT)


def ingest(channel: grpc.Channel, *requests, timeout: float = 20.0) -> list:
    return list(telemetry_pb2_grpc.IngestStub(channel).Stream(iter(requests), timeout=timeout))


def stored_bodies(spine: str, producer: str = "p-direct") -> list[str]:
    from ben.core.admin import run_query

    rows = json.loads(run_query(spine, f"SELECT body FROM ben.events WHERE producer_id = '{producer}'"))["data"]
    return [r["body"] for r in rows]


def test_plain_tcp_spine_refuses_to_start_and_insecure_warns(home) -> None:
    addr = f"127.0.0.1:{free_port()}"
    refused = Cluster(home, addr)
    for which, flag in (("spine", "spine.listen"), ("sidecar", "sidecar.spine")):
        proc = Proc([which, "--config", str(refused.config)], home / "logs" / f"refused-{which}.log")
        try:
            assert proc.popen.wait(60) == 2
        finally:
            if proc.alive():
                proc.stop()
        assert flag in proc.tail() and "insecure = true" in proc.tail()
        assert not (home / which).exists()  # refused before anything was opened

    # insecure = true is for loopback only: beyond it a network peer would be served as an operator.
    wide = Cluster(home, f"0.0.0.0:{free_port()}", spine={"insecure": True})
    proc = Proc(["spine", "--config", str(wide.config)], home / "logs" / "refused-wide.log")
    try:
        assert proc.popen.wait(60) == 2
    finally:
        if proc.alive():
            proc.stop()
    assert "spine.listen" in proc.tail() and "not loopback" in proc.tail()
    assert not (home / "spine").exists()

    plain = Cluster(home, addr, spine={"insecure": True}, sidecar={"insecure": True})
    try:
        plain.start_spine()
        assert "WARNING" in plain.spine.tail(200) and "INSECURE" in plain.spine.tail(200)
    finally:
        plain.stop()


def test_mutual_tls_ingest_and_unauthenticated_peers_refused(home, monkeypatch) -> None:
    certs = make_certs(home / "certs")
    port = free_port()
    addr = f"127.0.0.1:{port}"
    # The sidecar's control key, pinned in the spine's trust store before either starts (ADR 0035).
    from ben.control import keys

    sidecar_key = keys.generate(home / "sidecar" / "control", "sidecar")
    trust = home / "trust.toml"
    trust.write_text(f'[[sidecars]]\nid = "sc-1"\npublic_key = "{sidecar_key.public_text}"\n')
    cluster = Cluster(home, addr, spine={"tls": tls(certs, "spine"), "control": {"trust": str(trust)}},
                      sidecar={"id": "sc-1", "tls": tls(certs, "sc-1")})
    cluster.config.write_text(cluster.config.read_text() + '\n[[spine.operators]]\nname = "alice"\n')
    client_env(monkeypatch, certs, "alice")
    try:
        cluster.start()
        load = Load(cluster.sidecar_addr, 3_000, rate=30_000)
        load.finish()
        cluster.wait_drained()
        assert_exactly_once(cluster.spine_addr, load.client.producer_id, 3_000)  # alice queries over mTLS
        # The sidecar's control link attached over mutual TLS under its certificate's name.
        wait_for(lambda: "sidecar sc-1 attached" in cluster.spine.tail(400), 30, "the control link to attach")
        spine = cluster.status("spine")  # the sidecar's stamp is believed: nothing redacted twice
        assert spine["ingest_batches_stamped_total"] > 0 and spine["ingest_batches_redacted_total"] == 0

        # Half-open peers (TCP connected, no TLS handshake) are cut within the handshake deadline (ADR 0045).
        half_open = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
        try:
            wait_for(lambda: all(_closed(s) for s in half_open), 40, "the spine to cut half-open peers")
        finally:
            for s in half_open:
                s.close()

        # No client certificate: the TLS handshake fails; no ingest, no attach, no query.
        creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.crt").read_bytes())
        with grpc.secure_channel(addr, creds) as channel:
            with pytest.raises(grpc.RpcError) as no_cert:
                ingest(channel, one_alert("sc-1"), timeout=5)
            assert no_cert.value.code() == grpc.StatusCode.UNAVAILABLE
            with pytest.raises(grpc.RpcError):
                admin_pb2_grpc.AdminStub(channel).Query(admin_pb2.QueryRequest(sql="SELECT 1"), timeout=5)
        # Plain TCP to the mTLS port: refused too.
        with grpc.insecure_channel(addr) as channel:
            with pytest.raises(grpc.RpcError):
                ingest(channel, one_alert("sc-1"), timeout=5)
        # A certificate from another CA: refused at the handshake.
        other = home / "other-ca"
        init_ca(other)
        issue(other, "sc-1")
        creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.crt").read_bytes(),
                                             private_key=(other / "sc-1.key").read_bytes(),
                                             certificate_chain=(other / "sc-1.crt").read_bytes())
        with grpc.secure_channel(addr, creds) as channel:
            with pytest.raises(grpc.RpcError) as foreign:
                ingest(channel, one_alert("sc-1"), timeout=5)
            assert foreign.value.code() == grpc.StatusCode.UNAVAILABLE

        # A valid certificate, another identity: it can neither ingest as sc-1, attach as sc-1, nor query.
        creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.crt").read_bytes(),
                                             private_key=(certs / "intruder.key").read_bytes(),
                                             certificate_chain=(certs / "intruder.crt").read_bytes())
        with grpc.secure_channel(addr, creds) as channel:
            with pytest.raises(grpc.RpcError) as spoof:
                ingest(channel, one_alert("sc-1", body="spoofed"), timeout=10)
            assert spoof.value.code() == grpc.StatusCode.PERMISSION_DENIED
            hello = control_pb2.SidecarUp(hello=control_pb2.SidecarHello(sidecar_id="sc-1", targets=["svc"]))
            with pytest.raises(grpc.RpcError) as attach:
                list(control_pb2_grpc.ControlStub(channel).Attach(iter([hello]), timeout=10))
            assert attach.value.code() == grpc.StatusCode.PERMISSION_DENIED
            for call, request in ((admin_pb2_grpc.AdminStub(channel).Query, admin_pb2.QueryRequest(sql="SELECT 1")),
                                  (control_pb2_grpc.ControlStub(channel).List, control_pb2.ListRequest())):
                with pytest.raises(grpc.RpcError) as denied:
                    call(request, timeout=10)
                assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            # Status: alive, and nothing more; its details are an operator's (ADR 0045, round 10).
            bare = admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=10)
            assert (bare.component, bare.id, len(bare.figures), bare.last_error) == ("spine", "", 0, "")
        assert "spoofed" not in stored_bodies(cluster.spine_addr)
        full = fetch_status(cluster.spine_addr)  # alice, an operator's certificate: every detail
        assert full.id == str(home / "spine") and full.figures
    finally:
        cluster.stop()


def test_status_details_are_for_operators_only_over_mutual_tls(home, monkeypatch) -> None:
    """ADR 0045 round 10: over mutual TLS ``Admin.Status`` answered every certificate the CA signed (a sidecar's,
    any other name) with the spine's figures, its last error and its data directory's path. A sidecar's
    certificate now gets a bare liveness answer; an operator's gets the details."""
    certs = make_certs(home / "certs")
    addr = f"127.0.0.1:{free_port()}"
    cluster = Cluster(home, addr, spine={"tls": tls(certs, "spine")})
    cluster.config.write_text(cluster.config.read_text() + '\n[[spine.operators]]\nname = "alice"\n')
    client_env(monkeypatch, certs, "alice")
    try:
        cluster.start_spine()
        seen = {}
        for name in ("sc-1", "intruder", "alice"):
            creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.crt").read_bytes(),
                                                 private_key=(certs / f"{name}.key").read_bytes(),
                                                 certificate_chain=(certs / f"{name}.crt").read_bytes())
            with grpc.secure_channel(addr, creds) as channel:
                reply = admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=30)
            seen[name] = (reply.component, reply.id, len(reply.figures) > 0, reply.last_error)
        assert seen["sc-1"] == seen["intruder"] == ("spine", "", False, "")
        assert seen["alice"] == ("spine", str(home / "spine"), True, "")
    finally:
        cluster.stop()


def test_unredacted_alert_sent_to_the_spine_is_stored_redacted(home) -> None:
    cluster = Cluster(home)
    try:
        cluster.start_spine()
        path = cluster.spine_addr
        forged = one_alert("rogue", seq=2)
        forged.batch.redacted_by = "sha256:" + "0" * 64  # a stamp of a manifest not in force
        with grpc.insecure_channel(path) as channel:
            acks = ingest(channel, one_alert("rogue"), forged)
        assert [a.error for a in acks] == ["", ""]
        bodies = wait_for(lambda: (b := stored_bodies(path)) and len(b) == 2 and b, 30, "the alerts stored")
        for body in bodies:
            assert CARD not in body and EMAIL not in body and "victim" not in body, body
        assert cluster.status("spine")["ingest_batches_redacted_total"] == 2
    finally:
        cluster.stop()


def test_insecure_tcp_stamp_is_not_believed(home) -> None:
    from ben.core.provenance import manifest_digest
    from ben.redact.redactor import load

    addr = f"127.0.0.1:{free_port()}"
    cluster = Cluster(home, addr, spine={"insecure": True})
    try:
        cluster.start_spine()
        req = one_alert("rogue")
        req.batch.redacted_by = manifest_digest(load(None))  # the right digest, claimed by nobody we know
        with grpc.insecure_channel(addr) as channel:
            assert [a.error for a in ingest(channel, req)] == [""]
        bodies = wait_for(lambda: stored_bodies(addr), 30, "the alert stored")
        assert CARD not in bodies[0] and EMAIL not in bodies[0]
    finally:
        cluster.stop()


_AS_ANOTHER = """
import sys, grpc
from ben.v1 import admin_pb2, admin_pb2_grpc, telemetry_pb2, telemetry_pb2_grpc
with grpc.insecure_channel(sys.argv[1]) as channel:
    for name, call in (("status", lambda: admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=30)),
                       ("query", lambda: admin_pb2_grpc.AdminStub(channel).Query(admin_pb2.QueryRequest(sql="SELECT 1"),
                                                                                 timeout=30)),
                       ("ingest", lambda: list(telemetry_pb2_grpc.IngestStub(channel).Stream(
                           iter([telemetry_pb2.IngestRequest(sender_id="x")]), timeout=30)))):
        try:
            call()
            print(name, "served")
        except grpc.RpcError as exc:
            print(name, exc.code().name, exc.details())
"""


def test_plain_loopback_tcp_serves_only_the_spine_s_own_accounts(home) -> None:
    """ADR 0045 round 9: a plain (``insecure = true``) TCP spine served every caller as an unauthenticated
    operator, so any account of the host could read all telemetry and ingest through its loopback port. Now
    the kernel names each caller's uid; another account (``nobody``) is refused (even ``Status``: its figures and
    the data directory's path), the spine's own uid served."""
    from ben.core.admin import run_query

    os.chmod(home, 0o755)
    addr = f"127.0.0.1:{free_port()}"
    cluster = Cluster(home, addr, spine={"insecure": True})
    try:
        cluster.start_spine()
        env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": os.environ["PATH"]}
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                              _AS_ANOTHER, addr], capture_output=True, text=True, timeout=120, env=env)
        lines = out.stdout.splitlines()
        assert [line.split()[:2] for line in lines] == [["status", "PERMISSION_DENIED"], ["query", "PERMISSION_DENIED"],
                                                         ["ingest", "PERMISSION_DENIED"]], (out.stdout, out.stderr)
        assert "uid 65534 may not call this spine over plain TCP" in lines[1] and "socket_group" in lines[1]
        assert json.loads(run_query(addr, "SELECT 1 AS one"))["data"] == [{"one": 1}]  # its own uid: served
    finally:
        cluster.stop()


def test_operators_by_uid_on_the_unix_socket(home) -> None:
    from ben.control import client
    from ben.core.admin import run_query

    cluster = Cluster(home)
    cluster.config.write_text(cluster.config.read_text() + '\n[[spine.operators]]\nname = "ops"\nuids = [4242]\n')
    try:
        cluster.start_spine()
        addr = cluster.spine_addr
        for call in (lambda: run_query(addr, "SELECT 1"), lambda: client.list_commands(addr)):
            with pytest.raises(TransportError, match="not an operator"):
                call()
        # The gRPC socket itself, without a token: refused as well.
        with grpc.insecure_channel(cluster.spine_addr) as channel:
            with pytest.raises(grpc.RpcError) as denied:
                admin_pb2_grpc.AdminStub(channel).Query(admin_pb2.QueryRequest(sql="SELECT 1"), timeout=10)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            # Status stays open to whoever may connect: alive, its details only for an operator (round 10).
            bare = admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=10)
            assert (bare.component, bare.id, len(bare.figures), bare.last_error) == ("spine", "", 0, "")
        assert fetch_status(addr).id == ""  # this user is no operator here: the client calls without a token
        out = subprocess.run([sys.executable, "-m", "ben", "status", "--json", "--spine", addr, "--sidecar",
                              f"unix://{home / 'none.sock'}"], capture_output=True, text=True, timeout=120)
        assert json.loads(out.stdout)["spine"] == {"id": "", "last_error": "", "figures": []}, out.stderr
        out = subprocess.run([sys.executable, "-m", "ben", "status", "--spine", addr, "--sidecar",
                              f"unix://{home / 'none.sock'}"], capture_output=True, text=True, timeout=120)
        assert "spine: up (its figures, last error and data directory are for its operators: spine.operators)" \
            in " ".join(out.stdout.split()), out.stdout
        cluster.stop()
        cluster.config.write_text(cluster.config.read_text().replace("uids = [4242]", f"uids = [{os.geteuid()}]"))
        cluster.start_spine()
        assert json.loads(run_query(cluster.spine_addr, "SELECT 1 AS one"))["data"] == [{"one": 1}]
        assert fetch_status(cluster.spine_addr).id == str(home / "spine")  # an operator: the details
        assert client.list_commands(cluster.spine_addr) == []
        # The operator's name goes into the audit entry the call writes (a forged envelope: refused, audited).
        reply = client.send(cluster.spine_addr, Signed(body=b'{"kind":"command"}', signature=b"x" * 64))
        assert reply.state == "refused"
        entries = client.audit_entries(cluster.spine_addr)
        assert [json.loads(e["body"])["operator"] for e in entries if e["kind"] == "refusal"] == ["ops"]
    finally:
        cluster.stop()


RSS_SCRIPT = """
import sys, grpc
from ben.v1 import telemetry_pb2, telemetry_pb2_grpc
big = telemetry_pb2.IngestRequest(sender_id="big", first_seq=1, last_seq=1,
                                  batch=telemetry_pb2.Batch(strings=["", "x" * (64 << 20)]))
options = [("grpc.max_send_message_length", 1 << 30)]
with grpc.insecure_channel(sys.argv[1], options=options) as channel:
    try:
        list(telemetry_pb2_grpc.IngestStub(channel).Stream(iter([big]), timeout=60))
    except grpc.RpcError as exc:
        print(exc.code().name, exc.details())
"""


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_oversized_message_refused_before_it_is_parsed(home) -> None:
    cluster = Cluster(home)
    try:
        cluster.start_spine()
        before = rss_bytes(cluster.spine.pid)
        runs = [subprocess.run([sys.executable, "-c", RSS_SCRIPT, cluster.spine_addr], capture_output=True, text=True,
                               timeout=120) for _ in range(2)]
        for run in runs:
            assert run.stdout.startswith("RESOURCE_EXHAUSTED"), (run.stdout, run.stderr)
        grown = rss_bytes(cluster.spine.pid) - before
        assert grown < 48 << 20, f"the spine grew by {grown >> 20} MB"
        assert cluster.spine.alive()
    finally:
        cluster.stop()
