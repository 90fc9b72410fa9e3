"""Per string: what a manifest's rules make of one text (the engine's scanning, ADR 0018).

``Scanner`` holds a manifest's rules sorted by role, the plans derived from them (which detectors
can match a text of a given length and shape, which rules apply at a path, what a key's values
get) and the caches of per-string outcomes across batches. Every answer is an ``Outcome``: the new
text, the mask of the rules that fired (bit ``rule.bit``) and whether the field is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import compress
from operator import not_
from typing import NamedTuple

from ben.redact.actions import KeyedHasher, truncate
from ben.redact.cache import CACHE_MAX, CACHE_MAX_CHARS, Cache
from ben.redact.decode import decoded, may_decode
from ben.redact.detectors import SecretRule
from ben.redact.manifest import Manifest, Rule
from ben.redact.prefilter import Prefilter, possible
from ben.redact.wire import pick

REDACTED_KEY = "ben.redacted"     # attribute on each touched event: comma-separated rule names


class Outcome(NamedTuple):
    """What the rules make of one value: its new text, the rules that fired (bit ``rule.bit``), dropped?"""

    text: str
    mask: int
    drop: bool


class Step(NamedTuple):
    """One (rule, secret rule) pair of a scan plan, in the order its matches rank."""

    order: int                          # the rule's place in the rules scanned: ties between equal spans
    rule: Rule
    needles: tuple[str, ...] | None     # the secret rule's needles (one must be in the text), if it has any
    secret: SecretRule | None           # None: the rule's own pattern
    search: Callable | None             # the regex's search, when its spans need no validator or group


class RulePlans(NamedTuple):
    """The steps worth running for a tuple of rules, by the text's shape."""

    by_shape: tuple[list[tuple[Step, ...]], list[tuple[Step, ...]]]   # [alphanumeric?][min(length, 64)]
    narrowed: dict[int, tuple[Step, ...]]   # by (prefilter mask, length, alphanumeric?)


class PathPlan(NamedTuple):
    """What applies at a path: its first field rule (or None), and the value rules for a value there."""

    field_rule: Rule | None
    value_rules: tuple[Rule, ...]


class KeyPlan(NamedTuple):
    """What the rules do to the values under one attribute key (``Scanner._key_plan``)."""

    allowed: bool           # the allow-list admits the key (always, in deny mode)
    reserved: bool          # the key is ``ben.redacted``: an incoming one is dropped
    direct: bool            # some field or scoped value rule names this key's values
    nested: bool            # JSON keys below it may match a field rule (never for a terminal key)
    const: Outcome | None   # the outcome of every value, when a drop or mask field rule takes them all
    terminal: bool          # every value is replaced whole whatever it holds (no need to scan it)
    hashed: int             # the bit of the hash field rule replacing every value by its keyed hash, else 0


def _could_nest(path: str, glob: str) -> bool:
    """Could glob match a path below `path` (a key inside its JSON value)?"""
    cut = min((i for i in (glob.find("*"), glob.find("?"), glob.find("[")) if i >= 0), default=-1)
    pre = path + "."
    if cut < 0:
        return glob.startswith(pre)
    lit = glob[:cut]
    return lit.startswith(pre) or pre.startswith(lit)


class Scanner:
    """A manifest's rules, ready to scan strings: the per-string half of ``Engine`` (which adds the
    batch pass and the rebuild). Not thread-safe (caches): one thread at a time.

    ``fast``: the shortcuts of ADR 0018 are taken (``Engine``); ``fast=False`` is the plain path."""

    def __init__(self, manifest: Manifest, fast: bool = True):
        self.manifest = m = manifest
        self.fast = fast
        self.allow_bit = len(m.rules)
        self.names = m.names
        self.global_rules = tuple(r for r in m.rules if r.is_value_rule and not r.fields)
        self.field_rules = tuple(r for r in m.rules if not r.is_value_rule)
        self.scoped_rules = tuple(r for r in m.rules if r.is_value_rule and r.fields)
        role_rules = self.field_rules + self.scoped_rules
        self.name_active = any(r.matches("name") for r in role_rules)
        self.body_direct = any(r.matches("body") for r in role_rules)
        self.body_nested = any(_could_nest(r.path("body"), g) for r in self.field_rules for g in r.fields)
        self.attr_rules = any(g.startswith("attributes.") for r in role_rules for g in r.fields)
        self._strings = Cache(young=True)   # dictionary string -> Outcome of the global value rules, or None
        self._keys = Cache()                # attribute key -> KeyPlan
        self._pairs = Cache()               # (key, value) -> Outcome of the role pass
        self._bodies = Cache()              # ("name" or "body", text) -> Outcome of the role pass
        self._hashes = Cache(young=True)    # value -> keyed hash, for values a hash field rule replaces whole
        self._hash = KeyedHasher(m.hash_key, m.hash_hex_chars)
        self._prefilter = Prefilter({d for r in self.global_rules for d in r.secret_rules},
                                    everything=any(r.pattern is not None for r in self.global_rules))
        self._plans: dict[tuple[Rule, ...], RulePlans] = {}
        self._paths: dict[str, PathPlan] = {}

    # -- per string ------------------------------------------------------------------------
    def scan(self, text: str, rules: tuple[Rule, ...], chars: int | None = None) -> Outcome:
        """Value rules over one string: (new text, mask of rules that fired, drop the field?).
        ``chars``: the text's prefilter mask, if known: detectors whose hint it rules out are skipped."""
        plans = self._plans.get(rules)
        if plans is None:   # by (all alphanumeric?, length up to 64): only detectors that can match such a text
            full = [Step(order, r, det and det.needles, det,   # search: the spans inline (no validator, no groups)
                         det.regex.search if det is not None and det.validate is None and not det.groups
                         and det.find is None else None)
                    for order, r in enumerate(rules) for det in (r.secret_rules or (None,))]
            plans = self._plans[rules] = RulePlans(tuple(
                [tuple(p for p in full if p.secret is None or (p.secret.min_len <= n and (p.secret.alnum or not alnum)))
                 for n in range(65)] for alnum in (False, True)), {})
        size = n = len(text)
        if n > 64:
            n = 64
        alnum = text.isalnum()
        if chars is None:
            plan = plans.by_shape[alnum][n]
        else:   # narrowed by the prefilter mask: plans by (mask, length, alnum)
            narrowed = plans.narrowed
            key = chars << 8 | n << 1 | alnum
            plan = narrowed.get(key)
            if plan is None:
                plan = tuple(p for p in plans.by_shape[alnum][n] if p.secret is None or possible(p.secret, chars))
                if len(narrowed) < CACHE_MAX:
                    narrowed[key] = plan
        spans = self._spans(text, size, plan)
        if may_decode(text):   # and what an encoding hides (ben.redact.decode)
            dec = decoded(text)
            if dec is not None:
                d, starts = dec
                more = self._spans(d, len(d), plans.by_shape[d.isalnum()][min(len(d), 64)])
                if more:
                    spans = (spans or []) + [(starts[a], -starts[-nb], order, r) for a, nb, order, r in more]
        if not spans:
            return Outcome(text, 0, False)
        if len(spans) == 1:   # the common case: one secret in the text
            a, nb, _, r = spans[0]
            if r.action == "drop":
                return Outcome(r.replacement, 1 << r.bit, True)
            return Outcome(text[:a] + (r.replacement if r.action == "mask" else self._hash(text[a:-nb])) + text[-nb:],
                           1 << r.bit, False)
        mask = 0
        drop = None
        for _, _, _, r in spans:
            mask |= 1 << r.bit
            if r.action == "drop" and drop is None:
                drop = r
        if drop is not None:
            return Outcome(drop.replacement, mask, True)
        spans.sort()
        out, pos = [], 0
        cur = None   # the span being built: overlapping spans are merged (a secret is masked whole)
        for a, nb, _, r in spans:
            b = -nb
            if cur is not None and a < cur[1]:
                if b > cur[1]:
                    cur[1] = b
                continue
            if cur is not None:
                out.append(self._replace(text, cur))
                pos = cur[1]
            out.append(text[pos:a])
            cur = [a, b, r]
        out.append(self._replace(text, cur))
        out.append(text[cur[1]:])
        return Outcome("".join(out), mask, False)

    def _replace(self, text: str, span: list) -> str:
        a, b, r = span
        return r.replacement if r.action == "mask" else self._hash(text[a:b])

    @staticmethod
    def _spans(text: str, size: int, plan: tuple[Step, ...]) -> list | None:
        """(start, -end, rule order, rule) of every match of the plan's secret rules and patterns in text."""
        spans = None
        for order, r, needles, det, search in plan:   # the hot loop: most strings fail every hint here
            if det is None:
                pass
            elif needles is not None:
                for needle in needles:
                    if needle in text:
                        break
                else:
                    continue
            elif not det.hint(text):
                continue
            if spans is None:
                spans = []
            if search is not None:   # SecretRule.spans without a generator: every non-empty match
                pos = 0
                while (match := search(text, pos)) is not None:
                    a, b = match.span()
                    if b > a:
                        spans.append((a, -b, order, r))
                        if b == size:   # the match ends the text: any further match would be empty
                            break
                        pos = b
                    else:
                        pos = a + 1
            elif det is not None:
                for a, b in det.spans(text, hinted=True):
                    spans.append((a, -b, order, r))
            elif r.pattern is not None:
                has_group = "secret" in r.pattern.groupindex
                for match in r.pattern.finditer(text):
                    a, b = match.span("secret") if has_group and match.group("secret") is not None else match.span()
                    if b > a:
                        spans.append((a, -b, order, r))
        return spans

    def _global(self, text: str, chars: int | None = None) -> Outcome | None:
        """The global value rules over text; None if none fired."""
        out = self.scan(text, self.global_rules, chars)
        return None if out[1] == 0 else out

    def _path(self, path: str) -> PathPlan:
        """What applies at path (globs matched once per path)."""
        plan = self._paths.get(path)
        if plan is None:
            first = next((r for r in self.field_rules if r.matches(path)), None)
            rules = self.global_rules + tuple(r for r in self.scoped_rules if r.matches(path))
            plan = PathPlan(first, rules)
            if len(self._paths) < CACHE_MAX:
                self._paths[path] = plan
        return plan

    def field(self, path: str, text: str, nested: bool) -> Outcome:
        """Everything that applies to a value at `path`: field rules, JSON keys below it, value rules."""
        mask = 0
        r, rules = self._path(path)
        if r is not None:
            bit = 1 << r.bit
            if r.action == "drop":
                return Outcome(r.replacement, bit, True)
            if r.action == "mask":
                return Outcome(r.replacement, bit, False)
            if r.action == "hash":
                return Outcome(self._hash(text), bit, False)
            cut = truncate(text, r.max_chars)
            if cut is not text:
                text, mask = cut, bit
        if nested and text[:1] in ("{", "["):
            text, m = self._json(path, text)
            mask |= m
        new, m, drop = self.scan(text, rules) if rules else (text, 0, False)
        return Outcome(new, mask | m, drop)

    def _json(self, path: str, text: str) -> tuple[str, int]:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return text, 0
        if not isinstance(doc, (dict, list)):
            return text, 0
        mask = self._walk(doc, path)
        if not mask:
            return text, 0
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")), mask

    def _walk(self, node, prefix: str) -> int:
        mask = 0
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for k, v in items:
            path = f"{prefix}.{k}"
            rule = self._path(path).field_rule
            if rule is not None:
                if rule.action == "drop":
                    if isinstance(node, dict):
                        del node[k]
                    else:
                        node[k] = None
                    mask |= 1 << rule.bit
                    continue
                if rule.action in ("mask", "hash"):
                    node[k] = rule.replacement if rule.action == "mask" else \
                        self._hash(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
                    mask |= 1 << rule.bit
                    continue
                if isinstance(v, str) and len(v) > rule.max_chars:
                    node[k] = v = truncate(v, rule.max_chars)
                    mask |= 1 << rule.bit
            if isinstance(v, (dict, list)):
                mask |= self._walk(v, path)
        return mask

    def _key_plan(self, key: str) -> KeyPlan:
        """What the rules do to the values under an attribute key (cached per key)."""
        plan = self._keys.get(key)
        if plan is None:
            path = "attributes." + key
            role = self.field_rules + self.scoped_rules
            nested = any(_could_nest(r.path(path), g) for r in self.field_rules for g in r.fields)
            direct = any(r.matches(path) for r in role)
            first = next((r for r in self.field_rules if r.matches(path)), None)
            const = None
            if first is not None and first.action in ("drop", "mask"):
                const = Outcome(first.replacement, 1 << first.bit, first.action == "drop")
            allowed = self.manifest.allowed(key)
            # terminal: a value here is replaced whole whatever it holds (no need to scan it)
            terminal = not allowed or key == REDACTED_KEY or (
                first is not None and first.action in ("drop", "mask", "hash"))
            hashed = 1 << first.bit if first is not None and first.action == "hash" else 0
            plan = KeyPlan(allowed=allowed, reserved=key == REDACTED_KEY, direct=direct,
                           nested=nested and not terminal, const=const, terminal=terminal, hashed=hashed)
            self._keys.put(key, plan, len(key))
        return plan

    def _hashes_of(self, texts: list[str]) -> list[str]:
        """The keyed hash of each text, cached (door-keeper and young generation, bounded like the other caches)."""
        cache = self._hashes
        out = list(map(cache.get, texts))
        if None in out:
            miss = list(compress(range(len(out)), map(not_, out)))   # where out is None (a hash is never "")
            new = pick(texts, miss)
            if cache.young:   # computed at the first sighting
                hashes = list(map(cache.young.get, new))
                if None in hashes:
                    todo = list(compress(range(len(hashes)), map(not_, hashes)))
                    for j, h in zip(todo, self._hash.many(pick(new, todo))):
                        hashes[j] = h
            else:
                hashes = self._hash.many(new)
            for j, h in zip(miss, hashes):
                out[j] = h
            cache.put_all(new, hashes)
        return out

    def _role_cached(self, cache: Cache, key, path: str, text: str, nested: bool) -> Outcome:
        """``field(path, text, nested)``, cached under key."""
        out = cache.get(key)
        if out is None:
            out = self.field(path, text, nested)
            if len(text) <= CACHE_MAX_CHARS:
                cache.put(key, out, len(text))
        return out
