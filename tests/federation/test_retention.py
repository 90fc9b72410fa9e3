"""ben.federated_incidents keeps received summaries retention_days (a TTL on received_ts, set at start)."""

from __future__ import annotations

from ben.control.keys import generate
from ben.core.config import FederationConfig
from ben.federation import Federation
from ben.store import retention
from ben.store.process import ChdbProcessStore
from ben.store.schema import FEDERATED_INCIDENTS


def _ttl(store) -> str:
    return retention.current_ttl(store, FEDERATED_INCIDENTS)


def test_federated_incidents_ttl_follows_the_config(tmp_path, nats_server) -> None:
    assert FederationConfig().retention_days == 90
    key = generate(tmp_path / "keys", "west")
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        assert _ttl(store) == ""  # migration 7 made the table without one
        for days, expected in ((None, 90), (7, 7), (0, None)):
            extra = {} if days is None else {"retention_days": days}
            fed = Federation(FederationConfig(enabled=True, cluster="west", servers=[nats_server.url], key=key.path,
                                              **extra), tmp_path / "west", store)
            fed.start()
            fed.shutdown(5)
            ttl = _ttl(store)
            assert retention.ttl_days(ttl) == expected, ttl
            if expected:
                assert "received_ts" in ttl
    finally:
        store.close()
