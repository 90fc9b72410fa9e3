"""The standard streams of a ``ben`` command: closed ones made harmless, standard output named in its errors.

A program started with a standard descriptor closed (``ben spine >&- 2>&-``, a supervisor or cron job that
closes them) hands descriptor 0, 1 or 2 to the next file it opens: a socket, a WAL file, the store process's
pipe, which would then receive what is printed or logged (and the store process inherits them as its own
stdout and stderr). ``guard`` puts ``/dev/null`` on each closed one first, as daemons do. What a command
reads from a closed stdin is then nothing ("no events on stdin"); what it writes to a closed stdout is an
error naming it, not a silent exit 0, and so is an output that cannot be written (``> /dev/full``: "No space
left on device" named nothing). A character the output's encoding lacks (``PYTHONIOENCODING=ascii``) is written
as its escape, not "unexpected UnicodeEncodeError"; ``COLUMNS=0`` (rich drew every table 0 characters wide, i.e. nothing) is ignored. A
broken pipe (``ben query ... | head -1``) stays the quiet end it was.
Standard library only: ``main`` calls it before anything else."""

from __future__ import annotations

import errno
import io
import os
import sys

#: The file name an error writing standard output carries (``ben.cli.main`` says it in words).
STDOUT = "<standard output>"


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


class NamedOutput(io.TextIOBase):
    """Standard output whose write errors name it (filename ``STDOUT``); every other attribute is the
    stream's own (rich and click ask for ``isatty``, ``encoding``, ``fileno``). ``closed_at_start``: the
    descriptor was closed when ben started (now on /dev/null), so a write is refused rather than lost."""

    def __init__(self, stream, closed_at_start: bool = False) -> None:
        self._stream = stream
        self._closed_at_start = closed_at_start

    def _named(self, exc: OSError) -> OSError:
        return OSError(exc.errno, exc.strerror, STDOUT)  # OSError picks the subclass: BrokenPipeError stays one

    def write(self, text: str) -> int:
        if self._closed_at_start:
            if not text:
                return 0
            raise OSError(errno.EBADF, "closed when ben started (>&-): what this command prints would go nowhere; "
                          "redirect it to a file (or to /dev/null to drop it)", STDOUT)
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise self._named(exc) from None

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._closed_at_start:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._named(exc) from None

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", "strict")

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def guard():
    """Put /dev/null on every closed standard descriptor, give Python a stream for each, and name standard
    output in its errors. Returns what to pass to ``restore`` (the streams as they were)."""
    saved = (sys.stdin, sys.stdout, sys.stderr)
    closed = [fd for fd in (0, 1, 2) if _closed(fd)]
    for fd in closed:  # in order: the lowest free descriptor is the one being filled
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    if 0 in closed or sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)
    if 2 in closed or sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
    if sys.stdin is not None and hasattr(sys.stdin, "reconfigure") and \
            (sys.stdin.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdin.reconfigure(encoding="utf-8")  # what ben reads there is JSON lines: UTF-8 (RFC 8259)
    for stream in (sys.stdout, sys.stderr):  # PYTHONIOENCODING=ascii: "é" was "unexpected UnicodeEncodeError"
        if stream is not None and hasattr(stream, "reconfigure") and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    if os.environ.get("COLUMNS", "").strip() in ("0", "-0"):  # rich drew every table 0 wide: nothing, exit 0
        del os.environ["COLUMNS"]
    out = sys.stdout
    if 1 in closed or out is None:
        sys.stdout = NamedOutput(open(1, "w", encoding="utf-8", closefd=False), closed_at_start=True)
    elif not isinstance(out, NamedOutput):
        sys.stdout = NamedOutput(out)
    return saved


def restore(saved) -> None:
    """Put back the streams ``guard`` found (``main`` called in-process, by tests); flush what was written."""
    if isinstance(sys.stdout, NamedOutput) and sys.stdout is not saved[1]:
        try:
            sys.stdout.flush()
        except OSError:
            pass
    sys.stdin, sys.stdout, sys.stderr = saved
