"""Fake secrets of the third held-out-style corpus (``heldout_style3``): vendor keys of many clouds and SaaS,
JWTs, private keys in five container formats, database and broker connection strings of many drivers,
cards and IBANs in many layouts, e-mail addresses and phone numbers. Every value is drawn from a seed; none
is a real credential. Written before reading ben's rules (ADR 0030, revision 6).
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
URLSAFE = AN + "-_"


@dataclass(frozen=True)
class Value:
    """One fake secret.

    ``text`` is written into a carrier; ``parts`` are the pieces that must not survive (random bodies, not
    published prefixes); ``keys`` are names a config or a log would give it; ``shape`` tells the carriers
    what it is: ``token`` (one word), ``url`` (a URL or DSN), ``pem`` (several lines), ``doc`` (ready-made
    lines, used as they are); ``bare`` says the value identifies itself without a key.
    """

    family: str
    kind: str
    text: str
    parts: tuple[str, ...]
    keys: tuple[str, ...] = ()
    shape: str = "token"
    bare: bool = True
    docs: tuple[str, ...] = ()


class Draw:
    """The seed's random source."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed * 104729 + 3)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mix(self, n: int, alphabet: str = AN) -> str:
        while True:
            v = self.s(alphabet, n)
            if all(any(c in cls for c in v) for cls in (LO, UP, DG) if any(c in cls for c in alphabet)):
                return v

    def one(self, seq):
        return self.rng.choice(list(seq))

    def num(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def raw(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def b64(self, n: int, *, url: bool = False, pad: bool = True) -> str:
        v = (base64.urlsafe_b64encode if url else base64.b64encode)(self.raw(n)).decode()
        return v if pad else v.rstrip("=")

    def uuid(self) -> str:
        return f"{self.s(HX, 8)}-{self.s(HX, 4)}-4{self.s(HX, 3)}-{self.one('89ab')}{self.s(HX, 3)}-{self.s(HX, 12)}"

    def password(self) -> str:
        k = self.rng.randrange(6)
        w = ["otter", "granite", "blue", "comet", "walnut", "harbour", "violet", "cedar", "ember", "pixel", "tundra"]
        if k == 0:
            return self.one(w).title() + self.s(DG, 3) + self.one("!@#$%^&*") + self.one(w)
        if k == 1:
            return self.mix(self.num(16, 32), AN + "!@#%^&*()-_=+[]{}:,.?~")
        if k == 2:
            return self.mix(self.num(20, 40))
        if k == 3:
            return ".".join(self.one(w) for _ in range(3)) + self.s(DG, 2)
        if k == 4:
            return self.mix(10, AN) + self.one("'\"`;|<>") + self.mix(6, AN)
        return "P@" + self.mix(8) + self.one("$€§") + self.s(DG, 2)


def luhn(payload: str) -> str:
    t = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        t += d - 9 if d > 9 else d
    return payload + str((10 - t % 10) % 10)


def iban(country: str, bban: str) -> str:
    n = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - n % 97:02d}{bban}"


def b64_piece(blob: str, at: int) -> str:
    """The part of base64(``blob``) that encodes only the characters from ``at`` on (ASCII ``blob``)."""
    enc = base64.b64encode(blob.encode()).decode()
    raw = blob.encode()
    at = len(blob[:at].encode())
    start, end = -(-at // 3) * 4, (len(raw) // 3) * 4
    return enc[start:end]


REG: dict[str, tuple[str, int, Callable[[Draw], Value]]] = {}


def kind(family: str, name: str, weight: int = 1):
    def wrap(fn):
        REG[name] = (family, weight, fn)
        return fn
    return wrap


def _v(family, kind_, text, parts=None, keys=(), shape="token", bare=True, docs=()):
    return Value(family, kind_, text, tuple(parts) if parts is not None else (text,), tuple(keys), shape, bare, tuple(docs))


# -- cloud -------------------------------------------------------------------------------------------
@kind("cloud", "aws_key_pair", 2)
def _aws(d: Draw) -> Value:
    kid, sec = d.one(["AKIA", "ASIA"]) + d.s(UP + "234567", 16), d.mix(40, AN + "+/")
    return _v("cloud", "aws_key_pair", sec, (kid[4:], sec), ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey", "secretKey"),
              bare=False, docs=(f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sec}\nregion = eu-central-1",
                                f'{{"AccessKeyId": "{kid}", "SecretAccessKey": "{sec}", "Expiration": "2026-12-07T01:00:00Z"}}',
                                f"export AWS_ACCESS_KEY_ID={kid} AWS_SECRET_ACCESS_KEY={sec}"))


@kind("cloud", "aws_presigned")
def _aws_presigned(d: Draw) -> Value:
    kid, sig = "AKIA" + d.s(UP + "234567", 16), d.s(HX, 64)
    url = (f"https://acme-exports.s3.eu-west-1.amazonaws.com/r/{d.s(DG, 8)}.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Credential={kid}%2F20261206%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261206T101500Z"
           f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}")
    return _v("cloud", "aws_presigned", url, (kid[4:], sig), ("download_url", "presigned_url"), shape="url")


@kind("cloud", "gcp_service_account", 2)
def _gcp(d: Draw) -> Value:
    kid, body = d.s(HX, 40), d.b64(900)
    lines = textwrap.wrap(body, 64)
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
    doc = json.dumps({"type": "service_account", "project_id": f"acme-prod-{d.s(DG, 6)}", "private_key_id": kid,
                      "private_key": pem, "client_email": f"exporter@acme-prod-{d.s(DG, 6)}.iam.gserviceaccount.com",
                      "client_id": d.s(DG, 21), "token_uri": "https://oauth2.googleapis.com/token"}, indent=2)
    return _v("cloud", "gcp_service_account", doc, (kid, lines[2], lines[-2]), ("credentials_json", "GOOGLE_CREDENTIALS"),
              shape="doc", bare=True, docs=(doc,))


@kind("cloud", "gcp_api_key")
def _gcp_api(d: Draw) -> Value:
    v = "AIza" + d.s(URLSAFE, 35)
    return _v("cloud", "gcp_api_key", v, (v[4:],), ("google_maps_key", "GOOGLE_API_KEY", "firebaseApiKey"))


@kind("cloud", "azure_storage", 2)
def _azure_storage(d: Draw) -> Value:
    key = d.b64(64)
    v = f"DefaultEndpointsProtocol=https;AccountName=acmelogs{d.s(DG, 3)};AccountKey={key};EndpointSuffix=core.windows.net"
    return _v("cloud", "azure_storage", v, (key[:-2],), ("AzureWebJobsStorage", "storage_connection_string", "ConnectionStrings__Blob"), shape="url")


@kind("cloud", "azure_sas")
def _azure_sas(d: Draw) -> Value:
    sig = d.b64(32)
    from urllib.parse import quote
    v = (f"https://acmelogs.blob.core.windows.net/backups/db.bak?sp=r&st=2026-12-06T09:00:00Z&se=2026-12-07T09:00:00Z"
         f"&spr=https&sv=2022-11-02&sr=b&sig={quote(sig, safe='')}")
    return _v("cloud", "azure_sas", v, (quote(sig, safe="")[:-3],), ("sas_url", "backup_uri"), shape="url")


@kind("cloud", "azure_client_secret")
def _azure_client(d: Draw) -> Value:
    v = d.s(AN, 3) + d.s(DG, 1) + "Q~" + d.s(AN + "_~.-", 34)
    return _v("cloud", "azure_client_secret", v, (v[6:],), ("AZURE_CLIENT_SECRET", "clientSecret", "client_secret"))


@kind("cloud", "digitalocean")
def _do(d: Draw) -> Value:
    v = d.one(["dop_v1_", "doo_v1_", "dor_v1_"]) + d.s(HX, 64)
    return _v("cloud", "digitalocean", v, (v[7:],), ("DIGITALOCEAN_TOKEN", "do_token"))


@kind("cloud", "heroku")
def _heroku(d: Draw) -> Value:
    if d.rng.random() < 0.5:
        v = "HRKU-AA" + d.s(URLSAFE, 58)
        return _v("cloud", "heroku", v, (v[5:],), ("HEROKU_API_KEY", "heroku_token"))
    v = d.uuid()
    return _v("cloud", "heroku", v, (v,), ("HEROKU_API_KEY", "heroku_api_key"), bare=False)


@kind("cloud", "alibaba")
def _alibaba(d: Draw) -> Value:
    kid, sec = "LTAI" + d.mix(20), d.mix(30)
    return _v("cloud", "alibaba", sec, (kid[4:], sec), ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "accessKeySecret"), bare=False,
              docs=(f"aliyun configure set --access-key-id {kid} --access-key-secret {sec} --region cn-hangzhou",))


@kind("cloud", "ibm_cloud")
def _ibm(d: Draw) -> Value:
    v = d.mix(44, URLSAFE)
    return _v("cloud", "ibm_cloud", v, (v,), ("IBMCLOUD_API_KEY", "ibm_api_key", "apikey"), bare=False)


@kind("cloud", "oracle_oci")
def _oci(d: Draw) -> Value:
    pw = d.mix(20, AN + "+-_;:<>()")
    doc = (f"[DEFAULT]\nuser=ocid1.user.oc1..aaaaaaaa{d.s(LO + DG, 52)}\nfingerprint="
           + ":".join(d.s(HX, 2) for _ in range(16)) + f"\ntenancy=ocid1.tenancy.oc1..aaaaaaaa{d.s(LO + DG, 52)}\n"
           f"region=eu-frankfurt-1\nkey_file=~/.oci/oci_api_key.pem\npass_phrase={pw}")
    return _v("cloud", "oracle_oci", pw, (pw,), ("pass_phrase", "oci_auth_token"), bare=False, docs=(doc,))


# -- SaaS and VCS tokens ---------------------------------------------------------------------------------
def _prefixed(family, name, prefixes, body, keys, weight=1):
    @kind(family, name, weight)
    def _fn(d: Draw) -> Value:
        p = d.one(prefixes)
        b = body(d)
        return _v(family, name, p + b, (b,), keys)
    return _fn


_prefixed("vcs", "github_classic", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], lambda d: d.mix(36), ("GITHUB_TOKEN", "GH_TOKEN", "github.token"), 2)
_prefixed("vcs", "github_fine_grained", ["github_pat_"], lambda d: "11A" + d.mix(19) + "_" + d.mix(59), ("GITHUB_PAT", "gh_pat"))
_prefixed("vcs", "gitlab", ["glpat-", "glrt-", "gldt-", "glptt-", "GR1348941"], lambda d: d.mix(20, URLSAFE), ("GITLAB_TOKEN", "PRIVATE-TOKEN", "CI_JOB_TOKEN"))
_prefixed("chat", "slack_token", ["xoxb-", "xoxp-", "xoxa-2-", "xoxe.xoxp-1-"], lambda d: f"{d.s(DG, 12)}-{d.s(DG, 13)}-{d.mix(24)}", ("SLACK_BOT_TOKEN", "slack_token"))
_prefixed("payment", "stripe", ["sk_live_", "rk_live_", "sk_test_", "whsec_"], lambda d: d.mix(32), ("STRIPE_SECRET_KEY", "stripe.apiKey", "webhook_secret"), 2)
_prefixed("chat", "twilio", ["SK", "AC"], lambda d: d.s(HX, 32), ("TWILIO_API_KEY", "twilio_sid"))
_prefixed("mail", "sendgrid", ["SG."], lambda d: d.b64(16, url=True, pad=False) + "." + d.b64(32, url=True, pad=False), ("SENDGRID_API_KEY", "sendgrid_key"))
_prefixed("mail", "mailgun", ["key-"], lambda d: d.s(HX, 32), ("MAILGUN_API_KEY", "mailgun.key"))
_prefixed("saas", "shopify", ["shpat_", "shpss_", "shpca_", "shppa_"], lambda d: d.s(HX, 32), ("SHOPIFY_ACCESS_TOKEN", "X-Shopify-Access-Token"))
_prefixed("registry", "npm", ["npm_"], lambda d: d.mix(36), ("NPM_TOKEN", "//registry.npmjs.org/:_authToken"))
_prefixed("registry", "pypi", ["pypi-AgEIcHlwaS5vcmc"], lambda d: d.b64(60, url=True, pad=False), ("PYPI_TOKEN", "TWINE_PASSWORD"))
_prefixed("registry", "dockerhub", ["dckr_pat_"], lambda d: d.mix(27, URLSAFE), ("DOCKERHUB_TOKEN", "DOCKER_PASSWORD"))
_prefixed("ci", "vault", ["hvs.", "hvb.", "s."], lambda d: d.mix(24) + (d.mix(60) if d.rng.random() < 0.5 else ""), ("VAULT_TOKEN", "X-Vault-Token"))
_prefixed("ci", "terraform_cloud", [""], lambda d: d.mix(14) + ".atlasv1." + d.mix(67, URLSAFE), ("TFE_TOKEN", "TF_TOKEN_app_terraform_io"))
_prefixed("observability", "newrelic", ["NRAK-", "NRII-", "NRJS-"], lambda d: d.s(UP + DG, 27), ("NEW_RELIC_API_KEY", "newrelic.key"))
_prefixed("ai", "openai", ["sk-proj-", "sk-svcacct-", "sk-"], lambda d: d.mix(48, URLSAFE) if d.rng.random() < 0.5 else d.mix(20) + "T3BlbkFJ" + d.mix(20),
          ("OPENAI_API_KEY", "openai.api_key"), 2)
_prefixed("ai", "anthropic", ["sk-ant-api03-", "sk-ant-admin01-"], lambda d: d.mix(93, URLSAFE) + "AA", ("ANTHROPIC_API_KEY", "x-api-key"))
_prefixed("vcs", "atlassian", ["ATATT3xFfGF0"], lambda d: d.mix(170, URLSAFE) + "=" + d.s(HX.upper(), 8), ("JIRA_API_TOKEN", "confluence_token"))
_prefixed("payment", "square", ["EAAA", "sq0atp-", "sq0csp-"], lambda d: d.mix(60, URLSAFE), ("SQUARE_ACCESS_TOKEN", "square.token"))
_prefixed("payment", "braintree", ["access_token$production$"], lambda d: d.s(LO + DG, 16) + "$" + d.s(HX, 32), ("BRAINTREE_ACCESS_TOKEN", "paypal_token"))
_prefixed("registry", "rubygems", ["rubygems_"], lambda d: d.s(HX, 48), ("GEM_HOST_API_KEY",))
_prefixed("ai", "huggingface", ["hf_"], lambda d: d.mix(34, LO + UP), ("HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"))


@kind("observability", "datadog")
def _dd(d: Draw) -> Value:
    v = d.s(HX, d.one([32, 40]))
    return _v("observability", "datadog", v, (v,), ("DD_API_KEY", "DD_APP_KEY", "datadog_api_key", "DD-API-KEY"), bare=False)


@kind("observability", "sentry_dsn")
def _sentry(d: Draw) -> Value:
    k = d.s(HX, 32)
    v = f"https://{k}@o{d.s(DG, 6)}.ingest.{d.one(['', 'us.', 'de.'])}sentry.io/{d.s(DG, 7)}"
    return _v("observability", "sentry_dsn", v, (k,), ("SENTRY_DSN", "sentry.dsn"), shape="url")


@kind("idp", "okta")
def _okta(d: Draw) -> Value:
    v = "00" + d.mix(40, URLSAFE)
    return _v("idp", "okta", v, (v[2:],), ("OKTA_API_TOKEN", "okta_token"), bare=False,
              docs=(f"curl -s -H 'Authorization: SSWS {v}' https://acme.okta.com/api/v1/users?limit=25",))


@kind("chat", "discord_bot")
def _discord(d: Draw) -> Value:
    v = d.one("MN") + d.mix(23) + "." + d.mix(6, URLSAFE) + "." + d.mix(38, URLSAFE)
    return _v("chat", "discord_bot", v, (v[:24], v[-38:]), ("DISCORD_TOKEN", "bot_token"))


@kind("chat", "telegram_bot")
def _telegram(d: Draw) -> Value:
    v = f"{d.num(1000000000, 7999999999)}:AA{d.mix(33, URLSAFE)}"
    return _v("chat", "telegram_bot", v, (v[-33:],), ("TELEGRAM_BOT_TOKEN", "tg_token"),
              docs=(f"POST https://api.telegram.org/bot{v}/sendMessage chat_id=-100{d.s(DG, 10)} 200",))


@kind("chat", "slack_webhook")
def _slack_hook(d: Draw) -> Value:
    k = d.mix(24)
    v = f"https://hooks.slack.com/services/T{d.s(UP + DG, 10)}/B{d.s(UP + DG, 10)}/{k}"
    return _v("chat", "slack_webhook", v, (k,), ("SLACK_WEBHOOK_URL", "alert_webhook"), shape="url")


# -- tokens: JWT -----------------------------------------------------------------------------------------
def _b64u(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def jwt(d: Draw) -> tuple[str, str]:
    head = _b64u({"alg": d.one(["HS256", "RS256", "ES256"]), "typ": "JWT", "kid": d.s(HX, 8)})
    body = _b64u({"sub": d.uuid(), "iss": "https://auth.acme.example", "aud": "api", "exp": d.num(1_790_000_000, 1_800_000_000),
                  "scope": "read write", "jti": d.s(AN, 16)})
    sig = d.b64(d.one([32, 64, 256]), url=True, pad=False)
    return f"{head}.{body}.{sig}", sig


@kind("jwt", "jwt", 3)
def _jwt(d: Draw) -> Value:
    v, sig = jwt(d)
    head, body = v.split(".")[:2]
    return _v("jwt", "jwt", v, (body[20:60], sig), ("access_token", "id_token", "refresh_token", "Authorization", "jwt", "session"),
              docs=(f"token parts: header={head} payload={body} signature={sig}",
                    f"Set-Cookie: __Host-session={v}; Path=/; Secure; HttpOnly; SameSite=Lax",
                    f"decoded JWT ok (alg=HS256); raw='{v}'"))


# -- private keys ------------------------------------------------------------------------------------------
def _pem(d: Draw, label: str, n: int, headers: str = "") -> tuple[str, tuple[str, ...]]:
    body = d.b64(n)
    lines = textwrap.wrap(body, 64)
    text = f"-----BEGIN {label}-----\n{headers}" + "\n".join(lines) + f"\n-----END {label}-----"
    return text, (lines[1], lines[len(lines) // 2], lines[-2])


@kind("private_key", "pem_key", 3)
def _pem_key(d: Draw) -> Value:
    label = d.one(["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY"])
    hdr = "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC," + d.s(HX.upper(), 32) + "\n\n" if label == "RSA PRIVATE KEY" and d.rng.random() < 0.3 else ""
    text, parts = _pem(d, label, d.one([121, 138, 1190, 1218]), hdr)
    return _v("private_key", "pem_key", text, parts, ("private_key", "tls.key", "ssl_key", "signing_key"), shape="pem")


@kind("private_key", "openssh_key")
def _openssh(d: Draw) -> Value:
    raw = b"openssh-key-v1\x00" + d.raw(380)
    lines = textwrap.wrap(base64.b64encode(raw).decode(), 70)
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----"
    return _v("private_key", "openssh_key", text, (lines[2], lines[-2]), ("id_ed25519", "ssh_private_key", "SSH_KEY"), shape="pem")


@kind("private_key", "putty_key")
def _putty(d: Draw) -> Value:
    pub = textwrap.wrap(base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + d.raw(36)).decode(), 64)
    priv = textwrap.wrap(d.b64(48), 64)
    text = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@bastion\n"
            f"Public-Lines: {len(pub)}\n" + "\n".join(pub) + f"\nPrivate-Lines: {len(priv)}\n" + "\n".join(priv)
            + f"\nPrivate-MAC: {d.s(HX, 64)}")
    return _v("private_key", "putty_key", text, tuple(priv), ("ppk", "putty_key"), shape="pem")


@kind("private_key", "pgp_key")
def _pgp(d: Draw) -> Value:
    lines = textwrap.wrap(d.b64(700), 64)
    text = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: release signing\n\n" + "\n".join(lines)
            + f"\n={d.b64(3)}\n-----END PGP PRIVATE KEY BLOCK-----")
    return _v("private_key", "pgp_key", text, (lines[1], lines[-3]), ("gpg_private_key", "GPG_SIGNING_KEY"), shape="pem")


# -- connection strings ------------------------------------------------------------------------------------
def _conn(name: str, weight: int, fn):
    @kind("connection", name, weight)
    def _f(d: Draw) -> Value:
        pw = d.password()
        text, keys, parts = fn(d, pw)
        return _v("connection", name, text, tuple(dict.fromkeys((*(parts or ()), pw, _q(pw)))), keys, shape="url")
    return _f


_U = ("app", "svc_orders", "etl", "reporting", "admin")


def _q(pw: str) -> str:
    from urllib.parse import quote
    return quote(pw, safe="")


_conn("jdbc", 2, lambda d, pw: (d.one([
    f"jdbc:postgresql://db.internal:5432/orders?user={d.one(_U)}&password={_q(pw)}&ssl=true",
    f"jdbc:mysql://{d.one(_U)}:{_q(pw)}@mysql-1:3306/shop?useSSL=true",
    f"jdbc:sqlserver://sql01:1433;databaseName=erp;user={d.one(_U)};password={{{pw}}};encrypt=true",
    f"jdbc:oracle:thin:{d.one(_U)}/{_q(pw)}@//ora-scan:1521/ORCLPDB1",
    f"jdbc:db2://db2host:50000/SAMPLE:user={d.one(_U)};password={_q(pw)};",
    f"jdbc:snowflake://acme.snowflakecomputing.com/?user={d.one(_U)}&password={_q(pw)}&warehouse=WH"]),
    ("spring.datasource.url", "JDBC_URL", "jdbcUrl"), (_q(pw),) if _q(pw) != pw else None))
_conn("odbc", 1, lambda d, pw: (f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:sql01,1433;Database=erp;Uid={d.one(_U)};"
                                f"Pwd={{{pw}}};Encrypt=yes;", ("odbc_dsn", "ConnectionString"), None))
_conn("adonet", 2, lambda d, pw: (d.one([f"Server=sql01;Database=erp;User Id={d.one(_U)};Password={pw.replace(';', '')};TrustServerCertificate=True",
                                          f"Host=pg01;Port=5432;Username={d.one(_U)};Password={pw.replace(';', '')};Database=orders;SSL Mode=Require",
                                          f"Data Source=tcp:acme.database.windows.net,1433;Initial Catalog=erp;User ID={d.one(_U)};Pwd={pw.replace(';', '')};"]),
                                  ("ConnectionStrings:Default", "DB_CONNECTION", "connectionString"), (pw.replace(";", ""),)))
_conn("sqlalchemy", 2, lambda d, pw: (d.one([f"postgresql+psycopg2://{d.one(_U)}:{_q(pw)}@pg01:5432/orders",
                                              f"mysql+pymysql://{d.one(_U)}:{_q(pw)}@mysql-1/shop?charset=utf8mb4",
                                              f"mssql+pyodbc://{d.one(_U)}:{_q(pw)}@sql01/erp?driver=ODBC+Driver+18+for+SQL+Server",
                                              f"oracle+oracledb://{d.one(_U)}:{_q(pw)}@ora-scan:1521/?service_name=ORCLPDB1"]),
                                      ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"), (_q(pw),)))
_conn("mongo_srv", 1, lambda d, pw: (f"mongodb+srv://{d.one(_U)}:{_q(pw)}@cluster0.{d.s(LO + DG, 5)}.mongodb.net/prod?retryWrites=true&w=majority",
                                     ("MONGO_URI", "spring.data.mongodb.uri"), (_q(pw),)))
_conn("redis", 1, lambda d, pw: (d.one([f"redis://:{_q(pw)}@cache-1:6379/0", f"rediss://default:{_q(pw)}@redis-12345.c1.cloud.redislabs.com:12345"]),
                                 ("REDIS_URL", "cache.url"), (_q(pw),)))
_conn("amqp", 1, lambda d, pw: (f"amqps://{d.one(_U)}:{_q(pw)}@b-{d.uuid()}.mq.eu-west-1.amazonaws.com:5671/vhost",
                                ("AMQP_URL", "CELERY_BROKER_URL", "broker_url"), (_q(pw),)))
_conn("ldap_bind", 1, lambda d, pw: (d.one([f"ldapsearch -x -H ldaps://ldap.corp:636 -D 'cn=admin,dc=corp,dc=example' -w '{pw}' -b dc=corp,dc=example '(uid=jdoe)'",
                                            f"ldap://cn=binder,ou=svc,dc=corp:{_q(pw)}@ldap.corp:389/dc=corp"]),
                                     ("LDAP_BIND_URL", "bindCredential"), None))
_conn("kafka_jaas", 1, lambda d, pw: (f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{d.one(_U)}" password="{pw.replace(chr(34), "")}";',
                                      ("sasl.jaas.config", "KAFKA_SASL_JAAS_CONFIG"), (pw.replace('"', ""),)))
_conn("elastic", 1, lambda d, pw: (f"https://elastic:{_q(pw)}@es-prod.example.com:9243", ("ELASTICSEARCH_URL", "es.hosts"), (_q(pw),)))


# -- passwords, plain -----------------------------------------------------------------------------------------
def _pw_lines(d: Draw, pw: str) -> tuple[str, ...]:
    u = d.one(_U)
    basic = base64.b64encode(f"{u}:{pw}".encode()).decode()
    return (f"curl -sf -u {u}:'{pw}' https://jenkins.internal/job/deploy/build",
            f"wget --user={u} --password='{pw}' https://repo.internal/artifacts/app.tgz",
            f"http -a {u}:'{pw}' POST https://api.example.com/v1/session",
            (f"> GET /api/v4/projects HTTP/2\n> Host: git.internal\n> authorization: Basic {basic}\n> user-agent: curl/8.5.0",
             (b64_piece(f"{u}:{pw}", len(u) + 1),)),
            f"CREATE USER {u} WITH PASSWORD '{pw.replace(chr(39), chr(39) * 2)}';",
            f"ALTER LOGIN [{u}] WITH PASSWORD = N'{pw.replace(chr(39), chr(39) * 2)}';",
            f"Das Passwort für {u} lautet: {pw}",
            f"le mot de passe de {u} est « {pw} »",
            f"la contraseña del usuario {u} es {pw}",
            f"用户 {u} 的密码是：{pw}",
            f"ユーザー {u} のパスワードは「{pw}」です",
            f"пароль для {u}: {pw}",
            f"##[debug]Evaluating: secrets.DB_PASSWORD\n##[debug]Result: '{pw}'",
            f"echo \"::add-mask::{pw}\"")


@kind("password", "password", 5)
def _password(d: Draw) -> Value:
    pw = d.password()
    return _v("password", "password", pw, (pw,), ("password", "db_password", "DB_PASS", "passwd", "pwd", "admin_password",
                                                  "master_password", "keystore.password", "smtp_pass", "rootPassword",
                                                  "PGPASSWORD", "MYSQL_ROOT_PASSWORD", "Passwort", "mot_de_passe",
                                                  "contraseña", "пароль", "密码"), bare=False, docs=_pw_lines(d, pw))


@kind("password", "password_hash")
def _bcrypt(d: Draw) -> Value:
    v = f"$2{d.one('aby')}${d.one(['10', '12', '14'])}$" + d.s("./" + AN, 53)
    return _v("password", "password_hash", v, (v[7:],), ("password_hash", "passwordDigest", "hashed_password"))


@kind("password", "client_secret", 2)
def _client_secret(d: Draw) -> Value:
    v = d.mix(d.one([24, 32, 40, 64]), AN + "-_~.")
    return _v("password", "client_secret", v, (v,), ("client_secret", "CLIENT_SECRET", "oauth.clientSecret", "app_secret",
                                                     "consumer_secret", "SECRET_KEY", "signing_secret", "encryption_key"), bare=False)
