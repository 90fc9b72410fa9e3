"""Private files: data directories 0700, files 0600, private keys refused when others can read them.

A component's process sets the umask 0o077 before it opens anything (``private_umask``), so what
RocksDB and chDB create themselves (WAL files, parts, logs) is the owner's alone; ``private_dir``
creates a data directory 0700 and takes group and other bits off whatever an older version left
in it. A private key whose file group or others may read refuses the start, naming the file
(ADR 0034).
"""

from __future__ import annotations

import logging
import os
import tempfile
import stat
from pathlib import Path

from ben.core.errors import ConfigError

log = logging.getLogger(__name__)

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> int:
    """Set the process umask to 0o077 (files 0600, directories 0700); return the previous one."""
    return os.umask(UMASK)


def private_dir(path: Path, flag: str = "data_dir") -> Path:
    """Create ``path`` (0700) or tighten it: no bit for group or others on it or anything below; and
    check that files can be written in it. ConfigError naming ``flag`` and the path otherwise."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        tightened = 0
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                st = os.lstat(name)
                if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or not st.st_mode & 0o077:
                    continue
                os.chmod(name, stat.S_IMODE(st.st_mode) & ~0o077)
                tightened += 1
    except OSError as exc:
        raise ConfigError(f"cannot make {exc.filename or path} private: {exc.strerror}", field=flag) from None
    if tightened:
        log.info("%s: took group and other permissions off %d entries under %s", flag, tightened, path)
    try:  # writable: one clear line naming the path now, not a traceback from RocksDB or chDB later
        fd, probe = tempfile.mkstemp(prefix=".ben-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write to {path}: {exc.strerror or exc}", field=flag) from None
    return path


def check_private(path: Path, flag: str) -> None:
    """Refuse a private key that group or others may read, write or run (or that is missing)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"key file {path} not found", field=flag) from None
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}", field=flag) from None
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConfigError(f"key file {path} has mode {mode:04o}: group or others may read it; "
                          f"run chmod 600 {path}", field=flag)
