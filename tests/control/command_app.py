"""A subsystem in a process of its own, for the kill -9 tests of commands: its handlers write
every run to a journal (fsync'd) before they answer, so a killed app still leaves its record.

    python -m tests.control.command_app SIDECAR JOURNAL HOLD

``ping`` writes ``ran ID``; ``slow_job`` writes ``start ID``, waits while the file HOLD exists,
then writes ``ran ID``.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from ben.sdk import Client


def main() -> None:
    sidecar, journal, hold = sys.argv[1:4]

    def record(line: str) -> None:
        fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def ping(cmd) -> dict:
        record(f"ran {cmd.id}")
        return {"ran": cmd.id}

    def slow_job(cmd) -> dict:
        record(f"start {cmd.id}")
        while os.path.exists(hold):
            time.sleep(0.02)
        record(f"ran {cmd.id}")
        return {"ran": cmd.id}

    client = Client("shop", sidecar=sidecar, reconnect_max_ms=300)
    client.on_command("ping", ping)
    client.on_command("slow_job", slow_job)
    signal.signal(signal.SIGTERM, lambda *_: (client.shutdown(timeout=2), os._exit(0)))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
