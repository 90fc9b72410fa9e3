"""The sixth held-out-style corpus' values (``tests/redact/heldout_style6.py``): fake provider tokens of 2024-2026 in
their published shapes (checksums where the provider has one), passwords as people and generators make them,
private keys in their encodings, and the look-alikes a service logs beside them. Every value is random; none was
ever issued.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import string
import uuid
from dataclasses import dataclass

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
UPPER_NUM = string.ascii_uppercase + string.digits


class Draw(random.Random):
    """The corpus' random source, with the alphabets it draws from."""

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def pick(self, seq):
        return seq[self.randrange(len(seq))]


@dataclass(frozen=True)
class Value:
    """A secret: its family, kind, the string itself, and the name a service would give it."""

    family: str
    kind: str
    secret: str
    key: str            # e.g. GITHUB_TOKEN; the placement renders it in its own case
    parts: tuple[str, ...] = ()   # what must not survive (default: the secret)

    def need(self) -> tuple[str, ...]:
        return self.parts or (self.secret,)


def _b62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def _crc_token(d: Draw, prefix: str, body: int = 30) -> str:
    """GitHub's and npm's shape: a prefix, 30 base62 characters and their CRC32 in 6 base62 characters."""
    r = d.s(ALNUM, body)
    return prefix + r + _b62(binascii.crc32(r.encode()), 6)


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(d: Draw, claims: dict | None = None) -> str:
    head = _b64u(json.dumps({"alg": d.pick(["RS256", "HS256", "ES256"]), "typ": "JWT", "kid": d.hex(16)}).encode())
    body = claims or {"sub": d.uuid(), "iss": d.pick(["https://auth.acme.io/", "https://accounts.google.com",
                                                        "kubernetes/serviceaccount", "supabase"]),
                      "aud": d.pick(["api", "authenticated", "https://api.acme.io"]), "iat": 1767000000 + d.randrange(10**7),
                      "exp": 1777000000 + d.randrange(10**7), "scope": d.pick(["read write", "openid profile email", "admin"])}
    sig = _b64u(d.randbytes(d.pick([32, 64, 256])))
    return f"{head}.{_b64u(json.dumps(body).encode())}.{sig}"


# -- tokens: (kind, key name, maker) ------------------------------------------------------------------------------
TOKENS = [
    ("github_classic", "GITHUB_TOKEN", lambda d: _crc_token(d, d.pick(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]))),
    ("github_fine", "GH_PAT", lambda d: "github_pat_11" + d.s(UPPER_NUM, 20) + "_" + d.s(ALNUM, 59)),
    ("gitlab", "GITLAB_TOKEN", lambda d: d.pick(["glpat-", "glrt-", "gldt-", "glptt-", "glcbt-", "gloas-"]) + d.s(URLSAFE, 20)),
    ("gitlab_routable", "CI_JOB_TOKEN", lambda d: "glpat-" + d.s(URLSAFE, 27) + ".01." + d.s(ALNUM.lower(), 9)),
    ("npm", "NPM_TOKEN", lambda d: _crc_token(d, "npm_")),
    ("pypi", "TWINE_PASSWORD", lambda d: "pypi-AgEIcHlwaS5vcmc" + d.s(URLSAFE, 140)),
    ("aws_access", "AWS_ACCESS_KEY_ID", lambda d: d.pick(["AKIA", "ASIA"]) + d.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    ("aws_secret", "AWS_SECRET_ACCESS_KEY", lambda d: d.s(B64, 40)),
    ("aws_session", "AWS_SESSION_TOKEN", lambda d: "IQoJb3JpZ2luX2Vj" + d.s(B64, 300) + "=="),
    ("gcp_api", "GOOGLE_API_KEY", lambda d: "AIza" + d.s(URLSAFE, 35)),
    ("google_oauth", "client_secret", lambda d: "GOCSPX-" + d.s(URLSAFE, 28)),
    ("google_access", "access_token", lambda d: "ya29.a0" + d.s(URLSAFE, 150)),
    ("google_refresh", "refresh_token", lambda d: "1//0" + d.s(URLSAFE, 99)),
    ("azure_ad_secret", "AZURE_CLIENT_SECRET", lambda d: d.s(ALNUM, 3) + str(d.randrange(10)) + "Q~" + d.s(ALNUM + "_~.-", 34)),
    ("azure_storage", "AZURE_STORAGE_ACCOUNT_KEY", lambda d: base64.b64encode(d.randbytes(64)).decode()),
    ("slack_bot", "SLACK_BOT_TOKEN", lambda d: f"xoxb-{d.randrange(10**11, 10**12)}-{d.randrange(10**12, 10**13)}-{d.s(ALNUM, 24)}"),
    ("slack_user", "SLACK_TOKEN", lambda d: f"xoxp-{d.randrange(10**11, 10**12)}-{d.randrange(10**11, 10**12)}-"
                                           f"{d.randrange(10**12, 10**13)}-{d.hex(32)}"),
    ("stripe", "STRIPE_SECRET_KEY", lambda d: d.pick(["sk_live_", "rk_live_", "sk_test_"]) + d.s(ALNUM, d.pick([24, 99]))),
    ("stripe_webhook", "STRIPE_WEBHOOK_SECRET", lambda d: "whsec_" + d.s(ALNUM, 32)),
    ("openai", "OPENAI_API_KEY", lambda d: d.pick(["sk-proj-", "sk-svcacct-", "sk-admin-"]) + d.s(URLSAFE, 74) + "T3BlbkFJ" + d.s(URLSAFE, 74)),
    ("anthropic", "ANTHROPIC_API_KEY", lambda d: d.pick(["sk-ant-api03-", "sk-ant-admin01-"]) + d.s(URLSAFE, 93) + "AA"),
    ("groq", "GROQ_API_KEY", lambda d: "gsk_" + d.s(ALNUM, 52)),
    ("xai", "XAI_API_KEY", lambda d: "xai-" + d.s(ALNUM, 80)),
    ("openrouter", "OPENROUTER_API_KEY", lambda d: "sk-or-v1-" + d.hex(64)),
    ("perplexity", "PPLX_API_KEY", lambda d: "pplx-" + d.s(ALNUM, 48)),
    ("replicate", "REPLICATE_API_TOKEN", lambda d: "r8_" + d.s(ALNUM, 37)),
    ("huggingface", "HF_TOKEN", lambda d: "hf_" + d.s(string.ascii_letters, 34)),
    ("langsmith", "LANGSMITH_API_KEY", lambda d: d.pick(["lsv2_pt_", "lsv2_sk_"]) + d.hex(32) + "_" + d.hex(10)),
    ("pinecone", "PINECONE_API_KEY", lambda d: "pcsk_" + d.s(ALNUM, 6) + "_" + d.s(ALNUM, 62)),
    ("docker_hub", "DOCKERHUB_TOKEN", lambda d: "dckr_pat_" + d.s(URLSAFE, 27)),
    ("shopify", "SHOPIFY_ACCESS_TOKEN", lambda d: d.pick(["shpat_", "shpss_", "shpca_", "shppa_"]) + d.hex(32)),
    ("sendgrid", "SENDGRID_API_KEY", lambda d: "SG." + d.s(URLSAFE, 22) + "." + d.s(URLSAFE, 43)),
    ("mailgun", "MAILGUN_API_KEY", lambda d: "key-" + d.hex(32)),
    ("mailchimp", "MAILCHIMP_API_KEY", lambda d: d.hex(32) + "-us" + str(d.randrange(1, 22))),
    ("twilio_key", "TWILIO_API_KEY", lambda d: "SK" + d.hex(32)),
    ("twilio_auth", "TWILIO_AUTH_TOKEN", lambda d: d.hex(32)),
    ("datadog", "DD_API_KEY", lambda d: d.hex(32)),
    ("datadog_app", "DD_APP_KEY", lambda d: d.hex(40)),
    ("newrelic", "NEW_RELIC_API_KEY", lambda d: "NRAK-" + d.s(UPPER_NUM, 27)),
    ("newrelic_license", "NEW_RELIC_LICENSE_KEY", lambda d: d.hex(36) + "NRAL"),
    ("sentry_auth", "SENTRY_AUTH_TOKEN", lambda d: "sntryu_" + d.hex(64)),
    ("sentry_org", "SENTRY_AUTH_TOKEN", lambda d: "sntrys_" + _b64u(json.dumps({"iat": 1767.0, "url": "https://sentry.io",
                                                                                  "org": "acme"}).encode()) + "_" + d.s(URLSAFE, 43)),
    ("grafana_sa", "GRAFANA_TOKEN", lambda d: "glsa_" + d.s(ALNUM, 32) + "_" + d.hex(8)),
    ("vault", "VAULT_TOKEN", lambda d: d.pick(["hvs.", "hvb."]) + d.s(URLSAFE, d.pick([24, 91]))),
    ("terraform", "TF_TOKEN_app_terraform_io", lambda d: d.s(ALNUM, 14) + ".atlasv1." + d.s(ALNUM, 67)),
    ("pulumi", "PULUMI_ACCESS_TOKEN", lambda d: "pul-" + d.hex(40)),
    ("doppler", "DOPPLER_TOKEN", lambda d: d.pick(["dp.st.prd.", "dp.pt.", "dp.sa."]) + d.s(ALNUM, 43)),
    ("digitalocean", "DIGITALOCEAN_TOKEN", lambda d: d.pick(["dop_v1_", "doo_v1_", "dor_v1_"]) + d.hex(64)),
    ("heroku", "HEROKU_API_KEY", lambda d: "HRKU-AA" + d.s(URLSAFE, 58)),
    ("linear", "LINEAR_API_KEY", lambda d: "lin_api_" + d.s(ALNUM, 40)),
    ("notion", "NOTION_TOKEN", lambda d: "ntn_" + str(d.randrange(10**10, 10**11)) + d.s(ALNUM, 35)),
    ("figma", "FIGMA_TOKEN", lambda d: "figd_" + d.s(URLSAFE, 40)),
    ("atlassian", "JIRA_API_TOKEN", lambda d: "ATATT3xFfGF0" + d.s(URLSAFE, 170) + "=" + d.hex(8).upper()),
    ("postman", "POSTMAN_API_KEY", lambda d: "PMAK-" + d.hex(24) + "-" + d.hex(34)),
    ("databricks", "DATABRICKS_TOKEN", lambda d: "dapi" + d.hex(32) + d.pick(["", "-2", "-3"])),
    ("supabase", "SUPABASE_ACCESS_TOKEN", lambda d: "sbp_" + d.hex(40)),
    ("supabase_key", "SUPABASE_SERVICE_ROLE_KEY", lambda d: _jwt(d, {"iss": "supabase", "ref": d.s(string.ascii_lowercase, 20),
                                                                      "role": "service_role", "iat": 1767000000, "exp": 2082000000})),
    ("tailscale", "TS_AUTHKEY", lambda d: "tskey-auth-k" + d.s(ALNUM, 11) + "CNTRL-" + d.s(ALNUM, 33)),
    ("onepassword", "OP_SERVICE_ACCOUNT_TOKEN", lambda d: "ops_" + _b64u(json.dumps({"signInAddress": "acme.1password.com",
                                                                                    "email": d.hex(12) + "@1passwordserviceaccounts.com",
                                                                                    "secretKey": "A3-" + d.s(UPPER_NUM, 30)}).encode())),
    ("buildkite", "BUILDKITE_API_TOKEN", lambda d: "bkua_" + d.hex(40)),
    ("circleci", "CIRCLE_TOKEN", lambda d: "CCIPAT_" + d.s(ALNUM, 22) + "_" + d.hex(40)),
    ("bitbucket", "BITBUCKET_APP_PASSWORD", lambda d: "ATBB" + d.s(ALNUM, 32) + d.hex(8).upper()),
    ("jfrog", "JFROG_ACCESS_TOKEN", lambda d: "AKCp" + d.s(ALNUM, 69)),
    ("discord_bot", "DISCORD_BOT_TOKEN", lambda d: _b64u(str(d.randrange(10**17, 10**19)).encode()) + "." + d.s(URLSAFE, 6)
     + "." + d.s(URLSAFE, 38)),
    ("telegram_bot", "TELEGRAM_BOT_TOKEN", lambda d: f"{d.randrange(10**8, 10**10)}:AA{d.s(URLSAFE, 33)}"),
    ("square", "SQUARE_ACCESS_TOKEN", lambda d: d.pick(["EAAA", "sq0atp-"]) + d.s(URLSAFE, 60)),
    ("braintree", "BRAINTREE_ACCESS_TOKEN", lambda d: f"access_token$production${d.s(string.ascii_lowercase + string.digits, 16)}${d.hex(32)}"),
    ("age", "SOPS_AGE_KEY", lambda d: "AGE-SECRET-KEY-1" + d.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
    ("mapbox", "MAPBOX_SECRET_TOKEN", lambda d: "sk.eyJ1IjoiYWNtZSIsImEiOiJ" + d.s(ALNUM, 20) + "In0." + d.s(URLSAFE, 22)),
    ("dropbox", "DROPBOX_TOKEN", lambda d: "sl.u." + d.s(URLSAFE, 140)),
    ("fcm", "FCM_SERVER_KEY", lambda d: "AAAA" + d.s(URLSAFE, 7) + ":APA91b" + d.s(URLSAFE, 134)),
    ("jwt", "id_token", _jwt),
    ("k8s_sa", "token", lambda d: _jwt(d, {"iss": "https://kubernetes.default.svc.cluster.local", "sub":
                                         "system:serviceaccount:prod:deployer", "aud": ["https://kubernetes.default.svc"],
                                         "exp": 1798000000, "kubernetes.io": {"namespace": "prod"}})),
    ("opaque_api_key", "x-api-key", lambda d: d.s(ALNUM, d.pick([32, 40, 48]))),
    ("session_cookie", "session", lambda d: d.s(URLSAFE, 43)),
    ("webhook_slack", "SLACK_WEBHOOK_URL", lambda d: f"https://hooks.slack.com/services/T{d.s(UPPER_NUM, 10)}/B{d.s(UPPER_NUM, 10)}/"
                                                     f"{d.s(ALNUM, 24)}"),
    ("webhook_discord", "DISCORD_WEBHOOK", lambda d: f"https://discord.com/api/webhooks/{d.randrange(10**17, 10**19)}/{d.s(URLSAFE, 68)}"),
]


def token(d: Draw) -> Value:
    kind, key, make = d.pick(TOKENS)
    v = make(d)
    if kind.startswith("webhook"):         # the URL is public; its last segment is the secret
        return Value("token", kind, v, key, (v.rsplit("/", 1)[1],))
    return Value("token", kind, v, key)


# -- passwords -----------------------------------------------------------------------------------------------------
WORDS = ["orchid", "velvet", "harbor", "cobalt", "meadow", "falcon", "quartz", "ember", "summit", "lantern", "maple",
         "copper", "tundra", "willow", "saffron", "glacier", "pepper", "violet", "thunder", "nimbus", "Sommer", "Kaffee",
         "Fruehling", "soleil", "primavera", "zorro"]
SYMBOLS = "!@#$%^&*-_+=.?~"


def _password(d: Draw) -> str:
    k = d.randrange(7)
    if k == 0:      # a person's: Word + year + symbol
        return d.pick(WORDS).capitalize() + str(d.randrange(1970, 2027)) + d.pick(SYMBOLS)
    if k == 1:      # a generator's, full alphabet
        return d.s(ALNUM + SYMBOLS, d.randrange(14, 33))
    if k == 2:      # a passphrase
        return d.pick("-_. ").join(d.pick(WORDS).lower() for _ in range(d.randrange(3, 5))) + str(d.randrange(10, 99))
    if k == 3:      # openssl rand -hex 16 / -base64 24
        return d.pick([d.hex(32), base64.b64encode(d.randbytes(24)).decode()])
    if k == 4:      # alnum 16-24 (pwgen -s)
        return d.s(ALNUM, d.randrange(16, 25))
    if k == 5:      # leetspeak
        return d.pick(["P@ssw0rd", "S3cur3", "Adm1n", "W3lc0me", "Qwerty!"]) + d.s(string.digits, 3) + d.pick(SYMBOLS)
    return d.pick(WORDS) + d.pick(SYMBOLS) + d.pick(WORDS).upper() + str(d.randrange(100, 999))


PASSWORD_KEYS = ["DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_DEFAULT_PASS",
                 "password", "passwd", "pwd", "admin_password", "smtp_password", "db.password", "spring.datasource.password",
                 "ldap_bind_password", "keystore_password", "MONGO_INITDB_ROOT_PASSWORD", "ELASTIC_PASSWORD",
                 "KAFKA_SASL_PASSWORD", "registry_password", "client_secret", "secret"]


def password(d: Draw) -> Value:
    return Value("password", "password", _password(d), d.pick(PASSWORD_KEYS))


# -- private keys ------------------------------------------------------------------------------------------------
KEY_HEADS = {   # label -> the DER's first bytes as base64 (what a real key's body starts with)
    "RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA", "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "EC PRIVATE KEY": "MHcCAQEEI", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA",
    "ENCRYPTED PRIVATE KEY": "MIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQI",
    "DSA PRIVATE KEY": "MIIBuwIBAAKBgQD",
}


@dataclass(frozen=True)
class Pem:
    label: str
    lines: tuple[str, ...]

    def text(self, nl: str = "\n") -> str:
        return nl.join((f"-----BEGIN {self.label}-----",) + self.lines + (f"-----END {self.label}-----",)) + nl


def pem(d: Draw, label: str | None = None) -> Pem:
    label = label or d.pick(list(KEY_HEADS))
    n = d.pick([4, 7, 12, 25]) if label in ("EC PRIVATE KEY", "OPENSSH PRIVATE KEY") else d.pick([15, 25, 26])
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    body = KEY_HEADS.get(label, "MII") + d.s(B64, width * n - len(KEY_HEADS.get(label, "MII")))
    lines = tuple(body[i:i + width] for i in range(0, len(body), width))
    return Pem(label, lines[:-1] + (lines[-1][:-2] + "==",) if label != "OPENSSH PRIVATE KEY" else lines)


def private_key(d: Draw) -> tuple[str, Pem | str]:
    """(kind, the key): a PEM block, or a one-line key (WireGuard, a JWK's ``d``, a PuTTY file's lines)."""
    k = d.randrange(10)
    if k < 7:
        return "pem", pem(d)
    if k == 7:
        return "wireguard", base64.b64encode(d.randbytes(32)).decode()
    if k == 8:
        return "jwk_d", _b64u(d.randbytes(d.pick([32, 256])))
    return "pgp", Pem("PGP PRIVATE KEY BLOCK", ("",) + tuple(d.s(B64, 64) for _ in range(d.randrange(6, 14))) + ("=" + d.s(B64, 4),))
