"""One log record, one line (ADR 0045, round 13): what a peer sends cannot write lines of its own into ben's logs
nor escape sequences into an operator's terminal. Real spine and sidecar; the peer is an application on the
sidecar's socket."""

from __future__ import annotations

import logging
import threading

import grpc

from ben.cli.procs import wait_for
from ben.core.loglines import OneLine
from ben.v1 import control_pb2, control_pb2_grpc

FORGED = "2026-12-07 13:00:00,000 WARNING ben.control.plane: command c-1 accepted by k-0000000000000000"
NAME = f"app\n{FORGED}\x1b]0;owned\x07\x1b[2J\u202e"


def test_a_message_is_one_line_and_a_traceback_keeps_its_lines() -> None:
    fmt = OneLine("%(levelname)s %(message)s")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "refused batch from %s", (NAME,), None)
    line = fmt.format(record)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert line.startswith("WARNING refused batch from app\\x0a2026-12-07") and "\\x1b]0;owned\\x07" in line
    try:
        raise ValueError("bad \x1b[31mred")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    text = fmt.format(record)
    assert text.splitlines()[1] == "Traceback (most recent call last):" and "\x1b" not in text
    assert text.endswith("ValueError: bad \\x1b[31mred")


def test_a_subsystem_s_name_cannot_forge_a_line_of_the_sidecar_s_log(cluster) -> None:
    """On the code before, the sidecar wrote the name a subsystem registered for commands as it came (as it writes
    the sender id of a refused batch): a newline began a line of the sender's choosing, an escape sequence reached
    the terminal following the log. Since round 16 such a name is no command target and the registration is
    ignored, logged with the name quoted: still one line, no escape sequence."""
    done = threading.Event()

    def registered():
        yield control_pb2.SubsystemUp(register=control_pb2.Register(subsystem=NAME, actions=["noop"]))
        done.wait(30)

    with grpc.insecure_channel(cluster.sidecar_addr) as channel:
        commands = control_pb2_grpc.ControlStub(channel).Commands(registered(), timeout=30)
        try:
            wait_for(lambda: "a registration ignored" in cluster.sidecar.tail(400), 30, "the registration ignored")
        finally:
            done.set()
            commands.cancel()
    log = cluster.sidecar.log_path.read_text(errors="replace")
    assert "control: a registration ignored: subsystem 'app\\n2026-12-07" in log, log[-2000:]
    assert not any(line.startswith(FORGED[:40]) for line in log.splitlines()), log[-2000:]
    assert "\x1b" not in log and "\u202e" not in log and "\x07" not in log
