"""The thirteenth corpus' look-alikes (``heldout_style13``): changes the same tools print that hold no secret.

``benign_changes``: attributes whose names speak of passwords, tokens, secrets and keys but hold lengths, times,
references, paths, ids, hashes and public keys, and attributes that hold hashes, digests and ids under a neutral name;
each goes through the same carriers as a secret. ``benign_specials``: whole outputs of the tools with no secret at all
— lock files' integrity hashes (``package-lock.json``, ``yarn.lock``, ``go.sum``, ``Cargo.lock``, ``poetry.lock``,
``requirements.txt``), commit headers, migration checksums, configuration tools' file checksums, a plan's masks.
"""

from __future__ import annotations

import base64
import hashlib
import json

from tests.redact.heldout13_values import ALNUM, B64, HEX, Change, Draw


def _b64sha(d: Draw, n: int = 32) -> str:
    return base64.b64encode(hashlib.sha256(d.randbytes(16)).digest()[:n] if n <= 32 else hashlib.sha512(d.randbytes(16)).digest()).decode()


def _cert(d: Draw) -> str:
    body = "MIID" + d.s(B64, 60)
    lines = [body] + [d.s(B64, 64) for _ in range(d.randrange(8, 14))] + [d.s(B64, 20) + "=="]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _ver(d: Draw) -> tuple[str, str]:
    a, b, c = d.randrange(0, 9), d.randrange(0, 30), d.randrange(0, 20)
    return f"{a}.{b}.{c}", f"{a}.{b}.{c + 1}"


def _pair(d: Draw, fn) -> tuple[str, str]:
    return fn(d), fn(d)


def benign_changes(d: Draw) -> list[Change]:
    """~22 changes with no secret in them, one of each kind."""
    def c(kind: str, key: str, old, new, multiline: bool = False) -> Change:
        return Change("benign", kind, key, old, new, (), multiline)
    arn = f"arn:aws:kms:eu-west-1:{d.randrange(10 ** 11, 10 ** 12)}:key/{d.uuid()}"
    v1, v2 = _ver(d)
    return [
        c("password_policy", d.choice(["password_min_length", "min_password_length", "password_max_age_days"]), "12", "14"),
        c("token_ttl", d.choice(["token_ttl", "access_token_lifetime", "refresh_token_expiry"]), "3600", "7200"),
        c("secret_name", d.choice(["secret_name", "secret_id", "password_secret_name"]), "prod/db/credentials",
          f"prod/db/credentials-{d.randrange(2, 9)}"),
        c("kms_key_arn", d.choice(["kms_key_id", "encryption_key_arn"]), None, arn),
        c("source_code_hash", "source_code_hash", _b64sha(d), _b64sha(d)),
        c("etag", d.choice(["etag", "content_md5"]), d.hex(32), d.hex(32)),
        c("image_digest", "image", f"registry.acme.io/api@sha256:{d.hex(64)}", f"registry.acme.io/api@sha256:{d.hex(64)}"),
        c("config_checksum", "checksum/config", d.hex(64), d.hex(64)),
        c("commit_sha", d.choice(["git_sha", "commit", "revision"]), d.hex(40), d.hex(40)),
        c("version", d.choice(["version", "chart_version", "engine_version"]), v1, v2),
        c("uuid", d.choice(["request_id", "client_id", "tenant_id"]), d.uuid(), d.uuid()),
        c("ssh_public_key", d.choice(["public_key", "ssh_authorized_key"]), None,
          f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{d.s(ALNUM + '+/', 43)} ops@{d.choice(['laptop', 'bastion', 'ci'])}"),
        c("ca_certificate", d.choice(["ca_bundle", "ca.crt", "tls.crt"]), None, _cert(d), True),
        c("template_ref", d.choice(["password", "db_password", "api_key"]), None,
          d.choice(["{{ vault_db_password }}", "${DB_PASSWORD}", "${{ secrets.API_KEY }}", "<set-in-vault>", "ENC[AES256_GCM,data:...]"])),
        c("secret_path", d.choice(["password_file", "token_path", "secret_key_file"]), "/run/secrets/db_password",
          "/var/run/secrets/kubernetes.io/serviceaccount/token"),
        c("endpoint", d.choice(["token_endpoint", "token_url", "secrets_manager_endpoint"]), "https://auth.acme.io/oauth2/token",
          "https://login.acme.io/oauth2/v2.0/token"),
        c("boolean", d.choice(["password_authentication", "require_secret_rotation", "token_auth_enabled"]), "true", "false"),
        c("empty", d.choice(["api_key", "smtp_password", "webhook_secret"]), None, ""),
        c("trace_id", d.choice(["trace_id", "span_id", "build_id"]), d.hex(32), d.hex(32)),
        c("sri_hash", d.choice(["integrity", "sha512"]), "sha512-" + _b64sha(d, 64), "sha512-" + _b64sha(d, 64)),
        c("replicas", d.choice(["replicas", "max_connections", "pool_size"]), str(d.randrange(2, 9)), str(d.randrange(10, 99))),
        c("username", d.choice(["username", "db_user", "admin_user"]), "app", d.choice(["app_rw", "svc_api", "deploy"])),
    ]


def _npm(d: Draw) -> str:
    name = d.choice(["lodash", "semver", "debug", "chalk", "undici", "zod", "express"])
    (v1, v2) = _ver(d)
    s1, s2 = _b64sha(d, 64), _b64sha(d, 64)
    return (f"diff --git a/package-lock.json b/package-lock.json\nindex {d.hex(7)}..{d.hex(7)} 100644\n--- a/package-lock.json\n"
            f"+++ b/package-lock.json\n@@ -{d.randrange(100, 9000)},9 +{d.randrange(100, 9000)},9 @@\n     }},\n"
            f'     "node_modules/{name}": {{\n-      "version": "{v1}",\n-      "resolved": "https://registry.npmjs.org/{name}/-/{name}-{v1}.tgz",\n'
            f'-      "integrity": "sha512-{s1}",\n+      "version": "{v2}",\n'
            f'+      "resolved": "https://registry.npmjs.org/{name}/-/{name}-{v2}.tgz",\n+      "integrity": "sha512-{s2}",\n'
            '       "license": "MIT",\n       "engines": {')


def _yarn(d: Draw) -> str:
    name = d.choice(["react", "tslib", "ms", "picomatch"])
    v1, v2 = _ver(d)
    return (f"--- a/yarn.lock\n+++ b/yarn.lock\n@@ -{d.randrange(10, 900)},7 +{d.randrange(10, 900)},7 @@\n \n {name}@^{v1[:3]}:\n"
            f'-  version "{v1}"\n-  resolved "https://registry.yarnpkg.com/{name}/-/{name}-{v1}.tgz#{d.hex(40)}"\n'
            f"-  integrity sha512-{_b64sha(d, 64)}\n"
            f'+  version "{v2}"\n+  resolved "https://registry.yarnpkg.com/{name}/-/{name}-{v2}.tgz#{d.hex(40)}"\n'
            f"+  integrity sha512-{_b64sha(d, 64)}\n   dependencies:")


def _gosum(d: Draw) -> str:
    mod = d.choice(["golang.org/x/crypto", "golang.org/x/net", "github.com/spf13/cobra", "google.golang.org/grpc"])
    v1, v2 = _ver(d)
    return (f"diff --git a/go.sum b/go.sum\nindex {d.hex(7)}..{d.hex(7)} 100644\n--- a/go.sum\n+++ b/go.sum\n"
            f"@@ -{d.randrange(10, 300)},8 +{d.randrange(10, 300)},8 @@\n"
            f"-{mod} v{v1} h1:{_b64sha(d)}\n-{mod} v{v1}/go.mod h1:{_b64sha(d)}\n"
            f"+{mod} v{v2} h1:{_b64sha(d)}\n+{mod} v{v2}/go.mod h1:{_b64sha(d)}\n"
            f" github.com/stretchr/testify v1.9.0 h1:{_b64sha(d)}")


def _cargo(d: Draw) -> str:
    name = d.choice(["serde", "tokio", "rustls", "ring", "sha2"])
    v1, v2 = _ver(d)
    return (f"--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -{d.randrange(100, 2000)},9 +{d.randrange(100, 2000)},9 @@\n [[package]]\n"
            f' name = "{name}"\n-version = "{v1}"\n+version = "{v2}"\n source = "registry+https://github.com/rust-lang/crates.io-index"\n'
            f'-checksum = "{d.hex(64)}"\n+checksum = "{d.hex(64)}"\n dependencies = [')


def _poetry(d: Draw) -> str:
    v1, v2 = _ver(d)
    return (f"--- a/poetry.lock\n+++ b/poetry.lock\n@@ -88,8 +88,8 @@\n [[package]]\n name = \"cryptography\"\n"
            f'-version = "{v1}"\n+version = "{v2}"\n files = [\n'
            f'-    {{file = "cryptography-{v1}-cp39-abi3-manylinux_2_28_x86_64.whl", hash = "sha256:{d.hex(64)}"}},\n'
            f'+    {{file = "cryptography-{v2}-cp39-abi3-manylinux_2_28_x86_64.whl", hash = "sha256:{d.hex(64)}"}},\n ]')


def _reqs(d: Draw) -> str:
    v1, v2 = _ver(d)
    return (f"--- a/requirements.txt\n+++ b/requirements.txt\n@@ -12,3 +12,3 @@\n-urllib3=={v1} \\\n-    --hash=sha256:{d.hex(64)}\n"
            f"+urllib3=={v2} \\\n+    --hash=sha256:{d.hex(64)} \\\n+    --hash=sha256:{d.hex(64)}")


def _commit(d: Draw) -> str:
    return (f"commit {d.hex(40)}\nMerge: {d.hex(7)} {d.hex(7)}\nAuthor: Ann Example <>\n"
            "Date:   Mon Dec 7 09:12:44 2026 +0000\n\n    Merge branch 'rotate-keys' into main\n\n"
            f"    Change-Id: I{d.hex(40)}\n    Reviewed-on: https://review.acme.io/c/infra/+/{d.randrange(1000, 99999)}\n"
            f"    Signed-off-by: Ann Example <>\n\ndiff --git a/README.md b/README.md\nindex {d.hex(7)}..{d.hex(7)} 100644\n"
            "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # infra\n-Rotate keys with `make rotate`.\n"
            "+Rotate secrets with `make rotate` (see docs/secrets.md).\n")


def _flyway(d: Draw) -> str:
    return (f"ERROR: Validate failed: Migrations have failed validation\nMigration checksum mismatch for migration version "
            f"{d.randrange(2, 40)}\n-> Applied to database : {d.randrange(-2 ** 31, 2 ** 31)}\n-> Resolved locally    : "
            f"{d.randrange(-2 ** 31, 2 ** 31)}\nEither revert the changes to the migration, or run repair to update the "
            "schema history.")


def _liquibase(d: Draw) -> str:
    return ("-- Changeset db/changelog/007-password-policy.xml::7::ops\nALTER TABLE public.users ADD password_changed_at TIMESTAMP "
            "WITHOUT TIME ZONE;\n\nINSERT INTO public.databasechangelog (ID, AUTHOR, FILENAME, DATEEXECUTED, ORDEREXECUTED, MD5SUM, "
            "DESCRIPTION, COMMENTS, EXECTYPE, CONTEXTS, LABELS, LIQUIBASE, DEPLOYMENT_ID) VALUES ('7', 'ops', "
            f"'db/changelog/007-password-policy.xml', NOW(), 7, '9:{d.hex(32)}', 'addColumn tableName=users', '', 'EXECUTED', "
            f"NULL, NULL, '4.29.2', '{d.randrange(10 ** 9, 10 ** 10)}');")


def _alembic(d: Draw) -> str:
    a, b = d.hex(12), d.hex(12)
    return ("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\nINFO  [alembic.runtime.migration] Will assume "
            f"transactional DDL.\nINFO  [alembic.runtime.migration] Running upgrade {a} -> {b}, add api_tokens.token_hash\n"
            "ALTER TABLE api_tokens ADD COLUMN token_hash VARCHAR(64);\n"
            f"UPDATE alembic_version SET version_num='{b}' WHERE alembic_version.version_num = '{a}';")


def _puppet(d: Draw) -> str:
    return ("Notice: /Stage[main]/Motd/File[/etc/motd]/content: \n--- /etc/motd\t2026-12-06 09:12:44.000000000 +0000\n"
            f"+++ /tmp/puppet-file20261207-{d.randrange(1000, 9999)}-{d.s('abcdefghijklmnopqrstuvwxyz0123456789', 6)}\t"
            "2026-12-07 09:12:44.902311234 +0000\n@@ -1 +1 @@\n-Welcome to web-1\n+Welcome to web-1 (managed by Puppet)\n\n"
            f"Notice: /Stage[main]/Motd/File[/etc/motd]/content: current_value '{{md5}}{d.hex(32)}', should be "
            f"'{{md5}}{d.hex(32)}' (noop)")


def _chef(d: Draw) -> str:
    return (f"  * template[/etc/nginx/nginx.conf] action create\n    - update content in file /etc/nginx/nginx.conf from "
            f"{d.hex(6)} to {d.hex(6)}\n    --- /etc/nginx/nginx.conf\t2026-12-06 09:12:44.000000000 +0000\n"
            f"    +++ /etc/nginx/.chef-nginx20261207-{d.randrange(1000, 9999)}-{d.hex(6)}.conf\t2026-12-07 09:12:44.000000000 +0000\n"
            "    @@ -3,7 +3,7 @@\n     worker_processes auto;\n-    worker_connections 1024;\n+    worker_connections 4096;\n"
            "    - restore selinux security context")


def _salt(d: Draw) -> str:
    v1, v2 = _ver(d)
    return ("----------\n          ID: nginx\n    Function: pkg.latest\n      Result: True\n     Comment: The following "
            "packages were successfully installed/upgraded: nginx\n     Started: 09:12:44.902311\n    Duration: "
            f"{d.randrange(100, 9999)}.{d.randrange(100, 999)} ms\n     Changes:   \n              ----------\n              nginx:\n"
            f"                  ----------\n                  new:\n                      {v2}-1\n                  old:\n"
            f"                      {v1}-1")


def _tf_sensitive(d: Draw) -> str:
    return ("  # aws_db_instance.main will be updated in-place\n  ~ resource \"aws_db_instance\" \"main\" {\n"
            f"        id                       = \"db-{d.s('abcdefghijklmnopqrstuvwxyz0123456789', 26)}\"\n"
            "      ~ password                 = (sensitive value)\n      ~ instance_class           = \"db.t3.medium\" -> \"db.r6g.large\"\n"
            "      + latest_restorable_time   = (known after apply)\n        tags                     = {}\n"
            "        # (41 unchanged attributes hidden)\n    }\n\nPlan: 0 to add, 1 to change, 0 to destroy.")


def _pulumi_secret(d: Draw) -> str:
    return (f"    ~ aws:rds/instance:Instance: (update)\n        [id=db-{d.hex(8)}]\n"
            "        [urn=urn:pulumi:prod::app::aws:rds/instance:Instance::db]\n"
            f"        [provider=urn:pulumi:prod::app::pulumi:providers:aws::default_6_5_0::{d.uuid()}]\n"
            "      ~ password: [secret] => [secret]\n      ~ instanceClass: \"db.t3.medium\" => \"db.r6g.large\"\n"
            "Resources:\n    ~ 1 to update\n    12 unchanged")


def _cfn(d: Draw) -> str:
    acct = d.randrange(10 ** 11, 10 ** 12)
    return json.dumps({"ChangeSetId": f"arn:aws:cloudformation:eu-west-1:{acct}:changeSet/resize/{d.uuid()}",
                       "StackId": f"arn:aws:cloudformation:eu-west-1:{acct}:stack/app/{d.uuid()}", "Changes": [
                           {"Type": "Resource", "ResourceChange": {
                               "Action": "Modify", "LogicalResourceId": "Database", "PhysicalResourceId": f"app-db-{d.hex(8)}",
                               "ResourceType": "AWS::RDS::DBInstance", "Replacement": "False", "Scope": ["Properties"],
                               "Details": [{"Target": {"Attribute": "Properties", "Name": "DBInstanceClass",
                                                       "RequiresRecreation": "Never", "BeforeValue": "db.t3.medium",
                                                       "AfterValue": "db.r6g.large", "AttributeChangeType": "Modify"},
                                            "Evaluation": "Static", "ChangeSource": "DirectModification"}]}}],
                       "Status": "CREATE_COMPLETE"}, indent=2)


def _audit(d: Draw) -> str:
    return json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": d.uuid(),
                       "stage": "ResponseComplete", "requestURI": "/apis/apps/v1/namespaces/shop/deployments/api", "verb": "patch",
                       "user": {"username": "ann", "groups": ["system:authenticated"]},
                       "objectRef": {"resource": "deployments", "namespace": "shop", "name": "api", "apiGroup": "apps",
                                     "apiVersion": "v1"},
                       "responseStatus": {"metadata": {}, "code": 200},
                       "requestObject": [{"op": "add", "path": "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt",
                                          "value": "2026-12-07T09:12:44Z"},
                                         {"op": "replace", "path": "/spec/template/spec/containers/0/image",
                                          "value": f"registry.acme.io/api@sha256:{d.hex(64)}"}],
                       "requestReceivedTimestamp": "2026-12-07T09:12:44.902311Z"}, separators=(",", ":"))


def _helm(d: Draw) -> str:
    v1, v2 = _ver(d)
    return (f"shop, api, Deployment (apps) has changed:\n  # Source: api/templates/deployment.yaml\n  apiVersion: apps/v1\n"
            f"  kind: Deployment\n  metadata:\n    labels:\n-     helm.sh/chart: api-{v1}\n+     helm.sh/chart: api-{v2}\n"
            f"  spec:\n    template:\n      metadata:\n        annotations:\n-         checksum/config: {d.hex(64)}\n"
            f"+         checksum/config: {d.hex(64)}\n-         checksum/secret: {d.hex(64)}\n+         checksum/secret: {d.hex(64)}")


def _kubectl(d: Draw) -> str:
    return (f"diff -u -N /tmp/LIVE-{d.randrange(10 ** 9, 10 ** 10)}/apps.v1.Deployment.shop.api /tmp/MERGED-{d.randrange(10 ** 9, 10 ** 10)}"
            f"/apps.v1.Deployment.shop.api\n--- /tmp/LIVE-x/apps.v1.Deployment.shop.api\t2026-12-07 09:12:44.902311234 +0000\n"
            "+++ /tmp/MERGED-x/apps.v1.Deployment.shop.api\t2026-12-07 09:12:44.906311234 +0000\n@@ -6,7 +6,7 @@\n"
            f"-  generation: {d.randrange(2, 90)}\n+  generation: {d.randrange(90, 99)}\n   name: api\n   namespace: shop\n"
            f"   resourceVersion: \"{d.randrange(10 ** 6, 10 ** 8)}\"\n   uid: {d.uuid()}\n@@ -31,7 +31,7 @@\n"
            f"-        image: registry.acme.io/api@sha256:{d.hex(64)}\n+        image: registry.acme.io/api@sha256:{d.hex(64)}")


def _secret_username(d: Draw) -> str:
    u1, u2 = d.choice(["app", "admin", "etl"]), d.choice(["app_rw", "reporting", "svc-api"])
    def e(s: str) -> str:
        return base64.b64encode(s.encode()).decode()
    return (f"--- /tmp/LIVE-{d.randrange(10 ** 9, 10 ** 10)}/v1.Secret.shop.db\n+++ /tmp/MERGED-{d.randrange(10 ** 9, 10 ** 10)}"
            f"/v1.Secret.shop.db\n@@ -1,8 +1,8 @@\n apiVersion: v1\n data:\n   host: {e('db-1.internal')}\n-  username: {e(u1)}\n"
            f"+  username: {e(u2)}\n   port: {e('5432')}\n kind: Secret\n metadata:\n   name: db")


def benign_specials(d: Draw) -> list[tuple[str, str, str]]:
    """(kind, carrier, body): ~20 tools' outputs with no secret."""
    return [("package_lock", "git_diff", _npm(d)), ("yarn_lock", "diff_u", _yarn(d)), ("go_sum", "git_diff", _gosum(d)),
            ("cargo_lock", "diff_u", _cargo(d)), ("poetry_lock", "diff_u", _poetry(d)), ("requirements_hashes", "diff_u", _reqs(d)),
            ("commit_header", "git_log_p", _commit(d)), ("flyway_checksum", "flyway", _flyway(d)),
            ("liquibase_md5", "liquibase", _liquibase(d)), ("alembic_revisions", "alembic", _alembic(d)),
            ("puppet_md5", "puppet_noop", _puppet(d)), ("chef_checksums", "chef_diff", _chef(d)), ("salt_pkg", "salt_changes", _salt(d)),
            ("tf_sensitive", "terraform_plan", _tf_sensitive(d)), ("pulumi_secret", "pulumi_preview", _pulumi_secret(d)),
            ("cfn_instance_class", "cloudformation_changeset", _cfn(d)), ("audit_restart", "k8s_audit", _audit(d)),
            ("helm_chart_checksums", "helm_diff", _helm(d)), ("kubectl_image", "kubectl_diff", _kubectl(d)),
            ("secret_username_b64", "kubectl_diff", _secret_username(d))]


__all__ = ["benign_changes", "benign_specials", "HEX"]
