"""The spine's store and detection sections of the configuration (``[spine.store]``, ``[spine.detect]``).

``ben.core.config`` re-exports both; they live here to keep that module small (STYLE.md).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ben.core.config_sections import _Section
from ben.core.errors import ConfigError
from ben.core.files import read_input_text
from ben.core.query_tables import QUERY_SYSTEM_TABLES


class StoreConfig(_Section):
    """Where events are stored: embedded chDB (default) or a ClickHouse server (native protocol)::

        [spine.store]
        backend = "clickhouse"
        host = "127.0.0.1"
        port = 9000
        user = "default"
        password_env = "BEN_CLICKHOUSE_PASSWORD"   # or password_file = "/etc/ben/clickhouse.pw"
    """

    backend: Literal["chdb", "clickhouse"] = "chdb"
    #: chDB data directory; empty = <spine.data_dir>/chdb.
    path: Path | None = None
    #: ClickHouse server (backend = "clickhouse"): native protocol address and user.
    host: str = Field(default="127.0.0.1", min_length=1, pattern=r"^[A-Za-z0-9.:_-]+$")
    port: int = Field(default=9000, ge=1, le=65535)
    user: str = Field(default="default", min_length=1)
    #: The password is never in the file: the name of an environment variable holding it, or a file.
    password_env: str = Field(default="", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$|^$")
    password_file: Path | None = None
    #: TLS on the native protocol (the server's tcp_port_secure).
    secure: bool = False
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    #: Days of raw events kept (TTL where the server has it, else dropping day partitions); 0 = forever.
    retention_days: int = Field(default=0, ge=0, le=36_500)
    #: How often the store writer drops expired day partitions.
    retention_check_interval_s: float = Field(default=3600.0, ge=1.0)
    #: Rows per INSERT at most (one insert is the unit of recovery).
    insert_max_rows: int = Field(default=200_000, ge=1, le=1_000_000)
    #: WAL bytes per INSERT at most (bounds the writer's memory, also while the store is failing).
    insert_max_bytes: int = Field(default=32 << 20, ge=1 << 16)
    #: Rows per second at most into the store for every lane but alerts; 0 = no limit. What waits
    #: stays in the spine WAL, and past its quota in the sidecars' (back-pressure).
    max_rows_per_s: int = Field(default=0, ge=0)
    #: Inserts pause (the WAL keeps the data) while the store's disk has less free than this:
    #: a store that runs out of space mid-write or mid-merge can leave a damaged part behind.
    min_free_bytes: int = Field(default=256 << 20, ge=0)
    #: The spine's alert_store_delay_seconds quantiles cover the alerts stored this many seconds back.
    alert_delay_window_s: float = Field(default=60.0, gt=0, le=86_400)
    # Operator queries (ben query; ADR 0032): read-only, in a session of their own, within these
    # limits, which the engine enforces: max_execution_time, and max_result_bytes (uncompressed).
    query_timeout_s: float = Field(default=60.0, gt=0, le=86_400)
    query_max_result_bytes: int = Field(default=256 << 20, ge=1 << 10)
    #: ... and the memory one operator query may use in the engine (max_memory_usage; ADR 0045).
    query_max_memory_bytes: int = Field(default=1 << 30, ge=16 << 20)
    #: ... and the engine's ``system`` tables it may read, by name (ADR 0045; default QUERY_SYSTEM_TABLES
    #: above; chDB: the sandbox refuses the others, naming the table; a server: grant query_user only these).
    query_system_tables: list[str] = Field(default_factory=lambda: list(QUERY_SYSTEM_TABLES))

    @field_validator("query_system_tables")
    @classmethod
    def _system_table_names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not n.replace("_", "").isalnum() or not n.isascii()]
        if bad:
            raise ValueError(f"not a table name: {bad[0]!r} (names of tables in the engine's system database, "
                             "e.g. \"tables\")")
        return [n.lower() for n in value]

    #: ClickHouse server: the user operator queries run as (a read-only user, ADR 0032); empty = ``user``.
    query_user: str = ""
    #: ... and the environment variable holding its password (empty: no password).
    query_password_env: str = Field(default="", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$|^$")
    #: While the spine starts, a store that is unavailable (its store process died, a server does
    #: not answer) is tried again with backoff for this long before the spine gives up (ADR 0031).
    start_retry_timeout_s: float = Field(default=300.0, ge=0, le=86_400)
    #: A ClickHouse server without fsync_after_insert (18.16): seconds the spine's WAL keeps a
    #: record after the server acknowledged its INSERT (the kernel's writeback; ADR 0031).
    writeback_wait_s: float = Field(default=35.0, ge=0, le=3_600)

    @model_validator(mode="after")
    def _one_password_source(self):
        if self.password_env and self.password_file is not None:
            raise ValueError("set password_env or password_file, not both")
        return self

    def password(self) -> str:
        """The server password from password_env or password_file ("" if neither is set)."""
        import os

        if self.password_env:
            if self.password_env not in os.environ:
                raise ConfigError(f"environment variable {self.password_env} is not set", field="spine.store.password_env")
            return os.environ[self.password_env]
        if self.password_file is not None:
            from ben.core.files import check_secret

            check_secret(self.password_file, "spine.store.password_file", "password file")  # a password others may read is none
            try:
                return read_input_text(self.password_file).strip()
            except OSError as exc:
                raise ConfigError(f"cannot read {self.password_file}: {exc}", field="spine.store.password_file") from None
        return ""


class DetectConfig(_Section):
    """Detectors over metrics and counters, and incidents (ben.detect, ben.spine.incidents)."""

    enabled: bool = True
    #: Points of a series are aggregated per bucket of event time (mean; counters: rate per second).
    bucket_ms: int = Field(default=1_000, ge=1)
    #: An anomaly joins its subsystem's open incident if it starts within this of its last activity.
    group_window_s: float = Field(default=300.0, gt=0)
    #: An incident resolves once all its anomalies ended and this much event time passed quietly.
    resolve_after_s: float = Field(default=120.0, gt=0)
    # Cardinality (ADR 0029): new series beyond these caps are not watched (their events are still
    # stored); refusals are counted (detect_refused_series_total) and logged at most once a minute.
    #: Series watched per subsystem.
    max_series_per_subsystem: int = Field(default=10_000, ge=1)
    #: Series watched in all (bounds detection's memory: about 11 KiB per series, see ADR 0029).
    max_series: int = Field(default=100_000, ge=1)
    #: Series watched per peer: a sidecar's OTLP receiver, or its ben SDK subsystems (ADR 0045, round 4), so
    #: one local application making up service.names cannot take the others' share; refusals are counted
    #: (detect_refused_series_peer_total) and logged with the peer.
    max_series_per_peer: int = Field(default=25_000, ge=1)
    # The detection algorithm (ADR 0040): "calibrated" runs ben.detect.calibrated (what SeriesMonitor runs:
    # memories in seconds, calibrated evidence, one episode per onset); "bank" the detector bank (ADR 0010).
    algorithm: Literal["calibrated", "bank"] = "calibrated"
    #: The calibrated detection's memories and decisions: any field of ben.detect.calibrated.Timing (the
    #: *_s keys in seconds), e.g. {warmup_s = 5.0, warmup_points = 20.0}; a key not set keeps its
    #: documented default (warm-up 1 h and 150 points, level half-life 1 h, clear 15 min, ...).
    timing: dict[str, float] = Field(default_factory=dict)
    # Restarts (ADR 0046, 2026-12 amendment).
    #: The detection state is written to <data_dir>/detect.ckpt this often (and at shutdown).
    checkpoint_interval_s: float = Field(default=10.0, gt=0)

    @field_validator("timing")
    @classmethod
    def _timing_values(cls, value: dict[str, float]) -> dict[str, float]:
        # The keys are checked against ben.detect.calibrated.Timing when the spine builds its detection
        # (ben.spine.detection.timing_of: core does not import detect).
        for key, v in value.items():
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{key} = {v!r}: expected a finite number > 0")
        return value
