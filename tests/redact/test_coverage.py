"""The default manifest's coverage (ADR 0014, issue "Secrets never leave"): the seeded corpus of
``ben.redact.corpus`` in every placement, and one test per cause found in the held-out run. The
cause tests use only the public API, so they run against earlier code too (each failed there)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ben.redact import DEFAULT_MANIFEST, REDACTED_KEY, Engine, parse_manifest
from ben.sdk.batch import BatchBuilder
from ben.v1 import telemetry_pb2 as pb

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "redact.toml"


def default(fast: bool = True) -> Engine:
    return Engine(parse_manifest(DEFAULT_MANIFEST, "default"), fast=fast)


_SHARED: list[Engine] = []


def shared_default() -> Engine:
    """One default-manifest engine for the whole test process, as a sidecar keeps one per task. A new engine per
    string cost ~0.1 s to build and ~0.1 s more for its first batch: thousands of ``redact`` calls took minutes.
    Its answers do not depend on what it saw before (its caches hold outcomes per string; a fast engine through
    its caches gives the plain engine's bytes: tests/redact/test_fast_path.py)."""
    if not _SHARED:
        _SHARED.append(default())
    return _SHARED[0]


def redact(text: str, engine: Engine | None = None) -> str:
    """One string through the default manifest's value rules, as a body (the shared engine unless given one)."""
    engine = engine or shared_default()
    b = BatchBuilder(1)
    b.add(pb.KIND_LOG, "log", 0.0, text, {}, 1)
    out = engine.apply(b.build(pb.Source(host="h"), "p"))
    return out.strings[out.bodies[0]]


# -- the corpus -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [20, 31])
def test_default_manifest_on_the_corpus(seed: int) -> None:
    from ben.redact.corpus import PLACEMENTS, SOURCE_PLACEMENTS, evaluate, secrets

    assert len(secrets(seed)) >= 40 and len(PLACEMENTS) >= 10
    q = evaluate(DEFAULT_MANIFEST, seed)
    for placement, recall in q.recall.items():
        assert recall >= (1.0 if placement in SOURCE_PLACEMENTS else 0.99), (placement, q.missed[placement])
    assert q.benign_rate <= 0.005, q.benign_mangled
    assert q.benign_sent >= 1000


# -- one test per cause -------------------------------------------------------------------------------
TOKENS = {   # formats the default manifest let through before (fake values)
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "gitlab": "glpat-" + "xR4mZ9vT2qLp8sW1nK6y",
    "npm": "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "pypi": "pypi-AgEIcHlwaS5vcmc" + "CJDk5ZjA4ZWM0LTk2NjItNGU4Yy1hNWM3LWQ3ZTYwYzQ5YWI3ZAACKlsz",
    "openai": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8x",
    "anthropic": "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7Zy6Xw5Vu4Ts3Rq2Po1Nm0LkJi" + "AA",
    "huggingface": "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi",
    "sendgrid": "SG." + "ngeVfQFYQlKU0ufo8x5d1A" + "." + "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
    "twilio": "SK" + "2b2f1a9c8e7d6c5b4a3f2e1d0c9b8a7f",
    "slack-app": "xapp-1-A0123BCDE45-1234567890123-" + "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "aws-secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK4q8s2Lm3",
}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_token_formats_without_a_rule_before(name: str) -> None:
    secret = TOKENS[name]
    for text in (f"calling upstream with {secret} now", secret, json.dumps({"value": secret})):
        out = redact(text)
        assert secret not in out, (name, out)
        assert out.split(" ")[0] == text.split(" ")[0] or text == secret   # the match masked, not the body


def test_github_fine_grained_pat_without_gh_in_its_body() -> None:
    pat = "github_pat_" + "11ABCDEFG0" + "x" * 12 + "_" + "Zq1" * 19 + "Zq"
    assert "gh" not in pat[len("github_pat_"):]
    out = redact(f"cloned with {pat} as the credential")
    assert pat not in out and out.startswith("cloned with ") and out.endswith(" as the credential")


def test_words_after_token_or_bearer_are_not_credentials() -> None:
    for text in ("token validation succeeded", "Token expired, refreshing session", "the bearer of bad news",
                 "Basic authentication is disabled for this realm", "the api key: expired", "max_tokens=1024"):
        assert redact(text) == text
    assert "Zx81qPe0Tr55" not in redact("Authorization: Bearer Zx81qPe0Tr55abcd")


@pytest.mark.parametrize("text, secret", [
    ("Authorization%3A%20Bearer%20Zx81qPe0Tr55abcdEF", "Zx81qPe0Tr55abcdEF"),
    ("h=" + quote_plus("Basic " + base64.b64encode(b"admin:hunter2-secret").decode()),
     base64.b64encode(b"admin:hunter2-secret").decode()),
    ("k=" + quote("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----", safe=""),
     "MIIEvQIBADANBgkqhkiG9w0B"),
    ("cs=" + quote("DefaultEndpointsProtocol=https;AccountKey=" + "Ab12" * 21 + "xy==;", safe=""), "Ab12" * 21),
    ("pan=4111%201111%201111%201111&ok=1", "4111%201111%201111%201111"),
    ("pan=4111+1111+1111+1111&ok=1", "4111+1111+1111+1111"),
    ('{"msg": "key \\u002d\\u002d\\u002d\\u002d\\u002dBEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----"}',
     "MIIEow"),
])
def test_url_encoding_and_json_escapes_do_not_hide_a_secret(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and quote(secret, safe="") not in out, out
    assert out[:2] == text[:2]   # the match is masked, not the whole string


def test_decoded_match_masks_exactly_the_original_characters() -> None:
    assert redact("x=Bearer%20Zx81qPe0Tr55abcd&y=1") == "x=Bearer%20[bearer]&y=1"


@pytest.mark.parametrize("url, password", [
    ("postgres://app:s3cr3tPassw0rd@db/orders", "s3cr3tPassw0rd"),          # host without a TLD
    ("redis://:r3d1s-pw@cache.internal:6379/0", "r3d1s-pw"),
    ("amqps://svc:p%40ss:word@mq/vhost", "p%40ss:word"),
    ("mongodb+srv://u:hunter2@cluster0.example.net/db", "hunter2"),
])
def test_passwords_in_urls(url: str, password: str) -> None:
    out = redact(f"connecting to {url} failed")
    assert password not in out and "connecting to" in out and "failed" in out, out


@pytest.mark.parametrize("text, secret", [
    ("login ok password=hunter2 user=bob", "hunter2"),
    ("GET /cb?user=bob&passwd=hunter2&x=1", "hunter2"),
    ('{"user": "bob", "password": "hunter2"}', "hunter2"),
    ("db_password: Tr0ub4dor&3", "Tr0ub4dor"),
    ("api_key=9fK2mQ7xL4pR8sT1 retry", "9fK2mQ7xL4pR8sT1"),
    ("client_secret: 'Zq81Xt5Pw2Lm9Nr4'", "Zq81Xt5Pw2Lm9Nr4"),
    ("datadog api key: 0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),   # no prefix of its own
])
def test_password_and_secret_pairs(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("fast", [True, False])
def test_source_fields_are_redacted(fast: bool) -> None:
    engine = default(fast)
    b = BatchBuilder(1)
    b.add(pb.KIND_METRIC, "queue.depth", 3.0, "", {"q": "orders"}, 1)
    b.add(pb.KIND_METRIC, "queue.depth", 4.0, "", {"q": "refunds"}, 2)
    secret = TOKENS["stripe"]
    src = pb.Source(host=f"worker-{secret}", subsystem="ann.lee@example.com", instance="plain-1")
    out = engine.apply(b.build(src, "p"))
    assert secret not in out.SerializeToString().decode("utf-8", "replace")
    assert "example.com" not in out.source.subsystem and out.source.host.startswith("worker-")
    assert out.source.instance == "plain-1"
    s = out.strings
    fired = [s[out.attr_values[j]] for j in range(len(out.attr_keys)) if s[out.attr_keys[j]] == REDACTED_KEY]
    assert fired == ["api-token,email"] * 2   # every event of the batch carries the source's provenance
    assert engine.counts["api-token"] == 1 and engine.counts["email"] == 1


def test_secret_named_attribute_keys_in_any_case() -> None:
    engine = default()
    b = BatchBuilder(1)
    attrs = {"authorization": "opaque-value-1", "Authorization": "opaque-value-2", "X-Api-Key": "opaque-value-3",
             "DB_PASSWORD": "opaque-value-4", "gen_ai.usage.input_tokens": "523", "http.route": "/pay"}
    b.add(pb.KIND_LOG, "call", 0.0, "", attrs, 1)
    out = engine.apply(b.build(pb.Source(host="h"), "p"))
    s = out.strings
    got = {s[out.attr_keys[j]]: s[out.attr_values[j]] for j in range(len(out.attr_keys))}
    assert [got[k] for k in attrs if k.startswith(("auth", "Auth", "X-", "DB_"))] == ["[secret-attribute]"] * 4
    assert got["gen_ai.usage.input_tokens"] == "523" and got["http.route"] == "/pay"


# -- the example manifest and lint ------------------------------------------------------------------------
def _example(monkeypatch) -> Engine:
    from ben.redact import load_manifest

    monkeypatch.setenv("BEN_REDACT_KEY", "x" * 20)
    return Engine(load_manifest(EXAMPLE))


def test_example_manifest_masks_a_private_key_instead_of_emptying_the_body(monkeypatch) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    out = redact(f"deploy failed: key {pem} rejected by host", _example(monkeypatch))
    assert "MIIEow" not in out and out.startswith("deploy failed: key ") and out.endswith(" rejected by host")


def test_example_manifest_covers_a_bare_authorization_key(monkeypatch) -> None:
    engine = _example(monkeypatch)
    b = BatchBuilder(1)
    b.add(pb.KIND_LOG, "call", 0.0, "", {"authorization": "opaque-credential-xyz", "Cookie": "sid=opaque"}, 1)
    out = engine.apply(b.build(pb.Source(host="h"), "p"))
    assert "opaque" not in "".join(out.strings)


def test_lint_warns_when_a_drop_rule_would_empty_a_body(tmp_path: Path) -> None:
    from ben.redact.manifest import lint_warnings

    dropping = parse_manifest('[[rule]]\nname = "pk"\ndetect = "private_key"\naction = "drop"\n\n'
                              '[[rule]]\nname = "b"\nfields = ["body"]\naction = "drop"\n\n'
                              '[[rule]]\nname = "a"\nfields = ["attributes.secret"]\naction = "drop"\n')
    warnings = lint_warnings(dropping)
    assert len(warnings) == 2 and "'pk' (line 1)" in warnings[0] and "empty" in warnings[0]
    assert "'b' (line 6)" in warnings[1]
    assert lint_warnings(parse_manifest(DEFAULT_MANIFEST)) == []
    assert lint_warnings(parse_manifest(EXAMPLE.read_text(), need_key=False)) == []
