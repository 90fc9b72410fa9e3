"""The shortcuts of ADR 0018's second revision against the plain steps they replace: the one-secret and
inline-search scan against the general span collection, bulk cache admission against one put per key,
per-bit rule counts against counts per distinct mask, hashes appended as one range against one intern
each, and positions already dropped under a key whose values a field rule replaces whole; and those of
its third (revision 2): ``distinct`` against ``np.unique``, the role pass key by key against the plain
path with several keys at work, and an output dictionary that holds exactly the strings still used."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ben.redact import DEFAULT_MANIFEST, REDACTED_KEY, Engine
from ben.redact import cache as cache_mod
from ben.redact.actions import keyed_hash
from ben.redact.decode import decoded
from tests.redact.test_engine import EVERY_DETECTOR, HASH, KEY, _keyed, build, engine, events
from tests.redact.test_fast_path import PLANTED, text

MANIFESTS = [DEFAULT_MANIFEST, EVERY_DETECTOR + HASH,
             HASH + '[[rule]]\nname = "sess"\npattern = "session=(?P<secret>[a-z0-9]{8,})"\naction = "hash"\n'
             '[[rule]]\nname = "gone"\ndetect = ["email", "card"]\naction = "drop"\n']


def _spans_reference(s: str, rules) -> list:
    spans = []
    for order, r in enumerate(rules):
        for det in r.secret_rules or (None,):
            if det is not None:
                spans += [(a, -b, order, r) for a, b in det.spans(s)]
            elif r.pattern is not None:
                has_group = "secret" in r.pattern.groupindex
                for m in r.pattern.finditer(s):
                    a, b = m.span("secret") if has_group and m.group("secret") is not None else m.span()
                    if b > a:
                        spans.append((a, -b, order, r))
    return spans


def _scan_reference(e: Engine, s: str, rules) -> tuple:
    """Engine.scan's general path, as it was before the shortcuts: every span through SecretRule.spans,
    in the text and in what an encoding hides in it (``ben.redact.decode``: the decoded text's spans mapped
    back), sorted, overlapping spans merged into one secret masked whole (the earlier, longer span's rule)."""
    spans = _spans_reference(s, rules)
    dec = decoded(s)
    if dec is not None:
        d, starts = dec
        spans += [(starts[a], -starts[-nb], order, r) for a, nb, order, r in _spans_reference(d, rules)]
    if not spans:
        return s, 0, False
    mask = 0
    drop = None
    for *_, r in spans:
        mask |= 1 << r.bit
        if r.action == "drop" and drop is None:
            drop = r
    if drop is not None:
        return drop.replacement, mask, True
    merged: list[list] = []   # overlapping spans are one secret, masked whole (the earliest rule's action)
    for a, nb, _, r in sorted(spans, key=lambda t: t[:3]):
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], -nb)
        else:
            merged.append([a, -nb, r])
    out, pos = [], 0
    for a, b, r in merged:
        out += [s[pos:a], r.replacement if r.action == "mask" else e._hash(s[a:b])]
        pos = b
    return "".join(out + [s[pos:]]), mask, False


@settings(max_examples=200, deadline=None)
@given(s=st.one_of(text, st.sampled_from(PLANTED), st.lists(st.sampled_from(PLANTED), max_size=3).map(" ".join)),
       which=st.integers(0, len(MANIFESTS) - 1))
@example(s="", which=0)
@example(s="10.219.245.238 5336 8813 9849 1651", which=0)
@example(s="a@b.io and c@d.io", which=0)
@example(s="x\x00a@b.io\x00", which=1)
@example(s="メール a@b.io 4111 1111 1111 1111", which=2)
@example(s="y" * 100_000 + " a@b.io", which=0)
@example(s="%20postgres://app_user:DJtW1FkuDPUX1CnW@db.internal:5432/orders", which=0)
def test_scan_equals_the_general_span_collection(s: str, which: int) -> None:
    e = engine(MANIFESTS[which])
    rules = e.global_rules
    assert e.scan(s, rules) == _scan_reference(e, s, rules)


@settings(max_examples=150, deadline=None)
@given(calls=st.lists(st.lists(st.one_of(st.text(max_size=6), st.text("ab", min_size=250, max_size=300),
                                         st.text("c", min_size=600, max_size=700)), max_size=20), max_size=12))
def test_bulk_admission_equals_one_put_per_key(calls) -> None:
    """While a cache has room, put_all admits a batch's misses at once: the same entries, sizes, order and
    bounds as one put each (the young generation and the door-keeper take over once it was full)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cache_mod, "CACHE_MAX", 16)
        mp.setattr(cache_mod, "CACHE_BUDGET_CHARS", 2048)
        mp.setattr(cache_mod, "CACHE_MAX_CHARS", 512)
        _bulk_against_one_by_one(calls)


def _bulk_against_one_by_one(calls) -> None:
    bulk, one = cache_mod.Cache(young=True), cache_mod.Cache(young=True)
    for keys in calls:
        keys = [k for k in dict.fromkeys(keys) if k not in bulk]   # distinct misses, as the engine passes them
        values = [f"v{len(k)}" for k in keys]
        bulk.put_all(keys, values)
        for k, v in zip(keys, values):
            if len(k) <= cache_mod.CACHE_MAX_CHARS:
                one.put(k, v, len(k))
        assert list(bulk.items()) == list(one.items()) and bulk._sizes == one._sizes
        assert (bulk._chars, bulk.filled, bulk.young) == (one._chars, one.filled, one.young)
        assert bulk._chars == sum(bulk._sizes.values()) and len(bulk) <= 16


def test_bulk_admission_counts_a_repeated_key_once() -> None:
    cache = cache_mod.Cache(young=True)
    cache.put_all(["a", "bb", "a"], [1, 2, 3])
    assert cache == {"a": 3, "bb": 2} and cache._chars == 3 == sum(cache._sizes.values())


@settings(max_examples=200, deadline=None)
@given(arrays=st.lists(st.lists(st.sampled_from([0, 1, 2, 5, 1 << 40, (1 << 60) | 1, (1 << 61) - 1]), max_size=30),
                       min_size=1, max_size=3))
def test_counts_per_bit_equal_counts_per_distinct_mask(arrays) -> None:
    """Bits 0-59: 60 rules; bit 60: the allow-list."""
    e = engine("".join(f'[[rule]]\nname = "f{i}"\nfields = ["name"]\naction = "mask"\n' for i in range(60)))
    masks = [np.asarray(a, dtype=np.uint64) for a in arrays]
    e._count(*masks)
    want: dict[str, int] = {}
    everything = np.concatenate(masks)
    uniq, times = np.unique(everything[everything != 0], return_counts=True)
    for mask, n in zip(uniq.tolist(), times.tolist()):
        for bit, name in enumerate(e.names):
            if mask >> bit & 1:
                want[name] = want.get(name, 0) + n
    assert dict(e.counts) == want


def test_a_hash_two_keys_share_is_one_dictionary_entry() -> None:
    """Hashes appended as one range (intern_all) still join an equal string interned before or after."""
    manifest = HASH + ('[[rule]]\nname = "uid"\nfields = ["attributes.user.*", "attributes.z.*"]\naction = "hash"\n'
                       '[[rule]]\nname = "deep"\nfields = ["attributes.payload.id"]\naction = "hash"\n')
    fast, plain = Engine(_keyed(manifest)), Engine(_keyed(manifest), fast=False)
    batch = build(("x", "", {"user.id": "u-1", "user.alt": "u-1", "z.id": "u-2", "payload": '{"id": "u-1"}'}),
                  ("x", "", {"user.id": "u-2", "user.alt": "u-3"}))
    out = fast.apply(batch)
    assert out.SerializeToString() == plain.apply(batch).SerializeToString()
    h1 = keyed_hash(KEY.encode(), "u-1", 16)
    assert list(out.strings).count(h1) == 1
    [(_, _, a1), (_, _, a2)] = events(out)
    assert a1["user.id"] == a1["user.alt"] == h1 and a1["z.id"] == a2["user.id"]
    assert a1[REDACTED_KEY] == "uid,deep"


def test_a_dropped_value_stays_dropped_under_a_key_replaced_whole() -> None:
    """A position that the global pass or the allow-list already drops is not given back by the key's
    mask field rule (the key's constant outcome applies only to positions still there)."""
    deny = engine('[[rule]]\nname = "gone"\ndetect = "email"\naction = "drop"\n'
                  '[[rule]]\nname = "contact"\nfields = ["attributes.contact"]\naction = "mask"\n')
    # the e-mail is scanned (it is also under "k") and dropped, under "contact" too
    [(_, _, a1), (_, _, a2)] = events(deny.apply(build(("x", "", {"contact": "a@b.io", "k": "a@b.io"}),
                                                       ("x", "", {"contact": "+1 555"}))))
    assert a1 == {REDACTED_KEY: "gone"} and a2 == {"contact": "[contact]", REDACTED_KEY: "contact"}
    allow = engine('mode = "allow"\nallow = ["http.*"]\n'
                   '[[rule]]\nname = "contact"\nfields = ["attributes.contact"]\naction = "mask"\n')
    [(_, _, a3)] = events(allow.apply(build(("x", "", {"contact": "+1 555", "http.route": "/p"}))))
    assert a3 == {"http.route": "/p", REDACTED_KEY: "allow-list"}
    assert deny.counts == {"gone": 2, "contact": 1} and allow.counts == {"allow-list": 1}


# -- ADR 0018 revision 2 ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.sampled_from([0, 1, 2, 127, 128, 1 << 40, (1 << 63) + 5, (1 << 64) - 1]), max_size=40))
@example(values=[])
@example(values=[7])
def test_distinct_equals_np_unique(values) -> None:
    from ben.redact.prefilter import distinct
    a = np.asarray(values, dtype=np.uint64)
    got, want = distinct(a), np.unique(a)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


def test_several_keys_with_work_in_one_batch_match_the_plain_path() -> None:
    """The role pass key by key (presence arrays, no np.unique over the pairs): two hashed keys, a scoped
    value rule's key, a key whose JSON values a field rule reaches into, a key whose values a global drop
    rule removes first, and values shared between keys, in the same batch; then the same batch again
    (through the caches)."""
    manifest = HASH + ('[[rule]]\nname = "uid"\nfields = ["attributes.user.*"]\naction = "hash"\n'
                       '[[rule]]\nname = "pw"\nfields = ["attributes.payload.password"]\naction = "mask"\n'
                       '[[rule]]\nname = "c"\ndetect = "card"\nfields = ["attributes.note"]\naction = "mask"\n'
                       '[[rule]]\nname = "gone"\ndetect = "email"\naction = "drop"\n')
    fast, plain = Engine(_keyed(manifest)), Engine(_keyed(manifest), fast=False)
    rows = [("x", "", {"user.id": f"u-{i % 7}", "user.alt": f"u-{i % 5}", "note": f"card 4111 1111 1111 1111 #{i % 3}",
                       "payload": '{"password": "p%d", "k": 1}' % (i % 4), "zone": f"u-{i % 7}"})
            for i in range(40)]
    rows += [("x", "", {"user.id": "a@b.io", "note": "a@b.io", "user.alt": "u-1"}), ("x", "", {"note": "u-3"})]
    for _ in range(2):
        batch = build(*rows)
        a, b = fast.apply(batch), plain.apply(batch)
        assert a.SerializeToString() == b.SerializeToString() and fast.counts == plain.counts
        assert fast.failures == plain.failures == 0
    [(_, _, first), *_] = events(a)
    assert first["user.id"] == first["user.alt"] == keyed_hash(KEY.encode(), "u-0", 16) and first["zone"] == "u-0"
    assert "a@b.io" not in a.strings and "u-3" in a.strings   # dropped everywhere; kept where no rule names it


def test_the_output_dictionary_holds_only_what_is_used() -> None:
    """Changed strings replaced in place, unused ones (a dropped value or body, a hashed id, a key whose
    every position is dropped) left out, and a new string no position uses (the mask rule's replacement
    for a key whose positions were all dropped first) not written: the same bytes as the plain path."""
    manifest = ('[[rule]]\nname = "gone"\ndetect = "email"\naction = "drop"\n'
                '[[rule]]\nname = "contact"\nfields = ["attributes.contact"]\naction = "mask"\n'
                + HASH + '[[rule]]\nname = "uid"\nfields = ["attributes.user.id"]\naction = "hash"\n')
    fast, plain = Engine(_keyed(manifest)), Engine(_keyed(manifest), fast=False)
    # the e-mails are scanned under "k" and dropped there and, being the same strings, under "contact" too
    batch = build(("x", "mail c@d.io", {"contact": "a@b.io", "user.id": "u-1", "k": "a@b.io", "j": "keep"}),
                  ("x", "", {"contact": "e@f.io", "user.id": "u-2", "k": "e@f.io"}))
    out = fast.apply(batch)
    assert out.SerializeToString() == plain.apply(batch).SerializeToString()
    strings = list(out.strings)
    assert not {"[contact]", "contact", "k", "a@b.io", "e@f.io", "u-1", "u-2", "mail c@d.io"} & set(strings)
    assert "keep" in strings and len(strings) == len(set(strings))
    assert [a for _, _, a in events(out)] == [
        {"user.id": keyed_hash(KEY.encode(), "u-1", 16), "j": "keep", REDACTED_KEY: "gone,uid"},
        {"user.id": keyed_hash(KEY.encode(), "u-2", 16), REDACTED_KEY: "gone,uid"}]


def test_new_strings_number_as_one_intern_each() -> None:
    """A rebuild's new strings get the same indexes whether they come one by one or in runs (the fast
    path's intern_all), a string appended in a run found again by a later intern."""
    from ben.redact.rebuild import NewStrings

    fast, plain = NewStrings(10, fast=True), NewStrings(10, fast=False)
    for ns in (fast, plain):
        assert ns.intern("a") == 10
        assert list(ns.intern_all(["b", "c"])) == [11, 12]
        assert ns.intern("c") == 12 and ns.intern("d") == 13
        assert list(ns.intern_all(["e", "a"])) == [14, 10]   # "a" was interned before: one by one
        assert list(ns.intern_all(["f", "f"])) == [15, 15]
        assert ns.appended == ["a", "b", "c", "d", "e", "f"]
    assert isinstance(fast.intern_all(["g", "h"]), range)   # distinct and new: appended in one step
