"""OTLP/JSON: the protobuf JSON mapping with OTLP's exceptions (trace and span ids in hex).

Per the OTLP specification, ``traceId``/``spanId``/``parentSpanId`` are hex strings (not the
base64 of protobuf's JSON mapping), enums are integers, 64-bit integers may be strings or numbers,
and unknown fields are ignored. Field names may be lowerCamelCase or the proto names.
"""

from __future__ import annotations

import base64
import json

from google.protobuf import json_format

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


def _ids_to_base64(node, path: str = "") -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise ValueError(f"field {path}{key!s} is not a hex id: {value[:40]!r}") from None
            else:
                _ids_to_base64(value, f"{path}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _ids_to_base64(value, f"{path}[{i}].")


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
        _ids_to_base64(obj)
        json_format.ParseDict(obj, message, ignore_unknown_fields=True)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None
    except json_format.ParseError as exc:
        raise ValueError(f"the body is not a valid {message.DESCRIPTOR.full_name} (JSON): {exc}") from None
    return message


def dump(message) -> bytes:
    """A response message as OTLP/JSON (empty fields left out)."""
    return json_format.MessageToJson(message, indent=None).encode()
