"""Look-alikes of the fourth held-out-style corpus (``heldout_style4``): strings that a 2026 telemetry pipeline
carries everywhere and that resemble secrets or personal data — trace and span ids, UUIDs (v4 and v7), ULIDs,
git SHAs, content and image digests, container ids, base64 image data, SSH fingerprints and public keys,
Kubernetes resource names and secret references, versions, timestamps in many forms, metric names, LLM token
counts, vendor object ids that are not secrets (Stripe ``cus_``/``pi_``/``req_``, Slack ``C0…``), ARNs,
IPv4/IPv6/MAC addresses, numbers that fail Luhn or mod 97, masked values and placeholders, and prose about
credentials with none in it. Each must come out of redaction byte for byte unchanged.

Written on 2026-12-06 before opening ``src/ben/redact/`` (see ``heldout4_values``).
"""

from __future__ import annotations

import base64
import json
import uuid

from tests.redact.heldout4_values import AN, DG, HX, LO, UP, Draw

B32C = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _uuid7(d: Draw) -> str:
    h = f"{1764950400000 + d.rng.randint(0, 10**8):012x}" + "7" + d.s(HX, 3) + d.one("89ab") + d.s(HX, 15)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _not_luhn(d: Draw) -> str:
    while True:
        v = "4" + d.s(DG, 15)
        t = sum((int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if i % 2 else int(c) for i, c in enumerate(reversed(v)))
        if t % 10:
            return v


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """One round of look-alikes: (kind, body, attributes)."""
    tid, sid, u4, u7 = d.s(HX, 32), d.s(HX, 16), str(uuid.UUID(int=d.rng.getrandbits(128), version=4)), _uuid7(d)
    sha, sha256, cid = d.s(HX, 40), d.s(HX, 64), d.s(HX, 64)
    ulid = d.one("01") + d.s(B32C, 25)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(d.rng.randrange(256) for _ in range(90))).decode()
    fp = base64.b64encode(bytes(d.rng.randrange(256) for _ in range(32))).decode().rstrip("=")
    pub = "AAAAC3NzaC1lZDI1NTE5AAAAI" + base64.b64encode(bytes(d.rng.randrange(256) for _ in range(32))).decode().rstrip("=")
    pod = f"checkout-{d.s(LO + DG, 10)[:9]}-{d.s(LO + DG, 5)}"
    ts_ms = 1764950400000 + d.rng.randint(0, 10**8)
    ip6 = ":".join(d.s(HX, 4) for _ in range(4)) + "::" + d.s(HX, 3) + ":" + d.s(HX, 4)
    b64txt = base64.b64encode(json.dumps({"event": "page_view", "path": "/pricing"}).encode()).decode()
    dd_trace = str(d.rng.randint(10**18, 9 * 10**18))
    return [
        ("traceparent", f"GET /api/cart 200 traceparent=00-{tid}-{sid}-01", {"trace_id": tid, "span_id": sid}),
        ("otel_ids_json", json.dumps({"traceId": tid, "spanId": sid, "parentSpanId": d.s(HX, 16), "name": "SELECT orders"}), {}),
        ("uuid_v4_v7", f"order {u4} created by job {u7}", {"idempotency_key": u4, "messaging.message.id": u7}),
        ("ulid", f"event_id={ulid} stored", {"event.id": ulid}),
        ("git_sha", f"deployed {sha} ({sha[:7]}) to prod", {"vcs.ref.head.revision": sha}),
        ("digests", f"pulled ghcr.io/acme/api@sha256:{sha256} size=48213377", {"container.image.id": "sha256:" + sha256}),
        ("container_id", f"containerd: starting container {cid}", {"container.id": cid}),
        ("png_data_uri", f'<img alt="avatar" src="data:image/png;base64,{png}">', {}),
        ("ssh_fingerprint", f"Accepted publickey for deploy from 10.0.4.17 port 52144 ssh2: ED25519 SHA256:{fp}", {}),
        ("ssh_public_key", f"authorized_keys: ssh-ed25519 {pub} deploy@ci", {}),
        ("k8s_names", f"Successfully assigned prod/{pod} to ip-10-0-{d.rng.randint(1, 250)}-{d.rng.randint(1, 250)}.eu-west-1.compute.internal",
         {"k8s.pod.name": pod, "k8s.pod.uid": u4, "k8s.replicaset.name": pod.rsplit("-", 1)[0]}),
        ("secret_ref_yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db-creds\n        key: password\n", {}),
        ("secret_ref_arn", f"fetched arn:aws:secretsmanager:eu-west-1:{d.s(DG, 12)}:secret:prod/db/password-{d.s(AN, 6)} version AWSCURRENT", {}),
        ("vault_path", "vault: read secret/data/prod/api (version 14, lease 0s)", {"vault.path": "secret/data/prod/api"}),
        ("versions", f"ben 2.14.0-rc.1+build.{d.rng.randint(100, 999)} go1.23.4 openssl 3.0.15 v0.0.0-20261206101502-{sha[:12]}", {"service.version": "2.14.0"}),
        ("timestamps", f"start=2026-12-06T10:15:02.481+01:00 epoch_ms={ts_ms} ts=20261206T101502Z took 0.000123s", {"time_unix_nano": str(ts_ms * 10**6)}),
        ("metric_names", 'http_server_request_duration_seconds_bucket{http_route="/v1/token",le="0.5"} 1532', {"metric.name": "auth.token.refresh.count"}),
        ("llm_usage", "chat completion done", {"gen_ai.usage.input_tokens": str(d.rng.randint(100, 9000)), "gen_ai.usage.output_tokens": str(d.rng.randint(10, 2000)),
                                               "gen_ai.request.max_tokens": "4096", "gen_ai.response.id": "chatcmpl-" + d.s(AN, 29)}),
        ("stripe_ids", f"charge ok customer=cus_{d.s(AN, 14)} payment_intent=pi_{d.s(AN, 24)} request-id=req_{d.s(AN, 14)}", {}),
        ("slack_ids", f"posted to channel C0{d.s(UP + DG, 9)} by U0{d.s(UP + DG, 9)} ts={ts_ms // 1000}.{d.s(DG, 6)}", {}),
        ("ip_addresses", f"client={d.rng.randint(11, 223)}.{d.rng.randint(0, 255)}.{d.rng.randint(0, 255)}.{d.rng.randint(1, 254)} peer=[{ip6}]:443 mac=00:1a:2b:{d.s(HX, 2)}:{d.s(HX, 2)}:{d.s(HX, 2)}", {}),
        ("dd_trace_decimal", f"dd.trace_id={dd_trace} dd.span_id={d.rng.randint(10**17, 9 * 10**17)}", {"dd.trace_id": dd_trace}),
        ("order_number_not_luhn", f"order number {_not_luhn(d)} shipped", {}),
        ("masked_values", "login ok user=admin password=******** api_key=sk-...a1b2 card=**** **** **** 4242", {}),
        ("placeholders", "DB_PASSWORD=${DB_PASSWORD}\nAPI_KEY={{ secrets.API_KEY }}\nTOKEN=$(cat /run/secrets/token)\nSECRET=<your-secret-here>", {}),
        ("prose", "password reset requested; token expired after 15m; rotate the api key every 90 days", {"event.name": "auth.password_reset"}),
        ("password_policy", "policy: password_min_length=12 password_require_symbol=true secret_rotation_days=90", {}),
        ("dsn_no_password", "connecting to postgres://app@pg-primary:5432/orders?sslmode=require and redis://redis-master:6379/0", {}),
        ("base64_text", f"payload={b64txt}", {}),
        ("hex_colors_css", "theme: --primary:#1a73e8; --accent:#ff6d00; font: 14px/1.4 Inter", {}),
        ("http_status", f"GET /v1/orders?page=2&per_page=50 200 {d.rng.randint(2, 900)}ms ua=\"Mozilla/5.0 (X11; Linux x86_64)\"", {}),
        ("eth_address", f"withdrawal to 0x{d.s(HX, 40)} confirmed", {}),
        ("sql_no_secret", "SELECT id, email_verified FROM users WHERE password_changed_at < now() - interval '90 days' LIMIT 100", {}),
        ("coordinates_money", f"geo=52.{d.s(DG, 4)},13.{d.s(DG, 4)} amount=1,234,567.89 EUR", {}),
        ("go_pseudo_version", f"require github.com/acme/lib v1.4.1-0.20261206101502-{sha[:12]} // indirect", {}),
    ]
