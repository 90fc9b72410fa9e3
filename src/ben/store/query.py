"""Operator queries: one read-only statement at a time, in a sandbox, within limits (ADR 0032).

Three layers, each enough to refuse what it covers:

1. ``check_read_only`` (here, before anything runs): one statement, starting with a read-only
   keyword.
2. The engine's parser (``SandboxCheck``): the backend asks ClickHouse itself to parse the
   statement (``formatQuerySingleLine`` and ``EXPLAIN AST``), so comments, case, whitespace and
   nesting cannot hide anything; refused are ``INTO OUTFILE``/``INFILE``, every table function
   not in ``ALLOWED_TABLE_FUNCTIONS`` and the functions of ``DENIED_FUNCTIONS`` (``file()``, the
   scalar, reads any path in chDB, read-only or not).
3. The engine's settings: the statement runs on a session of its own with ``readonly = 1`` (no
   INSERT, DDL or SET, no SETTINGS clause that changes anything, every table function but the
   engine's harmless ones refused) and the limits of ``QueryLimits`` (``max_execution_time``,
   ``max_result_bytes`` with ``result_overflow_mode = 'throw'``), which the statement cannot lift.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from ben.core.query_tables import QUERY_SYSTEM_TABLES
from ben.core.errors import QueryError

READ_ONLY_STARTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")

#: Table functions an operator query may use: they generate values or read the store's own
#: tables. Every other one (file, url, s3, s3Cluster, hdfs, remote, remoteSecure, cluster, mysql,
#: postgresql, sqlite, odbc, jdbc, mongodb, redis, azureBlobStorage, executable, input,
#: dictionary, Python, and any the engine adds) is refused by name, and again by ``readonly``.
ALLOWED_TABLE_FUNCTIONS = frozenset({
    "numbers", "numbers_mt", "values", "generaterandom", "generateseries", "generate_series", "null", "view",
})

#: Ordinary functions that reach outside the store: refused wherever they appear.
DENIED_FUNCTIONS = frozenset({"file", "url", "s3", "remote", "executable"})
#: ... and every function whose name starts with one of these: dictGet and the like (a
#: dictionary's source may be a file, a URL or another server), the AI functions (aiGenerate,
#: aiEmbed, ...: they send data to a model's endpoint), naiveBayesClassifier (models from files),
#: filesystemAvailable and the like (the host's disk sizes; ADR 0045, round 4).
DENIED_PREFIXES = ("dict", "ai", "naivebayes", "filesystem")
#: Functions that read a ``system`` table the operator may not (``SYSTEM_TABLES``) one value at a time:
#: getServerSetting (``system.server_settings``: the engine's paths), getMergeTreeSetting
#: (``system.merge_tree_settings``), getMacro (``system.macros``); ADR 0045, round 7.
DENIED_MIRRORS = frozenset({"getserversetting", "getmergetreesetting", "getmacro"})
#: Functions that answer the host's or the engine's own facts rather than the store's: the host's name
#: (hostName, FQDN), its kernel, how long the store process runs, the engine's identity, build and ports, the
#: engine's user, profiles and roles, its TLS certificate, a thread's id (ADR 0045, round 9). ``version()``
#: and ``timezone()`` stay (results are read with them).
DENIED_HOST = frozenset({
    "hostname", "fqdn", "fullhostname", "displayname", "getoskernelversion", "uptime", "serveruuid", "buildid",
    "tcpport", "getserverport", "currentuser", "current_user", "user", "authuser", "authenticateduser",
    "session_user", "currentprofiles", "enabledprofiles", "defaultprofiles", "currentroles", "enabledroles",
    "defaultroles", "showcertificate", "tid", "zookeepersessionuptime",
})
#: Columns of the allowed ``system`` tables that hold the engine's paths on the host (``system.parts.path``,
#: ``tables.data_paths``, ``databases.data_path``...: what ``getServerSetting('path')`` told, round 7): a statement
#: naming one of these tables may neither name such a column nor read all columns (``*``, ``COLUMNS(...)``).
PATH_COLUMNS = {"parts": ("path",), "tables": ("data_paths", "metadata_path"),
                "databases": ("data_path", "metadata_path")}
_PATH_NAMES = frozenset(name for names in PATH_COLUMNS.values() for name in names)
#: ``SHOW`` statements the engine answers from a ``system`` table its parse does not name.
_SHOW_TABLE = re.compile(r"^\s*SHOW\s+(?:(CLUSTERS?)|(MERGES)|(FILESYSTEM\s+CACHES?)|(DICTIONARIES))\b", re.IGNORECASE)
_SHOW_TABLES = ("clusters", "merges", "filesystem_cache", "dictionaries")
#: The same functions found in raw text (a ClickHouse server: no ``EXPLAIN AST`` to ask), a name then ``(``.
_HOST_CALL = re.compile(r"(?<![\w.])[`\"]?(" + "|".join(sorted(DENIED_HOST)) + r")[`\"]?\s*\(", re.IGNORECASE)

#: The engine's ``system`` tables an operator query may read (``[spine.store] query_system_tables``, ADR 0045
#: round 4). Every other one is refused by name, including any table the engine adds later.
SYSTEM_TABLES = QUERY_SYSTEM_TABLES

#: The comment that starts every operator statement (the engine's query text): ``cancel`` finds
#: the statement by it, and nothing a user writes can come before it.
MARK = "/* ben-query:{} */ "


@dataclass(frozen=True)
class QueryLimits:
    """The limits of one operator query, enforced by the engine (``[spine.store]`` query_*)."""

    timeout_s: float = 60.0
    max_result_bytes: int = 256 << 20
    max_memory_bytes: int = 1 << 30
    #: The ``system`` tables a statement may name (lower case; ``SYSTEM_TABLES`` by default).
    system_tables: tuple[str, ...] = SYSTEM_TABLES

    def settings(self) -> dict[str, object]:
        """The engine settings that enforce them (applied before ``readonly = 1``)."""
        return {"max_execution_time": self.timeout_s, "timeout_overflow_mode": "throw",
                "max_result_bytes": self.max_result_bytes, "result_overflow_mode": "throw",
                "max_memory_usage": self.max_memory_bytes,
                "allow_ddl": 0, "allow_introspection_functions": 0}


def new_query_id() -> str:
    return secrets.token_hex(8)


def _strip_literals(sql: str) -> str:
    """The SQL with quoted strings and identifiers blanked, so ';' inside them is ignored."""
    out, quote, i = [], "", 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
            out.append(" ")
        elif ch in "'\"`":
            quote = ch
            out.append(" ")
        else:
            out.append(ch)
        i += 1
    if quote:
        raise QueryError(f"unterminated {quote} quote in query")
    return "".join(out)


def _strip_leading_comments(text: str) -> str:
    """The statement without the -- and /* */ comments before its first word."""
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            text = text.partition("\n")[2]
        elif text.startswith("/*"):
            end = text.find("*/")
            if end < 0:
                raise QueryError("unterminated /* comment in query")
            text = text[end + 2:]
        else:
            return text


def check_read_only(sql: str) -> str:
    """Return the statement, stripped of leading comments and a trailing ';', or raise QueryError naming the problem."""
    text = _strip_leading_comments(sql).rstrip().rstrip(";").strip()
    if not text:
        raise QueryError("query is empty")
    if ";" in _strip_literals(text):
        raise QueryError("one statement per query (found ';' between statements)")
    first = text.split(None, 1)[0].upper()
    if first not in READ_ONLY_STARTS:
        raise QueryError(f"only read-only queries are allowed ({', '.join(READ_ONLY_STARTS)}); got {first}")
    return text


def quote(text: str) -> str:
    """A ClickHouse string literal holding text."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_NODE = re.compile(r"^( *)(\w+)(?: (\S+))?")
_OUTFILE = re.compile(r"\bINTO\s+OUTFILE\b|\bFROM\s+INFILE\b", re.IGNORECASE)


_FORMAT = re.compile(r"\bFORMAT\s+\w+")  # the keyword, in capitals in the engine's formatting


def check_canonical(formatted: str) -> None:
    """Refuse a statement whose engine-formatted text (``formatQuerySingleLine``) writes or reads a
    file, or names its output format (ben reads JSON; ``ben query --json`` prints rows as JSON)."""
    text = _strip_literals(formatted)
    found = _OUTFILE.search(text)
    if found:
        raise QueryError(f"refused by the query sandbox: {' '.join(found.group(0).upper().split())} "
                         "(queries never read or write files)")
    if _FORMAT.search(text):
        raise QueryError("a FORMAT clause is not allowed: ben chooses the output format "
                         "(ben query --json prints rows as JSON)")


def check_no_file_words(sql: str) -> None:
    """Refuse raw statement text with the word OUTFILE or INFILE outside quotes (where the engine
    cannot format the statement first: the ClickHouse server backend). Errs on the side of refusing."""
    found = re.search(r"\b(OUTFILE|INFILE)\b", _strip_literals(sql), re.IGNORECASE)
    if found:
        raise QueryError(f"refused by the query sandbox: {found.group(1).upper()} (queries never read or write files)")


def _system_table(table: str, allowed: tuple[str, ...]) -> None:
    if table.lower() not in allowed:
        raise QueryError(f"refused by the query sandbox: table system.{table} is not one an operator query may "
                         f"read (allowed: {', '.join(allowed) or 'none'}; spine.store.query_system_tables)")


def _host_function(name: str) -> QueryError:
    return QueryError(f"refused by the query sandbox: function {name}() tells the host's or the engine's own facts "
                      "(its name, kernel, identity, users), which operator queries do not read")


def _code_only(sql: str) -> str:
    """The SQL with string literals and comments blanked; quoted identifiers kept (`` `hostName`() `` calls)."""
    out, i, n = [], 0, len(sql)
    while i < n:
        ch, two = sql[i], sql[i:i + 2]
        if ch == "'":
            j = i + 1
            while j < n and sql[j] != "'":
                j += 2 if sql[j] == "\\" else 1
            end = j + 1
        elif two == "/*":
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif two == "--" or ch == "#":
            end = sql.find("\n", i)
            end = n if end < 0 else end
        else:
            out.append(ch)
            i += 1
            continue
        out.append(" ")
        i = end
    return "".join(out)


def check_host_calls(sql: str) -> None:
    """Refuse raw statement text calling a function of ``DENIED_HOST`` outside strings and comments (a ClickHouse
    server, where the engine cannot parse the statement for the sandbox first). Errs on the side of refusing."""
    found = _HOST_CALL.search(_code_only(sql))
    if found:
        raise _host_function(found.group(1))


def check_show(sql: str, system_tables: tuple[str, ...] = SYSTEM_TABLES) -> None:
    """Refuse ``SHOW CLUSTERS``, ``MERGES``, ``FILESYSTEM CACHES``, ``DICTIONARIES`` unless the ``system`` table
    the engine reads for it is allowed (its parse is ``ShowTables``, which names no table)."""
    found = _SHOW_TABLE.match(sql)
    if found:
        _system_table(next(t for t, g in zip(_SHOW_TABLES, found.groups()) if g), system_tables)


def check_ast(explain: list[str], system_tables: tuple[str, ...] = SYSTEM_TABLES) -> None:
    """Refuse a statement whose ``EXPLAIN AST`` (the engine's parse, one node a line) uses a table
    function outside ``ALLOWED_TABLE_FUNCTIONS``, a function of ``DENIED_FUNCTIONS`` or ``DENIED_HOST``, a
    ``system`` table outside ``system_tables`` (wherever it is named: a join, a subquery, ``view()``,
    ``DESCRIBE``), or a path column of ``PATH_COLUMNS`` (by name, or all columns) beside its table."""
    parents: list[tuple[int, str]] = []  # (indent, node kind) of the path to the current node
    path_table, every_column, path_column = "", False, ""
    for line in explain:
        match = _NODE.match(line)
        if match is None:
            continue
        indent, kind, name = len(match.group(1)), match.group(2), match.group(3) or ""
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if kind == "TableIdentifier" and "." in name:
            database, _, table = name.partition(".")
            if database.strip("`\"").lower() == "system":
                _system_table(table.strip("`\""), system_tables)
                if table.strip("`\"").lower() in PATH_COLUMNS:
                    path_table = table.strip("`\"").lower()
        elif "Asterisk" in kind or "Matcher" in kind:
            every_column = True
        elif kind == "Identifier" and name.rpartition(".")[2].strip("`\"").lower() in _PATH_NAMES:
            path_column = name.rpartition(".")[2].strip("`\"")
        elif kind == "ShowProcesslistQuery":  # SHOW PROCESSLIST reads system.processes
            _system_table("processes", system_tables)
        if kind == "Function":
            lowered = name.lower()
            if parents and parents[-1][1] == "TableExpression":
                if lowered not in ALLOWED_TABLE_FUNCTIONS:
                    raise QueryError(f"refused by the query sandbox: table function {name}() (allowed: "
                                     f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))})")
            elif lowered in DENIED_FUNCTIONS or lowered.startswith(DENIED_PREFIXES):
                raise QueryError(f"refused by the query sandbox: function {name}() reaches outside the store")
            elif lowered in DENIED_MIRRORS:
                raise QueryError(f"refused by the query sandbox: function {name}() reads a system table an operator "
                                 "query may not (spine.store.query_system_tables)")
            elif lowered in DENIED_HOST:
                raise _host_function(name)
        parents.append((indent, kind))
    if path_table and (every_column or path_column):
        what = f"column {path_column}" if path_column else "all columns (* or COLUMNS())"
        raise QueryError(f"refused by the query sandbox: {what} beside system.{path_table}: the engine's paths on the "
                         f"host are not read by operator queries (name the columns wanted, but not "
                         f"{', '.join(sorted(_PATH_NAMES))})")


#: ClickHouse error codes an operator sees explained.
_TIMEOUT, _CANCELLED, _TOO_BIG, _READONLY, _MEMORY = 159, 394, 396, 164, 241


def explain_error(message: str, limits: QueryLimits, *, cancelled: bool = False) -> QueryError:
    """The engine's error for an operator query, as an operator should read it."""
    first = " ".join(message.split("Stack trace:")[0].split())
    first = re.sub(r":? In scope SELECT formatQuerySingleLine\(.*?\)(?=\. \()", "", first)  # the sandbox's check
    first = re.sub(r"Expected one of: ([^.]*)", _few_expected, first)[:600]
    first = re.sub(r"^(Code: \d+\. DB::Exception: )\1", r"\1", first)  # chDB's readonly refusal said it twice
    code = re.search(r"Code: (\d+)", first)
    number = int(code.group(1)) if code else 0
    if number == _TIMEOUT or "TIMEOUT_EXCEEDED" in first:
        return QueryError(f"query cancelled after {limits.timeout_s:g} s: max_execution_time "
                          "(spine.store.query_timeout_s)")
    if number == _TOO_BIG or "TOO_MANY_ROWS_OR_BYTES" in first:
        return QueryError(f"result over {_size(limits.max_result_bytes)}: max_result_bytes "
                          "(spine.store.query_max_result_bytes; add a LIMIT or aggregate)")
    if number == _MEMORY or "MEMORY_LIMIT_EXCEEDED" in first:
        return QueryError(f"query used over {_size(limits.max_memory_bytes)} of memory: max_memory_usage "
                          "(spine.store.query_max_memory_bytes; aggregate less or add a LIMIT)")
    if number == _CANCELLED or cancelled:
        return QueryError("query cancelled: the client went away or was interrupted")
    if number == _READONLY:
        return QueryError(f"refused by the query sandbox (read-only): {first}")
    return QueryError(first)


def _few_expected(found: re.Match) -> str:
    """A syntax error's "Expected one of:" list cut to its first items (it runs to dozens, past the line)."""
    items = [item.strip() for item in found.group(1).split(",") if item.strip()]
    return "Expected one of: " + ", ".join(items[:6]) + (f" (and {len(items) - 6} more)" if len(items) > 6 else "")


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"
