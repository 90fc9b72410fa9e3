"""Applies a manifest to a columnar ``Batch`` (proto/ben/v1/telemetry.proto).

Work is done per distinct string, not per event:

1. *Global pass*: every dictionary string (names, bodies, attribute keys and values) is scanned once
   by the value rules that have no ``fields`` (detectors, regexes); the result is cached per string
   across batches, so a repeated value costs one dict lookup. A changed string is replaced in place.
   First, one vectorised test over all of the batch's strings (``ben.redact.prefilter``, ADR 0018)
   rules out those that no detector's hint can accept: they are neither scanned nor cached.
2. *Role pass*, only where a rule could apply: field rules and scoped value rules run per distinct
   (attribute key, value) pair whose key some rule or the allow-list names, per distinct body and
   per distinct name (cached too); their outputs get new dictionary entries. Values under a key
   whose first field rule is ``hash`` are hashed in one pass per key (value -> hash cache).
   The batch's source fields (host, subsystem, instance) go through the same value rules (ADR 0030),
   and every scan also looks at the string URL-decoded and JSON-unescaped (``ben.redact.decode``),
   mapping a match back to the original characters.
3. Only if something fired: index columns are rebuilt with numpy (pairs dropped, values remapped),
   each touched event gets the attribute ``ben.redacted`` = the rules that fired (never the value),
   and the dictionary is compacted so no replaced string stays in it; the index columns are written
   as protobuf's packed bytes.

A batch in which nothing fires is returned as it came (the same object). ``apply`` never raises: on
an internal error the batch fails closed (every string replaced, see ``FAILED``) and is counted.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from bisect import bisect_left
from collections import Counter
from itertools import compress
from operator import itemgetter, not_
from pathlib import Path

import numpy as np

from ben.redact.actions import KeyedHasher, truncate
from ben.redact.decode import decoded
from ben.redact.manifest import Manifest, Rule
from ben.redact.prefilter import Prefilter, distinct, layout, mask_of, possible
from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger(__name__)

REDACTED_KEY = "ben.redacted"     # attribute on each touched event: comma-separated rule names
FAILED = "[redaction failed]"     # every string of a batch the engine could not process
SOURCE_FIELDS = ("host", "subsystem", "instance")   # a batch's source, scanned by the value rules too
CACHE_MAX = 65_536                # distinct strings (and pairs) remembered per cache
CACHE_MAX_CHARS = 4096            # longer strings are not cached
CACHE_BUDGET_CHARS = 2 << 20      # characters of the strings one cache holds, at most
YOUNG_MAX_CHARS = 256             # longer strings are not kept at their first sighting

_MISS = object()
# a key's plan, as flags per attribute position (Engine._rebuild)
_REFUSED, _RESERVED, _CONST, _WORK, _NESTED = 1, 2, 4, 8, 16
_Out = tuple  # (text, mask, drop)


def _could_nest(path: str, glob: str) -> bool:
    """Could glob match a path below `path` (a key inside its JSON value)?"""
    cut = min((i for i in (glob.find("*"), glob.find("?"), glob.find("[")) if i >= 0), default=-1)
    pre = path + "."
    if cut < 0:
        return glob.startswith(pre)
    lit = glob[:cut]
    return lit.startswith(pre) or pre.startswith(lit)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# v < 2**14 as two varint bytes, little-endian: (v & 0x7F | 0x80, v >> 7). Below 128 that is the value
# padded with one zero byte (0x80 | v, 0x00): a non-minimal varint, which protobuf parsers accept and read as
# v (the conformance suite's ValidDataScalar cases hold such "long varints"); upb keeps the value, and
# SerializeToString writes it back minimal. One gather per column instead of a gather, a mask and a compress.
_VARINT2 = np.arange(1 << 14, dtype=np.uint16)
_VARINT2 = (_VARINT2 & 0x7F | 0x80) | (_VARINT2 >> 7) << 8


def _packed(fields: tuple[int, ...], columns: tuple[np.ndarray, ...]) -> bytes | None:
    """Repeated uint32 fields in protobuf's packed encoding, built with numpy (``extend`` converts
    element by element), for ``MergeFromString``: None unless every value is below 2**14 (one or two
    varint bytes), i.e. the dictionary has fewer than 16,384 strings. A column with a value of 128 or
    more has every value in two bytes (see _VARINT2): meant to be parsed, not written out as it is."""
    out = []
    for field, values in zip(fields, columns):
        if not len(values):
            continue
        top = int(values.max())
        if top >= 1 << 14:
            return None
        if top < 0x80:   # one byte each
            payload = values.astype(np.uint8).tobytes()
        else:   # two bytes each, from the table
            payload = _VARINT2.take(values).tobytes()
        out += (_varint(field << 3 | 2), _varint(len(payload)), payload)
    return b"".join(out)


class _Columns:
    """A batch's index columns as int64 arrays, each converted once, when first needed."""

    def __init__(self, batch: pb.Batch):
        self._batch = batch

    def __getattr__(self, field: str) -> np.ndarray:
        column = np.asarray(getattr(self._batch, field), dtype=np.int64)
        setattr(self, field, column)
        return column


def _pick(strings: list[str], idx: list[int]) -> list[str] | tuple[str, ...]:
    """[strings[i] for i in idx], in C."""
    if len(idx) > 1:
        return itemgetter(*idx)(strings)
    return [strings[i] for i in idx]


class _Cache(dict):
    """A bounded dict that admits a key the second time it is seen: values unique to one event
    (request ids, most log lines) pass through a small door-keeper set and never push out the
    repeated ones. The door-keeper holds hashes, not the strings (a sidecar fed unique 2 KB bodies
    kept 130 MB of them); a collision only admits a string a sighting early. Past CACHE_MAX
    entries or CACHE_BUDGET_CHARS characters the older half is forgotten.

    ``young`` (string keys only): a key of at most YOUNG_MAX_CHARS characters is kept at its first
    sighting, with its value, in a second, smaller bounded dict (CACHE_MAX // 2 entries,
    CACHE_BUDGET_CHARS // 2 characters, older half forgotten) instead of the door-keeper; its second
    sighting finds the value there (no keyed hash or scan computed again) and admits it.
    Longer keys go through the door-keeper as before.

    Until a cache is full for the first time, every key is admitted at once: with room to spare there
    is nothing a one-off value could push out. The first eviction turns the door-keeper (and the
    young generation) on for good, so the bounds are the same either way."""

    def __init__(self, young: bool = False):
        super().__init__()
        self.filled = False   # has it ever been full? then admit at the second sighting
        self._seen: set[int] = set()
        self._sizes: dict = {}
        self._chars = 0
        self.young: dict | None = {} if young else None
        self._young_chars = 0

    def _keep_young(self, key: str, value, n: int) -> None:
        """Remember a first sighting's result in the young generation (its older half forgotten when full)."""
        young = self.young
        if len(young) >= CACHE_MAX // 2 or self._young_chars + n > CACHE_BUDGET_CHARS // 2:
            for old in list(young)[: max(1, len(young) // 2)]:
                del young[old]
                self._young_chars -= len(old)
        young[key] = value
        self._young_chars += n

    def put(self, key, value, size: int = 0) -> None:
        young = self.young
        if not self.filled:
            pass   # room to spare: admit it now
        elif young is not None and len(key) <= YOUNG_MAX_CHARS:
            if young.pop(key, _MISS) is _MISS:   # first sighting (or forgotten since): keep it young
                self._keep_young(key, value, len(key))
                return
            self._young_chars -= len(key)
        else:
            seen = self._seen
            h = hash(key)
            if h not in seen:
                if len(seen) >= CACHE_MAX:
                    seen.clear()
                seen.add(h)
                return
        if len(self) >= CACHE_MAX or self._chars + size > CACHE_BUDGET_CHARS:
            self.filled = True
            for old in list(self)[: max(1, len(self) // 2)]:
                del self[old]
                self._chars -= self._sizes.pop(old, 0)
        self[key] = value
        self._sizes[key] = size
        self._chars += size

    def put_all(self, keys: list[str], values: list) -> None:
        """``put(key, value, len(key))`` for each string key of at most CACHE_MAX_CHARS characters,
        with the young generation's steps inlined (the common case: one or two dict operations).
        The keys are misses of one batch: not in the cache."""
        put, young = self.put, self.young
        if not self.filled and keys:   # room to spare for all of them? then admit them at once, in C
            sizes = list(map(len, keys))
            total = sum(sizes)
            if (len(self) + len(keys) < CACHE_MAX and self._chars + total <= CACHE_BUDGET_CHARS
                    and max(sizes) <= CACHE_MAX_CHARS):
                before = len(self)
                self.update(zip(keys, values))
                self._sizes.update(zip(keys, sizes))
                if len(self) - before == len(keys):
                    self._chars += total
                else:   # a key twice (a dictionary may repeat a string): count it once
                    self._chars = sum(self._sizes.values())
                return
        if young is None:
            for key, value in zip(keys, values):
                n = len(key)
                if n <= CACHE_MAX_CHARS:
                    put(key, value, n)
            return
        pop, sizes = young.pop, self._sizes
        for key, value in zip(keys, values):
            n = len(key)
            if not self.filled:   # room to spare: admit it now (put evicts, and sets filled, when full)
                if n > CACHE_MAX_CHARS:
                    continue
                if len(self) >= CACHE_MAX or self._chars + n > CACHE_BUDGET_CHARS:
                    put(key, value, n)
                else:
                    self[key] = value
                    sizes[key] = n
                    self._chars += n
            elif n > YOUNG_MAX_CHARS:
                if n <= CACHE_MAX_CHARS:
                    put(key, value, n)   # the door-keeper's way
            elif pop(key, _MISS) is _MISS:   # a first sighting: keep it young
                self._keep_young(key, value, n)
            else:   # the second: admit it
                self._young_chars -= n
                if len(self) >= CACHE_MAX or self._chars + n > CACHE_BUDGET_CHARS:
                    self.filled = True
                    for old in list(self)[: max(1, len(self) // 2)]:
                        del self[old]
                        self._chars -= sizes.pop(old, 0)
                self[key] = value
                sizes[key] = n
                self._chars += n


class Engine:
    """A manifest ready to run. Not thread-safe (caches, counts): one thread at a time per engine
    (the sidecar keeps one per commit task, see ``Redactor``).

    ``fast`` (the default) turns on the batch-wide shortcuts of ADR 0018: the vectorised prefilter
    before the per-string scan, the first-character test for JSON values, and one pass per key for
    values a ``hash`` field rule replaces whole. ``fast=False`` is the plain path they must agree
    with (tests/redact/test_fast_path.py)."""

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
        self.counts: Counter = Counter()    # occurrences redacted, by rule name
        self.failures = 0
        self.last_failure = ""
        self._strings = _Cache(young=True)
        self._keys = _Cache()
        self._pairs = _Cache()
        self._bodies = _Cache()
        self._hashes = _Cache(young=True)   # value -> keyed hash, for values a hash field rule replaces whole
        self._hash = KeyedHasher(m.hash_key, m.hash_hex_chars)
        self._prefilter = Prefilter({d for r in self.global_rules for d in r.detectors},
                                    everything=any(r.pattern is not None for r in self.global_rules))
        self._labels: dict[int, str] = {}
        self._plans: dict[tuple, tuple] = {}
        self._paths: dict[str, tuple] = {}
        self._failure_logged = 0.0

    # -- per string ------------------------------------------------------------------------
    def scan(self, text: str, rules: tuple[Rule, ...], chars: int | None = None) -> _Out:
        """Value rules over one string: (new text, mask of rules that fired, drop the field?).
        ``chars``: the text's prefilter mask, if known: detectors whose hint it rules out are skipped."""
        plans = self._plans.get(rules)
        if plans is None:   # by (all alphanumeric?, length up to 64): only detectors that can match such a text
            full = [(order, r, det and det.needles, det,   # search: the spans inline (no validator, no groups)
                     det.regex.search if det is not None and det.validate is None and not det.groups
                     and det.find is None else None)
                    for order, r in enumerate(rules) for det in (r.detectors or (None,))]
            plans = self._plans[rules] = (tuple(
                [tuple(p for p in full if p[3] is None or (p[3].min_len <= n and (p[3].alnum or not alnum)))
                 for n in range(65)] for alnum in (False, True)), {})
        size = n = len(text)
        if n > 64:
            n = 64
        alnum = text.isalnum()
        if chars is None:
            plan = plans[0][alnum][n]
        else:   # narrowed by the prefilter mask: plans by (mask, length, alnum)
            narrowed = plans[1]
            key = chars << 8 | n << 1 | alnum
            plan = narrowed.get(key)
            if plan is None:
                plan = tuple(p for p in plans[0][alnum][n] if p[3] is None or possible(p[3], chars))
                if len(narrowed) < CACHE_MAX:
                    narrowed[key] = plan
        spans = self._spans(text, size, plan)
        if "%" in text or "+" in text or "\\" in text:   # and in what an encoding hides (ben.redact.decode)
            dec = decoded(text)
            if dec is not None:
                d, starts = dec
                more = self._spans(d, len(d), plans[0][d.isalnum()][min(len(d), 64)])
                if more:
                    spans = (spans or []) + [(starts[a], -starts[-nb], order, r) for a, nb, order, r in more]
        if not spans:
            return text, 0, False
        if len(spans) == 1:   # the common case: one secret in the text
            a, nb, _, r = spans[0]
            if r.action == "drop":
                return r.replacement, 1 << r.bit, True
            return (text[:a] + (r.replacement if r.action == "mask" else self._hash(text[a:-nb])) + text[-nb:],
                    1 << r.bit, False)
        mask = 0
        drop = None
        for _, _, _, r in spans:
            mask |= 1 << r.bit
            if r.action == "drop" and drop is None:
                drop = r
        if drop is not None:
            return drop.replacement, mask, True
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
        return "".join(out), mask, False

    def _replace(self, text: str, span: list) -> str:
        a, b, r = span
        return r.replacement if r.action == "mask" else self._hash(text[a:b])

    @staticmethod
    def _spans(text: str, size: int, plan: tuple) -> list | None:
        """(start, -end, rule order, rule) of every match of the plan's detectors and patterns in text."""
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
            if search is not None:   # Detector.spans without a generator: every non-empty match
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

    def _global(self, text: str, chars: int | None = None):
        out = self.scan(text, self.global_rules, chars)
        return None if out[1] == 0 else out

    def _path(self, path: str) -> tuple:
        """(first field rule matching path or None, value rules for a value there): globs matched once per path."""
        plan = self._paths.get(path)
        if plan is None:
            first = next((r for r in self.field_rules if r.matches(path)), None)
            rules = self.global_rules + tuple(r for r in self.scoped_rules if r.matches(path))
            plan = (first, rules)
            if len(self._paths) < CACHE_MAX:
                self._paths[path] = plan
        return plan

    def field(self, path: str, text: str, nested: bool) -> _Out:
        """Everything that applies to a value at `path`: field rules, JSON keys below it, value rules."""
        mask = 0
        r, rules = self._path(path)
        if r is not None:
            bit = 1 << r.bit
            if r.action == "drop":
                return r.replacement, bit, True
            if r.action == "mask":
                return r.replacement, bit, False
            if r.action == "hash":
                return self._hash(text), bit, False
            cut = truncate(text, r.max_chars)
            if cut is not text:
                text, mask = cut, bit
        if nested and text[:1] in ("{", "["):
            text, m = self._json(path, text)
            mask |= m
        new, m, drop = self.scan(text, rules) if rules else (text, 0, False)
        return new, mask | m, drop

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
            rule = self._path(path)[0]
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

    def _key_plan(self, key: str) -> tuple:
        """(allowed, reserved, direct: some rule names this key's values, nested: JSON keys below it may
        match, const: the outcome for every value when a drop or mask field rule takes them all,
        terminal: every value is replaced whole, hashed: the bit of the hash field rule that replaces
        every value by its keyed hash, else 0)."""
        plan = self._keys.get(key)
        if plan is None:
            path = "attributes." + key
            role = self.field_rules + self.scoped_rules
            nested = any(_could_nest(r.path(path), g) for r in self.field_rules for g in r.fields)
            direct = any(r.matches(path) for r in role)
            first = next((r for r in self.field_rules if r.matches(path)), None)
            const = None
            if first is not None and first.action in ("drop", "mask"):
                const = (first.replacement, 1 << first.bit, first.action == "drop")
            allowed = self.manifest.allowed(key)
            # terminal: a value here is replaced whole whatever it holds (no need to scan it)
            terminal = not allowed or key == REDACTED_KEY or (
                first is not None and first.action in ("drop", "mask", "hash"))
            hashed = 1 << first.bit if first is not None and first.action == "hash" else 0
            plan = (allowed, key == REDACTED_KEY, direct, nested and not terminal, const, terminal, hashed)
            self._keys.put(key, plan, len(key))
        return plan

    # -- per batch -------------------------------------------------------------------------
    def apply(self, batch: pb.Batch) -> pb.Batch:
        """The redacted batch (the same object if nothing fired). Never raises."""
        try:
            return self._apply(batch)
        except Exception as exc:  # noqa: BLE001 - fail closed, never let an unredacted batch through
            # The message may quote a value: log the type and where it happened, never the text.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            self.failures += 1
            self.last_failure = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            now = time.monotonic()
            if now - self._failure_logged > 10:
                self._failure_logged = now
                log.error("redaction failed (%s); the batch is stored with every string replaced by %r",
                          self.last_failure, FAILED)
            out = pb.Batch()
            out.CopyFrom(batch)
            strings = [s if not s else FAILED for s in batch.strings] or [""]
            strings[0] = ""
            del out.strings[:]
            out.strings.extend(strings)
            for field in SOURCE_FIELDS:
                if getattr(out.source, field):
                    setattr(out.source, field, FAILED)
            return out

    def _apply(self, batch: pb.Batch) -> pb.Batch:
        cols = _Columns(batch)
        strings = batch.strings[:]   # a list; slicing converts faster than list()
        key_plans: dict[int, tuple] = {}
        todo = None   # dictionary indexes to scan; None: all
        if (self.attr_rules or self.manifest.mode == "allow" or REDACTED_KEY in strings) and len(batch.attr_keys):
            keys = cols.attr_keys
            terminal = []
            present = np.zeros(len(strings), dtype=bool)   # the distinct keys, ascending, without a sort
            present[keys] = True
            for k in np.flatnonzero(present).tolist():
                plan = key_plans[k] = self._key_plan(strings[k])
                if plan[5]:
                    terminal.append(k)
            if terminal:   # values found only under terminal keys are replaced whole: do not scan them
                needed = np.zeros(len(strings), dtype=bool)
                open_key = np.ones(len(strings), dtype=bool)
                open_key[terminal] = False
                needed[cols.attr_values.compress(open_key.take(keys))] = True
                needed[list(key_plans)] = True
                needed[cols.names] = True
                needed[cols.bodies] = True
                needed[0] = False
                todo = np.flatnonzero(needed).tolist()
        cache = self._strings
        changed: dict[int, tuple] = {}
        need_json = any(p[3] for p in key_plans.values())
        jsonish = None   # values that may hold JSON, when some key's rules reach inside JSON
        if self.fast:
            idx = list(range(1, len(strings))) if todo is None else todo
            scan: list[int] = []
            chars: list = []
            if idx:
                texts = strings[1:] if todo is None else _pick(strings, idx)
                joined = layout(texts)
                if self.global_rules:   # only strings some detector's hint could accept are scanned
                    ok, masks = self._prefilter.candidates(texts, joined)
                    scan = np.flatnonzero(ok).tolist()
                    chars = masks[scan].tolist() if masks is not None else [None] * len(scan)
                if need_json:   # values under keys whose rules reach inside JSON are all in idx
                    a, starts = joined
                    first = a[starts]
                    jsonish = [idx[j] for j in np.flatnonzero((first == 123) | (first == 91)).tolist()]
            get, rules, scan_one = cache.get, self.global_rules, self.scan
            recall = cache.young.get if cache.young else None   # the young generation, once the cache filled
            new_keys, new_values = [], []   # admitted after the loop (the strings of a batch are distinct)
            for j, c in zip(scan, chars):
                i = idx[j]
                s = strings[i]
                r = get(s, _MISS)
                if r is _MISS:
                    r = _MISS if recall is None else recall(s, _MISS)
                    if r is _MISS:   # what _global does, inline
                        r = scan_one(s, rules, c) if s else None
                        if r is not None and r[1] == 0:
                            r = None
                    new_keys.append(s)
                    new_values.append(r)
                if r is not None:
                    changed[i] = r
            if new_keys:
                cache.put_all(new_keys, new_values)
        else:
            for i in range(1, len(strings)) if todo is None else todo:
                s = strings[i]
                r = cache.get(s, _MISS)
                if r is _MISS:
                    r = self._global(s) if s else None
                    if len(s) <= CACHE_MAX_CHARS:
                        cache.put(s, r, len(s))
                if r is not None:
                    changed[i] = r
            if need_json:
                jsonish = [i for i, s in enumerate(strings) if s[:1] in ("{", "[")]
        source = self._source(batch.source) if self.global_rules else None
        attr_work = bool(changed) or bool(jsonish) or any(not p[0] or p[1] or p[2] for p in key_plans.values())
        if not (attr_work or self.name_active or self.body_direct or self.body_nested or source):
            return batch
        return self._rebuild(batch, cols, strings, changed, key_plans, jsonish or [], source)

    def _source(self, src: pb.Source) -> dict[str, _Out] | None:
        """The value rules over the batch's source fields (host, subsystem, instance): {field: outcome}
        of those that changed, or None. Cached per string like the dictionary's strings."""
        out = None
        cache = self._strings
        for field in SOURCE_FIELDS:
            text = getattr(src, field)
            if not text:
                continue
            r = cache.get(text, _MISS)
            if r is _MISS:
                if self.fast:   # the prefilter first, as for the dictionary's strings
                    chars = None if self._prefilter.everything else mask_of(text)
                    r = None if chars is not None and not self._prefilter.accepts(chars) else self._global(text, chars)
                else:
                    r = self._global(text)
                if len(text) <= CACHE_MAX_CHARS:
                    cache.put(text, r, len(text))
            if r is not None:
                if out is None:
                    out = {}
                out[field] = r
        return out

    def _rebuild(self, batch: pb.Batch, cols: _Columns, strings: list[str], changed: dict, key_plans: dict,
                 jsonish: list[int], source: dict[str, _Out] | None = None) -> pb.Batch:
        """The batch with the outcomes applied (see the module's step 3). ``strings`` (the batch's dictionary
        as a list, the caller's own) is overwritten with the changed strings at the end."""
        n = len(batch.ts_unix_nano)
        n_str = len(strings)
        appended: list[str] = []   # strings[n_str + j]: the new strings (replacements, hashes, labels)
        added: dict[str, int] = {}
        ranges: list[tuple[int, list[str], set[str]]] = []   # appended by intern_all, not yet in `added`

        def intern(text: str) -> int:
            i = added.get(text)
            if i is None:
                if ranges and any(text in seen for _, _, seen in ranges):
                    settle()
                    return added[text]
                i = added[text] = n_str + len(appended)
                appended.append(text)
            return i

        def settle() -> None:
            """Enter the strings intern_all appended into `added`."""
            for start, texts, _ in ranges:
                added.update(zip(texts, range(start, start + len(texts))))
            ranges.clear()

        def intern_all(texts: list[str]) -> list[int] | range:
            """[intern(t) for t in texts], in C when they are distinct and none was interned before (then
            `added` learns them only if a later intern asks for one of them)."""
            if not self.fast:
                return [intern(t) for t in texts]
            seen = set(texts)
            if len(seen) != len(texts) or not added.keys().isdisjoint(seen) or any(
                    not seen.isdisjoint(other) for _, _, other in ranges):
                settle()
                return [intern(t) for t in texts]
            start = n_str + len(appended)
            appended.extend(texts)
            ranges.append((start, texts, seen))
            return range(start, start + len(texts))

        str_mask = np.zeros(n_str, dtype=np.uint64)
        str_drop = np.zeros(n_str, dtype=bool)
        if changed:
            where = list(changed)
            outs = list(changed.values())
            str_mask[where] = [out[1] for out in outs]
            str_drop[where] = [out[2] for out in outs]
        ident = np.arange(n_str, dtype=np.int64)

        # names: never dropped (a dropped name shows its rule's replacement)
        names = cols.names
        name_idx, name_mask = names, str_mask.take(names)
        if self.name_active:
            name_map, map_mask = ident.copy(), str_mask.copy()
            for u in np.unique(names).tolist():
                text, mask, _ = self._role_cached(self._bodies, ("name", strings[u]), "name", strings[u], False)
                if mask:
                    name_map[u], map_mask[u] = intern(text), mask
            name_idx, name_mask = name_map[names], map_mask[names]

        # bodies: a dropped body becomes "" (index 0)
        bodies = cols.bodies
        body_map, body_mask_map, body_drop_map = ident, str_mask, str_drop
        if self.body_direct or self.body_nested:
            body_map, body_mask_map, body_drop_map = ident.copy(), str_mask.copy(), str_drop.copy()
            for u in np.unique(bodies).tolist():
                if u == 0:
                    continue
                text, mask, drop = self._role_cached(self._bodies, ("body", strings[u]), "body", strings[u],
                                                     self.body_nested)
                if mask:
                    body_map[u], body_mask_map[u], body_drop_map[u] = intern(text), mask, drop
        if body_map is ident:   # no body rule: a body is itself unless the global pass dropped it
            body_idx = np.where(str_drop.take(bodies), 0, bodies) if changed else bodies
        else:
            body_idx = np.where(body_drop_map[bodies], 0, body_map[bodies])
        body_mask = body_mask_map.take(bodies)

        # attributes: a key's plan as flags, gathered once per position
        counts = cols.attr_counts
        keys = cols.attr_keys
        vals = cols.attr_values
        pos_val = vals.copy()
        any_drop = not self.fast or bool(changed) and any(d for _, _, d in changed.values())
        # the global pass's outcome per position: of the value, and of the key if it changed (rare)
        keys_too = not key_plans or any(k in changed for k in key_plans)
        if not changed:
            pos_mask = np.zeros(len(keys), dtype=np.uint64)
        else:
            pos_mask = str_mask.take(vals)
            if keys_too:
                pos_mask |= str_mask.take(keys)
        if any_drop:
            pos_drop = str_drop.take(vals)
            if keys_too:
                pos_drop |= str_drop.take(keys)
        else:
            pos_drop = np.zeros(len(keys), dtype=bool)
        dropping = any_drop   # may pos_drop hold a True?
        if key_plans:
            flags = np.zeros(n_str, dtype=np.uint8)
            c_val = np.zeros(n_str, dtype=np.int64)
            c_mask = np.zeros(n_str, dtype=np.uint64)
            c_drop = np.zeros(n_str, dtype=bool)
            any_const = any_const_drop = False
            for k, (ok, res, direct, nest, const, _terminal, _hashed) in key_plans.items():
                f = (0 if ok else _REFUSED) | (_RESERVED if res else 0) | (_NESTED if nest else 0)
                if const is not None:   # every value of this key gets the same outcome: no per-value work
                    f |= _CONST
                    any_const = True
                    any_const_drop |= const[2]
                    c_mask[k], c_drop[k] = const[1] | int(str_mask[k]), const[2]
                    c_val[k] = 0 if const[2] else intern(const[0])
                elif direct:
                    f |= _WORK
                flags[k] = f
            pf = flags.take(keys)
            if not self.fast or self.manifest.mode == "allow":
                refused = (pf & _REFUSED).astype(bool)
                if refused.any():
                    pos_drop |= refused
                    pos_mask = np.where(refused, np.uint64(1 << self.allow_bit), pos_mask)
                    dropping = True
            if not self.fast or any(p[1] for p in key_plans.values()):   # an incoming ben.redacted
                reserved = (pf & _RESERVED).astype(bool)
                pos_drop |= reserved
                pos_mask = np.where(reserved, np.uint64(0), pos_mask)
                dropping = True
            if any_const:
                const_pos = np.flatnonzero((pf & _CONST).astype(bool) & ~pos_drop if dropping else pf & _CONST)
                if len(const_pos):
                    ck = keys.take(const_pos)
                    pos_val[const_pos] = c_val.take(ck)
                    pos_mask[const_pos] = c_mask.take(ck)
                    if any_const_drop:
                        pos_drop[const_pos] = c_drop.take(ck)
                        dropping = True
            act = (pf & _WORK).astype(bool)
            if jsonish:   # keys whose rules reach inside JSON: their JSON values (never a const key's)
                json_val = np.zeros(n_str, dtype=bool)
                json_val[jsonish] = True
                act |= (pf & _NESTED).astype(bool) & json_val.take(vals)
            work = np.flatnonzero(act & ~pos_drop if dropping else act)
            if len(work):
                key_mask = {k: int(str_mask[k]) for k in key_plans}
                key_drop = {k: bool(str_drop[k]) for k in key_plans}
                if self.fast:
                    dropping |= self._pairs_by_key(work, keys, vals, strings, key_plans, key_mask, key_drop, intern,
                                                   intern_all, pos_val, pos_mask, pos_drop)
                else:
                    uniq, inverse = np.unique((keys.take(work) << 32) | vals.take(work), return_inverse=True)
                    u_val, u_mask, u_drop = [], [], []
                    self._pairs_one_by_one(uniq.tolist(), strings, key_plans, key_mask, key_drop, intern,
                                           u_val, u_mask, u_drop)
                    u_val = np.asarray(u_val, dtype=np.int64)
                    u_mask = np.asarray(u_mask, dtype=np.uint64)
                    u_drop = np.asarray(u_drop, dtype=bool)
                    pos_val[work] = u_val.take(inverse)
                    pos_mask[work] = u_mask.take(inverse)
                    pos_drop[work] = u_drop.take(inverse)
                    dropping = True

        # which rules fired, per event and per rule
        event_mask = name_mask | body_mask
        if source:   # a source field redacted: every event of the batch carries it
            src_mask = 0
            for _, m, _ in source.values():
                src_mask |= m
                for bit, name in enumerate(self.names):
                    if m >> bit & 1:
                        self.counts[name] += 1
            event_mask = event_mask | np.uint64(src_mask)
        starts = np.cumsum(counts) - counts
        if pos_mask.any():   # an event's positions are contiguous: OR them per event (ufunc.at is slower)
            # reduceat needs every start inside the array: a zero appended unless the last event has positions
            per_event = np.bitwise_or.reduceat(pos_mask if counts[-1] else np.append(pos_mask, np.uint64(0)), starts)
            per_event[counts == 0] = 0
            event_mask |= per_event
        self._count(name_mask, body_mask, pos_mask)

        if dropping and pos_drop.any():
            keep = ~pos_drop
            new_keys, new_vals = keys.compress(keep), pos_val.compress(keep)
            kept = np.zeros(len(keep) + 1, dtype=np.int64)   # kept positions before each
            np.cumsum(keep, out=kept[1:])
            new_counts = kept.take(starts + counts) - kept.take(starts)
        else:
            new_keys, new_vals, new_counts = keys, pos_val, counts.copy()
        touched = np.flatnonzero(event_mask)
        if len(touched):
            touched_masks = event_mask.take(touched)
            uniq_masks = distinct(touched_masks)
            labels = np.asarray([intern(self._label(m)) for m in uniq_masks.tolist()], dtype=np.int64)
            label_idx = labels.take(np.searchsorted(uniq_masks, touched_masks)) if len(labels) > 1 else labels
            at = np.cumsum(new_counts).take(touched) + np.arange(len(touched))   # where each goes in the output
            slot = np.zeros(len(new_keys) + len(touched), dtype=bool)
            slot[at] = True
            keys_out = np.empty(len(slot), dtype=np.int64)
            vals_out = np.empty(len(slot), dtype=np.int64)
            keys_out[at], vals_out[at] = intern(REDACTED_KEY), label_idx
            rest = ~slot
            keys_out[rest], vals_out[rest] = new_keys, new_vals
            new_keys, new_vals = keys_out, vals_out
            new_counts[touched] += 1

        # compact the dictionary: no replaced string may stay in it
        used = np.zeros(n_str + len(appended), dtype=bool)
        used[0] = True
        for arr in (name_idx, body_idx, new_keys, new_vals):
            used[arr] = True
        remap = np.cumsum(used) - 1
        out = pb.Batch()
        out.source.CopyFrom(batch.source)
        for field, (text, _, drop) in (source or {}).items():   # a dropped source field is emptied
            setattr(out.source, field, "" if drop else text)
        out.producer_id = batch.producer_id
        out.first_event_seq = batch.first_event_seq
        out.event_seqs.extend(batch.event_seqs)
        out.ts_unix_nano.extend(batch.ts_unix_nano)
        out.values.extend(batch.values)
        out.kinds.extend(batch.kinds)
        # the dictionary out: the batch's strings still used (changed ones replaced in place, now that nothing
        # reads their original text any more), then the new ones used; only those are touched (picking from a
        # copy of the whole dictionary touched every string object: cache misses on ~4,000 of them)
        for i, (text, _, _) in changed.items():
            strings[i] = text
        picked = np.flatnonzero(used).tolist()
        cut = bisect_left(picked, n_str)
        out.strings.extend(_pick(strings, picked[:cut]))
        if len(picked) - cut == len(appended):   # every new string is used (the common case)
            out.strings.extend(appended)
        elif cut < len(picked):
            out.strings.extend(_pick(appended, [i - n_str for i in picked[cut:]]))
        columns = (remap.take(name_idx), remap.take(body_idx), new_counts, remap.take(new_keys), remap.take(new_vals))
        packed = _packed((8, 9, 10, 11, 12), columns) if self.fast else None
        if packed is not None:   # the index columns in protobuf's packed encoding, parsed by upb in C
            out.MergeFromString(packed)
        else:
            out.names.extend(columns[0].tolist())
            out.bodies.extend(columns[1].tolist())
            out.attr_counts.extend(columns[2].tolist())
            out.attr_keys.extend(columns[3].tolist())
            out.attr_values.extend(columns[4].tolist())
        return out

    def _pairs_by_key(self, work: np.ndarray, keys: np.ndarray, vals: np.ndarray, strings: list[str],
                      key_plans: dict, key_mask: dict, key_drop: dict, intern, intern_all, pos_val: np.ndarray,
                      pos_mask: np.ndarray, pos_drop: np.ndarray) -> bool:
        """The role pass over the attribute positions `work`, key by key (ascending), each key's distinct
        values ascending: the order in which the plain path meets the (key, value) pairs, so strings are
        interned in the same order. Distinct values are found with a presence array over the dictionary
        instead of ``np.unique`` over the pairs (a sort and its inverse): a batch has a few keys with work
        and thousands of positions. Writes the positions' outcome; True if some position is now dropped."""
        n_str = len(strings)
        wv = vals.take(work)
        # the keys that can have work: rules name their values (not a key replaced whole) or reach into them
        ks = [k for k, plan in key_plans.items() if plan[4] is None and (plan[2] or plan[3])]
        if len(ks) > 1:   # which of them have work in this batch, ascending
            wk = keys.take(work)
            present = np.zeros(n_str, dtype=bool)
            present[wk] = True
            ks = np.flatnonzero(present).tolist()
        dropped = False
        for k in ks:
            if len(ks) == 1:
                at, v = work, wv
            else:
                sel = wk == k
                at, v = work.compress(sel), wv.compress(sel)
            present = np.zeros(n_str, dtype=bool)
            present[v] = True
            seen = np.flatnonzero(present)   # the key's distinct values, ascending
            new_val = np.empty(n_str, dtype=np.int64)   # a value's index -> the index of what replaces it
            hashed = key_plans[k][6]
            if hashed:   # every value replaced by its keyed hash: one pass, no pair tuples
                idx = intern_all(self._hashes_of(_pick(strings, seen.tolist())))
                new_val[seen] = np.arange(idx.start, idx.stop) if isinstance(idx, range) else idx
                pos_val[at] = new_val.take(v)
                pos_mask[at] = hashed | key_mask[k]
                if key_drop[k]:
                    pos_drop[at] = True
                    dropped = True
                continue
            vs, ms, ds = [], [], []
            self._pairs_one_by_one([k << 32 | d for d in seen.tolist()], strings, key_plans, key_mask,
                                   key_drop, intern, vs, ms, ds)
            new_val[seen] = vs
            new_mask = np.empty(n_str, dtype=np.uint64)
            new_mask[seen] = ms
            pos_val[at] = new_val.take(v)
            pos_mask[at] = new_mask.take(v)
            if any(ds):
                new_drop = np.zeros(n_str, dtype=bool)
                new_drop[seen] = ds
                pos_drop[at] = new_drop.take(v)
                dropped = True
        return dropped

    def _pairs_one_by_one(self, combos: list[int], strings: list[str], key_plans: dict, key_mask: dict,
                          key_drop: dict, intern, u_val: list, u_mask: list, u_drop: list) -> None:
        """Field rules and scoped value rules per distinct (key, value) pair (combo: key << 32 | value)."""
        pairs = self._pairs
        for c in combos:
            k, v = c >> 32, c & 0xFFFFFFFF
            kstr, vstr = strings[k], strings[v]
            out = pairs.get((kstr, vstr))
            if out is None:
                out = self._role_cached(pairs, (kstr, vstr), "attributes." + kstr, vstr, key_plans[k][3])
            text, mask, drop = out
            u_val.append(intern(text) if mask else v)
            u_mask.append(mask | key_mask[k])
            u_drop.append(drop or key_drop[k])

    def _hashes_of(self, texts: list[str]) -> list[str]:
        """The keyed hash of each text, cached (door-keeper and young generation, bounded like the other caches)."""
        cache = self._hashes
        out = list(map(cache.get, texts))
        if None in out:
            miss = list(compress(range(len(out)), map(not_, out)))   # where out is None (a hash is never "")
            new = _pick(texts, miss)
            if cache.young:   # computed at the first sighting
                hashes = list(map(cache.young.get, new))
                if None in hashes:
                    todo = list(compress(range(len(hashes)), map(not_, hashes)))
                    for j, h in zip(todo, self._hash.many(_pick(new, todo))):
                        hashes[j] = h
            else:
                hashes = self._hash.many(new)
            for j, h in zip(miss, hashes):
                out[j] = h
            cache.put_all(new, hashes)
        return out

    def _role_cached(self, cache: _Cache, key, path: str, text: str, nested: bool) -> _Out:
        out = cache.get(key)
        if out is None:
            out = self.field(path, text, nested)
            if len(text) <= CACHE_MAX_CHARS:
                cache.put(key, out, len(text))
        return out

    def _label(self, mask: int) -> str:
        label = self._labels.get(mask)
        if label is None:
            label = ",".join(name for bit, name in enumerate(self.names) if mask >> bit & 1)
            if len(self._labels) < 4096:
                self._labels[mask] = label
        return label

    def _count(self, *masks: np.ndarray) -> None:
        """Count, per rule, the elements of the mask arrays in which its bit is set."""
        held = [(m, int(np.bitwise_or.reduce(m))) for m in masks if len(m)]   # each array with the bits it holds
        present = 0
        for _, bits in held:
            present |= bits
        for bit, name in enumerate(self.names):
            if present >> bit & 1:   # counted only in the arrays that hold the bit (most hold none of a batch's)
                b = np.uint64(1 << bit)
                self.counts[name] += sum(int(np.count_nonzero(m & b)) for m, bits in held if bits >> bit & 1)
