"""OTLP attribute values and identities as ben strings (``AnyValue`` -> str, ids -> hex)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from opentelemetry.proto.common.v1 import common_pb2

from ben.sdk.limits import MAX_ATTR_VALUE_CHARS, MAX_ATTRS, MAX_BODY_CHARS

#: Resource attributes that become the batch's source instead of attributes.
SERVICE_NAME, HOST_NAME, INSTANCE_ID = "service.name", "host.name", "service.instance.id"
#: What OpenTelemetry names a service that set no ``service.name``.
UNKNOWN_SERVICE = "unknown_service"
_SHORT = 256


def plain(value: common_pb2.AnyValue) -> object:
    """An ``AnyValue`` as a JSON-able Python value (bytes as base64)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [plain(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, which)


#: Characters of an array or a map written as JSON at most (and one more, so the cut is counted): what any item
#: keeps of one (``MAX_BODY_CHARS``, the largest). The whole was made, then cut: one attribute of an array of two
#: million integers (12 MB of OTLP) took the conversion thread, which serves every client in turn, 4.3 s to make
#: 14.9 MB of JSON of which 4,096 characters were kept (ADR 0045, round 14).
MAX_JSON_CHARS = MAX_BODY_CHARS + 1


def text(value: common_pb2.AnyValue, limit: int = MAX_JSON_CHARS) -> str:
    """An ``AnyValue`` as one string: strings as they are, numbers and booleans as JSON would
    write them, bytes as base64, arrays and maps as JSON (its first ``limit`` characters at least, as
    ``json.dumps(plain(value))`` writes them; what follows is never made)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which is None:
        return ""
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return _bounded(value, limit)


def _bounded(value: common_pb2.AnyValue, limit: int) -> str:
    """``value`` as JSON, its first ``limit`` characters at least (the rest never made)."""
    parts, size = [], 0
    for part in _json(value, limit):
        parts.append(part)
        size += len(part)
        if size > limit:
            break
    return "".join(parts)


def _json(value: common_pb2.AnyValue, limit: int) -> Iterator[str]:
    """``json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"), allow_nan=True)`` in pieces, as far as
    ``limit`` characters at least. A map's entries are read only until they make more than ``limit``: a later
    duplicate of a key wins (as in a dict) among those read (1.5 million entries were all read first: 6.7 s)."""
    which = value.WhichOneof("value")
    if which == "array_value":
        yield "["
        for i, item in enumerate(value.array_value.values):
            if i:
                yield ","
            yield from _json(item, limit)
        yield "]"
    elif which == "kvlist_value":
        entries: dict[str, str] = {}
        size = 0
        for kv in value.kvlist_value.values:
            entries[kv.key] = item = _bounded(kv.value, limit)
            size += len(kv.key) + len(item) + 4
            if size > limit:
                break
        yield "{" + ",".join(json.dumps(key, ensure_ascii=False) + ":" + item for key, item in entries.items()) + "}"
    else:
        yield json.dumps(plain(value), ensure_ascii=False, allow_nan=True)


#: Distinct keys made of one list of attributes: an item keeps ``MAX_ATTRS`` of its attributes (ben's own first,
#: ``BatchBuilder``), so the others were made into strings and a dict only to be cut: 1.2 million tiny attributes
#: of one record (15.7 MB of OTLP) took 1.5 s and 170 MB. One more than the limit, so the cut is still counted.
MAX_KEYS = MAX_ATTRS + 1


def attributes(kvs, prefix: str = "", always: Collection[str] = ()) -> dict[str, str]:
    """Repeated ``KeyValue`` as a dict of strings (a later duplicate key wins, as in the SDKs): the first
    ``MAX_KEYS`` distinct keys and those in ``always`` (a resource's ``service.name`` after a hundred others)."""
    out: dict[str, str] = {}
    for kv in kvs:
        if kv.key:
            key = prefix + kv.key
            if len(out) < MAX_KEYS or key in out or kv.key in always:
                out[key] = text(kv.value)
    return out


def bounded_json(items: Sequence, counts, limit: int = MAX_ATTR_VALUE_CHARS,
                 make: Callable[[Any], dict] | None = None) -> str:
    """``items`` (span events or links, each made a dict by ``make`` when given) as a JSON array of at most
    ``limit`` characters, still valid JSON: long attribute values are shortened first (to 256 characters,
    with "…"), then the last items are left out and one ``{"dropped": n}`` says how many. Each shortening adds
    one to ``counts.truncated``.

    Linear in what fits: each item is made and written once per pass, and a pass stops at the first item past
    the limit, so the items past it are never made (a span of 8 million empty events, 16 MB of OTLP, took a
    time quadratic in their number when the array was written again after each item left out)."""
    make = make or (lambda item: item)
    parts, fits = _prefix(items, make, limit, short=False)
    if fits:
        return "[" + ", ".join(parts) + "]"
    counts.truncated += 1
    parts, fits = _prefix(items, make, limit, short=True)
    if fits:
        return "[" + ", ".join(parts) + "]"
    room = limit - len(json.dumps({"dropped": len(items)})) - 2    # the mark and the ", " before it
    kept, size = 0, 2
    for part in parts:
        size += len(part) + (2 if kept else 0)
        if size > room:
            break
        kept += 1
    return "[" + ", ".join(parts[:kept] + [json.dumps({"dropped": len(items) - kept})]) + "]"


def _prefix(items: Sequence, make, limit: int, short: bool) -> tuple[list[str], bool]:
    """The items written one by one until they pass ``limit`` (with "[", "]" and ", "): (written, all fit).
    The last written may be the one past the limit (``bounded_json`` leaves it out)."""
    parts: list[str] = []
    size = 2
    for i in range(len(items)):
        item = make(items[i])
        if short:
            attrs = item.get("attributes") or {}
            for key, value in attrs.items():
                if len(value) > _SHORT:
                    attrs[key] = value[:_SHORT] + "…"
        parts.append(json.dumps(item, ensure_ascii=False))
        size += len(parts[-1]) + (2 if i else 0)
        if size > limit:
            break
    return parts, len(parts) == len(items) and size <= limit


def hex_id(raw: bytes) -> str:
    """A trace or span id as the lowercase hex OpenTelemetry shows (empty when unset)."""
    return raw.hex() if raw and any(raw) else ""


#: OTLP's id sizes in bytes: a trace id is 16, a span id 8 (trace.proto, logs.proto).
ID_BYTES = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}


def id_problem(field: str, raw: bytes) -> str:
    """Why an id set to ``raw`` is none ("" when it is of its size, or unset): an id of another length named no
    span any tracer made, and was stored as its hex (``"abcd"``), to join with nothing."""
    size = ID_BYTES[field]
    return f"{field} is {len(raw)} bytes (OTLP: {size})" if raw and len(raw) != size else ""
