"""``ben bench federation``: summaries through a local nats-server, end to end, against nats-py's raw rate.

End to end: sealed (signed, anonymised) summaries are appended to a publishing Federation's outbox at once;
it publishes them to JetStream (pipelined, up to 2,048 awaiting their PubAck; the outbox forgets them only
after), a consuming Federation fetches batches of up to 1,000, verifies each and inserts the batch into
its chDB store (``ben.federated_incidents``) in one insert before acking each message. Latency per
summary: outbox append to the return of its insert. The publisher's poll of ``ben.incidents`` is not
part of it (its store is empty).
The summaries are sealed before the clock starts (that is ``Outbox.poll``'s work, not measured here).
Baseline in the same run: nats-py publishing the same bytes, core NATS (``raw_publish_per_s``, publish +
flush), JetStream one PubAck at a time (``raw_js_publish_per_s``) and pipelined (``publish_async``, all
awaited at the end: ``raw_js_async_publish_per_s``). ``lost`` / ``duplicated`` are counted
at the consuming side (inserts, not table rows: a merge could hide a second insert).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import nats

from ben.control.keys import generate
from ben.core.config import FederationConfig
from ben.federation import Federation
from ben.federation.summary import seal
from ben.store.process import ChdbProcessStore

BODY = {"change": "opened", "state": "open", "severity": "high", "detector": "ewma", "direction": "up",
        "anomalies": 2, "subsystem_class": "postgres", "incident": "p-0123456789abcdef0123",
        "subsystem": "p-fedcba9876543210fedc", "opened": 1_780_000_020, "resolved": 0, "magnitude": "3-10x",
        "duration": "ongoing"}


class _EmptyStore:
    def query_json(self, sql: str) -> bytes:
        return b'{"data": []}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _raw(url: str, payload: bytes, n: int) -> tuple[float, float]:
    nc = await nats.connect(url)
    started = time.perf_counter()
    for _ in range(n):
        await nc.publish("bench.core", payload)
    await nc.flush()
    core = n / (time.perf_counter() - started)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["bench.js"])
    m = max(1, n // 5)
    started = time.perf_counter()
    for i in range(m):
        await js.publish("bench.js", payload, headers={"Nats-Msg-Id": f"raw-{i}"})
    jsr = m / (time.perf_counter() - started)
    started = time.perf_counter()
    futures = []
    for i in range(m):
        futures.append(await js.publish_async("bench.js", payload, headers={"Nats-Msg-Id": f"raw-async-{i}"}))
    await asyncio.gather(*futures)
    jsa = m / (time.perf_counter() - started)
    await nc.close()
    return core, jsr, jsa


def run(summaries: int = 100_000, progress: bool = True) -> dict:
    nats_bin = shutil.which("nats-server") or "/usr/sbin/nats-server"
    with tempfile.TemporaryDirectory(prefix="ben-bench-fed-") as tmp:
        tmp = Path(tmp)
        port = _free_port()
        server = subprocess.Popen([nats_bin, "-js", "-sd", str(tmp / "js"), "-a", "127.0.0.1", "-p", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"nats://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            key = generate(tmp / "keys", "east")
            trust = tmp / "trust.toml"
            trust.write_text(f'[clusters.east]\npublic_key = "{key.public_text}"\n')
            sample = seal(key, summary_id="s-sample", cluster="east", body=BODY)
            raw_core, raw_js, raw_js_async = asyncio.run(_raw(url, sample, summaries))
            if progress:
                print(f"nats-py raw: core {raw_core:,.0f}/s, JetStream (PubAck each) {raw_js:,.0f}/s, "
                      f"JetStream (publish_async) {raw_js_async:,.0f}/s", flush=True)
            store = ChdbProcessStore(tmp / "west-chdb")
            common = dict(enabled=True, servers=[url], poll_interval_ms=50, max_age_s=86_400, dedup_window_s=3600)
            east = Federation(FederationConfig(cluster="east", consume=False, key=key.path, **common), tmp / "east",
                              _EmptyStore())
            west = Federation(FederationConfig(cluster="west", trust=trust, **common), tmp / "west", store)
            inserted: dict[str, float] = {}
            inserts = [0]
            insert = store.insert_rows

            def timed_insert(target, table):
                insert(target, table)
                now = time.perf_counter()
                for sid in table.column("summary_id").to_pylist():
                    inserts[0] += 1
                    inserted.setdefault(sid, now)
            store.insert_rows = timed_insert
            west.start()
            east.start()
            ids = [f"s-{i:09d}" for i in range(summaries)]
            sealed = [seal(key, summary_id=sid, cluster="east", body=BODY) for sid in ids]  # Outbox.poll's work
            appended: dict[str, float] = {}
            started = time.perf_counter()
            for lo in range(0, summaries, 1000):
                east.outbox.wal.append(sealed[lo:lo + 1000])
                now = time.perf_counter()
                appended.update((sid, now) for sid in ids[lo:lo + 1000])
            deadline = time.monotonic() + max(120.0, summaries / 200)
            last = 0
            drained = 0.0
            while len(inserted) < summaries and time.monotonic() < deadline:
                time.sleep(0.05)
                if not drained and east.outbox.depth == 0:
                    drained = time.perf_counter() - started
                if progress and len(inserted) - last >= max(1, summaries // 10):
                    last = len(inserted)
                    print(f"  {last:,} of {summaries:,} summaries stored at the peer", flush=True)
            elapsed = (max(inserted.values()) if inserted else time.perf_counter()) - started
            east.shutdown(5)
            west.shutdown(5)
            store.close()
        finally:
            server.terminate()
            server.wait(10)
    latencies = sorted(inserted[s] - appended[s] for s in inserted if s in appended)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0  # noqa
    return {"summaries": summaries, "summaries_per_s": len(inserted) / elapsed if elapsed > 0 else 0.0,
            "p50_ms": p(0.5), "p99_ms": p(0.99), "raw_publish_per_s": raw_core, "raw_js_publish_per_s": raw_js,
            "raw_js_async_publish_per_s": raw_js_async,
            "outbox_drained_per_s": summaries / drained if drained else 0.0,
            "lost": summaries - len(inserted), "duplicated": inserts[0] - len(inserted)}
