"""The engine's bounded caches (ADR 0018): results per distinct string (or pair) across batches.

A cache admits a key at its second sighting (a door-keeper set of hashes, or a young generation
for short strings) once it has been full, so values unique to one event never push out the
repeated ones; its entries and the characters of its keys stay within ``CACHE_MAX`` and
``CACHE_BUDGET_CHARS``.
"""

from __future__ import annotations

CACHE_MAX = 65_536                # distinct strings (and pairs) remembered per cache
CACHE_MAX_CHARS = 4096            # longer strings are not cached
CACHE_BUDGET_CHARS = 2 << 20      # characters of the strings one cache holds, at most
YOUNG_MAX_CHARS = 256             # longer strings are not kept at their first sighting

MISS = object()   # what ``get(key, MISS)`` returns for a key not held


class Cache(dict):
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
            if young.pop(key, MISS) is MISS:   # first sighting (or forgotten since): keep it young
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
            elif pop(key, MISS) is MISS:   # a first sighting: keep it young
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
