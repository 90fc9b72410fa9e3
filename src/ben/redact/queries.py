"""Secrets as databases, their drivers and their ORMs write them down (ADR 0030, revision 16).

A statement's secret is often apart from the word that names it, or named by no word at all:

    bound parameters     the statement with placeholders and the values apart, as drivers and ORMs log them:
                         PostgreSQL's ``DETAIL:  parameters: $1 = 'v'``, Hibernate's ``binding parameter [1] as
                         [VARCHAR] - [v]``, Spring's ``column index 1, parameter value [v]``, a list after the
                         statement (Django's ``args=(…)``, Prisma's ``Params: […]``, knex's ``bindings […]``, Laravel's
                         ``"bindings":[…]``, Ecto's ``[…]``, pgx's ``args="[v 42]"``); the placeholder's column
                         (``"api_token" = $1``, ``(token, …) VALUES (?, …)``) names the value
    constraint errors    ``Key (token)=(v) already exists``, ``Duplicate entry 'v' for key 'api_keys.secret'``
    quoted columns       ```password` = 'v'``, ``"session_token" = 'v'``, ``[secret] = N'v'`` (MySQL's backticks,
                         SQL's double quotes and brackets around a column the pair rules read bare); a many-row
                         ``INSERT``'s later rows (``layouts`` reads the first)
    positional SQL       ``IDENTIFIED BY "n" REPLACE "o"``, ``SET PASSWORD FROM 'o' TO 'n'``, DB2's ``CONNECT TO db
                         USER u USING pw``, ``PRAGMA key = 'k'``, ``pgp_sym_decrypt(col, 'k')``, ``AES_DECRYPT(col,
                         'k')``, ``DecryptByPassPhrase('k', …)``, ClickHouse's ``mysql('h', 'db', 't', 'u', 'pw')``,
                         a password key's T-SQL literal ``@rmtpassword = N'v'``
    stores' commands     Redis' argument lists as ``MONITOR``, ``SLOWLOG GET``, the AOF and the prompt write them
                         (``AUTH [u] pw``, ``HELLO 3 AUTH u pw``, ``CONFIG SET requirepass pw``, ``ACL SETUSER u >pw``,
                         ``MIGRATE … AUTH2 u pw``, ``SENTINEL SET m auth-pass pw``, ``HSET k api_key v``); MongoDB's ``changeUserPassword("u", "pw")``;
                         LDAP binds (python-ldap's ``simple_bind_s(('dn', 'pw'…``, ldap3's ``'simple': 'pw'``);
                         Elasticsearch's ``"encoded"`` API key after its ``"api_key"``; DynamoDB's ``"token": {"S": "v"}``
    mysql's history      ``~/.mysql_history`` writes a space as ``\\040``: read with spaces in their place

A value must look like a credential (``layouts.value_ok``: not a placeholder, a word, a number or a date).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ben.redact.layouts import _value_ok as value_ok, is_secret_key

_Q = r"""(?:N?'(?P<{0}a>(?:[^'\\\r\n]|''|\\.){{1,400}}?)'(?!')|"(?P<{0}d>(?:[^"\\\r\n]|\\.){{1,400}}?)")"""
#: Statements that hold a password or a key at a place no key word names.
POSITIONAL = re.compile(
    rf"(?i:\bidentified\s+by\s+(?:\"[^\"\r\n]{{0,400}}\"|'[^'\r\n]{{0,400}}'|\S+)\s+replace\s+){_Q.format('rp')}"   # Oracle, Vertica
    rf"|(?i:\bpassword\s+from\s+){_Q.format('nf')}(?i:\s+to\s+){_Q.format('nt')}"                  # Neo4j
    rf"|(?i:\bconnect\s+to\s+\S+\s+user\s+\S+\s+using\s+)(?:{_Q.format('db')}|(?P<dbu>[^\s;'\"]{{4,400}}))"   # DB2
    rf"|(?i:\bpragma\s+(?:\w+\.)?(?:re)?key\s*=\s*){_Q.format('pk')}"                              # SQLCipher
    rf"|(?i:\b(?:pgp_sym_(?:en|de)crypt(?:_bytea)?|aes_(?:en|de)crypt|des_(?:en|de)crypt)\s*\(\s*)"
    rf"[^,()'\"\r\n]{{1,200}}(?:\([^()\r\n]{{0,200}}\))?\s*,\s*{_Q.format('fn')}"                   # pgcrypto, MySQL
    rf"|(?i:\b(?:en|de)cryptbypassphrase\s*\(\s*){_Q.format('bp')}"                                # SQL Server
    rf"|(?i:\b(?:mysql|postgresql|mongodb|remote(?:secure)?)\s*\(\s*)(?:'[^'\r\n]{{0,200}}'\s*,\s*){{4}}{_Q.format('tf')}"   # ClickHouse
    rf"|(?<![\w@])@?\w{{0,40}}(?i:password|passwd|pwd|secret)\w{{0,20}}\s*=\s*N'(?P<tn>(?:[^'\r\n]|''){{1,400}})'")   # T-SQL N'…'
_POS_GROUPS = tuple(g for g in POSITIONAL.groupindex)

#: A column in backticks, double quotes or brackets compared with or set to a literal.
QUOTED_COLUMN = re.compile(r"""(?:`(?P<cb>[\w$]{1,64})`|\\?"(?P<cd>[\w$]{1,64})\\?"|\[(?P<cs>[\w$]{1,64})\])\s{0,3}(?:=|<>|!=)\s{0,3}"""
                           r"""N?(?P<e>\\?)'(?P<v>(?:[^'\\\r\n]|''|\\(?!'))+)(?P=e)'""")

_KEY_EXISTS = re.compile(r"\bKey \((?P<c>[\w$\", ]{1,200})\)=\((?P<v>[^()\r\n]{1,400})\) already exists")
_DUPLICATE = re.compile(r"\bDuplicate entry '(?P<v>(?:[^'\\\r\n]|\\.){1,400})' for key '(?:[\w$]+\.)?(?P<c>[\w$]{1,64})'")

# -- bound parameters --------------------------------------------------------------------------------------------
_STATEMENT = re.compile(r"(?i)\b(?:select|insert|update|delete|replace|merge|upsert)\b[^\r\n]{0,4000}")
_PLACEHOLDER = re.compile(r"\$(?P<n>[0-9]{1,3})(?![0-9])|\?|%s|%\((?P<name>\w{1,64})\)s|(?<![\w@])@(?P<at>[A-Za-z_]\w{0,63})")
_COL = r"""(?:\\?[`"\[]?[\w$]{1,64}\\?[`"\]]?\.)?\\?[`"\[]?(?P<col>[\w$]{1,64})\\?[`"\]]?"""
_COMPARED = re.compile(_COL + r"""\s{0,3}(?:=|<>|!=|(?i:\s+like))\s{0,3}(?=\$[0-9]|\?|%s|%\(|@[A-Za-z_])""")
_INSERT = re.compile(r"""(?i)\binsert\s+into\s+[\w."`\[\]]+\s*\((?P<cols>[^()]{1,400})\)\s*values\s*\(""")
_AFTER_VALUES = re.compile(r"(?i)\b(?:on|returning|where|select|output)\b")
_NAME_COLS, _VALUE_COLS = ("name", "key", "setting", "param", "parameter"), ("value", "val", "setting_value")
#: Where a statement's parameters are written apart from it.
_PG_PARAM = re.compile(r"\$(?P<n>[0-9]{1,3}) = '(?P<v>(?:[^'\r\n]|''){0,400})'")
_BINDER = re.compile(r"binding parameter \[(?P<n>[0-9]{1,3})\] as \[\w{1,40}\] - \[(?P<v>[^\r\n]{0,400})\][ \t]*$", re.M)
_SPRING = re.compile(r"column index (?P<n>[0-9]{1,3}), parameter value \[(?P<v>[^\r\n]{0,400}?)\], value class")
#: EF Core's ``[Parameters=[@p0='v' (Size = 4000), …]`` (written before the statement) and MyBatis' ``==> Parameters: v(String),
#: 42(Long)``.
_EF_PARAM = re.compile(r"@(?P<n>[A-Za-z_]\w{0,63})='(?P<v>(?:[^'\r\n]|''){0,400})'")
_MYBATIS = re.compile(r"==>\s{0,3}Parameters:[ \t]?")
_MYBATIS_ITEM = re.compile(r"(?P<v>[^\r\n]{0,400}?)\((?:[A-Z][\w.]{1,40})\)(?P<e>, |[ \t]*(?:\r?\n|$))")
_LIST_CUE = re.compile(r"""(?:\bargs=\(|\bargs="\[|\b(?:generated in|cached since) [^\]\r\n]{1,40}\] [\[(]|\bParams:\s{0,3}\[|\bbindings\s{0,3}\[|"bindings"\s{0,3}:\s{0,3}\[|[ \t]\[(?=["']))""")
_ITEM = re.compile(r"""\s{0,3}(?:'(?P<a>(?:[^'\\\r\n]|\\.){0,400})'|"(?P<d>(?:[^"\\\r\n]|\\.){0,400})"|(?P<u>[^,\s\])"'][^,\])\r\n]{0,400}?))"""
                   r"""\s{0,3}(?P<e>[,\])])""")


def _columns(stmt: str) -> dict[int | str, str]:
    """Each placeholder's ordinal (``$n``'s n, else its place among the anonymous ones) and the column that names it."""
    ordinals, anon = {}, 0
    for m in _PLACEHOLDER.finditer(stmt):
        if m.group("n") is not None:
            ordinals[m.start()] = int(m.group("n"))
        elif m.group("at") is not None:   # EF Core's, Dapper's @p0, @token: by name
            ordinals[m.start()] = m.group("at").lower()
        else:
            anon += 1
            ordinals[m.start()] = anon
    out = {}
    for m in _COMPARED.finditer(stmt):
        if m.end() in ordinals:
            out[ordinals[m.end()]] = m.group("col").lower()
    ins = _INSERT.search(stmt)
    if ins is not None:
        cols = [c.strip().strip('`"[]').lower() for c in ins.group("cols").split(",")]
        tail = _AFTER_VALUES.search(stmt, ins.end())   # VALUES (…), (…) …: the rows end at ON, RETURNING, WHERE
        marks = [p for p in sorted(ordinals) if ins.end() <= p < (tail.start() if tail else len(stmt))][:200]
        for i, p in enumerate(marks):   # many rows: the columns again in each
            out.setdefault(ordinals[p], cols[i % len(cols)])
    return out


def _list_items(text: str, at: int, spaced: bool = False) -> list[tuple[int, int]]:
    """The items of the list that opens at ``at``: spans of their contents (quotes left out); ``spaced``: items apart
    by spaces, unquoted (pgx's ``args="[v 42]"``)."""
    if spaced:
        end = text.find("]", at, at + 4000)
        return [(at + m.start(), at + m.end()) for m in re.finditer(r"[^\s\]]+", text[at:end if end >= 0 else at])][:200]
    items, pos = [], at
    while len(items) < 200 and (m := _ITEM.match(text, pos)) is not None:
        g = "a" if m.group("a") is not None else "d" if m.group("d") is not None else "u"
        items.append(m.span(g))
        pos = m.end()
        if m.group("e") != ",":
            break
    return items


def _parameters(text: str, at: int) -> dict[int | str, tuple[int, int]]:
    """The spans of a statement's parameters written after ``at`` (EF Core's anywhere), by ordinal or name."""
    out: dict[int | str, tuple[int, int]] = {}
    for rx in (_PG_PARAM, _BINDER, _SPRING):
        for m in rx.finditer(text, at):
            out.setdefault(int(m.group("n")), m.span("v"))
    if "@" in text:
        for m in _EF_PARAM.finditer(text):
            out.setdefault(m.group("n").lower(), m.span("v"))
    if not out and (mb := _MYBATIS.search(text, at)) is not None:
        pos = mb.end()
        while len(out) < 200 and (it := _MYBATIS_ITEM.match(text, pos)) is not None:
            out[len(out) + 1] = it.span("v")
            pos = it.end()
            if it.group("e") != ", ":
                break
    if not out and (cue := _LIST_CUE.search(text, at)) is not None:
        out = {i + 1: span for i, span in enumerate(_list_items(text, cue.end(), cue.group().endswith('"[')))}
    return out


_RAILS = re.compile(r'\["(?P<c>[\w$]{1,64})", "(?P<v>(?:[^"\\\r\n]|\\.){0,400})"\]')
_LITERAL = re.compile(_COL + r"""\s{0,3}=\s{0,3}N?'(?P<v>(?:[^'\r\n]|''){1,400})'""")


def _literal_secrets(stmt: str) -> set[str]:
    """The values a statement gives secret columns as literals (``"api_token" = 'v'``, ``INSERT … (token) VALUES ('v')``)."""
    out = {m.group("v") for m in _LITERAL.finditer(stmt) if is_secret_key(m.group("col"))}
    ins = _INSERT.search(stmt)
    if ins is not None:
        cols = [c.strip().strip('`"[]').lower() for c in ins.group("cols").split(",")]
        for col, (a, b) in zip(cols, _list_items(stmt, ins.end())):
            if is_secret_key(col):
                out.add(stmt[a:b])
    return out


def bound_spans(text: str) -> Iterator[tuple[int, int]]:
    """Parameters whose placeholder's column names a secret, or a settings row's value whose name does; and the values
    Django repeats after a statement it wrote with them (``…; args=('v', 42)``)."""
    for st in _STATEMENT.finditer(text):
        stmt = st.group()
        cols = _columns(stmt)
        if not cols:
            cue = text.find("args=(", st.start(), st.end())
            secrets = _literal_secrets(stmt) if cue >= 0 else ()
            for a, b in _list_items(text, cue + 6) if secrets else ():
                if text[a:b] in secrets:
                    yield a, b
            continue
        last = max(m.end() for m in _PLACEHOLDER.finditer(stmt))
        params = _parameters(text, st.start() + last)
        names = [params.get(n) for n, c in cols.items() if c in _NAME_COLS]
        named = any(span is not None and is_secret_key(text[span[0]:span[1]]) for span in names)
        for r in _RAILS.finditer(text, st.start() + last, min(len(text), st.end() + 4000)):   # [["name", "v"], …]
            n = next((k for k, c in cols.items() if c == r.group("c").lower()), None)
            if n is not None:
                params.setdefault(n, r.span("v"))
                named = named or r.group("c").lower() in _NAME_COLS and is_secret_key(r.group("v"))
        for n, col in cols.items():
            span = params.get(n)
            if span is not None and (is_secret_key(col) or named and col in _VALUE_COLS) and value_ok(text[span[0]:span[1]]):
                yield span


# -- stores' commands ----------------------------------------------------------------------------------------------
_MONITOR = re.compile(r"""(?m)^[0-9]{9,11}\.[0-9]{1,6} \[[^\]\r\n]{1,80}\] (?P<items>(?:"(?:[^"\\\r\n]|\\.){0,400}" ?){1,64})""")
_QUOTED = re.compile(r'"(?P<v>(?:[^"\\\r\n]|\\.){0,400})"')
_SLOW_HEAD = re.compile(r"""(?m)^(?P<i>[ \t]{0,12}[0-9]{1,3}\)[ \t]+)[0-9]{1,3}\)[ \t]+"(?:[^"\\\r\n]|\\.){0,400}"[ \t]*$""")
_SLOW_ITEM = re.compile(r"""(?m)[ \t]*[0-9]{1,3}\)[ \t]+"(?P<v>(?:[^"\\\r\n]|\\.){0,400})"[ \t]*$""")
_RESP = re.compile(r"\*(?P<n>[0-9]{1,2})\r\n")
_BULK = re.compile(r"\$[0-9]{1,4}\r\n(?P<v>[^\r\n]{0,400})\r\n")
_PROMPT = re.compile(r"(?m)^[\w.\-]{1,64}:[0-9]{2,5}(?:\[[0-9]{1,2}\])?> (?P<line>[^\r\n]{1,4000})")
_WORD = re.compile(r'"(?P<d>(?:[^"\\\r\n]|\\.){0,400})"|(?P<u>[^\s"]+)')

Args = list[tuple[int, int]]


def _redis_lists(text: str) -> Iterator[Args]:
    """Redis commands' arguments as spans, as ``MONITOR``, ``SLOWLOG GET``, the AOF and ``redis-cli``'s prompt write them."""
    for m in _MONITOR.finditer(text):
        yield [q.span("v") for q in _QUOTED.finditer(text, m.start("items"), m.end("items"))]
    for m in _SLOW_HEAD.finditer(text):
        first = _SLOW_ITEM.match(text, m.end("i"))
        args, pos, deeper = [first.span("v")], m.end(), len(m.group("i"))
        while pos < len(text) and text[pos] == "\n":
            line_end = text.find("\n", pos + 1)
            line_end = len(text) if line_end < 0 else line_end
            lead = len(text[pos + 1:line_end]) - len(text[pos + 1:line_end].lstrip(" \t"))
            item = _SLOW_ITEM.match(text, pos + 1, line_end)
            if item is None or lead < deeper - 1 or len(args) >= 64:
                break
            args.append(item.span("v"))
            pos = line_end
        yield args
    for m in _RESP.finditer(text):
        args, pos = [], m.end()
        while len(args) < int(m.group("n")) and (b := _BULK.match(text, pos)) is not None:
            args.append(b.span("v"))
            pos = b.end()
        yield args
    for m in _PROMPT.finditer(text):
        yield [w.span("d" if w.group("d") is not None else "u") for w in _WORD.finditer(text, m.start("line"), m.end("line"))][:64]


def _redis_secrets(text: str, args: Args) -> Iterator[tuple[int, int]]:
    words = [text[a:b].lower() for a, b in args]
    if not words:
        return
    cmd = words[0]
    if cmd == "auth" and len(words) in (2, 3):
        yield args[-1]
    elif cmd == "config" and len(words) >= 4 and words[1] == "set":
        for i in range(2, len(words) - 1, 2):
            if words[i] in ("requirepass", "masterauth"):
                yield args[i + 1]
    elif cmd == "acl" and len(words) >= 3 and words[1] == "setuser":
        for a, b in args[3:]:
            if text[a:a + 1] in "><" and b - a > 1:
                yield a + 1, b
    elif cmd in ("hello", "migrate"):
        for i, w in enumerate(words):
            if w == "auth" and i + 2 < len(words) + (cmd == "migrate"):
                yield args[i + 2] if cmd == "hello" else args[i + 1]
            elif w == "auth2" and i + 2 < len(words):
                yield args[i + 2]
    elif cmd == "sentinel" and len(words) >= 5 and words[1] == "set":   # SENTINEL SET master auth-pass pw
        for i in range(3, len(words) - 1, 2):
            if words[i] == "auth-pass":
                yield args[i + 1]
    elif cmd in ("hset", "hmset", "hsetnx"):
        for i in range(2, len(words) - 1, 2):
            if is_secret_key(words[i]):
                yield args[i + 1]


_MONGO = re.compile(r"""\bchangeUserPassword\(\s*["'][^"'\r\n]{1,64}["']\s*,\s*["'](?P<v>[^"'\r\n]{1,400})["']""")
_LDAP = re.compile(r"""\b(?i:(?:simple_)?bind(?:_s)?)\b[\s(]{1,8}u?(?P<q>["'])[^"'\r\n]{0,200}[=@\\][^"'\r\n]{0,200}(?P=q)\s*,\s*u?(?P<r>["'])(?P<v>[^"'\r\n]{1,400})(?P=r)"""
                   r"""|['"]simple['"]\s*:\s*(?P<s>["'])(?P<w>[^"'\r\n]{1,400})(?P=s)""")
#: A document of a collection named for secrets (``db.api_keys.insertOne({… key: "v"})``, ``"ns": "shop.api_keys"``): its
#: ``key``, ``value``, ``secret`` or ``token`` field.
_COLLECTION = re.compile(r"""(?:\bdb\.|\bns["']?\s{0,3}:\s{0,3}["'][\w\-]{1,64}\.)(?P<c>\w{1,64})""")
_DOC_FIELD = re.compile(r"""["']?\b(?:key|value|secret|token)["']?\s{0,3}:\s{0,3}(?P<q>["'])(?P<v>[^"'\\\r\n]{8,400})(?P=q)""")
_DOC_WINDOW = 600
#: DynamoDB's typed attribute values (``"api_token": {"S": "v"}``), as the SDKs and CloudTrail log an item.
_DYNAMO = re.compile(r'"(?P<c>[\w$.\-]{1,64})"\s{0,3}:\s{0,3}\{\s{0,3}"S"\s{0,3}:\s{0,3}"(?P<v>[^"\\\r\n]{1,400})"')
_ES_KEY = re.compile(r""""api_key"\s{0,3}:\s{0,3}"[^"\r\n]{0,200}"\s{0,3},\s{0,3}"encoded"\s{0,3}:\s{0,3}"(?P<v>[A-Za-z0-9+/=]{16,400})\"""")


def store_spans(text: str) -> Iterator[tuple[int, int]]:
    """Secrets in stores' commands: Redis' argument lists, MongoDB's ``changeUserPassword`` and documents of a collection
    named for secrets, LDAP binds, Elasticsearch's encoded API key."""
    if any(n in text for n in _REDIS_NEEDLES):
        for args in _redis_lists(text):
            for a, b in _redis_secrets(text, args):
                if value_ok(text[a:b]) and not (text[a] == "(" and text[b - 1] == ")"):   # MONITOR's (redacted)
                    yield a, b
    if "db." in text or "ns" in text:
        pos, seen = 0, 0
        while seen < 16 and (m := _COLLECTION.search(text, pos)) is not None:
            pos = m.end()
            if is_secret_key(m.group("c").rstrip("s")):   # a window read once: the next collection after it
                seen, pos = seen + 1, min(len(text), m.end() + _DOC_WINDOW)
                for f in _DOC_FIELD.finditer(text, m.end(), pos):
                    if value_ok(f.group("v")):
                        yield f.span("v")
    if '"S"' in text:
        for m in _DYNAMO.finditer(text):
            if is_secret_key(m.group("c")) and value_ok(m.group("v")):
                yield m.span("v")
    for needles, rx in ((("changeUserPassword",), _MONGO), (("bind", "Bind", "simple"), _LDAP), (('"encoded"',), _ES_KEY)):
        if any(n in text for n in needles):
            for m in rx.finditer(text):
                g = "w" if "w" in rx.groupindex and m.group("w") is not None else "v"
                if value_ok(m.group(g)):
                    yield m.span(g)


# -- the finder ----------------------------------------------------------------------------------------------------
_ROW = re.compile(r"\s{0,3},\s{0,3}\(")


def _more_rows(text: str) -> Iterator[tuple[int, int]]:
    """A many-row ``INSERT``'s later rows (``VALUES (…), (…)``; the first is ``layouts``'): their secret columns' literals."""
    for ins in _INSERT.finditer(text):
        cols = [c.strip().strip('`"[]').lower() for c in ins.group("cols").split(",")]
        secret = [i for i, c in enumerate(cols) if is_secret_key(c)]
        if not secret:
            continue
        pos, rows = ins.end(), 0
        while rows < 1000:
            items = _row_items(text, pos)
            if len(items) != len(cols):
                break
            if rows:
                for i in secret:
                    a, b = items[i][0]
                    if value_ok(text[a:b]):
                        yield a, b
            rows, pos = rows + 1, items[-1][1]
            if (nxt := _ROW.match(text, pos)) is None:
                break
            pos = nxt.end()


_SQL_ITEM = re.compile(r"\s{0,3}(?:N?'(?P<q>(?:[^'\r\n]|''){0,400})'|(?P<u>[^,()'\s]{1,400}(?:\([^()'\r\n]{0,80}\))?))\s{0,3}(?P<e>[,)])")


def _row_items(text: str, pos: int) -> list[tuple[tuple[int, int], int]]:
    """A row's literals from ``pos`` (after its ``(``): each item's span and where the row's reading stopped."""
    items = []
    while len(items) < 200 and (it := _SQL_ITEM.match(text, pos)) is not None:
        items.append((it.span("q" if it.group("q") is not None else "u"), it.end()))
        pos = it.end()
        if it.group("e") == ")":
            break
    return items


def statement_spans(text: str) -> Iterator[tuple[int, int]]:
    """Secrets in SQL written where no pair rule reads them: positional, quoted columns, constraint errors."""
    for m in POSITIONAL.finditer(text):
        for g in _POS_GROUPS:
            v = m.group(g)
            if v is not None and value_ok(v):
                yield m.span(g)
    for m in QUOTED_COLUMN.finditer(text):
        col = m.group("cb") or m.group("cd") or m.group("cs")
        if is_secret_key(col) and value_ok(m.group("v")):
            yield m.span("v")
    for rx in (_KEY_EXISTS, _DUPLICATE):
        for m in rx.finditer(text):
            if is_secret_key(m.group("c").strip('" ').split(",")[0].strip('" ')) and value_ok(m.group("v")):
                yield m.span("v")


_REDIS_NEEDLES = ("AUTH", "> auth", "uth-pass", "requirepass", "masterauth", "SETUSER", "l setuser", "HSET", "hset", "HMSET")
_SQL_NEEDLES = ("DENTIFIED", "dentified", "FROM '", "from '", "ONNECT TO", "onnect to", "PRAGMA", "pragma", "CRYPT(", "crypt(",
                "ypassphrase", "YPASSPHRASE", "yPassPhrase", "yPassphrase", "ysql(", "stgresql(", "ongodb(", "emote(", "Secure(", "N'", "` =", "`=", '" =', '"=', "] =", "]=",
                "Key (", "Duplicate entry")
_BOUND_NEEDLES = ("parameters: $", "binding parameter", "parameter value [", "args=", "Params:", "bindings", "QUERY OK", "[[\"",
                  "Parameters=[", "Parameters: ", "generated in", "cached since")
_STORE_NEEDLES = _REDIS_NEEDLES + ("changeUserPassword", '"S"', "bind", "Bind", "simple", '"encoded"', "db.", '"ns"', "ns:")
NEEDLES = _SQL_NEEDLES + _BOUND_NEEDLES + _STORE_NEEDLES + ("), (", "),(", "\\040", "\\'")
#: The prefilter's requirements: every needle's characters.
REQUIRES = NEEDLES


#: Any of the needles (one search in C in place of ~50 substring tests).
_ANY = re.compile("|".join(map(re.escape, NEEDLES))).search


#: What every form this module reads holds besides its needle: a quote, a backtick, a bracket, a backslash, a prompt's
#: '>' or RESP's and a placeholder's '$' (DB2's unquoted ``CONNECT TO … USING pw`` alone holds none: its own needle).
_MARKS = ("'", '"', "(", "[", "`", "\\", ">", "$")


def hint(text: str) -> bool:
    """Could ``query_spans`` find anything? A mark (most log lines hold none: a few tests of one character each), then
    one search for the needles."""
    for c in _MARKS:
        if c in text:
            return _ANY(text) is not None
    return "ONNECT TO" in text or "onnect to" in text


def query_spans(text: str, rules: Callable[[], dict] | None = None) -> Iterator[tuple[int, int]]:
    """Every secret this module finds in ``text`` (``rules()``: the detectors by name, for mysql's history)."""
    if any(n in text for n in _SQL_NEEDLES):
        yield from statement_spans(text)
    if "), (" in text or "),(" in text:
        yield from _more_rows(text)
    if any(n in text for n in _BOUND_NEEDLES):
        yield from bound_spans(text)
    if any(n in text for n in _STORE_NEEDLES):
        yield from store_spans(text)
    for escaped, plain in _VIEWS:
        if escaped in text:   # read with the escape's characters in place of as many plain ones: spans map 1:1
            view = text.replace(escaped, plain)
            yield from statement_spans(view)
            if rules is not None:
                found = rules()
                for name in ("command_line", "password", "secret_pair", "layout"):
                    yield from found[name].spans(view)


#: Escapes that hide a statement from the rules, and what they are read as (as many characters): ``~/.mysql_history``
#: writes a space as ``\040``; MariaDB's audit log a quote inside its quoted statement as ``\'``.
_VIEWS = (("\\040", "    "), ("\\'", " '"))
