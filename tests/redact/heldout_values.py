"""More fake secrets for ``heldout_style``: e-mail/SMS and observability vendors, database URIs of every
scheme, JWT/JWE, OAuth, private keys of every container, wallet keys, HTTP credentials."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.redact.heldout_tokens import ALNUM, B58, B64, B64URL, HEX, LOWER_ALNUM, UPPER_ALNUM, Secret, kind, tok

# --- e-mail and SMS ----------------------------------------------------------------------------
@kind("messaging", "sendgrid")
def _(g, f, n):
    return tok(f, n, "SG.", g.mixed(22, B64URL) + "." + g.mixed(43, B64URL), ("SENDGRID_API_KEY",))


@kind("messaging", "mailgun")
def _(g, f, n):
    if g.rng.random() < 0.5:
        return tok(f, n, "key-", g.s(HEX, 32), ("MAILGUN_API_KEY",))
    v = g.s(HEX, 32) + "-" + g.s(HEX, 8) + "-" + g.s(HEX, 8)
    return Secret(f, n, v, (v,), ("MAILGUN_API_KEY", "api_key"))


@kind("messaging", "mailchimp")
def _(g, f, n):
    body = g.s(HEX, 32)
    return Secret(f, n, body + "-us" + str(g.rng.randint(1, 21)), (body,), ("MAILCHIMP_API_KEY", "apikey"))


@kind("messaging", "twilio_auth")
def _(g, f, n):
    v = g.s(HEX, 32)
    return Secret(f, n, v, (v,), ("TWILIO_AUTH_TOKEN", "auth_token", "authToken"), self_id=False)


@kind("messaging", "twilio_url")
def _(g, f, n):
    secret = g.s(HEX, 32)
    v = f"https://AC{g.s(HEX, 32)}:{secret}@api.twilio.com/2010-04-01/Accounts"
    return Secret(f, n, v, (secret,), ("url",))


@kind("messaging", "brevo")
def _(g, f, n):
    return tok(f, n, "xkeysib-", g.s(HEX, 64) + "-" + g.mixed(16), ("BREVO_API_KEY", "SENDINBLUE_KEY"))


@kind("messaging", "postmark")
def _(g, f, n):
    v = g.uuid()
    return Secret(f, n, v, (v,), ("X-Postmark-Server-Token", "POSTMARK_SERVER_TOKEN"), self_id=False)


@kind("messaging", "resend")
def _(g, f, n):
    return tok(f, n, "re_", g.mixed(8) + "_" + g.mixed(24), ("RESEND_API_KEY",))


@kind("messaging", "smtp_password")
def _(g, f, n):
    v = "B" + g.mixed(43, B64)
    return Secret(f, n, v, (v,), ("SMTP_PASSWORD", "smtp_pass", "MAIL_PASSWORD", "spring.mail.password"), self_id=False)


# --- observability -----------------------------------------------------------------------------
@kind("observability", "datadog")
def _(g, f, n):
    v = g.s(HEX, g.rng.choice([32, 40]))
    return Secret(f, n, v, (v,), ("DD_API_KEY", "DD-API-KEY", "DD_APP_KEY", "datadog_api_key"), self_id=False)


@kind("observability", "newrelic")
def _(g, f, n):
    p = g.rng.choice(["NRAK-", "NRII-", "NRJS-"])
    return tok(f, n, p, g.s(UPPER_ALNUM, 27), ("NEW_RELIC_API_KEY", "Api-Key"))


@kind("observability", "newrelic_license")
def _(g, f, n):
    v = g.s(HEX, 36) + "NRAL"
    return Secret(f, n, v, (v[:36],), ("NEW_RELIC_LICENSE_KEY", "license_key"))


@kind("observability", "sentry_dsn")
def _(g, f, n):
    secret = g.s(HEX, 32)
    v = f"https://{secret}@o{g.digits(6)}.ingest.sentry.io/{g.digits(7)}"
    return Secret(f, n, v, (secret,), ("SENTRY_DSN", "dsn"))


@kind("observability", "sentry_token")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["sntrys_eyJ", "sntryu_"]), g.mixed(64), ("SENTRY_AUTH_TOKEN",))


@kind("observability", "grafana")
def _(g, f, n):
    if g.rng.random() < 0.5:
        return tok(f, n, "glc_eyJ", g.b64(90, pad=False), ("GRAFANA_CLOUD_TOKEN",))
    return tok(f, n, "glsa_", g.mixed(32) + "_" + g.s(HEX, 8), ("GRAFANA_SA_TOKEN", "grafana_token"))


@kind("observability", "dynatrace")
def _(g, f, n):
    return tok(f, n, "dt0c01.", g.s(UPPER_ALNUM, 24) + "." + g.s(UPPER_ALNUM, 64), ("DT_API_TOKEN",))


@kind("observability", "honeycomb")
def _(g, f, n):
    if g.rng.random() < 0.5:
        return tok(f, n, g.rng.choice(["hcaik_", "hcxik_"]), g.s(LOWER_ALNUM, 58), ("HONEYCOMB_API_KEY",))
    v = g.mixed(22)
    return Secret(f, n, v, (v,), ("HONEYCOMB_API_KEY", "x-honeycomb-team"), self_id=False)


@kind("observability", "splunk_hec")
def _(g, f, n):
    v = g.uuid().upper()
    return Secret(f, n, v, (v,), ("SPLUNK_HEC_TOKEN", "hec_token"), self_id=False)


@kind("observability", "elastic_apikey")
def _(g, f, n):
    v = base64.b64encode(f"{g.mixed(20, B64URL)}:{g.mixed(22, B64URL)}".encode()).decode()
    return Secret(f, n, v, (v,), ("ELASTIC_API_KEY", "api_key"), self_id=False)


@kind("observability", "rollbar")
def _(g, f, n):
    v = g.s(HEX, 32)
    return Secret(f, n, v, (v,), ("ROLLBAR_ACCESS_TOKEN", "access_token", "BUGSNAG_API_KEY"), self_id=False)


# --- database URIs and connection strings ------------------------------------------------------
_SCHEMES = ["postgres", "postgresql", "postgresql+psycopg2", "mysql", "mysql+pymysql", "mariadb", "mongodb",
            "mongodb+srv", "redis", "rediss", "amqp", "amqps", "mssql+pyodbc", "sqlserver", "clickhouse", "cockroachdb",
            "couchbase", "neo4j+s", "nats", "ftp", "sftp", "smtp", "smtps", "snowflake", "oracle+cx_oracle",
            "elasticsearch", "https", "kafka", "ldap", "cassandra", "influxdb", "memcached"]
_DB_KEYS = ("DATABASE_URL", "dsn", "url", "SQLALCHEMY_DATABASE_URI", "MONGO_URI", "REDIS_URL", "CELERY_BROKER_URL",
            "spring.datasource.url", "connection")


@kind("database", "db_uri")
def _(g, f, n):
    pw = quote(g.password(), safe="")
    scheme = g.rng.choice(_SCHEMES)
    user = "" if scheme.startswith("redis") and g.rng.random() < 0.5 else g.rng.choice(["app", "admin", "svc_ro", "root"])
    host = g.rng.choice(["db.internal", "10.2.3.4", "cluster0.ab1cd.mongodb.net", "pg-prod-1.example.com"])
    q = g.rng.choice(["", "?sslmode=require", "?authSource=admin&retryWrites=true", "?ssl=true&connect_timeout=10"])
    return Secret(f, n, f"{scheme}://{user}:{pw}@{host}:{g.rng.randint(1000, 65000)}/app{q}", (pw,), _DB_KEYS)


@kind("database", "db_connection_string")
def _(g, f, n):
    pw = g.password().replace(";", "").replace("'", "").replace('"', "").replace("&", "")
    forms = [
        f"jdbc:postgresql://db:5432/app?user=app&password={quote(pw, safe='')}&ssl=true",
        f"jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={pw};encrypt=true",
        f"jdbc:mysql://app:{quote(pw, safe='')}@db:3306/app?useSSL=true",
        f"jdbc:oracle:thin:scott/{quote(pw, safe='')}@//db.example.com:1521/ORCL",
        f"Server=tcp:db.example.com,1433;Database=app;User ID=sa;Password={pw};Encrypt=True;",
        f"Driver={{ODBC Driver 18 for SQL Server}};Server=db;Uid=sa;Pwd={pw};TrustServerCertificate=yes",
        f"host=db port=5432 dbname=app user=app password={pw} sslmode=require",
        f"Data Source=db;Initial Catalog=app;User Id=report;Password={pw};",
        f"Host=db;Port=5432;Username=app;Password={pw};Database=app",
        f"app:{quote(pw, safe='')}@tcp(db:3306)/app?parseTime=true",
    ]
    v = g.rng.choice(forms)
    part = quote(pw, safe="") if quote(pw, safe="") in v else pw
    return Secret(f, n, v, (part,), ("ConnectionStrings__Default", "connection_string", "dsn", "DB_DSN"))


# --- JWT, JWE, OAuth ---------------------------------------------------------------------------
def _b64j(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


@kind("jwt_oauth", "jwt")
def _(g, f, n):
    alg = g.rng.choice(["HS256", "RS256", "ES256", "PS384", "EdDSA"])
    head = {"alg": alg, "typ": "JWT"} if g.rng.random() < 0.5 else {"alg": alg, "kid": g.s(HEX, 16)}
    claims = {"sub": g.uuid(), "iat": 1765000000 + g.rng.randint(0, 9999999), "jti": g.s(HEX, 16)}
    if g.rng.random() < 0.3:
        claims.update({"iss": "https://kubernetes.default.svc.cluster.local",
                       "kubernetes.io": {"namespace": "prod", "serviceaccount": {"name": "deployer"}}})
    sig = g.b64({"HS256": 32, "RS256": 256, "ES256": 64, "PS384": 384, "EdDSA": 64}[alg], url=True, pad=False)
    return Secret(f, n, f"{_b64j(head)}.{_b64j(claims)}.{sig}", (sig,),
                  ("Authorization", "id_token", "access_token", "jwt", "token", "X-Auth-Token"))


@kind("jwt_oauth", "jwe")
def _(g, f, n):
    direct = g.rng.random() < 0.4
    head = {"alg": "dir" if direct else "RSA-OAEP-256", "enc": "A256GCM"}
    ek = "" if direct else g.b64(256, url=True, pad=False)
    ct = g.b64(g.rng.randint(60, 200), url=True, pad=False)
    v = f"{_b64j(head)}.{ek}.{g.b64(12, url=True, pad=False)}.{ct}.{g.b64(16, url=True, pad=False)}"
    return Secret(f, n, v, (ct,) + ((ek,) if ek else ()), ("id_token", "session", "token"))


@kind("jwt_oauth", "oauth_form")
def _(g, f, n):
    r, s = g.mixed(48, B64URL), g.mixed(40, B64URL)
    v = f"grant_type=refresh_token&refresh_token={r}&client_id={g.uuid()}&client_secret={s}&scope=offline_access"
    return Secret(f, n, v, (r, s), ("body", "request_body"))


@kind("jwt_oauth", "oauth_token_response")
def _(g, f, n):
    a, r = g.mixed(64, B64URL), g.mixed(52, B64URL)
    v = json.dumps({"access_token": a, "token_type": "Bearer", "expires_in": 3599, "refresh_token": r, "scope": "read"})
    return Secret(f, n, v, (a, r), ("response", "body"))


@kind("jwt_oauth", "oauth_client_secret")
def _(g, f, n):
    v = g.mixed(g.rng.choice([32, 40, 64]), B64URL + "~.")
    return Secret(f, n, v, (v,), ("client_secret", "clientSecret", "OAUTH_CLIENT_SECRET", "consumer_secret",
                                   "app_secret", "AUTH0_CLIENT_SECRET"), self_id=False)


@kind("jwt_oauth", "opaque_refresh_token")
def _(g, f, n):
    v = g.mixed(g.rng.choice([40, 64, 86]), B64URL)
    return Secret(f, n, v, (v,), ("refresh_token", "refreshToken", "rt", "offline_token"), self_id=False)


# --- private keys ------------------------------------------------------------------------------
def _lines(g, head: str, nbytes: int) -> list[str]:
    body = head + g.b64(nbytes)
    return [body[i:i + 64] for i in range(0, len(body), 64)]


_PEM = {"PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "RSA PRIVATE KEY": "MIIEowIBAAKCAQEA",
        "EC PRIVATE KEY": "MHcCAQEEI", "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0w",
        "DSA PRIVATE KEY": "MIIBuwIBAAKBgQD", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAA"}


@kind("private_key", "pem")
def _(g, f, n):
    label = g.rng.choice(sorted(_PEM))
    lines = _lines(g, _PEM[label], g.rng.randint(120, 700))
    style = g.rng.randrange(4)
    if style == 3:                           # a log line cut after a few lines: no END marker
        lines = lines[:4]
    body = "\n".join(lines)
    v = f"-----BEGIN {label}-----\n{body}\n" + ("" if style == 3 else f"-----END {label}-----\n")
    if style == 1:
        v = v.replace("\n", " ")             # newlines folded by a log shipper
    elif style == 2:
        v = v.replace("\n", "\\n")           # an env var or .env file
    return Secret(f, n, v, tuple(ln for ln in lines[1:] if len(ln) >= 8) or (lines[0][-20:],),
                  ("private_key", "PRIVATE_KEY", "ssh_key", "tls.key", "signing_key"), multiline=style in (0, 3))


@kind("private_key", "pem_base64")
def _(g, f, n):
    lines = _lines(g, _PEM["PRIVATE KEY"], 300)
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
    v = base64.b64encode(pem.encode()).decode()
    return Secret(f, n, v, (v[60:],), ("tls.key", "client-key-data", "ssh-privatekey", "key.pem"))


@kind("private_key", "pgp")
def _(g, f, n):
    lines = _lines(g, "lQOYBG" + g.mixed(6), 400)
    v = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: release signing\n\n" + "\n".join(lines) +
         f"\n={g.mixed(4, B64)}\n-----END PGP PRIVATE KEY BLOCK-----\n")
    return Secret(f, n, v, tuple(lines[1:]), ("gpg_key", "GPG_PRIVATE_KEY", "signing_key"), multiline=True)


@kind("private_key", "putty")
def _(g, f, n):
    priv = _lines(g, "AAAAI", 70)
    mac = g.s(HEX, 64)
    v = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@ci\nPublic-Lines: 2\n" +
         "\n".join(_lines(g, "AAAAC3NzaC1lZDI1NTE5AAAAI", 40)) + f"\nPrivate-Lines: {len(priv)}\n" + "\n".join(priv) +
         f"\nPrivate-MAC: {mac}\n")
    return Secret(f, n, v, tuple(priv), ("ppk", "ssh_key"), multiline=True)


@kind("private_key", "age")
def _(g, f, n):
    return tok(f, n, "AGE-SECRET-KEY-1", g.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), ("SOPS_AGE_KEY", "age_key"))


@kind("private_key", "wireguard")
def _(g, f, n):
    k = g.b64(32)
    v = f"[Interface]\nPrivateKey = {k}\nAddress = 10.8.0.{g.rng.randint(2, 250)}/32\nListenPort = 51820\n"
    return Secret(f, n, v, (k,), ("wg0.conf", "config"), multiline=True)


# --- crypto wallets ----------------------------------------------------------------------------
_WORDS = ("abandon ability able about above absent absorb abstract absurd abuse access accident account accuse "
          "achieve acid acoustic acquire across act action actor actress actual adapt add addict address adjust "
          "admit adult advance advice aerobic affair afford afraid again age agent agree ahead aim air airport "
          "aisle alarm album alcohol alert alien all alley allow almost alone alpha already also alter").split()


@kind("wallet", "eth_private_key")
def _(g, f, n):
    h = g.s(HEX, 64)
    return Secret(f, n, ("0x" if g.rng.random() < 0.6 else "") + h, (h,),
                  ("PRIVATE_KEY", "privateKey", "wallet_private_key", "ETH_PRIVATE_KEY", "signer_key"), self_id=False)


@kind("wallet", "btc_wif")
def _(g, f, n):
    v = g.rng.choice(["5H", "5J", "5K"]) + g.s(B58, 49) if g.rng.random() < 0.5 else g.rng.choice("KL") + g.s(B58, 51)
    return Secret(f, n, v, (v[1:],), ("wif", "private_key", "btc_key"), self_id=False)


@kind("wallet", "xprv")
def _(g, f, n):
    return tok(f, n, "xprv9s21ZrQH143K", g.s(B58, 95), ("xprv", "extended_key", "master_key"))


@kind("wallet", "mnemonic")
def _(g, f, n):
    v = " ".join(g.rng.choice(_WORDS) for _ in range(g.rng.choice([12, 24])))
    return Secret(f, n, v, (v,), ("mnemonic", "seed_phrase", "MNEMONIC", "recovery_phrase"), self_id=False)


@kind("wallet", "solana_secret")
def _(g, f, n):
    v = g.s(B58, 88)
    return Secret(f, n, v, (v,), ("secretKey", "SOLANA_PRIVATE_KEY", "keypair"), self_id=False)


# --- HTTP credentials, cookies -----------------------------------------------------------------
@kind("http_auth", "basic_auth")
def _(g, f, n):
    cred = base64.b64encode(f"{g.rng.choice(['admin', 'deploy', 'ci-bot', 'grafana'])}:{g.password()}".encode()).decode()
    return Secret(f, n, "Basic " + cred, (cred,), ("Authorization", "Proxy-Authorization", "authorization"))


@kind("http_auth", "bearer_opaque")
def _(g, f, n):
    t = g.mixed(g.rng.choice([32, 40, 64]), B64URL + ".~")
    return Secret(f, n, "Bearer " + t, (t,), ("Authorization", "authorization", "auth"))


@kind("http_auth", "api_key_header")
def _(g, f, n):
    v = g.mixed(g.rng.choice([32, 40]))
    return Secret(f, n, v, (v,), ("X-API-Key", "x-api-key", "Ocp-Apim-Subscription-Key", "X-Auth-Token", "apikey",
                                   "X-RapidAPI-Key", "api-key"), self_id=False)


@kind("http_auth", "session_cookie")
def _(g, f, n):
    forms = [("sessionid", g.s(LOWER_ALNUM, 32)), ("JSESSIONID", g.s(HEX.upper(), 32)),
             ("connect.sid", "s%3A" + g.mixed(32, B64URL) + "." + g.mixed(43, B64)),
             ("PHPSESSID", g.s(LOWER_ALNUM, 26)), ("laravel_session", "eyJpdiI6" + g.mixed(120, B64)),
             ("ASP.NET_SessionId", g.s("abcdefghijklmnopqrstuvwxyz012345", 24)),
             ("__Secure-next-auth.session-token", g.mixed(180, B64URL)), ("_session_id", g.s(HEX, 32)),
             ("session", "eyJ" + g.mixed(40, B64URL) + "." + g.mixed(6, B64URL) + "." + g.mixed(27, B64URL)),
             ("_gitlab_session", g.s(HEX, 32)), ("remember_token", g.mixed(60, B64URL))]
    name, val = g.rng.choice(forms)
    v = f"{name}={val}; csrftoken={g.mixed(32)}" if g.rng.random() < 0.5 else f"{name}={val}; Path=/; HttpOnly; Secure"
    return Secret(f, n, v, (val,), ("Cookie", "Set-Cookie", "cookie"))
