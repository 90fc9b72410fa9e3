"""Test helpers: a paced load generator through the real SDK, exactly-once checks, processes seen
through /proc, and another account's connection flood."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from ben.cli.procs import query_rows, wait_for
from ben.sdk import Client


class Load:
    """Emits events numbered 0..total-1 (the value is the number) from a thread, at about `rate`/s."""

    def __init__(self, sidecar: str, total: int, rate: float = 20_000, subsystem: str = "load", body_bytes: int = 0):
        self.total = total
        self.body = "x" * body_bytes
        self.rate = rate
        self.client = Client(subsystem, sidecar=sidecar, full_policy="block", max_batch_events=500,
                             flush_interval_ms=20, max_buffer_events=20_000, reconnect_max_ms=500)
        self.emitted = 0
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        for i in range(self.total):
            if self._stop.is_set():
                return
            if self.body:  # a unique body per event, so the dictionary encoding cannot shrink it
                seq = self.client.log(f"{i:010d}{self.body}", level="info", attrs={"mod": str(i % 7)})
            else:
                seq = self.client.gauge("n", float(i), {"mod": str(i % 7)})
            if seq is None:
                self.dropped += 1
            self.emitted = i + 1
            if i % 500 == 499:  # pace: stay near `rate`
                ahead = (i + 1) / self.rate - (time.monotonic() - started)
                if ahead > 0 and self._stop.wait(ahead):
                    return

    def wait_emitted(self, n: int, timeout: float = 60) -> None:
        wait_for(lambda: self.emitted >= n, timeout, f"{n} events emitted")

    def stop(self) -> None:
        """Stop emitting now; `emitted` is then the total."""
        self._stop.set()
        self._thread.join(30)
        self.total = self.emitted

    def finish(self, timeout: float = 120) -> None:
        """Wait for the last event, then for the sidecar to acknowledge all of them."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "load generator did not finish"
        assert self.client.flush(timeout), f"not all events acknowledged: {self.client.last_error}"
        assert self.dropped == 0 and self.client.stats.acked == self.total
        self.client.shutdown(timeout=5)


def assert_exactly_once(spine: str, producer_id: str, total: int) -> dict:
    """Every event 0..total-1 of producer_id is stored exactly once (identity and count)."""
    row = query_rows(spine, f"""
        SELECT count() AS n, uniqExact(producer_seq) AS uniq, min(producer_seq) AS lo, max(producer_seq) AS hi,
               sum(if(kind = 'log', toUInt64OrZero(substring(body, 1, 10)), toUInt64(value))) AS total_value,
               countIf(if(kind = 'log', toUInt64OrZero(substring(body, 1, 10)), toUInt64(value)) + 1 != producer_seq)
                   AS mismatched
        FROM ben.events WHERE producer_id = '{producer_id}'""")[0]
    assert row["n"] == total, f"stored {row['n']} rows for {total} events"
    assert row["uniq"] == total and row["lo"] == 1 and row["hi"] == total, row
    assert row["mismatched"] == 0, row
    assert row["total_value"] == total * (total - 1) / 2, row
    return row


def children(pid: int, *, deep: bool = False) -> list[int]:
    """The processes ``pid`` started (``deep``: and theirs), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found + [g for k in found for g in children(k, deep=True)] if deep else found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie is not: it has exited and waits for its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


NOBODY = 65534

_FLOOD = """
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
held = []
for i in range(COUNT):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(('127.0.0.1', PORT))
    held.append(s)
print('holding', flush=True)
sys.stdin.read()
"""


class Flood:
    """Another account (uid ``nobody``, or ``uid``) opens ``n`` TCP connections to 127.0.0.1:``port`` at once
    and holds them, idle, until ``close``; a context manager. Started when made; returns once they are open."""

    def __init__(self, port: int, n: int = 3000, uid: int = NOBODY):
        script = _FLOOD.replace("PORT", str(port)).replace("COUNT", str(n))
        self.proc = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                                      "/usr/bin/python3", "-c", script],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert self.proc.stdout.readline().strip() == "holding"
        except BaseException:
            self.close()
            raise

    def peak_descriptors(self, pid: int, seconds: float = 3.0) -> int:
        """The most descriptors ``pid`` held, sampled for ``seconds`` while the flood is held."""
        deadline, most = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            most = max(most, descriptors(pid))
            time.sleep(0.05)
        return most

    def close(self) -> None:
        """Its stdin closed, it exits and the kernel closes every connection it held."""
        try:
            self.proc.communicate("", timeout=30)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            self.proc.kill()
            self.proc.communicate()

    def __enter__(self) -> "Flood":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Killed(BaseException):
    """A kill -9 simulated at a chosen call: a BaseException, so no ``except Exception`` in ben catches it."""


def killed_at_call(monkeypatch, owner, names, kill_at: int):
    """A context: within it, the ``kill_at``-th call (counted from 1 over every name in ``names`` of ``owner``,
    e.g. ``os``) raises :class:`Killed` instead of running, and the block ends there quietly. It yields a
    one-item list, the count of calls made (below ``kill_at`` when the block ran to its end)."""
    import contextlib

    real = {name: getattr(owner, name) for name in names}

    @contextlib.contextmanager
    def context():
        calls = [0]

        def hook(name):
            def call(*args, **kwargs):
                calls[0] += 1
                if calls[0] == kill_at:
                    raise Killed(name)
                return real[name](*args, **kwargs)
            return call

        with monkeypatch.context() as m:
            for name in real:
                m.setattr(owner, name, hook(name))
            try:
                yield calls
            except Killed:
                pass
    return context()
