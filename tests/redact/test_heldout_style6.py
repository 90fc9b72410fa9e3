"""The sixth held-out-style corpus (``tests/redact/heldout_style6.py``, ADR 0030 revision 10: scanners' token shapes,
connection strings, private keys in their encodings, credentials in tools' traces), one test per rule family it led
to (each with the look-alikes the rule must leave alone), and long adversarial inputs for the new patterns,
redacted in a subprocess under a generous bound.

Seeds 61-66 and 69 were used while the rules were fixed; the misses of seeds 67 and 68 were never read.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.redact.heldout_style6 import generate, run
from tests.redact.test_coverage import redact


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", [67, 68])
def test_heldout_style6_recall_on_reserved_seeds_and_no_look_alike_changed(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 168 and sum(1 for k in fig.total if k.startswith("family:")) == 4
    assert fig.recall() >= 0.99, (fig.recall(), fig.misses[:5])
    assert fig.damaged == []
    for key in fig.total:
        if key.startswith("family:") and key != "family:benign":
            assert fig.rate(key) >= 0.97, (key, fig.rate(key), [m for m in fig.misses if m[0] == key[7:]][:3])


# -- a JSON Web Key's private members (ben.redact.keyfiles) -----------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", '
     '"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}', "jpsQnnGQmL-YBIff"),
    ('{"msg":"{\\"kty\\":\\"RSA\\",\\"e\\":\\"AQAB\\",\\"p\\":\\"83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQ\\"}"}',
     "83i-7IvMGXoMXCsk"),
    ('{"kty":"oct","alg":"HS256","k":"GawgguFyGrWKav7AX4VKUg"}', "GawgguFyGrWKav7A"),
    ("{'kty': 'OKP', 'crv': 'Ed25519', 'd': 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A'}", "nWGxne_9WmC6hEr0"),
])
def test_jwk_private_members_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",'
    '"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}',     # a public key: x and y are public
    '{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"}',
    '{"d": "2026-03-14", "p": "page-1", "q": "search terms here"}',       # d, p, q with no key type: no key
])
def test_jwk_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- tools' traces (ben.redact.tooltraces) ------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("2026-03-14T09:26:53.5891234Z ##[debug]Evaluating: secrets.DD_APP_KEY\n"
     "2026-03-14T09:26:53.5891235Z ##[debug]=> '3c2761c94744e467dabf0d360eb34822912aca1a'", "3c2761c94744e467"),
    ("##[debug]Evaluating: secrets.REDIS_PASSWORD\n##[debug]=> 'Harbor1970&'", "Harbor1970&"),
    ("##[debug]Evaluating: format('{0}', env.API_TOKEN)\n##[debug]Evaluating Index:\n##[debug]..Evaluating env:\n"
     "##[debug]..=> Object\n##[debug]=> 'abc123def456'", "abc123def456"),
    ('1773480413.589301 [0 10.0.1.9:53122] "AUTH" "admin" "f687b773f3884cebf41930155ebde6f8"', "f687b773f3884ceb"),
    ('1773480413.589301 [0 lua] "auth" "meadow copper"', "meadow copper"),
    ('1773480413.589301 [0 10.0.1.9:53122] "HELLO" "3" "AUTH" "default" "Qx7-rrT2"', "Qx7-rrT2"),
    ("127.0.0.1:6379> AUTH default s3cr3tpw", "s3cr3tpw"),
])
def test_credentials_in_tool_traces_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "##[debug]Evaluating: github.event.pull_request.head.sha\n##[debug]=> '3c2761c94744e467dabf0d360eb34822912aca1a'",
    "##[debug]Evaluating: secrets.GITHUB_TOKEN\n##[debug]=> '***'",        # the runner's own mask
    "##[debug]Evaluating: inputs.token_scope\n##[debug]=> 'read:packages'",  # a key that names no secret
    "##[debug]Evaluating: secrets.X\n##[debug]=> '***'\n##[debug]Evaluating: github.sha\n##[debug]=> 'abc1234def5678'",
    '1773480413.589301 [0 10.0.1.9:53122] "AUTH" "***"',
    '1773480413.589301 [0 10.0.1.9:53122] "GET" "session:4f2a9c"',
    "127.0.0.1:6379> GET auth",
])
def test_tool_trace_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- passphrases in unquoted values (ben.redact.phrases) ------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('"Env": [\n  "KAFKA_SASL_PASSWORD=fruehling summit74",\n  "LANG=C.UTF-8"\n]', "summit74"),
    ("jdbcUrl=jdbc:sqlserver://db:1433;user=app;password=tundra tundra zorro78;encrypt=true", "zorro78"),
    ("auth:\n  password: copper copper harbor95\n  ttl: 30m", "harbor95"),
    ("Fehler bei der Anmeldung: Benutzer=admin password=soleil willow ember19", "ember19"),
    ("senha: fruehling maple soleil38 (usuário deploy)", "soleil38"),
    ("properties={url=https://api.acme.io, password=orchid velvet77, retries=3}", "velvet77"),
])
def test_passphrases_in_unquoted_values_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text, kept", [
    ("password=hunter2 user=bob", "user=bob"),                 # the next pair is not the value
    ("GET /x?password=abc1 def HTTP/1.1", "def HTTP/1.1"),     # a query string's value never holds a space
    ('{"a": "password=x1 y"}, "b": "ok words here"', "ok words here"),
])
def test_passphrase_ends_where_the_syntax_says(text: str, kept: str) -> None:
    assert kept in redact(text)


# -- SQL, .pgpass, mysql -p'…', a bare session key, dashed attribute keys ------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("LOG:  statement: ALTER ROLE alice WITH LOGIN PASSWORD 'UzuXMeyOJTdVXcJW' VALID UNTIL '2027-01-01';", "UzuXMeyOJTdV"),
    ("CREATE ROLE app LOGIN SUPERUSER PASSWORD 'QwertyUiopAsdf';", "QwertyUiopAsdf"),
    ("cat ~/.pgpass\ndb.internal:5432:*:svc_orders:67fe867209c2ce1108598b9617e6f3d6", "67fe867209c2ce11"),
    ("rabbitmq.acme.io:5432:*:alice@acme.io:ember thunder orchid69", "thunder orchid69"),
    ("+ mysql -h db -u admin -p'meadow copper13' -e 'SELECT 1'", "copper13"),
    ('mysql -uroot -p"a b c1" db', "a b c1"),
    ("+ curl -fsS -u 'reporting_ro:meadow lantern maple98' https://db.internal/api/health", "lantern maple98"),
    ("properties={url=https://api.acme.io, session=od4LGd6f3ye8rzk-4nIWvD8dTu5IqDeWfKGXkBPnJDJ, retries=3}", "od4LGd6f3ye8"),
    ('{"env": {"SESSION": "Hc5WULcavmza4b9-t_jsi07NS27N_8wug8HlK5PCoG5"}}', "Hc5WULcavmza"),
    ('echo "ZGJfcGFzc3dvcmQ9U3VwM3JTM2NyZXQh" | base64 -d', "ZGJfcGFzc3dvcmQ9"),
])
def test_keyed_and_positional_credentials_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    '{"ts":"x","key_fingerprint":"b2:06:84:17:10:e6:18:7d:c5:20:2b:06:7b:6c:a9:e5"}',   # no .pgpass line
    "12:34:56:78:90:abcdef",
    "db.internal:5432:*:app:*",
    "ALTER ROLE app WITH PASSWORD NULL;",
    "CREATE USER app WITH PASSWORD '$1';",                                   # a bind parameter
    "session=1 user=alice",
    "session: 8d3c1c2e-1f5a-4b1b-9b0e-2d7c0a7e5f31",                         # a session's UUID
    "session: prod-eu-1-worker-000123 started",
    'echo "aGVsbG8gd29ybGQgdGhpcyBpcyBmaW5l" | base64 -d',                    # "hello world this is fine"
])
def test_keyed_and_positional_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


def test_dashed_key_headers_and_a_session_attribute_are_masked() -> None:
    from ben.redact import REDACTED_KEY
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb
    from tests.redact.test_coverage import default

    b = BatchBuilder(1)
    attrs = {"http.request.header.dd-app-key": '["dcad3fbb2ae7503c00cffe8c3384c0c803f50cbe"]',
             "app.config.session": "COoHpT12JpSrH1csRnjPzXcXnA485ESFaq6gAYvXf5E", "session.id": "s-42"}
    b.add(pb.KIND_LOG, "log", 0.0, "HTTP POST", attrs, 1)
    out = default().apply(b.build(pb.Source(host="h"), "p"))
    got = {out.strings[out.attr_keys[j]]: out.strings[out.attr_values[j]] for j in range(out.attr_counts[0])}
    assert "dcad3fbb" not in got["http.request.header.dd-app-key"]
    assert "COoHpT12" not in got["app.config.session"]
    assert got["session.id"] == "s-42" and REDACTED_KEY in got


# -- long inputs: the new patterns stay linear ----------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
import time
from tests.redact.test_coverage import redact
texts = ['"kty" "d": "' * 40000, '{"kty":1, "d":"' + "A" * 200000, "=> '" * 50000, "Evaluating: secrets.X\n" * 20000 + "=> 'x'",
         '"AUTH" "' * 50000, '"AUTH" ' * 50000, "> AUTH " * 50000, "password=a" + " b" * 100000,
         "password=a" + " b" * 100000 + ";", "ALTER ROLE x " * 30000 + "PASSWORD 'a", "a:5432:*:u:" * 30000,
         "mysql -p'" * 40000, "session=" * 50000, "session=" + "Ab1" * 60000]
t = time.perf_counter()
for s in texts:
    redact(s)
print(time.perf_counter() - t)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, check=True)
    assert float(out.stdout.strip()) < 120, out.stdout
