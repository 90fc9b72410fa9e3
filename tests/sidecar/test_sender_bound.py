"""The attack matrix (ADR 0045, round 15): a stranger makes up sender ids. A real spine and sidecar, the sidecar's
``listen`` a plain loopback port (open to every local account for telemetry), the stranger ``nobody``.

A mark is kept per (sender, lane), in memory and in the WAL's metadata read at every start, so that a resend is
never stored twice. On the code before nothing bounded how many senders a client made marks for: 50,000 short
sender ids, a valid batch each, took a sidecar from 103 MB to 142 MB and its start from 2.3 s to 5.2 s (round 14),
linearly. Now each client (here: the uid the kernel names) holds marks for at most ``max_senders_per_client``
senders; a new one past it is refused for now (``retry_after_ms``, mark 0, an error naming the option), nothing of
it kept, while the client's senders already known and every other client go on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.core.lanes import open_wals
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc
from tests.store.test_rows import request

CAP = 32
MADE_UP = 300

_AS_A_STRANGER = """
import sys, grpc
from ben.v1 import telemetry_pb2 as pb, telemetry_pb2_grpc as pb_grpc
from tests.store.test_rows import request
address, n = sys.argv[1], int(sys.argv[2])

def batches():
    for i in range(n):
        r = request(1, [(pb.KIND_LOG, "made.up", 1.0, f"m{i}", None)], sender=f"mk{i:05d}", seq=1)
        r.batch.producer_id = "p-made-up"
        yield r
    again = request(1, [(pb.KIND_LOG, "made.up", 1.0, "again", None)], sender="mk00000", seq=2)
    again.batch.producer_id = "p-made-up"
    yield again  # a sender already known goes on

with grpc.insecure_channel(address) as channel:
    for a in pb_grpc.IngestStub(channel).Stream(batches(), timeout=120):
        print(a.durable_seq, a.retry_after_ms, a.error.replace(chr(10), " "))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_stranger_making_up_sender_ids_holds_marks_for_a_bounded_number(home) -> None:
    os.chmod(home, 0o755)
    addr = f"127.0.0.1:{_free_port()}"
    cluster = Cluster(home, sidecar={"listen": addr, "insecure": True, "max_senders_per_client": CAP})
    cluster.sidecar_addr = addr
    root = Path(__file__).resolve().parents[2]
    try:
        cluster.start()
        env = {"PYTHONPATH": f"{root / 'src'}:{root}", "PATH": os.environ["PATH"]}
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                              _AS_A_STRANGER, addr, str(MADE_UP)], capture_output=True, text=True, timeout=300,
                             env=env, cwd="/")
        acks = [line.split(" ", 2) for line in out.stdout.splitlines()]
        assert len(acks) == MADE_UP + 1, (out.stdout[-2000:], out.stderr[-2000:])
        stored = [a for a in acks[:MADE_UP] if a[0] == "1"]
        refused = [a for a in acks[:MADE_UP] if a[0] == "0"]
        assert len(stored) == CAP and len(refused) == MADE_UP - CAP, acks[:CAP + 2]
        assert all(a[1] != "0" and "sidecar.max_senders_per_client" in a[2] for a in refused), refused[:2]
        assert acks[-1][:2] == ["2", "0"], acks[-1]  # its known sender's next batch: stored
        # Another client (the test's own account) makes a new sender at once.
        mine = request(1, [(pb.KIND_LOG, "made.up", 1.0, "mine", None)], sender="my-own-sender", seq=1)
        mine.batch.producer_id = "p-my-own"
        with grpc.insecure_channel(addr) as channel:
            (ack,) = pb_grpc.IngestStub(channel).Stream(iter([mine]), timeout=30)
        assert (ack.durable_seq, ack.error) == (1, ""), ack
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events WHERE producer_id "
                                                        "IN ('p-made-up', 'p-my-own')")[0]["n"] >= CAP + 2,
                 60, "the stored batches at the spine")
        assert "refused new sender" in cluster.sidecar.tail(400)
        figures = cluster.status("sidecar")
        assert figures["refused_total{reason=senders}"] == MADE_UP - CAP, {k: v for k, v in figures.items()
                                                                           if "refused" in k}
        cluster.sidecar.stop()
        wals = open_wals(cluster.home / "sidecar")
        try:
            made_up = {name for wal in wals.values() for name, _ in wal.iter_meta("hwm:mk")}
        finally:
            for wal in wals.values():
                wal.close()
        assert len(made_up) == CAP, len(made_up)  # the marks kept for good: the bound, not the 300
    finally:
        cluster.stop()
