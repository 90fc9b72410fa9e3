"""Secrets wrapped in base64: a value that is the base64 of a token, of a ``password=`` line, of a
configuration file or a Docker config holding one.

A base64 blob that *starts* with a well-known prefix has a fixed beginning (``ghp_`` -> ``Z2hwX``,
``-----BEGIN`` -> ``LS0tLS1CRUdJT``, ``password`` -> ``cGFzc3dvcm``, ``{"auths"`` -> ``eyJhdXRocyI6``).
A few words that announce a secret inside a configuration (``password``, ``passwd``, ``secret``,
``token`` (and in capitals), ``PRIVATE KEY``, ``://`` of a URL with credentials, ``"auth"``) are looked for *anywhere*
in a blob: a word at byte offset 0, 1 or 2 (mod 3) has one fixed encoding each, so three needles per
word (``MIDDLE``). A run of base64 characters is decoded only if it starts with a prefix's needle or
holds a word's, and is at most ``MAX_RUN`` characters (at most ``MAX_DECODED`` runs per text):
the cost stays bounded, decoding every base64 run of every string would not (ADR 0030, revision 3).
A decoded run is masked whole when it holds a secret by the other detectors' rules (``CHECKS``):
the data of a Kubernetes Secret (``config.yaml: <base64>``), a ``.dockerconfigjson``, a wrapped key.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

#: Plain beginnings of a wrapped secret: few, since every needle costs 0.1-0.3 µs on every log line
#: (``sk_`` stands for sk_live_/sk_test_, ``sk-`` for OpenAI and Anthropic keys, ``xox`` for Slack).
PREFIXES = ("ghp_", "github_pat_", "glpat-", "sk_", "sk-", "xox", "AKIA", "-----BEGIN", "password", "eyJhbGci",
            '{"auths"')
#: Their base64, the characters the prefix alone decides.
#: and "eyJ": a JSON object ({" and a letter: a service account, a Docker config, a client's state blob).
NEEDLES = tuple(sorted({base64.b64encode(p.encode()).decode()[:len(p) * 8 // 6] for p in PREFIXES} | {"eyJ"}))
#: Words that announce a secret anywhere inside a decoded blob (a configuration file, a Docker config).
WORDS = ("password", "passwd", "secret", "token", "PASSWORD", "SECRET", "TOKEN", "PRIVATE KEY", "://", '"auth"')


def _encodings(word: str) -> set[str]:
    """The base64 characters `word` alone decides, at each of the three byte offsets (mod 3) it may start at."""
    out = set()
    raw = word.encode()
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode()
        first, last = -(-8 * k // 6), 8 * (k + len(raw)) // 6   # characters whose 6 bits all come from the word
        out.add(enc[first:last])
    return out


_ALL_MIDDLE = {e for w in WORDS for e in _encodings(w)}
MIDDLE = tuple(sorted(e for e in _ALL_MIDDLE if not any(o != e and o in e for o in _ALL_MIDDLE)))   # the shortest
MAX_RUN = 65_536      # characters of one base64 run decoded, at most
MAX_DECODED = 16      # runs decoded per text, at most
_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{16,}={0,2}")
#: A JWT claims set: the registered claims a token's payload holds (RFC 7519: "exp" and "sub"/"iss"/"aud"/"iat").
def _jwt_claims(plain: str) -> bool:
    """Substring tests, linear on any blob (a regex of two ``.*`` backtracks quadratically on a long one)."""
    return plain.startswith("{") and '"exp"' in plain and any(c in plain for c in ('"sub"', '"iss"', '"aud"', '"iat"'))
#: The detectors run over a decoded blob.
CHECKS = ("token", "private_key", "password", "secret_pair", "aws_key", "gcp_key", "github_token", "slack_token", "jwt",
          "url_userinfo", "password_hash", "webhook_url", "azure_key", "telegram_token")


#: A word's needles are looked for only in a text with a ':' or a '=' (a value under a key: a
#: Kubernetes data map, JSON, YAML, an .env line; or a blob's padding): 27 substring tests cost
#: ~1.5 µs, too much for every id and "Bearer <hex>" value of an attribute, and the batch prefilter
#: then rules those out by their characters (``REQUIRES``).
#: A command that decodes the blob (``echo <blob> | base64 -d``, ``base64 --decode <<< <blob>``) is one too.
WORD_CONTEXT = ("=", ":", "base64")
REQUIRES = NEEDLES + tuple(n + c for n in MIDDLE for c in WORD_CONTEXT)


def _words(text: str) -> bool:
    return "=" in text or ":" in text or "base64" in text


def hint(text: str) -> bool:
    """A needle of a prefix, or of a word in a text that may hold a blob with one (one substring test each)."""
    for n in NEEDLES:
        if n in text:
            return True
    if _words(text):
        for n in MIDDLE:
            if n in text:
                return True
    return False


def wrapped_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """(start, end) of every base64 run of text that starts with a needle and decodes to a secret."""
    found = rules()
    decoded = 0
    words = _words(text)   # as the hint: the same spans on both paths
    for m in _RUN.finditer(text):
        run = m.group()
        if len(run) > MAX_RUN or not (run.startswith(NEEDLES) or (words and any(n in run for n in MIDDLE))):
            continue
        decoded += 1
        if decoded > MAX_DECODED:
            return
        core = run.rstrip("=")
        try:
            raw = base64.b64decode(core + "=" * (-len(core) % 4), altchars=b"-_" if "-" in core or "_" in core else None)
        except (binascii.Error, ValueError):
            continue
        plain = raw.decode("utf-8", "replace")
        if run.startswith("eyJ") and _jwt_claims(plain):
            a, b = m.span()
            if text[b:b + 1] != "." and text[a - 1:a] != ".":   # a whole token is the jwt detector's
                yield a, b   # a JWT's payload logged apart from its token: its claims set
                continue
        if any(next(found[name].spans(plain), None) is not None for name in CHECKS):
            yield m.span()


# -- the data of a Kubernetes Secret ---------------------------------------------------------------------------
#: A Secret's ``data`` (base64) and ``stringData`` (plain) values are secrets by definition, whatever
#: their keys: masked in a manifest written as YAML or JSON (``kubectl get secret -o yaml``, an audit
#: log's request object). Only in a text naming ``kind: Secret``.
_KIND_SECRET = re.compile(r"""["']?kind["']?\s*:\s*["']?Secret\b""")
_YAML_DATA = re.compile(r"(?m)^([ \t]*)(?:data|stringData):[ \t]*\r?\n((?:\1[ \t]+\S[^\r\n]*(?:\r?\n|$))+)")
_YAML_ITEM = re.compile(r"(?m)^[ \t]+[\w.\-]+:[ \t]*[\"']?(?P<v>[^\s\"'|>][^\r\n\"']*?)[\"']?[ \t]*$")
_JSON_DATA = re.compile(r"""["'](?:data|stringData)["']\s*:\s*\{([^{}]{1,65536})\}""")
_JSON_ITEM = re.compile(r"""["'][\w.\-]+["']\s*:\s*["'](?P<v>[^"'\r\n]{1,65536})["']""")


def _secret_value(value: str) -> bool:
    """A value that is not a plain word or number once decoded (``username: YWRtaW4=`` is "admin")."""
    from ben.redact.finders import credential_like

    try:
        plain = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        plain = value   # stringData, or bytes: judged as written
    plain = plain.strip()
    if _HOST(plain) is not None or plain.startswith("arn:"):
        return False   # host: ZGItMS5pbnRlcm5hbA== is "db-1.internal"; a key's ARN names it (revision 17)
    return len(plain) >= 6 and (credential_like(plain) or not plain.isprintable())


#: A host's name in small letters (``db-1.internal``, ``pg.prod.acme.io``; its last label a word, so that a dotted number
#: — a CPF, ``271.425.806-90`` — is none): where a Secret says where, not what.
_HOST = re.compile(r"[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9][a-z0-9\-]*)*\.[a-z][a-z\-]*[a-z]").fullmatch   # not 271.425.806-90


def k8s_secret_spans(text: str) -> Iterator[tuple[int, int]]:
    if "Secret" not in text or _KIND_SECRET.search(text) is None:
        return
    for m in _YAML_DATA.finditer(text):
        for item in _YAML_ITEM.finditer(text, m.start(2), m.end(2)):
            if _secret_value(item.group("v")):
                yield item.span("v")
    for m in _JSON_DATA.finditer(text):
        for item in _JSON_ITEM.finditer(text, m.start(1), m.end(1)):
            if _secret_value(item.group("v")):
                yield item.span("v")


# -- text written as hex ------------------------------------------------------------------------------------
#: A run of hex that is printable ASCII once decoded: every byte 0x20-0x7e is two hex digits, the first 2-7.
#: Hashes and ids are random bytes: a whole run of 10+ such pairs is one in ~17,000 for 20 hex digits and
#: one in ~6.7 million for a 32-digit trace id (a 16-digit span id, 8 pairs, is too short to be looked at).
HEX_TEXT = re.compile(r"(?:[2-7][0-9a-fA-F]|0[9aAdD]|1[bB]){10,4096}")
#: Found as maximal runs of 20+ hex digits, then each run tested whole (one search of the text for the runs
#: costs ~1.2 µs a log line, searching HEX_TEXT itself ~7.7 µs: every digit 2-7 of the line starts a trial).
_HEX_RUN = re.compile(r"[0-9a-fA-F]{20,}")
_HEX_PAIRS = re.compile(r"(?:[2-7][0-9a-fA-F]|0[9aAdD]|1[bB])+").fullmatch   # and tabs, line breaks, ESC


def _hex_runs(text: str) -> Iterator[re.Match]:
    """The whole runs of hex (not a piece of a longer one) that are printable ASCII, at most 4,096 pairs."""
    for m in _HEX_RUN.finditer(text):
        run = m.group()
        if not len(run) % 2 and len(run) <= 8192 and _HEX_PAIRS(run) is not None:
            yield m
#: A hex run is looked at only in a text that holds something else around it (a key's separator, a quote, a
#: space, a bracket, a line break): a string that is all hex (an id, a hash) is never scanned (the batch
#: prefilter rules it out by these characters, ``HEX_REQUIRES``).
HEX_REQUIRES = (" ", "=", ":", '"', "'", ",", "(", "\n", "\t", "/")


def hex_hint(text: str) -> bool:
    for c in HEX_REQUIRES:
        if c in text:
            return next(_hex_runs(text), None) is not None
    return False


def hex_text_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """(start, end) of every whole run of hex (not a piece of a longer one) that decodes to text holding a
    secret by the other detectors' rules, or to one credential-like word (``keystorePassword(hex)=7475...``)."""
    from ben.redact.finders import credential_like
    from ben.redact.layered import holds_secret

    if not hex_hint(text):   # as the hint: the same spans on both paths
        return
    decoded = 0
    for m in _hex_runs(text):
        a, b = m.span()
        decoded += 1
        if decoded > MAX_DECODED:
            return
        plain = bytes.fromhex(m.group()).decode("ascii")
        if len(plain) <= 100 and not any(c in plain for c in " \n\"") and credential_like(plain):   # a password
            yield a, b
            continue
        if holds_secret(plain, rules):   # by the value rules, through further layers (ben.redact.layered)
            yield a, b


# -- personal data written as base64 -------------------------------------------------------------------------
#: An e-mail address, a card number or an IBAN written as base64 has no fixed needle (its bytes vary), so a
#: short whole run is decoded: 16-128 characters of standard base64, a multiple of 4 with its padding, capitals,
#: small letters and digits (ids and hashes in hex, UUIDs, words are never candidates), at most
#: ``MAX_DECODED`` runs a text; masked when the run decodes to printable ASCII holding one by the ``email``,
#: ``card`` or ``iban`` rules.
_PII_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-.])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
PII_CHECKS = ("email", "card", "iban")
_UPPER = re.compile(r"[A-Z]").search
_LOWER = re.compile(r"[a-z]").search


def _pii_runs(text: str) -> Iterator[re.Match]:
    for m in _PII_RUN.finditer(text):
        run = m.group()
        if len(run) <= 128 and not len(run) % 4 and _UPPER(run) is not None and _LOWER(run) is not None:
            yield m


def pii_hint(text: str) -> bool:
    return next(_pii_runs(text), None) is not None


def base64_pii_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """(start, end) of every short whole base64 run that decodes to an e-mail address, a card number or an IBAN."""
    found = None
    decoded = 0
    for m in _pii_runs(text):
        if text[max(0, m.start() - 6):m.start()].lower() == "basic ":
            continue   # an Authorization header's user:password: the bearer detector's
        decoded += 1
        if decoded > MAX_DECODED:
            return
        try:
            raw = base64.b64decode(m.group(), validate=True)
        except (binascii.Error, ValueError):
            continue
        if not raw or any(b < 0x20 or b > 0x7e for b in raw):
            continue
        plain = raw.decode("ascii")
        found = found or rules()
        if any(next(found[name].spans(plain), None) is not None for name in PII_CHECKS):
            yield m.span()
