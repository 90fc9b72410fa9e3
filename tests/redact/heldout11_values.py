"""The eleventh held-out-style corpus' secrets as command lines (``tests/redact/heldout_style11.py``).

Each *tool* draws one invocation that carries a secret: ``(argv, secret)``, the argument vector as the kernel would
see it (no shell quoting: a carrier adds what it writes) and the secret as one argument holds it. Passwords (a
person's, a generator's, a passphrase, ``openssl rand -base64``), opaque tokens and keys (only the flag says what
they are) and a few self-naming tokens, given on the command lines of ~90 operators' tools: database clients and
dumps, registries and package managers, clouds' and clusters' CLIs, archivers and key tools, file shares, remote
desktops, network gear, JVM flags, provisioning tools, PowerShell.
"""

from __future__ import annotations

from tests.redact.heldout7_values import ALNUM, URLSAFE, Draw, b64, password_text

USERS = ["root", "app", "admin", "deploy", "svc_backup", "ops", "sa", "ci"]
HOSTS = ["db.internal", "10.0.4.21", "db-prod.acme.io", "nas01.corp.acme.io", "bmc-07.dc1.acme.io", "cache.internal"]


def _pw(d: Draw) -> str:
    return password_text(d)


def _opaque(d: Draw) -> str:
    return d.pick([lambda: d.s(ALNUM, d.randrange(32, 41)), lambda: d.hex(d.pick([32, 40, 64])),
                   lambda: b64(d.randbytes(d.pick([24, 30, 33])))])()


def _jwt_like(d: Draw) -> str:
    return "eyJhbGciOiJSUzI1NiIsImtpZCI6I" + d.s(URLSAFE, 40) + "." + d.s(URLSAFE, 180) + "." + d.s(URLSAFE, 342)


def _aws_secret(d: Draw) -> str:
    return d.s(ALNUM + "+/", 40)


# (name, family, argv maker (d, secret) -> argv, secret maker)
def _t(name, family, make, secret=_pw):
    return (name, family, make, secret)


def _u(d):
    return d.pick(USERS)


def _h(d):
    return d.pick(HOSTS)


TOOLS = [
    # databases
    _t("mysql_p", "database", lambda d, s: ["mysql", "-u", _u(d), f"-p{s}", "-h", _h(d), "shop"]),
    _t("mysql_password", "database", lambda d, s: ["mysql", f"--user={_u(d)}", f"--password={s}", f"--host={_h(d)}"]),
    _t("mysqldump", "database", lambda d, s: ["mysqldump", f"-u{_u(d)}", f"-p{s}", "--single-transaction", "shop"]),
    _t("mysqladmin", "database", lambda d, s: ["mysqladmin", "-u", "root", "password", s]),
    _t("psql_uri", "database", lambda d, s: ["psql", f"postgresql://{_u(d)}:{s}@{_h(d)}:5432/shop?sslmode=require"]),
    _t("pg_dump_dbname", "database", lambda d, s: ["pg_dump", f"--dbname=postgresql://{_u(d)}:{s}@{_h(d)}/shop", "-Fc", "-f", "shop.dump"]),
    _t("redis_a", "database", lambda d, s: ["redis-cli", "-h", _h(d), "-a", s, "--no-auth-warning", "ping"]),
    _t("redis_auth", "database", lambda d, s: ["redis-cli", "-h", _h(d), "AUTH", "default", s]),
    _t("mongosh_uri", "database", lambda d, s: ["mongosh", f"mongodb+srv://{_u(d)}:{s}@cluster0.ab12c.mongodb.net/shop"]),
    _t("mongodump", "database", lambda d, s: ["mongodump", "--username", _u(d), "--password", s, "--authenticationDatabase", "admin"]),
    _t("mongo_p", "database", lambda d, s: ["mongo", "-u", "admin", "-p", s, "--authenticationDatabase", "admin"]),
    _t("sqlcmd", "database", lambda d, s: ["sqlcmd", "-S", _h(d), "-U", "sa", "-P", s, "-Q", "SELECT 1"]),
    _t("bcp", "database", lambda d, s: ["bcp", "dbo.orders", "out", "orders.dat", "-S", _h(d), "-U", "sa", "-P", s, "-c"]),
    _t("sqlplus", "database", lambda d, s: ["sqlplus", f"system/{s}@//{_h(d)}:1521/ORCLPDB1"]),
    _t("expdp", "database", lambda d, s: ["expdp", f"system/{s}", "schemas=HR", "directory=DATA_PUMP_DIR"]),
    _t("cqlsh", "database", lambda d, s: ["cqlsh", _h(d), "-u", "cassandra", "-p", s]),
    _t("clickhouse_client", "database", lambda d, s: ["clickhouse-client", "--host", _h(d), "--user", "default", "--password", s]),
    _t("influx", "database", lambda d, s: ["influx", "-host", _h(d), "-username", "admin", "-password", s]),
    _t("vsql", "database", lambda d, s: ["vsql", "-h", _h(d), "-U", "dbadmin", "-w", s]),
    _t("neo4j_admin", "database", lambda d, s: ["neo4j-admin", "dbms", "set-initial-password", s]),
    _t("rabbitmqctl", "database", lambda d, s: ["rabbitmqctl", "add_user", _u(d), s]),
    _t("kafka_jaas", "database", lambda d, s: ["kafka-console-producer.sh", "--bootstrap-server", "kafka:9093", "--topic", "orders",
                                                "--producer-property", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
                                                f'required username="{_u(d)}" password="{s}";']),
    # registries, repositories, packages
    _t("docker_login_p", "registry", lambda d, s: ["docker", "login", "-u", _u(d), "-p", s, "registry.acme.io"]),
    _t("docker_login_password", "registry", lambda d, s: ["docker", "login", "--username", _u(d), "--password", s, "ghcr.io"]),
    _t("helm_repo", "registry", lambda d, s: ["helm", "repo", "add", "acme", "https://charts.acme.io", "--username", _u(d), "--password", s]),
    _t("helm_set", "registry", lambda d, s: ["helm", "upgrade", "--install", "api", "./chart", "--set", f"postgresql.auth.password={s}"]),
    _t("pip_index", "registry", lambda d, s: ["pip", "install", "--index-url", f"https://{_u(d)}:{s}@pypi.acme.io/simple", "acme-sdk"]),
    _t("npm_config", "registry", lambda d, s: ["npm", "config", "set", "//npm.acme.io/:_authToken", s], _opaque),
    _t("git_clone", "registry", lambda d, s: ["git", "clone", f"https://oauth2:{s}@gitlab.acme.io/platform/api.git"], _opaque),
    _t("svn", "registry", lambda d, s: ["svn", "checkout", "https://svn.acme.io/repo/trunk", "--username", _u(d), "--password", s]),
    _t("argocd_login", "registry", lambda d, s: ["argocd", "login", "argocd.acme.io", "--username", "admin", "--password", s]),
    _t("jenkins_cli", "registry", lambda d, s: ["java", "-jar", "jenkins-cli.jar", "-s", "https://ci.acme.io/", "-auth", f"admin:{s}", "build", "api"], _opaque),
    # clouds and clusters
    _t("aws_configure", "cloud", lambda d, s: ["aws", "configure", "set", "aws_secret_access_key", s, "--profile", "prod"], _aws_secret),
    _t("kubectl_token", "cloud", lambda d, s: ["kubectl", f"--token={s}", "--server=https://k8s.acme.io:6443", "get", "pods", "-n", "prod"], _jwt_like),
    _t("kubectl_set_credentials", "cloud", lambda d, s: ["kubectl", "config", "set-credentials", "ci", "--token", s], _opaque),
    _t("kubectl_from_literal", "cloud", lambda d, s: ["kubectl", "create", "secret", "generic", "db", f"--from-literal=password={s}"]),
    _t("oc_login", "cloud", lambda d, s: ["oc", "login", f"--token=sha256~{s}", "--server=https://api.ocp.acme.io:6443"], lambda d: d.s(URLSAFE, 43)),
    _t("az_login_sp", "cloud", lambda d, s: ["az", "login", "--service-principal", "-u", d.uuid(), "-p", s, "--tenant", d.uuid()],
       lambda d: d.s(ALNUM, 3) + "8Q~" + d.s(URLSAFE + ".~", 31)),
    _t("vault_userpass", "cloud", lambda d, s: ["vault", "login", "-method=userpass", f"username={_u(d)}", f"password={s}"]),
    _t("consul_token", "cloud", lambda d, s: ["consul", "kv", "get", f"-token={s}", "config/api"], _opaque),
    _t("nomad_token", "cloud", lambda d, s: ["nomad", "job", "run", "-token", s, "api.nomad"], _opaque),
    _t("mc_alias", "cloud", lambda d, s: ["mc", "alias", "set", "minio", "https://minio.acme.io:9000", "AKIA" + d.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), s],
       _aws_secret),
    _t("s3cmd", "cloud", lambda d, s: ["s3cmd", "--access_key=" + d.s(ALNUM, 20), f"--secret_key={s}", "ls", "s3://backups"], _aws_secret),
    _t("rclone", "cloud", lambda d, s: ["rclone", "config", "create", "wasabi", "s3", "provider", "Wasabi", "access_key_id", d.s(ALNUM, 20),
                                         "secret_access_key", s], _aws_secret),
    _t("swift", "cloud", lambda d, s: ["swift", "-A", "https://swift.acme.io/auth/v1.0", "-U", "acct:ops", "-K", s, "list"], _opaque),
    _t("doctl", "cloud", lambda d, s: ["doctl", "auth", "init", "-t", "dop_v1_" + s], lambda d: d.hex(64)),
    _t("flyctl_secrets", "cloud", lambda d, s: ["flyctl", "secrets", "set", f"DATABASE_PASSWORD={s}", "-a", "api"]),
    _t("heroku_config", "cloud", lambda d, s: ["heroku", "config:set", f"STRIPE_SECRET_KEY=sk_live_{s}", "-a", "billing"], lambda d: d.s(ALNUM, 99)),
    _t("gh_secret", "cloud", lambda d, s: ["gh", "secret", "set", "DEPLOY_KEY", "--body", s, "--repo", "acme/api"], _opaque),
    _t("terraform_var", "cloud", lambda d, s: ["terraform", "apply", "-auto-approve", "-var", f"db_password={s}"]),
    _t("ansible_e", "cloud", lambda d, s: ["ansible-playbook", "site.yml", "-i", "prod", "-e", f"ansible_become_password={s}"]),
    _t("docker_run_e", "cloud", lambda d, s: ["docker", "run", "-d", "-e", f"POSTGRES_PASSWORD={s}", "-p", "5432:5432", "postgres:16"]),
    _t("env_prefix", "cloud", lambda d, s: ["env", f"RESTIC_PASSWORD={s}", "restic", "-r", "s3:s3.amazonaws.com/backups", "backup", "/data"]),
    _t("keycloak", "cloud", lambda d, s: ["kcadm.sh", "config", "credentials", "--server", "https://sso.acme.io", "--realm", "master", "--user", "admin", "--password", s]),
    _t("grafana_cli", "cloud", lambda d, s: ["grafana-cli", "admin", "reset-admin-password", s]),
    _t("bw_unlock", "cloud", lambda d, s: ["bw", "unlock", s, "--raw"]),
    # keys and archives
    _t("openssl_passout", "crypto", lambda d, s: ["openssl", "pkcs12", "-export", "-in", "tls.crt", "-inkey", "tls.key", "-out", "tls.p12", "-passout", f"pass:{s}"]),
    _t("openssl_passin", "crypto", lambda d, s: ["openssl", "rsa", "-in", "encrypted.key", "-out", "plain.key", "-passin", f"pass:{s}"]),
    _t("openssl_enc", "crypto", lambda d, s: ["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-in", "db.sql", "-out", "db.sql.enc", "-k", s]),
    _t("keytool", "crypto", lambda d, s: ["keytool", "-importkeystore", "-srckeystore", "tls.p12", "-srcstoretype", "PKCS12", "-srcstorepass", s,
                                           "-destkeystore", "app.jks"]),
    _t("jarsigner", "crypto", lambda d, s: ["jarsigner", "-keystore", "release.jks", "-storepass", s, "app.jar", "release"]),
    _t("gpg_passphrase", "crypto", lambda d, s: ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", s, "-d", "secrets.gpg"]),
    _t("zip_P", "crypto", lambda d, s: ["zip", "-r", "-P", s, "backup.zip", "/srv/data"]),
    _t("7z_p", "crypto", lambda d, s: ["7z", "a", f"-p{s}", "-mhe=on", "backup.7z", "/srv/data"]),
    _t("unrar_p", "crypto", lambda d, s: ["unrar", "x", f"-p{s}", "export.rar"]),
    _t("java_keystore_prop", "crypto", lambda d, s: ["java", f"-Djavax.net.ssl.keyStorePassword={s}", "-Djavax.net.ssl.keyStore=/etc/app.jks", "-jar", "app.jar"]),
    _t("spring_arg", "crypto", lambda d, s: ["java", "-jar", "app.jar", f"--spring.datasource.password={s}", "--server.port=8080"]),
    _t("htpasswd", "crypto", lambda d, s: ["htpasswd", "-b", "-B", "/etc/nginx/.htpasswd", "admin", s]),
    # shares, remote access, network gear
    _t("sshpass", "access", lambda d, s: ["sshpass", "-p", s, "ssh", "-o", "StrictHostKeyChecking=no", f"{_u(d)}@{_h(d)}"]),
    _t("smbclient", "access", lambda d, s: ["smbclient", f"//{_h(d)}/backup", "-U", f"svc_backup%{s}"]),
    _t("mount_cifs", "access", lambda d, s: ["mount", "-t", "cifs", f"//{_h(d)}/share", "/mnt/share", "-o", f"username=svc_backup,password={s},vers=3.0"]),
    _t("net_use", "access", lambda d, s: ["net", "use", "Z:", "\\\\nas01\\share", s, "/user:ACME\\svc_backup"]),
    _t("psexec", "access", lambda d, s: ["PsExec.exe", "\\\\web-01", "-u", "ACME\\admin", "-p", s, "cmd.exe"]),
    _t("xfreerdp", "access", lambda d, s: ["xfreerdp", f"/v:{_h(d)}", "/u:admin", f"/p:{s}", "/cert:ignore"]),
    _t("rdesktop", "access", lambda d, s: ["rdesktop", "-u", "admin", "-p", s, _h(d)]),
    _t("lftp", "access", lambda d, s: ["lftp", "-u", f"{_u(d)},{s}", f"sftp://{_h(d)}"]),
    _t("curl_u", "access", lambda d, s: ["curl", "-sS", "-u", f"admin:{s}", "https://es.acme.io:9200/_cluster/health"]),
    _t("curl_user", "access", lambda d, s: ["curl", "--user", f"{_u(d)}:{s}", "https://nexus.acme.io/service/rest/v1/status"]),
    _t("curl_header", "access", lambda d, s: ["curl", "-H", f"X-Api-Key: {s}", "https://api.acme.io/v2/export"], _opaque),
    _t("curl_form", "access", lambda d, s: ["curl", "-d", f"grant_type=client_credentials&client_id=api&client_secret={s}", "https://sso.acme.io/token"], _opaque),
    _t("wget_password", "access", lambda d, s: ["wget", "--http-user=ops", f"--http-password={s}", "https://files.acme.io/dump.sql.gz"]),
    _t("ldapsearch", "access", lambda d, s: ["ldapsearch", "-x", "-H", "ldaps://ldap.acme.io", "-D", "cn=admin,dc=acme,dc=io", "-w", s, "(uid=ann)"]),
    _t("snmpwalk", "access", lambda d, s: ["snmpwalk", "-v3", "-l", "authPriv", "-u", "monitor", "-a", "SHA", "-A", s, "-x", "AES", "-X", s[::-1], _h(d)]),
    _t("ipmitool", "access", lambda d, s: ["ipmitool", "-I", "lanplus", "-H", _h(d), "-U", "ADMIN", "-P", s, "power", "status"]),
    _t("nmcli", "access", lambda d, s: ["nmcli", "dev", "wifi", "connect", "Acme-Office", "password", s]),
    _t("wpa_passphrase", "access", lambda d, s: ["wpa_passphrase", "Acme-Office", s]),
    _t("powershell_securestring", "access", lambda d, s: ["powershell.exe", "-NoProfile", "-Command",
                                                          f"$p = ConvertTo-SecureString '{s}' -AsPlainText -Force; "
                                                          "$c = New-Object PSCredential('ACME\\svc', $p)"]),
    _t("runas_pscred", "access", lambda d, s: ["pwsh", "-c", f"Invoke-Sqlcmd -ServerInstance db01 -Username sa -Password '{s}' -Query 'SELECT 1'"]),
]
FAMILIES = sorted({t[1] for t in TOOLS})


def draw(d: Draw, family: str) -> tuple[str, list[str], str]:
    """One tool of ``family`` with a fresh secret: (tool, argv, secret)."""
    name, _, make, secret = d.pick([t for t in TOOLS if t[1] == family])
    s = secret(d)
    if "'" in s:
        s = s.replace("'", "")
    return name, make(d, s), s
