"""Typed configuration: one TOML file, validated at start-up, errors that name the field and file.

The file has one table per component; every key is optional::

    [spine]
    data_dir = "/var/lib/ben/spine"
    listen = "unix:///run/ben/spine.sock"     # or "127.0.0.1:7070"

    [sidecar]
    listen = "unix:///run/ben/sidecar.sock"
    spine = "unix:///run/ben/spine.sock"

    [spine.control]                           # signed commands (ADR 0013); the same under [sidecar.control]
    trust = "trust.toml"
    policy = "policy.toml"

Relative paths in a file are taken relative to that file's directory. Defaults live under
``$BEN_HOME`` (default ``~/.local/state/ben``), so ``ben spine`` and ``ben sidecar`` run with
no file at all and find each other.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from ben.core.errors import ConfigError
from ben.core.config_places import key_elsewhere as _key_elsewhere, table_elsewhere as _table_elsewhere
from ben.core.config_places import unit_given as _unit_given
from ben.core.files import is_utf16, missing_or_directory, read_input, utf8_text
from ben.core.lanes import Quota
from ben.core.query_tables import QUERY_SYSTEM_TABLES  # noqa: F401  (ben.core.config's name for it)

from ben.core.config_sections import (  # noqa: F401  (re-exported for callers of config)
    CertificateNames, ControlConfig, CortexConfig, FederationConfig, OperatorConfig, OtlpConfig, TlsConfig, WebConfig,
    _Section,
)
from ben.core.config_spine import DetectConfig, StoreConfig  # noqa: F401  (re-exported for callers of config)
from ben.core.address import (  # noqa: F401  (re-exported for callers of config)
    ENV_HOME, ENV_SIDECAR_SOCKET, ben_home, check_address, default_sidecar_address, default_spine_address, expand_user,
    path_problem, socket_path,
)


class _WalQuota(_Section):
    """WAL byte quota over all lanes: routine is refused first; alerts keep a reserve."""

    wal_max_bytes: int = Field(default=1 << 30, ge=1 << 20)
    wal_alert_reserve_bytes: int = Field(default=64 << 20, ge=0)
    wal_anomaly_reserve_bytes: int = Field(default=64 << 20, ge=0)

    @model_validator(mode="after")
    def _reserves_fit(self):
        if self.wal_alert_reserve_bytes + self.wal_anomaly_reserve_bytes >= self.wal_max_bytes:
            raise ValueError("wal_alert_reserve_bytes + wal_anomaly_reserve_bytes must be below wal_max_bytes")
        return self

    #: Appends are refused (back-pressure) while the WAL's disk has less free than this, before
    #: RocksDB itself fails; they are taken again once wal_resume_free_bytes are free (ADR 0031).
    wal_min_free_bytes: int = Field(default=64 << 20, ge=0)
    wal_resume_free_bytes: int = Field(default=128 << 20, ge=0)

    @model_validator(mode="after")
    def _resume_above_min(self):
        if self.wal_resume_free_bytes < self.wal_min_free_bytes:
            raise ValueError("wal_resume_free_bytes must be at least wal_min_free_bytes")
        return self

    #: Prometheus /metrics over HTTP on host:port; "" = off.
    metrics_listen: str = ""
    #: ... and the time one /metrics connection may take, handshake included (slowloris), seconds.
    metrics_connection_timeout_s: float = Field(default=10.0, gt=0, le=3_600)

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_address(cls, value: str) -> str:
        if value and (value.startswith("unix:") or not check_address(value)):
            raise ValueError("expected host:port (HTTP)")
        return value

    @property
    def quota(self) -> Quota:
        return Quota(self.wal_max_bytes, self.wal_alert_reserve_bytes, self.wal_anomaly_reserve_bytes)


class _Scheduling(_Section):
    """How a component's threads are scheduled (ben.core.priority)."""

    #: Nice value of background threads (RocksDB compactions; chDB merges in the spine's store
    #: process): 0 leaves them at the default priority (ADR 0024).
    background_nice: int = Field(default=10, ge=0, le=19)
    #: 1-99: run the process's threads (and the spine's store process) under SCHED_RR at this
    #: priority, so that the threads on an alert's way preempt the host's other work at once;
    #: background threads stay normal. Needs CAP_SYS_NICE or RLIMIT_RTPRIO; 0 = off (ADR 0027).
    realtime_priority: int = Field(default=0, ge=0, le=99)


class _Listener(_Section):
    """How a component's listener and its dial to the spine are secured."""

    #: Plain TCP without authentication; the start then logs a WARNING. Off: a TCP listen (or a TCP
    #: spine address) needs [tls] cert, key and ca.
    insecure: bool = False
    tls: TlsConfig = Field(default_factory=TlsConfig)
    #: Mode and group of the unix socket (0660: the owner and the group connect).
    socket_mode: int = Field(default=0o660, ge=0, le=0o777)
    socket_group: str = ""

    @field_validator("socket_mode", mode="before")
    @classmethod
    def _octal_mode(cls, value: Any) -> Any:
        """A mode is octal: "0660" / "660" / "0o660" are read so; an int written as 660 is refused saying so. One
        without the owner's write (0, 0o400, "0060"), which connecting needs, made a socket only root could use."""
        import re

        if isinstance(value, str) and re.fullmatch(r"(0o|0)?[0-7]{1,4}", value.strip()):
            value = int(value.strip().removeprefix("0o") or "0", 8)
        elif type(value) is int and value > 0o777 and set(str(value)) <= set("01234567"):  # 660 meant as 0o660
            raise ValueError(f"a file mode is octal: write 0o{value} (TOML) or \"{value:04d}\"")
        if type(value) is int and 0 <= value <= 0o777 and not value & 0o200:  # ADR 0033, round 13
            raise ValueError(f"0o{value:03o} leaves the socket's owner no write permission, which connecting to a unix "
                             "socket needs: the account the component runs as (its SDKs, ben status) could not "
                             "connect; give 0o600 (the owner) or 0o660 (and its group)")
        return value


class SidecarConfig(_WalQuota, _Scheduling, _Listener):
    """The ``[sidecar]`` section of the configuration."""

    data_dir: Path = Field(default_factory=lambda: ben_home() / "sidecar")
    listen: str = Field(default_factory=default_sidecar_address)
    spine: str = Field(default_factory=default_spine_address)
    #: Stable identity towards the spine; empty = generated once and kept in data_dir.
    id: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,64}$")
    tls_clients: CertificateNames = Field(default_factory=list)  # served over mTLS beyond telemetry (ADR 0045)
    #: WAL records shipped to the spine but not yet acknowledged, at most.
    ship_window_records: int = Field(default=64, ge=1, le=100_000)
    reconnect_min_ms: int = Field(default=50, ge=1)
    reconnect_max_ms: int = Field(default=5_000, ge=1)
    shutdown_timeout_ms: int = Field(default=5_000, ge=0)
    #: Redaction manifest (TOML, ADR 0014); none = the built-in default (``ben redact default``).
    redact_manifest: Path | None = None
    #: How often the manifest file is checked for changes (reloaded atomically); 0 = only on SIGHUP.
    redact_watch_interval_ms: int = Field(default=2_000, ge=0)
    control: ControlConfig = Field(default_factory=ControlConfig)
    otlp: OtlpConfig = Field(default_factory=OtlpConfig)
    #: Connections ``listen`` holds at once (unix socket and TCP); past it a new one is closed at accept, and one
    #: with no call for ``max_connection_idle_s`` is closed (the SDK reconnects): ADR 0045, round 12.
    max_connections: int = Field(default=4_096, ge=1, le=1_000_000)
    max_connection_idle_s: float = Field(default=300.0, gt=0, le=86_400)
    #: Plain loopback ``listen``: connections one account holds; when full the largest holder yields (ADR 0045, round 17).
    max_connections_per_client: int = Field(default=1_024, ge=1, le=1_000_000)
    #: Per client of ``listen`` (a uid on plain TCP, a certificate, the unix socket): senders it holds marks for (a new
    #: one past it refused for now unless one was silent ``sender_idle_s``) and calls at once: ADR 0045, round 15.
    max_senders_per_client: int = Field(default=16_384, ge=1, le=10_000_000)
    sender_idle_s: float = Field(default=600.0, ge=60, le=365 * 86_400)
    max_calls_per_client: int = Field(default=2_048, ge=1, le=1_000_000)

    _addresses = field_validator("listen", "spine")(lambda cls, v: check_address(v))

    @model_validator(mode="after")
    def _backoff_in_order(self):
        if self.reconnect_min_ms > self.reconnect_max_ms:  # the waits then ran between the two in no order
            raise ValueError(f"reconnect_min_ms = {self.reconnect_min_ms} is above reconnect_max_ms = "
                             f"{self.reconnect_max_ms}: the wait before a reconnect starts at the first and doubles "
                             "up to the second")
        return self


class SpineConfig(_WalQuota, _Scheduling, _Listener):
    """The ``[spine]`` section of the configuration."""

    data_dir: Path = Field(default_factory=lambda: ben_home() / "spine")
    wal_max_bytes: int = Field(default=4 << 30, ge=1 << 20)
    listen: str = Field(default_factory=default_spine_address)
    store: StoreConfig = Field(default_factory=StoreConfig)
    detect: DetectConfig = Field(default_factory=DetectConfig)
    shutdown_timeout_ms: int = Field(default=10_000, ge=0)
    control: ControlConfig = Field(default_factory=ControlConfig)
    #: Operators (ADR 0034); none = the user the spine runs as, by uid.
    operators: list[OperatorConfig] = Field(default_factory=list)
    #: The deployment's redaction manifest: a batch not redacted with it is redacted again before
    #: the WAL (ADR 0034); none = the built-in default, as in the sidecar.
    redact_manifest: Path | None = None
    federation: FederationConfig = Field(default_factory=FederationConfig)
    # -- descriptor floods on the listener (ADR 0045, round 5) ------------------------------------------
    #: Connections the listener holds at once (one per sidecar, plus operators); past it a new one is closed
    #: at accept, so a flood cannot take the descriptors of the WAL, the store and the sidecars' streams.
    max_connections: int = Field(default=10_000, ge=1, le=1_000_000)
    #: A connection with no call running for this long is closed (a sidecar or operator reconnects).
    max_connection_idle_s: float = Field(default=300.0, gt=0, le=86_400)
    #: Per client: senders (sidecars) it holds marks for, past it a new one refused, none retired; calls at once.
    max_senders_per_client: int = Field(default=4_096, ge=1, le=10_000_000)
    max_calls_per_client: int = Field(default=2_048, ge=1, le=1_000_000)

    _addresses = field_validator("listen")(lambda cls, v: check_address(v))

    @property
    def store_path(self) -> Path:
        return self.store.path or self.data_dir / "chdb"


class BenConfig(_Section):
    """The whole configuration file: ``[spine]``, ``[sidecar]``, ``[web]``, ``[cortex]``."""

    spine: SpineConfig = Field(default_factory=SpineConfig)
    sidecar: SidecarConfig = Field(default_factory=SidecarConfig)
    web: WebConfig = Field(default_factory=lambda: WebConfig())
    cortex: CortexConfig = Field(default_factory=CortexConfig)


#: Paths a config file may give relative to itself: per component table, (sub-table or "", keys).
_COMPONENT_PATHS = (("", ("data_dir", "redact_manifest")), ("store", ("path", "password_file")),
                    ("federation", ("policy", "pseudonym_key", "trust", "key", "tls_ca_file", "tls_cert_file",
                                    "tls_key_file", "token_file", "password_file")),
                    ("control", ("trust", "policy", "key", "audit_key_file")),
                    ("otlp", ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "auth_token_file")),
                    ("tls", ("cert", "key", "ca")))
_TOP_PATHS = (("cortex", ("data_dir", "responses")), ("web", ("token_file",)))


def _resolve_paths(raw: dict[str, Any], base: Path, source: str = "config") -> None:
    """Make relative paths in a file relative to the file's directory (in place); an empty one is refused."""

    def resolve(table: Any, keys: tuple[str, ...], where: str) -> None:
        if isinstance(table, dict):
            for key in keys:
                if isinstance(table.get(key), str):  # "~/x" is the user's home, as in a shell (was <config dir>/~/x)
                    if problem := path_problem(table[key]):  # "": the config's own directory; "a\nb" (round 8)
                        raise ConfigError(problem, source=source, field=f"{where}.{key}")
                    table[key] = str(base / expand_user(table[key]))

    for section in ("spine", "sidecar"):
        table = raw.get(section)
        if isinstance(table, dict):
            for sub, keys in _COMPONENT_PATHS:
                resolve(table.get(sub) if sub else table, keys, f"{section}.{sub}" if sub else section)
    for section, keys in _TOP_PATHS:
        resolve(raw.get(section), keys, section)
    if isinstance(raw.get("web"), dict):  # [web.tls]
        resolve(raw["web"].get("tls"), ("cert", "key", "ca"), "web.tls")


def _nearest_key(model: type | None, loc: tuple) -> str:
    """The valid key nearest to the unknown one at ``loc`` (dotted, as it would be written), or ""."""
    import difflib
    import typing

    from pydantic import BaseModel

    path: list[str] = []
    keyed = False  # the part after a table of tables ([actions.NAME] of a policy) is a name, not a field
    for part in loc[:-1]:
        if isinstance(part, int) or keyed:  # an element of a list of tables ([[spine.operators]])
            path.append(str(part))
            keyed = False
            continue
        field = model.model_fields.get(str(part)) if model is not None else None
        if field is None:
            return ""
        path.append(str(part))
        keyed = typing.get_origin(field.annotation) is dict
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    if model is None:
        return ""
    near = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return ".".join([*path, near[0]]) if near else ""


def validation_error(exc: ValidationError, source: str, model: type | None = None) -> ConfigError:
    """A pydantic error as a ConfigError naming the field (dotted) and the source; an unknown key of
    ``model`` (the validated class) names the valid key nearest to it."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own ValueError
    if err["type"] == "extra_forbidden":
        near = _nearest_key(model, tuple(err["loc"]))
        msg = f"unknown field; did you mean {near!r}?" if near else "unknown field (check its spelling and its [table])"
        if (there := _key_elsewhere(model, tuple(err["loc"]))):  # a key in the wrong table ([spine] retention_days)
            msg = (f"unknown field here: it belongs in [{there.rpartition('.')[0]}] ({there!r})" if len(err["loc"]) > 1
                   else f"a key at the top level (above every [table]): write it under its table's header ({there})")
        msg = _table_elsewhere(model, tuple(err["loc"]), err.get("input")) or msg  # [otlp], [spine.otlp]: round 13
    elif err["type"] == "model_type":
        msg = f"expected a table [{field}], got {err.get('input')!r:.60}"
    elif (unit := _unit_given(field, err.get("input"))):
        msg = f"a number of {unit}, without a unit: the key's name says it (got {err['input']!r})"
    elif "input" in err and not isinstance(err["input"], (dict, list)):
        msg = f"{msg} (got {err['input']!r})"
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(msg, source=source, field=field)


def read_toml(path: Path, what: str = "") -> dict[str, Any]:
    """A TOML file parsed; ConfigError naming the file (and ``what`` it is) when it cannot be."""
    label = f"{what} " if what else ""
    try:
        data = read_input(path)  # a regular file (or a pipe): a FIFO or /dev/zero no longer hangs
        text = utf8_text(data)  # a byte order mark first was "Invalid statement (at line 1, column 1)"
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ConfigError(f"{label}{missing_or_directory(path, exc)}", source=str(path)) from None
    except UnicodeDecodeError as exc:  # a binary file, or another encoding: where, not the codec's byte position
        line = data.count(b"\n", 0, exc.start) + 1
        why = "UTF-16 text, not UTF-8 (TOML is UTF-8: save the file as UTF-8)" if is_utf16(data) else \
            f"not UTF-8 text at line {line} (TOML is UTF-8; a binary file?)"
        raise ConfigError(f"{label}{why}", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc}" if what else f"cannot read: {exc}", source=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from None


#: Top-level keys of ben's other TOML files: given as the config, the error says which file it is (ADR 0033).
_OTHER_FILES = (({"keys", "roles", "sidecars"}, "a trust store", "[spine.control] trust"),
                ({"actions", "kill_switch"}, "a command policy", "[spine.control] policy"),
                ({"rule", "hash", "allow"}, "a redaction manifest", "[sidecar] redact_manifest"),
                ({"subsystems", "commands"}, "a cortex responses file", "[cortex] responses"))


def _other_file(raw: dict[str, Any]) -> str:
    """What ``raw`` is when it is another of ben's files and no config (no known table in it), or ""."""
    if not raw or set(raw) & set(BenConfig.model_fields):
        return ""
    return next((f"this is {what}, not a ben config ([spine], [sidecar], [web], [cortex]); a config names it in "
                 f"{where}" for keys, what, where in _OTHER_FILES if set(raw) & keys), "")


def ben_config_given(raw: dict[str, Any], what: str) -> str:
    """The error when ``raw`` (meant to be ``what``: a trust store, a policy...) is a ben config, or ""."""
    if raw and set(raw) <= set(BenConfig.model_fields):
        return f"this is a ben config ([{'], ['.join(raw)}]), not a {what}: a config names its {what} file"
    return ""


def parse_config(raw: dict[str, Any], source: str = "config") -> BenConfig:
    """Validate a parsed TOML document; errors name the field and the source."""
    if other := _other_file(raw):
        raise ConfigError(other, source=source)
    try:
        return BenConfig.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, source, BenConfig) from None


def load_config(path: Path | str | None) -> BenConfig:
    """Load and validate a config file; ``None`` gives the defaults."""
    if path is None:
        return BenConfig()
    path = Path(path)
    raw = read_toml(path)
    _resolve_paths(raw, path.resolve().parent, str(path))
    return parse_config(raw, source=str(path))
