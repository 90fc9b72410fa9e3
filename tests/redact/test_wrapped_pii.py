"""ADR 0030 revision 7: an e-mail address, a card number or an IBAN written as base64 (``wrapped.base64_pii_spans``),
and the base64 look-alikes that must stay (each secret case failed on revision 6's code)."""

from __future__ import annotations

import base64

import pytest

from tests.redact.test_coverage import redact


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("plain", ["DE89370400440532013000", "GB33 BUKB 2020 1555 5555 55", "alice.smith@example.com",
                                   "4111111111111111", "5555-5555-5555-4444", "contact: bob@corp.example.org"])
@pytest.mark.parametrize("layout", ["payload {}", "blob={}", '{{"v": "{}"}}', "{}"])
def test_base64_of_an_iban_email_or_card_is_masked(plain: str, layout: str) -> None:
    value = b64(plain)
    assert value not in redact(layout.format(value))


@pytest.mark.parametrize("text", [
    "payload " + b64("hello world, all is fine"),                  # text, no personal data
    "payload " + b64("order 12345 shipped"),
    "payload " + b64("4111111111111112"),                           # fails Luhn
    "Authorization: Basic " + b64("build-bot:Zq9vK2mX7pL4"),        # bearer's, unchanged here
    "sha256-" + base64.b64encode(bytes(range(32))).decode(),      # an integrity hash: random bytes
    "id 550e8400-e29b-41d4-a716-446655440000 ok", "trace 4bf92f3577b34da6a3ce929d0e0e4736",
    "ObjectId 507f1f77bcf86cd799439011", "version v1.2.3-rc.1 released",
])
def test_base64_look_alikes_stay(text: str) -> None:
    out = redact(text)
    if text.startswith("Authorization"):
        assert "[bearer]" in out and "[api-token]" not in out
    else:
        assert out == text
