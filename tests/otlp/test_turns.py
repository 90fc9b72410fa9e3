"""The OTLP receiver's parse and conversion turns, round-robin between clients (ADR 0045, round 10)."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import threading
import time
import urllib.request

from ben.cli.procs import Cluster, wait_for
from ben.otlp.turns import Turns
from tests.helpers import NOBODY


def test_waiting_clients_take_turns_and_each_keeps_its_order() -> None:
    async def run() -> list[str]:
        turns, order = Turns(), []

        async def request(client: str, name: str, hold: asyncio.Event | None = None) -> None:
            async with turns.turn(client):
                order.append(name)
                if hold is not None:
                    await hold.wait()

        hold = asyncio.Event()
        first = asyncio.ensure_future(request("a", "a1", hold))
        await asyncio.sleep(0)
        tasks = [asyncio.ensure_future(request("a", f"a{i}")) for i in (2, 3, 4)]
        gone = asyncio.ensure_future(request("c", "c1"))
        tasks.append(asyncio.ensure_future(request("b", "b1")))
        await asyncio.sleep(0)
        assert turns.waiting() == 5
        gone.cancel()  # a client that gave up while waiting is skipped
        await asyncio.sleep(0)
        hold.set()
        await asyncio.gather(first, *tasks)
        assert turns.waiting() == 0
        async with turns.turn("d"):  # free again: at once
            order.append("d1")
        return order

    assert asyncio.run(run()) == ["a1", "a2", "b1", "a3", "a4", "d1"]


_ATTACKER = """
import gzip, sys, threading, time, urllib.request
n = 300_000
body = gzip.compress(('{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + ",".join(["{}"] * n) + ']}]}]}').encode())
def post():
    req = urllib.request.Request(sys.argv[1], data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=900) as answer:
        print("done", answer.status, time.time(), flush=True)
threads = [threading.Thread(target=post) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_another_account_s_backlog_does_not_go_before_an_export(home) -> None:
    """On the code before, requests were parsed and converted in arrival order: four of ``nobody``'s (952 bytes
    gzip'd each, 300,000 empty OTLP/JSON records) sent first kept this account's one-record export waiting until
    all four were done. Now it waits behind at most the one running and one more of ``nobody``'s."""
    os.chmod(home, 0o755)
    cluster = Cluster(home)
    try:
        cluster.start()
        port = int(cluster.status("sidecar")["otlp_http_port"])
        url = f"http://127.0.0.1:{port}/v1/logs"
        before = cluster.status("sidecar").get("otlp_requests_total", 0)
        attacker = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                     "/usr/bin/python3", "-c", _ATTACKER, url], stdout=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: cluster.status("sidecar").get("otlp_requests_total", 0) >= before + 4, 120,
                     "the other account's four requests received")
            body = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"mine"}}]}]}]}'
            req = urllib.request.Request(url, data=gzip.compress(body), method="POST",
                                         headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
            done: list[float] = []
            mine = threading.Thread(target=lambda: done.append(
                (urllib.request.urlopen(req, timeout=900).status, time.time())))
            mine.start()
            out, _ = attacker.communicate(timeout=900)
            mine.join(900)
        finally:
            if attacker.poll() is None:
                attacker.kill()
        theirs = sorted(float(line.split()[2]) for line in out.splitlines() if line.startswith("done 200"))
        assert len(theirs) == 4 and done and done[0][0] == 200, (out, done)
        assert done[0][1] < theirs[-1], (done, theirs)  # before the other account's backlog was through
    finally:
        cluster.stop()
