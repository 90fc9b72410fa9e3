"""The ingest receiver in-process, with real WALs: de-duplication, quotas, back-pressure, lanes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ben.core.lanes import ALERT, ROUTINE, Quota, open_wals
from ben.core.receiver import IngestReceiver, _Pending
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request


def req(sender: str, seq: int, lane: int = ROUTINE, body_bytes: int = 0) -> pb.IngestRequest:
    kind = pb.KIND_ALERT if lane == ALERT else pb.KIND_LOG
    r = request(seq, [(kind, "m", 1.0, f"{seq}-" + "x" * body_bytes, None)], sender=sender, seq=seq, lane=lane)
    return r


async def send(rx: IngestReceiver, *requests: pb.IngestRequest):
    loop = asyncio.get_running_loop()
    pending = [_Pending(r, loop.create_future()) for r in requests]
    await rx._commit(pending)
    return [(o.seq, o.error, o.retry_after_ms) for o in (await asyncio.gather(*(p.done for p in pending)))]


def test_duplicates_and_lanes(tmp_path: Path) -> None:
    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString())
        assert await send(rx, req("a", 1), req("a", 2), req("a", 1, ALERT)) == [(1, "", 0), (2, "", 0), (1, "", 0)]
        assert await send(rx, req("a", 2), req("a", 1, ALERT)) == [(2, "", 0), (1, "", 0)]  # resends
        assert rx.figures.duplicates == 2
        assert wals[ROUTINE].depth == 2 and wals[ALERT].depth == 1
        for w in wals.values():
            w.close()
        wals = open_wals(tmp_path)  # marks survive a restart, per lane
        rx = IngestReceiver(wals, lambda r: r.SerializeToString())
        assert rx.high_water_mark("a", ROUTINE) == 2 and rx.high_water_mark("a", ALERT) == 1
        assert await send(rx, req("a", 2)) == [(2, "", 0)]
        assert wals[ROUTINE].depth == 2
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_quota_refuses_routine_first_and_alerts_use_the_reserve(tmp_path: Path) -> None:
    async def go():
        wals = open_wals(tmp_path)
        quota = Quota(max_bytes=60_000, alert_reserve_bytes=20_000, anomaly_reserve_bytes=10_000)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString(), quota=quota)
        results = await send(rx, *(req("s", i, body_bytes=9_000) for i in range(1, 6)))
        # Three ~9 kB batches fit under the routine limit (30 kB); the 4th is refused, and so is the 5th,
        # which sits behind it: nothing of this lane gets past a refused request.
        assert [r[2] > 0 for r in results] == [False, False, False, True, True]
        assert results[3][0] == results[4][0] == 3  # the mark to resend after
        assert rx.figures.refused["quota"] == 1
        # Alerts still fit, into their reserve.
        assert await send(rx, req("s", 1, ALERT, body_bytes=9_000)) == [(1, "", 0)]
        # Resending from the mark is refused while the WAL is full; after the next hop drains it, accepted.
        assert (await send(rx, req("s", 4, body_bytes=9_000)))[0][2] > 0
        wals[ROUTINE].truncate(3)
        assert await send(rx, req("s", 4, body_bytes=9_000), req("s", 5, body_bytes=9_000)) == [(4, "", 0),
                                                                                                (5, "", 0)]
        assert [r.seq for r in wals[ROUTINE].read(0)] == [4, 5]
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_invalid_batches_are_refused_for_good(tmp_path: Path) -> None:
    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString())
        bad = req("s", 1)
        bad.batch.ClearField("producer_id")
        overlapping = pb.IngestRequest(sender_id="s", first_seq=1, last_seq=3, batch=req("s", 1).batch)
        out = await send(rx, bad, req("s", 2), overlapping)
        assert out[0] == (1, "field 'producer_id' is empty", 0)
        assert out[1] == (2, "", 0)
        assert out[2][0] == 3 and "overlaps" in out[2][1]
        assert rx.figures.rejected == 2 and wals[ROUTINE].depth == 1
        for w in wals.values():
            w.close()

    asyncio.run(go())


def _fail_appends(wal):
    """Make ``wal.append`` raise as a full disk does; returns the real one (to put back)."""
    from ben.core.errors import WalError

    real = wal.append

    def failing(*args, **kwargs):
        raise WalError("disk full (no space left on device) at test")

    wal.append = failing
    return real


def test_a_lane_written_stays_written_when_another_lane_fails(tmp_path: Path) -> None:
    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString())
        real_append = _fail_appends(wals[ROUTINE])
        out = await send(rx, req("s", 1, ALERT), req("s", 1))
        assert out[0] == (1, "", 0)          # the alert lane was written: acknowledged
        assert out[1][0] == 0 and out[1][2] > 0  # routine was not: back-pressure
        assert rx.high_water_mark("s", ALERT) == 1 and rx.high_water_mark("s", ROUTINE) == 0
        wals[ROUTINE].append = real_append
        out = await send(rx, req("s", 1, ALERT), req("s", 1))  # the sender resends both
        assert out == [(1, "", 0), (1, "", 0)]
        assert wals[ALERT].depth == 1 and wals[ROUTINE].depth == 1  # the alert was not stored twice
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_acks_carry_credit(tmp_path: Path) -> None:
    async def go():
        wals = open_wals(tmp_path)
        quota = Quota(max_bytes=60_000, alert_reserve_bytes=20_000, anomaly_reserve_bytes=10_000)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString(), quota=quota)
        loop = asyncio.get_running_loop()
        pending = [_Pending(req("s", 1, body_bytes=9_000), loop.create_future()),
                   _Pending(req("s", 1, ALERT, body_bytes=1_000), loop.create_future())]
        await rx._commit(pending)
        routine, alert = [await p.done for p in pending]
        used = sum(w.nbytes for w in wals.values())
        assert routine.credit_bytes == 30_000 - used  # routine may fill up to max - reserves
        assert alert.credit_bytes == 60_000 - used    # alerts up to max
        no_quota = IngestReceiver(open_wals(tmp_path / "b"), lambda r: r.SerializeToString())
        p = _Pending(req("t", 1), loop.create_future())
        await no_quota._commit([p])
        assert (await p.done).credit_bytes is None  # no quota: no credit field in the ack
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_a_few_alerts_are_encoded_on_the_loop_and_routine_in_a_thread(tmp_path: Path) -> None:
    """encode_in_thread spares the loop the redaction of routine batches; a few alerts are encoded on
    the loop (no thread hand-over on their way), a run of alerts above the limit in a thread."""
    import threading

    from ben.core.receiver import INLINE_ENCODE_EVENTS

    async def go():
        wals = open_wals(tmp_path)
        where: list[tuple[int, bool]] = []
        loop_thread = threading.current_thread()

        def encode(r: pb.IngestRequest) -> bytes:
            where.append((r.lane, threading.current_thread() is loop_thread))
            return r.SerializeToString()

        rx = IngestReceiver(wals, encode, encode_in_thread=True)
        assert await send(rx, req("s", 1)) == [(1, "", 0)]
        assert await send(rx, req("s", 1, ALERT)) == [(1, "", 0)]
        storm = [req("s", i, ALERT) for i in range(2, INLINE_ENCODE_EVENTS + 3)]
        assert [o[0] for o in await send(rx, *storm)] == list(range(2, INLINE_ENCODE_EVENTS + 3))
        assert where[:2] == [(ROUTINE, False), (ALERT, True)]
        assert set(where[2:]) == {(ALERT, False)}
        assert wals[ALERT].depth == INLINE_ENCODE_EVENTS + 2
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_notify_from_thread_runs_when_the_records_are_durable_off_the_loop(tmp_path: Path) -> None:
    """The spine's store writer is woken by the thread that wrote the WAL, with the records already
    readable, before the loop hears of the commit; without the flag, on the loop, after it."""
    import threading

    async def go(from_thread: bool):
        wals = open_wals(tmp_path / str(from_thread))
        seen: list[tuple[bool, int]] = []
        loop_thread = threading.current_thread()

        def on_durable() -> None:
            seen.append((threading.current_thread() is loop_thread, wals[ALERT].last_seq))

        rx = IngestReceiver(wals, lambda r: r.SerializeToString(), on_durable, notify_from_thread=from_thread)
        assert await send(rx, req("s", 1, ALERT)) == [(1, "", 0)]
        assert await send(rx, req("s", 1, ALERT)) == [(1, "", 0)]  # a resend writes nothing: no call
        for w in wals.values():
            w.close()
        return seen

    assert asyncio.run(go(True)) == [(False, 1)]
    assert asyncio.run(go(False)) == [(True, 1)]


def test_an_encoder_failure_refuses_that_request_only_and_quarantines_it(tmp_path: Path) -> None:
    """The sidecar's encoder (redaction) raising on one batch must not stop the commit: that request
    is refused for good and kept aside with its reason; the group's other requests are stored."""
    def encode(r: pb.IngestRequest) -> bytes:
        if r.first_seq == 2:
            raise RuntimeError("redaction blew up")
        return r.SerializeToString()

    async def go():
        wals = open_wals(tmp_path)
        for in_thread in (False, True):
            rx = IngestReceiver(wals, encode, encode_in_thread=in_thread)
            sender = f"enc-{in_thread}"
            results = await send(rx, req(sender, 1), req(sender, 2), req(sender, 3))
            assert [r[:2] for r in results[::2]] == [(1, ""), (3, "")]
            assert results[1][0] == 2 and "could not be encoded: RuntimeError: redaction blew up" in results[1][1]
            assert rx.figures.rejected_by_reason == {"unencodable": 1} and rx.figures.quarantined == 1
            assert (tmp_path / "quarantine" / f"ingest-{sender}-0-2-2.reason").read_text().startswith("could not")
        assert wals[ROUTINE].depth == 4
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_a_request_held_behind_a_wal_error_is_refused_as_wal_error_not_quota(tmp_path: Path) -> None:
    """What waits behind a request the WAL could not write is refused for that reason (and its
    retry_after_ms), not as "quota"."""
    from ben.core.admission import RETRY_AFTER_MS_WAL_ERROR

    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString())
        real_append = _fail_appends(wals[ROUTINE])
        assert await send(rx, req("s", 1)) == [(0, "", RETRY_AFTER_MS_WAL_ERROR)]
        wals[ROUTINE].append = real_append
        assert await send(rx, req("s", 2)) == [(0, "", RETRY_AFTER_MS_WAL_ERROR)]  # held behind seq 1
        held = _Pending(req("s", 3), asyncio.get_running_loop().create_future())
        await rx._commit([held])
        assert (await held.done).retry_after_ms == RETRY_AFTER_MS_WAL_ERROR  # submit (OTLP) says wal_error
        assert rx.figures.refused == {"wal_error": 1}
        assert await send(rx, req("s", 1), req("s", 2), req("s", 3)) == [(1, "", 0), (2, "", 0), (3, "", 0)]
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_a_source_named_with_a_control_character_is_stored_with_it_replaced(tmp_path: Path) -> None:
    """A producer other than ben's SDK (which refuses such a subsystem) sent ``subsystem = "raw\\nsub"``: it was
    stored as sent and headed rows and incidents with a line break. Now U+FFFD, counted; the events are kept."""
    from ben.core.lanes import receiver_figures

    async def go():
        wals = open_wals(tmp_path)
        for in_thread in (False, True):
            rx = IngestReceiver(wals, lambda r: r.SerializeToString(), encode_in_thread=in_thread)
            odd = req(f"raw-{in_thread}", 1)
            odd.batch.source.subsystem, odd.batch.source.host = "raw\nsub\x1b[2J", "h\u2028ost"
            plain = req(f"raw-{in_thread}", 2)
            plain.batch.source.subsystem = "café bar"                   # letters and spaces stay as they are
            assert await send(rx, odd, plain) == [(1, "", 0), (2, "", 0)]
            assert rx.figures.unprintable_sources == 1
            assert "unprintable_sources_total" in {f.name for f in receiver_figures(rx.figures)}
        stored = [pb.IngestRequest.FromString(r.payload).batch.source for r in wals[ROUTINE].read(0)]
        assert [(s.subsystem, s.host, s.instance) for s in stored] == [
            ("raw\ufffdsub\ufffd[2J", "h\ufffdost", "7"), ("café bar", "h", "7")] * 2
        for w in wals.values():
            w.close()

    asyncio.run(go())


def test_a_commit_group_and_the_queue_are_bounded_in_bytes(tmp_path: Path, monkeypatch) -> None:
    """ADR 0045, round 11: the whole queue made one commit group, encoded (redacted) and written at once: 60
    streams' batches of 15 MiB took a real sidecar from 103 MB to 4 GB. Now a group holds at most MAX_GROUP_BYTES
    (one request always goes) and each queue at most MAX_QUEUED_BYTES, the streams beyond waiting; all are stored."""
    from ben.core import receiver

    monkeypatch.setattr(receiver, "MAX_GROUP_BYTES", 64_000)
    monkeypatch.setattr(receiver, "MAX_QUEUED_BYTES", 128_000)

    async def go():
        wals = open_wals(tmp_path)
        rx = IngestReceiver(wals, lambda r: r.SerializeToString(), encode_in_thread=True)
        groups, queued = [], []
        encode_all = rx._encode_all

        def watched(pending):
            groups.append(sum(p.size for p in pending))
            queued.append(rx._bytes[False])
            return encode_all(pending)

        rx._encode_all = watched
        rx.start()
        loop = asyncio.get_running_loop()
        pending = [_Pending(req(f"s{i}", 1, body_bytes=20_000), loop.create_future()) for i in range(40)]
        await asyncio.gather(*(rx._enqueue(p) for p in pending))  # forty streams at once
        outcomes = await asyncio.gather(*(p.done for p in pending))
        await rx.shutdown()
        assert [(o.seq, o.error) for o in outcomes] == [(1, "")] * 40
        assert wals[ROUTINE].depth == 40
        assert len(groups) > 1 and max(groups) <= 64_000, groups  # one group of 800 kB on the code before
        assert max(queued) <= 128_000, queued
        for w in wals.values():
            w.close()

    asyncio.run(go())
