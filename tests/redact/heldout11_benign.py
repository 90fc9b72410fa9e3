"""The eleventh held-out-style corpus' look-alikes (``tests/redact/heldout_style11.py``): command lines of the same
tools with no secret on them — a password asked for at a prompt (``-p`` alone, ``--password-stdin``), read from a
file or the environment (``--password-file``, ``-passin env:``, ``$DB_PASSWORD``, ``$(cat …)``), flags whose letter
is a password's elsewhere (``-p`` for a port or for ``mkdir``), URIs without a password, settings that are no secret
(``--set image.tag=``, ``-var region=``), and tools that print hashes, fingerprints or random bytes.
"""

from __future__ import annotations

from tests.redact.heldout7_values import Draw


def benign_argvs(d: Draw) -> list[tuple[str, list[str]]]:
    """One of each look-alike command line: (kind, argv)."""
    h = d.pick(["db.internal", "10.0.4.21", "db-prod.acme.io"])
    port = str(d.pick([2222, 3306, 5432, 6379, 8443, 27017]))
    return [
        ("mysql_prompt", ["mysql", "-u", "root", "-p", "-h", h, "shop"]),
        ("mysql_port", ["mysql", "-u", "app", "-P", port, "-h", h, "--ssl-mode=REQUIRED"]),
        ("mysql_env", ["mysql", "-u", "app", "-p$MYSQL_PWD", "-h", h]),
        ("psql_no_pw", ["psql", "-h", h, "-p", port, "-U", "app", "-d", "shop", "-c", "SELECT count(*) FROM orders"]),
        ("psql_uri_no_pw", ["psql", f"postgresql://app@{h}:5432/shop?sslmode=verify-full"]),
        ("redis_port", ["redis-cli", "-h", h, "-p", port, "--scan", "--pattern", "session:*"]),
        ("ssh_port", ["ssh", "-p", port, "-i", "~/.ssh/id_ed25519", "-l", "deploy", h]),
        ("docker_run_port", ["docker", "run", "-d", "-p", "8080:80", "-e", "NGINX_WORKER_PROCESSES=4", "nginx:1.27"]),
        ("mkdir_p", ["mkdir", "-p", "/var/lib/acme/cache/2026-12-07"]),
        ("docker_login_stdin", ["docker", "login", "-u", "deploy", "--password-stdin", "registry.acme.io"]),
        ("password_file", ["mongodump", "--username", "app", "--password-file", "/run/secrets/mongo", "--gzip"]),
        ("passin_env", ["openssl", "rsa", "-in", "encrypted.key", "-out", "plain.key", "-passin", "env:KEY_PASSPHRASE"]),
        ("passin_file", ["openssl", "pkcs12", "-export", "-in", "tls.crt", "-inkey", "tls.key", "-passout", "file:/run/secrets/p12"]),
        ("password_var", ["helm", "repo", "add", "acme", "https://charts.acme.io", "--username", "ci", "--password", "$HELM_PASSWORD"]),
        ("password_subst", ["kubectl", "--token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)", "get", "pods"]),
        ("token_file", ["kubectl", "config", "set-credentials", "ci", "--token-file=/var/run/secrets/ci/token"]),
        ("helm_set_tag", ["helm", "upgrade", "--install", "api", "./chart", "--set", f"image.tag=1.{d.randrange(30)}.{d.randrange(30)}",
                          "--set", "replicaCount=3"]),
        ("terraform_var", ["terraform", "apply", "-var", "region=eu-west-1", "-var", f"instance_count={d.randrange(2, 9)}"]),
        ("ansible_ask", ["ansible-playbook", "site.yml", "-i", "prod", "--ask-become-pass", "-e", "env=prod"]),
        ("secret_from_file", ["kubectl", "create", "secret", "generic", "db", "--from-file=password=./db-password.txt"]),
        ("env_file_ref", ["docker", "run", "-e", "POSTGRES_PASSWORD_FILE=/run/secrets/pg", "postgres:16"]),
        ("aws_region", ["aws", "configure", "set", "region", "eu-west-1", "--profile", "prod"]),
        ("sshpass_env", ["sshpass", "-e", "ssh", "-l", "deploy", h]),
        ("vault_oidc", ["vault", "login", "-method=oidc", "role=ops"]),
        ("az_identity", ["az", "login", "--identity", "--username", d.uuid()]),
        ("gpg_file", ["gpg", "--batch", "--passphrase-file", "/run/secrets/gpg", "-d", "secrets.gpg"]),
        ("sha256sum", ["sha256sum", f"backup-{d.hex(8)}.tar.gz"]),
        ("openssl_fp", ["openssl", "x509", "-in", "tls.crt", "-noout", "-fingerprint", "-sha256"]),
        ("git_log", ["git", "log", "--oneline", f"{d.hex(7)}..{d.hex(7)}", "--", "src/"]),
        ("git_commit_msg", ["git", "commit", "-m", "rotate the password policy: 12 characters, no reuse"]),
        ("zip_plain", ["zip", "-r", "-9", f"logs-{d.randrange(10**7, 10**8)}.zip", "/var/log/acme"]),
        ("7z_level", ["7z", "a", "-mx=9", "-mhe=off", "backup.7z", "/srv/data"]),
        ("keytool_list", ["keytool", "-list", "-v", "-keystore", "/etc/ssl/certs/java/cacerts", "-storetype", "JKS"]),
        ("java_truststore", ["java", "-Djavax.net.ssl.trustStore=/etc/app.jks", "-Dspring.profiles.active=prod", "-jar", "app.jar"]),
        ("curl_plain", ["curl", "-sS", "-H", "Accept: application/json", "-H", f"X-Request-Id: {d.uuid()}", "https://api.acme.io/health"]),
        ("curl_env_user", ["curl", "-u", "$NEXUS_USER:$NEXUS_PASSWORD", "https://nexus.acme.io/service/rest/v1/status"]),
        ("ipmitool_env", ["ipmitool", "-I", "lanplus", "-H", "bmc-07.dc1.acme.io", "-U", "ADMIN", "-E", "sensor", "list"]),
        ("nmap_p", ["nmap", "-p", "22,443,8443", "-sV", "10.0.4.0/24"]),
        ("grep_P", ["grep", "-P", "token=[A-Za-z0-9]{8}", "/var/log/acme/app.log"]),
        ("openssl_rand", ["openssl", "rand", "-hex", "32"]),
    ]
