"""The tenth held-out-style corpus' secrets and the small documents that hold them (``tests/redact/heldout_style10.py``).

Secrets of six families, each random and never issued: ``token`` (credentials that name themselves by a published
prefix: GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic, Hugging Face, npm, PyPI, SendGrid, Google, DigitalOcean,
Vault, Shopify, Docker Hub, Grafana, JWTs), ``opaque`` (random keys only their name tells: hex, base62, base64),
``password`` (a person's, a generator's, a passphrase), ``uri`` (connection URIs of engines the earlier corpora did not
draw, with the password in the userinfo or a token in the query), ``key`` (PKCS#8/RSA/EC PEM, OpenSSH, PuTTY PPK v3,
PGP armored private blocks, JWKs with ``d``/``p``/``q``) and ``cookie`` (session cookies of common frameworks).

A *document* writes one secret into a small file or message (``.env``, YAML, INI, properties, JSON, TOML, XML, HCL,
an HTTP request, a curl command, CloudFormation and ARM parameters, a Docker ``config.json``, a Kubernetes Secret's
``stringData``, a colored structlog console line): ``(text, parts)`` where ``parts`` are the secret's bytes as that
document writes them (what must not survive).
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus

from tests.redact.heldout7_values import ALNUM, B64, HEX, LOWNUM, UPNUM, URLSAFE, Draw, b64, b64u, jwt
from tests.redact.heldout8_values import Cred
from tests.redact.heldout_style8 import c_str, camel, env, kebab, pascal, snake

TS = "2026-12-07T09:12:44.902Z"


def _tok(kind, keys, prefix, body, suffix=""):
    return lambda d: (lambda b: Cred("token", kind, prefix + b + suffix, keys, (b,)))(body(d))


def _s(alphabet, n):
    return lambda d: d.s(alphabet, n)


TOKENS = [
    _tok("github_classic", ("github_token", "gh_token"), "ghp_", _s(ALNUM, 36)),
    _tok("github_fine", ("github_pat",), "github_pat_", lambda d: d.s(ALNUM, 22) + "_" + d.s(ALNUM, 59)),
    _tok("gitlab_pat", ("gitlab_token", "ci_job_token_override"), "glpat-", _s(URLSAFE, 20)),
    _tok("slack_bot", ("slack_bot_token",), "xoxb-", lambda d: f"{d.randrange(10**11, 10**12)}-{d.randrange(10**12, 10**13)}-{d.s(ALNUM, 24)}"),
    _tok("stripe_live", ("stripe_secret_key", "stripe_key"), "sk_live_", _s(ALNUM, 99)),
    _tok("stripe_restricted", ("stripe_api_key",), "rk_live_", _s(ALNUM, 99)),
    _tok("openai_project", ("openai_api_key",), "sk-proj-", lambda d: d.s(URLSAFE, 74) + "T3BlbkFJ" + d.s(URLSAFE, 74)),
    _tok("anthropic", ("anthropic_api_key",), "sk-ant-api03-", lambda d: d.s(URLSAFE, 93), "AA"),
    _tok("huggingface", ("hf_token",), "hf_", _s(ALNUM, 34)),
    _tok("npm", ("npm_token",), "npm_", _s(ALNUM, 36)),
    _tok("pypi", ("pypi_token",), "pypi-AgEIcHlwaS5vcmc", _s(URLSAFE, 70)),
    _tok("sendgrid", ("sendgrid_api_key",), "SG.", lambda d: d.s(URLSAFE, 22) + "." + d.s(URLSAFE, 43)),
    _tok("google_api", ("google_api_key", "maps_key"), "AIza", _s(URLSAFE, 35)),
    _tok("digitalocean", ("do_token",), "dop_v1_", _s(HEX, 64)),
    _tok("vault", ("vault_token",), "hvs.", _s(URLSAFE, 90)),
    _tok("shopify", ("shopify_access_token",), "shpat_", _s(HEX, 32)),
    _tok("dockerhub", ("docker_hub_token",), "dckr_pat_", _s(URLSAFE, 27)),
    _tok("grafana_sa", ("grafana_token",), "glsa_", lambda d: d.s(ALNUM, 32) + "_" + d.s(HEX, 8)),
]


def _jwt_token(d: Draw) -> Cred:
    tok, parts = jwt(d, {"sub": d.uuid(), "iss": "https://auth.acme.io", "exp": 1796610067, "scope": "read write"})
    return Cred("token", "jwt", tok, ("access_token", "id_token", "auth_token"), parts)


OPAQUE_KEYS = ["api_key", "client_secret", "dd_api_key", "auth_token", "secret_key", "webhook_secret", "signing_secret",
               "encryption_key", "access_token", "refresh_token", "app_secret", "x_api_key", "license_key", "master_key"]


def opaque(d: Draw) -> Cred:
    shape = d.pick(["hex32", "hex40", "hex64", "b62_32", "b62_48", "b64_44"])
    body = {"hex32": lambda: d.hex(32), "hex40": lambda: d.hex(40), "hex64": lambda: d.hex(64), "b62_32": lambda: d.s(ALNUM, 32),
            "b62_48": lambda: d.s(ALNUM, 48), "b64_44": lambda: b64(d.randbytes(32))}[shape]()
    return Cred("opaque", shape, body, (d.pick(OPAQUE_KEYS),), (body,), "opaque")


WORDS = ["harbor", "velvet", "quartz", "maple", "otter", "saffron", "glacier", "ember", "willow", "cobalt", "falcon", "juniper"]
PASSWORD_KEYS = ["password", "db_password", "pgpassword", "mysql_root_password", "admin_password", "smtp_pass", "redis_password",
                 "passphrase", "bind_password", "keystore_password"]


def password_value(d: Draw) -> str:
    shape = d.randrange(3)
    if shape == 0:
        return d.pick(WORDS).capitalize() + str(d.randrange(10, 99)) + d.pick("!#$%&*?@") + d.pick(WORDS) + str(d.randrange(1000, 9999))
    if shape == 1:
        return d.s(ALNUM + "!#$%&*+-=?@^_~.:;,/|", d.randrange(16, 28))
    return "-".join(d.pick(WORDS) for _ in range(4)) + "-" + str(d.randrange(10, 99))


def password(d: Draw) -> Cred:
    v = password_value(d)
    return Cred("password", "password", v, (d.pick(PASSWORD_KEYS),), (v,), "password")


def _pw_u(d: Draw) -> str:
    return d.s(ALNUM + "_-", d.randrange(14, 24))


URI_KINDS = {
    "clickhouse": lambda d, p: f"clickhouse://default:{quote(p, safe='')}@ch-prod.internal:9440/analytics?secure=true",
    "mssql_pyodbc": lambda d, p: f"mssql+pyodbc://sa:{quote(p, safe='')}@sql01.corp.acme.io:1433/orders?driver=ODBC+Driver+18+for+SQL+Server",
    "oracle_oracledb": lambda d, p: f"oracle+oracledb://scott:{quote(p, safe='')}@ora-prod:1521/?service_name=ORCLPDB1",
    "snowflake": lambda d, p: f"snowflake://etl_user:{quote(p, safe='')}@acme-xy12345/analytics/public?warehouse=ETL_WH&role=LOADER",
    "trino": lambda d, p: f"trino://analyst:{quote(p, safe='')}@trino.acme.io:443/hive/default",
    "db2": lambda d, p: f"db2://db2inst1:{quote(p, safe='')}@db2.corp.acme.io:50000/SAMPLE",
    "hana": lambda d, p: f"hana://SYSTEM:{quote(p, safe='')}@hana.acme.io:39017",
    "vertica": lambda d, p: f"vertica+vertica_python://dbadmin:{quote(p, safe='')}@vertica.acme.io:5433/warehouse",
    "redshift": lambda d, p: f"redshift+psycopg2://awsuser:{quote(p, safe='')}@acme.abc123xyz.eu-west-1.redshift.amazonaws.com:5439/dev",
    "firebird": lambda d, p: f"firebird+fdb://SYSDBA:{quote(p, safe='')}@fb.internal:3050//var/lib/firebird/data/erp.fdb",
    "cassandra": lambda d, p: f"cassandra://cassandra:{quote(p, safe='')}@cass-0.cass.prod.svc:9042/metrics",
    "couchbase": lambda d, p: f"couchbases://Administrator:{quote(p, safe='')}@cb.acme.io/travel-sample",
    "influxdb": lambda d, p: f"influxdb://telegraf:{quote(p, safe='')}@influx.internal:8086/telegraf",
    "mariadb": lambda d, p: f"mariadb+mariadbconnector://app:{quote(p, safe='')}@maria.internal:3306/shop",
    "cockroach": lambda d, p: f"cockroachdb://root:{quote(p, safe='')}@crdb-public.prod:26257/defaultdb?sslmode=verify-full",
    "arangodb": lambda d, p: f"arangodb+ssl://root:{quote(p, safe='')}@arango.acme.io:8529/_system",
    "valkey": lambda d, p: f"valkeys://default:{quote(p, safe='')}@cache.acme.io:6380/0",
    "bolt": lambda d, p: f"bolt+s://neo4j:{quote(p, safe='')}@graph.acme.io:7687",
    "nats_creds": lambda d, p: f"tls://deployer:{quote(p, safe='')}@nats.acme.io:4222",
    "stomp": lambda d, p: f"stomp+ssl://admin:{quote(p, safe='')}@mq.acme.io:61614",
}
TOKEN_URIS = {
    "turso": lambda d, t: f"libsql://orders-acme.turso.io?authToken={t}",
    "motherduck": lambda d, t: f"md:analytics?motherduck_token={t}",
    "databricks": lambda d, t: f"databricks://token:{t}@dbc-a1b2c3d4-e5f6.cloud.databricks.com?http_path=/sql/1.0/warehouses/{d.hex(16)}",
    "athena": lambda d, t: f"awsathena+rest://AKIA{d.s(UPNUM, 16)}:{t}@athena.eu-west-1.amazonaws.com:443/logs?s3_staging_dir=s3://acme-athena/",
}


def uri(d: Draw) -> Cred:
    keys = (d.pick(["database_url", "dsn", "sqlalchemy_database_uri", "connection_uri", "db_url", "broker_url"]),)
    if d.random() < 0.25:
        kind = d.pick(sorted(TOKEN_URIS))
        t = {"turso": lambda: jwt(d, {"a": "rw", "iat": 1796610067, "id": d.uuid()})[0], "motherduck": lambda: jwt(d, {"session": d.s(LOWNUM, 12), "email": "etl"})[0],
             "databricks": lambda: "dapi" + d.hex(32), "athena": lambda: d.s(B64, 40)}[kind]()
        part = t.split(".", 2)[-1] if t.startswith("eyJ") else (t[4:] if t.startswith("dapi") else t)
        return Cred("uri", kind, TOKEN_URIS[kind](d, t), keys, (quote(part, safe="") if kind == "athena" else part,), "uri")
    kind = d.pick(sorted(URI_KINDS))
    p = _pw_u(d)
    return Cred("uri", kind, URI_KINDS[kind](d, p), keys, (p,), "uri")


def _lines(s: str, n: int = 64) -> list[str]:
    return [s[i:i + n] for i in range(0, len(s), n)]


_DER = {"PRIVATE KEY": "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ", "RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA",
        "EC PRIVATE KEY": "MHcCAQEEI"}


def key(d: Draw) -> Cred:
    kind = d.pick(["pkcs8", "rsa", "ec", "openssh", "ppk", "pgp", "jwk_rsa", "jwk_ec"])
    if kind in ("pkcs8", "rsa", "ec"):
        label = {"pkcs8": "PRIVATE KEY", "rsa": "RSA PRIVATE KEY", "ec": "EC PRIVATE KEY"}[kind]
        body = _DER[label] + d.s(B64, 160 if kind == "ec" else 1500)
        lines = _lines(body)
        text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
        return Cred("key", kind, text, ("private_key", "tls_key"), (lines[1], lines[len(lines) // 2]), "block")
    if kind == "openssh":
        body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACD" + d.s(B64, 300)
        lines = _lines(body, 70)
        text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----"
        return Cred("key", kind, text, ("ssh_private_key", "deploy_key"), (lines[2], lines[-1][:40]), "block")
    if kind == "ppk":
        priv, mac = d.s(B64, 43) + "=", d.hex(64)
        text = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@acme\nPublic-Lines: 2\n"
                f"AAAAC3NzaC1lZDI1NTE5AAAAI{d.s(B64, 43)}\n{d.s(B64, 8)}\nPrivate-Lines: 1\n{priv}\nPrivate-MAC: {mac}")
        return Cred("key", kind, text, ("ppk", "putty_key"), (priv[:-1],), "block")
    if kind == "pgp":
        lines = _lines("lQVYBGd" + d.s(B64, 700))
        text = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(lines) + f"\n={d.s(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----")
        return Cred("key", kind, text, ("gpg_private_key", "signing_key"), (lines[1], lines[len(lines) // 2]), "block")
    if kind == "jwk_rsa":
        dd, p, q = b64u(d.randbytes(256)), b64u(d.randbytes(128)), b64u(d.randbytes(128))
        text = json.dumps({"kty": "RSA", "kid": d.hex(16), "use": "sig", "alg": "RS256", "n": b64u(d.randbytes(256)), "e": "AQAB",
                           "d": dd, "p": p, "q": q, "dp": b64u(d.randbytes(128)), "dq": b64u(d.randbytes(128)), "qi": b64u(d.randbytes(128))})
        return Cred("key", kind, text, ("jwk", "signing_jwk"), (dd[40:120], p[20:80], q[20:80]), "block")
    dd = b64u(d.randbytes(32))
    text = json.dumps({"kty": "EC", "crv": "P-256", "kid": d.hex(8), "x": b64u(d.randbytes(32)), "y": b64u(d.randbytes(32)), "d": dd})
    return Cred("key", kind, text, ("jwk", "private_jwk"), (dd,), "block")


def cookie(d: Draw) -> Cred:
    kind = d.pick(["django", "rails", "express", "laravel", "flask", "php", "jsessionid", "aspnet", "supabase", "nextauth"])
    if kind == "django":
        name, v, part = "sessionid", d.s(LOWNUM, 32), None
    elif kind == "rails":
        name, v = "_shop_session", d.s(B64, 120) + "--" + d.s(B64, 20) + "--" + d.s(B64, 22) + "=="
        part = v[:120]
    elif kind == "express":
        sid, sig = d.s(URLSAFE, 32), d.s(B64, 43)
        name, v, part = "connect.sid", "s%3A" + sid + "." + quote(sig, safe=""), sid
    elif kind == "laravel":
        name, v = "laravel_session", quote(b64(json.dumps({"iv": b64(d.randbytes(16)), "value": b64(d.randbytes(96)), "mac": d.hex(64), "tag": ""})), safe="")
        part = v[30:140]
    elif kind == "flask":
        name, v = "session", "eyJ1c2VyX2lkIjo" + d.s(URLSAFE, 30) + "." + d.s(URLSAFE, 6) + "." + d.s(URLSAFE, 27)
        part = v[15:45]
    elif kind == "php":
        name, v, part = "PHPSESSID", d.s(LOWNUM, 26), None
    elif kind == "jsessionid":
        name, v, part = "JSESSIONID", d.s("0123456789ABCDEF", 32), None
    elif kind == "aspnet":
        name, v, part = "ASP.NET_SessionId", d.s("abcdefghijklmnopqrstuvwxyz012345", 24), None
    elif kind == "supabase":
        sess = json.dumps({"access_token": jwt(d, {"sub": d.uuid(), "role": "authenticated", "exp": 1796610067})[0],
                           "refresh_token": d.s(LOWNUM, 12), "token_type": "bearer"})
        name, v = f"sb-{d.s(LOWNUM, 20)}-auth-token", "base64-" + b64u(sess.encode())
        part = v[60:200]
    else:
        name = "__Secure-next-auth.session-token"
        v = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + d.s(URLSAFE, 22) + "." + d.s(URLSAFE, 200) + "." + d.s(URLSAFE, 22)
        part = v.split(".")[3][:120]
    return Cred("cookie", kind, v, (name,), (part or v,), "cookie")


def token(d: Draw) -> Cred:
    return _jwt_token(d) if d.random() < 0.1 else d.pick(TOKENS)(d)


# -- documents: (cred, d) -> (text, parts as written) -----------------------------------------------------------------
def _same(c: Cred, text: str) -> tuple[str, list[str]]:
    return text, list(c.parts)


def _json_parts(c: Cred) -> list[str]:
    return [json.dumps(p)[1:-1] for p in c.parts]


def _sqd(v: str) -> str:
    return v.replace("'", "''")


def _structlog(c: Cred, d: Draw):
    k = snake(c.keys[0])
    return _same(c, f"\x1b[2m{TS}\x1b[0m [\x1b[32m\x1b[1minfo     \x1b[0m] \x1b[1mclient ready\x1b[0m \x1b[36m{k}\x1b[0m="
                    f"\x1b[35m{c.value}\x1b[0m \x1b[36mretries\x1b[0m=\x1b[35m3\x1b[0m")


def _docker_config(c: Cred, d: Draw):
    user = d.pick(["deploy", "ci-bot", "robot$acme+push"])
    raw = f"{user}:{c.value}"
    enc = b64(raw)
    start = len(user) + 1
    g0, g1 = -(-start // 3), len(raw) // 3
    return json.dumps({"auths": {"registry.acme.io": {"auth": enc}}}), [enc[g0 * 4:g1 * 4]]


KEYED_DOCS = {
    "dotenv": lambda c, d: _same(c, f"LOG_LEVEL=info\n{env(c.keys[0])}={c.value}\nPORT=8080\n"),
    "yaml": lambda c, d: (f"app:\n  name: billing\n  {snake(c.keys[0])}: \"{c_str(c.value)}\"\n  port: 8080\n", [c_str(p) for p in c.parts]),
    "ini": lambda c, d: _same(c, f"[service]\nname = billing\n{snake(c.keys[0])} = {c.value}\ntimeout = 30\n"),
    "properties": lambda c, d: _same(c, f"# generated\nspring.application.name=billing\nacme.client.{kebab(c.keys[0])}={c.value}\nserver.port=8080\n"),
    "json": lambda c, d: (json.dumps({"service": "billing", camel(c.keys[0]): c.value, "retries": 3}), _json_parts(c)),
    "toml": lambda c, d: (f"[acme]\nendpoint = \"https://api.acme.io\"\n{snake(c.keys[0])} = \"{c_str(c.value)}\"\n", [c_str(p) for p in c.parts]),
    "xml": lambda c, d: (f'<configuration>\n  <add key="Region" value="eu-west-1" />\n  <add key="{pascal(c.keys[0])}" value="{html.escape(c.value)}" />\n</configuration>',
                         [html.escape(p) for p in c.parts]),
    "hcl": lambda c, d: (f'variable "{snake(c.keys[0])}" {{\n  type      = string\n  default   = "{c_str(c.value)}"\n  sensitive = true\n}}', [c_str(p) for p in c.parts]),
    "cfn_params": lambda c, d: (json.dumps({"StackName": "billing", "Parameters": [{"ParameterKey": "Environment", "ParameterValue": "prod"},
                                                                                    {"ParameterKey": pascal(c.keys[0]), "ParameterValue": c.value}]}), _json_parts(c)),
    "arm_params": lambda c, d: (json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
                                            "contentVersion": "1.0.0.0", "parameters": {"location": {"value": "westeurope"}, camel(c.keys[0]): {"value": c.value}}}),
                                _json_parts(c)),
    "k8s_string_data": lambda c, d: (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing\ntype: Opaque\nstringData:\n  {snake(c.keys[0])}: '{_sqd(c.value)}'\n",
                                     [_sqd(p) for p in c.parts]),
    "structlog": _structlog,
}
TOKEN_DOCS = {
    "http_bearer": lambda c, d: _same(c, f"POST /v1/events HTTP/1.1\r\nHost: api.acme.io\r\nAuthorization: Bearer {c.value}\r\nContent-Type: application/json\r\n\r\n{{}}"),
    "http_api_key": lambda c, d: _same(c, f"GET /v2/export HTTP/1.1\r\nHost: api.acme.io\r\nX-Api-Key: {c.value}\r\nAccept: */*\r\n\r\n"),
    "curl": lambda c, d: _same(c, f"curl -sS -H 'Authorization: Bearer {c.value}' https://api.acme.io/v1/me"),
}
PASSWORD_DOCS = {
    "http_form": lambda c, d: (f"POST /login HTTP/1.1\r\nHost: app.acme.io\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
                               f"username=ops&{snake(c.keys[0])}={quote_plus(c.value)}&remember=1", [quote_plus(p) for p in c.parts]),
    "docker_config": _docker_config,
}
URI_DOCS = {
    "dotenv": lambda c, d: _same(c, f"{env(c.keys[0])}={c.value}\nPOOL_SIZE=10\n"),
    "yaml": lambda c, d: _same(c, f"database:\n  {snake(c.keys[0])}: {c.value}\n  pool: 10\n"),
    "json": lambda c, d: (json.dumps({camel(c.keys[0]): c.value, "pool": 10}), _json_parts(c)),
    "log": lambda c, d: _same(c, f"INFO  db.pool: connecting to {c.value} (attempt 1/3)"),
    "properties": lambda c, d: _same(c, f"app.datasource.{kebab(c.keys[0])}={c.value}\napp.datasource.pool=10\n"),
}


KEY_DOCS = {
    "file": lambda c, d: _same(c, c.value + "\n"),
    "sa_json": lambda c, d: (json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": d.hex(40),
                                         "private_key": c.value + "\n", "client_email": "deployer@acme-prod.iam.gserviceaccount.com"}, indent=2),
                             _json_parts(c)),
    "yaml_block": lambda c, d: ("tls:\n  key: |\n" + "".join(f"    {ln}\n" for ln in c.value.splitlines()), list(c.parts)),
    "dotenv_escaped": lambda c, d: (f'{env(c.keys[0])}="' + c.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"\n',
                                    [p.replace("\\", "\\\\").replace('"', '\\"') for p in c.parts]),
}
COOKIE_DOCS = {
    "cookie_header": lambda c, d: _same(c, f"Cookie: _ga=GA1.1.{d.randrange(10**9)}.1796610067; theme=dark; {c.keys[0]}={c.value}; lang=en"),
    "set_cookie": lambda c, d: _same(c, f"Set-Cookie: {c.keys[0]}={c.value}; Path=/; HttpOnly; Secure; SameSite=Lax"),
    "http_request": lambda c, d: _same(c, f"GET /account HTTP/1.1\r\nHost: app.acme.io\r\nCookie: {c.keys[0]}={c.value}\r\nAccept: text/html\r\n\r\n"),
    "har_cookies": lambda c, d: (json.dumps({"request": {"method": "GET", "url": "https://app.acme.io/account",
                                                         "cookies": [{"name": "theme", "value": "dark"}, {"name": c.keys[0], "value": c.value}]}}),
                                 _json_parts(c)),
}


def documents(c: Cred) -> dict:
    """The documents that can hold ``c``."""
    if c.shape == "block":
        return KEY_DOCS
    if c.shape == "cookie":
        return COOKIE_DOCS
    if c.shape == "uri":
        return URI_DOCS
    if c.shape == "password":
        return {**KEYED_DOCS, **PASSWORD_DOCS}
    return {**KEYED_DOCS, **TOKEN_DOCS}
