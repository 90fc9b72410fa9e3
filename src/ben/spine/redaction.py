"""No ingest path around redaction: the spine's encoder redacts what no sidecar redacted (ADR 0034).

A batch stamped (``Batch.redacted_by``) with the digest of the manifest in force at the spine,
and received from an authenticated sidecar or over the spine's unix socket, is written as it is.
Anything else (no stamp, another manifest, or a stamp the guard removed because the peer is plain
TCP with ``insecure = true``) is redacted with the spine's manifest before its WAL append.
Redacting runs on the event loop (where the spine's encoder runs): a peer that sends much
unredacted data slows the spine's loop, as ADR 0034 says. The manifest is
``spine.redact_manifest``, or the built-in default as in the sidecar; SIGHUP reloads it (a bad one is refused and the one in force stays).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ben.core.figures import Figure, counter
from ben.core.lanes import ALERT
from ben.core.provenance import Stamper
from ben.redact import Redactor
from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger(__name__)


class IngestRedaction:
    """The spine receiver's encoder: checks the stamp, redacts again when it is not the one in force."""

    def __init__(self, manifest: Path | None):
        self.redactor = Redactor(manifest)  # a bad manifest refuses the start
        self._stampers = {False: Stamper(), True: Stamper()}
        self.digest = ""
        self._in_force()
        self.passed = 0
        self.redacted = 0

    def _in_force(self) -> None:
        for alert, stamper in self._stampers.items():
            stamper.stamp(self.redactor.alert_engine.manifest if alert else self.redactor.engine.manifest)
        self.digest = self._stampers[False].digest

    def reload(self, why: str = "SIGHUP") -> bool:
        """Load the manifest again (atomic; a bad one is refused and the one in force stays). Runs on the
        event loop, like ``encode``: no batch sees half of it."""
        swapped = self.redactor.reload(why)
        if swapped:
            self._in_force()
            log.info("spine: redaction manifest in force: %s", self.digest)
        return swapped

    def encode(self, request: pb.IngestRequest) -> bytes:
        if request.batch.redacted_by == self.digest:
            self.passed += 1
            return request.SerializeToString()
        self.redacted += 1
        if self.redacted == 1 or self.redacted % 10_000 == 0:
            log.warning("redacting a batch of %s again (stamp %r, in force here %s; %d so far)",
                        request.sender_id, request.batch.redacted_by or "none", self.digest, self.redacted)
        alert = request.lane == ALERT
        engine = self.redactor.alert_engine if alert else self.redactor.engine
        # encode and reload both run on the event loop: the manifest cannot change in between.
        batch = self.redactor.encode(request) + self._stampers[alert].stamp(engine.manifest)
        out = pb.IngestRequest(sender_id=request.sender_id, first_seq=request.first_seq, last_seq=request.last_seq,
                               lane=request.lane)
        return out.SerializeToString() + _batch_field(batch)

    def figures(self) -> list[Figure]:
        return [
            counter("ingest_batches_redacted_total", self.redacted,
                    "batches the spine redacted (no stamp of the manifest in force, or an unauthenticated peer)"),
            counter("ingest_batches_stamped_total", self.passed, "batches stamped with the manifest in force"),
        ] + self.redactor.figures()


def _batch_field(batch: bytes) -> bytes:
    """``IngestRequest.batch`` (field 4, length-delimited) holding already serialised batch bytes."""
    return bytes([4 << 3 | 2]) + _varint(len(batch)) + batch


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
