"""The outside kill -9 harness at the suite's load: random rounds, the OTLP gate's moments, a SIGHUP reload
(ADR 0046). ``BEN_CRASH_SEED`` replays a run."""

from __future__ import annotations

import pytest

from tests.crash.harness import outside_harness, run_harness


@pytest.mark.timeout(300)
def test_outside_harness_random_kill_rounds_lose_and_duplicate_nothing(home) -> None:
    """A few seeded rounds of the outside harness: processes started and restarted with documented
    commands, SDK and OTLP load, random kill -9 faults (BEN_CRASH_SEED replays one)."""
    quick = tuple(s for s in outside_harness().SCENARIOS  # (ADR 0046: the slow ones and those with a test of their own)
                  if s not in ("backlog", "replay", "checkpoint", "wal-file", "wal-open", "store-part"))
    summary = run_harness(home, rounds=3, scenarios=quick)
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_the_sidecar_at_its_otlp_gate_and_exporters_come_back(home) -> None:
    """Round 4 of the outside harness (ADR 0046): the sidecar killed with a request passing its OTLP/gRPC gate,
    with the gate just listening in its start, and with the gate closed in its SIGTERM drain (one round
    each); after each restart the OTLP exporter is answered again, and in the end every acknowledged record is
    stored once. ``BEN_CRASH_SEED`` replays a run."""
    summary = run_harness(home, rounds=3, scenarios=("otlp-gate",))
    assert summary["faults"] == {"otlp-gate": 3} and summary["otlp_reconnect_s"] is not None, summary
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_a_component_in_its_sighup_reload_after_a_bad_manifest_was_refused(home) -> None:
    """Round 6 of the outside harness (ADR 0046): SIGHUP with a bad redaction manifest is refused (the one in
    force stays, the log says why, the component answers), then SIGHUP with a good new one and SIGKILL 0-50 ms
    into that reload; the restarted component runs the new manifest and nothing acknowledged is lost or stored
    twice. ``BEN_CRASH_SEED`` replays a run."""
    summary = run_harness(home, rounds=1, scenarios=("reload",))
    assert summary["faults"] == {"reload": 1} and summary["sdk_acked"] > 0, summary
