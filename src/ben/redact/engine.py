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

The work is split by job (ADR 0043): ``ben.redact.scanning`` (``Scanner``: what the rules make of
one string, steps 1 and 2 per string), ``ben.redact.cache`` (the bounded caches),
``ben.redact.rebuild`` (``Rebuilder``: step 3) and ``ben.redact.wire`` (columns in and out); this
module holds the batch pass (``Engine.apply``) that ties them together.

A batch in which nothing fires is returned as it came (the same object). ``apply`` never raises: on
an internal error the batch fails closed (every string replaced, see ``FAILED``) and is counted.
"""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path

import numpy as np

from ben.redact.cache import CACHE_MAX_CHARS, MISS
from ben.redact.manifest import Manifest
from ben.redact.prefilter import layout, mask_of
from ben.redact.rebuild import Rebuilder
from ben.redact.scanning import REDACTED_KEY, KeyPlan, Outcome
from ben.redact.wire import Columns, pick
from ben.v1 import telemetry_pb2 as pb

__all__ = ["Engine", "FAILED", "REDACTED_KEY", "SOURCE_FIELDS"]

log = logging.getLogger(__name__)

FAILED = "[redaction failed]"     # every string of a batch the engine could not process
SOURCE_FIELDS = ("host", "subsystem", "instance")   # a batch's source, scanned by the value rules too


class Engine(Rebuilder):
    """A manifest ready to run. Not thread-safe (caches, counts): one thread at a time per engine
    (the sidecar keeps one per commit task, see ``Redactor``).

    ``fast`` (the default) turns on the batch-wide shortcuts of ADR 0018: the vectorised prefilter
    before the per-string scan, the first-character test for JSON values, and one pass per key for
    values a ``hash`` field rule replaces whole. ``fast=False`` is the plain path they must agree
    with (tests/redact/test_fast_path.py)."""

    def __init__(self, manifest: Manifest, fast: bool = True):
        super().__init__(manifest, fast)
        self.failures = 0
        self.last_failure = ""
        self._failure_logged = 0.0

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
        cols = Columns(batch)
        strings = batch.strings[:]   # a list; slicing converts faster than list()
        key_plans: dict[int, KeyPlan] = {}
        todo = None   # dictionary indexes to scan; None: all
        if (self.attr_rules or self.manifest.mode == "allow" or REDACTED_KEY in strings) and len(batch.attr_keys):
            keys = cols.attr_keys
            terminal = []
            present = np.zeros(len(strings), dtype=bool)   # the distinct keys, ascending, without a sort
            present[keys] = True
            for k in np.flatnonzero(present).tolist():
                plan = key_plans[k] = self._key_plan(strings[k])
                if plan.terminal:
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
        changed: dict[int, Outcome] = {}
        need_json = any(p.nested for p in key_plans.values())
        jsonish = None   # values that may hold JSON, when some key's rules reach inside JSON
        if self.fast:
            idx = list(range(1, len(strings))) if todo is None else todo
            scan: list[int] = []
            chars: list = []
            if idx:
                texts = strings[1:] if todo is None else pick(strings, idx)
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
                r = get(s, MISS)
                if r is MISS:
                    r = MISS if recall is None else recall(s, MISS)
                    if r is MISS:   # what _global does, inline
                        r = scan_one(s, rules, c) if s else None
                        if r is not None and r.mask == 0:
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
                r = cache.get(s, MISS)
                if r is MISS:
                    r = self._global(s) if s else None
                    if len(s) <= CACHE_MAX_CHARS:
                        cache.put(s, r, len(s))
                if r is not None:
                    changed[i] = r
            if need_json:
                jsonish = [i for i, s in enumerate(strings) if s[:1] in ("{", "[")]
        source = self._source(batch.source) if self.global_rules else None
        attr_work = bool(changed) or bool(jsonish) or any(
            not p.allowed or p.reserved or p.direct for p in key_plans.values())
        if not (attr_work or self.name_active or self.body_direct or self.body_nested or source):
            return batch
        return self._rebuild(batch, cols, strings, changed, key_plans, jsonish or [], source)

    def _source(self, src: pb.Source) -> dict[str, Outcome] | None:
        """The value rules over the batch's source fields (host, subsystem, instance): {field: outcome}
        of those that changed, or None. Cached per string like the dictionary's strings."""
        out = None
        cache = self._strings
        for field in SOURCE_FIELDS:
            text = getattr(src, field)
            if not text:
                continue
            r = cache.get(text, MISS)
            if r is MISS:
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
