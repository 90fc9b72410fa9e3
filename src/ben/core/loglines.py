"""One log record, one line: text from outside shown with its control characters escaped (ADR 0045, round 13).

ben's logs name what a peer sent: a sender id, a subsystem registering for commands, a NATS subject. A newline
there wrote a line of the sender's choosing into the spine's or sidecar's log (a forged "command accepted"), and
an escape sequence recoloured, moved or retitled the terminal of an operator following it (``ben spine`` in the
foreground, ``tail -f``). The formatter writes the message's control characters and bidirectional overrides as
their escapes (``\\x0a``, ``\\x1b``, ``\\u202e``), as ``ben incidents`` and ``ben explain`` show stored text; a
traceback, which only ben's own code writes, keeps its lines.
"""

from __future__ import annotations

import logging
import unicodedata


def printable(value: object) -> str:
    """``value`` as text a terminal or a line-oriented log shows safely: a control character or a bidirectional
    override is written as its escape (``\\x1b``, ``\\u202e``); letters of every script, spaces and joiners stay."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\u200c\u200d" or unicodedata.category(c) == "Zs"
                   else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)


def printable_lines(value: object) -> str:
    """``printable`` line by line: the line breaks are kept, every other control character is escaped (a message
    of ben's own that quotes a process's last lines)."""
    return "\n".join(printable(line) for line in str(value).split("\n"))


class OneLine(logging.Formatter):
    """A ``logging.Formatter`` whose message is one line (``printable``); the traceback after it is as written."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        """The traceback's lines as written, each one's control characters escaped (an exception's text may
        hold what a peer sent)."""
        return "\n".join(map(printable, super().formatException(ei).split("\n")))


def configure(level: int, fmt: str, stream) -> None:
    """``logging.basicConfig`` with the ``OneLine`` formatter on its handler."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLine(fmt))
    logging.basicConfig(level=level, handlers=[handler])
