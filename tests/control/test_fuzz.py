"""Property-based fuzzing of envelopes against the sidecar's gate (in-process, real RocksDB):
it never raises, and it never runs a command that is not valid, trusted and allowed."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ben.control import canonical
from ben.control.documents import Envelope, Receipt, Signed, make_envelope, now_ns
from ben.core.errors import ControlError
from tests.control.test_gate import Bench


@pytest.fixture(scope="module")
def fuzz_bench():
    home = Path(tempfile.mkdtemp(prefix="bf-", dir="/tmp"))
    bench = Bench(home, with_policy=False)
    yield bench
    bench.db.close()
    shutil.rmtree(home, ignore_errors=True)


def _check(bench: Bench, signed: Signed) -> Receipt:
    before = len(bench.ran)
    out = asyncio.run(bench.gate.handle(signed, []))  # must never raise
    receipt = Receipt.parse(out.body)
    if len(bench.ran) > before:  # it ran: then it must be valid, trusted and allowed
        assert receipt.status == "accepted"
        env, trusted = bench.gate.verifier.envelope(signed, now_ns())
        assert env.id == bench.ran[-1] and env.target in bench.routes
    else:
        assert receipt.status == "refused", receipt
    return receipt


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=30)
    | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)

FIELDS = ("id", "action", "target", "params", "issuer", "issued_at", "expires_at", "nonce", "seq", "reason",
          "incident_id", "kind")
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.binary(max_size=400), signature=st.binary(max_size=80))
def test_random_bytes_are_refused(fuzz_bench: Bench, body: bytes, signature: bytes) -> None:
    assert _check(fuzz_bench, Signed(body, signature)).status == "refused"


@FUZZ
@given(field=st.sampled_from(FIELDS), value=json_values, drop=st.booleans(), signer=st.sampled_from(
    ["alice", "bot", "victor", "stranger"]))
def test_validly_signed_mutated_envelopes_never_run_unless_valid(fuzz_bench: Bench, field: str, value, drop: bool,
                                                                 signer: str) -> None:
    key = getattr(fuzz_bench.setup, signer)
    env, _ = make_envelope(key, "ping", "shop", {}, "fuzz", seq=1)
    doc = env.to_dict()
    if drop:
        doc.pop(field, None)
    else:
        doc[field] = value
    try:
        body = canonical.encode(doc)
    except ValueError:
        body = json.dumps(doc, default=str).encode()  # not canonical: must be refused as malformed
    _check(fuzz_bench, Signed(body, key.sign(body)))


@FUZZ
@given(data=st.data())
def test_any_change_to_signed_bytes_is_refused(fuzz_bench: Bench, data) -> None:
    _, signed = make_envelope(fuzz_bench.setup.alice, "ping", "shop", {}, "fuzz", seq=2)
    body = bytearray(signed.body)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    if bytes(body) == signed.body:
        return
    receipt = _check(fuzz_bench, Signed(bytes(body), signed.signature))
    assert receipt.code in ("bad_signature", "malformed", "unknown_key"), receipt


def test_parse_reads_exactly_the_signed_bytes() -> None:
    from ben.control.keys import Signer
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = Signer(Ed25519PrivateKey.generate())
    env, signed = make_envelope(signer, "set_mode", "shop", {"mode": "normal"}, "why", seq=3)
    assert Envelope.parse(signed.body) == env and env.body() == signed.body
    for bad in (signed.body + b" ", b" " + signed.body, signed.body.replace(b'"seq":3', b'"seq":3.0'),
                signed.body.replace(b'{"action"', b'{"seq":4,"action"')):
        with pytest.raises(ControlError) as info:
            Envelope.parse(bad)
        assert info.value.reason == "malformed"
