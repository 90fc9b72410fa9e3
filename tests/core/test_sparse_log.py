"""Refusals logged a line a minute per caller (``ben.core.sparse_log``; ADR 0045, round 15). The real-process
test is ``tests/sidecar/test_guard.py::test_a_stranger_s_refused_calls_write_one_line_not_one_each``."""

from __future__ import annotations

import logging

from ben.core.sparse_log import Sparse


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_key_and_minute_and_the_next_counts_those_left_out(caplog) -> None:
    clock = Clock()
    sparse = Sparse(logging.getLogger("sparse-test"), 60.0, clock)
    with caplog.at_level(logging.WARNING, "sparse-test"):
        for _ in range(500):
            sparse.warning("uid 65534", "refused %s", "x")
        sparse.warning("uid 1000", "refused %s", "y")  # another caller is written at once
        clock.now += 61
        sparse.warning("uid 65534", "refused %s", "x")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["refused x", "refused y",
                     "refused x (and 499 more like it from uid 65534 not logged in the last 61 s)"], lines


def test_a_burst_a_window_at_the_level_asked_then_counted(caplog) -> None:
    """Round 16: lines a peer causes that are not refusals (registrations, attaches) keep their level and take
    ``burst`` lines a window, so an honest start of several subsystems is written whole."""
    clock = Clock()
    sparse = Sparse(logging.getLogger("sparse-burst"), 60.0, clock, burst=3)
    with caplog.at_level(logging.INFO, "sparse-burst"):
        for i in range(100):
            sparse.info("registrations", "attached %d", i)
        clock.now += 60
        sparse.info("registrations", "attached %d", 100)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "attached 0"), (logging.INFO, "attached 1"), (logging.INFO, "attached 2"),
        (logging.INFO, "attached 100 (and 97 more like it from registrations not logged in the last 60 s)")]
