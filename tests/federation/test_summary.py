"""Signed summaries: a peer accepts only what a trusted cluster signed; everything else is rejected."""

from __future__ import annotations

import time

import pytest

from ben.control import canonical
from ben.control.keys import generate
from ben.core.errors import ConfigError
from ben.federation.summary import Rejected, load_trust, open_summary, seal

BODY = {"change": "opened", "severity": "high", "anomalies": 2, "opened": 1_780_000_020}


@pytest.fixture
def keys(tmp_path):
    east, mallory = generate(tmp_path, "east"), generate(tmp_path, "mallory")
    trust = tmp_path / "trust.toml"
    trust.write_text(f'[clusters.east]\npublic_key = "{east.public_text}"\n')
    return east, mallory, load_trust(trust)


def test_signed_summary_verifies(keys):
    east, _, trust = keys
    got = open_summary(seal(east, summary_id="s1", cluster="east", body=BODY), trust, max_age_s=3600)
    assert (got.summary_id, got.cluster, got.body) == ("s1", "east", BODY)


def test_forged_altered_unknown_and_old_are_rejected(keys):
    east, mallory, trust = keys
    forged = seal(mallory, summary_id="s1", cluster="east", body=BODY)           # signed by another key
    doc = canonical.decode(seal(east, summary_id="s1", cluster="east", body=BODY))
    doc["summary"]["body"]["severity"] = "low"                                    # altered after signing
    altered = canonical.encode(doc)
    unknown = seal(mallory, summary_id="s2", cluster="mallory", body=BODY)
    old = seal(east, summary_id="s3", cluster="east", body=BODY, published=int(time.time()) - 7200)
    free_form = seal(east, summary_id="s4", cluster="east", body={"narrative": "checkout-api on host-7 died"})
    for data, reason in ((forged, "bad_signature"), (altered, "bad_signature"), (unknown, "unknown_cluster"),
                         (old, "replayed"), (free_form, "malformed"), (b"{not json", "malformed")):
        with pytest.raises(Rejected) as err:
            open_summary(data, trust, max_age_s=3600)
        assert err.value.reason == reason, data


def test_bad_trust_file_names_file_and_field(tmp_path):
    path = tmp_path / "trust.toml"
    path.write_text('[clusters.east]\npublic_key = "not-a-key"\n')
    with pytest.raises(ConfigError) as err:
        load_trust(path)
    assert str(path) in str(err.value) and "clusters.east.public_key" in str(err.value)
