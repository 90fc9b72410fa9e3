"""The seventh held-out-style corpus' values (``tests/redact/heldout_style7.py``): fake credentials of the vendors a
2026 service talks to — clouds (the big three and Alibaba, Oracle, IBM, DigitalOcean, Cloudflare, Fastly, Vercel,
Netlify, Supabase, PlanetScale, Neon, Fly, Render, Railway), AI platforms, payments, messaging, source hosting and CI,
secrets managers, observability — database passwords, JWTs, and private keys of every container (PEM, OpenSSH,
PuTTY, PGP). Each is drawn at random in the shape its vendor publishes (as remembered; none was ever issued) with
the names a service gives it. ``parts`` are what must not survive: the random body, not a vendor's fixed prefix.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from urllib.parse import quote

ALNUM = string.ascii_letters + string.digits
LOWNUM = string.ascii_lowercase + string.digits
UPNUM = string.ascii_uppercase + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


class Draw(random.Random):
    """The corpus' random source."""

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.choice('89ab')}{h[17:20]}-{h[20:]}"

    def pick(self, seq):
        return seq[self.randrange(len(seq))]


@dataclass(frozen=True)
class Cred:
    """A secret: family, kind, the string as written, its names, what must not survive, and its shape."""

    family: str
    kind: str
    value: str
    keys: tuple[str, ...]
    parts: tuple[str, ...]
    shape: str = "token"        # token (identifies itself), opaque (only its name says), password, pem, blob


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt(d: Draw, claims: dict) -> tuple[str, tuple[str, ...]]:
    head = b64u(json.dumps({"alg": d.pick(["HS256", "RS256", "ES256"]), "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64u(d.randbytes(d.pick([32, 64, 256])))
    return f"{head}.{body}.{sig}", (body, sig)


def _t(family, kind, keys, prefix, body, shape="token"):
    """A token ``prefix + body`` whose body is the secret part."""
    return lambda d: (lambda b: Cred(family, kind, prefix + b, keys, (b,), shape))(body(d))


def _aws_pair(d: Draw) -> Cred:
    v = d.s(B64, 40)
    return Cred("cloud", "aws_secret_access_key", v, ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "SecretAccessKey",
                                                      "secret_key"), (v,), "opaque")


def _azure_conn(d: Draw) -> Cred:
    key = b64(d.randbytes(64))
    v = (f"DefaultEndpointsProtocol=https;AccountName=st{d.s(LOWNUM, 10)};AccountKey={key};"
         "EndpointSuffix=core.windows.net")
    return Cred("cloud", "azure_storage_connection_string", v, ("AZURE_STORAGE_CONNECTION_STRING", "AzureWebJobsStorage"), (key,))


def _azure_sas(d: Draw) -> Cred:
    sig = b64(d.randbytes(32))
    v = (f"https://st{d.s(LOWNUM, 8)}.blob.core.windows.net/exports/report.csv?sv=2024-11-04&ss=b&srt=o&sp=r"
         f"&se=2026-12-31T00:00:00Z&spr=https&sig={quote(sig, safe='')}")
    return Cred("cloud", "azure_sas_url", v, ("export_url", "blob_url"), (sig,))


def _gcp_sa(d: Draw) -> Cred:
    pem, parts = pem_block(d, "PRIVATE KEY")
    v = json.dumps({"type": "service_account", "project_id": f"acme-{d.s(LOWNUM, 6)}", "private_key_id": d.hex(40),
                    "private_key": pem, "client_email": f"deployer@acme-{d.s(LOWNUM, 4)}.iam.gserviceaccount.com",
                    "client_id": d.s(string.digits, 21), "token_uri": "https://oauth2.googleapis.com/token"})
    return Cred("cloud", "gcp_service_account_json", v, ("GOOGLE_CREDENTIALS", "gcp_sa_key"), parts, "blob")


def _discord_bot(d: Draw) -> Cred:
    uid = b64u(str(d.randrange(10**17, 10**18 * 2)).encode())
    mid, tail = d.s(URLSAFE, 6), d.s(URLSAFE, 38)
    return Cred("comms", "discord_bot_token", f"{uid}.{mid}.{tail}", ("DISCORD_TOKEN", "bot_token"), (tail,), "token")


def _telegram(d: Draw) -> Cred:
    tail = "AA" + d.s(URLSAFE, 33)
    return Cred("comms", "telegram_bot_token", f"{d.randrange(10**8, 10**10)}:{tail}", ("TELEGRAM_BOT_TOKEN", "bot_token"), (tail,))


def _slack_hook(d: Draw) -> Cred:
    tail = d.s(ALNUM, 24)
    v = f"https://hooks.slack.com/services/T{d.s(UPNUM, 10)}/B{d.s(UPNUM, 10)}/{tail}"
    return Cred("comms", "slack_webhook", v, ("SLACK_WEBHOOK_URL", "webhook_url"), (tail,))


def _discord_hook(d: Draw) -> Cred:
    tail = d.s(URLSAFE, 68)
    v = f"https://discord.com/api/webhooks/{d.randrange(10**17, 10**18)}/{tail}"
    return Cred("comms", "discord_webhook", v, ("DISCORD_WEBHOOK_URL", "webhook"), (tail,))


def _sendgrid(d: Draw) -> Cred:
    a, b = d.s(URLSAFE, 22), d.s(URLSAFE, 43)
    return Cred("comms", "sendgrid", f"SG.{a}.{b}", ("SENDGRID_API_KEY",), (a, b))


def _braintree(d: Draw) -> Cred:
    sec = d.hex(32)
    return Cred("payment", "braintree_access_token", f"access_token$production${d.s(LOWNUM, 16)}${sec}",
                ("BRAINTREE_ACCESS_TOKEN",), (sec,))


def _jwt_session(d: Draw) -> Cred:
    v, parts = jwt(d, {"sub": str(d.randrange(10**6)), "email": "ops@acme.io", "iat": 1796000000 + d.randrange(10**6),
                       "exp": 1796086400 + d.randrange(10**6), "scope": "read write"})
    return Cred("jwt_session", "jwt", v, ("access_token", "id_token", "Authorization"), parts)


def _supabase_service(d: Draw) -> Cred:
    v, parts = jwt(d, {"iss": "supabase", "ref": d.s(LOWNUM, 20), "role": "service_role", "iat": 1796000000, "exp": 2111576000})
    return Cred("cloud", "supabase_service_role_jwt", v, ("SUPABASE_SERVICE_ROLE_KEY",), parts)


def _onepassword_sa(d: Draw) -> Cred:
    body = b64u(json.dumps({"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
                                                                                "iterations": 650000, "salt": d.s(URLSAFE, 22)},
                            "email": f"{d.s(LOWNUM, 12)}@1passwordserviceaccounts.com", "srpX": d.hex(64),
                            "muk": {"alg": "A256GCM", "k": d.s(URLSAFE, 43)}}).encode())
    return Cred("secrets_manager", "onepassword_service_account", "ops_" + body, ("OP_SERVICE_ACCOUNT_TOKEN",), (body[60:],))


def _sentry_dsn(d: Draw) -> Cred:
    k = d.hex(32)
    return Cred("observability", "sentry_dsn", f"https://{k}@o{d.randrange(10**5, 10**7)}.ingest.us.sentry.io/{d.randrange(10**6, 10**7)}",
                ("SENTRY_DSN", "dsn"), (k,))


def _grafana_cloud(d: Draw) -> Cred:
    body = b64u(json.dumps({"o": str(d.randrange(10**6)), "n": f"stack-{d.randrange(10**6)}-hm-write",
                            "k": d.s(ALNUM, 24), "m": {"r": "prod-eu-west-2"}}).encode())
    return Cred("observability", "grafana_cloud_token", "glc_" + body, ("GRAFANA_CLOUD_TOKEN", "GRAFANA_API_KEY"), (body[-40:],))


def _square(d: Draw) -> Cred:
    b = d.s(URLSAFE, 60)
    return Cred("payment", "square_access_token", "EAAA" + b, ("SQUARE_ACCESS_TOKEN",), (b,))


def _pypi(d: Draw) -> Cred:
    body = "AgEIcHlwaS5vcmcCJ" + d.s(URLSAFE, 150)
    return Cred("vcs_ci", "pypi_token", "pypi-" + body, ("PYPI_TOKEN", "TWINE_PASSWORD"), (body[17:],))


def _bitbucket(d: Draw) -> Cred:
    b = d.s(ALNUM, 32) + d.hex(8).upper()
    return Cred("vcs_ci", "bitbucket_app_password", "ATBB" + b, ("BITBUCKET_APP_PASSWORD", "BITBUCKET_TOKEN"), (b,))


def _doppler(d: Draw) -> Cred:
    kind = d.pick(["st.prd", "st.stg", "pt", "sa", "ct"])
    b = d.s(ALNUM, 43 if kind in ("pt", "sa", "ct") else 40)
    return Cred("secrets_manager", "doppler_token", f"dp.{kind}.{b}", ("DOPPLER_TOKEN",), (b,))


def _infisical(d: Draw) -> Cred:
    a, b = d.hex(24), d.hex(32)
    return Cred("secrets_manager", "infisical_service_token", f"st.{d.uuid()}.{a}.{b}", ("INFISICAL_TOKEN",), (a, b))


def _fly(d: Draw) -> Cred:
    b = d.s(B64, 220)
    return Cred("cloud", "fly_macaroon", "FlyV1 fm2_" + b, ("FLY_API_TOKEN",), (b,))


def _cf_origin(d: Draw) -> Cred:
    b = d.hex(146)
    return Cred("cloud", "cloudflare_origin_ca_key", f"v1.0-{d.hex(24)}-{b}", ("CF_ORIGIN_CA_KEY", "origin_ca_key"), (b,))


def _stripe(prefix):
    return _t("payment", prefix.rstrip("_"), ("STRIPE_SECRET_KEY", "stripe_api_key", "stripeKey"), prefix,
              lambda d: "51" + d.s(ALNUM, 97 if "live" in prefix else 48))


TOKENS = [
    _t("cloud", "aws_access_key_id", ("AWS_ACCESS_KEY_ID", "aws_access_key_id", "AccessKeyId"), "AKIA", lambda d: d.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    _aws_pair, _azure_conn, _azure_sas, _gcp_sa,
    _t("cloud", "gcp_api_key", ("GOOGLE_API_KEY", "GEMINI_API_KEY", "maps_api_key"), "AIza", lambda d: "Sy" + d.s(URLSAFE, 33)),
    _t("cloud", "gcp_oauth_client_secret", ("GOOGLE_CLIENT_SECRET", "client_secret"), "GOCSPX-", lambda d: d.s(URLSAFE, 28)),
    _t("cloud", "azure_ad_client_secret", ("AZURE_CLIENT_SECRET", "ClientSecret"), "", lambda d: d.s(ALNUM, 3) + "8Q~" + d.s(URLSAFE + ".~", 34), "opaque"),
    _t("cloud", "alibaba_access_key_id", ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"), "LTAI5t", lambda d: d.s(ALNUM, 18)),
    _t("cloud", "alibaba_access_key_secret", ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"), "", lambda d: d.s(ALNUM, 30), "opaque"),
    _t("cloud", "oracle_auth_token", ("OCI_AUTH_TOKEN", "oci_auth_token"), "", lambda d: d.s(ALNUM + "()[]<>;:.+-_#", 20), "opaque"),
    _t("cloud", "ibm_cloud_api_key", ("IBMCLOUD_API_KEY", "apikey", "IC_API_KEY"), "", lambda d: d.s(URLSAFE, 44), "opaque"),
    _t("cloud", "digitalocean_pat", ("DIGITALOCEAN_TOKEN", "DO_TOKEN"), "dop_v1_", lambda d: d.hex(64)),
    _t("cloud", "digitalocean_oauth", ("DIGITALOCEAN_ACCESS_TOKEN",), "doo_v1_", lambda d: d.hex(64)),
    _t("cloud", "cloudflare_api_token", ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"), "", lambda d: d.s(URLSAFE, 40), "opaque"),
    _t("cloud", "cloudflare_global_key", ("CLOUDFLARE_API_KEY", "X-Auth-Key"), "", lambda d: d.hex(37), "opaque"),
    _cf_origin,
    _t("cloud", "fastly_api_token", ("FASTLY_API_TOKEN", "Fastly-Key"), "", lambda d: d.s(URLSAFE, 32), "opaque"),
    _t("cloud", "vercel_token", ("VERCEL_TOKEN",), "", lambda d: d.s(ALNUM, 24), "opaque"),
    _t("cloud", "netlify_pat", ("NETLIFY_AUTH_TOKEN",), "nfp_", lambda d: d.s(ALNUM, 36) + d.hex(4)),
    _t("cloud", "supabase_pat", ("SUPABASE_ACCESS_TOKEN",), "sbp_", lambda d: d.hex(40)),
    _t("cloud", "supabase_secret_key", ("SUPABASE_SECRET_KEY",), "sb_secret_", lambda d: d.s(URLSAFE, 31)),
    _supabase_service,
    _t("cloud", "planetscale_token", ("PLANETSCALE_SERVICE_TOKEN",), "pscale_tkn_", lambda d: d.s(URLSAFE, 43)),
    _t("database", "planetscale_password", ("DATABASE_PASSWORD", "PLANETSCALE_PASSWORD"), "pscale_pw_", lambda d: d.s(URLSAFE, 43)),
    _t("cloud", "neon_api_key", ("NEON_API_KEY",), "napi_", lambda d: d.s(LOWNUM, 64)),
    _fly,
    _t("cloud", "fly_token", ("FLY_API_TOKEN",), "fo1_", lambda d: d.s(URLSAFE, 43)),
    _t("cloud", "render_api_key", ("RENDER_API_KEY",), "rnd_", lambda d: d.s(ALNUM, 32)),
    _t("cloud", "railway_token", ("RAILWAY_TOKEN", "RAILWAY_API_TOKEN"), "", lambda d: d.uuid(), "opaque"),
    _t("ai", "openai_project_key", ("OPENAI_API_KEY", "openai_api_key", "openaiApiKey"), "sk-proj-",
       lambda d: d.s(URLSAFE, 74) + "T3BlbkFJ" + d.s(URLSAFE, 74)),
    _t("ai", "openai_legacy_key", ("OPENAI_API_KEY",), "sk-", lambda d: d.s(ALNUM, 20) + "T3BlbkFJ" + d.s(ALNUM, 20)),
    _t("ai", "anthropic_key", ("ANTHROPIC_API_KEY", "anthropic_api_key"), "sk-ant-api03-", lambda d: d.s(URLSAFE, 93) + "AA"),
    _t("ai", "huggingface", ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"), "hf_", lambda d: d.s(string.ascii_letters, 34)),
    _t("ai", "groq", ("GROQ_API_KEY",), "gsk_", lambda d: d.s(ALNUM, 52)),
    _t("ai", "mistral", ("MISTRAL_API_KEY",), "", lambda d: d.s(ALNUM, 32), "opaque"),
    _t("ai", "cohere", ("COHERE_API_KEY", "CO_API_KEY"), "", lambda d: d.s(ALNUM, 40), "opaque"),
    _t("ai", "replicate", ("REPLICATE_API_TOKEN",), "r8_", lambda d: d.s(ALNUM, 37)),
    _t("ai", "perplexity", ("PERPLEXITY_API_KEY", "PPLX_API_KEY"), "pplx-", lambda d: d.s(ALNUM, 48)),
    _t("ai", "deepseek", ("DEEPSEEK_API_KEY",), "sk-", lambda d: d.hex(32)),
    _t("ai", "together", ("TOGETHER_API_KEY",), "", lambda d: d.hex(64), "opaque"),
    _stripe("sk_live_"), _stripe("rk_live_"), _stripe("sk_test_"),
    _t("payment", "stripe_webhook_secret", ("STRIPE_WEBHOOK_SECRET", "endpoint_secret"), "whsec_", lambda d: d.s(ALNUM, 32)),
    _square,
    _t("payment", "square_app_secret", ("SQUARE_APPLICATION_SECRET",), "sq0csp-", lambda d: d.s(URLSAFE, 43)),
    _t("payment", "paypal_client_secret", ("PAYPAL_CLIENT_SECRET", "paypal_secret"), "", lambda d: "E" + d.s(URLSAFE, 79), "opaque"),
    _t("payment", "paypal_access_token", ("paypal_access_token",), "A21AA", lambda d: d.s(URLSAFE, 92)),
    _t("payment", "adyen_api_key", ("ADYEN_API_KEY", "X-API-Key"), "AQE", lambda d: d.s(ALNUM, 40) + "=-" + d.s(B64, 60) + "=-" + d.s(ALNUM, 20), "opaque"),
    _braintree,
    _t("comms", "twilio_auth_token", ("TWILIO_AUTH_TOKEN",), "", lambda d: d.hex(32), "opaque"),
    _t("comms", "twilio_api_secret", ("TWILIO_API_SECRET",), "", lambda d: d.s(ALNUM, 32), "opaque"),
    _sendgrid,
    _t("comms", "mailgun_key", ("MAILGUN_API_KEY",), "key-", lambda d: d.hex(32)),
    _t("comms", "mailgun_new_key", ("MAILGUN_API_KEY",), "", lambda d: f"{d.hex(32)}-{d.hex(8)}-{d.hex(8)}", "opaque"),
    _t("comms", "postmark_server_token", ("POSTMARK_SERVER_TOKEN", "X-Postmark-Server-Token"), "", lambda d: d.uuid(), "opaque"),
    _t("comms", "slack_bot", ("SLACK_BOT_TOKEN",), "xoxb-", lambda d: f"{d.randrange(10**11, 10**12)}-{d.randrange(10**12, 10**13)}-{d.s(ALNUM, 24)}"),
    _t("comms", "slack_user", ("SLACK_USER_TOKEN",), "xoxp-", lambda d: f"{d.randrange(10**11, 10**12)}-{d.randrange(10**11, 10**12)}-{d.randrange(10**12, 10**13)}-{d.hex(32)}"),
    _t("comms", "slack_app", ("SLACK_APP_TOKEN",), "xapp-1-", lambda d: f"A{d.s(UPNUM, 10)}-{d.randrange(10**12, 10**13)}-{d.hex(64)}"),
    _slack_hook, _discord_bot, _discord_hook, _telegram,
    _t("vcs_ci", "github_classic", ("GITHUB_TOKEN", "GH_TOKEN"), "ghp_", lambda d: d.s(ALNUM, 36)),
    _t("vcs_ci", "github_oauth", ("GITHUB_TOKEN",), "gho_", lambda d: d.s(ALNUM, 36)),
    _t("vcs_ci", "github_server", ("GITHUB_TOKEN",), "ghs_", lambda d: d.s(ALNUM, 36)),
    _t("vcs_ci", "github_fine_grained", ("GITHUB_PAT", "GH_TOKEN"), "github_pat_", lambda d: "11" + d.s(UPNUM, 20) + "_" + d.s(ALNUM, 59)),
    _t("vcs_ci", "gitlab_pat", ("GITLAB_TOKEN", "PRIVATE-TOKEN"), "glpat-", lambda d: d.s(URLSAFE, 20)),
    _t("vcs_ci", "gitlab_runner", ("RUNNER_TOKEN", "CI_SERVER_TOKEN"), "glrt-", lambda d: d.s(URLSAFE, 20)),
    _bitbucket,
    _t("vcs_ci", "npm_token", ("NPM_TOKEN", "NODE_AUTH_TOKEN"), "npm_", lambda d: d.s(ALNUM, 36)),
    _pypi,
    _t("vcs_ci", "docker_pat", ("DOCKERHUB_TOKEN", "DOCKER_PASSWORD"), "dckr_pat_", lambda d: d.s(URLSAFE, 27)),
    _t("vcs_ci", "circleci_pat", ("CIRCLECI_TOKEN", "CIRCLE_TOKEN"), "CCIPAT_", lambda d: d.s(ALNUM, 22) + "_" + d.hex(40)),
    _t("vcs_ci", "circleci_legacy", ("CIRCLE_TOKEN",), "", lambda d: d.hex(40), "opaque"),
    _t("vcs_ci", "travis_token", ("TRAVIS_TOKEN", "TRAVIS_API_TOKEN"), "", lambda d: d.s(URLSAFE, 22), "opaque"),
    _t("secrets_manager", "vault_service", ("VAULT_TOKEN",), "hvs.", lambda d: d.s(URLSAFE, 90)),
    _t("secrets_manager", "vault_batch", ("VAULT_TOKEN",), "hvb.", lambda d: d.s(URLSAFE, 138)),
    _onepassword_sa, _doppler, _infisical,
    _t("observability", "datadog_api_key", ("DD_API_KEY", "DD-API-KEY"), "", lambda d: d.hex(32), "opaque"),
    _t("observability", "datadog_app_key", ("DD_APP_KEY", "DD_APPLICATION_KEY"), "", lambda d: d.hex(40), "opaque"),
    _t("observability", "newrelic_user_key", ("NEW_RELIC_API_KEY",), "NRAK-", lambda d: d.s(UPNUM, 27)),
    _t("observability", "newrelic_license", ("NEW_RELIC_LICENSE_KEY",), "", lambda d: d.hex(36) + "NRAL", "opaque"),
    _t("observability", "newrelic_insert", ("NEW_RELIC_INSERT_KEY",), "NRII-", lambda d: d.s(URLSAFE, 32)),
    _sentry_dsn,
    _t("observability", "sentry_org_token", ("SENTRY_AUTH_TOKEN",), "sntrys_", lambda d: "eyJ" + d.s(URLSAFE, 120) + "_" + d.s(URLSAFE, 43)),
    _t("observability", "honeycomb_key", ("HONEYCOMB_API_KEY", "X-Honeycomb-Team"), "", lambda d: d.s(ALNUM, 22), "opaque"),
    _t("observability", "honeycomb_ingest", ("HONEYCOMB_API_KEY",), "hcaik_01", lambda d: d.s(LOWNUM, 56)),
    _grafana_cloud,
    _t("observability", "grafana_sa", ("GRAFANA_SERVICE_ACCOUNT_TOKEN", "GF_TOKEN"), "glsa_", lambda d: d.s(ALNUM, 32) + "_" + d.hex(8)),
    _jwt_session,
]


def token(d: Draw) -> Cred:
    return d.pick(TOKENS)(d)


# -- passwords ---------------------------------------------------------------------------------------------------------
WORDS = ["orbit", "maple", "falcon", "ember", "river", "quartz", "tundra", "velvet", "cobalt", "saffron", "harbor", "lumen"]


def password_text(d: Draw) -> str:
    shape = d.randrange(4)
    if shape == 0:      # a person's
        return d.pick(WORDS).capitalize() + str(d.randrange(1970, 2027)) + d.pick("!@#$%*?")
    if shape == 1:      # a generator's
        return d.s(ALNUM + "!@#$%^*-_=+.~", d.randrange(14, 33))
    if shape == 2:      # a passphrase
        return d.pick("-_.").join(d.pick(WORDS) for _ in range(4)) + str(d.randrange(10, 99))
    return b64(d.randbytes(d.pick([18, 24, 32])))      # openssl rand -base64


def password(d: Draw) -> Cred:
    pw = password_text(d)
    return Cred("database", "password", pw, ("DB_PASSWORD", "password", "db_password", "PGPASSWORD", "MYSQL_ROOT_PASSWORD",
                                             "spring.datasource.password", "redis_password", "admin_password"), (pw,), "password")


# -- private keys ------------------------------------------------------------------------------------------------------
DER_HEAD = {"RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA", "EC PRIVATE KEY": "MHcCAQEEI", "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "DSA PRIVATE KEY": "MIIBuwIBAAKBgQ", "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQww",
            "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAA"}


def pem_block(d: Draw, label: str) -> tuple[str, tuple[str, ...]]:
    n = {"EC PRIVATE KEY": 160, "DSA PRIVATE KEY": 600, "OPENSSH PRIVATE KEY": 400}.get(label, 1180)
    body = DER_HEAD[label] + d.s(B64, n)
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    if label == "ENCRYPTED PRIVATE KEY" or d.random() < 0.2:
        lines[-1] += "=="
    text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    return text, tuple(ln for ln in lines[1:] if len(ln) >= 16) or (lines[0],)


def ppk(d: Draw) -> tuple[str, tuple[str, ...]]:
    pub = ["AAAAC3NzaC1lZDI1NTE5AAAAI" + d.s(B64, 39)]
    priv = ["AAAAI" + d.s(B64, 39) + "="]
    text = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-20260301\nPublic-Lines: 1\n" + pub[0] +
            "\nPrivate-Lines: 1\n" + priv[0] + f"\nPrivate-MAC: {d.hex(64)}\n")
    return text, (priv[0][5:],)


def pgp(d: Draw) -> tuple[str, tuple[str, ...]]:
    body = "lQVYBG" + d.s(B64, 700)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    text = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(lines) + f"\n={d.s(B64, 4)}\n"
            "-----END PGP PRIVATE KEY BLOCK-----\n")
    return text, tuple(ln for ln in lines[1:] if len(ln) >= 16)


def private_key(d: Draw) -> Cred:
    kind = d.pick(sorted(DER_HEAD) + ["putty_ppk", "pgp"])
    if kind == "putty_ppk":
        text, parts = ppk(d)
    elif kind == "pgp":
        text, parts = pgp(d)
    else:
        text, parts = pem_block(d, kind)
    return Cred("private_key", kind.lower().replace(" ", "_"), text, ("private_key", "tls.key", "ssh_key", "signing_key"), parts, "pem")
