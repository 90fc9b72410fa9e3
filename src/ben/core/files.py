"""Private files: data directories 0700, files 0600, private keys refused when others can read them.

A component's process sets the umask 0o077 before it opens anything (``private_umask``), so what
RocksDB and chDB create themselves (WAL files, parts, logs) is the owner's alone; ``private_dir``
creates a data directory 0700 and takes group and other bits off whatever an older version left
in it. A private key whose file group or others may read refuses the start, naming the file
(ADR 0034).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ben.core.dirlock import writing_in
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
    try:  # "cannot make /nonexistent private" said of a directory that could not be made at all
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {os_reason(exc)}", field=flag) from None
    try:
        _check_owned(path, flag)
        tightened = 0
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                try:
                    st = os.lstat(name)
                    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or not st.st_mode & 0o077:
                        continue
                    tightened += _tighten(name, st)
                except FileNotFoundError:   # removed while this walked: another process's temporary file
                    continue                # (a cortex renaming its state in), nothing left to tighten
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


def _tighten(name: str, seen: os.stat_result) -> bool:
    """Take group and other bits off the entry ``lstat`` saw at ``name``, through a descriptor of it: an entry of a
    loose directory (one another account may write) replaced by a symlink in between is left alone, never followed.
    ``os.chmod(name)`` followed it: ben (root) gave the link's target the entry's mode less group and other, and
    ``/etc/passwd`` made 0600 locks every other account out (ADR 0045, round 18)."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW)
    try:
        now = os.fstat(fd)
        if stat.S_ISLNK(now.st_mode) or (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino):
            return False
        os.chmod(f"/proc/self/fd/{fd}", stat.S_IMODE(now.st_mode) & ~0o077)
        return True
    finally:
        os.close(fd)


def _check_owned(path: Path, flag: str) -> None:
    """A data directory (and a symlink standing for it) another account made is refused: in a shared
    parent (``/tmp``) another user can create the path before ben first starts, then read, replace
    or plant files (a control key, a symlink out of the directory) in what ben takes for its own."""
    me = os.geteuid()
    link, target = os.lstat(path), os.stat(path)
    links = (("symlink", link),) if stat.S_ISLNK(link.st_mode) else ()  # a directory was said to be "the symlink"
    for what, st in (*links, ("directory", target)):
        if st.st_uid != me:
            raise ConfigError(f"{path}: the {what} belongs to uid {st.st_uid}, not to the user ben runs as (uid {me}); "
                              "another account may have made it: give a directory of ben's own", field=flag)


#: The most ben reads of a file the user names (config, trust store, policy, manifest, key, certificate,
#: token): these are small, and a bigger one is the wrong file (a log, a disk image, /dev/zero read for ever).
MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024
#: How long a pipe or FIFO named as a file may take to be written and closed (``--config <(...)`` takes
#: milliseconds; a FIFO nobody writes to made ``open`` wait for ever).
PIPE_WAIT_S = 10.0

_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class InputFileError(OSError):
    """A file the user named that ben will not read: a device, a FIFO nobody writes to, too big. Its text
    is the reason alone (``exc.strerror``), so every ``cannot read {path}: {exc}`` says it in words."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def missing_or_directory(path: Path | str, exc: OSError) -> str | None:
    """What a file the user named is when reading it failed for being absent or a directory, in words: "file
    not found (a symbolic link to X, which does not exist)" / "a directory, not a file"; else None."""
    if isinstance(exc, FileNotFoundError):
        return "file not found" + (f" (a symbolic link to {os.readlink(path)}, which does not exist)"
                                   if os.path.islink(path) else "")
    if isinstance(exc, IsADirectoryError):
        return "a directory, not a file"
    return None


def read_input(path: Path | str, *, max_bytes: int | None = MAX_INPUT_FILE_BYTES,
               pipe_wait_s: float | None = None) -> bytes:
    """The bytes of a file the user named (ADR 0033): a regular file of at most ``max_bytes`` (None: any
    size), ``/dev/null`` (nothing), or a pipe or FIFO written and closed within ``pipe_wait_s`` (default
    ``PIPE_WAIT_S``; ``--config <(...)``). A FIFO nobody wrote to had ``open`` wait for ever and
    ``/dev/zero`` was read until memory ran out; other devices, sockets, a silent FIFO and a bigger file
    raise ``InputFileError`` (an ``OSError``) saying what the path is. A directory is
    ``IsADirectoryError``, a missing file ``FileNotFoundError``, as before."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # O_NONBLOCK: a FIFO opens at once
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == os.stat("/dev/null").st_rdev:
            return b""
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
            raise InputFileError(errno.EINVAL, f"{kind}, not a regular file", str(path))
        if max_bytes is not None and st.st_size > max_bytes:
            raise _too_big(path, max_bytes)
        if stat.S_ISFIFO(st.st_mode):
            return _read_pipe(fd, path, max_bytes, PIPE_WAIT_S if pipe_wait_s is None else pipe_wait_s)
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:  # grown while read, or a /proc file of size 0
                raise _too_big(path, max_bytes)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_big(path: Path | str, max_bytes: int) -> InputFileError:
    return InputFileError(errno.EFBIG, f"more than {max_bytes:,} bytes: not a file ben reads whole (the wrong "
                          "file?)", str(path))


def _read_pipe(fd: int, path: Path | str, max_bytes: int | None, wait_s: float) -> bytes:
    """A pipe read to its end within ``wait_s``. Read without blocking, a FIFO that no writer has opened
    yet looks ended (b""), one whose writer has not written yet raises BlockingIOError: both are waited
    for, polling, until the deadline."""
    import select

    deadline = time.monotonic() + wait_s
    chunks, size, writer_seen = [], 0, False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            chunk, writer_seen = None, True
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise _too_big(path, max_bytes)
            continue
        if chunk == b"" and (chunks or writer_seen):
            return b"".join(chunks)  # the writer closed it: the end
        left = deadline - time.monotonic()
        if left <= 0:
            raise InputFileError(errno.ETIMEDOUT, f"a FIFO (named pipe) nobody wrote to and closed within "
                                 f"{wait_s:g} s: give a regular file", str(path))
        if chunk is None:
            poller.poll(min(left, 0.5) * 1000)
        else:
            time.sleep(min(left, 0.05))  # no writer yet: poll() would answer at once (POLLHUP)


def read_input_text(path: Path | str, *, max_bytes: int | None = MAX_INPUT_FILE_BYTES) -> str:
    """``read_input`` decoded as UTF-8, a leading byte order mark dropped (``UnicodeDecodeError`` otherwise)."""
    return utf8_text(read_input(path, max_bytes=max_bytes))


def utf8_text(data: bytes) -> str:
    """UTF-8 bytes as text without the byte order mark Windows editors and Excel's "CSV UTF-8" put first: with
    it, a config's first line was "Invalid statement (at line 1, column 1)", a token file's token never matched
    (ADR 0033, round 8). ``UnicodeDecodeError`` for what is not UTF-8."""
    return data.decode("utf-8-sig")


def is_utf16(data: bytes) -> bool:
    """``data`` starts with UTF-16's byte order mark (what Windows calls "Unicode"): said as such, not as a
    binary file, when it does not decode as UTF-8."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it (created with ``mode``), synced,
    renamed over ``path``, and the directory synced, so a kill -9 leaves the old file or the new one.

    The temporary file has a name no one can guess and is made with ``O_EXCL`` (``mkstemp``): with a fixed
    name (``<name>.tmp``), another account that may write the directory (``/tmp``, a shared one) made that
    name first, as its own file or a symlink, and ben wrote the key into the other account's inode, which it
    could then read (ADR 0045, round 6)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:   # (f.write writes it all; one os.write may write part of a large blob)
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_once(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` holding ``data`` whole, unless it exists; True if this call made it. Written to a
    temporary file beside it and synced, then linked to ``path`` (``link`` refuses an existing name, like
    ``O_EXCL``; two creators: one wins, the other reads its file) and the directory synced: a kill -9 leaves
    no ``path`` (made by the next call) or the whole one, never the empty file an ``O_EXCL`` create killed
    before its write left (ADR 0046 round 6). A temporary file a kill left is removed by the next call."""
    remove_temporaries(path, older_than_s=STALE_CREATE_S)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


#: A temporary file of ``create_once`` not changed for this long is a killed call's (a live one takes
#: milliseconds).
STALE_CREATE_S = 60.0


def remove_temporaries(path: Path, older_than_s: float = 0.0) -> int:
    """Remove the temporary files ``write_atomic`` left beside ``path`` when it was killed before its rename
    (one per kill -9 during a write, as large as the file; their names are unguessable, so no later write
    replaces them); the bytes removed. Only for the directory's one writer, before it writes ``path``; where
    several may write it, ``older_than_s`` spares what a live writer is writing (a file not changed for that
    long is a killed one's)."""
    freed, cutoff = 0, time.time() - older_than_s
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        if not (name.startswith(f".{path.name}.") and name.endswith(".tmp")):
            continue
        tmp = path.parent / name
        try:
            st = os.lstat(tmp)
            if stat.S_ISREG(st.st_mode) and (not older_than_s or st.st_mtime < cutoff):
                tmp.unlink()
                freed += st.st_size
        except OSError:
            pass
    return freed


def replace_dir(out: Path, write: Callable[[Path], None], flag: str | None = None) -> None:
    """Make directory ``out`` whole or not at all: ``write(staging)`` fills a new directory beside it
    (``.<name>.<random>.tmp``), which then takes ``out``'s place (the old one renamed aside, then removed). A kill
    -9 leaves the old ``out`` or the new one (between the two renames, none: made again by running the command
    again), never a mix; what a killed run left beside it is removed by the next. One writer at a time in
    ``out``'s parent (``flock`` on it): a second is refused, naming ``flag``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # One writer at a time in a directory: a second `ben baseline generate OUT` (or `detect-real --generate`) at
    # the same time took the first one's staging for a killed run's and removed it ("No such file or directory").
    with writing_in(out.parent, flag or str(out), out.name, wait=False):
        _replace_dir(out, write)


def _replace_dir(out: Path, write: Callable[[Path], None]) -> None:
    import shutil

    for name in os.listdir(out.parent):  # a killed run's staging or old directory (ours: our names, our account)
        if name.startswith(f".{out.name}.") and name.endswith((".tmp", ".old")):
            left = out.parent / name
            if left.is_dir() and not left.is_symlink() and left.stat().st_uid == os.getuid():
                shutil.rmtree(left, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if out.exists() or out.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rename(out, old / out.name)
    os.rename(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def may_write_dir(out: Path, allowed: frozenset[str], marker: str, mine: str, flag: str, what: str) -> None:
    """``out`` is new, empty, or ``what`` already (every entry in ``allowed``, and ``mine``, a name a user's
    directory may hold too, only beside ``marker``); else a ConfigError naming ``flag``, the path and what
    it holds: nothing of the user's is overwritten (ADR 0033, rounds 7 and 8)."""
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise ConfigError(f"{out} is a file, not a directory", field=flag)
    names = {p.name for p in out.iterdir()}
    foreign = sorted(names - allowed) or ([mine] if mine in names and not (out / marker).is_file() else [])
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(f"{out} holds {shown}, so it is not {what}: nothing was written (give a new or empty "
                          "directory)", field=flag)


def os_reason(exc: OSError) -> str:
    """An OSError's reason in words: "File exists" / "Not a directory" when a directory was to be made or used
    where a file is (``--dir key.pem``) says so."""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        path = Path(exc.filename) if exc.filename else None
        while path is not None and not path.exists() and path != path.parent:  # .../file/sub: the file in it
            path = path.parent
        if path is not None and path.exists() and not path.is_dir():
            return f"{path} is a file, not a directory"
    return exc.strerror or str(exc)


def own_dir(path: Path, flag: str) -> Path:
    """Create ``path`` (0700), or check that an existing one is the user's and that no other account may
    write in it (a shared directory would let it replace what ben writes there, or plant files first):
    ConfigError naming ``flag`` otherwise. Nothing is changed in an existing directory."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        _check_owned(path, flag)
        st = os.stat(path)
    except OSError as exc:
        reason = os_reason(exc)
        if reason.endswith("is a file, not a directory"):
            raise ConfigError(reason, field=flag) from None
        raise ConfigError(f"cannot use {exc.filename or path}: {reason}", field=flag) from None
    if st.st_mode & 0o022:
        raise ConfigError(f"{path}: other accounts may write in this directory (mode {stat.S_IMODE(st.st_mode):o}); "
                          "give a directory only you can write", field=flag)
    return path


def check_private(path: Path, flag: str, what: str = "key file") -> None:
    """Refuse a private key (or another secret: ``what``) that group or others may read, write or run, or that is
    missing."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found", field=flag) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}", field=flag) from None
    if stat.S_ISDIR(st.st_mode):  # "has mode 1777 ...; run chmod 600 /tmp" was the advice for a directory
        raise ConfigError(f"{what} {path} is a directory, not a file", field=flag)
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConfigError(f"{what} {path} has mode {mode:04o}: group or others may read it; "
                          f"run chmod 600 {path}", field=flag)


def check_trusted(path: Path, flag: str) -> None:
    """Refuse a file that decides whom ben trusts (a trust store, a policy, a CA, a redaction manifest) when
    another account could change it: owned by another uid (root aside), writable by group or others, or in a
    directory (its own or, for a symlink, the link's) another account owns or may write without the sticky bit.
    Such an account could add its own key or CA and be obeyed (ADR 0045, round 9; ssh's StrictModes).
    A missing file, or one that is no regular file (a device, a FIFO), is left to the reader (its error names it)."""
    me = os.geteuid()
    try:
        st = os.stat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in (me, 0):
        raise ConfigError(f"{path} belongs to uid {st.st_uid}, not to the user ben runs as (uid {me}) or root: "
                          "its owner could change whom ben trusts", field=flag)
    if mode & 0o022:
        raise ConfigError(f"{path} has mode {mode:04o}: group or others may write it and change whom ben trusts; "
                          f"run chmod go-w {path}", field=flag)
    for parent in dict.fromkeys((Path(os.path.abspath(path)).parent, Path(os.path.realpath(path)).parent)):
        pst = os.stat(parent)
        if pst.st_uid not in (me, 0) or (pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX):
            raise ConfigError(f"{path} is in {parent} (uid {pst.st_uid}, mode {stat.S_IMODE(pst.st_mode):04o}), "
                              "which another account may write: it could replace the file and change whom ben "
                              "trusts; keep it in a directory only you (or root) can write", field=flag)


def check_secret(path: Path, flag: str, what: str = "key file") -> None:
    """A token that decides who is let in (``web.token_file``, ``[sidecar.otlp] auth_token_file``): private
    (``check_private``), and no other account's to write (``check_trusted``). Both files are read again when they
    change: one in a directory another account may write could be swapped for that account's own, 0600 and
    its token, and was taken (ADR 0045, round 14)."""
    check_private(path, flag, what)
    check_trusted(path, flag)


def check_reserve(path: Path, reserve: int, field: str) -> None:
    """Refuse a free-space reserve (``field``: bytes kept free on the file system holding ``path``) at or above
    the size of that file system: nothing could ever be written, and the component would only log that the
    disk is nearly full, for ever. ``path`` need not exist yet (its nearest existing parent is measured)."""
    if not reserve:
        return
    where = Path(path)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        fs = os.statvfs(where)
    except OSError:
        return  # the start's own opening of the path says what is wrong with it
    total = fs.f_blocks * fs.f_frsize
    if reserve >= total:
        raise ConfigError(f"{reserve / 2**20:.0f} MiB must stay free on the file system holding {path}, which is "
                          f"only {total / 2**20:.0f} MiB: nothing could ever be written there; lower it, or use a "
                          "larger disk", field=field)


def file_stamp(path: Path | str) -> tuple[int, ...] | None:
    """What tells a changed file (a secret read again when it changes): its inode too, as the trust store's (ADR
    0045, round 8: a file replaced by a rename within one clock tick at the same size keeps its times); None when
    it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size
