"""Benign look-alikes for ``heldout_style``: values a redactor must leave alone.

Identifiers and digests that look random (UUIDs, git SHAs, content hashes, trace and span ids, image
digests, object ids), numbers that look like cards or phones (build numbers, versions, timestamps,
sizes), public keys and certificates, base64 images, URLs without credentials, IP addresses (ben's
documented policy keeps them unless a manifest opts in), and prose that says "token" or "password".
"""

from __future__ import annotations

import base64
import hashlib
import json
import string

from tests.redact.heldout_tokens import ALNUM, B58, HEX, LOWER_ALNUM, UPPER_ALNUM, Gen

PROSE = [
    "Click the link in the e-mail to reset your password.", "password reset email sent to the user",
    "token bucket refilled: 120 tokens available", "auth token expired, refreshing", "Invalid password for user admin",
    "token validation succeeded for request", "minimum password length is 12 characters", "secret rotation scheduled for Sunday",
    "API key rotation completed without errors", "the tokenizer produced 512 tokens", "Password must contain a digit",
    "Forgot your password? Contact the service desk.", "access denied: missing bearer token", "no secret named db-creds in namespace prod",
    "user changed their password successfully", "Das Passwort wurde erfolgreich geändert", "la contraseña ha caducado",
    "le mot de passe a été réinitialisé", "refresh token flow started", "session cookie set for path /",
    "Using password authentication for user deploy", "key=value pairs parsed: 14", "private key loaded from HSM slot 3",
    "JWT signature verified with key id 7", "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
]
WORDS = ["AbstractSingletonProxyFactoryBean", "TokenValidationFilter", "PasswordEncoderFactories",
         "Donaudampfschifffahrtsgesellschaftskapitaen", "SecretsManagerClientBuilder", "ApiKeyAuthenticationHandler"]


def _b64text(g: Gen) -> str:
    text = " ".join(g.rng.choice(["the", "quick", "order", "shipped", "cart", "item", "total", "user", "page"]) for _ in range(12))
    return base64.b64encode(text.encode()).decode()


def _benign_values(g: Gen) -> list[tuple[str, str, str]]:
    """(kind, key, value): each drawn fresh."""
    h = lambda n: g.s(HEX, n)  # noqa: E731
    d = lambda n: g.s(string.digits, n)  # noqa: E731
    sha = hashlib.sha256(g.s(ALNUM, 16).encode()).hexdigest()
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA" + g.b64(g.rng.randint(150, 400))
    vals = [
        ("uuid", "request_id", g.uuid()), ("uuid_upper", "CorrelationId", g.uuid().upper()),
        ("git_sha", "commit", h(40)), ("git_short", "revision", h(g.rng.choice([7, 8, 12]))),
        ("sha256_digest", "image", f"ghcr.io/acme/api@sha256:{sha}"), ("sha256_hex", "checksum", sha),
        ("container_id", "container.id", h(64)), ("md5_etag", "ETag", f'"{h(32)}"'),
        ("trace_id", "trace_id", h(32)), ("span_id", "span_id", h(16)),
        ("traceparent", "traceparent", f"00-{h(32)}-{h(16)}-01"),
        ("amzn_trace", "X-Amzn-Trace-Id", f"Root=1-{h(8)}-{h(24)};Parent={h(16)};Sampled=1"),
        ("mongo_id", "_id", h(24)), ("sentry_event", "event_id", h(32)),
        ("build_number", "build", f"#{d(5)}"), ("version", "version", f"v{g.rng.randint(1, 30)}.{g.rng.randint(0, 99)}.{g.rng.randint(0, 999)}-rc.{g.rng.randint(1, 9)}+build.{d(4)}"),
        ("win_version", "os.version", f"10.0.{d(5)}.{d(4)}"), ("timestamp", "ts", f"2026-{g.rng.randint(1, 12):02d}-{g.rng.randint(1, 28):02d}T{g.rng.randint(0, 23):02d}:{d(2)[:1]}{d(1)}:{g.rng.randint(10, 59)}.{d(6)}Z"),
        ("epoch_ms", "time_unix_ms", "17" + d(11)), ("date_eu", "date", f"{g.rng.randint(1, 28):02d}.{g.rng.randint(1, 12):02d}.2026 {g.rng.randint(10, 23)}:{g.rng.randint(10, 59)}:{g.rng.randint(10, 59)}"),
        ("base64_image", "avatar", png), ("base64_text", "payload", _b64text(g)),
        ("npm_integrity", "integrity", "sha512-" + g.b64(64)), ("go_sum", "h1", "h1:" + g.b64(32)),
        ("ipv4", "client.ip", f"{g.rng.randint(11, 223)}.{g.rng.randint(0, 255)}.{g.rng.randint(0, 255)}.{g.rng.randint(1, 254)}"),
        ("ipv6", "peer", f"2001:db8:{h(4)}:{h(4)}::{h(3)}"), ("mac", "hw_addr", ":".join(h(2).upper() for _ in range(6))),
        ("pod_name", "k8s.pod.name", f"api-{g.s(LOWER_ALNUM, 10)}-{g.s(LOWER_ALNUM, 5)}"),
        ("arn", "role", f"arn:aws:iam::{d(12)}:role/deploy-{g.s(LOWER_ALNUM, 6)}"),
        ("aws_unique_id", "principalId", "AROA" + g.s(UPPER_ALNUM, 17) + ":session-" + d(6)),
        ("ec2_id", "instance", f"i-0{h(16)}"), ("stripe_object", "customer", "cus_" + g.mixed(14)),
        ("stripe_charge", "charge", "ch_3" + g.mixed(23)), ("slack_channel", "channel", "C0" + g.s(UPPER_ALNUM, 9)),
        ("luhn_invalid_16", "bytes", _not_luhn(g)), ("order_number", "order", f"ORD-2026-{d(6)}"),
        ("isbn", "isbn", f"978-{g.rng.randint(0, 9)}-{d(2)}-{d(6)}-{g.rng.randint(0, 9)}"),
        ("tracking", "tracking_number", "1Z" + g.s(UPPER_ALNUM, 16)), ("latlong", "geo", f"{g.rng.uniform(-80, 80):.6f}, {g.rng.uniform(-170, 170):.6f}"),
        ("size_bytes", "size", d(9)), ("duration", "took", f"{g.rng.randint(1, 99999)}ms"),
        ("port_range", "node_ports", f"30000-{g.rng.randint(30001, 32767)}"),
        ("ssh_public_key", "authorized_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.b64(32).rstrip("=") + " deploy@ci"),
        ("k8s_secret_ref", "valueFrom", "secretKeyRef:\n  name: db-secret\n  key: password"),
        ("secret_file_path", "DB_PASSWORD_FILE", "/run/secrets/db_password"),
        ("url_no_creds", "url", f"https://api.example.com/v1/search?q=token+rotation&page={g.rng.randint(2, 9)}&sort=asc"),
        ("db_url_no_creds", "DATABASE_HOST", f"postgres://db.internal:5432/app_{g.s(string.ascii_lowercase, 4)}"),
        ("llm_tokens", "llm.usage.total_tokens", str(g.rng.randint(100, 99999))),
        ("max_tokens", "max_tokens", str(g.rng.choice([256, 1024, 4096, 8192]))),
        ("password_changed_at", "user.password_changed_at", f"2026-11-{g.rng.randint(10, 28)}T10:00:00Z"),
        ("auth_method", "auth.method", g.rng.choice(["password", "oauth2", "saml", "token"])),
        ("identifier", "class", g.rng.choice(WORDS)), ("base58_addr", "address", "1" + g.s(B58, 33)),
        ("kafka_cluster", "cluster.id", g.mixed(22, ALNUM + "-_")),
        ("cert_pem", "ca.crt", "-----BEGIN CERTIFICATE-----\n" + "\n".join(g.b64(48) for _ in range(6)) + "\n-----END CERTIFICATE-----"),
        ("public_key_pem", "jwks", "-----BEGIN PUBLIC KEY-----\n" + "\n".join(g.b64(48) for _ in range(3)) + "\n-----END PUBLIC KEY-----"),
        ("prose", "msg", g.rng.choice(PROSE)),
    ]
    return vals


def _not_luhn(g: Gen) -> str:
    while True:
        n = str(g.rng.randint(1, 9)) + g.s(string.digits, 15)
        total = sum((int(c) * (2 if i % 2 else 1)) - (9 if int(c) * (2 if i % 2 else 1) > 9 else 0)
                    for i, c in enumerate(reversed(n)))
        if total % 10:
            return n


def benign_samples(g: Gen, *, per_kind: int = 4) -> list[tuple[str, str, str, dict]]:
    """(kind, carrier, body, attrs) for every look-alike, ``per_kind`` placements each."""
    out = []
    for _ in range(per_kind):
        for kind_name, key, value in _benign_values(g):
            c = g.rng.randrange(5)
            if c == 0:
                out.append((kind_name, "json_log", json.dumps({"level": "info", "msg": "request done", key: value}), {}))
            elif c == 1:
                out.append((kind_name, "attribute", "request done", {key: value}))
            elif c == 2:
                out.append((kind_name, "logfmt", f"level=info msg=done {key}={json.dumps(value) if ' ' in value else value} status=200", {}))
            elif c == 3:
                out.append((kind_name, "prose", f"{value}", {}))
            else:
                out.append((kind_name, "env_dump", f"HOME=/home/app\n{key.upper().replace('.', '_')}={value}\nLANG=C.UTF-8", {}))
    return out
