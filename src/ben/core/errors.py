"""The one error tree of ben. Every error ben raises on purpose is a ``BenError``::

    BenError
    ├── ConfigError          bad config file, field or flag (names the field and the file)
    ├── TransportError       a peer could not be reached or the stream broke
    │   └── RetryableError   try again later (peer down, back-pressure)
    ├── WalError             the write-ahead log could not be opened, read or written
    └── StorageError         the store (chDB / ClickHouse) refused or failed
        ├── StoreUnavailableError  the store could not be reached or is overloaded: retry later
        └── QueryError       an operator's query was invalid or refused

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
