"""The store process's side of :mod:`ben.store.process`: open a ChdbStore, answer calls until told to close.

Run as ``python -m ben.store.worker FD_MAIN FD_URGENT FD_QUERY PATH RETENTION_DAYS OPEN_WAIT_S BACKGROUND_NICE``
by ``ChdbProcessStore``; the FDs are its ends of the channels' socket pairs. Each channel is answered
by a thread of its own on a chDB connection of its own (``ChdbStore.urgent`` for the urgent one, the
query sandbox for the query one), so an alert's INSERT runs beside a routine one, and an operator
query beside both. It exits at once, without closing chDB, when any
socket closes. chDB's background threads (merges and the like) run at BACKGROUND_NICE (ADR 0024).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

import pyarrow as pa

from ben.core import loglines
from ben.core.errors import BenError, QueryError, StorageError
from ben.core.priority import BACKGROUND_NICE, CHDB_BACKGROUND, BackgroundPriority
from ben.core.service import freeze_heap
from ben.store.process import HEARTBEAT_S, METHODS, TableRef

def _open(path: str, retention_days: int, open_wait_s: float):
    from ben.store.chdb import ChdbStore

    deadline = time.monotonic() + open_wait_s
    while True:
        with _stderr_kept() as kept:  # chDB says "Cannot lock file …" on stderr at every try: 60 lines in 10 s
            try:
                return ChdbStore(path, retention_days=retention_days)
            except StorageError as exc:
                if "in use" not in str(exc):
                    raise  # what chDB said of a store it cannot load goes to stderr (the log) as it is
                if time.monotonic() >= deadline:
                    kept.drop()  # the error names the process holding the store; chDB's lines said less
                    raise
                kept.drop()
        time.sleep(0.1)  # the previous spine's store process is still exiting


class _stderr_kept:
    """File descriptor 2 into a temporary file while chDB opens; written back to stderr on exit unless dropped."""

    def __enter__(self):
        import tempfile

        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        self._keep = True
        return self

    def drop(self) -> None:
        self._keep = False

    def __exit__(self, *exc) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        with self._file:
            if self._keep:
                self._file.seek(0)
                said = memoryview(self._file.read())
                while said:
                    said = said[os.write(2, said):]


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


def serve(fd_main: int, fd_urgent: int, fd_query: int, path: str, retention_days: int, open_wait_s: float,
          background_nice: int = BACKGROUND_NICE) -> None:
    """The child: open the store, answer every channel until ``close`` or EOF."""
    conn, urgent_conn, query_conn = Connection(fd_main), Connection(fd_urgent), Connection(fd_query)
    opened = threading.Event()

    def alive() -> None:  # while opening (a migration may copy data for a long time): "still opening"
        while not opened.wait(HEARTBEAT_S):
            _to_owner(conn, ("opening", None))

    heartbeat = threading.Thread(target=alive, name="opening", daemon=True)
    heartbeat.start()
    try:
        store = _open(path, retention_days, open_wait_s)
        urgent = store.urgent()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit
        opened.set()
        heartbeat.join()
        _to_owner(conn, _reply_error(exc))
        os._exit(1)
    opened.set()
    heartbeat.join()
    freeze_heap()
    BackgroundPriority(CHDB_BACKGROUND, background_nice).start()  # for the process's life
    _to_owner(conn, ("ready", store.detached_parts))  # parts the engine set aside as it opened (ADR 0046)
    threading.Thread(target=_answer, args=(urgent_conn, urgent, store), name="urgent", daemon=True).start()
    threading.Thread(target=_answer_queries, args=(query_conn, store), name="query", daemon=True).start()
    _answer(conn, store, store)


def _to_owner(conn: Connection, message) -> None:
    """Tell the spine; if it is gone (killed while this process opened the store) exit quietly, as
    ``_answer`` does (before: a BrokenPipeError traceback in the spine's log)."""
    try:
        conn.send(message)
    except OSError:
        os._exit(0)


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


def _answer_queries(conn: Connection, store) -> None:
    """Answer the query channel: an operator query runs in a thread of its own while this one
    reads on, so that a ``cancel_query`` for it is carried out at once (ADR 0032)."""
    send = threading.Lock()

    def run(args) -> None:
        try:
            reply = ("ok", store.operator_query(*args))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = _reply_error(exc)
        with send:
            try:
                conn.send(reply)
            except (EOFError, OSError):
                os._exit(0)

    def cancel(query_id: str, runner: threading.Thread) -> None:
        """KILL until the statement is gone: a cancel that came just before the statement
        registered with the engine would otherwise find nothing to kill."""
        for _ in range(50):
            store.cancel_query(query_id)
            if not runner.is_alive():
                return
            runner.join(0.2)

    runner = threading.Thread()
    while True:
        try:
            method, args, _ = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the spine is gone (see the module docstring)
        if method == "operator_query":
            runner = threading.Thread(target=run, args=(args,), name="query-run", daemon=True)
            runner.start()
        elif method == "cancel_query":
            threading.Thread(target=cancel, args=(*args, runner), name="query-cancel", daemon=True).start()


if __name__ == "__main__":
    # Ctrl-C in a terminal (SIGINT) and systemd's stop (SIGTERM to the whole cgroup) reach this process too: it
    # stops when the spine closes its sockets, after the spine's last writes (a KeyboardInterrupt traceback, or
    # a store process gone mid-drain and started again, before). The spine kills it if it lingers.
    for _sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_sig, signal.SIG_IGN)
    loglines.configure(logging.WARNING, "%(asctime)s %(levelname)s store-process %(message)s", sys.stderr)
    logging.getLogger("ben.store.migrations").setLevel(logging.INFO)  # a long migration shows its progress
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]),
          int(sys.argv[7]))
