"""The attack matrix (ADR 0045, round 18): the accounts of a sidecar's unix socket were one client. Real spine and
sidecar processes, the sidecar's ``listen`` its default unix socket (mode 0666 here, so every account of the host
connects, as the members of ``sidecar.socket_group`` do); the other account is ``nobody``.

On the code before, gRPC served the unix socket itself and named no peer: every account connecting there was one
client (``"unix socket"``) of the sidecar's connection, call and sender bounds, so one account holding them kept
every other account's SDKs out. Now ben accepts on the unix socket too (``ben.otlp.gate.Gate.start_unix``) and the
kernel names each connecting process's uid (``SO_PEERCRED``): the bounds are per account, as on plain loopback TCP.
"""

from __future__ import annotations

import subprocess

from ben.cli.procs import count_stored, wait_for
from tests.sidecar.stranger import AS_NOBODY, nobody_env, unix_cluster

BUDGET = 64


#: Holds ``n`` raw OTLP/gRPC connections of 32 calls each, every call 900 bytes of a 1,000-byte message.
HOLD_OTLP = r"""
import sys
from tests.otlp.test_otlp_streams import PartSender
path, n = sys.argv[1], int(sys.argv[2])
senders = [PartSender(path) for _ in range(n)]
for s in senders:
    assert s.settled.wait(30)
    s.open(32)
print("held", flush=True)
sys.stdin.readline()
"""


def test_one_account_holds_a_bounded_number_of_calls_of_an_otlp_grpc_unix_socket(home) -> None:
    """Round 17 made the OTLP/gRPC unix socket's callers one client of ``max_calls_per_client`` (they had none):
    ``nobody`` holding the 64 made the test's account's export be refused. Now each account has its own."""
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc

    from tests.otlp.test_transports import logs_request

    path = str(home / "otlp.sock")
    cluster = unix_cluster(home, otlp={"grpc_listen": f"unix:{path}", "http_listen": "", "max_calls_per_client": BUDGET})
    stranger = None
    try:
        cluster.start()
        stranger = subprocess.Popen([*AS_NOBODY, HOLD_OTLP, path, "3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, env=nobody_env(tests=True), cwd="/")
        assert stranger.stdout.readline().strip() == "held"
        wait_for(lambda: cluster.status("sidecar").get("otlp_grpc_calls_refused_total", 0) >= 3 * 32 - BUDGET, 30,
                 "nobody's calls past its budget refused")
        with grpc.insecure_channel(f"unix:{path}") as channel:  # the test's own account is served meanwhile
            logs_grpc.LogsServiceStub(channel).Export(logs_request(["beside nobody's held calls"]), timeout=30)
        wait_for(lambda: count_stored(cluster.spine_addr) >= 1, 60, "the export stored")
    finally:
        if stranger is not None:
            stranger.communicate("\n", timeout=60)
        cluster.stop()
