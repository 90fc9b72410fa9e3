"""The thirteenth corpus' secrets (``heldout_style13``): what a change carries — an attribute or a config line whose
value was a secret, before and after (a rotation), or only after (added) or only before (removed). Five families:
``password`` (passwords and passphrases under a name), ``token`` (vendors' tokens and opaque application secrets
under a name, JWTs), ``uri`` (connection strings and URLs with their credential inside), ``pem`` (private keys, one
line of the file a line of the diff) and ``cloud`` (cloud providers' secret keys: AWS, Azure, GCP, Alibaba,
DigitalOcean, Cloudflare, a GCP service account's JSON key on one line).

Written on 2026-12-07 without reading ``src/ben/redact``: the values are drawn by their published shapes (prefix,
length, alphabet), the names by how config files name them.
"""

from __future__ import annotations

import base64
import json
import string
from dataclasses import dataclass

from tests.redact.heldout7_values import Draw

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64U = ALNUM + "-_"
PW_SYMBOLS = "!@#%^&*-_+=.?~:"
WORDS = ["copper", "lantern", "orbit", "meadow", "falcon", "quartz", "harbor", "velvet", "summit", "pebble", "tundra",
         "cobalt", "nimbus", "juniper", "saffron", "glacier", "ember", "willow", "onyx", "marble"]
FAMILIES = ("password", "token", "uri", "pem", "cloud")


@dataclass(frozen=True)
class Change:
    """One attribute changed: its family and kind, its name (words, styled by the file), the value before and after
    (``None``: added or removed), whether the value spans lines (a PEM), and what must not survive."""

    family: str
    kind: str
    key: str
    old: str | None
    new: str | None
    secrets: tuple[str, ...]
    multiline: bool = False


def secret_parts(family: str, kind: str, v: str) -> list[str]:
    """What of a value must not survive: a PEM's body lines; a URI's or connection string's credential; else all."""
    if family == "pem":
        return [ln for ln in v.splitlines() if ln and not ln.startswith("-----") and ":" not in ln]
    if kind == "gcp_sa_json":
        return secret_parts("pem", "pkcs8", json.loads(v)["private_key"])
    if family == "uri":
        return [v.split("\x01")[1]]
    return [v]


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


# -- passwords -----------------------------------------------------------------------------------------------------
def pw_random(d: Draw) -> str:
    n = d.randrange(12, 25)
    s = [d.choice(ALNUM) for _ in range(n)]
    for _ in range(d.randrange(1, 4)):
        s[d.randrange(n)] = d.choice(PW_SYMBOLS)
    s[0] = d.choice(string.ascii_letters)
    return "".join(s)


def pw_phrase(d: Draw) -> str:
    return "-".join(d.choice(WORDS) for _ in range(d.randrange(3, 5))) + "-" + str(d.randrange(10, 99))


def pw_mixed(d: Draw) -> str:
    return d.choice(WORDS).capitalize() + d.choice("!@#%") + str(d.randrange(1000, 99999)) + d.s(ALNUM, d.randrange(3, 7))


PASSWORD_KEYS = ["password", "db_password", "admin_password", "root_password", "smtp_password", "redis_password",
                 "master_password", "db_pass", "mysql_root_password", "ldap_bind_password", "keystore_password",
                 "registry_password", "postgres_password", "rabbitmq_default_pass", "grafana_admin_password",
                 "replication_password", "bind_pw", "passwd"]
PASSWORDS = {"pw_random": pw_random, "pw_phrase": pw_phrase, "pw_mixed": pw_mixed}


# -- tokens ----------------------------------------------------------------------------------------------------------
def _jwt(d: Draw) -> str:
    def seg(o) -> str:
        return base64.urlsafe_b64encode(json.dumps(o, separators=(",", ":")).encode()).decode().rstrip("=")
    head = seg({"alg": d.choice(["HS256", "RS256"]), "typ": "JWT"})
    body = seg({"sub": f"svc-{d.hex(6)}", "iss": "https://auth.acme.io", "iat": 1796600000 + d.randrange(10 ** 5),
                "scope": d.choice(["deploy", "read write", "admin"])})
    return f"{head}.{body}.{base64.urlsafe_b64encode(d.randbytes(32)).decode().rstrip('=')}"


TOKENS = {
    "github_pat": (lambda d: "ghp_" + d.s(ALNUM, 36), ["github_token", "gh_token", "token"]),
    "github_fine": (lambda d: "github_pat_" + d.s(ALNUM, 22) + "_" + d.s(ALNUM, 59), ["github_token", "git_token"]),
    "gitlab_pat": (lambda d: "glpat-" + d.s(ALNUM + "-_", 20), ["gitlab_token", "ci_token", "private_token"]),
    "gitlab_runner": (lambda d: "glrt-" + d.s(ALNUM + "-_", 20), ["runner_token", "registration_token"]),
    "slack_bot": (lambda d: f"xoxb-{d.randrange(10 ** 11, 10 ** 12)}-{d.randrange(10 ** 12, 10 ** 13)}-{d.s(ALNUM, 24)}",
                  ["slack_bot_token", "slack_token"]),
    "slack_app": (lambda d: f"xapp-1-A{d.s(string.ascii_uppercase + string.digits, 10)}-{d.randrange(10 ** 12, 10 ** 13)}-"
                            f"{d.hex(64)}", ["slack_app_token"]),
    "stripe_live": (lambda d: d.choice(["sk_live_", "rk_live_"]) + d.s(ALNUM, d.choice([24, 99])),
                    ["stripe_secret_key", "stripe_api_key", "payments_key"]),
    "sendgrid": (lambda d: "SG." + d.s(ALNUM + "-_", 22) + "." + d.s(ALNUM + "-_", 43), ["sendgrid_api_key", "mail_api_key"]),
    "npm": (lambda d: "npm_" + d.s(ALNUM, 36), ["npm_token", "node_auth_token"]),
    "pypi": (lambda d: "pypi-AgEIcHlwaS5vcmc" + d.s(B64U, d.randrange(60, 120)), ["pypi_token", "twine_password"]),
    "vault": (lambda d: "hvs." + d.s(ALNUM + "_-", d.choice([24, 90])), ["vault_token"]),
    "openai": (lambda d: "sk-proj-" + d.s(ALNUM + "-_", d.choice([48, 74, 120])), ["openai_api_key", "llm_api_key"]),
    "anthropic": (lambda d: "sk-ant-api03-" + d.s(ALNUM + "-_", 93) + "AA", ["anthropic_api_key", "llm_api_key"]),
    "huggingface": (lambda d: "hf_" + d.s(ALNUM, 34), ["hf_token", "hub_token"]),
    "databricks": (lambda d: "dapi" + d.hex(32), ["databricks_token"]),
    "digitalocean_pat": (lambda d: "dop_v1_" + d.hex(64), ["do_token", "digitalocean_token"]),
    "shopify": (lambda d: d.choice(["shpat_", "shpss_"]) + d.hex(32), ["shopify_access_token", "shopify_secret"]),
    "linear": (lambda d: "lin_api_" + d.s(ALNUM, 40), ["linear_api_key"]),
    "notion": (lambda d: "ntn_" + d.s(string.digits, 11) + d.s(ALNUM, 35), ["notion_token"]),
    "sentry_org": (lambda d: "sntrys_" + d.s(B64U, 80), ["sentry_auth_token"]),
    "atlassian": (lambda d: "ATATT3xFfGF0" + d.s(ALNUM + "-_", 170) + "=" + d.hex(8).upper(), ["jira_api_token", "confluence_token"]),
    "twilio": (lambda d: d.hex(32), ["twilio_auth_token"]),
    "datadog": (lambda d: d.hex(32), ["dd_api_key", "datadog_api_key"]),
    "opaque_hex": (lambda d: d.hex(d.choice([40, 64])), ["webhook_secret", "signing_secret", "api_secret", "hmac_key"]),
    "opaque_b64": (lambda d: b64(d.randbytes(d.choice([24, 32, 48]))), ["encryption_key", "session_secret", "nextauth_secret",
                                                                        "cookie_secret", "master_key"]),
    "secret_key_base": (lambda d: d.hex(128), ["secret_key_base"]),
    "django_secret": (lambda d: "django-insecure-" + d.s(string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)", 50),
                      ["secret_key", "django_secret_key"]),
    "fernet": (lambda d: base64.urlsafe_b64encode(d.randbytes(32)).decode(), ["fernet_key", "airflow_fernet_key"]),
    "client_secret": (lambda d: d.s(ALNUM + "-_~.", d.choice([32, 40])), ["client_secret", "oauth_client_secret", "oidc_client_secret"]),
    "jwt": (_jwt, ["access_token", "service_token", "id_token", "auth_token"]),
}


# -- connection strings and URLs (the credential between \x01 marks; the marks removed when written) ------------------
def _h(d: Draw) -> str:
    return d.choice(["db-1.internal", "pg.prod.acme.io", "10.0.4.21", "mysql-primary.svc.cluster.local", "cache-0.acme.io"])


def _u(d: Draw) -> str:
    return d.choice(["app", "svc_api", "deploy", "etl", "admin", "billing"])


def _pwu(d: Draw) -> str:
    """A password safe in a URL's userinfo as written (no percent-encoding needed)."""
    return d.s(ALNUM, d.randrange(14, 26)) + d.choice(["", "-", "_", "."]) + d.s(ALNUM, 3)


URIS = {
    "postgres_url": (lambda d: f"postgres{d.choice(['', 'ql'])}://{_u(d)}:\x01{_pwu(d)}\x01@{_h(d)}:5432/shop?sslmode=require",
                     ["database_url", "db_url", "dsn"]),
    "mysql_url": (lambda d: f"mysql://{_u(d)}:\x01{_pwu(d)}\x01@{_h(d)}:3306/shop", ["database_url", "mysql_dsn"]),
    "mongodb_srv": (lambda d: f"mongodb+srv://{_u(d)}:\x01{_pwu(d)}\x01@cluster0.{d.s(LOWER_ALNUM, 5)}.mongodb.net/app?retryWrites=true",
                    ["mongo_uri", "mongodb_url"]),
    "redis_url": (lambda d: f"{d.choice(['redis', 'rediss'])}://{d.choice(['', 'default'])}:\x01{_pwu(d)}\x01@{_h(d)}:6379/0",
                  ["redis_url", "cache_url"]),
    "amqp_url": (lambda d: f"amqps://{_u(d)}:\x01{_pwu(d)}\x01@mq.acme.io:5671/%2F", ["amqp_url", "broker_url"]),
    "smtp_url": (lambda d: f"smtp://{_u(d)}%40acme.io:\x01{_pwu(d)}\x01@smtp.acme.io:587", ["mailer_dsn", "smtp_url"]),
    "git_https": (lambda d: f"https://{_u(d)}:\x01{d.s(ALNUM, 32)}\x01@git.acme.io/platform/infra.git", ["repo_url", "git_remote"]),
    "jdbc_sqlserver": (lambda d: f"jdbc:sqlserver://{_h(d)}:1433;databaseName=shop;user={_u(d)};password=\x01{_pwu(d)}\x01;encrypt=true",
                       ["jdbc_url", "datasource_url"]),
    "adonet": (lambda d: f"Server=tcp:{d.s(LOWER_ALNUM, 8)}.database.windows.net,1433;Initial Catalog=shop;User ID={_u(d)};"
                         f"Password=\x01{_pwu(d)}\x01;Encrypt=True;", ["connection_string", "default_connection"]),
    "azure_storage_cs": (lambda d: f"DefaultEndpointsProtocol=https;AccountName={d.s(LOWER_ALNUM, 12)};AccountKey=\x01"
                                   f"{b64(d.randbytes(64))}\x01;EndpointSuffix=core.windows.net", ["storage_connection_string",
                                                                                                  "azure_storage"]),
    "servicebus_cs": (lambda d: f"Endpoint=sb://{d.s(LOWER_ALNUM, 8)}.servicebus.windows.net/;SharedAccessKeyName="
                                f"RootManageSharedAccessKey;SharedAccessKey=\x01{b64(d.randbytes(32))}\x01", ["servicebus_connection"]),
    "slack_webhook": (lambda d: f"https://hooks.slack.com/services/T{d.s(string.ascii_uppercase + string.digits, 10)}/"
                                f"B{d.s(string.ascii_uppercase + string.digits, 10)}/\x01{d.s(ALNUM, 24)}\x01", ["slack_webhook_url",
                                                                                                                "alert_webhook"]),
}


# -- private keys ----------------------------------------------------------------------------------------------------
def _pem_body(d: Draw, head: str, n: int) -> list[str]:
    raw = head + d.s(B64, 64 * n - len(head) - d.randrange(0, 40))
    raw = raw[:-1] if len(raw) % 4 == 1 else raw
    raw += "=" * (-len(raw) % 4)
    return [raw[i:i + 64] for i in range(0, len(raw), 64)]


PEMS = {
    "rsa_pkcs1": ("RSA PRIVATE KEY", "MIIEow", 25),
    "pkcs8": ("PRIVATE KEY", "MIIEvQ", 26),
    "ec": ("EC PRIVATE KEY", "MHcCAQEEI", 4),
    "openssh": ("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA", 6),
    "encrypted_pkcs8": ("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0w", 28),
}
PEM_KEYS = ["tls.key", "private_key", "ssh_private_key", "signing_key", "deploy_key", "key.pem", "server.key"]


def pem(d: Draw, kind: str) -> str:
    label, head, n = PEMS[kind]
    n = max(3, n + d.randrange(-2, 3))
    return "\n".join([f"-----BEGIN {label}-----", *_pem_body(d, head, n), f"-----END {label}-----"]) + "\n"


# -- cloud -----------------------------------------------------------------------------------------------------------
def _gcp_sa(d: Draw) -> str:
    key = pem(d, "pkcs8")
    doc = {"type": "service_account", "project_id": f"acme-{d.s(LOWER_ALNUM, 6)}", "private_key_id": d.hex(40),
           "private_key": key, "client_email": f"deployer@acme-{d.s(LOWER_ALNUM, 4)}.iam.gserviceaccount.com",
           "client_id": str(d.randrange(10 ** 20, 10 ** 21)), "token_uri": "https://oauth2.googleapis.com/token"}
    return json.dumps(doc, separators=(",", ":"))


CLOUD = {
    "aws_secret": (lambda d: d.s(ALNUM + "+/", 40), ["aws_secret_access_key", "secret_access_key", "s3_secret_key"]),
    "aws_session": (lambda d: "IQoJb3JpZ2luX2VjE" + d.s(B64, d.randrange(300, 420)), ["aws_session_token"]),
    "azure_storage_key": (lambda d: b64(d.randbytes(64)), ["storage_account_key", "azure_storage_key", "account_key"]),
    "azure_client_secret": (lambda d: d.s(ALNUM, 3) + "8Q~" + d.s(ALNUM + "_~.-", 34), ["azure_client_secret", "arm_client_secret"]),
    "gcp_api_key": (lambda d: "AIza" + d.s(ALNUM + "-_", 35), ["google_api_key", "maps_api_key", "firebase_api_key"]),
    "gcp_hmac_secret": (lambda d: d.s(ALNUM + "+/", 40), ["gcs_hmac_secret", "hmac_secret"]),
    "alibaba_secret": (lambda d: d.s(ALNUM, 30), ["alicloud_secret_key", "access_key_secret"]),
    "do_spaces_secret": (lambda d: d.s(ALNUM + "+/", 43), ["spaces_secret_key"]),
    "cloudflare_token": (lambda d: d.s(ALNUM + "-_", 40), ["cloudflare_api_token", "cf_api_token"]),
    "gcp_sa_json": (_gcp_sa, ["google_credentials", "gcp_sa_key", "credentials_json"]),
}


def _value(d: Draw, family: str, kind: str) -> str:
    if family == "password":
        return PASSWORDS[kind](d)
    if family == "token":
        return TOKENS[kind][0](d)
    if family == "uri":
        return URIS[kind][0](d)
    if family == "pem":
        return pem(d, kind)
    return CLOUD[kind][0](d)


def _keys(family: str, kind: str) -> list[str]:
    return {"password": lambda: PASSWORD_KEYS, "token": lambda: TOKENS[kind][1], "uri": lambda: URIS[kind][1],
            "pem": lambda: PEM_KEYS, "cloud": lambda: CLOUD[kind][1]}[family]()


KINDS = {"password": list(PASSWORDS), "token": list(TOKENS), "uri": list(URIS), "pem": list(PEMS), "cloud": list(CLOUD)}


def draw(d: Draw, family: str) -> Change:
    """A change of one secret of ``family``: rotated (both values), added, or removed (before: the value only)."""
    kind = d.choice(KINDS[family])
    key = d.choice(_keys(family, kind))
    op = d.choices(["rotate", "add", "remove"], weights=[5, 3, 1])[0]
    old = _value(d, family, kind) if op in ("rotate", "remove") else None
    new = _value(d, family, kind) if op in ("rotate", "add") else None
    secrets = [p for v in (old, new) if v is not None for p in secret_parts(family, kind, v)]
    return Change(family, kind, key, _plain(old), _plain(new), tuple(dict.fromkeys(secrets)), multiline=family == "pem")


def _plain(v: str | None) -> str | None:
    """A drawn value as written (the credential marks dropped)."""
    return None if v is None else v.replace("\x01", "")
