"""A client's requests in the OTLP receiver at once are bounded in bytes (ADR 0045, round 11).

Each request is bounded (``max_request_bytes``, after inflating), but not how many of one account wait in the
receiver together: on the code before, 100 gzip bodies of 15 KB at once, each inflating to 15 MiB, took a real
sidecar from 103 MB to 1 GB while they waited for their turns. Now a client (a local account, named by the kernel)
has ``max_bytes_in_flight_per_client``; past it a request is answered 429 with a delay to retry after.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from ben.cli.procs import Cluster, query_rows, wait_for

MiB = 1 << 20


def _post(port: int, body: bytes, content_type: str, gzipped: bool = True) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": content_type, **({"Content-Encoding": "gzip"} if gzipped else {})}
        conn.request("POST", "/v1/logs", body=gzip.compress(body) if gzipped else body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.getheader("Retry-After") or "", answer.read().decode(errors="replace")
    finally:
        conn.close()


def test_one_account_s_requests_in_the_receiver_are_bounded_in_bytes_and_it_exports_after(home) -> None:
    """Twelve requests at once, each a gzip body of a few KB inflating to 1.5 MiB of OTLP/JSON whose 20,000 empty
    records take the parse thread a while: with 4 MiB for the client, two are taken and the others answered 429
    with ``Retry-After``, naming the option (all were taken on the code before). Then an export is stored."""
    cluster = Cluster(home, sidecar={"otlp": {"max_request_bytes": 2 * MiB, "max_bytes_in_flight_per_client": 4 * MiB}})
    try:
        cluster.start()
        port = int(cluster.status("sidecar")["otlp_http_port"])
        body = ('{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"' + "p" * int(1.5 * MiB) + '"},"logRecords":['
                + ",".join(["{}"] * 20_000) + "]}]}]}").encode()
        answers: list[tuple[int, str, str]] = []
        threads = [threading.Thread(target=lambda: answers.append(_post(port, body, "application/json")))
                   for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        codes = sorted(code for code, _, _ in answers)
        assert len(codes) == 12 and set(codes) == {200, 429} and codes.count(200) >= 2, codes
        refused = next(a for a in answers if a[0] == 429)
        assert refused[1] == "1" and "sidecar.otlp.max_bytes_in_flight_per_client" in refused[2], refused
        assert cluster.status("sidecar")["otlp_refused_total{reason=in_flight,signal=logs}"] == codes.count(429)
        one = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[
            LogRecord(time_unix_nano=time.time_ns(), severity_number=9, body={"string_value": "after the burst"})])])])
        assert _post(port, one.SerializeToString(), "application/x-protobuf", gzipped=False)[0] == 200
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events "
                                                        "WHERE body = 'after the burst'")[0]["n"] == 1,
                 60, "the export after the burst stored")
    finally:
        cluster.stop()
