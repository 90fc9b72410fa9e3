"""Checkpoints as plain data, and their byte form.

A checkpoint is a (possibly nested) ``dict`` whose leaves are Python numbers (``int``,
``float``, ``bool``) or numpy arrays. :func:`to_bytes` turns it into bytes and
:func:`from_bytes` back, exactly (float64 values round-trip bit for bit). The format is a
magic line, a length-prefixed JSON header (key, dtype, shape, offset per leaf) and the raw
little-endian array bytes; it never uses pickle, so loading untrusted bytes runs no code.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from ben.detect.errors import DetectorError

__all__ = ["to_bytes", "from_bytes", "flatten", "unflatten"]

MAGIC = b"BENDET1\n"
_DTYPES = {"f8": np.float64, "i8": np.int64, "b1": np.bool_, "u1": np.uint8, "i4": np.int32}


def flatten(state: dict, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into ``{"a/b": leaf}``."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        if "/" in key:
            raise DetectorError(f"checkpoint key {key!r} may not contain '/'", problem="bad_state")
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def unflatten(flat: dict[str, Any]) -> dict:
    """Inverse of :func:`flatten`."""
    out: dict = {}
    for name, value in flat.items():
        node = out
        *parents, leaf = name.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def to_bytes(state: dict) -> bytes:
    """Serialise a checkpoint (nested dict of numbers / numpy arrays) to bytes.

    Examples
    --------
    >>> import numpy as np
    >>> blob = to_bytes({"n": 3, "mean": np.array([1.5, 2.0])})
    >>> back = from_bytes(blob)
    >>> back["n"], back["mean"].tolist()
    (3, [1.5, 2.0])
    """
    header, chunks, offset = [], [], 0
    for name, value in flatten(state).items():
        if isinstance(value, (bool, np.bool_)):
            header.append({"k": name, "t": "bool", "v": bool(value)})
        elif isinstance(value, (int, np.integer)):
            header.append({"k": name, "t": "int", "v": int(value)})
        elif isinstance(value, (float, np.floating)):
            header.append({"k": name, "t": "float", "v": float(value).hex()})
        elif isinstance(value, np.ndarray):
            code = value.dtype.str[1:]
            if code not in _DTYPES:
                raise DetectorError(f"checkpoint array {name!r} has unsupported dtype {value.dtype}",
                                    problem="bad_state")
            raw = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
            header.append({"k": name, "t": code, "s": list(value.shape), "o": offset, "n": len(raw)})
            chunks.append(raw)
            offset += len(raw)
        else:
            raise DetectorError(f"checkpoint leaf {name!r} is a {type(value).__name__}, not a number or array",
                                problem="bad_state")
    head = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(chunks)


def from_bytes(blob: bytes) -> dict:
    """Load a checkpoint written by :func:`to_bytes`."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise DetectorError(f"a checkpoint is bytes (what to_bytes returned), not {type(blob).__name__}",
                            problem="bad_state")
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise DetectorError("not a ben.detect checkpoint (bad magic)", problem="bad_state")
    try:
        (size,) = struct.unpack_from("<I", blob, len(MAGIC))
        start = len(MAGIC) + 4
        header = json.loads(blob[start:start + size])
        body = memoryview(blob)[start + size:]
        flat: dict[str, Any] = {}
        for item in header:
            kind = item["t"]
            if kind == "bool":
                flat[item["k"]] = bool(item["v"])
            elif kind == "int":
                flat[item["k"]] = int(item["v"])
            elif kind == "float":
                flat[item["k"]] = float.fromhex(item["v"])
            else:
                raw = body[item["o"]:item["o"] + item["n"]]
                arr = np.frombuffer(raw, dtype=np.dtype(_DTYPES[kind]).newbyteorder("<"))
                flat[item["k"]] = arr.astype(_DTYPES[kind]).reshape(item["s"])
    except (ValueError, KeyError, TypeError, struct.error) as exc:
        raise DetectorError(f"corrupt checkpoint: {exc}", problem="bad_state") from exc
    return unflatten(flat)
