"""ben's tables: a public interface, versioned (issue 7 adds numbered migrations).

Portable types only in the columns themselves (Int64 nanoseconds, Nested attributes, Enum8),
so the same schema can live on any ClickHouse.
"""

from __future__ import annotations

DATABASE = "ben"
EVENTS = f"{DATABASE}.events"

KINDS = {1: "metric", 2: "counter", 3: "event", 4: "log", 5: "alert"}
LANES = {0: "routine", 1: "anomaly", 2: "alert"}

#: Insert order of the columns; rows.to_table builds exactly these, in this order.
EVENT_COLUMNS = (
    "ts",
    "kind",
    "host",
    "subsystem",
    "instance",
    "name",
    "value",
    "body",
    "attributes.key",
    "attributes.value",
    "producer_id",
    "producer_seq",
    "sidecar_id",
    "sidecar_seq",
    "lane",
    "spine_seq",
    "stored_ts",
)

_KIND_ENUM = "Enum8(" + ", ".join(f"'{v}' = {k}" for k, v in KINDS.items()) + ")"
_LANE_ENUM = "Enum8(" + ", ".join(f"'{v}' = {k}" for k, v in LANES.items()) + ")"

CREATE_EVENTS = f"""
CREATE TABLE IF NOT EXISTS {EVENTS} (
    ts Int64 COMMENT 'event time, unix nanoseconds',
    kind {_KIND_ENUM},
    host LowCardinality(String),
    subsystem LowCardinality(String),
    instance LowCardinality(String),
    name LowCardinality(String),
    value Float64,
    body String,
    attributes Nested(key String, value String),
    producer_id LowCardinality(String) COMMENT 'SDK instance that emitted the event',
    producer_seq UInt64 COMMENT 'event number within producer_id',
    sidecar_id LowCardinality(String),
    sidecar_seq UInt64 COMMENT 'sidecar WAL record that carried the event',
    lane {_LANE_ENUM} COMMENT 'priority lane the event travelled in',
    spine_seq UInt64 COMMENT 'spine WAL record (of this lane) that carried the event; the store writer cursor',
    stored_ts Int64 COMMENT 'when the store writer issued the INSERT, unix nanoseconds (stored_ts - ts: latency)'
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts, 1000000000)))
ORDER BY (subsystem, name, ts)
"""

ANOMALIES = f"{DATABASE}.anomalies"
INCIDENTS = f"{DATABASE}.incidents"

#: One row per change of an anomaly episode; the latest version wins (query with FINAL).
CREATE_ANOMALIES = f"""
CREATE TABLE IF NOT EXISTS {ANOMALIES} (
    id String,
    series String,
    subsystem LowCardinality(String),
    name LowCardinality(String),
    start_ts Int64 COMMENT 'unix nanoseconds',
    end_ts Int64 COMMENT '0 while ongoing',
    baseline Float64,
    observed Float64,
    score Float64,
    detectors Array(String),
    evidence String COMMENT 'JSON: per detector statistics',
    sentence String,
    incident_id String,
    version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id
"""

#: One row per change of an incident (open -> acknowledged -> resolved); the latest version wins.
CREATE_INCIDENTS = f"""
CREATE TABLE IF NOT EXISTS {INCIDENTS} (
    id String,
    subsystem LowCardinality(String),
    state LowCardinality(String),
    severity LowCardinality(String),
    opened_ts Int64,
    updated_ts Int64,
    resolved_ts Int64 COMMENT '0 while not resolved',
    narrative String,
    anomaly_ids Array(String),
    version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id
"""

COMMANDS = f"{DATABASE}.commands"
AUDIT = f"{DATABASE}.audit"

#: One row per change of a signed command (ben.control); the latest version wins (query with FINAL).
CREATE_COMMANDS = f"""
CREATE TABLE IF NOT EXISTS {COMMANDS} (
    id String,
    action String,
    target String,
    issuer String COMMENT 'key id of the signer',
    state String COMMENT 'refused, awaiting_approval, pending, delivered, accepted, failed',
    reason String COMMENT 'why: the reason of the command, or why it was refused',
    incident_id String,
    envelope String COMMENT 'JSON: the signed bytes and the signature',
    receipt String COMMENT 'JSON: the signed receipt of the sidecar, if any',
    updated_ts Int64 COMMENT 'unix nanoseconds',
    version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id
"""

#: The spine's hash-chained, signed audit log (a copy of the local one; ben audit verify compares them).
CREATE_AUDIT = f"""
CREATE TABLE IF NOT EXISTS {AUDIT} (
    seq UInt64,
    ts Int64 COMMENT 'unix nanoseconds',
    kind String,
    command_id String,
    actor String,
    body String COMMENT 'JSON',
    prev_hash String,
    hash String,
    key_id String,
    signature String
) ENGINE = MergeTree
ORDER BY seq
"""

DDL = (f"CREATE DATABASE IF NOT EXISTS {DATABASE}", CREATE_EVENTS, CREATE_ANOMALIES, CREATE_INCIDENTS,
       CREATE_COMMANDS, CREATE_AUDIT)
