"""The fifth held-out-style corpus (``tests/redact/heldout_style5.py``, ADR 0030 revision 9: whole ecosystems' log
formats), one test per rule family it led to (each with the look-alikes the rule must leave alone), and long
adversarial inputs for the new patterns, redacted in a subprocess under a generous bound.

Seeds 51-54 were used while the rules were fixed; the misses of seeds 57 and 58 were never read.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.redact.heldout_style5 import generate, run
from tests.redact.test_coverage import redact


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", [57, 58])
def test_heldout_style5_recall_on_reserved_seeds_and_no_look_alike_changed(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 168 and sum(1 for k in fig.total if k.startswith("family:")) == 4
    assert fig.recall() >= 0.985, (fig.recall(), fig.misses[:5])
    assert fig.damaged == []
    for key in fig.total:
        if key.startswith("family:") and key != "family:benign":
            assert fig.rate(key) >= 0.95, (key, fig.rate(key), [m for m in fig.misses if m[0] == key[7:]][:3])


# -- values wrapped by their ecosystem (ben.redact.positional._wrapped) ----------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("POST: <QueryDict: {'username': ['bob'], 'passwd': ['1gjY0guP0mbm6o/AeDFET153']}>", "1gjY0guP0mbm6o"),
    ('{"form": {"api_key": ["Xk9fj3Lkd92Kdj39dkKdk", "second"]}}', "Xk9fj3Lkd92Kdj39"),
    ("{'national_insurance_number': ['JK815379B']}", "JK815379B"),
    ('{"properties": {"DB_PASSWORD": {"value": "aee1d0131090363de60e737ea3da5a81", "origin": "System Environment"}}}',
     "aee1d0131090363d"),
    ('{"NATIONAL_INSURANCE_NUMBER": {"value": "QQ330712C"}}', "QQ330712C"),
    ("Caused by: java.lang.IllegalStateException: Invalid property 'keystorePassword' value [CmFYedy0V^!mx6*X]", "CmFYedy0V^!mx6"),
    ("Invalid property 'nationalInsuranceNumber' value [AB221027C]", "AB221027C"),
    ('Failed to bind properties under \'app.db.password\' to java.lang.String:\n\n    Property: app.db.password\n'
     '    Value: "orchid-velvet-ember27"\n    Origin: "APP_DB_PASSWORD" from property source "systemEnvironment"', "orchid-velvet-ember27"),
])
def test_values_wrapped_by_their_ecosystem_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "POST: <QueryDict: {'username': ['bob'], 'next': ['/home']}>",
    "ValidationError: {'password': ['This field is required.']}",        # a validation error names the key
    '{"errors": {"password": ["The password must be at least 8 characters."], "token": ["Invalid token."]}}',
    '{"rules": {"password": ["required", "min:8", "confirmed"]}}',       # Laravel's rules
    '{"auth": ["basic", "oauth2"], "api_key": ["header"]}',             # short items: schemes, places
    '{"tags": ["prod", "eu-west-1"], "password_policy": ["min8"]}',
    '{"properties": {"LOG_LEVEL": {"value": "info", "origin": "System Environment"}}}',
    '{"DB_PASSWORD": {"value": "${DB_PASSWORD}"}}',
    '{"DB_PASSWORD": {"value": "******"}}',
    "Invalid property 'maxPoolSize' value [abc]",
    "Invalid property 'password' value [<masked>]",
    "    Property: app.db.password\n    Value: \"[REDACTED]\"",
])
def test_wrapped_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- SMTP authentication ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("postfix/smtpd[2211]: C: AUTH PLAIN AGJvYkBhY21lLmlvAE0wMHRwZFdaTjVEUU43aG8=", "AGJvYkBhY21lLmlv"),
    ("auth plain AGJvYkBhY21lLmlvAE0wMHRwZFdaTjVEUU43aG8=", "AE0wMHRwZFdaTjVE"),
    ("S: 334 VXNlcm5hbWU6\nC: Ym9iQGFjbWUuaW8=\nS: 334 UGFzc3dvcmQ6\nC: M00tcGR3Wk41RFFON2ho\nS: 235 2.7.0 ok", "M00tcGR3Wk41"),
    ("smtp_get: 334 UGFzc3dvcmQ6\n> mx.acme.io[10.0.0.8]:25: Q29iYWx0NzIzOC1IYXJib3I=", "Q29iYWx0NzIz"),
])
def test_smtp_credentials_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "250-AUTH PLAIN LOGIN",
    "S: 250-AUTH PLAIN LOGIN CRAM-MD5\nS: 250-8BITMIME\nS: 250 SMTPUTF8",
    "250-AUTH PLAIN LOGINDISABLED",
    "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n235 2.7.0 Authentication successful",
    "S: 334 UGFzc3dvcmQ6\nS: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6",
])
def test_smtp_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- keys and command lines -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ("[domain/acme.io]\nldap_default_bind_dn = cn=svc,ou=apps,dc=acme,dc=io\nldap_default_authtok = Cobalt689+Harbor", "Cobalt689+Harbor"),
    ("ldap_default_authtok = 1b040294c419a2f3007c34de594633c6", "1b040294c419a2f3"),
    ("lftp -u deploy,QLxtw6Ir7omK2zhWezHbQoWv sftp://files.acme.io -e 'put app.tar.gz; bye'", "QLxtw6Ir7omK2zh"),
    ("lftp --user deploy,quartz4510_falcon ftp://files.acme.io", "quartz4510_falcon"),
])
def test_keys_and_command_lines_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("text", [
    "ldap_default_authtok_type = password",
    "lftp -u deploy sftp://files.acme.io",
    "lftp -e 'mirror -R dist/ /var/www,backup' sftp://files.acme.io",
])
def test_key_and_command_line_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- look-alikes: each ecosystem's masks, references, a reply's head -----------------------------------------------
@pytest.mark.parametrize("text", [
    'ok: [web1] => {"invocation": {"module_args": {"login_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "name": "app"}}}',
    '{"eventName":"CreateUser","requestParameters":{"userName":"svc-ci","password":"HIDDEN_DUE_TO_SECURITY_REASONS"}}',
    "      DATABASE_URL:  postgres://app:$(DB_PASSWORD)@db:5432/app",
    "env: DB_PASSWORD=$(DB_PASSWORD) api_token=$(API_TOKEN)",
    "250-AUTH PLAIN LOGIN",
])
def test_ecosystem_masks_and_references_stay(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text, secret", [
    ("postgres://app:$(DB_PASSWORD)x9Kf2@db:5432/app", "x9Kf2"),       # a reference and more: a value
    ("login with 250-AUTHx9Kf!2 please", "250-AUTHx9Kf!2"),             # not a reply's head: a password-shaped token
])
def test_what_the_look_alike_rules_still_mask(text: str, secret: str) -> None:
    assert secret not in redact(text)


# -- long inputs: the new patterns stay linear ----------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
import time
from tests.redact.test_coverage import redact
texts = ["'password': [" * 40000, "'password': ['a', " * 30000, '"k": {"value"' * 40000, '"password": {"value": "' * 30000,
         "property 'password' value [" * 30000, "Property: a\n Value: " * 30000, "AUTH PLAIN " * 50000,
         "334 UGFzc3dvcmQ6\n" * 40000, "lftp -u a " * 40000, "x " * 100000 + "lftp -u a,"]
t = time.perf_counter()
for s in texts:
    redact(s)
print(time.perf_counter() - t)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, check=True)
    assert float(out.stdout.strip()) < 120, out.stdout
