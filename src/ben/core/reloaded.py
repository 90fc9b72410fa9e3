"""A secret read from a file and read again when the file changes: the OTLP receiver's ``auth_token_file`` and the
web interface's ``web.token_file`` (ADR 0045, rounds 12 and 14). A token that leaked and was replaced in its file is
refused from the next request, without a restart; a changed file that cannot be used (gone, loose, another account's,
too short) keeps the secret in force, logged, naming the field."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from ben.core.errors import ConfigError
from ben.core.files import file_stamp

log = logging.getLogger(__name__)

T = TypeVar("T")


class ReloadedSecret(Generic[T]):
    """``load(path)``'s value, loaded again when the file's stamp changed (one ``stat`` per :meth:`current`).
    ``value``: what the caller already loaded at start (else loaded here; its ConfigError refuses the start)."""

    def __init__(self, path: Path, load: Callable[[Path], T], field: str, value: T | None = None):
        self.path, self.field, self._load = Path(path), field, load
        self._stamp = file_stamp(self.path)  # before the read: a change during it is read again at the next use
        self.value: T = load(self.path) if value is None else value

    def current(self) -> T:
        stamp = file_stamp(self.path)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                value = self._load(self.path)
            except ConfigError as exc:
                log.warning("%s %s changed and cannot be used, the one in force is kept: %s", self.field, self.path,
                            exc)
            else:
                if value != self.value:
                    log.info("%s %s changed: the new one is in force, the old one refused", self.field, self.path)
                self.value = value
        return self.value
