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
]


@pytest.mark.parametrize("sql, word", REFUSED, ids=[s[:48] for s, _ in REFUSED])
def test_the_operator_query_path_refuses(rig: Rig, sql: str, word: str) -> None:  # noqa: F811
    with pytest.raises(QueryError) as err:
        run_query(rig.cluster.spine_addr, sql, timeout=120)
    assert word.lower() in str(err.value).lower(), err.value
    assert run_query(rig.cluster.spine_addr, "SELECT count() FROM ben.events", timeout=60)  # the table is still there
