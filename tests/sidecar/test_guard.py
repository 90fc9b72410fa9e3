"""A sidecar's plain loopback TCP listener: telemetry for every local account, the rest for its own (ADR 0045,
round 10). Real spine and sidecar; the other account is ``nobody`` through ``setpriv``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import Cluster, wait_for
from ben.core.admin import fetch_status

_AS_ANOTHER = """
import sys, threading, grpc
from ben.v1 import admin_pb2, admin_pb2_grpc, control_pb2, control_pb2_grpc, telemetry_pb2, telemetry_pb2_grpc
register = control_pb2.SubsystemUp(register=control_pb2.Register(subsystem="payments", actions=["set_mode"]))


def registered():  # a handler's stream: it registers and stays, waiting for the subsystem's commands
    yield register
    threading.Event().wait(10)


with grpc.insecure_channel(sys.argv[1]) as channel:
    control = control_pb2_grpc.ControlStub(channel)
    for name, call in (
            ("ingest", lambda: list(telemetry_pb2_grpc.IngestStub(channel).Stream(
                iter([telemetry_pb2.IngestRequest(sender_id="x")]), timeout=30))),
            ("commands", lambda: list(control.Commands(registered(), timeout=5))),
            ("audit", lambda: control.AuditEntries(control_pb2.AuditRequest(), timeout=30)),
            ("verify", lambda: control.VerifyAudit(control_pb2.AuditRequest(), timeout=30)),
            ("status", lambda: admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=30))):
        try:
            call()
            print(name, "served")
        except grpc.RpcError as exc:
            print(name, exc.code().name, exc.details())
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_another_account_sends_telemetry_but_cannot_take_commands_or_read_the_audit(home) -> None:
    """On the code before, ``nobody`` registered as the ``payments`` subsystem's command handler on a plain
    loopback sidecar (the first registered gets the subsystem's commands and answers their receipts) and read its
    audit log and status. Now only its telemetry is served."""
    from ben.control import client

    os.chmod(home, 0o755)
    addr = f"127.0.0.1:{_free_port()}"
    cluster = Cluster(home, sidecar={"listen": addr, "insecure": True})
    cluster.sidecar_addr = addr
    try:
        cluster.start()
        env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": os.environ["PATH"]}
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                              _AS_ANOTHER, addr], capture_output=True, text=True, timeout=180, env=env)
        verdicts = {line.split()[0]: line.split(None, 2)[1:] for line in out.stdout.splitlines()}
        assert verdicts["ingest"] == ["served"], (out.stdout, out.stderr)  # telemetry: open to every account
        for name in ("commands", "audit", "verify", "status"):
            assert verdicts[name][0] == "PERMISSION_DENIED", (name, out.stdout, out.stderr)
        assert "uid 65534 may not call" in verdicts["audit"][1] and "sidecar.socket_group" in verdicts["audit"][1]
        assert "subsystem payments attached" not in cluster.sidecar.tail(400)
        # The sidecar's own account: served.
        assert fetch_status(addr).id
        assert json.loads(client.verify_audit(addr).report_json)[0]["ok"]
        wait_for(lambda: "refused /ben.v1.Control/Commands" in cluster.sidecar.tail(400), 30, "the refusal logged")
    finally:
        cluster.stop()


_AS_A_CERTIFICATE = """
import sys, threading, grpc
from ben.v1 import admin_pb2, admin_pb2_grpc, control_pb2, control_pb2_grpc, telemetry_pb2, telemetry_pb2_grpc
address, certs, name = sys.argv[1], sys.argv[2], sys.argv[3]
register = control_pb2.SubsystemUp(register=control_pb2.Register(subsystem="payments", actions=["set_mode"]))


def registered():
    yield register
    threading.Event().wait(5)


creds = grpc.ssl_channel_credentials(root_certificates=open(f"{certs}/ca.crt", "rb").read(),
                                     private_key=open(f"{certs}/{name}.key", "rb").read(),
                                     certificate_chain=open(f"{certs}/{name}.crt", "rb").read())
with grpc.secure_channel(address, creds) as channel:
    control = control_pb2_grpc.ControlStub(channel)
    calls = [("ingest", lambda: list(telemetry_pb2_grpc.IngestStub(channel).Stream(
                  iter([telemetry_pb2.IngestRequest(sender_id="x")]), timeout=30))),
             ("audit", lambda: control.AuditEntries(control_pb2.AuditRequest(), timeout=30)),
             ("verify", lambda: control.VerifyAudit(control_pb2.AuditRequest(), timeout=30)),
             ("status", lambda: admin_pb2_grpc.AdminStub(channel).Status(admin_pb2.StatusRequest(), timeout=30))]
    if sys.argv[4:] == ["register"]:
        calls.append(("commands", lambda: list(control.Commands(registered(), timeout=3))))
    for what, call in calls:
        try:
            call()
            print(what, "served")
        except grpc.RpcError as exc:
            print(what, exc.code().name, exc.details())
"""


def test_another_certificate_of_the_ca_sends_telemetry_but_cannot_take_commands_or_read_the_audit(home,
                                                                                                 monkeypatch):
    """ADR 0045 round 11: over mutual TLS a sidecar served every certificate its CA signed alike. On the code
    before, another host's sidecar certificate (``sc-2``) registered here as the ``payments`` subsystem's command
    handler (it gets the subsystem's commands and answers their receipts, which this sidecar signs) and read the
    audit log and the status. Now telemetry alone; the sidecar's own certificate and ``sidecar.tls_clients``
    (``alice``) are served."""
    from ben.core.certs import init_ca, issue

    certs = home / "certs"
    init_ca(certs)
    issue(certs, "sc-1", server=True)  # the sidecar's own: it serves its listen with it
    for name in ("sc-2", "alice"):
        issue(certs, name)
    addr = f"127.0.0.1:{_free_port()}"
    cluster = Cluster(home, sidecar={"id": "sc-1", "listen": addr, "tls_clients": ["alice"],
                                     "tls": {"cert": str(certs / "sc-1.crt"), "key": str(certs / "sc-1.key"),
                                             "ca": str(certs / "ca.crt")}})
    cluster.sidecar_addr = addr
    for variable, path in (("BEN_TLS_CERT", "alice.crt"), ("BEN_TLS_KEY", "alice.key"), ("BEN_TLS_CA", "ca.crt")):
        monkeypatch.setenv(variable, str(certs / path))
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": os.environ["PATH"]}

    def verdicts(name: str, *extra: str) -> dict[str, list[str]]:
        out = subprocess.run([sys.executable, "-c", _AS_A_CERTIFICATE, addr, str(certs), name, *extra],
                             capture_output=True, text=True, timeout=120, env=env)
        found = {line.split()[0]: line.split(None, 2)[1:] for line in out.stdout.splitlines()}
        assert set(found) >= {"ingest", "audit", "verify", "status"}, (out.stdout, out.stderr)
        return found

    try:
        cluster.start()
        intruder = verdicts("sc-2", "register")
        assert intruder["ingest"] == ["served"], intruder  # telemetry: open to the CA's certificates
        for what in ("commands", "audit", "verify", "status"):
            assert intruder[what][0] == "PERMISSION_DENIED", (what, intruder)
        assert "'sc-2' may not call" in intruder["audit"][1] and "sidecar.tls_clients" in intruder["audit"][1]
        assert "subsystem payments attached" not in cluster.sidecar.tail(400)
        for name in ("sc-1", "alice"):  # the sidecar's own certificate, and the one configured
            assert all(v == ["served"] for v in verdicts(name).values()), name
        wait_for(lambda: "refused /ben.v1.Control/Commands" in cluster.sidecar.tail(400), 30, "the refusal logged")
    finally:
        cluster.stop()


_REFUSED_LOOP = """
import sys, grpc
from ben.v1 import admin_pb2, admin_pb2_grpc
refused = 0
with grpc.insecure_channel(sys.argv[1]) as channel:
    stub = admin_pb2_grpc.AdminStub(channel)
    for _ in range(int(sys.argv[2])):
        try:
            stub.Status(admin_pb2.StatusRequest(), timeout=10)
        except grpc.RpcError as exc:
            refused += exc.code() == grpc.StatusCode.PERMISSION_DENIED
print(refused)
"""


def test_a_stranger_s_refused_calls_write_one_line_not_one_each(home) -> None:
    """Every refused call was a WARNING line: any local account, looping refused calls on a sidecar's plain loopback
    ``listen``, wrote a line a call into its log (on the code before: 300 calls, 300 lines). Now a line a minute per
    caller, the rest counted in the next line (ADR 0045, round 15); every call is still refused."""
    os.chmod(home, 0o755)
    addr = f"127.0.0.1:{_free_port()}"
    cluster = Cluster(home, sidecar={"listen": addr, "insecure": True})
    cluster.sidecar_addr = addr
    try:
        cluster.start()
        env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": os.environ["PATH"]}
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                              _REFUSED_LOOP, addr, "300"], capture_output=True, text=True, timeout=180, env=env)
        assert out.stdout.strip() == "300", (out.stdout, out.stderr[-2000:])
        assert fetch_status(addr).id  # the sidecar's own account: served, and it answered after the loop
        lines = [line for line in cluster.sidecar.tail(2000).splitlines() if "refused /ben.v1.Admin/Status" in line]
        assert len(lines) == 1 and "uid 65534" in lines[0], len(lines)
    finally:
        cluster.stop()
