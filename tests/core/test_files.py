"""Private files (ADR 0034): data directories 0700, files 0600, sockets 0660, loose keys refused.

The modes are read from the files real spine and sidecar processes made (RocksDB's WAL files,
chDB's parts, the control RocksDB and keys), not from what ben asked for.
"""

from __future__ import annotations

import grp
import os
import socket
import stat
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, Proc
from ben.core.errors import ConfigError
from ben.core.files import check_private, private_dir, remove_temporaries, write_atomic
from tests.helpers import Load


def refused_spine(cluster: Cluster, home: Path) -> Proc:
    """Start the cluster's spine and wait for it to refuse its configuration (exit 2); the stopped process."""
    proc = Proc(["spine", "--config", str(cluster.config)], home / "logs" / "spine.log")
    try:
        assert proc.popen.wait(60) == 2
    finally:
        if proc.alive():
            proc.stop()
    return proc


def modes(root: Path) -> dict[Path, int]:
    """Modes of everything under root (symbolic links have none of their own: chDB links tables)."""
    out = {root: stat.S_IMODE(os.lstat(root).st_mode)}
    for d, dirs, files in os.walk(root):
        for n in [*dirs, *files]:
            st = os.lstat(Path(d) / n)
            if not stat.S_ISLNK(st.st_mode):
                out[Path(d) / n] = stat.S_IMODE(st.st_mode)
    return out


def test_real_processes_make_private_files_and_0660_sockets(home) -> None:
    os.umask(0o022)  # what a login shell gives: nothing of ben may depend on it
    (home / "spine").mkdir(mode=0o755)
    (home / "spine" / "old.log").write_text("left by an older version")
    os.chmod(home / "spine" / "old.log", 0o644)
    group = grp.getgrnam("daemon")  # present on every Debian system
    cluster = Cluster(home, spine={"socket_group": group.gr_name, "socket_mode": 0o660})
    try:
        cluster.start()
        load = Load(cluster.sidecar_addr, 2_000, rate=20_000)
        load.finish()
        cluster.wait_drained()
        for sock in ("spine.sock", "sidecar.sock", "spine.sock.auth"):
            assert stat.S_IMODE(os.stat(home / sock).st_mode) == 0o660, sock
        assert os.stat(home / "spine.sock").st_gid == os.stat(home / "spine.sock.auth").st_gid == group.gr_gid
        seen = {}
        for component in ("spine", "sidecar"):
            seen.update(modes(home / component))
        files = [p for p in seen if p.is_file()]
        assert any("chdb" in str(p) for p in files) and any("wal-routine" in str(p) for p in files)
        assert any(p.name.endswith(".key") for p in files) and any("control" in str(p) for p in files)
        loose = {str(p): oct(m) for p, m in seen.items() if m & 0o077}
        assert not loose, loose
        assert {seen[home / "spine"], seen[home / "sidecar"]} == {0o700}
    finally:
        cluster.stop()


def test_private_dir_tightens_what_exists(tmp_path) -> None:
    top = tmp_path / "data"
    (top / "sub").mkdir(parents=True, mode=0o755)
    (top / "sub" / "f").write_text("x")
    os.chmod(top / "sub" / "f", 0o664)
    os.chmod(top, 0o755)
    private_dir(top)
    assert {p.name: m for p, m in modes(top).items()} == {"data": 0o700, "sub": 0o700, "f": 0o600}


def test_private_dir_takes_an_entry_removed_while_it_walks(tmp_path, monkeypatch) -> None:
    """Another process's temporary file renamed away between the walk's listing and its chmod (two cortexes
    on one directory) stopped the start: 'cannot make .../.state.json.x.tmp private: No such file'."""
    (tmp_path / "kept").write_text("x")
    os.chmod(tmp_path / "kept", 0o644)
    real_walk = os.walk

    def walk(top, *a, **k):   # lists a file that is gone by the time it is looked at
        for root, dirs, files in real_walk(top, *a, **k):
            yield root, dirs, [*files, ".state.json.gone.tmp"]

    monkeypatch.setattr(os, "walk", walk)
    assert private_dir(tmp_path, "cortex.data_dir") == tmp_path
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o600


def test_loose_key_file_refused_naming_it(tmp_path) -> None:
    key = tmp_path / "spine.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match=f"key file {key} has mode 0644") as refused:
        check_private(key, "spine.tls.key")
    assert refused.value.field == "spine.tls.key"
    os.chmod(key, 0o600)
    check_private(key, "spine.tls.key")


def test_spine_with_a_loose_tls_key_refuses_to_start(home) -> None:
    from ben.core.certs import init_ca, issue

    certs = home / "certs"
    init_ca(certs)
    cert, key = issue(certs, "spine", server=True)
    os.chmod(key, 0o640)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = Cluster(home, f"127.0.0.1:{port}", spine={"tls": {"cert": str(cert), "key": str(key),
                                                                "ca": str(certs / "ca.crt")}})
    proc = refused_spine(cluster, home)
    assert f"key file {key} has mode 0640" in proc.tail() and "spine.tls.key" in proc.tail()


def test_spine_with_a_tls_key_another_account_may_replace_refuses_to_start(home) -> None:
    """ADR 0045 round 14: only a key's mode was checked. In a directory any account may write, another account
    could put its own key (0600, its file) at the path before the spine starts, and know the spine's private key.
    Refused now, naming the field and the directory; so are the other secrets (tokens, passwords, keys)."""
    from ben.core.certs import init_ca, issue

    certs = home / "certs"
    init_ca(certs)
    cert, key = issue(certs, "spine", server=True)
    shared = home / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    planted = shared / "spine.key"
    planted.write_bytes(key.read_bytes())
    planted.chmod(0o600)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = Cluster(home, f"127.0.0.1:{port}", spine={"tls": {"cert": str(cert), "key": str(planted),
                                                                "ca": str(certs / "ca.crt")}})
    proc = refused_spine(cluster, home)
    assert "spine.tls.key" in proc.tail() and str(shared) in proc.tail(), proc.tail()


NOBODY = 65534


@pytest.mark.parametrize("planted", ["directory", "symlink"])
def test_a_data_dir_another_user_made_first_is_refused(home, planted: str) -> None:
    """Another account creates the data directory (or a symlink to one of its own) in a shared parent
    before the spine first starts: the spine refuses it, naming the option, and writes nothing there
    (before: it took the directory, left it the other user's, and put its WAL and keys in it)."""
    shared = home / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: anyone may create, only the owner may remove
    trap = shared / "nobody-owns"
    trap.mkdir()
    os.chown(trap, NOBODY, NOBODY)
    os.chmod(trap, 0o777)
    data = trap if planted == "directory" else shared / "spine-data"
    if planted == "symlink":
        os.symlink(trap, data)
        os.chown(data, NOBODY, NOBODY, follow_symlinks=False)
    cluster = Cluster(home, spine={"data_dir": str(data)})
    proc = refused_spine(cluster, home)
    assert "spine.data_dir" in proc.tail() and "belongs to uid 65534" in proc.tail(), proc.tail()
    assert os.listdir(trap) == []


def test_a_data_dir_of_its_own_behind_its_own_symlink_is_used(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert private_dir(tmp_path / "link", "spine.data_dir") == tmp_path / "link"
    os.chown(tmp_path / "real", NOBODY, NOBODY)
    with pytest.raises(ConfigError) as err:
        private_dir(tmp_path / "link", "spine.data_dir")
    assert err.value.field == "spine.data_dir" and "the directory belongs to uid 65534" in str(err.value)


@pytest.mark.parametrize("case", ["writable_by_all", "owned_by_another"])
def test_a_socket_in_a_directory_another_user_controls_is_refused(home, case: str) -> None:
    """After the spine binds there, the other user could remove its socket and listen in its place
    (the sidecars' telemetry, the operators' tokens to that process): the spine refuses to start."""
    rundir = home / "run"
    rundir.mkdir()
    if case == "writable_by_all":
        os.chmod(rundir, 0o777)
    else:
        os.chown(rundir, NOBODY, NOBODY)
        os.chmod(rundir, 0o755)
    cluster = Cluster(home, f"unix://{rundir / 'spine.sock'}")
    proc = refused_spine(cluster, home)
    word = "writable by any user" if case == "writable_by_all" else "belongs to uid 65534"
    assert "spine.listen" in proc.tail() and word in proc.tail(), proc.tail()
    assert not (rundir / "spine.sock").exists()


@pytest.mark.parametrize("name", ["spine.sock", "spine.sock.auth"])
@pytest.mark.parametrize("kind", ["file", "directory", "symlink"])
def test_something_other_than_a_socket_at_the_listen_path_is_refused_and_kept(home, kind: str, name: str) -> None:
    """Round 8: a listen path naming a file (a typo onto a data file) was taken for a stale socket and
    removed; a directory stopped the start with a traceback. Now the spine refuses naming ``spine.listen``
    and leaves what is there. Round 12: the same at the auth socket's path beside it (``<listen>.auth``), which
    was still unlinked whatever it was."""
    rundir = home / "run"
    rundir.mkdir(mode=0o700)
    target = rundir / name
    if kind == "file":
        target.write_text("precious\n")
    elif kind == "directory":
        target.mkdir()
    else:
        (rundir / "elsewhere").write_text("precious\n")
        os.symlink(rundir / "elsewhere", target)
    cluster = Cluster(home, f"unix://{rundir / 'spine.sock'}")
    proc = refused_spine(cluster, home)
    assert "spine.listen" in proc.tail() and "not a socket" in proc.tail() and "Traceback" not in proc.tail(), proc.tail()
    assert os.path.lexists(target) and (kind == "directory" or target.read_text() == "precious\n")


def test_a_socket_in_a_sticky_shared_directory_is_served(home) -> None:
    rundir = home / "tmp"
    rundir.mkdir()
    os.chmod(rundir, 0o1777)  # like /tmp: nobody removes what is not theirs
    cluster = Cluster(home, f"unix://{rundir / 'spine.sock'}")
    cluster.start_spine()
    try:
        assert (rundir / "spine.sock").exists()
    finally:
        cluster.stop()


def test_the_spine_raises_its_open_files_limit_to_the_hard_one(home) -> None:
    """Started with the common soft limit of 1,024 descriptors, the spine takes its hard limit: a flood
    of idle connections from another account must hold many more before it runs out (ADR 0045)."""
    import resource
    import subprocess
    import sys

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard > 1024, "the hard limit must be above 1,024 for this test to show anything"
    cluster = Cluster(home)

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    ben = str(Path(sys.executable).with_name("ben"))
    proc = subprocess.Popen([ben, "spine", "--config", str(cluster.config)], preexec_fn=low_soft_limit,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from ben.cli.procs import wait_for

        limits = wait_for(lambda: next((ln for ln in Path(f"/proc/{proc.pid}/limits").read_text().splitlines()
                                        if ln.startswith("Max open files") and ln.split()[3] != "1024"), None),
                          120, "the spine's open-files limit raised")  # a bound on the failure: 30 s was met under load
        assert int(limits.split()[3]) == hard, limits
    finally:
        proc.terminate()
        proc.wait(30)


# -- files the user names: regular files, pipes written in time, /dev/null (ADR 0033, fourth round) ------------
def test_read_input_refuses_devices_and_a_silent_fifo_and_reads_pipes(tmp_path, monkeypatch) -> None:
    """A FIFO nobody writes to made ``open`` wait for ever and ``/dev/zero`` was read until memory ran out
    (``ben spine --config``, ``redact lint``, ``command send --key``...). Pipes written in time still read."""
    import threading
    import time

    from ben.core import files
    from ben.core.files import InputFileError, read_input

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InputFileError, match=r"^a FIFO \(named pipe\) nobody wrote to and closed within 0.3 s"):
        read_input(fifo, pipe_wait_s=0.3)
    assert time.monotonic() - started < 5
    with pytest.raises(InputFileError, match=r"^a character device, not a regular file$") as refused:
        read_input("/dev/zero")
    assert refused.value.filename == "/dev/zero" and isinstance(refused.value, OSError)
    assert read_input("/dev/null") == b""
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputFileError, match=r"more than 1,024 bytes"):
        read_input(big, max_bytes=1024)
    assert read_input(big, max_bytes=None) == b"x" * 2048
    with pytest.raises(IsADirectoryError):
        read_input(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_input(tmp_path / "nothing")
    # a FIFO its writer fills a moment later (``mkfifo c; ben spine -c c & cat ben.toml > c``) is read whole
    writer = threading.Thread(target=lambda: (time.sleep(0.2), fifo.write_bytes(b"[spine]\n")))
    writer.start()
    assert read_input(fifo, pipe_wait_s=10) == b"[spine]\n"
    writer.join()
    # an anonymous pipe (``--config <(...)``, /dev/stdin): the module default wait applies
    monkeypatch.setattr(files, "PIPE_WAIT_S", 10.0)
    r, w = os.pipe()
    os.write(w, b"a = 1\n")
    os.close(w)
    assert read_input(f"/proc/self/fd/{r}") == b"a = 1\n"
    os.close(r)


def test_remove_temporaries_takes_only_the_files_a_killed_write_atomic_left(tmp_path: Path) -> None:
    path = tmp_path / "detect.ckpt"
    write_atomic(path, b"whole", 0o600)
    left = [tmp_path / ".detect.ckpt.abc123.tmp", tmp_path / ".detect.ckpt.zz9.tmp"]
    for p in left:
        p.write_bytes(b"x" * 10)
    kept = [tmp_path / "detect.key", tmp_path / ".detect.key.abc.tmp", tmp_path / ".detect.ckpt.dir.tmp"]
    kept[0].write_bytes(b"k")
    kept[1].write_bytes(b"k")
    kept[2].mkdir()
    assert remove_temporaries(path) == 20
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept) and path.read_bytes() == b"whole"
    assert remove_temporaries(path) == 0


def test_the_data_dir_marker_is_synced_and_never_written_through_a_planted_name(tmp_path, monkeypatch) -> None:
    """The marker was written to the fixed name ``ben-data-dir.tmp`` and renamed with no sync: a power cut could
    leave an empty marker (every later start then refuses the directory as damaged), and a symlink planted at
    that name was written through. It is now ``write_atomic``'s: a temporary name no one can guess, synced,
    renamed, the directory synced."""
    import json

    from ben.core.data_dir import claim_data_dir

    outside = tmp_path / "outside"
    outside.write_text("not ben's\n")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "ben-data-dir.tmp").symlink_to(outside)
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    claim_data_dir(data, "spine", "spine.data_dir")
    assert json.loads((data / "ben-data-dir.json").read_text())["component"] == "spine"
    assert outside.read_text() == "not ben's\n"
    assert len(synced) >= 2  # the file, then its directory
    assert stat.S_IMODE((data / "ben-data-dir.json").stat().st_mode) == 0o600


def test_a_second_writer_of_a_directory_at_the_same_time_is_refused_and_the_first_completes(tmp_path) -> None:
    """Two `ben baseline generate OUT` (or `detect-real --generate`) at once: the second took the first's staging
    directory for a killed run's leftover and removed it, and the first failed with "No such file or directory"."""
    from ben.core.files import replace_dir

    out = tmp_path / "pkg"
    second: list[str] = []

    def first(staging: Path) -> None:
        (staging / "a").write_text("first")
        try:
            replace_dir(out, lambda s: (s / "a").write_text("second"))
        except ConfigError as exc:
            second.append(str(exc))
        (staging / "b").write_text("first")

    replace_dir(out, first)
    assert len(second) == 1 and f"another process is writing in {tmp_path} now" in second[0], second
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"] and (out / "a").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]


_SWAP = """
import os, stat, sys, time
sock, secret = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:  # the moment the spine binds its socket
    try:
        if stat.S_ISSOCK(os.lstat(sock).st_mode):
            break
    except FileNotFoundError:
        pass
    time.sleep(0.0002)
os.symlink(secret, sock + ".swap")
os.rename(sock + ".swap", sock)  # the directory is the group's to write
print("swapped", flush=True)
"""


def test_a_group_member_swapping_the_socket_for_a_symlink_gets_no_file_s_mode(home) -> None:
    """Round 12: the spine binds its socket, opens its control plane, then gives the socket its group and mode by
    name. In a socket directory its group may write (allowed: the group is trusted with the socket, round 3), a
    member (``nobody`` here, gid ``nogroup``) renamed a symlink to any file over the socket meanwhile, and the spine,
    as root, gave that file the group and 0660 (on the code before: a root file 0600 became ``nogroup`` 0660). Now
    the socket is changed through itself: a path that is no longer a socket is refused naming ``spine.listen``."""
    import subprocess
    import sys

    from ben.cli.procs import wait_for

    os.chmod(home, 0o755)
    rundir = home / "run"
    rundir.mkdir()
    os.chown(rundir, 0, NOBODY)
    os.chmod(rundir, 0o770)
    secret = home / "secret"
    secret.write_text("root's\n")
    os.chmod(secret, 0o600)
    sock = rundir / "spine.sock"
    attacker = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                                 "-c", _SWAP, str(sock), str(secret)], stdout=subprocess.PIPE, text=True)
    cluster = Cluster(home, f"unix://{sock}", spine={"socket_group": "nogroup"})
    proc = Proc(["spine", "--config", str(cluster.config)], home / "logs" / "spine.log")
    try:
        assert attacker.stdout.readline().strip() == "swapped"
        wait_for(lambda: not proc.alive() or stat.S_IMODE(os.stat(secret).st_mode) != 0o600, 60,
                 "the spine to refuse its swapped socket")
        st = os.stat(secret)
        assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o600, 0), (oct(st.st_mode), st.st_gid)
        assert proc.popen.wait(30) == 2
        assert "spine.listen" in proc.tail() and "no longer the socket" in proc.tail(), proc.tail()
    finally:
        attacker.kill()
        attacker.communicate()
        if proc.alive():
            proc.stop()


def test_tightening_a_data_directory_never_follows_an_entry_swapped_for_a_symlink(tmp_path, monkeypatch) -> None:
    """ADR 0045, round 18: ``private_dir`` takes group and other bits off everything under a data directory. An
    entry of a loose directory there (0777: made under umask 000 before, or by hand) is another account's to
    replace, and it was chmod-ed by name after its ``lstat``: replaced by a symlink in between (the other account
    keeps a working directory inside, or swaps in a loop), the link's target got the entry's mode less group and
    other, as root: ``/etc/passwd`` 0600. The swap is made here at that very moment, on a real filesystem."""
    from ben.core.files import private_dir

    data = tmp_path / "data"
    loose = data / "loose"
    loose.mkdir(parents=True)
    os.chmod(loose, 0o777)
    planted = loose / "state"
    planted.write_bytes(b"x")
    os.chmod(planted, 0o666)
    victim = tmp_path / "victim"  # stands for /etc/passwd: not the data directory's
    victim.write_bytes(b"v")
    os.chmod(victim, 0o644)
    real, swapped = os.lstat, []

    def racing(name, *args, **kwargs):
        seen = real(name, *args, **kwargs)
        if str(name) == str(planted) and not swapped:  # the other account swaps it now
            swapped.append(True)
            os.unlink(planted)
            os.symlink(victim, planted)
        return seen

    monkeypatch.setattr(os, "lstat", racing)
    private_dir(data)
    monkeypatch.undo()
    assert swapped, "the walk never looked at the planted entry"
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(loose).st_mode) == 0o700
