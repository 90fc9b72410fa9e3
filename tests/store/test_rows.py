from __future__ import annotations

from ben.sdk.batch import BatchBuilder
from ben.store.rows import to_table
from ben.store.schema import EVENT_COLUMNS
from ben.v1 import telemetry_pb2 as pb


def request(first: int, events: list[tuple], sender: str = "sc-1", seq: int = 1) -> pb.IngestRequest:
    b = BatchBuilder(first)
    for kind, name, value, body, attrs in events:
        b.add(kind, name, value, body, attrs, 1_700_000_000_000_000_000 + first)
    source = pb.Source(host="h", subsystem="checkout", instance="7")
    return pb.IngestRequest(sender_id=sender, first_seq=seq, last_seq=seq, batch=b.build(source, "prod"))


def test_two_records_become_one_table() -> None:
    r1 = request(1, [(pb.KIND_METRIC, "latency_ms", 12.5, "", {"route": "/pay", "zone": "a"}),
                     (pb.KIND_LOG, "warn", 1.0, "slow", None)], seq=4)
    r2 = request(3, [(pb.KIND_ALERT, "down", 1.0, "provider 503", {"severity": "critical"})], seq=5)
    table = to_table([(10, r1), (11, r2)])
    assert table.column_names == list(EVENT_COLUMNS)
    rows = table.to_pylist()
    assert [r["name"] for r in rows] == ["latency_ms", "warn", "down"]
    assert [r["kind"] for r in rows] == [1, 4, 5]
    assert rows[0]["attributes.key"] == ["route", "zone"] and rows[0]["attributes.value"] == ["/pay", "a"]
    assert rows[1]["attributes.key"] == [] and rows[1]["body"] == "slow"
    assert rows[2]["attributes.value"] == ["critical"] and rows[2]["body"] == "provider 503"
    assert [r["producer_seq"] for r in rows] == [1, 2, 3]
    assert [r["spine_seq"] for r in rows] == [10, 10, 11]
    assert [r["sidecar_seq"] for r in rows] == [4, 4, 5]
    assert {r["subsystem"] for r in rows} == {"checkout"} and {r["sidecar_id"] for r in rows} == {"sc-1"}
