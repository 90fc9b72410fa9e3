"""Fake tokens of named providers, kind by kind, for the held-out-style corpus (``heldout_style``).

Written from published token formats and common knowledge of config files, without reading ben's
rules: each kind draws a fresh, format-valid fake from a seeded ``random.Random``. A ``Secret`` holds
the whole value as it would be written, the parts that must not survive (the random body, never a
published prefix such as ``ghp_``), the key names it is usually found under, and whether the value
identifies itself (a prefix or a structure) or is a secret only because of its key.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass, field
from typing import Callable

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True)
class Secret:
    """One fake secret: ``value`` as written, ``parts`` that must not survive redaction."""

    family: str
    kind: str
    value: str
    parts: tuple[str, ...]
    keys: tuple[str, ...] = ()
    self_id: bool = True          # recognisable without its key (prefix, structure)
    multiline: bool = False


@dataclass
class Gen:
    """Random helpers over one seeded generator."""

    rng: random.Random
    kinds: dict = field(default_factory=dict)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, n: int, alphabet: str = ALNUM) -> str:
        """A random string with at least one capital, one small letter and one digit (a real token's look)."""
        need = [test for test in (str.isupper, str.islower, str.isdigit) if any(test(c) for c in alphabet)]
        while True:
            out = self.s(alphabet, n)
            if all(any(test(c) for c in out) for test in need):
                return out

    def b64(self, nbytes: int, url: bool = False, pad: bool = True) -> str:
        raw = bytes(self.rng.getrandbits(8) for _ in range(nbytes))
        out = (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()
        return out if pad else out.rstrip("=")

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + self.s(string.digits, n - 1)

    def uuid(self) -> str:
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.rng.choice('89ab')}{h[17:20]}-{h[20:]}"

    def password(self) -> str:
        style = self.rng.randrange(6)
        if style == 0:
            return self.mixed(self.rng.randint(12, 20), ALNUM + "!#$%*+-_=.?")
        if style == 1:
            words = ["orbit", "maple", "quartz", "lantern", "copper", "violet", "harbor", "tundra", "ember", "saffron"]
            return "-".join(self.rng.sample(words, 3)) + str(self.rng.randint(10, 99))
        if style == 2:
            return self.rng.choice(["Winter", "Summer", "Autumn", "Spring"]) + str(self.rng.randint(2019, 2030)) + \
                self.rng.choice("!#$@") + self.s(LOWER_ALNUM, 3)
        if style == 3:
            return self.mixed(self.rng.randint(10, 16), ALNUM + "@:/;&")
        if style == 4:
            return self.s(string.ascii_lowercase, 6) + self.digits(4) + self.s(string.ascii_uppercase, 2)
        return self.b64(18, url=True, pad=False)


KIND: dict[str, Callable[[Gen], Secret]] = {}


def kind(family: str, name: str):
    def deco(fn):
        KIND[name] = lambda g: fn(g, family, name)
        return fn
    return deco


def tok(family, name, prefix, body, keys, self_id=True):
    return Secret(family, name, prefix + body, (body,), keys, self_id)


# --- cloud -------------------------------------------------------------------------------------
@kind("cloud", "aws_access_key_id")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["AKIA", "ASIA", "ABIA", "ACCA"]), g.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
               ("aws_access_key_id", "AccessKeyId", "AWS_ACCESS_KEY_ID", "accessKey"))


@kind("cloud", "aws_secret_access_key")
def _(g, f, n):
    v = g.mixed(40, B64)
    return Secret(f, n, v, (v,), ("aws_secret_access_key", "SecretAccessKey", "AWS_SECRET_ACCESS_KEY",
                                   "secretKey", "aws.secretKey"), self_id=False)


@kind("cloud", "aws_session_token")
def _(g, f, n):
    body = g.b64(g.rng.randint(280, 420))
    v = g.rng.choice(["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE"]) + body
    return Secret(f, n, v, (body,), ("aws_session_token", "SessionToken", "AWS_SESSION_TOKEN", "X-Amz-Security-Token"))


@kind("cloud", "gcp_api_key")
def _(g, f, n):
    return tok(f, n, "AIza", g.mixed(35, B64URL), ("key", "api_key", "GOOGLE_API_KEY", "apiKey"))


@kind("cloud", "gcp_oauth_client_secret")
def _(g, f, n):
    return tok(f, n, "GOCSPX-", g.mixed(28, B64URL), ("client_secret", "GOOGLE_CLIENT_SECRET", "clientSecret"))


@kind("cloud", "google_refresh_token")
def _(g, f, n):
    return tok(f, n, "1//0" + g.rng.choice("3569deg"), g.mixed(100, B64URL), ("refresh_token", "refreshToken"))


@kind("cloud", "google_access_token")
def _(g, f, n):
    return tok(f, n, "ya29.", g.mixed(150, B64URL), ("access_token", "accessToken", "Authorization"))


@kind("cloud", "azure_storage_conn")
def _(g, f, n):
    k = g.b64(64)
    v = f"DefaultEndpointsProtocol=https;AccountName=st{g.s(LOWER_ALNUM, 10)};AccountKey={k};EndpointSuffix=core.windows.net"
    return Secret(f, n, v, (k,), ("AZURE_STORAGE_CONNECTION_STRING", "connectionString", "storage"))


@kind("cloud", "azure_sas")
def _(g, f, n):
    sig = g.b64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    v = (f"https://st{g.s(LOWER_ALNUM, 8)}.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=sco&sp=rl"
         f"&se=2027-01-01T00:00:00Z&st=2026-12-01T00:00:00Z&spr=https&sig={sig}")
    return Secret(f, n, v, (sig,), ("sas_url", "url", "blob"))


@kind("cloud", "azure_client_secret")
def _(g, f, n):
    body = g.mixed(34, ALNUM + "_~.-")
    return tok(f, n, g.s(ALNUM, 3) + str(g.rng.randint(0, 9)) + "Q~", body,
               ("AZURE_CLIENT_SECRET", "client_secret", "clientSecret"))


@kind("cloud", "azure_servicebus_conn")
def _(g, f, n):
    k = g.b64(32)
    v = (f"Endpoint=sb://ns-{g.s(LOWER_ALNUM, 6)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
         f"SharedAccessKey={k}")
    return Secret(f, n, v, (k,), ("ServiceBusConnection", "connection_string", "EVENTHUB_CONN"))


@kind("cloud", "azure_devops_pat")
def _(g, f, n):
    v = g.s("abcdefghijklmnopqrstuvwxyz234567", 52)
    return Secret(f, n, v, (v,), ("AZURE_DEVOPS_EXT_PAT", "AZDO_PAT", "System.AccessToken"), self_id=False)


@kind("cloud", "alibaba_key")
def _(g, f, n):
    return tok(f, n, "LTAI", g.mixed(20), ("access_key_id", "ALIBABA_CLOUD_ACCESS_KEY_ID", "accessKeyId"))


@kind("cloud", "tencent_secret_id")
def _(g, f, n):
    return tok(f, n, "AKID", g.mixed(32), ("SecretId", "TENCENTCLOUD_SECRET_ID", "secret_id"))


@kind("cloud", "digitalocean")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["dop_v1_", "doo_v1_", "dor_v1_"]), g.s(HEX, 64), ("DIGITALOCEAN_TOKEN", "do_token"))


@kind("cloud", "ibm_cloud_apikey")
def _(g, f, n):
    v = g.mixed(44, B64URL)
    return Secret(f, n, v, (v,), ("apikey", "IBMCLOUD_API_KEY", "ibm_api_key"), self_id=False)


@kind("cloud", "cloudflare_api_token")
def _(g, f, n):
    v = g.mixed(40, B64URL)
    return Secret(f, n, v, (v,), ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "api_token"), self_id=False)


@kind("cloud", "heroku_key")
def _(g, f, n):
    return tok(f, n, "HRKU-AA", g.mixed(58, B64URL), ("HEROKU_API_KEY", "heroku_token"))


@kind("cloud", "hetzner_token")
def _(g, f, n):
    v = g.mixed(64)
    return Secret(f, n, v, (v,), ("HCLOUD_TOKEN", "hcloud_token"), self_id=False)


@kind("cloud", "scaleway_secret")
def _(g, f, n):
    v = g.uuid()
    return Secret(f, n, v, (v,), ("SCW_SECRET_KEY", "secret_key"), self_id=False)


# --- VCS, CI, secret stores --------------------------------------------------------------------
@kind("vcs_ci", "github")
def _(g, f, n):
    p = g.rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
    return tok(f, n, p, g.mixed(36), ("GITHUB_TOKEN", "GH_TOKEN", "token", "github.token"))


@kind("vcs_ci", "github_fine_grained")
def _(g, f, n):
    return tok(f, n, "github_pat_", g.mixed(22) + "_" + g.mixed(59), ("GITHUB_PAT", "token"))


@kind("vcs_ci", "gitlab")
def _(g, f, n):
    p = g.rng.choice(["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glsoat-", "glft-", "glimt-", "GR1348941"])
    return tok(f, n, p, g.mixed(20, B64URL), ("GITLAB_TOKEN", "PRIVATE-TOKEN", "CI_JOB_TOKEN", "private_token"))


@kind("vcs_ci", "bitbucket_app_password")
def _(g, f, n):
    return tok(f, n, "ATBB", g.mixed(32), ("BITBUCKET_APP_PASSWORD", "app_password"))


@kind("vcs_ci", "atlassian_api_token")
def _(g, f, n):
    return tok(f, n, "ATATT3xFfGF0", g.mixed(170, B64URL) + "=" + g.s(HEX.upper(), 8), ("JIRA_API_TOKEN", "api_token"))


@kind("vcs_ci", "buildkite")
def _(g, f, n):
    return tok(f, n, "bkua_", g.s(HEX, 40), ("BUILDKITE_API_TOKEN", "token"))


@kind("vcs_ci", "circleci_legacy")
def _(g, f, n):
    v = g.s(HEX, 40)
    return Secret(f, n, v, (v,), ("CIRCLE_TOKEN", "CIRCLECI_TOKEN", "circle-token"), self_id=False)


@kind("vcs_ci", "jenkins_api_token")
def _(g, f, n):
    v = "11" + g.s(HEX, 32)
    return Secret(f, n, v, (v,), ("JENKINS_API_TOKEN", "jenkins.token", "apiToken"), self_id=False)


@kind("vcs_ci", "sonarqube")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["squ_", "sqp_", "sqa_"]), g.s(HEX, 40), ("SONAR_TOKEN", "sonar.login"))


@kind("vcs_ci", "terraform_cloud")
def _(g, f, n):
    body = g.mixed(14) + ".atlasv1." + g.mixed(67, B64URL)
    return Secret(f, n, body, (body,), ("TFE_TOKEN", "token", "TF_TOKEN_app_terraform_io"))


@kind("vcs_ci", "vault_token")
def _(g, f, n):
    p = g.rng.choice(["hvs.", "hvb.", "hvr.", "s."])
    body = g.mixed(24 if p == "s." else 90, B64URL)
    return tok(f, n, p, body, ("VAULT_TOKEN", "X-Vault-Token", "vault_token", "token"), self_id=p != "s.")


@kind("vcs_ci", "pulumi")
def _(g, f, n):
    return tok(f, n, "pul-", g.s(HEX, 40), ("PULUMI_ACCESS_TOKEN",))


@kind("vcs_ci", "doppler")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["dp.st.", "dp.pt.", "dp.sa."]), g.mixed(43), ("DOPPLER_TOKEN",))


@kind("vcs_ci", "onepassword_sa")
def _(g, f, n):
    return tok(f, n, "ops_eyJ", g.b64(180, pad=False), ("OP_SERVICE_ACCOUNT_TOKEN",))


@kind("vcs_ci", "netlify")
def _(g, f, n):
    return tok(f, n, "nfp_", g.mixed(36), ("NETLIFY_AUTH_TOKEN",))


@kind("vcs_ci", "k8s_bootstrap")
def _(g, f, n):
    secret = g.s(LOWER_ALNUM, 16)
    return Secret(f, n, g.s(LOWER_ALNUM, 6) + "." + secret, (secret,), ("token", "bootstrap_token"))


# --- package registries ------------------------------------------------------------------------
@kind("registry", "npm")
def _(g, f, n):
    return tok(f, n, "npm_", g.mixed(36), ("NPM_TOKEN", "_authToken", "NODE_AUTH_TOKEN"))


@kind("registry", "pypi")
def _(g, f, n):
    return tok(f, n, "pypi-AgEIcHlwaS5vcmc", g.mixed(150, B64URL), ("PYPI_TOKEN", "TWINE_PASSWORD", "password"))


@kind("registry", "nuget")
def _(g, f, n):
    return tok(f, n, "oy2", g.s(LOWER_ALNUM, 43), ("NUGET_API_KEY", "apikey"))


@kind("registry", "rubygems")
def _(g, f, n):
    return tok(f, n, "rubygems_", g.s(HEX, 48), ("GEM_HOST_API_KEY", ":rubygems_api_key"))


@kind("registry", "dockerhub")
def _(g, f, n):
    return tok(f, n, "dckr_pat_", g.mixed(27, B64URL), ("DOCKERHUB_TOKEN", "password"))


@kind("registry", "artifactory")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["AKCp", "cmVmdGtuOjAxOjE"]), g.mixed(64), ("ARTIFACTORY_API_KEY", "X-JFrog-Art-Api"))


@kind("registry", "cargo")
def _(g, f, n):
    return tok(f, n, "cio", g.mixed(32), ("CARGO_REGISTRY_TOKEN",))


@kind("registry", "npmrc_auth")
def _(g, f, n):
    cred = base64.b64encode(f"deploy:{g.password()}".encode()).decode()
    return Secret(f, n, cred, (cred,), ("_auth", "auth"), self_id=False)


# --- chat and webhooks -------------------------------------------------------------------------
@kind("chat", "slack_token")
def _(g, f, n):
    p = g.rng.choice(["xoxb-", "xoxp-", "xoxa-2-", "xoxe.xoxp-1-", "xapp-1-A"])
    body = g.digits(11) + "-" + g.digits(12) + "-" + g.mixed(24)
    return tok(f, n, p, body, ("SLACK_BOT_TOKEN", "slack_token", "token"))


@kind("chat", "slack_webhook")
def _(g, f, n):
    secret = g.mixed(24)
    path = g.rng.choice(["services", "workflows", "triggers"])
    v = f"https://hooks.slack.com/{path}/T{g.s(UPPER_ALNUM, 9)}/B{g.s(UPPER_ALNUM, 10)}/{secret}"
    return Secret(f, n, v, (secret,), ("SLACK_WEBHOOK_URL", "webhook_url", "url"))


@kind("chat", "discord_webhook")
def _(g, f, n):
    secret = g.mixed(68, B64URL)
    host = g.rng.choice(["discord.com", "discordapp.com", "ptb.discord.com"])
    return Secret(f, n, f"https://{host}/api/webhooks/{g.digits(19)}/{secret}", (secret,), ("DISCORD_WEBHOOK", "url"))


@kind("chat", "discord_bot")
def _(g, f, n):
    head = base64.b64encode(g.digits(18).encode()).decode().rstrip("=")
    secret = g.mixed(6, B64URL) + "." + g.mixed(38, B64URL)
    return Secret(f, n, head + "." + secret, (secret[7:],), ("DISCORD_TOKEN", "bot_token"))


@kind("chat", "teams_webhook")
def _(g, f, n):
    secret = g.s(HEX, 32)
    v = (f"https://contoso{g.s(LOWER_ALNUM, 4)}.webhook.office.com/webhookb2/{g.uuid()}@{g.uuid()}/IncomingWebhook/"
         f"{secret}/{g.uuid()}/V2{g.mixed(20)}")
    return Secret(f, n, v, (secret,), ("TEAMS_WEBHOOK_URL", "url"))


@kind("chat", "telegram_bot")
def _(g, f, n):
    secret = "AA" + g.mixed(33, B64URL)
    v = g.digits(10) + ":" + secret
    return Secret(f, n, v, (secret,), ("TELEGRAM_BOT_TOKEN", "bot_token"))


@kind("chat", "telegram_url")
def _(g, f, n):
    secret = "AA" + g.mixed(33, B64URL)
    return Secret(f, n, f"https://api.telegram.org/bot{g.digits(10)}:{secret}/sendMessage?chat_id=-100{g.digits(10)}",
                  (secret,), ("url", "endpoint"))


@kind("chat", "mattermost_webhook")
def _(g, f, n):
    secret = g.s(LOWER_ALNUM, 26)
    return Secret(f, n, f"https://chat.example.org/hooks/{secret}", (secret,), ("MATTERMOST_WEBHOOK", "url"))


@kind("chat", "google_chat_webhook")
def _(g, f, n):
    key = g.mixed(35, B64URL)
    token = g.mixed(43, B64URL)
    v = f"https://chat.googleapis.com/v1/spaces/AAAA{g.mixed(7)}/messages?key=AIza{key}&token={token}%3D"
    return Secret(f, n, v, (key, token), ("GCHAT_WEBHOOK", "url"))


@kind("chat", "pagerduty_routing_key")
def _(g, f, n):
    v = g.s(HEX, 32)
    return Secret(f, n, v, (v,), ("routing_key", "PAGERDUTY_INTEGRATION_KEY", "service_key"), self_id=False)


# --- payment -----------------------------------------------------------------------------------
@kind("payment", "stripe")
def _(g, f, n):
    p = g.rng.choice(["sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"])
    return tok(f, n, p, g.mixed(g.rng.choice([24, 32, 99])), ("STRIPE_SECRET_KEY", "stripe.apiKey", "api_key"))


@kind("payment", "square")
def _(g, f, n):
    p = g.rng.choice(["sq0atp-", "sq0csp-", "EAAA"])
    return tok(f, n, p, g.mixed(22 if p == "sq0atp-" else 60, B64URL), ("SQUARE_ACCESS_TOKEN",))


@kind("payment", "braintree")
def _(g, f, n):
    body = g.mixed(16, LOWER_ALNUM + "0123") + "$" + g.s(HEX, 32)
    return tok(f, n, "access_token$production$", body, ("BRAINTREE_ACCESS_TOKEN", "paypal_token"))


@kind("payment", "razorpay")
def _(g, f, n):
    return tok(f, n, "rzp_live_", g.mixed(14), ("RAZORPAY_KEY_ID",))


@kind("payment", "shopify")
def _(g, f, n):
    return tok(f, n, g.rng.choice(["shpat_", "shpss_", "shpca_", "shppa_"]), g.s(HEX, 32), ("SHOPIFY_ACCESS_TOKEN",))


@kind("payment", "mollie")
def _(g, f, n):
    return tok(f, n, "live_", g.mixed(30), ("MOLLIE_API_KEY",))


@kind("payment", "plaid")
def _(g, f, n):
    u = g.uuid()
    return Secret(f, n, "access-production-" + u, (u,), ("plaid_access_token", "access_token"))
