"""The attack matrix, round 9 (ADR 0045): an operator's query learns nothing of the host through the engine.

``hostName()``, ``getOSKernelVersion()`` and their kin answered the host's name, kernel, the engine's
identity and user; ``system.parts.path``, ``system.tables.data_paths`` and ``system.databases.data_path``
answered the store's path on the host (what ``getServerSetting('path')`` told before round 7 refused it);
``SHOW CLUSTERS`` and ``SHOW MERGES`` read ``system`` tables the allow-list refuses. Real chDB and a real
ClickHouse server (Debian's 18.16: no ``EXPLAIN AST``, so the functions are found in the text).
"""

from __future__ import annotations

import json
import os

import pytest

from ben.core.errors import QueryError
from ben.store import ClickHouseStore
from ben.store.chdb import ChdbStore
from ben.store.query import QueryLimits, check_host_calls

LIMITS = QueryLimits(timeout_s=20.0, max_result_bytes=1 << 20)

HOST_FUNCTIONS = ["SELECT hostName()", "SELECT hostname()", "SELECT FQDN()", "SELECT fullHostName()",
                  "SELECT getOSKernelVersion()", "SELECT uptime()", "SELECT serverUUID()", "SELECT displayName()",
                  "SELECT buildId()", "SELECT currentUser()", "SELECT user()", "SELECT currentProfiles()",
                  "SELECT currentRoles()", "SELECT tcpPort()", "SELECT tid()",
                  "SELECT `hostName`()", "SELECT HOSTNAME /* c */ ()", "SELECT lower(hostName()) AS h",
                  "SELECT count() FROM ben.events WHERE body = hostName()",
                  "SELECT * FROM view(SELECT getOSKernelVersion() AS k)", "WITH hostName() AS h SELECT h"]
PATHS = ["SELECT path FROM system.parts", "SELECT p.`path` FROM system.parts AS p",
         "SELECT * FROM system.parts", "SELECT t.* FROM system.tables AS t", "SELECT COLUMNS('pa') FROM system.parts",
         "SELECT data_paths FROM system.tables", "SELECT metadata_path FROM system.tables",
         "SELECT name, data_path FROM system.databases", "SELECT * EXCEPT (uuid) FROM system.databases",
         "SELECT count() FROM system.parts WHERE path LIKE '/root/%'",
         "SELECT * FROM (SELECT * FROM system.tables)"]
SHOWS = [("SHOW CLUSTERS", "clusters"), ("SHOW MERGES", "merges"), ("SHOW FILESYSTEM CACHES", "filesystem_cache"),
         ("SHOW DICTIONARIES", "dictionaries")]
ANSWER = ["SELECT version()", "SELECT timezone()", "SELECT getSetting('max_threads')",
          "SELECT database, table, sum(rows) FROM system.parts GROUP BY database, table",
          "SELECT name, engine FROM system.tables WHERE database = 'ben'", "SELECT name FROM system.databases",
          "SELECT 'hostName()' AS s", "SELECT 1 AS hostname", "SHOW TABLES FROM ben", "SHOW DATABASES"]


@pytest.fixture(scope="module")
def chdb_store(tmp_path_factory):
    opened = ChdbStore(tmp_path_factory.mktemp("facts") / "chdb")
    yield opened
    opened.close()


def run(store, sql: str) -> dict:
    return json.loads(store.operator_query(sql, "f" + os.urandom(4).hex(), LIMITS))


@pytest.mark.parametrize("sql", HOST_FUNCTIONS)
def test_the_host_s_facts_are_refused_on_chdb(chdb_store: ChdbStore, sql: str) -> None:
    with pytest.raises(QueryError, match=r"refused by the query sandbox: function \w+\(\) tells the host"):
        run(chdb_store, sql)


@pytest.mark.parametrize("sql", PATHS)
def test_the_store_s_paths_are_refused_on_chdb(chdb_store: ChdbStore, sql: str) -> None:
    with pytest.raises(QueryError, match=r"refused by the query sandbox: .* beside system\.\w+: the engine's paths"):
        run(chdb_store, sql)


@pytest.mark.parametrize("sql, table", SHOWS)
def test_show_statements_read_only_allowed_system_tables(chdb_store: ChdbStore, sql: str, table: str) -> None:
    with pytest.raises(QueryError, match=f"table system.{table} is not one") as err:
        run(chdb_store, sql)
    assert "spine.store.query_system_tables" in str(err.value)
    allowing = QueryLimits(timeout_s=20.0, max_result_bytes=1 << 20, system_tables=LIMITS.system_tables + (table,))
    json.loads(chdb_store.operator_query(sql, "g" + os.urandom(4).hex(), allowing))  # allowed, it answers


@pytest.mark.parametrize("sql", ANSWER)
def test_what_the_store_tells_still_answers(chdb_store: ChdbStore, sql: str) -> None:
    answer = run(chdb_store, sql)
    assert "data" in answer and not any(str(chdb_store.path) in json.dumps(row) for row in answer["data"])


@pytest.fixture
def server_store(clickhouse):
    store = ClickHouseStore(clickhouse.host, clickhouse.port)
    yield store
    store.close()


@pytest.mark.parametrize("sql", HOST_FUNCTIONS[:4] + ["SELECT uptime()", "SELECT `hostName`()",
                                                      "SELECT HOSTNAME /* c */ ()"])
def test_the_host_s_facts_are_refused_on_a_server(server_store, sql: str) -> None:
    with pytest.raises(QueryError, match=r"function \w+\(\) tells the host"):
        server_store.operator_query(sql, "s" + os.urandom(4).hex(), LIMITS)
    assert json.loads(server_store.operator_query("SELECT version() AS v, 'hostName()' AS s -- uptime()\n",
                                                  "s" + os.urandom(4).hex(), LIMITS))["data"][0]["s"] == "hostName()"


@pytest.mark.parametrize("text", ["SELECT 'hostName()'", "SELECT 1 -- hostName()", "SELECT 1 /* uptime() */",
                                  "SELECT hostname FROM t", "SELECT my_hostName()", "SELECT x.uptime FROM t",
                                  "SELECT '\\' hostName()'", "SELECT 1 # tid()"])
def test_the_text_check_reads_past_strings_and_comments(text: str) -> None:
    check_host_calls(text)  # none of these calls a host function
