"""Numbered migrations on both backends: recorded, idempotent, checked; capability-gated DDL;
an existing chDB deployment (tables made before migrations existed) is adopted as it is."""

from __future__ import annotations

import pytest

from ben.core.errors import StorageError
from ben.store import ChdbStore, migrations, schema
from ben.store.migrations import MIGRATIONS, Migration


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
        assert "CODEC" not in store.rows("SHOW CREATE TABLE ben.events")[0][0]  # the table was kept as it was
        assert [r[0] for r in store.rows("DESCRIBE TABLE ben.commands")][:2] == ["id", "action"]
        assert store.rows("SELECT count() FROM ben.events_view WHERE attributes = map()")[0][0] == 1
    finally:
        store.close()
