"""Runs detection on stored rows in a thread of its own, so storage (and alerts) never wait for it.

The store writer hands over each stored routine table; this thread feeds them, in order, to
``Detection`` and writes the anomalies and incidents that changed. The hand-over queue is
bounded: if detection falls far behind, the store writer waits (and the WALs hold the data).
"""

from __future__ import annotations

import logging
import queue
import threading

import pyarrow as pa

from ben.spine.detection import Detection
from ben.spine.findings import anomaly_rows, incident_rows
from ben.store.chdb import Store
from ben.store.schema import ANOMALIES, INCIDENTS

log = logging.getLogger(__name__)


class DetectorThread:
    def __init__(self, detection: Detection, store: Store, max_queued: int = 64):
        self.detection = detection
        self._store = store
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._run, name="detection", daemon=True)
        self.anomaly_updates = 0
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, table: pa.Table) -> None:
        """Called by the store writer after an insert (blocks only if detection is far behind)."""
        self._queue.put(table)

    def acknowledge(self, incident_id: str, by: str, timeout: float = 10.0) -> tuple[str, str]:
        """Acknowledge an incident (in the detection thread, in order with the data); (state, narrative)."""
        result: list = []
        done = threading.Event()
        self._queue.put(("ack", incident_id, by, result, done))  # type: ignore[arg-type]
        if not done.wait(timeout):
            raise TimeoutError("detection is busy; try again")
        if isinstance(result[0], Exception):
            raise result[0]
        return result[0]

    def force_flush(self, timeout: float) -> bool:
        """Wait until every submitted table was processed."""
        done = threading.Event()
        self._queue.put(done)  # type: ignore[arg-type]  # a marker: set when reached
        return done.wait(timeout)

    def shutdown(self, timeout: float) -> None:
        self.force_flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            if isinstance(item, tuple):  # ("ack", incident_id, by, result, done)
                _, incident_id, by, result, done = item
                try:
                    inc = self.detection.correlator.acknowledge(incident_id, by)
                    self._store.insert_rows(INCIDENTS, incident_rows([inc]))
                    result.append((inc.state.value, inc.narrative()))
                except Exception as exc:  # KeyError: unknown incident
                    result.append(exc)
                done.set()
                continue
            try:
                self._process(item)
            except Exception:  # detection must never stop: log, count, go on
                self.errors += 1
                log.exception("detection failed on a stored table; going on")

    def _process(self, table: pa.Table) -> None:
        changes = self.detection.process(table)
        pairs = [(a, inc.id) for a, inc in zip(changes.anomalies, changes.incidents) if a is not None]
        if pairs:
            self._store.insert_rows(ANOMALIES, anomaly_rows(pairs))
            self.anomaly_updates += len(pairs)
            for a, _ in pairs:
                log.info("anomaly: %s", a.sentence())
        incidents = {inc.id: inc for inc in changes.incidents}
        if incidents:
            self._store.insert_rows(INCIDENTS, incident_rows(list(incidents.values())))
