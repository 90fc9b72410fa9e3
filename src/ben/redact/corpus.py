"""A seeded corpus of fake, format-valid secrets and benign look-alikes, and how a manifest fares on it.

``secrets(seed)`` makes one value per format (cloud keys, VCS and CI tokens, payment, messaging,
package registries, AI providers, SaaS, private keys, passwords in URLs, PII); ``benign(seed)`` the
values that look like them but are no secret (UUIDs, trace ids, SHAs, order numbers, ARNs,
timestamps, versions, English sentences about tokens...). ``evaluate(manifest_text)`` sends every
value in every placement (``PLACEMENTS``: attribute under a neutral key, under password / api_key /
authorization, in a log sentence, inside JSON, inside a URL, URL-encoded, on a gauge's attributes, in
the source's host / subsystem / instance, in a metric name) through an ``Engine`` and reports, per
placement, the share of secret values that no longer appear (raw or URL-encoded) in the output, and
the share of benign values changed. Used by ``ben bench redact`` and tests/redact/test_coverage.py.
None of these values is real: they are random strings in the published formats.
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

_AN = string.ascii_letters + string.digits
_HEXL = "0123456789abcdef"
_UP = string.ascii_uppercase + string.digits

PLACEMENTS = ("attr_neutral", "attr_password", "attr_api_key", "attr_authorization", "log_sentence", "json",
              "url", "url_encoded", "gauge", "source_host", "source_subsystem", "source_instance", "metric_name")
SOURCE_PLACEMENTS = ("source_host", "source_subsystem", "source_instance")
#: Placements a benign value is sent in (under a key that names no secret).
BENIGN_PLACEMENTS = ("attr_neutral", "log_sentence", "json", "url", "url_encoded", "gauge", "source_host",
                     "metric_name")


def _luhn(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return next(body + c for c in string.digits if luhn_ok(body + c))


def _iban(country: str, bban: str) -> str:
    n = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - n % 97:02d}{bban}"


def _b64url(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def secrets(seed: int = 20) -> dict[str, str]:
    """{format name: a fake value in that format}."""
    rng = random.Random(seed)

    def r(n: int, alphabet: str = _AN) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    pem_body = "\n".join(r(64, _AN + "+/") for _ in range(4))
    visa, amex = _luhn("4", 16, rng), _luhn("37", 15, rng)
    mc = _luhn("51", 16, rng)
    iban = _iban("DE", r(18, string.digits))
    gb_iban = _iban("GB", "NWBK" + r(14, string.digits))
    return {
        "aws-access-key-id": "AKIA" + r(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        "aws-secret-access-key": r(40, _AN + "+/"),
        "gcp-api-key": "AIza" + r(35, _AN + "-_"),
        "gcp-oauth-token": "ya29." + r(60, _AN + "-_"),
        "azure-storage-key": r(86, _AN + "+/") + "==",
        "azure-client-secret": r(3, _AN) + "8Q~" + r(34, _AN + "_-"),
        "digitalocean-pat": "dop_v1_" + r(64, _HEXL),
        "alibaba-access-key": "LTAI" + r(20, _AN),
        "github-pat": "ghp_" + r(36),
        "github-oauth": "gho_" + r(36),
        "github-app": "ghs_" + r(36),
        "github-fine-grained": "github_pat_" + r(22) + "_" + r(59),
        "gitlab-pat": "glpat-" + r(20, _AN + "-_"),
        "bitbucket-app-password": "ATBB" + r(32),
        "stripe-secret": "sk_live_" + r(24),
        "stripe-restricted": "rk_live_" + r(24),
        "square-token": "EAAA" + r(60, _AN + "-_"),
        "braintree-token": f"access_token$production${r(16, string.ascii_lowercase + string.digits)}${r(32, _HEXL)}",
        "slack-bot": f"xoxb-{r(12, string.digits)}-{r(13, string.digits)}-{r(24)}",
        "slack-user": f"xoxp-{r(12, string.digits)}-{r(12, string.digits)}-{r(13, string.digits)}-{r(32, _HEXL)}",
        "slack-app": f"xapp-1-A{r(10, _UP)}-{r(13, string.digits)}-{r(64, _HEXL)}",
        "slack-webhook": f"https://hooks.slack.com/services/T{r(8, _UP)}/B{r(8, _UP)}/{r(24)}",
        "discord-bot": f"M{r(23)}.{r(6, _AN + '-_')}.{r(27, _AN + '-_')}",
        "discord-webhook": f"https://discord.com/api/webhooks/{r(18, string.digits)}/{r(68, _AN + '-_')}",
        "telegram-bot": f"{r(10, string.digits)}:AA{r(33, _AN + '-_')}",
        "twilio-api-key": "SK" + r(32, _HEXL),
        "sendgrid": f"SG.{r(22, _AN + '-_')}.{r(43, _AN + '-_')}",
        "mailgun": "key-" + r(32, _HEXL),
        "mailchimp": r(32, _HEXL) + "-us" + str(rng.randint(1, 21)),
        "npm": "npm_" + r(36),
        "pypi": "pypi-AgEIcHlwaS5vcmc" + r(70, _AN + "-_"),
        "rubygems": "rubygems_" + r(48, _HEXL),
        "nuget": "oy2" + r(43, string.ascii_lowercase + string.digits),
        "docker-pat": "dckr_pat_" + r(27, _AN + "-_"),
        "openai-project": "sk-proj-" + r(74, _AN + "-_") + "T3BlbkFJ" + r(74, _AN + "-_"),
        "openai-legacy": "sk-" + r(20) + "T3BlbkFJ" + r(20),
        "anthropic": "sk-ant-api03-" + r(93, _AN + "-_") + "AA",
        "huggingface": "hf_" + r(34, string.ascii_letters),
        "shopify": "shpat_" + r(32, _HEXL),
        "atlassian": "ATATT3" + r(186, _AN + "-_="),
        "heroku": "HRKU-AA" + r(58, _AN + "-_"),
        "newrelic": "NRAK-" + r(27, _UP),
        "sentry-user-token": "sntryu_" + r(64, _HEXL),
        "okta": "00" + r(40, _AN + "-_"),
        "vault": "hvs." + r(90, _AN + "-_"),
        "doppler": "dp.pt." + r(43),
        "linear": "lin_api_" + r(40),
        "notion": "ntn_" + r(11, string.digits) + r(35),
        "postman": f"PMAK-{r(24, _HEXL)}-{r(34, _HEXL)}",
        "jwt": f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': r(8), 'exp': 1900000000})}."
               f"{r(43, _AN + '-_')}",
        "private-key": f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----",
        "url-password": f"postgres://app_user:{r(16)}@db.internal:5432/orders",
        "card-visa": f"{visa[:4]} {visa[4:8]} {visa[8:12]} {visa[12:]}",
        "card-mastercard": mc,
        "card-amex": f"{amex[:4]}-{amex[4:10]}-{amex[10:]}",
        "iban-de": iban,
        "iban-gb-spaced": " ".join(gb_iban[i:i + 4] for i in range(0, len(gb_iban), 4)),
        "us-ssn": f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}",
        "email": f"{r(6, string.ascii_lowercase)}.{r(5, string.ascii_lowercase)}@example-corp.com",
        "phone-e164": f"+44 20 {rng.randint(7000, 7999)} {rng.randint(1000, 9999)}",
        "phone-us": f"({rng.randint(201, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999):04d}",
        "phone-us-dashed": f"+1-{rng.randint(201, 989)}-555-{rng.randint(1000, 9999):04d}",
        "phone-us-plain": f"{rng.randint(201, 989)}-{rng.randint(200, 989)}-{rng.randint(1000, 9999):04d}",
        "phone-uk-national": f"0{rng.randint(7000, 7999)} {rng.randint(100000, 999999)}",
        "phone-fr": f"+33 {rng.randint(1, 9)} {r(2, string.digits)} {r(2, string.digits)} {r(2, string.digits)} "
                    f"{r(2, string.digits)}",
        "aws-session-token": "IQoJb3JpZ2luX2VjE" + r(300, _AN + "+/") + "==",
        "gcp-refresh-token": "1//0" + r(60, _AN + "-_"),
        "newrelic-license": r(36, _HEXL) + "NRAL",
        "sentry-dsn": f"https://{r(32, _HEXL)}@o{r(6, string.digits)}.ingest.sentry.io/{r(7, string.digits)}",
        "basic-auth": "Basic " + base64.b64encode(f"admin:{r(12)}".encode()).decode(),
        "redis-url-password": f"redis://:{r(20)}@cache.internal:6379/0",
        "amqp-url-password": f"amqps://svc-{r(4, string.ascii_lowercase)}:{r(18)}@mq.internal/vhost",
        "password-pair": f"password={r(14, _AN + '!#')}",
        "client-secret-json": json.dumps({"client_secret": r(32)}),
        "pem-json-escaped": json.dumps(f"-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----")[1:-1],
        "azure-connection-string": f"DefaultEndpointsProtocol=https;AccountName=acct{r(6, string.digits)};"
                                   f"AccountKey={r(86, _AN + '+/')}==;EndpointSuffix=core.windows.net",
        "twilio-account-sid": "AC" + r(32, _HEXL),
        "stripe-webhook-secret": "whsec_" + r(32),
        "gitlab-runner-token": "glrt-" + r(20, _AN + "-_"),
        "grafana-service-account": "glsa_" + r(32) + "_" + r(8, _HEXL),
        "databricks": "dapi" + r(32, _HEXL),
        "sendinblue": f"xkeysib-{r(64, _HEXL)}-{r(16)}",
        "age-secret-key": "AGE-SECRET-KEY-1" + r(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
    }


def benign(seed: int = 21) -> list[str]:
    """Values that look like secrets or PII but are none: no rule may change them."""
    rng = random.Random(seed)

    def h(n: int) -> str:
        return "".join(rng.choice(_HEXL) for _ in range(n))

    out: list[str] = []
    for _ in range(8):
        out += [
            str(uuid.UUID(int=rng.getrandbits(128), version=4)), h(32), h(16), h(40), h(64), h(12),
            f"sha256:{h(64)}", f"ORD-{rng.randint(10**9, 10**10 - 1)}",
            f"arn:aws:iam::{rng.randint(10**11, 10**12 - 1)}:role/checkout-{h(6)}",
            f"arn:aws:s3:::logs-{h(8)}/2024/01/{rng.randint(10, 28)}",
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(10, 28):02d}T{rng.randint(10, 23)}:{rng.randint(10, 59)}:"
            f"{rng.randint(10, 59)}.{rng.randint(100, 999)}Z",
            f"{rng.randint(1_700_000_000, 1_800_000_000) * 10**9 + rng.randint(0, 10**9)}",
            f"v{rng.randint(0, 3)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}",
            f"{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}-rc.{rng.randint(1, 5)}",
            base64.b64encode(rng.choice((b"hello world, this is ordinary data!", b"{\"user\": \"ann\", \"n\": 3}",
                                         b"the quick brown fox jumps over it")).replace(b"o", rng.choice((b"o", b"0")))
                             ).decode(),
            f"checkout-{h(9)}-{''.join(rng.choice(string.ascii_lowercase) for _ in range(5))}",
            f"{rng.randint(1, 999)}.{rng.randint(0, 9)}ms",
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"ip-10-{rng.randint(0, 255)}-{rng.randint(0, 255)}-{rng.randint(1, 254)}.ec2.internal",
        ]
        # 16-digit numbers that fail the Luhn check (order numbers)
        while True:
            n = "4" + "".join(rng.choice(string.digits) for _ in range(15))
            if not luhn_ok(n):
                out.append(n)
                break
    out += [
        "token validation succeeded", "password reset email sent", "secret rotation scheduled for tonight",
        "the bearer of bad news", "api key rotated by the operator", "Token expired, refreshing session",
        "Basic authentication is disabled", "invalid credentials for user", "cookie consent accepted",
        "using default password policy", "GET /api/v1/orders/12345 200", "https://example.com/docs?page=2&sort=asc",
        "SELECT id, name FROM users WHERE id = 42", "/var/lib/ben/spine/wal/000123.log", "checkout.orders.latency",
        "db.client.duration", "http.server.request.duration", "user_id=u-8f3a2c", "retry 3 of 5 in 250ms",
        "disk usage 73% on /data", "build 2024.06.1 (commit 9fceb02)", "queue depth 1024", "pod checkout-0 ready",
        "processed 1500 events in 2.5 s", "GC pause 12.5ms", "x-request-id", "content-type: application/json",
        "Keep-Alive: timeout=5, max=1000", "deploy v2.3.1 to eu-west-1", "feature flag new_checkout=on",
        "ratio 0.75 above threshold 0.5", "temperature 21.5 C", "session started", "2024-06-01 12:00:00",
        "1.2.3.4.5", "port 5432 open", "charset=utf-8", "max_tokens=1024", "input_tokens: 523",
        "tokens_used=1200", "token_type=bearer", "password_reset_count=3", "secret_name=db-creds",
        "key=user:42", "cache key 7f3a9c", "ISBN 978-3-16-148410-0", "tel. extension 4521",
    ]
    return out


# -- placing a value ------------------------------------------------------------------------------
@dataclass
class Item:
    """One event carrying one value in one placement."""

    kind: int
    name: str
    body: str
    attributes: dict[str, str]
    source: dict[str, str] = field(default_factory=dict)


SENTENCES = (
    "upstream rejected the request: got {v} from the client, retrying",
    "auth ok for key {v}",
    "config value='{v}' loaded",
    "calling billing with ({v}) now",
    "received [{v}] end",
    "retry=3; credential {v}; backoff=250ms",
    "{v}",
    "error: invalid {v}.",
)


def place(value: str, placement: str, variant: int = 0, benign: bool = False) -> Item:
    """The event that carries value in placement; ``variant`` picks one of a few phrasings. A benign
    value only goes where no key names a secret."""
    if benign and placement in ("json", "url"):
        variant = (0, 2)[variant % 2] if placement == "json" else (0, 1, 3)[variant % 3]
    from ben.v1 import telemetry_pb2 as pb

    log, gauge = pb.KIND_LOG, pb.KIND_METRIC
    neutral = {"http.route": "/api/v1/orders", "level": "info"}
    if placement == "attr_neutral":
        return Item(log, "app.event", "request handled", {**neutral, ("detail", "value", "x", "field")[variant % 4]: value})
    if placement == "attr_password":
        return Item(log, "app.event", "login", {**neutral, ("password", "db.password", "Password", "passwd")[variant % 4]: value})
    if placement == "attr_api_key":
        return Item(log, "app.event", "outbound call", {**neutral, ("api_key", "X-Api-Key", "apiKey", "secret")[variant % 4]: value})
    if placement == "attr_authorization":
        return Item(log, "app.event", "outbound call",
                    {**neutral, ("authorization", "Authorization", "http.request.header.authorization", "token")[variant % 4]: value})
    if placement == "log_sentence":
        return Item(log, "app.log", SENTENCES[variant % len(SENTENCES)].format(v=value), neutral)
    if placement == "json":
        doc = ({"msg": "config loaded", "data": {"value": value, "n": 3}}, {"token": value}, [1, value],
               {"items": [{"id": 1, "secret": value}]})[variant % 4]
        return Item(log, "app.log", json.dumps(doc), neutral)
    if placement == "url":
        url = (f"GET https://api.example.com/v1/items/{value}/?page=2 -> 200", f"fetch https://example.com/search?q={value}&page=2",
               f"callback https://example.com/cb?token={value}", f"https://example.com/#{value}")[variant % 4]
        return Item(log, "app.log", url, neutral)
    if placement == "url_encoded":
        return Item(log, "app.log", f"redirect to https://example.com/cb?state=abc&v={quote(value, safe='')}&x="
                                    f"{quote_plus(value)}", neutral)
    if placement == "gauge":
        return Item(gauge, "queue.depth", "", {"queue": "orders", "label": value})
    if placement in SOURCE_PLACEMENTS:
        return Item(log, "app.event", "started", neutral, {placement.removeprefix("source_"): value})
    if placement == "metric_name":
        return Item(gauge, f"checkout.{value}.total", "", neutral)
    raise ValueError(f"unknown placement {placement!r}")


def _leaked(value: str, out_text: str) -> bool:
    """Is the value still there, as written, URL-encoded or JSON-escaped?"""
    return (value in out_text or quote(value, safe="") in out_text or quote_plus(value) in out_text
            or json.dumps(value)[1:-1] in out_text)


@dataclass
class Quality:
    """Per placement: secret values redacted / sent; benign values changed / sent."""

    redacted: dict[str, int]
    sent: dict[str, int]
    missed: dict[str, list[str]]
    benign_changed: int
    benign_sent: int
    benign_mangled: list[str]

    @property
    def recall(self) -> dict[str, float]:
        return {p: self.redacted[p] / self.sent[p] for p in self.sent}

    @property
    def benign_rate(self) -> float:
        return self.benign_changed / self.benign_sent


def _run(engine, items: list[Item]) -> list[str]:
    """Each item's event as the text stored (name, body, attributes, source), in order."""
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    out = []
    by_source: dict[tuple, list[int]] = {}
    for i, it in enumerate(items):
        by_source.setdefault(tuple(sorted(it.source.items())), []).append(i)
    texts = [""] * len(items)
    for src, idx in by_source.items():
        b = BatchBuilder(1)
        for i in idx:
            it = items[i]
            b.add(it.kind, it.name, 1.0, it.body, it.attributes, 1_764_000_000_000_000_000 + i)
        source = {"host": "corpus-host", "subsystem": "corpus", "instance": "1", **dict(src)}
        batch = engine.apply(b.build(pb.Source(**source), "corpus"))
        s = batch.strings
        at = 0
        src_text = " ".join((batch.source.host, batch.source.subsystem, batch.source.instance))
        for j, i in enumerate(idx):
            attrs = [(s[batch.attr_keys[k]], s[batch.attr_values[k]]) for k in range(at, at + batch.attr_counts[j])]
            at += batch.attr_counts[j]
            texts[i] = "\n".join([s[batch.names[j]], s[batch.bodies[j]], src_text] + [f"{k}={v}" for k, v in attrs
                                                                                   if k != "ben.redacted"])
    out.extend(texts)
    return out


def evaluate(manifest_text: str, seed: int = 20) -> Quality:
    """How a manifest fares on the corpus (a fresh engine, the fast path)."""
    from ben.redact import Engine, parse_manifest

    engine = Engine(parse_manifest(manifest_text, "corpus manifest"))
    found = secrets(seed)
    redacted = {p: 0 for p in PLACEMENTS}
    sent = {p: 0 for p in PLACEMENTS}
    missed: dict[str, list[str]] = {p: [] for p in PLACEMENTS}
    for p in PLACEMENTS:
        items = [place(v, p, i) for i, v in enumerate(found.values())]
        for (name, value), text in zip(found.items(), _run(engine, items)):
            sent[p] += 1
            if _leaked(value, text):
                missed[p].append(name)
            else:
                redacted[p] += 1
    values = benign(seed + 1)
    changed, mangled, total = 0, [], 0
    for p in BENIGN_PLACEMENTS:
        for value, text in zip(values, _run(engine, [place(v, p, i, benign=True) for i, v in enumerate(values)])):
            total += 1
            if not _leaked(value, text):
                changed += 1
                mangled.append(f"{p}: {value}")
    return Quality(redacted, sent, missed, changed, total, mangled)
