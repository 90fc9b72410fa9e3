"""The ninth held-out-style corpus (``tests/redact/heldout_style9.py``, ADR 0030 revision 13: a secret-scanning partner
list's providers not in the format table, Azure's identifiable keys, ``Authorization`` schemes, a secret store's printed
value, Terraform's sensitive outputs, connection strings with no scheme, ASP.NET cookies, directives), one test per rule
family it led to (each with the look-alikes the rule must leave), and long adversarial inputs for the new patterns,
redacted in a subprocess (a hang fails by the subprocess' timeout).

Seeds 91-96 were used while the rules were fixed; the misses of seeds 97 and 98 were never read.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ben.redact import azurekeys
from tests.redact.heldout_style9 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact
from tests.redact.test_pairs import _Counted


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style9_recall_on_reserved_seeds_and_look_alikes(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 170 and sum(1 for k in fig.total if k.startswith("family:")) == 14
    # revision 12's code: 84.2 / 86.0 %, 15 / 15 look-alikes changed; revision 13: 97.5 / 97.5 %, none changed
    assert fig.recall() >= 0.95, (fig.recall(), fig.misses[:3])
    assert len(fig.damaged) <= 1, fig.damaged
    for key in ("family:cloud", "family:payment", "family:header", "family:cookie", "family:connstr", "family:key",
                "family:password", "family:cicd", "family:observability"):
        assert fig.rate(key) >= 0.875, (key, fig.rate(key))   # the lowest measured of these: password 90.0 % (seed 98)


# -- token formats (ben.redact.formats, revision 13) -------------------------------------------------------------
@pytest.mark.parametrize("token", [
    "GOOG1E" + "K7QZ2M4X9ABCDEF1234567890QWERTYUIOPASDFGHJKLZXCVBNM12345",
    "ALTAK" + "q8ZpL2mN4xR7tY1uV3wK9s",
    "AKLT" + "MjAxNy1hY2NvdW50LWtleS1mb3ItdGVzdGluZ3Byb2Q",
    "vercel_blob_rw_" + "aB3dE6gH9jK2mN5p_qR8sT1uV4wX7yZ0aB3cD6eF9gH2iJ5",
    "sk-or-v1-" + "0f" * 32,
    "sk-lf-" + "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "nvapi-" + "Ab3_Cd6-Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3Wx6Yz9Ab2Cd5Ef8Gh1Ij4Kl7Mn0Op",
    "csk-" + "k2j4h6g8f0d2s4a6p8o0i2u4y6t8r0e2w4q6m8n0b2v4c6x8",
    "tvly-dev-" + "Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7",
    "jina_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6a7B8c9D0",
    "esecret_" + "k2j4h6g8f0d2s4a6p8o0i2u4y6",
    "sk_sbox_" + "k2j4h6g8f0d2s4a6p8o0i2u4y6",
    "pdl_live_apikey_" + "01hx9z8y7w6v5u4t3s2r1q0p9o_Ab3Cd6Ef9Gh2Ij5Kl8Mn1_Xy7",
    "APP_USR-" + "8045814490305000-880715-713b5cfbed81e56f520b10ed97f592f7-954751400",
    "live_" + "Xg2MuO2rqDSS2S0cHGhg7gVt3vA1FOHhVMD-jRWS9",
    "Mid-server-" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4",
    "xnd_production_" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3Wx6Yz9Ab2Cd5Ef8Gh1Ij4Kl7Mn0",
    "dG9rOj" + "QzMWRjMjUyLTQzNDUtNGNiMC1hYjcyLWE5NWQ3MGRiOGQwMzoxMjRiYzgyOC04M2M5",
    "AAAAAAAAAAAAAAAAAAAAA" + "4RbQj7rhU3mn3DD9sMuHWYh9e192bg%3D2bR8FC1vRo32yhKWfPMQ5NlVbPKm2sU4OHcr",
    "EAAG" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3Wx6Yz9" * 3,
    "IGAA" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3Wx6Yz9_-" * 3,
    "pina_" + "AB3CD6EF9GH2IJ5KL8MN1OP4QR7ST0UV3WX6YZ9AB2CD5EF8",
    "ATTA" + "0a13443fdba06b5361dea1cd7eeda6af191cb6210dc095483fe884133a5a88f8816DFA73",
    "rootly_" + "a19a28d594556612be469e67594c5c60a86d48d86c8691421d71222da90b0191",
    "dvc_server_" + "2a957494-c339-45bd-8eca-4bec9aa586c9_5460054",
    "unkey_" + "OfTQMcUs8dNZueiP3qryCLVq",
    "zpka_" + "1d397a82a529dd8a41af7a1bf5a3bc73_600e7c93",
    "AVNS_" + "OgXZe_kb5CGriv9v6sBV_RY",
    "xau_" + "0S5a29B5vFu6FpZeD8mKbb8tFAZZinpFscgc",
    "CCDB1_" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1O_Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3Wx6",
    "xaat-" + "71c5d591-771b-4b62-bf3e-134b6a53b139",
    "hbp_" + "Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3W",
    "cxtp_" + "m9Xuw0wmxeWRyUkyT8dm1CfPvAMyux",
    "secret-live-" + "pfGV_8QAoQSpeRgD5XNX7cbBPBcy1VxXad-w",
    "api_live." + "Eb5T8p68UHc.C-BqxX0Uw1iD0pXL64S1nkOL7hUBb8k5",
    "persona_production_" + "e338d764-e83c-47c2-b7bb-dfca7646e0bd",
    "samsara_api_" + "n3CRqQxyYnJTW9dyhS7ZK2ZLVVVqG5",
])
@pytest.mark.parametrize("carrier", ["{}", 'rejected key {} (rotate it)', '{{"msg": "retrying with {}"}}',
                                     "GET /v2/report?key={}&fmt=json"])
def test_new_token_formats_are_masked_bare(token: str, carrier: str) -> None:
    out = redact(carrier.format(token))
    assert token[-12:] not in out and token[len(token) // 2:][:10] not in out, out


@pytest.mark.parametrize("text", [
    "publishable: pk-lf-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",              # Langfuse's public key
    "live_stream_events_processing_pipeline_v2_enabled",                     # "live_" and a word
    "sandbox_environment_for_integration_testing_only_2026",
    "ALTAKING the process",
    "dvc_server_side_rendering_enabled=true",
    "xaat-not-a-uuid-but-a-name",
])
def test_look_alikes_of_the_new_formats_stay(text: str) -> None:
    assert redact(text) == text


# -- Azure's identifiable keys (ben.redact.azurekeys) -----------------------------------------------------------------
@pytest.mark.parametrize("key", [
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH9jK2mN5pQ" + "AzSe" + "A1b2C3",                     # Search
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH9jK2mN5pQ8rS1tU4vW7yZ0aB3cD6eF9gH2jK5mN8pQ1rS4tU7v" + "ACDb" + "A1b2C3==",   # Cosmos
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH9jK2mN5pQ-_" + "AzFu" + "A1b2C3==",                 # Function
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH" + "AZEG" + "A1b2C3",                              # Event Grid
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH9jK2mN5pQ8rS1tU4vW7yZ0aB3cD6eF9gH2jK5mN8pQ1rS4tU7v" + "+ASt" + "B1b2C3==",   # Storage
    "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH" + "+ASb" + "C1b2C3=",                             # Service Bus
])
def test_azure_identifiable_keys_are_masked_without_a_name(key: str) -> None:
    for text in (key, f"connecting with {key} now", f'{{"k": "{key}"}}'):
        assert key[10:30] not in redact(text)


@pytest.mark.parametrize("text", [
    "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAA" + "Qm9keSBvZiBhIGxvbmcgYmxvYg" * 6 + "AzSe" + "Qm9keSBvZiBh" * 10,
    "AzSeA1b2C3 is a signature with nothing before it",
    "request " + "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH" + "AZEG" + "A1b2C3" + "Zx9aB3kLm0pQ7rS2tU5vW8yZ1cD4eF6gH9jK2mN5pQ8rS1tU4vW7yZ0aB3",
])
def test_look_alikes_of_azure_keys_stay(text: str) -> None:
    assert redact(text) == text


def test_azure_keys_read_each_character_a_bounded_number_of_times() -> None:
    n = 2_000
    text = _Counted("Zx9aB3" * 20 + "AzSe" * n)
    _Counted.reads = 0
    list(azurekeys.spans(text))
    assert _Counted.reads < n * 260, _Counted.reads   # 2 * _REACH and a few more per signature; not the run per signature


# -- Authorization schemes (the bearer rule) --------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('"NTLM TlRMTVNTUAADAAAAGAAYA7YtFXd1xBQcQaJJAJK1ODdOpl/vrjpjWQP6kyCMC83YXnBTmBTd"', "FXd1xBQcQaJJ"),
    ("Authorization: Negotiate YIIG6dVM3A1f01QEiU2kyVl40P4eY7o7z4jkpaFgEX0j+7iz50cL+7PPcl2oO91", "A1f01QEiU2ky"),
    ('{"name": "Authorization", "value": "Zoho-oauthtoken 1000.3f5357501ab507fd595734e7880a45c4.0fa6520ff1573bc0e221"}',
     "3f5357501ab507fd"),
    ("< PASS oauth:e7wipsw2nptzztidvq7zbeibkd16mz", "e7wipsw2nptzzt"),                       # Twitch's chat token
    ("GET /report?key=oauth%3Avrkmto8bysqb178wqfl215d77lp334&fmt=json", "vrkmto8bysqb17"),
])
def test_new_authorization_schemes_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "token_type=Bearer expires_in=3600 scope=read",           # a scheme's name as a value, then the next pair
    "failed to negotiate protocols with the peer",
    "ntlm authentication is disabled on this host",
    "redirect to https://example.com/oauth:callback?state=abc",
])
def test_look_alikes_of_the_schemes_stay(text: str) -> None:
    assert redact(text) == text


# -- a secret store's printed value (ben.redact.tooltraces) -----------------------------------------------------------
@pytest.mark.parametrize("command", [
    "$ vault kv get -field=password secret/prod/db",
    "$ kubectl get secret api -n prod -o jsonpath='{.data.api_token}' | base64 -d",
    "$ kubectl get secret api -o jsonpath='{.data.api_token}'",
    "$ gcloud secrets versions access latest --secret=stripe-key",
    "$ aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text",
    "$ op read op://prod/db/password",
    "$ doppler secrets get DB_PASSWORD --plain",
    "$ heroku config:get DATABASE_PASSWORD -a acme",
    "# pass show prod/db",
])
def test_a_secret_stores_printed_value_is_masked(command: str) -> None:
    value = "#Q7v2LpX9mZ4kR8wT1yU"
    out = redact(f"{command}\n{value}\n$ ")
    assert "Q7v2LpX9mZ4k" not in out and out.startswith(command[:12]), out   # --secret=name: the pair rule's (as before)


@pytest.mark.parametrize("text", [
    "$ vault kv get -field=password secret/prod/db\nError reading secret/data/prod/db: permission denied\n$ ",
    "$ kubectl get secrets -n prod\nNAME            TYPE     DATA   AGE",
    "$ kubectl describe secret api\nName:         api",
    "$ vault kv get -field=password secret/prod/db\n$ echo done",
])
def test_look_alikes_of_printed_values_stay(text: str) -> None:
    assert redact(text) == text


# -- Terraform's sensitive outputs, name/value records (ben.redact.layouts) ------------------------------------------
def test_terraform_sensitive_outputs_are_masked_and_others_stay() -> None:
    text = ('{\n  "endpoint": {\n    "sensitive": false,\n    "type": "string",\n    "value": "https://api.acme.io/v1"\n  },\n'
            '  "db_dsn": {\n    "sensitive": true,\n    "type": "string",\n    "value": "k7Hq2Zr9Lm4Xp8Wt"\n  }\n}')
    out = redact(text)
    assert "k7Hq2Zr9Lm4Xp8Wt" not in out and '"value": "https://api.acme.io/v1"' in out


def test_a_name_value_records_long_value_is_masked() -> None:
    value = "Zx9aB3kLm0pQ7rS2tU5vW8yZ/1cD4eF6gH9jK2mN5pQ+" * 4
    text = '{"environment": [{"name": "LINE_CHANNEL_ACCESS_TOKEN", "value": "' + value + '"}, {"name": "PORT", "value": "8080"}]}'
    out = redact(text)
    assert value[100:130] not in out and '"value": "8080"' in out


# -- connection strings with no scheme, directives, programs (ben.redact.identifiers, layouts) -------------------------
@pytest.mark.parametrize("text, secret", [
    ("connecting to svc_api:oDh+P0+76%vmYOA*9ASi@tcp(10.0.3.17:3306)/orders?parseTime=true", "oDh+P0+76%vm"),
    ("dsn=app:l#R1q@Rt6tE0vdx@unix(/var/run/mysqld.sock)/orders", "Rt6tE0vdx"),
    ("connecting to svc_api/sQ46SHBMOp3/+P0@db.internal:1521/ORCLPDB1", "sQ46SHBMOp3"),
    ("uri ldaps://10.0.4.21\nbinddn cn=app,dc=acme,dc=io\nbindpw Saffronfalcon689%", "Saffronfalcon689"),
    ("mosquitto_passwd -b /etc/mosquitto/passwd ops 'Quartzfalcon705%'", "Quartzfalcon705"),
    ("<RequestsCookieJar[<Cookie .AspNetCore.Cookies=CfDJ8dokmmM1y5fZXfGGRgQUgRnoIyPw7xDZIgABkyBQ7 for .acme.io/>]>", "dokmmM1y5fZX"),
    ("UNKEY_ROOT_KEY=Zq81xP2mLw9KtQab34", "Zq81xP2mLw9K"),
    ("devcycle_server_sdk_key: 'Zq81xP2mLw9KtQab34'", "Zq81xP2mLw9K"),
    ("aeg_sas_key = Zq81xP2mLw9KtQab34", "Zq81xP2mLw9K"),
    ('["adafruit_io_key"]=>\n  string(18) "Zq81xP2mLw9KtQab34"', "Zq81xP2mLw9K"),
    ("ElevenLabsKey: Zq81xP2mLw9KtQab34", "Zq81xP2mLw9K"),
])
def test_new_carriers_and_key_names_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "      - uses: docker/login-action@v3\n        with:\n          password: ${{ secrets.GITHUB_TOKEN }}",
    "- uses: actions/checkout@v4 then login with ghcr.io/acme/api@sha256:" + "0a" * 32,
    "Data\n====\npassword:  24 bytes\nusername:  3 bytes",
    '{"message": {"data": "eyJvcmRlciI6IDF9", "messageId": "568450375033421"}}',   # Luhn-valid, an issuer's prefix
    "npm i @acme/sdk@1.2.3 && see acme/infra@main and ghcr.io/acme/api:1.4.2@sha256:" + "0b" * 32,
    "sort_key = created_at, cache_key = user:42, primary_key = id",
])
def test_look_alikes_of_the_new_carriers_stay(text: str) -> None:
    assert redact(text) == text


def test_a_card_under_a_cards_id_key_is_still_masked() -> None:
    assert "4111111111111111" not in redact('{"card_id": "4111111111111111"}')
    assert "4111111111111111" not in redact('{"payment_method_id": "4111111111111111"}')
    assert "4111111111111111" not in redact("card 4111111111111111 declined")


# -- long adversarial inputs ------------------------------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ['"sensitive": true, "type": "string", ' * 20000, '"sensitive": true, "value": "' * 20000,
         "a:" * 100000 + "@tcp(", "a:b" * 60000 + "@unix", "a/" * 100000 + "@h:1521/x", "u/p@" * 50000 + "h:1521/s",
         "AzSe" * 50000, "A" * 200000 + "AzSe", "+ASt" * 50000, "Zx9aB3kLm0" * 20000 + "ACDb==",
         "vault kv get -field=x " * 20000 + "\nv", "kubectl secret .data " * 20000 + "\nvalue123",
         "-field\n" * 50000, "pass show " * 40000, "Bearer " + "a" * 200000 + "=b", "negotiate " * 40000, "NTLM " * 40000,
         '{"name": "API_TOKEN", "value": "' * 20000, '"name": "API_TOKEN", ' * 20000 + '"value": "' + "x" * 5000,
         "mosquitto_passwd -b " * 30000, "log in " + "a/" * 100000 + "@v1", "login-action@v3 " * 30000,
         '"messageId": "' + "4111111111111111 " * 20000, ".AspNetCore.Cookies=" * 20000, "bindpw " * 40000,
         "GOOG1E" * 30000, "AAAAAAAAAAAAAAAAAAAAA" * 10000 + "%", "sk-or-v1-" * 20000, "live_" * 40000, "0 bytes " * 40000,
         "oauth:" * 40000, "oauth:" + "a" * 200000, "oauth%3A" * 30000]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "done", out.stderr
