"""Finders of national identifiers named as such (``ben.redact.detectors``: ``id_number``) and of
passwords written with no key name (``keyless_password``). Each yields (start, end) spans.

A national identifier has no shape of its own that tells it from an order number (a US passport is
nine digits, a Californian driving licence a letter and seven), so it is found by the name it is
given: a key (``ssn``, ``passport_number``, ``taxId``, ``NINO``, ``DOCUMENTO``...) or the words of a
sentence (``NI number``, ``passport no.``, ``numéro de sécurité sociale``) followed by a value that
holds digits, as IDs of 16 countries are written (``AB 12 34 56 C``, ``123.456.789-09``,
``630722-0027``, ``MORGA753116SM9IJ``). A date, a time or a version after the word is no identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ben.redact.finders import credential_like, not_placeholder
from ben.redact.lookalikes import digest_run
from ben.redact.tooltraces import PRINT_NEEDLES, trace_spans

_S = r"[ _.\-]?"
_NUM = rf"(?:{_S}(?:number|num|nr|no|id|#))?"
#: Words naming an identifier. Short ones (``ssn``, ``sin``, ``pan``...) must stand alone or end a
#: camelCase/snake_case identifier (``_short_ok``); long ones may be glued (``PASSPORTNUMBER``).
ID_WORDS = re.compile(
    rf"(?i:ssn|social{_S}security{_NUM}|itin|f?ein|employer{_S}id(?:entification)?{_NUM}|tax{_S}(?:payer{_S})?id(?:entifier)?"
    rf"|taxpayer{_S}id|tax{_S}file{_NUM}|tfn|tin|utr|nino|ni{_S}number|national{_S}insurance{_NUM}|national{_S}id{_NUM}"
    rf"|cpf|cnpj|bsn|burgerservicenummer|pesel|personnummer|personal{_S}number|sin|social{_S}insurance{_NUM}|dni|nie"
    rf"|documento|nir|num(?:[eé]ro)?{_S}(?:de{_S})?s[eé]cu(?:rit[eé]{_S}sociale)?|pan{_S}(?:number|card|no)|pan"
    rf"|passport{_NUM}|reisepass(?:nummer)?|driver'?s?{_S}licen[cs]e{_NUM}|driving{_S}licen[cs]e{_NUM}"
    rf"|licen[cs]e{_S}(?:number|no)|dl{_S}(?:number|no)|dl#|id{_S}card{_NUM})" + _NUM + r"\.?")
_SHORT = 4   # words up to this long (before the suffix) must stand alone
# between the name and the value: quotes (escaped or not), ':', '=', '#', 'is', '=>'
_BETWEEN = re.compile(r"""(?:\\?["'])?\]?\s{0,3}(?:=>|:=|[:=#]|\bis\b)?\s{0,3}(?:\\?["'])?""")
_VALUE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|(?:%20|[ .\-/+])(?=[A-Za-z0-9])){5,30}")
_DATEISH = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}|(?<![0-9])[0-9]{1,2}[:/][0-9]{2}(?![0-9])|^v?[0-9]+\.[0-9]+\.[0-9]+$")
_TOKEN_OK = re.compile(r"[A-Z]{1,2}|[A-Za-z0-9.\-/]*[0-9][A-Za-z0-9.\-/]*")


def _short_ok(text: str, a: int, word: str) -> bool:
    """A short word stands alone: not after a letter, unless it starts a camelCase part (``customerSsn``)."""
    if a == 0:
        return True
    prev = text[a - 1]
    if not prev.isalpha():
        return True
    return prev.islower() and word[0].isupper()


def _value(text: str, at: int) -> tuple[int, int] | None:
    m = _VALUE.match(text, at)
    if m is None:
        return None
    # keep the tokens that look like pieces of an identifier: digits, or 1-2 capitals ("AB 12 34 56 C")
    end, pos = at, at
    for tok in re.split(r"(%20| |\+)", m.group()):
        if tok in ("%20", " ", "+"):
            pos += len(tok)
            continue
        if _TOKEN_OK.fullmatch(tok) is None:
            break
        pos += len(tok)
        end = pos
    value = text[at:end]
    if sum(c.isdigit() for c in value) < 3 or sum(c.isalnum() for c in value) < 6 or _DATEISH.search(value):
        return None
    return at, end


def id_number_spans(text: str) -> Iterator[tuple[int, int]]:
    pos, n = 0, len(text)
    while pos < n and (m := ID_WORDS.search(text, pos)) is not None:
        a, b = m.span()
        pos = b
        word = m.group()
        core = re.sub(r"(?i)[ _.\-]?(?:number|num|nr|no|id|#)?\.?$", "", word) or word
        if len(core) <= _SHORT and not _short_ok(text, a, word):
            continue
        if b < n and text[b].isalpha():
            continue   # inside a longer word (pancake, single, tinker)
        between = _BETWEEN.match(text, b)
        if between.end() == b and not word[-1:] in ".#":
            continue   # a name glued to what follows (a run of base64, an id) names nothing
        span = _value(text, between.end())
        if span is not None:
            yield span
            pos = span[1]


#: A name and its value are apart (a space, a quote, ':', '=', '#', '.'): hex ids and hashes skip the regex.
ID_REQUIRES = (" ", "\t", "\n", ":", "=", "#", '"', "'", "]")


#: The hint, far cheaper than `ID_WORDS` (an alternation tried at every position: ~0.2 ms a log line):
#: an acronym in capitals (sre skips to the capitals), a long word in the lower-cased text, or the end of
#: a key before '=', ':' or '#' (after quotes), as the password hint looks at what precedes a separator.
# each starts with a character class: sre skips to the characters that can start a match
# ("FEIN|EIN", not "F?EIN": a branch that starts with a repeat hid the first characters from sre, which then
# tried the whole alternation at every position: ~10 against ~1 µs on a log line)
_ACRONYM = re.compile(r"(?:S(?:SN|IN)|P(?:AN|ESEL)|T(?:IN|FN)|FEIN|EIN|N(?:IE|IR|INO|I)|D(?:NI|L)|C(?:PF|NPJ)|BSN|UTR|ITIN)(?![a-z])")
#: The prefilter's digit chain (``min_digits = 2``): two digits, a space or a dash between them allowed.
_TWO_DIGITS = re.compile(r"[0-9][ \-]?[0-9]")
_LONG = re.compile(r"[spnlibdtsé](?:sn|assport|ummer|ecu|écu|icen|ocial|nsurance|urger|ational|ersonal|ocumento|ax)")
_KEY_ENDS = ("ssn", "sin", "pan", "tin", "ein", "nie", "nir", "dni", "cpf", "cnpj", "bsn", "tfn", "utr", "nino", "itin",
             "pesel", "number", "num", "no", "nr", "no.", "dl#", "passport", "license", "licence", "documento",
             "personnummer")   # tax_id, national_id: their "tax", "ational" are in _LONG
_KEY_ENDS = tuple(sorted({v for e in _KEY_ENDS for v in (e, e.upper(), e[:1].upper() + e[1:])}))
_KEY_LAST = frozenset(e[-1] for e in _KEY_ENDS)
_KEY_QUOTES = "\"'\\] "


def _key_before(text: str, sep: str) -> bool:
    p = text.find(sep)
    while p >= 0:   # a separator at 0 does not hide the later ones
        q = p
        while q > 0 and text[q - 1] in _KEY_QUOTES:
            q -= 1
        if q > 1 and text[q - 1] in _KEY_LAST and text.endswith(_KEY_ENDS, 0, q):
            return True
        p = text.find(sep, p + 1)
    return False


def hint(text: str) -> bool:
    for c in ID_REQUIRES:
        if c in text:
            break
    else:
        return False
    if _TWO_DIGITS.search(text) is None:
        return False
    m = None if text.islower() else _ACRONYM.search(text)   # islower: no capital at all (sre would look anyway)
    while m is not None:
        if m.start() == 0 or not text[m.start() - 1].isalpha() or text[m.start() - 1].islower():
            return True
        m = _ACRONYM.search(text, m.end())
    if _LONG.search(text.lower()) is not None:
        return True
    return _key_before(text, "=") or _key_before(text, ":") or _key_before(text, "#")


# -- passwords written with no key name ---------------------------------------------------------------------
_A = r"""(?:"(?P<{0}q>[^"\r\n]{{1,200}})"|'(?P<{0}a>[^'\r\n]{{1,200}})'|(?P<{0}u>[^\s"'\-/][^\s"']{{0,199}}))"""
_C = r"[^\r\n|;&]{0,400}?"   # bounded: a line of 100,000 "7z " must not be read once per "7z"
#: Programs that take a password as an argument with no word for it (beyond ``finders.COMMAND_LINE``).
KEYLESS_COMMAND = re.compile(
    rf"\b(?:7z[ar]?|unrar|rar)\b{_C}\s(?:-p(?:(?P<z>[^\s\-\"'][^\s\"']*)|'(?P<zq>[^'\r\n]{{1,200}})'|\"(?P<zd>[^\"\r\n]{{1,200}})\")|['\"]-p(?P<z2>[^\s\-\"'][^\s\"']*))"   # 7z a -pSECRET
    rf"|\b(?:un)?zip\b{_C}\s-P\s+{_A.format('zp')}"                                    # zip -P pw
    rf"|\s-pass(?:in|out)\s+pass:{_A.format('op')}"                                   # openssl -passout pass:pw
    rf"|\bopenssl\b{_C}\s-k\s+{_A.format('ok')}"                                       # openssl enc -k pw
    rf"|\bssh-keygen\b{_C}\s-N\s+{_A.format('sk')}"                                    # ssh-keygen -N pw
    rf"|\becho\s+{_A.format('ec')}\s*\|{_C}(?:--password-stdin|sudo\s+-S|chpasswd|passwd)"   # echo pw | docker login ...
    rf"|\bnet\s+user\s+[^\s/]+\s+{_A.format('nu')}"                                     # net user bob pw /add
    rf"|\bnet\s+use\b{_C}/user:\S+\s+{_A.format('nw')}"                                 # net use \\fs /user:d\u pw
    rf"|\s-(?:src|dest)?(?:store|key)pass\s+{_A.format('kt')}"                          # keytool -storepass pw
    rf"|\b(?:sqlcmd|bcp|ipmitool|mosquitto_\w+|mongo\w*)\b{_C}\s-P\s+{_A.format('ip')}"     # sqlcmd -P pw
    rf"|\bmosquitto_passwd\s+-b\s+\S+\s+\S+\s+{_A.format('mq')}"                          # mosquitto_passwd -b file u pw
    rf"|\bsqlplus\s+(?:-\w+\s+)*[^\s/@\-][^\s/@]*/(?:(?P<sp>[^\s@/\"']+)|\"(?P<sq>[^\"\r\n]{{1,200}})\")@"   # sqlplus scott/pw@db
    rf"|(?:(?<=\s)|(?<=\s['\"]))/(?:p|pass|password):{_A.format('wp')}"                                  # xfreerdp /p:pw, rdesktop
    rf"|(?i:\bconfig\s+set\s+(?:requirepass|masterauth)\s+){_A.format('rc')}"           # Redis CONFIG SET requirepass pw
    rf"|\bdb\.auth\(\s*[\"'][^\"'\r\n]{{1,64}}[\"']\s*,\s*{_A.format('da')}"              # mongo db.auth("u", "pw")
    rf"|\bcommunity\s+{_A.format('sn')}(?=\s+(?:RO|RW|ro|rw)\b)"                            # snmp-server community s RO
    rf"|\b(?:password|secret)\s+[07]\s+(?P<cp>\S+)"                                         # Cisco: password 0 pw (7: reversible)
    rf"|(?i:\bcreate_?user)\(\s*[\"'][^\"'\r\n]{{1,64}}[\"']\s*,\s*{_A.format('cu')}"           # Neo4j createUser('u', 'pw', …)
    rf"|\"AUTH\s+(?:[^\s\"\\]+\s+)?(?P<ra>[^\s\"\\]+)\\r\\n\""                              # strace: write(5, "AUTH pw\r\n", …)
    rf"|(?i:ConvertTo-SecureString)\s+(?:-String\s+)?{_A.format('ss')}"                 # PowerShell
    # revision 15: more programs that take a password or a key as an argument with no word for it
    rf"|\b(?:vsql\b{_C}\s-w|swift\b{_C}\s-K|rdesktop\b{_C}\s-p|(?i:psexec(?:64)?)(?:\.exe)?\b{_C}\s-p)\s+{_A.format('pw')}"   # vsql -w pw, swift -K key
    rf"|\b(?:set-initial-password|reset-admin-password|bw\s+unlock)\s+{_A.format('ip2')}"     # neo4j-admin, grafana-cli, bw
    rf"|\bnpm\s+config\s+set\s+\S*:_(?:authToken|auth|password)\s+{_A.format('np')}"      # npm config set //r/:_authToken t
    rf"|\bwpa_passphrase\s+(?:\"[^\"\r\n]*\"|'[^'\r\n]*'|\S+)\s+{_A.format('wpa')}"         # wpa_passphrase ssid pw
    rf"|\bnmcli\b{_C}\s(?:password|wifi-sec\.psk|802-11-wireless-security\.psk)\s+{_A.format('nm')}"
    rf"|\bnet\s+use\s+(?:[A-Za-z]:\s+|\*\s+)?['\"]?\\\\[^\s'\"]+['\"]?\s+{_A.format('nus')}"   # net use Z: \\fs\share pw /user:u
    rf"|\b(?:expdp|impdp|exp|imp|sqlldr|rman)\s+(?:(?:userid|target)=)?['\"]?[A-Za-z_][\w$#]{{0,29}}/(?P<xp>[^\s@/\"']+)(?=[\s@\"']|$)"   # expdp u/pw
    rf"|\bmysqladmin\b{_C}\spassword\s+{_A.format('ma')}"                                   # mysqladmin -u root password pw
    rf"|\bsnmp\w+\b{_C}\s-A\s+{_A.format('sa')}(?:{_C}\s-X\s+{_A.format('sx')})?"            # snmpwalk -A auth -X priv
    rf"|\bredis-cli\b{_C}\s(?i:auth)\s+(?:[^\s\"']+\s+(?=[^\s\-]))?{_A.format('ra2')}"       # redis-cli AUTH [user] pw
    rf"|\bmc\s+(?:alias\s+set|config\s+host\s+add)\s+\S+\s+\S+\s+\S+\s+{_A.format('mc')}")  # mc alias set n url ak sk
_KC_GROUPS = tuple(KEYLESS_COMMAND.groupindex)
_KC_NEEDLES = ("7z", "zip", "-pass", "openssl", "ssh-keygen", "echo", "net ", "pass ", "-P", "sqlplus", "SecureString", " /p:",
               " /pass", "requirepass", "REQUIREPASS", "masterauth", "db.auth(", "community ", "password 0 ",
               "password 7 ", "secret 0 ", "secret 7 ", "reateUser(", "reate_user(", "AUTH ", "_passwd -b", "rar", "vsql", "swift",
               "rdesktop", "sexec", "sExec", "SEXEC", "/p:", "-password", "bw unlock", "npm", "wpa_passphrase", "nmcli", "expdp", "impdp", "exp ",
               "imp ", "sqlldr", "rman", "snmp", "redis-cli", "mc ", "mysqladmin") + PRINT_NEEDLES

#: Connection strings with no scheme (revision 13): Go's MySQL DSN ``user:pw@tcp(host:3306)/db`` (also ``unix(``,
#: ``udp(``) and Oracle's easy connect ``user/pw@host:1521/service`` (a port and a service: ``owner/repo@v1`` stays).
#: Both hold a ':' (the keyless hint's); the password is read lazily to the last '@' before the address.
DSN = re.compile(r"(?<![\w.\-])[\w.\-]{1,64}:(?P<gd>[^\s'\"]{1,200}?)@(?:tcp6?|unix|udp)\("
                 r"|(?<![\w.\-/:@])[A-Za-z_][\w$#]{0,29}/(?P<oe>[^\s'\"/][^\s'\"]{0,127}?)@(?:\[[0-9A-Fa-f:]{2,45}\]|[\w\-]+(?:\.[\w\-]+)*)"
                 r":[0-9]{2,5}/[\w.$#\-]+")


#: Credential files and sentences: a "user" "pw" line (pgbouncer), host user:pw (sasl_passwd), a
#: ``user:pw`` line on its own, "u / pw" after a word for logging in, and a password-shaped token in a
#: sentence about logging in.
_EDGE_L, _EDGE_R = r"""(?:^|(?<=[\n"']))""", r"""(?=$|[\r\n"'\\])"""
KEYLESS_LINE = re.compile(
    rf'{_EDGE_L}[ \t]*\\?"(?P<pgu>[^"\s\\]{{1,64}})\\?"[ \t]+\\?"(?P<pg>[^"\r\n\\]{{6,200}})\\?"[ \t]*{_EDGE_R}'
    rf"|{_EDGE_L}[ \t]*[\w.\-*]+:(?:[0-9]{{1,5}}|\*):[\w.\-*]+:[\w.\-*@+]+:(?P<pp>[^\s\"'\\][^\r\n\"'\\]{{4,198}}[^\s\"'\\])[ \t]*{_EDGE_R}"   # .pgpass
    rf"|{_EDGE_L}[ \t]*(?:\[[\w.\-]+\]|[\w.\-]+)(?::[0-9]{{1,5}})?[ \t]+[A-Za-z_][\w.+\-]{{0,63}}(?:@[\w.\-]+)?:(?P<sa>[^\s\"'\\]{{6,64}})[ \t]*{_EDGE_R}"
    rf"|{_EDGE_L}[ \t]*(?:[\w.\-]+[ \t]+){{0,2}}[a-z_][a-z0-9_.\-]{{0,31}}:(?P<up>[^\s\"'\\:/]{{8,64}})[ \t]*{_EDGE_R}")
_LOGIN_WORDS = re.compile(
    r"(?i)\b(?:log(?:ging|ged)?\s?in(?:to)?|logon|sign(?:ing|ed)?[\s\-]?in|ssh\s+in|creds?|credentials|wi-?fi|unseal|kennung|passphrase|identifiants"
    r"|zugangsdaten|anmeldedaten|temp(?:orary)?\s+(?:login|access))\b")
_SQL_LOGIN = re.compile(r"(?i)(?:create|alter|drop)\s{1,3}$").search
_LABEL = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+").fullmatch
_JSON_QUOTE = re.compile(r'(?<!\\)"')   # a quote that opens or closes a JSON string (not an escaped one inside it)
_JSON_VALUE = re.compile(r'"[ \t]{0,3}:[ \t]{0,3}"').match   # a key's end, then its string value's start
_SLASH = re.compile(r"[^\s/]{1,64}\s+/\s+(?P<s>[^\s\"']{6,200})")
_TOKEN = re.compile(r"""[^\s"'`(){}\[\]<>,]{8,200}""")
_NOT_PW = re.compile(r"(?i)^(?:\S*[0-9]{2}:[0-9]{2}\S*|[0-9a-f\-]+|[0-9.:\-/]+|v?[0-9]+(?:\.[0-9]+)+\S*|https?://\S*|[~.]?/\S*|[^@\s]+@[\w\-]+\.[\w.\-]+|[A-Za-z][\w.\-]{2,}=\S*|[^|\s]*(?:\|[^|\s]*){3,}|[1-5][0-9]{2}-[A-Z][A-Z0-9\-]*|(?-i:(?:CRAM|DIGEST|SCRAM|GS2)-[A-Z0-9\-]+)|S-1(?:-[0-9]+){2,15}"
                     r"|[\w.\-]+(?:/[\w.\-]+)+@(?:v?[0-9][\w.\-]*|sha256:[0-9a-f]+)"
                     r"|[\w.\-]+@[\w.\-]+:[~/][^\s$#>]{0,200}[$#>]|(?-i:(?:[A-Za-z_]\w*\.)*[A-Z][a-z]\w*(?:Error|Exception)):?|[0-9]{9,11}:[0-9]+;\S*)$")   # CEF:0|Acme|..., 250-AUTH, CRAM-MD5, a Windows SID,
# an action's or an image's reference (docker/login-action@v3, ghcr.io/acme/api@sha256:…), a shell's prompt
# (ops@bastion-1:~$), an exception's class (subprocess.CalledProcessError:),
# zsh's extended history (: 1796610067:0;vault login)


def strong(token: str) -> bool:
    """Shaped like a password: 8+ characters of three of four classes (small, capital, digit, other)."""
    classes = (any(c.islower() for c in token) + any(c.isupper() for c in token) + any(c.isdigit() for c in token)
               + any(not c.isalnum() for c in token))
    return classes >= 3 and _NOT_PW.match(token) is None


_LOGIN_STEMS = ("log", "sign", "ssh in", "cred", "wifi", "wi-fi", "unseal", "kennung", "passphrase", "identifiants",
                "zugangsdaten", "anmeldedaten", "temp")


#: What any text the keyless finder can match holds: a program's needle, a credential line's ':' or
#: quote, or the space between a word for logging in and the password.
KEYLESS_REQUIRES = _KC_NEEDLES + (":", '"', " ", "\t", "\n")


def keyless_hint(text: str) -> bool:
    """A program's needle, a credential line's ':' or quote, or a word for logging in (lower-cased)."""
    if ":" in text or '"' in text:
        return True
    for n in _KC_NEEDLES:
        if n in text:
            return True
    if " " not in text and "\t" not in text and "\n" not in text:
        return False
    return _STEM(text.lower()) is not None


#: Any of the stems (one search in C in place of 13 substring tests: ~2 against ~3 µs on a log line).
_STEM = re.compile("|".join(map(re.escape, _LOGIN_STEMS))).search




def _edges(text: str) -> Iterator[int]:
    """Where a credential line can start: the text's start, after a newline or a quote."""
    yield 0
    for ch in "\n\"'":
        at = text.find(ch)
        while at >= 0:
            yield at + 1
            at = text.find(ch, at + 1)


#: A fingerprint or a MAC address (``b2:06:84:17:…``) is no .pgpass line (``host:port:db:user:pw``).
_HEX_PAIRS = re.compile(r"[ \t]*(?:[0-9A-Fa-f]{2}:){4}")


def keyless_command_spans(text: str) -> Iterator[tuple[int, int]]:
    """Passwords programs take as an argument with no word for them (``KEYLESS_COMMAND``)."""
    if any(n in text for n in _KC_NEEDLES):
        for m in KEYLESS_COMMAND.finditer(text):
            for g in _KC_GROUPS:
                v = m.group(g)
                if v is not None and len(v) >= 4 and not v.startswith(("$", "%", "/")) and not v.isdigit() and credential_like(v):
                    yield m.span(g)   # each group found: only snmp's -A and -X are two in one alternative


def keyless_spans(text: str) -> Iterator[tuple[int, int]]:
    yield from trace_spans(text)   # ben.redact.tooltraces: GitHub Actions' evaluations, Redis AUTH
    yield from keyless_command_spans(text)
    if "@" in text:
        for m in DSN.finditer(text):
            a, b = m.span("gd") if m.group("gd") is not None else m.span("oe")
            if not_placeholder(text[a:b]):
                yield a, b
    if ":" in text or '"' in text:
        seen = -1
        for at in sorted(set(_edges(text))):
            if at <= seen:
                continue
            m = KEYLESS_LINE.match(text, at)
            if m is None:
                continue
            seen = m.end()
            for g in ("pp", "pg", "sa", "up"):
                v = m.group(g)
                if v is not None:
                    if g == "pp" and _HEX_PAIRS.match(text, m.start()) is None and ":" not in v:
                        if not_placeholder(v):   # a .pgpass line's last field is a password, whatever its shape
                            yield m.span(g)
                    elif g == "pg" and "/" in m.group("pgu") and any(c.isspace() for c in v):
                        pass   # a user agent, then a sentence (nginx's last two fields): no pgbouncer line
                    elif g != "pp" and (strong(v) or (g != "up" and len(v) >= 8 and not v.isalpha()
                                                      and _NOT_PW.match(v) is None)) \
                            and not digest_run(text, m.start(g)):   # go.sum's h1:<hash>
                        yield m.span(g)
                    break
    low = text.lower()
    if not any(s in low for s in _LOGIN_STEMS):
        return
    for w in _LOGIN_WORDS.finditer(text):
        if text[w.start() - 1:w.start()] == "/" or text[w.end():w.end() + 1] == "/":
            continue   # a path's segment (/login/callback, /oauth/login): no sentence about logging in
        if _SQL_LOGIN(text, max(0, w.start() - 8), w.start()) is not None:
            continue   # SQL's CREATE/ALTER/DROP LOGIN (a server's login object): a statement, no sentence (revision 16)
        start = text.rfind("\n", max(0, w.start() - 120), w.start()) + 1   # not read further than used (2026-12-08)
        end = text.find("\n", w.end(), w.end() + 160)
        end = len(text) if end < 0 else end
        start, end = max(start, w.start() - 120), min(end, w.end() + 160)
        if text[:1] in "{[":   # a JSON document (revision 18): the sentence is its string's, a title's and not the next
            value = _JSON_VALUE(text, w.end())   # field's; a key's ("login": "ann", "cred": "v") is its value
            if value is not None:
                start = value.end()
            else:
                before = [m.end() for m in _JSON_QUOTE.finditer(text, start, w.start())]
                start = max([start, *before[-1:]])
            q = _JSON_QUOTE.search(text, max(start, w.end()), end)
            end = end if q is None else q.start()
        for s in _SLASH.finditer(text, w.end(), end):
            yield s.span("s")
        for t in _TOKEN.finditer(text, start, end):
            a, b = t.span()
            if a <= w.start() < b:
                continue   # the word for logging in is part of it: docker/login-action@v3, --login-server=…
            v = text[a:b].rstrip(".,;:!?\\")
            if text[a + len(v):a + len(v) + 1] == ":" and _LABEL(v) is not None:
                continue   # a label before its colon (a mail's Thread-Topic:, X-Mailer:): no password (revision 18)
            if strong(v) and not v.startswith("[") and "\\" not in v:
                yield a, a + len(v)


# -- wallet keys without a prefix of their own ---------------------------------------------------------------
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
WIF = re.compile(r"(?<![1-9A-HJ-NP-Za-km-z])[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}(?![1-9A-HJ-NP-Za-km-z])")
_KEYPAIR = re.compile(r"\[\s*(?:[0-9]{1,3}\s*,\s*){63}[0-9]{1,3}\s*\]")
_PHRASE = re.compile(r"(?:(?i:seed|recovery|mnemonic|backup|secret|wallet)[ _\-]?(?i:phrase|words)s?\b|(?i:mnemonic)"
                     r"|\becho\s+\\?[\"'])[\s:=\"'\\]{0,6}"
                     r"(?P<s>(?:[a-z]{3,8}[ \t]+){11,23}[a-z]{3,8})\b")


def _wif_ok(text: str) -> bool:
    """Base58Check with a private key's version byte (0x80 main net, 0xef test net) and length."""
    import hashlib

    n = 0
    for c in text:
        n = n * 58 + _B58.index(c)
    size = 38 if len(text) == 52 else 37
    if n.bit_length() > size * 8:  # too large for its length ('z' * 51 is 301 bits, not 296): not a key
        return False
    raw = n.to_bytes(size, "big")
    if len(raw) not in (37, 38) or raw[0] not in (0x80, 0xEF) or (len(raw) == 38 and raw[33] != 1):
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


_PHRASE_NEEDLES = ("hrase", "HRASE", "nemonic", "NEMONIC", "words", "WORDS", "Words", "echo")
_UPPER, _LOWER = re.compile(r"[A-Z]").search, re.compile(r"[a-z]").search
#: A WIF key holds capitals and small letters ("\x01\x02": the prefilter's classes), a keypair '[' and ',',
#: a phrase its name or an echo.
WALLET_REQUIRES = ("\x01\x02", "[,") + _PHRASE_NEEDLES


def _long_word(text: str) -> bool:
    """A run of 51+ characters without a space (where a WIF key can be), in a text with capitals and small letters."""
    return (len(text) >= 51 and _UPPER(text) is not None and _LOWER(text) is not None
            and max(map(len, text.split())) >= 51)


def wallet_hint(text: str) -> bool:
    if "[" in text and "," in text:
        return True
    for n in _PHRASE_NEEDLES:
        if n in text:
            return True
    return _long_word(text)


def wallet_spans(text: str) -> Iterator[tuple[int, int]]:
    if _long_word(text):
        for m in WIF.finditer(text):
            if _wif_ok(m.group()):
                yield m.span()
    if text.count(",") >= 63:
        for m in _KEYPAIR.finditer(text):
            if all(int(x) < 256 for x in re.findall(r"[0-9]+", m.group())):
                yield m.span()
    for n in _PHRASE_NEEDLES:
        if n in text:
            break
    else:
        return
    for m in _PHRASE.finditer(text):
        if m.group("s").count(" ") + m.group("s").count("\t") + 1 in (12, 15, 18, 21, 24):   # BIP39 lengths
            yield m.span("s")

