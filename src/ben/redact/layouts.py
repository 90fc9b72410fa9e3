"""Secrets whose key and value are apart: the layouts that split them (ADR 0030, revision 4).

A pair rule finds ``password=v``, ``"password": "v"``, ``<password>v</password>``: the key right
before its value. Config and log formats also write them apart:

    name/value records   k8s ``env: - name: DB_PASSWORD / value: v``, ECS ``{"name": .., "value": ..}``,
                         CloudFormation ``ParameterKey`` / ``ParameterValue``, settings tables
    SQL                  ``UPDATE settings SET value = 'v' WHERE name = 'api_token'``,
                         ``INSERT INTO users (login, password) VALUES ('jdoe', 'v')``
    CSV                  a header naming a secret column, and the rows under it
    directive lines      ``requirepass v``, ``password    v`` (a table, ``vault kv get``), one key and one
                         value on a line, apart by spaces

``layout_spans`` finds the value in each: the key must name a secret (``is_secret_key``: the pair
rules' words, matched inside the key) and the value must look like a credential (not a word, not a
placeholder). Also here: session cookies written without a ``Cookie:`` header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ben.redact.finders import _SESSION_NAME, PASSWORD_KEYS, SECRET_KEYS, credential_like, not_placeholder
from ben.redact.positional import REQUIRES as _POSITIONAL, hint as _positional, named, positional_spans, value_ok

_KEY_WORD = re.compile("(?:" + PASSWORD_KEYS + "|" + SECRET_KEYS + r"|(?i:requirepass|masterauth|rpcpassword|bindpw|rootpw))[\"'`\]]?$")


def is_secret_key(key: str) -> bool:
    """Does a key name a secret (``DB_PASSWORD``, ``api_token``, ``TWILIO_AUTH_TOKEN``, ``Passwort``)? The
    word ends the key, as in the pair rules: ``token_count``, ``max_tokens``, ``password_changed_at`` do not."""
    return _KEY_WORD.search(key.strip()) is not None


_NUMBER = re.compile(r"[0-9][0-9.,:\-TZ ]*").fullmatch


def _value_ok(v: str) -> bool:
    """A credential: 4+ characters, no placeholder, not a word, not a number or a date."""
    return len(v) >= 4 and not_placeholder(v) and credential_like(v) and _NUMBER(v) is None


# -- name/value records ---------------------------------------------------------------------------
_NAME = re.compile(r"""(?i)(?<![\w.\-])(?:name|key|parameterkey|parameter_?name|setting|variable|option)["']?\s{0,3}[:=]"""
                   r"""\s{0,3}["']?(?P<k>[^\s"',}{\]\[]{2,80})""")
_VALUE = re.compile(r"""(?i)(?<![\w.\-])(?:value|parametervalue|val|beforevalue|aftervalue)["']?\s{0,3}[:=]\s{0,3}"""
                    r"""(?:"(?P<q>[^"\r\n]{1,4000})"|'(?P<a>[^'\r\n]{1,4000})'|(?P<u>[^\s"',}\]]{1,4000}))""")
_WINDOW = 160
_LONGEST = 4000


def _name_value(text: str) -> Iterator[tuple[int, int]]:
    for m in _NAME.finditer(text):
        if not is_secret_key(m.group("k")):
            continue
        stop = min(len(text), m.end() + _WINDOW)
        nxt = _NAME.search(text, m.end(), stop)   # the value belongs to this name, not the next record's
        # the value starts within the window and may end past it (a 172-character LINE token; revision 13)
        end = nxt.start() if nxt else min(len(text), stop + _LONGEST)
        v = _VALUE.search(text, m.end(), end)
        while v is not None and v.start() < stop:
            g = "q" if v.group("q") is not None else "a" if v.group("a") is not None else "u"
            if _value_ok(v.group(g).strip()):
                yield v.span(g)
            if not v.group(0)[:1] in "bBaA":
                break   # one value to a name, but a change's two: BeforeValue and AfterValue (revision 17)
            stop = min(len(text), v.end() + _WINDOW)
            v = _VALUE.search(text, v.end(), end)


# -- SQL ------------------------------------------------------------------------------------------
_SQL_SET = re.compile(r"(?i)\bvalue\s*=\s*'(?P<v>(?:[^'\r\n]|'')+)'\s+where\s+(?:name|key|setting|param\w*)\s*=\s*"
                      r"'(?P<k>[^'\r\n]{1,80})'")
_SQL_INSERT = re.compile(r"""(?i)\binsert\s+into\s+[\w."`\[\]]+\s*\((?P<cols>[^()]{1,400})\)\s*values\s*\(""")
_SQL_ITEM = re.compile(r"\s*(?:'(?P<q>(?:[^'\r\n]|'')*)'|(?P<u>[^,()'\s]+(?:\([^()'\r\n]{0,80}\))?))\s*(?P<end>[,)])")   # now(), NULL, 42


def _sql(text: str) -> Iterator[tuple[int, int]]:
    for m in _SQL_SET.finditer(text):
        if is_secret_key(m.group("k")) and _value_ok(m.group("v")):
            yield m.span("v")
    for m in _SQL_INSERT.finditer(text):
        cols = [c.strip().strip('`"[]').lower() for c in m.group("cols").split(",")]
        items: list[tuple[int, int]] = []
        pos = m.end()
        while (it := _SQL_ITEM.match(text, pos)) is not None:
            g = "q" if it.group("q") is not None else "u"
            items.append(it.span(g))
            pos = it.end()
            if it.group("end") == ")":
                break
        if len(items) != len(cols):
            continue
        named = cols.index("value") if "value" in cols else -1
        for i, col in enumerate(cols):
            a, b = items[i]
            if is_secret_key(col) and _value_ok(text[a:b]):
                yield a, b
            elif col in ("name", "key") and named >= 0 and is_secret_key(text[a:b]):
                va, vb = items[named]
                if _value_ok(text[va:vb]):
                    yield va, vb


# -- CSV ------------------------------------------------------------------------------------------
_HEADER_FIELD = re.compile(r'"?[\w .\-]{1,60}"?')


def _csv_fields(line: str, base: int) -> list[tuple[int, int]]:
    """(start, end) of each field of a CSV line (quotes stripped from quoted fields)."""
    out, i, n = [], 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            j = i + 1
            while j < n and not (line[j] == '"' and (j + 1 >= n or line[j + 1] != '"')):
                j += 2 if line[j] == '"' else 1
            out.append((base + i + 1, base + j))
            i = line.find(",", j)
        else:
            j = line.find(",", i)
            out.append((base + i, base + (n if j < 0 else j)))
            i = j
        if i < 0:
            break
        i += 1
    return out


def _csv(text: str) -> Iterator[tuple[int, int]]:
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, line.rstrip("\r")))
        pos += len(line) + 1
    cols: list[int] = []
    names: list[str] = []
    width = 0
    for base, line in lines:
        if "," not in line:
            cols = []
            continue
        fields = _csv_fields(line, base)
        if cols and len(fields) == width:
            for i in cols:
                a, b = fields[i]
                if value_ok(names[i].strip(), text[a:b], _value_ok):   # a national ID's column too
                    yield a, b
            continue
        names = line.split(",")
        if all(_HEADER_FIELD.fullmatch(f.strip()) for f in names):
            cols = [i for i, f in enumerate(names) if named(is_secret_key, f.strip())]
            width = len(names)
        else:
            cols = []


# -- directive lines -------------------------------------------------------------------------------
_DIRECTIVE = re.compile(r"(?m)^[ \t]*(?P<k>[\w.\-]{2,40})[ \t]+(?P<v>[^\s\"']{4,400})[ \t]*\r?$")


def _directives(text: str) -> Iterator[tuple[int, int]]:
    for m in _DIRECTIVE.finditer(text):
        if is_secret_key(m.group("k")) and _value_ok(m.group("v")) and not m.group("v").startswith(("/", "./", "$")):
            yield m.span("v")


def layout_hint(text: str) -> bool:
    """A value field (name/value records, SQL), several lines (CSV, directives), one short line of two
    words (a directive) or a CI service message: else nothing to find."""
    return "alue" in text or "ALUE" in text or "\n" in text or (len(text) < _SHORT and _two_words(text)) or _positional(text) \
        or _CI_NEEDLE in text or "::set-" in text


#: A CI runner's service message setting a variable (revision 12): Azure Pipelines' ``##vso[task.setvariable
#: variable=NAME;issecret=false]VALUE`` and GitHub Actions' deprecated ``::set-output name=NAME::VALUE`` /
#: ``::set-env``: the value is a secret's when its name is a secret key or the message says ``issecret=true``.
_CI_NEEDLE = "setvariable"
_CI_MESSAGE = re.compile(r"##vso\[task\.setvariable\s+variable=(?P<n>[^;\]\r\n]{1,100})(?P<o>[^\]\r\n]{0,200})\](?P<s>[^\r\n]{1,4000})"
                         r"|::set-(?:output|env)\s+name=(?P<n2>[^:\r\n]{1,100})::(?P<s2>[^\r\n]{1,4000})")


def _ci_messages(text: str) -> Iterator[tuple[int, int]]:
    for m in _CI_MESSAGE.finditer(text):
        name, g = (m.group("n"), "s") if m.group("n") is not None else (m.group("n2"), "s2")
        v = m.group(g).strip()
        if v and not_placeholder(v) and (is_secret_key(name.strip()) or "issecret=true" in (m.group("o") or "").lower()):
            yield m.start(g), m.start(g) + len(m.group(g).rstrip())


def _two_words(text: str) -> bool:
    """One run of spaces between two words (a directive on its own line): two finds, no split."""
    first = text.find(" ")
    if first < 0:
        return False
    rest = text[first:].lstrip(" \t")
    return bool(rest) and " " not in rest.rstrip()


_SHORT = 256
LAYOUT_REQUIRES = ("alue", "ALUE", "\n", " ", "setvariable", "::set-") + _POSITIONAL[2:]   # ben.redact.positional: a tab or a BARE needle


#: ``terraform output -json`` (revision 13): a value Terraform itself marks sensitive, whatever its output's name
#: (``{"db_dsn": {"sensitive": true, "type": "string", "value": "v"}}``); ``"sensitive": false`` ones stay.
_SENSITIVE = re.compile(r'"sensitive"\s{0,40}:\s{0,40}true\s{0,40},\s{0,40}(?:"type"\s{0,40}:\s{0,40}(?:"[^"\r\n]{0,100}"'
                        r'|\[[^\]\r\n]{0,200}\])\s{0,40},\s{0,40})?"value"\s{0,40}:\s{0,40}"(?P<s>(?:[^"\\\r\n]|\\.){1,4000})"')


def _sensitive(text: str) -> Iterator[tuple[int, int]]:
    for m in _SENSITIVE.finditer(text):
        if not_placeholder(m.group("s")):
            yield m.span("s")


def layout_spans(text: str) -> Iterator[tuple[int, int]]:
    """Values of secret keys written apart from them (see the module's docstring)."""
    if "alue" in text or "ALUE" in text:
        yield from _name_value(text)
        yield from _sql(text)
        if '"sensitive"' in text:
            yield from _sensitive(text)
    if "\n" in text:
        yield from _csv(text)
        yield from _directives(text)
    elif len(text) < _SHORT and _two_words(text):
        yield from _directives(text)
    if _positional(text):
        yield from positional_spans(text, is_secret_key, _value_ok)   # ben.redact.positional
    if _CI_NEEDLE in text or "::set-" in text:
        yield from _ci_messages(text)


# -- session cookies without a header; kubeadm bootstrap tokens -------------------------------------
SESSION_COOKIE = re.compile(
    r"(?i)(?<![\w.\-])(?:j?sessionid|phpsessid|connect\.sid|asp\.net_sessionid|laravel_session|rack\.session|_gh_sess"
    r"|[\w.\-]*session[_\-.]token|_[a-z0-9]+_session|_session_id|remember_(?:token|me)|ci_session|sails\.sid|express:sess"
    r"|\.aspnetcore\.(?:cookies|session|identity\.application|[\w\-]*auth[\w\-]*)|\.aspxauth)"   # ASP.NET (Core)'s
    r"=(?P<s>[^;\s\"'&,]{8,4000})")


#: A value under the bare key ``session`` (``session=v``, ``"SESSION": "v"``, ``{session=v, …}``): a session's
#: credential when it is long and random (capitals, small letters and digits; not a UUID, not hex, not a word):
#: ``session=3``, ``session: prod-eu-1`` and a session's UUID stay.
_BARE_SESSION = re.compile(r"""(?i)(?<![\w.\-])session\\?["']?\s{0,3}[:=]\s{0,3}\\?["']?(?P<s>[A-Za-z0-9_\-+/%.]{20,400}={0,2})""")
_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]").search, re.compile("[a-z]").search, re.compile("[0-9]").search


def session_cookie_spans(text: str) -> Iterator[tuple[int, int]]:
    """The values of well-known session cookies (``JSESSIONID=…``, ``connect.sid=…``), with or without a header,
    and long random values under the bare key ``session``."""
    for m in SESSION_COOKIE.finditer(text):
        v = m.group("s")
        if not_placeholder(v) and credential_like(v):
            yield m.span("s")
    for m in _BARE_SESSION.finditer(text):
        v = m.group("s")
        if _UPPER(v) and _LOWER(v) and _DIGIT(v) and not_placeholder(v):
            yield m.span("s")
    if '"value' in text or "\\\"value" in text or "\tTRUE\t" in text or "\tFALSE\t" in text:
        yield from cookie_record_spans(text)


#: A cookie written as a name and a value apart (revision 12): a Netscape ``cookies.txt`` line (curl's and wget's cookie
#: jars: domain, flag, path, secure, expiry, name, value, tab-separated) and a JSON cookie (Playwright's and Puppeteer's
#: storage state, a browser extension's export: ``{"name": "sessionid", "value": "v", …}``).
_COOKIE_JAR = re.compile(r"(?m)^[^\t\r\n]+\t(?:TRUE|FALSE)\t[^\t\r\n]*\t(?:TRUE|FALSE)\t-?[0-9]+\t(?P<n>[^\t\r\n]+)\t(?P<s>[^\t\r\n]+)")
_JSON_COOKIE = re.compile(r"""\\?"name\\?"\s{0,3}:\s{0,3}\\?"(?P<n>[^"\\]{1,200})\\?"\s{0,3},\s{0,3}\\?"value\\?"\s{0,3}:\s{0,3}"""
                          r"""\\?"(?P<s>[^"\\]{6,4000})\\?["]""")


def cookie_record_spans(text: str) -> Iterator[tuple[int, int]]:
    """The value of a cookie in a jar or a JSON record, when its name says it carries a session (``finders``' cookie
    names) or it is long and random (capitals, small letters and digits: not ``GA1.1.42.1``)."""
    jars = (_COOKIE_JAR, _JSON_COOKIE) if "ookie" in text or "domain" in text else (_COOKIE_JAR,)
    for rx in jars:   # a JSON name/value record is a cookie in a text about cookies (not a HAR's header)
        for m in rx.finditer(text):
            v = m.group("s")
            if not not_placeholder(v):
                continue
            if _SESSION_NAME.search(m.group("n")) and len(v) >= 8 and credential_like(v) or len(v) >= 16 and _UPPER(v) and _LOWER(v) and _DIGIT(v):
                yield m.span("s")


# remember_token= is a secret pair's ("token"): no needle of its own here
SESSION_NEEDLES = ("ession", "ESSION", "sid=", "SID=", "sess=", "\tTRUE\t", "\tFALSE\t", '"value', "\\\"value", "spNetCore.",
                   "SPNETCORE.", "spnetcore.", "SPXAUTH", "spxauth")
