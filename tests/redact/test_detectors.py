"""Each detector finds its secrets in context and leaves look-alikes alone."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ben.redact.detectors import SECRET_RULES
from ben.redact.finders import EMAIL, _email_matches
from tests.redact.corpus import planted, secrets

CORPUS = secrets()


def found(name: str, text: str) -> list[str]:
    return [text[a:b] for a, b in SECRET_RULES[name].spans(text)]


@pytest.mark.parametrize("name, secret", [(n, s) for n, ss in CORPUS.items() for s in ss])
def test_finds_each_planted_secret(name: str, secret: str) -> None:
    text = f"user said: {planted(name, secret)} (end)"
    hits = found(name, text)
    assert any(secret in hit or hit in secret and len(hit) >= len(secret) - 2 for hit in hits), (name, hits)


@pytest.mark.parametrize("text", [
    "ts=1764244200123456789 took 1234567890123 ns",   # nanosecond timestamps: no issuer prefix
    "order 4111111111111112 failed",                  # Visa-shaped but Luhn fails
    "id 9999999999999995",                            # Luhn ok, no issuer
    "phone 0044 2071 8380 00",
])
def test_card_look_alikes_are_not_cards(text: str) -> None:
    assert found("card", text) == []


def test_card_forms() -> None:
    assert found("card", "pan=4111 1111 1111 1111;") == ["4111 1111 1111 1111"]
    assert found("card", "amex 378282246310005") == ["378282246310005"]
    assert found("card", "mc 5555-5555-5555-4444.") == ["5555-5555-5555-4444"]
    assert found("card", "in a longer run 94111111111111111 no") == []


def test_ip_addresses_validated() -> None:
    assert found("ipv4", "from 192.168.0.1:443") == ["192.168.0.1"]
    assert found("ipv4", "version 1.2.300.4 and 999.1.1.1") == []
    assert found("ipv6", "peer [fe80::1]:80 and ::1") == ["fe80::1", "::1"]
    assert found("ipv6", "at 12:30:45 mac 00:1a:2b:3c:4d:5e std::vector") == []


def test_jwt_needs_a_json_header() -> None:
    jwt = CORPUS["jwt"][0]
    assert found("jwt", f"token={jwt}") == [jwt]
    assert found("jwt", "eyJhbGciOi.eyJzdWIi.abc") == []  # header does not decode to JSON


def test_bearer_keeps_the_scheme_word() -> None:
    assert found("bearer", "Authorization: Bearer abc.def-ghi_jkl") == ["abc.def-ghi_jkl"]
    assert found("bearer", "the bearer of bad news") == []


def test_private_key_blocks() -> None:
    escaped = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n", "x": 1}'
    assert found("private_key", escaped) == ["-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----"]
    cut = "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE"   # unterminated: taken to the end
    assert found("private_key", cut) == [cut[5:]]
    assert found("private_key", "-----BEGIN PUBLIC KEY-----") == []


def test_national_ids() -> None:
    assert found("us_ssn", "ssn 123-45-6789.") == ["123-45-6789"]
    assert found("us_ssn", "000-12-3456 666-12-3456 123-00-4567 2026-11-27") == []
    assert found("uk_nino", "NI: AB 12 34 56 C") == ["AB 12 34 56 C"]
    assert found("uk_nino", "GB123456A") == []
    assert found("es_dni", "DNI 12345678Z") == ["12345678Z"]
    assert found("es_dni", "DNI 12345678A") == []   # wrong check letter


def test_cloud_tokens_in_context() -> None:
    assert found("aws_key", "aws_secret_access_key = " + "a" * 40) == ["a" * 40]
    assert found("azure_key", "https://x.blob.core.windows.net/c?sv=2020&sig=abcdefghijklmnopqrstuvwx%3D") == [
        "abcdefghijklmnopqrstuvwx%3D"]
    assert found("github_token", "ghp_short") == []


def test_card_grouping_must_look_printed() -> None:
    assert found("card", "POST /api/v1/orders/4070888059 200 in 6 ms") == []   # 10+3 digits: an id and a status
    assert found("card", "4111 1111 1111 1") == []                               # Luhn fails anyway
    assert found("card", "amex 3782 822463 10005 ok") == ["3782 822463 10005"]
    assert found("card", "mixed 4111-1111 1111 1111") == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b.", ".io", "@", "@x.", "de", "-", "%", " ", "ü", "q@w.er", "1", "x@@y.zz",
                                 "://u:p", "\n"]), max_size=20).map("".join))
def test_email_finder_matches_the_email_pattern(text: str) -> None:
    expected = [m.span() for m in EMAIL.finditer(text)]
    assert [(a, b) for a, _, b in _email_matches(text)] == expected


@pytest.mark.serial  # a time bound: alone, not beside another test (ADR 0048)
def test_email_finder_is_linear_in_a_long_word() -> None:
    """The pattern alone retries every start of a run of local-part characters (quadratic: ~30 s for a
    100,000-character word); the finder reads the run once."""
    text = "y" * 200_000 + " a@b.io " + "z.%" * 50_000 + "@"
    started = time.monotonic()
    assert found("email", text) == ["a@b.io"]
    assert time.monotonic() - started < 5.0
