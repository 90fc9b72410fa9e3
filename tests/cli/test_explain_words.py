"""``ben explain`` as a newcomer reads it (ADR 0033, round 6): the evidence in words and units, numbers
that are none or huge shown as such, stored text that could drive the terminal shown escaped, ids that
cannot be an incident's refused in one short line."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import pytest
from rich.console import Console

from ben.cli import main, printable
from ben.cli.incidents import print_explained

ESC_SERIES = "checkout-api latency_ms{route=\x1b]0;pwned\x07\x1b[31m/pay\u202e}"
INCIDENT = {"id": "inc-3f2a9c0d1e", "subsystem": "checkout-api", "state": "resolved", "severity": "high",
            "opened_ts": 1_765_000_000 * 10**9, "resolved_ts": 1_765_000_024 * 10**9,
            "narrative": f"{ESC_SERIES} rose from 120 ms to 440 ms at 05:46:40 UTC"}
LEVEL = {"band": 2.41, "drift_z": 0.61, "evidence": 642.0, "expected": 123.0, "flat_intervals": 0.0, "kl": 0.429,
         "level_z": 0.941, "sigma": 442.0, "sustained_z": 0.639}


def explained(anomalies: list[dict], commands: list[dict] | None = None) -> str:
    out = io.StringIO()
    print_explained(Console(file=out, width=400, emoji=False, color_system=None), INCIDENT, anomalies,
                    commands or [], [])
    return out.getvalue()


def anomaly(**over) -> dict:
    row = {"id": "an-5490ee19ee22", "series": "checkout-api latency_ms{route=/pay}", "name": "latency_ms",
           "start_ts": 1_765_000_000 * 10**9, "end_ts": 1_765_000_016 * 10**9, "baseline": 120.2,
           "observed": 439.9, "score": 0.985, "evidence": json.dumps({"level": LEVEL}, sort_keys=True),
           "sentence": "checkout-api latency_ms{route=/pay} rose from 120 ms to 440 ms"}
    return {**row, **over}


def test_the_evidence_is_words_with_units_not_field_names() -> None:
    text = explained([anomaly()])
    for raw in ("level_z=", "drift_z=", "kl=", "band=", "flat_intervals", "sustained_z=", "expected="):
        assert raw not in text, text  # the raw keys were printed: "level band=2.41, drift_z=0.61, ..."
    for said in ("baseline 120 ms, observed 440 ms", "442 sigma from normal at its peak", "expected 123 ms",
                 "normal band ± 2.4 ms", "surprise 642 nats", "distribution change 0.429 (KL divergence)",
                 "2025-12-06 05:46:40 UTC -> 2025-12-06 05:46:56 UTC"):
        assert said in text, (said, text)


def test_numbers_that_are_none_or_huge_and_odd_rows_are_readable() -> None:
    rows = [anomaly(baseline="nan", observed=1e300, score="inf", end_ts=0,
                    evidence=json.dumps({"cusum": {"sigma": math.inf, "points": 14}, "level": {"new_key": 1.5}})),
            anomaly(id="an-2", evidence="{not json", start_ts=2**63 - 1, observed=None)]
    text = explained(rows)
    for bad in ("nan", "inf", "1e+300", "None", "NaN", "000,000,000"):
        assert bad not in text.replace("Infinity", "").lower().replace("n/a", ""), (bad, text)
    for said in ("baseline n/a, observed 1 × 10^300 ms, score n/a", "-> still open", "CUSUM: n/a sigma",
                 "over 14 points", "level: new_key = 1.5", "stored evidence (not JSON)"):
        assert said in text, (said, text)


def test_stored_text_that_would_drive_the_terminal_is_shown_escaped() -> None:
    text = explained([anomaly(series=ESC_SERIES)], [{"id": "cmd-1", "action": "throttle_job", "target": "t\x1b[2J",
                                                   "state": "done", "updated_ts": 1, "reason": "r\x07"}])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)
    assert "\\x1b]0;pwned\\x07\\x1b[31m/pay\\u202e" in text and "t\\x1b[2J" in text
    assert printable("é 中 a\u00a0b x\u200dy") == "é 中 a\u00a0b x\u200dy"  # letters, spaces, joiners stay


def ben(monkeypatch, capsys, home: Path, *args: str) -> tuple[int, list[str]]:
    monkeypatch.setenv("BEN_HOME", str(home))
    monkeypatch.setattr(sys, "argv", ["ben", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("given, said", [
    ("inc-" + "a" * 5000, "... (5004 characters): expected an id such as inc-"),
    ("ïnç-١٢٣", "'ïnç-١٢٣': expected an id such as inc-"),
    ("inc-\x1b[2J", "'inc-\\x1b[2J': expected"),
    ("cmd-0011223344556677", "is a command's id: ben command list shows it"),
])
def test_an_id_no_incident_can_have_is_one_short_line(monkeypatch, capsys, tmp_path, given, said) -> None:
    code, err = ben(monkeypatch, capsys, tmp_path, "explain", "--spine", f"unix:{tmp_path}/none.sock", given)
    assert code == 2 and len(err) == 1 and said in err[0] and len(err[0]) < 300, err


def test_byte_amounts_are_said_in_kb_mb_gb() -> None:
    """ADR 0012, 2026-12-07: memory that went from 500 MB to 2 GB read "baseline 500,510,451 bytes, observed
    1,999,371,272 bytes" (ten digits to count at 3 a.m.); the narrative above it says "from 501 MB to 2.0 GB"."""
    text = explained([anomaly(series="cache mem_bytes", name="mem_bytes", baseline=500_510_451.0,
                              observed=1_999_371_272.0, evidence="{}")])
    assert "baseline 501 MB, observed 2.0 GB" in text, text


def test_a_detector_s_phrases_say_byte_amounts_in_kb_mb_gb_too() -> None:
    """The detector's own phrase under the narrative still read "expected 621,395,754 bytes" (ADR 0012, 2026-12-07:
    reported by the operator's reading, fixed at the merge: ``ben.detect.words.scaled`` serves both)."""
    from ben.detect.words import detector_phrase

    said = detector_phrase("calibrated", {"expected": 621_395_754.0, "band": 2_400_000.0, "sigma": 9.0}, "bytes")
    assert "expected 621 MB" in said and "2.4 MB" in said and "621,395,754" not in said, said


def test_the_stored_unit_is_said_and_sigma_is_defined_once() -> None:
    """ADR 0012, 2026-12-07 round 2: an OTLP p99 in seconds read "baseline 0.113, observed 0.915" (the unit was
    lost), a counter's rate had no "per s", and "442 sigma" was nowhere defined for whoever reads it."""
    from ben.detect.words import SIGMA_SAID

    p99 = anomaly(series="api http.server.request.duration.p99", name="http.server.request.duration.p99",
                  baseline=0.113, observed=0.915, unit="s")
    rate = anomaly(id="an-2", series="api http.server.requests", name="http.server.requests", baseline=10.2,
                   observed=30.2, unit="requests per s")
    text = explained([p99, rate])
    assert "baseline 0.113 s, observed 0.915 s" in text and "expected 123 s" in text, text
    assert "baseline 10.2 requests per s, observed 30.2 requests per s" in text, text
    assert text.count(SIGMA_SAID) == 1, text
    old = explained([anomaly(unit="")])  # a row from before the unit column: the name's suffix, as before
    assert "baseline 120 ms, observed 440 ms" in old, old
    quiet = explained([anomaly(evidence="{}", sentence="x changed its distribution around 3")])
    assert SIGMA_SAID not in quiet, quiet  # no sigma shown: nothing to define
