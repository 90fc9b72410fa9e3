"""The tenth held-out-style corpus' look-alikes (``tests/redact/heldout_style10.py``): documents with no secret that
travel through the same layers as the secrets — ids (UUIDs, W3C trace and span ids, request ids, k8s uids), hashes
(git SHAs, image digests, checksums), public key material (an ``ssh-ed25519`` line, a PEM public key, a public JWK set,
a PGP public block, a certificate), base64 that is no secret (a PNG data URI, a pagination cursor, a JWT header
alone), placeholders (``<token>``, ``${SECRET}``, ``{{ .Values.x }}``, ``xxxx``, ``********``, ``REPLACE_ME``), masks,
connection URIs without a password, and config files whose secret entries are references.
"""

from __future__ import annotations

import json

from tests.redact.heldout7_values import B64, Draw, b64, b64u

TS = "2026-12-07T09:12:44.902Z"


def _pem(label: str, head: str, d: Draw, n: int) -> str:
    body = head + d.s(B64, n)
    return f"-----BEGIN {label}-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + f"\n-----END {label}-----"


def benign_documents(d: Draw) -> list[tuple[str, str]]:
    """One of each look-alike document: (kind, text)."""
    uid = d.uuid()
    return [
        ("env_references", "LOG_LEVEL=info\nDB_PASSWORD=${DB_PASSWORD}\nAPI_KEY=<your-api-key>\nSTRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\n"
                           "GITHUB_TOKEN=$(cat /run/secrets/github_token)\nPORT=8080\n"),
        ("yaml_references", "app:\n  password: \"{{ .Values.db.password }}\"\n  token: \"********\"\n  api_key: REPLACE_ME\n"
                            "  secretRef:\n    name: billing-secrets\n    key: stripe-key\n"),
        ("properties_refs", "spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.username=app\n"
                            "spring.datasource.password=${DB_PASSWORD}\nacme.client.api-key=${vault:secret/acme#api_key}\n"),
        ("ids_json", json.dumps({"trace_id": d.hex(32), "span_id": d.hex(16), "request_id": uid, "commit": d.hex(40),
                                 "k8s.pod.uid": d.uuid(), "ts": TS})),
        ("digests", f"image: ghcr.io/acme/billing@sha256:{d.hex(64)}\nsha256sum: {d.hex(64)}  billing-2.4.1.tar.gz\n"
                    f"md5: {d.hex(32)}\n"),
        ("git_log", "\n".join(f"{d.hex(7)} {m}" for m in ("fix: rotate the signing key on deploy", "feat: token refresh",
                                                            "chore: bump axios to 1.7.9")) + f"\ncommit {d.hex(40)}"),
        ("ssh_public", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{d.s(B64, 43)} deploy@ci-runner-3\n"
                       f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{d.s(B64, 300)} ops@bastion"),
        ("pem_public", _pem("PUBLIC KEY", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", d, 330)),
        ("certificate", _pem("CERTIFICATE", "MIIDdzCCAl+gAwIBAgIE", d, 900)),
        ("jwks_public", json.dumps({"keys": [{"kty": "RSA", "kid": d.hex(16), "use": "sig", "alg": "RS256",
                                              "n": b64u(d.randbytes(256)), "e": "AQAB"},
                                             {"kty": "EC", "crv": "P-256", "kid": d.hex(8), "x": b64u(d.randbytes(32)),
                                              "y": b64u(d.randbytes(32))}]})),
        ("pgp_public", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGd" + "\n".join(d.s(B64, 64) for _ in range(6))
                       + f"\n={d.s(B64, 4)}\n-----END PGP PUBLIC KEY BLOCK-----"),
        ("png_data_uri", '<img alt="logo" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAA' + d.s(B64, 160) + '==">'),
        ("cursor", json.dumps({"data": [], "next_cursor": b64(json.dumps({"offset": d.randrange(10**4), "id": d.uuid()})),
                               "has_more": True})),
        ("jwt_header", f"kid lookup failed for header {b64u(json.dumps({'alg': 'RS256', 'kid': d.hex(16), 'typ': 'JWT'}).encode())}"),
        ("masks", "password=**** token=[REDACTED] api_key=sk-...a1b2 Authorization: Bearer <token>\n"
                  "client_secret=xxxxxxxxxxxxxxxx session=(filtered) AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}"),
        ("uri_no_password", "postgresql://app@db.internal:5432/orders?sslmode=require\nredis://cache:6379/0\n"
                            "mongodb://db-0.db,db-1.db/?replicaSet=rs0&authSource=admin\nclickhouse://default@ch:9000/analytics"),
        ("http_no_credentials", f"GET /v1/orders/{uid} HTTP/1.1\r\nHost: api.acme.io\r\nAccept: application/json\r\n"
                                f"User-Agent: acme-sdk/2.4.1\r\nX-Request-Id: {d.uuid()}\r\ntraceparent: 00-{d.hex(32)}-{d.hex(16)}-01\r\n"
                                f"Cookie: _ga=GA1.1.{d.randrange(10**9)}.1796610067; theme=dark; lang=en\r\n\r\n"),
        ("config_no_secret", "[server]\nhost = 0.0.0.0\nport = 8080\n[limits]\npassword_min_length = 12\ntoken_ttl = 3600\n"
                             "max_tokens = 4096\nrequest_id_header = X-Request-Id\n"),
        ("k8s_meta", f"metadata:\n  name: billing-7d9f8c6b5-x2x9q\n  uid: {d.uuid()}\n  resourceVersion: \"{d.randrange(10**7)}\"\n"
                     f"  annotations:\n    checksum/config: {d.hex(64)}\n"),
        ("prose", "Rotate your API token every 90 days; the password policy requires 12 characters. Secrets are read from "
                  "Vault at start-up and never logged."),
    ]
