"""One writer at a time of the files a ``ben`` command reads, changes and writes back in a directory (ADR 0033,
round 10): a trust store a pin is added to, a key pair, a CA and its certificates.

Each write was whole (``write_atomic``), but two commands at the same time each read the file before the other
wrote: two ``ben keys trust`` (a provisioning script pinning its sidecars in parallel) both said "pinned" and
the trust store kept one pin; two ``ben keys generate alice`` both printed a trust entry, and one of the two
printed keys was gone (or ``alice.key`` and ``alice.pub`` were of two different keys).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ben.core.errors import ConfigError

#: How long a command waits for another one writing in the same directory (they take milliseconds).
WAIT_S = 30.0
_POLL_S = 0.02


@contextmanager
def writing_in(directory: Path, flag: str, what: str, wait: bool = True) -> Iterator[None]:
    """Hold ``directory``'s lock (``flock`` on it) while the caller reads, checks and writes ``what`` there; wait up
    to ``WAIT_S`` for another holder (``wait=False``: not at all), then refuse naming ``flag``: nothing written.
    The lock goes with the process (a kill -9 leaves none behind)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + (WAIT_S if wait else 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    since = f"has been writing in {directory} for {WAIT_S:g} s" if wait else \
                        f"is writing in {directory} now"
                    raise ConfigError(f"another process {since} (a second ben command writing {what} there?): "
                                      "nothing was written; run it again when that one is done", field=flag) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)


def lock_holder(path: Path) -> str:
    """Who holds a lock (flock or fcntl) on ``path``, from ``/proc/locks``: "pid N: its command line" ("" when no
    other process does, or it cannot be read). "in use by another process" said which one nowhere: a second
    ``ben query --data-dir`` was taken for a spine, a crashed component's leftover for a running one. A chDB
    store process is named by the process that started it."""
    try:
        st = os.stat(path)
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return ""
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:  # "1: FLOCK  ADVISORY  WRITE 10361 fe:00:2498622 0 EOF" ("->" marks a waiter)
        parts = line.split()
        if len(parts) >= 6 and "->" not in parts[:2] and parts[5] == key and parts[4].isdigit():
            pid = int(parts[4])
            if pid != os.getpid():
                return _described(pid)
    return ""


def _described(pid: int) -> str:
    try:
        words = [w.decode(errors="replace") for w in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if w]
    except OSError:
        return f"pid {pid}"
    if "ben.store.worker" in words:  # the spine's (or a ben query's) store process: say whose
        try:
            status = Path(f"/proc/{pid}/status").read_text(errors="replace")
            parent = int(next(l.split()[1] for l in status.splitlines() if l.startswith("PPid:")))
        except (OSError, StopIteration, ValueError, IndexError):
            parent = 0
        return f"pid {pid}, the store process of {_described(parent)}" if parent > 1 else f"pid {pid}: a store process"
    if len(words) > 1 and os.path.basename(words[0]).startswith("python"):  # python …/bin/ben spine: "ben spine"
        words = [w for w in words[1:] if w != "-P"]
        words[0] = os.path.basename(words[0])
    text = " ".join(words)
    return f"pid {pid}: {text[:100]}{'…' if len(text) > 100 else ''}"
