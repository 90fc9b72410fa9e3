"""Which redaction manifest redacted a batch: a digest of the compiled manifest (ADR 0034).

The sidecar stamps every batch it redacted with the digest of the manifest it used
(``Batch.redacted_by``); the spine compares it with the digest of the manifest in force there and
redacts again when they differ or when no authenticated sidecar vouches for the batch. The digest
covers every field of the compiled manifest and its rules (patterns by their text, detectors by
name, the hash key by its SHA-256), so two manifests that redact differently never share one.
It reads the manifest's dataclass fields generically: ben.redact owns the manifest's shape.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from ben.v1 import telemetry_pb2 as pb

DIGEST_PREFIX = "sha256:"


def _canon(value, depth: int = 0):
    if depth > 8:
        return "..."
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "regex") and hasattr(value, "name") and not hasattr(value, "rules"):
            return ("detector", value.name)  # a built-in detector: known by its name
        return tuple((f.name, _canon(getattr(value, f.name), depth + 1)) for f in dataclasses.fields(value))
    if isinstance(value, re.Pattern):
        return ("re", value.pattern, value.flags)
    if isinstance(value, bytes):
        return ("sha256", hashlib.sha256(value).hexdigest())
    if isinstance(value, (tuple, list)):
        return tuple(_canon(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), repr(_canon(v, depth + 1))) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(_canon(v, depth + 1)) for v in value)))
    if callable(value):
        return ("fn", getattr(value, "__qualname__", type(value).__name__))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return ("obj", type(value).__qualname__)  # never a repr with an address: the same in every process


def manifest_digest(manifest) -> str:
    """``sha256:<hex>`` of a compiled manifest (ben.redact.Manifest), its source left out."""
    fields = {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if f.name != "source"}
    return DIGEST_PREFIX + hashlib.sha256(repr(_canon(fields)).encode()).hexdigest()


class Stamper:
    """Appends ``redacted_by`` to a serialised batch: protobuf merges concatenated messages, and a
    later scalar wins, so whatever the SDK put there is replaced. Caches the last manifest's stamp."""

    def __init__(self):
        self._manifest = None
        self._stamp = b""
        self.digest = ""

    def stamp(self, manifest) -> bytes:
        if manifest is not self._manifest:
            digest = manifest_digest(manifest)
            self._stamp = pb.Batch(redacted_by=digest).SerializeToString()
            self.digest, self._manifest = digest, manifest
        return self._stamp
