"""Usage errors as one line (ADR 0033): a wrong flag, a missing argument or a value of the wrong type ends in
``error: <what>, naming the flag (got 'VALUE'); <command> --help shows the usage`` with exit code 2, not typer's
boxed multi-line panel. An option that takes one value given twice is refused (click would keep the last one
silently: ``--config a.toml --config b.toml`` ran with b alone)."""

from __future__ import annotations

import inspect
import re
import sys
import types

import typer
from typer import _click as click  # typer (0.29) carries its own click: its exceptions are these
from typer._click import exceptions as click_errors


def run(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the ``ben`` command line; the exit code. Usage errors are :class:`UsageLine` (one line)."""
    command = typer.main.get_command(app)
    _check_repeats(command)
    _verbatim_help(command)
    _expand_home(command)
    _keep_interrupts(command)
    try:
        rv = command.main(args=args, prog_name="ben", standalone_mode=False)
    except _Interrupted:  # Ctrl-C: `ben.cli.main` says "ben: interrupted", exit 130
        raise KeyboardInterrupt from None
    except click_errors.NoArgsIsHelpError:  # `ben`, `ben keys`: the help (printed as it was made), as before
        return 2
    except click_errors.UsageError as exc:
        argv = sys.argv[1:] if args is None else args
        raise UsageLine(one_line(exc, argv, _path(command, argv))) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    return rv if type(rv) is int else 0  # typer.Exit(code) comes back as its code; a command returns None


class _Interrupted(BaseException):
    """A KeyboardInterrupt on its way through typer, which turns one into a silent ``Exit(130)``."""


def _keep_interrupts(command) -> None:
    """Let a Ctrl-C reach ``ben.cli.main`` (typer 0.29 returned 130 without a word: ``ben demo`` stopped at
    once by a second Ctrl-C ended in silence). Both steps of typer's ``main`` are kept: the parse of the
    command line too (``make_context``, where typer imports pydantic: a Ctrl-C about a second after any
    ``ben`` command started ended it in silence, exit 130; ADR 0033, round 8)."""
    for step in ("make_context", "invoke"):
        setattr(command, step, _keeping(getattr(command, step)))


def _keeping(step):
    def keeping(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        except KeyboardInterrupt:
            raise _Interrupted from None

    return keeping


class UsageLine(Exception):
    """A usage error, already worded as one line."""


_WORDS = [(r"Input should be a valid number, unable to parse string as a number", "not a number"),
          (r"Input should be a valid integer, unable to parse string as an integer", "not a whole number"),
          (r"Input should be greater than or equal to", "must be >="),
          (r"Input should be less than or equal to", "must be <="),
          (r"Input should be greater than", "must be >"), (r"Input should be less than", "must be <")]


def shorter(message: str) -> str:
    """pydantic's "Input should be ..." worded as the rest of ben's errors."""
    for long, short in _WORDS:
        message = message.replace(long, short)
    return message


def _path(command, argv: list[str]) -> str:
    """``ben`` and the subcommands named at the start of ``argv`` (for the --help hint)."""
    path = ["ben"]
    for token in argv:
        sub = getattr(command, "commands", {}).get(token)
        if sub is None:
            break
        path.append(token)
        command = sub
    return " ".join(path)


def one_line(exc, argv: list[str], path: str = "ben") -> str:
    """The usage error ``exc`` as one line, with the value given when click's message does not quote it."""
    name = getattr(exc, "option_name", "")
    if isinstance(exc, click_errors.NoSuchOption) and not re.fullmatch(r"-{1,2}[\w-]*", name.split("=")[0]):
        # an argument that starts with "-" (SQL after a "-- comment", a negative number): not a flag at all
        path = exc.ctx.command_path if exc.ctx is not None else path
        short = " ".join(name.split())[:40]
        return (f"{short!r} starts with '-' but is no option: give the options first, then '--' before it "
                f"({path} [OPTIONS] -- '{short}'); '{path} --help' shows the usage")
    message = shorter(" ".join(exc.format_message().split()))
    param = getattr(exc, "param", None)
    if isinstance(exc, click_errors.BadParameter) and getattr(param, "param_type_name", "") == "option":
        value = _given(param.opts + param.secondary_opts, argv)
        if value is not None and repr(value) not in message:
            message = f"{message.rstrip('.')} (got {value!r})"
    path = exc.ctx.command_path if exc.ctx is not None else path
    return f"{message.rstrip('.')}; '{path} --help' shows the usage"


def _given(opts: list[str], argv: list[str]) -> str | None:
    """The last value given to one of ``opts`` on the command line (``--flag VALUE`` or ``--flag=VALUE``)."""
    found = None
    for i, token in enumerate(argv):
        if token in opts and i + 1 < len(argv):
            found = argv[i + 1]
        elif "=" in token and token.split("=", 1)[0] in opts:
            found = token.split("=", 1)[1]
    return found


def _verbatim_help(command) -> None:
    """Help texts are shown as written: typer reads them as rich markup, and a config table named in one
    (``[web]``, ``[spine.control]``) vanished from ``--help`` ("also serve the web interface ( in the config")."""
    from rich.markup import escape

    for sub in getattr(command, "commands", {}).values():
        if not sub.short_help and sub.help:  # a group's listing: the first paragraph on one line (typer kept its
            sub.short_help = " ".join(inspect.cleandoc(sub.help).split("\n\n")[0].split())  # breaks mid-phrase)
        _verbatim_help(sub)
    for obj in (command, *command.params):
        for attr in ("help", "short_help"):
            text = getattr(obj, attr, None)
            if isinstance(text, str) and "[" in text:
                setattr(obj, attr, escape(text))


def _check_repeats(command) -> None:
    """Every command of the tree refuses an option that takes one value when it is given more than once."""
    for sub in getattr(command, "commands", {}).values():
        _check_repeats(sub)
    single = [p for p in command.params if p.param_type_name == "option" and not p.multiple and not p.is_flag
              and not p.count]
    if not single:
        return
    parse = command.parse_args

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            for param in single:
                if sum(p is param for p in order) > 1:
                    flags = "/".join(o for o in param.opts if re.match(r"^--?\w", o))
                    raise click_errors.UsageError(f"{flags} given more than once (it takes one value)", ctx=ctx)
        return parse(ctx, args)

    command.parse_args = types.MethodType(parse_args, command)


def _expand_home(command) -> None:
    """A path given as ``--dir=~/keys`` is the home's: no shell expands a ``~`` after ``=`` (nor a quoted one), and
    ``ben keys generate alice --dir=~/keys`` made a directory named ``~`` in the current one, the private key in it,
    while it printed "private key: ~/keys/alice.key" (ADR 0033, round 10)."""
    from pathlib import PurePath

    from ben.core.address import expand_user

    for sub in getattr(command, "commands", {}).values():
        _expand_home(sub)
    invoke = command.invoke

    def expanding(ctx):
        for name, value in list(ctx.params.items()):
            if isinstance(value, PurePath) and str(value).startswith("~"):
                ctx.params[name] = type(value)(expand_user(str(value)))
        return invoke(ctx)

    command.invoke = expanding
