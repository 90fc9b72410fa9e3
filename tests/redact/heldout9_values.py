"""The ninth held-out-style corpus' values (``tests/redact/heldout_style9.py``): credentials of the providers on a
secret-scanning partner list that the first eight corpora and ben's format table did not draw — clouds (Azure's
identifiable keys, GCS HMAC ids, Baidu, Volcengine, Vercel Blob), AI APIs (OpenRouter, Langfuse, ElevenLabs, NVIDIA,
Cerebras, Tavily, Firecrawl, Jina, Fireworks, Voyage, Anyscale, Mistral, Cohere, Deepgram, Weights & Biases),
payments (Checkout.com, Paddle, Mercado Pago, GoCardless, Midtrans, Xendit), messaging and social (Mandrill,
Intercom, Twitter's app bearer, Meta's other prefixes, Instagram, Pinterest, Twitch, Trello, LINE, Pusher), CI/CD and
developer platforms (DevCycle, Ionic, Rootly, Unkey, Zuplo, Jenkins, Codecov, Snyk, Quay and Harbor robots),
databases (Aiven, Xata, Fauna, CockroachDB Cloud, ClickHouse Cloud, MongoDB Atlas key pairs), observability (Axiom,
Honeybadger, Coralogix, Sumo Logic, Logz.io, Better Stack, Rollbar), identity and SaaS (Stytch, Onfido, Persona,
Samsara, Adafruit IO, Bitwarden Secrets Manager, Zoho), connection strings of a dozen drivers, ``Authorization``
headers of every scheme (Basic, Bearer, NTLM, Negotiate, OAuth 1.0, SharedAccessSignature, AWS SigV4's key id, Zoho,
SSWS, ``Private-Token``…), cookies, passwords and private keys. Each is random, drawn in its vendor's shape as a
stranger remembers it; none was ever issued. ``parts`` are what must not survive (a vendor's fixed prefix is not).
"""

from __future__ import annotations

import string
from urllib.parse import quote

from tests.redact.heldout7_values import ALNUM, B64, LOWNUM, UPNUM, URLSAFE, Draw, b64
from tests.redact.heldout8_values import Cred

UPHEX = "0123456789ABCDEF"
DIGITS = string.digits


def _t(family, kind, keys, prefix, body, shape="token", suffix=""):
    """A credential ``prefix + body + suffix`` whose body is the secret part."""
    return lambda d: (lambda b: Cred(family, kind, prefix + b + suffix, keys, (b,), shape))(body(d))


def _o(family, kind, keys, body):
    return _t(family, kind, keys, "", body, "opaque")


def _sig(body_len, sig, tail, alphabet=ALNUM):
    """Azure's identifiable keys: random, a 4-character signature, more random (the whole is the secret)."""
    return lambda d: d.s(alphabet, body_len) + sig + d.s(alphabet, tail)


CLOUD = [
    _o("cloud", "azure_search_admin_key", ("AZURE_SEARCH_ADMIN_KEY", "search_api_key", "api-key"), _sig(42, "AzSe", 6)),
    _o("cloud", "azure_cosmos_key", ("COSMOS_KEY", "AZURE_COSMOS_KEY", "cosmosPrimaryKey"), lambda d: d.s(B64, 76) + "ACDb" + d.s(B64, 6) + "=="),
    _o("cloud", "azure_function_key", ("AZURE_FUNCTION_KEY", "x-functions-key", "function_key"), lambda d: d.s(URLSAFE, 46) + "AzFu" + d.s(URLSAFE, 4) + "=="),
    _o("cloud", "azure_event_grid_key", ("EVENTGRID_ACCESS_KEY", "aeg-sas-key"), _sig(40, "AZEG", 8)),
    _t("cloud", "gcs_hmac_access_id", ("GCS_HMAC_ACCESS_ID", "hmac_access_id"), "GOOG1E", lambda d: d.s(UPNUM, 55)),
    _o("cloud", "gcs_hmac_secret", ("GCS_HMAC_SECRET", "hmac_secret"), lambda d: d.s(B64, 40)),
    _t("cloud", "baidu_access_key", ("BAIDU_ACCESS_KEY", "BCE_ACCESS_KEY_ID"), "ALTAK", lambda d: d.s(ALNUM, 20)),
    _o("cloud", "baidu_secret_key", ("BAIDU_SECRET_KEY", "BCE_SECRET_ACCESS_KEY"), lambda d: d.hex(32)),
    _t("cloud", "volcengine_access_key", ("VOLC_ACCESSKEY", "volcengine_access_key"), "AKLT", lambda d: d.s(ALNUM + "-_", 44)),
    _t("cloud", "vercel_blob_token", ("BLOB_READ_WRITE_TOKEN",), "vercel_blob_rw_", lambda d: d.s(ALNUM, 16) + "_" + d.s(ALNUM, 30)),
    _o("cloud", "vercel_token", ("VERCEL_TOKEN", "vercel_api_token"), lambda d: d.s(ALNUM, 24)),
    _o("cloud", "hcp_client_secret", ("HCP_CLIENT_SECRET",), lambda d: d.s(URLSAFE, 64)),
]
AI = [
    _t("ai", "openrouter_key", ("OPENROUTER_API_KEY",), "sk-or-v1-", lambda d: d.hex(64)),
    _t("ai", "langfuse_secret_key", ("LANGFUSE_SECRET_KEY",), "sk-lf-", lambda d: d.uuid()),
    _t("ai", "elevenlabs_key", ("ELEVENLABS_API_KEY", "xi-api-key"), "sk_", lambda d: d.hex(48)),
    _t("ai", "nvidia_key", ("NVIDIA_API_KEY", "NGC_API_KEY"), "nvapi-", lambda d: d.s(URLSAFE, 64)),
    _t("ai", "cerebras_key", ("CEREBRAS_API_KEY",), "csk-", lambda d: d.s(LOWNUM, 48)),
    _t("ai", "tavily_key", ("TAVILY_API_KEY",), "tvly-", lambda d: d.pick(["", "dev-", "prod-"]) + d.s(ALNUM, 32)),
    _t("ai", "firecrawl_key", ("FIRECRAWL_API_KEY",), "fc-", lambda d: d.hex(32)),
    _t("ai", "jina_key", ("JINA_API_KEY",), "jina_", lambda d: d.s(ALNUM, 60)),
    _t("ai", "fireworks_key", ("FIREWORKS_API_KEY",), "fw_", lambda d: d.s(ALNUM, 24)),
    _t("ai", "voyage_key", ("VOYAGE_API_KEY",), "pa-", lambda d: d.s(URLSAFE, 43)),
    _t("ai", "anyscale_key", ("ANYSCALE_API_KEY",), "esecret_", lambda d: d.s(LOWNUM, 26)),
    _o("ai", "mistral_key", ("MISTRAL_API_KEY", "mistral_api_key"), lambda d: d.s(ALNUM, 32)),
    _o("ai", "cohere_key", ("CO_API_KEY", "COHERE_API_KEY"), lambda d: d.s(ALNUM, 40)),
    _o("ai", "deepgram_key", ("DEEPGRAM_API_KEY",), lambda d: d.hex(40)),
    _o("ai", "wandb_key", ("WANDB_API_KEY",), lambda d: d.hex(40)),
    _o("ai", "azure_openai_key", ("AZURE_OPENAI_API_KEY", "api-key"), lambda d: d.hex(32)),
]
PAYMENT = [
    _t("payment", "checkout_secret_key", ("CKO_SECRET_KEY", "checkout_secret_key"), "sk_sbox_", lambda d: d.s(LOWNUM, 26)),
    _t("payment", "paddle_api_key", ("PADDLE_API_KEY",), "pdl_live_apikey_",
       lambda d: d.s(LOWNUM, 26) + "_" + d.s(ALNUM, 22) + "_" + d.s(ALNUM, 3)),
    _t("payment", "mercadopago_token", ("MP_ACCESS_TOKEN", "MERCADOPAGO_ACCESS_TOKEN"), "APP_USR-",
       lambda d: d.s(DIGITS, 16) + "-" + d.s(DIGITS, 6) + "-" + d.hex(32) + "-" + d.s(DIGITS, 9)),
    _t("payment", "gocardless_token", ("GOCARDLESS_ACCESS_TOKEN",), "live_", lambda d: d.s(URLSAFE, 40)),
    _t("payment", "midtrans_server_key", ("MIDTRANS_SERVER_KEY",), "Mid-server-", lambda d: d.s(URLSAFE, 24)),
    _t("payment", "xendit_key", ("XENDIT_SECRET_KEY",), "xnd_production_", lambda d: d.s(ALNUM, 60)),
    _o("payment", "adyen_hmac_key", ("ADYEN_HMAC_KEY", "hmacKey"), lambda d: d.s(UPHEX, 64)),
]
MESSAGING = [
    _t("messaging", "mandrill_key", ("MANDRILL_API_KEY",), "md-", lambda d: d.s(URLSAFE, 22)),
    _t("messaging", "intercom_token", ("INTERCOM_ACCESS_TOKEN",), "dG9rOj",
       lambda d: b64("tok:" + d.uuid() + ":" + d.uuid())[6:].rstrip("=")),
    _t("messaging", "twitter_bearer", ("TWITTER_BEARER_TOKEN", "X_BEARER_TOKEN"), "AAAAAAAAAAAAAAAAAAAAA",
       lambda d: d.s(ALNUM, 30) + "%3D" + d.s(ALNUM, 50)),
    _t("messaging", "meta_token", ("FB_ACCESS_TOKEN", "WHATSAPP_TOKEN"), "EAAG", lambda d: d.s(ALNUM, 180)),
    _t("messaging", "instagram_token", ("INSTAGRAM_ACCESS_TOKEN",), "IGQV", lambda d: d.s(URLSAFE, 150)),
    _t("messaging", "pinterest_token", ("PINTEREST_ACCESS_TOKEN",), "pina_", lambda d: d.s(UPNUM, 100)),
    _t("messaging", "twitch_chat_token", ("TWITCH_OAUTH", "twitch_irc_token"), "oauth:", lambda d: d.s(LOWNUM, 30)),
    _t("messaging", "trello_token", ("TRELLO_TOKEN",), "ATTA", lambda d: d.hex(64) + d.s(UPHEX, 8)),
    _o("messaging", "line_channel_token", ("LINE_CHANNEL_ACCESS_TOKEN",), lambda d: d.s(B64, 171) + "="),
    _o("messaging", "pusher_secret", ("PUSHER_APP_SECRET", "pusher_secret"), lambda d: d.hex(20)),
    _o("messaging", "zendesk_token", ("ZENDESK_API_TOKEN",), lambda d: d.s(ALNUM, 40)),
]
CICD = [
    _t("cicd", "devcycle_server_key", ("DEVCYCLE_SERVER_SDK_KEY",), "dvc_server_", lambda d: d.uuid() + "_" + d.hex(7)),
    _t("cicd", "ionic_token", ("IONIC_TOKEN",), "ion_", lambda d: d.s(ALNUM, 42)),
    _t("cicd", "rootly_key", ("ROOTLY_API_TOKEN",), "rootly_", lambda d: d.hex(64)),
    _t("cicd", "unkey_root_key", ("UNKEY_ROOT_KEY",), "unkey_", lambda d: d.s(ALNUM, 24)),
    _t("cicd", "zuplo_key", ("ZUPLO_API_KEY",), "zpka_", lambda d: d.hex(32) + "_" + d.hex(8)),
    _o("cicd", "jenkins_api_token", ("JENKINS_API_TOKEN", "jenkins_token"), lambda d: "11" + d.hex(32)),
    _o("cicd", "codecov_token", ("CODECOV_TOKEN",), lambda d: d.uuid()),
    _o("cicd", "snyk_token", ("SNYK_TOKEN",), lambda d: d.uuid()),
    _o("cicd", "quay_robot_token", ("QUAY_ROBOT_TOKEN", "REGISTRY_PASSWORD"), lambda d: d.s(UPNUM, 64)),
    _o("cicd", "harbor_robot_secret", ("HARBOR_ROBOT_SECRET", "REGISTRY_PASSWORD"), lambda d: d.s(ALNUM, 32)),
    _o("cicd", "buildkite_agent_token", ("BUILDKITE_AGENT_TOKEN",), lambda d: d.hex(50)),
]
DATABASE = [
    _t("database", "aiven_password", ("AIVEN_SERVICE_PASSWORD", "avnadmin_password"), "AVNS_", lambda d: d.s(URLSAFE, 23)),
    _t("database", "xata_key", ("XATA_API_KEY",), "xau_", lambda d: d.s(ALNUM, 36)),
    _t("database", "fauna_secret", ("FAUNA_SECRET",), "fnA", lambda d: d.s(URLSAFE, 37)),
    _t("database", "cockroach_key", ("COCKROACH_API_KEY",), "CCDB1_", lambda d: d.s(ALNUM, 22) + "_" + d.s(ALNUM, 38)),
    _t("database", "clickhouse_cloud_secret", ("CLICKHOUSE_KEY_SECRET",), "4b1d", lambda d: d.s(ALNUM, 38)),
    _o("database", "atlas_private_key", ("MONGODB_ATLAS_PRIVATE_KEY", "atlas_private_key"), lambda d: d.uuid()),
    _o("database", "weaviate_key", ("WEAVIATE_API_KEY",), lambda d: d.s(ALNUM, 40)),
    _o("database", "qdrant_key", ("QDRANT_API_KEY",), lambda d: d.s(URLSAFE, 32)),
]
OBSERVABILITY = [
    _t("observability", "axiom_token", ("AXIOM_TOKEN",), "xaat-", lambda d: d.uuid()),
    _t("observability", "axiom_personal_token", ("AXIOM_TOKEN",), "xapt-", lambda d: d.uuid()),
    _t("observability", "honeybadger_key", ("HONEYBADGER_API_KEY",), "hbp_", lambda d: d.s(ALNUM, 36)),
    _t("observability", "coralogix_key", ("CORALOGIX_PRIVATE_KEY", "CX_API_KEY"), "cxtp_", lambda d: d.s(ALNUM, 30)),
    _o("observability", "sumo_access_key", ("SUMO_ACCESS_KEY", "sumo_access_key"), lambda d: d.s(ALNUM, 64)),
    _o("observability", "logzio_token", ("LOGZIO_TOKEN", "logzio_shipping_token"), lambda d: d.s(ALNUM, 32)),
    _o("observability", "betterstack_token", ("LOGTAIL_SOURCE_TOKEN", "BETTERSTACK_SOURCE_TOKEN"), lambda d: d.s(ALNUM, 24)),
    _o("observability", "rollbar_token", ("ROLLBAR_ACCESS_TOKEN", "rollbar_token"), lambda d: d.hex(32)),
    _o("observability", "datadog_api_key", ("DD_API_KEY", "datadog_api_key"), lambda d: d.hex(32)),
    _o("observability", "pagerduty_routing_key", ("PAGERDUTY_ROUTING_KEY", "routing_key"), lambda d: d.hex(32)),
]
SAAS = [
    _t("saas", "stytch_secret", ("STYTCH_SECRET",), "secret-live-", lambda d: d.s(URLSAFE, 36)),
    _t("saas", "onfido_token", ("ONFIDO_API_TOKEN",), "api_live.", lambda d: d.s(URLSAFE, 11) + "." + d.s(URLSAFE, 32)),
    _t("saas", "persona_key", ("PERSONA_API_KEY",), "persona_production_", lambda d: d.uuid()),
    _t("saas", "samsara_token", ("SAMSARA_API_TOKEN",), "samsara_api_", lambda d: d.s(ALNUM, 30)),
    _t("saas", "adafruit_key", ("ADAFRUIT_IO_KEY", "aio_key"), "aio_", lambda d: d.s(ALNUM, 28)),
    _t("saas", "bitwarden_access_token", ("BWS_ACCESS_TOKEN",), "0.",
       lambda d: d.uuid() + "." + d.s(ALNUM, 30) + ":" + d.s(B64, 22) + "=="),
    _t("saas", "zoho_token", ("ZOHO_ACCESS_TOKEN", "zoho_refresh_token"), "1000.", lambda d: d.hex(32) + "." + d.hex(32)),
    _o("saas", "segment_write_key", ("SEGMENT_WRITE_KEY",), lambda d: d.s(ALNUM, 32)),
    _o("saas", "auth0_client_secret", ("AUTH0_CLIENT_SECRET",), lambda d: d.s(URLSAFE, 64)),
]
TOKEN_FAMILIES = {"cloud": CLOUD, "ai": AI, "payment": PAYMENT, "messaging": MESSAGING, "cicd": CICD, "database": DATABASE,
                  "observability": OBSERVABILITY, "saas": SAAS}


def token(d: Draw, family: str) -> Cred:
    return d.pick(TOKEN_FAMILIES[family])(d)


# -- Authorization headers of every scheme: (name, value) with value "Scheme credential" -------------------------------
def header(d: Draw) -> Cred:
    r = d.randrange(13)
    if r == 0:
        cred = b64(f"{d.pick(['svc-ci', 'admin', 'api'])}:{d.s(ALNUM + '!@#', 18)}")
        return Cred("header", "basic", "Basic " + cred, ("Authorization",), (cred,), "header")
    if r == 1:
        cred = d.s(URLSAFE, 43)
        return Cred("header", "bearer_opaque", "Bearer " + cred, ("Authorization",), (cred,), "header")
    if r == 2:
        cred = "TlRMTVNTUAADAAAAGAAYA" + d.s(B64, 300) + "=="
        return Cred("header", "ntlm", "NTLM " + cred, ("Authorization",), (cred[21:],), "header")
    if r == 3:
        cred = "YIIG" + d.s(B64, 600) + "=="
        return Cred("header", "negotiate", "Negotiate " + cred, ("Authorization",), (cred[4:],), "header")
    if r == 4:
        tok, sig = f"{d.s(DIGITS, 19)}-{d.s(ALNUM, 31)}", quote(b64(d.randbytes(20)), safe="")
        v = (f'OAuth oauth_consumer_key="{d.s(ALNUM, 25)}", oauth_nonce="{d.s(ALNUM, 32)}", oauth_signature="{sig}", '
             f'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1796610067", oauth_token="{tok}", oauth_version="1.0"')
        return Cred("header", "oauth1", v, ("Authorization",), (tok,), "header")
    if r == 5:
        sig = quote(b64(d.randbytes(32)), safe="")
        v = f"SharedAccessSignature sr=acme-hub.azure-devices.net%2Fdevices%2Fsensor-7&sig={sig}&se=1796610067&skn=iothubowner"
        return Cred("header", "azure_sas", v, ("Authorization",), (sig,), "header")
    if r == 6:
        kid = "AKIA" + d.s(UPNUM, 16)
        v = (f"AWS4-HMAC-SHA256 Credential={kid}/20261207/eu-west-1/s3/aws4_request, "
             f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={d.hex(64)}")
        return Cred("header", "aws_sigv4_key_id", v, ("Authorization",), (kid[4:],), "header")
    if r == 7:
        cred = "1000." + d.hex(32) + "." + d.hex(32)
        return Cred("header", "zoho", "Zoho-oauthtoken " + cred, ("Authorization",), (cred[5:],), "header")
    if r == 8:
        cred = "00" + d.s(URLSAFE, 40)
        return Cred("header", "okta_ssws", "SSWS " + cred, ("Authorization",), (cred,), "header")
    if r == 9:
        cred = d.s(URLSAFE, 20)
        return Cred("header", "gitlab_private_token", cred, ("Private-Token", "PRIVATE-TOKEN"), (cred,), "header")
    if r == 10:
        cred = d.s(ALNUM, 40)
        return Cred("header", "x_auth_token", cred, ("X-Auth-Token", "X-Access-Token", "Api-Token", "X-Api-Secret"), (cred,), "header")
    if r == 11:
        cred = d.hex(37)
        return Cred("header", "cloudflare_global_key", cred, ("X-Auth-Key",), (cred,), "header")
    cred = d.s(ALNUM, 32)
    return Cred("header", "apikey_header", cred, ("apikey", "x-goog-api-key", "X-Algolia-API-Key", "Ocp-Apim-Subscription-Key"), (cred,), "header")


# -- session cookies ---------------------------------------------------------------------------------------------------
def cookie(d: Draw) -> Cred:
    r = d.randrange(8)
    if r == 0:
        v = "s%3A" + d.s(URLSAFE, 32) + "." + quote(d.s(B64, 43), safe="")
        return Cred("cookie", "express_sid", v, ("connect.sid",), (v[4:],), "cookie")
    if r == 1:
        v = d.s(UPHEX, 32)
        return Cred("cookie", "jsessionid", v, ("JSESSIONID",), (v,), "cookie")
    if r == 2:
        v = "CfDJ8" + d.s(URLSAFE, 300)
        return Cred("cookie", "aspnetcore", v, (".AspNetCore.Cookies", ".AspNetCore.Session"), (v[5:],), "cookie")
    if r == 3:
        v = d.s(ALNUM, 64)
        return Cred("cookie", "remember_token", v, ("remember_token", "remember_user_token"), (v,), "cookie")
    if r == 4:
        v = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + d.s(URLSAFE, 16) + "." + d.s(URLSAFE, 200) + "." + d.s(URLSAFE, 22)
        return Cred("cookie", "next_auth", v, ("__Secure-next-auth.session-token", "__Secure-authjs.session-token"), (v[42:],), "cookie")
    if r == 5:
        v = d.s(LOWNUM, 32)
        return Cred("cookie", "django_session", v, ("sessionid",), (v,), "cookie")
    if r == 6:
        v = d.s(ALNUM, 40)
        return Cred("cookie", "auth_token", v, ("auth_token", "access_token", "__Host-token"), (v,), "cookie")
    v = "base64-" + b64('{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' + d.s(URLSAFE, 120) + '"}')
    return Cred("cookie", "supabase_auth", v, ("sb-acme-auth-token",), (v[60:],), "cookie")


# -- passwords and connection strings ---------------------------------------------------------------------------------
WORDS = ["harbor", "velvet", "quartz", "maple", "otter", "saffron", "glacier", "ember", "willow", "cobalt", "falcon", "juniper"]


def password_value(d: Draw) -> str:
    r = d.randrange(5)
    if r == 0:
        return d.pick(WORDS).capitalize() + d.pick(WORDS) + str(d.randrange(10, 9999)) + d.pick("!#$%*")
    if r == 1:
        return d.s(ALNUM + "!#$%&*+-=?@^_", 20)
    if r == 2:
        return "-".join(d.pick(WORDS) for _ in range(4)) + str(d.randrange(10))
    if r == 3:
        return d.s(ALNUM, 24)
    return b64(d.randbytes(18))


def password(d: Draw) -> Cred:
    p = password_value(d)
    keys = ("password", "DB_PASSWORD", "db_password", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "adminPassword",
            "spring.datasource.password", "ldap_bind_password", "smtp_pass")
    return Cred("password", "password", p, keys, (p,), "password")


def connection_string(d: Draw) -> Cred:
    """A driver's connection string holding a password: (the whole string, its password)."""
    u, h, p = d.pick(["app", "svc_api", "report_ro", "sa"]), d.pick(["db.internal", "10.0.3.17", "pg-01.acme.io"]), password_value(d)
    q = quote(p, safe="")
    forms = [
        ("jdbc_pg_params", f"jdbc:postgresql://{h}:5432/orders?user={u}&password={q}&ssl=true"),
        ("jdbc_mysql", f"jdbc:mysql://{h}:3306/orders?user={u}&password={q}&useSSL=true"),
        ("jdbc_sqlserver", f"jdbc:sqlserver://{h}:1433;databaseName=orders;user={u};password={{{p}}};encrypt=true"),
        ("odbc", f"Driver={{PostgreSQL Unicode}};Server={h};Port=5432;Database=orders;Uid={u};Pwd={{{p}}};"),
        ("adonet", f"Server=tcp:{h},1433;Initial Catalog=orders;Persist Security Info=False;User ID={u};Password={p};"),
        ("go_mysql_dsn", f"{u}:{p}@tcp({h}:3306)/orders?parseTime=true&loc=UTC"),
        ("sqlalchemy", f"mysql+pymysql://{u}:{q}@{h}:3306/orders?charset=utf8mb4"),
        ("libpq", f"host={h} port=5432 dbname=orders user={u} password='{p}' sslmode=require"),
        ("clickhouse", f"clickhouse://{u}:{q}@{h}:9000/default?secure=true"),
        ("mssql_url", f"sqlserver://{u}:{q}@{h}:1433?database=orders"),
        ("oracle_easy", f"{u}/{p}@{h}:1521/ORCLPDB1"),
        ("redis", f"rediss://default:{q}@{h}:6380/0"),
        ("neo4j", f"neo4j+s://{u}:{q}@{h}:7687"),
    ]
    kind, v = d.pick(forms)
    return Cred("connstr", kind, v, ("DATABASE_URL", "ConnectionStrings__Default", "SQLALCHEMY_DATABASE_URI", "db_dsn",
                                     "spring.datasource.url", "connectionString"), (p,), "connstr")


# -- private keys -------------------------------------------------------------------------------------------------------
_DER = {"RSA PRIVATE KEY": "MIIEowIBAAKCAQEA", "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
        "EC PRIVATE KEY": "MHcCAQEEI", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAA",
        "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI", "DSA PRIVATE KEY": "MIIBuwIBAAKBgQ"}


def private_key(d: Draw) -> Cred:
    label = d.pick(sorted(_DER))
    n = {"EC PRIVATE KEY": 2, "OPENSSH PRIVATE KEY": 6, "DSA PRIVATE KEY": 6}.get(label, 24)
    body = _DER[label] + d.s(B64, 64 * n - len(_DER[label]) + d.randrange(0, 40))
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
    parts = tuple(ln for ln in lines[1:] if len(ln) >= 8) or (lines[0][len(_DER[label]):],)
    return Cred("key", label.lower().replace(" ", "_"), text, ("PRIVATE_KEY", "private_key", "tls.key", "client-key"), parts, "block")
