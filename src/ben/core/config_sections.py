"""Configuration sections of the services around the pipeline (OTLP, federation, web, cortex) and the
pieces every section shares (the strict base model, TLS files); :mod:`ben.core.config` assembles them
into the file's tables and re-exports them."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ben.core.address import check_address

__all__ = ["TlsConfig", "OtlpConfig", "FederationConfig", "WebConfig", "CortexConfig"]


#: The longest time an option may give (ADR 0033): past it a wait overflows the platform's timeouts
#: (``shutdown_timeout_ms = 99999999999999999`` stopped the spine with an OverflowError) or never ends.
MAX_TIME_S = 366 * 86_400


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _a_boolean_is_a_boolean(cls, value, info):
        """A yes/no option takes TOML's ``true``/``false`` only, and a number is not one (ADR 0033): pydantic
        read ``insecure = "yes"`` or ``= 1`` as true (turning TLS off), ``max_connections = true`` as 1."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        kinds = set(typing.get_args(field.annotation)) or {field.annotation}
        if bool in kinds and not isinstance(value, bool) and not (value is None and type(None) in kinds):
            raise ValueError("must be true or false (a TOML boolean, without quotes)")
        if isinstance(value, bool) and bool not in kinds and kinds & {int, float}:
            raise ValueError("must be a number, not true or false")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _an_integer_is_64_bits(cls, value):
        """TOML's integers are 64-bit, and so are the fields ben sends them in: ``wal_max_bytes = 10**30`` was taken,
        and then every acknowledgement failed to encode its credit (a uint64), a traceback per batch in the sidecar's
        log and **no event taken** (ADR 0033, round 13)."""
        if type(value) is int and not -2**63 <= value < 2**63:
            raise ValueError(f"must be at most {2**63 - 1:,} (TOML integers are 64-bit)")
        return value

    @field_validator("*")
    @classmethod
    def _a_time_is_bounded(cls, value, info):
        """Every ``*_s`` / ``*_ms`` option (a time, not a ``*_per_s`` rate) is finite and at most a year."""
        name = info.field_name or ""
        if name.endswith(("_s", "_ms")) and not name.endswith("_per_s") and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            limit = MAX_TIME_S * (1000 if name.endswith("_ms") else 1)
            if not value <= limit:  # NaN too
                raise ValueError(f"must be a finite time of at most a year ({limit:,} "
                                 f"{'milliseconds' if name.endswith('_ms') else 'seconds'})")
        return value


# -- authenticated transports and private files (ADR 0034) --------------------------------------------
def certificate_names(names: list[str]) -> list[str]:
    """A list of certificate names (common names ``ben certs issue`` can give), each checked."""
    from ben.core.certs import NAME_RE

    for name in names:
        if not NAME_RE.fullmatch(name):
            raise ValueError(f"{name!r} is no certificate name (letters, digits, . _ @ -; 64 at most)")
    return names


#: A user id as the kernel names a client: -1 or 2**40 named no account, and were taken (ADR 0033, round 13).
Uid = typing.Annotated[int, Field(ge=0, le=0xFFFF_FFFE)]


#: A list of certificate names, each checked (``sidecar.tls_clients``, ``web.tls_clients``).
CertificateNames = typing.Annotated[list[str], AfterValidator(certificate_names)]


class TlsConfig(_Section):
    """Mutual TLS on TCP: this component's certificate and key (PEM), and the CA its peers' certificates
    must chain to (``ben certs`` makes all three, or the operator's PKI)."""

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None

    @property
    def configured(self) -> bool:
        return self.cert is not None or self.key is not None or self.ca is not None


class OtlpConfig(_Section):
    """The sidecar's OTLP receiver (ben.otlp, ADR 0036): what OpenTelemetry SDKs and Collectors send.

    ``grpc_listen`` / ``http_listen``: ``host:port`` (port 0: any free port) or ``unix:///path``;
    "" turns that listener off. A non-loopback address needs TLS or ``insecure = true``.
    """

    grpc_listen: str = "127.0.0.1:4317"
    http_listen: str = "127.0.0.1:4318"
    #: Largest request accepted (after gzip inflation); larger ones are refused before parsing.
    max_request_bytes: int = Field(default=16 << 20, ge=1 << 10, le=256 << 20)
    #: Bytes of requests (after inflating) one client (a local account, named by the kernel; other hosts
    #: together) may have in the receiver at once, waiting for their turn or being converted; past it a request
    #: is answered 429 / RESOURCE_EXHAUSTED with a delay to retry after. At least ``max_request_bytes``: one
    #: request alone always passes (ADR 0045, round 11: a gzip body of 15 KB inflating to 15 MiB, 100 at once).
    max_bytes_in_flight_per_client: int = Field(default=64 << 20, ge=1 << 10, le=16 << 30)
    #: Log records with severity_number at or above this go to the alert lane (17 = ERROR); 0 = none.
    alert_severity_number: int = Field(default=17, ge=0, le=24)
    #: Spans also feed two series per (service, span name): span.duration_ms and span.errors.
    span_series: bool = True
    #: Requests delivered to the WAL concurrently (they share group commits).
    slots: int = Field(default=8, ge=1, le=256)
    #: TLS for both listeners (PEM files); required for a non-loopback address unless insecure = true.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    #: With TLS: clients must present a certificate this CA signed (mutual TLS; ``ben certs``).
    tls_client_ca_file: Path | None = None
    insecure: bool = False
    #: A private file (0600) with a bearer token every OTLP request must carry (ben.otlp.auth).
    auth_token_file: Path | None = None
    # -- a resend of an accepted request is answered success, not stored again (ben.otlp.dedup) ---------
    #: How long (seconds) a request's digest is remembered after it was stored; 0 turns this off.
    dedup_window_s: float = Field(default=600.0, ge=0, le=86_400)
    #: At most this many requests' digests are remembered (memory and WAL entries; oldest forgotten first).
    dedup_max_entries: int = Field(default=50_000, ge=0, le=10_000_000)
    # -- descriptor floods (ADR 0045, 2026-12-06 round 4) -------------------------------------------------
    #: Connections each listener holds at once (a local account's idle connections cannot take the sidecar's
    #: descriptors). OTLP/HTTP: past it the oldest idle one is closed; OTLP/gRPC: a new one is closed at accept.
    max_connections: int = Field(default=256, ge=1, le=65_536)
    #: An OTLP/gRPC connection with no call running for this long is closed (the exporter reconnects).
    max_connection_idle_s: float = Field(default=300.0, gt=0, le=86_400)
    #: Slow clients (slowloris): a connection whose request headers (OTLP/HTTP) or HTTP/2 handshake
    #: (OTLP/gRPC) are not complete within this many seconds is closed.
    slow_client_timeout_s: float = Field(default=10.0, gt=0, le=3_600)
    # -- each service.name's share of the alert lane (ben.otlp.alert_share; ADR 0045, round 4) -------------
    #: Alerts (ERROR and above, ben.alert = true) a subsystem may send a second, on average; past its share
    #: they are stored in the anomaly lane (otlp_alerts_demoted_total), never refused.
    alert_rate_per_subsystem_per_s: float = Field(default=10.0, gt=0, le=1_000_000)
    #: ... and at once (the bucket's depth, records).
    alert_burst_per_subsystem: int = Field(default=200, ge=1, le=10_000_000)
    # -- one local account, one set of shares (ADR 0045, round 6) -------------------------------------------
    #: Subsystems (service.names) of one client (a loopback client's uid, named by the kernel) with an
    #: alert share each; its other names share one more. Bounds what rotating made-up names can take.
    alert_subsystems_per_client: int = Field(default=32, ge=1, le=4_096)
    # -- OTLP connections per local account (ben.otlp.gate, http_server; ADR 0045, round 7) -------------------
    #: Connections one client (a loopback client's uid, named by the kernel) holds at once on each OTLP TCP
    #: listener (gRPC: its new ones are closed at accept; HTTP: its oldest idle one, else the new one), so its
    #: flood leaves room for other accounts.
    max_connections_per_client: int = Field(default=128, ge=1, le=65_536)
    # -- OTLP/gRPC calls per client (ben.otlp.call_budget; ADR 0045, round 16) ---------------------------------
    #: Calls one client (a certificate's name, else the kernel-named account) has in progress on the OTLP/gRPC
    #: listener, counted from the call's start; past it one is refused RESOURCE_EXHAUSTED with a RetryInfo.
    max_calls_per_client: int = Field(default=512, ge=1, le=1_000_000)

    @field_validator("grpc_listen", "http_listen")
    @classmethod
    def _otlp_address(cls, value: str) -> str:
        if not value:
            return value
        if value.endswith(":0") and not value.startswith("unix:"):
            check_address(value[:-1] + "1")
            return value
        return check_address(value)

    @model_validator(mode="after")
    def _tls_pair(self):
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("tls_client_ca_file needs tls_cert_file and tls_key_file")
        if self.max_bytes_in_flight_per_client < self.max_request_bytes:
            raise ValueError(f"max_bytes_in_flight_per_client ({self.max_bytes_in_flight_per_client}) must be at "
                             f"least max_request_bytes ({self.max_request_bytes}): one request alone always passes")
        return self


class FederationConfig(_Section):
    """Federation over NATS JetStream (ben.federation, ADR 0038): anonymised, signed incident summaries.

    Off unless ``enabled``. ``policy`` says which fields leave (default: only classes, no free-form text);
    ``pseudonym_key`` is the HMAC key file (0600); ``trust`` lists the clusters whose summaries are accepted.
    """

    enabled: bool = False
    #: NATS server URLs, e.g. ["nats://127.0.0.1:4222"].
    servers: list[str] = Field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    #: This cluster's name in summaries and subjects (letters, digits, '-', '_').
    cluster: str = Field(default="ben", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    stream: str = Field(default="BEN_FEDERATION", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    #: Summaries go to <subject_prefix>.<cluster>.<change>; peers consume <subject_prefix>.>.
    subject_prefix: str = Field(default="ben.federation", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
    #: JetStream's duplicate window for Nats-Msg-Id.
    dedup_window_s: int = Field(default=7 * 86_400, ge=60)
    #: Stream retention (max age of summaries in the stream).
    max_age_s: int = Field(default=30 * 86_400, ge=60)
    #: ... and its size: past it the oldest messages go first (a peer allowed to publish filled the NATS server's
    #: disk for max_age_s before; ADR 0045, round 10). 1 GiB holds about a million summaries.
    stream_max_bytes: int = Field(default=1 << 30, ge=1 << 20)
    policy: Path | None = None
    pseudonym_key: Path | None = None
    trust: Path | None = None
    #: Signing key; None = <data_dir>/federation/<cluster>.key, created at first start.
    key: Path | None = None
    #: Consume peers' summaries into ben.federated_incidents.
    consume: bool = True
    #: A summary delivered but not acked (the consumer died) is delivered again after this.
    ack_wait_s: int = Field(default=30, ge=1)
    poll_interval_ms: int = Field(default=1_000, ge=10)
    #: Days ben.federated_incidents keeps a received summary (TTL on received_ts, set at every start where
    #: the server has TTL); 0 = keep forever.
    retention_days: int = Field(default=90, ge=0, le=36_500)
    #: Replicas of the stream when ben creates it: 3 (R3) on a JetStream cluster of 3 or more servers.
    replicas: int = Field(default=1, ge=1, le=5)
    # -- the NATS link's own transport security (ADR 0038, 2026-12; ben.federation.security) --
    #: CA file the servers' certificates must chain to; set (or a tls:// server), every connection is TLS.
    tls_ca_file: Path | None = None
    #: Client certificate and key (PEM, key 0600) for servers that ask for one (mutual TLS).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    #: File holding the NATS token (one line, 0600).
    token_file: Path | None = None
    #: NATS user, and the file holding its password (one line, 0600).
    user: str = ""
    password_file: Path | None = None
    #: A server that is not loopback, without TLS, is refused unless this is true (a WARNING at each start).
    insecure: bool = False

    @model_validator(mode="after")
    def _window_within_age(self) -> FederationConfig:
        if self.dedup_window_s > self.max_age_s:
            raise ValueError("dedup_window_s must not exceed max_age_s (JetStream refuses such a stream)")
        return self


# -- web interface (ben web, ben spine --web; ADR 0037) ------------------------------------------------
class WebConfig(_Section):
    """Where the web interface listens. Loopback needs nothing; any other address needs an access token,
    read from the environment variable named by token_env or from token_file (one line)."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8427, ge=0, le=65535)
    #: The name of an environment variable (a blank, a newline, "1X" named none: "the environment variable   (named by
    #: web.token_env) is empty or unset", the line cut by the newline; ADR 0033, round 13).
    token_env: str = ""
    token_file: Path | None = None
    poll_interval_ms: int = Field(default=500, ge=50)
    #: The SQL page's results: a larger one is refused as it arrives ("add a LIMIT"), never held whole nor
    #: rendered (the page shows 1,000 rows; ``ben query`` has the spine's own bound).
    sql_max_result_bytes: int = Field(default=16 << 20, ge=64 << 10, le=256 << 20)
    #: HTTPS with client certificates ([web.tls] cert, key, ca; ``ben certs`` makes them): every
    #: client must present a certificate the CA signed; it stands in for the token off loopback.
    tls: TlsConfig = Field(default_factory=TlsConfig)
    #: With [web.tls]: the client certificates (common names) the interface serves, its operators'. Every
    #: certificate of ``tls.ca`` passes the handshake (a sidecar's too); the others are answered 403. Required
    #: with [web.tls] (ADR 0045, round 11).
    tls_clients: CertificateNames = Field(default_factory=list)
    #: Without a token or [web.tls] (loopback), the accounts served besides the one the interface
    #: runs as: any local user can reach a loopback port; the kernel names the client's uid.
    local_uids: list[Uid] = Field(default_factory=list)
    #: Slow clients (slowloris): a connection on which no request started for this many seconds, while
    #: none is running, is closed.
    header_timeout_s: float = Field(default=10.0, gt=0, le=3_600)
    #: And a request whose body is not all received this many seconds after its headers is answered 408
    #: and its connection closed (a client the interface serves, sending its body a byte at a time).
    body_timeout_s: float = Field(default=60.0, gt=0, le=3_600)

    @field_validator("token_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        import re

        if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("not the name of an environment variable (letters, digits and '_', not first a digit)")
        return value

    @field_validator("listen_host")
    @classmethod
    def _host(cls, value: str) -> str:
        """``[::1]``, an IPv6 address as a URL writes it, is that address (it could not be bound: "Name or service not
        known (choose another with --port)"; ADR 0033, round 10). Dotted numbers that are no IPv4 address are said
        so (999.1.1.1 was "not loopback: set web.token_env"; round 14)."""
        if problem := not_ipv4(value):
            raise ValueError(problem)
        return value[1:-1] if value.startswith("[") and value.endswith("]") else value


def not_ipv4(host: str) -> str:
    """Why ``host``, written as dotted numbers, is no IPv4 address ("" if it is one, or is not written so)."""
    import ipaddress
    import re

    if not re.fullmatch(r"[0-9.]+", host):
        return ""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return f"{host!r} is no IPv4 address (four numbers 0 to 255, e.g. 127.0.0.1)"
    return ""


# -- learning cortex (ben.cortex, ADR 0039) --
class CortexConfig(_Section):
    """Triage recommendations learned from outcomes ([cortex]; relative paths: from the file)."""

    #: History and model state; None = $BEN_HOME/cortex.
    data_dir: Path | None = None
    #: Candidate responses per subsystem (TOML, ben.cortex.responses); None = the cortex is off in
    #: ``ben explain`` (``ben cortex ...`` then offers only "watch").
    responses: Path | None = None
    #: Exploration: weight of the uncertainty in a response's score (0: the prior, forgetting and
    #: change detection explore; ADR 0039).
    alpha: float = Field(default=0.0, ge=0.0, le=10.0)
    #: Forgetting per learning update (1 = never forget); about 1/(1-discount) updates are remembered.
    discount: float = Field(default=0.995, gt=0.0, le=1.0)
    #: Size of the hashed feature vector.
    feature_dim: int = Field(default=64, ge=8, le=1024)
    #: An incident resolved within this after its accepted response counts as a success.
    resolve_within_s: float = Field(default=1800.0, gt=0)
    #: Change detection per response: the smallest fall of its reward that is looked for (0 = off)...
    change_drop: float = Field(default=0.3, ge=0.0, lt=1.0)
    #: ... and the CUSUM level at which the response forgets what it knew about such incidents.
    change_threshold: float = Field(default=3.0, gt=0.0, allow_inf_nan=False)  # inf: never (ADR 0033, round 13)
    #: How far before an incident's onset its subsystem's deploy/config log lines count as features.
    change_window_s: float = Field(default=3600.0, gt=0)


class OperatorConfig(_Section):
    """An operator allowed to List, Send, Decide, Query: by unix user id (local socket) or by the common
    name of a client certificate (TCP with mutual TLS); the name goes into the audit entries."""

    name: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    uids: list[Uid] = Field(default_factory=list)
    #: Common name of the operator's client certificate; "" = the name.
    cert: str = ""


class ControlConfig(_Section):
    """Signed commands (ben.control, ADR 0013). With no trust store every command is refused."""

    #: Trust store (TOML: roles and public keys). None = no key is trusted.
    trust: Path | None = None
    #: Policy (TOML: limits per action). None: the spine refuses every command; a sidecar
    #: without one relies on the spine's checks and enforces only signatures, replay and routing.
    policy: Path | None = None
    #: This component's own signing key (receipts, audit entries); None = <data_dir>/control/<name>.key,
    #: created at first start.
    key: Path | None = None
    #: How far a command's times may be off this clock (expiry, not-yet-valid).
    clock_skew_ms: int = Field(default=30_000, ge=0, le=3_600_000)
    #: A command may be valid for at most this long.
    max_ttl_s: int = Field(default=86_400, ge=1)
    #: A handler must answer within this (sidecar); then the receipt says failed.
    handler_timeout_ms: int = Field(default=30_000, ge=1)
    # -- commands under attack and load (ADR 0035) --
    #: Key that signs this component's audit entries, kept outside the data dir (its .pub beside
    #: it); None = the component's key. Then rewriting the log needs this key too.
    audit_key_file: Path | None = None
    #: Commands delivered to one sidecar and not yet answered, at most (spine; back-pressure).
    delivery_window: int = Field(default=64, ge=1, le=10_000)
    #: A delivered command without a receipt after this long is pushed again on the same stream (spine).
    redeliver_after_s: int = Field(default=60, ge=1)
    # -- the spine's query log: retention behind a signed anchor (ben.control.anchor; ADR 0045, round 4) --
    #: Entries kept at most (the oldest trimmed first); 0 = no bound.
    query_log_max_entries: int = Field(default=1_000_000, ge=0)
    #: Entries older than this (seconds) are trimmed; 0 = no bound. The newest entry is always kept.
    query_log_max_age_s: float = Field(default=90 * 86_400.0, ge=0)
    #: An operator's record (a cortex line) sent again within this long of its audit entry is answered with that
    #: entry; the keys that tell are trimmed past it (ben.control.records; ADR 0046 round 6). 0 = keep them all.
    record_dedup_window_s: float = Field(default=90 * 86_400.0, ge=0)
    #: Refused attaches of one caller audited one by one per ``attach_refusals_window_s``; past it counted, one entry
    #: a window says how many (ben.control.attach_refusals; ADR 0045, round 15).
    attach_refusals_audited: int = Field(default=10, ge=1, le=1_000_000)
    attach_refusals_window_s: float = Field(default=600.0, ge=1, le=86_400)
