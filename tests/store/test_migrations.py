"""Numbered migrations on both backends: recorded, idempotent, checked; capability-gated DDL;
an existing chDB deployment (tables made before migrations existed) is adopted with its data;
migration 5 re-partitions ben.events by lane, resuming wherever a crash left it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ben.core.errors import StorageError
from ben.store import ChdbStore, migrations, schema
from ben.store.migrations import MIGRATIONS, Migration
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request

DAY_NS = 86_400 * 10**9


def test_migrations_recorded_once(open_backend, backend) -> None:
    store = open_backend()
    recorded = store.rows("SELECT version, name, checksum, features FROM ben.schema_migrations ORDER BY version")
    assert [r[0] for r in recorded] == [m.version for m in MIGRATIONS]
    assert [r[2] for r in recorded] == [m.checksum for m in MIGRATIONS]
    features = recorded[0][3]
    assert features == ("portable" if backend == "clickhouse" else "low_cardinality,codecs,ttl,datetime64,map")
    store.close()
    again = open_backend()
    assert migrations.apply(again, again.capabilities) == []  # nothing pending
    assert again.schema_version() == migrations.LATEST
    assert again.rows("SELECT count() FROM ben.schema_migrations")[0][0] == len(MIGRATIONS)


def test_a_pending_migration_runs_at_the_next_start(store) -> None:
    extra = Migration(migrations.LATEST + 1, "extra_table",
                      lambda caps: ["CREATE TABLE IF NOT EXISTS ben.extra (x UInt8) ENGINE = MergeTree ORDER BY x"])
    assert migrations.apply(store, store.capabilities, MIGRATIONS + (extra,)) == [extra.version]
    assert store.rows("EXISTS TABLE ben.extra")[0][0] == 1
    # That database was written by a "newer ben": this one refuses it clearly.
    with pytest.raises(StorageError, match=f"migration {extra.version} .* newer ben"):
        migrations.apply(store, store.capabilities)


def test_an_edited_migration_is_a_clear_error(store) -> None:
    edited = (Migration(1, "events", lambda caps: [schema.create_events(caps) + " SETTINGS index_granularity = 4096"]),
              *MIGRATIONS[1:])
    with pytest.raises(StorageError, match="migration 1 \\(events\\) was applied with checksum .* DDL changed"):
        migrations.apply(store, store.capabilities, edited)


def test_modern_features_by_capability(store, backend) -> None:
    ddl = store.rows("SHOW CREATE TABLE ben.events")[0][0]
    caps = store.capabilities
    if backend == "clickhouse":  # Debian's 18.16: the portable core only
        assert caps.version.startswith("18.16") and caps.features() == "portable"
        assert "LowCardinality" not in ddl and "CODEC" not in ddl
        assert store.rows("EXISTS TABLE ben.events_view")[0][0] == 0
    else:
        assert caps == schema.Capabilities(caps.version, True, True, True, True, True)
        assert "LowCardinality(String)" in ddl and "CODEC(Delta" in ddl
        types = dict((r[0], r[1]) for r in store.rows("DESCRIBE TABLE ben.events_view"))
        assert types["time"].startswith("DateTime64(9") and types["attributes"] == "Map(String, String)"
        assert store.rows("EXISTS TABLE ben.incidents_view")[0][0] == 1


#: The DDL ben wrote before migrations existed (commit ac19f4b), verbatim.
PRE_MIGRATION_DDL = (
    "CREATE DATABASE IF NOT EXISTS ben",
    """CREATE TABLE IF NOT EXISTS ben.events (
    ts Int64 COMMENT 'event time, unix nanoseconds',
    kind Enum8('metric' = 1, 'counter' = 2, 'event' = 3, 'log' = 4, 'alert' = 5),
    host LowCardinality(String), subsystem LowCardinality(String), instance LowCardinality(String),
    name LowCardinality(String), value Float64, body String, attributes Nested(key String, value String),
    producer_id LowCardinality(String), producer_seq UInt64, sidecar_id LowCardinality(String), sidecar_seq UInt64,
    lane Enum8('routine' = 0, 'anomaly' = 1, 'alert' = 2), spine_seq UInt64, stored_ts Int64
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts, 1000000000))) ORDER BY (subsystem, name, ts)""",
    """CREATE TABLE IF NOT EXISTS ben.anomalies (id String, series String, subsystem LowCardinality(String),
    name LowCardinality(String), start_ts Int64, end_ts Int64, baseline Float64, observed Float64, score Float64,
    detectors Array(String), evidence String, sentence String, incident_id String, version Int64
) ENGINE = ReplacingMergeTree(version) ORDER BY id""",
    """CREATE TABLE IF NOT EXISTS ben.incidents (id String, subsystem LowCardinality(String),
    state LowCardinality(String), severity LowCardinality(String), opened_ts Int64, updated_ts Int64,
    resolved_ts Int64, narrative String, anomaly_ids Array(String), version Int64
) ENGINE = ReplacingMergeTree(version) ORDER BY id""",
)


def test_existing_chdb_deployment_is_adopted(tmp_path) -> None:
    from chdb import session as chdb_session

    old = chdb_session.Session(str(tmp_path / "chdb"))
    for ddl in PRE_MIGRATION_DDL:
        old.query(ddl)
    old.query("INSERT INTO ben.events (ts, kind, subsystem, name, value, producer_id, producer_seq, lane, spine_seq) "
              "VALUES (1, 'metric', 'svc', 'm', 1.5, 'p', 1, 'routine', 7)")
    old.close()

    store = ChdbStore(tmp_path / "chdb")
    try:
        assert store.schema_version() == migrations.LATEST
        assert store.count_rows() == 1 and store.max_spine_seq(0) == 7  # the data and the cursor are intact
        ddl = store.rows("SHOW CREATE TABLE ben.events")[0][0]
        assert f"PARTITION BY {schema.EVENTS_PARTITION}" in ddl.replace("\n", " ")  # migration 5 re-made it
        assert [r[0] for r in store.rows("DESCRIBE TABLE ben.commands")][:2] == ["id", "action"]
        assert store.rows("SELECT count() FROM ben.events_view WHERE attributes = map()")[0][0] == 1
    finally:
        store.close()


def _by_day_with_rows(store) -> list[tuple]:
    """ben.events as migrations 1-4 left it (partitioned by day), holding rows of 2 days x 3 lanes."""
    migrations._drop(store, schema.EVENTS)
    store.execute(schema.create_events(store.capabilities))  # the day partition key
    for day in range(2):
        for lane in (pb.LANE_ROUTINE, pb.LANE_ANOMALY, pb.LANE_ALERT):
            table = to_table([(10 * day + lane + 1, request(1 + 3 * lane, [
                (pb.KIND_METRIC, "m", float(i), "", {"i": str(i)}) for i in range(3)], lane=lane))])
            ts = pa.array([t + day * DAY_NS for t in table.column("ts").to_pylist()], type=pa.int64())
            store.insert_events(table.set_column(0, "ts", ts))
    return _all_rows(store)


def _all_rows(store) -> list[tuple]:
    return store.rows("SELECT ts, kind, name, value, attributes.key, attributes.value, lane, spine_seq, stored_ts "
                      "FROM ben.events ORDER BY lane, spine_seq, ts")


def _assert_by_lane(store, rows: list[tuple]) -> None:
    assert _all_rows(store) == rows  # every row, once
    ddl = store.rows("SHOW CREATE TABLE ben.events")[0][0].replace("\n", " ")
    assert f"PARTITION BY {schema.EVENTS_PARTITION}" in ddl
    partitions = store.rows("SELECT DISTINCT partition FROM system.parts WHERE database = 'ben' AND table = 'events' "
                            "AND active")
    assert len(partitions) == 6  # 2 days x 3 lanes
    assert {r[0] for r in store.rows("SELECT name FROM system.tables WHERE database = 'ben'")} & {
        "events_by_lane", "events_by_day"} == set()  # no copy left behind
    assert store.max_spine_seq(pb.LANE_ALERT) == 13 and store.count_by_spine_seq(pb.LANE_ALERT, 1, 20) == {3: 3, 13: 3}


def test_migration_5_repartitions_events_by_lane_keeping_every_row(store) -> None:
    rows = _by_day_with_rows(store)
    assert len(rows) == 18
    migrations.repartition_events(store, store.capabilities)
    _assert_by_lane(store, rows)
    migrations.repartition_events(store, store.capabilities)  # run again (a crash before its record): the same
    _assert_by_lane(store, rows)


@pytest.mark.parametrize("crash", ["copy_unfinished", "between_renames", "old_not_dropped"])
def test_migration_5_resumes_where_a_crash_left_it(store, crash) -> None:
    rows = _by_day_with_rows(store)
    new, old = "ben.events_by_lane", "ben.events_by_day"
    store.execute(schema.create_events(store.capabilities, table=new, partition=schema.EVENTS_PARTITION))
    if crash == "copy_unfinished":  # part of the copy made, and a row that is in no source at all
        store.execute(f"INSERT INTO {new} SELECT * FROM ben.events WHERE lane = 'routine'")
        store.insert_rows(new, to_table([(99, request(500, [(pb.KIND_METRIC, "stray", 1.0, "", None)]))]))
    else:
        store.execute(f"INSERT INTO {new} SELECT * FROM ben.events")
        store.execute(f"RENAME TABLE ben.events TO {old}")
        if crash == "old_not_dropped":
            store.execute(f"RENAME TABLE {new} TO ben.events")
    migrations.repartition_events(store, store.capabilities)
    _assert_by_lane(store, rows)


def test_retention_drops_every_lane_of_an_expired_day(store) -> None:
    from ben.store import retention

    rows = _by_day_with_rows(store)
    migrations.repartition_events(store, store.capabilities)
    first_day_ns = min(r[0] for r in rows)
    now = first_day_ns + DAY_NS + 3 * DAY_NS  # the first day is 3 days old, the second 2 days old
    dropped = retention.drop_expired(store, 3, now_ns=now)
    assert len(dropped) == 3 and all(p.startswith("(") for p in dropped)
    assert sorted(r[0] for r in _all_rows(store)) == sorted(r[0] for r in rows if r[0] >= first_day_ns + DAY_NS)


def test_migration_9_adds_the_anomaly_unit_keeping_the_rows_before_it(open_backend) -> None:
    """ADR 0012, 2026-12-07 round 2: ``ben.anomalies.unit`` (what an anomaly's numbers are in, as said) on a store
    whose anomalies were written before it: they stay, with '' (explain then says the name's suffix)."""
    from ben.spine.findings import anomaly_rows
    from ben.spine.incidents import Anomaly

    store = open_backend()
    store.execute("ALTER TABLE ben.anomalies DROP COLUMN unit")  # the table as migrations 1-8 left it
    old = Anomaly("api lat_ms", "api", "lat_ms", 10**18, 120.0, 480.0, 0.9, {"level": {"sigma": 9.0}}, scale=5.0)
    store.insert_rows(schema.ANOMALIES, anomaly_rows([(old, "inc-1")]).drop(["unit"]))
    for _ in range(2):  # a crash before the migration's record runs it again
        migrations.add_anomaly_unit(store, store.capabilities)
    new = Anomaly("api d.p99", "api", "d.p99", 2 * 10**18, 0.1, 0.9, 0.9, {"level": {"sigma": 9.0}}, scale=0.01,
                  unit="s")
    store.insert_rows(schema.ANOMALIES, anomaly_rows([(new, "inc-2")]))
    assert store.rows("SELECT name, unit FROM ben.anomalies FINAL ORDER BY start_ts") == [("lat_ms", ""), ("d.p99", "s")]
    store.close()
    again = open_backend()
    assert migrations.apply(again, again.capabilities) == [] and again.schema_version() == migrations.LATEST
