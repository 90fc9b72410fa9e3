"""The twelfth held-out-style corpus' look-alikes (``tests/redact/heldout_style12.py``): statements of the same
dialects with no secret in them — users made without a password (``auth_socket``, ``FROM WINDOWS``, ``NOLOGIN``,
``PASSWORD NULL``), links that take their credential from elsewhere (``passfile=``, ``IAM_ROLE``, a storage
integration, ``NOSIGN``), queries whose columns speak of passwords and tokens but hold times, counts, flags or ids
(``password_changed_at``, ``token_type``, ``expires_in``, trace ids), statements with placeholders whose parameters are
no secret, a server's own masks (Redis' ``(redacted)``, MongoDB's ``"pwd": "xxx"``), and commands of the stores that
read, count or prompt (``passwordPrompt()``, ``CONFIG GET``, ``ACL WHOAMI``, LDIF without a password).
"""

from __future__ import annotations

from tests.redact.heldout12_values import MONGO_CARRIERS, REDIS_CARRIERS, Stmt, q
from tests.redact.heldout7_values import Draw


def _st(kind: str, dialect: str, text: str) -> Stmt:
    return Stmt(kind, "benign", dialect, text, None, "", ())


def _bd(kind: str, dialect: str, table: str, template: str, params: list) -> Stmt:
    return Stmt(kind, "benign", dialect, template.format(*(q(v) for _, v in params)), (template, tuple(params)), table, ())


def benign_statements(d: Draw) -> list[Stmt]:
    """Statements with no secret, each of one dialect."""
    n = d.randrange(2, 99999)
    return [
        _st("mysql_auth_socket", "my", "CREATE USER 'ops'@'localhost' IDENTIFIED WITH auth_socket"),
        _st("mysql_grant", "my", "GRANT SELECT, SHOW VIEW ON shop.* TO 'reporting'@'10.%'"),
        _st("mysql_show_grants", "my", "SHOW GRANTS FOR 'app'@'%'"),
        _st("mysql_change_source_no_pw", "my", "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1.internal', SOURCE_PORT=3306, "
                                               "SOURCE_AUTO_POSITION=1, SOURCE_SSL=1"),
        _st("mysql_expire", "my", "ALTER USER 'app'@'%' PASSWORD EXPIRE INTERVAL 90 DAY FAILED_LOGIN_ATTEMPTS 5 PASSWORD_LOCK_TIME 1"),
        _st("pg_nologin", "pg", "CREATE ROLE readonly NOLOGIN"),
        _st("pg_password_null", "pg", "ALTER ROLE app PASSWORD NULL"),
        _st("pg_valid_until", "pg", "ALTER ROLE app VALID UNTIL '2027-12-31'"),
        _st("pg_subscription_passfile", "pg", "CREATE SUBSCRIPTION shop_sub CONNECTION 'host=db-1.internal dbname=shop user=repl "
                                              "passfile=/var/lib/postgresql/.pgpass sslmode=verify-full' PUBLICATION shop_pub"),
        _st("pg_mapping_no_pw", "pg", "CREATE USER MAPPING FOR app SERVER legacy OPTIONS (user 'reader')"),
        _st("pg_password_column", "pg", f'SELECT "password_changed_at", "failed_logins" FROM "users" WHERE "id" = {n}'),
        _st("pg_add_column", "pg", 'ALTER TABLE "api_tokens" ADD COLUMN "token_hash" char(64), ADD COLUMN "last_used_at" timestamptz'),
        _st("pg_index", "pg", 'CREATE INDEX CONCURRENTLY "idx_sessions_user" ON "sessions" ("user_id", "expires_at")'),
        _st("pg_expire_sessions", "pg", 'DELETE FROM "sessions" WHERE "expires_at" < now() - interval \'7 days\''),
        _st("pg_audit_insert", "pg", 'INSERT INTO "audit_log" ("actor", "action", "target") VALUES (\'ops\', '
                                     f"'password_reset_requested', 'user:{n}')"),
        _st("redshift_iam_role", "pg", "COPY sales FROM 's3://acme-dw/sales/2026/12/' IAM_ROLE 'arn:aws:iam::123456789012:role/RedshiftCopy' "
                                       "CSV GZIP"),
        _st("pg_activity", "pg", "SELECT pid, usename, state, query_start FROM pg_stat_activity WHERE usename = 'app'"),
        _st("mssql_windows_login", "ms", "CREATE LOGIN [ACME\\svc-etl] FROM WINDOWS WITH DEFAULT_DATABASE = [shop]"),
        _st("mssql_policy", "ms", "ALTER LOGIN app WITH CHECK_POLICY = ON, CHECK_EXPIRATION = ON"),
        _st("mssql_managed_identity", "ms", "CREATE DATABASE SCOPED CREDENTIAL msi_cred WITH IDENTITY = 'Managed Identity'"),
        _st("oracle_external", "ora", "CREATE USER ops_ext IDENTIFIED EXTERNALLY DEFAULT TABLESPACE users"),
        _st("oracle_unlock", "ora", "ALTER USER app ACCOUNT UNLOCK PASSWORD EXPIRE"),
        _st("clickhouse_no_password", "ch", "CREATE USER IF NOT EXISTS reader IDENTIFIED WITH no_password HOST LOCAL"),
        _st("clickhouse_s3_nosign", "ch", "SELECT count() FROM s3('https://datasets.example.org/hits/*.parquet', NOSIGN, 'Parquet')"),
        _st("snowflake_integration", "any", "CREATE OR REPLACE STAGE raw_in URL='s3://acme-dw/in/' STORAGE_INTEGRATION = s3_int "
                                            "FILE_FORMAT=(TYPE=CSV)"),
        _st("trace_ids", "any", f"INSERT INTO spans (trace_id, span_id, name) VALUES ('{d.hex(32)}', '{d.hex(16)}', 'GET /api/orders')"),
    ]


def benign_binds(d: Draw) -> list[Stmt]:
    """Bound statements whose parameters are no secret."""
    n = d.randrange(2, 99999)
    return [
        _bd("login_count", "pg", "users", 'UPDATE "users" SET "last_login_at" = {}, "login_count" = "login_count" + 1 WHERE "id" = {}',
            [("last_login_at", "2026-12-07 09:12:44"), ("id", n)]),
        _bd("token_type_lookup", "pg", "oauth_tokens", 'SELECT "token_type", "expires_in" FROM "oauth_tokens" WHERE "user_id" = {} AND '
                                                       '"revoked" = {}', [("user_id", n), ("revoked", "f")]),
        _bd("session_by_user", "my", "sessions", "SELECT `id`, `expires_at` FROM `sessions` WHERE `user_id` = {} AND `ip` = {}",
            [("user_id", n), ("ip", "10.0.4.7")]),
        _bd("order_uuid", "pg", "orders", 'SELECT * FROM "orders" WHERE "id" = {}', [("id", d.uuid())]),
        _bd("api_key_revoke", "my", "api_keys", "UPDATE `api_keys` SET `revoked_at` = {} WHERE `id` = {} AND `name` = {}",
            [("revoked_at", "2026-12-07 09:12:44"), ("id", n), ("name", "ci-deploy")]),
        _bd("settings_flag", "pg", "settings", 'UPDATE "settings" SET "value" = {} WHERE "name" = {}',
            [("value", "true"), ("name", "password_reset_enabled")]),
    ]


def benign_stores(d: Draw) -> list[tuple[str, str, str]]:
    """Stores' commands with no secret: (kind, carrier, body)."""
    out = []
    for kind, argv in [("redis_redacted", ["AUTH", "(redacted)"]), ("redis_config_get", ["CONFIG", "GET", "requirepass"]),
                       ("redis_whoami", ["ACL", "WHOAMI"]), ("redis_get_session", ["GET", f"session:{d.hex(32)}"]),
                       ("redis_rate", ["SET", "rate:10.0.4.7", str(d.randrange(1, 99)), "EX", "60"])]:
        carrier = d.pick(sorted(REDIS_CARRIERS))
        out.append((kind, carrier, REDIS_CARRIERS[carrier](argv, d)))
    for kind, shell, cmd, ns in [
        ("mongo_prompt_pw", 'db.createUser({ user: "reporting", pwd: passwordPrompt(), roles: [ "read" ] })', {"createUser": "reporting",
                                                                                                              "pwd": "xxx", "roles": ["read"]},
         "admin.$cmd"),
        ("mongo_find_expired", 'db.sessions.find({ expiresAt: { $lt: ISODate("2026-12-07T00:00:00Z") } })',
         {"find": "sessions", "filter": {"expiresAt": {"$lt": {"$date": "2026-12-07T00:00:00Z"}}}}, "shop.sessions"),
        ("mongo_count_keys", 'db.api_keys.countDocuments({ revoked: false })', {"count": "api_keys", "query": {"revoked": False}},
         "shop.api_keys"),
    ]:
        carrier = d.pick(sorted(MONGO_CARRIERS))
        out.append((kind, carrier, MONGO_CARRIERS[carrier](shell, cmd, ns, d)))
    out += [
        ("ldif_shell", "ldif", "dn: uid=ann,ou=people,dc=acme,dc=io\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/bash\n-"),
        ("ldap_search", "ldif", "$ ldapsearch -x -H ldaps://ldap.acme.io -b dc=acme,dc=io \"(uid=ann)\" cn mail\n# ann, people, acme.io\n"
                                "dn: uid=ann,ou=people,dc=acme,dc=io\ncn: Ann Example\n"),
        ("es_api_key_request", "es_console", 'POST /_security/api_key\n{\n  "name": "ci",\n  "expiration": "30d",\n  '
                                             '"role_descriptors": {}\n}'),
        ("es_authenticate", "es_console", 'GET /_security/_authenticate\n\n{\n  "username" : "elastic",\n  "authentication_type" : '
                                          '"realm",\n  "enabled" : true\n}'),
    ]
    return out
