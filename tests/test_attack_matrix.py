"""The attack matrix (ADR 0045), against real processes: a spine with its web interface, a sidecar
with its OTLP receiver, the store process, all started with a permissive umask (000) under a
directory any user may traverse, so that only ben's own modes, peer checks and limits defend.

Three adversaries (blueprint, "Security model"): another local user (uid ``nobody``, through
``setpriv``), a network peer (raw sockets and clients on the TCP listeners), an operator with query
access (the spine's operator path). ``docs/security.md`` maps each cell to its test.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import os
import re
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from ben.cli.procs import Cluster, Proc, query_rows, wait_for
from ben.control import client as control_client
from ben.core.admin import run_query
from ben.core.errors import QueryError
from tests.conftest import rig_in_tmp
from tests.core.test_files import modes
from tests.helpers import NOBODY

LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
#: The rig's slow-client timeouts (``[web] header_timeout_s``, ``[sidecar.otlp] slow_client_timeout_s``,
#: ``[spine] metrics_connection_timeout_s``; each 10 s by default, checked in tests/core/test_config.py).
SLOW_S = 4.0


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (the spine's store process is a child)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_nobody(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run Python code (the system interpreter, no ben import) as uid/gid nobody, no groups."""
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=timeout)


class Rig:
    """Spine (+ web, + store process) and sidecar (+ OTLP/gRPC, OTLP/HTTP), umask 000, home 0755."""

    def __init__(self, home: Path):
        self.home = home
        os.chmod(home, 0o755)  # any user may reach the sockets: only their own modes defend them
        self.metrics = free_port()
        # Slow clients are cut after SLOW_S here, not the default 10 s: the slowloris cells wait for that
        self.cluster = Cluster(home, store={"query_timeout_s": 5, "query_max_memory_bytes": 256 << 20},
                               spine={"metrics_listen": f"127.0.0.1:{self.metrics}",
                                      "metrics_connection_timeout_s": SLOW_S},
                               sidecar={"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0",
                                                 "slow_client_timeout_s": SLOW_S}})
        self.cluster.config.write_text(self.cluster.config.read_text()
                                       + f"\n[web]\nlisten_port = 0\nheader_timeout_s = {SLOW_S}\n"
                                       f"body_timeout_s = {SLOW_S}\n")
        old = os.umask(0)
        try:
            self.cluster.spine = Proc(["spine", "--config", str(self.cluster.config), "--web"],
                                      home / "logs" / "spine.log")
            self.cluster.spine.wait_ready(self.cluster.spine_addr)
            self.cluster.start_sidecar()
        finally:
            os.umask(old)
        found = wait_for(lambda: re.search(r"web interface on (http://[^\s]+)", self.cluster.spine.tail(200)), 30,
                         "the web interface's address in the spine's log")
        self.web = found.group(1).rstrip("/")
        side = self.cluster.status("sidecar")
        self.otlp_grpc, self.otlp_http = int(side["otlp_grpc_port"]), int(side["otlp_http_port"])


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with rig_in_tmp("bx-", Rig) as r:
        yield r


# -- local user -----------------------------------------------------------------------------------
def test_local_files_private_under_umask_000(rig: Rig) -> None:
    """Data dirs, WALs, RocksDB, chDB parts, keys, audit log: no group/other bits though the umask was 000."""
    seen = {**modes(rig.home / "spine"), **modes(rig.home / "sidecar")}
    names = " ".join(str(p) for p in seen)
    for kind in ("wal-routine", "chdb", "control", ".key"):
        assert kind in names, f"no {kind} file made: the cell would not test it"
    loose = {str(p): oct(m) for p, m in seen.items() if m & 0o077}
    assert not loose, loose
    for sock in ("spine.sock", "spine.sock.auth", "sidecar.sock"):
        assert stat.S_IMODE(os.stat(rig.home / sock).st_mode) & 0o007 == 0, sock


READ_ALL = """
import os, sys, json
got = []
for root in sys.argv[1:]:
    for d, dirs, files in os.walk(root):
        for n in files:
            try:
                with open(os.path.join(d, n), 'rb') as f:
                    f.read(1)
                got.append(os.path.join(d, n))
            except OSError:
                pass
print(json.dumps(got))
"""


def test_another_user_reads_no_file(rig: Rig) -> None:
    code = READ_ALL.replace("sys.argv[1:]", repr([str(rig.home / "spine"), str(rig.home / "sidecar")]))
    run = as_nobody(code)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []
    # the probe can fail: a file left readable is found
    (rig.home / "spine" / "planted").write_text("x")
    os.chmod(rig.home / "spine", 0o755)
    os.chmod(rig.home / "spine" / "planted", 0o644)
    try:
        assert json.loads(as_nobody(code).stdout) == [str(rig.home / "spine" / "planted")]
    finally:
        os.chmod(rig.home / "spine", 0o700)
        os.unlink(rig.home / "spine" / "planted")


CONNECT = """
import socket, sys
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        print(path, 'connected')
    except OSError as e:
        print(path, type(e).__name__)
"""


def test_another_user_cannot_connect_to_the_sockets(rig: Rig) -> None:
    paths = [str(rig.home / s) for s in ("spine.sock", "spine.sock.auth", "sidecar.sock")]
    run = as_nobody(CONNECT.replace("sys.argv[1:]", repr(paths)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:3] == [f"{p} PermissionError" for p in paths]


WEB_AS = """
import urllib.request, urllib.error, json
try:
    with urllib.request.urlopen(URL, timeout=20) as r:
        print(r.status, r.read(2000).decode(errors='replace').replace('\\n', ' '))
except urllib.error.HTTPError as e:
    print(e.code)
"""


def test_an_operator_token_is_good_for_one_call_only(rig: Rig) -> None:
    """A token read off the wire (or left in a core dump) is spent: the second call is refused."""
    from ben.core.peers import operator_metadata
    from ben.core.transport import channel as open_channel
    from ben.v1 import admin_pb2, admin_pb2_grpc

    metadata = operator_metadata(rig.cluster.spine_addr)
    with open_channel(rig.cluster.spine_addr) as channel:
        query = admin_pb2_grpc.AdminStub(channel).Query
        assert json.loads(query(admin_pb2.QueryRequest(sql="SELECT 1 AS one"), metadata=metadata, timeout=30).json)
        with pytest.raises(grpc.RpcError) as err:
            query(admin_pb2.QueryRequest(sql="SELECT 1 AS one"), metadata=metadata, timeout=30)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_another_local_user_cannot_read_through_the_web_interface(rig: Rig) -> None:
    """The web interface reads as the spine's operator: a loopback TCP port must not hand that to any uid."""
    for path in ("/", "/sql?" + urllib.parse.urlencode({"q": "SELECT 42 AS answer"}), "/status"):
        run = as_nobody(WEB_AS.replace("URL", repr(rig.web + path)))
        assert run.returncode == 0, run.stderr
        assert run.stdout.split()[0] in ("401", "403"), (path, run.stdout[:300])
    with urllib.request.urlopen(rig.web + "/", timeout=20) as own:  # the spine's own uid is served
        assert own.status == 200


def test_a_page_from_elsewhere_rebound_to_loopback_is_refused(rig: Rig) -> None:
    """DNS rebinding: a site whose name now resolves to 127.0.0.1 runs in the operator's browser (the
    operator's own uid) and would read the interface as same-origin; its Host header names it."""
    port = rig.web.rpartition(":")[2]
    for host, expected in ((f"evil.example:{port}", 403), (f"localhost.evil.example:{port}", 403),
                           (f"localhost:{port}", 200), (f"127.0.0.1:{port}", 200)):
        request = urllib.request.Request(rig.web + "/status", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=20) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == expected, host


def test_a_form_posted_from_another_site_is_refused(rig: Rig) -> None:
    """A page elsewhere posting a form to the SQL page on loopback (the browser names its origin)."""
    data = urllib.parse.urlencode({"q": "SELECT 42 AS answer"}).encode()
    for origin, expected in (("http://evil.example", 403), (rig.web, 200), (None, 200)):
        headers = {"Origin": origin} if origin else {}
        request = urllib.request.Request(rig.web + "/sql", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == expected, origin


# -- network peer ---------------------------------------------------------------------------------
def _listening(pids: list[int]) -> list[str]:
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if any(f"pid={p}," in line for p in pids)]


def test_every_tcp_listener_binds_loopback(rig: Rig) -> None:
    pids = [rig.cluster.spine.pid, rig.cluster.sidecar.pid]
    pids += [k for p in list(pids) for k in _children(p)]
    listening = _listening(pids)
    assert len(listening) >= 3, listening  # web, OTLP gRPC, OTLP HTTP
    for local in listening:
        address = ipaddress.ip_address(local.rpartition(":")[0].strip("[]"))
        assert (getattr(address, "ipv4_mapped", None) or address).is_loopback, listening


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                 headers={"Content-Type": "application/x-protobuf", **headers})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_otlp_http_oversized_and_gzip_bomb_refused_with_bounded_memory(rig: Rig) -> None:
    pid = rig.cluster.sidecar.pid
    before = rss_bytes(pid)
    status, body = _post(rig.otlp_http, "/v1/logs", b"\x0a" * (20 << 20), {})
    assert status == 413 and b"max_request_bytes" in body
    bomb = gzip.compress(b"\x00" * (512 << 20), compresslevel=1)  # 512 MiB inflated from ~2 MB
    for _ in range(3):
        status, body = _post(rig.otlp_http, "/v1/logs", bomb, {"Content-Encoding": "gzip"})
        assert status == 413, (status, body[:200])
    grown = rss_bytes(pid) - before
    assert grown < 64 << 20, f"the sidecar grew by {grown >> 20} MB"
    assert rig.cluster.sidecar.alive()


def test_otlp_grpc_oversized_and_compressed_bomb_refused_with_bounded_memory(rig: Rig) -> None:
    pid = rig.cluster.sidecar.pid
    before = rss_bytes(pid)
    options = [("grpc.max_send_message_length", -1)]
    with grpc.insecure_channel(f"127.0.0.1:{rig.otlp_grpc}", options=options) as channel:
        export = channel.unary_unary(LOGS_EXPORT)
        for compression in (None, grpc.Compression.Gzip):
            for _ in range(2):
                with pytest.raises(grpc.RpcError) as err:
                    export(b"\x0a" * (64 << 20), timeout=60, compression=compression)
                assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value
    grown = rss_bytes(pid) - before
    assert grown < 64 << 20, f"the sidecar grew by {grown >> 20} MB"


def _slow_clients(port: int, count: int, first_line: bytes) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(first_line)  # a request line and no end of headers, ever
        socks.append(s)
    return socks


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except OSError:  # a listener at its connection bound closes the newest: the client tries again
        return 0


def _closed_by_server(s: socket.socket) -> bool:
    """True once the server closed the connection (what it sent before, such as a 408, is read)."""
    s.settimeout(0.01)
    try:
        while s.recv(65536):
            pass
        return True
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


@pytest.mark.parametrize("which", ["otlp_http", "web", "metrics"])
def test_slowloris_connections_are_cut_and_others_served(rig: Rig, which: str) -> None:
    port = {"otlp_http": rig.otlp_http, "web": int(rig.web.rpartition(":")[2]), "metrics": rig.metrics}[which]
    line = b"POST /v1/logs HTTP/1.1\r\nHost: x\r\n" if which == "otlp_http" else b"GET / HTTP/1.1\r\nHost: x\r\n"
    # metrics serves at most 32 connections at once: 40 slow clients fill it past its bound (200 would
    # only queue more rounds of its 10 s cut)
    socks = _slow_clients(port, 40 if which == "metrics" else 200, line)
    try:
        t0 = time.monotonic()
        if which == "otlp_http":
            status, _ = _post(port, "/v1/logs", b"", {})
        else:
            url = rig.web + "/status" if which == "web" else f"http://127.0.0.1:{port}/metrics"
            status = wait_for(lambda: _get_status(url), 20, f"{which} to answer beside the slow clients")
        assert status == 200 and time.monotonic() - t0 < 20
        if which != "metrics":  # served beside them, not after they were cut (metrics: after, at its bound)
            assert not all(_closed_by_server(s) for s in socks), f"{which} had cut every slow client already"
        # half-open clients that never finish their headers are cut, not held for ever
        wait_for(lambda: all(_closed_by_server(s) for s in socks), 60, f"{which} to cut slow clients")
    finally:
        for s in socks:
            s.close()


_HOLD_METRICS = """
import socket, sys, time
held = []
for i in range(40):
    s = socket.create_connection(('127.0.0.1', PORT), timeout=5)
    s.sendall(b'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n')  # and never the end of its headers
    s.setblocking(False)
    held.append(s)
def closed(s):
    try:
        return s.recv(1) == b''
    except BlockingIOError:
        return False
    except OSError:
        return True
deadline = time.monotonic() + 30
while sum(closed(s) for s in held) < 8 and time.monotonic() < deadline:  # the listener has seen all 40
    time.sleep(0.01)
print('holding', flush=True)
sys.stdin.read()
"""


def test_another_account_cannot_hold_every_metrics_connection(rig: Rig) -> None:
    """Round 8: the metrics listener serves 32 connections at once and closes more at once. Another account
    opened 40 slow ones (renewing them as they are cut): all 32 places were its own, and Prometheus (any other
    account) was refused. Now one kernel-named account holds at most 8 (``METRICS_PER_CLIENT``)."""
    proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3",
                             "-c", _HOLD_METRICS.replace("PORT", str(rig.metrics))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        # at once: the flood's connections are cut after SLOW_S; this is served beside them, not after
        assert _get_status(f"http://127.0.0.1:{rig.metrics}/metrics") == 200
    finally:
        proc.communicate("", timeout=30)


def test_several_accounts_together_cannot_hold_every_metrics_connection(rig: Rig) -> None:
    """Round 8: five accounts open 8 slow metrics connections each, within their share: together 40, past
    the listener's 32, and a scrape of another account was closed at once. Now a full listener cuts the newest
    connection of the account holding most for an account holding fewer."""
    script = _HOLD_METRICS.replace("PORT", str(rig.metrics)).replace("range(40)", "range(8)").replace(
        "sum(closed(s) for s in held) < 8", "False")
    procs = [subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/usr/bin/python3",
                               "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for uid in (NOBODY, 1, 2, 3, 4)]
    try:
        assert all(proc.stdout.readline().strip() == "holding" for proc in procs)
        # all 40 are established: this connection is accepted after them (the accept queue is in order)
        assert _get_status(f"http://127.0.0.1:{rig.metrics}/metrics") == 200
    finally:
        for proc in procs:
            proc.communicate("", timeout=30)


def test_half_open_grpc_connections_are_cut_and_others_served(rig: Rig) -> None:
    """Connections that never finish the HTTP/2 preface hold nothing for long (OTLP/gRPC on TCP)."""
    socks = _slow_clients(rig.otlp_grpc, 100, b"PRI * HTTP/2.0\r\n")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{rig.otlp_grpc}") as channel:
            channel.unary_unary(LOGS_EXPORT)(b"", timeout=20)
        assert not all(_closed_by_server(s) for s in socks), "OTLP/gRPC had cut every half-open client already"
        wait_for(lambda: all(_closed_by_server(s) for s in socks), 60, "OTLP/gRPC to cut half-open clients")
    finally:
        for s in socks:
            s.close()


# -- operator with query access -------------------------------------------------------------------
REFUSED = [
    ("SELECT * FROM file('/etc/passwd', 'LineAsString')", "file"),
    ("SELECT file('/etc/passwd')", "file"),
    ("SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString', 'x String')", "url"),
    ("SELECT * FROM remote('127.0.0.1:9000', system.one)", "remote"),
    ("SELECT * FROM s3('http://127.0.0.1:9/b/k', 'CSV', 'x String')", "s3"),
    ("SELECT * FROM executable('id', 'LineAsString', 'x String')", "executable"),
    ("SELECT dictGet('d', 'x', 1)", "dictGet"),
    ("SELECT 1 INTO OUTFILE '/tmp/bx-outfile'", "OUTFILE"),
    ("SELECT 1; SELECT 2", ""),
    ("SELECT 1 SETTINGS max_memory_usage = 0", ""),
    ("SELECT 1 SETTINGS readonly = 0", ""),
    ("SET readonly = 0", ""),
    ("INSERT INTO ben.events (producer_id) VALUES ('x')", ""),
    ("DROP TABLE ben.events", ""),
    ("CREATE TABLE ben.x (a UInt8) ENGINE = Memory", ""),
    ("SELECT count() FROM numbers(10000000000000)", "max_execution_time"),
    ("SELECT length(groupArray(number)) FROM numbers(400000000)", "max_memory_usage"),
    ("SELECT * FROM system.zookeeper WHERE path = '/'", ""),
    ("SELECT * FROM system.users", "system.users"),  # (the engine's ACCESS_DENIED too, behind the sandbox)
    ("SELECT * FROM system.grants", "system.grants"),
]


@pytest.mark.parametrize("sql, word", REFUSED, ids=[s[:40] for s, _ in REFUSED])
def test_operator_query_sandbox_refuses(rig: Rig, sql: str, word: str) -> None:
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    if word:
        assert word.lower() in str(err.value).lower(), err.value
    assert not Path("/tmp/bx-outfile").exists()
    assert query_rows(rig.cluster.spine_addr, "SELECT count() AS n FROM system.tables WHERE name = 'x'")[0]["n"] == 0


def test_refused_queries_are_audited_with_the_operator(rig: Rig) -> None:
    marker = f"audit-probe-{time.time_ns()}"
    with pytest.raises(QueryError):
        run_query(rig.cluster.spine_addr, f"SELECT * FROM file('/etc/passwd') /* {marker} */")
    entries = [e for e in control_client.audit_entries(rig.cluster.spine_addr) if marker in e["body"]]
    assert len(entries) == 1, entries
    body = json.loads(entries[0]["body"])
    assert entries[0]["kind"] == "refusal" and body["code"] == "query_refused", entries
    assert body["operator"] and "file" in body["reason"] and marker in body["sql"]


def test_metrics_off_loopback_need_tls_or_insecure(tmp_path) -> None:
    from ben.core.config import TlsConfig
    from ben.core.errors import ConfigError
    from ben.core.figures import serve_metrics

    with pytest.raises(ConfigError) as err:
        serve_metrics(f"0.0.0.0:{free_port()}", "spine", lambda: [])
    assert err.value.field == "spine.metrics_listen" and "insecure = true" in str(err.value)
    from ben.core.certs import init_ca, issue

    init_ca(tmp_path)
    issue(tmp_path, "spine", server=True)
    issue(tmp_path, "prometheus")
    port = free_port()
    tls = TlsConfig(cert=tmp_path / "spine.crt", key=tmp_path / "spine.key", ca=tmp_path / "ca.crt")
    server = serve_metrics(f"0.0.0.0:{port}", "spine", lambda: [], tls=tls)
    try:
        import ssl

        plain = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        plain.check_hostname = False
        with pytest.raises((ssl.SSLError, OSError)):  # no client certificate: the handshake fails
            urllib.request.urlopen(f"https://127.0.0.1:{port}/metrics", context=plain, timeout=10).read()
        plain.load_cert_chain(tmp_path / "prometheus.crt", tmp_path / "prometheus.key")
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/metrics", context=plain, timeout=10) as r:
            assert r.status == 200
    finally:
        server.shutdown()


def test_secret_files_others_may_read_are_refused(tmp_path) -> None:
    from ben.core.config import StoreConfig, WebConfig
    from ben.core.errors import ConfigError
    from ben.web import resolve_token

    secret = tmp_path / "secret"
    secret.write_text("a-token-long-enough-0123456789\n")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError) as err:
        resolve_token(WebConfig(listen_host="10.0.0.1", token_file=secret))
    assert err.value.field == "web.token_file" and "chmod 600" in str(err.value)
    with pytest.raises(ConfigError) as err:
        StoreConfig(backend="clickhouse", password_file=secret).password()
    assert err.value.field == "spine.store.password_file"
    os.chmod(secret, 0o600)
    assert resolve_token(WebConfig(listen_host="10.0.0.1", token_file=secret)).startswith("a-token")


def test_otlp_with_client_ca_refuses_peers_without_a_certificate(home) -> None:
    import ssl

    from ben.core.certs import init_ca, issue

    certs = home / "certs"
    init_ca(certs)
    issue(certs, "otlp", server=True)
    issue(certs, "app")
    otlp = {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0", "tls_cert_file": str(certs / "otlp.crt"),
            "tls_key_file": str(certs / "otlp.key"), "tls_client_ca_file": str(certs / "ca.crt")}
    cluster = Cluster(home, sidecar={"otlp": otlp})
    try:
        cluster.start_sidecar()
        side = cluster.status("sidecar")
        grpc_port, http_port = int(side["otlp_grpc_port"]), int(side["otlp_http_port"])
        url = f"https://127.0.0.1:{http_port}/v1/logs"
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        request = urllib.request.Request(url, data=b"", method="POST",
                                         headers={"Content-Type": "application/x-protobuf"})
        with pytest.raises((ssl.SSLError, OSError)):  # no client certificate
            urllib.request.urlopen(request, context=context, timeout=10).read()
        with pytest.raises(OSError):  # plain text to the TLS port
            urllib.request.urlopen(request.full_url.replace("https", "http"), data=b"", timeout=10).read()
        context.load_cert_chain(certs / "app.crt", certs / "app.key")
        with urllib.request.urlopen(request, context=context, timeout=10) as r:
            assert r.status == 200
        ca = (certs / "ca.crt").read_bytes()
        for creds, ok in ((grpc.ssl_channel_credentials(ca), False),
                          (grpc.ssl_channel_credentials(ca, (certs / "app.key").read_bytes(),
                                                        (certs / "app.crt").read_bytes()), True)):
            with grpc.secure_channel(f"127.0.0.1:{grpc_port}", creds) as channel:
                export = channel.unary_unary(LOGS_EXPORT)
                if ok:
                    export(b"", timeout=10)
                else:
                    with pytest.raises(grpc.RpcError) as err:
                        export(b"", timeout=10)
                    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        cluster.sidecar.stop()
        os.chmod(certs / "otlp.key", 0o644)  # a TLS key others may read refuses the start, naming the field
        proc = Proc(["sidecar", "--config", str(cluster.config)], home / "logs" / "loose.log")
        assert proc.popen.wait(60) == 2 and "sidecar.otlp.tls_key_file" in proc.tail()
    finally:
        cluster.stop()
