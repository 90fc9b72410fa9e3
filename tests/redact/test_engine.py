"""The engine on columnar batches: rules, nesting, allow-list, provenance, compaction, properties."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ben.core import batch as batch_check
from ben.redact import DEFAULT_MANIFEST, FAILED, REDACTED_KEY, Engine, parse_manifest
from ben.redact.actions import keyed_hash
from ben.sdk.batch import BatchBuilder
from ben.v1 import telemetry_pb2 as pb
from tests.redact.corpus import planted, secrets

KEY = "0123456789abcdef-test-key"
CORPUS = secrets()
EVERY_DETECTOR = "\n".join(
    f'[[rule]]\nname = "r-{name}"\ndetect = "{name}"\naction = "{action}"\n'
    for name, action in zip(CORPUS, ["mask", "hash"] * len(CORPUS)))
HASH = '[hash]\nkey_env = "BEN_TEST_KEY"\n'


def engine(text: str, monkeypatch=None) -> Engine:
    return Engine(parse_manifest(text, need_key=False) if "[hash]" not in text else _keyed(text))


def _keyed(text: str):
    import os
    os.environ["BEN_TEST_KEY"] = KEY
    return parse_manifest(text)


def build(*events: tuple[str, str, dict]) -> pb.Batch:
    b = BatchBuilder(1)
    for i, (name, body, attrs) in enumerate(events):
        b.add(pb.KIND_LOG, name, 0.0, body, attrs, 1000 + i)
    return b.build(pb.Source(host="h", subsystem="s"), "p")


def events(batch: pb.Batch) -> list[tuple[str, str, dict]]:
    s, out, at = batch.strings, [], 0
    for i in range(len(batch.ts_unix_nano)):
        attrs = {s[batch.attr_keys[j]]: s[batch.attr_values[j]] for j in range(at, at + batch.attr_counts[i])}
        at += batch.attr_counts[i]
        out.append((s[batch.names[i]], s[batch.bodies[i]], attrs))
    return out


FIELDS = HASH + """
[[rule]]
name = "auth"
fields = ["attributes.http.request.header.authorization", "attributes.*password*", "body.*password*"]
action = "drop"

[[rule]]
name = "uid"
fields = ["attributes.user.id", "body.user.id"]
action = "hash"

[[rule]]
name = "sql"
fields = ["attributes.db.statement"]
action = "truncate"
max_chars = 10

[[rule]]
name = "route"
fields = ["attributes.http.target"]
action = "mask"
replacement = "/…"

[[rule]]
name = "email"
detect = "email"
action = "mask"
"""


def test_field_rules_on_attributes() -> None:
    e = engine(FIELDS)
    batch = build(("req", "", {"http.request.header.authorization": "Basic dXNlcjpwYXNz", "user.id": "u-1",
                               "db.statement": "SELECT secret_col FROM t WHERE a = 'x@y.io'", "zone": "a",
                               "db.password": "hunter2", "http.target": "/reset?token=abc"}),
                  ("req", "", {"zone": "a"}))
    out = e.apply(batch)
    batch_check.validate(out)
    (_, _, a1), (_, _, a2) = events(out)
    assert a1 == {"user.id": keyed_hash(KEY.encode(), "u-1", 16), "db.statement": "SELECT sec…", "zone": "a",
                  "http.target": "/…", REDACTED_KEY: "auth,uid,sql,route"}
    assert a2 == {"zone": "a"}  # untouched events carry no provenance
    raw = out.SerializeToString()
    for secret in (b"hunter2", b"dXNlcjpwYXNz", b"u-1", b"secret_col", b"token=abc"):
        assert secret not in raw   # the dictionary was compacted
    assert e.counts == {"auth": 2, "uid": 1, "sql": 1, "route": 1}


def test_value_used_in_two_roles_is_redacted_only_where_a_rule_says() -> None:
    e = engine(FIELDS)
    out = e.apply(build(("n", "u-1", {"user.id": "u-1"})))
    [(_, body, attrs)] = events(out)
    assert body == "u-1" and attrs["user.id"].startswith("hmac:")


def test_nested_json_body_and_attribute() -> None:
    e = engine(FIELDS)
    body = json.dumps({"user": {"id": "u-9", "name": "Ann", "db_password": "p4ss"}, "msg": "mail me at a@b.io"})
    attrs = {"payload": json.dumps({"x": {"password": "p4ss"}, "keep": 1})}
    [(_, b, a)] = events(e.apply(build(("login", body, attrs))))
    doc = json.loads(b)
    assert doc["user"] == {"id": keyed_hash(KEY.encode(), "u-9", 16), "name": "Ann"}
    assert doc["msg"] == "mail me at [email]"
    assert json.loads(a["payload"]) == {"x": {}, "keep": 1}
    assert a[REDACTED_KEY] == "auth,uid,email"


def test_allow_list_fails_closed() -> None:
    e = engine('mode = "allow"\nallow = ["http.*", "zone"]\n')
    [(_, _, a1), (_, _, a2)] = events(e.apply(build(("x", "", {"http.route": "/p", "user.email": "a@b.io",
                                                                "secret_thing": "s"}),
                                                   ("x", "", {"zone": "a"}))))
    assert a1 == {"http.route": "/p", REDACTED_KEY: "allow-list"} and a2 == {"zone": "a"}
    assert e.counts == {"allow-list": 2}


def test_nothing_fires_returns_the_same_batch() -> None:
    e = engine(DEFAULT_MANIFEST)
    batch = build(("latency_ms", "", {"route": "/pay"}), ("log", "all good", {}))
    assert e.apply(batch) is batch
    assert e.apply(batch) is batch  # cached the second time


def test_client_cannot_forge_provenance() -> None:
    e = engine(DEFAULT_MANIFEST)
    [(_, _, a)] = events(e.apply(build(("x", "", {REDACTED_KEY: "nothing,really", "k": "v"}))))
    assert a == {"k": "v"}


def test_drop_value_rule_removes_the_field_and_names_survive() -> None:
    e = engine('[[rule]]\nname = "pk"\ndetect = "private_key"\naction = "drop"\n')
    key = CORPUS["private_key"][0]
    [(name, body, a)] = events(e.apply(build((key, f"oops {key}", {"k": key, "z": "1"}))))
    assert (name, body, a) == ("[pk]", "", {"z": "1", REDACTED_KEY: "pk"})


def test_custom_pattern_with_secret_group_and_hash() -> None:
    e = engine(HASH + '[[rule]]\nname = "sess"\npattern = "session=(?P<secret>[a-z0-9]{8,})"\naction = "hash"\n')
    [(_, body, _)] = events(e.apply(build(("x", "GET /?session=abcdef123456 200", {}))))
    assert body == f"GET /?session={keyed_hash(KEY.encode(), 'abcdef123456', 16)} 200"


def test_engine_failure_fails_closed() -> None:
    e = engine(DEFAULT_MANIFEST)
    e.scan = None   # break it
    out = e.apply(build(("x", "card 4111111111111111", {"k": "v"})))
    assert set(out.strings) == {"", FAILED} and e.failures == 1
    batch_check.validate(out)


# -- properties ---------------------------------------------------------------------------------
PLANTABLE = [(name, s) for name, ss in CORPUS.items() for s in ss]
ALL_ON = Engine(parse_manifest(EVERY_DETECTOR + HASH, need_key=False))
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(text.filter(bool), text, st.dictionaries(text, text, max_size=4)), min_size=1,
                     max_size=8))
def test_never_raises_and_output_is_valid(rows) -> None:
    for e in (ALL_ON, engine(FIELDS)):
        out = e.apply(build(*rows))
        assert e.failures == 0, e.last_failure
        assert batch_check.validate(out) == len(rows)


@settings(max_examples=200, deadline=None)
@given(which=st.sampled_from(PLANTABLE), before=text, after=text, where=st.sampled_from(["body", "value", "json"]))
def test_planted_secret_never_gets_through(which, before, after, where) -> None:
    name, secret = which
    pad = " "
    payload = f"{before}{pad}{planted(name, secret)}{pad}{after}"
    row = {"body": ("log", payload, {}), "value": ("log", "", {"k": payload}),
           "json": ("log", json.dumps({"a": {"b": payload}}), {})}[where]
    out = ALL_ON.apply(build(row))
    batch_check.validate(out)
    assert all(secret not in s for s in out.strings), (name, list(out.strings))


def test_a_wallet_shaped_word_too_large_for_its_length_is_not_a_failure() -> None:
    """``'c' + 'z' * 50`` is Base58 for a number of 298 bits where a 51-character key holds 296: the WIF
    check raised OverflowError, and the engine stored the whole batch as "[redaction failed]" (any app
    could blank its own batch, and its neighbours' events in it, with one word)."""
    e = engine(DEFAULT_MANIFEST)
    words = ["c" + "z" * 50, "c" + "z" * 51, "L" + "z" * 50, "9" + "z" * 51]
    out = e.apply(build(*[("x", f"Wallet {w} ok", {"k": w}) for w in words], ("y", "an ordinary line", {})))
    assert FAILED not in out.strings and e.failures == 0
    assert [body for _, body, _ in events(out)][-1] == "an ordinary line"
