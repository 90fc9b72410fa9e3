"""The spine starts its federation when [spine.federation] is enabled, and stops it with itself."""

from __future__ import annotations

import json

from tests.federation.conftest import wait_for


def test_spine_runs_federation_from_its_config(make_cluster, home, nats_server):
    cluster = make_cluster(spine={"federation": {"enabled": True, "servers": [nats_server.url], "cluster": "east",
                                                 "poll_interval_ms": 100}})
    cluster.start_spine()
    status = home / "spine" / "federation" / "status.json"

    def connected() -> bool:
        try:
            return json.loads(status.read_text())["connected"]
        except (FileNotFoundError, ValueError):
            return False
    wait_for(connected, 60, "the spine's federation to connect to NATS")
    st = json.loads(status.read_text())
    assert st["cluster"] == "east" and st["published"] == 0 and st["outbox_depth"] == 0
    assert (home / "spine" / "federation" / "east.key").exists()
    assert (home / "spine" / "federation" / "pseudonym.key").stat().st_mode & 0o077 == 0
    assert b"BEN_FEDERATION" in nats_server.stream_bytes()   # the stream was created on the server
    cluster.stop()
