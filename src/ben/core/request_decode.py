"""Tolerant decoding of an ingest request (ADR 0010's receiver): a request whose batch does not decode is
kept as :class:`Undecodable` with the header fields its sender can be answered by, so the receiver refuses and
quarantines it instead of breaking the stream for good."""

from __future__ import annotations

from google.protobuf.message import DecodeError

from ben.v1 import telemetry_pb2 as pb

__all__ = ["Undecodable", "decode_request"]


class Undecodable:
    """What the tolerant deserializer returns for bytes that are not a valid IngestRequest."""

    __slots__ = ("header", "raw", "reason")

    def __init__(self, header: pb.IngestRequest, raw: bytes, reason: str):
        self.header, self.raw, self.reason = header, raw, reason


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def _header(data: bytes) -> pb.IngestRequest:
    """sender_id, first_seq, last_seq and lane of an IngestRequest whose batch does not decode."""
    out = pb.IngestRequest()
    i = 0
    try:
        while i < len(data):
            key, i = _varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(data, i)
                if number == 2:
                    out.first_seq = value
                elif number == 3:
                    out.last_seq = value
                elif number == 5:
                    out.lane = value if value in pb.Lane.values() else 0
            elif wire == 2:
                size, i = _varint(data, i)
                if number == 1:
                    out.sender_id = data[i:i + size].decode("utf-8", "replace")
                i += size
            elif wire in (1, 5):
                i += 8 if wire == 1 else 4
            else:
                raise DecodeError(f"wire type {wire}")
    except IndexError:
        raise DecodeError("truncated") from None
    return out


def decode_request(data: bytes) -> pb.IngestRequest | Undecodable:
    """Tolerant request deserializer: a request whose batch cannot be decoded (e.g. a string that is
    not UTF-8) is refused and quarantined by the receiver instead of breaking the stream for good
    (its sender would resend it after every reconnect). Only bytes without a readable header raise."""
    try:
        return pb.IngestRequest.FromString(data)
    except DecodeError as exc:
        return Undecodable(_header(data), data, f"undecodable request: {exc}")
