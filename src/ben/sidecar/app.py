"""The sidecar process: ingest server for local SDKs, WAL, shipper to the spine."""

from __future__ import annotations

import logging
import uuid

import grpc

from ben.core import transport
from ben.core.admin import AdminServicer
from ben.core.config import SidecarConfig
from ben.core.receiver import IngestReceiver
from ben.core.service import State
from ben.core.wal import Wal
from ben.sidecar.shipper import Shipper
from ben.v1 import admin_pb2_grpc, telemetry_pb2_grpc

log = logging.getLogger(__name__)


class Sidecar:
    name = "sidecar"

    def __init__(self, config: SidecarConfig):
        self.config = config
        self.state = State.NEW
        self.id = ""
        self.wal: Wal | None = None
        self.receiver: IngestReceiver | None = None
        self.shipper: Shipper | None = None
        self._server: grpc.aio.Server | None = None

    def _identity(self) -> str:
        """The configured id, or the one generated at first start and kept in the WAL."""
        kept = self.wal.get_meta("sidecar_id")
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
            self.wal.put_meta("sidecar_id", ident.encode())
        return ident

    async def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.wal = Wal(cfg.data_dir / "wal", cfg.data_dir / "quarantine")
        self.id = self._identity()
        self.shipper = Shipper(self.wal, self.id, cfg.spine, cfg.ship_window_records,
                               (cfg.reconnect_min_ms, cfg.reconnect_max_ms))
        # The sidecar WAL keeps the batch alone (issue 6 redacts it before it is written).
        self.receiver = IngestReceiver(self.wal, lambda req: req.batch.SerializeToString(), self.shipper.notify)
        self.receiver.start()
        self._server = grpc.aio.server(options=transport.SERVER_OPTIONS)
        telemetry_pb2_grpc.add_IngestServicer_to_server(self.receiver, self._server)
        admin_pb2_grpc.add_AdminServicer_to_server(AdminServicer("sidecar", lambda: self.id, self.figures),
                                                   self._server)
        transport.bind(self._server, cfg.listen, "sidecar.listen")
        await self._server.start()
        self.shipper.start()
        self.state = State.RUNNING
        log.info("sidecar %s listening on %s, shipping to %s", self.id, cfg.listen, cfg.spine)

    def figures(self) -> dict[str, float]:
        wal, rx, sh = self.wal, self.receiver, self.shipper
        return {
            "wal_records": wal.depth,
            "wal_bytes": wal.nbytes,
            "wal_oldest_age_s": wal.oldest_age_s(),
            "wal_last_seq": wal.last_seq,
            "wal_corrupt_records_total": wal.corrupt_records,
            "wal_quarantined_records_total": wal.quarantined_records,
            "events_received_total": rx.figures.events_in,
            "requests_total": rx.figures.requests,
            "duplicates_total": rx.figures.duplicates,
            "rejected_total": rx.figures.rejected,
            "acks_total": rx.figures.acks,
            "commits_total": rx.figures.commits,
            "shipped_records_total": sh.figures.records_sent,
            "spine_acked_records_total": sh.figures.records_acked,
            "spine_acked_seq": sh.acked,
            "spine_refused_total": sh.figures.refused_by_spine,
            "spine_reconnects_total": sh.figures.reconnects,
            "spine_connected": float(sh.figures.connected),
        }

    async def shutdown(self, timeout: float) -> None:
        """Stop taking data, give the shipper `timeout` to drain the WAL, then close it.

        What is not drained stays in the WAL and ships after the next start.
        """
        if self.state in (State.STOPPING, State.STOPPED):
            return
        self.state = State.STOPPING
        if self._server is not None:
            await self._server.stop(grace=min(1.0, timeout))
        if self.receiver is not None:
            await self.receiver.shutdown()
        if self.shipper is not None and not await self.shipper.shutdown(timeout):
            log.warning("sidecar: %d WAL records not yet acknowledged by the spine; they ship after restart",
                        self.wal.depth)
        if self.wal is not None:
            self.wal.close()
        self.state = State.STOPPED
