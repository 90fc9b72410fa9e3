"""A resent OTLP request is stored once (ben.otlp.dedup): the ingest receiver, its real RocksDB WALs and
the digests in-process, with a controlled clock. (Real sidecars over real sockets, kill -9 included:
test_resend.py.)"""

from __future__ import annotations

import asyncio
import gzip
import threading
from pathlib import Path

from ben.core.errors import WalError
from ben.core.lanes import ALERT, ROUTINE, open_wals
from ben.core.receiver import IngestReceiver
from ben.otlp import dedup
from ben.otlp.convert import Converter
from ben.otlp.exporting import DOWN, OK, Exporting
from ben.otlp.jsonform import dump
from ben.otlp.sender import Slots
from tests.otlp.test_transports import logs_request


class Clock:
    def __init__(self):
        self.now = 1_800_000_000_000_000_000

    def __call__(self) -> int:
        return self.now


class Sidecar:
    """The receiver, its WALs and an Exporting with digests, under ``path`` (reopened by a new instance)."""

    def __init__(self, path: Path, clock: Clock, window_s: float = 60.0, max_entries: int = 100):
        self.wals = open_wals(path)
        self.receiver = IngestReceiver(self.wals, lambda r: r.SerializeToString())
        self.digests = dedup.Digests(self.wals, window_s, max_entries, clock=clock)
        self.exporting = Exporting(Slots(self.receiver, "sc-test", 2, self.digests), Converter())

    def records(self, lane: int = ROUTINE) -> int:
        return self.wals[lane].depth

    def entries(self, lane: int = ROUTINE) -> list[str]:
        return [name for name, _ in self.wals[lane].iter_meta(dedup.PREFIX)]

    async def close(self) -> None:
        await self.receiver.shutdown(5)
        self.exporting.shutdown()
        for wal in self.wals.values():
            wal.close()


def run(path: Path, scenario, clock: Clock | None = None, **options):
    async def go():
        sidecar = Sidecar(path, clock or Clock(), **options)
        sidecar.receiver.start()
        try:
            return await scenario(sidecar)
        finally:
            await sidecar.close()
    return asyncio.run(go())


def body(tag: str, n: int = 3) -> bytes:
    return logs_request([f"{tag} {i}" for i in range(n)]).SerializeToString()


def test_a_resend_in_any_encoding_is_answered_success_and_not_stored_again(tmp_path):
    request = logs_request(["same 0", "same 1"])

    async def scenario(s: Sidecar):
        answers = [await s.exporting.export("logs", "http", request.SerializeToString()),
                   await s.exporting.export("logs", "grpc", request.SerializeToString()),
                   await s.exporting.export("logs", "http", dump(request), json_body=True)]
        return answers, s.records(), s.exporting.figures.duplicates["logs"], len(s.entries())

    answers, records, duplicates, entries = run(tmp_path, scenario)
    assert [a.outcome for a in answers] == [OK, OK, OK]
    assert records == 1 and duplicates == 2 and entries == 1


def test_the_digest_is_over_the_content_not_its_bytes():
    request = logs_request(["x"])
    key = dedup.digest("logs", request)
    assert dedup.digest("logs", type(request).FromString(gzip.decompress(gzip.compress(request.SerializeToString())))) \
        == key
    assert dedup.digest("traces", request) != key                     # the signal is part of it
    assert dedup.digest("logs", logs_request(["y"])) != key


def test_the_same_request_twice_at_once_is_stored_once(tmp_path):
    async def scenario(s: Sidecar):
        answers = await asyncio.gather(*(s.exporting.export("logs", "http", body("twice")) for _ in range(3)))
        return [a.outcome for a in answers], s.records()

    assert run(tmp_path, scenario) == ([OK, OK, OK], 1)


def test_digests_survive_a_reopen(tmp_path):
    clock = Clock()

    async def first(s: Sidecar):
        return (await s.exporting.export("logs", "http", body("kept"))).outcome

    async def after_restart(s: Sidecar):
        answer = await s.exporting.export("logs", "http", body("kept"))
        return answer.outcome, s.records(), s.exporting.figures.duplicates["logs"], s.digests.loaded

    assert run(tmp_path, first, clock) == OK
    assert run(tmp_path, after_restart, clock) == (OK, 1, 1, 1)


def test_the_window_expires_an_old_repeat_is_stored_again_and_old_entries_are_deleted(tmp_path):
    clock = Clock()

    async def scenario(s: Sidecar):
        out = []
        await s.exporting.export("logs", "http", body("A"))
        clock.now += 59 * 10**9                                          # within the 60 s window
        await s.exporting.export("logs", "http", body("A"))
        out.append((s.records(), len(s.entries())))
        clock.now += 2 * 10**9                                           # 61 s after A: forgotten
        await s.exporting.export("logs", "http", body("A"))
        out.append((s.records(), len(s.entries())))
        clock.now += 61 * 10**9
        await s.exporting.export("logs", "http", body("B"))              # its batch deletes A's entry
        out.append((s.records(), s.entries(), len(s.digests)))
        return out

    (r1, e1), (r2, e2), (r3, entries, remembered) = run(tmp_path, scenario, clock, window_s=60)
    assert (r1, e1) == (1, 1)
    assert (r2, e2) == (2, 1)                                            # stored again, one entry (A's, anew)
    assert r3 == 3 and remembered == 1
    assert entries == [f"{dedup.PREFIX}{dedup.digest('logs', logs_request(['B 0', 'B 1', 'B 2'])).hex()}:0"]


def test_entries_are_bounded_by_count_in_memory_and_in_the_wal(tmp_path):
    async def scenario(s: Sidecar):
        for i in range(20):
            await s.exporting.export("logs", "http", body(f"n{i}"))
        again = await s.exporting.export("logs", "http", body("n0"))   # forgotten long ago: stored again
        return again.outcome, s.records(), len(s.digests), len(s.entries())

    outcome, records, remembered, entries = run(tmp_path, scenario, max_entries=4)
    assert outcome == OK and records == 21
    assert remembered == 4 and entries <= 5  # the newest part's batch deletes what the count forgot


def test_a_part_refused_for_its_lane_is_stored_by_the_resend_and_the_other_not_again(tmp_path):
    """An alert-lane and a routine-lane part: the routine WAL cannot be written (refused, 503); the
    alert part was written with its entry. The resend stores the routine part only."""
    request = logs_request(["routine line"], severity=9)
    alerts = request.resource_logs[0].scope_logs[0].log_records
    alerts.add(time_unix_nano=5, severity_number=21).body.string_value = "alert line"

    async def scenario(s: Sidecar):
        real = s.wals[ROUTINE].append
        failing = {"left": 1}

        def append(payloads, meta=None):
            if failing["left"]:
                failing["left"] -= 1
                raise WalError("disk full (test)")
            return real(payloads, meta)

        s.wals[ROUTINE].append = append
        first = await s.exporting.export("logs", "http", request.SerializeToString())
        state = (s.records(ALERT), s.records(ROUTINE), len(s.entries(ALERT)), len(s.entries(ROUTINE)))
        # The receiver refuses the slot's sender until it resends from its mark: the resend does.
        second = await s.exporting.export("logs", "http", request.SerializeToString())
        third = await s.exporting.export("logs", "http", request.SerializeToString())
        return first.outcome, state, second.outcome, third.outcome, (s.records(ALERT), s.records(ROUTINE))

    first, state, second, third, final = run(tmp_path, scenario)
    assert first == DOWN and state == (1, 0, 1, 0)                 # an entry only where records were written
    assert second == OK and third == OK and final == (1, 1)


def test_a_client_that_gives_up_while_its_request_is_written_then_resends_stores_it_once(tmp_path):
    """A gRPC deadline cancels the handler while the WAL append runs; the request is written all the
    same, and remembered: the resend that follows the timeout is answered success and not stored again."""
    entered, release = threading.Event(), threading.Event()

    async def scenario(s: Sidecar):
        real = s.wals[ROUTINE].append

        def held(payloads, meta=None):
            entered.set()
            release.wait(30)
            return real(payloads, meta)

        s.wals[ROUTINE].append = held
        first = asyncio.create_task(s.exporting.export("logs", "grpc", body("timeout")))
        await asyncio.to_thread(entered.wait, 30)
        first.cancel()                                                   # the client's deadline
        release.set()
        again = await s.exporting.export("logs", "grpc", body("timeout"))
        return first.cancelled(), again.outcome, s.records(), s.exporting.figures.duplicates["logs"]

    assert run(tmp_path, scenario) == (True, OK, 1, 1)
