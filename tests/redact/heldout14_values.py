"""The fourteenth corpus' secrets (``heldout_style14``): what a person pastes into a chat, a ticket or an e-mail, and
the words around it. Five families — ``password`` (a person's or a generator's password, a passphrase, a temporary
password a help desk sends, a Wi-Fi key, a user and password on two lines), ``token`` (vendors' tokens people paste:
chat bots, source hosts, payments, AI platforms, secrets managers, an ``otpauth://`` URI's seed, an ``age`` key),
``uri`` (connection strings and URLs with their credential), ``pem`` (a private key pasted whole) and ``cloud``
(an AWS key pair, an Azure client secret, a GCP API key, a storage key). Each secret comes with a *message*: the
sentence, the list or the code block a person writes around it (``message``), in plain text with markdown marks
(backticks, fences, ``>`` quotes) that the carriers render their own way.

Written on 2026-12-07 without reading ``src/ben/redact``: the values are drawn by their published shapes (prefix,
length, alphabet, as remembered), the sentences by how people write in chat and in help-desk mail.
"""

from __future__ import annotations

import base64
import string
from dataclasses import dataclass

from tests.redact.heldout13_values import (ALNUM, B64, CLOUD, HEX, LOWER_ALNUM, PASSWORDS, TOKENS, URIS, Draw, pem,
                                          secret_parts)

FAMILIES = ("password", "token", "uri", "pem", "cloud")
UPPER_ALNUM = string.ascii_uppercase + string.digits
B32 = string.ascii_uppercase + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
PEOPLE = ["Ann Example", "Bob Ops", "Chidi Nwosu", "Dana Kowalski", "Eero Virtanen", "Fatima Haddad", "Gus Moreau"]
USERS = ["app", "deploy", "svc_backup", "admin", "reporting", "jenkins", "ann.example"]
SYSTEMS = ["prod db", "staging", "grafana admin", "VPN", "jenkins", "read replica", "SFTP drop", "billing"]


@dataclass(frozen=True)
class Secret:
    """One pasted secret: family, kind, the value as pasted, the message around it (markdown-ish plain text), and the
    parts that must not survive (plain; the carrier says how each is written)."""

    family: str
    kind: str
    value: str
    message: str
    secrets: tuple[str, ...]


# -- values: the earlier corpus' shapes and tokens people paste in chats ------------------------------------------------
def _discord(d: Draw) -> str:
    uid = str(d.randrange(10 ** 17, 10 ** 19)).encode()
    return base64.b64encode(uid).decode().rstrip("=") + "." + d.s(ALNUM + "-_", 6) + "." + d.s(ALNUM + "-_", 38)


CHAT_TOKENS = {
    "slack_user": (lambda d: f"xoxp-{d.randrange(10 ** 10, 10 ** 11)}-{d.randrange(10 ** 10, 10 ** 11)}-"
                             f"{d.randrange(10 ** 12, 10 ** 13)}-{d.hex(32)}", "Slack user token"),
    "discord_bot": (_discord, "discord bot token"),
    "telegram_bot": (lambda d: f"{d.randrange(10 ** 8, 10 ** 10)}:AA{d.s(ALNUM + '-_', 33)}", "telegram bot token"),
    "twilio_sk": (lambda d: "SK" + d.hex(32), "twilio API key"),
    "mailgun": (lambda d: "key-" + d.hex(32), "mailgun key"),
    "doppler": (lambda d: "dp.st.prd." + d.s(ALNUM, 40), "doppler service token"),
    "grafana_sa": (lambda d: "glsa_" + d.s(ALNUM, 32) + "_" + d.hex(8), "grafana service account token"),
    "supabase": (lambda d: "sbp_" + d.hex(40), "supabase token"),
    "postman": (lambda d: "PMAK-" + d.hex(24) + "-" + d.hex(34), "postman key"),
    "tailscale": (lambda d: "tskey-auth-k" + d.s(ALNUM, 11) + "CNTRL-" + d.s(ALNUM, 33), "tailscale auth key"),
    "new_relic": (lambda d: "NRAK-" + d.s(UPPER_ALNUM, 27), "new relic user key"),
    "age_secret": (lambda d: "AGE-SECRET-KEY-1" + d.s(BECH32, 58), "age identity"),
    "totp_uri": (lambda d: f"otpauth://totp/Acme:{d.choice(USERS)}?secret=\x01{d.s(B32, 32)}\x01&issuer=Acme", "2FA seed"),
}
TOKEN_KINDS = ["github_pat", "github_fine", "gitlab_pat", "slack_bot", "stripe_live", "sendgrid", "npm", "pypi", "vault",
               "openai", "anthropic", "huggingface", "digitalocean_pat", "shopify", "linear", "atlassian", "jwt"]
TOKEN_NAMES = {"github_pat": "github token", "github_fine": "GitHub PAT", "gitlab_pat": "gitlab token", "slack_bot": "bot token",
               "stripe_live": "stripe key", "sendgrid": "sendgrid key", "npm": "npm token", "pypi": "pypi token",
               "vault": "vault token", "openai": "OpenAI key", "anthropic": "anthropic key", "huggingface": "HF token",
               "digitalocean_pat": "DO token", "shopify": "shopify admin token", "linear": "linear key",
               "atlassian": "jira API token", "jwt": "service JWT"}
CLOUD_KINDS = ["aws_pair", "azure_client_secret", "gcp_api_key", "azure_storage_key", "gcp_sa_json", "alibaba_pair"]


def _aws_id(d: Draw, head: str = "AKIA") -> str:
    return head + d.s(UPPER_ALNUM.replace("0", "").replace("1", ""), 16)


# -- messages: how a person writes a secret into a chat or a mail ---------------------------------------------------------
PW_SAYINGS = [
    "here's the new password for {sys}: {v}",
    "pw is {v} (rotating it friday)",
    "creds for {sys}:\nuser: {u}\npass: {v}",
    "try logging in as {u} / {v}",
    "password: `{v}`",
    "Your temporary password is: {v}\nYou will be asked to change it at first sign-in.",
    "@{p} the {sys} password is {v} — don't share it pls",
    "login {u}\npassword {v}",
    "```\nDB_PASSWORD={v}\n```",
    "> password: {v}\nthat's the old one, it was rotated last week",
    "wifi for the office: AcmeGuest / {v}",
    "I reset it, new one: {v}",
    "Benutzer: {u}\nPasswort: {v}",
    "la contraseña de {sys} es {v}",
    "| system | user | password |\n|---|---|---|\n| {sys} | {u} | {v} |",
]
TOKEN_SAYINGS = [
    "here's the {name}: {v}",
    "new {name} → `{v}`",
    "```\nexport {K}={v}\n```",
    "can you try with this one? {v}",
    "I accidentally pasted {v} in #general, rotating it now",
    "{name}:\n{v}",
    "```\ncurl -H \"Authorization: Bearer {v}\" https://api.acme.io/v1/me\n```",
    "> {K}={v}\nthis is the one from the runbook",
    "use `{v}` until the new one is provisioned",
    "token (expires in 30 days): {v}",
]
URI_SAYINGS = [
    "connection string: {v}",
    "use `{v}`",
    "```\n{K}={v}\n```",
    "can you connect with {v} ? it times out for me",
    "{K} for staging is\n{v}",
]
PEM_SAYINGS = [
    "here's the deploy key:\n```\n{v}```",
    "private key for the SFTP drop (don't lose it):\n{v}",
    "```\n{v}```\nthat's the key from the old bastion",
    "attaching the key inline since the upload fails:\n\n{v}",
]
CLOUD_SAYINGS = {
    "aws_pair": ["access key {id}\nsecret {v}", "```\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={v}\n```",
                 "key id: {id} / secret: {v}", "[default]\naws_access_key_id = {id}\naws_secret_access_key = {v}"],
    "alibaba_pair": ["AccessKey ID {id}\nAccessKey Secret {v}", "ak: {id}, sk: {v}"],
    "azure_client_secret": ["client secret value: {v} (expires 2027-06-01)", "app reg secret → {v}",
                            "```\nAZURE_CLIENT_ID={uuid}\nAZURE_CLIENT_SECRET={v}\n```"],
    "gcp_api_key": ["maps key: {v}", "the firebase apiKey is {v}", "`{v}` is the browser key, restricted to acme.io"],
    "azure_storage_key": ["storage account key1: {v}", "AccountKey for acmeprodlogs is {v}"],
    "gcp_sa_json": ["here's the service account json:\n```\n{v}\n```"],
}


def _env(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def draw(d: Draw, family: str) -> Secret:
    """A secret of ``family`` and the message a person wrote around it."""
    p, u, sys = d.choice(PEOPLE).split()[0].lower(), d.choice(USERS), d.choice(SYSTEMS)
    if family == "password":
        kind = d.choice(list(PASSWORDS))
        v = PASSWORDS[kind](d)
        msg = d.choice(PW_SAYINGS).format(v=v, sys=sys, u=u, p=p)
        return Secret(family, kind, v, msg, (v,))
    if family == "token":
        kind = d.choice(TOKEN_KINDS + list(CHAT_TOKENS))
        if kind in CHAT_TOKENS:
            raw, name = CHAT_TOKENS[kind][0](d), CHAT_TOKENS[kind][1]
        else:
            raw, name = TOKENS[kind][0](d), TOKEN_NAMES[kind]
        v = raw.replace("\x01", "")
        parts = (raw.split("\x01")[1],) if "\x01" in raw else (v,)
        msg = d.choice(TOKEN_SAYINGS).format(v=v, name=name, K=_env(name))
        return Secret(family, kind, v, msg, parts)
    if family == "uri":
        kind = d.choice(list(URIS))
        raw, key = URIS[kind][0](d), d.choice(URIS[kind][1])
        v = raw.replace("\x01", "")
        msg = d.choice(URI_SAYINGS).format(v=v, K=_env(key))
        return Secret(family, kind, v, msg, tuple(secret_parts("uri", kind, raw)))
    if family == "pem":
        kind = d.choice(["rsa_pkcs1", "pkcs8", "ec", "openssh"])
        v = pem(d, kind)
        return Secret(family, kind, v, d.choice(PEM_SAYINGS).format(v=v), tuple(secret_parts("pem", kind, v)))
    kind = d.choice(CLOUD_KINDS)
    if kind == "aws_pair":
        v, kid = CLOUD["aws_secret"][0](d), _aws_id(d, d.choice(["AKIA", "AKIA", "ASIA"]))
    elif kind == "alibaba_pair":
        v, kid = CLOUD["alibaba_secret"][0](d), "LTAI5t" + d.s(ALNUM, 18)
    else:
        v, kid = CLOUD[kind][0](d), ""
    msg = d.choice(CLOUD_SAYINGS[kind]).format(v=v, id=kid, uuid=d.uuid())
    parts = tuple(secret_parts("cloud", "gcp_sa_json", v)) if kind == "gcp_sa_json" else (v,)
    return Secret(family, kind, v, msg, parts)


__all__ = ["ALNUM", "B64", "HEX", "LOWER_ALNUM", "Draw", "FAMILIES", "PEOPLE", "Secret", "draw"]
