"""The spine's ingest encoder (ADR 0034): a batch stamped with the manifest in force is written as it
came; any other is redacted with it first; SIGHUP swaps the manifest atomically."""

from __future__ import annotations

import time

from ben.spine.redaction import IngestRedaction
from ben.v1 import telemetry_pb2 as pb

V1 = """
[[rule]]
name = "mail"
detect = "email"
action = "mask"
"""
V2 = V1 + """
[[rule]]
name = "ids"
pattern = 'ID-[0-9]+'
action = "mask"
"""


def request(body: str, stamp: str = "") -> pb.IngestRequest:
    batch = pb.Batch(producer_id="p", first_event_seq=1, strings=["", "n", body], ts_unix_nano=[time.time_ns()],
                     values=[1.0], kinds=[pb.KIND_LOG], names=[1], bodies=[2], attr_counts=[0], redacted_by=stamp)
    return pb.IngestRequest(sender_id="sc-1", first_seq=5, last_seq=5, lane=pb.LANE_ROUTINE, batch=batch)


def body_of(data: bytes) -> pb.IngestRequest:
    req = pb.IngestRequest.FromString(data)
    return req, req.batch.strings[req.batch.bodies[0]]


def test_stamped_passes_unstamped_is_redacted_and_reload_moves_the_digest(tmp_path) -> None:
    manifest = tmp_path / "redact.toml"
    manifest.write_text(V1)
    enc = IngestRedaction(manifest)
    first = enc.digest
    # Stamped with the manifest in force: written byte for byte as it came (nothing scanned).
    same = request("a@b.example ID-1", stamp=first)
    assert enc.encode(same) == same.SerializeToString()
    # Not stamped: redacted, stamped, the request's identity kept.
    req, body = body_of(enc.encode(request("mail a@b.example ID-1")))
    assert "a@b.example" not in body and "ID-1" in body
    assert (req.sender_id, req.first_seq, req.last_seq, req.lane) == ("sc-1", 5, 5, pb.LANE_ROUTINE)
    assert req.batch.redacted_by == first
    # A bad manifest on SIGHUP is refused: the one in force stays.
    manifest.write_text("[[rule]]\nname = 1\n")
    assert not enc.reload() and enc.digest == first
    manifest.write_text(V2)
    assert enc.reload() and enc.digest != first
    # The old stamp is no longer the one in force: redacted again with the new manifest.
    _, body = body_of(enc.encode(request("ID-77", stamp=first)))
    assert "ID-77" not in body
    assert enc.redacted == 2 and enc.passed == 1
