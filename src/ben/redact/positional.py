"""Values of secret keys in positional syntaxes: the key and its value apart, joined by where they stand
(ADR 0030, revision 8). Part of the ``layout`` detector (``ben.redact.layouts``):

    debug dumps          PHP ``var_dump`` (``["db_password"]=>`` then ``string(12) "v"``), Python bytes
                         (``'api_key': b'v'``), XML CDATA (``<apiKey><![CDATA[v]]></apiKey>``)
    declarations         HCL ``variable "db_password" { ... default = "v" }``
    command lines        a secret's name then its value: ``aws ssm put-parameter --name /prod/db_password
                         --value v``, ``gh secret set API_TOKEN --body v``, ``dotnet user-secrets set
                         "Api:Key" "v"``, ``az keyvault secret set --name x --value v``
    SIEM records         CEF's ``cs1Label=api_key ... cs1=v``
    tables               a Markdown table whose header names a secret column, and its rows
    config directives    ``password v`` / ``insecure-password v`` / ``requirepass v`` ending a line, also after
                         a log shipper's prefix (``<ts> stderr F   password v``)
    SQL procedures       ``sp_addlogin 'u', 'v'``, ``sp_password 'old', 'new'``
    wrapped values       a one-list value (Django's ``<QueryDict: {'password': ['v']}>``), a value object
                         (Spring Boot actuator's ``"DB_PASSWORD": {"value": "v", "origin": ...}``), a binding
                         error (``property 'dbPassword' value [v]``, ``Property: app.db.password`` / ``Value: v``)
    mail sessions        SMTP ``AUTH PLAIN <base64>``, and the line answering ``334 UGFzc3dvcmQ6`` ("Password:")

The key must name a secret (``is_secret_key``: the pair rules' words ending the key, or its last part after
``/``, ``:`` or ``.``) and the value must look like a credential. Each finder runs only when its needle is in
the text (``NEEDLES``), so a log line pays a few substring tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_ARG = r"""(?:'(?P<a>[^'\r\n]{1,400})'|"(?P<q>[^"\r\n]{1,400})"|(?P<u>[^\s'"]{1,400}))"""
_VAR_DUMP = re.compile(r'\["(?P<k>[^"\r\n]{1,80})"\]=>\s{0,40}string\([0-9]{1,5}\) "(?P<v>[^"\r\n]{1,400})"')
_BYTES = re.compile(r"""(?P<k>[\w.\-]{2,80})['"]?\s{0,3}[:=]\s{0,3}[bB](?P<o>['"])(?P<v>[^'"\r\n]{1,400})(?P=o)""")
_CDATA = re.compile(r"<(?P<k>[A-Za-z_][\w.:\-]{1,80})(?:\s[^<>]{0,200})?>\s{0,3}<!\[CDATA\[(?P<v>[^\]\r\n]{1,400})\]\]>")
_HCL_VAR = re.compile(r'variable\s+"(?P<k>[^"\r\n]{1,80})"\s*\{[^{}]{0,400}?\bdefault\s*=\s*"(?P<v>[^"\r\n]{1,400})"')
_NAMED_FLAG = re.compile(r"(?:--(?:secret-)?name|--parameter-name|\bsecrets? set|\bsecret put)[= ]+[\"']?(?P<k>[^\s\"']{1,160})[\"']?"
                         r"(?:[ \t]+(?!--(?:value|body|secret-string|secret-value)\b|-b\b)[^\s]{1,160}){0,8}?"
                         r"[ \t]+(?:--value|--body|--secret-string|--secret-value|-b)[= ]" + _ARG)
_SET_PAIR = re.compile(r"user-secrets set\s+[\"']?(?P<k>[^\s\"']{1,160})[\"']?\s+" + _ARG)
_CEF_LABEL = re.compile(r"(?<![\w])(?P<l>cs[1-6]|cn[1-3]|flexString[12]|deviceCustomString[1-6])Label=(?P<k>[^=\r\n|]{1,80}?)(?= [\w.]+=|\r?\n|$)")
_CEF_VALUES: dict[str, re.Pattern] = {}


def _cef_value(label: str) -> re.Pattern:
    rx = _CEF_VALUES.get(label)
    if rx is None:
        rx = _CEF_VALUES[label] = re.compile(r"(?<![\w])" + label + r"=(?P<v>[^\r\n]{0,400}?)(?= [\w.]+=|\r?$)")
    return rx


_DIRECTIVE_END = re.compile(r"(?im)(?:(?<![\w\-])|(?<=\\[nrt]))(?:insecure-password|password|passwd|requirepass|masterauth)[ \t]+"
                            r"(?P<v>[^\s\"'\\]{5,399}[^\s\"'\\;,.])[;,.]?[ \t]*(?:\r?$|(?=\\[nr])|(?=\"))")   # a line's end, JSON-escaped, a string's
_GO_MAP = re.compile(r"(?<![\w.\-])(?P<k>[\w.\-]{2,80}):\[(?P<v>[^\]\s]{1,400})\]")
_SP = re.compile(r"(?i)\bsp_(?P<p>addlogin|password)\s+(?:N?'(?P<f>(?:[^'\r\n]|''){0,400})'|NULL)\s*,\s*N?'(?P<v>(?:[^'\r\n]|''){1,400})'")
_FLAG_FINDERS = ((("--name", "--secret-name", "--parameter-name", "secret set", "secrets set", "secret put"), _NAMED_FLAG),
                 (("user-secrets set",), _SET_PAIR))
_DIRECTIVE_NEEDLES = ("assw", "ASSW", "requirepass", "masterauth")
_LIST_KEY = re.compile(r"""['"](?P<k>[\w.\-]{2,80})['"]\s{0,3}:\s{0,3}$""")
_LIST_VALUES = re.compile(r"""\[\s{0,3}(?:(?P<o>['"])[^'"\r\n]{1,400}(?P=o)\s{0,3},?\s{0,3}){1,8}\]""")
_QUOTED = re.compile(r"""(?P<o>['"])(?P<v>[^'"\r\n]{1,400})(?P=o)""")
_RULE_ITEM = re.compile(r"[a-z_]+:\S*").fullmatch   # a validation rule: min:8, required_with:x
_OBJ_KEY = re.compile(r'"(?P<k>[^"\r\n]{1,80})"\s{0,3}:\s{0,3}$')
_OBJ_VALUE = re.compile(r'\{"value"\s{0,3}:\s{0,3}"(?P<v>(?:[^"\\\r\n]|\\.){1,400})"')
_PROPERTY = re.compile(r"(?i)\bproperty\s+'(?P<k>[^'\r\n]{1,120})'[^\r\n\[]{0,40}?\bvalue\s+\[(?P<v>[^\]\r\n]{1,400})\]"
                       r"|\bProperty:\s+(?P<k2>\S{1,120})\r?\n[ \t]{0,16}Value:\s+(?:\"(?P<q2>[^\"\r\n]{1,400})\"|(?P<v2>[^\s\"][^\r\n]{0,399}))")
_SMTP = re.compile(r"(?i)\bAUTH PLAIN[ \t]+(?P<v>[A-Za-z0-9+/]{8,400}={0,2})(?![\w\-])|(?-i:334 UGFzc3dvcmQ6)[ \t]*\r?\n"
                   r"(?:(?![^\r\n]*\b[2-5][0-9]{2}[ \-])[^\r\n]{0,60}?[:<>][ \t]+)?"
                   r"(?P<w>[A-Za-z0-9+/]{4,400}={0,2})[ \t]*\r?$", re.M)   # a client's line: "C: <b64>", "> host: <b64>", or alone
_ROW = re.compile(r"(?m)^[ \t]*\|(?P<cells>[^\r\n]*)\|[ \t]*\r?$")
_RULE = re.compile(r"[ \t]*:?-{3,}:?[ \t]*")


def _arg_span(m: re.Match) -> tuple[int, int]:
    g = "a" if m.group("a") is not None else "q" if m.group("q") is not None else "u"
    return m.span(g)


_ID_KEY = re.compile(r"(?i)(?:^|[_\-.]|(?-i:(?<=[a-z])(?=[A-Z])))(?:ssn|social[_\-]?security(?:[_\-]?number)?|passport(?:[_\-]?(?:number|no))?"
                     r"|nino|ni[_\-]number|national[_\-]?id|national[_\-]?insurance(?:[_\-]?(?:number|no))?|tax[_\-]?id|taxpayer[_\-]?id|itin|cpf|cnpj|bsn|pesel|personnummer|dni"
                     r"|tfn|id[_\-]card|licen[cs]e[_\-]?number|dl[_\-]number)$")


def named(is_key: Callable[[str], bool], key: str) -> bool:
    """The key names a secret or a national ID, or its last part does (``/prod/api/db_password``, ``Upstream:ApiKey``,
    ``customer_national_id``)."""
    last = re.split(r"[/:.]", key.strip("/:."))[-1]
    return is_key(key) or is_key(last) or _ID_KEY.search(last) is not None


_FIELD = re.compile(r"[\w.\-]+[=:]").match
_NEXT_PARAM = re.compile(r"&(?=[\w.\-]{1,40}=)")
_WORDS = re.compile(r"[a-z][a-z._\-/]*").fullmatch
_ID_VALUE = re.compile(r"[A-Z0-9][A-Z0-9 .\-/]{4,28}[A-Z0-9]").fullmatch


def value_ok(key: str, v: str, ok: Callable[[str], bool]) -> bool:
    """A credential (``ok``), or under a national ID's key an identifier (digits, capitals, separators; 3+ digits)."""
    return ok(v) or (_ID_KEY.search(re.split(r"[/:.]", key.strip("/:."))[-1]) is not None and _ID_VALUE(v) is not None
                     and sum(c.isdigit() for c in v) >= 3)


def _tables(text: str, is_key, ok) -> Iterator[tuple[int, int]]:
    rows = list(_ROW.finditer(text))
    cols: list[int] = []
    for i, r in enumerate(rows):
        cells = r.group("cells").split("|")
        if all(_RULE.fullmatch(c) for c in cells):
            head = rows[i - 1].group("cells").split("|") if i else []
            names = [c.strip().strip("`*") for c in head]
            cols = [j for j, c in enumerate(names) if named(is_key, c)] if len(head) == len(cells) else []
            width = len(cells)
            continue
        if cols and len(cells) == width:
            at = r.start("cells")
            for j, c in enumerate(cells):
                v = c.strip()
                if j in cols and value_ok(names[j], v, ok):
                    a = at + c.index(v) if v else at
                    yield a, a + len(v)
                at += len(c) + 1


def _opened(text: str, needle: str, key_rx: re.Pattern, value_rx: re.Pattern, is_key) -> Iterator[re.Match]:
    """Each ``value_rx`` match at a ``needle`` (the value's opening) whose key, ending just before, names a secret."""
    at = text.find(needle)
    while at >= 0:
        k = key_rx.search(text, max(0, at - 100), at)
        if k is not None and named(is_key, k.group("k")):
            v = value_rx.match(text, at)
            if v is not None:
                yield k, v
        at = text.find(needle, at + 1)


def _wrapped(text: str, is_key, ok) -> Iterator[tuple[int, int]]:
    for needle in ("['", '["'):
        if needle in text:
            for k, v in _opened(text, needle, _LIST_KEY, _LIST_VALUES, is_key):
                for q in _QUOTED.finditer(text, v.start(), v.end()):   # not a message nor a rule (DRF, Laravel)
                    item = q.group("v")
                    if len(item) >= 8 and " " not in item and _RULE_ITEM(item) is None and value_ok(k.group("k"), item, ok):
                        yield q.span("v")
    if '{"value"' in text:
        for k, v in _opened(text, '{"value"', _OBJ_KEY, _OBJ_VALUE, is_key):
            if value_ok(k.group("k"), v.group("v"), ok):
                yield v.span("v")
    if "roperty" in text:
        for m in _PROPERTY.finditer(text):
            key = m.group("k") or m.group("k2")
            g = "v" if m.group("v") is not None else "q2" if m.group("q2") is not None else "v2"
            if named(is_key, key) and value_ok(key, m.group(g).strip(), ok):
                yield m.span(g)
    if "AUTH PLAIN" in text or "auth plain" in text or "UGFzc3dvcmQ6" in text:
        for m in _SMTP.finditer(text):
            g = "v" if m.group("v") is not None else "w"   # not a capability (LOGINDISABLED), nor a prompt again
            if not m.group(g).isupper() and m.group(g) not in ("UGFzc3dvcmQ6", "VXNlcm5hbWU6"):
                yield m.span(g)


def positional_spans(text: str, is_key: Callable[[str], bool], ok: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """Values of secret keys in positional syntaxes (see the module's docstring)."""
    if "]=>" in text:
        for m in _VAR_DUMP.finditer(text):
            if named(is_key, m.group("k")) and value_ok(m.group("k"), m.group("v"), ok):
                yield m.span("v")
    if "b'" in text or 'b"' in text or "B'" in text or 'B"' in text:
        for m in _BYTES.finditer(text):
            if named(is_key, m.group("k")) and value_ok(m.group("k"), m.group("v"), ok):
                yield m.span("v")
    if "CDATA[" in text:
        for m in _CDATA.finditer(text):
            if named(is_key, m.group("k")) and value_ok(m.group("k"), m.group("v").strip(), ok):
                yield m.span("v")
    if "variable" in text and "default" in text:
        for m in _HCL_VAR.finditer(text):
            if named(is_key, m.group("k")) and value_ok(m.group("k"), m.group("v"), ok):
                yield m.span("v")
    for needles, rx in _FLAG_FINDERS:
        if any(n in text for n in needles):
            for m in rx.finditer(text):
                a, b = _arg_span(m)
                if named(is_key, m.group("k")) and value_ok(m.group("k"), text[a:b], ok):
                    yield a, b
    if "Label=" in text:
        for m in _CEF_LABEL.finditer(text):
            if named(is_key, m.group("k")):   # its value on the same record (line), within 2,000 characters
                lo, hi = text.rfind("\n", max(0, m.start() - 2000), m.start()) + 1, text.find("\n", m.end(), m.end() + 2000)
                hi = min(len(text) if hi < 0 else hi, m.end() + 2000)
                v = _cef_value(m.group("l")).search(text, max(lo, m.start() - 2000), hi)
                if v is not None and ok(v.group("v").strip()):
                    yield v.span("v")
    if any(n in text for n in _DIRECTIVE_NEEDLES):
        for m in _DIRECTIVE_END.finditer(text):
            a = m.start("v")   # to the next query parameter; not a field ("auth.method=password status=200"), not words
            v = _NEXT_PARAM.split(m.group("v"), 1)[0]   # ("password policy.total", "q=default password policy&page=2")
            if ok(v) and _FIELD(v) is None and _WORDS(v) is None:
                yield a, a + len(v)
    if "sp_" in text or "SP_" in text:
        for m in _SP.finditer(text):
            if ok(m.group("v")):
                yield m.span("v")
            if m.group("p").lower() == "password" and m.group("f") and ok(m.group("f")):
                yield m.span("f")
    if "map[" in text:   # a Go map's dump (gRPC metadata): map[key:[v] ...]
        for m in _GO_MAP.finditer(text, text.find("map[")):
            if named(is_key, m.group("k")) and value_ok(m.group("k"), m.group("v"), ok):
                yield m.span("v")
    if "|" in text and ("|-" in text or "| -" in text or "|:-" in text):
        yield from _tables(text, is_key, ok)
    yield from _wrapped(text, is_key, ok)


#: What a text must hold for ``positional_spans`` to find anything. Every finder but three needs a space, a tab or a
#: newline between its key and value (``SPACED``); Python bytes, CDATA and Go maps can be written without
#: (``BARE``). The prefilter's ``requires`` (``layout``'s) are whitespace or a ``BARE`` needle: a request id or a
#: UUID holding '-' or '_' is not scanned (ADR 0018).
SPACED = ("]=>", "variable", "--name", "--secret-name", "--parameter-name", "secret set", "secrets set", "secret put",
          "user-secrets set", "Label=", "assw", "ASSW", "requirepass", "masterauth", "sp_", "SP_", "|-", "| -", "|:-",
          "roperty", "AUTH PLAIN", "auth plain", "UGFzc3dvcmQ6")
BARE = ("b'", 'b"', "B'", 'B"', "CDATA[", "map[", "['", '["', '{"value"')
REQUIRES = (" ", "\n", "\t") + BARE


#: SPACED in groups behind a substring each of its needles holds: ~8 tests on a line in place of 19.
_GROUPS = (("=", ("]=>", "Label=")), ("--", ("--name", "--secret-name", "--parameter-name")),
           ("ecret", ("secret set", "secrets set", "secret put", "user-secrets set")), ("iable", ("variable",)),
           ("SS", ("ASSW",)), ("ss", ("assw", "requirepass")), ("auth", ("masterauth",)), ("P_", ("SP_",)),
           ("p_", ("sp_",)), ("|", ("|-", "| -", "|:-")), ("rop", ("roperty",)), ("UTH", ("AUTH PLAIN",)), ("uth", ("auth plain",)),
           ("UGF", ("UGFzc3dvcmQ6",)))


def hint(text: str) -> bool:
    """A needle of a finder: a ``BARE`` one, or a ``SPACED`` one in a text with whitespace."""
    if "'" in text or '"' in text or "[" in text:   # every BARE needle holds one
        for n in BARE:
            if n in text:
                return True
    if " " not in text and "\n" not in text and "\t" not in text:
        return False
    for gate, needles in _GROUPS:
        if gate in text:
            for n in needles:
                if n in text:
                    return True
    return False
