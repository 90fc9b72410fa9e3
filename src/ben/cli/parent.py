"""Stopping with the process that started us: ``ben demo``'s components and the benches' load generators
get a signal when it dies, kill -9 included (``ben.cli.procs.stop_with_parent_env`` marks their
environment; they call ``follow_parent`` first thing). Standard library only: every ``ben`` command
calls it at start."""

from __future__ import annotations

import os

PR_SET_PDEATHSIG = 1  # linux/prctl.h

#: Set by the parent for a child that must stop when it dies: "<signal>:<parent pid>".
PARENT_ENV = "BEN_STOP_WITH_PARENT"


def follow_parent() -> None:
    """In a child started with ``stop_with_parent_env``: ask the kernel for the signal when the parent
    dies (``PR_SET_PDEATHSIG``), and send it now if the parent is already gone. Not passed on."""
    mark = os.environ.pop(PARENT_ENV, "")
    sig, _, parent = mark.partition(":")
    # a value ben did not write (set by hand: "99999:1") is ignored, as one that is no number always was: it was an
    # OSError or ctypes' OverflowError traceback before any command ran (ADR 0033, round 10)
    if not (sig.isdigit() and parent.isdigit() and 0 < int(sig) < 65 and 0 < int(parent) < 2**22):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != int(parent):  # the parent died before prctl took effect
        os.kill(os.getpid(), int(sig))
