"""The store process's side of :mod:`ben.store.process`: open a ChdbStore, answer calls until told to close.

Run as ``python -m ben.store.worker FD_MAIN FD_URGENT PATH RETENTION_DAYS OPEN_WAIT_S BACKGROUND_NICE`` by
``ChdbProcessStore``; the FDs are its ends of the two channels' socket pairs. Each channel is answered
by a thread of its own on a chDB connection of its own (``ChdbStore.urgent`` for the urgent one), so
an alert's INSERT runs beside a routine one. It exits at once, without closing chDB, when either
socket closes. chDB's background threads (merges and the like) run at BACKGROUND_NICE (ADR 0024).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
import time
from multiprocessing.connection import Connection

import pyarrow as pa

from ben.core.errors import BenError, QueryError, StorageError
from ben.core.priority import BACKGROUND_NICE, CHDB_BACKGROUND, BackgroundPriority
from ben.core.service import freeze_heap
from ben.store.process import HEARTBEAT_S, METHODS, TableRef

def _open(path: str, retention_days: int, open_wait_s: float):
    from ben.store.chdb import ChdbStore

    deadline = time.monotonic() + open_wait_s
    while True:
        try:
            return ChdbStore(path, retention_days=retention_days)
        except StorageError as exc:
            if "in use" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)  # the previous spine's store process is still exiting


def _reply_error(exc: BaseException) -> tuple[str, BaseException]:
    """An error the parent can unpickle and raise: ben's own as they are, anything else as StorageError."""
    if isinstance(exc, BenError):
        try:
            pickle.loads(pickle.dumps(exc))
            return "err", exc
        except Exception:
            pass
        kind = QueryError if isinstance(exc, QueryError) else StorageError
        return "err", kind(str(exc))
    return "err", StorageError(f"store process: {type(exc).__name__}: {exc}")


def serve(fd_main: int, fd_urgent: int, path: str, retention_days: int, open_wait_s: float,
          background_nice: int = BACKGROUND_NICE) -> None:
    """The child: open the store, answer both channels until ``close`` or EOF."""
    conn, urgent_conn = Connection(fd_main), Connection(fd_urgent)
    opened = threading.Event()

    def alive() -> None:  # while opening (a migration may copy data for a long time): "still opening"
        while not opened.wait(HEARTBEAT_S):
            conn.send(("opening", None))

    heartbeat = threading.Thread(target=alive, name="opening", daemon=True)
    heartbeat.start()
    try:
        store = _open(path, retention_days, open_wait_s)
        urgent = store.urgent()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit
        opened.set()
        heartbeat.join()
        conn.send(_reply_error(exc))
        os._exit(1)
    opened.set()
    heartbeat.join()
    freeze_heap()
    BackgroundPriority(CHDB_BACKGROUND, background_nice).start()  # for the process's life
    conn.send(("ready", None))
    threading.Thread(target=_answer, args=(urgent_conn, urgent, store), name="urgent", daemon=True).start()
    _answer(conn, store, store)


def _answer(conn: Connection, store, owner) -> None:
    """Answer one channel's calls, in order, on ``store`` (``owner``: the store ``close`` closes)."""
    while True:
        try:
            method, args, n_tables = conn.recv()
            tables = [pa.ipc.open_stream(conn.recv_bytes()).read_all() for _ in range(n_tables)]
            args = tuple(tables[a.index] if isinstance(a, TableRef) else a for a in args)
        except (EOFError, OSError):
            os._exit(0)  # the spine is gone: exit without closing chDB (see the module docstring)
        if method == "close":
            owner.close()
            conn.send(("ok", None))
            conn.close()
            os._exit(0)
        try:
            if method not in METHODS:
                raise StorageError(f"store process: unknown call {method!r}")
            if method == "enforce_retention":  # by the caller's retention, which may have changed
                store.retention_days = args[0]
                args = ()
            value = getattr(store, method)
            result = value(*args) if callable(value) else value
            reply = ("ok", result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = _reply_error(exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            os._exit(0)
        except Exception as exc:  # a result that does not pickle: say so instead of hanging the caller
            conn.send(("err", StorageError(f"store process: cannot return the result of {method}: {exc}")))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s store-process %(message)s")
    logging.getLogger("ben.store.migrations").setLevel(logging.INFO)  # a long migration shows its progress
    serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))
