"""The fast path (ADR 0018) against the plain one: the prefilter never rules out a string a detector's
hint accepts, its vectorised masks equal the one-string reference, the engine's output is the same
bytes with and without it, the precomputed HMAC equals ``hmac.digest``, and the caches stay bounded."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ben.core import batch as batch_check
from ben.redact import DEFAULT_MANIFEST, SECRET_RULES, Engine, parse_manifest
from ben.redact import cache as cache_mod
from ben.redact import wire
from ben.redact.actions import KeyedHasher, keyed_hash
from ben.redact.prefilter import Prefilter, layout, mask_of, masks_of, possible, requirement, weakest
from ben.sdk.batch import BatchBuilder
from ben.v1 import telemetry_pb2 as pb
from ben.redact import corpus as ben_corpus
from tests.redact.corpus import planted, secrets
from tests.redact.test_engine import EVERY_DETECTOR, FIELDS, HASH, _keyed

CORPUS = secrets()
PLANTED = [planted(name, s) for name, ss in CORPUS.items() for s in ss]
# every needle and requirement of every detector, and look-alikes around them
FRAGMENTS = sorted({n for d in SECRET_RULES.values() for n in d.needs if n} | {
    "Bearer ", "token ", "Basic ", "aws_secret_access_key=", "AccountKey=", "SharedAccessKey=", "&sig=", "?sig=",
    "ghp_", "github_pat_", "xoxb-", "hooks.slack.com/services/", "-----BEGIN PRIVATE KEY-----", "eyJhbGciOi",
    "4111 1111 1111 1111", "4111-1111-1111-1111", "1764000000000000000", "123-45-6789", "AB 12 34 56 C", "12345678Z",
    "ya29.", "AIza", "Q~", "@", ".", ":", "-", " ", "0", "9", "é", "\x00", "\u2028", "日本",
    "%20", "%2F", "%3D", "%252F", "%C3%A9", "+", "\\n", "\\u0041", '\\"', "password=", '"api_key": "', "://u:",
    "sk_live_", "glpat-", "xapp-", "SG.", "+44 20 7946 0958", "DE89 3704 0044 0532 0130 00"} | {
    v for v in ben_corpus.secrets(20).values() if len(v) < 120})
fragment = st.sampled_from(FRAGMENTS + PLANTED)
noise = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
digits = st.text("0123456789 -", min_size=1, max_size=30)
piece = st.one_of(fragment, noise, digits)
text = st.lists(piece, max_size=6).map("".join)


# -- the prefilter -------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(s=text)
@example(s="")
@example(s="4111 1111 1111 1111")
@example(s="4 1 1 1 1 1 1 1 1 1 1 1 1")
@example(s="x" * 5000 + "@")
def test_prefilter_never_rules_out_what_a_hint_accepts(s: str) -> None:
    mask = mask_of(s)
    for det in SECRET_RULES.values():
        if det.hint(s):
            assert possible(det, mask), (det.name, s)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.one_of(text, st.just(""), st.text(max_size=20)), max_size=30))
@example(texts=[])
@example(texts=[""])
@example(texts=["", "", ""])
@example(texts=["a\x00b", "4111\x001111111111111", "@"])
@example(texts=["0123456", "789012345678"])              # a chain must not cross from one text to the next
@example(texts=["ab"] * 20 + ["4111 1111 1111 1111", "12345678901-2", "1 2 3 4 5 6 7 8 9 0 1 2 3"])   # few runs
@example(texts=["ts=1764000000000000000"] * 5 + ["x 1234567890123"])   # many runs: every text at once
@example(texts=["12345678901234567890" * 100, "\ud800", "é" * 3000])
def test_vectorised_masks_equal_the_reference(texts: list[str]) -> None:
    got = masks_of(texts).tolist() if texts else []
    assert got == [mask_of(t) for t in texts]
    if texts:
        a, starts = layout(texts)
        assert len(a) == sum(map(len, texts)) + len(texts)
        assert starts.tolist() == [sum(len(t) + 1 for t in texts[:i]) for i in range(len(texts))]


def test_candidates_are_exactly_the_texts_whose_mask_meets_a_requirement() -> None:
    pf = Prefilter(SECRET_RULES.values())
    rng = random.Random(5)
    texts = [f"{rng.getrandbits(64):016x}" for _ in range(300)] + PLANTED + ["GET", "/api/v1/orders", ""]
    ok, masks = pf.candidates(texts)
    assert masks.tolist() == [mask_of(t) for t in texts]
    assert ok.tolist() == [any(possible(d, mask_of(t)) for d in SECRET_RULES.values()) for t in texts]
    assert all(ok[len(texts) - 3 - len(PLANTED):len(texts) - 3])   # every planted secret is scanned
    assert Prefilter(SECRET_RULES.values(), everything=True).candidates(texts)[0].all()
    assert not Prefilter(()).candidates(texts)[0].any()



def test_the_weakest_requirements_are_those_no_other_one_implies() -> None:
    """``weakest`` (one pass against the kept requirements, fewest bits first) keeps what the definition keeps:
    a requirement holding all the bits of another is implied by it (ADR 0048, fifth round: the pairwise
    reduction took 14 ms of every engine's start)."""
    def by_definition(reqs: set[int]) -> tuple[int, ...]:
        return tuple(sorted(r for r in reqs if not any(o != r and o & r == o for o in reqs)))

    default = {requirement(need, d.min_digits) for d in SECRET_RULES.values() for need in d.needs}
    rng = random.Random(11)
    sets = [default, set(), {0}, {0, 1, 3}, {5, 7, 13, 15}] + [
        {rng.getrandbits(rng.choice((3, 6, 12, 40))) for _ in range(rng.randint(0, 60))} for _ in range(2000)]
    for reqs in sets:
        assert weakest(reqs) == by_definition(reqs), sorted(reqs)
    assert Prefilter(SECRET_RULES.values()).reqs == by_definition(default)

# -- the engine, fast against plain ----------------------------------------------------------------
MANIFESTS = {
    "default": DEFAULT_MANIFEST,
    "fields": FIELDS,
    "every-detector": EVERY_DETECTOR + HASH,
    "allow": 'mode = "allow"\nallow = ["http.*", "k*", "zone"]\n' + DEFAULT_MANIFEST.split("version = 1", 1)[1],
    "pattern": HASH + '[[rule]]\nname = "sess"\npattern = "session=(?P<secret>[a-z0-9]{8,})"\naction = "hash"\n'
               + '[[rule]]\nname = "mail"\ndetect = "email"\naction = "mask"\n',
    "drop": '[[rule]]\nname = "gone"\ndetect = ["email", "card"]\naction = "drop"\n'
            '[[rule]]\nname = "jwt"\ndetect = "jwt"\naction = "mask"\n',
    "scoped": HASH + '[[rule]]\nname = "uid"\nfields = ["attributes.user.*"]\naction = "hash"\n'
              '[[rule]]\nname = "c"\ndetect = "card"\nfields = ["body", "attributes.note"]\naction = "mask"\n',
}


def pair(name: str) -> tuple[Engine, Engine]:
    m = _keyed(MANIFESTS[name])
    return Engine(m, fast=True), Engine(m, fast=False)


def build(rows, seq: int = 1) -> pb.Batch:
    b = BatchBuilder(seq)
    for i, (name, body, attrs) in enumerate(rows):
        b.add(pb.KIND_LOG, name, 0.0, body, attrs, 1000 + i)
    return b.build(pb.Source(host="h", subsystem="s"), "p")


def same(fast: Engine, plain: Engine, batch: pb.Batch) -> None:
    a, b = fast.apply(batch), plain.apply(batch)
    assert fast.failures == plain.failures == 0, (fast.last_failure, plain.last_failure)
    assert a.SerializeToString() == b.SerializeToString()
    assert (a is batch) == (b is batch)
    assert fast.counts == plain.counts
    batch_check.validate(a)


value = st.one_of(text, st.sampled_from(PLANTED), st.just(""),
                  text.map(lambda t: json.dumps({"password": t, "user": {"id": t}, "note": t})))
key = st.sampled_from(["user.id", "user.email", "note", "k", "zone", "http.route", "db.password", "payload",
                       "http.request.header.authorization", "ben.redacted", "user.name"])
row = st.tuples(text.filter(bool), value, st.dictionaries(key, value, max_size=5))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(row, min_size=1, max_size=8), min_size=1, max_size=3),
       name=st.sampled_from(sorted(MANIFESTS)))
def test_fast_and_plain_engines_give_the_same_bytes(batches, name) -> None:
    fast, plain = pair(name)
    for _ in range(2):   # twice: the second time through the caches
        for rows in batches:
            same(fast, plain, build(rows))


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_fast_and_plain_on_realistic_batches(name) -> None:
    """The benchmark's workloads, and strings at the edges: NULs, non-ASCII, empty, very long."""
    import os

    from bench.redact import attribute_batches, body_batches
    os.environ.setdefault("BEN_BENCH_REDACT_KEY", "bench-only-key-0123456789abcdef")
    fast, plain = pair(name)
    for batch in attribute_batches(3) + body_batches(2):
        same(fast, plain, batch)
    edges = [("n\x00ame", "body with \x00 NUL and a card 4111 1111 1111 1111", {"k\x00": "v\x00a@b.io"}),
             ("日本", "メール a@b.io と 4111-1111-1111-1111", {"user.id": "ü", "note": "é" * 10_000}),
             ("x", "", {"": "", "note": ""}),
             ("long", "y" * 100_000 + " Bearer abcdefgh12345678", {"note": "0123456789" * 2_000})]
    same(fast, plain, build(edges))
    same(fast, plain, build(edges))


def test_fast_and_plain_on_the_coverage_corpus() -> None:
    """Every format in every placement (source fields and URL-encoded ones too): the same bytes."""
    from ben.redact.corpus import PLACEMENTS, place

    fast, plain = pair("default")
    values = list(ben_corpus.secrets(20).values()) + ben_corpus.benign(21)[:60]
    for p in PLACEMENTS:
        for i, v in enumerate(values):
            it = place(v, p, i)
            b = BatchBuilder(1)
            b.add(it.kind, it.name, 1.0, it.body, it.attributes, 1)
            same(fast, plain, b.build(pb.Source(**{"host": "h", **it.source}), "p"))


def test_the_prefilter_skips_strings_no_detector_can_match() -> None:
    """Hex ids are never scanned on the fast path; the e-mail still is, and found."""
    fast, _ = pair("default")
    scanned = []
    real = fast.scan
    fast.scan = lambda s, rules, c=None: scanned.append(s) or real(s, rules, c)
    ids = [f"{i:06d}fc{i * 7:06d}bd" for i in range(200)]
    out = fast.apply(build([("req", "", {"request.id": i, "user.email": "ann@example.com"}) for i in ids]))
    assert sorted(scanned) == ["ann@example.com", "user.email"]   # the key holds e, a and r: "earer" could be in it
    assert "ann@example.com" not in out.strings


# -- hashes and caches ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=130), value=st.text(max_size=80), chars=st.integers(8, 64))
@example(key=b"k" * 64, value="x", chars=16)
@example(key=b"k" * 65, value="\ud800", chars=16)
def test_precomputed_hmac_equals_hmac_digest(key: bytes, value: str, chars: int) -> None:
    assert KeyedHasher(key, chars)(value) == keyed_hash(key, value, chars)


@settings(max_examples=100, deadline=None)
@given(key=st.binary(max_size=130), values=st.lists(st.text(max_size=80), max_size=20), chars=st.integers(8, 64))
@example(key=b"k" * 65, values=["", "\ud800", "x" * 200], chars=16)
def test_many_hashes_equal_one_by_one(key: bytes, values: list[str], chars: int) -> None:
    h = KeyedHasher(key, chars)
    assert h.many(values) == [keyed_hash(key, v, chars) for v in values]
    assert h.many(tuple(values)) == h.many(iter(values))


def test_caches_stay_bounded_with_unique_values(monkeypatch) -> None:
    """Unique 2 KB bodies and unique short values (hashed ids, e-mails): every cache, its door-keeper
    and its young generation stay within their entry and character budgets."""
    monkeypatch.setattr(cache_mod, "CACHE_MAX", 256)
    monkeypatch.setattr(cache_mod, "CACHE_BUDGET_CHARS", 64 * 1024)
    e = Engine(_keyed(HASH + '[[rule]]\nname = "uid"\nfields = ["attributes.user.id"]\naction = "hash"\n'
                      + DEFAULT_MANIFEST.split("version = 1", 1)[1]))
    rng = random.Random(3)
    for seq in range(8):  # 400 unique ids and bodies, each seen twice: more than the 256 places and the budget
        rows = []
        for _ in range(50):
            body = f"{rng.getrandbits(64):x} Bearer {rng.getrandbits(64):x} " + "".join(
                rng.choices("abcdefghij @.-0123456789", k=2000))
            rows.append(("log", body, {"user.id": f"u-{rng.getrandbits(64):x}", "long.id": body[:1500],
                                       "mail": f"{rng.getrandbits(64):x}@example.com", "note": body[500:]}))
        batch = build(rows, seq)
        e.apply(batch)
        e.apply(batch)   # seen twice: admitted, so the caches fill and must evict
    assert e.failures == 0
    for cache in (e._strings, e._keys, e._pairs, e._bodies, e._hashes):
        assert len(cache) <= 256 and len(cache._seen) <= 256
        assert cache._chars <= 64 * 1024
        assert cache._chars == sum(cache._sizes.values()) and set(cache._sizes) == set(cache)
        if cache.young is not None:
            assert len(cache.young) <= 128 and cache._young_chars <= 32 * 1024
            assert cache._young_chars == sum(map(len, cache.young))
            assert all(len(k) <= cache_mod.YOUNG_MAX_CHARS for k in cache.young)
    assert len(e._hashes) > 128 and len(e._strings) > 0   # 400 ids admitted into 256 places: it evicted
    assert e._hashes.filled and e._strings.filled


class _Recording:
    """A KeyedHasher that notes every value it hashes, one by one or many at once."""

    def __init__(self, real: KeyedHasher, calls: list):
        self.real, self.calls = real, calls

    def __call__(self, text: str) -> str:
        self.calls.append(text)
        return self.real(text)

    def many(self, texts) -> list[str]:
        self.calls.extend(texts)
        return self.real.many(texts)


def test_young_generation_saves_the_second_computation() -> None:
    fast, _ = pair("fields")
    calls = []
    fast._hash = _Recording(fast._hash, calls)
    fast.apply(build([("x", "", {"user.id": "u-1"})], 0))
    assert "u-1" in fast._hashes   # room to spare: admitted at the first sighting
    fast._hashes.filled = True     # as after a first eviction: the young generation decides
    for seq in range(1, 4):
        fast.apply(build([("x", "", {"user.id": "u-7"})], seq))
    assert calls == ["u-1", "u-7"]   # first sighting computed; second recalled from the young generation; then cached
    assert fast._hashes.get("u-7") == keyed_hash(_keyed(FIELDS).hash_key, "u-7", 16)
    assert not fast._hashes.young

@settings(max_examples=100, deadline=None)
@given(cols=st.lists(st.lists(st.integers(0, 20_000), max_size=300), min_size=5, max_size=5))
@example(cols=[[], [], [], [], []])
@example(cols=[[0], [127], [128], [16383], []])
@example(cols=[[0, 1, 127, 128, 0], [], [5], [], []])
@example(cols=[[], [16384], [1], [], [2]])
def test_packed_index_columns_parse_as_extend_would_build_them(cols) -> None:
    import numpy as np
    arrays = tuple(np.asarray(c, dtype=np.int64) for c in cols)
    packed = wire.packed((8, 9, 10, 11, 12), arrays)
    want = pb.Batch()
    for field, c in zip(("names", "bodies", "attr_counts", "attr_keys", "attr_values"), cols):
        getattr(want, field).extend(c)
    if max((max(c) for c in cols if c), default=0) >= 1 << 14:
        assert packed is None   # the caller falls back to extend
    else:
        got = pb.Batch()
        got.MergeFromString(packed)   # columns with a value >= 128 come as two-byte (padded) varints
        assert got == want and got.SerializeToString() == want.SerializeToString()
        if max((max(c) for c in cols if c), default=0) < 0x80:   # one byte each: the minimal encoding itself
            assert packed == want.SerializeToString()


def _card_parts_reference(candidate: str):
    """detectors._card_parts before the one-group shortcut (every start against every end)."""
    import re

    from ben.redact.detectors import _card_ok
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=[ \-]))[0-9]", candidate)]
    ends = [m.end() for m in re.finditer(r"[0-9](?=[ \-]|$)", candidate)]
    best = None
    for a in starts:
        for b in ends:
            if b > a and (best is None or b - a > best[1] - best[0]) and _card_ok(candidate[a:b]):
                best = (a, b)
    return [best] if best is not None else []


@settings(max_examples=300, deadline=None)
@given(candidate=st.text("0123456789 -", min_size=13, max_size=40).filter(lambda c: c[0].isdigit()
                                                                         and c[-1].isdigit()))
@example(candidate="1764000000000000123")
@example(candidate="4111111111111111")
@example(candidate="order 4070888059 200".split(" ", 1)[1])
def test_card_refinement_shortcut_changes_nothing(candidate: str) -> None:
    from ben.redact.detectors import _card_ok, _card_parts
    if not _card_ok(candidate):   # refine only ever sees candidates that failed validation
        assert list(_card_parts(candidate)) == _card_parts_reference(candidate)
