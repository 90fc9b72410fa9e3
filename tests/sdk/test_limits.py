"""Size and type limits at emit (ADR 0033): counted cuts, clear refusals, NaN and inf kept apart, SDK counts in status."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

from ben.cli.procs import query_rows, wait_for
from ben.core.errors import BenError, InvalidEventError
from ben.sdk import Client, limits
from ben.sdk.batch import BatchBuilder
from ben.sdk.buffer import Buffer, FullPolicy
from ben.v1 import telemetry_pb2 as pb

TS = 1_790_000_000 * 10**9


def make(strict: bool = False) -> Buffer:
    return Buffer(100, 50, FullPolicy.DROP, None, lambda: None, strict=strict)


def test_sizes_are_cut_and_counted() -> None:
    buf = make()
    attrs = {f"k{i:03d}": "v" for i in range(limits.MAX_ATTRS + 36)}
    attrs["k000"] = "x" * (limits.MAX_ATTR_VALUE_CHARS + 10)
    assert buf.append(pb.KIND_LOG, "n" * 1000, 1.0, "b" * (limits.MAX_BODY_CHARS + 1), attrs, TS) == 1
    assert buf.append(pb.KIND_METRIC, "m", 1.0, "", {"k" * 500: 1}, TS) == 2
    batch = buf._builders[0].build(pb.Source(subsystem="s"), "p")
    names = {batch.strings[i] for i in batch.names}
    assert names == {"n" * limits.MAX_NAME_CHARS, "m"}
    assert batch.strings[batch.bodies[0]] == "b" * limits.MAX_BODY_CHARS
    assert list(batch.attr_counts) == [limits.MAX_ATTRS, 1]
    assert batch.strings[batch.attr_values[0]] == "x" * limits.MAX_ATTR_VALUE_CHARS
    assert batch.strings[batch.attr_keys[-1]] == "k" * limits.MAX_ATTR_KEY_CHARS
    # name, body, the attribute count, one value, one key
    assert buf.stats.truncated == 5 and buf.stats.invalid == 0


@pytest.mark.parametrize("value, kind", [(b"raw", "bytes"), ({"a": 1}, "dict"), (None, "NoneType"),
                                         ([1, 2], "list"), (object(), "object")])
def test_unsupported_attribute_values_are_refused_not_stored_as_repr(value, kind: str) -> None:
    buf = make()
    assert buf.append(pb.KIND_METRIC, "m", 1.0, "", {"ok": "v", "payload": value}, TS) is None
    assert buf.stats.invalid == 1 and buf.stats.invalid_by_field == {"attrs": 1}
    assert "attrs['payload']" in buf.stats.last_invalid and kind in buf.stats.last_invalid
    assert buf._builders[0] is None  # nothing of it was kept
    with pytest.raises(InvalidEventError, match=r"attrs\['payload'\].*" + kind) as err:
        make(strict=True).append(pb.KIND_METRIC, "m", 1.0, "", {"payload": value}, TS)
    assert isinstance(err.value, BenError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("ts", [1.79e18, -1, 0, 2**70, 4_102_444_800 * 10**9, True, "1790000000000000000"])
def test_bad_timestamps_are_refused_naming_ts(home, ts) -> None:
    client = Client("ts", sidecar=f"unix://{home / 'absent.sock'}", reconnect_max_ms=100)
    strict = Client("ts", sidecar=f"unix://{home / 'absent.sock'}", reconnect_max_ms=100, strict=True)
    try:
        assert client.gauge("m", 1.0, ts=ts) is None
        assert client.stats.invalid_by_field == {"ts": 1} and "'ts'" in client.stats.last_invalid
        with pytest.raises(InvalidEventError, match="argument 'ts'"):
            strict.gauge("m", 1.0, ts=ts)
        assert client.gauge("m", 1.0, ts=TS) == 1  # and the client goes on
    finally:
        client.shutdown(timeout=0.1)
        strict.shutdown(timeout=0.1)


@pytest.mark.parametrize("name, value, field", [("m", True, "value"), ("m", False, "value"),
                                               ("a\nb", 1.0, "name"), ("cpu\tload", 1.0, "name"),
                                               ("x\x1b[2J", 1.0, "name"), ("a\u2028b", 1.0, "name")])
def test_a_flag_is_no_value_and_a_name_is_printable(name: str, value: object, field: str) -> None:
    """``gauge("up", True)`` was stored as 1.0 (a flag where its count belongs); a newline in a series name
    broke every table and log line that shows it (ADR 0033)."""
    buf = make()
    assert buf.append(pb.KIND_METRIC, name, value, "", None, TS) is None
    assert buf.stats.invalid_by_field == {field: 1}, buf.stats.last_invalid
    with pytest.raises(InvalidEventError, match=f"argument '{field}'"):
        make(strict=True).append(pb.KIND_METRIC, name, value, "", None, TS)
    assert make().append(pb.KIND_METRIC, "a b\u00a0\u00e9\u6f22\u200d", 1, "", None, TS) == 1  # spaces, letters


def test_a_name_first_seen_as_a_body_is_still_checked_as_a_name() -> None:
    # the builder's string dictionary holds bodies and values too: a body "a\nb" made the same text pass as
    # a series name later in the batch, unchecked
    buf = make()
    assert buf.append(pb.KIND_LOG, "log", 0.0, "a\nb", {"k": "x\ty"}, TS) == 1
    for name in ("a\nb", "x\ty"):
        assert buf.append(pb.KIND_METRIC, name, 1.0, "", None, TS) is None
    assert buf.stats.invalid_by_field == {"name": 2}, buf.stats.last_invalid
    b = BatchBuilder(1, unprintable_names="replace")
    b.add(pb.KIND_LOG, "log", 0.0, "a\nb", None, TS)
    b.add(pb.KIND_METRIC, "a\nb", 1.0, "", None, TS)
    names = {i: s for s, i in b.strings.items()}
    assert names[b.names[1]] == "a\ufffdb" and names[b.bodies[0]] == "a\nb"


def test_the_builder_refuses_before_changing_any_column() -> None:
    b = BatchBuilder(1)
    with pytest.raises(InvalidEventError):
        b.add(pb.KIND_METRIC, "m", 1.0, "", {"k": b"x"}, TS)
    assert len(b) == 0 and b.ts == [] and b.attr_counts == []


def ben(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


def test_nan_and_infinities_stay_distinct_and_sdk_counts_reach_status(cluster) -> None:
    client = Client("limits", sidecar=cluster.sidecar_addr, flush_interval_ms=20, instance="i1")
    try:
        for name, value in (("v_nan", math.nan), ("v_pinf", math.inf), ("v_ninf", -math.inf), ("v_one", 1.0)):
            assert client.gauge(name, value) is not None
        assert client.gauge("m", 1.0, {"k": b"x"}) is None and client.gauge("m", 1.0, ts=-1) is None
        assert client.log("x" * (limits.MAX_BODY_CHARS + 5)) is not None
        assert client.flush(timeout=60), client.last_error
    finally:
        client.shutdown(timeout=5)
    cluster.wait_drained()
    out = ben("query", "--json", "--spine", cluster.spine_addr,
              "SELECT name, value FROM ben.events WHERE name LIKE 'v\\_%' ORDER BY name")
    assert out.returncode == 0, out.stderr
    assert {r["name"]: r["value"] for r in json.loads(out.stdout)} == {
        "v_nan": "nan", "v_ninf": "-inf", "v_one": 1, "v_pinf": "inf"}
    lengths = query_rows(cluster.spine_addr, "SELECT length(body) AS n FROM ben.events WHERE name = 'info'")
    assert lengths == [{"n": limits.MAX_BODY_CHARS}]

    key = "sdk_events_total{{producer=limits/i1,reason={}}}"
    wait_for(lambda: cluster.status("sidecar").get(key.format("invalid")) == 2, 60, "the SDK's counts at the sidecar")
    status = ben("status", "--json", "--spine", cluster.spine_addr, "--sidecar", cluster.sidecar_addr)
    figures = json.loads(status.stdout)["sidecar"]["figures"]
    assert {f["labels"]["reason"]: f["value"] for f in figures if f["name"] == "sdk_events_total"
            and f["labels"]["producer"] == "limits/i1"} == {"invalid": 2, "truncated": 1}
    table = ben("status", "--spine", cluster.spine_addr, "--sidecar", cluster.sidecar_addr)
    rows = [line for line in table.stdout.splitlines() if "sdk_events_total" in line and "producer=limits/i1" in line]
    assert any(re.search(r"reason=invalid\b.*│\s+2\s+│", line) for line in rows), table.stdout


def test_the_sdk_checks_add_no_heavy_import() -> None:
    out = subprocess.run([sys.executable, "-c", "import sys, ben.sdk; print('numpy' in sys.modules)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_the_server_backend_json_keeps_nan_and_infinities_apart() -> None:
    from ben.store.server import _plain

    assert [_plain(v) for v in (math.nan, math.inf, -math.inf, 1.5)] == ["nan", "inf", "-inf", 1.5]
    assert _plain([math.nan, {"k": -math.inf}]) == ["nan", {"k": "-inf"}]


def test_a_huge_attribute_mapping_is_cut_without_reading_it_all() -> None:
    """A mapping of a million attributes (a whole cache passed by mistake) was copied whole into a list before its
    first 64 were kept: 0.2 s of the caller's thread per event, on the hot path that never blocks (ADR 0007). Only
    the attributes kept are read now (round 10)."""
    from collections.abc import Mapping

    class Counting(Mapping):
        def __init__(self, n: int) -> None:
            self.n, self.read = n, 0

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, key):
            return "v"

        def __iter__(self):
            for i in range(self.n):
                self.read += 1
                yield f"k{i}"

    attrs, buf = Counting(1_000_000), make()
    assert buf.append(pb.KIND_METRIC, "m", 1.0, "", attrs, TS) == 1
    assert attrs.read <= limits.MAX_ATTRS + 1 and buf.stats.truncated == 1, attrs.read
    batch = buf._builders[0].build(pb.Source(subsystem="s"), "p")
    assert list(batch.attr_counts) == [limits.MAX_ATTRS]
