"""Over mutual TLS an OTLP client is its certificate (ADR 0045, round 12).

``tls_client_ca_file`` lets every certificate of its CA export; on the code before every such exporter of another
host was the unnamed client "" (the kernel names only loopback accounts), so one certificate (another host's
sidecar, a stolen key) spent the senders, detection share, alert shares, bytes in flight, turns and connections of
all of them. Now each certificate is a client of its own, ``c<16 hex>``. Real spine and sidecar, both OTLP listeners
on TLS; here every exporter is on loopback (one account: on the code before they were one client, ``u0``)."""

from __future__ import annotations

import ssl
import time
import urllib.request

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.core.certs import init_ca, issue
from ben.otlp.clients import of_common_name
from ben.spine.detection import peer_of

LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def _logs(text: str) -> bytes:
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[
        LogRecord(time_unix_nano=time.time_ns(), severity_number=9, body={"string_value": text})])])]
    ).SerializeToString()


def test_each_certificate_of_the_otlp_ca_is_a_client_of_its_own(home) -> None:
    certs = home / "certs"
    init_ca(certs)
    issue(certs, "otlp", server=True)
    for name in ("app-a", "app-b"):
        issue(certs, name)
    otlp = {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0", "tls_cert_file": str(certs / "otlp.crt"),
            "tls_key_file": str(certs / "otlp.key"), "tls_client_ca_file": str(certs / "ca.crt")}
    cluster = Cluster(home, sidecar={"otlp": otlp})
    try:
        cluster.start()
        side = cluster.status("sidecar")
        for name in ("app-a", "app-b"):  # OTLP/HTTP
            context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
            context.load_cert_chain(certs / f"{name}.crt", certs / f"{name}.key")
            request = urllib.request.Request(f"https://127.0.0.1:{int(side['otlp_http_port'])}/v1/logs",
                                             data=_logs(f"http {name}"), method="POST",
                                             headers={"Content-Type": "application/x-protobuf"})
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                assert answer.status == 200
        creds = grpc.ssl_channel_credentials((certs / "ca.crt").read_bytes(), (certs / "app-a.key").read_bytes(),
                                             (certs / "app-a.crt").read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{int(side['otlp_grpc_port'])}", creds) as channel:  # OTLP/gRPC
            channel.unary_unary(LOGS_EXPORT)(_logs("grpc app-a"), timeout=30)
        rows = wait_for(lambda: (lambda r: r if len(r) == 3 else None)(query_rows(
            cluster.spine_addr, "SELECT body, producer_id, sidecar_id FROM ben.events "
                                "WHERE body LIKE 'http app-%' OR body = 'grpc app-a' ORDER BY body")),
            60, "the three exports stored")
        by = {r["body"]: r for r in rows}
        a, b = of_common_name("app-a"), of_common_name("app-b")
        assert f"-{a}-" in by["http app-a"]["producer_id"] and f"-{a}-" in by["grpc app-a"]["producer_id"], by
        assert f"-{b}-" in by["http app-b"]["producer_id"], by
        peers = {peer_of(r["sidecar_id"], r["producer_id"]) for r in rows}  # their detection shares
        assert peers == {f"{rows[0]['sidecar_id']}/otlp/{a}", f"{rows[0]['sidecar_id']}/otlp/{b}"}, peers
    finally:
        cluster.stop()
