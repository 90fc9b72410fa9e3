"""The receiving end of an ingest stream, shared by the sidecar and the spine.

Each request is checked, de-duplicated against the sender's durable high-water mark, and
appended to the write-ahead log; only then is it acknowledged. One commit task gathers the
requests of every open stream that arrived while the previous fsync ran (group commit), and
writes them, with the new high-water marks, in one WriteBatch. Resends after a crash or a
reconnect are acknowledged again and never stored twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc

from ben.core import batch as batch_check
from ben.core.errors import WalError
from ben.core.wal import Wal
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

_HWM = "hwm:"
MAX_GROUP = 4096


@dataclass
class ReceiverFigures:
    requests: int = 0
    events_in: int = 0
    duplicates: int = 0
    rejected: int = 0
    commits: int = 0
    acks: int = 0


@dataclass
class _Pending:
    request: pb.IngestRequest
    done: asyncio.Future = field(repr=False)


class IngestReceiver(pb_grpc.IngestServicer):
    """gRPC Ingest servicer: check, de-duplicate, append durably, acknowledge."""

    def __init__(
        self,
        wal: Wal,
        encode: Callable[[pb.IngestRequest], bytes],
        on_durable: Callable[[], None] | None = None,
        queue_requests: int = 1024,
    ):
        self._wal = wal
        self._encode = encode
        self._on_durable = on_durable
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=queue_requests)
        self._hwm: dict[str, int] = self._load_hwm()
        self._task: asyncio.Task | None = None
        self.figures = ReceiverFigures()

    def _load_hwm(self) -> dict[str, int]:
        return {name[len(_HWM):]: int.from_bytes(v, "big") for name, v in self._wal.iter_meta(_HWM)}

    def high_water_mark(self, sender: str) -> int:
        return self._hwm.get(sender, 0)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._commit_loop(), name="wal-commit")

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    # -- the stream -------------------------------------------------------------------------
    async def Stream(self, request_iterator: AsyncIterator[pb.IngestRequest], context) -> AsyncIterator[pb.IngestAck]:
        loop = asyncio.get_running_loop()
        order: asyncio.Queue[asyncio.Future | None] = asyncio.Queue()

        async def read() -> None:
            try:
                async for request in request_iterator:
                    done = loop.create_future()
                    await self._queue.put(_Pending(request, done))
                    await order.put(done)
            finally:
                await order.put(None)

        reader = loop.create_task(read())
        try:
            while True:
                done = await order.get()
                if done is None:
                    break
                try:
                    seq, error = await done
                except WalError as exc:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, f"not stored, send again later: {exc}")
                self.figures.acks += 1
                yield pb.IngestAck(durable_seq=seq, error=error)
        finally:
            reader.cancel()
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            log.debug("ingest stream ended: %s", reader.exception())

    # -- group commit -----------------------------------------------------------------------
    async def _commit_loop(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < MAX_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                await self._commit(group)
            except WalError as exc:
                log.error("WAL append failed; %d requests not acknowledged: %s", len(group), exc)
                for p in group:
                    if not p.done.done():
                        p.done.set_exception(exc)

    async def _commit(self, group: list[_Pending]) -> None:
        payloads: list[bytes] = []
        marks: dict[str, int] = {}
        outcome: list[tuple[_Pending, int, str]] = []
        for p in group:
            req = p.request
            self.figures.requests += 1
            mark = marks.get(req.sender_id, self._hwm.get(req.sender_id, 0))
            if req.last_seq <= mark:  # already durable: acknowledge again, store nothing
                self.figures.duplicates += 1
                outcome.append((p, mark, ""))
                continue
            error = self._check(req, mark)
            if error:
                self.figures.rejected += 1
                log.warning("refused batch %d..%d from %s: %s", req.first_seq, req.last_seq, req.sender_id, error)
            else:
                payloads.append(self._encode(req))
                self.figures.events_in += len(req.batch.ts_unix_nano)
            marks[req.sender_id] = req.last_seq
            outcome.append((p, req.last_seq, error))
        if marks:
            meta = {_HWM + s: m.to_bytes(8, "big") for s, m in marks.items()}
            await asyncio.to_thread(self._wal.append, payloads, meta)
            self._hwm.update(marks)
            self.figures.commits += 1
            if payloads and self._on_durable is not None:
                self._on_durable()
        for p, seq, error in outcome:
            if not p.done.done():
                p.done.set_result((seq, error))

    @staticmethod
    def _check(req: pb.IngestRequest, mark: int) -> str:
        if not req.sender_id:
            return "field 'sender_id' is empty"
        if req.first_seq < 1 or req.last_seq < req.first_seq:
            return f"bad sequence range {req.first_seq}..{req.last_seq}"
        if req.first_seq <= mark:
            return f"range {req.first_seq}..{req.last_seq} overlaps what is already durable (up to {mark})"
        try:
            batch_check.validate(req.batch)
        except batch_check.BatchError as exc:
            return str(exc)
        return ""
