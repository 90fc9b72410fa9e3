"""``ben replay``: the detectors re-run over stored raw events, through the same code as live."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa

from ben.core.config import DetectConfig
from ben.core.errors import ConfigError
from ben.spine.detection import COLUMNS, PEER_COLUMNS, UNIT_COLUMN, UNIT_SQL, Detection

REPLAY_SQL = (
    "SELECT ts, CAST(kind, 'Int8') AS kind, subsystem, name, value, `attributes.key`, `attributes.value`, "
    f"spine_seq, sidecar_id, producer_id, {UNIT_SQL} FROM ben.events WHERE lane = 'routine' AND kind IN (1, 2) "
    "AND ts >= {t1} AND ts < {t2} ORDER BY spine_seq, producer_seq"
)


def parse_time(text: str, flag: str) -> int:
    """Unix nanoseconds, or an ISO time (UTC unless it says otherwise)."""
    if text.strip().isdigit():
        if int(text) >= 2**63:
            raise ConfigError(f"{text.strip()!r} is past the largest time (unix nanoseconds below 2**63)",
                              source="command line", field=flag)
        for unit, per_s in (("seconds", 1), ("milliseconds", 10**3), ("microseconds", 10**6)):
            # `--from $(date +%s)` (what `ben baseline export --from` takes) was read as nanoseconds: a replay of
            # the first seconds of 1970 that found nothing, exit 0 (ADR 0033, round 10)
            if 946_684_800 * per_s <= int(text) < 4_102_444_800 * per_s:
                when = dt.datetime.fromtimestamp(int(text) / per_s, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
                raise ConfigError(f"{text.strip()!r} reads as unix {unit} ({when}Z); {flag} takes unix nanoseconds "
                                  f"({int(text) * (10**9 // per_s)}) or an ISO time ({when})",
                                  source="command line", field=flag)
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is neither unix nanoseconds nor an ISO time such as 2026-11-27T10:00",
                          source="command line", field=flag) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp() * 1e9)


def fetch(t1: int, t2: int, spine: str | None = None, data_dir: Path | None = None) -> pa.Table:
    sql = REPLAY_SQL.format(t1=int(t1), t2=int(t2))
    if data_dir is not None:
        from ben.store.chdb import ChdbStore

        store = ChdbStore(data_dir)
        try:
            table = store.query_arrow(sql)
        finally:
            store.close()
        return table.rename_columns([*COLUMNS, *PEER_COLUMNS, UNIT_COLUMN])
    from ben.core.address import check_address, default_spine_address
    from ben.core.admin import run_query

    rows = json.loads(run_query(check_address(spine or default_spine_address()), sql, timeout=600))["data"]
    for row in rows:  # NaN and ±inf come as "nan", "inf", "-inf" (ADR 0033: told apart from null in JSON)
        if isinstance(row.get("value"), str):
            row["value"] = float(row["value"])
    schema = pa.schema([("ts", pa.int64()), ("kind", pa.int8()), ("subsystem", pa.string()), ("name", pa.string()),
                        ("value", pa.float64()), ("attributes.key", pa.list_(pa.string())),
                        ("attributes.value", pa.list_(pa.string())), ("spine_seq", pa.uint64()),
                        ("sidecar_id", pa.string()), ("producer_id", pa.string()), (UNIT_COLUMN, pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def run(table: pa.Table, detect: DetectConfig) -> Detection:
    det = Detection.from_config(detect)
    det.process(table)
    return det


def replay_range(t1: int, t2: int, detect: DetectConfig, spine: str | None = None,
                 data_dir: Path | None = None) -> dict:
    det = run(fetch(t1, t2, spine, data_dir), detect)
    incidents = sorted(det.correlator.incidents.values(), key=lambda i: (i.opened_ns, i.id))
    anomalies = [a for inc in incidents for a in inc.anomalies] + sorted(
        det.correlator.detached.values(), key=lambda a: (a.start_ns, a.id))  # tag-alongs (ADR 0029)
    return {
        "points": det.points,
        "anomalies": [{"id": a.id, "series": a.series, "start_ts": a.start_ns, "end_ts": a.end_ns or 0,
                       "sentence": a.sentence()} for a in anomalies],
        "incidents": [{"id": i.id, "state": i.state.value, "severity": i.severity, "narrative": i.narrative()}
                      for i in incidents],
    }
