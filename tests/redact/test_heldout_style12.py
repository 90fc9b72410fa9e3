"""The twelfth held-out-style corpus (``tests/redact/heldout_style12.py``, ADR 0030 revision 16: a secret as databases,
their drivers and their ORMs write it down), one test per rule it led to (each with the look-alikes the rule must
leave), and long adversarial inputs for the new patterns, redacted in a subprocess (a hang fails by the subprocess'
timeout).

Seeds 121-126 were used while the rules were fixed; the misses of seeds 127 and 128 were never read.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ben.redact import DEFAULT_MANIFEST, Engine, parse_manifest
from tests.redact.heldout_style12 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact

PW = "Kq81Xt5Pw2Lm!z"
TOK = "f3Kq9ZpL2vX8rT4mN7bW1cY6"
PG = "2026-12-07 09:12:44.902 UTC [4211]"


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style12_recall_on_reserved_seeds_and_look_alikes(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 132 and sum(1 for k in fig.total if k.startswith("family:")) == 5
    # revision 15: 64.6 / 66.2 %, 3 / 2 look-alikes changed; revision 16: 99.2 / 100 %, 0 / 0
    assert fig.recall() >= 0.95, fig.recall()
    assert len(fig.damaged) <= 1, len(fig.damaged)
    for fam in ("account", "link", "row", "store"):
        assert fig.rate("family:" + fam) >= 0.9, (fam, fig.rate("family:" + fam))   # the lowest measured: 98.3 %


# -- bound parameters: the statement with placeholders, the values apart ------------------------------------
@pytest.mark.parametrize("text", [
    f'{PG} LOG:  execute <unnamed>: UPDATE "users" SET "api_token" = $1 WHERE "id" = $2\n{PG} DETAIL:  parameters: $1 = \'{TOK}\', $2 = \'42\'',
    "Hibernate: update users set api_token=? where id=?\n2026-12-07 TRACE o.h.t.d.s.BasicBinder : binding parameter [1] as [VARCHAR] - "
    f"[{TOK}]\n2026-12-07 TRACE o.h.t.d.s.BasicBinder : binding parameter [2] as [BIGINT] - [42]",
    "DEBUG o.s.jdbc.core.JdbcTemplate : Executing prepared SQL statement [SELECT * FROM sessions WHERE session_token = ?]\nTRACE "
    f"o.s.jdbc.core.StatementCreatorUtils : Setting SQL statement parameter value: column index 1, parameter value [{TOK}], value class "
    "[java.lang.String], SQL type unknown",
    f'prisma:query SELECT "user_id" FROM "sessions" WHERE "session_token" = $1 LIMIT 1\nParams: ["{TOK}"]\nDuration: 1ms',
    f"knex:query INSERT INTO `api_keys` (`name`, `user_id`, `secret`) VALUES (?, ?, ?) undefined\nknex:bindings [ 'ci', 42, '{TOK}' ] undefined",
    '[2026-12-07 09:12:44] production.DEBUG: query {"sql": "SELECT * FROM \\"sessions\\" WHERE \\"session_token\\" = ? LIMIT 1", '
    f'"bindings": ["{TOK}"], "time": 0.4}}',
    f'[debug] QUERY OK source="users" db=0.4ms\nUPDATE "users" SET "otp_secret" = $1 WHERE "id" = $2 ["{TOK}", 42]',
    f'time=2026-12-07T09:12:44Z level=INFO msg=Query sql="UPDATE devices SET auth_token = $1 WHERE serial = $2" args="[{TOK} ACME-7F3C]"',
    f"(0.001) UPDATE \"users\" SET \"api_token\" = '{TOK}' WHERE \"id\" = 42; args=('{TOK}', 42); alias=default",
    f'  Setting Create (0.6ms)  INSERT INTO "settings" ("name", "value") VALUES ($1, $2)  [["name", "smtp_password"], ["value", "{PW}"]]',
    f"{PG} LOG:  execute S_1: UPDATE settings SET value = $1 WHERE name = $2\n{PG} DETAIL:  parameters: $1 = '{PW}', $2 = 'stripe_secret_key'",
    # not in the corpus: EF Core, MyBatis, SQLAlchemy's positional parameters
    f"      Executed DbCommand (3ms) [Parameters=[@p0='{TOK}' (Size = 4000), @p1='42'], CommandType='Text', CommandTimeout='30']\n"
    "      UPDATE [Users] SET [ApiToken] = @p0\n      WHERE [Id] = @p1;",
    f"DEBUG c.a.m.UserMapper.updateToken - ==>  Preparing: UPDATE users SET api_token = ? WHERE id = ?\nDEBUG c.a.m.UserMapper.updateToken - "
    f"==> Parameters: {TOK}(String), 42(Long)",
    f"INFO sqlalchemy.engine.Engine UPDATE users SET api_token=%s WHERE users.id = %s\nINFO sqlalchemy.engine.Engine [generated in 0.00021s] "
    f"('{TOK}', 42)",
])
def test_a_bound_parameter_named_by_its_placeholders_column_is_masked(text: str) -> None:
    out = redact(text)
    assert TOK not in out and PW not in out, out


@pytest.mark.parametrize("text", [
    f"{PG} LOG:  execute <unnamed>: SELECT id FROM users WHERE email_verified = $1 AND id = $2\n{PG} DETAIL:  parameters: $1 = 't', $2 = '42'",
    "Hibernate: select token_type, expires_in from oauth_tokens where user_id=?\n2026-12-07 TRACE o.h.t.d.s.BasicBinder : binding "
    "parameter [1] as [BIGINT] - [4242]",
    'prisma:query SELECT * FROM "orders" WHERE "id" = $1\nParams: ["5f0c1c1e-8a4b-4c55-9d3e-0a1b2c3d4e5f"]\nDuration: 1ms',
    f"{PG} LOG:  execute S_1: UPDATE settings SET value = $1 WHERE name = $2\n{PG} DETAIL:  parameters: $1 = 'true', $2 = 'password_reset_enabled'",
    "knex:query UPDATE `api_keys` SET `revoked_at` = ? WHERE `id` = ? AND `name` = ? undefined\nknex:bindings [ '2026-12-07 09:12:44', 42, "
    "'ci-deploy' ] undefined",
    "      Executed DbCommand (3ms) [Parameters=[@__email_0='ann-example' (Size = 4000)], CommandType='Text', CommandTimeout='30']\n"
    "      SELECT TOP(1) [u].[Id] FROM [Users] AS [u] WHERE [u].[Email] = @__email_0",
    "DEBUG c.a.m.UserMapper.byId - ==>  Preparing: SELECT * FROM users WHERE id = ? AND plan = ?\nDEBUG c.a.m.UserMapper.byId - "
    "==> Parameters: 42(Long), pro-annual(String)",
])
def test_bound_parameters_that_are_no_secret_stay(text: str) -> None:
    assert redact(text) == text


# -- constraint errors, quoted columns, positional SQL -------------------------------------------------------
@pytest.mark.parametrize("text", [
    f'{PG} ERROR:  duplicate key value violates unique constraint "api_tokens_token_key"\n{PG} DETAIL:  Key (token)=({TOK}) already exists.',
    f"pymysql.err.IntegrityError: (1062, \"Duplicate entry '{TOK}' for key 'personal_access_tokens.token'\")",
    f"SELECT `id` FROM `users` WHERE `username` = 'admin' AND `password` = '{PW}' LIMIT 1",
    f"UPDATE [dbo].[integrations] SET [client_secret] = N'{PW}' WHERE [id] = 7",
    f'ALTER USER billing IDENTIFIED BY "Xx81Yy5Zz2Ww!q" REPLACE "{PW}"',
    f"ALTER CURRENT USER SET PASSWORD FROM '{PW}' TO 'Xx81Yy5Zz2Ww!q'",
    f"CONNECT TO SHOP USER etl USING {PW}",
    f"PRAGMA key = '{PW}'",
    f"SELECT id, pgp_sym_decrypt(ssn_enc, '{PW}') FROM people WHERE id = 42",
    f"SELECT id, AES_DECRYPT(card_enc, '{PW}') FROM payments",
    f"SELECT DecryptByPassPhrase('{PW}', ssn_enc) FROM people",
    f"INSERT INTO orders SELECT * FROM mysql('db-1:3306', 'shop', 'orders', 'etl', '{PW}')",
    f"EXEC sp_addlinkedsrvlogin @rmtsrvname = N'LEGACY', @useself = N'False', @rmtuser = N'repl', @rmtpassword = N'{PW}'",
    f"CREATE LOGIN [app] WITH PASSWORD = N'{PW}', CHECK_POLICY = OFF",
    f"$ tail -1 ~/.mysql_history\nCREATE\\040USER\\040'app'@'%'\\040IDENTIFIED\\040BY\\040'{PW}';",
    f"20261207 09:12:44,db-1,root,10.0.4.7,42,311,QUERY,shop,'SET PASSWORD FOR app = PASSWORD(\\'{PW}\\')',0",
    f"INSERT INTO api_tokens (user_id, token) VALUES (1, 'Zz3Kq9ZpL2vX8rT4'), (2, '{TOK}')",          # a later row
    f'LOG:  execute <unnamed>: INSERT INTO "api_tokens" ("user_id", "token") VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING\n'
    f"DETAIL:  parameters: $1 = '1', $2 = 'Zz3Kq9ZpL2vX8rT4', $3 = '2', $4 = '{TOK}'",
])
def test_sql_secrets_no_pair_rule_reads_are_masked(text: str) -> None:
    out = redact(text)
    assert PW not in out and TOK not in out, out


@pytest.mark.parametrize("text", [
    f'{PG} ERROR:  duplicate key value violates unique constraint "users_email_key"\n{PG} DETAIL:  Key (email_hash)=(8a4b4c55) already exists.',
    "pymysql.err.IntegrityError: (1062, \"Duplicate entry 'ci-deploy' for key 'api_keys.name'\")",
    "SELECT `password_changed_at`, `failed_logins` FROM `users` WHERE `id` = 42",
    "UPDATE `settings` SET `value` = 'true' WHERE `name` = 'dark_mode'",
    "SQL:BatchCompleted\tCREATE LOGIN [ACME\\svc-etl] FROM WINDOWS WITH DEFAULT_DATABASE = [shop]\tSSMS\tACME\\ops\t39",
    "SQL:BatchCompleted\tALTER LOGIN app WITH CHECK_POLICY = ON, CHECK_EXPIRATION = ON\tSSMS\tACME\\ops\t31",
    "CREATE INDEX idx_tokens_user ON api_tokens (user_id)", "SELECT pgp_sym_decrypt(ssn_enc, current_setting('app.key')) FROM people",
    "CREATE SUBSCRIPTION s CONNECTION 'host=db-1 dbname=shop user=repl passfile=/var/lib/postgresql/.pgpass' PUBLICATION p",
    "SELECT count() FROM s3('https://datasets.example.org/hits/*.parquet', NOSIGN, 'Parquet')",
    "$ tail -1 ~/.mysql_history\nshow\\040databases;",
    "INSERT INTO spans (trace_id, name) VALUES ('4bf92f3577b34da6a3ce929d0e0e4736', 'GET /'), ('4bf92f3577b34da6a3ce929d0e0e4737', 'GET /x')",
])
def test_sql_without_a_secret_stays(text: str) -> None:
    assert redact(text) == text


# -- stores' commands ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    f'1796610067.902311 [0 10.0.4.7:53122] "HELLO" "3" "AUTH" "app" "{PW}" "SETNAME" "api"',
    f'1796610067.902311 [0 10.0.4.7:53122] "CONFIG" "SET" "masterauth" "{PW}"',
    f'1796610067.902311 [0 10.0.4.7:53122] "MIGRATE" "10.0.4.22" "6379" "" "0" "5000" "AUTH2" "app" "{PW}" "KEYS" "a"',
    f'cache:6379> SLOWLOG GET 1\n1) 1) (integer) 14\n   2) (integer) 1796610067\n   3) (integer) 12011\n   4) 1) "CONFIG"\n'
    f'      2) "SET"\n      3) "requirepass"\n      4) "{PW}"\n   5) "10.0.4.7:53122"\n   6) "api"',
    f"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n${len(PW)}\r\n{PW}\r\n",
    f"cache.internal:6379> ACL SETUSER app on >{PW} ~cache:* +@read\nOK",
    f"cache.internal:6379> HSET user:42 api_key {TOK}\n(integer) 1",
    f'admin> db.changeUserPassword("billing", "{PW}")',
    f'shop> db.api_keys.insertOne({{ name: "ci-deploy", key: "{TOK}", scopes: [ "read" ] }})',
    f"*** <ldap.ldapobject.SimpleLDAPObject object at 0x7f3c> ldaps://ldap - SimpleLDAPObject.simple_bind_s\n(('cn=admin,dc=acme,dc=io', '{PW}', None, None), {{}})",
    f"DEBUG:ldap3:PROTOCOL:BIND request <{{'version': 3, 'name': 'cn=admin', 'authentication': {{'simple': '{PW}', 'sasl': None}}}}>",
    f'err := l.Bind("cn=admin,dc=acme,dc=io", "{PW}")', f'{{"TableName":"sessions","Item":{{"auth_token":{{"S":"{TOK}"}}}}}}', f"1796610067.902311 [0 10.0.4.7:53122] \"SENTINEL\" \"SET\" \"main\" \"auth-pass\" \"{PW}\"",
    f'{{\n  "id" : "o-X95LQCcpS7oMrylfcW",\n  "api_key" : "{TOK}",\n  "encoded" : "by1YOTVMUUNjcFM3b01yeWxmY1c6TXllN2pZMmJNOHRQaUVDVHB2aXJzUw=="\n}}',
])
def test_a_stores_command_with_a_secret_is_masked(text: str) -> None:
    out = redact(text)
    assert PW not in out and TOK not in out and "by1YOTVMUUNj" not in out, out


@pytest.mark.parametrize("text", [
    '1796610067.902311 [0 10.0.4.7:53122] "AUTH" "(redacted)"', '1796610067.902311 [0 10.0.4.7:53122] "CONFIG" "GET" "requirepass"',
    '1796610067.902311 [0 10.0.4.7:53122] "SET" "rate:10.0.4.7" "17" "EX" "60"', "cache.internal:6379> ACL WHOAMI\n\"default\"",
    "cache.internal:6379> HSET user:42 name ann_example plan pro", "cache.internal:6379> AUTH\n(error) ERR wrong number of arguments",
    'admin> db.createUser({ user: "reporting", pwd: passwordPrompt(), roles: [ "read" ] })',
    'shop> db.sessions.find({ expiresAt: { $lt: ISODate("2026-12-07T00:00:00Z") } })',
    'shop> db.orders.insertOne({ key: "checkout-v2-2026-12-07", total: 42 })',
    "dn: uid=ann,ou=people,dc=acme,dc=io\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/bash",
    '$(document).bind("click", "handlerName2")', '{"TableName":"sessions","Item":{"session_id":{"S":"5f0c1c1e-8a4b"}}}', "cache.internal:6379> SENTINEL SET main down-after-milliseconds 5000",
])
def test_a_stores_command_without_a_secret_stays(text: str) -> None:
    assert redact(text) == text


def test_the_query_detector_alone_finds_a_bound_parameter() -> None:
    """Without ``query`` the value apart from its placeholder's column is not read."""
    text = f'prisma:query SELECT "user_id" FROM "sessions" WHERE "session_token" = $1 LIMIT 1\nParams: ["{TOK}"]'
    without = Engine(parse_manifest(DEFAULT_MANIFEST.replace('"query", ', ""), need_key=False))
    assert TOK not in redact(text) and TOK in redact(text, without)


# -- long inputs ------------------------------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ["UPDATE x SET a = ? " * 20000, "SELECT " + "$1 = " * 40000, "INSERT INTO t (" + "a, " * 50000, "args=(" + "'a', " * 40000,
         "Params: [" + '"a",' * 50000, "binding parameter [1] as [V] - [" * 10000, "$1 = '" * 40000, "`a` = '" * 40000,
         '"a" = N\'' * 40000, "identified by x replace " * 20000, "password from '" * 30000, "connect to x user y using " * 20000,
         "pragma key = '" * 30000, "pgp_sym_decrypt(" * 40000, "aes_decrypt(a, " * 30000, "mysql('a', " * 40000,
         "@password = N'" * 30000, "Key (" * 50000, "Duplicate entry '" * 30000, '"AUTH" ' * 40000,
         "1796610067.902311 [0 a] " + '"a" ' * 60000, '   4) 1) "a"\n' * 30000, "      2) \"a\"\n" * 40000, "*3\r\n" * 50000,
         "$4\r\nAUTH\r\n" * 40000, "h:6379> " * 40000, "h:6379> AUTH " + "a " * 50000, "db.api_keys." * 40000,
         'key: "' * 40000, "changeUserPassword(" * 30000, "simple_bind_s(('" * 30000, "'simple': '" * 30000, '"encoded" : "' * 30000,
         "\\040" * 60000, "\\'" * 60000, "@p0='" * 40000, "==> Parameters: " + "a(String), " * 40000,
         "[generated in 0.1s] (" * 30000, "UPDATE t SET a = @p " * 20000, "SENTINEL SET m " + "auth-pass " * 40000, "l.Bind(\"" * 30000, "INSERT INTO t (a, token) VALUES (" * 20000,
         "INSERT INTO t (token) VALUES ('x'" + "), (" * 60000, '"token": {"S": "' * 30000, "QUERY OK " + "[\"a\", " * 40000, '[["a", "b"], ' * 30000, "args=\"[" + "a " * 60000]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "done", out.stderr
