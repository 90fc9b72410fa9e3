from __future__ import annotations

import threading
import time

from ben.core.lanes import ALERT, ROUTINE
from ben.sdk.buffer import Buffer, FullPolicy
from ben.v1 import telemetry_pb2 as pb


def make(max_events: int = 10, batch: int = 4, policy: FullPolicy = FullPolicy.DROP, timeout: float | None = None):
    seals = []
    return Buffer(max_events, batch, policy, timeout, lambda: seals.append(1)), seals


def add(buf: Buffer, name: str = "m"):
    return buf.append(1, name, 1.0, "", None, 0)


def test_sequence_numbers_and_sealing_by_size() -> None:
    buf, seals = make()
    assert [add(buf) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert len(seals) == 1  # the 4th event filled a batch
    assert [(b.first_seq, b.last_seq) for b in buf.unsent(ROUTINE, 0, max_batches=10)] == [(1, 4)]
    assert buf.seal() and len(seals) == 2
    assert [(b.first_seq, b.last_seq) for b in buf.unsent(ROUTINE, 0, max_batches=10)] == [(1, 4), (5, 5)]


def test_unsent_lists_sealed_batches_after_a_mark_up_to_a_count() -> None:
    """The window itself is the sender's (tests/core/test_sender.py)."""
    buf, _ = make(max_events=100, batch=2)
    for _ in range(8):
        add(buf)
    assert [b.first_seq for b in buf.unsent(ROUTINE, 0, max_batches=2)] == [1, 3]
    assert [b.first_seq for b in buf.unsent(ROUTINE, 4, max_batches=2)] == [5, 7]
    buf.ack(ROUTINE, 2)
    assert [b.first_seq for b in buf.unsent(ROUTINE, 0, max_batches=9)] == [3, 5, 7]


def test_drop_policy_counts_and_never_blocks() -> None:
    buf, _ = make(max_events=10)
    results = [add(buf) for _ in range(15)]
    assert results[:10] == list(range(1, 11)) and results[10:] == [None] * 5
    assert buf.stats.dropped_full == 5 and buf.stats.emitted == 10


def test_acks_free_room_and_count() -> None:
    buf, _ = make(max_events=8, batch=4)
    for _ in range(8):
        add(buf)
    assert add(buf) is None
    buf.ack(ROUTINE, 4)
    assert buf.acked_seq == 4 and buf.buffered == 4 and buf.stats.acked == 4
    assert add(buf) == 9


def test_rejected_batches_are_counted_apart() -> None:
    buf, _ = make(batch=2)
    for _ in range(4):
        add(buf)
    buf.ack(ROUTINE, 2)
    buf.ack(ROUTINE, 4, error="bad batch")
    assert buf.stats.acked == 2 and buf.stats.rejected == 2 and buf.buffered == 0


def test_block_policy_waits_for_room() -> None:
    buf, _ = make(max_events=4, batch=4, policy=FullPolicy.BLOCK, timeout=30)
    for _ in range(4):
        add(buf)
    got = []
    waiter = threading.Thread(target=lambda: got.append(add(buf)))
    waiter.start()
    assert not buf.wait_acked(1, timeout=0.2)  # nothing acknowledged: the emitter is still waiting
    assert waiter.is_alive() and got == []
    buf.ack(ROUTINE, 4)
    waiter.join(timeout=10)
    assert got == [5] and buf.stats.dropped_full == 0


def test_block_policy_gives_up_after_timeout() -> None:
    buf, _ = make(max_events=2, batch=2, policy=FullPolicy.BLOCK, timeout=0.05)
    add(buf), add(buf)
    started = time.monotonic()
    assert add(buf) is None
    assert time.monotonic() - started >= 0.05
    assert buf.stats.dropped_full == 1


def test_invalid_events_are_counted_not_raised() -> None:
    buf, _ = make()
    assert buf.append(1, "", 1.0, "", None, 0) is None
    assert buf.append(1, "m", "nan-ish", "", None, 0) is None
    assert buf.append(1, "m", 1.0, "", ["x"], 0) is None
    assert buf.stats.invalid == 3 and add(buf) == 1


def test_closed_buffer_drops() -> None:
    buf, _ = make()
    buf.close()
    assert add(buf) is None and buf.stats.dropped_closed == 1


def test_alerts_travel_in_their_own_lane() -> None:
    buf, _ = make(max_events=100, batch=10)
    add(buf), add(buf)                                     # 1, 2: routine
    assert buf.append(pb.KIND_ALERT, "down", 1.0, "", None, 0) == 3
    add(buf)                                               # 4: routine
    assert buf.seal()
    [alert] = buf.unsent(ALERT, 0, max_batches=10)
    [routine] = buf.unsent(ROUTINE, 0, max_batches=10)
    assert (alert.first_seq, alert.last_seq, alert.n) == (3, 3, 1)
    assert (routine.first_seq, routine.last_seq, routine.n) == (1, 4, 3)
    assert list(routine.build(pb.Source(), "p").event_seqs) == [1, 2, 4]
    buf.ack(ALERT, 3)
    assert buf.acked_seq == 0  # 1, 2 and 4 are not acknowledged yet
    buf.ack(ROUTINE, 4)
    assert buf.acked_seq == 4 and buf.stats.acked == 4


def test_routine_data_cannot_shed_alerts() -> None:
    buf, _ = make(max_events=10, batch=100)
    for _ in range(10):
        add(buf)
    assert add(buf) is None and buf.stats.dropped_full == 1  # routine: full
    assert buf.append(pb.KIND_ALERT, "down", 1.0, "", None, 0) == 11  # an alert still gets in
    assert buf.unsent(ALERT, 0, max_batches=10)[0].first_seq == 11  # and leaves at once (sealed)
