"""The redaction stamp (ADR 0034): a digest that changes with anything that changes redaction."""

from __future__ import annotations

from ben.core.provenance import Stamper, manifest_digest
from ben.redact import DEFAULT_MANIFEST, parse_manifest
from ben.v1 import telemetry_pb2 as pb

OTHER = """
[[rule]]
name = "mail"
detect = "email"
action = "mask"
"""


def test_digest_is_stable_and_tells_manifests_apart() -> None:
    default = manifest_digest(parse_manifest(DEFAULT_MANIFEST, "a"))
    assert default == manifest_digest(parse_manifest(DEFAULT_MANIFEST, "b"))  # the source does not count
    assert default.startswith("sha256:")
    other = manifest_digest(parse_manifest(OTHER))
    changed = manifest_digest(parse_manifest(OTHER.replace('"mask"', '"drop"')))
    assert len({default, other, changed}) == 3


def test_stamp_replaces_what_the_sender_put_there() -> None:
    manifest = parse_manifest(OTHER)
    forged = pb.Batch(producer_id="p", redacted_by="sha256:forged").SerializeToString()
    merged = pb.Batch.FromString(forged + Stamper().stamp(manifest))
    assert merged.redacted_by == manifest_digest(manifest) and merged.producer_id == "p"


def test_digest_is_the_same_in_every_process() -> None:
    import os
    import subprocess
    import sys

    code = ("from ben.core.provenance import manifest_digest; from ben.redact import DEFAULT_MANIFEST, parse_manifest;"
            "print(manifest_digest(parse_manifest(DEFAULT_MANIFEST)))")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert digests == {manifest_digest(parse_manifest(DEFAULT_MANIFEST))}
