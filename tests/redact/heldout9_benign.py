"""The ninth held-out-style corpus' look-alikes (``tests/redact/heldout_style9.py``): what a service logs beside its
secrets, in the same carriers, that must be kept — ids (UUIDs in paths, W3C/X-Ray/B3 trace ids, Datadog's decimal ids,
``x-amz-cf-id``, ``cf-ray``, GitHub GraphQL node ids, Stripe object ids, Kafka cluster ids), hashes (commit SHAs, image
digests, layer ids, sha512 integrity, Go sums, ETags), base64 payloads that are no secret (Pub/Sub and SQS bodies, a
gzip blob, a data URI, a certificate in a kubeconfig's ``certificate-authority-data``), versions and paths, and the
words of secrets without one (``(sensitive value)``, ``using password: YES``, ``16 bytes``, ``${{ secrets.X }}``,
``<%= ENV[...] %>``, ``secretKeyRef``, ``*_FILE`` paths, bind parameters, public keys of the same vendors).
"""

from __future__ import annotations

import json

from tests.redact.heldout7_values import ALNUM, B64, HEX, LOWNUM, URLSAFE, Draw, b64

TS = "2026-12-07T09:12:44.902Z"
_CERT = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJ"


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """One of each look-alike: (kind, body, attrs)."""
    uid, sha = d.uuid(), d.hex(40)
    return [
        ("uuid_path", f'10.0.0.5 - - [07/Dec/2026:09:12:44 +0000] "GET /v1/users/{uid}/orders/{d.uuid()} HTTP/1.1" 200 512', {}),
        ("w3c_trace", f"traceparent: 00-{d.hex(32)}-{d.hex(16)}-01\ntracestate: dd=s:1;t.tid:{d.hex(16)}", {}),
        ("xray_trace", f"X-Amzn-Trace-Id: Root=1-{d.hex(8)}-{d.hex(24)};Parent={d.hex(16)};Sampled=1", {}),
        ("dd_ids", json.dumps({"dd.trace_id": str(d.randrange(10**18, 10**19)), "dd.span_id": str(d.randrange(10**18, 10**19)),
                               "msg": "request finished", "duration_ms": 42}), {}),
        ("cloudfront_ids", f"x-amz-cf-pop: FRA56-P3\nx-amz-cf-id: {d.s(URLSAFE, 54)}==\ncf-ray: {d.hex(16)}-FRA", {}),
        ("graphql_node", json.dumps({"data": {"repository": {"id": "R_kgDO" + d.s(ALNUM, 8), "pullRequest": {"id": "PR_kwDO" + d.s(URLSAFE, 18)}}}}), {}),
        ("stripe_objects", f"charge.succeeded id=evt_{d.s(ALNUM, 24)} payment_intent=pi_{d.s(ALNUM, 24)} customer=cus_{d.s(ALNUM, 14)}", {}),
        ("kafka_cluster", f"[2026-12-07 09:12:44,902] INFO Cluster ID: {d.s(URLSAFE, 22)} (org.apache.kafka.clients.Metadata)", {}),
        ("git_log", f"commit {sha}\nMerge: {d.hex(7)} {d.hex(7)}\nAuthor: Release Bot\n\n    fix: rotate keys on deploy", {}),
        ("image_digest", f"Pulling image \"ghcr.io/acme/api@sha256:{d.hex(64)}\"\n{d.hex(12)}: Pull complete", {}),
        ("npm_integrity", json.dumps({"node_modules/axios": {"version": "1.7.9", "resolved": "https://registry.npmjs.org/axios/-/axios-1.7.9.tgz",
                                                             "integrity": "sha512-" + d.s(B64, 86) + "=="}}), {}),
        ("go_sum", f"golang.org/x/crypto v0.31.0 h1:{d.s(B64, 43)}=\ngolang.org/x/crypto v0.31.0/go.mod h1:{d.s(B64, 43)}=", {}),
        ("etag", f'< HTTP/2 200\n< etag: "{d.hex(32)}"\n< x-goog-hash: crc32c={d.s(B64, 6)}==,md5={d.s(B64, 22)}==', {}),
        ("pubsub_body", json.dumps({"message": {"data": b64(json.dumps({"order_id": d.randrange(10**6), "status": "shipped",
                                                                         "carrier": "DHL"})), "messageId": str(d.randrange(10**15))},
                                    "subscription": "projects/acme/subscriptions/orders"}), {}),
        ("gzip_blob", f"payload (gzip, base64): H4sIAAAAAAAAA{d.s(B64, 120)}AAAA", {}),
        ("data_uri", f'<img alt="logo" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAA{d.s(B64, 150)}">', {}),
        ("kubeconfig_ca", f"clusters:\n- cluster:\n    certificate-authority-data: {_CERT}{d.s(B64, 200)}\n"
                          f"    server: https://10.0.0.10:6443\n  name: prod", {}),
        ("versions", "ben 2026.12.0 (go1.23.4, node v22.11.0, Python 3.11.7, OpenSSL 3.0.15 3 Sep 2024, kernel 6.8.0-1017-aws) "
                     f"build v2.14.0-rc.1+build.{d.randrange(9999)}.{d.hex(7)}", {}),
        ("paths", f"open /var/lib/kubelet/pods/{d.uuid()}/volumes/kubernetes.io~secret/default-token-{d.s(LOWNUM, 5)}/token: "
                  f"no such file or directory (cwd /home/runner/work/_temp/{d.uuid()})", {}),
        ("tf_plan_sensitive", '  # aws_db_instance.main will be updated in-place\n  ~ resource "aws_db_instance" "main" {\n'
                              '      ~ password = (sensitive value)\n        id       = "db-' + d.s(LOWNUM, 26).upper() + '"\n    }', {}),
        ("mysql_denied", f"java.sql.SQLException: Access denied for user 'app'@'10.0.3.{d.randrange(2, 250)}' (using password: YES)\n"
                         "\tat com.mysql.cj.jdbc.exceptions.SQLError.createSQLException(SQLError.java:130)", {}),
        ("kubectl_describe_secret", "Name:         db-credentials\nNamespace:    prod\nType:  Opaque\n\nData\n====\n"
                                    "password:  24 bytes\nusername:  3 bytes", {}),
        ("compose_file_secret", "services:\n  db:\n    image: postgres:17\n    environment:\n"
                                "      POSTGRES_PASSWORD_FILE: /run/secrets/db_password\n    secrets:\n      - db_password", {}),
        ("actions_secret_ref", "      - uses: docker/login-action@v3\n        with:\n          username: ${{ github.actor }}\n"
                               "          password: ${{ secrets.GITHUB_TOKEN }}", {}),
        ("erb_env", 'production:\n  adapter: postgresql\n  password: <%= ENV["DATABASE_PASSWORD"] %>\n  pool: 5', {}),
        ("secret_key_ref", "        env:\n          - name: DB_PASSWORD\n            valueFrom:\n              secretKeyRef:\n"
                           "                name: db-credentials\n                key: password", {}),
        ("sql_bind", "UPDATE users SET password_hash = $1, password_changed_at = now() WHERE id = $2 -- params: <redacted>", {}),
        ("public_keys", f"LANGFUSE_PUBLIC_KEY=pk-lf-{d.uuid()}\nNEXT_PUBLIC_POSTHOG_KEY=phc_{d.s(ALNUM, 43)}", {}),
        ("masked", "api_key=******** token=<redacted> password=[REDACTED] secret={{ .Values.secret }} dsn=%(dsn)s", {}),
        ("short_ids", f"request_id={d.s(ALNUM, 20)} session_id={d.uuid()} pod=api-{d.s(LOWNUM, 10)}-{d.s(LOWNUM, 5)} "
                      f"build={d.randrange(10**4)} tx=0x{d.hex(64)}", {}),
        ("sha_checksums", f"{d.hex(64)}  ben-linux-amd64.tar.gz\n{d.hex(128)}  ben-linux-arm64.tar.gz", {}),
        ("k8s_uid", f"metadata:\n  name: api\n  uid: {d.uuid()}\n  resourceVersion: \"{d.randrange(10**8)}\"\n  generation: 4", {}),
        ("attrs_ids", "request handled", {"trace_id": d.hex(32), "span_id": d.hex(16), "commit_sha": sha, "image.digest": "sha256:" + d.hex(64),
                                          "session.id": d.uuid(), "file.path": "/srv/app/releases/" + d.hex(12) + "/config/secrets.yml"}),
        ("kv_ids", f"key_id={d.s(HEX, 16)} kid={d.s(URLSAFE, 43)} fingerprint={':'.join(d.hex(2) for _ in range(16))} "
                   f"secret_name=prod/api/stripe token_type=Bearer expires_in=3600", {}),
    ]
