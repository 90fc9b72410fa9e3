"""The eighth held-out-style corpus (``tests/redact/heldout_style8.py``, ADR 0030 revision 12: less common vendors, key
material that is no PEM, webhook and signed URLs, cookies, positional passwords, config syntaxes of many languages,
key names in other languages), one test per rule family it led to (each with the look-alikes the rule must leave), and
long adversarial inputs for the new patterns, redacted in a subprocess (a hang fails by the subprocess' timeout).

Seeds 81-86 were used while the rules were fixed; the misses of seeds 87 and 88 were never read.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.redact.heldout_style8 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style8_recall_on_reserved_seeds_and_look_alikes(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 150 and sum(1 for k in fig.total if k.startswith("family:")) >= 12
    # revision 11's code: 59.5 / 58.2 %; revision 12: 92.2 / 91.8 % (the misses left are listed in ADR 0030, revision 12)
    assert fig.recall() >= 0.90, (fig.recall(), fig.misses[:3])
    assert len(fig.damaged) <= 3, fig.damaged   # 14 / 16 of 150 before; 1 / 2 after
    for key in ("family:cookie", "family:header", "family:webhook", "family:app_secret", "family:infra"):
        assert fig.rate(key) >= 0.80, (key, fig.rate(key))   # the lowest measured: infra 80.9 % on seed 87


# -- key = value syntaxes (ben.redact.pairs) ------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('pub const CLIENT_SECRET: &str = "Fmwyv5iJ5oxjGIp4n+9H3r635vB8trCXWv7e";', "Fmwyv5iJ5oxj"),       # a typed declaration
    ('api_token: str = "Zq81xP2mLw9KtQab34"', "Zq81xP2mLw9K"),
    ("ADMIN_PASSWORD ?= urtep8s0nb7nFX+", "urtep8s0nb7n"),                                              # Make's ?=
    ("=== acme-prod Config Vars\nAPI_TOKEN:            SCWBJD88U24BRIZZW1Z3", "SCWBJD88U24B"),             # an aligned table
    ('{:acme/plaid-secret "26de656b42743828e278e1247c38ef" :acme/timeout 5000}', "26de656b4274"),         # EDN
    ('#define DB_PASSWORD "Lantern2024*"', "Lantern2024"),                                               # C
    ('[{acme, [{ovh_application_secret, "H6nZce3Iv68UlGD1i1A6S2EIfR9AFbYB"}]}].', "H6nZce3Iv68U"),       # Erlang
    ("rawHeaders: [ 'Host', 'api.acme.io', 'X-TYPESENSE-API-KEY', 'u4MV6rQyERsUnN9AzP0emDo8', 'Accept' ]", "u4MV6rQyERsU"),
    ("X-Goog-Signature=" + "0f3a" * 128 + " 200", "0f3a" * 110),                                        # past 400 characters
    ('Sys.setenv(CLAVE_API = "2NHub7joodRpZTmKSsHQ5bFRRYiH")', "2NHub7joodRp"),                          # other languages
    ('{"\\u043a\\u043b\\u044e\\u0447_api": "9c7c2f9bdd5f202bed7c3ffdd75fefa1"}', "9c7c2f9bdd5f"),
    ("execve(\"/bin/w\", [\"w\"], [\"令牌=ep6MnuvCdmWalRB421k8O__2JihbSZ\", \"HOME=/app\"]) = 0", "ep6MnuvCdmWa"),
    ("private const val LARK_WEBHOOK = \"https://chat.acme.io/x/y?k=1\"", "chat.acme.io/x/y"),          # a webhook key
    ("secret_id: 36f626fc-7f95-4b39-91fb-7231cc7b0ceb", "36f626fc-7f95"),
    ("Unseal Key 1: 2kQ0cjS9uVd4XgkQ3I1lYv+8n5QFJeS3yGQ2m1eHc9Gk", "2kQ0cjS9uVd4"),
    ("private const val KEYSTORE_B64 = \"MIIKAWZu82P1kzXFVlf2JqdeIxVpGVey7Ax9gZF9XAQx\"", "AWZu82P1kzXF"),
])
def test_new_pair_syntaxes_and_key_names_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    'failed for volume "creds" : secret "db-password" not found',
    'get("password", "username")',
    '{"secret_name": "prod/db-password", "version_id": "42c277ac-5570-48c0-81ad-646778fde46d", "rotation_days": 30}',
    'let apiKey = ProcessInfo.processInfo.environment["API_KEY"]',
    'token := os.Getenv("GITHUB_TOKEN")',
    "const apiKey = process.env.STRIPE_SECRET_KEY;",
    "password: !vault |",
    "api_url: ENC[AES256_GCM,data:iK72VXiX40Lb8nAYLsplmEK3nZYM8VpsjhCNHTeh,iv:xOkoTbLPY46twAq/JgDs1pSJGu9OCnjwdkU/BfcgcDn=,"
    "tag:fUso7q7bypnZwm1eH810Eg==,type:str]",
    "An account was successfully logged on. Security ID: S-1-5-21-3346155416-3681684793-3327026782-1104",
    "untrusted comment: minisign public key C9420B6AB658785E\nRWQ96F+5SyZ0zgO/HuL9QSG4h2deKW0pu/IPR05USDXJpsyKLtKTDpUu",
    "sort_key: 20261207 and cache_key = user:42:profile and webhook: enabled",
])
def test_look_alikes_of_the_new_rules_stay(text: str) -> None:
    assert redact(text) == text


def test_a_dotted_value_at_the_end_of_a_text_is_no_call() -> None:
    text = "grant_type=client_credentials&client_id=web&secret=violet.primavera.primavera53"
    assert "primavera53" not in redact(text)


# -- token formats, key files, webhooks, headers, cookies, programs ---------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("$ ./scripts/deploy.sh EXO290fdbbf966c018cab2c16f5", "290fdbbf966c"),
    ("| prod | `00DYTSIZT01L3F9!AQLh8MXHelGZh4zww3hon7QzaGq_N1YlxMtezbktDYL9S9tJIFhDSq7DizM2md7AI2mSrYNPpSzkpJQ4iTsMn` |",
     "AQLh8MXHelGZ"),
    ("./deploy.sh patjdA0Ll8oqHX23z.048914950cc5d01f68c50b020424b60d6ea4351fdd401b17e518f7d028b396fc", "048914950cc5"),
    ("cb=KEYWTUYP1BW65R9F548PPV1FMW3GN_JlXfBSBicZowUAMkXycVBI 443", "WTUYP1BW65R9"),
    ("try v4.local.Xl2BWOKj3CGVcdYHjVfp2_ivX_0QtUSBbN-R3m20bxpAtmSkqB2vzZyWmbkR ok", "Xl2BWOKj3CGV"),
    ("docker swarm join --token SWMTKN-1-waydrp4x0z9pt595bufwuskjtbzw7rqt14a1mxz4qxnti6o0z5-ltfy5g6h3coasmgnfg57kqae1 10.0.0.1:2377",
     "waydrp4x0z9p"),
    ("-----BEGIN USER NKEY SEED-----\nSUAM3XKZ7WQ2LRJ6BOSPNSU4DYIHXZ6Q5VZ2DJYHKQCFR4CPMO4ZB3KFPE\n------END USER NKEY SEED------",
     "AM3XKZ7WQ2LR"),
    ("Grpc-Metadata-macaroon: 0201036c6e6402f801abcdef0123456789abcdef0123456789abcdef0123456789", "abcdef012345"),
    ("untrusted comment: minisign encrypted secret key\nRWRTY0IyH90UxgJEvaYO9F0P+T+v0si8nlHb9JHPS+xVB1El+ZaOf29/1GaGGZRqSRmsD3wER14D1b"
     "+VaNtx1mTsUgHJjmUkMNJcByGSlblaiQ247ZnXFpzndVXVfFmfRA8l", "H90UxgJEvaYO"),
    ("<tls-crypt>\n-----BEGIN OpenVPN Static key V1-----\n959dae790bd3c3ae12105a9eddd60812\nb0aabf9daf6ec353550e6ebdae3fd10d\n"
     "-----END OpenVPN Static key V1-----\n</tls-crypt>", "b0aabf9daf6e"),
    ("POST https://open.feishu.cn/open-apis/bot/v2/hook/44727153-f208-458f-80d7-2f819d4dfe7d", "44727153-f208"),
    ("https://maker.ifttt.com/trigger/deploy_done/with/key/rzU2H9ZmRbYbQZjSz8jh0h", "rzU2H9ZmRbYb"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=7bed93d1-d630-46b9-8fca-68c8d4115278", "7bed93d1-d630"),
    ("https://api.netlify.com/build_hooks/3337a3d6bd06696b8cfff300", "3337a3d6bd06"),
    ("> authorization: Klaviyo-API-Key pk_0123456789abcdef0123456789abcdef01", "0123456789abcdef"),
    ("{'Authorization': 'Token token=u+abcdEFGH-12345_xyz'}", "abcdEFGH-123"),
    ("Authorization: GenieKey 4edf621a-add1-46c0-9a6e-6b2d08d15df9", "4edf621a-add1"),
    ('{"cookies": [{"name": "sessionid", "value": "3zm982bw3rjdmyh7lp9aw5mxb6lmxdjb", "domain": ".acme.io"}]}', "3zm982bw3rjd"),
    ("app.acme.io\tFALSE\t/\tTRUE\t1796610067\tJSESSIONID\t3C347C60A21144C848C0044BDE3DD1D5", "3C347C60A211"),
    ("xfreerdp /v:db.internal /u:deploy /p:'Walnut2019!' /cert:ignore", "Walnut2019"),
    ('sqlplus ops/"+U3zPaeAmisakje/fGKm"@mq.acme.io:1521/ORCLPDB1', "U3zPaeAmisak"),
    ("snmp-server community tnoi-tjaa-wmxa-nyzd RO 10", "tnoi-tjaa"),
    ("7z a -p'Granite1986?' -mhe=on backup.7z /srv/data", "Granite1986"),
    ('db.auth("ops", "bgwl-gjla-rfwu-lzdv")', "bgwl-gjla"),
    ('10.0.4.21:6379> CONFIG SET requirepass "WPCv|bL@:$N6C2i^p}EcY"', "WPCv|bL@"),
    ("username scott privilege 15 password 0 Lantern2024*", "Lantern2024"),
    ("CALL dbms.security.createUser('scott', 'Walnut2019!', false)", "Walnut2019"),
    ('write(5, "AUTH fkyddRF0QDLEy9E32wc9\\r\\n", 26) = 26', "fkyddRF0QDLE"),
    ("##vso[task.setvariable variable=CLIENT_SECRET;issecret=false]jCt9G-GUUUNvLD-Q3JUDGI1UW3TJ", "jCt9G-GUUUNv"),
    ("::set-output name=token::ghx_abcdefghijklmnop1234", "abcdefghijkl"),
])
def test_new_formats_files_urls_headers_cookies_and_programs_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "upgraded to v1.2.3 and t1.micro, sdk-version 3, pk_test, KEY_ID, EXO and SCW regions",
    "GET /repos/acme/api/hooks/12345678 200 and /hooks/deployment-status-updates",
    "authorization failed for user admin; Authorization: required",
    "##vso[task.setvariable variable=buildNumber]20261207.3",
    '{"cookies": [{"name": "_ga", "value": "GA1.1.123456789.123456789", "domain": ".acme.io"}]}',
    '[{"name": "X-Request-Id", "value": "0f3a9b2c-1234-4abc-9def-0123456789ab"}]',
    "service password-encryption\nlockout after password 7 attempts",
    "snmp-server location dc1 and community strings rotated",
    "GET /files/p:12345678 and C:/p:abc",
])
def test_look_alikes_of_the_new_formats_and_programs_stay(text: str) -> None:
    assert redact(text) == text


def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ["token: " + "a" * 200000, "API_KEY: &str" * 30000, 'token "' * 40000, 'secret, "' * 40000, "X-Goog-Signature=" + "a" * 300000,
         "/hooks/" * 40000, "/hook/" + "a1" * 100000, "Authorization: " * 40000, "authorization: x " * 40000,
         "\tTRUE\t" * 40000, '"name": "sessionid", "value": "' * 20000 + "cookie", "##vso[task.setvariable variable=" * 20000,
         "7z a -p'" * 30000, "community " * 40000, "password 0 " * 40000, 'db.auth("' * 40000, '"AUTH ' * 40000,
         "untrusted comment: public key\n" * 20000, "ENC[AES256_GCM," * 20000, "a.b.c" * 60000 + "(", "SU" * 100000]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "done", out.stderr
