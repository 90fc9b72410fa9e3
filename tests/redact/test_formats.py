"""The token formats as data (``ben.redact.formats``), the finders, and the decoding step."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ben.redact.decode import decoded
from ben.redact.detectors import SECRET_RULES
from ben.redact.digits import iban_ok
from ben.redact.finders import token_hint, token_spans
from ben.redact.formats import FORMATS, INDEX, PREFIXES_BY_HEAD, head


def test_the_licence_notice_travels_with_the_data() -> None:
    import ben.redact.formats as formats

    assert "gitleaks" in formats.__doc__ and "MIT License" in formats.__doc__
    assert len(FORMATS) >= 150 and len({f.name for f in FORMATS}) >= 80


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f"{f.name}:{f.prefix}")
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_every_format_is_found_where_its_head_files_it(fmt, data) -> None:
    body = data.draw(st.from_regex(re.compile(f"(?:{fmt.body})"), fullmatch=True))
    token = fmt.prefix + body
    for text in (f"got {token} back", f'{{"v": "{token}"}}', f"app.{token}.total", token):
        spans = list(token_spans(text))
        assert token_hint(text), (fmt.name, text)
        assert any(text[a:b] == token or (a <= text.index(token) and b >= text.index(token) + len(fmt.prefix) + 8)
                   for a, b in spans), (fmt.name, text, spans)


def test_index_keys_are_heads() -> None:
    for key, prefixes in PREFIXES_BY_HEAD.items():
        assert key in INDEX and all(head(p) == key or p + "0" == key + "0" or key.startswith(p) for p in prefixes)
    assert head("sk_live_x") == "sk" and head("ghp_x") == "ghp" and head("xSK", 1) == "SK"


def test_words_and_ids_are_not_tokens() -> None:
    for text in ("GET /api/v1/orders 200", "key-value store rotated", "secret_rotation_scheduled_for_tonight",
                 "4bf92f3577b34da6a3ce929d0e0e4736", "task-8f3a2c1d9e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c",
                 "ACCOUNT_ID=123", "sk-SK locale", "pat.json loaded"):
        assert list(token_spans(text)) == [], text


def test_iban_checksum() -> None:
    assert iban_ok("DE89370400440532013000") and iban_ok("GB82WEST12345698765432")
    assert not iban_ok("DE89370400440532013001") and not iban_ok("DE8937040044053201300")   # digit, length
    found = [t[a:b] for t in ("pay to GB82 WEST 1234 5698 7654 32 today",) for a, b in SECRET_RULES["iban"].spans(t)]
    assert found == ["GB82 WEST 1234 5698 7654 32"]


@pytest.mark.parametrize("text", ["call +1 (202) 555-0143", "+44 20 7946 0958", "(202) 555-0143", "202.555.0143",
                                  "020 7946 0958", "07700 900123", "+33 1 23 45 67 89", "+14155552671"])
def test_phone_forms(text: str) -> None:
    assert list(SECRET_RULES["phone"].spans(text)), text


@pytest.mark.parametrize("text", ["ts 1764000000000000123", "2024-01-15 10:20:30", "v1.24.3", "10.0.0.1",
                                  "ORD-4411223344", "ISBN 978-3-16-148410-0", "+00:00", "arn:aws:iam::012345678901:role/x"])
def test_phone_look_alikes(text: str) -> None:
    assert list(SECRET_RULES["phone"].spans(text)) == [], text


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(list("ab Z09%+-_\\\"/nu2Fx") + ["%20", "%2F", "%25", "\\n", "\\u0041", "%C3%A9"]),
                     max_size=20).map("".join))
def test_decoded_characters_map_back_to_the_original(text: str) -> None:
    out = decoded(text)
    if out is None:
        return
    d, starts = out
    assert len(starts) == len(d) + 1 and starts[-1] == len(text) and starts == sorted(starts)
    for i, ch in enumerate(d):   # each decoded character comes from its own slice of the original
        piece = text[starts[i]:starts[i + 1]]
        assert piece == ch or piece.startswith(("%", "\\", "+")) or decoded(piece) is not None \
            or piece in ('""', "''"), (text, i, piece)   # a doubled quote decodes before another one only


@pytest.mark.parametrize("secret", ["Bearer abc/def+ghi=", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a b&c=d"])
def test_decoding_undoes_quote_and_quote_plus(secret: str) -> None:
    for enc in (quote(secret, safe=""), quote_plus(secret), quote(quote(secret, safe=""), safe="")):
        out = decoded(enc)
        assert (out[0] if out is not None else enc) == secret, enc
