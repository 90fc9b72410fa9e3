"""The batch's wire side for the engine: index columns read as numpy arrays, written back in
protobuf's packed encoding, and strings picked from the dictionary in C."""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from ben.v1 import telemetry_pb2 as pb


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# v < 2**14 as two varint bytes, little-endian: (v & 0x7F | 0x80, v >> 7). Below 128 that is the value
# padded with one zero byte (0x80 | v, 0x00): a non-minimal varint, which protobuf parsers accept and read as
# v (the conformance suite's ValidDataScalar cases hold such "long varints"); upb keeps the value, and
# SerializeToString writes it back minimal. One gather per column instead of a gather, a mask and a compress.
_VARINT2 = np.arange(1 << 14, dtype=np.uint16)
_VARINT2 = (_VARINT2 & 0x7F | 0x80) | (_VARINT2 >> 7) << 8


def packed(fields: tuple[int, ...], columns: tuple[np.ndarray, ...]) -> bytes | None:
    """Repeated uint32 fields in protobuf's packed encoding, built with numpy (``extend`` converts
    element by element), for ``MergeFromString``: None unless every value is below 2**14 (one or two
    varint bytes), i.e. the dictionary has fewer than 16,384 strings. A column with a value of 128 or
    more has every value in two bytes (see _VARINT2): meant to be parsed, not written out as it is."""
    out = []
    for field, values in zip(fields, columns):
        if not len(values):
            continue
        top = int(values.max())
        if top >= 1 << 14:
            return None
        if top < 0x80:   # one byte each
            payload = values.astype(np.uint8).tobytes()
        else:   # two bytes each, from the table
            payload = _VARINT2.take(values).tobytes()
        out += (_varint(field << 3 | 2), _varint(len(payload)), payload)
    return b"".join(out)


class Columns:
    """A batch's index columns as int64 arrays, each converted once, when first needed."""

    def __init__(self, batch: pb.Batch):
        self._batch = batch

    def __getattr__(self, field: str) -> np.ndarray:
        column = np.asarray(getattr(self._batch, field), dtype=np.int64)
        setattr(self, field, column)
        return column


def pick(strings: list[str], idx: list[int]) -> list[str] | tuple[str, ...]:
    """[strings[i] for i in idx], in C."""
    if len(idx) > 1:
        return itemgetter(*idx)(strings)
    return [strings[i] for i in idx]
