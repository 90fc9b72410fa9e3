"""The cortex's audit outbox in a process of its own, for the kill -9 tests of outcome recording: it sends
the history lines of a file to a real spine (``ben.control.client.record``) and, with KILL_AT > 0, SIGKILLs
itself just after the spine answered the KILL_AT-th line it sends, before the outbox notes it.

    python -m tests.cortex.record_child SPINE HISTORY OUTBOX KILL_AT
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from ben.control.client import record
from ben.cortex.record import Outbox


def main() -> None:
    spine, history, outbox, kill_at = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    events = [json.loads(line) for line in history.read_text().splitlines()]
    sent = 0

    def send(kind: str, subject: str, body: dict) -> dict:
        nonlocal sent
        row = record(spine, kind, subject, body, timeout=30.0)
        sent += 1
        if sent == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return row

    waiting = Outbox(outbox, send).flush(events)
    print(json.dumps({"waiting": waiting, "sent": sent}))


if __name__ == "__main__":
    main()
