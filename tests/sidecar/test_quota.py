"""WAL quotas: routine data is refused first, alerts keep their reserve, nothing acknowledged is evicted."""

from __future__ import annotations

import time

from ben.cli.procs import query_rows, wait_for
from ben.sdk import Client

MiB = 1 << 20
QUOTA = {"wal_max_bytes": 4 * MiB, "wal_alert_reserve_bytes": 1 * MiB, "wal_anomaly_reserve_bytes": MiB // 2}
ROUTINE_LIMIT = 4 * MiB - MiB - MiB // 2


def stored(spine: str, producer: str) -> dict:
    return query_rows(spine, f"SELECT count() AS n, uniqExact(producer_seq) AS uniq FROM ben.events "
                             f"WHERE producer_id = '{producer}'")[0]


def test_full_wal_refuses_routine_first_and_keeps_room_for_alerts(make_cluster) -> None:
    cluster = make_cluster(sidecar=QUOTA, spine={"store": {"alert_delay_window_s": 3600}})
    cluster.start()
    cluster.spine.stop()  # the spine is down: everything stays in the sidecar WAL
    routine = Client("quota", sidecar=cluster.sidecar_addr, max_buffer_events=5_000, max_batch_events=250,
                     flush_interval_ms=20)
    i = 0
    # Unique ~120-byte bodies, so the dictionary encoding cannot shrink them. The SDK's buffer may
    # fill (and drop) before the WAL quota refuses anything when the sidecar acknowledges slower
    # than this loop emits (it redacts every unique body): go on until both happened.
    while (routine.stats.dropped_full == 0 or routine.stats.backpressure == 0) and i < 400_000:
        routine.log(f"{i:09d} " + "x" * 110, level="info")
        i += 1
        if i % 1000 == 0:
            time.sleep(0.005)  # pace the producer: leave the exporter the GIL now and then
    side = cluster.status("sidecar")
    assert routine.stats.backpressure > 0 and routine.stats.dropped_full > 0, routine.stats
    assert side["refused_total{reason=quota}"] > 0
    assert side["wal_bytes"] <= ROUTINE_LIMIT  # routine stopped below its limit, the reserves are untouched

    # A caller that asked to block waits (up to its timeout) instead of dropping at once.
    # (Its batches are bigger than the routine client's, so they cannot fit in what is left.)
    blocking = Client("quota-block", sidecar=cluster.sidecar_addr, max_buffer_events=500, max_batch_events=250,
                      flush_interval_ms=10, full_policy="block", block_timeout_ms=300)
    for n in range(500):
        assert blocking.log(f"b{n:06d} " + "y" * 150) is not None
    started = time.monotonic()
    assert blocking.log("one too many") is None
    assert time.monotonic() - started >= 0.3 and blocking.stats.dropped_full == 1

    # Alerts still get in: they have a reserve of their own.
    alerts = Client("quota-alerts", sidecar=cluster.sidecar_addr, max_batch_events=10, flush_interval_ms=10)
    for n in range(50):
        alerts.alert("disk_full", f"alert {n}")
    assert alerts.flush(timeout=30), alerts.last_error
    assert alerts.stats.acked == 50
    assert cluster.status("sidecar")["wal_records{lane=alert}"] > 0

    # The spine comes back: the WAL drains, the refused routine data is resent, nothing is lost.
    acked_before = routine.stats.acked
    cluster.start_spine()
    assert routine.flush(timeout=120), routine.last_error
    assert blocking.flush(timeout=60), (blocking.stats, blocking.last_error, blocking.buffered, cluster.status("sidecar"))
    cluster.wait_drained()
    assert routine.stats.acked > acked_before
    for client in (routine, blocking, alerts):
        got = stored(cluster.spine_addr, client.producer_id)
        assert got["n"] == got["uniq"] == client.stats.acked == client.stats.emitted, (client.source, got)
        client.shutdown()
    # The spine's summary of alert delays (event time to stored) counts the time the alerts waited.
    spine = cluster.status("spine")
    assert spine["alert_store_delay_seconds{quantile=1}"] >= spine["alert_store_delay_seconds{quantile=0.5}"] > 0
