"""How many parts an export request holds, counted before it is converted (ADR 0045, round 10).

Conversion costs per part: a resource, a scope, a record, a span and its events and links, a metric and its
data points. An empty part is two bytes of protobuf (``0a 00``), so a 16 MiB request (or a gzip body of a
few kilobytes inflating to it) held 8 million of them: 4 million empty log records took the sidecar's one
conversion thread 46 s and 1.2 GB before the batch was refused for its size, and 5 million empty resources
49 s, for nothing stored; every other application's export waited behind it. A request with more than
``MAX_PARTS`` parts (the limit of one batch, ``MAX_EVENTS_PER_BATCH``, which such a request reaches anyway)
is refused before conversion, after counting at most that many: lengths of repeated fields, no part read.
"""

from __future__ import annotations

from ben.core.batch import MAX_EVENTS_PER_BATCH

MAX_PARTS = MAX_EVENTS_PER_BATCH


class _Over(Exception):
    pass


def _count(n: int, total: list[int], limit: int) -> None:
    total[0] += n
    if total[0] > limit:
        raise _Over


def _points(metric) -> int:
    which = metric.WhichOneof("data")
    return len(getattr(metric, which).data_points) if which else 0


#: The repeated fields of each signal: (resources, scopes, items) as in protobuf and in OTLP/JSON (lowerCamelCase).
_FIELDS = {"logs": ("resource_logs", "scope_logs", "log_records"),
           "traces": ("resource_spans", "scope_spans", "spans"),
           "metrics": ("resource_metrics", "scope_metrics", "metrics")}
_DATA = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def too_many(signal: str, request, limit: int = MAX_PARTS) -> str:
    """Why a parsed ``request`` is refused for its number of parts ("" when it is not)."""
    res, scopes, _ = _FIELDS[signal]
    if signal == "logs":
        inner = lambda s: len(s.log_records)  # noqa: E731
    elif signal == "traces":
        inner = lambda s: sum(1 + len(span.events) + len(span.links) for span in _bounded(s.spans, limit))  # noqa: E731
    else:
        inner = lambda s: sum(1 + _points(m) for m in _bounded(s.metrics, limit))  # noqa: E731
    return _verdict(lambda total: _walk(getattr(request, res), lambda r: getattr(r, scopes), inner, total, limit),
                    limit)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _list(obj, name: str) -> list:
    """``obj``'s list of ``name`` (either spelling OTLP/JSON allows); [] for anything else (the parser names it)."""
    if not isinstance(obj, dict):
        return []
    value = obj.get(_camel(name), obj.get(name))
    return value if isinstance(value, list) else []


def _json_points(metric) -> int:
    if not isinstance(metric, dict):
        return 0
    for which in _DATA:
        data = metric.get(_camel(which), metric.get(which))
        if isinstance(data, dict):
            return len(_list(data, "data_points"))
    return 0


def too_many_json(signal: str, obj, limit: int = MAX_PARTS) -> str:
    """The same for an OTLP/JSON body as ``json.loads`` read it, before it is turned into protobuf (which costs
    per part too: 4 million ``{}`` records, 12 MB, held the sidecar's event loop 67 s)."""
    res, scopes, items = _FIELDS[signal]
    if signal == "logs":
        inner = lambda s: len(_list(s, items))  # noqa: E731
    elif signal == "traces":
        inner = lambda s: sum(1 + len(_list(span, "events")) + len(_list(span, "links"))  # noqa: E731
                              for span in _bounded(_list(s, items), limit))
    else:
        inner = lambda s: sum(1 + _json_points(m) for m in _bounded(_list(s, items), limit))  # noqa: E731
    return _verdict(lambda total: _walk(_list(obj, res), lambda r: _list(r, scopes), inner, total, limit), limit)


def _verdict(walk, limit: int) -> str:
    try:
        walk([0])
    except _Over:
        return (f"the request holds more than {limit:,} parts (resources, scopes, records, spans, span events and "
                "links, metrics, data points): send them in several requests")
    return ""


def _bounded(items, limit: int):
    """``items`` if there are at most ``limit`` of them (counted first: a length, not a walk)."""
    if len(items) > limit:
        raise _Over
    return items


def _walk(resources, scopes_of, items_of, total: list[int], limit: int) -> None:
    _count(len(resources), total, limit)
    for r in resources:
        children = scopes_of(r)
        _count(len(children), total, limit)
        for s in children:
            _count(items_of(s), total, limit)
