"""Benign look-alikes of the second held-out-style corpus: texts holding ids, hashes, numbers and words
that look like the secrets of ``heldout2_tokens``/``heldout2_ids`` and must come out unchanged."""

from __future__ import annotations

import base64
import hashlib
import json

from tests.redact.heldout2_gen import ALNUM, HEX, LOWER, Rand, luhn_digit, luhn_ok
from tests.redact.heldout2_ids import IBAN_SHAPES


def _uuid(r: Rand) -> str:
    return f"{r.hex(8)}-{r.hex(4)}-4{r.hex(3)}-{r.pick('89ab')}{r.hex(3)}-{r.hex(12)}"


def _non_luhn(r: Rand, n: int) -> str:
    while True:
        d = r.pick("123456789") + r.digits(n - 1)
        if not luhn_ok(d):
            return d


def _bad_iban(r: Rand) -> str:
    c = r.pick(sorted(IBAN_SHAPES))
    bban = IBAN_SHAPES[c](r)
    digits = "".join(str(int(ch, 36)) for ch in bban + c + "00")
    good = 98 - int(digits) % 97
    return f"{c}{(good + r.between(1, 90)) % 97 + 2:02d}{bban}"


def samples(r: Rand) -> list[tuple[str, str, dict]]:
    """(kind, body, attrs) of one round of look-alikes."""
    tid, sid = r.hex(32), r.hex(16)
    sha, sha256 = r.hex(40), r.hex(64)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(r.rng.getrandbits(8) for _ in range(90))).decode()
    txt = base64.b64encode(r.pick([b"hello world, build 4412 finished", b'{"page":2,"size":50}', b"user-agent: curl/8.5.0"])).decode()
    ver = f"{r.between(0, 9)}.{r.between(0, 40)}.{r.between(0, 99)}"
    out = [
        ("uuid", f"request {_uuid(r)} completed in {r.between(3, 900)}ms", {"request.id": _uuid(r)}),
        ("git_sha", f"deployed commit {sha} ({sha[:7]}) to prod by ci", {}),
        ("git_log", f"commit {sha}\nAuthor: Jane Doe (ci-bot)\n\n    fix: rotate password hashing cost", {}),
        ("sha256_log", f"verified artifact sha256:{sha256} size={r.between(1000, 99999999)}", {}),
        ("image_digest", f"pulling ghcr.io/acme/api@sha256:{sha256}", {"container.image.tag": ver}),
        ("trace_ids", "handled GET /v1/orders", {"trace_id": tid, "span_id": sid, "otel.parent_span_id": r.hex(16)}),
        ("traceparent", f"traceparent: 00-{tid}-{sid}-01", {}),
        ("otlp_resource", "span ended", {"resource.service.instance.id": _uuid(r), "resource.host.id": r.hex(32),
                                          "resource.process.pid": str(r.between(100, 65000)), "resource.service.version": ver}),
        ("otlp_log_json", json.dumps({"event": "cache_miss", "key": f"user:{r.digits(7)}", "ttl_s": 300, "trace_id": tid}), {}),
        ("base64_image", f'<img src="data:image/png;base64,{png}" alt="logo">', {}),
        ("base64_text", json.dumps({"msg": "decoded cursor", "cursor": txt}), {}),
        ("version", f"starting api v{ver} (go1.22.{r.between(0, 9)}, build {r.digits(8)})", {"service.version": ver}),
        ("numbers", f"processed {r.between(10**5, 10**9)} rows in {r.between(1, 999)}.{r.digits(3)}s, "
                    f"bytes={r.between(10**9, 10**12)} ts={r.between(1_700_000_000_000, 1_800_000_000_000)}", {}),
        ("order_id", f"order {_non_luhn(r, 16)} shipped, tracking {r.s('0123456789', 12)}", {}),
        ("non_luhn_card_like", f"invoice number {' '.join(_non_luhn(r, 16)[i:i + 4] for i in range(0, 16, 4))} paid", {}),
        ("bad_iban", f"reference {_bad_iban(r)} rejected by bank: invalid check digits", {}),
        ("hex_address", f"goroutine 17 [running]:\nmain.handler(0xc000{r.hex(6)}, 0x{r.hex(12)})\n\t/app/main.go:{r.between(10, 300)} +0x{r.hex(3)}", {}),
        ("etag", f'ETag: W/"{r.hex(32)}"', {}),
        ("npm_integrity", f'"integrity": "sha512-{base64.b64encode(hashlib.sha512(r.hex(8).encode()).digest()).decode()}"', {}),
        ("k8s_pod", f"pod api-{r.s(LOWER + '0123456789', 10)}-{r.s(LOWER + '0123456789', 5)} OOMKilled", {"k8s.pod.uid": _uuid(r)}),
        ("mac_ip", f"dhcp lease {r.between(10, 192)}.{r.between(0, 255)}.{r.between(0, 255)}.{r.between(1, 254)} to "
                   f"{':'.join(r.hex(2) for _ in range(6))}", {}),
        ("iso_dates", f"window 2026-12-0{r.between(1, 9)}T0{r.between(0, 9)}:00:00Z..2026-12-0{r.between(1, 9)}T23:59:59Z", {}),
        ("phone_free_text", f"retry {r.between(1, 5)} of 5 after {r.between(100, 9999)} ms; queue depth {r.between(0, 99999)}", {}),
        ("password_prose", r.pick(["password must be at least 12 characters", "user changed their password",
                                   "password reset email sent to the user", "invalid username or password",
                                   "Please enter your password", "password expired for 3 accounts"]), {}),
        ("command_prompt", r.pick(["mysql -h db01 -u root -p shop", "ssh -p 2222 deploy@10.0.4.17",
                                   "docker login registry.internal -u ci --password-stdin < /run/secrets/token",
                                   "redis-cli -h cache -a \"$REDIS_PASSWORD\" ping", "zip -r backup.zip dumps/",
                                   "sshpass -f /run/secrets/ssh_pw ssh deploy@web-3", "7z a -mx=9 archive.7z exports/",
                                   "curl -u admin https://jenkins.internal/api/json", "net user bob /delete"]), {}),
        ("auth_prose", r.pick(["Authorization header missing", "authorization: none required for /healthz",
                               "bearer token expired, refreshing", "API key rotated by admin on 2026-12-01",
                               "login admin succeeded from 10.0.0.4", "token validation succeeded for client web"]), {}),
        ("secret_ref", r.pick(['{"valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}',
                               "password: ${DB_PASSWORD}", "DB_PASSWORD_FILE=/run/secrets/db_password",
                               "api_key: {{ .Values.apiKey }}", "token = var.github_token"]), {}),
        ("public_key", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{r.b64(24)[:-1]} ci@build", {}),
        ("url_plain", f"GET https://api.example.com/v2/users/{r.digits(6)}/orders?page={r.between(1, 9)}&sort=desc 200", {}),
        ("webhook_doc", "configure the Slack incoming webhook URL in settings > notifications", {}),
        ("hash_in_log", f"password hash updated (bcrypt, cost 12) for user_id={r.digits(6)}", {}),
        ("md5_sums", f"{r.hex(32)}  dist/app-{ver}.tar.gz", {}),
        ("css_colors", f"theme primary #{r.hex(6)} secondary #{r.hex(6)}", {}),
        ("sentry_event", json.dumps({"event_id": r.hex(32), "release": f"api@{ver}", "level": "error"}), {}),
        ("stripe_ids", f"charge ch_{r.mixed(24)} for customer cus_{r.s(ALNUM, 14)} succeeded", {}),
        ("random_label", f"feature flag {r.pick(['new-checkout', 'beta-search'])} enabled for cohort {r.s(HEX, 8)}", {}),
        ("luhn_short_number", f"room {r.between(100, 999)}, ext {r.digits(4)}, badge {luhn_digit(r.digits(5))}", {}),
    ]
    return out
