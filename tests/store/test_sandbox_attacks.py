"""The attack matrix (ADR 0045, 2026-12-06), continued on the operator's query path: table functions,
statements hidden in comments or EXPLAIN/DESCRIBE, settings the statement tries to lift, against a
real spine and its chDB store process (``tests/test_attack_matrix.py``'s rig).
``docs/security.md`` maps each cell to its test.
"""

from __future__ import annotations

import pytest

from ben.core.admin import run_query
from ben.core.errors import QueryError
from tests.test_attack_matrix import Rig, rig  # noqa: F401 - the module's rig fixture

REFUSED = [  # (statement, a word of the refusal)
    *((f"SELECT * FROM {f}", f"table function {f.split('(')[0]}()") for f in (
        "mysql('127.0.0.1:9', 'd', 't', 'u', 'p')", "postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')", "jdbc('x', 'y')",
        "input('a String')", "hdfs('hdfs://127.0.0.1:9/x', 'CSV', 'a String')", "remoteSecure('127.0.0.1:9', system.one)",
        "urlCluster('default', 'http://127.0.0.1:9/', 'CSV', 'a String')", "sqlite('/etc/passwd', 't')",
        "mongodb('127.0.0.1:9', 'd', 'c', 'u', 'p', 'x String')", "redis('127.0.0.1:9', 'k', 'k String')",
        "azureBlobStorage('http://127.0.0.1:9', 'c', 'b')", "icebergS3('http://127.0.0.1:9/x')",
        "merge('system', '^one$')", "format(CSV, 'a')", "Python('x')")),
    ("SELECT * FROM view(SELECT * FROM file('/etc/passwd', 'LineAsString'))", "table function file()"),
    ("SELECT * FROM (SELECT * FROM file('/etc/passwd', 'LineAsString'))", "table function file()"),
    ("DESCRIBE TABLE file('/etc/passwd', 'LineAsString')", "table function file()"),
    ("EXPLAIN ESTIMATE SELECT * FROM file('/etc/passwd', 'LineAsString')", "table function file()"),
    ("EXPLAIN PIPELINE SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')", "table function url()"),
    ("SELECT 1 /* hidden */ ; DROP TABLE ben.events", "one statement"),
    ("SELECT 1 -- hidden\n; DROP TABLE ben.events", "one statement"),
    ("SELECT 1 SETTINGS max_execution_time = 0", "READONLY"),
    ("SELECT 1 SETTINGS max_result_bytes = 0", "READONLY"),
    ("SELECT * FROM numbers(10) SETTINGS result_overflow_mode = 'break'", "READONLY"),
    ("SELECT 1 SETTINGS max_threads = 10000", "READONLY"),
    ("SELECT repeat('a', 1000000000)", "max_memory_usage"),
    ("SELECT count() FROM numbers_mt(10000000000000)", "max_execution_time"),
    # round 7 (held): lookalike letters, a NUL, '#' comments, nesting and length the parser bounds
    ("SELECT \uff46\uff49\uff4c\uff45('/etc/passwd')", "SYNTAX_ERROR"),
    ("SELECT 1\x00; DROP TABLE ben.events", "one statement"),
    ("SELECT 1 # '\n; DROP TABLE ben.events; SELECT '", "Multi-statements"),
    ("SELECT 1 #! '\n; SELECT file('/etc/passwd'); SELECT '", "Multi-statements"),
    ("SELECT " + "(" * 5000 + "1" + ")" * 5000, "max_parser_depth"),
    ("SELECT " + "+".join(["1"] * 200_000), "max_query_size"),
]


@pytest.mark.parametrize("sql, word", REFUSED, ids=[s[:48] for s, _ in REFUSED])
def test_the_operator_query_path_refuses(rig: Rig, sql: str, word: str) -> None:  # noqa: F811
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    assert word.lower() in str(err.value).lower(), err.value
    assert run_query(rig.cluster.spine_addr, "SELECT count() FROM ben.events", timeout=60)  # the table is still there


SYSTEM_REFUSED = [  # (statement, the system table the refusal names)
    ("SELECT * FROM system.stack_trace", "stack_trace"),
    ("SELECT name, path, free_space FROM system.disks", "disks"),
    ("SELECT * FROM system.server_settings", "server_settings"),
    ("SELECT query FROM system.processes", "processes"),
    ("SELECT query FROM system.query_log", "query_log"),
    ("SHOW PROCESSLIST", "processes"),
    ("SELECT * FROM `system`.`disks`", "disks"),
    ("DESCRIBE TABLE system.disks", "disks"),
    ("SELECT count() FROM ben.events AS e JOIN system.disks AS d ON 1", "disks"),
    ("SELECT (SELECT count() FROM system.stack_trace)", "stack_trace"),
    ("WITH x AS (SELECT * FROM system.disks) SELECT * FROM x", "disks"),
    ("SELECT * FROM view(SELECT * FROM system.server_settings)", "server_settings"),
    ("EXPLAIN SELECT * FROM system.disks", "disks"),
    ("SELECT * FROM system.users", "users"),
]
#: Round 7: functions reading a refused system table one value at a time (getServerSetting('path') answered
#: the engine's data path, as system.server_settings did before round 4).
MIRRORS = ["SELECT getServerSetting('path')", "SELECT getMergeTreeSetting('index_granularity')",
           "SELECT getMacro('shard')", "SELECT number FROM numbers(1) WHERE getServerSetting('path') != ''"]


@pytest.mark.parametrize("sql", MIRRORS)
def test_the_operator_cannot_read_refused_system_tables_through_functions(rig: Rig, sql: str) -> None:  # noqa: F811
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    assert "reads a system table" in str(err.value) and "spine.store.query_system_tables" in str(err.value), err.value


FILESYSTEM = ["SELECT filesystemAvailable()", "SELECT filesystemCapacity()", "SELECT filesystemUnreserved()"]


@pytest.mark.parametrize("sql", FILESYSTEM)
def test_the_operator_cannot_read_the_host_s_disk_sizes(rig: Rig, sql: str) -> None:  # noqa: F811
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    assert f"function {sql[7:-2]}() reaches outside the store" in str(err.value), err.value


@pytest.mark.parametrize("sql, table", SYSTEM_REFUSED, ids=[s[:48] for s, _ in SYSTEM_REFUSED])
def test_the_operator_reads_only_the_allowed_system_tables(rig: Rig, sql: str, table: str) -> None:  # noqa: F811
    """ADR 0045 round 4: ``system`` tables outside ``[spine.store] query_system_tables`` are refused by the
    sandbox, the refusal naming the table and the option (they answered: thread names, paths, disk sizes)."""
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    assert f"table system.{table} " in str(err.value) and "spine.store.query_system_tables" in str(err.value), err.value


def test_the_allowed_system_tables_still_answer(rig: Rig) -> None:  # noqa: F811
    out = run_query(rig.cluster.spine_addr, "SELECT count() AS n FROM system.tables WHERE database = 'ben'", timeout=60)
    assert b'"n"' in out or '"n"' in str(out)
    assert run_query(rig.cluster.spine_addr, "SELECT dummy FROM system.one", timeout=60)
