from __future__ import annotations

from ben.sdk.batch import BatchBuilder
from ben.store.rows import to_json_rows, to_table
from ben.store.schema import EVENT_COLUMNS
from ben.v1 import telemetry_pb2 as pb


def request(first: int, events: list[tuple], sender: str = "sc-1", seq: int = 1, lane: int = pb.LANE_ROUTINE,
            seqs: list[int] | None = None) -> pb.IngestRequest:
    b = BatchBuilder(first)
    for i, (kind, name, value, body, attrs) in enumerate(events):
        b.add(kind, name, value, body, attrs, 1_700_000_000_000_000_000 + first, seqs[i] if seqs else None)
    source = pb.Source(host="h", subsystem="checkout", instance="7")
    return pb.IngestRequest(sender_id=sender, first_seq=seq, last_seq=seq, lane=lane, batch=b.build(source, "prod"))


def test_two_records_become_one_table() -> None:
    r1 = request(1, [(pb.KIND_METRIC, "latency_ms", 12.5, "", {"route": "/pay", "zone": "a"}),
                     (pb.KIND_LOG, "warn", 1.0, "slow", None)], seq=4)
    r2 = request(3, [(pb.KIND_ALERT, "down", 1.0, "provider 503", {"severity": "critical"})], seq=5,
                 lane=pb.LANE_ALERT)
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
    assert [r["lane"] for r in rows] == [0, 0, 2]
    assert {r["subsystem"] for r in rows} == {"checkout"} and {r["sidecar_id"] for r in rows} == {"sc-1"}


def test_explicit_event_numbers() -> None:
    r = request(3, [(pb.KIND_METRIC, "m", 1.0, "", None)] * 3, seqs=[3, 5, 9])
    assert list(r.batch.event_seqs) == [3, 5, 9]
    assert to_table([(1, r)]).column("producer_seq").to_pylist() == [3, 5, 9]
    contiguous = request(3, [(pb.KIND_METRIC, "m", 1.0, "", None)] * 3)
    assert list(contiguous.batch.event_seqs) == []  # implied: 3, 4, 5
    assert to_table([(1, contiguous)]).column("producer_seq").to_pylist() == [3, 4, 5]


def test_warm_up_does_pyarrows_lazy_imports_at_start() -> None:
    """The first alert after a start waited 0.3-0.7 s for pyarrow's first import of pandas and
    pyarrow.compute in the store writer: the writer's start does them (in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys\nfrom ben.store import rows\nassert 'pandas' not in sys.modules\nrows.warm_up()\n"
            "print(sorted(m for m in ('pandas', 'pyarrow.compute') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "['pandas', 'pyarrow.compute']", out.stdout + out.stderr


def test_json_rows_are_the_tables_rows(monkeypatch) -> None:
    """The alert lane's JSON rows carry exactly what to_table's rows hold: every column, in the
    same values (NaN and infinities, quotes, newlines, NUL, non-BMP text, attributes, explicit and
    implied event numbers, several records)."""
    import json
    import time

    weird = "q'uo\"te \\ back\nline \x00 nul \u00e9 \U0001F600 end"
    r1 = request(5, [(pb.KIND_ALERT, "down", float("nan"), weird, {weird: weird, "k": ""}),
                     (pb.KIND_METRIC, weird, float("inf"), "", None)], seq=4, lane=pb.LANE_ALERT)
    r2 = request(9, [(pb.KIND_LOG, "w", -float("inf"), "x", {"a": "b"})] * 3, seq=5, lane=pb.LANE_ALERT,
                 seqs=[9, 12, 2**63 + 7])
    records = [(2**63 + 1, r1), (7, r2)]
    monkeypatch.setattr(time, "time_ns", lambda: 1_795_000_000_000_000_000)  # the same stored_ts in both
    lines, ts = to_json_rows(records)
    table = to_table(records)
    assert lines == "\n".join(map(json.dumps, table.to_pylist()))
    assert ts == table.column("ts").to_pylist()
    assert len(lines.split("\n")) == 5 and set(json.loads(lines.split("\n")[0])) == set(EVENT_COLUMNS)
