"""The spine process: ingest server, WAL, store writer, admin API."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import grpc

from ben.core import priority, transport
from ben.core.address import socket_path
from ben.control.plane import ControlPlane
from ben.control.router import Router
from ben.control.component import check_files as check_control_files
from ben.core.admin import AdminServicer
from ben.core.config import SpineConfig
from ben.core.errors import QueryError, StoreUnavailableError
from ben.core.figures import Figure, counter, gauge, serve_metrics
from ben.core.data_dir import claim_data_dir
from ben.core.files import check_reserve, private_dir
from ben.core.calls import CallBudget
from ben.core.senders import SenderBook, client_of_listener
from ben.core.peers import Guard, PlainTcp, TokenIssuer, operators_from_config
from ben.spine.redaction import IngestRedaction
from ben.core.lanes import NAMES, ROUTINE, open_wals, receiver_figures, refusals, wal_figures
from ben.spine.detection import Detection, timing_of, watched
from ben.spine.detector_thread import DetectorThread
from ben.core.receiver import IngestReceiver
from ben.core.receiver_figures import recent_error
from ben.core.service import Lifecycle
from ben.core.wal import Wal
from ben.spine.store_writer import StoreWriter
from ben.store import open_store
from ben.store.query import QueryLimits
from ben.v1 import admin_pb2_grpc, control_pb2_grpc

log = logging.getLogger(__name__)
_ROWS = re.compile(rb'"rows":\s*(\d+)')


def rows_of(result: bytes) -> int | None:
    """The row count of a ClickHouse JSON result (its ``"rows"`` near the end), without parsing it whole."""
    found = _ROWS.findall(result[-4096:])
    return int(found[-1]) if found else None


class Spine:
    """The spine process: ingest receiver into its WALs, store writer, detection, incidents, admin and control
    plane."""

    name = "spine"

    def __init__(self, config: SpineConfig):
        self.config = config
        self.state = Lifecycle.NEW
        self.wals: dict[int, Wal] = {}
        self.store = None
        self.writer: StoreWriter | None = None
        self.receiver: IngestReceiver | None = None
        self._server: grpc.aio.Server | None = None
        self._metrics = None
        self.detection: Detection | None = None
        self.detector: DetectorThread | None = None
        self.control: ControlPlane | None = None
        self._admin: AdminServicer | None = None
        self.federation = None  # ben.federation.Federation when [spine.federation] is enabled

        self.guard: Guard | None = None
        self.tokens: TokenIssuer | None = None
        self.redaction: IngestRedaction | None = None
        self._tls, self._operators = None, []  # by check()

    def check(self) -> None:
        """Refuse, as the start would and before anything opens, what the configuration names that cannot work:
        detection's timing, the trust store and policy, the TLS files, the listen address, the operators, the
        redaction manifest, the store's password, a data directory of another component or a newer ben. Opens,
        creates and binds nothing (``ben spine --check``)."""
        cfg = self.config
        if cfg.detect.enabled:
            timing_of(cfg.detect.timing)
        check_control_files(cfg.control, "spine")
        self._tls = transport.tls_files(cfg.tls, "spine.tls")
        if self._tls is not None:
            self._tls.read("spine.tls")  # a missing or loose key
        transport.check_listen(cfg.listen, "spine.listen", tls=self._tls, insecure=cfg.insecure)
        self._operators = operators_from_config(cfg.operators)
        # The deployment's manifest: what no authenticated sidecar redacted with it is redacted here.
        self.redaction = IngestRedaction(cfg.redact_manifest)
        if cfg.store.backend == "clickhouse":
            cfg.store.password()  # a variable not set, a file not readable
        if cfg.data_dir.is_dir():  # another component's, or a newer ben's
            claim_data_dir(cfg.data_dir, "spine", "spine.data_dir", mark=False)

    async def start(self) -> None:
        """Start everything; if any part fails (e.g. the socket is taken), stop what already runs and
        re-raise: exiting with the store writer's and chDB's threads still busy could crash the process."""
        self.check()
        try:
            await self._start()
        except BaseException:
            log.debug("spine: start failed; stopping what already runs")
            await self.shutdown(1.0)
            raise

    async def _start(self) -> None:
        cfg = self.config
        tls, operators = self._tls, self._operators
        private_dir(cfg.data_dir, "spine.data_dir")  # one clear line naming the path, not a traceback
        claim_data_dir(cfg.data_dir, "spine", "spine.data_dir")  # not another component's, nor a newer ben's
        if cfg.store.backend == "chdb" and cfg.store.path is not None:
            private_dir(cfg.store.path, "spine.store.path")
        check_reserve(cfg.data_dir, cfg.wal_min_free_bytes, "spine.wal_min_free_bytes")
        check_reserve(cfg.data_dir, cfg.wal_resume_free_bytes, "spine.wal_resume_free_bytes")
        if cfg.store.backend == "chdb":
            check_reserve(cfg.store_path, cfg.store.min_free_bytes, "spine.store.min_free_bytes")
        self.wals = open_wals(cfg.data_dir, min_free_bytes=cfg.wal_min_free_bytes,
                              resume_free_bytes=cfg.wal_resume_free_bytes)
        det = cfg.detect
        # Detection's compiled kernels load (or compile) in a thread while the store process opens the
        # store: neither needs the other, and each takes about a second of a start.
        warming = asyncio.ensure_future(asyncio.to_thread(Detection.from_config, det)) if det.enabled else None
        try:
            self.store = await self._retrying("open the store", open_store, cfg.store, cfg.store_path,
                                              cfg.background_nice)
        except BaseException:
            if warming is not None:
                await asyncio.gather(warming, return_exceptions=True)  # no thread left behind
            raise
        if warming is not None:
            self.detection = await warming
            self.detector = DetectorThread(self.detection, self.store, checkpoint_path=cfg.data_dir / "detect.ckpt",
                                           checkpoint_interval_s=det.checkpoint_interval_s)
        self.writer = StoreWriter(self.wals, self.store, cfg.store.insert_max_rows, cfg.store.insert_max_bytes,
                                  self._on_stored if det.enabled else None, cfg.store.max_rows_per_s,
                                  min_free_bytes=cfg.store.min_free_bytes,
                                  retention_check_interval_s=cfg.store.retention_check_interval_s,
                                  alert_delay_window_s=cfg.store.alert_delay_window_s)
        await self._retrying("recover the store writer's cursors from the store", self.writer.start)
        if self.detector is not None:
            # Detection catches up on what was stored (and repaired) before this start, from its
            # checkpoint; tables the writer stores from now on queue up behind that.
            try:
                await asyncio.to_thread(self.detector.resume, self.writer.recovered[ROUTINE])
            except Exception:  # detection must never keep the spine from running
                log.exception("detection could not resume from its checkpoint; starting fresh")
                self.detector.detection = Detection.from_config(det)
                self.detector.last_seq = self.writer.recovered[ROUTINE]
            self.detection = self.detector.detection
            self.detector.start()
        # The spine WAL keeps the whole request: it carries the sidecar's id and record number.
        plain = (PlainTcp(cfg.listen, operators, cfg.socket_group)
                 if tls is None and socket_path(cfg.listen) is None else None)  # insecure: loopback, by uid
        # Senders per client (ADR 0045, round 15); a sidecar's id is for good: none is retired.
        client_of = client_of_listener(tls is not None, plain)
        self.receiver = IngestReceiver(self.wals, self.redaction.encode, self.writer.notify,
                                       cfg.quota, notify_from_thread=True,  # notify: a threading.Event
                                       senders=SenderBook(cfg.max_senders_per_client, None,
                                                          "spine.max_senders_per_client"),
                                       client_of=client_of)
        self.receiver.start()
        # Every call is authenticated before a servicer sees it (ADR 0034).
        self.tokens = TokenIssuer(operators)
        self.guard = Guard(operators, self.tokens, plain)
        # descriptor floods (ADR 0045, round 5): gRPC's core closes a connection past the quota at accept,
        # and an idle one after a while
        options = [*transport.SPINE_SERVER_OPTIONS,
                   *transport.connection_quota(cfg.max_connections, cfg.max_connection_idle_s, "spine.max_connections")]
        budget = CallBudget(cfg.max_calls_per_client, client_of, "spine.max_calls_per_client")  # round 15
        self._server = grpc.aio.server(options=options, interceptors=[self.guard, budget])
        self.receiver.add_to_server(self._server)  # tolerant of undecodable requests (ADR 0033)
        limits = QueryLimits(cfg.store.query_timeout_s, cfg.store.query_max_result_bytes,
                             cfg.store.query_max_memory_bytes, tuple(cfg.store.query_system_tables))
        store = self.store
        admin = AdminServicer("spine", lambda: str(cfg.data_dir), self.figures,
                              lambda sql, query_id, origin, on_behalf: self._operator_query(
                                  sql, query_id, limits, origin=origin, on_behalf=on_behalf),
                              self.last_error, self.acknowledge if self.detector else None,
                              cancel_query=store.cancel_query, label=self._label)
        self._admin = admin
        admin_pb2_grpc.add_AdminServicer_to_server(admin, self._server)
        transport.bind(self._server, cfg.listen, "spine.listen", tls=tls, insecure=cfg.insecure)
        # Signed commands: policy, proposals, delivery to sidecars, audit (ADR 0013).
        self.control = await asyncio.to_thread(ControlPlane, cfg.control, cfg.data_dir, self.store)
        control_pb2_grpc.add_ControlServicer_to_server(Router(self.control, admin.pool),  # audit: the operators' threads
                                                       self._server)
        await asyncio.to_thread(self._store_pending_labels)
        # The auth socket first: once Status answers, an operator's call can get its token (a client
        # that saw the spine ready must not find the auth socket missing or stale).
        await self.tokens.start(cfg.listen)
        if self.tokens.path is not None:  # the auth socket: the same gate as the socket beside it
            transport.secure_socket(f"unix://{self.tokens.path}", cfg.socket_mode, cfg.socket_group, "spine.listen")
        await self._server.start()
        transport.secure_socket(cfg.listen, cfg.socket_mode, cfg.socket_group, "spine.listen")
        self._metrics = serve_metrics(cfg.metrics_listen, "spine", self.figures, tls=cfg.tls,
                                      insecure=cfg.insecure,
                                      connection_timeout_s=cfg.metrics_connection_timeout_s)
        if cfg.federation.enabled:  # incident summaries to and from peers (ADR 0038)
            from ben.federation import Federation

            self.federation = Federation(cfg.federation, cfg.data_dir, self.store)
            await asyncio.to_thread(self.federation.start)
        self.state = Lifecycle.RUNNING
        log.info("spine listening on %s, data in %s", cfg.listen, cfg.data_dir)

    def reload(self) -> bool:
        """SIGHUP: reload the redaction manifest ingest is checked against (ADR 0034)."""
        return self.redaction.reload("SIGHUP") if self.redaction is not None else False

    async def _retrying(self, what: str, fn, *args):
        """fn(*args) in a thread, tried again with backoff while the store is unavailable (a store
        process that died while the spine starts, a server not answering yet), for at most
        ``store.start_retry_timeout_s``: a spine that exits then is a crash loop for its supervisor."""
        deadline = time.monotonic() + self.config.store.start_retry_timeout_s
        delays = transport.backoff(200, 5_000)
        while True:
            try:
                return await asyncio.to_thread(fn, *args)
            except StoreUnavailableError as exc:
                delay = next(delays)
                if time.monotonic() + delay > deadline:   # named even when no retry was logged (a slow first try)
                    raise StoreUnavailableError(f"{exc} (tried for {self.config.store.start_retry_timeout_s:g} s: "
                                                "spine.store.start_retry_timeout_s)") from exc
                log.error("spine: could not %s, trying again in %.1fs (for %.0f s more: "
                          "spine.store.start_retry_timeout_s): %s", what, delay, deadline - time.monotonic(), exc)
                await asyncio.sleep(delay)

    def _on_stored(self, lane: int, table) -> None:
        """Rows are in the store: hand routine rows to the detectors (their own thread)."""
        if lane == ROUTINE and table.num_rows:
            part = watched(table)
            if part.num_rows:
                self.detector.submit(part)

    def _operator_query(self, sql: str, query_id: str, limits: QueryLimits, *, origin: str = "",
                        on_behalf: str = "") -> bytes:
        """An operator query (ADR 0032), recorded in the query log with its operator, statement and
        outcome before the answer goes back (ADR 0045, 2026-12); a refused one (sandbox, limits,
        errors) is also a refusal in the control plane's audit log."""
        from ben.control.queries import QueryClaim, QueryOutcome

        started = time.monotonic()
        try:
            data = self.store.operator_query(sql, query_id, limits)
        except Exception as exc:
            if self.control is not None:
                self.control.queries.record(query_id=query_id, sql=sql, claim=QueryClaim.of(origin, on_behalf),
                                            outcome=QueryOutcome((time.monotonic() - started) * 1000, error=str(exc)))
            if isinstance(exc, QueryError) and self.control is not None:
                from ben.control.documents import clean_text

                statement = clean_text(" ".join(sql.split())[:4096])
                self.control.refuse(f"query:{query_id}", "query_refused", str(exc)[:1024], "operator",
                                    sql=statement)
            raise
        if self.control is not None:
            self.control.queries.record(query_id=query_id, sql=sql, claim=QueryClaim.of(origin, on_behalf),
                                        outcome=QueryOutcome((time.monotonic() - started) * 1000,
                                                             rows=rows_of(data)))
        return data

    def _label(self, incident_id: str, label: str, kind: str, note: str, by: str) -> int:
        """An operator's label of an incident (baseline library, ADR 0038): audited, then stored."""
        from ben.baseline.labels import record_label

        return record_label(self.store, self.control, incident_id, label, kind, note, by)

    def _store_pending_labels(self) -> None:
        """Labels a kill left audited but not stored (ADR 0046 round 6); never stops the start."""
        from ben.baseline.labels import store_pending

        try:
            store_pending(self.store, self.control)
        except Exception as exc:  # tried again by the next label and the next start
            log.warning("labels: could not store the labels audited but not stored yet (%s); the next label or "
                        "start tries again", exc)

    def figures(self) -> list[Figure]:
        rx, wr = self.receiver.figures, self.writer.figures
        out = wal_figures(self.wals, self.config.quota)
        cursors = self.writer.cursors()
        for lane, name in NAMES.items():
            out += [
                counter("events_received_total", rx.events_in[lane], "events made durable", lane=name),
                counter("rows_stored_total", wr.rows_stored[lane], "rows inserted into the store", lane=name),
                gauge("store_cursor", cursors[lane], "last spine WAL record stored", lane=name),
            ]
        out += receiver_figures(rx)
        out += [
            counter("store_inserts_total", wr.inserts, "INSERTs into the store"),
            counter("store_insert_errors_total", wr.insert_errors, "failed INSERTs (retried)"),
            counter("store_repaired_records_total", wr.repaired_records, "records re-inserted after a partial insert"),
            counter("store_quarantined_records_total", wr.quarantined_records,
                    "WAL records that could not be decoded (set aside, not stored)"),
            gauge("store_last_insert_seconds", wr.last_insert_s, "duration of the latest INSERT"),
            gauge("store_detached_parts", getattr(self.store, "detached_parts", 0),
                  "parts the store engine set aside (broken, unexpected) when it last opened the data: their rows "
                  "are not in the store (ADR 0046)"),
        ]
        out += [gauge("alert_store_delay_seconds", delay, "event time to stored (INSERT returned), alerts of "
                      "the last store.alert_delay_window_s", quantile=f"{q:g}")
                for q, delay in self.writer.alert_delay_quantiles().items()]
        if self.detection is not None:
            incidents = self.detection.correlator.incidents.values()
            out += [
                counter("detect_points_total", self.detection.points, "bucketed points run through the detectors"),
                gauge("detect_series", len(self.detection.series), "series watched"),
                counter("detect_refused_series_total", self.detection.refused_series,
                        "new series not watched: over spine.detect.max_series[_per_subsystem] (still stored)"),
                counter("detect_refused_series_peer_total", self.detection.refused_series_peer,
                        "of them, over the share of the peer that sent them: spine.detect.max_series_per_peer"),
                counter("detect_refused_points_total", self.detection.refused_points,
                        "points of series not watched (still stored)"),
                gauge("detect_lag_seconds", self.detector.lag_seconds,
                      "how long the oldest stored table not yet through detection has waited"),
                counter("anomaly_updates_total", self.detector.anomaly_updates, "anomaly episodes opened or closed"),
                counter("detect_errors_total", self.detector.errors, "stored tables detection failed on"),
                gauge("incidents_open", sum(1 for i in incidents if i.state.value != "resolved"), "open incidents"),
                counter("incidents_total", len(self.detection.correlator.incidents), "incidents since start"),
            ]
        if self.control is not None:
            ctl = self.control.figures()
            out += [gauge("commands", n, "commands by state", state=state) for state, n in sorted(ctl["states"].items())]
            out += [counter("commands_refused_total", n, "commands the spine refused, by reason", reason=reason)
                    for reason, n in sorted(ctl["refusals"].items())]
            out += [gauge("kill_switch", float(ctl["kill_switch"]), "1 while the kill switch stops all automation"),
                    gauge("kill_switch_unacknowledged", ctl["kill_switch_unacknowledged"],
                          "attached sidecars that do not hold the spine's kill-switch order"),
                    counter("audit_entries_total", ctl["audit_entries"], "entries in the audit log"),
                    counter("audit_mirror_errors_total", ctl["audit_mirror_errors"],
                            "audit entries not yet mirrored into ClickHouse")]
        if self._admin is not None:
            out += [gauge("queries_running", self._admin.queries_running, "operator queries in flight (ADR 0032)"),
                    counter("queries_cancelled_total", self._admin.queries_cancelled,
                            "operator queries cancelled because their client went away or the spine stopped"),
                    counter("queries_refused_total", self._admin.queries_refused, "operator queries refused: "
                            "ben.core.admin.MAX_QUERIES_WAITING in progress or waiting already (ADR 0045, round 17)"),
                    gauge("operator_calls_held", sum(self._admin.pool.held.values()), "operator queries and audit "
                          "calls in progress or waiting for the operators' threads (ADR 0045, round 18)"),
                    counter("operator_calls_set_aside_total", self._admin.pool.set_aside, "operator calls waiting "
                            "that were refused to let in another operator's: the pool was full, theirs held most")]

        out += self.redaction.figures()
        out += [counter("peers_refused_total", self.guard.denied + self.tokens.refused,
                        "calls refused: peer or operator not authenticated")]
        out += priority.figures()
        return out

    def acknowledge(self, incident_id: str, by: str) -> tuple[str, str]:
        """Acknowledge an incident (detection thread), recorded first in the hash-chained audit log (kind
        ``acknowledgement``, the operator's name as actor; ADR 0013, 0037): only an open incident's
        acknowledgement is recorded, so a click repeated after a lost answer adds no second entry, and a
        spine killed between the two leaves the record, never an acknowledgement without one."""
        control = self.control

        def record() -> None:
            control.audit.append("acknowledgement", incident_id,
                                 {"reason": f"incident acknowledged by {by or 'an operator'}", "by": by,
                                  "incident_id": incident_id, "state": "acknowledged"}, by or None)

        return self.detector.acknowledge(incident_id, by, before=record if control is not None else None)

    def last_error(self) -> str:
        """Every part's current problem, a line each: the receiver's refusals (by reason), the
        store writer's failing INSERT or sync; else the receiver's last error of the last minute."""
        lines = refusals(self.wals, self.config.quota) if self.wals else []
        if self.writer is not None and self.writer.figures.last_error:
            lines.append(f"store writer: {self.writer.figures.last_error}")
        return "\n".join(lines) or recent_error(self.receiver)

    async def shutdown(self, timeout: float) -> None:
        if self.state in (Lifecycle.STOPPING, Lifecycle.STOPPED):
            return
        self.state = Lifecycle.STOPPING
        if self._server is not None:
            await self._server.stop(grace=min(1.0, timeout))
        if self._admin is not None:
            self._admin.close()
        if self.tokens is not None:
            await self.tokens.shutdown()
        if self.receiver is not None:
            await self.receiver.shutdown()
        if self._metrics is not None:
            self._metrics.shutdown()
        if self.writer is not None:
            drained = await asyncio.to_thread(self.writer.shutdown, timeout)
            if not drained:
                log.warning("spine: %d WAL records not yet stored at shutdown; they stay in the WAL",
                            sum(w.depth for w in self.wals.values()))
        if self.detector is not None:
            await asyncio.to_thread(self.detector.shutdown, min(5.0, timeout))
        if self.federation is not None:
            await asyncio.to_thread(self.federation.shutdown, min(5.0, timeout))
        if self.control is not None:
            self.control.close()
        if self.store is not None:
            self.store.close()
        for wal in self.wals.values():
            wal.close()
        self.state = Lifecycle.STOPPED
