"""``ben.core.senders.SenderBook`` (ADR 0045, round 15): how many senders each client holds marks for, with a
made-up clock. The real-process test is ``tests/sidecar/test_sender_bound.py``."""

from __future__ import annotations

from ben.core.senders import INTERNAL, SenderBook


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _idle(sender: str) -> bool:
    return False


def test_a_client_past_its_bound_is_refused_naming_it_and_another_client_is_not() -> None:
    book = SenderBook(3, None, "spine.max_senders_per_client", clock=Clock())
    for s in ("a", "b", "c"):
        assert book.room("uid 1", _idle, s) == ("", [])
        book.add(s, "uid 1")
    why, retired = book.room("uid 1", _idle, "d")
    assert "spine.max_senders_per_client" in why and "3 senders" in why and retired == []
    assert book.room("uid 2", _idle, "e") == ("", [])  # another client has its own bound
    assert book.room(INTERNAL, _idle, "otlp-0") == ("", [])  # senders made inside the process are not counted
    assert book.refused == 1 and book.held("uid 1") == 3


def test_the_least_recently_heard_sender_silent_long_enough_is_retired_for_a_new_one() -> None:
    clock = Clock()
    book = SenderBook(2, 600.0, "sidecar.max_senders_per_client", clock=clock)
    book.add("old", "uid 1")
    clock.now += 10
    book.add("young", "uid 1")
    clock.now += 595  # "old" silent 605 s, "young" 595 s
    book.heard("young")
    assert book.room("uid 1", _idle, "new") == ("", ["old"])  # old is gone: its marks go
    book.add("new", "uid 1")
    assert not book.known("old") and book.known("young") and book.retired == 1
    why, _ = book.room("uid 1", _idle, "newer")  # young and new were heard within 600 s: kept, refused
    assert "none silent for 600 s" in why


def test_a_sender_with_a_refusal_pending_is_never_retired() -> None:
    clock = Clock()
    book = SenderBook(1, 60.0, "sidecar.max_senders_per_client", clock=clock)
    book.add("waiting", "uid 1")
    clock.now += 3_600
    why, retired = book.room("uid 1", lambda s: s == "waiting", "new")
    assert why and retired == [] and book.known("waiting")


def test_senders_read_at_start_are_no_client_s_and_go_once_silent() -> None:
    clock = Clock()
    book = SenderBook(1, 60.0, "sidecar.max_senders_per_client", clock=clock)
    book.load(["from-before-1", "from-before-2"])
    assert book.room("uid 1", _idle, "a") == ("", [])  # not charged to uid 1
    book.add("a", "uid 1")
    book.heard("from-before-2")
    clock.now += 61
    book.heard("from-before-2")
    assert book.room("uid 2", _idle, "b") == ("", ["from-before-1"])
    assert book.known("from-before-2") and not book.known("from-before-1")


def test_a_retired_sender_s_marks_leave_the_wal_and_a_refused_one_makes_none(tmp_path) -> None:
    """The receiver with real WALs: a client at its bound is refused a new sender (mark 0, ``retry_after_ms``, the
    option named, no mark written); once its sender is silent ``idle_s``, that sender's marks are deleted from the
    WALs' metadata in the next commit and the new one is stored; after a restart only the kept marks are read."""
    import asyncio

    from ben.core.lanes import ALERT, ROUTINE, open_wals
    from ben.core.receiver import IngestReceiver, _Pending
    from tests.core.test_receiver import req

    clock = Clock()

    async def send(rx: IngestReceiver, client: str, *requests):
        loop = asyncio.get_running_loop()
        pending = [_Pending(r, loop.create_future(), client=client) for r in requests]
        await rx._commit(pending)
        return [(o.seq, o.error, o.retry_after_ms) for o in (await asyncio.gather(*(p.done for p in pending)))]

    def marks(wals) -> set[str]:
        return {name for wal in wals.values() for name, _ in wal.iter_meta("hwm:")}

    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString(),
                            senders=SenderBook(1, 600.0, "sidecar.max_senders_per_client", clock=clock))
        assert await send(rx, "uid 7", req("old", 1), req("old", 1, ALERT)) == [(1, "", 0), (1, "", 0)]
        ((seq, error, retry),) = await send(rx, "uid 7", req("new", 1))
        assert seq == 0 and retry > 0 and "sidecar.max_senders_per_client" in error
        assert await send(rx, "uid 8", req("other", 1)) == [(1, "", 0)]  # another client
        assert marks(wals) == {"hwm:old", "hwm:other"} and rx.figures.refused["senders"] == 1
        clock.now += 601
        assert await send(rx, "uid 7", req("new", 1)) == [(1, "", 0)]
        assert marks(wals) == {"hwm:new", "hwm:other"}  # old's marks gone from both lanes
        assert rx.high_water_mark("old", ROUTINE) == 0 and rx.high_water_mark("old", ALERT) == 0
        for w in wals.values():
            w.close()
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString(),
                            senders=SenderBook(1, 600.0, "sidecar.max_senders_per_client", clock=clock))
        assert rx.high_water_mark("new") == 1 and await send(rx, "uid 7", req("new", 1)) == [(1, "", 0)]  # a resend
        assert wals[ROUTINE].depth == 3  # old 1, other 1, new 1: the resend not stored again
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_a_silent_sender_heard_again_in_the_group_of_a_new_one_is_not_retired(tmp_path) -> None:
    """A client at its bound whose silent sender ``old`` sends again in the same commit group as a new sender's first
    request, after it: on the code before, ``old`` was retired to make room for ``new`` (its marks deleted, so a
    resend of a batch whose acknowledgement it lost would be stored twice) and its own request then refused as a
    stranger's. A sender with a request in the group is busy: ``new`` is refused for now, ``old``'s mark moves and
    is kept through a restart."""
    import asyncio

    from ben.core.lanes import ROUTINE, open_wals
    from ben.core.receiver import IngestReceiver, _Pending
    from tests.core.test_receiver import req

    clock = Clock()

    def receiver(wals) -> IngestReceiver:
        return IngestReceiver(wals, lambda r: r.SerializeToString(),
                              senders=SenderBook(1, 600.0, "sidecar.max_senders_per_client", clock=clock))

    async def send(rx: IngestReceiver, *requests):
        loop = asyncio.get_running_loop()
        pending = [_Pending(r, loop.create_future(), client="uid 7") for r in requests]
        await rx._commit(pending)
        return [(o.seq, bool(o.error)) for o in (await asyncio.gather(*(p.done for p in pending)))]

    async def go():
        wals = open_wals(tmp_path)
        rx = receiver(wals)
        assert await send(rx, req("old", 1)) == [(1, False)]
        clock.now += 601
        assert await send(rx, req("new", 1), req("old", 2)) == [(0, True), (2, False)]
        for w in wals.values():
            w.close()
        wals = open_wals(tmp_path)
        rx = receiver(wals)
        assert rx.high_water_mark("old", ROUTINE) == 2
        assert await send(rx, req("old", 2)) == [(2, False)] and wals[ROUTINE].depth == 2  # a resend: not stored
        for w in wals.values():
            w.close()

    asyncio.run(go())
