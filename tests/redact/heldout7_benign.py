"""The seventh held-out-style corpus' look-alikes (``tests/redact/heldout_style7.py``): what a 2026 service logs
beside its credentials and must keep — ids (UUIDs, ULIDs, trace and span ids, request ids, provider object ids, OCIDs,
Drive file ids, CloudFront and Cloudflare ids), digests (git SHAs, sha256 image digests, lockfile integrity, go.sum,
Git LFS oids), encodings (base64 images, CSP nonces), public material (SSH and PGP public keys, a publishable key,
a public key PEM), and what stands in for a secret (placeholders, documentation examples, masks, references).
"""

from __future__ import annotations

import json
import string

from tests.redact.heldout7_values import ALNUM, B64, LOWNUM, UPNUM, URLSAFE, Draw, b64

TS = "2026-12-07T02:41:07.318Z"


def _ulid(d: Draw) -> str:
    return "01J" + d.s("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 23)


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """One of each look-alike: (kind, body, attrs)."""
    sha = d.hex(40)
    png = "iVBORw0KGgoAAAANSUhEUgAAA" + d.s(B64, 180) + "=="
    out = [
        ("uuid_request", json.dumps({"ts": TS, "level": "info", "request_id": d.uuid(), "msg": "request completed", "status": 200}), {}),
        ("uuid_attr", "job finished", {"job.id": d.uuid(), "tenant.id": d.uuid()}),
        ("ulid", f"created order {_ulid(d)} for customer {_ulid(d)}", {}),
        ("traceparent", f"traceparent: 00-{d.hex(32)}-{d.hex(16)}-01", {}),
        ("span_ids", "span ended", {"trace_id": d.hex(32), "span_id": d.hex(16), "parent_span_id": d.hex(16)}),
        ("datadog_ids", f"dd.trace_id={d.randrange(10**18, 10**19)} dd.span_id={d.randrange(10**18, 10**19)} handled GET /health", {}),
        ("git_sha", f"deploying commit {sha} (short {sha[:7]}) to production", {}),
        ("git_sha_keyed", json.dumps({"revision": d.hex(40), "branch": "main", "dirty": False}), {}),
        ("image_digest", f"Pulled image ghcr.io/acme/api@sha256:{d.hex(64)}", {}),
        ("container_id", f"containerd: started container {d.hex(64)}", {}),
        ("npm_integrity", json.dumps({"node_modules/lodash": {"version": "4.17.21", "resolved":
                                      "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
                                      "integrity": "sha512-" + d.s(B64, 86) + "=="}}), {}),
        ("go_sum", f"golang.org/x/crypto v0.31.0 h1:{d.s(B64, 43)}=", {}),
        ("lfs_oid", f"version https://git-lfs.github.com/spec/v1\noid sha256:{d.hex(64)}\nsize {d.randrange(10**7)}", {}),
        ("base64_image", json.dumps({"avatar": "data:image/png;base64," + png, "user": "u_" + str(d.randrange(10**6))}), {}),
        ("csp_nonce", f"Content-Security-Policy: script-src 'self' 'nonce-{b64(d.randbytes(16))}'; object-src 'none'", {}),
        ("sri_hash", f'<script src="https://cdn.acme.io/app.js" integrity="sha384-{d.s(B64, 64)}" crossorigin="anonymous"></script>', {}),
        ("stripe_ids", f"charge succeeded: payment_intent=pi_3{d.s(ALNUM, 23)} customer=cus_{d.s(ALNUM, 14)} "
                       f"event=evt_1{d.s(ALNUM, 23)} request_id=req_{d.s(ALNUM, 14)}", {}),
        ("twilio_sids", f"message SM{d.hex(32)} queued on account AC{d.hex(32)}", {}),
        ("oracle_ocid", f"instance ocid1.instance.oc1.eu-frankfurt-1.{d.s(LOWNUM, 60)} is RUNNING", {}),
        ("drive_url", f"GET https://drive.google.com/file/d/1{d.s(URLSAFE, 32)}/view?usp=sharing 200", {}),
        ("long_id_url", f'10.0.4.7 - - [07/Dec/2026:02:41:07 +0000] "GET /v1/objects/{d.s(ALNUM, 40)}/versions/{d.hex(32)} '
                        f'HTTP/1.1" 200 934 "-" "Go-http-client/2.0"', {}),
        ("cloudfront_id", f"x-amz-cf-id: {d.s(URLSAFE, 54)}==\nx-amz-request-id: {d.s(UPNUM, 16)}\ncf-ray: {d.hex(16)}-FRA", {}),
        ("aws_arn", f"assumed role arn:aws:sts::{d.randrange(10**11, 10**12)}:assumed-role/deploy/{d.s(string.digits, 19)}", {}),
        ("ssh_public_key", f"Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2: ED25519 SHA256:{d.s(B64, 43)}\n"
                           f"authorized_keys: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{d.s(B64, 43)} deploy@ci", {}),
        ("public_key_pem", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + d.s(B64, 28) + "\n" + d.s(B64, 52) +
                           "==\n-----END PUBLIC KEY-----", {}),
        ("pgp_public", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ" + d.s(B64, 59) + "\n" + d.s(B64, 64) + "\n=" + d.s(B64, 4) +
                       "\n-----END PGP PUBLIC KEY BLOCK-----", {}),
        ("stripe_publishable", f"<script>const stripe = Stripe('pk_live_51{d.s(ALNUM, 97)}');</script>", {}),
        ("placeholders", d.pick(['OPENAI_API_KEY="<your-api-key>"', "api_key: xxxxxxxxxxxxxxxxxxxxxxxx",
                                 "export GITHUB_TOKEN=YOUR_GITHUB_TOKEN", 'STRIPE_SECRET_KEY="sk_live_..."',
                                 "password: changeme  # set a real one in production", "DB_PASSWORD=<password>",
                                 "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]), {}),
        ("doc_examples", d.pick(["aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
                                 "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
                                 "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]), {}),
        ("masked", d.pick(["Authorization: Bearer ***", "token=[REDACTED] user=ops", '{"api_key": "********"}',
                           "GITHUB_TOKEN=***", "password=<masked>"]), {}),
        ("sha256_digest", json.dumps({"file": "backup-2026-12-07.tar.zst", "sha256": d.hex(64), "bytes": d.randrange(10**9)}), {}),
        ("k8s_uids", f"pod api-7d9f{d.s(LOWNUM, 6)}-{d.s(LOWNUM, 5)} uid={d.uuid()} resourceVersion={d.randrange(10**8)}", {}),
        ("sentry_event", json.dumps({"event_id": d.hex(32), "release": f"api@{d.hex(12)}", "environment": "prod"}), {}),
        ("har_benign", json.dumps({"request": {"method": "GET", "url": f"https://api.acme.io/v2/items?cursor={d.s(URLSAFE, 24)}",
                                               "headers": [{"name": "Accept", "value": "application/json"},
                                                           {"name": "X-Request-Id", "value": d.uuid()}],
                                               "cookies": [{"name": "_ga", "value": f"GA1.1.{d.randrange(10**9)}.{d.randrange(10**9)}"}]}}), {}),
        ("csv_ids", f"id,sku,checksum,created\n{d.randrange(10**6)},SKU-{d.s(UPNUM, 8)},{d.hex(32)},2026-12-07", {}),
    ]
    return out
