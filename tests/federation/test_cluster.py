"""Past one NATS server: a JetStream cluster of three, the stream created R3 (``replicas = 3``); a
server killed while summaries flow loses none of them and duplicates none."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import nats
import pytest

from ben.control.keys import generate
from ben.core.config import FederationConfig
from ben.federation import Federation
from ben.store.process import ChdbProcessStore
from tests.federation.conftest import NATS, add_incident, federated_rows, free_port, wait_for


class NatsCluster:
    def __init__(self, root: Path, size: int = 3):
        self.ports = [free_port() for _ in range(size)]
        self.routes = [free_port() for _ in range(size)]
        self.procs: list[subprocess.Popen] = []
        routes = ",".join(f"nats://127.0.0.1:{r}" for r in self.routes)
        for i in range(size):
            self.procs.append(subprocess.Popen(
                [NATS, "-js", "-sd", str(root / f"n{i}"), "-a", "127.0.0.1", "-p", str(self.ports[i]),
                 "--server_name", f"n{i}", "--cluster_name", "ben-test", "--cluster",
                 f"nats://127.0.0.1:{self.routes[i]}", "--routes", routes],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{p}" for p in self.ports]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


async def _stream_replicas(urls: list[str], stream: str) -> int:
    nc = await nats.connect(servers=urls, connect_timeout=2)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.config.num_replicas
    finally:
        await nc.close()


@pytest.mark.timeout(600)
def test_r3_stream_on_a_three_server_cluster_survives_a_server(tmp_path) -> None:
    if not Path(NATS).exists():
        pytest.fail("nats-server is not installed: run scripts/debian-deps.sh")
    cluster = NatsCluster(tmp_path / "js")
    east_key = generate(tmp_path / "keys", "east")
    trust = tmp_path / "trust.toml"
    trust.write_text(f'[clusters.east]\npublic_key = "{east_key.public_text}"\n')
    common = dict(enabled=True, servers=cluster.urls, poll_interval_ms=100, ack_wait_s=2, replicas=3)
    stores = [ChdbProcessStore(tmp_path / "east-chdb"), ChdbProcessStore(tmp_path / "west-chdb")]
    east = Federation(FederationConfig(cluster="east", consume=False, key=east_key.path, **common), tmp_path / "east",
                      stores[0])
    west = Federation(FederationConfig(cluster="west", trust=trust, **common), tmp_path / "west", stores[1])
    try:
        east.start()
        west.start()
        for n in range(5):
            add_incident(stores[0], n=n, subsystem=f"pg-{n}", series="pg latency_ms")
        wait_for(lambda: len(federated_rows(stores[1])) == 5, 90, "5 summaries at west")
        assert asyncio.run(_stream_replicas(cluster.urls, "BEN_FEDERATION")) == 3
        cluster.procs[0].kill()  # one of three: the R3 stream keeps a quorum
        cluster.procs[0].wait(10)
        for n in range(5, 10):
            add_incident(stores[0], n=n, subsystem=f"pg-{n}", series="pg latency_ms")
        wait_for(lambda: len(federated_rows(stores[1])) == 10, 120, "10 summaries at west with a server down")
        rows = federated_rows(stores[1])
        assert len({r["summary_id"] for r in rows}) == 10
    finally:
        for fed in (east, west):
            fed.shutdown(5)
        for store in stores:
            store.close()
        cluster.stop()
