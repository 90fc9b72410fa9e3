"""Federation end to end over a real nats-server (JetStream) between two clusters' real stores."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time

import nats
import pytest

from ben.control import canonical
from ben.control.keys import generate
from ben.core.config import FederationConfig
from ben.federation import Federation
from ben.federation.summary import seal
from ben.store.process import ChdbProcessStore
from tests.federation.conftest import add_incident, federated_rows, wait_for

# What must never leave a cluster: host names, IPs, service names, attribute values, log phrases.
SEEDS = ["pg-primary-eu7.corp.example", "10.42.17.201", "checkout-payments-svc", "tenant=acme-gmbh-4471",
         "ERROR disk quota exceeded for user mallard"]


@contextlib.contextmanager
def east_and_west(tmp_path, nats_server, **options):
    """east publishes, west consumes (and trusts east); each with its own store process; ``options`` are both
    links' (FederationConfig fields). Yields (east, west, east's key)."""
    east_key = generate(tmp_path / "keys", "east")
    trust = tmp_path / "west-trust.toml"
    trust.write_text(f'[clusters.east]\npublic_key = "{east_key.public_text}"\n')
    common = dict(enabled=True, servers=[nats_server.url], poll_interval_ms=100, ack_wait_s=2, **options)
    stores = [ChdbProcessStore(tmp_path / "east-chdb"), ChdbProcessStore(tmp_path / "west-chdb")]
    east = Federation(FederationConfig(cluster="east", consume=False, key=east_key.path, **common),
                      tmp_path / "east", stores[0])
    west = Federation(FederationConfig(cluster="west", trust=trust, **common), tmp_path / "west", stores[1])
    east.start()
    west.start()
    try:
        yield east, west, east_key
    finally:
        for fed in (east, west):
            fed.shutdown(5)
        for store in stores:
            store.close()


@pytest.fixture
def clusters(tmp_path, nats_server):
    """east publishes, west consumes (and trusts east); each with its own store process."""
    with east_and_west(tmp_path, nats_server) as pair:
        yield pair


def _seeded(store, n: int, **kw) -> str:
    seed = SEEDS[n % len(SEEDS)]
    return add_incident(store, n=n, subsystem=f"{SEEDS[0]}-{n}", series=f"{SEEDS[2]} latency_ms{{{SEEDS[3]}}}",
                        narrative=f"{seed}; {SEEDS[4]} on {SEEDS[1]}", **kw)


def test_every_change_arrives_once_anonymised_through_a_nats_restart(clusters, nats_server):
    east, west, _ = clusters
    for n in range(5):
        _seeded(east.store, n)
    wait_for(lambda: len(federated_rows(west.store)) == 5, 60, "5 summaries at west")

    nats_server.kill()                                   # NATS down while incidents open and resolve
    for n in range(5, 10):
        _seeded(east.store, n)
    for n in range(3):
        _seeded(east.store, n, state="resolved", resolved_ns=1_780_000_000_000_000_000 + n * 60 * 10**9 + 600 * 10**9)
    wait_for(lambda: east.outbox.depth == 8, 30, "8 summaries waiting in east's outbox")
    nats_server.start()
    wait_for(lambda: len(federated_rows(west.store)) == 13, 60, "13 summaries at west after the restart")

    rows = federated_rows(west.store)
    assert len({r["summary_id"] for r in rows}) == 13                      # none twice
    assert sorted(r["change"] for r in rows) == ["opened"] * 10 + ["resolved"] * 3
    assert {r["cluster"] for r in rows} == {"east"} and {r["duration_bucket"] for r in rows} >= {"5-30m"}
    stored = repr(rows).encode()
    on_disk = nats_server.stream_bytes()
    assert b"ben.federation.east.opened" in on_disk                        # the stream files are the ones read
    for seed in SEEDS + [f"{SEEDS[0]}-3", "inc-0000000003"]:
        for part in (seed, *seed.replace("=", " ").split()):
            if len(part) >= 5:
                assert part.encode() not in on_disk, f"{part!r} in the NATS stream files"
                assert part.encode() not in stored, f"{part!r} in the peer's table"
    wait_for(lambda: west.status()["received"] == 13, 60, "west's received count")
    assert east.status()["published"] == 13, east.status()
    assert west.status()["peers"]["east"]["received"] == 13 and west.status()["lag"] == 0
    west._write_status()
    out = subprocess.run([sys.executable, "-m", "ben", "federation", "status", "--data-dir", str(west.dir.parent)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "received 13" in out.stdout and "peer east: 13 summaries" in out.stdout and "rejected 0" in out.stdout
    missing = subprocess.run([sys.executable, "-m", "ben", "federation", "status", "--data-dir", "/"],  # no status
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no federation status" in missing.stderr


def test_forged_altered_replayed_and_unknown_summaries_are_rejected(clusters, nats_server, tmp_path, caplog):
    east, west, east_key = clusters
    mallory = generate(tmp_path / "keys", "mallory")
    _seeded(east.store, 1)
    wait_for(lambda: len(federated_rows(west.store)) == 1, 60, "the genuine summary at west")
    genuine_id = federated_rows(west.store)[0]["summary_id"]
    body = {"change": "opened", "severity": "low", "anomalies": 1}
    valid = seal(east_key, summary_id=genuine_id, cluster="east", body=body)
    altered = canonical.decode(seal(east_key, summary_id="s-altered", cluster="east", body=body))
    altered["summary"]["body"]["severity"] = "critical"
    attacks = [("ben.federation.east.opened", seal(mallory, summary_id="s-forged", cluster="east", body=body), "f"),
               ("ben.federation.east.opened", canonical.encode(altered), "a"),
               ("ben.federation.mallory.opened", seal(mallory, summary_id="s-m", cluster="mallory", body=body), "u"),
               ("ben.federation.east.opened", valid, "r")]   # a stored summary id again, as a new message

    async def publish():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        for subject, data, msg_id in attacks:
            await js.publish(subject, data, headers={"Nats-Msg-Id": f"attack-{msg_id}"})
        await nc.close()

    with caplog.at_level(logging.WARNING, logger="ben.federation"):
        asyncio.run(publish())
        wait_for(lambda: sum(west.rejected.values()) == 4, 30, "4 rejections")
    assert dict(west.rejected) == {"bad_signature": 2, "unknown_cluster": 1, "replayed": 1}
    assert len(federated_rows(west.store)) == 1 and west.received == 1
    assert sum("rejected a summary" in r.getMessage() for r in caplog.records) == 4
    wait_for(lambda: west.status()["lag"] == 0, 60, "the rejected messages acked (no redelivery)")


def test_a_trusted_peer_s_poisoned_summaries_are_rejected_and_others_still_arrive(clusters, nats_server, caplog):
    """ADR 0045, round 7: a summary signed by a trusted cluster (its key stolen, or its code broken) with a
    count that is a JSON ``true`` passed the type check (a bool is an int) and failed the batch's insert:
    redelivered for ever, with every summary fetched beside it. A negative count and a date ten days ahead
    were stored as they came. Now each is rejected and acked, and the genuine summaries beside them arrive."""
    east, west, east_key = clusters
    now = int(time.time())
    poisoned = [({"change": "opened", "severity": "low", "anomalies": True}, now, "bool"),
                ({"change": "opened", "severity": "low", "anomalies": -7}, now, "negative"),
                ({"change": "opened", "severity": "low", "anomalies": 1}, now + 10 * 86_400, "future")]
    genuine = [({"change": "opened", "severity": "low", "anomalies": n}, now, f"ok-{n}") for n in range(3)]

    async def publish():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        for body, published, name in poisoned + genuine:  # one batch at west: the genuine ones beside the rest
            await js.publish("ben.federation.east.opened",
                             seal(east_key, summary_id=f"s-{name}", cluster="east", body=body, published=published),
                             headers={"Nats-Msg-Id": f"poison-{name}"})
        await nc.close()

    with caplog.at_level(logging.WARNING, logger="ben.federation"):
        asyncio.run(publish())
        wait_for(lambda: len(federated_rows(west.store)) == 3, 30, "the genuine summaries beside the poisoned ones")
    wait_for(lambda: sum(west.rejected.values()) == 3, 30, "3 rejections")
    assert dict(west.rejected) == {"malformed": 2, "future": 1}
    assert {r["summary_id"] for r in federated_rows(west.store)} == {"s-ok-0", "s-ok-1", "s-ok-2"}
    wait_for(lambda: west.status()["lag"] == 0, 60, "the rejected messages acked (no redelivery)")


def test_a_message_larger_than_any_summary_is_refused_by_the_stream(clusters, nats_server):
    """ADR 0045 round 9: the stream took any message up to the server's ``max_payload`` (1 MB by default), and a
    consumer fetches 1,000 at once: a peer publishing 1,000 of them put ~1 GB in each spine. Now the stream ben
    makes (or brings to its configuration: a stream made before is updated) refuses one over a summary's size."""
    from nats.js.errors import APIError

    from ben.federation.link import MAX_MESSAGE_BYTES

    east, west, east_key = clusters
    _seeded(east.store, 1)
    wait_for(lambda: len(federated_rows(west.store)) == 1, 60, "a genuine summary (the stream made)")

    async def attack():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        before = (await js.stream_info("BEN_FEDERATION")).state.messages
        with pytest.raises(APIError) as refused:
            await js.publish("ben.federation.east.opened", b"x" * (MAX_MESSAGE_BYTES + 1), headers={"Nats-Msg-Id": "big"})
        fits = seal(east_key, summary_id="s-fits", cluster="east", body={"change": "opened", "severity": "low",
                                                                          "anomalies": 1})
        await js.publish("ben.federation.east.opened", fits, headers={"Nats-Msg-Id": "fits"})
        after = (await js.stream_info("BEN_FEDERATION")).state.messages
        await nc.close()
        return refused.value, before, after

    refused, before, after = asyncio.run(attack())
    assert "maximum message size" in str(refused).lower() or refused.err_code == 10054, refused
    assert after == before + 1  # only the one that fits
    wait_for(lambda: len(federated_rows(west.store)) == 2, 60, "the summary that fits")


def test_a_stream_made_before_is_brought_to_the_message_bound(nats_server, tmp_path):
    """The same, on a stream an older ben made (no ``max_msg_size``): adding it again with the bound was refused
    by the server (another configuration), so the stream is updated instead."""
    from nats.js.api import StorageType, StreamConfig

    from ben.federation.link import MAX_MESSAGE_BYTES

    async def old_stream(check: bool = False):
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        if check:
            size = (await js.stream_info("BEN_FEDERATION")).config.max_msg_size
        else:
            await js.add_stream(StreamConfig(name="BEN_FEDERATION", subjects=["ben.federation.>"],
                                             storage=StorageType.FILE, max_age=float(7 * 86_400)))
            size = None
        await nc.close()
        return size

    asyncio.run(old_stream())
    key = generate(tmp_path / "keys", "east")
    store = ChdbProcessStore(tmp_path / "chdb")
    fed = Federation(FederationConfig(cluster="east", consume=False, key=key.path, enabled=True,
                                      servers=[nats_server.url], poll_interval_ms=100), tmp_path / "east", store)
    fed.start()
    try:
        wait_for(lambda: asyncio.run(old_stream(check=True)) == MAX_MESSAGE_BYTES, 30, "the stream updated")
        assert not fed.last_error, fed.last_error
    finally:
        fed.shutdown(5)
        store.close()


def test_a_peer_s_flood_is_bounded_by_the_stream_s_size_and_later_summaries_arrive(tmp_path, nats_server):
    """ADR 0045 round 10: the stream ben makes had no size bound, only ``max_age_s`` (30 days): any peer allowed to
    publish on the subjects (its summaries signed by no trusted key, so every consumer rejects them) kept the NATS
    server's disk for a month. Now ``stream_max_bytes`` bounds it, the oldest discarded first, and a genuine
    summary published after the flood still arrives."""
    with east_and_west(tmp_path, nats_server, stream_max_bytes=1 << 20) as (east, west, _):
        _seeded(east.store, 1)
        wait_for(lambda: len(federated_rows(west.store)) == 1, 60, "a genuine summary (the stream made)")

        async def flood() -> tuple[int, int]:
            nc = await nats.connect(nats_server.url)
            js = nc.jetstream()
            for n in range(48):  # 3 MB of 64 KB messages, each a distinct id
                await js.publish("ben.federation.mallory.opened", b"{" + b" " * (63 << 10) + b"}",
                                 headers={"Nats-Msg-Id": f"flood-{n}"})
            state = (await js.stream_info("BEN_FEDERATION")).state
            await nc.close()
            return state.bytes, state.messages

        stored, messages = asyncio.run(flood())
        assert stored <= 1 << 20 and messages < 48, (stored, messages)
        _seeded(east.store, 2)
        wait_for(lambda: len(federated_rows(west.store)) == 2, 60, "the summary published after the flood")
