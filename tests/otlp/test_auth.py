"""[sidecar.otlp] auth_token_file: the OpenTelemetry SDKs send the bearer token from
OTEL_EXPORTER_OTLP_HEADERS (no code change); a request without it is refused on both transports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import grpc
import pytest

from ben.cli.procs import query_rows, wait_for
from ben.core.errors import ConfigError
from ben.otlp import auth
from tests.otlp.node_sdk import NODE_DIR, ensure_installed
from tests.otlp.test_otel_sdk import APP, otel_env
from tests.otlp.test_transports import ANY_PORT, logs_request, ports, post

TOKEN = "s3cret-" + "a1b2c3d4" * 3


def test_token_file_must_be_private_and_long(tmp_path):
    path = tmp_path / "otlp.token"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="at least 16") as err:
        auth.load_token(path)
    assert err.value.field == auth.FIELD
    path.write_text(TOKEN + "\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        auth.load_token(path)
    path.chmod(0o600)
    token = auth.load_token(path)
    assert auth.authorized(token, f"Bearer {TOKEN}") and auth.authorized(token, f"bearer {TOKEN}")
    assert not auth.authorized(token, None) and not auth.authorized(token, TOKEN)
    assert not auth.authorized(token, f"Bearer {TOKEN}x") and auth.authorized(None, None)


def test_a_token_file_saved_with_a_byte_order_mark_holds_the_token_alone(tmp_path):
    """Notepad's "UTF-8" puts a byte order mark first: it was read as part of the token (``strip`` keeps
    U+FEFF), so the token the SDKs sent never matched and every request was a 401 (ADR 0033, round 8). The
    web's ``token_file`` and the other secret files are read the same way (``ben.core.files.read_input_text``)."""
    from ben.core.config import WebConfig
    from ben.web.auth import resolve_token

    path = tmp_path / "otlp.token"
    path.write_bytes(b"\xef\xbb\xbf" + TOKEN.encode() + b"\r\n")
    path.chmod(0o600)
    token = auth.load_token(path)
    assert token == TOKEN.encode() and auth.authorized(token, f"Bearer {TOKEN}")
    assert resolve_token(WebConfig(token_file=path)) == TOKEN


def test_sdks_send_the_token_from_the_environment_and_others_are_refused(make_cluster, home):
    token_file = home / "otlp.token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    c = make_cluster(sidecar={"otlp": {**ANY_PORT["otlp"], "auth_token_file": str(token_file)}}).start()
    grpc_port, http = ports(c)
    node = ensure_installed()
    run = uuid.uuid4().hex[:8]
    headers = {"OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{TOKEN}"}
    python_app = subprocess.Popen([sys.executable, str(APP), "grpc", run],
                                  env=otel_env(f"http://127.0.0.1:{grpc_port}", **headers),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    node_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    node_env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{http}", "OTEL_SERVICE_NAME": f"node-{run}",
                     **headers})
    node_app = subprocess.Popen([node, "app.js", run], cwd=NODE_DIR, env=node_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    status, headers_out, data = post(http, "/v1/logs", logs_request(["no token"]).SerializeToString())
    assert status == 401 and headers_out["WWW-Authenticate"] == "Bearer"
    status, _, data = post(http, "/v1/traces", b"{}", "application/json")
    assert status == 401 and "authorization: Bearer" in json.loads(data)["message"]
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
        for metadata in ((), (("authorization", "Bearer wrong-token-wrong-token"),)):
            with pytest.raises(grpc.RpcError) as err:
                export(logs_request(["no token"]).SerializeToString(), metadata=metadata, timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED

    for name, app in (("python", python_app), ("node", node_app)):
        out, _ = app.communicate(timeout=120)
        assert app.returncode == 0, f"{name}: {out}"
    figures = c.status("sidecar")
    assert figures["otlp_refused_total{reason=unauthenticated,signal=logs}"] == 3
    assert figures["otlp_refused_total{reason=unauthenticated,signal=traces}"] == 1
    c.wait_drained()
    got = query_rows(c.spine_addr, f"SELECT subsystem, count() AS n FROM ben.events WHERE kind = 'log' AND "
                                   f"(position(body, '{run}') > 0 OR subsystem = 'node-{run}') GROUP BY subsystem "
                                   "ORDER BY subsystem")
    assert [(r["subsystem"], r["n"]) for r in got] == [("checkout", 6), (f"node-{run}", 8)]
    assert query_rows(c.spine_addr, "SELECT count() AS n FROM ben.events WHERE body = 'no token'")[0]["n"] == 0


def _http_status(port: int, body: bytes, token: str) -> int:
    """The status of one OTLP/HTTP logs export with ``token`` as its bearer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=body, method="POST",
                                     headers={"Content-Type": "application/x-protobuf",
                                              "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_replaced_token_file_refuses_the_old_token_at_once(home) -> None:
    """ADR 0045 round 12: ``auth_token_file`` was read once, at start: a token that leaked, replaced in the file,
    went on being accepted until the sidecar restarted. Now the file is read again when it changes, on both
    transports; a changed file that cannot be used keeps the token in force. A real sidecar."""
    from ben.cli.procs import Cluster

    old, new = TOKEN, "r0tated-" + "e5f6a7b8" * 3
    path = home / "otlp.token"
    path.write_text(old + "\n")
    path.chmod(0o600)
    cluster = Cluster(home, sidecar={"otlp": {**ANY_PORT["otlp"], "auth_token_file": str(path)}})
    try:
        cluster.start_sidecar()
        grpc_port, http_port = ports(cluster)
        body = logs_request(["rotated"]).SerializeToString()

        def http(token: str) -> int:
            return _http_status(http_port, body, token)

        def grpc_code(token: str) -> str:
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                try:
                    channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")(
                        body, metadata=(("authorization", f"Bearer {token}"),), timeout=30)
                    return "OK"
                except grpc.RpcError as exc:
                    return exc.code().name

        assert http(old) == 200 and grpc_code(old) == "OK"
        tmp = home / "otlp.token.new"
        tmp.write_text(new + "\n")
        tmp.chmod(0o600)
        os.replace(tmp, path)  # as an editor or a script writes it
        assert http(old) == 401 and grpc_code(old) == "UNAUTHENTICATED"  # on the code before: 200, OK
        assert http(new) == 200 and grpc_code(new) == "OK"
        path.chmod(0o644)  # others may read it now: not taken, the token in force is kept
        assert http(new) == 200
    finally:
        cluster.stop()


def test_a_token_file_another_account_may_replace_is_refused_and_its_file_never_taken(home) -> None:
    """ADR 0045 round 14: the token file is read again when it changes (round 12), and only its mode was checked.
    In a directory another account may write, that account swapped in its own file (0600, its token): on the code
    before, a real sidecar then took the other account's token and refused its own applications'. Now a token file
    in such a directory refuses the start, naming the field and the directory, and a changed file another account
    owns is not taken (the token in force is kept, logged)."""
    from ben.cli.procs import Cluster, Proc

    nobody = 65534
    shared = home / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # any account may write here, no sticky bit
    loose = shared / "otlp.token"
    loose.write_text(TOKEN + "\n")
    loose.chmod(0o600)
    refused = Cluster(home, sidecar={"otlp": {**ANY_PORT["otlp"], "auth_token_file": str(loose)}})
    proc = Proc(["sidecar", "--config", str(refused.config)], home / "logs" / "refused-sidecar.log")
    try:
        assert proc.popen.wait(60) == 2, proc.tail()
    finally:
        if proc.alive():
            proc.stop()
    assert auth.FIELD in proc.tail() and str(shared) in proc.tail(), proc.tail()

    sticky = home / "sticky"  # like /tmp: any account may add files, none may replace another's
    sticky.mkdir()
    sticky.chmod(0o1777)
    path = sticky / "otlp.token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    cluster = Cluster(home, sidecar={"otlp": {**ANY_PORT["otlp"], "auth_token_file": str(path)}})
    try:
        cluster.start_sidecar()
        _, http_port = ports(cluster)
        body = logs_request(["swapped"]).SerializeToString()

        def http(token: str) -> int:
            return _http_status(http_port, body, token)

        assert http(TOKEN) == 200
        # The operator removes the file to write a new one; another account is there first with its own.
        path.unlink()
        theirs = "th3irs-" + "f0e1d2c3" * 3
        path.write_text(theirs + "\n")
        path.chmod(0o600)
        os.chown(path, nobody, nobody)
        assert http(theirs) == 401 and http(TOKEN) == 200  # on the code before: 200 and 401
        wait_for(lambda: "cannot be used" in cluster.sidecar.tail(200), 30, "the refusal in the sidecar's log")
    finally:
        cluster.stop()
