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
