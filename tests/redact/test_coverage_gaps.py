"""Forms of secrets the adversarial corpus left open (ADR 0030, revision 3), each with its look-alikes:
YAML block scalars, password hashes, '&' inside a value, dotted card numbers, the host of a URL with
credentials, secrets anywhere inside a base64 blob; and the card finder against the generic scan."""

from __future__ import annotations

import base64
import dataclasses
import json
import random

import pytest

from ben.redact.detectors import SECRET_RULES
from tests.redact.adversarial import Gen, benign
from tests.redact.test_coverage import redact


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- 1. YAML block scalars ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, secrets, kept", [
    ("stringData:\n  password: |\n    Kq81Xt5Pw2Lm\n    second-line-9x\n  user: bob\n",
     ["Kq81Xt5Pw2Lm", "second-line-9x"], "  user: bob\n"),
    ("db:\n  secret: >-\n    Zx81qPe0Tr55abcd\n\n    folded-on-2\nnext: 1", ["Zx81qPe0Tr55abcd", "folded-on-2"], "\nnext: 1"),
    ("tls:\n  private_key: |2\n    MIIEowIBAAKCAQEAx81\n    yXcokHPDAqQWueCN\nport: 443", ["MIIEowIBAAKCAQEAx81", "yXcokHPDAqQWueCN"],
     "port: 443"),
    ("api_token: |+ # rotated weekly\n  ab12CD34ef56GH78\nlevel: info", ["ab12CD34ef56GH78"], "level: info"),
])
def test_yaml_block_scalars_are_masked_whole(text: str, secrets: list[str], kept: str) -> None:
    out = redact(text)
    assert not any(s in out for s in secrets) and out.endswith(kept) and out.startswith(text.split(":")[0]), out


# -- 2. password hashes --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("userPassword: {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    ("dn: uid=bob,dc=example\nuserPassword:: e1NTSEF9VzZwaDVNbTVQejhHZ2lVTGJQZ3pHMzdtajln\nmail: x",
     "e1NTSEF9VzZwaDVNbTVQejhHZ2lVTGJQZ3pHMzdtajln"),
    ("replace: userPassword\nuserPassword: {CRYPT}$6$rounds=5000$saltsalt$" + "a" * 86, "saltsalt$" + "a" * 40),
    ("admin:$apr1$rlIpEVtx$6NJJbRJwVnvAadvPsCnVg/", "6NJJbRJwVnvAadvPsCnVg/"),
    ("bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    ("ci:$2b$12$KIXQJ3hQZ5M2vW6sYx8Q1eQ3M2v7yYb0z1c2d3e4f5g6h7i8j9k0l", "KIXQJ3hQZ5M2vW6sYx8Q1eQ3M2v7"),
    ("root:$6$Zx81qPe0$" + "Tr55abcdEFgh/." * 6 + ":19000:0:99999:7:::", "Tr55abcdEFgh/.Tr55abcdEFgh"),
    ("stored hash $argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG for bob",
     "RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
    ("password_hash=$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", "X3DX6M94c7o.9agCG9G317"),
    ("hash pbkdf2_sha256$260000$Zx81qPe0Tr55$Xy9abcdefghijklmnopqrstuvwxyz0123456789ABCDE=", "Xy9abcdefghijklmnop"),
])
def test_password_hashes_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and out[:3] == text[:3], out


# -- 3. '&' inside a value: per syntax -------------------------------------------------------------------
@pytest.mark.parametrize("text, gone, kept", [
    ("DB_PASSWORD=ab&cd=ef", "cd=ef", "DB_PASSWORD="),                            # .env: one value
    ("export API_TOKEN=Zx81q&Pe0Tr55=abcd", "Pe0Tr55=abcd", "export API_TOKEN="),   # shell: one value
    ("[db]\npassword = S3c&ret=9x\nport = 5432", "ret=9x", "\nport = 5432"),       # INI: one value
    ("GET /login?user=bob&password=Kq81Xt&next=/home 200", "Kq81Xt", "&next=/home 200"),  # query: '&' ends it
    ("user=bob&password=Kq81Xt&token=Zx81qPe0Tr55abcd&page=2", "Zx81qPe0Tr55abcd", "&page=2"),   # form body
])
def test_an_ampersand_ends_a_value_only_in_a_query_string(text: str, gone: str, kept: str) -> None:
    out = redact(text)
    assert gone not in out and kept in out, out


# -- 4. card numbers grouped by dots --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["card 4111.1111.1111.1111 declined", "pan=5500.0055.5555.5559;",
                                  "amex 3782.822463.10005 ok", "card 4111 1111 1111 1111 ok", "card 4111-1111-1111-1111"])
def test_dotted_spaced_and_dashed_card_numbers_are_masked(text: str) -> None:
    out = redact(text)
    assert out.count("[card]") == 1 and not any(c.isdigit() for c in out), out


@pytest.mark.parametrize("text", ["ref 4111.1111.1111.1112 (not Luhn)", "v 4111111111111.111", "took 4111111111111.5 ns",
                                  "mixed 4111.1111 1111-1111", "build 2026.1204.1111.1111", "at 10.1.2.3 and 4.4.4.4"])
def test_dotted_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- 5. URL credentials keep the host ------------------------------------------------------------------
@pytest.mark.parametrize("text, secret, kept", [
    ("postgres://admin:S3cr3t!x@db.example.com:5432/shop", "S3cr3t!x", "@db.example.com:5432/shop"),
    ("redis://default:p@ss.W0rd@cache.internal.example.org/0", "p@ss.W0rd", "@cache.internal.example.org/0"),
    ("amqp://svc:Zx81qPe0@mq.example.net connected", "Zx81qPe0", "@mq.example.net connected"),
])
def test_url_credentials_mask_the_password_and_keep_the_host(text: str, secret: str, kept: str) -> None:
    out = redact(text)
    assert secret not in out and out.endswith(kept) and "[email]" not in out, out


@pytest.mark.parametrize("text", ["mail bob@example.com now", "https://app.example.com/?to=ann@example.com",
                                  "mailto:ann@example.com", "https://ann@example.com/x"])
def test_addresses_outside_url_credentials_are_still_masked(text: str) -> None:
    assert "[email]" in redact(text)


# -- 6. secrets anywhere inside a base64 blob ------------------------------------------------------------
_CONFIG = "server:\n  port: 8080\ndatabase:\n  user: app\n  password: Kq81Xt5Pw2Lm\n"
_PEM = "xy-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "A" * 40
_DOCKER = json.dumps({"auths": {"registry.example.com": {"auth": b64("ci:D50NPBqZxPVv*116")}}})


@pytest.mark.parametrize("text, blob", [
    (f"apiVersion: v1\nkind: Secret\ndata:\n  config.yaml: {b64(_CONFIG)}\n  username: {b64('admin')}\n", b64(_CONFIG)),
    (f"data:\n  DB_URL: {b64('postgres://app:S3cr3tPw9@db:5432/x')}\n", b64("postgres://app:S3cr3tPw9@db:5432/x")),
    (json.dumps({"data": {".dockerconfigjson": b64(_DOCKER)}}), b64(_DOCKER)),
    (f"env blob {b64('FOO=1' + chr(10) + 'API_TOKEN=Zx81qPe0Tr55abcdEF' + chr(10))} end",
     b64("FOO=1\nAPI_TOKEN=Zx81qPe0Tr55abcdEF\n")),
    (f"key {b64(_PEM)}", b64(_PEM)),   # a private key after two bytes: not at the blob's start
])
def test_secrets_anywhere_inside_a_base64_blob(text: str, blob: str) -> None:
    out = redact(text)
    assert blob not in out and out[:3] == text[:3], out
    if "username" in text:
        assert b64("admin") in out   # a value that decodes to no secret stays


@pytest.mark.parametrize("plain", ["tokens per second were high today", "the secret of good logs is structure",
                                   "password reset email sent to you", "see https://example.com/docs for more"])
def test_base64_of_text_that_merely_mentions_a_word_stays(plain: str) -> None:
    text = f"payload {b64('x' + plain)} end"
    assert redact(text) == text


def test_decoding_is_bounded_per_text() -> None:
    from ben.redact import wrapped

    secret = b64("x password=Kq81Xt5Pw2Lm and more")
    many = " ".join([b64(f"x token{i} is ordinary text here") for i in range(wrapped.MAX_DECODED)] + [secret])
    assert secret in redact(many)          # past the bound: not decoded
    assert secret not in redact(secret)    # alone: found


# -- look-alikes in the adversarial corpus's benign texts ------------------------------------------------
def test_the_benign_corpus_holds_the_new_look_alikes() -> None:
    texts = {c.body for c in benign(31)}
    assert {"description: |\n  plain text, no secret here\nnext: 1", "ref 4111.1111.1111.1112 (not Luhn)",
            "costs $1$ and {SHA} in ${HOME}"} <= texts


# -- 7. the card finder finds what the generic scan does --------------------------------------------------
def test_card_finder_equals_the_generic_scan() -> None:
    rule = SECRET_RULES["card"]
    generic = dataclasses.replace(rule, find=None)
    rng = random.Random(7)
    gen = Gen(7)
    cards = [gen.luhn(p, n) for p, n in (("4", 13), ("4", 16), ("37", 15), ("51", 16), ("6011", 19))]
    for _ in range(3000):
        parts = [rng.choice(cards) if rng.random() < 0.15 else
                 "".join(rng.choice("0123456789") for _ in range(rng.choice((1, 2, 3, 4, 4, 4, 5, 6, 16))))
                 for _ in range(rng.randint(1, 6))]
        text = (rng.choice(("x ", "a", "=", "", "1 ", "-", ".")) + rng.choice(" -.").join(parts)
                + rng.choice(("", " y", ".5", ".", "b", "-7", " 12")))
        assert list(rule.spans(text)) == list(generic.spans(text)), text
    assert list(rule.spans("order 4070888059 200 card 4111 1111 1111 1111")) == [(26, 45)]


def test_digit_shape_gates_are_implied_by_their_regexes() -> None:
    """The substring tests of ``digits.shape`` skip a regex only where it cannot match."""
    from ben.redact.digits import _NANP, _SSN, IBAN, IBAN_SHAPE, NANP_SHAPE, SSN_SHAPE, shape

    rng = random.Random(11)
    pieces = ["0", "12", "345", "6789", "DE", "GB", "x", "ü", " ", ".", "-", "(", ")", "+"]
    hits = 0
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(6, 24)))
        sh = shape(text)
        for rx, gate in ((_NANP, NANP_SHAPE), (_SSN, SSN_SHAPE), (IBAN, IBAN_SHAPE)):
            if rx.search(text) is not None:
                hits += 1
                assert gate in sh, (text, rx.pattern)
    assert hits > 100
