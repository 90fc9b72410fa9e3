"""Round 12 of a new user giving bad input on purpose (ADR 0033): a notebook's Ctrl-C, options that apply only with
another one, options given to the wrong command of a group. In-process (``ben.cli.main``) where no peer is reached."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.cli.test_bad_input import ben as ben_process
from tests.cli.test_bad_input import one_clear_line
from tests.cli.test_bad_input_in_process import ben


def _readme_series() -> tuple[np.ndarray, np.ndarray]:
    """The README's notebook series: one point a minute, p99 from 120 ms to 480 ms at point 1500."""
    ts = 1_767_225_600_000_000_000 + np.arange(2000) * 60_000_000_000
    values = 120 + np.random.default_rng(1).normal(0, 8, 2000)
    values[1500:] += 360
    return ts, values


def test_an_interrupted_update_many_leaves_the_monitor_as_it_was(monkeypatch) -> None:
    """Ctrl-C in a notebook cell running ``mon.update_many(ts, values)`` (10 million points: seconds) left the
    monitor past the points it had run (``mon.points`` 1,887,211 of 10,000,000 after 4 s) without their time: the
    cell run again was taken, and the monitor counted those points twice (11,887,211 points of a 10-million-point
    series), its memories fed time going back. The points run on a copy of the state now, which becomes the
    monitor's at the end: interrupted, the monitor is as it was, and running the cell again gives what one run
    gives."""
    from ben.detect import SeriesMonitor

    ts, values = _readme_series()
    whole = SeriesMonitor("checkout p99").update_many(ts, values)
    assert whole.episodes, "the README's series opens an episode"
    mon = SeriesMonitor("checkout p99")
    real = SeriesMonitor._episode

    def interrupted(self, *args):  # the first episode: the compiled loop has run its points, Python runs again
        raise KeyboardInterrupt

    monkeypatch.setattr(SeriesMonitor, "_episode", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mon.update_many(ts, values)
    monkeypatch.setattr(SeriesMonitor, "_episode", real)
    assert mon.points == 0, mon.points
    again = mon.update_many(ts, values)
    assert mon.points == len(ts) and np.array_equal(again.scores, whole.scores)
    assert [e.summary() for e in again.episodes] == [e.summary() for e in whole.episodes]


def test_an_interrupted_update_many_of_the_detector_bank_leaves_it_as_it_was(monkeypatch) -> None:
    """The same with the detector bank (``SeriesMonitor(name, detectors=...)``, a few thousand points a second):
    300,000 points interrupted after 4 s had 10,256 counted and none of their time; run again, 310,256 points.
    The bank's state is put back as it was when the call does not finish."""
    from ben.detect import SeriesMonitor
    from ben.detect.monitor import DetectorBank, MonitorBank

    n = 3 * DetectorBank.CHUNK + 10
    ts = 1_767_225_600_000_000_000 + np.arange(n) * 60_000_000_000
    values = 120 + np.random.default_rng(1).normal(0, 8, n)
    values[n // 2:] += 300
    whole = SeriesMonitor("x", detectors=("ewma", "cusum")).update_many(ts, values)
    mon = SeriesMonitor("x", detectors=("ewma", "cusum"))
    real, calls = MonitorBank._noise, []

    def interrupted(self, *args, **kwargs):  # Ctrl-C in the third chunk: two chunks of points have been run
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MonitorBank, "_noise", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mon.update_many(ts, values)
    monkeypatch.setattr(MonitorBank, "_noise", real)
    assert int(mon._bank.st.n[0]) == 0
    again = mon.update_many(ts, values)
    assert int(mon._bank.st.n[0]) == n and np.array_equal(again.scores, whole.scores)


def _corpus(root: Path) -> Path:
    (root / "data" / "g").mkdir(parents=True)
    (root / "labels").mkdir()
    rows = "".join(f"{1_767_225_600 + 60 * i},{100 + i % 7}\n" for i in range(200))
    (root / "data" / "g" / "a.csv").write_text("timestamp,value\n" + rows)
    (root / "labels" / "combined_windows.json").write_text("{}")
    return root


def test_an_option_that_applies_only_with_another_is_refused_without_it(monkeypatch, capsys, home: Path) -> None:
    """``ben audit verify --audit-key KEY`` (the key kept apart from the data directory, which the help says is for
    ``--data-dir``) asked the running spine, which verifies with its own key, and printed "audit: intact", exit 0:
    **a verification against the kept key that never happened**. ``ben query --clickhouse-user bob`` without
    ``--clickhouse`` ran the query through the spine as the operator; ``ben bench detect-real CORPUS --files 3
    --seed 4`` without ``--generate`` scored the corpus there, all of it. Each is refused naming both flags."""
    corpus = _corpus(home / "corpus")
    cases = [
        (("audit", "verify", "--audit-key", str(home / "audit.key")), "--audit-key applies only with --data-dir"),
        (("query", "SELECT 1", "--clickhouse-user", "bob"), "--clickhouse-user applies only with --clickhouse"),
        (("bench", "detect-real", str(corpus), "--files", "3", "--seed", "4"),
         "--seed and --files apply only with --generate"),
        (("bench", "detect-real", str(corpus), "--hard"), "--hard applies only with --generate"),
    ]
    failed = []
    for args, words in cases:
        code, out, err = ben(monkeypatch, capsys, home, *args)
        if code != 2 or len(err) != 1 or not err[0].startswith("error: ") or words not in err[0] or out:
            failed.append(f"{args}: exit {code}, {err}, {out[-200:]}")
    assert not failed, "\n".join(failed)
    # the same options with the one they go with are taken as before
    code, out, err = ben(monkeypatch, capsys, home, "bench", "detect-real", str(corpus), "--json")
    assert code == 0 and '"windows": 0' in out, (code, err)


def test_the_listing_s_options_before_a_subcommand_of_incidents_are_refused(monkeypatch, capsys, home: Path) -> None:
    """``ben incidents --spine ADDR label ID real`` (the option where ``ben incidents --spine ADDR`` takes it):
    the listing's options were dropped in silence and the label went to the **default** spine, another cluster's
    or none ("nothing answers at …/spine.sock" of an address not given). ``--json``, ``--limit`` likewise. Refused
    now, naming the options and where they go."""
    for args, named in ((("--spine", f"unix://{home}/other.sock", "label", "inc-1", "real"), "--spine before 'label'"),
                        (("--json", "--limit", "5", "feedback", "inc-1", "helpful"),
                         "--json and --limit before 'feedback' are options of the listing")):
        code, out, err = ben(monkeypatch, capsys, home, "incidents", *args)
        assert code == 2 and len(err) == 1 and named in err[0], err
        assert "ben incidents" in err[0] and "--help" in err[0], err


@pytest.mark.timeout(120)
def test_synth_says_what_the_sidecar_did_not_take_once(home: Path) -> None:
    """``ben synth`` whose sidecar does not acknowledge within ``--flush-timeout`` printed the SDK's "ben sdk:
    shutting down with 3 events not acknowledged by the sidecar (no error seen)" and then its own error line
    saying the same ("… within 1 s (no answer)"): two lines, two wordings. Its own line alone now."""
    with socket.socket(socket.AF_UNIX) as mute:  # listens, takes the connection, never speaks gRPC
        mute.bind(str(home / "mute.sock"))
        mute.listen(8)
        out = ben_process("synth", "--rate", "10", "--duration", "0.5", "--flush-timeout", "1",
                          "--sidecar", f"unix://{home / 'mute.sock'}")
    one_clear_line(out, 1, "events not acknowledged by the sidecar at unix://", "within 1 s")
    assert not [line for line in out.stderr.splitlines() if line.startswith("ben sdk:")], out.stderr


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.timeout(180)  # before: the query ran to its own limit (query_timeout_s, 60 s), then "ben: interrupted"
def test_ctrl_c_cancels_a_query_of_a_stopped_spine_s_store(home: Path) -> None:
    """``ben query --data-dir DIR "SELECT … FROM numbers(100000000000)"`` and Ctrl-C: nothing happened for 55 s
    (chDB held the thread Python hears signals on until the query reached its own time limit), then "ben:
    interrupted". The query runs in a thread of its own now; Ctrl-C cancels it (again until it ends: a cancel
    before the statement started finds nothing to kill): "query interrupted; it was cancelled", 130, as through
    the spine. A real process, SIGINT sent once the query has used CPU seconds of its own (it is running)."""
    import signal
    import subprocess
    import sys
    import time

    from ben.store.chdb import ChdbStore

    ChdbStore(home / "store").close()
    with subprocess.Popen([sys.executable, "-m", "ben", "query", "--data-dir", str(home / "store"),
                           "SELECT sum(cityHash64(number)) FROM numbers(100000000000)"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "BEN_HOME": str(home)},
                          stdin=subprocess.DEVNULL) as proc:
        started = _cpu_seconds(proc.pid)
        deadline = time.monotonic() + 120
        # 1 s of CPU of its own: the query runs (5 s were asked before: at load ~35 that took past the query's own 60 s)
        while proc.poll() is None and _cpu_seconds(proc.pid) < started + 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting on the condition: the query is using CPU (no timing is asserted)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=170)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    one_clear_line(result, 130, "query interrupted; it was cancelled")
    again = ben_process("query", "--data-dir", str(home / "store"), "SELECT 1 AS one", "--json")
    assert again.returncode == 0 and again.stdout.strip() == '[{"one": 1}]', again.stderr  # the store is free


def test_a_detection_timing_key_names_the_config_file_and_the_nearest_key(monkeypatch, capsys, home: Path) -> None:
    """``[spine.detect] timing = {warmup = 5}`` (for ``warmup_s``) said "field 'spine.detect.timing.warmup': unknown
    key; known: " and all nineteen keys, naming no file (every other key of a config names its file and the valid
    key nearest to a misspelt one); ``ben replay -c`` the same. Both now."""
    config = home / "ben.toml"
    config.write_text(f'[spine]\ndata_dir = "{home / "spine"}"\n[spine.detect]\ntiming = {{warmup = 5}}\n')
    for args in (("spine", "--config", str(config)),
                 ("replay", "--from", "2026-12-07T00:00", "--to", "2026-12-07T01:00", "--config", str(config))):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        assert code == 2 and err == [f"error: in {config}, field 'spine.detect.timing.warmup': unknown key; did you "
                                     "mean 'spine.detect.timing.warmup_s'?"], (args, err)
    assert not (home / "spine").exists()


def test_an_sdk_time_in_seconds_says_so_and_by_what_to_multiply(home: Path) -> None:
    """``client.gauge("g", 1.0, ts=int(time.time()))`` (seconds, what most code has at hand; or a JavaScript
    ``Date.now()`` in ms) was refused as "1796653149 is outside [946684800000000000, 4102444800000000000) ns": the
    range, not that the number was seconds. It says which unit it looks like and by what to multiply, as
    ``SeriesMonitor`` does; a number of no such unit is refused as before."""
    import time

    from ben.core.errors import InvalidEventError
    from ben.sdk import Client

    client = Client("api", sidecar=f"unix://{home}/absent.sock", strict=True)
    try:
        for scale, unit, factor in ((1, "seconds", "1_000_000_000"), (1_000, "milliseconds", "1_000_000"),
                                    (1_000_000, "microseconds", "1_000")):
            with pytest.raises(InvalidEventError) as refused:
                client.gauge("g", 1.0, ts=int(time.time() * scale))
            assert refused.value.field == "ts" and f"it looks like {unit} since the epoch" in str(refused.value)
            assert f"multiply by {factor})" in str(refused.value), refused.value
        with pytest.raises(InvalidEventError) as refused:
            client.gauge("g", 1.0, ts=5)
        assert "looks like" not in str(refused.value)
        assert client.gauge("g", 1.0, ts=time.time_ns()) is not None
    finally:
        client.shutdown(timeout=0)
