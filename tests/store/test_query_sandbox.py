"""The query sandbox on real chDB (ADR 0032): what an operator query may not do, and its limits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ben.core.errors import QueryError
from ben.store import chdb as chdb_module
from ben.store.chdb import ChdbStore
from ben.store.query import QueryLimits

SECRET = "canary-7f3a9c"
LIMITS = QueryLimits(timeout_s=2.0, max_result_bytes=1 << 20)


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    """A directory with the store, a canary file holding SECRET, and nothing else."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "canary.csv").write_text(SECRET + "\n")
    return root


@pytest.fixture(scope="module")
def store(place: Path):
    opened = ChdbStore(place / "chdb")
    yield opened
    opened.close()


def run(store: ChdbStore, sql: str, limits: QueryLimits = LIMITS) -> dict:
    return json.loads(store.operator_query(sql, "t" + os.urandom(4).hex(), limits))


def snapshot(place: Path) -> dict[str, tuple[int, int]]:
    """Every file outside the store: its size and mtime (the store's own files, merged in the
    background, are not walked)."""
    out = {}
    for root, dirs, files in os.walk(place):
        if Path(root) == place:
            dirs[:] = [d for d in dirs if d != "chdb"]
        for name in files:
            stat = os.stat(os.path.join(root, name))
            out[os.path.join(root, name)] = (stat.st_size, stat.st_mtime_ns)
    return out


def refused(store: ChdbStore, place: Path, sql: str) -> str:
    before = snapshot(place)
    with pytest.raises(QueryError) as caught:
        run(store, sql.format(canary=place / "canary.csv", out=place / "out.csv"))
    assert snapshot(place) == before
    return str(caught.value)


#: Table functions that touch files, the network, processes or other servers (and Python's memory).
OUTSIDE = [
    "file('{canary}', 'CSV')", "url('http://127.0.0.1:9/x', 'CSV')", "s3('http://127.0.0.1:9/bucket/x', 'CSV')",
    "s3Cluster('c', 'http://127.0.0.1:9/bucket/x', 'CSV')", "hdfs('hdfs://127.0.0.1:9/x', 'CSV')",
    "remote('127.0.0.1:9', system.one)", "remoteSecure('127.0.0.1:9', system.one)", "cluster('default', system.one)",
    "clusterAllReplicas('default', system.one)", "mysql('127.0.0.1:9', 'd', 't', 'u', 'p')",
    "postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')", "sqlite('{canary}', 't')", "odbc('DSN=x', 't')",
    "jdbc('jdbc:x', 't')", "mongodb('127.0.0.1:9', 'd', 'c', 'u', 'p', 'x String')",
    "redis('127.0.0.1:9', 'k', 'k String')", "azureBlobStorage('http://127.0.0.1:9', 'c', 'x')",
    "executable('cat {canary}', 'CSV', 'x String')", "input('x String')", "dictionary('d')",
    "Python(store)", "fileCluster('c', '{canary}')", "urlCluster('c', 'http://127.0.0.1:9/x')",
    "merge('system', '.*')", "mergeTreeIndex('ben', 'events')",
]


@pytest.mark.parametrize("function", OUTSIDE)
def test_table_functions_outside_the_allow_list_are_refused(store, place, function: str) -> None:
    message = refused(store, place, f"SELECT * FROM {function}")
    assert "refused by the query sandbox" in message and "table function" in message


@pytest.mark.parametrize("function", ["file", "url", "remote", "remoteSecure", "s3", "executable", "hdfs", "mysql",
                                      "postgresql", "sqlite", "azureBlobStorage", "dictionary"])
def test_the_engines_readonly_alone_refuses_them(store, place, monkeypatch, function: str) -> None:
    """With ben's allow-list check switched off, readonly = 1 still refuses each of these (the
    engine lets ``cluster`` and ``input`` run read-only: only the allow-list refuses those)."""
    monkeypatch.setattr(chdb_module, "check_ast", lambda explain, *system_tables: None)
    sql = next(f for f in OUTSIDE if f.startswith(function + "("))
    message = refused(store, place, f"SELECT * FROM {sql}")
    assert "READONLY" in message, message


@pytest.mark.parametrize("sql, expected", [
    ("SELECT 1 INTO OUTFILE '{out}'", "INTO OUTFILE"),
    ("select 1 into /* c */ OutFile '{out}' TRUNCATE FORMAT TSVRaw", "INTO OUTFILE"),
    ("SELECT 1 INTO OUTFILE '{out}' AND STDOUT", "INTO OUTFILE"),
    ("INSERT INTO ben.events FROM INFILE '{canary}' FORMAT CSV", "only read-only"),
    ("SELECT file('{canary}')", "function file()"),
    ("SELECT FILE('{canary}') AS x", "function FILE()"),
    ("SELECT length(file('{canary}'))", "function file()"),
    ("SELECT dictGet('d', 'x', toUInt64(1))", "function dictGet()"),
    ("SELECT 1 SETTINGS readonly = 0", "read-only"),
    ("SELECT count() FROM numbers(10) SETTINGS max_execution_time = 1000", "read-only"),
    ("SELECT 1 SETTINGS max_result_bytes = 0", "read-only"),
    ("SET readonly = 0", "only read-only"),
    ("INSERT INTO FUNCTION file('{out}', 'CSV') SELECT 1", "only read-only"),
    ("CREATE TABLE t (x String) ENGINE = File(CSV, '{canary}')", "only read-only"),
    ("CREATE DICTIONARY d (x String) PRIMARY KEY x SOURCE(FILE(path '{canary}' format 'CSV')) LAYOUT(FLAT()) "
     "LIFETIME(0)", "only read-only"),
    ("SELECT 1; SELECT * FROM file('{canary}', 'CSV')", "one statement"),
    ("SYSTEM SHUTDOWN", "only read-only"),
    ("SELECT * FROM `file`('{canary}', 'CSV')", "table function file()"),
    ("SELECT `file`('{canary}')", "function file()"),
    ("DESCRIBE file('{canary}', 'CSV')", "table function file()"),
    ("EXPLAIN SELECT * FROM url('http://127.0.0.1:9/x', 'CSV')", "table function url()"),
    ("SELECT (SELECT * FROM file('{canary}', 'CSV'))", "table function file()"),
    ("SELECT 1 WHERE EXISTS (SELECT * FROM file('{canary}', 'CSV'))", "table function file()"),
    ("SELECT * FROM numbers(1) AS n PASTE JOIN file('{canary}', 'CSV') AS f", "table function file()"),
    ("SELECT 1 FORMAT CSV", "FORMAT clause is not allowed"),
    ("select 1 format /* c */ TSVRaw", "FORMAT clause is not allowed"),
])
def test_clauses_and_functions_that_reach_outside_are_refused(store, place, sql: str, expected: str) -> None:
    assert expected in refused(store, place, sql)


def test_a_readonly_refusal_says_its_code_once() -> None:
    """chDB's readonly refusal of ``SELECT 1 SETTINGS max_threads = 8`` repeats its head: "Code: 164.
    DB::Exception: Code: 164. DB::Exception: Cannot modify ..." (ADR 0033, round 8)."""
    from ben.store.query import explain_error

    message = ("Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify 'max_threads' setting in readonly "
               "mode. (READONLY) (version 26.9.2.1). (READONLY)")
    said = str(explain_error(message, QueryLimits()))
    assert said.count("Code: 164") == 1 and said.startswith("refused by the query sandbox (read-only): Code: 164. "
                                                             "DB::Exception: Cannot modify 'max_threads'"), said


@pytest.mark.parametrize("sql", [
    "SELECT count() AS n FROM numbers(10)", "SELECT * FROM values('x Int8', 1, 2)",
    "SELECT * FROM generateRandom('x String') LIMIT 3", "SELECT * FROM view(SELECT 1 AS n)",
    "SELECT count() AS n FROM ben.events", "SHOW TABLES FROM ben", "DESCRIBE ben.events", "EXISTS ben.events",
    "WITH 1 AS x SELECT x AS n", "SELECT 'INTO OUTFILE' AS s", "SELECT 1 AS n UNION ALL SELECT 2",
    "SELECT format('{{}} {{}}', 'a', 'b') AS format", "SELECT 'x FORMAT CSV' AS s",
])
def test_harmless_statements_run(store, sql: str) -> None:
    assert run(store, sql)["data"]


def test_time_limit_names_the_setting(store) -> None:
    with pytest.raises(QueryError, match=r"^query cancelled after 2 s: max_execution_time"):
        run(store, "SELECT count() FROM numbers(1e13)")
    assert run(store, "SELECT 1 AS n")["data"] == [{"n": 1}]  # the sandbox works on after a failure


def test_result_limit_names_the_size(store) -> None:
    with pytest.raises(QueryError, match=r"^result over 1 MiB: max_result_bytes"):
        run(store, "SELECT * FROM numbers(1e7)")


# -- fuzzed: whatever the wrapping, nothing outside the store is read or written ----------------
PAYLOADS = [
    "file('{canary}', 'CSV')", "file('{canary}')", "url('file://{canary}', 'CSV')",
    "executable('cat {canary}', 'CSV', 'x String')", "view(SELECT * FROM file('{canary}', 'CSV'))",
    "numbers(3)", "values('x String', '{secret_like}')",
]
TAILS = ["", " INTO OUTFILE '{out}'", " INTO OUTFILE '{out}' TRUNCATE FORMAT TSVRaw", " FORMAT JSON",
         " SETTINGS readonly = 0", " SETTINGS allow_ddl = 1", "; SELECT * FROM file('{canary}', 'CSV')",
         " UNION ALL SELECT * FROM file('{canary}', 'CSV')", " LIMIT 1"]
comments = st.sampled_from(["", " ", "\n", "/* x */", "-- c\n", "/*/*nested*/*/", "\t"])


@st.composite
def statements(draw) -> str:
    payload = draw(st.sampled_from(PAYLOADS))
    payload = "".join(c.upper() if draw(st.booleans()) and c.isalpha() and i < 4 else c for i, c in enumerate(payload))
    column = draw(st.sampled_from(["*", "*", "file('{canary}') AS f", "length(fIlE('{canary}', 'x')) AS n",
                                   "arrayMap(p -> file(p), ['{canary}']) AS a"]))
    select = f"SELECT{draw(comments)} {column}{draw(comments)} FROM{draw(comments)} {payload}"
    for _ in range(draw(st.integers(0, 2))):
        select = draw(st.sampled_from([
            f"SELECT * FROM ({select})", f"WITH t AS ({select}) SELECT * FROM t",
            f"SELECT * FROM ({select}) WHERE 1 IN (SELECT 1)", f"SELECT count() FROM ({select})"]))
    return draw(comments) + select + draw(st.sampled_from(TAILS)) + draw(st.sampled_from(["", ";", " ; "]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sql=statements())
def test_fuzzed_statements_never_touch_a_file_outside_the_store(store, place, sql: str) -> None:
    before = snapshot(place)
    text = sql.format(canary=place / "canary.csv", out=place / "out.csv", secret_like="harmless")
    try:
        result = store.operator_query(text, "f" + os.urandom(4).hex(), LIMITS)
    except QueryError:
        result = b""
    assert SECRET.encode() not in result
    assert snapshot(place) == before


#: Functions whose engine documentation mentions files, URLs, requests, dictionaries or remote
#: servers, reviewed as harmless (they parse strings, or read the engine's own state).
REVIEWED_HARMLESS = {
    "URLHash", "assignCentroid", "currentRequestURL", "cutURLParameter", "domain", "domainWithoutWWW",
    "extractURLParameterNames", "extractURLParameters", "filesystemAvailable", "filesystemCapacity",
    "filesystemUnreserved", "firstSignificantSubdomainCustom", "firstSignificantSubdomainCustomRFC",
    "getClientHTTPHeader", "globalIn", "globalInIgnoreSet", "globalNotIn", "globalNotInIgnoreSet", "globalNotNullIn",
    "globalNotNullInIgnoreSet", "globalNullIn", "globalNullInIgnoreSet", "hostName", "joinGet", "joinGetOrNull",
    "lowCardinalityIndices", "lowCardinalityKeys", "port", "portRFC", "queryString", "regionToPopulation", "tokens",
    "topLevelDomain",
}


def test_every_function_that_may_reach_outside_was_reviewed(store) -> None:
    """A function the engine adds whose documentation speaks of files, URLs or servers fails this
    test until it is denied (ben.store.query.DENIED_*) or reviewed as harmless here."""
    from ben.store.query import DENIED_FUNCTIONS, DENIED_PREFIXES

    suspects = {name for (name,) in store.rows(
        "SELECT name FROM system.functions WHERE alias_to = '' AND (description ILIKE '%reads a file%' "
        "OR description ILIKE '%file system%' OR description ILIKE '%filesystem%' OR description ILIKE '% url %' "
        "OR description ILIKE '%http%request%' OR description ILIKE '%remote server%' "
        "OR description ILIKE '%user_files%' OR description ILIKE '%dictionary%' OR description ILIKE '%executable%' "
        "OR description ILIKE '%shell%' OR description ILIKE '%path to the file%' OR name ILIKE 'ai%')")}
    assert suspects, "the engine documents no function at all: the filter is broken"
    denied = {n for n in suspects if n.lower() in DENIED_FUNCTIONS or n.lower().startswith(DENIED_PREFIXES)}
    assert suspects - denied - REVIEWED_HARMLESS == set()
    assert "file" in denied and "aiGenerate" in denied


@pytest.mark.parametrize("sql", ["SELECT aiGenerate('http://127.0.0.1:9', 'x')", "SELECT AIEmbed('x', 'y')",
                                 "SELECT naiveBayesClassifier('m', 'x')"])
def test_functions_that_call_out_are_refused(store, place, sql: str) -> None:
    assert "refused by the query sandbox: function" in refused(store, place, sql)


@pytest.mark.parametrize("sql", ["SELECT 1 +", "SELECT FROM WHERE", "SELECT a.b FROM ben.events WHERE (", "SELECT (1"])
def test_a_syntax_error_is_short_and_names_only_the_users_sql(store: ChdbStore, sql: str) -> None:
    """The engine's "Expected one of:" list runs to dozens of items, and the sandbox's own check
    (formatQuerySingleLine) leaked into the message: the line says where the user's SQL failed, briefly."""
    with pytest.raises(QueryError) as caught:
        run(store, sql)
    message = str(caught.value)
    assert "Syntax error" in message and "\n" not in message, message
    assert "formatQuerySingleLine" not in message, message
    assert len(message) < 300 and message.count(",") <= 8, message
