"""Where a config key belongs when it is written in the wrong table (ADR 0033): ``[spine] retention_days``
is ``spine.store.retention_days``; a table written where ben has none of its name; the unit a key's name says.
Used by ``ben.core.config.validation_error``."""

from __future__ import annotations


def key_elsewhere(model: type | None, loc: tuple) -> str:
    """The dotted place where the key at ``loc`` is valid in another table of the same component (the
    shallowest), or "": ``[spine] retention_days`` is ``spine.store.retention_days``. (Another component's
    key of the same name is another option: ``[web] port`` is not ``spine.store.port``.) A key at the top level:
    the places of every table that has it, at most three, joined by ", "."""
    import typing

    from pydantic import BaseModel

    leaf, top, found = str(loc[-1]), str(loc[0]), []

    def walk(m: type, path: list[str]) -> None:
        for name, field in m.model_fields.items():
            if name == leaf and path:
                found.append(".".join([*path, name]))
            sub = next((c for c in (field.annotation, *typing.get_args(field.annotation))
                        if isinstance(c, type) and issubclass(c, BaseModel)), None)
            if sub is not None and len(path) < 4:  # a table of tables ([actions.NAME] of a policy): its NAME
                walk(sub, [*path, name, *(["NAME"] if typing.get_origin(field.annotation) is dict else [])])

    if model is not None and not any(isinstance(part, int) for part in loc):
        walk(model, [])
    if len(loc) == 1:  # above every [table]: `listen = ...` before `[spine]` (ADR 0033, round 10); every table
        return ", ".join(sorted(found, key=lambda place: (place.count("."), place))[:3])  # that has the key
    found = sorted((place for place in found if place.split(".")[0] == top), key=lambda place: place.count("."))
    return found[0] if found else ""


def table_elsewhere(model: type | None, loc: tuple, value: object) -> str:
    """What to say of a table written where ben has none of that name, when ben has it elsewhere, or "": ``[otlp]``
    was "a key at the top level (above every [table])", ``[spine.otlp]`` "unknown field" (ADR 0033, round 13); each
    is the table ``[sidecar.otlp]``. Only tables are named (a table ``[port]`` is not ``spine.store.port``)."""
    import typing

    from pydantic import BaseModel

    if not isinstance(value, dict) or model is None or any(isinstance(part, int) for part in loc):
        return ""
    leaf, found = str(loc[-1]), []

    def walk(m: type, path: list[str]) -> None:
        for name, field in m.model_fields.items():
            if typing.get_origin(field.annotation) in (list, dict):
                continue
            sub = next((c for c in (field.annotation, *typing.get_args(field.annotation))
                        if isinstance(c, type) and issubclass(c, BaseModel)), None)
            if sub is not None:
                if name == leaf and [*path, name] != [str(p) for p in loc]:
                    found.append(".".join([*path, name]))
                walk(sub, [*path, name])

    walk(model, [])
    if not found:
        return ""
    where = " or ".join(f"[{place}]" for place in sorted(found, key=lambda place: (place.count("."), place))[:3])
    return f"ben has no table [{'.'.join(map(str, loc))}]: write it as {where}"


#: The unit a key's name ends with, for "10s" given where ``shutdown_timeout_ms`` wants milliseconds.
UNITS = {"_ms": "milliseconds", "_s": "seconds", "_bytes": "bytes", "_days": "days"}


def unit_given(field: str, given: object) -> str:
    """The unit of ``field`` when ``given`` is a number written with a unit ("10s", "5 MiB"), else ""."""
    import re

    if not isinstance(given, str) or not re.fullmatch(r"\s*[-+]?[\d.,_]+\s*[A-Za-z]+\s*", given):
        return ""
    return next((unit for end, unit in UNITS.items() if field.endswith(end) and not field.endswith("_per_s")), "")
