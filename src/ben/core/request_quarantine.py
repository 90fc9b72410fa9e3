"""Refused ingest requests kept beside the WAL quarantine, for an operator (the receiver's, ``ben.core.receiver``)."""

from __future__ import annotations

import logging
import re

from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger("ben.core.receiver")

#: Refused requests kept as files in the quarantine dir per run; past it only counted (no full disk).
MAX_QUARANTINE_FILES = 1_000


def quarantine_request(wals: dict, kept: int, req: pb.IngestRequest, raw: bytes, reason: str) -> bool:
    """Keep a refused request's bytes (``raw``, or the request serialized) and ``reason`` in its lane's WAL
    quarantine directory; ``kept``: how many this run kept already. Whether it was kept."""
    if kept >= MAX_QUARANTINE_FILES:
        log.warning("not keeping refused request %d..%d of %s: %d kept already (MAX_QUARANTINE_FILES)",
                    req.first_seq, req.last_seq, req.sender_id, kept)
        return False
    wal = wals.get(req.lane) or next(iter(wals.values()))
    stem = (f"ingest-{re.sub(r'[^A-Za-z0-9_-]', '_', req.sender_id)[:64]}-{req.lane}-"
            f"{req.first_seq}-{req.last_seq}")
    try:
        raw = raw or req.SerializeToString()
    except Exception:  # noqa: BLE001 - the reason is what matters
        raw = b""
    try:
        wal.quarantine_dir.mkdir(parents=True, exist_ok=True)
        (wal.quarantine_dir / f"{stem}.bin").write_bytes(raw)
        (wal.quarantine_dir / f"{stem}.reason").write_text(reason + "\n", errors="replace")
    except OSError as exc:
        log.error("could not quarantine refused request %s: %s", stem, exc)
        return False
    return True
