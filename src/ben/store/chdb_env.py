"""chDB that cannot start because of the process's environment, said as what the operator can change.

chDB reads ``$TZ`` when it is imported and makes a directory under ``$TMPDIR`` for every engine it starts. A
``TZ`` it cannot load failed the import with "chdb-core engine not found. Install it with: pip install chdb-core"
(the real reason in the exception's context), and a ``TMPDIR`` it cannot write failed the start with ClickHouse's
stack trace of 30 lines; ben said "a damaged store, or not a chDB store" of both (ADR 0033, round 14).
"""

from __future__ import annotations

import os
import re

from ben.core.errors import BenError, ConfigError, StorageError

#: ClickHouse's words for a directory it could not make: ``filesystem error: in create_directories: REASON ["PATH"]``.
_CREATE = re.compile(r'filesystem error: in create_directories: ([^\["\n]+?) \["([^"\n]+)"\]')


def first_part(text: str) -> str:
    """ClickHouse's message without the stack trace it appends (after a blank line), on one line."""
    return " ".join(text.strip().split("\n\n")[0].split())


def open_failed(path: object, exc: BaseException) -> BenError | None:
    """The error to raise for a chDB engine at ``path`` that did not start because of ``$TZ`` or ``$TMPDIR``; None
    when neither is the cause (the caller says what it says of a store it cannot open)."""
    context = exc.__context__ if isinstance(exc, ImportError) else None
    if context is not None and "time zone" in str(context):
        return ConfigError(f"{os.environ.get('TZ', '')!r} is no time zone chDB can load ({first_part(str(context))}): "
                           "give one of /usr/share/zoneinfo (UTC, Europe/Paris), or unset it", field="$TZ")
    made = _CREATE.search(str(exc))
    tmp = os.environ.get("TMPDIR", "")
    if made and tmp and made.group(2).startswith(tmp.rstrip("/") + "/"):
        return ConfigError(f"chDB cannot make its temporary directory {made.group(2)}: {made.group(1)} (TMPDIR "
                           f"names a directory this account can write; or unset it) — opening {path}", field="$TMPDIR")
    return None


def open_error(path: object, exc: BaseException, what: str) -> BenError:
    """``open_failed``'s error, or a StorageError saying ``what`` of the store, on one line."""
    return open_failed(path, exc) or StorageError(f"{what} ({first_part(str(exc))})")
