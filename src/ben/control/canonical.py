"""Canonical JSON: the one byte form of everything ben signs.

``encode`` writes keys sorted, no spaces, ASCII only, integers only (no floats: their text is
not unique), and refuses anything else. ``decode`` parses the bytes strictly (no duplicate
keys, no floats, no NaN, integers within int64) and then requires that encoding the result
gives back exactly the same bytes: a document has one and only one signed form, and the
verifier reads exactly the bytes that were signed.
"""

from __future__ import annotations

import json
from typing import Any

from ben.core.errors import SignatureError

MAX_BYTES = 64 << 10
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"{path}: integer out of int64 range")
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed in signed documents (use an integer or a string)")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not allowed in signed documents")


def encode(document: dict) -> bytes:
    """The canonical bytes of a document (ValueError on anything not representable)."""
    _check(document, "$")
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_float(text: str):
    raise ValueError(f"float {text!r} not allowed")


def _no_constant(text: str):
    raise ValueError(f"{text} not allowed")


def decode(data: bytes) -> dict:
    """Parse canonical bytes; SignatureError(reason="malformed") unless they are exactly canonical."""
    if not isinstance(data, (bytes, bytearray)):
        raise SignatureError("signed document is not bytes", reason="malformed")
    if len(data) > MAX_BYTES:
        raise SignatureError(f"signed document is {len(data)} bytes; the limit is {MAX_BYTES}", reason="malformed")
    try:
        document = json.loads(bytes(data).decode("ascii"), object_pairs_hook=_no_duplicates, parse_float=_no_float,
                              parse_constant=_no_constant)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        again = encode(document)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SignatureError(f"signed document is not canonical JSON: {exc}", reason="malformed") from None
    if again != bytes(data):
        raise SignatureError("signed document is not in canonical form (sorted keys, no spaces, ASCII)",
                             reason="malformed")
    return document
