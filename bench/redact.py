"""Redaction benchmark: events/s through the sidecar's redaction encoder, against no redaction.

    ben bench redact [--batches N] [--runs R] [--json]

Realistic events, built with the SDK's BatchBuilder into 1000-event batches (not timed), encoded
the way the sidecar writes its WAL: ``engine.apply(batch).SerializeToString()``; the baseline is
``batch.SerializeToString()`` over the same batches in the same run. One thread (one core); the
rates are events per CPU-second of this process (``time.process_time``), so that other work on a
shared machine does not count against it (``*_wall`` figures: the same, by the wall clock).
Medians of R runs; every run starts with a fresh engine (empty caches). ``load_average_1m_start``
and ``_end`` say how busy the machine was: rates per CPU-second still drop on a loaded machine (caches,
SMT siblings), so compare figures taken at similar loads.

- attribute rules (the target, ``events_per_s``): metric/event records with 9 attributes each
  (method, route, status, region, user id, client address, e-mail for 10%, an authorization header,
  a unique request id) under the default manifest plus attribute field rules (drop the
  authorization header, hash the user id, mask the client address, truncate SQL).
- default manifest, attributes: the same events under the built-in manifest alone.
- body scanning: log lines with unique bodies (ids, timings, trace ids; 2% with an e-mail, 1% a
  card number, 0.5% a bearer token) under the default manifest.
- coverage (``ben.redact.corpus``, not timed): the share of fake secrets (60+ formats) redacted by the
  default manifest in each placement (attribute under a neutral or a secret-named key, log sentence,
  JSON, URL, URL-encoded, gauge attribute, source host/subsystem/instance, metric name), and the share
  of benign look-alikes (UUIDs, trace ids, SHAs, order numbers, ARNs, versions, English) changed.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time

PER_BATCH = 1000

ATTRIBUTE_RULES = """
[hash]
key_env = "BEN_BENCH_REDACT_KEY"

[[rule]]
name = "auth-header"
fields = ["attributes.http.request.header.authorization", "attributes.*password*"]
action = "drop"

[[rule]]
name = "user-id"
fields = ["attributes.user.id"]
action = "hash"

[[rule]]
name = "client-address"
fields = ["attributes.client.address"]
action = "mask"

[[rule]]
name = "sql"
fields = ["attributes.db.statement"]
action = "truncate"
max_chars = 100
"""


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def attribute_batches(n_batches: int, seed: int = 1):
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    rng = random.Random(seed)
    routes = [f"/api/v1/{r}" for r in ("orders", "pay", "cart", "login", "search", "items", "users", "refunds")]
    routes += [f"/api/v2/{r}/{{id}}" for r in ("orders", "items", "users", "invoices")]
    users = [f"u-{rng.getrandbits(40):010x}" for _ in range(20_000)]
    emails = [f"{u[2:8]}.{rng.choice(('ann', 'bob', 'kim', 'lee'))}@example.com" for u in users]
    tokens = [f"Bearer {rng.getrandbits(128):032x}" for _ in range(20_000)]
    ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(5_000)]
    names = ["http.server.duration", "http.server.requests", "db.client.duration", "queue.depth", "checkout"]
    source = pb.Source(host="bench", subsystem="checkout-api", instance="1")
    out, seq = [], 1
    for _ in range(n_batches):
        b = BatchBuilder(seq)
        for i in range(PER_BATCH):
            u = rng.randrange(len(users))
            attrs = {"http.method": rng.choice(("GET", "GET", "GET", "POST", "PUT", "DELETE")),
                     "http.route": rng.choice(routes), "http.status_code": rng.choice(("200",) * 8 + ("404", "500")),
                     "cloud.region": rng.choice(("eu-west-1", "eu-central-1", "us-east-1")),
                     "user.id": users[u], "client.address": ips[u % len(ips)],
                     "http.request.header.authorization": tokens[u], "request.id": f"{rng.getrandbits(64):016x}"}
            if rng.random() < 0.1:
                attrs["user.email"] = emails[u]
            b.add(pb.KIND_METRIC, names[i % len(names)], rng.random() * 100, "", attrs, 1_764_000_000_000_000_000 + i)
        out.append(b.build(source, "bench"))
        seq = b.last_seq + 1
    return out


def body_batches(n_batches: int, seed: int = 2):
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    rng = random.Random(seed)
    source = pb.Source(host="bench", subsystem="checkout-api", instance="1")
    out, seq = [], 1
    for _ in range(n_batches):
        b = BatchBuilder(seq)
        for i in range(PER_BATCH):
            r = rng.random()
            order = rng.getrandbits(32)
            trace = f"{rng.getrandbits(128):032x}"
            body = (f"{rng.choice(('GET', 'POST'))} /api/v1/orders/{order} {rng.choice((200, 200, 201, 404, 500))} "
                    f"in {rng.random() * 900:.1f} ms trace_id={trace} span_id={rng.getrandbits(64):016x} "
                    f"user=u-{rng.getrandbits(40):010x} ts={1_764_000_000_000_000_000 + i}")
            if r < 0.02:
                body += f" notify {trace[:6]}.ann@example.com"
            elif r < 0.03:
                body += " card 4111 1111 1111 1111 declined"
            elif r < 0.035:
                body += f" Authorization: Bearer {trace}"
            b.add(pb.KIND_LOG, "app.log", 0.0, body, {"level": rng.choice(("info", "info", "warn", "error")),
                                                      "logger": "checkout.orders"}, 1_764_000_000_000_000_000 + i)
        out.append(b.build(source, "bench"))
        seq = b.last_seq + 1
    return out


def _time(fn, batches) -> tuple[float, float]:
    """(events per CPU-second, events per wall-second)."""
    cpu, wall = time.process_time(), time.perf_counter()
    for batch in batches:
        fn(batch)
    n = len(batches) * PER_BATCH
    return n / (time.process_time() - cpu), n / (time.perf_counter() - wall)


def measure(batches, manifest_text: str, runs: int) -> tuple[float, float, dict, float]:
    """(median redacted events/s, median baseline events/s, counts of the last run, median wall events/s)."""
    from ben.redact import Engine, parse_manifest

    manifest = parse_manifest(manifest_text, "bench manifest")
    redacted, baseline, wall = [], [], []
    engine = None
    for _ in range(runs):
        baseline.append(_time(lambda b: b.SerializeToString(), batches)[0])
        engine = Engine(manifest)
        cpu, w = _time(lambda b: engine.apply(b).SerializeToString(), batches)
        redacted.append(cpu)
        wall.append(w)
    return statistics.median(redacted), statistics.median(baseline), dict(engine.counts), statistics.median(wall)


def run(batches: int = 100, runs: int = 5, progress: bool = True) -> dict:
    from ben.redact import DEFAULT_MANIFEST

    os.environ.setdefault("BEN_BENCH_REDACT_KEY", "bench-only-key-0123456789abcdef")
    load_start = os.getloadavg()[0]
    _say(progress, f"ben bench redact: {runs} runs, {batches} batches of {PER_BATCH} events per workload, one thread")
    attrs = attribute_batches(batches)
    rules, rules_base, rules_counts, rules_wall = measure(attrs, DEFAULT_MANIFEST + ATTRIBUTE_RULES, runs)
    _say(progress, f"  attribute rules (default manifest + 4 field rules): {rules:,.0f} events/s "
                   f"(no redaction: {rules_base:,.0f}) fired: {rules_counts}")
    default, default_base, _, _ = measure(attrs, DEFAULT_MANIFEST, runs)
    _say(progress, f"  default manifest, attributes: {default:,.0f} events/s (no redaction: {default_base:,.0f})")
    del attrs
    bodies = body_batches(batches)
    body, body_base, body_counts, body_wall = measure(bodies, DEFAULT_MANIFEST, runs)
    _say(progress, f"  body scanning (default manifest): {body:,.0f} events/s (no redaction: {body_base:,.0f}) "
                   f"fired: {body_counts}")
    from ben.redact.corpus import evaluate, secrets

    quality = evaluate(DEFAULT_MANIFEST)
    _say(progress, f"  coverage, default manifest ({len(secrets())} formats): recall by placement "
                   + ", ".join(f"{p} {r:.1%}" for p, r in quality.recall.items())
                   + f"; benign changed {quality.benign_changed}/{quality.benign_sent} ({quality.benign_rate:.2%})")
    return {
        "recall_by_placement": quality.recall,
        "recall_min": min(quality.recall.values()),
        "missed": {p: m for p, m in quality.missed.items() if m},
        "benign_mangled_rate": quality.benign_rate,
        "benign_sent": quality.benign_sent,
        "formats": len(secrets()),
        "events_per_s": rules,
        "baseline_events_per_s": rules_base,
        "ratio": rules / rules_base,
        "events_per_s_wall": rules_wall,
        "default_manifest_events_per_s": default,
        "default_manifest_baseline_events_per_s": default_base,
        "body_events_per_s": body,
        "body_baseline_events_per_s": body_base,
        "body_ratio": body / body_base,
        "body_events_per_s_wall": body_wall,
        "events_per_run": batches * PER_BATCH,
        "load_average_1m_start": load_start,
        "load_average_1m_end": os.getloadavg()[0],
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
