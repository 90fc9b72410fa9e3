"""Invariant 6 end to end: a seeded corpus of secrets sent through the SDK into real processes never
shows up in the sidecar WAL, on the wire to the spine, in the spine WAL or in the store; reloads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from pathlib import Path

import pytest

from ben.cli.procs import query_rows, wait_for, write_config
from ben.redact.actions import keyed_hash
from ben.sdk import Client
from tests.redact.corpus import planted, secrets
from tests.redact.proxy import RecordingProxy

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "redact.toml"
KEY = "e2e-key-0123456789abcdef"


def files_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def corpus_events(canary: str) -> tuple[list[str], list[tuple]]:
    """(secrets that must never be stored, events to send: (kind, name, body, attrs))."""
    c = secrets(seed=6)
    found_anywhere = ["email", "card", "jwt", "bearer", "aws_key", "gcp_key", "github_token", "slack_token",
                      "azure_key", "private_key", "us_ssn", "uk_nino"]
    hidden = [s for name in found_anywhere for s in c[name]]
    hidden += [s.replace(" ", "").replace("-", "") for s in c["card"]]   # the digits alone, too
    field_secrets = {"password": "Tr0ub4dor&3-" + canary[-6:], "auth": "Basic dXNlcjpzM2NyZXQ=",
                     "uid": "uid-7f3a9c" + canary[-4:], "ip": c["ipv4"][0], "ip6": c["ipv6"][0]}
    hidden += list(field_secrets.values())
    evs = []
    for name in found_anywhere:
        for s in c[name]:
            text = planted(name, s)
            evs.append(("log", "app", f"request failed for {text}; retrying", {"canary": canary}))
            evs.append(("event", "checkout", "", {"note": f"see {text}", "canary": canary, "route": "/pay"}))
            evs.append(("log", "app", json.dumps({"ctx": {"detail": text}, "canary": canary}), {}))
    evs.append(("event", "login", json.dumps({"user": {"id": field_secrets["uid"], "password": field_secrets["password"]},
                                              "canary": canary}),
                {"http.request.header.authorization": field_secrets["auth"], "db.password": field_secrets["password"],
                 "user.id": field_secrets["uid"], "client.address": field_secrets["ip"], "canary": canary}))
    evs.append(("log", "app", f"peer {field_secrets['ip6']} connected", {"net.peer.ip": field_secrets["ip6"]}))
    return hidden, evs



def paused_store(home) -> dict:
    """Store options that keep the store writer paused: a free-space reserve more than is free on the data
    directory's file system, yet below its size (ADR 0033: a reserve no disk of that size could leave refuses
    the start)."""
    return {"min_free_bytes": shutil.disk_usage(home).total - 1}


#: The spine's options while its store is paused: its stop waited its whole shutdown timeout (10 s by default)
#: for a store writer that cannot write; what it holds is in its WAL either way, stored after the restart.
PAUSED_SPINE = {"shutdown_timeout_ms": 1_000}

def test_seeded_secrets_reach_neither_wal_nor_wire_nor_store(make_cluster, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("BEN_REDACT_KEY", KEY)       # the sidecar process inherits it
    proxy = RecordingProxy(home / "proxy.sock", home / "spine.sock")
    sidecar = {"spine": f"unix://{home / 'proxy.sock'}", "redact_manifest": str(EXAMPLE), "reconnect_max_ms": 200}
    # The store writer first keeps everything in the spine WAL (inserts pause below min_free_bytes).
    # The spine names the same manifest: it stores the sidecar's batches as they come (ADR 0034).
    spine = {"redact_manifest": str(EXAMPLE)}
    cluster = make_cluster(spine={**spine, **PAUSED_SPINE}, sidecar=sidecar, store=paused_store(home))
    canary = "canary-" + uuid.uuid4().hex[:12]
    hidden, evs = corpus_events(canary)

    def no_secret_in(where: str, raw: bytes) -> None:
        leaked = [s for s in hidden if s.encode() in raw]
        assert not leaked, f"found in the {where}: {leaked}"
        assert canary.encode() in raw, f"positive control: the canary is not in the {where}; the search proves nothing"

    try:
        # 1. The sidecar alone: everything it acknowledged is in its WAL, fsync'd.
        cluster.start_sidecar()
        client = Client("redact-e2e", sidecar=cluster.sidecar_addr, flush_interval_ms=10)
        for kind, name, body, attrs in evs:
            if kind == "log":
                client.log(body, level="info", attrs=attrs)
            else:
                client.event(name, attrs, body=body)
        assert client.flush(30), client.last_error
        client.shutdown(5)
        assert cluster.status("sidecar")["wal_records"] > 0
        no_secret_in("sidecar WAL", files_bytes(home / "sidecar"))

        # 2. The spine (store paused): the batches cross the recorded wire into the spine WAL.
        cluster.start_spine()
        wait_for(lambda: cluster.status("sidecar").get("wal_records", 1) == 0, 60, "the sidecar WAL to ship")
        assert cluster.status("spine")["wal_records"] > 0
        no_secret_in("spine WAL", b"".join(files_bytes(p) for p in (home / "spine").glob("wal-*")))
        no_secret_in("wire to the spine", proxy.bytes)

        # 3. The store: restart the spine without the pause; check through SQL, then the raw files.
        cluster.spine.stop()
        write_config(cluster.config, home, cluster.spine_addr, spine=spine, sidecar=sidecar)
        cluster.start_spine()
        cluster.wait_drained()
        rows = query_rows(cluster.spine_addr, "SELECT name, body, attributes.key AS k, attributes.value AS v "
                                              "FROM ben.events WHERE producer_id != ''")
        assert len(rows) == len(evs)
        stored = json.dumps(rows, ensure_ascii=False)
        leaked = [s for s in hidden if s in stored or json.dumps(s)[1:-1] in stored]
        assert not leaked, leaked
        assert stored.count(canary) >= len(evs) - 1
        login = next(r for r in rows if r["name"] == "login")
        attrs = dict(zip(login["k"], login["v"]))
        assert attrs["user.id"] == keyed_hash(KEY.encode(), evs[-2][3]["user.id"], 16)   # keyed, joinable
        assert set(attrs["ben.redacted"].split(",")) == {"auth-headers", "user-id", "client-ip"}
        assert "http.request.header.authorization" not in attrs and "db.password" not in attrs
        figures = cluster.status("sidecar")
        for rule in ("card", "tokens", "email", "national-id", "private-key", "auth-headers", "user-id",
                     "client-ip"):
            assert figures.get(f"redactions_total{{rule={rule}}}", 0) > 0, rule
        cluster.stop()   # parts flushed to disk
        # chDB compresses columns (LZ4): a raw search alone could miss a secret split by the
        # compressor; the canary shows these parts keep short strings readable, and SQL above
        # checked the decompressed contents.
        no_secret_in("chDB data dir", files_bytes(home / "spine" / "chdb"))
        logs = files_bytes(home / "logs")
        assert not [s for s in hidden if s.encode() in logs]
    finally:
        proxy.close()


MANIFEST_V1 = '[[rule]]\nname = "card"\ndetect = "card"\naction = "mask"\n'
MANIFEST_V2 = MANIFEST_V1 + '\n[[rule]]\nname = "ids"\npattern = "ID-[0-9]{6}"\naction = "mask"\n'
BROKEN = MANIFEST_V2 + '\n[[rule]]\nname = "oops"\ndetect = "cards"\naction = "mask"\n'


def _send(cluster, body: str) -> None:
    client = Client("reload", sidecar=cluster.sidecar_addr, flush_interval_ms=10)
    client.log(body)
    assert client.flush(20), client.last_error
    client.shutdown(5)


def _fired(cluster, rule: str) -> float:
    return cluster.status("sidecar").get(f"redactions_total{{rule={rule}}}", 0.0)


@pytest.mark.parametrize("how", ["sighup", "watch"])
def test_reload_is_atomic_and_refuses_a_bad_manifest(make_cluster, home: Path, how: str) -> None:
    manifest = home / "redact.toml"
    manifest.write_text(MANIFEST_V1)
    interval = 100 if how == "watch" else 0
    cluster = make_cluster(sidecar={"redact_manifest": "redact.toml", "redact_watch_interval_ms": interval,
                                    "shutdown_timeout_ms": 300})   # no spine to drain to
    cluster.start_sidecar()   # no spine needed: the sidecar redacts before its WAL

    def change(text: str) -> None:
        loads = int(cluster.status("sidecar").get("redact_manifest_loads_total", 0)) + \
            int(cluster.status("sidecar").get("redact_reload_errors_total", 0))
        manifest.write_text(text)
        os.utime(manifest, ns=(loads * 10**9 + 1, loads * 10**9 + 1))   # a distinct mtime every time
        if how == "sighup":
            cluster.sidecar.signal(signal.SIGHUP)
        wait_for(lambda: cluster.status("sidecar").get("redact_manifest_loads_total", 0)
                 + cluster.status("sidecar").get("redact_reload_errors_total", 0) > loads, 20, "the reload")

    _send(cluster, "card 4111 1111 1111 1111 ID-123456")
    assert _fired(cluster, "card") == 1 and _fired(cluster, "ids") == 0
    change(MANIFEST_V2)
    _send(cluster, "ID-654321")
    assert _fired(cluster, "ids") == 1 and _fired(cluster, "card") == 1   # counters survive the swap
    change(BROKEN)
    status = cluster.status("sidecar")
    assert status["redact_reload_errors_total"] == 1 and status["redact_rules"] == 2
    from ben.core.admin import fetch_status
    last = fetch_status(cluster.sidecar_addr, 2.0).last_error
    assert "rule 'oops'" in last and "line 13" in last and "previous one stays in force" in last, last
    _send(cluster, "ID-111111 and 4111111111111111")   # the previous manifest is still in force
    assert _fired(cluster, "ids") == 2 and _fired(cluster, "card") == 2
    assert "line 13" in cluster.sidecar.tail(50)


def test_bad_manifest_refuses_the_start(home: Path) -> None:
    import subprocess
    import sys
    (home / "redact.toml").write_text(BROKEN)
    (home / "ben.toml").write_text(f'[sidecar]\ndata_dir = "data"\nlisten = "unix://{home}/s.sock"\n'
                                   'redact_manifest = "redact.toml"\n')
    out = subprocess.run([sys.executable, "-m", "ben", "sidecar", "--config", str(home / "ben.toml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "rule 'oops'" in out.stderr and "line 13" in out.stderr, out.stderr
    assert not (home / "data").exists()   # refused before anything was opened


def test_default_manifest_keeps_the_corpus_out_of_wal_and_store(make_cluster, home: Path) -> None:
    """The built-in manifest (no redact_manifest) on ben.redact.corpus: every format in a log sentence, a
    gauge's attribute, a metric name, URL-encoded, and in the source's host, subsystem and instance of
    real clients, through a real sidecar and spine into the store."""
    from urllib.parse import quote

    from ben.redact.corpus import secrets as formats

    found = formats(20)
    cluster = make_cluster(spine=PAUSED_SPINE, store=paused_store(home))   # the spine WAL keeps everything at first
    canary = "canary-" + uuid.uuid4().hex[:12]
    hidden = list(found.values())
    cluster.start_sidecar()
    sources = [dict(subsystem="corpus", host=f"node-{found['stripe-secret']}", instance=canary),
               dict(subsystem=f"svc-{found['github-pat']}", host="node-1", instance=canary),
               dict(subsystem="corpus", host="node-2", instance=found["email"])]
    for source in sources:
        client = Client(sidecar=cluster.sidecar_addr, flush_interval_ms=10, **source)
        client.log(f"started {canary}")
        assert client.flush(30), client.last_error
        client.shutdown(5)
    client = Client("corpus", sidecar=cluster.sidecar_addr, flush_interval_ms=10, instance=canary)
    for name, value in found.items():
        client.log(f"upstream returned {value} for {canary}", attrs={"detail": value})
        client.gauge(f"checkout.{value}.total" if "\n" not in value else "checkout.total", 1.0, {"label": value})
        client.log(f"redirect https://example.com/cb?v={quote(value, safe='')} {canary}")
    assert client.flush(30), client.last_error
    client.shutdown(5)

    def no_secret_in(where: str, raw: bytes) -> None:
        leaked = [s for s in hidden if s.encode() in raw or quote(s, safe="").encode() in raw]
        assert not leaked, f"found in the {where}: {leaked}"
        assert canary.encode() in raw, f"positive control: the canary is not in the {where}"

    no_secret_in("sidecar WAL", files_bytes(home / "sidecar"))
    cluster.start_spine()
    wait_for(lambda: cluster.status("sidecar").get("wal_records", 1) == 0, 60, "the sidecar WAL to ship")
    no_secret_in("spine WAL", b"".join(files_bytes(p) for p in (home / "spine").glob("wal-*")))
    cluster.spine.stop()
    write_config(cluster.config, home, cluster.spine_addr)
    cluster.start_spine()
    cluster.wait_drained()
    rows = query_rows(cluster.spine_addr, "SELECT host, subsystem, instance, name, body, attributes.value AS v "
                                          "FROM ben.events WHERE producer_id != ''")
    assert len(rows) == len(sources) + 3 * len(found)
    stored = json.dumps(rows, ensure_ascii=False)
    leaked = [s for s in hidden if s in stored or json.dumps(s)[1:-1] in stored or quote(s, safe="") in stored]
    assert not leaked, leaked
    assert {r["host"] for r in rows} >= {"node-1", "node-2"} and stored.count(canary) >= len(rows) - 1
