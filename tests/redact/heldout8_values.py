"""The eighth held-out-style corpus' values (``tests/redact/heldout_style8.py``): what a 2026 service leaks that the
first seven corpora did not draw — credentials of less common clouds (Scaleway, Linode, Vultr, Hetzner, OVH, Backblaze,
Tencent, Huawei, Yandex, Akamai, Exoscale, Upstash, Cloudinary), of SaaS and developer tools (LaunchDarkly, PostHog,
HubSpot, Airtable, Asana, ClickUp, Resend, Plaid, Auth0, Ably, Salesforce, SonarQube, Azure DevOps, ngrok, Elastic,
InfluxDB, Splunk, PagerDuty, Opsgenie, Telnyx, OneSignal, Klaviyo, RapidAPI, Azure APIM), infrastructure join and agent
tokens (kubeadm, k3s, Docker Swarm, Consul/Nomad, NATS NKEY seeds, Cloudflare tunnels), frameworks' application
secrets (Django, Rails, Laravel, Fernet, Phoenix, NextAuth), token formats (PASETO, JWE, macaroons v1 and lnd's hex,
TOTP seeds), key material that is no PEM (minisign, signify, OpenVPN static keys, Nostr ``nsec1``, Solana keypairs,
base64 keystores and keytabs), webhook URLs of a dozen services, signed URLs (GCS, CloudFront, Alibaba OSS, Firebase
Storage), session cookies of a dozen frameworks, and passwords (people's, generators', passphrases, non-ASCII, Apple
app-specific). Each is random, drawn in its vendor's shape as remembered; none was ever issued. ``parts`` are what
must not survive.
"""

from __future__ import annotations

import base64
import json
import string
from dataclasses import dataclass

from tests.redact.heldout7_values import ALNUM, B64, HEX, LOWNUM, UPNUM, URLSAFE, Draw, b64, b64u
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@dataclass(frozen=True)
class Cred:
    """A secret: family, kind, the string as written, the names it goes by, what must not survive, and its shape:
    ``token`` (names itself), ``opaque`` (only its name says), ``password``, ``url`` (a URL that carries its own
    secret), ``header`` (a value of an HTTP header named in ``keys``), ``cookie`` (a cookie named in ``keys``),
    ``block`` (multi-line key material)."""

    family: str
    kind: str
    value: str
    keys: tuple[str, ...]
    parts: tuple[str, ...]
    shape: str = "token"


def _t(family, kind, keys, prefix, body, shape="token", suffix=""):
    """A credential ``prefix + body + suffix`` whose body is the secret part."""
    return lambda d: (lambda b: Cred(family, kind, prefix + b + suffix, keys, (b,), shape))(body(d))


def _o(family, kind, keys, body):
    return _t(family, kind, keys, "", body, "opaque")


# -- clouds few corpora name -------------------------------------------------------------------------------------
CLOUD = [
    _t("cloud", "scaleway_access_key", ("SCW_ACCESS_KEY",), "SCW", lambda d: d.s(UPNUM, 17)),
    _o("cloud", "scaleway_secret_key", ("SCW_SECRET_KEY", "scw_secret_key"), lambda d: d.uuid()),
    _o("cloud", "linode_token", ("LINODE_TOKEN", "LINODE_CLI_TOKEN"), lambda d: d.hex(64)),
    _o("cloud", "vultr_api_key", ("VULTR_API_KEY",), lambda d: d.s(string.ascii_uppercase + string.digits, 36)),
    _o("cloud", "hetzner_token", ("HCLOUD_TOKEN", "hcloud_token"), lambda d: d.s(ALNUM, 64)),
    _o("cloud", "ovh_application_secret", ("OVH_APPLICATION_SECRET", "application_secret"), lambda d: d.s(ALNUM, 32)),
    _o("cloud", "ovh_consumer_key", ("OVH_CONSUMER_KEY", "consumer_key"), lambda d: d.s(ALNUM, 32)),
    _t("cloud", "backblaze_app_key", ("B2_APPLICATION_KEY", "b2_application_key"), "K00", lambda d: d.s("1234", 1) + d.s(ALNUM + "+/", 27)),
    _t("cloud", "tencent_secret_id", ("TENCENTCLOUD_SECRET_ID", "SecretId"), "AKID", lambda d: d.s(ALNUM, 32)),
    _o("cloud", "tencent_secret_key", ("TENCENTCLOUD_SECRET_KEY", "SecretKey"), lambda d: d.s(ALNUM, 32)),
    _o("cloud", "huawei_secret_key", ("HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"), lambda d: d.s(ALNUM, 40)),
    _t("cloud", "yandex_api_key", ("YC_API_KEY", "yandex_api_key"), "AQVN", lambda d: d.s(URLSAFE, 36)),
    _t("cloud", "yandex_iam_token", ("YC_TOKEN", "IAM_TOKEN"), "t1.9euelZ", lambda d: d.s(URLSAFE, 120) + "." + d.s(URLSAFE, 86)),
    _t("cloud", "akamai_client_secret", ("client_secret", "AKAMAI_CLIENT_SECRET"), "", lambda d: d.s(B64, 43) + "=", "opaque"),
    _t("cloud", "akamai_access_token", ("access_token", "AKAMAI_ACCESS_TOKEN"), "akab-", lambda d: d.s(LOWNUM, 16) + "-" + d.s(LOWNUM, 16)),
    _t("cloud", "exoscale_key", ("EXOSCALE_API_KEY",), "EXO", lambda d: d.hex(24)),
    _o("cloud", "exoscale_secret", ("EXOSCALE_API_SECRET",), lambda d: d.s(URLSAFE, 43)),
    _o("cloud", "upstash_rest_token", ("UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_TOKEN"), lambda d: "A" + d.s("XYZ", 1) + d.s(ALNUM, 58) + "="),
    lambda d: (lambda k, s, c: Cred("cloud", "cloudinary_url", f"cloudinary://{k}:{s}@{c}", ("CLOUDINARY_URL",), (s,), "url"))(
        str(d.randrange(10**14, 10**15)), d.s(URLSAFE, 27), d.pick(["acme", "dx8kq2", "media-prod"])),
]

# -- SaaS and developer tools --------------------------------------------------------------------------------------
SAAS = [
    _t("saas", "launchdarkly_sdk_key", ("LAUNCHDARKLY_SDK_KEY", "LD_SDK_KEY"), "sdk-", lambda d: d.uuid()),
    _t("saas", "launchdarkly_api_token", ("LAUNCHDARKLY_ACCESS_TOKEN",), "api-", lambda d: d.uuid()),
    _t("saas", "posthog_personal_key", ("POSTHOG_PERSONAL_API_KEY",), "phx_", lambda d: d.s(ALNUM, 43)),
    _t("saas", "hubspot_private_app", ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_PRIVATE_APP_TOKEN"), "pat-na1-", lambda d: d.uuid()),
    _t("saas", "airtable_pat", ("AIRTABLE_API_KEY", "AIRTABLE_TOKEN"), "pat", lambda d: d.s(ALNUM, 14) + "." + d.hex(64)),
    _t("saas", "asana_pat", ("ASANA_ACCESS_TOKEN", "ASANA_PAT"), "2/", lambda d: f"{d.randrange(10**15, 10**16)}/{d.randrange(10**15, 10**16)}:{d.hex(32)}"),
    _t("saas", "clickup_token", ("CLICKUP_API_TOKEN",), "pk_", lambda d: f"{d.randrange(10**7, 10**8)}_{d.s(UPNUM, 32)}"),
    _t("saas", "resend_key", ("RESEND_API_KEY",), "re_", lambda d: d.s(ALNUM, 8) + "_" + d.s(ALNUM, 24)),
    _t("saas", "plaid_access_token", ("plaid_access_token", "PLAID_ACCESS_TOKEN"), "access-production-", lambda d: d.uuid()),
    _o("saas", "plaid_secret", ("PLAID_SECRET",), lambda d: d.hex(30)),
    _o("saas", "auth0_client_secret", ("AUTH0_CLIENT_SECRET", "clientSecret"), lambda d: d.s(URLSAFE, 64)),
    lambda d: (lambda a, k, s: Cred("saas", "ably_key", f"{a}.{k}:{s}", ("ABLY_API_KEY", "ably_key"), (s,), "opaque"))(
        d.s(ALNUM, 6), d.s(URLSAFE, 6), d.s(URLSAFE, 43)),
    _t("saas", "salesforce_access_token", ("SF_ACCESS_TOKEN", "sessionId"), "00D",
       lambda d: d.s(UPNUM, 12) + "!AQ" + d.s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._", 94)),
    _t("saas", "salesforce_refresh_token", ("SF_REFRESH_TOKEN", "refresh_token"), "5Aep861", lambda d: d.s(ALNUM + ".", 80)),
    _t("saas", "sonarqube_token", ("SONAR_TOKEN",), "sqp_", lambda d: d.hex(40)),
    _o("saas", "azure_devops_pat", ("AZURE_DEVOPS_PAT", "SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_EXT_PAT"),
       lambda d: d.s(ALNUM, 52) + "JQQJ99" + d.s(ALNUM, 18) + "AZDO" + d.s(ALNUM, 4)),
    _o("saas", "ngrok_authtoken", ("NGROK_AUTHTOKEN", "authtoken"), lambda d: "2" + d.s(ALNUM, 26) + "_" + d.s(ALNUM, 21)),
    _o("saas", "influxdb_token", ("INFLUX_TOKEN", "INFLUXDB_TOKEN"), lambda d: d.s(URLSAFE, 86) + "=="),
    _o("saas", "pagerduty_routing_key", ("PAGERDUTY_ROUTING_KEY", "routing_key", "integration_key"), lambda d: d.hex(32)),
    _t("saas", "telnyx_key", ("TELNYX_API_KEY",), "KEY", lambda d: d.s(UPNUM, 26) + "_" + d.s(ALNUM, 22)),
    _t("saas", "onesignal_key", ("ONESIGNAL_REST_API_KEY",), "os_v2_app_", lambda d: d.s("abcdefghijklmnopqrstuvwxyz234567", 113)),
    _o("saas", "algolia_admin_key", ("ALGOLIA_ADMIN_API_KEY", "ALGOLIA_ADMIN_KEY"), lambda d: d.hex(32)),
    _o("saas", "vonage_api_secret", ("VONAGE_API_SECRET", "NEXMO_API_SECRET"), lambda d: d.s(ALNUM, 16)),
    _o("saas", "twitch_client_secret", ("TWITCH_CLIENT_SECRET",), lambda d: d.s(LOWNUM, 30)),
    _o("saas", "firebase_db_secret", ("FIREBASE_DATABASE_SECRET", "firebase_secret"), lambda d: d.s(ALNUM, 40)),
]

# -- values of HTTP headers named by the service ------------------------------------------------------------------
HEADERS = [
    _t("header", "azure_apim", ("Ocp-Apim-Subscription-Key",), "", lambda d: d.hex(32), "header"),
    _t("header", "rapidapi", ("X-RapidAPI-Key",), "", lambda d: d.s(ALNUM, 50), "header"),
    _t("header", "splunk_hec", ("Authorization",), "Splunk ", lambda d: d.uuid(), "header"),
    _t("header", "opsgenie", ("Authorization",), "GenieKey ", lambda d: d.uuid(), "header"),
    _t("header", "elastic_apikey", ("Authorization",), "ApiKey ", lambda d: b64(f"{d.s(URLSAFE, 20)}:{d.s(URLSAFE, 22)}"), "header"),
    _t("header", "influx_token_header", ("Authorization",), "Token ", lambda d: d.s(URLSAFE, 86) + "==", "header"),
    _t("header", "pagerduty_rest", ("Authorization",), "Token token=", lambda d: "u+" + d.s(URLSAFE, 18), "header"),
    _t("header", "klaviyo_private", ("Authorization",), "Klaviyo-API-Key pk_", lambda d: d.hex(34), "header"),
    _t("header", "consul_token", ("X-Consul-Token",), "", lambda d: d.uuid(), "header"),
    _t("header", "nomad_token", ("X-Nomad-Token",), "", lambda d: d.uuid(), "header"),
    _t("header", "proxy_basic", ("Proxy-Authorization",), "Basic ", lambda d: b64(f"{d.pick(['proxy', 'svc-egress'])}:{d.s(ALNUM, 18)}"), "header"),
    _t("header", "typesense", ("X-TYPESENSE-API-KEY",), "", lambda d: d.s(ALNUM, 32), "header"),
    _t("header", "lnd_macaroon", ("Grpc-Metadata-macaroon",), "0201036c6e6402f801", lambda d: d.hex(440), "header"),
    _t("header", "amz_security_token", ("X-Amz-Security-Token",), "FwoGZXIvYXdzE", lambda d: d.s(B64, 300), "header"),
]

# -- join and agent tokens of infrastructure -----------------------------------------------------------------------
INFRA = [
    _t("infra", "kubeadm_token", ("token", "bootstrap_token"), "", lambda d: d.s(LOWNUM, 6) + "." + d.s(LOWNUM, 16), "opaque"),
    _t("infra", "k3s_token", ("K3S_TOKEN", "token"), "K10", lambda d: d.hex(64) + "::server:" + d.hex(32)),
    _t("infra", "swarm_join_token", ("SWARM_TOKEN", "join_token"), "SWMTKN-1-", lambda d: d.s(LOWNUM, 50) + "-" + d.s(LOWNUM, 25)),
    _o("infra", "consul_secret_id", ("SecretID", "CONSUL_HTTP_TOKEN"), lambda d: d.uuid()),
    _o("infra", "nomad_secret_id", ("Secret ID", "NOMAD_TOKEN"), lambda d: d.uuid()),
    _t("infra", "nats_nkey_seed", ("NKEY_SEED", "nkey", "seed"), "SU", lambda d: d.s(B32, 56)),
    _t("infra", "nats_account_seed", ("ACCOUNT_SEED", "seed"), "SA", lambda d: d.s(B32, 56)),
    lambda d: (lambda a, t, s: Cred("infra", "cloudflare_tunnel", b64(json.dumps({"a": a, "t": t, "s": s}, separators=(",", ":"))),
                                    ("TUNNEL_TOKEN", "CLOUDFLARED_TOKEN"), (b64(json.dumps({"a": a, "t": t, "s": s}, separators=(",", ":")))[40:],)))(
        d.hex(32), d.uuid(), b64(d.randbytes(32))),
    _o("infra", "vault_unseal_key", ("Unseal Key 1", "unseal_key"), lambda d: b64(d.randbytes(33))),
    _t("infra", "vault_root_token", ("Initial Root Token", "VAULT_TOKEN"), "hvs.", lambda d: d.s(ALNUM, 24)),
]

# -- application secrets of frameworks -----------------------------------------------------------------------------
APP = [
    _t("app_secret", "django_secret_key", ("SECRET_KEY", "DJANGO_SECRET_KEY"), "django-insecure-",
       lambda d: d.s(string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50)),
    _o("app_secret", "django_secret_key_prod", ("SECRET_KEY", "DJANGO_SECRET_KEY"), lambda d: d.s(string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50)),
    _o("app_secret", "rails_secret_key_base", ("SECRET_KEY_BASE", "secret_key_base"), lambda d: d.hex(128)),
    _t("app_secret", "laravel_app_key", ("APP_KEY",), "base64:", lambda d: b64(d.randbytes(32)), "opaque"),
    _o("app_secret", "fernet_key", ("FERNET_KEY", "AIRFLOW__CORE__FERNET_KEY", "encryption_key"), lambda d: base64.urlsafe_b64encode(d.randbytes(32)).decode()),
    _o("app_secret", "phoenix_secret", ("SECRET_KEY_BASE", "secret_key_base"), lambda d: d.s(B64, 64)),
    _o("app_secret", "nextauth_secret", ("NEXTAUTH_SECRET", "AUTH_SECRET"), lambda d: b64(d.randbytes(32))),
    _o("app_secret", "jwt_signing_secret", ("JWT_SECRET", "jwtSecret", "JWT_SIGNING_KEY"), lambda d: d.s(ALNUM + "!#%&*+-=?@^_", 48)),
    _o("app_secret", "symfony_app_secret", ("APP_SECRET",), lambda d: d.hex(32)),
    _o("app_secret", "webhook_signing_secret", ("WEBHOOK_SECRET", "signing_secret", "GITHUB_WEBHOOK_SECRET"), lambda d: d.hex(40)),
]


# -- token formats -------------------------------------------------------------------------------------------------
def _paseto(d: Draw) -> Cred:
    ver, purpose = d.pick(["v4", "v3", "v2"]), d.pick(["local", "public"])
    body = d.s(URLSAFE, d.pick([120, 180, 260]))
    return Cred("token_format", f"paseto_{purpose}", f"{ver}.{purpose}.{body}", ("access_token", "token", "PASETO_TOKEN"), (body,))


def _jwe(d: Draw) -> Cred:
    head = b64u(json.dumps({"alg": d.pick(["RSA-OAEP-256", "dir", "ECDH-ES+A256KW"]), "enc": "A256GCM"}, separators=(",", ":")).encode())
    parts = (b64u(d.randbytes(256)), b64u(d.randbytes(12)), b64u(d.randbytes(d.pick([96, 220]))), b64u(d.randbytes(16)))
    return Cred("token_format", "jwe", head + "." + ".".join(parts), ("id_token", "session_token", "token"), parts[0:1] + parts[2:])


def _macaroon(d: Draw) -> Cred:
    def pkt(k: str, v: bytes) -> bytes:
        return f"{len(k) + len(v) + 6:04x}{k} ".encode() + v + b"\n"
    raw = pkt("location", b"https://api.acme.io") + pkt("identifier", d.hex(32).encode()) + pkt("signature", d.randbytes(32))
    v = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return Cred("token_format", "macaroon_v1", v, ("macaroon", "X-Macaroon", "discharge"), (v[30:],))


def _totp(d: Draw) -> Cred:
    s = d.s(B32, d.pick([16, 32]))
    return Cred("token_format", "totp_seed", s, ("totp_secret", "mfa_secret", "otp_seed", "TOTP_SECRET"), (s,), "opaque")


def _otpauth(d: Draw) -> Cred:
    s = d.s(B32, 32)
    user = d.pick(["alice@acme.io", "ops", "deploy-bot"])
    return Cred("token_format", "otpauth_uri", f"otpauth://totp/Acme:{user}?secret={s}&issuer=Acme&algorithm=SHA1&digits=6&period=30",
                ("otpauth_uri", "provisioning_uri"), (s,), "url")


TOKEN_FORMATS = [_paseto, _jwe, _macaroon, _totp, _otpauth]


# -- webhook and signed URLs ---------------------------------------------------------------------------------------
def _url(family, kind, keys, make):
    def draw(d: Draw) -> Cred:
        url, parts = make(d)
        return Cred(family, kind, url, keys, parts, "url")
    return draw


URLS = [
    _url("webhook", "google_chat", ("GOOGLE_CHAT_WEBHOOK",), lambda d: (lambda t: (
        f"https://chat.googleapis.com/v1/spaces/AAAA{d.s(URLSAFE, 7)}/messages?key=AIzaSy{d.s(URLSAFE, 33)}&token={t}", (t,)))(d.s(URLSAFE, 43))),
    _url("webhook", "mattermost", ("MATTERMOST_WEBHOOK_URL",), lambda d: (lambda t: (f"https://chat.acme.io/hooks/{t}", (t,)))(d.s(LOWNUM, 26))),
    _url("webhook", "ifttt", ("IFTTT_WEBHOOK",), lambda d: (lambda t: (f"https://maker.ifttt.com/trigger/deploy_done/with/key/{t}", (t,)))(d.s(URLSAFE, 22))),
    _url("webhook", "dingtalk", ("DINGTALK_WEBHOOK",), lambda d: (lambda t: (f"https://oapi.dingtalk.com/robot/send?access_token={t}", (t,)))(d.hex(64))),
    _url("webhook", "feishu", ("FEISHU_WEBHOOK", "LARK_WEBHOOK"), lambda d: (lambda t: (f"https://open.feishu.cn/open-apis/bot/v2/hook/{t}", (t,)))(d.uuid())),
    _url("webhook", "wecom", ("WECOM_WEBHOOK",), lambda d: (lambda t: (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={t}", (t,)))(d.uuid())),
    _url("webhook", "rocketchat", ("ROCKETCHAT_WEBHOOK",), lambda d: (lambda a, b: (f"https://chat.acme.io/hooks/{a}/{b}", (b,)))(d.s(ALNUM, 17), d.s(ALNUM, 48))),
    _url("webhook", "teams_workflow", ("TEAMS_WEBHOOK_URL",), lambda d: (lambda s: (
        f"https://prod-{d.randrange(10, 99)}.westeurope.logic.azure.com:443/workflows/{d.hex(32)}/triggers/manual/paths/invoke"
        f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={s}", (s,)))(d.s(URLSAFE, 43))),
    _url("webhook", "make_hook", ("MAKE_WEBHOOK",), lambda d: (lambda t: (f"https://hook.eu1.make.com/{t}", (t,)))(d.s(LOWNUM, 32))),
    _url("webhook", "netlify_build_hook", ("NETLIFY_BUILD_HOOK",), lambda d: (lambda t: (f"https://api.netlify.com/build_hooks/{t}", (t,)))(d.hex(24))),
    _url("webhook", "home_assistant", ("HA_WEBHOOK",), lambda d: (lambda t: (f"https://ha.acme.home/api/webhook/{t}", (t,)))(d.s(URLSAFE, 40))),
    _url("webhook", "gitlab_trigger", ("TRIGGER_URL",), lambda d: (lambda t: (
        f"https://gitlab.acme.io/api/v4/projects/{d.randrange(999)}/trigger/pipeline?token={t}&ref=main", (t,)))(d.hex(30))),
    _url("signed_url", "gcs_v4", ("signed_url", "download_url"), lambda d: (lambda sig: (
        "https://storage.googleapis.com/acme-exports/report.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential="
        "exporter%40acme-prod.iam.gserviceaccount.com%2F20261207%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261207T024107Z"
        f"&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature={sig}", (sig,)))(d.hex(512))),
    _url("signed_url", "cloudfront", ("signed_url", "video_url"), lambda d: (lambda sig: (
        f"https://d{d.s(LOWNUM, 13)}.cloudfront.net/videos/intro.m3u8?Expires=1796610067&Signature={sig}&Key-Pair-Id=K{d.s(UPNUM, 13)}",
        (sig,)))(d.s(ALNUM + "-~_", 172))),
    _url("signed_url", "alibaba_oss", ("signed_url",), lambda d: (lambda k, sig: (
        f"https://acme.oss-cn-hangzhou.aliyuncs.com/backup.tar?OSSAccessKeyId=LTAI5t{k}&Expires=1796610067&Signature={sig}",
        (k, sig)))(d.s(ALNUM, 18), d.s(ALNUM, 26) + "%3D")),
    _url("signed_url", "firebase_storage", ("download_url", "avatar_url"), lambda d: (lambda t: (
        f"https://firebasestorage.googleapis.com/v0/b/acme-prod.appspot.com/o/avatars%2F{d.randrange(10**6)}.png?alt=media&token={t}",
        (t,)))(d.uuid())),
]


# -- session cookies -----------------------------------------------------------------------------------------------
def _cookie(kind, name, make):
    def draw(d: Draw) -> Cred:
        v, parts = make(d)
        return Cred("cookie", kind, v, (name,), parts, "cookie")
    return draw


COOKIES = [
    _cookie("express", "connect.sid", lambda d: (lambda a, b: (f"s%3A{a}.{b}", (a, b)))(d.s(URLSAFE, 32), d.s(ALNUM, 43) + "%2B" + d.s(ALNUM, 4))),
    _cookie("rails", "_acme_session", lambda d: (lambda a, b: (f"{a}--{b}", (a, b)))(d.s(B64, 180).replace("+", "%2B").replace("/", "%2F"), d.hex(40))),
    _cookie("laravel", "laravel_session", lambda d: (lambda v: (v, (v[20:],)))(b64(json.dumps(
        {"iv": b64(d.randbytes(16)), "value": b64(d.randbytes(96)), "mac": d.hex(64), "tag": ""})).replace("=", "%3D"))),
    _cookie("aspnet", ".AspNetCore.Cookies", lambda d: (lambda v: (v, (v,)))("CfDJ8" + d.s(URLSAFE, 300))),
    _cookie("django", "sessionid", lambda d: (lambda v: (v, (v,)))(d.s(LOWNUM, 32))),
    _cookie("jsessionid", "JSESSIONID", lambda d: (lambda v: (v, (v,)))(d.s("0123456789ABCDEF", 32))),
    _cookie("nextauth", "__Secure-next-auth.session-token", lambda d: (lambda v: (v, (v[40:],)))(
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + b64u(d.randbytes(12)) + "." + b64u(d.randbytes(200)) + "." + b64u(d.randbytes(16)))),
    _cookie("gitlab", "_gitlab_session", lambda d: (lambda v: (v, (v,)))(d.hex(32))),
    _cookie("grafana", "grafana_session", lambda d: (lambda v: (v, (v,)))(d.hex(32))),
    _cookie("supabase", "sb-abcdefghijklmnop-auth-token", lambda d: (lambda v: ("base64-" + v, (v[30:],)))(b64(json.dumps(
        {"access_token": "eyJhbGciOiJIUzI1NiJ9." + b64u(d.randbytes(90)) + "." + b64u(d.randbytes(32)), "refresh_token": d.s(LOWNUM, 12)})))),
    _cookie("cf_access", "CF_Authorization", lambda d: (lambda b, s: ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ." + b + "." + s, (b, s)))(
        b64u(json.dumps({"aud": [d.hex(64)], "email": "ops@acme.io", "exp": 1796610067}).encode()), b64u(d.randbytes(256)))),
    _cookie("remember", "remember_user_token", lambda d: (lambda v: (v, (v,)))(d.s(URLSAFE, 120))),
]


# -- key material that is no PEM -----------------------------------------------------------------------------------
def _wrap(s: str, n: int) -> str:
    return "\n".join(s[i:i + n] for i in range(0, len(s), n))


def _minisign(d: Draw) -> Cred:
    body = "RWRTY0Iy" + b64(d.randbytes(152))[8:]
    return Cred("key_material", "minisign_secret", f"untrusted comment: minisign encrypted secret key\n{body}\n",
                ("minisign_key",), (body[8:],), "block")


def _signify(d: Draw) -> Cred:
    body = "RWRCSwAAAA" + b64(d.randbytes(96))[10:]
    return Cred("key_material", "signify_secret", f"untrusted comment: signify secret key\n{body}\n", ("signify_key",), (body[10:],), "block")


def _openvpn(d: Draw) -> Cred:
    lines = [d.hex(32) for _ in range(16)]
    text = "-----BEGIN OpenVPN Static key V1-----\n" + "\n".join(lines) + "\n-----END OpenVPN Static key V1-----\n"
    return Cred("key_material", "openvpn_static", text, ("tls_auth", "ta_key"), tuple(lines), "block")


def _nkey_creds(d: Draw) -> Cred:
    seed = "SU" + d.s(B32, 56)
    jwt_body = b64u(json.dumps({"jti": d.s(B32, 52), "iat": 1796610067, "iss": "A" + d.s(B32, 55), "name": "svc",
                                "sub": "U" + d.s(B32, 55), "nats": {"pub": {}, "sub": {}}}).encode())
    text = ("-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ." + jwt_body + "." + b64u(d.randbytes(64))
            + "\n------END NATS USER JWT------\n\n************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\nNKEYs are sensitive and should be treated as secrets.\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n")
    return Cred("key_material", "nats_creds", text, ("nats_creds", "creds"), (seed[2:],), "block")


def _nsec(d: Draw) -> Cred:
    return _t("key_material", "nostr_nsec", ("NOSTR_PRIVATE_KEY", "nsec"), "nsec1", lambda d: d.s(BECH32, 58))(d)


def _solana(d: Draw) -> Cred:
    v = "[" + ",".join(str(b) for b in d.randbytes(64)) + "]"
    return Cred("key_material", "solana_keypair", v, ("SOLANA_PRIVATE_KEY", "keypair", "wallet_secret_key"), (v[1:80], v[80:-1]), "opaque")


def _keystore(d: Draw) -> Cred:
    v = "MIIK" + d.s(B64, 700) + "="
    return Cred("key_material", "keystore_base64", v, ("ANDROID_KEYSTORE_BASE64", "KEYSTORE_B64", "SIGNING_KEY_STORE_BASE64"), (v[4:],), "opaque")


def _keytab(d: Draw) -> Cred:
    v = "BQIAAA" + b64(d.randbytes(180))[6:]
    return Cred("key_material", "keytab_base64", v, ("KRB5_KEYTAB_B64", "keytab"), (v[6:],), "opaque")


def _tor(d: Draw) -> Cred:
    v = b64(b"== ed25519v1-secret: type0 ==\x00\x00\x00" + d.randbytes(64))
    return Cred("key_material", "tor_hs_secret", v, ("hs_ed25519_secret_key", "HIDDEN_SERVICE_KEY"), (v[44:],), "opaque")


KEY_MATERIAL = [_minisign, _signify, _openvpn, _nkey_creds, _nsec, _solana, _keystore, _keytab, _tor]


# -- passwords -----------------------------------------------------------------------------------------------------
WORDS = ["lantern", "glacier", "pepper", "meadow", "comet", "walnut", "breeze", "sparrow", "granite", "violet", "cactus", "thistle"]
NON_ASCII = ["Kennwort", "Sommer", "Straße", "mot-de-passe", "contraseña", "пароль", "Пароль", "密码", "パスワード", "şifre", "hasło", "Ωmega"]


def password_text(d: Draw) -> str:
    r = d.randrange(7)
    if r == 0:
        return d.pick(WORDS).capitalize() + str(d.randrange(1970, 2027)) + d.pick("!?#$*.")
    if r == 1:
        return d.s(ALNUM + "!#$%&()*+,-./:;<=>?@[]^_{|}~", d.randrange(16, 33))
    if r == 2:
        return "-".join(d.pick(WORDS) for _ in range(4)) + str(d.randrange(10))
    if r == 3:
        return d.pick(NON_ASCII) + str(d.randrange(100, 9999)) + d.pick("!#%")
    if r == 4:
        return "-".join(d.s(string.ascii_lowercase, 4) for _ in range(4))       # Apple app-specific
    if r == 5:
        return b64(d.randbytes(d.pick([18, 24, 33])))
    return d.s(LOWNUM, 12) + d.s(string.ascii_uppercase, 2) + d.s("@%+", 1)


def password(d: Draw) -> Cred:
    v = password_text(d)
    return Cred("password", "password", v, ("password", "db_password", "DB_PASSWORD", "passwd", "pass", "admin_password", "pwd"), (v,), "password")


TOKENS = CLOUD + SAAS + HEADERS + INFRA + APP + TOKEN_FORMATS + URLS + COOKIES


def secret(d: Draw) -> Cred:
    """A token-like secret (every kind but passwords and key material equally likely)."""
    return d.pick(TOKENS)(d)


def key_material(d: Draw) -> Cred:
    return d.pick(KEY_MATERIAL)(d)
