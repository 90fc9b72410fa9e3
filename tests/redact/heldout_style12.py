"""A twelfth held-out-style corpus, written apart from the first eleven on 2026-12-07 from a stranger's angle: a secret
as databases, their drivers and their ORMs write it down. A statement that sets a password, links to another system or
reads and writes an application's secret (``heldout12_values``: ~65 statements of ~20 dialects) is recorded by one of
the *carriers* of its dialect — MySQL's general log, slow log, ``mysqlbinlog``'s output, the audit plugins' JSON and
CSV, ``~/.mysql_history`` (spaces as ``\\040``), the client's echo; PostgreSQL's ``statement:`` and ``duration:``
lines, an error's ``STATEMENT:``, ``csvlog``, ``jsonlog``, pgaudit, ``pg_stat_statements`` in psql's table, psql's
echo; SQL Server's Extended Events XML and a Profiler row; Oracle's unified audit in syslog and SQL*Plus' echo;
ClickHouse's ``query_log`` (vertical) and server log; OpenTelemetry's ``db.statement`` / ``db.query.text`` and an
application's JSON log — or, for the ``row`` family, by a driver or ORM that logs the statement with placeholders and
the parameters apart (PostgreSQL's ``execute``/``DETAIL: parameters:``, a duplicate key's ``DETAIL: Key (c)=(v)``,
MySQL's ``Duplicate entry``, Hibernate's binder, Spring's ``StatementCreatorUtils``, Rails, Django, SQLAlchemy, p6spy,
pgx, knex, Prisma, Ecto, Laravel, GORM). The ``store`` family's commands (Redis, MongoDB, LDAP, Elasticsearch) are
written by their own carriers (``MONITOR``, ``SLOWLOG GET``, the AOF, prompts, mongod's JSON log, mongosh's history
and its printed profile, LDIF, python-ldap's and ldap3's traces, a JNDI environment, Elasticsearch's audit and
console). Look-alikes (``heldout12_benign``): statements and commands of the same tools with no secret, in the same
carriers. Scoring as in the ninth corpus: no run of 8 characters of the secret, as the carrier wrote it, survives; a
look-alike's event must be unchanged.

Seeds: 121-126 for development; **127 and 128 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style12 --seed 121 -v 20
"""

from __future__ import annotations

import html
import json

from tests.redact import heldout12_values as values
from tests.redact.heldout12_benign import benign_binds, benign_statements, benign_stores
from tests.redact.heldout7_values import Draw
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer
from tests.redact.heldout_style8 import survivors as survivors

RESERVED_SEEDS = (127, 128)
PGTS = "2026-12-07 09:12:44.902 UTC"
SYSTEMS = {"my": "mysql", "pg": "postgresql", "ms": "mssql", "ora": "oracle", "ch": "clickhouse", "any": "other_sql"}


def _plain(s: str) -> str:
    return s


def _jsn(s: str) -> str:
    return json.dumps(s)[1:-1]


def _csv(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _verb(text: str) -> str:
    return " ".join(text.split()[:2]).upper()


# text carriers: (text, d) -> (body, attrs); with the secret's encoding
TEXT = {
    "my": {
        "mysql_general": (lambda t, d: (f"2026-12-07T09:12:44.902311Z\t   {d.randrange(8, 999)} Query\t{t}", {}), _plain),
        "mysql_slow": (lambda t, d: (f"# Time: 2026-12-07T09:12:44.902311Z\n# User@Host: root[root] @  [10.0.4.7]  Id:   {d.randrange(8, 999)}\n"
                                     "# Query_time: 0.004113  Lock_time: 0.000002 Rows_sent: 0  Rows_examined: 0\n"
                                     f"SET timestamp=1796610067;\n{t};", {}), _plain),
        "mysql_binlog": (lambda t, d: (f"# at {d.randrange(1000, 99999)}\n#261207  9:12:44 server id 1  end_log_pos {d.randrange(1000, 99999)} "
                                       f"CRC32 0x{d.hex(8)} \tQuery\tthread_id={d.randrange(8, 999)}\texec_time=0\terror_code=0\n"
                                       f"SET TIMESTAMP=1796610067/*!*/;\n{t}\n/*!*/;", {}), _plain),
        "mysql_audit_json": (lambda t, d: (json.dumps({"audit_record": {"name": "Query", "record": f"{d.randrange(1000, 9999)}_2026-12-07T09:12:44",
                                                                        "timestamp": "2026-12-07T09:12:44Z", "command_class": "alter_user",
                                                                        "connection_id": str(d.randrange(8, 999)), "status": 0, "sqltext": t,
                                                                        "user": "root[root] @ localhost []", "host": "localhost", "db": ""}}), {}),
                             _jsn),
        "mariadb_audit": (lambda t, d: (f"20261207 09:12:44,db-1,root,10.0.4.7,{d.randrange(8, 999)},{d.randrange(100, 9999)},QUERY,shop,'"
                                        + t.replace("\\", "\\\\").replace("'", "\\'") + "',0", {}), lambda s: s.replace("'", "\\'")),
        "mysql_history": (lambda t, d: ("$ tail -2 ~/.mysql_history\nshow\\040databases;\n" + t.replace("\\", "\\\\").replace(" ", "\\040")
                                        + ";", {}), lambda s: s.replace(" ", "\\040")),
        "mysql_echo": (lambda t, d: (f"mysql> {t};\nQuery OK, 0 rows affected (0.01 sec)", {}), _plain),
    },
    "pg": {
        "pg_statement": (lambda t, d: (f"{PGTS} [{d.randrange(100, 99999)}] postgres@shop LOG:  statement: {t}", {}), _plain),
        "pg_duration": (lambda t, d: (f"{PGTS} [{d.randrange(100, 99999)}] LOG:  duration: {d.randrange(1, 999)}.{d.randrange(100, 999)} ms  "
                                      f"statement: {t}", {}), _plain),
        "pg_error": (lambda t, d: (f"{PGTS} [4211] ERROR:  permission denied to alter role\n{PGTS} [4211] DETAIL:  Only roles with the "
                                   f"CREATEROLE attribute may alter roles.\n{PGTS} [4211] STATEMENT:  {t}", {}), _plain),
        "pg_csvlog": (lambda t, d: (f"2026-12-07 09:12:44.902 UTC,\"postgres\",\"shop\",{d.randrange(100, 99999)},\"10.0.4.7:53122\",675d1f2c.10"
                                    f"73,3,\"idle\",2026-12-07 09:12:40 UTC,5/21,0,LOG,00000,{_csv('statement: ' + t)},,,,,,,,,\"psql\",\"client "
                                    "backend\",,0", {}), lambda s: s.replace('"', '""')),
        "pg_jsonlog": (lambda t, d: (json.dumps({"timestamp": "2026-12-07 09:12:44.902 UTC", "user": "postgres", "dbname": "shop",
                                                 "pid": d.randrange(100, 99999), "remote_host": "10.0.4.7", "error_severity": "LOG",
                                                 "message": "statement: " + t, "application_name": "psql"}), {}), _jsn),
        "pgaudit": (lambda t, d: (f"{PGTS} [4211] LOG:  AUDIT: SESSION,{d.randrange(1, 99)},1,ROLE,{_verb(t)},,,{_csv(t)},<not logged>", {}),
                    lambda s: s.replace('"', '""')),
        "pg_stat_statements": (lambda t, d: ("shop=# SELECT calls, round(mean_exec_time::numeric, 2) AS mean_ms, query FROM "
                                             "pg_stat_statements ORDER BY calls DESC LIMIT 2;\n calls | mean_ms | query\n"
                                             "-------+---------+-------\n  9121 |    0.04 | SELECT 1\n"
                                             f"     1 |    {d.randrange(1, 9)}.{d.randrange(10, 99)} | {t}\n(2 rows)", {}), _plain),
        "psql_echo": (lambda t, d: (f"shop=# {t};\n{_verb(t)}", {}), _plain),
    },
    "ms": {
        "sqlserver_xevent": (lambda t, d: ("<event name=\"sql_batch_completed\" package=\"sqlserver\" timestamp=\"2026-12-07T09:12:44.902Z\">"
                                           f"<data name=\"duration\"><value>{d.randrange(100, 9999)}</value></data><data name=\"batch_text\">"
                                           f"<value>{html.escape(t, quote=False)}</value></data><action name=\"username\" package=\"sqlserver\">"
                                           "<value>ACME\\ops</value></action></event>", {}), lambda s: html.escape(s, quote=False)),
        "sqlserver_profiler": (lambda t, d: (f"SQL:BatchCompleted\t{t}\tMicrosoft SQL Server Management Studio - Query\tACME\\ops\t"
                                             f"{d.randrange(0, 99)}\t{d.randrange(0, 999)}\t0\t0\t{d.randrange(50, 99)}\t2026-12-07 09:12:44.903", {}),
                               _plain),
    },
    "ora": {
        "oracle_audit_syslog": (lambda t, d: (f"Dec  7 09:12:44 ora-1 journal: Oracle Unified Audit[{d.randrange(100, 99999)}]: LENGTH: "
                                              f"'{len(t) + 300}' TYPE:\"4\" DBID:\"1431380281\" SESID:\"{d.randrange(10 ** 6, 10 ** 7)}\" "
                                              "ENTRYID:\"1\" STMTID:\"9\" DBUSER:\"SYS\" CURUSER:\"SYS\" ACTION:\"43\" RETCODE:\"0\" "
                                              f"SCHEMA:\"SYS\" SQL_TEXT:\"{t}\"", {}), _plain),
        "sqlplus_echo": (lambda t, d: (f"SQL> {t};\n\nUser altered.\n", {}), _plain),
    },
    "ch": {
        "clickhouse_query_log": (lambda t, d: ("Row 1:\n──────\nevent_time:   2026-12-07 09:12:44\nuser:         default\n"
                                               f"query_id:     {d.uuid()}\nquery:        {t}\ntype:         QueryFinish\n", {}), _plain),
        "clickhouse_server_log": (lambda t, d: (f"2026.12.07 09:12:44.902311 [ {d.randrange(100, 9999)} ] {{{d.uuid()}}} <Debug> executeQuery: "
                                                f"(from 10.0.4.7:53122, user: default) {t} (stage: Complete)", {}), _plain),
    },
    "any": {
        "otel_db_statement": (lambda t, d: (_verb(t), {"db.system": "other_sql", "db.statement": t, "db.user": "ops",
                                                        "net.peer.name": "db-1.internal"}), _plain),
        "otel_db_query_text": (lambda t, d: (_verb(t), {"db.system.name": "other_sql", "db.query.text": t,
                                                         "db.operation.name": _verb(t).split()[0]}), _plain),
        "app_json_log": (lambda t, d: (json.dumps({"ts": "2026-12-07T09:12:44.902Z", "level": "debug", "logger": "db", "msg": "exec",
                                                   "sql": t, "elapsed_ms": round(d.random(), 3)}), {}), _jsn),
    },
}


def _ph(template: str, style: str, names: list[str]) -> str:
    """``template``'s ``{}`` as a driver writes its placeholders: ``?``, ``$n``, ``%s`` or ``%(name)s``."""
    marks = {"?": ["?"] * len(names), "$": [f"${i + 1}" for i in range(len(names))], "%s": ["%s"] * len(names),
             "%(": [f"%({n})s" for n in names]}[style]
    return template.format(*marks)


def _pylit(v) -> str:
    return repr(v)


def _bind(fn, style="?"):
    """A bound carrier: ``fn(sql_with_placeholders, params, names, stmt, d) -> body or (body, attrs)``."""
    def frame(st, d):
        names, params = [c for c, _ in st.bind[1]], [v for _, v in st.bind[1]]
        out = fn(_ph(st.bind[0], style, names), params, names, st, d)
        return out if isinstance(out, tuple) else (out, {})
    return frame


def _secret_col(st) -> tuple[str, str]:
    return next(((c, v) for c, v in st.bind[1] if v in st.secrets), st.bind[1][-1])


# bound carriers (``row`` only): (stmt, d) -> (body, attrs); with the secret's encoding
BIND = {
    "pg_execute_params": (_bind(lambda t, p, n, st, d: f"{PGTS} [4211] LOG:  duration: 0.{d.randrange(100, 999)} ms  execute <unnamed>: {t}\n"
                                                       f"{PGTS} [4211] DETAIL:  parameters: "
                                                       + ", ".join(f"${i + 1} = {values.q(str(v))}" for i, v in enumerate(p)), "$"),
                          lambda s: s.replace("'", "''")),
    "pg_duplicate_key": (_bind(lambda t, p, n, st, d: (lambda c, v: f"{PGTS} [4211] ERROR:  duplicate key value violates unique constraint "
                                                                    f"\"{st.table}_{c}_key\"\n{PGTS} [4211] DETAIL:  Key ({c})=({v}) already "
                                                                    f"exists.\n{PGTS} [4211] STATEMENT:  {t}")(*_secret_col(st)), "$"), _plain),
    "mysql_duplicate_entry": (_bind(lambda t, p, n, st, d: (lambda c, v: "pymysql.err.IntegrityError: (1062, \"Duplicate entry "
                                                                         f"'{v}' for key '{st.table}.{c}'\")")(*_secret_col(st))), _plain),
    "hibernate_binder": (_bind(lambda t, p, n, st, d: f"Hibernate: {t.replace(chr(34), '').replace('`', '')}\n" + "\n".join(
        f"2026-12-07 09:12:44.902 TRACE 1 --- [nio-8080-exec-3] o.h.type.descriptor.sql.BasicBinder      : binding parameter [{i + 1}] as "
        f"[{'BIGINT' if isinstance(v, int) else 'VARCHAR'}] - [{v}]" for i, v in enumerate(p))), _plain),
    "spring_jdbc": (_bind(lambda t, p, n, st, d: f"DEBUG o.s.jdbc.core.JdbcTemplate : Executing prepared SQL statement [{t}]\n" + "\n".join(
        f"TRACE o.s.jdbc.core.StatementCreatorUtils : Setting SQL statement parameter value: column index {i + 1}, parameter value [{v}], "
        f"value class [java.lang.{'Long' if isinstance(v, int) else 'String'}], SQL type unknown" for i, v in enumerate(p))), _plain),
    "rails": (_bind(lambda t, p, n, st, d: f"  {st.table.title().replace('_', '')} Update ({d.randrange(1, 9)}.{d.randrange(1, 9)}ms)  {t}  "
                                           + json.dumps([[c, v] for c, v in zip(n, p)]), "$"), _jsn),
    "django": (_bind(lambda t, p, n, st, d: f"({d.random():.3f}) {st.text}; args={tuple(p)!r}; alias=default"), lambda s: repr(s)[1:-1]),
    "sqlalchemy": (_bind(lambda t, p, n, st, d: f"INFO sqlalchemy.engine.Engine {t}\nINFO sqlalchemy.engine.Engine [generated in "
                                                f"0.000{d.randrange(10, 99)}s] {dict(zip(n, p))!r}", "%("), lambda s: repr(s)[1:-1]),
    "p6spy": (_bind(lambda t, p, n, st, d: f"1796610067902|{d.randrange(0, 9)}|statement|connection {d.randrange(1, 20)}|url "
                                           f"jdbc:postgresql://db-1.internal:5432/shop|{t}|{st.text}"), _plain),
    "pgx": (_bind(lambda t, p, n, st, d: f"time=2026-12-07T09:12:44.902Z level=INFO msg=Query sql={json.dumps(t)} args=\"["
                                         + " ".join(str(v) for v in p) + f"]\" commandTag=\"UPDATE 1\" pid={d.randrange(100, 99999)}", "$"),
            _plain),
    "knex": (_bind(lambda t, p, n, st, d: f"knex:query {t} undefined +{d.randrange(1, 99)}ms\nknex:bindings [ "
                                          + ", ".join(values._js(v) for v in p) + " ] undefined +0ms"), lambda s: s.replace("'", "\\'")),
    "prisma": (_bind(lambda t, p, n, st, d: f"prisma:query {t}\nParams: {json.dumps(p)}\nDuration: {d.randrange(1, 9)}ms", "$"), _jsn),
    "ecto": (_bind(lambda t, p, n, st, d: f"[debug] QUERY OK source=\"{st.table}\" db={d.randrange(1, 9)}.{d.randrange(1, 9)}ms\n{t} "
                                          + json.dumps(p).replace(", ", ", "), "$"), _jsn),
    "laravel": (_bind(lambda t, p, n, st, d: "[2026-12-07 09:12:44] production.DEBUG: query "
                                             + json.dumps({"sql": t, "bindings": p, "time": round(d.random(), 2)})), _jsn),
    "gorm": (_bind(lambda t, p, n, st, d: f"2026/12/07 09:12:44 /app/internal/store/{st.table}.go:{d.randrange(20, 200)}\n"
                                          f"[{d.random():.3f}ms] [rows:1] {st.text}"), _plain),
}


def _carriers(st) -> list[tuple[str, tuple]]:
    text = [(k, v) for k, v in sorted(TEXT[st.dialect].items())] + ([] if st.dialect == "any" else sorted(TEXT["any"].items()))
    if st.bind is None:
        return text
    binds = [(k, v) for k, v in sorted(BIND.items()) if not (k.startswith("pg_") and st.dialect != "pg")
             and not (k.startswith("mysql_") and st.dialect != "my")]
    return text + binds


def frame_statement(st, d: Draw, carrier: str | None = None):
    """``st`` written by one of its dialect's carriers (drawn, or ``carrier``): (carrier, body, attrs, encoding)."""
    options = _carriers(st)
    name, (fn, enc) = next((k, v) for k, v in options if k == carrier) if carrier else d.pick(options)
    if name in BIND:
        body, attrs = fn(st, d)
    else:
        body, attrs = fn(st.text, d)
    return name, body, attrs, enc


def place(d: Draw, family: str) -> Sample:
    for _ in range(20):
        if family == "store":
            kind, carrier, body, attrs, secrets = values.draw_store(d)
            enc = _plain
        else:
            st = values.draw(d, family)
            kind, secrets = st.kind, st.secrets
            carrier, body, attrs, enc = frame_statement(st, d)
        text = body + "\x00" + "\x00".join(attrs.values())
        parts = tuple(p for p in {enc(s) for s in secrets} | set(secrets) if len(p) >= 8 and p in text)
        if parts:
            return Sample(family, kind, carrier, body, attrs, tuple(sorted(parts)))
    raise AssertionError(f"generator error: no {family} secret survives its carrier")


def look_alikes(d: Draw, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for st in benign_statements(d) + benign_binds(d):
            carrier, body, attrs, _ = frame_statement(st, d)
            out.append(Sample("benign", st.kind, carrier, body, attrs))
        for kind, carrier, body in benign_stores(d):
            out.append(Sample("benign", kind, carrier, body, {}))
    return out


def generate(seed: int, *, per_family: int = 60, benign_rounds: int = 3) -> list[Sample]:
    """``per_family`` secrets of each of the four families, then the look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    return [place(d, f) for f in values.FAMILIES for _ in range(per_family)] + look_alikes(d, benign_rounds)


run = scorer(survivors, Figures, "heldout12")


def main() -> None:
    cli(__doc__, generate, run, seed=121, size="per_family", default=60)


if __name__ == "__main__":
    main()
