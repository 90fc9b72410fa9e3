"""The sidecar process: ingest server for local SDKs, WAL, shipper to the spine."""

from __future__ import annotations

import asyncio
import logging
import uuid

import grpc

from ben.core import priority, transport
from ben.control.sidecar_side import SidecarControl
from ben.control.component import check_files as check_control_files
from ben.core.admin import AdminServicer
from ben.core.certs import common_name_of
from ben.core.config import SidecarConfig
from ben.core.figures import Figure, counter, gauge, serve_metrics
from ben.core.data_dir import claim_data_dir
from ben.core.files import check_reserve, private_dir
from ben.core.provenance import Stamper
from ben.core.address import same_endpoint, socket_path
from ben.core.errors import ConfigError
from ben.core.lanes import ALERT as LANE_ALERT
from ben.core.lanes import NAMES, ROUTINE, open_wals, receiver_figures, refusals, wal_figures
from ben.core.calls import CallBudget
from ben.core.senders import SenderBook, client_of_listener
from ben.core.peers import PlainTcp
from ben.core.receiver import IngestReceiver
from ben.core.receiver_figures import recent_error
from ben.core.service import Lifecycle
from ben.core.wal import Wal
from ben.otlp import OtlpReceiver
from ben.otlp.auth import load_token
from ben.otlp.gate import Gate
from ben.redact import Redactor
from ben.sidecar import listen
from ben.sidecar.guard import LocalAccounts, NamedCertificates
from ben.sidecar.shipper import Shipper
from ben.v1 import admin_pb2_grpc, control_pb2_grpc

log = logging.getLogger(__name__)


class Sidecar:
    """The sidecar process: ingest receiver into its WALs, redaction, shipper to the spine, admin and control."""

    name = "sidecar"

    def __init__(self, config: SidecarConfig):
        self.config = config
        self.state = Lifecycle.NEW
        self.id = ""
        self.wals: dict[int, Wal] = {}
        self.receiver: IngestReceiver | None = None
        self.shipper: Shipper | None = None
        self._server: grpc.aio.Server | None = None
        self._gate: Gate | None = None  # a plain loopback listen's (ADR 0045, round 17)
        self._metrics = None
        self.redactor: Redactor | None = None
        self._watch: asyncio.Task | None = None
        self.control: SidecarControl | None = None
        self.otlp: OtlpReceiver | None = None
        self._tls, self._own_cert = None, b""  # by check()
        self._stampers = {False: Stamper(), True: Stamper()}  # one per engine: they run in two threads

    def _identity(self) -> str:
        """The configured id, or the one generated at first start and kept in the WAL."""
        routine = self.wals[ROUTINE]
        kept = routine.get_meta("sidecar_id")
        configured = self.config.id
        if configured:
            if kept and kept.decode() != configured:
                log.warning("sidecar id changes from %s to %s (configured)", kept.decode(), configured)
            ident = configured
        elif kept:
            ident = kept.decode()
        else:
            ident = f"sc-{uuid.uuid4().hex[:12]}"
        if kept is None or kept.decode() != ident:
            routine.put_meta("sidecar_id", ident.encode())
        return ident

    def check(self) -> None:
        """Refuse, as the start would and before anything opens, what the configuration names that cannot work: the
        trust store and policy, the redaction manifest, the TLS files, the listen and spine addresses, the OTLP
        receiver's token, a data directory of another component or a newer ben. Opens, creates and binds nothing
        (``ben sidecar --check``)."""
        cfg = self.config
        check_control_files(cfg.control, "sidecar")
        # The manifest first: a bad one refuses the start before anything is opened (ADR 0014).
        self.redactor = Redactor(cfg.redact_manifest)
        tls = self._tls = transport.tls_files(cfg.tls, "sidecar.tls")
        if tls is None and not cfg.insecure and socket_path(cfg.spine) is None:
            raise ConfigError(f"the spine address {cfg.spine} is TCP: set [sidecar.tls] cert, key and ca (this "
                              "sidecar's certificate names its id) or insecure = true", field="sidecar.spine")
        if tls is not None:
            # a missing or loose key refuses the start now, not at the first dial
            self._own_cert = tls.read("sidecar.tls")[0]
        transport.check_listen(cfg.listen, "sidecar.listen", tls=tls, insecure=cfg.insecure)
        if cfg.tls_clients and (tls is None or socket_path(cfg.listen) is not None):  # restricted nothing, in silence
            kind = "a unix socket" if socket_path(cfg.listen) else "plain TCP"
            raise ConfigError(f"names the client certificates served over mutual TLS ({', '.join(cfg.tls_clients)}), "
                              f"but sidecar.listen = {cfg.listen} is {kind}: they restrict nothing there; leave "
                              "tls_clients out, or listen on TCP with [sidecar.tls]", field="sidecar.tls_clients")
        if same_endpoint(cfg.listen, cfg.spine):  # it shipped to itself, and its command link attached to itself
            raise ConfigError(f"{cfg.spine} is this sidecar's own address (sidecar.listen = {cfg.listen}): name "
                              "the spine's address", field="sidecar.spine")
        if cfg.otlp.grpc_listen or cfg.otlp.http_listen:
            load_token(cfg.otlp.auth_token_file)  # its start reads it so
        if cfg.data_dir.is_dir():  # another component's, or a newer ben's
            claim_data_dir(cfg.data_dir, "sidecar", "sidecar.data_dir", mark=False)

    async def start(self) -> None:
        self.check()
        cfg, tls, own_cert = self.config, self._tls, self._own_cert
        transport.use_client_tls(tls)
        private_dir(cfg.data_dir, "sidecar.data_dir")  # one clear line naming the path, not a traceback
        claim_data_dir(cfg.data_dir, "sidecar", "sidecar.data_dir")  # not another component's, nor a newer ben's
        check_reserve(cfg.data_dir, cfg.wal_min_free_bytes, "sidecar.wal_min_free_bytes")
        check_reserve(cfg.data_dir, cfg.wal_resume_free_bytes, "sidecar.wal_resume_free_bytes")
        self.wals = open_wals(cfg.data_dir, min_free_bytes=cfg.wal_min_free_bytes,
                              resume_free_bytes=cfg.wal_resume_free_bytes)
        self.id = self._identity()
        self.shipper = Shipper(self.wals, self.id, cfg.spine, cfg.ship_window_records,
                               (cfg.reconnect_min_ms, cfg.reconnect_max_ms))
        # The sidecar WAL keeps the batch alone, redacted before it is written: nothing the manifest
        # names reaches the WAL, the spine or the store.
        # TCP: telemetry for every local account (plain loopback) or certificate of the CA (mutual TLS), the rest
        # for the sidecar's own account or certificate and those configured (ADR 0045, rounds 10 and 11).
        guard, plain, unix = None, None, socket_path(cfg.listen) is not None
        # ben accepts, connections per account (ADR 0045, rounds 17 and 18): a mutual-TLS listener is gRPC's alone
        gate = listen.gate(cfg.max_connections_per_client, cfg.max_connections, cfg.data_dir) \
            if tls is None or unix else None
        if not unix:
            if tls is None:  # plain loopback
                plain = PlainTcp(cfg.listen, [], cfg.socket_group, gated=gate.client_of_peer)
            guard = (LocalAccounts(plain) if tls is None
                     else NamedCertificates(common_name_of(own_cert), cfg.tls_clients))
        # Senders per client (ADR 0045, round 15): an SDK makes one at each start; a stranger, as many as it likes.
        senders = SenderBook(cfg.max_senders_per_client, cfg.sender_idle_s, "sidecar.max_senders_per_client")
        client_of = client_of_listener(tls is not None and not unix, plain, None if gate is None else gate.client_of_peer)
        self.receiver = IngestReceiver(self.wals, self._encode, self.shipper.notify, cfg.quota,
                                       encode_in_thread=True, senders=senders, client_of=client_of)
        self.receiver.start()
        # Signed commands: verified and run here, receipts back to the spine (ADR 0013).
        self.control = SidecarControl(cfg.control, cfg.data_dir, self.id, cfg.spine,
                                      (cfg.reconnect_min_ms, cfg.reconnect_max_ms))
        # descriptor floods (ADR 0045, round 12): the spine's quota and idle deadline on the sidecar's listener
        options = [*transport.SERVER_OPTIONS, *transport.connection_quota(
            cfg.max_connections, cfg.max_connection_idle_s, "sidecar.max_connections",
            listen.DESCRIPTORS_EACH if gate is not None else 1)]
        budget = CallBudget(cfg.max_calls_per_client, client_of, "sidecar.max_calls_per_client")  # round 15
        self._server = grpc.aio.server(options=options, interceptors=[guard, budget] if guard is not None else [budget])
        self.receiver.add_to_server(self._server)  # tolerant of undecodable requests (ADR 0033)
        admin_pb2_grpc.add_AdminServicer_to_server(
            AdminServicer("sidecar", lambda: self.id, self.figures, last_error=self.last_error), self._server)
        control_pb2_grpc.add_ControlServicer_to_server(self.control, self._server)
        if gate is None:
            transport.bind(self._server, cfg.listen, "sidecar.listen", tls=tls, insecure=cfg.insecure)
        else:
            listen.bind_inner(self._server, gate, cfg.listen, "sidecar.listen")
        await self._server.start()
        if gate is not None:
            self._gate = gate
            await listen.start(gate, cfg.listen, "sidecar.listen")
        # OpenTelemetry SDKs and Collectors: into the same receiver, redaction and WALs (ADR 0036).
        self.otlp = OtlpReceiver(cfg.otlp, self.receiver, self.id, frozenset(cfg.otlp.model_fields_set), self.wals,
                                 state_dir=cfg.data_dir)
        await self.otlp.start()
        for address, field in ((cfg.listen, "sidecar.listen"), (cfg.otlp.grpc_listen, "sidecar.otlp.grpc_listen"),
                               (cfg.otlp.http_listen, "sidecar.otlp.http_listen")):
            if address and socket_path(address) is not None:
                transport.secure_socket(address, cfg.socket_mode, cfg.socket_group, field)
        self._metrics = serve_metrics(cfg.metrics_listen, "sidecar", self.figures, tls=cfg.tls,
                                      insecure=cfg.insecure,
                                      connection_timeout_s=cfg.metrics_connection_timeout_s)
        self.shipper.start()
        if cfg.redact_manifest is not None and cfg.redact_watch_interval_ms > 0:
            self._watch = asyncio.get_running_loop().create_task(self._watch_manifest(), name="redact-watch")
        self.control.start()
        self.state = Lifecycle.RUNNING
        log.info("sidecar %s listening on %s, shipping to %s", self.id, cfg.listen, cfg.spine)

    def _encode(self, request) -> bytes:
        """``Redactor.encode``, stamped with the manifest that redacted the batch (ADR 0034). A reload
        in between (another thread) leaves it unstamped: the spine then redacts it again."""
        alert = request.lane == LANE_ALERT
        manifest = self._engine(alert).manifest
        data = self.redactor.encode(request)
        if self._engine(alert).manifest is not manifest:
            return data
        return data + self._stampers[alert].stamp(manifest)

    def _engine(self, alert: bool):
        return self.redactor.alert_engine if alert else self.redactor.engine

    def reload(self) -> bool:
        """SIGHUP: reload the redaction manifest (atomic; a bad one is refused and the old one stays)."""
        return self.redactor.reload("SIGHUP") if self.redactor is not None else False

    async def _watch_manifest(self) -> None:
        interval = self.config.redact_watch_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            if self.redactor.changed_on_disk():
                self.redactor.reload("file changed")

    def figures(self) -> list[Figure]:
        rx, sh = self.receiver.figures, self.shipper.figures
        out = wal_figures(self.wals, self.config.quota)
        for lane, name in NAMES.items():
            out += [
                counter("events_received_total", rx.events_in[lane], "events made durable", lane=name),
                counter("shipped_records_total", sh.records_sent[lane], "WAL records sent to the spine", lane=name),
                counter("spine_acked_records_total", sh.records_acked[lane], "WAL records the spine acknowledged",
                        lane=name),
                gauge("spine_credit_bytes", -1 if self.shipper.credit.get(lane) is None else self.shipper.credit[lane],
                      "bytes the spine would admit now (-1: no limit)", lane=name),
            ]
        out += receiver_figures(rx)
        out += [
            counter("spine_backpressure_total", sh.backpressure, "times the spine said not now"),
            counter("spine_refused_total", sh.refused_by_spine, "WAL records the spine refused (quarantined)"),
            counter("spine_reconnects_total", sh.reconnects, "streams to the spine that ended"),
            counter("ship_quarantined_records_total", sh.quarantined, "WAL records that could not be decoded (set aside)"),
            gauge("spine_connected", float(sh.connected), "1 while a stream to the spine is up"),
        ]
        out += self.redactor.figures()
        out += priority.figures()
        if self.control is not None:
            out += self.control.figures()
        if self.otlp is not None:
            out += self.otlp.figures()
        if self._gate is not None:
            out += listen.figures(self._gate)
        return out

    def last_error(self) -> str:
        """Every part's current problem, a line each: the redactor's, the receiver's refusals (by
        reason); else the receiver's last error of the last minute."""
        lines = [f"redactor: {self.redactor.last_error}"] if self.redactor and self.redactor.last_error else []
        lines += refusals(self.wals, self.config.quota) if self.wals else []
        if self.otlp is not None and self.otlp.exporting.figures.last_error:
            lines.append(f"otlp: {self.otlp.exporting.figures.last_error}")
        return "\n".join(lines) or recent_error(self.receiver)

    async def shutdown(self, timeout: float) -> None:
        """Stop taking data, give the shipper `timeout` to drain the WAL, then close it.

        What is not drained stays in the WAL and ships after the next start.
        """
        if self.state in (Lifecycle.STOPPING, Lifecycle.STOPPED):
            return
        self.state = Lifecycle.STOPPING
        if self._watch is not None:
            self._watch.cancel()
        if self.otlp is not None:
            await self.otlp.shutdown(min(1.0, timeout))
        if self._gate is not None:
            await self._gate.close_listener()  # no new connection; those held are answered within the grace
        if self._server is not None:
            await self._server.stop(grace=min(1.0, timeout))
        if self._gate is not None:
            await self._gate.shutdown()
        if self.receiver is not None:
            await self.receiver.shutdown()
        if self._metrics is not None:
            self._metrics.shutdown()
        if self.shipper is not None and not await self.shipper.shutdown(timeout):
            log.warning("sidecar: %d WAL records not yet acknowledged by the spine; they ship after restart",
                        sum(w.depth for w in self.wals.values()))
        if self.control is not None:
            await self.control.shutdown()
        for wal in self.wals.values():
            wal.close()
        self.state = Lifecycle.STOPPED
