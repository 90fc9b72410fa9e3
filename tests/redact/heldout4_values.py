"""Fake secrets of the fourth held-out-style corpus (``heldout_style4``): token formats of 2025-2026 (AI vendors,
developer platforms, observability SaaS), cloud session credentials, private keys in containers that cut them
into log lines, DSNs of many databases and brokers, passwords on logged command lines and in config files of
many tools, OAuth and session material, and personal data (e-mails, international phone numbers, cards,
IBANs, named national IDs). Every value is drawn from a seed; none is a real credential.

Written on 2026-12-06 before opening ``src/ben/redact/`` (only ADR 0030's method sections, the docs' list of
what is masked by default, and the kind lists of the first three corpora, to avoid repeating them).
"""

from __future__ import annotations

import base64
import json
import random
import string
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

LO, UP, DG = string.ascii_lowercase, string.ascii_uppercase, string.digits
AN = LO + UP + DG
HX = "0123456789abcdef"
US = AN + "-_"
B64 = AN + "+/"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BECH = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Value:
    """One fake secret: ``text`` as written, ``parts`` that must not survive, ``keys`` a config would name it
    by, ``shape`` (``token``, ``pw`` (needs its key), ``url``, ``pem``, ``line`` (a ready-made line))."""

    family: str
    kind: str
    text: str
    parts: tuple[str, ...]
    keys: tuple[str, ...] = ()
    shape: str = "token"


class Draw:
    """The seed's random source."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed * 7919 + 41)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mix(self, n: int, alphabet: str = AN) -> str:
        while True:
            v = self.s(alphabet, n)
            if all(any(c in v for c in cls) for cls in (LO, UP, DG) if any(c in alphabet for c in cls)):
                return v

    def one(self, seq):
        return self.rng.choice(list(seq))

    def password(self) -> str:
        r = self.rng.random()
        words = ["falcon", "Orchid", "maple", "Tundra", "quartz", "Harbor", "velvet", "Cobalt", "saffron", "Ember"]
        if r < 0.3:
            return f"{self.one(words)}{self.rng.randint(10, 9999)}{self.one('!@#$%^&*?')}{self.one(words)}"
        if r < 0.6:
            return self.mix(self.rng.randint(14, 24), AN + "!#%&*+-.=?@^_~")
        if r < 0.8:
            return "-".join(self.one(words).lower() for _ in range(3)) + str(self.rng.randint(1, 99))
        return self.mix(self.rng.randint(20, 32))


def b64_piece(blob: str, at: int, n: int) -> str:
    """The characters of base64(``blob``) that encode only ``blob[at:at+n]`` (ASCII)."""
    enc = base64.b64encode(blob.encode()).decode()
    return enc[-(-at // 3) * 4:((at + n) // 3) * 4]


REG: dict[str, tuple[str, int, Callable[[Draw], Value]]] = {}


def kind(family: str, name: str, weight: int = 1):
    def deco(fn):
        REG[name] = (family, weight, fn)
        return fn
    return deco


def _tok(family, name, make, keys, weight=1):
    """A self-identifying token: ``make(d)`` gives (text, secret part)."""
    def fn(d: Draw) -> Value:
        text, part = make(d)
        return Value(family, name, text, (part,), keys)
    REG[name] = (family, weight, fn)


def _pre(prefix, body):
    return lambda d: (lambda b: (prefix + b, b))(body(d))


# -- AI vendors -------------------------------------------------------------------------------------------
AI_KEYS = ("OPENAI_API_KEY", "api_key", "llm.api_key", "x-api-key", "apiKey", "provider_token")
_tok("ai", "openai_project", _pre("sk-proj-", lambda d: d.mix(64, US) + "T3BlbkFJ" + d.mix(64, US)), AI_KEYS, 2)
_tok("ai", "openai_svcacct", _pre("sk-svcacct-", lambda d: d.mix(74, US)), AI_KEYS)
_tok("ai", "anthropic_api", _pre("sk-ant-api03-", lambda d: d.mix(93, US) + "AA"), ("ANTHROPIC_API_KEY", "x-api-key"), 2)
_tok("ai", "anthropic_admin", _pre("sk-ant-admin01-", lambda d: d.mix(93, US) + "AA"), ("ANTHROPIC_ADMIN_KEY",))
_tok("ai", "huggingface", _pre("hf_", lambda d: d.mix(34, LO + UP)), ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"))
_tok("ai", "groq", _pre("gsk_", lambda d: d.mix(52)), ("GROQ_API_KEY",))
_tok("ai", "replicate", _pre("r8_", lambda d: d.mix(37)), ("REPLICATE_API_TOKEN",))
_tok("ai", "perplexity", _pre("pplx-", lambda d: d.mix(48)), ("PPLX_API_KEY",))
_tok("ai", "xai", _pre("xai-", lambda d: d.mix(80)), ("XAI_API_KEY",))
_tok("ai", "langsmith", _pre("lsv2_pt_", lambda d: d.s(HX, 32) + "_" + d.s(HX, 10)), ("LANGSMITH_API_KEY",))
_tok("ai", "pinecone", _pre("pcsk_", lambda d: d.mix(5) + "_" + d.mix(63)), ("PINECONE_API_KEY",))
_tok("ai", "google_ai", _pre("AIza", lambda d: d.mix(35, US)), ("GEMINI_API_KEY", "key"))


@kind("ai", "prefixless_llm_key")
def _prefixless(d: Draw) -> Value:
    v = d.mix(d.one((32, 40)))
    return Value("ai", "prefixless_llm_key", v, (v,), ("MISTRAL_API_KEY", "CO_API_KEY", "TOGETHER_API_KEY", "llm_api_key"), "pw")


# -- developer platforms --------------------------------------------------------------------------------
DEV_KEYS = ("token", "GITHUB_TOKEN", "auth_token", "access_token", "GITLAB_TOKEN", "ci_token", "NPM_TOKEN")
_tok("dev", "github_fine_grained", _pre("github_pat_11", lambda d: d.mix(20, UP + DG) + "_" + d.mix(59)), DEV_KEYS, 2)
_tok("dev", "github_app_install", _pre("ghs_", lambda d: d.mix(36)), DEV_KEYS)
_tok("dev", "github_oauth", _pre("gho_", lambda d: d.mix(36)), DEV_KEYS)
_tok("dev", "gitlab_pat", _pre("glpat-", lambda d: d.mix(20, US)), DEV_KEYS, 2)
_tok("dev", "gitlab_runner", _pre("glrt-", lambda d: d.mix(20, US)), ("runner_token", "token"))
_tok("dev", "slack_refresh", _pre("xoxe-1-", lambda d: d.s(UP + DG, 10) + "-" + d.s(DG, 13) + "-" + d.s(DG, 13) + "-" + d.s(HX, 64)), ("SLACK_REFRESH_TOKEN",))
_tok("dev", "slack_app", _pre("xapp-1-", lambda d: "A0" + d.s(UP + DG, 9) + "-" + d.s(DG, 13) + "-" + d.s(HX, 64)), ("SLACK_APP_TOKEN",))
_tok("dev", "slack_bot", _pre("xoxb-", lambda d: d.s(DG, 12) + "-" + d.s(DG, 13) + "-" + d.mix(24)), ("SLACK_BOT_TOKEN",))
_tok("dev", "npm", _pre("npm_", lambda d: d.mix(36)), ("NPM_TOKEN", "_authToken"))
_tok("dev", "pypi", _pre("pypi-AgEIcHlwaS5vcmc", lambda d: d.mix(120, US)), ("TWINE_PASSWORD", "password"))
_tok("dev", "rubygems", _pre("rubygems_", lambda d: d.s(HX, 48)), ("GEM_HOST_API_KEY",))
_tok("dev", "dockerhub", _pre("dckr_pat_", lambda d: d.mix(27, US)), ("DOCKERHUB_TOKEN", "password"))
_tok("dev", "sentry_org", _pre("sntrys_", lambda d: base64.b64encode(json.dumps(
    {"iat": 1764950400, "url": "https://sentry.io", "org": f"acme-{d.s(LO, 5)}"}).encode()).decode().rstrip("=") + "_" + d.mix(43)),
    ("SENTRY_AUTH_TOKEN",))
_tok("dev", "linear", _pre("lin_api_", lambda d: d.mix(40)), ("LINEAR_API_KEY",))
_tok("dev", "doppler", _pre("dp.st.prd.", lambda d: d.mix(43)), ("DOPPLER_TOKEN",))
_tok("dev", "pulumi", _pre("pul-", lambda d: d.s(HX, 40)), ("PULUMI_ACCESS_TOKEN",))
_tok("dev", "postman", lambda d: (lambda a, b: (f"PMAK-{a}-{b}", a + "-" + b))(d.s(HX, 24), d.s(HX, 34)), ("POSTMAN_API_KEY",))
_tok("dev", "databricks", _pre("dapi", lambda d: d.s(HX, 32)), ("DATABRICKS_TOKEN",))
_tok("dev", "terraform_cloud", lambda d: (lambda a, b: (f"{a}.atlasv1.{b}", b))(d.mix(14), d.mix(67)), ("TFE_TOKEN", "token"))
_tok("dev", "supabase", _pre("sbp_", lambda d: d.s(HX, 40)), ("SUPABASE_ACCESS_TOKEN",))
_tok("dev", "netlify", _pre("nfp_", lambda d: d.mix(36)), ("NETLIFY_AUTH_TOKEN",))
_tok("dev", "tailscale", lambda d: (lambda a, b: (f"tskey-auth-{a}CNTRL-{b}", b))(d.mix(11), d.mix(33)), ("TS_AUTHKEY",))
_tok("dev", "planetscale", _pre("pscale_tkn_", lambda d: d.mix(43, US)), ("PLANETSCALE_SERVICE_TOKEN",))
_tok("dev", "atlassian", _pre("ATATT3xFfGF0", lambda d: d.mix(170, US) + "=" + d.s(HX.upper(), 8)), ("JIRA_API_TOKEN", "password"))
_tok("dev", "notion", _pre("ntn_", lambda d: d.mix(46)), ("NOTION_TOKEN",))
_tok("dev", "vault_service", _pre("hvs.", lambda d: "CAESI" + d.mix(85, US)), ("VAULT_TOKEN", "X-Vault-Token", "client_token"), 2)
_tok("dev", "onepassword_sa", _pre("ops_eyJ", lambda d: d.mix(240, US)), ("OP_SERVICE_ACCOUNT_TOKEN",))
_tok("dev", "age_identity", _pre("AGE-SECRET-KEY-1", lambda d: d.s(BECH, 58)), ("SOPS_AGE_KEY", "identity"))


# -- observability and business SaaS ---------------------------------------------------------------------
_tok("saas", "grafana_cloud", _pre("glc_eyJ", lambda d: d.mix(150, B64[:-2])), ("GRAFANA_CLOUD_TOKEN", "password"))
_tok("saas", "grafana_sa", lambda d: (lambda a: (f"glsa_{a}_{d.s(HX, 8)}", a))(d.mix(32)), ("GRAFANA_SERVICE_ACCOUNT_TOKEN",))
_tok("saas", "newrelic_user", _pre("NRAK-", lambda d: d.s(UP + DG, 27)), ("NEW_RELIC_API_KEY",))
_tok("saas", "dynatrace", lambda d: (lambda a, b: (f"dt0c01.{a}.{b}", b))(d.s(UP + DG, 24), d.s(UP + DG, 64)), ("DT_API_TOKEN", "Api-Token"))
_tok("saas", "stripe_restricted", _pre("rk_live_", lambda d: d.mix(99)), ("STRIPE_SECRET_KEY", "stripe.api_key"), 2)
_tok("saas", "stripe_webhook", _pre("whsec_", lambda d: d.mix(32)), ("STRIPE_WEBHOOK_SECRET", "endpoint_secret"))
_tok("saas", "shopify_admin", _pre("shpat_", lambda d: d.s(HX, 32)), ("SHOPIFY_ACCESS_TOKEN", "X-Shopify-Access-Token"))
_tok("saas", "sendgrid", lambda d: (lambda a, b: (f"SG.{a}.{b}", a + "." + b))(d.mix(22, US), d.mix(43, US)), ("SENDGRID_API_KEY",))
_tok("saas", "mailgun", _pre("key-", lambda d: d.s(HX, 32)), ("MAILGUN_API_KEY", "api_key"))
_tok("saas", "mailchimp", lambda d: (lambda a: (f"{a}-us{d.rng.randint(1, 21)}", a))(d.s(HX, 32)), ("MAILCHIMP_API_KEY",))


@kind("saas", "twilio_api_key")
def _twilio(d: Draw) -> Value:
    sid, secret = "SK" + d.s(HX, 32), d.mix(32)
    return Value("saas", "twilio_api_key", f"{sid}:{secret}", (sid[2:], secret), ("TWILIO_CREDENTIALS",))


# -- cloud -------------------------------------------------------------------------------------------------
@kind("cloud", "aws_session", 2)
def _aws_session(d: Draw) -> Value:
    kid, sec, tok = "ASIA" + d.s(UP + DG, 16), d.mix(40, B64), "IQoJb3JpZ2luX2VjE" + d.mix(300, B64)
    text = d.one((f"aws_access_key_id={kid}\naws_secret_access_key={sec}\naws_session_token={tok}",
                  json.dumps({"Credentials": {"AccessKeyId": kid, "SecretAccessKey": sec, "SessionToken": tok,
                                              "Expiration": "2026-12-06T11:15:02Z"}}),
                  f"export AWS_ACCESS_KEY_ID={kid} AWS_SECRET_ACCESS_KEY={sec} AWS_SESSION_TOKEN={tok}"))
    return Value("cloud", "aws_session", text, (sec, tok[17:]), (), "line")


@kind("cloud", "aws_presigned_token")
def _aws_presigned(d: Draw) -> Value:
    tok, sig = "IQoJb3JpZ2luX2VjE" + d.mix(200, B64), d.s(HX, 64)
    from urllib.parse import quote
    url = (f"https://acme-exports.s3.eu-west-1.amazonaws.com/r/2026/12/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Credential=ASIA{d.s(UP + DG, 16)}%2F20261206%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261206T101502Z"
           f"&X-Amz-Expires=900&X-Amz-Security-Token={quote(tok, safe='')}&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}")
    return Value("cloud", "aws_presigned_token", url, (quote(tok, safe="")[17:], sig), (), "url")


@kind("cloud", "azure_storage_key")
def _az_storage(d: Draw) -> Value:
    key = d.mix(86, B64) + "=="
    text = f"DefaultEndpointsProtocol=https;AccountName=acme{d.s(LO + DG, 6)};AccountKey={key};EndpointSuffix=core.windows.net"
    return Value("cloud", "azure_storage_key", text, (key[:-2],), ("AZURE_STORAGE_CONNECTION_STRING", "connectionString"), "url")


@kind("cloud", "azure_sas")
def _az_sas(d: Draw) -> Value:
    from urllib.parse import quote
    sig = quote(d.mix(43, B64) + "=", safe="")
    url = (f"https://acme{d.s(LO, 5)}.blob.core.windows.net/backups/db.bak?sp=r&st=2026-12-06T10:00:00Z&se=2026-12-07T10:00:00Z"
           f"&spr=https&sv=2022-11-02&sr=b&sig={sig}")
    return Value("cloud", "azure_sas", url, (sig,), (), "url")


_tok("cloud", "azure_client_secret", lambda d: (lambda a: (a, a))(d.mix(3) + "8Q~" + d.mix(31, US + ".~")),
     ("AZURE_CLIENT_SECRET", "client_secret", "clientSecret"), 2)
_tok("cloud", "gcp_oauth_access", _pre("ya29.", lambda d: d.mix(150, US)), ("access_token", "Authorization"))
_tok("cloud", "gcp_refresh", _pre("1//0", lambda d: d.mix(100, US)), ("refresh_token",))
_tok("cloud", "gcp_client_secret", _pre("GOCSPX-", lambda d: d.mix(28, US)), ("client_secret", "GOOGLE_CLIENT_SECRET"))
_tok("cloud", "digitalocean", _pre("dop_v1_", lambda d: d.s(HX, 64)), ("DIGITALOCEAN_TOKEN",))


@kind("cloud", "alibaba_pair")
def _alibaba(d: Draw) -> Value:
    kid, sec = "LTAI5t" + d.mix(18), d.mix(30)
    return Value("cloud", "alibaba_pair", f"access_key_id={kid} access_key_secret={sec}", (sec,), (), "line")


@kind("cloud", "tencent_pair")
def _tencent(d: Draw) -> Value:
    kid, sec = "AKID" + d.mix(32), d.mix(32)
    return Value("cloud", "tencent_pair", f'{{"SecretId": "{kid}", "SecretKey": "{sec}"}}', (kid[4:], sec), (), "line")


@kind("cloud", "cloudflare_token")
def _cf(d: Draw) -> Value:
    v = d.mix(40, US)
    return Value("cloud", "cloudflare_token", v, (v,), ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "cf_token"), "pw")


# -- private keys --------------------------------------------------------------------------------------------
def pem(d: Draw, label: str, nbytes: int) -> tuple[str, tuple[str, ...]]:
    body = base64.b64encode(bytes(d.rng.randrange(256) for _ in range(nbytes))).decode()
    lines = textwrap.wrap(body, 64)
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----", tuple(ln for ln in lines if len(ln) >= 8)


@kind("keys", "pem_key", 3)
def _pem(d: Draw) -> Value:
    label = d.one(("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
    text, parts = pem(d, label, d.one((121, 240, 600)))
    return Value("keys", "pem_key", text, parts, ("private_key", "tls.key", "signing_key"), "pem")


@kind("keys", "pgp_private")
def _pgp(d: Draw) -> Value:
    body = base64.b64encode(bytes(d.rng.randrange(256) for _ in range(300))).decode()
    lines = textwrap.wrap(body, 64)
    text = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(lines) + "\n=" + d.mix(4, B64)
            + "\n-----END PGP PRIVATE KEY BLOCK-----")
    return Value("keys", "pgp_private", text, tuple(lines), ("gpg_private_key",), "pem")


# -- connection strings ----------------------------------------------------------------------------------------
def _dsn(name, build, weight=1, url=True):
    def fn(d: Draw) -> Value:
        pw = d.password()
        from urllib.parse import quote
        enc = quote(pw, safe="")
        text = build(d, enc if url and any(c in pw for c in ":/@?#%&=+^") else pw, d.s(LO, 6))
        part = enc if enc in text else pw
        return Value("dsn", name, text, (part,), ("url", "dsn", "DATABASE_URL", "connection_string"), "url")
    REG[name] = ("dsn", weight, fn)


_dsn("mongodb_srv", lambda d, p, u: f"mongodb+srv://{u}:{p}@cluster0.{d.s(LO + DG, 5)}.mongodb.net/app?retryWrites=true&w=majority")
_dsn("redis_auth", lambda d, p, u: d.one((f"redis://:{p}@redis-master.cache.svc:6379/0", f"rediss://default:{p}@eu1-fine-cat-3321.upstash.io:6379")))
_dsn("amqp", lambda d, p, u: f"amqps://{u}:{p}@b-{d.s(HX, 8)}.mq.eu-west-1.amazonaws.com:5671/%2F")
_dsn("kafka_jaas", lambda d, p, u: d.one((
    f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{u}" password="{p}";',
    f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{u}" password="{p}";')), 2, False)
_dsn("jdbc_params", lambda d, p, u: d.one((f"jdbc:postgresql://pg-primary:5432/orders?user={u}&password={p}&sslmode=require",
                                           f"jdbc:mysql://mysql.internal:3306/app?user={u}&password={p}&useSSL=true",
                                           f"jdbc:oracle:thin:{u}/{p}@//ora-scan:1521/ORCLPDB1")), 2)
_dsn("clickhouse", lambda d, p, u: f"clickhouse://{u}:{p}@ch-0.ch.svc:9000/default?secure=false")
_dsn("nats_mqtt", lambda d, p, u: d.one((f"nats://{u}:{p}@nats.mesh:4222", f"mqtts://{u}:{p}@broker.hivemq.cloud:8883")))
_dsn("snowflake", lambda d, p, u: f"snowflake://{u}:{p}@xy12345.eu-central-1/ANALYTICS/PUBLIC?warehouse=WH_XS")
_dsn("neo4j_smtp", lambda d, p, u: d.one((f"neo4j+s://neo4j:{p}@a1b2c3d4.databases.neo4j.io", f"smtp://apikey:{p}@smtp.sendgrid.net:587")))
_dsn("mssql_ado", lambda d, p, u: f"Server=tcp:sql-{u}.database.windows.net,1433;Initial Catalog=app;User ID={u};Password={p};Encrypt=True;", url=False)
