"""The tenth held-out-style corpus (``tests/redact/heldout_style10.py``, ADR 0030 revision 14: a secret behind layers of
encoding), one test per rule family it led to (each with the look-alikes the rule must leave), and long adversarial
inputs for the new patterns, redacted in a subprocess (a hang fails by the subprocess' timeout).

Seeds 101-106 were used while the rules were fixed; the misses of seeds 107 and 108 were never read.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from urllib.parse import quote

import pytest

from ben.redact import DEFAULT_MANIFEST, Engine, parse_manifest
from ben.redact.decode import decoded
from tests.redact.heldout_style10 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact

PW = "Kq81Xt5Pw2Lm!z"
KEY = "9fQ2xLr7Tz4VbN8mKc3JhW6yPd1sGa5e"   # an opaque key: only its name says what it is


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style10_recall_on_reserved_seeds_and_look_alikes(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 120 and sum(1 for k in fig.total if k.startswith("family:")) == 7
    # revision 13's code: 67.2 / 63.3 %, 10 / 12 look-alikes changed; revision 14: 99.2 / 99.4 %, 1 / 2 changed
    assert fig.recall() >= 0.95, (fig.recall(), fig.misses[:3])
    assert len(fig.damaged) <= 2, fig.damaged
    for fam in ("token", "opaque", "password", "uri", "key", "cookie"):
        assert fig.rate("family:" + fam) >= 0.9, (fam, fig.rate("family:" + fam))   # the lowest measured: 96.7 %


# -- documents written as base64 (ben.redact.layered) -----------------------------------------------------
_HTTP = f"GET /v2/export HTTP/1.1\r\nHost: api.acme.io\r\nX-Api-Key: {KEY}\r\nAccept: */*\r\n\r\n"
_ENV = f"LOG_LEVEL=info\nDD_API_KEY={KEY}\nPORT=8080\n"


def _wrapped(enc: str, width: int, sep: str) -> str:
    return sep.join(enc[i:i + width] for i in range(0, len(enc), width))


_W76 = _wrapped(b64(_ENV * 3), 76, "\n")
_W60 = _wrapped(b64(_ENV * 3), 60, "\\n")
_W64 = _wrapped(b64(_ENV * 3), 64, "\n    ")
_STATE = base64.urlsafe_b64encode(_HTTP.encode()).decode().rstrip("=")
_SUPABASE = base64.urlsafe_b64encode(json.dumps({"access_token": KEY}).encode()).decode()
_NESTED_JSON = b64(json.dumps({"payload": json.dumps({"password": PW})}))
_NESTED_B64 = b64("data=" + b64(_ENV))


@pytest.mark.parametrize("text, blob", [
    (f"apiVersion: v1\nbinaryData:\n  app.conf: {b64(_HTTP)}\nkind: ConfigMap", b64(_HTTP)),   # a header no needle names
    (f'{{"event":"config.uploaded","encoding":"base64","content":"{b64(_ENV)}"}}', b64(_ENV)),
    ("$ base64 < app.conf\n" + _W76 + "\n$ ", _W76),                                           # base64's 76 columns
    ('{"content":"' + _W60 + '\\n","encoding":"base64"}', _W60),                              # GitHub's contents API
    ("data:\n  app.conf: |\n    " + _W64, _W64),                                               # lines under YAML indentation
    (f"GET /login/callback?state={_STATE}&code=x HTTP/1.1", _STATE),                          # base64url
    (f'{{"restored": "base64-{_SUPABASE}"}}', _SUPABASE),                                   # glued to a prefix
    ('{"UserData": {"Value": "' + _NESTED_JSON + '"}}', _NESTED_JSON),                        # JSON escaped in it
    ("blob=" + _NESTED_B64, _NESTED_B64),                                                     # base64 in base64
    ("$2 = '\\x" + _ENV.encode().hex() + "'", _ENV.encode().hex()[2:]),                       # hex with line breaks
    ("$2 = '\\x" + b64(_HTTP).encode().hex() + "'", b64(_HTTP).encode().hex()[2:]),           # hex of base64
])
def test_a_document_written_as_base64_or_hex_is_masked_whole(text: str, blob: str) -> None:
    out = redact(text)
    assert all(blob[i:i + 12] not in out for i in range(0, len(blob) - 12, 6)), out


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nbinaryData:\n  app.conf: " + b64("spring.datasource.password=${DB_PASSWORD}\nserver.port=8080\n"),
    '{"content":"' + b64("LOG_LEVEL=info\nAPI_KEY=<your-api-key>\nPORT=8080\n") + '"}',
    "$ base64 < notes.txt\n" + _wrapped(b64("Rotate the API token every 90 days; the password policy needs 12. " * 3), 76, "\n"),
    "next_cursor=" + b64(json.dumps({"offset": 100, "id": "5f0c1c1e-8a4b-4c55-9d7e-2b8f6b1f0e11"})),
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n"
    "RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n-----END CERTIFICATE-----",
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">',
    "sha512-" + b64("x" * 64),
    "$2 = '\\x" + json.dumps({"event": "config.uploaded", "encoding": "base64", "size": 812}).replace(" ", "").encode().hex() + "'",
])
def test_a_document_without_a_secret_stays(text: str) -> None:
    assert redact(text) == text


def test_base64_text_and_base64_wrapped_each_find_what_the_other_does_not() -> None:
    """A blob under a key no needle names is base64_text's; a run shorter than 32 characters is base64_wrapped's."""
    blob = f"app.conf: {b64(_HTTP)}"
    short = "cfg: " + b64("password=Kq81Xt5P")   # 24 characters: too short for base64_text

    def without(name: str) -> Engine:
        return Engine(parse_manifest(DEFAULT_MANIFEST.replace(f'"{name}", ', "").replace(f', "{name}"', ""), need_key=False))

    assert redact(blob) == "app.conf: [api-token]" and redact(blob, without("base64_text")) == blob
    assert redact(short) == "cfg: [api-token]" and redact(short, without("base64_wrapped")) == short


# -- escapes undone before the rules read (ben.redact.decode) ------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    (f"\x1b[36mapi_key\x1b[0m=\x1b[35m{KEY}\x1b[0m \x1b[36mretries\x1b[0m=\x1b[35m3\x1b[0m", KEY),   # structlog's console
    (f"\\u001b[36mpassword\\u001b[0m=\\u001b[35m{PW}\\u001b[0m", PW),                                # ... in a JSON string
    (f"\\x1b[36mpassword\\x1b[0m=\\x1b[35m{PW}\\x1b[0m", PW),                                        # ... in a Python repr
    (f"\x1b[36mpassword\x1b[0m=\x1b[35mab+cd{PW}\x1b[0m", PW),                                   # a '+' in colour is no space
    (f'"POST /api HTTP/1.1" 400 31 "-" "curl/8" "{{\\x22password\\x22:\\x22{PW}\\x22}}"', PW),    # nginx's request body
    (f'4812,2026-12-07,"{{""service"": ""billing"", ""password"": ""{PW}""}}"', PW),              # a CSV cell
    (f"INSERT INTO audit VALUES ('CREATE USER app IDENTIFIED BY ''{PW}'';')", PW),                 # an SQL literal
    (json.dumps({"a": json.dumps({"b": json.dumps({"c": json.dumps({"Parameters": [               # JSON in JSON in JSON
        {"ParameterKey": "Environment", "ParameterValue": "prod"}, {"ParameterKey": "SigningSecret", "ParameterValue": KEY}]})})})}), KEY),
])
def test_escapes_are_undone_before_the_rules_read(text: str, secret: str) -> None:
    assert secret not in redact(text), redact(text)


@pytest.mark.parametrize("text", [
    "\x1b[32minfo\x1b[0m request finished \x1b[36mduration_ms\x1b[0m=\x1b[35m42\x1b[0m",
    '{"name": "", "value": "", "id": "5f0c1c1e"}', "SELECT 'it''s' AS x, '' AS y",
    '{"log": "{\\"msg\\": \\"\\\\\\"replicator\\\\\\" connected\\"}"}',
])
def test_escapes_without_a_secret_stay(text: str) -> None:
    assert redact(text) == text


def test_a_doubled_quote_decodes_only_before_another_on_its_line() -> None:
    assert decoded('a ""b"" c')[0] == 'a "b"" c'   # the last one closes the cell: the value still ends at a quote
    assert decoded('""replicator" "x"') is None


# -- values and look-alikes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("# generated\nacme.client.bind-password=vHk,zNn#jb4m5I\nserver.port=8080\n", "zNn#jb4m5I"),   # to the line's end
    ("export DB_PASSWORD=ab;cd!Xy9k2\n", "cd!Xy9k2"),
    ("GET /cb?state=" + quote("mariadb+mariadbconnector://app:x61_oFo3aUiROR2sefS_n@maria.internal:3306/shop", safe="")
     + " HTTP/1.1", "x61_oFo3aUiROR2sefS_n"),                                             # a scheme of 24 characters
    ("dsn=vertica+vertica_python://dbadmin:Zx81qPe0Lm2@vertica.acme.io:5433/dw", "Zx81qPe0Lm2"),
])
def test_values_the_revision_reads_whole(text: str, secret: str) -> None:
    assert secret not in redact(text), redact(text)


def test_a_value_cut_at_a_comma_goes_on_only_where_no_key_follows() -> None:
    assert redact("cfapitoken:Zx81qPe0Lm2Kd,region:eu-west-1") == "cfapitoken:[password],region:eu-west-1"
    assert redact("export DB_PASSWORD=ab;cd!Xy9k2;\n") == "export DB_PASSWORD=[password];\n"   # not the last ';'
    assert redact("Password=*****;") == "Password=*****;"   # a mask, then the connection string's ';' 


@pytest.mark.parametrize("text", [
    "postgresql://app@db.internal:5432/orders?sslmode=require",                            # a login name and a host
    "GET /x HTTP/1.1\r\nCookie: _ga=GA1.1.397601456.1796610067; _gcl_au=1.1.1234567890.1796610067; theme=dark\r\n",
    '{"caller":"client/http.go:88","msg":"10.0.0.5 \\"GET /login/callback?state=abc&code=x HTTP/1.1\\" 302 0"}',
    '10.0.0.5 - - [07/Dec/2026:09:12:44 +0000] "POST /api HTTP/1.1" 400 31 "-" "python-requests/2.32.3" '
    '"Rotate your API token every 90 days; the password policy requires 12 characters."',
    "<pre>app:\n  password: &quot;{{ .Values.db.password }}&quot;\n  token: &quot;********&quot;\n</pre>",
    "state=" + quote("-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa/1qM8EX1OOqeGHa8b3dOQdLdpREL3PVsC7jijTt/a3H6\n", safe=""),
])
def test_look_alikes_the_revision_keeps(text: str) -> None:
    assert redact(text) == text


def test_an_address_in_a_url_without_a_port_is_still_masked() -> None:
    assert "[email]" in redact("https://ann@example.com/x") and "[email]" in redact("mailto:ann@example.com")


# -- long inputs ------------------------------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ["A" * 200000, "QUFB" * 50000, "QUFBQUFB\n" * 20000, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\\n" * 5000,
         "base64-" * 30000, "-_" * 100000, "Zm9v" * 8 + "\n" + "Zm9v" * 8 + "\nkind" * 30000,
         '""a' * 60000, "''b" * 60000, '""' + "x" * 200000, "\x1b[36m" * 40000, "\\u001b[0m" * 30000,
         "\\x22" * 50000, "\\x1b[" * 40000, "password=a," + "b" * 200000, "pw=a," + ",x" * 100000, "a=b;" * 50000,
         "_ga=" + "1." * 100000, "Cookie: _ga=GA1." + "1." * 50000, "://a@" + "b." * 100000 + ":1",
         "/login/" * 30000, '"a/b" "' + "c " * 100000, "&quot;" * 40000, "x" + "2" * 200000 + "0a" * 1000]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "done", out.stderr
