"""The one error tree of ben. Every error ben raises on purpose is a ``BenError``::

    BenError
    ├── ConfigError          bad config file, field or flag (names the field and the file)
    ├── InvalidEventError    an SDK call's argument cannot be sent (names the argument; Client(strict=True))
    ├── TransportError       a peer could not be reached or the stream broke
    │   └── RetryableError   try again later (peer down, back-pressure)
    ├── WalError             the write-ahead log could not be opened, read or written
    ├── StorageError         the store (chDB / ClickHouse) refused or failed
    │   ├── StoreUnavailableError  the store could not be reached or is overloaded: retry later
    │   └── QueryError       an operator's query was invalid or refused
    ├── RedactionError       a redaction manifest is invalid or its hash key missing (names file, rule, line)
    └── ControlError         a command, approval, receipt or audit entry is not acceptable
        ├── SignatureError   bad or unknown signature, key, role, envelope bytes, expiry, replay
        ├── PolicyError      policy refuses it (target, rate, blast radius, breaker, approval, kill switch)
        └── AuditError       the audit log is damaged: an entry altered, removed or reordered

Adapter errors (grpc, rocksdict, chdb, clickhouse-driver) are translated at the edge with ``raise X from exc``
and never leak out of ben's public functions.
"""

from __future__ import annotations


class BenError(Exception):
    """Base of every error ben raises on purpose."""


class ConfigError(BenError):
    """A config file, field or command-line flag is invalid.

    ``source`` is the file (or "command line"); ``field`` the dotted field name.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        where = ", ".join(p for p in (source and f"in {source}", field and f"field {field!r}") if p)
        super().__init__(f"{where}: {message}" if where else message)


class InvalidEventError(BenError, ValueError):
    """An event's argument cannot be sent as it is (``field`` names the argument: ts, name, attrs['k'], ...)."""

    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(f"argument {field!r}: {message}")


class TransportError(BenError):
    """A peer could not be reached, or a stream to it broke."""


class RetryableError(TransportError):
    """A transient failure: the operation may succeed if tried again later."""


class WalError(BenError):
    """The write-ahead log could not be opened, read or written."""


class StorageError(BenError):
    """The store refused or failed an operation."""


class StoreUnavailableError(StorageError):
    """The store (a ClickHouse server) could not be reached or is overloaded; retrying may succeed."""


class QueryError(StorageError):
    """An operator's query was invalid or refused."""


class RedactionError(BenError):
    """A redaction manifest is invalid, or a rule cannot run (e.g. its hash key is missing).

    ``source`` is the manifest file, ``rule`` the rule's name (or its position), ``line`` the
    line of the rule (or of the offending key) in the file.
    """

    def __init__(self, message: str, *, source: str | None = None, rule: str | None = None,
                 line: int | None = None):
        self.source = source
        self.rule = rule
        self.line = line
        self.reason = message
        where = ", ".join(p for p in (source and f"in {source}", rule and f"rule {rule!r}",
                                      line and f"line {line}") if p)
        super().__init__(f"{where}: {message}" if where else message)


class ControlError(BenError):
    """A command, approval, receipt or audit entry is not acceptable.

    ``reason`` is a short machine-readable code (e.g. ``bad_signature``, ``over_rate``) that
    receipts, audit entries and figures carry; the message is the sentence for a human.
    """

    reason = "refused"

    def __init__(self, message: str, *, reason: str | None = None):
        if reason is not None:
            self.reason = reason
        super().__init__(message)


class SignatureError(ControlError):
    """Not provably from someone allowed to send it: signature, key, role, bytes, time or replay."""

    reason = "bad_signature"


class PolicyError(ControlError):
    """Signed correctly but outside the limits a human set in the policy."""

    reason = "policy"


class AuditError(ControlError):
    """The audit log does not verify: an entry was altered, removed or reordered."""

    reason = "audit"
