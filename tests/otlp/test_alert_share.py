"""Each OTLP subsystem's share of the alert lane: a token bucket per service.name, bounded in memory."""

from __future__ import annotations

from ben.otlp import alert_share
from ben.otlp.alert_share import AlertShare


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_subsystem_gets_its_burst_then_its_rate_and_others_keep_theirs() -> None:
    clock = Clock()
    share = AlertShare(rate_per_s=2.0, burst=3, clock=clock)
    assert [share.take("chatty") for _ in range(5)] == [True, True, True, False, False]
    assert share.take("payments")  # another subsystem's share is its own
    clock.now = 1.0  # two tokens back a second, never more than the burst
    assert [share.take("chatty") for _ in range(3)] == [True, True, False]
    assert share.demoted == 3 and share.demoted_by == {"chatty": 3}


def test_made_up_names_are_bounded_in_memory_and_share_one_bucket(monkeypatch) -> None:
    monkeypatch.setattr(alert_share, "MAX_TRACKED", 10)
    clock = Clock()
    share = AlertShare(rate_per_s=0.001, burst=1, clock=clock)
    for i in range(10):
        assert share.take(f"made-up-{i}")  # each spends its one token: none is full, none is forgotten
    assert share.take("made-up-10") and not share.take("made-up-11")  # past the bound: one shared bucket
    assert len(share._buckets) == 11
    clock.now = 10_000.0  # all full again: forgotten, room for new names
    assert share.take("real") and set(share._buckets) == {alert_share.SHARED, "real"}
