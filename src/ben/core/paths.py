"""Directories a component writes to: made and checked at start, with one clear error naming the path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ben.core.errors import ConfigError


def writable_dir(path: Path, field: str, source: str | None = None) -> Path:
    """Create `path` (and its parents) if needed and check that files can be written in it.

    Raises ConfigError naming the field and the path (never a traceback): a data directory that
    cannot be created or written (a read-only filesystem, a parent that is a file, no permission).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ben-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write to {path}: {exc.strerror or exc}", source=source, field=field) from None
    return path
