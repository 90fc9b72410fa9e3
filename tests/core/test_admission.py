"""Admission as a pure function: every verdict, without asyncio, WALs or a receiver."""

from __future__ import annotations

import pytest

from ben.core.admission import (RETRY_AFTER_MS_QUOTA, RETRY_AFTER_MS_WAL_ERROR, Admission, Verdict, admit,
                                write_failed)
from ben.core.lanes import ALERT, LANES, ROUTINE
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request

A = ("a", ROUTINE)


def req(first: int, last: int | None = None, sender: str = "a", lane: int = ROUTINE) -> pb.IngestRequest:
    r = request(first, [(pb.KIND_LOG, "m", 1.0, f"body {first}", None)], sender=sender, seq=first, lane=lane)
    r.last_seq = first if last is None else last
    return r


class Encoder:
    """An encode() that counts its calls."""

    def __init__(self, payload: bytes | str = b"x" * 10):
        self.payload, self.calls = payload, 0

    def __call__(self) -> bytes | str:
        self.calls += 1
        return self.payload


def run(request: pb.IngestRequest, marks=None, refusals=None, room: int | None = None, payload=b"x" * 10,
        undecodable: str = "") -> tuple[Admission, int]:
    encode = Encoder(payload)
    out = admit(request, marks or {}, refusals or {}, lanes=LANES, room=room, encode=encode, undecodable=undecodable)
    return out, encode.calls


def test_accepted_carries_its_payload_and_moves_the_mark() -> None:
    out, calls = run(req(3, 5), marks={A: 2})
    assert out == Admission(Verdict.ACCEPTED, 5, payload=b"x" * 10) and calls == 1
    assert out.moves_mark
    # the marks are per (sender, lane): another sender's or another lane's mark does not count
    assert run(req(1), marks={("b", ROUTINE): 9, ("a", ALERT): 9})[0].verdict is Verdict.ACCEPTED


def test_duplicate_is_acknowledged_at_the_mark_and_never_encoded() -> None:
    for first, last in ((1, 1), (2, 4), (4, 4)):
        out, calls = run(req(first, last), marks={A: 4}, refusals={A: 5})
        assert out == Admission(Verdict.DUPLICATE, 4) and calls == 0
        assert not out.moves_mark


def test_held_behind_a_refused_request() -> None:
    out, calls = run(req(7), marks={A: 4}, refusals={A: 5})
    assert out == Admission(Verdict.HELD, 4, retry_after_ms=RETRY_AFTER_MS_QUOTA, reason="quota") and calls == 0
    assert not out.moves_mark and not out.resumed


def test_held_behind_a_wal_error_keeps_its_reason_and_wait() -> None:
    from ben.core.admission import RETRY_AFTER_MS_WAL_ERROR

    encode = Encoder(b"x")
    out = admit(req(7), {A: 4}, {A: 5}, lanes=LANES, room=None, encode=encode, refusal_reasons={A: "wal_error"})
    assert out == Admission(Verdict.HELD, 4, retry_after_ms=RETRY_AFTER_MS_WAL_ERROR, reason="wal_error")


def test_the_resend_of_a_refused_request_lifts_the_refusal() -> None:
    out, _ = run(req(5, 6), marks={A: 4}, refusals={A: 5})
    assert out.verdict is Verdict.ACCEPTED and out.resumed and out.ack_seq == 6
    out, _ = run(req(5, 6), marks={A: 4}, refusals={A: 5}, room=3)   # refused again, but as itself
    assert out.verdict is Verdict.OVER_QUOTA and out.resumed
    assert run(req(5), marks={A: 4}, refusals={("b", ROUTINE): 5})[0].resumed is False


def test_over_quota_is_refused_for_now_at_the_mark() -> None:
    out, calls = run(req(3), marks={A: 2}, room=9)
    assert out == Admission(Verdict.OVER_QUOTA, 2, retry_after_ms=RETRY_AFTER_MS_QUOTA, reason="quota")
    assert calls == 1 and not out.moves_mark
    assert run(req(3), marks={A: 2}, room=10)[0].verdict is Verdict.ACCEPTED   # exactly what is left: fits
    assert run(req(3), room=None, payload=b"x" * 10**6)[0].verdict is Verdict.ACCEPTED   # no quota


@pytest.mark.parametrize("change, error", [
    (lambda r: setattr(r, "lane", 9), "field 'lane' holds unknown lane 9"),
    (lambda r: setattr(r.batch, "producer_id", ""), "field 'producer_id' is empty"),
])
def test_invalid_is_rejected_for_good_and_never_encoded(change, error) -> None:
    r = req(3)
    change(r)
    out, calls = run(r, room=0)
    assert out.verdict is Verdict.REJECTED and out.error.startswith(error) and out.reason == "invalid" and calls == 0
    assert out.ack_seq == r.last_seq and out.moves_mark and out.retry_after_ms == 0


@pytest.mark.parametrize("first, last, mark", [(0, 0, 0), (0, 0, 5), (0, 3, 0), (0, 3, 5), (9, 3, 5), (3, 2, 0),
                                               (5, 3, 1)])
def test_a_range_that_is_none_is_never_a_duplicate_and_never_moves_the_mark(first, last, mark) -> None:
    """0..0 at mark 0 was acknowledged at 0 with no error: its sender took its events as stored; 5..3 at mark 1 moved
    the mark to 3, and the sender's next batch (2) was a "duplicate" never stored (round 14). Refused naming the
    fields, acknowledged at the mark, which it does not move."""
    out, calls = run(req(first, last), marks={A: mark} if mark else {})
    assert out.verdict is Verdict.REJECTED and out.reason == "invalid" and calls == 0, out
    assert out.error.startswith(f"bad sequence range {first}..{last}") and "'first_seq'" in out.error, out
    assert out.ack_seq == mark and out.retry_after_ms == 0


@pytest.mark.parametrize("sender, error", [("", "field 'sender_id' is empty"),
                                           ("s" * 129, "field 'sender_id' has 129 characters, more than 128")])
def test_a_sender_id_that_can_have_no_mark_makes_none(sender, error) -> None:
    """A mark is kept per (sender, lane) for good: an empty sender's was made, and 100,000-character ones took a
    sidecar's memory at every start (round 14). Refused naming the field, acknowledged at 0, no mark made."""
    out, calls = run(req(3, 5, sender=sender))
    assert out.verdict is Verdict.REJECTED and out.error.startswith(error) and calls == 0, out
    assert out.ack_seq == 0
    assert run(req(1, sender="s" * 128))[0].verdict is Verdict.ACCEPTED


def test_a_range_overlapping_what_is_durable_is_rejected() -> None:
    for first in (3, 4):   # starts before the mark, or at it
        out, calls = run(req(first, 6), marks={A: 4})
        assert out.verdict is Verdict.REJECTED and calls == 0
        assert out.error == f"range {first}..6 overlaps what is already durable (up to 4)"


def test_undecodable_and_unencodable_are_rejected_with_their_reason() -> None:
    out, calls = run(req(3), undecodable="undecodable request: bad utf-8")
    assert (out.verdict, out.reason, out.error, calls) == (Verdict.REJECTED, "undecodable",
                                                           "undecodable request: bad utf-8", 0)
    out, calls = run(req(3), payload="could not be encoded: ValueError: no")
    assert (out.verdict, out.reason, out.error, calls) == (Verdict.REJECTED, "unencodable",
                                                           "could not be encoded: ValueError: no", 1)
    assert out.ack_seq == 3 and out.moves_mark


def test_a_failed_wal_write_refuses_what_is_not_durable() -> None:
    refused = write_failed(req(3, 5), mark=2)
    assert refused == Admission(Verdict.WAL_ERROR, 2, retry_after_ms=RETRY_AFTER_MS_WAL_ERROR, reason="wal_error")
    assert not refused.moves_mark
    assert write_failed(req(1, 2), mark=2) is None   # durable before this group: still acknowledged
