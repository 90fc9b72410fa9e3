from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ben.core.batch import BatchError, validate
from ben.sdk.batch import BatchBuilder
from ben.v1 import telemetry_pb2 as pb

SOURCE = pb.Source(host="h", subsystem="s", instance="i")


def good_batch(n: int = 3) -> pb.Batch:
    b = BatchBuilder(1)
    for i in range(n):
        b.add(pb.KIND_METRIC, f"m{i % 2}", float(i), "", {"k": i}, 1000 + i)
    return b.build(SOURCE, "producer")


def test_good_batch() -> None:
    assert validate(good_batch(5)) == 5


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.values.append(1.0), "values"),
        (lambda b: b.kinds.pop(), "kinds"),
        (lambda b: b.names.__setitem__(0, 999), "names"),
        (lambda b: b.attr_keys.append(0), "attr_keys"),
        (lambda b: b.attr_counts.__setitem__(0, 5), "attr_keys"),
        (lambda b: b.kinds.__setitem__(0, 0), "kinds"),
        (lambda b: b.ClearField("strings"), "strings"),
        (lambda b: b.ClearField("producer_id"), "producer_id"),
        (lambda b: setattr(b, "first_event_seq", 0), "first_event_seq"),
        (lambda b: [b.ClearField(f) for f in ("ts_unix_nano", "values", "kinds", "names", "bodies",
                                              "attr_counts", "attr_keys", "attr_values")], "ts_unix_nano"),
    ],
)
def test_contract_violations_name_the_field(mutate, field: str) -> None:
    b = good_batch()
    mutate(b)
    with pytest.raises(BatchError, match=field):
        validate(b)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_validation(data: bytes) -> None:
    try:
        batch = pb.Batch.FromString(data)
    except Exception:  # not a protobuf at all: the gRPC layer refuses it before ben sees it
        return
    try:
        validate(batch)
    except BatchError:
        pass


@given(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 5]), st.text(min_size=1, max_size=8),
                          st.floats(allow_nan=False), st.text(max_size=8),
                          st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)),
                min_size=1, max_size=30))
def test_builder_roundtrip(events) -> None:
    b = BatchBuilder(7)
    for i, (kind, name, value, body, attrs) in enumerate(events):
        b.add(kind, name, value, body, attrs, i)
    batch = pb.Batch.FromString(b.build(SOURCE, "p").SerializeToString())
    assert validate(batch) == len(events)
    strings = list(batch.strings)
    offset = 0
    for i, (kind, name, value, body, attrs) in enumerate(events):
        assert batch.kinds[i] == kind and strings[batch.names[i]] == name and batch.values[i] == value
        assert strings[batch.bodies[i]] == body
        count = batch.attr_counts[i]
        got = {strings[k]: strings[v] for k, v in zip(batch.attr_keys[offset:offset + count],
                                                       batch.attr_values[offset:offset + count])}
        assert got == attrs
        offset += count
    assert b.last_seq == 7 + len(events) - 1


def test_bad_arguments_leave_columns_consistent() -> None:
    b = BatchBuilder(1)
    b.add(1, "ok", 1.0, "", None, 1)
    for bad in [(1, "", 1.0, "", None, 2), (1, "x", "not a number", "", None, 2), (1, "x", 1.0, "", {3: "v"}, 2),
                (1, "x", 1.0, "", ["not", "a", "mapping"], 2), (1, 5, 1.0, "", None, 2)]:
        with pytest.raises((TypeError, ValueError, AttributeError)):
            b.add(*bad)
    b.add(1, "ok2", 2.0, "", {"a": "b"}, 3)
    assert validate(b.build(SOURCE, "p")) == 2
