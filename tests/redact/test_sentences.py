"""ADR 0030 revision 7: the misses revision 6 listed as open, one test per rule family (each failed on revision
6's code) with the look-alikes the rule must leave alone, and long adversarial inputs for the new patterns."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ben.redact import DEFAULT_MANIFEST, Engine, parse_manifest
from ben.sdk.batch import BatchBuilder
from ben.v1 import telemetry_pb2 as pb
from tests.redact.test_coverage import redact

LOOK_ALIKES = [
    "the token is valid", "the token is valid.", "set timeout to 30", "password is required", "password: <redacted>",
    "password: ********", "token is <redacted>", "the secret is ********", "api key is (sensitive value)",
    "request 550e8400-e29b-41d4-a716-446655440000 done", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged",
    "traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "the token was refreshed by the client",
    "set password policy to strict", "rotated the secret as planned", "using token authentication for /api/v1",
    "the password is stored in /run/secrets/db_password", "token of 32 characters", "using secret manager",
    "sent the token to user_1234567", "api key of customer_12345678", "forwarded the token as Bearer",
]


# -- a key joined to its value by words (sentences.worded_spans) ----------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("exported `API_KEY` as `Zq9vK2mX7pL4wR8t`", "Zq9vK2mX7pL4wR8t"),
    ("set DB_PASSWORD to ‘Hu7#kLm2pQ9z’ for staging", "Hu7#kLm2pQ9z"),
    ("set DB_PASSWORD to 'Hu7#kLm2pQ9z'", "Hu7#kLm2pQ9z"),
    ("the token is Zq9vK2mX7pL4wR8tYb3n.", "Zq9vK2mX7pL4wR8tYb3n"),
    ("using secret Zq9vK2mX7pL4wR8t to sign", "Zq9vK2mX7pL4wR8t"),
    ("connected with the api_key 7f3a9c0e4b2d81f6a5c3", "7f3a9c0e4b2d81f6a5c3"),
    ("GITHUB_TOKEN was changed to \"Zq9vK2mX7pL4wR8tYb3n\"", "Zq9vK2mX7pL4wR8tYb3n"),
    ("client secret is now x8Q~sd9.fK2mvL0pWq", "x8Q~sd9.fK2mvL0pWq"),
])
def test_a_key_joined_by_words_is_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_sentences_and_ids_stay(text: str) -> None:
    assert redact(text) == text


# -- legacy Vault tokens, GitLab tokens bare (sentences.vault_legacy_spans; ben.redact.formats) ------------------
@pytest.mark.parametrize("text, secret", [
    ("renewed s.Zq9vK2mX7pL4wR8tYb3nAbCd ok", "Zq9vK2mX7pL4wR8tYb3nAbCd"),
    ("s.Zq9vK2mX7pL4wR8tYb3nAbCd", "Zq9vK2mX7pL4wR8tYb3nAbCd"),
    ("batch b.Ab3dEf6hIj9kLm2nOp5qRs8t issued", "Ab3dEf6hIj9kLm2nOp5qRs8t"),
])
def test_legacy_vault_tokens_are_masked_bare(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("token", [
    "glpat-Zq9vK2mX7pL4wR8tYb3n", "glptt-0123456789abcdef0123456789abcdef01234567", "gldt-Zq9vK2mX7pL4wR8tYb3n",
    "glrt-Zq9vK2mX7pL4wR8tYb3n", "glcbt-64_Zq9vK2mX7pL4wR8tYb3n", "glft-Zq9vK2mX7pL4wR8tYb3n",
    "glimt-Zq9vK2mX7pL4wR8tYb3n", "glagent-Zq9vK2mX7pL4wR8tYb3nZq9vK2mX7pL4wR8tYb3n", "glsoat-Zq9vK2mX7pL4wR8tYb3n",
    "GR1348941Zq9vK2mX7pL4wR8tYb3n",
])
def test_gitlab_tokens_are_masked_bare(token: str) -> None:
    assert token[-12:] not in redact(f"runner registered with {token} today")


@pytest.mark.parametrize("text", ["os.path s.split x.y", "s.ConfigurationManagerXY", "at s.AbstractBeanFactoryImpl.java:42",
                                  "v1.s.example.com", "lib/s.Zq9vK2mX7pL4wR8tYb3nAbCd.so"])
def test_vault_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- a password holding brackets in a connection string (finders.pair_spans) --------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("Server=db;Database=x;User Id=sa;Password=ab[cd]ef9!;", "cd]ef9"),
    ("Password=ab]cd[ef9!;Server=x", "cd[ef9"),
    ("Data Source=x;Password=[abc9]xyz;", "abc9]xyz"),
])
def test_brackets_inside_a_password_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and "[password]" in out


@pytest.mark.parametrize("text", ["items=[a,b]", "password=[REDACTED]", "cfg[token=[hidden]]loaded",
                                  "[password=<redacted>] next"])
def test_bracket_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


def test_a_bracket_opened_before_the_key_closes_there() -> None:
    assert redact("cfg[token=Zq9vK2mX7pL4wR8t]loaded") == "cfg[token=[password]]loaded"


# -- HTML entities in an XML attribute; any value under a secret key, hex included ------------------------------
def test_entities_in_an_xml_attribute_password_are_masked_whole() -> None:
    assert redact('<add key="db" password="p&amp;ss&quot;w0rd9" />') == '<add key="db" password="[password]" />'


@pytest.mark.parametrize("key, value", [("api_key", "0123456789abcdef0123"), ("password", "deadbeefcafe"),
                                        ("token", "4d7953656372657450617373")])
def test_a_secret_keys_value_is_masked_whatever_it_looks_like(key: str, value: str) -> None:
    engine = Engine(parse_manifest(DEFAULT_MANIFEST, "default"), fast=True)
    b = BatchBuilder(1)
    b.add(pb.KIND_LOG, "log", 0.0, "x", {key: value}, 1)
    out = engine.apply(b.build(pb.Source(host="h"), "p"))
    assert value not in [out.strings[i] for i in out.attr_values]


# -- long inputs: linear time ------------------------------------------------------------------------------------
ADVERSARIAL = {
    "worded_secret": [("", "a_", "token is Zq9vK2mX7pL4"), ("", "token is ", ""), ("using ", "x-", ""),
                      ("", "password `", "")],
    "vault_legacy": [("", "s.", ""), ("", "s.Ab3", "")],
    "base64_pii": [("", "aB3/", ""), ("", "YWxpY2VAZXhhbXBsZS5jb20= ", ""), ("", "aB3/", "=")],
    "password": [("Password=ab", "[c", ""), ("Password=", "[a]b", "")],
}
SIZE = 300_000


def test_new_patterns_are_linear_on_long_inputs() -> None:
    code = (
        "import json, sys\n"
        "from ben.redact.detectors import SECRET_RULES\n"
        "from tests.redact.test_coverage import redact\n"
        "cases = json.loads(sys.stdin.read())\n"
        "for name, texts in cases.items():\n"
        "    for head, unit, tail in texts:\n"
        f"        t = head + unit * ({SIZE} // len(unit)) + tail\n"
        "        list(SECRET_RULES[name].spans(t))\n"
        "        redact(t)\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(ADVERSARIAL), capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
