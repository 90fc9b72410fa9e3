"""The spine process: ingest server, WAL, store writer, admin API."""

from __future__ import annotations

import asyncio
import logging

import grpc

from ben.core import transport
from ben.core.admin import AdminServicer
from ben.core.config import SpineConfig
from ben.core.receiver import IngestReceiver
from ben.core.service import State
from ben.core.wal import Wal
from ben.spine.store_writer import StoreWriter
from ben.store import open_store
from ben.v1 import admin_pb2_grpc, telemetry_pb2_grpc

log = logging.getLogger(__name__)


class Spine:
    name = "spine"

    def __init__(self, config: SpineConfig):
        self.config = config
        self.state = State.NEW
        self.wal: Wal | None = None
        self.store = None
        self.writer: StoreWriter | None = None
        self.receiver: IngestReceiver | None = None
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.wal = Wal(cfg.data_dir / "wal", cfg.data_dir / "quarantine")
        self.store = await asyncio.to_thread(open_store, cfg.store.backend, cfg.store_path)
        self.writer = StoreWriter(self.wal, self.store, cfg.store.insert_max_rows)
        await asyncio.to_thread(self.writer.start)
        # The spine WAL keeps the whole request: it carries the sidecar's id and record number.
        self.receiver = IngestReceiver(self.wal, lambda req: req.SerializeToString(), self.writer.notify)
        self.receiver.start()
        self._server = grpc.aio.server(options=transport.SERVER_OPTIONS)
        telemetry_pb2_grpc.add_IngestServicer_to_server(self.receiver, self._server)
        admin = AdminServicer("spine", lambda: str(cfg.data_dir), self.figures, self.store.query_json)
        admin_pb2_grpc.add_AdminServicer_to_server(admin, self._server)
        transport.bind(self._server, cfg.listen, "spine.listen")
        await self._server.start()
        self.state = State.RUNNING
        log.info("spine listening on %s, data in %s", cfg.listen, cfg.data_dir)

    def figures(self) -> dict[str, float]:
        wal, writer, rx = self.wal, self.writer, self.receiver
        return {
            "wal_records": wal.depth,
            "wal_bytes": wal.nbytes,
            "wal_oldest_age_s": wal.oldest_age_s(),
            "wal_last_seq": wal.last_seq,
            "wal_corrupt_records_total": wal.corrupt_records,
            "events_received_total": rx.figures.events_in,
            "requests_total": rx.figures.requests,
            "duplicates_total": rx.figures.duplicates,
            "rejected_total": rx.figures.rejected,
            "acks_total": rx.figures.acks,
            "commits_total": rx.figures.commits,
            "store_cursor": writer.cursor,
            "rows_stored_total": writer.figures.rows_stored,
            "store_inserts_total": writer.figures.inserts,
            "store_insert_errors_total": writer.figures.insert_errors,
            "store_repaired_records_total": writer.figures.repaired_records,
        }

    async def shutdown(self, timeout: float) -> None:
        if self.state in (State.STOPPING, State.STOPPED):
            return
        self.state = State.STOPPING
        if self._server is not None:
            await self._server.stop(grace=min(1.0, timeout))
        if self.receiver is not None:
            await self.receiver.shutdown()
        if self.writer is not None:
            drained = await asyncio.to_thread(self.writer.shutdown, timeout)
            if not drained:
                log.warning("spine: %d WAL records not yet stored at shutdown; they stay in the WAL", self.wal.depth)
        if self.store is not None:
            self.store.close()
        if self.wal is not None:
            self.wal.close()
        self.state = State.STOPPED
