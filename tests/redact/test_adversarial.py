"""The default manifest against an adversarial corpus built apart from ``ben.redact.corpus``
(tests/redact/adversarial.py: fake secrets in the forms and places a held-out corpus would use,
and benign look-alikes), through ``Engine.apply``; and one test per gap it found (ADR 0030, revision 2)."""

from __future__ import annotations

import json
import tomllib
from urllib.parse import quote

import pytest

from ben.redact import DEFAULT_MANIFEST, Engine, parse_manifest
from ben.redact.decode import decoded
from tests.redact.adversarial import Case, _outputs, cases, measure
from tests.redact.test_coverage import redact


def default() -> Engine:
    return Engine(parse_manifest(DEFAULT_MANIFEST, "default"))


def _only_key_shaped(changes: list[str]) -> bool:
    """A benign change allowed: random bytes of exactly an Azure storage key's length (64 bytes, 88
    base64 characters) cannot be told from one (ADR 0030, limits)."""
    return all("[api-token]" in c and "==" in c for c in changes)


@pytest.mark.parametrize("seed", [30, 44])
def test_adversarial_corpus_recall_and_benign_text(seed: int) -> None:
    r = measure(default(), seed)
    assert r.secrets_sent >= 2000 and len(r.sent) >= 40 and r.benign_sent >= 200
    assert r.recall >= 0.995, r.missed
    for family, recall in r.by_family().items():
        assert recall >= 0.9, (family, [m for m in r.missed if m.startswith(family + "/")])
    assert len(r.benign_changed) <= 2 and _only_key_shaped(r.benign_changed), r.benign_changed


def test_the_leak_check_sees_a_half_masked_secret() -> None:
    from tests.redact.adversarial import leaked

    secret = "Zx81qPe0Tr55abcdEFgh"
    assert leaked(secret, f"x {secret[:10]}[mask] y") and leaked(secret, secret)
    assert not leaked(secret, "x [mask] y")


# -- removing a rule loses secrets ------------------------------------------------------------------
def _dump(rules: list[dict]) -> str:
    lines = ["version = 1"]
    for r in rules:
        lines.append("[[rule]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in r.items()]
    return "\n".join(lines) + "\n"


def _without(detector: str) -> str:
    rules = [dict(r) for r in tomllib.loads(DEFAULT_MANIFEST)["rule"]]
    for r in rules:
        det = r.get("detect")
        if det == detector:
            rules.remove(r)
            break
        if isinstance(det, list) and detector in det:
            r["detect"] = [d for d in det if d != detector]
            break
    else:
        raise AssertionError(f"{detector} is not in the default manifest")
    return _dump(rules)


#: Detectors of the default manifest that catch secrets of the adversarial corpus no other one does.
UNIQUE = ("private_key", "card", "jwt", "bearer", "azure_key", "token", "telegram_token", "discord_token",
          "okta_token", "random_key", "password", "secret_pair", "url_userinfo", "command_line", "email",
          "iban", "phone")   # us_ssn: every SSN here is named ("SSN ..."), which id_number finds too
# base64_wrapped: this corpus' base64 blobs are all text of 24 bytes or more, which base64_text finds too since ADR 0030
# revision 14 (and base64_text's blobs hold a needle base64_wrapped knows); tests/redact/test_heldout_style10.py checks
# what each finds alone (a short password line; a blob under a key no needle names).
# cookie: this corpus' cookies are all named session cookies, which session_cookie finds too since ADR 0030 revision 10
# (a bare ``session`` key's random value); test_the_cookie_detector_alone_finds_an_unnamed_cookie checks it instead.


def test_every_detector_catches_what_no_other_does() -> None:
    base = len(measure(Engine(parse_manifest(_dump(tomllib.loads(DEFAULT_MANIFEST)["rule"]))), 30).missed)
    assert base == len(measure(default(), 30).missed)   # the round trip through _dump changes nothing
    lost = {d: len(measure(Engine(parse_manifest(_without(d))), 30).missed) - base for d in UNIQUE}
    assert all(n > 0 for n in lost.values()), lost


def test_the_cookie_detector_alone_finds_an_unnamed_cookie() -> None:
    """A long random cookie under a name that says nothing (Cloudflare's ``__cf_bm``): only ``cookie`` masks it."""
    from ben.redact.detectors import OPT_IN, SECRET_RULES

    text = "Cookie: theme=dark; __cf_bm=Xk9fj3Lkd92Kdj39dkKdkfj3Lkd92Kd-1773480413-1.0.1.1-AbCdEfGh; lang=en"
    secret = "Xk9fj3Lkd92Kdj39dkKdkfj3Lkd92Kd"
    finders = [n for n, r in SECRET_RULES.items() if n not in OPT_IN and any(secret in text[a:b] for a, b in r.spans(text))]
    assert finders == ["cookie"]
    assert secret not in redact(text) and "theme=dark" in redact(text)
    assert secret in redact(text, Engine(parse_manifest(_without("cookie"))))


def test_every_secret_key_glob_is_needed() -> None:
    """Attribute keys of the corpus that only the secret-attribute rule catches (not scanned values)."""
    doc = tomllib.loads(DEFAULT_MANIFEST)
    rule = next(r for r in doc["rule"] if r["name"] == "secret-attribute")
    attr_cases = [c for c in cases(30) if c.family in ("key:attr", "keyword:attr")]
    for glob in ("attributes.*_pass", "attributes.*passwort*", "attributes.*пароль*", "attributes.*密码*",
                 "attributes.*license_key*", "attributes.*encryption_key*", "attributes.*app_key*"):
        rules = [dict(r) for r in doc["rule"]]
        i = next(i for i, r in enumerate(rules) if r["name"] == "secret-attribute")
        rules[i]["fields"] = [f for f in rule["fields"] if f != glob]
        engine = Engine(parse_manifest(_dump(rules)))
        leaks = [c.name for c, (_, attrs) in zip(attr_cases, _outputs(engine, attr_cases))
                 if any(s in "".join(attrs.values()) for s in c.secrets)]
        assert leaks, f"nothing leaks without {glob}: the test does not cover it"


# -- one test per gap ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("<config><password>Tr0ub4dor-x</password></config>", "Tr0ub4dor-x"),
    ('<add key="ApiKey" value="Zx81qPe0Tr55abcd" />', "Zx81qPe0Tr55abcd"),
    ('<property name="db.password" value="hunter2x"/>', "hunter2x"),
    ("spring.datasource.password=#8zy)W7XedJQ@#6Z", "W7XedJQ@#6Z"),   # a bracket inside a password
    ("AUTH_TOKEN=_r-U1!2+IV(=muzP2_TXBonG", "muzP2_TXBonG"),
    ("SECRET_KEY_BASE=" + "d256fed61948ec5e3f8ad51d1b0e31d6" * 2, "d256fed61948ec5e3f8ad51d1b0e31d6"),
    ('{"auths": {"r.example.com": {"auth": "Y2k6RDUwTlBCcVp4UFZ2KjExNg=="}}}', "Y2k6RDUwTlBCcVp4UFZ2KjExNg=="),
    ("RABBITMQ_DEFAULT_PASS=gPj6u6bMgunz", "gPj6u6bMgunz"),
])
def test_pairs_in_markup_and_odd_values(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and out[:4] == text[:4], out


@pytest.mark.parametrize("text, secret", [
    ("mysql -u root -p0rKT10CYWlyI5Eyg -h db shop", "0rKT10CYWlyI5Eyg"),
    ("sshpass -p 'S3cr3t-pw' ssh deploy@host", "S3cr3t-pw"),
    ("redis-cli -h cache -a nVevdSE0Y1Cf.283 ping", "nVevdSE0Y1Cf.283"),
    ("docker login -u ci -p Dragon3090! registry.example.com", "Dragon3090!"),
    ("curl -u bob:Summer4727! https://api.example.com/v1", "Summer4727!"),
    ("htpasswd -b /etc/nginx/.htpasswd admin Winter1775!", "Winter1775!"),
    ("mongosh --username admin --password nVevdSE0Y1Cf --authenticationDatabase admin", "nVevdSE0Y1Cf"),
    ('["/usr/bin/app", "--db-password", "0rKT10CYWlyI5Eyg", "--port", "8080"]', "0rKT10CYWlyI5Eyg"),
    ("tool --private_key yXcokHPDAqQWueCNtHo49tKj --verbose", "yXcokHPDAqQWueCNtHo49tKj"),
    ("jdbc:oracle:thin:scott/mJOTy6l4LrBh@10.1.2.3:1521:ORCL", "mJOTy6l4LrBh"),
    ("CREATE USER 'app'@'%' IDENTIFIED BY 'S3cr3t!x9';", "S3cr3t!x9"),
    ("machine api.example.com login bob password s3cr3tX9", "s3cr3tX9"),
    ("define('DB_PASSWORD', 'Xk81-pw9q');", "Xk81-pw9q"),
    ('os.getenv("API_KEY", "Zx81qPe0Tr55abcd")', "Zx81qPe0Tr55abcd"),
    ("login failed for user admin with password 'D50NPBqZxPVv*116'", "D50NPBqZxPVv*116"),
    ("temporary password is D50NPBqZxPVv*116 (expires in 24h)", "D50NPBqZxPVv*116"),
])
def test_passwords_on_command_lines_and_in_sentences(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and out[:5] == text[:5], out


@pytest.mark.parametrize("text", [
    "mysql -u root -p (prompted for password)", "--password-file=/run/secrets/db_password",
    "tool --password /run/secrets/pw --verbose", "login with password disabled; use SSO", "password is incorrect",
    "Access denied for user 'root'@'localhost' (using password: YES)", "cache bypass=enabled for /static",
    "Set-Cookie: theme=dark; Path=/", "cookie consent accepted", "Digest authentication failed for realm api",
    "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"", "auth=ok latency=12ms",
    "tests pass: 12 of 12", "identified by the operator", '"required": ["password", "username"]',
    "docker login --password-stdin registry.example.com", "tool --token-file /var/run/secrets/token --verbose",
    "using default password policy",
])
def test_look_alikes_of_the_new_rules_stay(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text, secret, kept", [
    ("Cookie: theme=dark; sessionid=1b3nfajsYuP8gsajnZD9; csrftoken=xnIuWZzxwQ81a", "1b3nfajsYuP8gsajnZD9", "theme=dark"),
    ("Set-Cookie: session=W498vqA7HJtFCdEMD45k; Path=/; HttpOnly", "W498vqA7HJtFCdEMD45k", "Path=/; HttpOnly"),
    ("Cookie: JSESSIONID=9F2C4A1B7E3D5F60A8B9C0D1E2F3A4B5", "9F2C4A1B7E3D5F60A8B9C0D1E2F3A4B5", "JSESSIONID="),
    ('Authorization: Digest username="bob", realm="api", response="cf2f63dd1a69ced0c4d67a816417078e"',
     "cf2f63dd1a69ced0c4d67a816417078e", "Authorization: Digest "),
])
def test_session_cookies_and_digest_credentials(text: str, secret: str, kept: str) -> None:
    out = redact(text)
    assert secret not in out and kept in out, out


@pytest.mark.parametrize("key", ["contraseña", "passwort", "mot_de_passe", "senha", "wachtwoord", "hasło", "lösenord",
                                 "salasana", "пароль", "密码", "パスワード", "비밀번호", "şifre", "DB_PASS"])
def test_password_keys_in_other_languages(key: str) -> None:
    secret = "Kq81Xt5Pw2Lm"
    for text in (f"{key}={secret}", json.dumps({key: secret}, ensure_ascii=False), f"{key}: {secret}",
                 f"POST /login?user=svc&{quote(key)}={secret}&next=%2F"):
        assert secret not in redact(text), text
    engine = default()
    (_, attrs), = _outputs(engine, [Case("k", key, "", {key: secret})])
    assert attrs[key] == "[secret-attribute]"


def test_percent_encoded_utf8_is_decoded_with_offsets_into_the_original() -> None:
    text = "a=1&contrase%C3%B1a=x&%E5%AF%86=y %FF%41"
    d, starts = decoded(text)
    assert d == "a=1&contraseña=x&密=y %FFA"
    assert text[starts[d.index("ñ")]:].startswith("%C3%B1") and text[starts[d.index("密")]:].startswith("%E5%AF%86")
    assert text[starts[d.index("y")]] == "y"


@pytest.mark.parametrize("plain, secret", [
    (b"password=Hunter22x", True), (b"ghp_" + b"Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7c", True),
    (b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + b"A" * 40, True),
    (b"password reset email sent to you", False), (b"ghp_notatoken", False),
])
def test_base64_wrapped_secrets(plain: bytes, secret: bool) -> None:
    import base64

    blob = base64.b64encode(plain).decode()
    out = redact(f"payload={blob} end")
    assert (blob not in out) is secret and out.startswith("payload=") and out.endswith(" end"), out
