"""Benign near-misses of the third held-out-style corpus: ids, hashes, encoded images, versions, times,
placeholders and masked values, public keys and certificates, in the same structured formats as the
secrets of ``heldout_style3``. A redactor must leave every one unchanged."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap

from tests.redact.heldout3_values import AN, DG, HX, LO, UP, Draw, luhn


def _non_luhn(d: Draw, n: int) -> str:
    while True:
        v = d.one("123456789") + d.s(DG, n - 1)
        if luhn(v[:-1]) != v:
            return v


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """(kind, body, attrs) of one round of look-alikes."""
    tid, sid, sha, sha256 = d.s(HX, 32), d.s(HX, 16), d.s(HX, 40), d.s(HX, 64)
    uuid = d.uuid()
    ver = f"{d.num(0, 9)}.{d.num(0, 30)}.{d.num(0, 99)}"
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + d.raw(120)).decode()
    cert = "\n".join(textwrap.wrap(base64.b64encode(b"0\x82\x03" + d.raw(600)).decode(), 64))
    pub = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + d.raw(32)).decode()
    placeholder = d.one(["changeme", "<redacted>", "********", "REDACTED", "<YOUR_API_KEY>", "xxxxxxxxxxxxxxxx", "***",
                         "${DB_PASSWORD}", "{{ .Values.password }}", "(sensitive value)", "[FILTERED]", "REPLACE_ME", "null"])
    return [
        ("uuid_json", json.dumps({"ts": "2026-12-06T10:15:02Z", "request_id": uuid, "tenant": d.uuid(), "status": 200}), {}),
        ("git_sha", f"HEAD is now at {sha[:7]} Merge pull request #{d.num(100, 9999)} from acme/fix-retry\ncommit {sha}", {}),
        ("file_hash", f"{sha256}  dist/app-{ver}-linux-amd64.tar.gz\nmd5={d.s(HX, 32)} sha1={d.s(HX, 40)}", {}),
        ("trace_logfmt", f"ts=2026-12-06T10:15:02Z level=info trace_id={tid} span_id={sid} parent={d.s(HX, 16)} msg=\"request done\" dur_ms={d.num(1, 900)}", {}),
        ("traceparent_header", f"GET /v1/orders HTTP/1.1\nHost: api.internal\ntraceparent: 00-{tid}-{sid}-01\nx-request-id: {uuid}\n", {}),
        ("b3_headers", "forwarded", {"http.request.header.x-b3-traceid": tid, "http.request.header.x-b3-spanid": sid, "http.request.header.x-b3-sampled": "1"}),
        ("base64_image", json.dumps({"avatar": f"data:image/png;base64,{png}", "user_id": d.num(1000, 99999)}), {}),
        ("version_strings", f"ben-sidecar v{ver}-rc.{d.num(1, 9)}+build.{d.num(100, 999)} (go1.22.{d.num(0, 9)}, commit {sha[:12]}, built 2026-12-0{d.num(1, 9)})", {}),
        ("timestamps", f"window_start=2026-12-06T00:00:00.000+01:00 epoch_ms={d.num(1_700_000_000_000, 1_800_000_000_000)} tz=Europe/Berlin", {}),
        ("placeholder_yaml", f"database:\n  host: db.internal\n  user: app\n  password: {json.dumps(placeholder)}\n", {}),
        ("placeholder_env", f"API_KEY={placeholder}\nSECRET_KEY=\nLOG_LEVEL=debug", {}),
        ("masked_password", d.one(["password: ********", "Password=*****;", "--password=****", "passwd: [hidden]", "token: ***",
                                   "Authorization: Bearer ***", "api_key=<redacted>", "secret: REDACTED"]), {}),
        ("gha_masked", "2026-12-06T10:15:02.1Z   DEPLOY_TOKEN: ***\n2026-12-06T10:15:02.2Z   AWS_REGION: eu-west-1\n2026-12-06T10:15:02.3Z ##[endgroup]", {}),
        ("tf_sensitive", "  + resource \"aws_db_instance\" \"main\" {\n      + password = (sensitive value)\n      + username = \"app\"\n    }", {}),
        ("masked_card", f"charged card **** **** **** {d.s(DG, 4)} (visa), auth code {d.s(UP + DG, 6)}", {}),
        ("non_luhn_number", f"order {_non_luhn(d, 16)} shipped; invoice {_non_luhn(d, 16)[:4]}-{d.s(DG, 6)}", {}),
        ("ssh_public_key", f"ssh-ed25519 {pub} deploy@bastion", {}),
        ("certificate", f"-----BEGIN CERTIFICATE-----\n{cert}\n-----END CERTIFICATE-----", {}),
        ("image_digest", f"Successfully pulled image \"ghcr.io/acme/api@sha256:{sha256}\"", {}),
        ("npm_lock", json.dumps({"version": ver, "resolved": f"https://registry.npmjs.org/left-pad/-/left-pad-{ver}.tgz",
                                 "integrity": "sha512-" + base64.b64encode(hashlib.sha512(sha.encode()).digest()).decode()}), {}),
        ("go_sum", f"github.com/acme/lib v{ver} h1:{base64.b64encode(hashlib.sha256(sha.encode()).digest()).decode()}", {}),
        ("mongo_objectid", json.dumps({"_id": {"$oid": d.s(HX, 24)}, "status": "paid"}), {}),
        ("ulid_ksuid", f"event {d.s('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 26)} stored, cursor {d.s(AN, 27)}", {}),
        ("k8s_event", f"Normal  Pulled  pod/api-{d.s(LO + DG, 10)}-{d.s(LO + DG, 5)}  Container image already present", {"k8s.pod.uid": d.uuid()}),
        ("sql_benign", f"INSERT INTO orders (id, customer_id, total_cents, created_at) VALUES ('{d.uuid()}', {d.num(1, 99999)}, {d.num(100, 99999)}, '2026-12-06 10:15:02');", {}),
        ("http_benign", f"GET /api/v2/items?page={d.num(1, 9)}&per_page=50&sort=-created_at HTTP/1.1\nHost: api.internal\nAccept: application/json\nUser-Agent: ben-sdk/{ver}", {}),
        ("prose_security", d.one(["password must be at least 12 characters long", "token expired at 2026-12-06T10:00:00Z, refreshing",
                                  "set DB_PASSWORD in your .env file before starting", "api_key is required", "invalid client_secret",
                                  "FATAL: password authentication failed for user \"app\"", "Access denied for user 'app'@'10.0.0.5' (using password: YES)",
                                  "Bearer token not provided", "rotate your secrets every 90 days"]), {}),
        ("ansible_vault", "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(d.s(DG + "abcdef", 80) for _ in range(3)), {}),
        ("curl_benign", f"curl -sS -H 'Accept: application/json' -H 'X-Request-Id: {uuid}' https://api.example.com/v1/health", {}),
        ("uuid_cookie", f"Set-Cookie: locale=de-DE; Path=/; Max-Age=31536000\nSet-Cookie: ab_bucket={d.num(1, 99)}; Path=/", {}),
        ("hex_color_css", f"color: #{d.s(HX, 6)}; background: #{d.s(HX, 6)}; font-size: 14px", {}),
        ("semver_range", f"requires: django>=4.2,<5.0 numpy=={ver} requests~=2.31", {}),
    ]
