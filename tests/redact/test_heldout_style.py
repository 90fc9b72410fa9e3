"""The held-out-style corpus (``tests/redact/heldout_style.py``, ADR 0030 revision 4) and one test per
rule it led to, each with the look-alikes the rule must leave alone.

Seed 2 was used while the rules were fixed; seeds 3 and 4 never were (their misses were not read).
"""

from __future__ import annotations

import base64

import pytest

from tests.redact.heldout_style import OPT_IN_FAMILIES, generate, run
from tests.redact.test_coverage import redact


# -- the corpus ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_heldout_style_recall_and_benign_damage(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] >= 200 and len(fig.total) >= 100
    assert fig.recall() >= 0.94, (fig.recall(), fig.misses[:5])
    assert fig.benign_damage() <= 0.015, fig.damaged
    for key in fig.total:
        if key.startswith("family:") and key[7:] not in OPT_IN_FAMILIES | {"benign"}:
            assert fig.rate(key) >= 0.80, (key, fig.rate(key), [m for m in fig.misses if m[0] == key[7:]][:3])


# -- secret keys written apart from their values (ben.redact.layouts) ---------------------------------
@pytest.mark.parametrize("text, secret", [
    ("env:\n  - name: DB_PASSWORD\n    value: \"Xq81-Lm2pP9z\"\n  - name: LOG_LEVEL\n    value: info", "Xq81-Lm2pP9z"),
    ('{"name": "STRIPE_API_KEY", "value": "k7Gq2LmX9pTz4RwY"}', "k7Gq2LmX9pTz4RwY"),
    ('{"ParameterKey": "DBPassword", "ParameterValue": "Tz4Rw-Yk7Gq2"}', "Tz4Rw-Yk7Gq2"),
    ("UPDATE settings SET value = 'c3ca025fd02ca100e5e9d26d' WHERE name = 'datadog_api_key';", "c3ca025fd02ca100e5e9d26d"),
    ("INSERT INTO users (login, password) VALUES ('jdoe', 'Winter2020$cid');", "Winter2020$cid"),
    ("INSERT INTO settings (name, value) VALUES ('TWILIO_AUTH_TOKEN', '8fd51972b64eb605fd');", "8fd51972b64eb605fd"),
    ("name,CF_API_TOKEN,created_at\nbilling,\"91yoTQHvKL-P2ogiiN1XVQls41\",2026-12-06", "91yoTQHvKL-P2ogiiN1XVQls41"),
    ("requirepass k6CWfHOi9C+EXdT0\nmaxmemory 2gb", "k6CWfHOi9C+EXdT0"),
    ("Key         Value\n---         -----\nusername    app\npassword    0BlCEUVl5mz_Vt", "0BlCEUVl5mz_Vt"),
])
def test_values_of_secret_keys_written_apart(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "env:\n  - name: LOG_LEVEL\n    value: debug-9\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        key: password",
    "UPDATE settings SET value = 'dark-mode-2' WHERE name = 'theme';",
    "INSERT INTO users (login, password_changed) VALUES ('jdoe', 'yes');",
    "name,password_policy,created_at\nbilling,strict,2026-12-06",
    "maxmemory 2gb\ntimeout 300",
    "password reset link sent",
    "ts,token_count,latency_ms\n2026-12-06T10:00:00Z,1532,31\n2026-12-06T10:00:01Z,8803,44",
    "INSERT INTO usage (model, prompt_tokens, completion_tokens) VALUES ('m-1', 1532, 88);",
    "name,api_token\nbilling,2026-12-06",
    "password_changed_at 2026-11-12T10:00:00Z\nsecret_version 3",
])
def test_layouts_leave_other_values_alone(text: str) -> None:
    assert redact(text) == text


# -- passwords in code, markup, sentences and command lines --------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('DataSource ds = DataSourceBuilder.create().username("app").password("copper-saffron-ember43").build();',
     "copper-saffron-ember43"),
    ('ds.setPassword("jAco206I-N9-eARhuLTPJddl");', "jAco206I-N9-eARhuLTPJddl"),
    ('<property name="hibernate.connection.password">zpA4br$hpEyK</property>', "zpA4br$hpEyK"),
    ("$config['smtp_pass'] = \"Ga0ym&:mYwj\";", "Ga0ym&:mYwj"),
    ("password for admin: Spring2027@b6x", "Spring2027@b6x"),
    ("la contraseña es tLhyFLySvW9UfzA9", "tLhyFLySvW9UfzA9"),
    ("le mot de passe est Cx5CdFfZ$sTJ*Jw", "Cx5CdFfZ$sTJ*Jw"),
    ("a senha é zAb5UNg5g3jC", "zAb5UNg5g3jC"),
    ("CREATE ROLE reporting LOGIN PASSWORD 'Hc/GNJ;ga438';", "Hc/GNJ;ga438"),
    ("SET PASSWORD FOR 'app'@'%' = 'A-rEsAGaN2ZtIYBd';", "A-rEsAGaN2ZtIYBd"),
    ("CREATE USER ch IDENTIFIED WITH sha256_password BY 'copper-lantern-orbit79'", "copper-lantern-orbit79"),
    ("az login -u ops@example.com -p QfH6d5Uhxcs8*!", "QfH6d5Uhxcs8*!"),
    ("sqlcmd -S db -U sa -P Xy8-tR4qLm2", "Xy8-tR4qLm2"),
    ("htpasswd -b -c /etc/nginx/.htpasswd admin wYlXXgy1Rqc", "wYlXXgy1Rqc"),
    ("ldapsearch -x -D cn=admin,dc=example,dc=org -w saffron-harbor-orbit19 -b dc=example", "saffron-harbor-orbit19"),
    ("echo 'Kq81Xt5Pw2' | sudo -S systemctl restart api", "Kq81Xt5Pw2"),
    ("rabbitmqctl add_user app tcueqm9722QA", "tcueqm9722QA"),
    ("smbclient //srv/share -U backup%1B1md1G1epA8G", "1B1md1G1epA8G"),
    ('network={\n  ssid="office"\n  psk="dwbcrr9008BN"\n}', "dwbcrr9008BN"),
    ("app.rootPw=Autumn2024@qjl", "Autumn2024@qjl"),
    ("mật_khẩu=Spring2019$c02", "Spring2019$c02"),
    ('<add key="cmd" value="login failed with password &#x27;c+?#bJ#oqmY2RZt&#x27;" />', "oqmY2RZt"),
])
def test_passwords_in_code_markup_sentences_and_commands(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "PWD=/home/app", "DB_PASSWORD_FILE=/run/secrets/db_password", '<input type="password">',
    '<label for="password">Password</label>', "mysql -u root -p (prompted for password)", "psql -U app -p 5432 -d app",
    "password for admin: changed", 'user.setPassword("password")', "echo hello | sudo -S true",
])
def test_password_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- tokens and keys ------------------------------------------------------------------------------------
JWE_DIR = ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..rOV4bM29pg3cFCkr.L_BgjxjC9A2hunz20_KxHHNhKKI6luESxNUvgFttZMue"
           ".vSrPssOQAHDHIKw3AlRxrg")
PUTTY = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@ci\nPublic-Lines: 2\n"
         "AAAAC3NzaC1lZDI1NTE5AAAAI9XQH4igEYhZUcI\nofRm6AP2FwuX\nPrivate-Lines: 1\nAAAAI0ImTSDyLfyJaQwl8xcNxxG5bh\n"
         "Private-MAC: 3f2a9c0d1e")


@pytest.mark.parametrize("text, secret", [
    (f'upstream rejected "{JWE_DIR}"', "L_BgjxjC9A2hunz20"),
    ("eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.ek9QxZ1vWn3Rt.iv7Rt2Qp0Lm9.ct8Kd2Xq7Rt4Lm9Wz.tg4Hq8", "ct8Kd2Xq7Rt4"),
    (PUTTY, "AAAAI0ImTSDyLfyJaQwl8xcNxxG5bh"),
    ("SONAR_TOKEN sqp_3cd067c81ced6c403583733d02ba7b293a41ac0b", "3cd067c81ced6c40"),
    ("SecretId: AKIDSUyd3oDNdY26OI9fPO3GdirvUol3uBNY", "SUyd3oDNdY26OI9f"),
    ("key rzp_live_qOMGzNcOMe7Sqi", "qOMGzNcOMe7Sqi"),
    ("live_8AO9m7AiGD4BogsBBW3dRJdJD6QZdL", "8AO9m7AiGD4Bogs"),
    ("access-production-1e914b65-556f-4fd9-8bf4-8c6f52e5a078", "1e914b65-556f"),
    ("re_A1jWtWxw_bwe8g764FCGIMhdl2uvI843B", "bwe8g764FCGIMhdl"),
    ("cioCxQ9sjr0XQgUiZRF39vJowcdhlFDRGfz", "CxQ9sjr0XQgUiZRF"),
    ("xprv9s21ZrQH143KGfXDZE8m9tjk5ZBAaT7iEc3jxbaSD3D8VfNemyBNVhJmb4NUZd4fhiWTLPt1UczQrWs3mWnZgYLcSUsChzc3zbpjkNUiCu1",
     "GfXDZE8m9tjk5ZBA"),
    ("terraform login used 3zrLM2M52Kgjqk.atlasv1.Jgb7ITrRQb29ltJgb7ITrRQb29ltJgb7ITrRQb29ltJgb7ITrRQb29lt", "3zrLM2M52Kgjqk"),
    ("https://chat.example.org/hooks/k9cftg22x70w1ku09la8ofsaxj", "k9cftg22x70w1ku09la8ofsaxj"),
    ("AZDO_PAT: yty6shag3enhap6envnss55n5yfbet4ns2lzy5op7asr67whhn4y", "yty6shag3enhap6e"),
    ('MNEMONIC="actual alley acquire abuse aisle acid across afraid aerobic act absent already"', "alley acquire"),
    ("Cookie-less log: connect.sid=s%3AaB3xY9kLm2Qp7RtZ.q8Wv2Xy4Lm9Kp3Rt", "aB3xY9kLm2Qp7RtZ"),
    ("sessionid=b17543x84qjrzs14w4xs88kmxgxm1d38", "b17543x84qjrzs14"),
])
def test_tokens_keys_and_files(text: str, secret: str) -> None:
    assert secret not in redact(text)


def _cert() -> str:
    lines = [base64.b64encode(bytes((i * 37 + j * 11) % 256 for j in range(48))).decode() for i in range(6)]
    lines[1] = "Zis01cz5c1evzWB0teBS9UnZjnJuwmyY/g0hxlJ7/a3AwJg6S2W1UH+xvUqMPH17"   # a 40-character piece before a '/'
    lines[2] = "+IBetBBMul5ssJ5tZ4HysNp/zueRvy0Tn5eRYpj7E0g6PZ73LcxziHm7v2n8lTMM"   # and after one
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----"


@pytest.mark.parametrize("text", [
    "principalId=AROAJ6C5SLOQIHSJJ5KJL:session-769328", '"userIdentity": {"principalId": "AIDAJQABLZS4A3QDU576Q"}',
    _cert(), "ca.crt=" + _cert().replace("\n", "\\n"), "test_connectionHandlesTimeoutsGracefully",
])
def test_token_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


def test_an_aws_secret_key_after_a_path_is_still_found() -> None:
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq3Tkv8Lm2"   # AWS's documentation key is an example, kept (revision 11)
    assert key not in redact(f"s3 sync s3://backups/db {key} --region eu-west-1")
    assert key not in redact(f"GET /v1/keys/{key} 200")


@pytest.mark.parametrize("key", ["รหัสผ่าน", "κωδικός", "kata_sandi", "contrasenya", "root_pw", "wifi.psk", "AZDO_PAT",
                                 "wallet.mnemonic", "seed_phrase", "x-honeycomb-team", "pagerduty.routing_key"])
def test_attributes_under_the_new_secret_keys_are_masked(key: str) -> None:
    from tests.redact.heldout_style import Sample

    fig = run([Sample("password", "attr", "attribute", "config loaded", {key: "Zq81-xP2mLw9Kt"}, ("Zq81-xP2mLw9Kt",))])
    assert fig.rate("family:password") == 1.0, fig.misses


@pytest.mark.parametrize("key, value, masked", [
    ("user.mobile", "0612345678", True), ("customer_phone", "+4915112345678", True), ("msisdn", "447700900123", True),
    ("patient.ssn", "078051120", True), ("phone_verified", "true", False), ("device.iphone", "15 Pro", False),
    ("session_count", "12", False),
])
def test_personal_numbers_under_their_key(key: str, value: str, masked: bool) -> None:
    from tests.redact.heldout_style import Sample

    fig = run([Sample("pii", "attr", "attribute", "profile updated", {key: value}, (value,))])
    assert (fig.rate("family:pii") == 1.0) is masked, (key, fig.misses)


@pytest.mark.parametrize("text, masked", [("tel (415)555-2671", True), ("call (415) 555-2671", True),
                                          ("id (123)4567890", False), ("order (415)5552671", False)])
def test_a_bracketed_area_code_without_a_space(text: str, masked: bool) -> None:
    assert (redact(text) != text) is masked


def test_the_opt_in_manifest_parses_and_the_command_line_scores_with_it(capsys) -> None:
    """``--opt-in`` adds the bare national-ID detectors under a name of their own (the default manifest has had a
    ``national-id`` rule since it masks named ones: the same name made every ``--opt-in`` run fail)."""
    from ben.redact import parse_manifest
    from tests.redact.heldout_style import Sample, cli, opt_in_manifest

    rules = parse_manifest(opt_in_manifest(), need_key=False).rules
    assert any(d.name == "uk_nino" for r in rules for d in r.secret_rules)
    one = [Sample("national_id", "uk_nino", "prose", "NI number QQ123456C on file", {}, ("QQ123456C",))]
    cli("corpus\n", lambda seed, per_kind: one, run, seed=1, opt_in=True, argv=["--opt-in", "--summary"])
    assert capsys.readouterr().out.startswith("recall 1.000")
