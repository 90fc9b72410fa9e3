"""Runs detection on stored rows in a thread of its own, so storage (and alerts) never wait for it.

The store writer hands over each stored routine table; this thread feeds them, in order, to
``Detection`` and writes the anomalies and incidents that changed. The hand-over queue is
bounded, in tables and in rows (``max_queued_rows``: what waits is memory): if detection falls
far behind, the store writer waits (and the WALs hold the data).

Restarts: every ``checkpoint_interval_s`` and at shutdown, the whole detection state and the
last spine_seq it covers are written to a checkpoint file (``ben.spine.detect_state``: no
pickle, encrypted with a key of its own, 0600, atomically: temp file, fsync, rename). At start, ``resume`` loads it and replays from the store the routine rows stored after
that spine_seq, through the same code, so a restart (even kill -9) gives the same anomalies and
incidents as an uninterrupted run. Without a checkpoint, detection starts fresh from new data.

``lag_seconds`` is how long the oldest table handed over has been waiting (0 when idle): the
spine's ``detect_lag_seconds``.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ben.core.errors import StorageError
from ben.core.files import remove_temporaries
from ben.spine import detect_state
from ben.spine.detection import COLUMNS, PEER_COLUMNS, UNIT_COLUMN, UNIT_SQL, Detection
from ben.spine.findings import anomaly_rows, incident_rows
from ben.spine.incidents import State
from ben.store.base import Store
from ben.store.schema import ANOMALIES, INCIDENTS

log = logging.getLogger(__name__)

CATCH_UP_SQL = (
    "SELECT ts, CAST(kind, 'Int8') AS kind, subsystem, name, value, `attributes.key`, `attributes.value`, "
    f"spine_seq, sidecar_id, producer_id, {UNIT_SQL} FROM ben.events WHERE lane = 'routine' AND kind IN (1, 2) "
    "AND spine_seq > {low} AND spine_seq <= {high} ORDER BY spine_seq, producer_seq"
)


class DetectorThread:
    """The thread that runs detection on stored tables, off the store writer's path, through a bounded queue,
    and writes the anomalies and incidents that changed (checkpointing detection as it goes)."""

    def __init__(self, detection: Detection, store: Store, max_queued: int = 64,
                 checkpoint_path: Path | None = None, checkpoint_interval_s: float = 10.0,
                 max_queued_rows: int = 400_000):
        self.detection = detection
        self._store = store
        self._checkpoint_path = checkpoint_path
        self._checkpoint_interval = checkpoint_interval_s
        self._checkpointed_at = time.monotonic()
        self._key_problem = ""       # why the checkpoint key cannot be used ("": it can, or not tried yet)
        self.checkpoint_failed = ""  # the last checkpoint's write error ("": written)
        self._key: bytes | None = None
        self._waiting: collections.deque[float] = collections.deque()  # submit times of queued tables
        self._max_rows = max_queued_rows
        self._queued_rows = 0
        self._room = threading.Condition()
        self.last_seq = 0  # routine spine_seq covered
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._run, name="detection", daemon=True)
        self.anomaly_updates = 0
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, table: pa.Table) -> None:
        """Called by the store writer after an insert (blocks only if detection is far behind)."""
        with self._room:  # one table always fits, so a table larger than the bound still goes
            while self._queued_rows and self._queued_rows + table.num_rows > self._max_rows:
                self._room.wait(1.0)
            self._queued_rows += table.num_rows
        self._waiting.append(time.monotonic())
        self._queue.put(table)

    @property
    def lag_seconds(self) -> float:
        """How long the oldest stored table not yet through detection has waited (0: caught up)."""
        try:
            return max(0.0, time.monotonic() - self._waiting[0])
        except IndexError:
            return 0.0

    def _key_bytes(self) -> bytes:
        if self._key is None:
            self._key = detect_state.load_key(self._checkpoint_path.with_name("detect.key"))
        return self._key

    def acknowledge(self, incident_id: str, by: str, timeout: float = 10.0,
                    before: Callable[[], None] | None = None) -> tuple[str, str]:
        """Acknowledge an incident (in the detection thread, in order with the data); (state, narrative).

        ``before`` runs (in the caller's context) only when the incident is open, before it is
        acknowledged: the audit record comes first, and acknowledging again records nothing more; if it
        raises, nothing is acknowledged."""
        result: list = []
        done = threading.Event()
        ctx = contextvars.copy_context()
        first = None if before is None else (lambda: ctx.run(before))
        self._queue.put(("ack", incident_id, by, result, done, first))  # type: ignore[arg-type]
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
        if self._thread.ident is None:  # stopped while the spine was starting: nothing ran, nothing to save
            return
        self.force_flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)
        self.checkpoint()

    # -- checkpoints ----------------------------------------------------------------------------
    def resume(self, stored_upto: int) -> int:
        """Load the checkpoint (if any) and replay stored rows after it; return rows replayed."""
        path = self._checkpoint_path
        if path is not None:
            freed = remove_temporaries(path)  # a write killed before its rename (ADR 0046, round 4)
            if freed:
                log.warning("removed the temporary files (%d bytes) of a detection checkpoint write cut short "
                            "by a kill; the last whole checkpoint is read", freed)
        if path is None or not path.exists():
            self.last_seq = stored_upto  # fresh: watch what comes from now on
            return 0
        if not self._usable_key():  # the checkpoint stays where it is, for once the key is fixed
            self.last_seq = stored_upto
            return 0
        try:
            last_seq, detection = detect_state.decode(path.read_bytes(), self._key_bytes())
            detection.max_series_per_subsystem = self.detection.max_series_per_subsystem
            detection.max_series = self.detection.max_series
            detection.max_series_per_peer = self.detection.max_series_per_peer
        except Exception as exc:  # damaged or from another version: start fresh, keep the file aside
            aside = path.with_suffix(f".unreadable-{int(time.time())}")
            path.rename(aside)
            log.error("detection checkpoint %s unreadable (%s); moved to %s, starting fresh", path, exc, aside)
            self.last_seq = stored_upto
            return 0
        if detection.algorithm != self.detection.algorithm:  # the configuration changed: a state that cannot go on
            log.warning("detection checkpoint %s holds the %s detection, %s is configured; starting fresh", path,
                        detection.algorithm, self.detection.algorithm)
            self.last_seq = stored_upto
            return 0
        if detection.algorithm == "calibrated":
            detection.bank.timing = self.detection.bank.timing  # the configured timing, on the restored states
        self.detection, self.last_seq = detection, last_seq
        if stored_upto <= last_seq:
            log.info("detection resumed from its checkpoint at spine_seq %d; nothing stored after it", last_seq)
            return 0
        table = self._store.query_arrow(CATCH_UP_SQL.format(low=int(last_seq), high=int(stored_upto)))
        table = table.rename_columns([*COLUMNS, *PEER_COLUMNS, UNIT_COLUMN])
        if table.num_rows:
            self._process(table)
        self.last_seq = stored_upto
        log.info("detection resumed from its checkpoint at spine_seq %d; replayed %d stored rows up to %d",
                 last_seq, table.num_rows, stored_upto)
        return table.num_rows

    def _usable_key(self) -> bool:
        """False (said once, with what to do) if the checkpoint key cannot be used: detection then runs
        without checkpoints and leaves the one on disk alone (ADR 0046, 2026-12 amendment). Before, a
        key readable by others set a good checkpoint aside, and a damaged key made every later
        checkpoint raise: a traceback per stored table."""
        if self._key_problem:
            return False
        try:
            self._key_bytes()
            return True
        except (StorageError, OSError) as exc:
            key = self._checkpoint_path.with_name("detect.key")
            fix = (f"chmod 600 {key}" if "chmod" in str(exc) else
                   f"delete {key}: a new one is made, and the checkpoint it sealed is set aside")
            self._key_problem = str(exc)
            log.error("detection checkpoint key unusable: %s; detection runs without checkpoints, the checkpoint "
                      "on disk is left as it is; to fix: %s, then restart the spine", exc, fix)
            return False

    def checkpoint(self) -> None:
        """Write the checkpoint; a failure (no room, a bad key) is logged in one line and tried again after
        ``checkpoint_interval_s``, never raised into detection or the spine's shutdown."""
        path = self._checkpoint_path
        if path is None:
            return
        self._checkpointed_at = time.monotonic()
        if not self._usable_key():
            return
        try:
            detect_state.write(path, detect_state.encode(self.detection, self.last_seq, self._key_bytes()))
            self.checkpoint_failed = ""
        except (OSError, StorageError) as exc:
            if not self.checkpoint_failed:
                log.error("detection checkpoint %s not written: %s; the previous one stays, tried again every "
                          "%.0f s", path, exc, self._checkpoint_interval)
            self.checkpoint_failed = str(exc)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            if isinstance(item, tuple):  # ("ack", incident_id, by, result, done, before)
                _, incident_id, by, result, done, before = item
                try:
                    if before is not None and self.detection.correlator.incidents[incident_id].state is State.OPEN:
                        before()   # audited first (ADR 0046 round 5): a kill after it leaves an audited intent
                    inc = self.detection.correlator.acknowledge(incident_id, by)
                    self._store.insert_rows(INCIDENTS, incident_rows([inc]))
                    result.append((inc.state.value, inc.narrative()))
                except Exception as exc:  # KeyError: unknown incident
                    result.append(exc)
                done.set()
                continue
            try:
                self._process(item)
                self.last_seq = max(self.last_seq, int(pc.max(item["spine_seq"]).as_py()))
                if time.monotonic() - self._checkpointed_at >= self._checkpoint_interval:
                    self.checkpoint()
            except Exception:  # detection must never stop: log, count, go on
                self.errors += 1
                log.exception("detection failed on a stored table; going on")
            finally:
                if self._waiting:
                    self._waiting.popleft()
                with self._room:
                    self._queued_rows -= item.num_rows
                    self._room.notify_all()

    def _process(self, table: pa.Table) -> None:
        changes = self.detection.process(table)
        pairs = [(a, inc.id if inc is not None else "") for a, inc in zip(changes.anomalies, changes.incidents)
                 if a is not None]
        if pairs:
            self._store.insert_rows(ANOMALIES, anomaly_rows(pairs))
            self.anomaly_updates += len(pairs)
            for a, _ in pairs:
                log.info("anomaly: %s", a.sentence())
        incidents = {inc.id: inc for inc in changes.incidents if inc is not None}
        if incidents:
            self._store.insert_rows(INCIDENTS, incident_rows(list(incidents.values())))
