"""The sixth held-out-style corpus' look-alikes: what a service logs beside its secrets and must come out unchanged
— trace and span ids, request ids, UUIDs and ULIDs, digests and ETags, commit SHAs, provider object ids (which
share a token's prefix style), public keys and certificates, SRI hashes, metrics, versions, timestamps, masked and
referenced secrets, and the words "password"/"token"/"secret" in ordinary sentences.
"""

from __future__ import annotations

import base64
import hashlib
import json

from tests.redact.heldout6_values import ALNUM, B64, UPPER_NUM, Draw, pem

TS = "2026-03-14T09:26:53.589Z"


def _ulid(d: Draw) -> str:
    return "01" + d.s("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 24)


def _cert(d: Draw) -> str:
    p = pem(d, "CERTIFICATE")
    return p.text().replace("MII", "MIID", 1)


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """One round of look-alikes: (kind, body, attributes)."""
    trace, span = d.hex(32), d.hex(16)
    sha = d.hex(40)
    digest = "sha256:" + d.hex(64)
    out = [
        ("traceparent", f"outgoing request traceparent=00-{trace}-{span}-01 tracestate=dd=s:1;t.dm:-0",
         {"trace_id": trace, "span_id": span}),
        ("b3", f"X-B3-TraceId: {d.hex(16)}\nX-B3-SpanId: {d.hex(16)}\nX-B3-Sampled: 1", {}),
        ("request_ids", f'{{"level":"info","ts":"{TS}","msg":"request done","request_id":"{d.uuid()}","ulid":"{_ulid(d)}",'
                        f'"x-amz-request-id":"{d.s(UPPER_NUM, 16)}","cf-ray":"{d.hex(16)}-FRA","status":200,"duration_ms":{d.randrange(900)}}}', {}),
        ("amz_id_2", f"x-amz-id-2: {base64.b64encode(d.randbytes(57)).decode()}", {"aws.request_id": d.s(UPPER_NUM, 16)}),
        ("git", f"HEAD is now at {sha[:7]} Merge pull request #{d.randrange(9999)} from acme/fix-token-refresh", {"vcs.ref.head.revision": sha}),
        ("image_digest", f"Pulling image ghcr.io/acme/api@{digest}", {"container.image.id": digest, "container.image.tag": "v2.14.3"}),
        ("etag", f'HTTP/1.1 304 Not Modified\r\nETag: "{d.hex(32)}"\r\nCache-Control: max-age=3600', {}),
        ("sri", f'<script src="/static/main.{d.hex(8)}.js" integrity="sha384-{base64.b64encode(d.randbytes(48)).decode()}" '
                f'crossorigin="anonymous"></script>', {}),
        ("content_md5", f"Content-MD5: {base64.b64encode(hashlib.md5(d.randbytes(9)).digest()).decode()}", {}),
        ("stripe_ids", f"charge succeeded customer=cus_{d.s(ALNUM, 14)} payment_intent=pi_{d.s(ALNUM, 24)} "
                       f"event=evt_{d.s(ALNUM, 24)} price=price_{d.s(ALNUM, 24)}", {}),
        ("twilio_sid", f"message queued sid=SM{d.hex(32)} messaging_service=MG{d.hex(32)}", {}),
        ("slack_ids", f"posted to channel C{d.s(UPPER_NUM, 10)} team=T{d.s(UPPER_NUM, 10)} ts={d.randrange(10**9, 2 * 10**9)}.{d.randrange(10**6):06d}", {}),
        ("aws_arn", f"AssumeRole arn:aws:iam::{d.randrange(10**11, 10**12)}:role/deployer session=gha-{d.randrange(10**9)} "
                    f"AccessKeyId=(redacted)", {"cloud.account.id": str(d.randrange(10**11, 10**12))}),
        ("ssh_pub", f"Accepted publickey for deploy from 10.0.{d.randrange(255)}.{d.randrange(255)} port {d.randrange(1024, 65535)} ssh2: "
                    f"ED25519 SHA256:{base64.b64encode(d.randbytes(32)).decode().rstrip('=')}", {}),
        ("ssh_authorized", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + d.s(B64, 43) + " deploy@ci", {}),
        ("certificate", "loaded server certificate:\n" + _cert(d), {}),
        ("jwk_public", json.dumps({"keys": [{"kty": "RSA", "kid": d.hex(20), "use": "sig", "alg": "RS256", "e": "AQAB",
                                             "n": base64.urlsafe_b64encode(d.randbytes(256)).decode().rstrip("=")}]}), {}),
        ("metrics", f'http_server_requests_seconds_count{{method="POST",uri="/api/v1/token",status="200"}} {d.randrange(10**6)}\n'
                    f'auth_token_refresh_total{{result="ok"}} {d.randrange(10**5)}', {}),
        ("versions", f"ben-sdk/1.{d.randrange(40)}.{d.randrange(20)} python/3.11.9 openssl/3.0.13 build={d.hex(12)} "
                     f"go1.22.5 linux/amd64", {"service.version": f"2026.3.{d.randrange(30)}+{d.hex(7)}"}),
        ("timestamps", f"{TS} started at {d.randrange(1700000000, 1800000000)}.{d.randrange(10**9):09d} "
                       f"elapsed={d.random() * 100:.3f}s", {}),
        ("k8s_names", f"pod/api-{d.hex(10)}-{d.s('bcdfghjklmnpqrstvwxz2456789', 5)} uid={d.uuid()} "
                      f"resourceVersion={d.randrange(10**8)}", {"k8s.pod.uid": d.uuid()}),
        ("masked", "config: password=******** api_key=[REDACTED] token=<hidden> DB_PASSWORD=${DB_PASSWORD} "
                   "client_secret={{ .Values.clientSecret }}", {}),
        ("oauth_reply", json.dumps({"token_type": "Bearer", "expires_in": 3600, "scope": "read:org", "refresh_token_expires_in": 15897600}), {}),
        ("sentences", d.pick(["Password reset email sent to user 4821", "token refresh succeeded after 2 retries",
                              "secret rotation scheduled for 2026-04-01", "Invalid password for user id=93 (attempt 3/5)",
                              "api key missing from request header", "Passwort zurückgesetzt für Benutzer 4821",
                              "jeton expiré, renouvellement en cours", "密码错误，请重试"]), {"event": "auth"}),
        ("hash_fields", f'{{"password_hash_algo":"argon2id","password_changed_at":"{TS}","token_id":"{d.uuid()}",'
                        f'"key_fingerprint":"{":".join(d.hex(2) for _ in range(16))}"}}', {}),
        ("session_meta", "session started session_id_len=32 idle_timeout=1800 csrf=enabled user_agent=\"Mozilla/5.0 "
                         "(iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15\"", {}),
        ("build_ids", f"##[group]Run actions/checkout@{d.hex(40)}\nGITHUB_SHA={d.hex(40)} GITHUB_RUN_ID={d.randrange(10**10)}", {}),
        ("mobile", f"03-14 09:26:53.589  {d.randrange(1000, 9999)}  {d.randrange(1000, 9999)} I FirebaseInstallations: "
                   f"installation id={d.s(ALNUM, 11)} appInstanceId={d.hex(32)}", {"device.id": d.uuid()}),
    ]
    return out
