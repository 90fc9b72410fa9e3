from __future__ import annotations

import pytest

from ben.core.errors import QueryError
from ben.store.query import check_read_only


@pytest.mark.parametrize("sql, expected", [
    ("SELECT 1", "SELECT 1"),
    ("  select count() from ben.events ;  ", "select count() from ben.events"),
    ("WITH 1 AS x SELECT x", "WITH 1 AS x SELECT x"),
    ("SELECT 'a;b' AS s", "SELECT 'a;b' AS s"),
    ("SHOW TABLES FROM ben", "SHOW TABLES FROM ben"),
    ("-- a comment\n/* another */ SELECT 1", "SELECT 1"),
])
def test_read_only_statements_pass(sql: str, expected: str) -> None:
    assert check_read_only(sql) == expected


@pytest.mark.parametrize("sql, message", [
    ("", "empty"),
    ("DROP TABLE ben.events", "only read-only"),
    ("INSERT INTO ben.events VALUES (1)", "only read-only"),
    ("SELECT 1; DROP TABLE ben.events", "one statement"),
    ("SELECT 'unterminated", "unterminated"),
    ("-- only a comment", "empty"),
    ("/* DROP", "unterminated /\\*"),
    ("-- SELECT\nDROP TABLE ben.events", "only read-only"),
])
def test_other_statements_are_refused(sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        check_read_only(sql)
