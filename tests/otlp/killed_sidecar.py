"""``ben sidecar --config FILE`` that SIGKILLs itself once an OTLP request's records are fsync'd in its
WAL and before the answer is sent: the moment a client loses the answer to a stored request.

A test hook, in tests only (production never imports it): run as ``python -m tests.otlp.killed_sidecar
--config FILE`` from the repository root.
"""

from __future__ import annotations

import os
import signal
import sys

from ben.cli import main
from ben.otlp import exporting

_deliver = exporting.Exporting._deliver


async def _deliver_then_die(self, *args, **kwargs):
    answer = await _deliver(self, *args, **kwargs)  # returns once the request is durable (or refused)
    if answer.outcome == exporting.OK:
        print("stored; killing myself before the answer", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return answer


if __name__ == "__main__":
    exporting.Exporting._deliver = _deliver_then_die
    sys.argv = ["ben", "sidecar", *sys.argv[1:]]
    main()
