"""Key = value pairs (``password=v``, ``"api_key": "v"``, ``<password>v</password>``, ``define('API_KEY', 'v')``):
the syntaxes a value follows its key in (``PAIR_VALUE``, ``MARKUP_VALUE``), the words of a password's and of a
secret's key (``PASSWORD_KEYS``, ``SECRET_KEYS``), the password hint, and ``pair_spans``, which reads a pair's value
where its syntax ends it. Moved out of ``ben.redact.finders`` (revision 12), which re-exports these names."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ben.redact.brackets import bracketed_rest as _BRACKETED, opened_before as _opened_before
from ben.redact.lookalikes import in_arn, ssh_public_run, string_prefix
from ben.redact.phrases import phrase_end
from ben.redact.values import _IDENT, credential_like

# Revision 12: a key may carry a type before its '=' (``API_KEY: &str = "v"``, ``api_key: str = "v"``, ``apiKey: string =
# "v"``: ``typed``), Make's ``?=`` assigns, an aligned table may put many spaces after the separator (``heroku config``'s
# ``KEY:        v``), and a quoted value may follow its key after spaces or a comma alone (EDN ``:acme/api-secret "v"``,
# C's ``#define API_TOKEN "v"``: ``sp``, where the value must look random, ``spaced_ok``; Erlang's ``{api_secret, "v"}``,
# Node's ``rawHeaders: ['X-Api-Key', 'v']``: ``cm``, where it must look like a credential).
# A value after a key: a YAML block scalar (``secret: |`` and the more indented lines below: ``blk``),
# quoted (to the quote), an LDAP scheme and its hash ({SSHA}...: ``s6``), or unquoted (to a space, a
# quote, '&' before the next query parameter, ',' or ';'); brackets stay part of a password
# ("pa(ss)word") but not of a list. The value starts on the key's line (``SECRET_KEY=`` then a newline
# is an empty value, not the next line); typographic quotes and backticks quote it (``„v“``, ``«v»``,
# ```v```), and so do an ODBC connection string's braces (``Pwd={v};``). Whether '&' ends an unquoted value depends on the syntax around
# the key (``pair_spans``: only in a query string).
PAIR_VALUE = (r"""(?:\\?["'])?\]?(?:[ \t]{4,40}(?==)|\s{0,3})(?:(?:(?P<typed>:[ \t]{0,3}&?(?:'static[ \t]+)?[A-Za-z_][\w<>\[\]:?.]{0,40}[ \t]{1,3}=(?=[ \t]{0,3}\\?["']))"""
          r"""|::|:=|=>|\?=|[:=])[ \t]{0,40}|(?<=[\w"'])(?:(?P<sp>[ \t]{1,3})|(?P<cm>[ \t]{0,3},[ \t]{0,3}))(?=\\?["']))"""
          r"""(?:(?P<blk>[|>][+\-]?[1-9]?[+\-]?[ \t]*(?:\#[^\r\n]*)?(?=\r?\n))"""
          r"""|\\?["'](?P<s>(?:[^"'\\\r\n]|\\\r?\n){%(q)s})|(?P<s6>\{[A-Z][A-Z0-9\-]{1,15}\}[^\s"'\\,;<>{}\[\]]{4,400})"""
          r"""|(?P<s11>\[[^\s"'\\,;<>{}\[\]]{1,200}\][^\s"'\\,;<>{}\[\]]{1,400})"""
          r"""|[‘“„«‹`]\s?(?P<s9>[^’”“»›`\r\n]{%(q)s}?)\s?[’”“»›`]|\{(?P<s10>[^{}\r\n]{%(q)s})\}(?=[;"'\s]|$)"""
          r"""|(?P<s2>[^\s"'\\,;<>{}\[\]]{%(u)s}))""")
# The same key in markup and calls: <password>v</password>, <wsse:Password Type="…">v</wsse:Password> (an element
# with attributes: s12), name="password" value="v", define('DB_PASSWORD', 'v'), getenv("API_KEY", "v"), and Gradle's
# buildConfigField("String", "API_KEY", "\"v\""), also as Groovy writes it: buildConfigField 'String', 'API_KEY', '"v"'
# (a string literal inside a string literal: s13).
MARKUP_VALUE = (r"""(?:\s{0,3}>(?P<s3>[^<\s][^<\r\n]{0,399})</|["']>(?P<s8>[^<\s]{1,400})</"""
                r"""|\s(?:\s{0,2}[\w:.\-]{1,40}\s{0,2}=\s{0,2}"[^"<>\r\n]{0,300}"){1,4}\s{0,2}>(?P<s12>[^<\s][^<\r\n]{0,399})</"""
                r"""|\(\s{0,3}["'](?P<s7>[^"'\r\n]{1,400})["']\s{0,3}\)|["']\s{1,3}value\s{0,3}=\s{0,3}["'](?P<s4>[^"'\r\n]{1,400})"""
                r"""|["']\s{0,3},\s{0,3}["'](?P<s5>[^"'\r\n]{1,400})["']\s{0,3}\)"""
                r"""|["']\s{0,3},\s{0,3}(?:["']\\["']|'")(?P<s13>[^"'\\\r\n]{1,400})(?:\\["']["']|"')\s{0,3}(?:\)|(?=[\r\n]|$)))""")
# Words for a password, also in the languages logs are commonly written in ("pass" only after a
# non-letter: "bypass=" is no key).
PASSWORD_WORDS = (r"pass(?:word|wd|[_\-.]?phrase|wort|ord)|(?<![a-z])(?P<bare>pass)(?![a-z])|pwd|(?-i:(?<![A-Za-z])(?:pw|PW|Pw)|(?<=[a-z])P[wW]|(?<=[a-z])Pass)(?![a-z])|(?<![a-z])psk(?![a-z])|secret|"
                  r"kennwort|contrase(?:[ñn]a|nya)|clave|κωδικ[όο]ς|סיסמה|كلمة[_\-. ]?(?:ال)?مرور|m[ậa]t[_\-. ]?kh[ẩa]u|รหัสผ่าน|"
                  r"kata[_\-. ]?sandi|"
                  r"mot[_\-. ]?de[_\-. ]?passe|motdepasse|senha|wachtwoord|has[lł]o|l[öo]senord|salasana|parola|"
                  r"jelsz[óo]|heslo|[şs]ifre|adgangskode|lozinka|пароль|密码|口令|パスワード|비밀번호")
PASSWORD_KEYS = rf"(?i:{PASSWORD_WORDS})(?:[_\-.]?(?i:b64|base64|hex))?"   # ADMIN_PASSWORD_B64=
#: The last three characters (in small letters) of every word of PASSWORD_WORDS, and the last two of
#: the words written in two characters: the password hint looks only at what precedes a separator.
PASSWORD_TAILS = frozenset({"ord", "swd", "ase", "ort", "ass", "pwd", "ret", "eña", "ena", "ave", "sse", "nha", "slo",
                            "sło", "ana", "ola", "szó", "szo", "fre", "ode", "nka", "оль", "nya", "κός", "κος", "מה",
                            "רור", "hẩu", "hau", "่าน", "ndi", "psk", "b64", "e64", "hex"})
PASSWORD_TAILS_2 = frozenset({"密码", "口令", "ード", "번호", "pw", "PW", "Pw", "מה"})
_QUOTES = "\"'\\ ]?"   # ?: Make's ?=
#: What may follow a key: a separator, or a quote (``#define DB_PASSWORD "v"``, ``{:db/password "v"}``; revision 12).
SEPARATORS = "=:>,(\""


#: Quotes, backslashes and spaces skipped back from a separator to the word before it, at most: unbounded, a
#: text of 40,000 quotes (each one a separator since revision 12) cost a walk back over all the others from each,
#: 59 s for one 40 KB line (``test_heldout_style7``'s long inputs, 2 s before).
MAX_GAP = 64


def _tail_is_key(s: str, at: int) -> bool:
    """Does a password word end just before ``at`` (after quotes, a backslash and spaces are skipped, up to
    ``MAX_GAP`` of them)? A loop, not a call per ``value`` (2026-12-08: ``"value" * 2000 + "="`` went 2,000 calls deep
    and failed the batch closed with a RecursionError)."""
    while True:
        q, stop = at, max(0, at - MAX_GAP)
        while q > stop and s[q - 1] in _QUOTES:
            q -= 1
        tail = s[q - 3 if q > 3 else 0:q].lower()
        if tail in PASSWORD_TAILS or tail[-2:] in PASSWORD_TAILS_2:
            return True
        if tail == "lue" and s[q - 5:q].lower() == "value":   # name="password" value="..."
            at = q - 5
            continue
        return False


def password_hint(s: str) -> bool:
    """A password word just before a separator (``= : > ,``, after quotes and spaces): one find per
    separator and a set lookup of the three characters before it, in place of ~34 substring tests
    (a substring test costs 0.1-0.3 µs on a log line; lower-casing a line ~1 µs, one regex of the words ~20 µs)."""
    tails, quotes = PASSWORD_TAILS, _QUOTES
    for sep in SEPARATORS:
        p = s.find(sep)
        while p >= 0:   # a separator at 0 (":path:" first) does not hide the later ones
            if s[p - 1] in quotes or p < 3:
                if _tail_is_key(s, p):
                    return True
            else:   # the common case, inline
                tail = s[p - 3:p].lower()
                if tail in tails or s[p - 2:p] in PASSWORD_TAILS_2 or (tail == "lue" and _tail_is_key(s, p)):
                    return True
            p = s.find(sep, p + 1)
    return False


#: Vendors whose credential is called "<vendor> key" (FASTLY_KEY, stripeKey, X-Mailgun-Key; revision 11): a
#: vendor's name before "key" makes it one, where "sort_key", "cache_key", "object_key" are none.
_VENDOR_NAMES = ("fastly", "stripe", "sendgrid", "mailgun", "mailchimp", "mandrill", "postmark", "twilio", "vonage", "nexmo",
                 "algolia", "pusher", "mapbox", "openai", "anthropic", "mistral", "cohere", "groq", "gemini", "replicate",
                 "datadog", "relic", "honeycomb", "sentry", "rollbar", "bugsnag", "paypal", "adyen", "braintree",
                 "square", "vercel", "netlify", "supabase", "cloudflare", "linode", "vultr", "hetzner", "heroku", "doppler",
                 "infisical",
                 # revision 13: AI, payment, observability, identity and data vendors of a secret-scanning partner list
                 "adafruit", "aio", "elevenlabs", "deepgram", "assemblyai", "firecrawl", "tavily", "jina", "voyage", "fireworks",
                 "cerebras", "openrouter", "langfuse", "mixpanel", "amplitude", "launchdarkly", "devcycle", "unkey", "zuplo",
                 "axiom", "logzio", "coralogix", "honeybadger", "paddle", "xendit", "midtrans", "razorpay", "persona", "onfido",
                 "stytch", "clerk", "weaviate", "qdrant", "pinecone", "meilisearch", "typesense", "trello", "zendesk",
                 "intercom", "hubspot", "airtable", "notion", "figma", "adafruit_io", "adafruitio", "adafruit-io")
#: A vendor's name just before "key": tried only where "key" (or "_key") follows, by a lookahead, then a look back per
#: name (41 alternatives at every position of every text cost the pair rule ~50 %; this costs it nothing measurable).
VENDOR_KEY = (r"(?=[_\-. ]?key)(?:" + "|".join(f"(?<={re.escape(n)})" for n in _VENDOR_NAMES) + r")[_\-. ]?key")
#: A token's or an API key's name in the languages logs are commonly written in (revision 12; a password's are in
#: PASSWORD_WORDS): API-Schlüssel, clé_api, clave_api, chave_api, ключ_api, jeton, токен, 令牌, 密钥, 秘钥, トークン, APIキー, 토큰.
#: "Schlüssel", "clave", "ключ" alone are any key (a door's, a map's): only with "api".
FOREIGN_KEYS = (r"(?:cl[ée]|clave|chave|ключ)[_\-. ]?(?:d[e']?[_\-. ]?)?api|api[_\-. ]?(?:schl[üu]ssel|キー|키)|schl[üu]ssel[_\-. ]?api"
                r"|jeton(?:[_\-. ]?(?:api|d[e']?[_\-. ]?acc[eè]s))?|токен|令牌|密钥|秘钥|トークン|토큰")
#: Their ASCII parts and their words, for the pair rule's hint (``detectors._PAIR_NEEDLES``); the prefilter tests a
#: needle's ASCII characters only, so none is a short ASCII rest ("lé" would be "l").
FOREIGN_NEEDLES = ("lüssel", "LÜSSEL", "have", "HAVE", "lave", "LAVE", "le_api", "LE_API", "leApi", "lé_api", "léApi", "LÉ_API",
                   "lé-api", "eton", "ETON", "ключ", "КЛЮЧ", "токен",
                   "Токен", "ТОКЕН", "令牌", "密钥", "秘钥", "トークン", "キー", "토큰", "키")
# A key may end in a word saying how the secret is written: SECRET_KEY_BASE, api_key_value, token_b64.
_KEY_SUFFIX = r"(?:[_\-.]?(?i:base|value|b64|base64|hex|str|string|data)|[_\-. ]?[0-9])?"   # "Unseal Key 1: v"
SECRET_KEYS = (r"(?i:token|api[_\-. ]?key|apikey|access[_\-. ]?key(?:[_\-. ]?id)?|secret[_\-. ]?key|private[_\-. ]?key"
                r"(?:[_\-. ]?id)?|auth[_\-. ]?key|app[_\-. ]?key|license[_\-. ]?key|credentials?|client[_\-. ]?secret|"
                r"signing[_\-. ]?key|encryption[_\-. ]?key|master[_\-. ]?key|dsn|(?<![a-z])auth(?![a-z])|"
                r"(?:routing|service|integration|webhook|server|shared|account|consumer|admin|write|ingest|insert|deploy|"
                r"session|wallet|signer|signature|subscription|functions?|hmac|application|jwt|sdk|root|sas|relay)[_\-. ]?key|"
                + VENDOR_KEY + "|"
                r"authtok|(?<![a-z])pat(?![a-z])|mnemonic|seed[_\-. ]?phrase|"
                r"(?<![a-z])(?:x-amz-|x-goog-)?signature(?![a-z])|add-mask|"
                r"recovery[_\-. ]?phrase|key[_\-. ]?pair|honeycomb[_\-. ]?team|"
                r"webhook(?:[_\-. ]?url)?|secret[_\-. ]?id|(?:fernet|unseal)[_\-. ]?key|key[_\-. ]?store|keytab|macaroon|" + FOREIGN_KEYS + ")"
                + _KEY_SUFFIX)   # OTLP's x-honeycomb-team


#: A quoted string followed by ':' is a key, not a value (``{"name": "db-password", "version_id": …}``).
_NEXT_IS_KEY = re.compile(r"""\\?["'](?::|\s{1,3}:(?=\s))""").match   # not EDN's "v" :next/key
#: An unquoted value that is code reading another name: a dotted identifier or a call's name before '(' or '[', or a call
#: without arguments (mongosh's ``pwd: passwordPrompt()``; revision 16).
_CODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\(?|[A-Za-z_][A-Za-z0-9_]*\(\)?").fullmatch
#: An environment variable read by name (``process.env.STRIPE_SECRET_KEY``, ``import.meta.env.VITE_KEY``): code.
_ENV_READ = re.compile(r"(?:process|import\.meta|Deno)\.env\.[A-Za-z_][A-Za-z0-9_]*").fullmatch
#: A YAML tag (``password: !vault |``, Ansible's encrypted value follows on the next lines).
_YAML_TAG = re.compile(r"!{1,2}[a-z][a-z0-9_\-]*").fullmatch


def spaced_ok(v: str) -> bool:
    """A value quoted after its key and a space alone (no separator): random-looking, not a name. Eight characters or
    more, no space, and two of capitals, small letters and digits (``secret "db-password" not found`` stays)."""
    if len(v) < 8 or " " in v:
        return False
    return (any(c.isupper() for c in v) + any(c.islower() for c in v) + any(c.isdigit() for c in v)) >= 2


def pairs(needles: tuple[str, ...]) -> Callable[[str], bool]:
    """A key word and a separator: one of the needles, and ':', '=', '>' (markup) or ',' (a call's arguments)."""
    def hint(s: str) -> bool:
        if "=" not in s and ":" not in s and ">" not in s and "," not in s and "(" not in s and '"' not in s:
            return False
        for n in needles:
            if n in s:
                return True
        return False

    return hint


_NEXT_PARAM = re.compile(r"&(?=[\w.\-\[\]%]{1,40}=)")
_SEGMENT_ENDS = " \t\r\n\"'"


def in_query(text: str, at: int, seen: list | None = None) -> bool:
    """Is the key at ``at`` a parameter of a query string, a URL's fragment (``#access_token=v&expires_in=…``, as
    OAuth's implicit flow writes it) or a form body (``?``, ``#``, ``&`` before it in the same run of non-space
    characters), where '&' ends a value? In an .env line, an INI file, a shell assignment or a log field it does not:
    ``DB_PASSWORD=ab&cd=ef`` is one value. ``seen`` (a list the caller keeps per text, empty at first): what the last
    call read, so that calls going right read each character once (2026-12-08: each read back to the run's start, a
    long run of pairs took time quadratic in its length)."""
    if seen and seen[0] <= at:
        prev, lo, found = seen
        cut = max(text.rfind(c, prev, at) for c in _SEGMENT_ENDS)
        if cut >= 0:   # a new run
            prev = lo = cut + 1
            found = False
    else:
        prev = lo = max(text.rfind(c, 0, at) for c in _SEGMENT_ENDS) + 1
        found = False
    found = found or text.find("?", prev, at) >= 0 or text.find("&", prev, at) >= 0 or text.find("#", prev, at) >= 0
    if seen is not None:
        seen[:] = at, lo, found
    return found


def block_span(text: str, key_at: int, body_at: int) -> tuple[int, int] | None:
    """The lines of a YAML block scalar (``key: |`` / ``key: >-`` ...) after the key's line: those more
    indented than the key (blank lines inside it included); None if there are none."""
    line = text.rfind("\n", 0, key_at) + 1
    indent = 0
    while line + indent < key_at and text[line + indent] in " \t-":   # "- key: |" in a list counts the dash
        indent += 1
    pos = text.find("\n", body_at)
    first = end = -1
    while pos >= 0:
        start = pos + 1
        nxt = text.find("\n", start)
        stop = len(text) if nxt < 0 else nxt
        content = text[start:stop].rstrip(" \t\r")
        if content.strip():
            lead = len(content) - len(content.lstrip(" \t"))
            if lead <= indent:
                break
            if first < 0:
                first = start + lead
            end = start + len(content)
        pos = nxt
    return None if first < 0 else (first, end)


#: The rest of a quoted (``s``) or unquoted (``s2``) value its pattern's bound of 400 characters cut (revision 12: a GCS
#: V4 signature is 512 hex characters, an lnd macaroon 460): read to the value's end without a bound in the regex.
_LONG_TAIL = {"s": re.compile(r"[^\"'\\\r\n]*").match, "s2": re.compile(r"[^\s\"'\\,;<>{}\[\]]*").match}


#: An unquoted value cut at ',' or ';' whose key starts its line and whose line goes on without a space, a quote or
#: another key (``cfapitoken:v,region:eu-west-1`` ends at the ',').
#: A plan's change after a value (revision 17): Terraform's ``"old" -> "new"``, Pulumi's ``"old" => "new"``; the new
#: value quoted, on the same line.
_CHANGED_TO = re.compile(r"""["']?[ \t]{1,3}(?:->|=>)[ \t]{1,3}(?P<q>["'])(?P<v>[^"'\\\r\n]{1,400})(?P=q)""").match
#: Read as ``(?:(?![,;][ \t]*[A-Za-z_][\w.\-]*[:=])[^\s\"'\\])+(?=\r?\n|$)`` would (``_rest_of_line``): the run, no key after it, then
#: the line's end. That expression, failing, gave back its run a character at a time, from every pair of the line (2026-12-08:
#: 200 kB of ``-password=ab,1`` then a space took 76 s of CPU).
_RUN_TO_KEY = re.compile(r"(?:(?![,;][ \t]*[A-Za-z_][\w.\-]*[:=])[^\s\"'\\])*+").match
_LINE_END = re.compile(r"\r?\n|$").match
_LINE_START = re.compile(r"[ \t]*(?:export[ \t]+)?[\w.\-]*$").match


def _rest_of_line(text: str, b: int, memo: list) -> int:
    """Where an unquoted value cut at ``b`` (a ',' or ';') ends if the rest of its line is one run with no key in it:
    the line's end less its last ',' and ';' (-1: it is not). ``memo`` (a list the caller keeps per text, empty at
    first): the last run read, which every ``b`` inside it shares (a position's test looks only ahead of it)."""
    if not (memo and memo[0] <= b <= memo[1]):
        e = _RUN_TO_KEY(text, b).end()
        s = e
        while s > b and text[s - 1] in ",;":
            s -= 1
        memo[:] = b, e, s, _LINE_END(text, e) is not None
    _, e, s, at_end = memo
    return max(b, s) if e > b and at_end else -1


def _first(text: str, mark: str, marks: dict[str, int]) -> int:
    """Where ``mark`` first occurs in ``text`` (-1: nowhere), looked for once per text: ``text.rfind(mark, 0, a) >= 0``
    is ``0 <= first <= a - len(mark)``, without reading back to the text's start from every value (2026-12-08)."""
    at = marks.get(mark)
    if at is None:
        at = marks[mark] = text.find(mark)
    return at


def pair_spans(rx: re.Pattern, ok: Callable[[str], bool], phrases: bool = False) -> Callable[[str], Iterator[tuple[int, int]]]:
    """The value of every key = value (or markup) pair rx finds that ok accepts; with ``phrases``, an unquoted
    value goes on over the words after it where the syntax closes it (``ben.redact.phrases``)."""
    def find(text: str) -> Iterator[tuple[int, int]]:
        pos = 0
        tails: dict[str, tuple[int, int]] = {}   # per group: the last long tail read, (from, to)
        marks: dict[str, int] = {}               # where '{+' and '[-' first occur, once looked for
        seen: list[int] = []                     # brackets counted on the line so far (ben.redact.brackets)
        run: list = []                           # the run of non-space characters read so far (in_query)
        lines: list = []                         # the last run read to a line's end (_rest_of_line)
        while (m := rx.search(text, pos)) is not None:
            pos = m.end()
            if text[m.start()].isalnum() and ssh_public_run(text, m.start()):
                continue   # 'Pw=' at the end of an SSH public key's base64 (ecdsa-sha2-nistp256 AAAA…OqPw= ops@laptop)
            if text.endswith(("checksum/", "Checksum/", "CHECKSUM/"), max(0, m.start() - 9), m.start()):
                continue   # a chart's annotation checksum/secret: <sha256 of the rendered Secret> (revision 17)
            if m.group("blk") is not None:
                span = block_span(text, m.start(), m.end("blk"))
                if span is not None:
                    yield span
                continue
            for g in ("s", "s6", "s9", "s10", "s11", "s2", "s3", "s12", "s4", "s5", "s13", "s7", "s8"):
                v = m.group(g)
                if v is not None:
                    a, b = m.span(g)
                    if b - a >= 400 and g in _LONG_TAIL:   # a value longer than the pattern reads (a 512-hex signature)
                        t = tails.get(g)
                        if t is None or not t[0] <= b <= t[1]:   # a run read once, not again from each key inside it
                            t = tails[g] = (b, _LONG_TAIL[g](text, b).end())
                        b = pos = t[1]
                        if g == "s2" and (cut := _NEXT_PARAM.search(text, a, b)) is not None and in_query(text, m.start(), run):
                            b = pos = cut.start()   # not copied past the query's next parameter (2026-12-08)
                        v = text[a:b]
                    if g == "s2" and "&" in v and (cut := _NEXT_PARAM.search(text, a, b)) is not None \
                            and in_query(text, m.start(), run):   # the next parameter of a query string
                        b = pos = cut.start()
                        v = text[a:b]
                    elif g in ("s2", "s11") and text[b:b + 1] in "[]" and (more := _BRACKETED(text, b)) is not None \
                            and not _opened_before(text, m.start(), seen):
                        b = pos = more.end()   # ADO.NET Password=ab[c]d: a bracket inside the value, not a list
                        v = text[a:b]
                    elif g == "s2" and text[b:b + 1] in ",;" and (rest := _rest_of_line(text, b, lines)) - b > 1 \
                            and _LINE_START(text, text.rfind("\n", 0, m.start()) + 1, m.start()) is not None:
                        b = pos = rest   # a .properties/.env line: the value runs to the
                        v = text[a:b]                                  # line's end (pw,with;these), not a last ';'
                    if g == "s2" and text[b - 1:b + 1] in ("+}", "-]") \
                            and 0 <= _first(text, "{+" if text[b] == "}" else "[-", marks) <= a - 2:
                        v, b = v[:-1], b - 1   # a word diff's mark closes the value: {+SMTP_PASSWORD=+} (revision 17)
                    if v.endswith(")") and "(" not in v:   # "(using password: YES)": the bracket closes the text
                        v, b = v[:-1], b - 1
                    v = v.strip()
                    if g == "s" and (m.group("sp") is not None or m.group("cm") is not None) and (
                            not (spaced_ok(v) if m.group("sp") is not None else credential_like(v))
                            or _NEXT_IS_KEY(text, b) is not None):
                        break   # secret "db-password" not found; ("password", "username"); {"a": "db-password", "k": v}
                    if g == "s2" and (_CODE(v) is not None and (v[-1] in "()" or text.startswith(("(", "["), b))
                                      or _YAML_TAG(v) is not None or _ENV_READ(v) is not None):
                        break   # environment["API_KEY"], os.Getenv("TOKEN"), !vault | (code reading a secret by its name)
                    if g == "s10" and (not credential_like(v) or _IDENT(v) is not None):
                        break   # Pwd={DB_PASSWORD}, {password}: a template's field
                    if g in ("s5", "s13", "s7", "s8") and not credential_like(v):
                        break   # a call's argument or an element's text that is a word: ("password", "username")
                    if "bare" in m.re.groupindex and m.group("bare") and (len(v) < 4 or v.isdigit()):
                        break   # 'pass' alone: "tests pass: 12" is a count
                    if v.isdigit() and text.startswith(" bytes", b):
                        break   # kubectl describe secret: "password:  24 bytes" is a size
                    if v and ok(v) and not string_prefix(text, a, b) and not in_arn(text, m.start()) \
                            and not v.startswith("arn:"):   # "SecretId": "arn:aws:secretsmanager:…" names a secret
                        if phrases and g == "s2" and b < len(text) and text[b] == " " and not in_query(text, m.start(), run):
                            b = pos = phrase_end(text, m.start(), a, b)
                        yield a, b   # not b'...' (a string's prefix), nor secret: in an ARN (ben.redact.lookalikes)
                        if (nxt := _CHANGED_TO(text, b)) is not None and ok(nxt.group("v")):
                            pos = max(pos, nxt.end("v"))
                            yield nxt.span("v")   # a plan's change: "old" -> "new", "old" => "new" (revision 17)
                    break

    return find
