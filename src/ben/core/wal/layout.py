"""How records and metadata are laid out in RocksDB keys and values, and the decoded Record."""

from __future__ import annotations

import struct
from dataclasses import dataclass

_REC = b"r"
_META = b"m"
_LAST_SEQ = _META + b"last_seq"
_HEADER = struct.Struct(">IQ")  # crc32, appended_at_ns
_SEQ = struct.Struct(">Q")


def _key(seq: int) -> bytes:
    return _REC + _SEQ.pack(seq)


@dataclass(frozen=True, slots=True)
class Record:
    """One WAL record: its sequence number, when it was appended, and its payload."""

    seq: int
    appended_at_ns: int
    payload: bytes
