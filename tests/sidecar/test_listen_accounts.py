"""The attack matrix (ADR 0045, round 17): one local account holding every connection of a sidecar's plain loopback
``listen``. Real spine and sidecar processes, real sockets; the flood is ``nobody``'s.

On the code before (round 16's measurement), gRPC's core bounded the listener's connections (``max_connections``),
not an account's: ``nobody`` holding all of them kept every other account's SDKs out ("1 events not acknowledged by
the sidecar within 20 s (UNAVAILABLE ...)"). Now ben accepts (the OTLP gate's design): an account past
``max_connections_per_client`` is refused at accept, and a full listener closes the newest connection of the
account holding most to let in one holding two fewer or more.
"""

from __future__ import annotations

import subprocess

from ben.cli.procs import count_stored, wait_for
from ben.sdk import Client
from tests.sidecar.stranger import AS_NOBODY, loopback_cluster, nobody_env

TOTAL, PER_CLIENT, MINE = 64, 48, 16

#: Opens N connections, each past HTTP/2's preface and a SETTINGS frame (gRPC then holds it as a client's), and
#: says how many the server closed once ``closed`` of them were (or 30 s passed); holds the rest until stdin ends.
HOLD = r"""
import selectors, socket, sys, time
port, n, closed_wanted = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(PREFACE)
    except OSError:
        pass
    socks.append(s)
watch = selectors.DefaultSelector()
for s in socks:
    watch.register(s, selectors.EVENT_READ)
closed = 0
deadline = time.monotonic() + 30
while closed < closed_wanted and time.monotonic() < deadline:
    for key, _ in watch.select(0.2):
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        if not data:
            watch.unregister(key.fileobj)
            closed += 1
print(closed, flush=True)
sys.stdin.readline()
"""


def _hold(port: int, n: int, closed: int, *, as_nobody: bool) -> subprocess.Popen:
    command = [*AS_NOBODY, HOLD] if as_nobody else ["python3", "-c", HOLD]
    return subprocess.Popen([*command, str(port), str(n), str(closed)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=nobody_env(), cwd="/")


def test_one_account_cannot_hold_every_connection_of_a_plain_loopback_listen(home) -> None:
    cluster = loopback_cluster(home, max_connections=TOTAL, max_connections_per_client=PER_CLIENT)
    port = int(cluster.sidecar_addr.rpartition(":")[2])
    held, client = [], None
    try:
        cluster.start()
        # nobody opens the whole listener's worth: past its share, its connections are closed at accept
        held.append(_hold(port, TOTAL, TOTAL - PER_CLIENT, as_nobody=True))
        assert held[-1].stdout.readline().strip() == str(TOTAL - PER_CLIENT)
        # the test's account fills the listener (nobody 48 + 16): nothing of either is closed
        held.append(_hold(port, MINE, 0, as_nobody=False))
        assert held[-1].stdout.readline().strip() == "0"
        # a new SDK of the test's account (16 held against nobody's 48) is let in: nobody's newest makes room
        client = Client("beside-the-flood", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
        client.gauge("served", 1.0)
        assert client.flush(30)
        wait_for(lambda: count_stored(cluster.spine_addr) >= 1, 60, "the application's event stored")
        assert cluster.sidecar.alive()
    finally:
        for proc in held:
            proc.communicate("\n", timeout=60)
        if client is not None:
            client.shutdown(timeout=5)
        cluster.stop()
