"""Admission: what the receiver does with one ingest request, decided without I/O (``admit``).

The receiver (``ben.core.receiver``) keeps, per (sender, lane), the durable high-water mark (the
last seq its WAL holds) and, while it refuses that sender, the first seq it refused (``refusals``).
``admit`` reads both and returns an ``Admission``: the verdict, the seq to acknowledge, and what to
write. The receiver applies it (counts, WAL append, marks, refusals); ``write_failed`` says what
becomes of a request whose lane's WAL append then failed. Both are pure: tested without asyncio.

Verdicts, in the order they are decided:

- REJECTED, first: a sender id that can have no mark (empty, or over ``MAX_SENDER_ID_CHARS``), or a range that
  is none (``first_seq`` 0, or ``last_seq`` below it), naming no seq: refused with ``error``, acknowledged at the
  mark, which it does not move (nor make). It was a DUPLICATE when ``last_seq`` was at most the
  mark (``0..0`` with its events acknowledged at mark 0, no error: its sender believed stored what never was), and
  otherwise moved the mark to its ``last_seq`` (``5..3`` at mark 1 made the sender's next batch, 2, a
  "duplicate" never stored; ADR 0045, round 14).
- DUPLICATE: ``last_seq`` is at most the mark (a resend after a reconnect or a crash):
  acknowledged again at the mark, nothing stored.
- HELD: a request of the same (sender, lane) before this one was refused and not resent yet:
  refused too, at the mark, for the same reason and ``retry_after_ms`` as that one (``quota`` or
  ``wal_error``, from ``refusal_reasons``); the sender resends from the mark.
- REJECTED: invalid (unknown lane, overlapping range, a batch that fails
  validation), undecodable or unencodable (``reason``): refused for good with ``error``; its range
  is passed over (the mark moves to its ``last_seq``) so the sender goes on.
- OVER_QUOTA: its payload does not fit in what the WALs' byte budget leaves its lane (``room``):
  refused for now at the mark, nothing stored; the receiver refuses what follows (HELD) until the
  sender resends it.
- ACCEPTED: appended to its lane's WAL with the new mark; acknowledged at its ``last_seq`` once durable.
- WAL_ERROR (``write_failed``, after the append): its lane's WAL could not be written (e.g. a full
  disk): refused for now at the durable mark; what follows is HELD until the sender resends it.

``resumed``: the request is the resend of a refused one (its ``first_seq`` is at most the refused
seq): the refusal is lifted whatever becomes of it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container, Mapping
from typing import NamedTuple

from ben.core import batch as batch_check
from ben.v1 import telemetry_pb2 as pb

RETRY_AFTER_MS_QUOTA = 200
RETRY_AFTER_MS_WAL_ERROR = 1000
RETRY_AFTER_MS = {"quota": RETRY_AFTER_MS_QUOTA, "wal_error": RETRY_AFTER_MS_WAL_ERROR}  # by refusal reason

Key = tuple[str, int]   # (sender_id, lane)


class Verdict(enum.Enum):
    """What becomes of one request (see the module's docstring)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    HELD = "held"
    REJECTED = "rejected"
    OVER_QUOTA = "over_quota"
    WAL_ERROR = "wal_error"


class Admission(NamedTuple):
    """The receiver's answer to one request, before (or, for WAL_ERROR, after) the WAL append."""

    verdict: Verdict
    ack_seq: int            # the ack's durable_seq
    error: str = ""         # REJECTED: why, for the sender (and the log)
    retry_after_ms: int = 0  # refused for now: when to try again
    reason: str = ""        # REJECTED: invalid / undecodable / unencodable; refused: quota / wal_error
    payload: bytes = b""    # ACCEPTED: the WAL record
    resumed: bool = False   # the resend of a refused request: its refusal is lifted

    @property
    def moves_mark(self) -> bool:
        """The (sender, lane) mark moves to the request's last_seq (its range is done with)."""
        return self.verdict in (Verdict.ACCEPTED, Verdict.REJECTED)


def key_of(request: pb.IngestRequest) -> Key:
    """The (sender, lane) a request's marks and refusals are kept under."""
    return (request.sender_id, request.lane)


def admit(request: pb.IngestRequest, marks: Mapping[Key, int], refusals: Mapping[Key, int], *,
          lanes: Container[int], room: int | None, encode: Callable[[], bytes | str],
          undecodable: str = "", refusal_reasons: Mapping[Key, str] | None = None) -> Admission:
    """What to do with ``request``. ``marks``: durable marks by (sender, lane), including those this
    commit group moved; ``refusals``: the first refused seq by (sender, lane); ``lanes``: the lanes
    served; ``room``: bytes the quota still leaves the request's lane (None: no quota); ``encode()``:
    the WAL payload, or why it could not be made (a str), called only for a request to be stored;
    ``undecodable``: why its bytes could not be decoded (the request is then its header only);
    ``refusal_reasons``: why each refusal of ``refusals`` was made (default ``quota``)."""
    key = key_of(request)
    mark = marks.get(key, 0)
    bad = _bad_sender(request) or _bad_range(request)
    if bad:  # no mark to keep, or no seq named: nothing durable, nothing to pass over
        return Admission(Verdict.REJECTED, mark, error=bad, reason="invalid")
    if request.last_seq <= mark:  # already durable: acknowledge again, store nothing
        return Admission(Verdict.DUPLICATE, mark)
    resumed = False
    refused = refusals.get(key)
    if refused is not None:
        if request.first_seq > refused:  # still behind a refused request: refuse too, for its reason
            why = (refusal_reasons or {}).get(key, "quota")
            return Admission(Verdict.HELD, mark, retry_after_ms=RETRY_AFTER_MS[why], reason=why)
        resumed = True  # the sender came back to resend it
    error = check(request, mark, lanes=lanes, undecodable=undecodable)
    reason = "undecodable" if undecodable else "invalid"
    payload: bytes | str = b""
    if not error:
        payload = encode()
        if isinstance(payload, str):
            error, reason = payload, "unencodable"
    if error:
        return Admission(Verdict.REJECTED, request.last_seq, error=error, reason=reason, resumed=resumed)
    if room is not None and len(payload) > room:
        return Admission(Verdict.OVER_QUOTA, mark, retry_after_ms=RETRY_AFTER_MS_QUOTA, reason="quota",
                         resumed=resumed)
    return Admission(Verdict.ACCEPTED, request.last_seq, payload=payload, resumed=resumed)


def write_failed(request: pb.IngestRequest, mark: int) -> Admission | None:
    """What becomes of a request of a commit group whose lane's WAL append failed, ``mark`` being its
    (sender, lane)'s durable mark: refused for now (WAL_ERROR), or None if it is durable already."""
    if request.last_seq <= mark:
        return None
    return Admission(Verdict.WAL_ERROR, mark, retry_after_ms=RETRY_AFTER_MS_WAL_ERROR, reason="wal_error")


#: Characters of a sender id at most: ben's are an SDK's 32 hex digits, a sidecar's id (64 at most), an OTLP
#: sender's ``otlp-<sidecar>-u<uid>-<slot>``. A mark is kept per (sender, lane) for good, in memory and in the WAL's
#: metadata, read at every start: 2,000 sender ids of 100,000 characters took a sidecar from 103 MB to 533 MB, and
#: it started again at 493 MB (ADR 0045, round 14).
MAX_SENDER_ID_CHARS = 128


def _bad_sender(request: pb.IngestRequest) -> str:
    """Why ``sender_id`` can have no mark ("" when it can): empty, or longer than ``MAX_SENDER_ID_CHARS``."""
    if not request.sender_id:
        return "field 'sender_id' is empty"
    if len(request.sender_id) > MAX_SENDER_ID_CHARS:
        return (f"field 'sender_id' has {len(request.sender_id)} characters, more than {MAX_SENDER_ID_CHARS} "
                "(nothing of the request was stored)")
    return ""


def _bad_range(request: pb.IngestRequest) -> str:
    """Why ``first_seq``..``last_seq`` is no range ("" when it is one): sequence numbers start at 1."""
    if request.first_seq < 1 or request.last_seq < request.first_seq:
        return (f"bad sequence range {request.first_seq}..{request.last_seq} (fields 'first_seq' and 'last_seq': "
                "first_seq at least 1, last_seq at least first_seq; nothing of it was stored)")
    return ""


def check(request: pb.IngestRequest, mark: int, *, lanes: Container[int], undecodable: str = "") -> str:
    """Why the request is invalid ("" if it is not)."""
    if request.lane not in lanes:
        return f"field 'lane' holds unknown lane {request.lane}"
    bad = _bad_range(request)
    if bad:
        return bad
    if request.first_seq <= mark:
        return f"range {request.first_seq}..{request.last_seq} overlaps what is already durable (up to {mark})"
    if undecodable:
        return undecodable
    try:
        batch_check.validate(request.batch)
    except batch_check.BatchError as exc:
        return str(exc)
    return ""
