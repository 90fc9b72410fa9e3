"""The store writer's book of INSERTs still in the WALs (generation and time of each)."""

from __future__ import annotations

from ben.spine.unsynced import Taken, Unsynced


def test_a_lane_is_replaced_when_any_of_its_inserts_was_taken_by_another_generation() -> None:
    book = Unsynced([0, 2])
    book.note(0, Taken(seq=5, generation=1, at=10.0))
    book.note(0, Taken(seq=9, generation=2, at=11.0))
    book.note(2, Taken(seq=3, generation=2, at=11.0))
    assert book.replaced({0: 9, 2: 3}, synced=2) == [0]
    assert book.replaced({0: 9, 2: 3}, synced=3) == [0, 2]  # the process that synced took none of them
    book.drop(0, 5)
    assert book.replaced({0: 9, 2: 3}, synced=2) == []
    assert book.replaced({0: 0, 2: 0}, synced=7) == []  # nothing to truncate: nothing to check


def test_only_inserts_older_than_the_wait_count_as_durable() -> None:
    book = Unsynced([0])
    book.note(0, Taken(seq=5, generation=0, at=10.0))
    book.note(0, Taken(seq=9, generation=0, at=12.0))
    assert book.durable_part({0: 9}, wait_s=0.0, now=12.0) == {0: 9}  # a store whose sync is enough
    assert book.durable_part({0: 9}, wait_s=3.0, now=12.5) == {0: 0}
    assert book.durable_part({0: 9}, wait_s=3.0, now=13.0) == {0: 5}
    assert book.durable_part({0: 9}, wait_s=3.0, now=15.0) == {0: 9}
    assert book.durable_part({0: 5}, wait_s=3.0, now=15.0) == {0: 5}  # never past the sync's job
