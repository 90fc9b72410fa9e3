"""The attack matrix (ADR 0045, round 15): one OTLP/gRPC connection, thousands of calls each holding a message in
part. A real spine and sidecar; the caller any local account (the loopback OTLP ports take every application).

The connection bounds (rounds 4, 7: ``max_connections``, ``max_connections_per_client``) bound connections, not the
HTTP/2 streams on each, and gRPC sets no ``SETTINGS_MAX_CONCURRENT_STREAMS``. OTLP's exports are unary, but a call
whose message is sent in part holds its stream and what came of it (gRPC's flow control bounds the bytes, about
7 MB a connection, not the streams). Measured on the code before with a raw HTTP/2 client: 5,000 streams of 900
bytes each on one connection took a sidecar from 103 MB to 198 MB, and it kept them. Now a connection carries at
most ``transport.MAX_STREAMS_PER_CONNECTION`` calls: the rest are refused (``RST_STREAM``, REFUSED_STREAM), which
a client retries, and an exporter on another connection is served meanwhile.
"""

from __future__ import annotations

import socket
import struct
import threading

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.core.transport import MAX_STREAMS_PER_CONNECTION
from tests.otlp.test_gate_kills import free_port
from tests.otlp.test_transports import logs_request

STREAMS = 600
PATH = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _literal(name: str, value: str) -> bytes:  # HPACK: a literal header field without indexing, no Huffman
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


class PartSender:
    """A raw HTTP/2 connection that opens calls, each sending its headers and 900 bytes of a 1,000-byte message,
    never the rest. Counts the server's refused streams and reads its ``MAX_CONCURRENT_STREAMS``."""

    def __init__(self, port: int | str):
        """``port``: of 127.0.0.1, or a unix socket's path."""
        if isinstance(port, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(port)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port))
        self.max_streams: int | None = None
        self.refused: set[int] = set()
        self.settled = threading.Event()
        self.changed = threading.Condition()
        self.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0))
        threading.Thread(target=self._read, daemon=True).start()
        self.headers = b"".join(_literal(k, v) for k, v in (
            (":method", "POST"), (":scheme", "http"), (":path", PATH), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers")))

    def _exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            part = self.sock.recv(n - len(out))
            if not part:
                raise EOFError
            out += part
        return out

    def _read(self) -> None:
        try:
            while True:
                head = self._exact(9)
                kind, flags, stream = head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
                payload = self._exact(int.from_bytes(head[:3], "big"))
                if kind == 4 and not flags & 1:  # the server's settings: acknowledged
                    for i in range(0, len(payload), 6):
                        ident, value = struct.unpack(">HI", payload[i:i + 6])
                        if ident == 3:
                            self.max_streams = value
                    self.sock.sendall(_frame(4, 1, 0))
                    self.settled.set()
                elif kind == 6 and not flags & 1:
                    self.sock.sendall(_frame(6, 1, 0, payload))
                elif kind == 3:
                    with self.changed:
                        self.refused.add(stream)
                        self.changed.notify_all()
        except (EOFError, OSError):
            return

    def open(self, n: int) -> None:
        part = b"\x00" + struct.pack(">I", 1_000) + b"\x0a" * 900
        for i in range(n):
            self.sock.sendall(_frame(1, 4, 2 * i + 1, self.headers) + _frame(0, 0, 2 * i + 1, part))

    def close(self) -> None:
        try:  # the reader thread's recv holds the socket open past a close alone
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def test_one_otlp_grpc_connection_carries_a_bounded_number_of_calls(home) -> None:
    port = free_port()
    cluster = Cluster(home, sidecar={"otlp": {"grpc_listen": f"127.0.0.1:{port}", "http_listen": ""}})
    sender = None
    try:
        cluster.start()
        sender = PartSender(port)
        assert sender.settled.wait(30), "the server's settings"
        sender.open(STREAMS)
        with sender.changed:
            held = sender.changed.wait_for(lambda: len(sender.refused) >= STREAMS - MAX_STREAMS_PER_CONNECTION, 30)
        assert sender.max_streams == MAX_STREAMS_PER_CONNECTION, sender.max_streams
        assert held, f"{len(sender.refused)} of {STREAMS} streams refused"  # the code before: none
        # An exporter on another connection is served while the calls are held.
        import grpc

        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            logs_grpc.LogsServiceStub(channel).Export(logs_request(["beside the held calls"]), timeout=30)
        assert cluster.sidecar.alive()
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events "
                                                        "WHERE body = 'beside the held calls'")[0]["n"] == 1,
                 60, "the export stored")
    finally:
        if sender is not None:
            sender.close()
        cluster.stop()


def test_malformed_requests_write_a_line_a_minute_not_one_each(home) -> None:
    """Each malformed OTLP request was a WARNING line, and any local application may send them to the loopback
    ports: on the code before, 200 bodies that are no protobuf wrote 200 lines into the sidecar's log. Now a line a
    minute per signal (the rest counted in the next line and in ``otlp_refused_total{reason=invalid}``); every one
    is still answered 400 (ADR 0045, round 15)."""
    import urllib.error
    import urllib.request

    port = free_port()
    cluster = Cluster(home, sidecar={"otlp": {"http_listen": f"127.0.0.1:{port}", "grpc_listen": ""}})
    try:
        cluster.start()
        codes = []
        for i in range(200):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=b"\xff\xff\xff not protobuf %d" % i,
                                         method="POST", headers={"Content-Type": "application/x-protobuf"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    codes.append(resp.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
        assert codes == [400] * 200, sorted(set(codes))
        assert cluster.status("sidecar")["otlp_refused_total{reason=invalid,signal=logs}"] == 200
        lines = [line for line in cluster.sidecar.tail(2000).splitlines() if "refused a malformed request" in line]
        assert len(lines) == 1, len(lines)
    finally:
        cluster.stop()


_HOLD_AS_A_STRANGER = """
import sys, grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc
from tests.otlp.test_otlp_streams import PartSender
from tests.otlp.test_transports import logs_request
port, n = int(sys.argv[1]), int(sys.argv[2])
senders = [PartSender(port) for _ in range(n)]
for s in senders:
    assert s.settled.wait(30)
    s.open(32)
print("held", flush=True)
sys.stdin.readline()
with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
    try:
        logs_grpc.LogsServiceStub(channel).Export(logs_request(["a stranger's export past its budget"]), timeout=30)
        print("OK", flush=True)
    except grpc.RpcError as exc:
        details = dict(exc.trailing_metadata() or ())
        print(exc.code().name, "retry-info" if "grpc-status-details-bin" in details else "-", exc.details(),
              flush=True)
sys.stdin.readline()
"""


def test_one_account_holds_a_bounded_number_of_otlp_grpc_calls_across_its_connections(home) -> None:
    """Round 16: 32 calls a connection times 128 connections of one account, each call holding a message in part,
    took a sidecar from 103 MB to 173 MB (the ingest listener's budget counts unary calls only once their message
    came). Now ``sidecar.otlp.max_calls_per_client`` calls of one client are held from their start; past it a call
    is refused RESOURCE_EXHAUSTED with a RetryInfo, before its message is read, and another account is served."""
    import subprocess

    import grpc

    from tests.sidecar.stranger import AS_NOBODY, nobody_env

    port = free_port()
    cluster = Cluster(home, sidecar={"otlp": {"grpc_listen": f"127.0.0.1:{port}", "http_listen": "",
                                              "max_calls_per_client": 64}})
    stranger = None
    try:
        cluster.start()
        stranger = subprocess.Popen([*AS_NOBODY, _HOLD_AS_A_STRANGER, str(port), "3"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, env=nobody_env(tests=True))
        assert stranger.stdout.readline().strip() == "held"
        wait_for(lambda: cluster.status("sidecar").get("otlp_grpc_calls_refused_total", 0) > 0, 30,
                 "the stranger's calls past its budget refused")  # on the code before: no budget, none refused
        stranger.stdin.write("\n")
        stranger.stdin.flush()
        answer = stranger.stdout.readline()
        assert answer.startswith("RESOURCE_EXHAUSTED retry-info") and "max_calls_per_client" in answer, answer
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:  # the test's own account is served meanwhile
            logs_grpc.LogsServiceStub(channel).Export(logs_request(["beside a stranger's held calls"]), timeout=30)
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events "
                                                        "WHERE body = 'beside a stranger''s held calls'")[0]["n"] == 1,
                 60, "the export stored")
    finally:
        if stranger is not None:
            stranger.kill()
            stranger.communicate(timeout=30)  # and its pipes closed
        cluster.stop()


def test_callers_of_the_otlp_grpc_unix_socket_share_a_bounded_number_of_calls(home) -> None:
    """Round 17: the callers the listener cannot tell apart (the unix socket's, another host's without a client
    certificate) were counted by no budget (round 16): 32 calls a connection times ``max_connections`` (256), each
    holding a message in part. Now they are one client of ``max_calls_per_client``: past it a call is refused
    RESOURCE_EXHAUSTED with a RetryInfo before its message is read; served again once those held end."""
    import grpc

    path = str(home / "otlp.sock")
    cluster = Cluster(home, sidecar={"otlp": {"grpc_listen": f"unix:{path}", "http_listen": "",
                                              "max_calls_per_client": 64}})
    senders = []
    try:
        cluster.start()
        senders = [PartSender(path) for _ in range(3)]
        for sender in senders:
            assert sender.settled.wait(30)
            sender.open(32)
        wait_for(lambda: cluster.status("sidecar").get("otlp_grpc_calls_refused_total", 0) >= 32, 30,
                 "the calls past the budget refused")  # on the code before: no budget, none refused
        with grpc.insecure_channel(f"unix:{path}") as channel:
            try:
                logs_grpc.LogsServiceStub(channel).Export(logs_request(["past the budget"]), timeout=30)
                raise AssertionError("an export past the unix socket's budget was served")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                assert "max_calls_per_client" in exc.details()
        for sender in senders:
            sender.close()
        senders = []

        def served() -> bool:
            with grpc.insecure_channel(f"unix:{path}") as channel:
                try:
                    logs_grpc.LogsServiceStub(channel).Export(logs_request(["after the held calls"]), timeout=30)
                    return True
                except grpc.RpcError as exc:
                    assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                    return False
        wait_for(served, 30, "an export served once the held calls ended")
    finally:
        for sender in senders:
            sender.close()
        cluster.stop()
