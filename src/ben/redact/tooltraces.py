"""Credentials in tools' own traces, with no key beside the value (ADR 0030, revision 10). Part of the
``keyless_password`` detector (``ben.redact.identifiers``):

    GitHub Actions   a step's debug log evaluates an expression on one line and prints its result on a later
                     one: ``##[debug]Evaluating: secrets.DB_PASSWORD`` ... ``##[debug]=> 'v'`` (the runner masks
                     a secret it was given, not a value derived from one, nor one echoed by a debug step)
    Redis            ``MONITOR`` prints every command quoted, ``AUTH`` with its password
                     (``1773480413.589301 [0 10.0.1.9:53122] "AUTH" "app" "v"``), ``redis-cli``'s prompt
                     (``127.0.0.1:6379> AUTH default v``)
    secret stores    a command that prints one secret's value alone, the value on the next line (revision 13):
                     ``vault kv get -field=password secret/db``, ``kubectl get secret db -o jsonpath='{.data.k}' |
                     base64 -d``, ``gcloud secrets versions access``, ``aws secretsmanager get-secret-value … --output
                     text``, ``op read``, ``doppler secrets get … --plain``, ``heroku config:get``, ``pass show``…

Each finder yields (start, end) spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ben.redact.finders import not_placeholder
from ben.redact.layouts import is_secret_key

# -- GitHub Actions' expression evaluation -------------------------------------------------------------------------
_RESULT = re.compile(r"=> '(?P<s>(?:[^'\r\n]|'')+)'")
_EVALUATING = re.compile(r"Evaluating(?: String)?:\s*(?P<e>[^\r\n]{1,300})")
#: An expression that reads a secret: the ``secrets`` context, or a name that is a secret's key
#: (``env.API_TOKEN``, ``inputs.password``, ``vars.DEPLOY_KEY`` — ``ben.redact.layouts.is_secret_key``).
_SECRET_CONTEXT = re.compile(r"(?i)\bsecrets\.|\bsecrets\[")
_LAST_NAME = re.compile(r"([A-Za-z_][\w\-]*)['\"\])\s]*$")
_BACK = 8   # lines between the expression and its result, at most (GitHub prints nested evaluations between)


def _reads_secret(expr: str) -> bool:
    if _SECRET_CONTEXT.search(expr) is not None:
        return True
    m = _LAST_NAME.search(expr)
    return m is not None and is_secret_key(m.group(1))


def _dots(text: str, at: int) -> int:
    n = 0
    while at > n and text[at - n - 1] == ".":
        n += 1
    return n


def gha_spans(text: str) -> Iterator[tuple[int, int]]:
    """The result of an evaluated expression that reads a secret, within ``_BACK`` lines of it."""
    for m in _RESULT.finditer(text):
        start = m.start()
        lo = start
        for _ in range(_BACK + 1):
            lo = text.rfind("\n", 0, lo)
            if lo < 0:
                break
        found, depth = None, _dots(text, start)
        for e in _EVALUATING.finditer(text, lo + 1, start):
            if _dots(text, e.start()) == depth:
                found = e   # the nearest evaluation before the result at its depth (nested ones print '..')
        if found is None or not _reads_secret(found.group("e")):
            continue
        v = m.group("s")
        if not_placeholder(v):
            yield m.span("s")


# -- Redis AUTH ------------------------------------------------------------------------------------------------------
_Q = r'"(?:[^"\\\r\n]|\\.){1,400}"'
#: ``"AUTH" ["user"] "pw"`` (MONITOR; also inside ``"HELLO" "3" "AUTH" "u" "pw"``) and a prompt's ``> AUTH [user] pw``.
_REDIS_AUTH = re.compile(rf'"(?i:auth)"[ \t]+(?:(?P<u>{_Q})[ \t]+)?(?P<q>{_Q})'
                         r"|(?m:>[ \t]*(?i:auth)[ \t]+(?:[^\s\"']+[ \t]+)?(?P<p>[^\s\"']{1,400})[ \t]*\r?$)")


def redis_auth_spans(text: str) -> Iterator[tuple[int, int]]:
    """The password of a Redis ``AUTH`` command as MONITOR and redis-cli print it."""
    for m in _REDIS_AUTH.finditer(text):
        if m.group("q") is not None:
            a, b = m.start("q") + 1, m.end("q") - 1
        else:
            a, b = m.span("p")
        if b > a and not_placeholder(text[a:b]):
            yield a, b


# -- a secret store's command line, then the value it printed -----------------------------------------------------
#: Commands that print one secret's value and nothing else (a table or JSON is the pair rules'): vault's ``-field``,
#: kubectl reading a Secret's ``.data`` (base64, or decoded by ``base64 -d``), the clouds' and password managers' CLIs.
PRINT_NEEDLES = ("-field", "jsonpath", "base64 -d", "base64 --decode", "versions access", "get-secret-value", "get-parameter",
                 "op read", "secrets get", "config:get", "find-generic-password", "pass show", "gopass show", "bw get",
                 "keyvault secret show")
_PASS_SHOW = re.compile(r"\b(?:go)?pass\s+show\b").search


def _prints(line: str) -> bool:
    """Does this command line print one secret's value alone? (Substring tests: a line is read once.)"""
    if "-field" in line and "vault" in line and ("kv get" in line or "vault read" in line):
        return True
    if "kubectl" in line and "secret" in line:
        return ".data" in line or "base64 -d" in line or "base64 --decode" in line or "base64 -D" in line
    if "--output text" in line and ("get-secret-value" in line or "get-parameter" in line):
        return True
    if "--plain" in line and "doppler secrets get" in line or " -w" in line and "find-generic-password" in line:
        return True
    if "tsv" in line and "keyvault secret show" in line:
        return True
    return ("secrets versions access" in line or "op read " in line or "heroku config:get" in line
            or "bw get password" in line or _PASS_SHOW(line) is not None)


#: The printed value: the whole next line, one run without spaces (not a prompt, an error or a table).
_PRINTED = re.compile(r"[ \t]*(?P<s>(?:[^\s$#>]|[#>](?=\S))[^\s]{7,4000})[ \t]*\r?(?:\n|$)")   # "# " / "> ": a prompt


def printed_spans(text: str) -> Iterator[tuple[int, int]]:
    """The line a secret store's command printed after it (``$ vault kv get -field=password secret/db`` then ``v``)."""
    seen = set()
    for n in PRINT_NEEDLES:
        at = text.find(n)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            if end < 0:
                break   # no line after it
            if start not in seen:
                seen.add(start)
                if _prints(text[start:end]):
                    v = _PRINTED.match(text, end + 1)
                    if v is not None and not_placeholder(v.group("s")) and not v.group("s").startswith(("Error", "error:")):
                        yield v.span("s")
            at = text.find(n, end)   # the next line: a line of many needles is read once


def trace_spans(text: str) -> Iterator[tuple[int, int]]:
    """Each behind its needle."""
    for n in PRINT_NEEDLES:
        if n in text:
            yield from printed_spans(text)
            break
    if "=> '" in text:
        yield from gha_spans(text)
    if "AUTH" in text or "auth" in text or "Auth" in text:
        yield from redis_auth_spans(text)
