"""The receiving end of an ingest stream, shared by the sidecar and the spine.

Each request is checked, de-duplicated against its (sender, lane) durable high-water mark,
checked against the WAL quota, and appended to its lane's write-ahead log; only then is it
acknowledged. A commit task gathers the requests of every open stream that arrived while
the previous fsync ran (group commit) and writes them, with the new high-water marks, in one
WriteBatch per lane. Alerts have a commit task of their own, writing to the alert WAL while
the other lanes' group is being fsync'd: an alert never waits behind routine data. Resends
after a crash or a reconnect are acknowledged again and never stored twice.

Back-pressure: when the quota refuses a request (or the WAL cannot be written, e.g. a full
disk), the ack says ``retry_after_ms`` and the durable mark; every later request of that
(sender, lane) is refused the same way (same reason) until the sender resends from the mark.
Nothing is lost: the sender still holds what was not acknowledged.

What becomes of each request is decided by ``ben.core.admission.admit`` (pure; its verdicts are
listed there). Per (sender, lane) the receiver keeps the durable mark (``_hwm``, in the WAL's meta)
and, while it refuses that sender, the first seq it refused (``_refused_at``) and why::

    state       request (in the order checked)          verdict      then
    OPEN        last_seq <= mark                        DUPLICATE    OPEN
                invalid, undecodable, unencodable       REJECTED     OPEN, mark = last_seq once written
                its payload does not fit the quota      OVER_QUOTA   REFUSING from first_seq
                otherwise                               ACCEPTED     OPEN, mark = last_seq once written
                ... then its lane's WAL append fails    WAL_ERROR    REFUSING from min(first_seq)
    REFUSING f  last_seq <= mark                        DUPLICATE    REFUSING f
                first_seq > f: behind the refused one   HELD         REFUSING f
                first_seq <= f: the sender resends      as OPEN      OPEN (or REFUSING again)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import ChainMap, Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial

from ben.core import batch as batch_check
from ben.core.admission import RETRY_AFTER_MS_WAL_ERROR, Admission, Verdict, admit, key_of, write_failed
from ben.core.errors import WalError
from ben.core.lanes import ALERT as LANE_ALERT
from ben.core.lanes import LANES, Quota, used_bytes
from ben.core.request_decode import Undecodable, decode_request
from ben.core.request_quarantine import quarantine_request
from ben.core.senders import INTERNAL, SenderBook
from ben.core.receiver_figures import IngestOutcome, ReceiverFigures, note_producer
from ben.core.sparse_log import Sparse
from ben.core.wal import Wal
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
_sparse = Sparse(log)  # a refused batch: a line a minute per client and reason, the rest counted (round 15)

_HWM = "hwm:"
MAX_GROUP = 4096
#: Bytes of requests in one commit group at most (one request always goes): the group is encoded (redacted) and
#: written at once, so without a bound 60 streams' batches of 15 MiB made one group and took a sidecar from 103 MB
#: to 4 GB (ADR 0045, round 11).
MAX_GROUP_BYTES = 32 << 20
#: Bytes of requests queued in each of the receiver's queues (alerts, the others) at most; a stream whose next
#: request does not fit waits (its sender is held by flow control), and one request always fits an empty queue.
MAX_QUEUED_BYTES = 128 << 20
#: An alert group of up to this many events is encoded on the event loop: a worker thread costs two
#: wake-ups (each a wait for a busy core) for tens of microseconds of work. ADR 0025.
INLINE_ENCODE_EVENTS = 16
#: A new sender refused for its client's bound of senders (``ben.core.senders``) is asked back after this long.
RETRY_AFTER_MS_SENDERS = 5_000


@dataclass
class _Pending:
    request: pb.IngestRequest
    done: asyncio.Future = field(repr=False)
    undecodable: str = ""        # why the request's bytes could not be decoded (request: its header only)
    raw: bytes = field(default=b"", repr=False)
    meta: dict | None = None     # WAL metadata written (None: deleted) in the batch of this request, if accepted
    size: int = 0                # its bytes, counted while it is in the receiver
    client: str | None = INTERNAL  # who sent it, as the listener tells clients apart (None: from inside)


@dataclass
class _Outcome:
    pending: _Pending
    lane: int
    seq: int
    error: str = ""
    retry_after_ms: int = 0
    credit_bytes: int | None = None


class IngestReceiver(pb_grpc.IngestServicer):
    """gRPC Ingest servicer: check, de-duplicate, admit, append durably, acknowledge."""

    def __init__(
        self,
        wals: dict[int, Wal],
        encode: Callable[[pb.IngestRequest], bytes],
        on_durable: Callable[[], None] | None = None,
        quota: Quota | None = None,
        queue_requests: int = 1024,
        encode_in_thread: bool = False,
        notify_from_thread: bool = False,
        senders: SenderBook | None = None,
        client_of: Callable[[object], str] | None = None,
    ):
        """encode_in_thread: run `encode` in the commit's worker thread, off the event loop (the
        sidecar's encoder redacts, which costs CPU per string; the loop keeps answering meanwhile),
        except for a few alerts (``INLINE_ENCODE_EVENTS``).

        notify_from_thread: `on_durable` may be called from any thread (the spine's store writer:
        a threading.Event). It is then called by the thread that wrote the WAL, as soon as a lane's
        records are durable, so the consumer starts while the loop is still being told of the
        commit (a thread wake-up saved on an alert's way). Otherwise it is called on the loop.

        senders, client_of(context): the senders each client may mark (``ben.core.senders``), a stream's client."""
        self._wals = wals
        self._encode = encode
        self._encode_in_thread = encode_in_thread
        self._on_durable = on_durable
        self._notify_from_thread = notify_from_thread and on_durable is not None
        self._quota = quota
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=queue_requests)
        # Alerts wait in a queue of their own, committed by a task of their own.
        self._alerts: asyncio.Queue[_Pending] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._alert_arrived = asyncio.Event()
        self._bytes = {True: 0, False: 0}  # bytes queued or being committed, by "is the alert queue"
        self._room = asyncio.Condition()   # notified when a commit frees bytes
        self._hwm: dict[tuple[str, int], int] = self._load_hwm()
        self._senders, self._client_of = senders, client_of or (lambda context: "")
        if senders is not None:
            senders.load(sender for sender, _ in self._hwm)
        self._retired: list[str] = []  # senders retired, their marks to delete from the WALs' metadata
        self._refused_at, self._refused_why = {}, {}  # by (sender, lane): first seq refused; why (quota, wal_error)
        self._tasks: list[asyncio.Task] = []
        self.figures = ReceiverFigures()

    def _load_hwm(self) -> dict[tuple[str, int], int]:
        marks = {}
        for lane, wal in self._wals.items():
            for name, value in wal.iter_meta(_HWM):
                marks[(name[len(_HWM):], lane)] = int.from_bytes(value, "big")
        return marks

    def add_to_server(self, server) -> None:
        """Serve Ingest on a grpc.aio server, with the tolerant request deserializer."""
        import grpc

        handler = grpc.stream_stream_rpc_method_handler(
            self.Stream, request_deserializer=decode_request, response_serializer=pb.IngestAck.SerializeToString)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("ben.v1.Ingest", {"Stream": handler}),))

    def high_water_mark(self, sender: str, lane: int = pb.LANE_ROUTINE) -> int:
        return self._hwm.get((sender, lane), 0)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._commit_loop(self._alerts, self._alert_arrived, True),
                                        name="wal-commit-alerts"),
                       loop.create_task(self._commit_loop(self._queue, self._arrived, False), name="wal-commit")]

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Commit what is queued (it may be acknowledged still), then stop."""
        if not self._tasks:
            return
        try:
            async with asyncio.timeout(timeout):
                while not (self._queue.empty() and self._alerts.empty()) or any(self._bytes.values()):
                    await asyncio.sleep(0.005)
        except TimeoutError:
            log.warning("receiver: %d requests not committed at shutdown; their senders will resend",
                        self._queue.qsize())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []

    async def _enqueue(self, pending: _Pending) -> None:
        """To the commit task of its lane: alerts to their own, others to the bounded queue; each queue holds
        at most MAX_QUEUED_BYTES (a request waits for room; an alert waits only behind alerts)."""
        alert = pending.request.lane == LANE_ALERT
        pending.size = pending.size or max(1, len(pending.raw) or pending.request.ByteSize())
        if self._bytes[alert] and self._bytes[alert] + pending.size > MAX_QUEUED_BYTES:
            async with self._room:
                await self._room.wait_for(lambda: not self._bytes[alert]
                                          or self._bytes[alert] + pending.size <= MAX_QUEUED_BYTES)
        self._bytes[alert] += pending.size
        if alert:
            self._alerts.put_nowait(pending)
            self._alert_arrived.set()
        else:
            await self._queue.put(pending)
            self._arrived.set()

    async def submit(self, request: pb.IngestRequest, meta: dict[str, bytes | None] | None = None) -> IngestOutcome:
        """One request from inside the process (the OTLP receiver): queued, committed with the streams'
        requests (group commit), answered once durable, refused or rejected; ``meta`` (WAL metadata) is
        written in the batch of its records if it is accepted, else not at all."""
        pending = _Pending(request, asyncio.get_running_loop().create_future(), meta=meta)
        await self._enqueue(pending)
        out: _Outcome = await pending.done
        reason = "" if not out.retry_after_ms else ("wal_error" if out.retry_after_ms == RETRY_AFTER_MS_WAL_ERROR
                                                     else "quota")  # a request HELD behind one too
        return IngestOutcome(out.seq, out.error, out.retry_after_ms, reason)

    # -- the stream -------------------------------------------------------------------------
    async def Stream(self, request_iterator: AsyncIterator[pb.IngestRequest], context) -> AsyncIterator[pb.IngestAck]:
        loop = asyncio.get_running_loop()
        order: asyncio.Queue[asyncio.Future | None] = asyncio.Queue()
        client = self._client_of(context)

        async def read() -> None:
            try:
                async for request in request_iterator:
                    done = loop.create_future()
                    if isinstance(request, Undecodable):
                        pending = _Pending(request.header, done, request.reason, request.raw, client=client)
                        request = request.header
                    else:
                        pending = _Pending(request, done, client=client)
                    await self._enqueue(pending)
                    await order.put(done)
            finally:
                await order.put(None)

        reader = loop.create_task(read())
        try:
            while True:
                done = await order.get()
                if done is None:
                    break
                out: _Outcome = await done
                self.figures.acks += 1
                yield pb.IngestAck(durable_seq=out.seq, error=out.error, lane=out.lane,
                                   retry_after_ms=out.retry_after_ms, credit_bytes=out.credit_bytes)
        finally:
            reader.cancel()

    # -- group commit -----------------------------------------------------------------------
    async def _commit_loop(self, source: asyncio.Queue, arrived: asyncio.Event, alerts: bool) -> None:
        carry: _Pending | None = None  # taken from the queue, over the last group's bytes: first of the next
        while True:
            arrived.clear()
            if carry is None and source.empty():
                await arrived.wait()
                continue
            group, carry = [carry or source.get_nowait()], None
            size = group[0].size
            while len(group) < MAX_GROUP and not source.empty():
                carry = source.get_nowait()
                if size + carry.size > MAX_GROUP_BYTES:
                    break
                group.append(carry)
                size, carry = size + carry.size, None
            try:
                await self._commit(group)
            finally:
                self._bytes[alerts] -= size
                async with self._room:
                    self._room.notify_all()

    def _note_error(self, message: str) -> None:
        now = time.monotonic()
        if message != self.figures.last_error or now - self.figures.last_error_at > 10:
            log.error("%s", message)
        self.figures.last_error, self.figures.last_error_at = message, now

    def _encode_all(self, pending: list[_Pending]) -> dict[int, bytes | str]:
        return {id(p): self._encode_one(p) for p in pending}

    def _payload(self, encoded: dict[int, bytes | str], p: _Pending) -> bytes | str:
        """The request's WAL payload: encoded in the worker thread already, or now."""
        return encoded[id(p)] if id(p) in encoded else self._encode_one(p)

    def _encode_one(self, p: _Pending) -> bytes | str:
        """The WAL payload, or why the request could not be encoded (a str)."""
        try:
            self.figures.unprintable_sources += batch_check.printable_source(p.request.batch.source)
            return self._encode(p.request)
        except Exception as exc:  # one bad batch must never stop the commit loop
            return f"could not be encoded: {type(exc).__name__}: {exc}"

    async def _commit(self, group: list[_Pending]) -> None:
        encoded: dict[int, bytes] = {}
        # In a worker thread: what is not yet durable (resends are not encoded again), unless the
        # group is a few alerts, which the loop below encodes itself.
        if self._encode_in_thread and not _few_alerts(group):
            todo = [p for p in group if not p.undecodable
                    and p.request.last_seq > self._hwm.get((p.request.sender_id, p.request.lane), 0)]
            if todo:
                encoded = await asyncio.to_thread(self._encode_all, todo)
        payloads: dict[int, list[bytes]] = {lane: [] for lane in LANES}
        extra: dict[int, dict] = {lane: {} for lane in LANES}  # the accepted requests' own metadata
        marks: dict[tuple[str, int], int] = {}
        outcomes: list[_Outcome] = []
        events: Counter = Counter()
        pending_bytes = 0
        in_use = used_bytes(self._wals) if self._quota else 0
        durable = ChainMap(marks, self._hwm)  # the marks this group moved, over the durable ones
        lanes = self._wals.keys()
        for p in group:
            req = p.request
            lane = req.lane
            key = key_of(req)
            self.figures.requests += 1
            if req.HasField("producer_counts"):
                note_producer(self.figures, req)
            new = self._senders is not None and not self._senders.known(req.sender_id)
            if new and self._new_sender_refused(p, outcomes, group):
                continue
            if self._senders is not None and not new:
                self._senders.heard(req.sender_id)
            room = None if self._quota is None else self._quota.limit(lane) - in_use - pending_bytes
            out = admit(req, durable, self._refused_at, lanes=lanes, room=room, undecodable=p.undecodable,
                        encode=partial(self._payload, encoded, p), refusal_reasons=self._refused_why)
            self._apply(p, out)
            if out.verdict is Verdict.ACCEPTED:
                pending_bytes += len(out.payload)
                payloads[lane].append(out.payload)
                events[lane] += len(req.batch.ts_unix_nano)
                extra[lane].update(p.meta or {})
            if out.moves_mark and out.ack_seq > durable.get(key, 0):  # (a range that is none: at the mark)
                marks[key] = out.ack_seq
            if new and (key in marks or out.verdict is Verdict.OVER_QUOTA):  # it keeps state: it is the client's
                self._senders.add(req.sender_id, p.client)
            outcomes.append(_Outcome(p, lane, out.ack_seq, out.error, out.retry_after_ms))
        gone, self._retired = self._retired, []
        for sender in gone:  # retired: their marks deleted with this group's (ADR 0045, round 15)
            for lane in LANES:
                if self._hwm.pop((sender, lane), None) is not None:
                    extra[lane][_HWM + sender] = None
        if marks or gone:
            committed, error = await asyncio.to_thread(self._append, payloads, marks, extra)
            # Lanes are separate WALs: a lane that was written stays written even if another failed.
            self._hwm.update({key: m for key, m in marks.items() if key[1] in committed})
            self.figures.events_in.update({lane: n for lane, n in events.items() if lane in committed})
            if committed:
                self.figures.commits += 1
            if error is not None:
                self._note_error(f"WAL append failed; refusing until it works again: {error}")
                self._refuse_group(outcomes, {key: m for key, m in marks.items() if key[1] not in committed})
            if self._on_durable is not None and not self._notify_from_thread \
                    and any(payloads[lane] for lane in committed):
                self._on_durable()
        if self._quota is not None:  # credit: what each lane may still send
            left = {lane: max(0, self._quota.limit(lane) - used_bytes(self._wals)) for lane in LANES}
            for out in outcomes:
                out.credit_bytes = left[out.lane]
        for out in outcomes:
            if not out.pending.done.done():
                out.pending.done.set_result(out)

    def _new_sender_refused(self, p: _Pending, outcomes: list[_Outcome], group: list[_Pending]) -> bool:
        """Whether ``p``'s new sender is past its client's bound: then refused for now at mark 0, nothing kept. Senders
        retired to make room (none with a refusal pending, nor a request in this group) are noted for deletion."""
        why, retired = self._senders.room(p.client, lambda s: any((s, ln) in self._refused_at for ln in LANES) or any(
            q.request.sender_id == s for q in group), p.request.sender_id)
        self._retired += retired
        if why:
            self.figures.refused["senders"] += 1
            outcomes.append(_Outcome(p, p.request.lane, 0, why, RETRY_AFTER_MS_SENDERS))
        return bool(why)

    def _apply(self, p: _Pending, out: Admission) -> None:
        """Count an admission and note what it changes of the (sender, lane)'s refusal."""
        req = p.request
        key = key_of(req)
        if out.resumed:
            del self._refused_at[key]  # (its _refused_why is replaced with the next refusal)
        verdict = out.verdict
        if verdict is Verdict.DUPLICATE:
            self.figures.duplicates += 1
        elif verdict is Verdict.REJECTED:
            self.figures.rejected += 1
            self.figures.rejected_by_reason[out.reason] += 1
            if out.reason != "invalid":
                if quarantine_request(self._wals, self.figures.quarantined, req, p.raw, out.error):
                    self.figures.quarantined += 1
            _sparse.warning(f"{p.client} ({out.reason})", "refused batch %d..%d from %s: %s", req.first_seq,
                            req.last_seq, req.sender_id, out.error)
        elif verdict in (Verdict.ACCEPTED, Verdict.OVER_QUOTA):
            self.figures.bad_ts_events += batch_check.count_bad_ts(req.batch)
            if verdict is Verdict.OVER_QUOTA:
                self._refused_at[key], self._refused_why[key] = req.first_seq, "quota"
                self.figures.refused["quota"] += 1

    def _append(self, payloads: dict[int, list[bytes]], marks: dict[tuple[str, int], int],
                extra: dict[int, dict]) -> tuple[set[int], WalError | None]:
        """Append each lane's share (records, marks, metadata) to its WAL; return the lanes written."""
        committed: set[int] = set()
        error: WalError | None = None
        for lane in LANES:
            meta = {**extra[lane], **{_HWM + s: m.to_bytes(8, "big") for (s, ln), m in marks.items() if ln == lane}}
            if not (payloads[lane] or meta):
                continue
            try:
                self._wals[lane].append(payloads[lane], meta)
            except WalError as exc:
                error = error or exc
            else:
                committed.add(lane)
                if self._notify_from_thread and payloads[lane]:
                    self._on_durable()
        return committed, error

    def _refuse_group(self, outcomes: list[_Outcome], marks: dict[tuple[str, int], int]) -> None:
        """A lane's WAL write failed: nothing of `marks`' keys is durable; ask their senders to resend later."""
        for out in outcomes:
            req = out.pending.request
            key = key_of(req)
            refused = write_failed(req, self._hwm.get(key, 0)) if key in marks else None
            if refused is not None:
                self._refused_at[key] = min(self._refused_at.get(key, req.first_seq), req.first_seq)
                self._refused_why[key] = refused.reason
                out.seq, out.error, out.retry_after_ms = refused.ack_seq, refused.error, refused.retry_after_ms
                self.figures.refused[refused.reason] += 1


def _few_alerts(group: list[_Pending]) -> bool:
    """Whether a commit group is alerts only, of at most INLINE_ENCODE_EVENTS events in all."""
    return all(p.request.lane == LANE_ALERT for p in group) \
        and sum(len(p.request.batch.ts_unix_nano) for p in group) <= INLINE_ENCODE_EVENTS
