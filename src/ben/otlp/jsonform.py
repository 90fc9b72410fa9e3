"""OTLP/JSON: the protobuf JSON mapping with OTLP's exceptions (trace and span ids in hex).

Per the OTLP specification, ``traceId``/``spanId``/``parentSpanId`` are hex strings (not the
base64 of protobuf's JSON mapping), enums are integers, 64-bit integers may be strings or numbers,
and unknown fields are ignored. Field names may be lowerCamelCase or the proto names.
"""

from __future__ import annotations

import base64
import json

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor

_ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
_ID, _MESSAGE = "id", "message"
_KEYS: dict = {}  # message descriptor -> {JSON key (either spelling): (_ID, None) | (_MESSAGE, its descriptor)}


def _keys(descriptor) -> dict:
    keys = _KEYS.get(descriptor)
    if keys is None:
        keys = {}
        for field in descriptor.fields:
            if field.name in _ID_FIELDS and field.type == FieldDescriptor.TYPE_BYTES:
                what = (_ID, None)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                what = (_MESSAGE, field.message_type)
            else:
                continue
            keys[field.name] = keys[field.json_name] = what
        keys = _KEYS[descriptor] = keys
    return keys


def _ids_to_base64(node, descriptor, path: str = "") -> None:
    """The hex ids of ``node`` (the JSON of a ``descriptor`` message) as base64, for ``ParseDict``. Only the
    message's own fields are followed: an unknown field is ignored whatever it holds (the spec's MUST), even a
    ``traceId`` inside it that is no hex."""
    if not isinstance(node, dict):
        return
    keys = _keys(descriptor)
    for key, value in node.items():
        what, inner = keys.get(key, (None, None))
        if what is _ID and isinstance(value, str):
            try:
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise ValueError(f"field {path}{key!s} is not a hex id: {value[:40]!r}") from None
        elif what is _MESSAGE and isinstance(value, list):
            for i, item in enumerate(value):
                _ids_to_base64(item, inner, f"{path}{key}.[{i}].")
        elif what is _MESSAGE:
            _ids_to_base64(value, inner, f"{path}{key}.")


def parse(body: bytes, message, check=None):
    """Fill ``message`` from an OTLP/JSON body; ValueError naming what is wrong. ``check(obj)``: why the decoded
    JSON is refused before it is turned into protobuf ("" when it is not)."""
    try:
        obj = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("the body is not valid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError("the body must be a JSON object")
    why = check(obj) if check is not None else ""
    if why:
        raise ValueError(why)
    try:
        _ids_to_base64(obj, message.DESCRIPTOR)
        json_format.ParseDict(obj, message, ignore_unknown_fields=True)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None
    except json_format.ParseError as exc:
        raise ValueError(f"the body is not a valid {message.DESCRIPTOR.full_name} (JSON): {exc}") from None
    return message


def dump(message) -> bytes:
    """A response message as OTLP/JSON (empty fields left out)."""
    return json_format.MessageToJson(message, indent=None).encode()
