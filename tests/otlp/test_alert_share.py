"""Each OTLP subsystem's share of the alert lane: a token bucket per service.name, bounded in memory."""

from __future__ import annotations

from collections import OrderedDict

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
    assert share.tracked() == 11
    clock.now = 10_000.0  # all full again: the least recently used is forgotten for each new name
    assert share.take("real") and ("", "real") in share._buckets and ("", "made-up-0") not in share._buckets
    assert share.tracked() == 11


def test_one_client_rotating_names_gets_its_own_few_shares_and_no_more() -> None:
    """An application that makes up a new service.name per alert got a full share for each (4,096 at
    least). Now its client (the uid the kernel names) has a share for ``per_client`` names, and one
    more that its further names share; another client's names keep their own."""
    share = AlertShare(rate_per_s=0.001, burst=5, clock=Clock(), per_client=3)
    taken = sum(share.take(f"made-up-{i}", "u65534") for i in range(1_000) for _ in range(5))
    assert taken == (3 + 1) * 5
    assert share.take("payments", "u0")  # another account: its own share
    assert share.tracked() == 3 + 1 + 1


def test_a_new_name_when_every_bucket_is_in_use_costs_no_sweep(monkeypatch) -> None:
    """With MAX_TRACKED buckets held and none refilled, each new name swept all 4,096 of them: 20,000 new
    names took ~10 s of the sidecar's conversion thread. The least recently used one is looked at alone."""
    clock = Clock()
    share = AlertShare(rate_per_s=0.0001, burst=1, clock=clock, per_client=alert_share.MAX_TRACKED)
    for i in range(alert_share.MAX_TRACKED):
        share.take(f"held-{i}")

    class Counting(OrderedDict):
        looked = 0

        def items(self):
            for kv in super().items():
                Counting.looked += 1
                yield kv

    share._buckets = Counting(share._buckets)
    for i in range(20_000):
        assert not share.take(f"new-{i}") or i == 0  # the first takes the shared bucket's one token
    assert Counting.looked <= 2 * 20_000, f"{Counting.looked} buckets looked at for 20,000 new names"
