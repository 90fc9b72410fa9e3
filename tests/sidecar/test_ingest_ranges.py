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


def test_a_sender_id_too_long_for_a_mark_is_refused_and_makes_none(cluster) -> None:
    """A mark is kept per (sender, lane) for good, in memory and in the WAL's metadata read at every start: 2,000
    sender ids of 100,000 characters, each with a valid batch, took a sidecar from 103 MB to 533 MB, and it
    started again at 493 MB (round 14). Now refused naming the field; no mark is written."""
    from ben.core.lanes import open_wals

    long_ones = [request(1, [(pb.KIND_LOG, "x", 1.0, "b", None)], sender=f"{i:04d}" + "s" * 100_000, seq=1)
                 for i in range(20)]
    ok = request(1, [(pb.KIND_LOG, "x", 1.0, "b", None)], sender="s" * 128, seq=1)
    with grpc.insecure_channel(cluster.sidecar_addr) as channel:
        acks = list(pb_grpc.IngestStub(channel).Stream(iter([*long_ones, ok]), timeout=30))
    assert [a.durable_seq for a in acks] == [0] * 20 + [1], acks
    assert all("'sender_id' has 100004 characters" in a.error for a in acks[:20]) and not acks[-1].error
    cluster.sidecar.stop()
    wals = open_wals(cluster.home / "sidecar")
    try:
        senders = [name for wal in wals.values() for name, _ in wal.iter_meta("hwm:")]
    finally:
        for wal in wals.values():
            wal.close()
    assert senders and max(len(s) for s in senders) <= len("hwm:") + 128, [len(s) for s in senders]
    cluster.start_sidecar()


def test_refused_batches_write_a_line_a_minute_not_one_each(cluster) -> None:
    """Each refused batch was a WARNING line naming its sender: a client looping invalid batches (any local account
    on a plain loopback ``listen``) wrote a line per batch into the sidecar's log (on the code before: 100 batches,
    100 lines). Now a line a minute per client and reason, the rest counted (ADR 0045, round 15); every batch is
    still refused with its error."""
    bad = [_req(0, 0, f"ghost-{i}") for i in range(100)]
    with grpc.insecure_channel(cluster.sidecar_addr) as channel:
        acks = list(pb_grpc.IngestStub(channel).Stream(iter(bad), timeout=30))
    assert len(acks) == 100 and all(a.error.startswith("bad sequence range 0..0") for a in acks)
    lines = [line for line in cluster.sidecar.tail(2000).splitlines() if "refused batch 0..0" in line]
    assert len(lines) == 1, len(lines)
