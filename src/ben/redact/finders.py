"""Finders and checks the detectors use (``ben.redact.detectors``): prefixed tokens looked up by
their head (``ben.redact.formats``), command lines, cookies, password hashes, e-mail addresses, bare random keys (IBAN, phone numbers and SSNs: ``ben.redact.digits``). Each finder yields (start, end) spans; a lookbehind that would keep ``re``
from skipping ahead to a pattern's first character is checked here in Python instead. Key = value pairs are
``ben.redact.pairs``'s and the checks of a value ``ben.redact.values``'s (split out in revision 12; their names are
re-exported here).
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Callable, Iterator

from ben.redact.emails import EMAIL, _email_matches, email_spans  # noqa: F401
from ben.redact.formats import INDEX, LEADS, PREFIXES_BY_HEAD, head, trail_end
from ben.redact.lookalikes import digest_run, documentation_value, resource_id, sops_value, ssh_public_run
from ben.redact.pairs import (MARKUP_VALUE, PAIR_VALUE, PASSWORD_KEYS, PASSWORD_TAILS, PASSWORD_TAILS_2,  # noqa: F401
                              PASSWORD_WORDS, SECRET_KEYS, VENDOR_KEY, _YAML_TAG, block_span, in_query, pair_spans,
                              pairs, password_hint)
from ben.redact.values import (_IDENT, _PATH, _REFERENCE, _TRIVIAL, credential_like, not_placeholder,  # noqa: F401
                               password_value)

# -- prefixed tokens (ben.redact.formats) -----------------------------------------------------------
TOKEN = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9][A-Za-z0-9_\-.$~]{2,}")


def token_spans(text: str) -> Iterator[tuple[int, int]]:
    """Every token of a known format: candidates are runs of token characters; their first three
    characters pick the formats to try (a dictionary lookup), each anchored at the token's start."""
    index = INDEX
    for m in TOKEN.finditer(text):
        s = m.start()
        tok = m.group()
        starts = (s, *(s + i + 1 for i, c in enumerate(tok) if c in "._-"))
        for s in starts:   # a token may follow a dot, a dash or an underscore ("app.ghp_...", "worker-sk_live_...")
            forms = index.get(head(text, s))
            if forms is None:
                continue
            for name, rx in forms:
                f = rx.match(text, s)
                if f is not None:
                    lead = LEADS.get(name)
                    if lead is not None and s >= lead[0] and lead[1].fullmatch(text, s - lead[0], s):
                        s -= lead[0]
                    if not documentation_value(f.group()):   # hf_xxxxxxxx…, AKIAIOSFODNN7EXAMPLE
                        yield s, trail_end(name, text, f.end())
                    break
            else:
                continue
            break


_KEYS = frozenset(INDEX)
#: The first three characters of every run of ASCII letters and digits (the parts a split at every other
#: character gives, less the empty ones, which head no format), without copying each run whole to slice it
#: (~4 against ~6.5 µs on a log line).
_HEADS = re.compile(r"([A-Za-z0-9]{1,3})[A-Za-z0-9]*").findall


def token_hint(text: str) -> bool:
    """Does some token (or a part after a dot) start with the first three characters of a format, and
    does the text hold that format's whole prefix? One findall and a set test, in C, then a substring
    test per head found ("api" in "/api/v1" is no "api_org_"); the formats' regexes run only then."""
    heads = _KEYS.intersection(_HEADS(text))   # every candidate's head starts a part
    if not heads:
        return False
    for lead in heads:
        for prefix in PREFIXES_BY_HEAD[lead]:
            if prefix in text:
                return True
    return False


def after(rx: re.Pattern, chars: str) -> Callable[[str], Iterator[tuple[int, int]]]:
    """The matches of rx not preceded by one of chars: a lookbehind at the start of a pattern keeps
    ``re`` from skipping ahead to the pattern's first character, so it is checked here instead."""
    def find(text: str) -> Iterator[tuple[int, int]]:
        for m in rx.finditer(text):
            a = m.start()
            if a == 0 or text[a - 1] not in chars:
                yield a, m.end()

    return find


def validated(rx: re.Pattern, chars: str, validate: Callable[[str], bool]) -> Callable[[str], Iterator[tuple[int, int]]]:
    """``after``, and only the matches validate accepts."""
    unbounded = after(rx, chars)

    def find(text: str) -> Iterator[tuple[int, int]]:
        for a, b in unbounded(text):
            if validate(text[a:b]):
                yield a, b

    return find


WORD = string.ascii_letters + string.digits
DISCORD = re.compile(r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-])")
OKTA = re.compile(r"00[A-Za-z0-9_\-]{40}(?![A-Za-z0-9_\-])")
RANDOM_KEY = re.compile(r"(?<![A-Za-z0-9+_\-])(?:[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{40})(?![A-Za-z0-9+=_\-])")




# -- passwords on command lines and in sentences -------------------------------------------------------
_FLAG_KEYS = (rf"(?:{PASSWORD_WORDS.replace('(?P<bare>pass)', 'pass')}|token|api[_\-]?key|apikey|access[_\-]?key|client[_\-]?secret|credentials?|auth|"
              r"(?:private|master|encryption|signing|license|app)[_\-]?key)")
_ARG = r"""(?:"(?P<{0}q>[^"\r\n]{{1,400}})"|'(?P<{0}a>[^'\r\n]{{1,400}})'|(?P<{0}u>[^\s"'\-][^\s"']{{0,399}}))"""
COMMAND_LINE = re.compile(
    rf"(?i)(?<![\w\-])--?[\w.\-]*?{_FLAG_KEYS}(?:[_\-]?(?:value|string|key|secret|b64|base64))?"   # --password v
    rf"(?:\s{{1,3}}|[\"'],\s{{0,3}}[\"']){_ARG.format('f')}"
    rf"|\b(?:mysql\w*|mariadb\w*)\b[^\r\n|;&]{{0,400}}?\s(?:-p(?:'(?P<ma>[^'\r\n]{{1,400}})'|\"(?P<mb>[^\"\r\n]{{1,400}})\"|(?P<mp>[^\s\-'\"][^\s'\"]*))|['\"]-p(?P<mq>[^\s\-'\"][^\s'\"]*))"  # mysql -pSECRET, -p'S E
    rf"|\b(?:sshpass|docker\s+login|podman\s+login|helm\s+repo\s+add)\b[^\r\n|;&]{{0,400}}?\s-p\s+{_ARG.format('p')}"
    rf"|\bredis-cli\b[^\r\n|;&]{{0,400}}?\s-a\s+{_ARG.format('r')}"
    rf"|\b(?:curl|wget|http)\b[^\r\n|;&]{{0,400}}?\s(?:-u|--user)\s+(?:'[^\s:']*:(?P<cs>[^'\r\n]{{1,400}})'|\"[^\s:\"]*:(?P<cd>[^\"\r\n]{{1,400}})\"|[^\s:]+:{_ARG.format('c')})" rf"|\blftp\b[^\r\n|;&]{{0,400}}?\s(?:-u|--user)\s+[^\s,]+,{_ARG.format('lf')}"  # curl -u user:pw, lftp -u user,pw
    rf"|\bhtpasswd(?=[^\r\n|;&]{{0,400}}?\s-\w*b)(?:\s+-\w+)+\s+\S+\s+\S+\s+{_ARG.format('h')}"          # htpasswd -b -c f u pw
    rf"|\bldap\w+\b[^\r\n|;&]{{0,400}}?\s-w\s+{_ARG.format('l')}"                                           # ldapsearch -w pw
    rf"|\bset\s+password\s+(?:for\s+\S+\s*)?=\s*(?:password\s*\(\s*)?{_ARG.format('k')}"           # SQL: SET PASSWORD = 'pw'
    rf"|\brabbitmqctl\s+(?:add_user|change_password)\s+\S+\s+{_ARG.format('q')}"
    rf"|\s-U\s+[^\s%/\-][^\s%/]*%(?P<s>[^\s\"']+)"                                                  # smbclient -U user%pw
    rf"|(?<=\s)-[uU]\s+[^\s\-]\S*\s+-[pP]\s+{_ARG.format('g').replace(chr(92) + '-]', chr(92) + '-(<]')}"   # -u user -p pw
    rf"|\becho\s+{_ARG.format('e')}\s*\|\s*(?:sudo\s+-S|\S+\s+--password-stdin|chpasswd|passwd)"     # echo pw | sudo -S
    rf"|\bjdbc:oracle:\w+:[^\s/@:\"']+/(?P<o>[^\s@\"']+)@"                                            # scott/tiger@db
    rf"|\bidentified\s+(?:with\s+\w+\s+)?by\s+(?:password\s+)?{_ARG.format('i')}"           # SQL: IDENTIFIED BY 'pw'
    rf"|\bmachine\s+\S+\s+login\s+\S+\s+password\s+(?P<n>\S+)"                                  # .netrc
    rf"|(?i:pass(?:word|wd|phrase)|passwort|kennwort|contrase[ñn]a|mot\s+de\s+passe|senha|wachtwoord|has[łl]o|пароль)"
    rf"(?:\s+(?:for|für|pour|para|de|do|da|del|voor|dla|of|для|van|di)\s+(?:[^\s:]{{1,64}}\s+)?[^\s:]{{1,64}}?"   # password for admin:
    rf"(?=\s*:|\s+(?:is|ist|lautet|es|est|é|era|är|er|jest|je)\s))?"                     # la contraseña del usuario u es
    rf"\s{{0,3}}(?::\s{{1,3}}{_ARG.format('v')}|\s(?:(?:is|was|set\s+to|changed\s+to|reset\s+to|lautet:?|ist|es|est|é|era|"
    rf"is\s+now|är|er|on|jest|je|это)\s+[«„“]?\s?{_ARG.format('w')}"
    r"""|"(?P<xq>[^"\r\n]{1,400})"|'(?P<xa>[^'\r\n]{1,400})'))"""   # password is X, password 'X'
    r"""|(?:密码|口令|パスワード|비밀번호)(?:は|是|는|은)?[:：=]?\s{0,2}[「“"'«]?(?P<xj>[^\s」”"'»=][^\s」”"'»]{3,399})""")   # 密码是：X

_CMD_GROUPS = tuple(g for g in COMMAND_LINE.groupindex)
#: SQL: CREATE/ALTER ROLE|USER r [WITH] [LOGIN ...] PASSWORD 'pw' (apart: one more alternative in COMMAND_LINE cost
#: every text it scans ~6%); not a bind parameter ('$1', '?', '%s', ':pw').
_SQL_ROLE = re.compile(r"(?i)\b(?:create|alter)\s+(?:role|user)\s[^;'\"\r\n]{0,200}?\bpassword\s+'(?P<sq>(?:[^'\r\n]|''){1,400})'")
_BIND = re.compile(r"\$[0-9]+|\?|%s|:[A-Za-z_]\w*").fullmatch


def command_line_spans(text: str) -> Iterator[tuple[int, int]]:
    """Passwords given to programs (--password v, -pSECRET, curl -u user:pw, PGPASSWORD= is a pair) and
    after 'password is' in sentences. A value after a flag must not be a bare word ("--password-file
    /run/x" is a path, "password is incorrect" a word): it must look like a credential."""
    for m in COMMAND_LINE.finditer(text):
        for g in _CMD_GROUPS:
            v = m.group(g)
            if v is None:
                continue
            if g[0] in "wxv":   # a sentence: "password is X", "with password 'X'", "password for admin: X"
                if _YAML_TAG(v) is not None:   # password: !vault | (Ansible's encrypted value on the next lines)
                    break
                if g == "wu" and v[-1] in ".,;:)":
                    v = v[:-1]
                    if len(v) >= 6 and credential_like(v) and not v.isalpha() and "/" not in v:
                        yield m.start(g), m.end(g) - 1
                    break
                if len(v) >= 6 and credential_like(v) and not v.isalpha() and ("/" not in v or g[1] in "qa"
                                                                               and v[0] != "/"):
                    yield m.span(g)
            elif g[0] in "fige":   # a flag's, IDENTIFIED BY's or echo's value: not a word, not a path
                if credential_like(v) and not v.startswith(("/", "./", "~/")) and not v.isdigit():
                    yield m.span(g)
            elif not_placeholder(v):
                yield m.span(g)
            break
    if "ASSWORD" in text or "assword" in text:
        for m in _SQL_ROLE.finditer(text):
            if not_placeholder(m.group("sq")) and _BIND(m.group("sq")) is None:
                yield m.span("sq")


# -- cookies ----------------------------------------------------------------------------------------------
COOKIE = re.compile(r"(?i)(?<![a-z\-])(?:set-)?cookie2?[\"']?\s{0,3}[:=]\s{0,3}[\"']?(?P<s>[^\r\n\"'\\]{1,4000})")
_COOKIE_PAIR = re.compile(r"([^=;,\s]+)=([^;\r\n]*)")
_COOKIE_ATTRS = frozenset({"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority",
                           "partitioned", "version", "comment"})
#: An analytics cookie's value: numbers joined by dots after a short version tag (``_ga=GA1.1.397601456.1796610067``,
#: ``_gcl_au=1.1.1234.1796610067``, ``_fbp=fb.1.1796610067.123``): client ids and timestamps, no session.
_COUNTERS = re.compile(r"(?:[A-Za-z]{1,3}[0-9]?\.)?[0-9]{1,20}(?:\.[0-9]{1,20}){1,8}").fullmatch
_SESSION_NAME = re.compile(r"(?i)sess|sid|token|auth|jwt|login|remember|csrf|xsrf|key|secret|pass|ident|user_?id")


def cookie_spans(text: str) -> Iterator[tuple[int, int]]:
    """The values of a Cookie or Set-Cookie header that carry a session: under a session-like name, or
    long and random. Attributes (Path, Expires...) and short words (theme=dark) stay."""
    for m in COOKIE.finditer(text):
        base, value = m.start("s"), m.group("s")
        found = False
        for p in _COOKIE_PAIR.finditer(value):
            name, v = p.group(1), p.group(2).strip()
            found = True
            if not v or name.lower() in _COOKIE_ATTRS:
                continue
            if (_SESSION_NAME.search(name) and len(v) >= 6 and not_placeholder(v)) or (
                    len(v) >= 16 and credential_like(v) and _COUNTERS(v) is None):
                yield base + p.start(2), base + p.end(2)
        if not found:
            v = value.split(";")[0].strip()
            if len(v) >= 12 and credential_like(v):
                yield base, base + len(v)


# -- password hashes ---------------------------------------------------------------------------------
_C = r"[./A-Za-z0-9]"
PASSWORD_HASH = re.compile(
    r"\{(?i:S?SHA(?:256|384|512)?|S?MD5|CRYPT|PBKDF2(?:-SHA[0-9]+)?|ARGON2|BCRYPT|PKCS5S2|CLEARTEXT)\}"
    r"[A-Za-z0-9+/=.$,\-_]{8,}"                                               # LDAP: {SSHA}..., {CRYPT}$6$...
    r"|(?<![\w$])\$(?:2[abxy]?\$[0-9]{2}\$" + _C + r"{53}"                     # bcrypt
    r"|(?:1|apr1|md5)\$" + _C + r"{1,8}\$" + _C + r"{22}"                       # md5-crypt, htpasswd
    r"|[56]\$(?:rounds=[0-9]+\$)?" + _C + r"{1,16}\$" + _C + r"{43,86}"         # sha256/512-crypt
    r"|(?:y|gy|7)\$" + _C + r"+\$" + _C + r"+\$" + _C + r"{16,}"                 # yescrypt, scrypt
    r"|argon2(?:id|i|d)\$(?:v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}"
    r"|(?:scrypt|pbkdf2[\w\-]*|sha1|sha256|sha512)\$[^\s$]{1,40}\$[A-Za-z0-9+/.=]{4,}\$[A-Za-z0-9+/.=]{16,})"
    r"|(?<![\w$])(?:pbkdf2_sha(?:1|256)|argon2|bcrypt_sha256|scrypt)\$[^\s]{24,}"   # Django
    r"|(?i:userPassword)::\s{0,3}(?P<s>[A-Za-z0-9+/]{8,}={0,2})")                  # LDIF: the base64 of one


def hash_spans(text: str) -> Iterator[tuple[int, int]]:
    """Password hashes (crackable offline): LDAP {SCHEME} values, crypt(3) strings ($2b$, $6$, $apr1$,
    $argon2id$, yescrypt), Django's; and the base64 value of an LDIF ``userPassword::``."""
    for m in PASSWORD_HASH.finditer(text):
        if _FILE_DIGEST(m.group()) is not None:
            continue   # Puppet's checksums: content '{md5}<32 hex>', '{sha256}<64 hex>' (a file's digest, revision 17)
        yield m.span("s") if m.group("s") is not None else m.span()


#: A file's digest as configuration tools write it: the scheme in small letters, then hex of a digest's length.
_FILE_DIGEST = re.compile(r"\{(?:md5|sha1|sha256|sha384|sha512)\}(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})").fullmatch


# -- random base64 of a key's length -------------------------------------------------------------------
_B64_RUN = re.compile(r"[A-Za-z0-9+/ ]{16}")   # a space: a '+' the URL decoding made one


def random_key_spans(text: str) -> Iterator[tuple[int, int]]:
    """Bare random keys (RANDOM_KEY, random_b64), but not the tail of a longer random base64 run after a
    '/' or before one: a line of a certificate or a public key splits at its '/' into pieces of any
    length (ADR 0030, revision 4); so does a space, which a '+' becomes in the URL-decoded pass. A key in a URL's path stays found: the 16 characters on the other
    side of that '/' are a path, not random base64 (not capitals, small letters and digits together)."""
    public = _public_blocks(text) if "-----BEGIN " in text or "untrusted comment:" in text else ()
    if _MAIL_NEEDLES(text):
        public = [*public, *_mail_signed(text)]
    for m in RANDOM_KEY.finditer(text):
        a, b = m.span()
        if any(lo <= a < hi for lo, hi in public) or digest_run(text, a) or resource_id(text, a, b) \
                or ssh_public_run(text, a) or sops_value(text, a):
            continue   # or an SSH key's SHA256: fingerprint, or /objects/<id>/ in a URL's path   # a line of a certificate or a public key (public; a private key is private_key's)
        if text[a - 1:a] == "%" or (a >= 17 and text[a - 1] in "/ " and _random_run(text[a - 17:a - 1])):
            continue
        if text[b:b + 1] in ("/", " ") and _random_run(text[b + 1:b + 17]):
            continue
        if random_b64(m.group()) and not documentation_value(m.group()):
            yield a, b


_PUBLIC_BLOCK = re.compile(r"-----BEGIN (?:[A-Z0-9 ]+ )?(?:CERTIFICATE|PUBLIC KEY|CERTIFICATE REQUEST|X509 CRL"
                           r"|PGP PUBLIC KEY BLOCK|PGP SIGNATURE)-----"
                           r"(?:.(?!-----END ))*.?"
                           r"|untrusted comment: [^\r\n]*(?:public key|signature)[^\r\n]*\r?\n[A-Za-z0-9+/= ]+", re.DOTALL)   # minisign, signify


#: A mail's signatures, hashes and trace stamps (revision 18): a header that holds them, with its folded lines.
_MAIL_SIGNED = re.compile(r"(?im)^(?:X-Google-)?(?:DKIM-Signature|ARC-Seal|ARC-Message-Signature|X-Google-Smtp-Source"
                          r"|X-Gm-Message-State|X-Gm-Gg|X-Gm-Features|Thread-Index):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")
_MAIL_NEEDLES = re.compile(r"DKIM-Signature|ARC-|X-G(?:oogle|m)-|Thread-Index", re.I).search


def _mail_signed(text: str) -> list[tuple[int, int]]:
    """(start, end) of each such header of a mail (its folded lines too)."""
    return [m.span() for m in _MAIL_SIGNED.finditer(text)]


def _public_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each PEM certificate, public key, CSR or CRL (to its END line, or to the end of the text)."""
    return [m.span() for m in _PUBLIC_BLOCK.finditer(text)]


def _random_run(piece: str) -> bool:
    """16 characters of base64 with capitals, small letters and digits: a run of random base64, not a path."""
    return _B64_RUN.fullmatch(piece) is not None and _mixed_digits(piece)


def _mixed_digits(s: str) -> bool:
    return any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s)


def random_b64(text: str) -> bool:
    """Upper, lower and digits, and not the base64 of text (an AWS secret key decodes to random bytes)."""
    core = text.rstrip("=")
    if core.isalnum() and (core.islower() or core.isupper() or core.isdigit()):
        return False
    if core.count("/") + core.count("+") > len(core) // 8 or any(
            len(part) >= 4 and part.isalpha() and part.islower() for part in core.split("/")):
        return False   # a path (api/v1/Users/...), not a key: random base64 has a '/' or '+' in 32 characters
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)):
        return False
    try:
        raw = base64.b64decode(core + "=" * (-len(core) % 4))
    except ValueError:
        return True
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable < 0.85 * len(raw)
