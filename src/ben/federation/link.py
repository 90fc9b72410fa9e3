"""The Federation component: publishes this cluster's summaries to JetStream and stores its peers'.

It runs in a thread of its own with its own asyncio loop (nats-py is asyncio; the store is
blocking), so nothing in it can stall the spine. Two tasks:

* the publisher polls ``ben.incidents`` into the outbox (``Outbox.poll``), then publishes every
  summary still in the outbox, pipelined (up to PUBLISH_IN_FLIGHT awaiting their PubAck), with
  ``Nats-Msg-Id`` = its id, and truncates them only after their PubAck and every earlier one's
  (a crash resends; the stream's duplicate window drops the copy);
* the consumer pulls batches from a durable consumer (``ben-<cluster>``), verifies each summary
  (``open_summary``; batch N+1 while batch N is being inserted), inserts those not stored yet into
  ``ben.federated_incidents`` in one insert per batch, and only then acks them. A summary already
  stored from the same stream message is a redelivery (acked, not stored again); from another
  message, a replay (rejected).

Status (peers, lag, counts) goes to ``<data_dir>/federation/status.json`` every poll, for
``ben federation status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections import Counter, deque
from pathlib import Path

import pyarrow as pa
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, StorageType, StreamConfig

from ben.control import canonical
from ben.control.keys import load_or_create, load_signer
from ben.core.config import FederationConfig
from ben.federation.outbox import Outbox
from ben.federation.policy import load_policy
from ben.federation.security import TlsOnlyClient, explain, resolve
from ben.federation.summary import Rejected, load_trust, open_summary
from ben.store import retention
from ben.store.schema import FEDERATED_INCIDENTS

log = logging.getLogger(__name__)

PUBLISH_CHUNK = 256      # summaries read from the outbox and published together
PUBLISH_IN_FLIGHT = 2048  # summaries published and not yet PubAcked, at most (the outbox keeps them all)
PUBACK_TIMEOUT_S = 10.0
FETCH_BATCH = 1000       # summaries fetched, verified, inserted in ONE insert, then acked
#: The largest message the stream stores: a summary (at most ``canonical.MAX_BYTES``) and its headers.
MAX_MESSAGE_BYTES = canonical.MAX_BYTES + 4096
_STREAM_NAME_IN_USE = 10058  # JetStream: a stream of that name exists with another configuration

COLUMNS = ("summary_id", "cluster", "incident", "change", "subsystem_class", "subsystem", "detector", "direction",
           "magnitude_class", "severity", "state", "opened_minute", "resolved_minute", "duration_bucket",
           "anomalies", "stream_seq", "published_ts", "received_ts")
_FROM_BODY = {"incident": "incident", "change": "change", "subsystem_class": "subsystem_class",
              "subsystem": "subsystem", "detector": "detector", "direction": "direction",
              "magnitude_class": "magnitude", "severity": "severity", "state": "state",
              "opened_minute": "opened", "resolved_minute": "resolved", "duration_bucket": "duration",
              "anomalies": "anomalies"}
_INTS = {"opened_minute", "resolved_minute", "anomalies", "stream_seq", "published_ts", "received_ts"}


def rows_of(summaries: list[tuple], received_ns: int | None = None) -> pa.Table:
    """One table of (summary, stream seq) pairs, in COLUMNS order: the batch's one insert."""
    received_ns = time.time_ns() if received_ns is None else received_ns
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for summary, stream_seq in summaries:
        body = summary.body
        for c, src in _FROM_BODY.items():
            cols[c].append(body.get(src, 0 if c in _INTS else ""))
        cols["summary_id"].append(summary.summary_id)
        cols["cluster"].append(summary.cluster)
        cols["stream_seq"].append(stream_seq)
        cols["published_ts"].append(summary.published)
        cols["received_ts"].append(received_ns)
    return pa.table({c: pa.array(cols[c], pa.int64() if c in _INTS else pa.string()) for c in COLUMNS})


class Federation:
    """Federated incident summaries over NATS JetStream (ADR 0038); ``start`` / ``shutdown(timeout)``."""

    def __init__(self, config: FederationConfig, data_dir: Path, store):
        self.config = config
        self.dir = Path(data_dir) / "federation"
        self.store = store
        self.published = 0
        self.publish_duplicates = 0
        self.received = 0
        self.redelivered = 0
        self.rejected: Counter = Counter()
        self.peers: dict[str, dict] = {}
        self.lag = 0
        self.connected = False
        self.last_error = ""
        self.outbox: Outbox | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._refusal = ""  # why the server refused the connection being tried (explain)
        self._poll_lock = threading.Lock()

    def start(self) -> None:
        cfg = self.config
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.policy = load_policy(cfg.policy, cfg.pseudonym_key or self.dir / "pseudonym.key")
        self.signer = load_signer(cfg.key) if cfg.key else load_or_create(self.dir, cfg.cluster)
        self.trust = load_trust(cfg.trust)
        self._security = resolve(cfg)  # TLS and credentials: a bad option refuses the start (ADR 0038, 2026-12)
        if cfg.consume and hasattr(self.store, "capabilities"):  # retention of what peers sent (TTL)
            retention.set_ttl(self.store, self.store.capabilities, cfg.retention_days, FEDERATED_INCIDENTS,
                              "received_ts")
        self.outbox = Outbox(self.dir / "outbox", store=self.store, policy=self.policy, signer=self.signer,
                             cluster=cfg.cluster)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="federation", daemon=True)
        self._thread.start()
        ready.wait(5.0)
        log.info("federation: cluster %s, servers %s, stream %s", cfg.cluster, ", ".join(cfg.servers), cfg.stream)

    def shutdown(self, timeout: float) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        ready.set()
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        """Connect, publish and consume until stopped; a connection nats-py gives up on (the server
        refused our credentials on a reconnection: it closes the client for good) is made anew."""
        cfg = self.config
        while not self._stop.is_set():
            closed = asyncio.Event()
            nc = await self._connect(closed)
            if nc is None:
                return
            js = nc.jetstream()
            self._nc = nc
            tasks = [asyncio.create_task(self._publisher(nc, js))]
            if cfg.consume:
                tasks.append(asyncio.create_task(self._consumer(js)))
            ends = [asyncio.create_task(self._stop.wait()), asyncio.create_task(closed.wait())]
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks + ends:
                t.cancel()
            await asyncio.gather(*tasks, *ends, return_exceptions=True)
            try:
                await nc.close()
            except Exception:
                pass
            if not self._stop.is_set():  # closed under us: say why, then connect again
                self.connected = False
                why = explain(nc.last_error, cfg) if nc.last_error is not None else "NATS closed the connection"
                self._refusal = "" if why.startswith("cannot connect") else why
                self._error(why)
                self._write_status()
                await self._pause(1.0)

    async def _connect(self, closed: asyncio.Event):
        """A connected client, tried until it connects (None: stopped meanwhile); ``closed`` is set
        when nats-py closes it for good."""
        poller = asyncio.create_task(self._poll_unconnected())
        try:
            return await self._connect_loop(closed)
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    def _poll(self) -> None:
        with self._poll_lock:  # the unconnected poller's last poll may still run in its thread
            self.outbox.poll()

    async def _poll_unconnected(self) -> None:
        """While not connected (NATS down, or refusing us), keep taking changes into the outbox:
        a change polled late may have been merged away in the store (ADR 0038)."""
        while True:
            try:
                await asyncio.to_thread(self._poll)
                self._write_status()
            except Exception as exc:  # the store busy: the next poll takes it
                log.debug("federation: polling while unconnected failed: %r", exc)
            await asyncio.sleep(self.config.poll_interval_ms / 1000)

    async def _connect_loop(self, closed: asyncio.Event):
        cfg = self.config

        async def on_closed() -> None:
            closed.set()

        while not self._stop.is_set():
            try:
                nc = TlsOnlyClient()
                nc.require_tls = self._security.tls is not None
                # nats-py tries an unreachable (or refusing) server for ever inside connect(): a stop ends that
                connecting = asyncio.create_task(nc.connect(
                    servers=cfg.servers, name=f"ben-{cfg.cluster}", connect_timeout=2, allow_reconnect=True,
                    max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=self._nats_error,
                    closed_cb=on_closed, **self._security.connect_options()))
                stopping = asyncio.create_task(self._stop.wait())
                await asyncio.wait([connecting, stopping], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not connecting.done():
                    connecting.cancel()
                    await asyncio.gather(connecting, return_exceptions=True)
                    with contextlib.suppress(Exception):
                        await nc.close()  # the half-made connection's socket
                    return None
                connecting.result()
                self._refusal = ""
                return nc
            except Exception as exc:  # no server yet, or it refused us: keep trying; the outbox keeps everything
                self._error(self._refusal or explain(exc, cfg))
                await self._pause(1.0)
        return None

    async def _nats_error(self, exc: Exception) -> None:
        message = explain(exc, self.config)  # one line naming the option (nats-py would log a traceback)
        if not message.startswith("cannot connect"):
            self._refusal = message  # the server refused us: reported until a connection succeeds
        elif self._refusal:
            return  # the connection the server refused, closing: not another line
        self._error(message)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    def _error(self, message: str) -> None:
        if message != self.last_error:
            log.warning("federation: %s", message)
        self.last_error = message

    async def _ensure_stream(self, js) -> None:
        """Make the stream, or bring one made before (an older ben) to this configuration. Its ``max_msg_size``
        makes the server refuse a message no summary can be (over ``canonical.MAX_BYTES``) at publish: a peer
        could otherwise store messages up to the server's ``max_payload`` (1 MB by default, up to 64 MB), and
        each consumer fetches ``FETCH_BATCH`` of them at once (ADR 0045, round 9). Its ``max_bytes`` bounds what the
        server keeps on disk, the oldest discarded first (round 10)."""
        from nats.js.errors import BadRequestError

        cfg = self.config
        config = StreamConfig(name=cfg.stream, subjects=[f"{cfg.subject_prefix}.>"], storage=StorageType.FILE,
                              max_age=float(cfg.max_age_s), duplicate_window=float(cfg.dedup_window_s),
                              num_replicas=cfg.replicas, max_msg_size=MAX_MESSAGE_BYTES,
                              max_bytes=cfg.stream_max_bytes, discard=DiscardPolicy.OLD)
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            await js.update_stream(config)

    async def _publisher(self, nc, js) -> None:
        cfg = self.config
        stream_ready = False
        while not self._stop.is_set():
            try:
                if not stream_ready:
                    await self._ensure_stream(js)
                    stream_ready = True
                await asyncio.to_thread(self._poll)
                await self._drain(js)
                self.connected = nc.is_connected
                self._write_status()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS down, timeout, store busy: the outbox keeps it; try again
                self.connected = nc.is_connected
                self._error(f"publishing: {exc!r}")
                self._write_status()
            await self._pause(cfg.poll_interval_ms / 1000)

    async def _drain(self, js) -> None:
        """Publish everything in the outbox, pipelined: chunks of PUBLISH_CHUNK go out while up to
        PUBLISH_IN_FLIGHT summaries wait for their PubAck; the outbox forgets a chunk only once it and
        every chunk before it were PubAcked (in order, several chunks in one truncation). A failure
        abandons what is in flight: the caller retries from the outbox (JetStream drops the copies)."""
        cfg = self.config
        inflight: deque[tuple[int, list[asyncio.Future]]] = deque()
        outstanding = 0
        after = None
        try:
            while not self._stop.is_set():
                first = self.outbox.wal.first_seq
                if after is None and first is not None:
                    after = first - 1
                records = await asyncio.to_thread(self.outbox.read_after, after, PUBLISH_CHUNK) \
                    if after is not None else []
                if records:
                    futures = []
                    for rec in records:
                        doc = json.loads(rec.payload)["summary"]
                        futures.append(await js.publish_async(
                            f"{cfg.subject_prefix}.{cfg.cluster}.{doc['body'].get('change', 'change')}", rec.payload,
                            headers={"Nats-Msg-Id": doc["id"]}))
                    inflight.append((records[-1].seq, futures))
                    outstanding += len(futures)
                    after = records[-1].seq
                if not inflight:
                    return
                if records and outstanding < PUBLISH_IN_FLIGHT:
                    continue
                # The oldest chunk's PubAcks, then every following chunk already PubAcked: one truncation.
                upto = None
                while inflight and (upto is None or all(f.done() for f in inflight[0][1])):
                    seq, futures = inflight.popleft()
                    acks = await asyncio.wait_for(asyncio.gather(*futures), PUBACK_TIMEOUT_S)
                    outstanding -= len(futures)
                    self.published += len(acks)  # acknowledged by JetStream (stored now, or before: a resend)
                    self.publish_duplicates += sum(bool(a.duplicate) for a in acks)
                    upto = seq
                await asyncio.to_thread(self.outbox.acked, upto)  # only now may the outbox forget them
        finally:
            for _, futures in inflight:  # abandoned (an error, or stopping): sent again from the outbox
                for f in futures:
                    f.cancel()

    async def _consumer(self, js) -> None:
        """Fetch batches; verify batch N+1 while batch N is inserted, then acked (ack only after insert)."""
        cfg = self.config
        sub = None
        storing: asyncio.Task | None = None
        while not self._stop.is_set():
            try:
                if sub is None:
                    await self._ensure_stream(js)
                    sub = await js.pull_subscribe(f"{cfg.subject_prefix}.>", durable=f"ben-{cfg.cluster}",
                                                  stream=cfg.stream,
                                                  config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                                                        ack_wait=float(cfg.ack_wait_s),
                                                                        max_ack_pending=4 * FETCH_BATCH))
                try:
                    msgs = await sub.fetch(batch=FETCH_BATCH, timeout=cfg.poll_interval_ms / 1000)
                except asyncio.TimeoutError:  # nats' TimeoutError, or the one of a wait inside fetch
                    msgs = []
                checked = self._verify(msgs)  # CPU: overlaps the previous batch's insert
                if storing is not None:
                    await storing  # the previous batch stored and acked before this one is checked
                    storing = None
                if msgs:
                    storing = asyncio.create_task(self._store_batch(msgs, checked))
                    self.lag = msgs[-1].metadata.num_pending
                else:
                    self.lag = (await sub.consumer_info()).num_pending
            except asyncio.CancelledError:
                if storing is not None:
                    storing.cancel()
                raise
            except Exception as exc:  # what was not acked is delivered again after ack_wait_s
                if storing is not None:  # one batch stored at a time, always: let it finish (or fail)
                    await asyncio.gather(storing, return_exceptions=True)
                    storing = None
                self._error(f"consuming: {exc!r}")
                await self._pause(0.5)

    def _verify(self, msgs: list) -> list[tuple]:
        """(msg, summary) of the messages that verify; the others are rejected (acked with the batch)."""
        checked = []
        for msg in msgs:
            origin = msg.subject.split(".")[-2] if msg.subject.count(".") >= 2 else ""
            if origin == self.config.cluster:
                continue  # our own summaries: acked with the batch
            try:
                summary = open_summary(msg.data, self.trust, max_age_s=self.config.max_age_s)
                if summary.cluster != origin:
                    raise Rejected("bad_subject", f"summary of {summary.cluster!r} on {origin!r}'s subject")
                checked.append((msg, summary))
            except Rejected as exc:
                self._reject(msg, exc)
        return checked

    async def _store_batch(self, msgs: list, checked: list[tuple]) -> None:
        """Insert the verified summaries not stored yet in ONE insert, then ack every message of the batch.
        A summary already stored from the same stream message is a redelivery; from another, a replay."""
        fresh: dict[str, tuple] = {}  # summary id -> (summary, stream seq)
        stored = await asyncio.to_thread(self._stored_seqs, [s.summary_id for _, s in checked]) if checked else {}
        for msg, summary in checked:
            seq = msg.metadata.sequence.stream
            seen = stored.get(summary.summary_id, fresh.get(summary.summary_id, (None, None))[1])
            if seen is None:
                fresh[summary.summary_id] = (summary, seq)
            elif seen != seq:
                self._reject(msg, Rejected("replayed", f"summary {summary.summary_id} already stored from "
                                                       f"stream message {seen}"))
            else:
                self.redelivered += 1
        if fresh:
            await asyncio.to_thread(self.store.insert_rows, FEDERATED_INCIDENTS, rows_of(list(fresh.values())))
            for summary, _ in fresh.values():
                self.received += 1
                peer = self.peers.setdefault(summary.cluster, {"received": 0, "last_published": 0})
                peer["received"] += 1
                peer["last_published"] = max(peer["last_published"], summary.published)
        for msg in msgs:  # only now: what is acked is stored (or refused for good)
            await msg.ack()
        await self._nc.flush()  # the acks are on the wire before the next fetch

    def _reject(self, msg, exc: Rejected) -> None:
        self.rejected[exc.reason] += 1
        log.warning("federation: rejected a summary on %s (stream message %d): %s", msg.subject,
                    msg.metadata.sequence.stream, exc)

    def _stored_seqs(self, summary_ids: list[str]) -> dict[str, int]:
        """summary id -> the stream message it was stored from, for those already stored."""
        safe = ", ".join("'" + i.replace("\\", "").replace("'", "") + "'" for i in summary_ids)
        rows = json.loads(self.store.query_json(
            f"SELECT summary_id, stream_seq FROM {FEDERATED_INCIDENTS} WHERE summary_id IN ({safe})"))["data"]
        return {r["summary_id"]: int(r["stream_seq"]) for r in rows}

    def status(self) -> dict:
        return {"cluster": self.config.cluster, "servers": self.config.servers, "stream": self.config.stream,
                "connected": self.connected, "published": self.published,
                "publish_duplicates": self.publish_duplicates,
                "outbox_depth": self.outbox.depth if self.outbox else 0,
                "held_back": self.outbox.held if self.outbox else 0, "received": self.received,
                "redelivered": self.redelivered, "rejected": dict(self.rejected),
                "rejected_total": sum(self.rejected.values()), "lag": self.lag, "peers": self.peers,
                "last_error": self.last_error, "updated": int(time.time()),
                "poll_interval_ms": self.config.poll_interval_ms}

    def _write_status(self) -> None:
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(self.status(), indent=1))
        os.replace(tmp, self.dir / "status.json")
