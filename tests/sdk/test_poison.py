"""No poison (ADR 0033): no single event breaks a stream at any hop, through real sidecar and spine processes."""

from __future__ import annotations

import math

import grpc

from ben.cli.procs import query_rows, wait_for
from ben.core.wal import Wal
from ben.core import transport
from ben.sdk import Client
from ben.v1 import telemetry_pb2 as pb

GOOD = 10_000
TS = 1_790_000_000 * 10**9


def _probes(client: Client) -> tuple[list, list]:
    """Every bad input a user met; returns (accepted seqs, refused results)."""
    accepted = [
        client.gauge("lone\ud800name", 1.0),                 # lone surrogate in a name
        client.log("body with a lone \udfff surrogate"),      # ... in a body
        client.gauge("probe", 2.0, {"key\ud800": "v"}),      # ... in an attribute key
        client.gauge("probe", 3.0, {"k": "value\udc80"}),    # ... in an attribute value
        client.alert("probe_alert", "alert with \ud800"),
        client.gauge("probe_nan", math.nan),                 # NaN and +/-inf are readings: kept
        client.gauge("probe_pinf", math.inf),
        client.gauge("probe_ninf", -math.inf),
    ]
    refused = [
        client.gauge("probe", 1.0, ts=1.79e18),              # float ts
        client.gauge("probe", 1.0, ts=2**70),                # absurd ts
        client.gauge("probe", 1.0, ts=-5),                   # negative ts
        client.gauge("probe", 1.0, {"k": b"bytes"}),         # unsupported attribute values
        client.gauge("probe", 1.0, {"k": {"a": 1}}),
        client.gauge("probe", 1.0, {"k": None}),
        client.counter("probe_c", math.nan),                 # a counter's NaN / inf increment
        client.counter("probe_c", math.inf),
        client.gauge("probe", "12"),                         # a str value
    ]
    return accepted, refused


def test_every_probe_then_good_events_and_an_alert_are_delivered(module_cluster) -> None:
    cluster = module_cluster
    client = Client("poison", sidecar=cluster.sidecar_addr, max_batch_events=500, flush_interval_ms=20)
    try:
        accepted, refused = _probes(client)
        assert all(seq is not None for seq in accepted), accepted
        assert refused == [None] * len(refused)
        assert client.stats.invalid == len(refused)
        assert client.stats.invalid_by_field == {"ts": 3, "attrs": 3, "increment": 2, "value": 1}
        assert client.stats.replaced_strings == 5
        for i in range(GOOD):
            assert client.gauge("good", float(i), {"i": str(i % 10)}) is not None
        assert client.alert("after_probes", "the lane goes on") is not None
        assert client.flush(timeout=60), client.last_error
        assert client.stats.acked == len(accepted) + GOOD + 1 and client.stats.quarantined == 0
    finally:
        client.shutdown(timeout=5)
    cluster.wait_drained()
    rows = query_rows(cluster.spine_addr, f"SELECT name, count() AS n FROM ben.events "
                                          f"WHERE producer_id = '{client.producer_id}' GROUP BY name ORDER BY name")
    counts = {r["name"]: r["n"] for r in rows}
    assert counts["good"] == GOOD and counts["after_probes"] == 1 and counts["probe_alert"] == 1
    assert counts["lone\ufffdname"] == 1 and counts["probe"] == 2
    keys = query_rows(cluster.spine_addr, f"SELECT attributes.key AS k, attributes.value AS v, body FROM ben.events "
                                          f"WHERE producer_id = '{client.producer_id}' AND name IN ('probe', 'info')"
                                          " ORDER BY producer_seq")
    assert [r["body"] for r in keys if r["body"]] == ["body with a lone \ufffd surrogate"]
    assert ["key\ufffd"] in [r["k"] for r in keys] and ["value\ufffd"] in [r["v"] for r in keys]


def _raw_stream(address: str):
    channel = grpc.insecure_channel(address, options=transport.CHANNEL_OPTIONS)
    return channel, channel.stream_stream("/ben.v1.Ingest/Stream", request_serializer=lambda b: b,
                                          response_deserializer=pb.IngestAck.FromString)


def _request(sender: str, first: int, last: int, text: str, ts: int = TS) -> pb.IngestRequest:
    batch = pb.Batch(producer_id=sender, first_event_seq=first, strings=["", text],
                     ts_unix_nano=[ts + i for i in range(last - first + 1)], values=[1.0] * (last - first + 1),
                     kinds=[pb.KIND_METRIC] * (last - first + 1), names=[1] * (last - first + 1),
                     bodies=[0] * (last - first + 1), attr_counts=[0] * (last - first + 1))
    return pb.IngestRequest(sender_id=sender, first_seq=first, last_seq=last, batch=batch)


def test_an_undecodable_request_is_quarantined_and_the_stream_goes_on(cluster) -> None:
    """A producer (not ben's SDK) sends a string that is not UTF-8: refused, kept aside, counted; the
    same stream's next request is stored."""
    bad = _request("raw-producer", 1, 2, "bad_X_name").SerializeToString().replace(b"bad_X_name", b"bad_\xff_name")
    good = _request("raw-producer", 3, 5, "raw_good").SerializeToString()
    negative = _request("raw-producer", 6, 9, "raw_old", ts=-10**18).SerializeToString()  # 1938: counted
    channel, stream = _raw_stream(cluster.sidecar_addr)
    with channel:
        acks = list(stream(iter([bad, good, negative]), timeout=30))
    assert [a.durable_seq for a in acks] == [2, 5, 9]
    assert "undecodable" in acks[0].error and acks[1].error == "" and acks[2].error == ""
    status = cluster.status("sidecar")
    assert status["dropped_total{reason=undecodable}"] == 1 and status["quarantined_requests_total"] == 1
    assert status["bad_ts_events_total"] == 4
    kept = list((cluster.home / "sidecar" / "quarantine").glob("ingest-raw-producer-0-1-2.*"))
    assert sorted(p.suffix for p in kept) == [".bin", ".reason"]
    cluster.wait_drained()
    rows = query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events WHERE name = 'raw_good'")
    assert rows[0]["n"] == 3


def test_undecodable_wal_records_are_set_aside_by_shipper_and_store_writer(make_cluster) -> None:
    """A record that cannot be decoded in the sidecar's WAL (shipper) and in the spine's (store writer)
    is quarantined and counted; everything after it is delivered."""
    cluster = make_cluster()
    cluster.start()
    cluster.stop()
    for component in ("sidecar", "spine"):
        wal = Wal(cluster.home / component / "wal-routine", cluster.home / component / "quarantine")
        try:
            wal.append([b"\xff\xfe not a protobuf message"])
        finally:
            wal.close()
    cluster.start()
    client = Client("after-bad-records", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
    try:
        for i in range(100):
            client.gauge("after", float(i))
        assert client.flush(timeout=60), client.last_error
    finally:
        client.shutdown(timeout=5)
    cluster.wait_drained()
    assert cluster.status("sidecar")["ship_quarantined_records_total"] == 1
    wait_for(lambda: cluster.status("spine").get("store_quarantined_records_total") == 1, 30,
             "the store writer to quarantine the bad record")
    assert query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events WHERE name = 'after'")[0]["n"] == 100


def test_a_batch_that_cannot_be_encoded_is_dropped_and_the_lane_goes_on(module_cluster) -> None:
    """Defence in depth: a batch poisoned after the checks (here by hand) is dropped and counted by the
    exporter, never allowed to break the stream; the events after it are delivered."""
    cluster = module_cluster
    client = Client("poisoned-batch", sidecar=cluster.sidecar_addr, max_batch_events=10, flush_interval_ms=20)
    try:
        for i in range(5):
            client.gauge("before_poison", float(i))
        client._buffer._builders[0].ts[-1] = 1.5  # what a float ts did before the checks
        client._buffer.seal()
        for i in range(50):
            client.gauge("after_poison", float(i))
        assert client.alert("after_poison_alert") is not None
        assert client.flush(timeout=30), client.last_error
        assert client.stats.quarantined == 5 and client.stats.acked == 51
    finally:
        client.shutdown(timeout=5)
    cluster.wait_drained()
    rows = query_rows(cluster.spine_addr, "SELECT name, count() AS n FROM ben.events WHERE name LIKE 'after_poison%' "
                                          "GROUP BY name ORDER BY name")
    assert rows == [{"name": "after_poison", "n": 50}, {"name": "after_poison_alert", "n": 1}]
