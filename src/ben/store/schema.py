"""ben's tables: a public interface, versioned by numbered migrations (``ben.store.migrations``).

Column types are portable (Int64 nanoseconds, ``Nested(key, value)`` attributes, Enum8), so the
same tables live on ClickHouse 18.16 (Debian's server) and on modern ClickHouse (chDB). Modern
features are switched on by server capability (``Capabilities``): LowCardinality strings and
column codecs in the tables, friendly views with DateTime64 times and Map attributes, and TTL
retention. The DDL of every table is built here from the capabilities; the migrations say in
which order it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

DATABASE = "ben"
EVENTS = f"{DATABASE}.events"

#: Seconds a merge's source parts of ben.events stay on disk after the merge (ClickHouse's default; chDB's is 0): a
#: merged part the engine sets aside at the next open falls back to them (``ben.store.detached``, ADR 0046). A chDB
#: store sets it at every open; the spine's store writer sets 0 while the store's disk is below ``min_free_bytes``.
OLD_PARTS_LIFETIME_S = 480


def keep_merged_parts(seconds: int) -> str:
    """The statement that keeps a merge's source parts of ben.events ``seconds`` after the merge."""
    return f"ALTER TABLE {EVENTS} MODIFY SETTING old_parts_lifetime = {int(seconds)}"
ANOMALIES = f"{DATABASE}.anomalies"
INCIDENTS = f"{DATABASE}.incidents"
COMMANDS = f"{DATABASE}.commands"
AUDIT = f"{DATABASE}.audit"
MIGRATIONS = f"{DATABASE}.schema_migrations"
EVENTS_VIEW = f"{DATABASE}.events_view"
#: chDB only: a Buffer table in front of ben.events for the urgent (alert) connection's INSERTs,
#: flushed into ben.events by every ``sync`` (see ``create_urgent_buffer``).
EVENTS_URGENT = f"{DATABASE}.events_urgent"
ANOMALIES_VIEW = f"{DATABASE}.anomalies_view"
INCIDENTS_VIEW = f"{DATABASE}.incidents_view"

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


@dataclass(frozen=True)
class Capabilities:
    """What the server can do beyond the portable core (found by probing it, ``migrations.probe``)."""

    version: str = ""
    low_cardinality: bool = False  # LowCardinality(String) columns without experimental settings
    codecs: bool = False  # column CODEC(...)
    ttl: bool = False  # table TTL
    datetime64: bool = False  # DateTime64 and fromUnixTimestamp64Nano
    map: bool = False  # Map and mapFromArrays

    def features(self) -> str:
        """The switched-on features, for the migrations table (e.g. "low_cardinality,codecs")."""
        names = ("low_cardinality", "codecs", "ttl", "datetime64", "map")
        return ",".join(n for n in names if getattr(self, n)) or "portable"


#: ClickHouse 18.16 (Debian): none of the optional features.
PORTABLE = Capabilities(version="18.16")
#: Any recent ClickHouse (chDB 4): all of them.
MODERN = Capabilities(version="modern", low_cardinality=True, codecs=True, ttl=True, datetime64=True, map=True)

def lane_is(lane: int) -> str:
    """``lane = 'alert'``: lanes compared by name (18.16 refuses to compare the Enum8 partition key
    column with a number)."""
    return f"lane = '{LANES[int(lane)]}'"


_KIND_ENUM = "Enum8(" + ", ".join(f"'{v}' = {k}" for k, v in KINDS.items()) + ")"
_LANE_ENUM = "Enum8(" + ", ".join(f"'{v}' = {k}" for k, v in LANES.items()) + ")"


def _lc(caps: Capabilities) -> str:
    return "LowCardinality(String)" if caps.low_cardinality else "String"


def _codec(caps: Capabilities, codec: str) -> str:
    return f" CODEC({codec})" if caps.codecs else ""


def create_database() -> str:
    return f"CREATE DATABASE IF NOT EXISTS {DATABASE}"


#: ben.events' partition key as migration 1 made it: one partition per day.
EVENTS_PARTITION_BY_DAY = "toYYYYMMDD(toDateTime(intDiv(ts, 1000000000)))"
#: ben.events' partition key since migration 5: per day and lane. Each lane's parts are merged
#: with its own: an alert's one-row part no longer sits between two routine parts, which made every
#: merge of routine data rewrite it, over and over (ADR 0021).
EVENTS_PARTITION = f"({EVENTS_PARTITION_BY_DAY}, lane)"


def create_events(caps: Capabilities, table: str = EVENTS, partition: str = EVENTS_PARTITION_BY_DAY) -> str:
    lc = _lc(caps)
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
    ts Int64{_codec(caps, "Delta, LZ4")} COMMENT 'event time, unix nanoseconds',
    kind {_KIND_ENUM},
    host {lc},
    subsystem {lc},
    instance {lc},
    name {lc},
    value Float64,
    body String,
    attributes Nested(key String, value String),
    producer_id {lc} COMMENT 'SDK instance that emitted the event',
    producer_seq UInt64{_codec(caps, "Delta, LZ4")} COMMENT 'event number within producer_id',
    sidecar_id {lc},
    sidecar_seq UInt64{_codec(caps, "Delta, LZ4")} COMMENT 'sidecar WAL record that carried the event',
    lane {_LANE_ENUM} COMMENT 'priority lane the event travelled in',
    spine_seq UInt64{_codec(caps, "Delta, LZ4")} COMMENT 'spine WAL record (of this lane) that carried the event; the store writer cursor',
    stored_ts Int64{_codec(caps, "Delta, LZ4")} COMMENT 'when the store writer issued the INSERT, unix nanoseconds (stored_ts - ts: latency)'
) ENGINE = MergeTree
PARTITION BY {partition}
ORDER BY (subsystem, name, ts)
"""


def create_urgent_buffer() -> str:
    """A Buffer table in front of ben.events, written by the store's urgent connection (alerts).

    A one-row INSERT into ``ben.events`` writes a part (a directory of column files) and later
    merges; into a Buffer it appends to a block in memory: 4 ms against 15-17 on the reference
    machine. ``sync`` flushes it (``OPTIMIZE TABLE``) before the spine truncates its WAL, so an
    alert is in the WAL until it is in ``ben.events`` on disk; a failed flush raises and keeps the
    rows in the buffer. The Buffer's own limits (5 s, 100,000 rows, 64 MiB) are a backstop only.
    Not a migration: the buffer holds no data across restarts and is re-created, with the columns
    of ``ben.events`` as they are then, every time the store opens.
    """
    return (f"CREATE TABLE {EVENTS_URGENT} AS {EVENTS} ENGINE = Buffer({DATABASE}, events, 1, "
            "5, 5, 100000, 100000, 67108864, 67108864)")


def create_anomalies(caps: Capabilities) -> str:
    """One row per change of an anomaly episode; the latest version wins (query with FINAL)."""
    lc = _lc(caps)
    return f"""
CREATE TABLE IF NOT EXISTS {ANOMALIES} (
    id String,
    series String,
    subsystem {lc},
    name {lc},
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


def create_incidents(caps: Capabilities) -> str:
    """One row per change of an incident (open -> acknowledged -> resolved); the latest version wins."""
    lc = _lc(caps)
    return f"""
CREATE TABLE IF NOT EXISTS {INCIDENTS} (
    id String,
    subsystem {lc},
    state {lc},
    severity {lc},
    opened_ts Int64,
    updated_ts Int64,
    resolved_ts Int64 COMMENT '0 while not resolved',
    narrative String,
    anomaly_ids Array(String),
    version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id
"""


def create_commands() -> str:
    """Signed commands and their receipts (control plane); the latest version of a command wins."""
    return f"""
CREATE TABLE IF NOT EXISTS {COMMANDS} (
    id String, action String, target String, issuer String, state String, reason String,
    incident_id String, envelope String, receipt String, updated_ts Int64, version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id
"""


def create_audit() -> str:
    """The hash-chained, signed audit log (control plane)."""
    return f"""
CREATE TABLE IF NOT EXISTS {AUDIT} (
    seq UInt64, ts Int64, kind String, command_id String, actor String, body String,
    prev_hash String, hash String, key_id String, signature String
) ENGINE = MergeTree
ORDER BY seq
"""


def create_views(caps: Capabilities) -> list[str]:
    """Friendly views (DateTime64 times, Map attributes); only where the server has both."""
    if not (caps.datetime64 and caps.map):
        return []
    return [
        f"""
CREATE VIEW IF NOT EXISTS {EVENTS_VIEW} AS
SELECT fromUnixTimestamp64Nano(ts) AS time, kind, host, subsystem, instance, name, value, body,
       mapFromArrays(`attributes.key`, `attributes.value`) AS attributes,
       producer_id, producer_seq, sidecar_id, sidecar_seq, lane, spine_seq,
       fromUnixTimestamp64Nano(stored_ts) AS stored_time
FROM {EVENTS}
""",
        f"""
CREATE VIEW IF NOT EXISTS {ANOMALIES_VIEW} AS
SELECT id, series, subsystem, name, fromUnixTimestamp64Nano(start_ts) AS started,
       if(end_ts = 0, NULL, fromUnixTimestamp64Nano(end_ts)) AS ended,
       baseline, observed, score, detectors, evidence, sentence, incident_id
FROM {ANOMALIES} FINAL
""",
        f"""
CREATE VIEW IF NOT EXISTS {INCIDENTS_VIEW} AS
SELECT id, subsystem, state, severity, fromUnixTimestamp64Nano(opened_ts) AS opened,
       fromUnixTimestamp64Nano(updated_ts) AS updated,
       if(resolved_ts = 0, NULL, fromUnixTimestamp64Nano(resolved_ts)) AS resolved,
       narrative, anomaly_ids
FROM {INCIDENTS} FINAL
""",
    ]


SPANS = f"{DATABASE}.spans"


def _attr(key: str) -> str:
    return f"`attributes.value`[indexOf(`attributes.key`, '{key}')]"


def create_spans_view() -> str:
    """``ben.spans``: the spans OTLP receivers stored as rows of ben.events (``otel.signal = span``,
    ADR 0036), one row per span with its identity, timing and status as columns. Portable (18.16)."""
    return f"""
CREATE VIEW IF NOT EXISTS {SPANS} AS
SELECT ts AS start, value AS duration_ms, subsystem AS service, host, instance, name,
       {_attr('otel.trace_id')} AS trace_id, {_attr('otel.span_id')} AS span_id,
       {_attr('otel.parent_span_id')} AS parent_span_id, {_attr('otel.span_kind')} AS span_kind,
       {_attr('otel.status')} AS status, body AS status_message, {_attr('otel.events')} AS events,
       {_attr('otel.links')} AS links, `attributes.key`, `attributes.value`, sidecar_id, spine_seq
FROM {EVENTS}
WHERE kind = 'event' AND {_attr('otel.signal')} = 'span'
"""


def create_migrations_table() -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS} (
    version UInt32,
    name String,
    applied_ts Int64 COMMENT 'unix nanoseconds',
    checksum String COMMENT 'sha256 of the migration''s DDL (every variant)',
    features String COMMENT 'server features the applied variant used'
) ENGINE = MergeTree
ORDER BY version
"""


FEDERATED_INCIDENTS = f"{DATABASE}.federated_incidents"


def create_federated_incidents(caps: Capabilities) -> str:
    """Incident summaries received from federated clusters (ben.federation, ADR 0038): anonymised,
    verified; one row per summary, a summary received twice replaces itself (read with FINAL)."""
    lc = _lc(caps)
    return f"""
CREATE TABLE IF NOT EXISTS {FEDERATED_INCIDENTS} (
    summary_id String,
    cluster {lc},
    incident {lc} COMMENT 'pseudonym of the incident id',
    change {lc},
    subsystem_class {lc},
    subsystem {lc} COMMENT 'pseudonym',
    detector {lc},
    direction {lc},
    magnitude_class {lc},
    severity {lc},
    state {lc},
    opened_minute Int64,
    resolved_minute Int64,
    duration_bucket {lc},
    anomalies Int64,
    stream_seq Int64 COMMENT 'JetStream sequence it arrived as',
    published_ts Int64,
    received_ts Int64
) ENGINE = ReplacingMergeTree(received_ts)
ORDER BY summary_id
"""


INCIDENT_LABELS = f"{DATABASE}.incident_labels"


def create_incident_labels(caps: Capabilities) -> str:
    """Operators' labels of incidents for the baseline library (ben.baseline, ADR 0038): real or noise, a
    kind, a note; every label is also an audit entry. Labelled again: the latest version wins (FINAL)."""
    lc = _lc(caps)
    return f"""
CREATE TABLE IF NOT EXISTS {INCIDENT_LABELS} (
    incident_id String,
    label {lc} COMMENT 'real | noise',
    kind {lc} COMMENT 'spike | level | drift | seasonal | other',
    note String COMMENT 'free-form: exported only if the federation policy allows',
    operator String COMMENT 'who labelled (the authenticated operator, else the claimed name)',
    audit_seq UInt64 COMMENT 'the audit entry that records the label',
    labelled_ts Int64,
    version Int64
) ENGINE = ReplacingMergeTree(version)
ORDER BY incident_id
"""
