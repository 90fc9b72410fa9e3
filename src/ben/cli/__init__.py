"""The ``ben`` command line (typer + rich). Heavy imports happen inside each command."""

from __future__ import annotations

import errno
import os
import signal
import sys


def _interrupted_while_starting(signum, frame) -> None:
    """Ctrl-C in the second or two the ``ben`` command spends importing: one line, not a traceback of the
    import under way (nothing has started yet). ``main()`` puts Python's own handler back."""
    os.write(2, b"ben: interrupted\n")
    os._exit(130)


if (os.path.basename(sys.argv[0] if sys.argv else "") == "ben"  # the `ben` script only, not an import of ben.cli
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import logging  # noqa: E402 - after the handler above: these imports take the time
from pathlib import Path  # noqa: E402

import typer  # noqa: E402

from ben.core import loglines
from ben.core.errors import BenError, ConfigError
from ben.core.files import os_reason
from ben.core.loglines import printable, printable_lines  # noqa: F401 - ben.cli's names for them

app = typer.Typer(
    name="ben",
    help="ben: observability with teeth, without lock-in.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from ben import __version__

        typer.echo(f"ben {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="print ben's version and exit"),
) -> None:
    """ben: observability with teeth, without lock-in."""


def plain(value: object):
    """Text shown verbatim in a rich table or line: stored data may hold "[red]", "[/]" or ":x:",
    which rich would otherwise read as markup (or fail on) and emoji codes; control characters are
    shown escaped (``printable``)."""
    from rich.text import Text

    return Text(printable(value))


def setup_logging(verbose: bool = False) -> None:
    loglines.configure(logging.DEBUG if verbose else logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s",
                       sys.stderr)


def fail(message: str, code: int = 2) -> typer.Exit:
    """An error line; its text often quotes what an operator or a peer sent, so it is written ``printable``: one line,
    no escape sequence or bidirectional override reaches the terminal (ADR 0045, round 14)."""
    typer.echo(f"error: {printable(message)}", err=True)
    return typer.Exit(code)


def interrupted_by(signum: int | None) -> None:
    """A command stopped by Ctrl-C (SIGINT) ends as interrupted, once it has stopped cleanly: ``ben.cli.main`` says
    "ben: interrupted" and exits 130. Any other stop (SIGTERM, the parent gone, the end of a run) is left as it is."""
    if signum == signal.SIGINT:
        raise KeyboardInterrupt


def one_of(**given: object) -> None:
    """Refuse flags that exclude each other when more than one is given (keyword: the flag, ``_`` for ``-``):
    ``--data-dir`` reads a stopped component, ``--spine`` asks a running one; one was ignored in silence."""
    flags = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None]
    if len(flags) > 1:
        raise fail(f"{' and '.join(flags)}: pass one of them (each says where to read; the other was ignored)")


def only_with(needed: str, present: bool, *names: str) -> None:
    """Refuse options that apply only with ``needed`` when it is absent: each was ignored in silence (``ben audit
    verify --audit-key K`` asked the running spine, which verifies with its own key, and said "intact"). ``names``
    are the parameters' names; one is refused only when the command line gave it (its default is no choice)."""
    if present:
        return
    from typer._click.globals import get_current_context
    from typer._click.core import ParameterSource

    ctx = get_current_context(silent=True)
    given = [f"--{name.replace('_', '-')}" for name in names
             if ctx is not None and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    if given:
        raise fail(f"{' and '.join(given)} {'applies' if len(given) == 1 else 'apply'} only with {needed}, which was "
                   "not given (it would be ignored)")


def chdb_dir(data_dir: Path) -> Path:
    """The chDB directory a ``--data-dir`` names: a store directory (it has ``metadata/``), or a spine's
    data_dir (its store is ``chdb/`` inside). Anything else is refused: chDB would make an empty store there."""
    if not data_dir.is_dir():
        raise fail(f"--data-dir {data_dir}: not a directory")
    if not (data_dir / "metadata").is_dir():
        if (data_dir / "chdb" / "metadata").is_dir():
            return data_dir / "chdb"
        raise fail(f"--data-dir {data_dir}: not a chDB store (no metadata/ in it); give a stopped spine's data_dir "
                   "or its chdb/ directory")
    return data_dir


def open_chdb(data_dir: Path):
    """The chDB store a ``--data-dir`` names (:func:`chdb_dir`), opened. chDB reports a store it cannot load
    in lines of its own on stderr: they are folded into the one error line."""
    import tempfile

    from ben.core.errors import StorageError
    from ben.store.chdb import ChdbStore

    path = chdb_dir(data_dir)
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            return ChdbStore(path)
        except StorageError as exc:
            error = exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        said = caught.read().decode("utf-8", "replace")
    cause = next((line.strip() for line in said.splitlines() if "DB::Exception" in line), "")
    if not cause or "in use by another process" in str(error):  # the hint says more than chDB's lock message
        raise fail(f"--data-dir {data_dir}: {error}")
    raise fail(f"--data-dir {data_dir}: {str(error).split(' (', 1)[0]}; chDB says: {cause[:300]}")


def _no_foreign_peer(address: str) -> None:
    """Refuse at once a TCP ``--sidecar`` where something that is no ben component answers (an OTLP port): the SDK
    held the events and retried until the timeout, and ``ben synth --fast`` blocked on its full buffer for ever."""
    from ben.core.address import NOT_BEN
    from ben.core.admin import fetch_status

    try:
        fetch_status(address, timeout=2.0)
    except Exception as exc:  # noqa: BLE001 - a probe: only what says "no ben component" is acted on
        if NOT_BEN in str(exc):
            raise fail(f"--sidecar: {exc}") from None  # nothing answering, or refusing: the SDK says it as before


def sidecar_listening(value: str | None) -> str:
    """The sidecar's address (``--sidecar`` or its default), refused at once when it is a unix socket that does
    not exist: nothing runs there, and the SDK would otherwise retry until its timeout."""
    from ben.core.address import socket_path

    address = address_flag(value, "--sidecar")
    path = socket_path(address)
    if path is None:  # TCP: the sidecar's OTLP ports are TCP too, and a --fast synth waited on one for ever
        _no_foreign_peer(address)
    if path is not None and not path.is_socket():  # missing, or a file or directory: no socket at all
        where = "--sidecar" if value else "the default sidecar socket ($BEN_HOME or $BEN_SIDECAR_SOCKET)"
        what = "no sidecar listens at" if not path.exists() else "no socket, a " + ("directory" if path.is_dir()
                                                                                   else "file") + ":"
        raise fail(f"{where}: {what} {path} (start one with: ben sidecar; or pass --sidecar ADDRESS)")
    return address


def sdk_client(subsystem: str, **kwargs):
    """An SDK ``Client`` for ``emit`` and ``synth``: its refusal of the subsystem names the ``--subsystem`` flag."""
    from ben.sdk import Client

    try:
        return Client(subsystem, **kwargs)
    except ConfigError as exc:
        if exc.field != "subsystem":
            raise
        raise fail(f"--subsystem: {str(exc).split(': ', 1)[-1]}") from None


def address_flag(value: str | None, flag: str) -> str:
    """The gRPC target of an address flag (``--spine``, ``--sidecar``), or of its default under $BEN_HOME
    (``$BEN_SIDECAR_SOCKET`` for a sidecar) when the flag is not given; a ConfigError naming the flag or
    the variable when it is not ``unix:///path`` or ``host:port``."""
    from ben.core.address import (ENV_HOME, ENV_SIDECAR_SOCKET, check_address, default_sidecar_address,
                                  default_spine_address)

    sidecar = flag == "--sidecar"
    given = value or (default_sidecar_address() if sidecar else default_spine_address())
    try:
        return check_address(given)
    except ValueError as exc:
        where = flag if value else f"${ENV_SIDECAR_SOCKET if sidecar and os.environ.get(ENV_SIDECAR_SOCKET) else ENV_HOME}"
        name = "sidecar" if sidecar else "spine"
        hint = f" (e.g. unix:///run/ben/{name}.sock or {name}.example:7070)" if value else ""
        raise ConfigError(f"{exc}{hint}", source="command line" if value else "environment", field=where) from None


from ben.cli import (audit, bench, certs, command, demo, emit, federation, incidents, keys, query, redact,  # noqa: E402
                     serve, synth, web)

app.add_typer(bench.app, name="bench")
app.add_typer(redact.app, name="redact")
app.add_typer(keys.app, name="keys")
app.add_typer(command.app, name="command")
app.add_typer(audit.app, name="audit")
app.add_typer(certs.app, name="certs")
app.add_typer(federation.app, name="federation")
from ben.cli import cortex  # noqa: E402
app.add_typer(cortex.app, name="cortex")
from ben.cli import baseline  # noqa: E402  (after cortex: it adds ``label`` to the ``incidents`` group)
app.add_typer(baseline.app, name="baseline")
baseline.add_label_command()
del audit, baseline, bench, certs, command, cortex, demo, emit, federation, incidents, keys, query, redact, serve, synth, web


def _drop_stdout() -> None:
    """Point descriptor 1 at /dev/null after its output failed: the exit's flush of what is left in the buffer
    would otherwise print Python's "Exception ignored ... BrokenPipeError" lines."""
    try:
        if sys.stdout.fileno() == 1:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    except (OSError, ValueError):  # a stream without a descriptor (tests capturing it): nothing to do
        pass


def main() -> None:
    # Whatever a ben command creates (chDB opened by `ben query --data-dir`, keys, certificates,
    # data directories) is the user's alone (ADR 0034).
    os.umask(0o077)
    from ben.cli import stdio

    streams = stdio.guard()  # a closed stdin/stdout/stderr: /dev/null first, before any file takes its number
    try:
        _run(stdio)
    finally:
        stdio.restore(streams)


def _run(stdio) -> None:
    try:
        from ben.cli.parent import follow_parent
        from ben.cli.usage import UsageLine, run

        follow_parent()  # started by `ben demo` or a bench: stop when it dies (ben.cli.parent)
    except KeyboardInterrupt:  # still starting (python -m ben): one line, as below
        typer.echo("ben: interrupted", err=True)
        sys.exit(130)
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # from here on a KeyboardInterrupt, said below

    from ben.cli.lean import without_pandas

    without_pandas(sys.argv)  # ADR 0048: no ben command loads pandas (but `ben bench`)
    try:
        code = run(app)
        sys.stdout.flush()  # the last of the output, while an error writing it is still said below
    except UsageLine as exc:  # a wrong flag, argument or value: one line, not typer's boxed panel
        typer.echo(f"error: {printable(exc)}", err=True)
        sys.exit(2)
    except BenError as exc:  # a process's tail after its first line (``ben.cli.procs``): its lines kept, each escaped
        typer.echo(f"error: {printable_lines(exc)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("ben: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # a file or directory the command needed: one line naming it, not a traceback
        if exc.filename == stdio.STDOUT:  # `> /dev/full`, `>&-`: the output is lost, and that is no success
            if not isinstance(exc, BrokenPipeError):  # `| head -1`: the reader had enough; quiet, as before
                cut = "" if exc.errno == errno.EBADF else " (the output is cut short)"
                typer.echo(f"error: {stdio.STDOUT}: {exc.strerror}{cut}", err=True)
            _drop_stdout()
            sys.exit(1)
        where = f" {exc.filename}:" if exc.filename else ""  # none named: "error:: …" was the line (round 14)
        typer.echo(f"error:{printable(where)} {os_reason(exc)}", err=True)
        sys.exit(2)
    except MemoryError as exc:  # a size the machine does not have (a flag too large): not a bug of ben's
        typer.echo(f"error: out of memory{f' ({exc})' if str(exc) else ''}: ask for less (a smaller count or size)",
                   err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: one line, and the traceback with BEN_TRACEBACK=1
        if os.environ.get("BEN_TRACEBACK", "").strip() not in ("", "0"):  # =0 showed it too (ADR 0033, round 10)
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {printable(exc)} (a bug in ben; BEN_TRACEBACK=1 shows "
                   "where)", err=True)
        sys.exit(1)
    sys.exit(code)
