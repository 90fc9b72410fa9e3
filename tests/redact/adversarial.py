"""An adversarial corpus, built apart from ``ben.redact.corpus``: fake secrets in the forms and places
a held-out corpus would use, and benign text that must come out unchanged.

Everything is generated from a seed (``random.Random``); no value is real. ``cases(seed)`` gives
``Case`` s (one event each: a body and attributes, and the secret parts that must not survive);
``benign(seed)`` gives ``Case`` s without secrets (every string must come out as it went in).
``measure(engine, seed)`` sends them through ``Engine.apply`` (the sidecar's redaction path) and
returns recall per family, the misses and the benign changes.

A secret counts as leaked when the output still holds it, or any piece of it of at least
``max(10, len // 2)`` characters (a PEM whose first line alone was masked still leaks).
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from ben.redact.detectors import luhn_ok

AN = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
LOW = string.ascii_lowercase
UP = string.ascii_uppercase
DIG = string.digits
B64 = AN + "+/"
URLSAFE = AN + "-_"


@dataclass
class Case:
    """One event: a body and attributes; ``secrets`` must not survive (none for a benign case)."""

    family: str
    name: str
    body: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


class Gen:
    """Random pieces from one seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def s(self, n: int, alphabet: str = AN) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, n: int, alphabet: str = AN) -> str:
        """n characters with at least one capital, one small letter and one digit (as real keys have)."""
        classes = [k for k in (str.isupper, str.islower, str.isdigit) if any(map(k, alphabet))]
        while True:
            v = self.s(n, alphabet)
            if all(any(map(k, v)) for k in classes):
                return v

    def password(self) -> str:
        """A password as people and generators make them."""
        kind = self.rng.randrange(5)
        if kind == 0:
            return self.mixed(16)
        if kind == 1:
            return self.mixed(12) + self.rng.choice("!#%*-_.") + self.s(3, DIG)
        if kind == 2:
            return self.rng.choice(("Summer", "Winter", "Dragon", "Monkey", "Sunshine")) + self.s(4, DIG) + "!"
        if kind == 3:
            return "-".join(self.s(5, LOW) for _ in range(4))   # a passphrase of four groups
        return self.mixed(24, AN + "!@#^*()_+-=")

    def luhn(self, prefix: str, length: int) -> str:
        body = prefix + self.s(length - len(prefix) - 1, DIG)
        return next(body + c for c in DIG if luhn_ok(body + c))

    def pick(self, seq):
        return self.rng.choice(seq)


def b64url(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def iban(country: str, bban: str) -> str:
    n = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - n % 97:02d}{bban}"


def pem(g: Gen, label: str, lines: int = 6) -> tuple[str, str]:
    """(a PEM block, its first body line: the part that must not survive)."""
    body = ["MII" + g.s(61, B64)] + [g.s(64, B64) for _ in range(lines - 1)]
    return f"-----BEGIN {label}-----\n" + "\n".join(body) + f"\n-----END {label}-----", body[0]


# -- provider tokens: (name, value) in their documented shapes --------------------------------------
def tokens(g: Gen) -> list[tuple[str, str]]:
    jwt = (f"{b64url({'alg': g.pick(('HS256', 'RS256', 'ES256')), 'typ': 'JWT'})}."
           f"{b64url({'sub': g.s(10), 'iat': 1700000000, 'exp': 1900000000, 'scope': 'read write'})}.{g.s(43, URLSAFE)}")
    return [
        ("aws-access-key-id", "AKIA" + g.s(16, UP + "234567")),
        ("aws-temp-key-id", "ASIA" + g.s(16, UP + "234567")),
        ("gcp-api-key", "AIza" + g.s(35, URLSAFE)),
        ("gcp-oauth-token", "ya29.a0" + g.s(120, URLSAFE)),
        ("github-pat", "ghp_" + g.mixed(36)),
        ("github-oauth", "gho_" + g.mixed(36)),
        ("github-user-to-server", "ghu_" + g.mixed(36)),
        ("github-server-to-server", "ghs_" + g.mixed(36)),
        ("github-refresh", "ghr_" + g.mixed(76)),
        ("github-fine-grained", "github_pat_11" + g.s(20, UP + DIG) + "_" + g.mixed(59)),
        ("gitlab-pat", "glpat-" + g.s(20, URLSAFE)),
        ("slack-bot", f"xoxb-{g.s(11, DIG)}-{g.s(13, DIG)}-{g.mixed(24)}"),
        ("slack-user", f"xoxp-{g.s(11, DIG)}-{g.s(11, DIG)}-{g.s(13, DIG)}-{g.s(32, HEX)}"),
        ("slack-legacy", f"xoxa-2-{g.s(12, DIG)}-{g.s(12, DIG)}-{g.s(32, HEX)}"),
        ("slack-config", f"xoxe.xoxp-1-{g.mixed(140)}"),
        ("stripe-live", "sk_live_" + g.mixed(99)),
        ("stripe-restricted", "rk_live_" + g.mixed(24)),
        ("stripe-test", "sk_test_" + g.mixed(24)),
        ("twilio-api-key", "SK" + g.s(32, HEX)),
        ("sendgrid", f"SG.{g.s(22, URLSAFE)}.{g.s(43, URLSAFE)}"),
        ("mailgun-legacy", "key-" + g.s(32, HEX)),
        ("openai-legacy", "sk-" + g.mixed(20) + "T3BlbkFJ" + g.mixed(20)),
        ("openai-project", "sk-proj-" + g.s(56, URLSAFE) + "T3BlbkFJ" + g.s(56, URLSAFE)),
        ("openai-svcacct", "sk-svcacct-" + g.s(80, URLSAFE)),
        ("anthropic", "sk-ant-api03-" + g.s(93, URLSAFE) + "AA"),
        ("anthropic-admin", "sk-ant-admin01-" + g.s(93, URLSAFE) + "AA"),
        ("huggingface", "hf_" + g.mixed(34, string.ascii_letters)),
        ("npm", "npm_" + g.mixed(36)),
        ("pypi", "pypi-AgEIcHlwaS5vcmcCJ" + g.s(150, URLSAFE)),
        ("docker-pat", "dckr_pat_" + g.s(27, URLSAFE)),
        ("heroku-new", "HRKU-AA" + g.s(58, URLSAFE)),
        ("digitalocean", "dop_v1_" + g.s(64, HEX)),
        ("digitalocean-oauth", "doo_v1_" + g.s(64, HEX)),
        ("shopify-access", "shpat_" + g.s(32, HEX)),
        ("shopify-shared-secret", "shpss_" + g.s(32, HEX)),
        ("square-access", "EAAA" + g.s(60, URLSAFE)),
        ("square-oauth-secret", "sq0csp-" + g.s(43, URLSAFE)),
        ("braintree", f"access_token$production${g.s(16, LOW + DIG)}${g.s(32, HEX)}"),
        ("newrelic-user-key", "NRAK-" + g.s(27, UP + DIG)),
        ("newrelic-license", g.s(36, HEX) + "NRAL"),
        ("telegram-bot", f"{g.s(10, '123456789')}:AA{g.s(33, URLSAFE)}"),
        ("discord-bot", f"{g.pick('MNO')}{g.s(23, AN)}.{g.s(6, URLSAFE)}.{g.s(38, URLSAFE)}"),
        ("jwt", jwt),
        ("vault", "hvs.CAESI" + g.s(90, URLSAFE)),
        ("grafana-sa", "glsa_" + g.mixed(32) + "_" + g.s(8, HEX)),
        ("sentry-user-token", "sntryu_" + g.s(64, HEX)),
        ("azure-ad-client-secret", g.s(3, AN) + "8Q~" + g.s(34, URLSAFE)),
        ("okta", "00" + g.mixed(40, URLSAFE)),
        ("mailchimp", g.s(32, HEX) + "-us" + str(g.rng.randint(1, 21))),
        ("slack-webhook", f"https://hooks.slack.com/services/T{g.s(8, UP + DIG)}/B{g.s(8, UP + DIG)}/{g.mixed(24)}"),
        ("discord-webhook", f"https://discord.com/api/webhooks/{g.s(18, DIG)}/{g.s(68, URLSAFE)}"),
        ("teams-webhook", f"https://shop.webhook.office.com/webhookb2/{uuid.UUID(int=g.rng.getrandbits(128))}@"
                          f"{uuid.UUID(int=g.rng.getrandbits(128))}/IncomingWebhook/{g.s(32, HEX)}/{uuid.UUID(int=g.rng.getrandbits(128))}"),
    ]


# -- where a token goes ---------------------------------------------------------------------------
def token_placements(g: Gen, name: str, v: str) -> list[Case]:
    """One token in the places a log pipeline carries it."""
    env = name.upper().replace("-", "_")
    nested = json.dumps({"event": "config", "payload": json.dumps({"settings": {"upstream": v}})})
    out = [
        Case("token:attr", name, "outbound call", {"detail": v, "http.route": "/v1/pay"}, (v,)),
        Case("token:log", name, f"calling upstream with {v} (attempt 2)", {}, (v,)),
        Case("token:exception", name, f"Traceback (most recent call last):\n  File \"app.py\", line 42, in call\n"
                                      f"    client = Client(\"{v}\")\nValueError: invalid credential '{v}'", {}, (v,)),
        Case("token:json", name, json.dumps({"level": "error", "msg": "upstream refused", "ctx": {"value": v}}), {}, (v,)),
        Case("token:nested-json", name, nested, {}, (v,)),
        Case("token:env", name, f"export {env}={v}", {}, (v,)),
        Case("token:query", name, f"GET /callback?state=xyz&code={quote(v, safe='')}&x=1 HTTP/1.1", {},
             (v, quote(v, safe=""))),
        Case("token:url-encoded", name, f"redirect=https%3A%2F%2Fapi.example.com%2Fv1%3Fk%3D{quote(v, safe='')}", {},
             (v, quote(v, safe=""))),
        Case("token:yaml", name, f"upstream:\n  url: https://api.example.com\n  value: {v}\n", {}, (v,)),
        Case("token:cli", name, f"$ deploy --region eu-west-1 --credential {v} --force", {}, (v,)),
    ]
    return out


# -- passwords and secrets under a key, in every syntax ---------------------------------------------
SECRET_KEYS = (
    "password", "Password", "PASSWORD", "passwd", "pwd", "pass", "db_password", "dbPassword", "DB_PASS",
    "secret", "client_secret", "clientSecret", "secret_key", "SECRET_KEY", "secretKey",
    "api_key", "apiKey", "api-key", "x-api-key", "X-API-KEY", "apikey",
    "access_token", "accessToken", "refresh_token", "id_token", "auth_token", "session_token",
    "private_key", "privateKey", "auth", "credentials", "passphrase", "master_key", "encryption_key",
    "app_secret", "jwt_secret", "webhook_secret", "token",
    # non-English keys
    "contraseña", "contrasena", "clave", "passwort", "kennwort", "mot_de_passe", "motdepasse", "senha",
    "wachtwoord", "haslo", "hasło", "lösenord", "salasana", "parola", "пароль", "密码", "パスワード", "비밀번호",
    "şifre", "sifre", "heslo", "jelszo", "adgangskode", "passord",
)


def keyed_placements(g: Gen, key: str, v: str) -> list[Case]:
    """A secret value under a secret-naming key, in the syntaxes of config files, logs and code."""
    forms = [
        ("attr", "", {key: v}),
        ("dotenv", f"{key.upper()}={v}", {}),
        ("dotenv-quoted", f'{key}="{v}"', {}),
        ("ini", f"[database]\nhost = db.internal\n{key} = {v}\nport = 5432", {}),
        ("yaml", f"database:\n  host: db.internal\n  {key}: {v}\n  port: 5432", {}),
        ("yaml-quoted", f"{key}: '{v}'", {}),
        ("toml", f'[service]\nname = "orders"\n{key} = "{v}"', {}),
        ("json", json.dumps({"user": "svc", key: v}), {}),
        ("json-nested-string", json.dumps({"body": json.dumps({"user": "svc", key: v})}), {}),
        ("xml-element", f"<config><user>svc</user><{key}>{v}</{key}></config>", {}),
        ("xml-attr", f'<add name="{key}" value="{v}" />', {}),
        ("query", f"POST /login?user=svc&{quote(key)}={quote(v, safe='')}&next=%2F", {}),
        ("log-kv", f"2026-12-06T10:00:00Z INFO login user=svc {key}={v} ip=10.0.0.7", {}),
        ("python-repr", f"connect(host='db.internal', user='svc', {key}='{v}')", {}),
        ("dict-repr", f"config={{'host': 'db', '{key}': '{v}', 'port': 5432}}", {}),
        ("cli-flag", f"/usr/bin/tool --user svc --{key}={v} --verbose", {}),
        ("cli-flag-space", f"tool --user svc --{key} {v} --verbose", {}),
        ("call", f"define('{key}', '{v}');", {}),
    ]
    out = []
    for form, body, attrs in forms:
        secrets = (v, quote(v, safe=""), quote_plus(v)) if form == "query" else (v,)
        out.append(Case(f"key:{form}", key, body, attrs, secrets))
    return out


def connection_strings(g: Gen) -> list[Case]:
    out = []
    for _ in range(2):
        pw = g.password()
        enc = quote(pw, safe="")
        host = g.pick(("db.internal", "10.1.2.3", "orders-db.cluster-abc.eu-west-1.rds.amazonaws.com"))
        forms = [
            ("postgres", f"postgres://app:{enc}@{host}:5432/orders?sslmode=require"),
            ("postgresql", f"postgresql://app_rw:{enc}@{host}/orders"),
            ("mysql", f"mysql://root:{enc}@{host}:3306/shop"),
            ("mysql+pymysql", f"mysql+pymysql://svc:{enc}@{host}/shop?charset=utf8mb4"),
            ("mongodb+srv", f"mongodb+srv://admin:{enc}@cluster0.ab1cd.mongodb.net/test?retryWrites=true"),
            ("mongodb", f"mongodb://u1:{enc}@h1:27017,h2:27017/db?replicaSet=rs0"),
            ("redis", f"redis://:{enc}@{host}:6379/0"),
            ("rediss", f"rediss://default:{enc}@cache.upstash.io:6380"),
            ("amqp", f"amqp://guest:{enc}@rabbit:5672/%2F"),
            ("ldap", f"ldap://cn=admin,dc=example,dc=org:{enc}@ldap.example.org"),
            ("ftp", f"ftp://deploy:{enc}@ftp.example.org/pub"),
            ("smtp", f"smtp://mailer:{enc}@smtp.example.org:587"),
            ("jdbc-pg", f"jdbc:postgresql://{host}:5432/orders?user=app&password={enc}&ssl=true"),
            ("jdbc-mysql", f"jdbc:mysql://{host}:3306/shop?user=root&password={enc}"),
            ("jdbc-sqlserver", f"jdbc:sqlserver://{host}:1433;databaseName=shop;user=sa;password={pw};encrypt=true"),
            ("jdbc-oracle", f"jdbc:oracle:thin:scott/{pw}@{host}:1521:ORCL"),
            ("ado", f"Server={host};Database=shop;User Id=sa;Password={pw};TrustServerCertificate=True"),
            ("odbc", f"Driver={{ODBC Driver 18}};Server={host};Uid=sa;Pwd={pw};"),
            ("libpq-kv", f"host={host} port=5432 dbname=orders user=app password={pw} sslmode=require"),
        ]
        for name, text in forms:
            secrets = tuple({pw, enc}) if enc != pw else (pw,)
            out.append(Case("conn", name, f"connecting to {text} failed: timeout", {}, secrets))
            out.append(Case("conn:attr", name, "db connect", {"db.connection": text}, secrets))
    return out


def headers(g: Gen) -> list[Case]:
    out = []
    for _ in range(3):
        user, pw = g.s(6, LOW), g.password()
        basic = base64.b64encode(f"{user}:{pw}".encode()).decode()
        bearer = g.mixed(40, URLSAFE + ".")
        digest = g.s(32, HEX)
        sid = g.mixed(32)
        forms = [
            ("basic", f"Authorization: Basic {basic}", (basic,)),
            ("basic-lower", f"authorization: basic {basic}", (basic,)),
            ("bearer", f"Authorization: Bearer {bearer}", (bearer,)),
            ("proxy-auth", f"Proxy-Authorization: Basic {basic}", (basic,)),
            ("digest", f'Authorization: Digest username="{user}", realm="api", nonce="{g.s(16, HEX)}", '
                       f'uri="/v1/x", response="{digest}", qop=auth, nc=00000001, cnonce="{g.s(8, HEX)}"', (digest,)),
            ("header-dict", json.dumps({"Host": "api", "Authorization": f"Bearer {bearer}", "Accept": "*/*"}), (bearer,)),
            ("curl-header", f"curl -H 'Authorization: Bearer {bearer}' https://api.example.com/v1", (bearer,)),
            ("curl-user", f"curl -u {user}:{pw} https://api.example.com/v1", (pw,)),
            ("x-api-key", f"X-Api-Key: {bearer}", (bearer,)),
            ("cookie", f"Cookie: theme=dark; sessionid={sid}; csrftoken={g.mixed(32)}", (sid,)),
            ("cookie-jsession", f"Cookie: JSESSIONID={g.s(32, HEX.upper())}", ()),
            ("set-cookie", f"Set-Cookie: session={sid}; Path=/; HttpOnly; Secure; SameSite=Lax", (sid,)),
            ("set-cookie-php", f"Set-Cookie: PHPSESSID={g.s(26, LOW + DIG)}; path=/", ()),
            ("set-cookie-connect", f"set-cookie: connect.sid=s%3A{g.mixed(32)}.{g.mixed(43)}; Path=/; HttpOnly", ()),
        ]
        for name, text, secrets in forms:
            if name == "cookie-jsession":
                secrets = (text.split("=", 1)[1],)
            elif name == "set-cookie-php":
                secrets = (text.split("=", 1)[1].split(";")[0],)
            elif name == "set-cookie-connect":
                secrets = (text.split("=", 1)[1].split(";")[0][6:],)
            out.append(Case("header", name, f"request headers: {text}", {}, secrets))
        out.append(Case("header:attr", "authorization", "call", {"http.request.header.authorization": f"Basic {basic}"},
                        (basic,)))
        out.append(Case("header:attr", "cookie", "call", {"http.request.header.cookie": f"sessionid={sid}"}, (sid,)))
    return out


def private_keys(g: Gen) -> list[Case]:
    out = []
    for label in ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY",
                  "DSA PRIVATE KEY"):
        block, first = pem(g, label)
        out.append(Case("pem:log", label, f"loaded key:\n{block}\n", {}, (first,)))
        out.append(Case("pem:json-escaped", label, json.dumps({"private_key": block, "type": "service_account"}),
                        {}, (first,)))
        out.append(Case("pem:double-escaped", label, json.dumps({"msg": json.dumps({"key": block})}), {}, (first,)))
        out.append(Case("pem:attr", label, "", {"tls.key": block}, (first,)))
        out.append(Case("pem:one-line", label, block.replace("\n", " "), {}, (first,)))
    pgp_first = g.s(64, B64)
    pgp = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF" + g.s(58, B64) + "\n" + pgp_first +
           "\n=" + g.s(4, B64) + "\n-----END PGP PRIVATE KEY BLOCK-----")
    out.append(Case("pem:log", "PGP", f"gpg import: {pgp}", {}, (pgp_first,)))
    # a GCP service-account file, as a whole and as it appears in a log
    block, first = pem(g, "PRIVATE KEY", 8)
    key_id = g.s(40, HEX)
    sa = {"type": "service_account", "project_id": "shop-prod-123", "private_key_id": key_id, "private_key": block + "\n",
          "client_email": "deployer@shop-prod-123.iam.gserviceaccount.com", "client_id": g.s(21, DIG),
          "token_uri": "https://oauth2.googleapis.com/token"}
    out.append(Case("gcp-sa", "file", json.dumps(sa, indent=2), {}, (first, key_id)))
    out.append(Case("gcp-sa", "log", "GOOGLE_CREDENTIALS=" + json.dumps(sa), {}, (first, key_id)))
    return out


def cloud(g: Gen) -> list[Case]:
    out = []
    for _ in range(2):
        aws_id, aws_secret = "AKIA" + g.s(16, UP + "234567"), g.mixed(40, B64)
        out += [
            Case("aws", "credentials-file", f"[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n",
                 {}, (aws_id, aws_secret)),
            Case("aws", "env", f"AWS_ACCESS_KEY_ID={aws_id} AWS_SECRET_ACCESS_KEY={aws_secret} aws s3 ls", {},
                 (aws_id, aws_secret)),
            Case("aws", "json", json.dumps({"AccessKeyId": aws_id, "SecretAccessKey": aws_secret,
                                            "SessionToken": "IQoJb3JpZ2luX2Vj" + g.s(200, B64)}), {}, (aws_id, aws_secret)),
            Case("aws", "split-attrs", "assumed role", {"aws.key_id": aws_id, "aws.secret": aws_secret}, (aws_id, aws_secret)),
            Case("aws", "bare-secret", f"using {aws_secret} for signing", {}, (aws_secret,)),
        ]
        acct_key = g.mixed(86, B64) + "=="
        sb_key = g.mixed(43, B64) + "="
        sig = g.mixed(43, B64) + "="
        sas = (f"sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2026-12-31T00:00:00Z&st=2026-01-01T00:00:00Z"
               f"&spr=https&sig={quote(sig, safe='')}")
        out += [
            Case("azure", "storage-conn", f"DefaultEndpointsProtocol=https;AccountName=shop{g.s(4, DIG)};AccountKey={acct_key};"
                                          "EndpointSuffix=core.windows.net", {}, (acct_key[:-2],)),
            Case("azure", "servicebus-conn", f"Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName="
                                             f"RootManageSharedAccessKey;SharedAccessKey={sb_key}", {}, (sb_key[:-1],)),
            Case("azure", "sas-url", f"GET https://shop.blob.core.windows.net/files/a.pdf?{sas} 403", {},
                 (quote(sig, safe=""), sig)),
            Case("azure", "sas-token-attr", "upload", {"blob.sas": "?" + sas}, (quote(sig, safe=""), sig)),
            Case("azure", "bare-storage-key", f"storage key {acct_key} rotated", {}, (acct_key[:-2],)),
            Case("azure", "cosmos", f"AccountEndpoint=https://shop.documents.azure.com:443/;AccountKey={acct_key};", {},
                 (acct_key[:-2],)),
        ]
        gkey = "AIza" + g.s(35, URLSAFE)
        out.append(Case("gcp", "maps-url", f"GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key={gkey}",
                        {}, (gkey,)))
    return out


def keyword_only(g: Gen) -> list[Case]:
    """Formats without a prefix of their own: only the key they sit under tells them from an id."""
    out = []
    pairs = [("DD_API_KEY", g.s(32, HEX)), ("DD_APP_KEY", g.s(40, HEX)), ("DATADOG_API_KEY", g.s(32, HEX)),
             ("HEROKU_API_KEY", str(uuid.UUID(int=g.rng.getrandbits(128), version=4))),
             ("TWILIO_AUTH_TOKEN", g.s(32, HEX)), ("MAILGUN_API_KEY", f"{g.s(32, HEX)}-{g.s(8, HEX)}-{g.s(8, HEX)}"),
             ("NEW_RELIC_LICENSE_KEY", g.s(40, HEX)), ("SENTRY_AUTH_TOKEN", g.s(64, HEX)),
             ("CLOUDFLARE_API_TOKEN", g.s(40, URLSAFE)), ("DIGITALOCEAN_ACCESS_TOKEN", g.s(64, HEX)),
             ("AZURE_CLIENT_SECRET", g.mixed(40, URLSAFE + "~.")), ("SECRET_KEY_BASE", g.s(128, HEX)),
             ("DJANGO_SECRET_KEY", g.mixed(50, AN + "!@#%^&*(-_=+)")), ("FLASK_SECRET_KEY", g.s(64, HEX)),
             ("JWT_SECRET", g.mixed(32)), ("ENCRYPTION_KEY", g.mixed(44, B64)),
             ("PAYPAL_CLIENT_SECRET", g.mixed(80, URLSAFE)), ("SQUARE_ACCESS_TOKEN", g.mixed(64, URLSAFE)),
             ("SHOPIFY_API_SECRET", g.s(32, HEX)), ("DOCKER_PASSWORD", g.password()),
             ("PGPASSWORD", g.password()), ("MYSQL_ROOT_PASSWORD", g.password()), ("REDIS_PASSWORD", g.password()),
             ("RABBITMQ_DEFAULT_PASS", g.password())]
    for key, v in pairs:
        out.append(Case("keyword:env", key, f"{key}={v}", {}, (v,)))
        out.append(Case("keyword:export", key, f"export {key}=\"{v}\"", {}, (v,)))
        out.append(Case("keyword:attr", key, "", {key: v}, (v,)))
        out.append(Case("keyword:header", key, f"{key.lower().replace('_', '-')}: {v}", {}, (v,)))
        out.append(Case("keyword:json", key, json.dumps({key.lower(): v}), {}, (v,)))
    dd = g.s(32, HEX)
    out.append(Case("keyword:header", "DD-API-KEY", f"POST /api/v2/series DD-API-KEY: {dd}", {}, (dd,)))
    sentry_key, sentry_secret = g.s(32, HEX), g.s(32, HEX)
    out.append(Case("dsn", "sentry-modern", f"SENTRY_DSN=https://{sentry_key}@o{g.s(6, DIG)}.ingest.sentry.io/{g.s(7, DIG)}",
                    {}, (sentry_key,)))
    out.append(Case("dsn", "sentry-legacy", f"dsn: https://{sentry_key}:{sentry_secret}@sentry.example.org/3", {},
                    (sentry_secret,)))
    return out


def cli(g: Gen) -> list[Case]:
    out = []
    for _ in range(2):
        pw = g.password()
        forms = [
            ("mysql-p", f"mysql -u root -p{pw} -h db shop"),
            ("mysql-password", f"mysql --user=root --password={pw} shop"),
            ("pgpassword", f"PGPASSWORD={pw} psql -h db -U app orders"),
            ("sshpass", f"sshpass -p '{pw}' ssh deploy@host"),
            ("redis-cli", f"redis-cli -h cache -a {pw} ping"),
            ("docker-login", f"docker login -u ci -p {pw} registry.example.com"),
            ("htpasswd", f"htpasswd -b /etc/nginx/.htpasswd admin {pw}"),
            ("mongo", f"mongosh --username admin --password {pw} --authenticationDatabase admin"),
            ("argv-list", json.dumps(["/usr/bin/app", "--db-password", pw, "--port", "8080"])),
            ("java-prop", f"java -Dspring.datasource.password={pw} -jar app.jar"),
            ("helm-set", f"helm upgrade shop ./chart --set postgresql.auth.password={pw}"),
        ]
        for name, text in forms:
            out.append(Case("cli", name, f"exec: {text}", {}, (pw,)))
    return out


def logs(g: Gen) -> list[Case]:
    """Secrets in free text: log messages and exception texts."""
    out = []
    for _ in range(2):
        pw, tok = g.password(), g.mixed(32)
        forms = [
            ("login-attempt", f"login failed for user admin with password '{pw}'", (pw,)),
            ("password-is", f"temporary password is {pw} (expires in 24h)", (pw,)),
            ("spring", f"o.s.b.c.p.PropertySourcesPropertyResolver : spring.datasource.password={pw}", (pw,)),
            ("sqlalchemy", f"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection failed "
                           f"[url: postgresql://app:{pw}@db:5432/x]", (pw,)),
            ("java-exc", f"java.lang.IllegalStateException: Invalid API key: {tok}\n\tat com.shop.Client.call(Client.java:42)",
             (tok,)),
            ("go-panic", f"panic: auth failed: token={tok}\n\ngoroutine 1 [running]:\nmain.main()", (tok,)),
            ("kv-quoted", f'level=error msg="auth" access_token="{tok}" status=401', (tok,)),
            ("request-dump", f"POST /oauth/token grant_type=client_credentials&client_id=shop&client_secret={tok}", (tok,)),
            ("graphql", json.dumps({"query": "mutation { login }", "variables": {"input": {"password": pw}}}), (pw,)),
            ("k8s-secret", f"apiVersion: v1\nkind: Secret\ndata:\n  password: {base64.b64encode(pw.encode()).decode()}\n",
             (base64.b64encode(pw.encode()).decode(),)),
            ("docker-config", json.dumps({"auths": {"registry.example.com": {
                "auth": base64.b64encode(f"ci:{pw}".encode()).decode()}}}), (base64.b64encode(f"ci:{pw}".encode()).decode(),)),
            ("b64-wrapped-token", f"payload={base64.b64encode(('ghp_' + g.mixed(36)).encode()).decode()}", ()),
            ("url-encoded-json", "data=" + quote(json.dumps({"user": "svc", "password": pw}), safe=""),
             (quote(pw, safe=""), pw)),
            ("sql-identified-by", f"CREATE USER 'app'@'%' IDENTIFIED BY '{pw}';", (pw,)),
            ("sql-with-password", f"ALTER ROLE app WITH LOGIN PASSWORD '{pw}'", (pw,)),
            ("netrc", f"machine api.example.com login bob password {pw}", (pw,)),
        ]
        for name, text, secrets in forms:
            if name == "b64-wrapped-token":
                secrets = (text.split("=", 1)[1],)
            out.append(Case("log", name, text, {}, secrets))
    return out


def pii(g: Gen) -> list[Case]:
    out = []
    cards = {"visa": g.luhn("4", 16), "visa13": g.luhn("4", 13), "mastercard": g.luhn("5" + g.pick("12345"), 16),
             "mastercard-2": g.luhn("2221", 16), "amex": g.luhn("37", 15), "discover": g.luhn("6011", 16),
             "jcb": g.luhn("3530", 16), "diners": g.luhn("36", 14), "unionpay": g.luhn("62", 16),
             "maestro": g.luhn("6759", 16), "visa19": g.luhn("4", 19)}
    for name, n in cards.items():
        grouped = " ".join(n[i:i + 4] for i in range(0, len(n), 4)) if name not in ("amex", "diners") else \
            f"{n[:4]} {n[4:10]} {n[10:]}"
        out += [Case("card", name, f"charge declined for card {n}", {}, (n,)),
                Case("card", name + "-grouped", f"card: {grouped} exp 12/29", {}, (grouped,)),
                Case("card", name + "-dashed", json.dumps({"pan": grouped.replace(" ", "-")}), {}, (grouped.replace(" ", "-"),)),
                Case("card", name + "-attr", "", {"payment.card": n}, (n,))]
    for local in (f"{g.s(5, LOW)}.{g.s(6, LOW)}", f"{g.s(4, LOW)}+{g.s(5, LOW)}", f"{g.s(3, UP)}{g.s(4, LOW)}",
                  f"{g.s(4, LOW)}_{g.s(3, DIG)}"):
        mail = f"{local}@{g.pick(('example.com', 'mail.example.co.uk', 'corp.example.org'))}"
        out += [Case("email", "plain", f"password reset email sent to {mail}", {}, (mail,)),
                Case("email", "angle", f'From: "Ann Lee" <{mail}>', {}, (mail,)),
                Case("email", "mailto", f"href=\"mailto:{mail}?subject=hi\"", {}, (mail,)),
                Case("email", "url-encoded", f"GET /unsubscribe?email={quote(mail, safe='')}", {}, (quote(mail, safe=""),)),
                Case("email", "attr", "", {"user.email": mail}, (mail,))]
    for country, bban in (("DE", g.s(18, DIG)), ("FR", g.s(10, DIG) + g.s(11, UP + DIG) + g.s(2, DIG)),
                          ("GB", "NWBK" + g.s(14, DIG)), ("NL", "ABNA" + g.s(10, DIG)), ("ES", g.s(20, DIG)),
                          ("IT", "X" + g.s(10, DIG) + g.s(12, UP + DIG))):
        i = iban(country, bban)
        spaced = " ".join(i[k:k + 4] for k in range(0, len(i), 4))
        out += [Case("iban", country, f"refund to IBAN {i} issued", {}, (i,)),
                Case("iban", country + "-spaced", f"IBAN: {spaced}", {}, (spaced,))]
    ssn = f"{g.rng.randint(100, 665):03d}-{g.rng.randint(10, 99):02d}-{g.rng.randint(1000, 9999):04d}"
    out.append(Case("ssn", "dashed", f"applicant ssn {ssn} verified", {}, (ssn,)))
    for ph in (f"+1 415 555 {g.s(4, DIG)}", f"+49 30 {g.s(8, DIG)}", f"(212) 555-{g.s(4, DIG)}", f"+44 7700 {g.s(6, DIG)}"):
        out.append(Case("phone", "intl", f"sms sent to {ph}", {}, (ph,)))
    return out


def cases(seed: int = 30) -> list[Case]:
    """Every secret case of the corpus (deterministic for a seed)."""
    g = Gen(seed)
    out: list[Case] = []
    for name, v in tokens(g):
        out += token_placements(g, name, v)
    for key in SECRET_KEYS:
        out += keyed_placements(g, key, g.password())
    out += connection_strings(g) + headers(g) + private_keys(g) + cloud(g) + keyword_only(g) + cli(g) + logs(g) + pii(g)
    return out


# -- benign ---------------------------------------------------------------------------------------
def benign(seed: int = 31) -> list[Case]:
    """Text that looks like secrets or PII and is none: it must come out unchanged."""
    g = Gen(seed)
    out: list[Case] = []

    def add(name: str, body: str = "", **attrs: str) -> None:
        out.append(Case("benign", name, body, dict(attrs)))

    for _ in range(6):
        u = str(uuid.UUID(int=g.rng.getrandbits(128), version=4))
        sha, trace, span = g.s(40, HEX), g.s(32, HEX), g.s(16, HEX)
        add("uuid", f"order {u} created", id=u)
        add("git-sha", f"deployed commit {sha} ({sha[:7]}) to prod", commit=sha)
        add("trace", f"trace_id={trace} span_id={span} parent_id={g.s(16, HEX)}", trace_id=trace)
        add("traceparent", f"traceparent: 00-{trace}-{span}-01")
        add("sha256", f"pulled image sha256:{g.s(64, HEX)} in 2.1s")
        add("md5", f"md5sum {g.s(32, HEX)}  backup.tar.gz")
        add("etag", f'ETag: W/"{g.s(24, HEX)}"')
        add("b64-image", f"thumbnail data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA{g.s(g.rng.randint(40, 120), B64)}==")
        raw = bytes(g.rng.getrandbits(8) for _ in range(g.rng.choice((24, 30, 33, 45, 48, 60, 64))))
        add("b64-protobuf", f"payload bytes {base64.b64encode(raw).decode()}")
        add("b64-attr", "", **{"grpc.message.bytes": base64.b64encode(raw).decode()})
        add("version", f"ben v{g.rng.randint(0, 3)}.{g.rng.randint(0, 40)}.{g.rng.randint(0, 20)}-rc.1+build.{g.s(7, HEX)}")
        add("go-version", f"require github.com/x/y v0.0.0-2024{g.s(10, DIG)}-{g.s(12, HEX)}")
        add("path", f"/var/lib/kubelet/pods/{u}/volumes/kubernetes.io~secret/default-token-{g.s(5, LOW + DIG)}")
        add("pod", f"pod checkout-{g.s(10, LOW + DIG)}-{g.s(5, LOW + DIG)} restarted",
            **{"k8s.pod.name": f"checkout-{g.s(10, LOW + DIG)}-{g.s(5, LOW + DIG)}"})
        add("timestamp", f"{g.rng.randint(2020, 2030)}-0{g.rng.randint(1, 9)}-1{g.rng.randint(0, 9)}T12:34:56.{g.s(6, DIG)}Z "
                         f"epoch_ms={g.rng.randint(1_600_000_000_000, 1_900_000_000_000)}")
        add("ns-timestamp", str(g.rng.randint(1_600_000_000, 1_900_000_000) * 10**9 + g.rng.randint(0, 10**9 - 1)))
        add("ipv4", f"connection from 10.{g.rng.randint(0, 255)}.{g.rng.randint(0, 255)}.{g.rng.randint(1, 254)}:"
                    f"{g.rng.randint(1024, 65535)} accepted", **{"net.peer.ip": f"192.168.{g.rng.randint(0, 255)}.7"})
        add("ipv6", f"listening on [2001:db8::{g.s(4, HEX)}]:8080")
        add("mac", f"iface eth0 hwaddr {':'.join(g.s(2, HEX) for _ in range(6))}")
        while True:
            n = g.pick("456") + g.s(15, DIG)
            if not luhn_ok(n):
                break
        add("non-luhn-id", f"order number {n} shipped", order_id=n)
        add("long-id", f"snowflake id {g.rng.randint(10**17, 10**18)} ingested")
        add("arn", f"arn:aws:iam::{g.s(12, DIG)}:role/shop-{g.s(6, LOW)}")
        add("k8s-uid", f"resourceVersion={g.s(8, DIG)} uid={u}")
        add("ulid", f"job 01{g.s(24, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')} done")
        add("hex-color", f"theme color #{g.s(6, HEX)}")
        add("duration", f"request took {g.rng.randint(1, 999)}.{g.s(3, DIG)}ms (p99 {g.rng.randint(1, 9)}s)")
        add("s3-key", f"s3://shop-logs/{g.rng.randint(2020, 2026)}/01/{g.s(32, HEX)}.json.gz")
        add("docker-image", f"image registry.example.com/shop/api@sha256:{g.s(64, HEX)}")
        add("request-id", "", **{"x-request-id": g.s(32, HEX), "http.route": "/api/v1/orders/{id}"})
        add("base64-text", base64.b64encode(g.pick((b"the quick brown fox jumps over the lazy dog",
                                                    b"hello world, this is ordinary data",
                                                    b'{"user":"ann","items":3}'))).decode())
    for text in (
        "password reset email sent", "Password changed successfully for user 42", "invalid password",
        "token validation succeeded", "refresh token expired, re-authenticating", "api key rotated by the operator",
        "secret rotation scheduled for 02:00", "credentials loaded from the instance profile",
        "Authorization header missing", "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
        "Access denied for user 'root'@'localhost' (using password: YES)",
        "FATAL: password authentication failed for user \"app\"", "login with password disabled; use SSO",
        "password: ********", "password=<redacted>", "api_key=[REDACTED]", "token=${API_TOKEN}", "password={{ .Values.pw }}",
        "Set-Cookie: theme=dark; Path=/", "cookie consent accepted", "session started for user 42",
        "max_tokens=4096 temperature=0.7", json.dumps({"usage": {"prompt_tokens": 523, "completion_tokens": 112}}),
        json.dumps({"password_required": True, "password_min_length": 12}),
        "http_server_requests_seconds_count{uri=\"/login\"} 42", "api_key_rotations_total 3",
        "secret_manager_requests_total{status=\"ok\"} 17", "tokens_per_second=1250.5",
        "GET /api/v1/orders?page=2&sort=asc 200 12ms", "SELECT id, name FROM users WHERE id = 42",
        "checkout.orders.latency", "db.client.connections.usage", "user_id=u-8f3a2c2b",
        "retry 3 of 5 in 250ms", "disk usage 73% on /data", "GC pause 12.5ms", "queue depth 1024",
        "deploy v2.3.1 to eu-west-1", "feature flag new_checkout=on", "Keep-Alive: timeout=5, max=1000",
        "content-type: application/json; charset=utf-8", "ISBN 978-3-16-148410-0", "tel. extension 4521",
        "build 2026.12.1 (commit 9fceb02)", "port 5432 open", "https://example.com/docs?page=2&sort=asc",
        "sk-learn model v1.2 loaded", "pk_id=123456", "secret_name=db-creds", "token_type=bearer",
        "auth=ok latency=12ms", "password_reset_count=3", "Bearer token required", "Basic auth disabled",
        "/etc/ssl/private/server.key not found", "mysql -u root -p (prompted for password)",
        "--password-file=/run/secrets/db_password", "PGPASSFILE=/home/app/.pgpass",
        "kubectl get secret db-creds -o yaml", "SecretKeyRef: name=db-creds key=password",
        "the key is in the vault", "public key fingerprint SHA256:" + g.s(43, B64),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.s(43, B64) + " deploy@ci",
        "-----BEGIN CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----",
        "version=1.2.3 commit=" + g.s(40, HEX) + " go=go1.22.1",
        "tests pass: 12 of 12", "identified by the operator", json.dumps({"required": ["password", "username"]}),
        "docker login --password-stdin registry.example.com", "Cookie: lang=en-US; theme=dark",
        "using default password policy", "tool --token-file /var/run/secrets/token --verbose",
        "Digest authentication failed for realm api", "cache bypass=enabled for /static",
        # look-alikes of the forms of ADR 0030 revision 3: block scalars, hashes, dotted numbers, base64 of words
        "description: |\n  plain text, no secret here\nnext: 1", "password: >\nnot indented, no value", "ref 4111.1111.1111.1112 (not Luhn)",
        "v 4111111111111.111", "build 2026.1204.1111.1111", "costs $1$ and {SHA} in ${HOME}", "echo $2$3 {CRYPT}",
        "GET /search?q=a&b=c&page=2 200", "payload " + base64.b64encode(b"x tokens per second were high").decode(),
        "https://app.example.com/?to=docs&lang=en",
    ):
        add("sentence", text)
    return out


# -- measuring ------------------------------------------------------------------------------------
@dataclass
class Result:
    """What a manifest made of the corpus."""

    sent: dict[str, int]
    caught: dict[str, int]
    missed: list[str]
    benign_sent: int
    benign_changed: list[str]

    @property
    def secrets_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / self.secrets_sent

    @property
    def fp_rate(self) -> float:
        return len(self.benign_changed) / self.benign_sent

    def by_family(self) -> dict[str, float]:
        return {f: self.caught[f] / n for f, n in sorted(self.sent.items())}


def leaked(secret: str, out: str) -> bool:
    """The secret, or a piece of it of max(10, half its length) characters, is still in out."""
    if secret in out:
        return True
    n = max(10, len(secret) // 2)
    return len(secret) > n and any(secret[i:i + n] in out for i in range(0, len(secret) - n + 1))


def _outputs(engine, items: list[Case]) -> list[tuple[str, dict[str, str]]]:
    """Each case's (body, attributes) after the engine, one event per case, 500 events a batch."""
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    out = []
    for at in range(0, len(items), 500):
        chunk = items[at:at + 500]
        b = BatchBuilder(1)
        for i, c in enumerate(chunk):
            b.add(pb.KIND_LOG, "app.log", 0.0, c.body, c.attrs, 1_764_000_000_000_000_000 + i)
        batch = engine.apply(b.build(pb.Source(host="adv-host", subsystem="adv", instance="1"), "adv"))
        s, pos = batch.strings, 0
        for j in range(len(chunk)):
            n = batch.attr_counts[j]
            attrs = {s[batch.attr_keys[k]]: s[batch.attr_values[k]] for k in range(pos, pos + n)}
            pos += n
            attrs.pop("ben.redacted", None)
            out.append((s[batch.bodies[j]], attrs))
    return out


def measure(engine, seed: int = 30) -> Result:
    """Recall on ``cases(seed)`` and changes on ``benign(seed + 1)`` through ``engine.apply``."""
    found = cases(seed)
    sent: dict[str, int] = {}
    caught: dict[str, int] = {}
    missed = []
    for c, (body, attrs) in zip(found, _outputs(engine, found)):
        text = body + "\n" + "\n".join(f"{k}={v}" for k, v in attrs.items())
        family = c.family
        for secret in c.secrets:
            sent[family] = sent.get(family, 0) + 1
            if leaked(secret, text):
                missed.append(f"{family}/{c.name}: {c.body[:100]!r} {c.attrs} -> {secret!r}")
            else:
                caught[family] = caught.get(family, 0) + 1
    for f in sent:
        caught.setdefault(f, 0)
    values = benign(seed + 1)
    changed = [f"{c.name}: {c.body!r} {c.attrs} -> {body!r} {attrs}"
               for c, (body, attrs) in zip(values, _outputs(engine, values)) if (body, attrs) != (c.body, c.attrs)]
    return Result(sent, caught, missed, len(values), changed)
