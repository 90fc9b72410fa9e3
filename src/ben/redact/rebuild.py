"""Step 3 of the engine (``ben.redact.engine``): the batch rebuilt with the outcomes applied.

Index columns are rebuilt with numpy (pairs dropped, values remapped), each touched event gets the
attribute ``ben.redacted`` = the rules that fired (never the value), and the dictionary is compacted so
no replaced string stays in it; the index columns are written in protobuf's packed encoding
(``ben.redact.wire``). The strings a rebuild adds (replacements, hashes, labels) are numbered by
``NewStrings`` in the order the plain path meets them, so both paths build the same bytes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

import numpy as np

from ben.redact.manifest import Manifest
from ben.redact.prefilter import distinct
from ben.redact.scanning import REDACTED_KEY, KeyPlan, Outcome, Scanner
from ben.redact.wire import Columns, packed, pick
from ben.v1 import telemetry_pb2 as pb

# a key's plan, as flags per attribute position (Rebuilder._rebuild)
_REFUSED, _RESERVED, _CONST, _WORK, _NESTED = 1, 2, 4, 8, 16


class NewStrings:
    """The strings one rebuild appends to a dictionary of ``base`` strings: each gets the index
    ``base + j`` at its first ``intern``. ``intern_all`` appends a run of distinct new strings in C and
    enters them in ``added`` only when a later ``intern`` asks for one of them (``settle``)."""

    __slots__ = ("base", "fast", "appended", "added", "ranges")

    def __init__(self, base: int, *, fast: bool):
        self.base = base
        self.fast = fast                 # False: intern_all interns one by one (the plain path)
        self.appended: list[str] = []    # strings[base + j]: the new strings, in order
        self.added: dict[str, int] = {}  # string -> its index, for those interned (or settled)
        self.ranges: list[tuple[int, list[str], set[str]]] = []   # appended by intern_all, not yet in `added`

    def intern(self, text: str) -> int:
        """The index of text among the new strings (appended if it is not there yet)."""
        added = self.added
        i = added.get(text)
        if i is None:
            if self.ranges and any(text in seen for _, _, seen in self.ranges):
                self.settle()
                return added[text]
            i = added[text] = self.base + len(self.appended)
            self.appended.append(text)
        return i

    def settle(self) -> None:
        """Enter the strings intern_all appended into `added`."""
        added = self.added
        for start, texts, _ in self.ranges:
            added.update(zip(texts, range(start, start + len(texts))))
        self.ranges.clear()

    def intern_all(self, texts: list[str]) -> list[int] | range:
        """[intern(t) for t in texts], in C when they are distinct and none was interned before (then
        `added` learns them only if a later intern asks for one of them)."""
        if not self.fast:
            return [self.intern(t) for t in texts]
        seen = set(texts)
        if len(seen) != len(texts) or not self.added.keys().isdisjoint(seen) or any(
                not seen.isdisjoint(other) for _, _, other in self.ranges):
            self.settle()
            return [self.intern(t) for t in texts]
        start = self.base + len(self.appended)
        self.appended.extend(texts)
        self.ranges.append((start, texts, seen))
        return range(start, start + len(texts))


class Rebuilder(Scanner):
    """A ``Scanner`` that also rebuilds a batch from the outcomes of its strings (``_rebuild``) and
    counts, per rule, the occurrences it redacted (``counts``)."""

    def __init__(self, manifest: Manifest, fast: bool = True):
        super().__init__(manifest, fast)
        self.counts: Counter = Counter()    # occurrences redacted, by rule name
        self._labels: dict[int, str] = {}   # mask of rules -> the ben.redacted label naming them

    def _rebuild(self, batch: pb.Batch, cols: Columns, strings: list[str], changed: dict[int, Outcome],
                 key_plans: dict[int, KeyPlan], jsonish: list[int], source: dict[str, Outcome] | None = None
                 ) -> pb.Batch:
        """The batch with the outcomes applied (see the module's step 3). ``strings`` (the batch's dictionary
        as a list, the caller's own) is overwritten with the changed strings at the end."""
        n_str = len(strings)
        new_strings = NewStrings(n_str, fast=self.fast)
        intern, intern_all, appended = new_strings.intern, new_strings.intern_all, new_strings.appended

        str_mask = np.zeros(n_str, dtype=np.uint64)
        str_drop = np.zeros(n_str, dtype=bool)
        if changed:
            where = list(changed)
            outs = list(changed.values())
            str_mask[where] = [out.mask for out in outs]
            str_drop[where] = [out.drop for out in outs]
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
        any_drop = not self.fast or bool(changed) and any(out.drop for out in changed.values())
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
            for k, plan in key_plans.items():
                f = (0 if plan.allowed else _REFUSED) | (_RESERVED if plan.reserved else 0) | (
                    _NESTED if plan.nested else 0)
                const = plan.const
                if const is not None:   # every value of this key gets the same outcome: no per-value work
                    f |= _CONST
                    any_const = True
                    any_const_drop |= const.drop
                    c_mask[k], c_drop[k] = const.mask | int(str_mask[k]), const.drop
                    c_val[k] = 0 if const.drop else intern(const.text)
                elif plan.direct:
                    f |= _WORK
                flags[k] = f
            pf = flags.take(keys)
            if not self.fast or self.manifest.mode == "allow":
                refused = (pf & _REFUSED).astype(bool)
                if refused.any():
                    pos_drop |= refused
                    pos_mask = np.where(refused, np.uint64(1 << self.allow_bit), pos_mask)
                    dropping = True
            if not self.fast or any(p.reserved for p in key_plans.values()):   # an incoming ben.redacted
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
            for out in source.values():
                m = out.mask
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
        out.strings.extend(pick(strings, picked[:cut]))
        if len(picked) - cut == len(appended):   # every new string is used (the common case)
            out.strings.extend(appended)
        elif cut < len(picked):
            out.strings.extend(pick(appended, [i - n_str for i in picked[cut:]]))
        columns = (remap.take(name_idx), remap.take(body_idx), new_counts, remap.take(new_keys), remap.take(new_vals))
        encoded = packed((8, 9, 10, 11, 12), columns) if self.fast else None
        if encoded is not None:   # the index columns in protobuf's packed encoding, parsed by upb in C
            out.MergeFromString(encoded)
        else:
            out.names.extend(columns[0].tolist())
            out.bodies.extend(columns[1].tolist())
            out.attr_counts.extend(columns[2].tolist())
            out.attr_keys.extend(columns[3].tolist())
            out.attr_values.extend(columns[4].tolist())
        return out

    def _pairs_by_key(self, work: np.ndarray, keys: np.ndarray, vals: np.ndarray, strings: list[str],
                      key_plans: dict[int, KeyPlan], key_mask: dict, key_drop: dict, intern, intern_all, pos_val: np.ndarray,
                      pos_mask: np.ndarray, pos_drop: np.ndarray) -> bool:
        """The role pass over the attribute positions `work`, key by key (ascending), each key's distinct
        values ascending: the order in which the plain path meets the (key, value) pairs, so strings are
        interned in the same order. Distinct values are found with a presence array over the dictionary
        instead of ``np.unique`` over the pairs (a sort and its inverse): a batch has a few keys with work
        and thousands of positions. Writes the positions' outcome; True if some position is now dropped."""
        n_str = len(strings)
        wv = vals.take(work)
        # the keys that can have work: rules name their values (not a key replaced whole) or reach into them
        ks = [k for k, plan in key_plans.items() if plan.const is None and (plan.direct or plan.nested)]
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
            hashed = key_plans[k].hashed
            if hashed:   # every value replaced by its keyed hash: one pass, no pair tuples
                idx = intern_all(self._hashes_of(pick(strings, seen.tolist())))
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

    def _pairs_one_by_one(self, combos: list[int], strings: list[str], key_plans: dict[int, KeyPlan], key_mask: dict,
                          key_drop: dict, intern, u_val: list, u_mask: list, u_drop: list) -> None:
        """Field rules and scoped value rules per distinct (key, value) pair (combo: key << 32 | value)."""
        pairs = self._pairs
        for c in combos:
            k, v = c >> 32, c & 0xFFFFFFFF
            kstr, vstr = strings[k], strings[v]
            out = pairs.get((kstr, vstr))
            if out is None:
                out = self._role_cached(pairs, (kstr, vstr), "attributes." + kstr, vstr, key_plans[k].nested)
            text, mask, drop = out
            u_val.append(intern(text) if mask else v)
            u_mask.append(mask | key_mask[k])
            u_drop.append(drop or key_drop[k])

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
