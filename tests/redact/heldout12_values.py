"""The twelfth held-out-style corpus' secrets as databases and their clients write them (``tests/redact/heldout_style12.py``).

Four families. ``account``: a statement that sets a user's password, in ~25 dialects (MySQL, MariaDB, PostgreSQL, SQL
Server, Oracle, Snowflake, ClickHouse, Cassandra, CockroachDB, InfluxQL, Neo4j, Vertica, Redshift, DB2). ``link``: a
credential for another system or a key inside a statement (replication sources, subscriptions, user mappings, dblink,
database links, linked servers, scoped credentials, ``COPY … CREDENTIALS``, stages, table functions, ``CREATE
SECRET``, ``pgp_sym_decrypt``, ``PRAGMA key``, Spark's JDBC options). ``row``: an application's secret as data of a
query (API tokens, sessions, reset tokens, refresh tokens, OAuth client secrets, TOTP seeds, webhook secrets, settings
rows whose *name* says what the value is, a legacy login by plain password), with its bound form: the statement with
placeholders and the parameters apart, as drivers and ORMs log them. ``store``: commands of the stores that are no
SQL (Redis ``AUTH``/``HELLO``/``CONFIG SET``/``ACL SETUSER``/``MIGRATE``, MongoDB ``createUser``/``updateUser``/
``changeUserPassword``/``auth``, documents holding tokens, LDAP binds and LDIF, Elasticsearch's users and API keys).
A statement is a :class:`Stmt`; a store's command draws its own carrier (``heldout_style12.STORE_CARRIERS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.redact.heldout7_values import ALNUM, URLSAFE, Draw, b64, password_text

USERS = ["app", "svc_backup", "reporting", "deploy", "etl", "billing", "repl", "grafana"]
HOSTS = ["db-1.internal", "10.0.4.21", "pg-prod.acme.io", "mysql-primary.acme.io", "ora-prod.acme.io"]
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Stmt:
    """A statement: its kind, family, dialect (``my``, ``pg``, ``ms``, ``ora``, ``ch``, ``any``), the text with its
    literals, the bound form ``(template with {} for each parameter, ((column, value), …))`` or None, the table, and the
    secrets as the statement holds them."""

    kind: str
    family: str
    dialect: str
    text: str
    bind: tuple | None
    table: str
    secrets: tuple[str, ...]


def q(v) -> str:
    """A SQL literal: a string single-quoted (a quote doubled), a number as it is."""
    return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"


def pw(d: Draw) -> str:
    return password_text(d)


def opaque(d: Draw) -> str:
    return d.pick([lambda: d.s(ALNUM, d.randrange(32, 41)), lambda: d.hex(d.pick([32, 40, 64])), lambda: d.s(URLSAFE, 43),
                   lambda: b64(d.randbytes(d.pick([24, 32])))])()


def named(d: Draw) -> str:
    return d.pick([lambda: "ghp_" + d.s(ALNUM, 36), lambda: "sk_live_" + d.s(ALNUM, 32), lambda: "xoxb-" + "-".join(
        str(d.randrange(10 ** 11, 10 ** 12)) for _ in range(2)) + "-" + d.s(ALNUM, 24), lambda: "glpat-" + d.s(URLSAFE, 20),
                   lambda: "whsec_" + d.s(ALNUM, 32)])()


def aws_pair(d: Draw) -> tuple[str, str]:
    return "AKIA" + d.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), d.s(ALNUM + "+/", 40)


def _u(d):
    return d.pick(USERS)


def _h(d):
    return d.pick(HOSTS)


def _s(kind, family, dialect, text_of, secret=pw):
    """A statement maker: ``text_of(d, s) -> text`` (or ``(text, secrets)``) given a fresh secret ``s``."""
    def make(d: Draw) -> Stmt:
        s = secret(d)
        out = text_of(d, s)
        text, secrets = out if isinstance(out, tuple) else (out, (s,))
        return Stmt(kind, family, dialect, text, None, "", tuple(secrets))
    return make


ACCOUNT = [
    _s("mysql_create_user", "account", "my", lambda d, s: f"CREATE USER '{_u(d)}'@'%' IDENTIFIED BY {q(s)}"),
    _s("mysql_alter_with", "account", "my", lambda d, s: f"ALTER USER '{_u(d)}'@'10.%' IDENTIFIED WITH caching_sha2_password BY {q(s)}"),
    _s("mysql_retain", "account", "my", lambda d, s: f"ALTER USER {_u(d)} IDENTIFIED BY {q(s)} RETAIN CURRENT PASSWORD"),
    _s("mysql_set_password", "account", "my", lambda d, s: f"SET PASSWORD FOR '{_u(d)}'@'%' = {q(s)}"),
    _s("mysql_set_password_fn", "account", "my", lambda d, s: f"SET PASSWORD FOR {_u(d)}@localhost = PASSWORD({q(s)})"),
    _s("mariadb_via", "account", "my", lambda d, s: f"CREATE OR REPLACE USER {_u(d)}@'%' IDENTIFIED VIA ed25519 USING PASSWORD({q(s)})"),
    _s("pg_create_role", "account", "pg", lambda d, s: f"CREATE ROLE {_u(d)} WITH LOGIN PASSWORD {q(s)} VALID UNTIL '2027-12-31'"),
    _s("pg_alter_user", "account", "pg", lambda d, s: f"ALTER USER {_u(d)} WITH ENCRYPTED PASSWORD {q(s)}"),
    _s("pg_alter_role", "account", "pg", lambda d, s: f'ALTER ROLE "{_u(d)}" PASSWORD {q(s)}'),
    _s("mssql_create_login", "account", "ms", lambda d, s: f"CREATE LOGIN [{_u(d)}] WITH PASSWORD = N{q(s)}, CHECK_POLICY = OFF"),
    _s("mssql_alter_login", "account", "ms", lambda d, s: (lambda o: (f"ALTER LOGIN sa WITH PASSWORD = {q(s)} OLD_PASSWORD = {q(o)}",
                                                                     (s, o)))(pw(d))),
    _s("mssql_sp_addlogin", "account", "ms", lambda d, s: f"EXEC sp_addlogin {q(_u(d))}, {q(s)}, 'shop'"),
    _s("oracle_create", "account", "ora", lambda d, s: f'CREATE USER {_u(d)} IDENTIFIED BY "{s}" DEFAULT TABLESPACE users QUOTA UNLIMITED ON users'),
    _s("oracle_replace", "account", "ora", lambda d, s: (lambda o: (f'ALTER USER {_u(d)} IDENTIFIED BY "{s}" REPLACE "{o}"', (s, o)))(pw(d))),
    _s("snowflake_user", "account", "any", lambda d, s: f"CREATE USER {_u(d)} PASSWORD = {q(s)} DEFAULT_ROLE = analyst MUST_CHANGE_PASSWORD = TRUE"),
    _s("clickhouse_sha256", "account", "ch", lambda d, s: f"CREATE USER {_u(d)} IDENTIFIED WITH sha256_password BY {q(s)} HOST IP '10.0.0.0/8'"),
    _s("clickhouse_plain", "account", "ch", lambda d, s: f"ALTER USER {_u(d)} IDENTIFIED WITH plaintext_password BY {q(s)}"),
    _s("cassandra_role", "account", "any", lambda d, s: f"CREATE ROLE {_u(d)} WITH PASSWORD = {q(s)} AND LOGIN = true AND SUPERUSER = false"),
    _s("cockroach_user", "account", "pg", lambda d, s: f"CREATE USER {_u(d)} WITH PASSWORD {q(s)}"),
    _s("influxql_user", "account", "any", lambda d, s: f'CREATE USER "{_u(d)}" WITH PASSWORD {q(s)} WITH ALL PRIVILEGES'),
    _s("neo4j_current", "account", "any", lambda d, s: (lambda o: (f"ALTER CURRENT USER SET PASSWORD FROM {q(o)} TO {q(s)}", (s, o)))(pw(d))),
    _s("neo4j_create", "account", "any", lambda d, s: f"CREATE USER {_u(d)} SET PASSWORD {q(s)} CHANGE NOT REQUIRED"),
    _s("vertica_alter", "account", "any", lambda d, s: f"ALTER USER {_u(d)} IDENTIFIED BY {q(s)}"),
    _s("redshift_user", "account", "pg", lambda d, s: f"CREATE USER {_u(d)} PASSWORD {q(s)} CONNECTION LIMIT 10"),
    _s("db2_connect", "account", "any", lambda d, s: f"CONNECT TO SHOP USER {_u(d)} USING {s}"),
]


def _aws(make):
    """A statement with an AWS key pair: ``make(d, key_id, secret) -> text``; the secret access key must not survive."""
    def text_of(d, s):
        kid, sec = aws_pair(d)
        return make(d, kid, sec), (sec,)
    return text_of


LINK = [
    _s("mysql_change_master", "link", "my", lambda d, s: f"CHANGE MASTER TO MASTER_HOST={q(_h(d))}, MASTER_USER='repl', "
                                                       f"MASTER_PASSWORD={q(s)}, MASTER_AUTO_POSITION=1"),
    _s("mysql_change_source", "link", "my", lambda d, s: f"CHANGE REPLICATION SOURCE TO SOURCE_HOST={q(_h(d))}, SOURCE_USER='repl', "
                                                       f"SOURCE_PASSWORD={q(s)}, SOURCE_SSL=1"),
    _s("mysql_group_replication", "link", "my", lambda d, s: f"START GROUP_REPLICATION USER='repl', PASSWORD={q(s)}"),
    _s("mysql_create_server", "link", "my", lambda d, s: f"CREATE SERVER fed FOREIGN DATA WRAPPER mysql OPTIONS (HOST {q(_h(d))}, "
                                                       f"DATABASE 'shop', USER {q(_u(d))}, PASSWORD {q(s)}, PORT 3306)"),
    _s("pg_subscription", "link", "pg", lambda d, s: f"CREATE SUBSCRIPTION shop_sub CONNECTION 'host={_h(d)} port=5432 dbname=shop "
                                                   f"user=repl password={s}' PUBLICATION shop_pub"),
    _s("pg_user_mapping", "link", "pg", lambda d, s: f"CREATE USER MAPPING FOR {_u(d)} SERVER legacy OPTIONS (user 'reader', password {q(s)})"),
    _s("pg_alter_mapping", "link", "pg", lambda d, s: f"ALTER USER MAPPING FOR {_u(d)} SERVER legacy OPTIONS (SET password {q(s)})"),
    _s("pg_dblink", "link", "pg", lambda d, s: f"SELECT * FROM dblink('host={_h(d)} dbname=shop user={_u(d)} password={s}', "
                                             "'SELECT id, total FROM orders') AS t(id int, total numeric)"),
    _s("pg_dblink_connect", "link", "pg", lambda d, s: f"SELECT dblink_connect('legacy', 'hostaddr=10.0.4.21 dbname=shop user={_u(d)} "
                                                     f"password={s}')"),
    _s("oracle_db_link", "link", "ora", lambda d, s: f'CREATE DATABASE LINK legacy CONNECT TO {_u(d)} IDENTIFIED BY "{s}" USING '
                                                   f"'{_h(d)}:1521/ORCLPDB1'"),
    _s("mssql_linked_login", "link", "ms", lambda d, s: f"EXEC sp_addlinkedsrvlogin @rmtsrvname = N'LEGACY', @useself = N'False', "
                                                      f"@locallogin = NULL, @rmtuser = N'{_u(d)}', @rmtpassword = N{q(s)}"),
    _s("mssql_credential", "link", "ms", lambda d, s: f"CREATE DATABASE SCOPED CREDENTIAL legacy_cred WITH IDENTITY = {q(_u(d))}, "
                                                    f"SECRET = {q(s)}"),
    _s("mssql_sas_credential", "link", "ms", lambda d, s: ("CREATE DATABASE SCOPED CREDENTIAL blob_cred WITH IDENTITY = 'SHARED ACCESS "
                                                         f"SIGNATURE', SECRET = 'sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-01T00:00:00Z"
                                                         f"&st=2026-12-01T00:00:00Z&spr=https&sig={s}'", (s,)),
       lambda d: b64(d.randbytes(32)).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")),
    _s("mssql_master_key", "link", "ms", lambda d, s: f"CREATE MASTER KEY ENCRYPTION BY PASSWORD = {q(s)}"),
    _s("mssql_open_key", "link", "ms", lambda d, s: f"OPEN SYMMETRIC KEY ssn_key DECRYPTION BY PASSWORD = {q(s)}"),
    _s("redshift_copy_credentials", "link", "pg", _aws(lambda d, k, s: f"COPY sales FROM 's3://acme-dw/sales/2026/12/' CREDENTIALS "
                                                                      f"'aws_access_key_id={k};aws_secret_access_key={s}' CSV GZIP")),
    _s("redshift_copy_keys", "link", "pg", _aws(lambda d, k, s: f"UNLOAD ('SELECT * FROM sales') TO 's3://acme-dw/export/' "
                                                               f"ACCESS_KEY_ID '{k}' SECRET_ACCESS_KEY '{s}' FORMAT AS PARQUET")),
    _s("snowflake_stage", "link", "any", _aws(lambda d, k, s: f"CREATE OR REPLACE STAGE raw_in URL='s3://acme-dw/in/' "
                                                             f"CREDENTIALS=(AWS_KEY_ID='{k}' AWS_SECRET_KEY='{s}') FILE_FORMAT=(TYPE=CSV)")),
    _s("clickhouse_s3", "link", "ch", _aws(lambda d, k, s: f"INSERT INTO events SELECT * FROM s3('https://acme-dw.s3.amazonaws.com/"
                                                          f"events/*.parquet', '{k}', '{s}', 'Parquet')")),
    _s("clickhouse_mysql", "link", "ch", lambda d, s: f"INSERT INTO orders SELECT * FROM mysql('{_h(d)}:3306', 'shop', 'orders', "
                                                    f"{q(_u(d))}, {q(s)})"),
    _s("clickhouse_postgresql", "link", "ch", lambda d, s: f"SELECT count() FROM postgresql('{_h(d)}:5432', 'shop', 'users', "
                                                         f"{q(_u(d))}, {q(s)})"),
    _s("duckdb_secret", "link", "any", _aws(lambda d, k, s: f"CREATE SECRET dw (TYPE S3, KEY_ID '{k}', SECRET '{s}', REGION 'eu-west-1')")),
    _s("pgcrypto_decrypt", "link", "pg", lambda d, s: f"SELECT id, pgp_sym_decrypt(ssn_enc, {q(s)}) FROM people WHERE id = 42"),
    _s("mysql_aes_decrypt", "link", "my", lambda d, s: f"SELECT id, AES_DECRYPT(card_enc, {q(s)}) FROM payments WHERE id = 42"),
    _s("sqlcipher_key", "link", "any", lambda d, s: f"PRAGMA key = {q(s)}"),
    _s("spark_jdbc", "link", "any", lambda d, s: f"CREATE TABLE legacy_orders USING org.apache.spark.sql.jdbc OPTIONS (url "
                                               f"'jdbc:postgresql://{_h(d)}:5432/shop', dbtable 'orders', user {q(_u(d))}, password {q(s)})"),
]


def _row(kind, dialect, table, template, cols, secret=opaque):
    """A statement writing or reading an application's secret: ``template`` with ``{}`` for each of ``cols``' values;
    a column named ``*`` holds the secret, the others draw what they say."""
    def make(d: Draw) -> Stmt:
        s, vals = secret(d), []
        for c in cols:
            vals.append(s if c.startswith("*") else c.split("=", 1)[1] if "=" in c else d.randrange(1, 99999))
        names = tuple(c.lstrip("*").split("=", 1)[0] for c in cols)
        params = tuple(zip(names, vals))
        return Stmt(kind, "row", dialect, template.format(*(q(v) for v in vals)), (template, params), table, (s,))
    return make


ROW = [
    _row("api_token_update", "pg", "users", 'UPDATE "users" SET "api_token" = {}, "updated_at" = now() WHERE "id" = {}', ["*api_token", "id"]),
    _row("api_key_insert", "my", "api_keys", "INSERT INTO `api_keys` (`name`, `user_id`, `secret`) VALUES ({}, {}, {})",
         ["name=ci-deploy", "user_id", "*secret"]),
    _row("session_lookup", "pg", "sessions", 'SELECT "user_id", "expires_at" FROM "sessions" WHERE "session_token" = {} LIMIT 1',
         ["*session_token"]),
    _row("pat_lookup", "my", "personal_access_tokens", "SELECT * FROM `personal_access_tokens` WHERE `token` = {} AND `revoked` = 0",
         ["*token"]),
    _row("reset_token", "pg", "users", 'UPDATE "users" SET "reset_password_token" = {}, "reset_password_sent_at" = now() WHERE "id" = {}',
         ["*reset_password_token", "id"], lambda d: d.s(URLSAFE, 20)),
    _row("refresh_token_insert", "pg", "oauth_refresh_tokens", 'INSERT INTO "oauth_refresh_tokens" ("token", "client_id", "user_id") '
                                                               "VALUES ({}, {}, {})", ["*token", "client_id=web-portal", "user_id"]),
    _row("client_secret_insert", "my", "oauth_clients", "INSERT INTO oauth_clients (client_id, client_secret, redirect_uri) VALUES ({}, {}, {})",
         ["client_id=web-portal", "*client_secret", "redirect_uri=https://portal.acme.io/callback"]),
    _row("otp_secret", "pg", "users", 'UPDATE "users" SET "otp_secret" = {}, "otp_required_for_login" = true WHERE "id" = {}',
         ["*otp_secret", "id"], lambda d: d.s(B32, d.pick([16, 32]))),
    _row("webhook_secret", "my", "webhooks", "UPDATE `webhooks` SET `signing_secret` = {} WHERE `id` = {}", ["*signing_secret", "id"],
         lambda d: d.pick([named, opaque])(d)),
    _row("settings_insert", "pg", "settings", 'INSERT INTO "settings" ("name", "value") VALUES ({}, {}) ON CONFLICT ("name") DO UPDATE '
                                             'SET "value" = EXCLUDED."value"', ["name=smtp_password", "*value"], pw),
    _row("settings_update", "my", "settings", "UPDATE `settings` SET `value` = {} WHERE `name` = {}", ["*value", "name=stripe_secret_key"],
         lambda d: "sk_live_" + d.s(ALNUM, 32)),
    _row("legacy_login", "my", "users", "SELECT `id`, `role` FROM `users` WHERE `username` = {} AND `password` = {} LIMIT 1",
         ["username=admin", "*password"], pw),
    _row("integration_tokens", "pg", "integrations", 'INSERT INTO "integrations" ("provider", "access_token", "account_id") VALUES ({}, {}, {})',
         ["provider=github", "*access_token", "account_id"], named),
    _row("mysql_insert_set", "my", "api_credentials", "INSERT INTO api_credentials SET provider = {}, api_key = {}, created_by = {}",
         ["provider=sendgrid", "*api_key", "created_by"], lambda d: "SG." + d.s(URLSAFE, 22) + "." + d.s(URLSAFE, 43)),
    _row("device_token", "pg", "devices", 'UPDATE "devices" SET "auth_token" = {}, "last_seen_at" = now() WHERE "serial" = {}',
         ["*auth_token", "serial=ACME-7F3C-0042"]),
]


STATEMENTS = {"account": ACCOUNT, "link": LINK, "row": ROW}
FAMILIES = ("account", "link", "row", "store")


def draw(d: Draw, family: str) -> Stmt:
    """One statement of ``family`` (not ``store``: its commands are ``heldout_style12.store_sample``'s)."""
    return d.pick(STATEMENTS[family])(d)


# -- the stores that are no SQL: each command is written by one of its store's carriers ------------------------------
def _resp(argv: list[str]) -> str:
    return f"*{len(argv)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in argv)


def _rq(a: str) -> str:
    return '"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _slowlog(argv: list[str], d: Draw) -> str:
    pad = " " * (len(str(len(argv))) + 5)
    args = "\n".join(f"{'' if i == 0 else pad}{i + 1:>{len(str(len(argv)))}}) {_rq(a)}" for i, a in enumerate(argv))
    return (f"cache.internal:6379> SLOWLOG GET 1\n1) 1) (integer) {d.randrange(10, 999)}\n   2) (integer) 1796610067\n"
            f"   3) (integer) {d.randrange(10000, 99999)}\n   4) {args}\n   5) \"10.0.4.7:53122\"\n   6) \"api\"")


REDIS_CARRIERS = {
    "redis_monitor": lambda a, d: f"{1796610067 + d.random():.6f} [0 10.0.4.7:{d.randrange(30000, 60000)}] " + " ".join(_rq(x) for x in a),
    "redis_slowlog": _slowlog,
    "redis_aof": lambda a, d: "$ tail -c 400 /data/appendonlydir/appendonly.aof.3.incr.aof\n" + _resp(["SELECT", "0"]) + _resp(a),
    "redis_cli_prompt": lambda a, d: f"cache.internal:6379> {' '.join(_rq(x) if ' ' in x or not x else x for x in a)}\nOK",
}


def _redis(kind, make, secret=pw):
    def draw_(d: Draw):
        s = secret(d)
        argv = make(d, s)
        carrier = d.pick(sorted(REDIS_CARRIERS))
        return kind, carrier, REDIS_CARRIERS[carrier](argv, d), {}, (s,)
    return draw_


def _js(v, top=True) -> str:
    """A value as mongosh prints it (``util.inspect``: single quotes, bare keys)."""
    if isinstance(v, dict):
        inner = ", ".join(f"{k if k.isidentifier() else _js(k)}: {_js(x, False)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, list):
        return "[ " + ", ".join(_js(x, False) for x in v) + " ]" if v else "[]"
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(v).lower() if isinstance(v, bool) else str(v)


def _mongo_log(cmd: dict, ns: str, d: Draw) -> str:
    return json.dumps({"t": {"$date": "2026-12-07T09:12:44.902+00:00"}, "s": "I", "c": "COMMAND", "id": 51803,
                       "ctx": f"conn{d.randrange(10, 9999)}", "msg": "Slow query",
                       "attr": {"type": "command", "ns": ns, "command": cmd, "durationMillis": d.randrange(100, 900)}})


MONGO_CARRIERS = {
    "mongod_log": lambda shell, cmd, ns, d: _mongo_log(cmd, ns, d),
    "mongosh_prompt": lambda shell, cmd, ns, d: f"{ns.split('.')[0]}> {shell}\n{{ ok: 1 }}",
    "mongosh_history": lambda shell, cmd, ns, d: "$ tail -3 ~/.mongodb/mongosh/mongosh_repl_history\nshow dbs\n" + shell + "\nexit",
    "mongo_profile": lambda shell, cmd, ns, d: ("shop> db.system.profile.find().sort({ts: -1}).limit(1)\n[\n  {\n    op: 'command',\n"
                                                f"    ns: '{ns}',\n    command: {_js(dict(cmd, **{'$db': ns.split('.')[0]}))},\n"
                                                f"    millis: {d.randrange(100, 900)},\n    user: 'ops@admin'\n  }}\n]"),
}


def _mongo(kind, make, secret=pw):
    def draw_(d: Draw):
        s = secret(d)
        shell, cmd, ns = make(d, s)
        carrier = d.pick(sorted(MONGO_CARRIERS))
        return kind, carrier, MONGO_CARRIERS[carrier](shell, cmd, ns, d), {}, (s,)
    return draw_


def _ldap(kind, make, secret=pw):
    def draw_(d: Draw):
        s = secret(d)
        carrier, body, parts = make(d, s)
        return kind, carrier, body, {}, parts
    return draw_


DN = "cn=admin,dc=acme,dc=io"
STORE = [
    _redis("redis_auth", lambda d, s: ["AUTH", s]),
    _redis("redis_auth_user", lambda d, s: ["AUTH", _u(d), s]),
    _redis("redis_hello", lambda d, s: ["HELLO", "3", "AUTH", _u(d), s, "SETNAME", "api"]),
    _redis("redis_requirepass", lambda d, s: ["CONFIG", "SET", "requirepass", s]),
    _redis("redis_masterauth", lambda d, s: ["CONFIG", "SET", "masterauth", s]),
    _redis("redis_acl_setuser", lambda d, s: ["ACL", "SETUSER", _u(d), "on", ">" + s, "~cache:*", "+@read"]),
    _redis("redis_migrate", lambda d, s: ["MIGRATE", "10.0.4.22", "6379", "", "0", "5000", "AUTH2", _u(d), s, "KEYS", "a", "b"]),
    _redis("redis_hset_key", lambda d, s: ["HSET", f"user:{d.randrange(1, 99999)}", "api_key", s], opaque),
    _mongo("mongo_create_user", lambda d, s: (lambda u: (f'db.createUser({{ user: "{u}", pwd: "{s}", roles: [ {{ role: "readWrite", db: "shop" }} ] }})',
                                                         {"createUser": u, "pwd": s, "roles": [{"role": "readWrite", "db": "shop"}]},
                                                         "admin.$cmd"))(_u(d))),
    _mongo("mongo_update_user", lambda d, s: (lambda u: (f'db.updateUser("{u}", {{ pwd: "{s}" }})', {"updateUser": u, "pwd": s},
                                                         "admin.$cmd"))(_u(d))),
    _mongo("mongo_change_password", lambda d, s: (lambda u: (f'db.changeUserPassword("{u}", "{s}")', {"updateUser": u, "pwd": s},
                                                             "admin.$cmd"))(_u(d))),
    _mongo("mongo_insert_key", lambda d, s: (f'db.api_keys.insertOne({{ name: "ci-deploy", key: "{s}", scopes: [ "read" ] }})',
                                             {"insert": "api_keys", "documents": [{"name": "ci-deploy", "key": s, "scopes": ["read"]}]},
                                             "shop.api_keys"), opaque),
    _mongo("mongo_find_session", lambda d, s: (f'db.sessions.findOne({{ token: "{s}" }})',
                                               {"find": "sessions", "filter": {"token": s}, "limit": 1}, "shop.sessions"), opaque),
    _ldap("ldif_modify", lambda d, s: ("ldif", f"$ ldapmodify -x -D {DN} -W -H ldaps://ldap.acme.io <<EOF\ndn: uid={_u(d)},ou=people,"
                                               f"dc=acme,dc=io\nchangetype: modify\nreplace: userPassword\nuserPassword: {s}\n-\nEOF", (s,))),
    _ldap("ldif_base64", lambda d, s: (lambda e: ("ldif", f"dn: uid={_u(d)},ou=people,dc=acme,dc=io\nobjectClass: inetOrgPerson\n"
                                                          f"cn: {_u(d)}\nsn: Service\nuserPassword:: {e}\n", (e,)))(b64(s))),
    _ldap("olc_root_pw", lambda d, s: ("ldif", "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcRootPW\n"
                                               f"olcRootPW: {s}\n", (s,))),
    _ldap("python_ldap_trace", lambda d, s: ("python_ldap", "*** <ldap.ldapobject.SimpleLDAPObject object at 0x7f3c2a1b4d90> "
                                                            f"ldaps://ldap.acme.io - SimpleLDAPObject.simple_bind_s\n(('{DN}', '{s}', "
                                                            "None, None), {})", (s,))),
    _ldap("ldap3_bind", lambda d, s: ("ldap3", f"DEBUG:ldap3:PROTOCOL:BIND request <{{'version': 3, 'name': '{DN}', 'authentication': "
                                               f"{{'simple': '{s}', 'sasl': None}}}}> sent via <ldaps://ldap.acme.io:636 - ssl - user: "
                                               f"{DN} - bound - open>", (s,))),
    _ldap("jndi_env", lambda d, s: ("jndi", "javax.naming.AuthenticationException: [LDAP: error code 49 - 80090308: LdapErr: "
                                            "DSID-0C090447, comment: AcceptSecurityContext error, data 52e, v3839]; env={java.naming."
                                            "provider.url=ldaps://ad.acme.io:636, java.naming.security.authentication=simple, "
                                            f"java.naming.security.principal=CN=svc-ldap,OU=Service,DC=acme,DC=io, "
                                            f"java.naming.security.credentials={s}}}", (s,))),
    _ldap("es_put_user", lambda d, s: ("es_audit", '{"type":"audit","timestamp":"2026-12-07T09:12:44,902+0000","event.type":'
                                                   '"transport","event.action":"access_granted","user.name":"elastic","action":'
                                                   f'"cluster:admin/xpack/security/user/put","request.name":"PutUserRequest",'
                                                   f'"request.body":"{{\\"password\\":\\"{s}\\",\\"roles\\":[\\"reader\\"]}}"}}',
                                       (s,))),
    _ldap("es_change_password", lambda d, s: ("es_console", f"POST /_security/user/{_u(d)}/_password\n{{\n  \"password\" : \"{s}\"\n}}",
                                              (s,))),
    _ldap("es_api_key", lambda d, s: (lambda i: ("es_console", 'POST /_security/api_key\n{"name": "ci", "expiration": "30d"}\n\n'
                                                               f'{{\n  "id" : "{i}",\n  "name" : "ci",\n  "expiration" : 1799202067902,\n'
                                                               f'  "api_key" : "{s}",\n  "encoded" : "{b64(i + ":" + s)}"\n}}',
                                                 (s, b64(i + ":" + s))))(d.s(URLSAFE, 20)), lambda d: d.s(URLSAFE, 22)),
]


def draw_store(d: Draw):
    """One command of a store: ``(kind, carrier, body, attrs, parts)``."""
    return d.pick(STORE)(d)
