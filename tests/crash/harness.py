"""The outside kill -9 harness (scripts/crash_harness.py) as the crash tests run it."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path


def outside_harness():
    """scripts/crash_harness.py, the outside kill -9 harness (a script, not a package module)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "crash_harness.py"
    spec = importlib.util.spec_from_file_location("crash_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run_harness(home, **options) -> dict:
    """Seeded rounds of the outside harness (``BEN_CRASH_SEED`` replays one) at the suite's load; the summary,
    checked for findings, SDK events and OTLP records lost or stored twice."""
    seed = int(os.environ.get("BEN_CRASH_SEED", random.SystemRandom().randrange(1_000_000)))
    print(f"crash harness seed={seed} (BEN_CRASH_SEED={seed} replays this run)")
    summary = outside_harness().run(seed=seed, rate=1_500, otlp_rate=300, home=home / "h", drain_timeout=120, **options)
    print(summary)
    assert not summary["findings"], f"seed={seed}: {summary['findings']}"
    assert summary["sdk_lost"] == summary["sdk_duplicated"] == 0, f"seed={seed}: {summary}"
    assert summary["otlp_lost"] == summary["otlp_duplicated_unexplained"] == summary["otlp_duplicated_after_retry"] == 0, \
        f"seed={seed}: {summary}"
    return summary
