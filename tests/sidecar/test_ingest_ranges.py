"""A range that is none is refused, not acknowledged as a duplicate (ADR 0045, round 14): a real sidecar and
spine, a stranger's client on the sidecar's socket.

``first_seq = last_seq = 0`` with its events was acknowledged at mark 0 with no error (the duplicate check came
before the range's): the client took the events as stored, and none was. ``5..3`` at mark 1 moved the mark to 3,
and the client's next batch, 2, was acknowledged as a duplicate and never stored. Both are now refused with a
one-line error naming the fields, acknowledged at the mark, which they do not move (a resend of what is durable is
still a duplicate, stored once).
"""

from __future__ import annotations

import grpc

from ben.cli.procs import query_rows, wait_for
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc
from tests.store.test_rows import request

PRODUCER_BODY = "range-probe"


def _req(first: int, last: int, body: str) -> pb.IngestRequest:
    r = request(1, [(pb.KIND_LOG, "range.probe", 1.0, body, None)], sender="range-prober", seq=first)
    r.batch.producer_id = "p-range-prober"
    r.last_seq = last
    return r


def test_a_range_of_zero_is_refused_and_nothing_acknowledged_is_lost(module_cluster) -> None:
    cluster = module_cluster
    sent = [_req(0, 0, "ghost-0"), _req(1, 1, "real-1"), _req(0, 0, "ghost-again"), _req(1, 1, "real-1-resent"),
            _req(5, 3, "ghost-backwards"), _req(2, 2, "real-2")]
    with grpc.insecure_channel(cluster.sidecar_addr) as channel:
        acks = list(pb_grpc.IngestStub(channel).Stream(iter(sent), timeout=30))
    got = [(a.durable_seq, a.error.split(" (")[0]) for a in acks]
    assert got == [(0, "bad sequence range 0..0"), (1, ""), (1, "bad sequence range 0..0"), (1, ""),
                   (1, "bad sequence range 5..3"), (2, "")], got
    assert "'first_seq'" in acks[0].error and "\n" not in acks[0].error, acks[0].error
    cluster.wait_drained()

    def bodies() -> list[str]:
        return sorted(r["body"] for r in query_rows(cluster.spine_addr, "SELECT body FROM ben.events "
                                                                         "WHERE producer_id = 'p-range-prober'"))

    wait_for(lambda: len(bodies()) >= 2, 60, "the two real batches at the spine")
    assert bodies() == ["real-1", "real-2"]  # each once; no ghost, the resend not stored twice
