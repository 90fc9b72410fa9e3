"""The store process's side of :mod:`ben.store.process`: open a ChdbStore, answer calls until told to close.

Run as ``python -m ben.store.worker FD PATH RETENTION_DAYS OPEN_WAIT_S`` by ``ChdbProcessStore``;
FD is its end of the socket pair. It exits at once, without closing chDB, when the socket closes.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import time
from multiprocessing.connection import Connection

import pyarrow as pa

from ben.core.errors import BenError, QueryError, StorageError
from ben.store.process import METHODS, TableRef

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


def serve(fd: int, path: str, retention_days: int, open_wait_s: float) -> None:
    """The child's loop: open the store, answer calls until ``close`` or EOF."""
    conn = Connection(fd)
    try:
        store = _open(path, retention_days, open_wait_s)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit
        conn.send(_reply_error(exc))
        os._exit(1)
    conn.send(("ready", None))
    while True:
        try:
            method, args, n_tables = conn.recv()
            tables = [pa.ipc.open_stream(conn.recv_bytes()).read_all() for _ in range(n_tables)]
            args = tuple(tables[a.index] if isinstance(a, TableRef) else a for a in args)
        except (EOFError, OSError):
            os._exit(0)  # the spine is gone: exit without closing chDB (see the module docstring)
        if method == "close":
            store.close()
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
    serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
