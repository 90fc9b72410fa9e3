"""One sidecar's certificate cannot speak as another sidecar (ADR 0034; ADR 0045, round 14): a real spine over
mutual TLS, two sidecar certificates of its CA (``sc-a``, ``sc-b``), both sidecars pinned in the trust store.

The holder of ``sc-a``'s certificate (and its control key) ingests under ``sc-a`` only: a request naming ``sc-b``
ends the stream with PERMISSION_DENIED, what came before it stays stored under ``sc-a``, nothing is stored under
``sc-b``. It attaches for commands as ``sc-a`` only: a hello naming ``sc-b`` is refused even with ``sc-b``'s own
proof (its control key), and so is a second hello naming ``sc-b`` on a stream attached as ``sc-a``.
"""

from __future__ import annotations

import queue
import threading

import grpc

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.control import keys
from ben.control.documents import attach_proof
from ben.core.certs import init_ca, issue
from ben.v1 import control_pb2, control_pb2_grpc, telemetry_pb2, telemetry_pb2_grpc
from tests.spine.test_auth import client_env, free_port, one_alert, tls


def _channel(certs, name: str, addr: str) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.crt").read_bytes(),
                                         private_key=(certs / f"{name}.key").read_bytes(),
                                         certificate_chain=(certs / f"{name}.crt").read_bytes())
    return grpc.secure_channel(addr, creds)


def _alert(sender: str, seq: int, body: str) -> telemetry_pb2.IngestRequest:
    req = one_alert(sender, body=body, seq=seq)
    req.batch.producer_id = "p-names"
    return req


def _attach(channel: grpc.Channel, hellos: list) -> tuple[str, list]:
    """Attach: answer the spine's challenge with each of ``hellos`` (a function of the challenge) in turn, the next
    after the spine's next message or a short wait; the call's end (its code) and what the spine sent."""
    outbox: queue.Queue = queue.Queue()

    def requests():
        while (item := outbox.get()) is not None:
            yield item

    call = control_pb2_grpc.ControlStub(channel).Attach(requests(), timeout=20)
    got: list = []
    done = threading.Event()

    def read() -> None:
        try:
            for delivery in call:
                got.append(delivery)
                if len(got) == 1:
                    for hello in hellos:
                        outbox.put(control_pb2.SidecarUp(hello=hello(bytes(delivery.challenge))))
        except grpc.RpcError:
            pass
        finally:
            done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(30)
    outbox.put(None)
    return call.code().name if call.code() is not None else "", got


def test_a_sidecar_s_certificate_cannot_ingest_or_attach_as_another_sidecar(home, monkeypatch) -> None:
    certs = home / "certs"
    init_ca(certs)
    issue(certs, "spine", server=True)
    for name in ("sc-a", "sc-b", "alice"):
        issue(certs, name)
    signers = {name: keys.generate(home / "control", name) for name in ("sc-a", "sc-b")}
    trust = home / "trust.toml"
    trust.write_text("".join(f'[[sidecars]]\nid = "{n}"\npublic_key = "{s.public_text}"\n' for n, s in signers.items()))
    addr = f"127.0.0.1:{free_port()}"
    cluster = Cluster(home, addr, spine={"tls": tls(certs, "spine"), "control": {"trust": str(trust)}})
    cluster.config.write_text(cluster.config.read_text() + '\n[[spine.operators]]\nname = "alice"\n')
    client_env(monkeypatch, certs, "alice")

    def hello(name: str, signer: str | None = None):
        key = signers[signer or name]
        return lambda challenge: control_pb2.SidecarHello(sidecar_id=name, public_key=key.public_text,
                                                          targets=[f"shop-{name}"],
                                                          proof=key.sign(attach_proof(name, challenge)))

    try:
        cluster.start_spine()
        with _channel(certs, "sc-a", addr) as channel:
            # Ingest: its own name first (acknowledged), then sc-b's on the same stream.
            acks: list = []
            try:
                for ack in telemetry_pb2_grpc.IngestStub(channel).Stream(
                        iter([_alert("sc-a", 1, "as-a"), _alert("sc-b", 1, "as-b")]), timeout=20):
                    acks.append(ack)
                code = "OK"
            except grpc.RpcError as exc:
                code, why = exc.code().name, exc.details()
            assert code == "PERMISSION_DENIED" and "'sc-b'" in why and "'sc-a'" in why, code
            assert [a.durable_seq for a in acks] == [1] and not acks[0].error, acks
            # Attach as sc-b, with sc-b's own proof: the certificate is sc-a's.
            code, _ = _attach(channel, [hello("sc-b")])
            assert code == "PERMISSION_DENIED", code
            # Attached as sc-a, a second hello naming sc-b ends the stream.
            code, _ = _attach(channel, [hello("sc-a"), hello("sc-b")])
            assert code == "PERMISSION_DENIED", code
        wait_for(lambda: "sidecar sc-a attached" in cluster.spine.tail(400), 30, "sc-a's own attach")
        assert "sidecar sc-b attached" not in cluster.spine.tail(400)

        def rows() -> list[tuple[str, str]]:
            return sorted((r["sidecar_id"], r["body"]) for r in query_rows(
                cluster.spine_addr, "SELECT sidecar_id, body FROM ben.events WHERE producer_id = 'p-names'"))

        wait_for(lambda: rows(), 60, "sc-a's alert at the store")
        assert [sidecar for sidecar, _ in rows()] == ["sc-a"], rows()
    finally:
        cluster.stop()
