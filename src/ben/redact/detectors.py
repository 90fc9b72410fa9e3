"""Value detectors: find secrets and personal data inside any string (finders: ``ben.redact.finders``).

Each detector is a regex compiled once, a cheap *hint* (substring tests that must pass before the
regex runs; most strings fail them in a few tens of nanoseconds) and an optional validator that
rejects look-alikes (Luhn and issuer prefixes for cards, ``ipaddress`` for IPs, check letters for
national IDs). A match's *secret* part is the named group ``s`` when the regex has one (e.g. the
token after ``Bearer``), else the whole match.

The bare-format national ID detectors ``uk_nino`` and ``es_dni`` are opt-in (no default rule uses them);
``us_ssn`` and ``id_number`` (an identifier named by a key or a sentence, ``ben.redact.identifiers``) are on.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from ben.redact.cards import _CARD, DOTTED_4, _card_hint, _card_ok, _card_parts, card_spans, luhn_ok  # noqa: F401
from ben.redact.digits import IBAN, IBAN_LOWER_CONTEXT, PHONE, iban_spans, phone_ok, phone_spans, ssn_spans
from ben.redact.finders import (COMMAND_LINE, COOKIE, DISCORD, EMAIL, PASSWORD_HASH, MARKUP_VALUE, OKTA, PAIR_VALUE, PASSWORD_KEYS,
                                PASSWORD_TAILS, PASSWORD_TAILS_2, RANDOM_KEY, SECRET_KEYS, TOKEN, WORD, after, command_line_spans,
                                cookie_spans, credential_like, email_spans, password_value, hash_spans, not_placeholder, pair_spans, pairs, password_hint,
                                random_b64, random_key_spans, token_hint, token_spans, validated)
from ben.redact.formats import PREFIXES
from ben.redact.pairs import FOREIGN_NEEDLES, SEPARATORS
from ben.redact.lookalikes import documentation_value
from ben.redact import argv, azurekeys, changes, identifiers, keyfiles, layered, messages, queries
from ben.redact.sentences import VAULT_LEGACY, WORDED, WORDED_REQUIRES, vault_hint, vault_legacy_spans, worded_hint, worded_spans
from ben.redact.layouts import LAYOUT_REQUIRES, SESSION_COOKIE, SESSION_NEEDLES, layout_hint, layout_spans, session_cookie_spans
from ben.redact.wrapped import (HEX_REQUIRES, base64_pii_spans, pii_hint, HEX_TEXT, REQUIRES as B64_REQUIRES, hex_hint, hex_text_spans, hint as b64_hint,
                                k8s_secret_spans, wrapped_spans)


@dataclass(frozen=True, eq=False)   # identity: hashed in hot paths
class SecretRule:
    """A built-in kind of secret a manifest's ``detect = [...]`` names (``SECRET_RULES[name]``): a
    cheap hint, a regex and an optional validator, with what the engine's shortcuts need to know of
    them. Called a secret rule, not a detector: ``ben.detect`` has detectors of anomalies."""

    name: str
    regex: re.Pattern
    hint: Callable[[str], bool]
    validate: Callable[[str], bool] | None = None
    help: str = ""
    #: The shortest text a match can be found in: shorter strings skip this detector.
    min_len: int = 1
    #: Can a match lie in a text that is all letters and digits (``str.isalnum``)? Ids, hashes and
    #: words skip the detectors that need '@', '.', ':', '-', '=', '_' or a space.
    alnum: bool = False
    #: For a candidate that fails `validate`: (start, end) of valid parts inside it (e.g. a card
    #: number followed by another group of digits).
    refine: Callable[[str], Iterator[tuple[int, int]]] | None = None
    #: What every text the hint accepts holds, for the engine's batch prefilter (``ben.redact.prefilter``):
    #: all the characters of at least one of these strings ("" = no particular character) and at least
    #: `min_digits` ASCII digits. None: the hint's needles. Must never be stricter than the hint
    #: (tests/redact/test_fast_path.py checks it): a text the prefilter rejects is not scanned at all.
    requires: tuple[str, ...] | None = None
    min_digits: int = 0
    #: Finds the spans itself (the regex then only documents what it looks for): for detectors that
    #: look tokens up in a table (``formats``) or check a structure a regex cannot (IBAN lengths).
    find: Callable[[str], Iterator[tuple[int, int]]] | None = None

    @property
    def needles(self) -> tuple[str, ...] | None:
        """The hint as substrings (one must occur), when it is one: the engine tests them inline."""
        return getattr(self.hint, "needles", None)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The regex's named groups (the secret part, when one matched)."""
        return tuple(self.regex.groupindex)

    @property
    def needs(self) -> tuple[str, ...]:
        """`requires`, or the hint's needles: one of them must be in a text, character by character."""
        if self.requires is not None:
            return self.requires
        if self.needles is None:
            raise TypeError(f"detector {self.name}: a hint that is not substrings needs `requires`")
        return self.needles

    def spans(self, text: str, hinted: bool = False) -> Iterator[tuple[int, int]]:
        """(start, end) of every secret part found in text."""
        if not hinted and not self.hint(text):
            return
        if self.find is not None:
            yield from self.find(text)
            return
        groups = self.groups
        search = self.regex.search
        pos = 0
        while (m := search(text, pos)) is not None:
            start, end = m.span()
            for g in groups:  # the secret part, if the detector marks one
                if m.group(g) is not None:
                    start, end = m.span(g)
                    break
            if end <= start:
                pos = m.end() if m.end() > m.start() else m.start() + 1
                continue
            if self.validate is None or self.validate(text[start:end]):
                yield start, end
                pos = m.end()
                continue
            if self.refine is not None:
                found = False
                for a, b in self.refine(text[start:end]):
                    found = True
                    yield start + a, start + b
                if found:
                    pos = m.end()
                    continue
            # not valid: a valid match may still start inside it (e.g. a card after other digits)
            pos = m.start() + 1


def _any(*needles: str) -> Callable[[str], bool]:
    def hint(s: str) -> bool:
        for n in needles:
            if n in s:
                return True
        return False

    hint.needles = needles
    return hint


_DIGITS_6 = re.compile(r"[0-9] ?[0-9] ?[0-9]").search
# a phone number holds 4 digits in a row (its last group; spaces or dashes may join groups), an SSN 9
_CHAIN_4 = re.compile(r"[0-9](?:[ \-]?[0-9]){3}").search
_CHAIN_9 = re.compile(r"[0-9](?:[ \-]?[0-9]){8}").search


_UPPER = re.compile(r"[A-Z]").search
_LOWER = re.compile(r"[a-z]").search


def _mixed_case(s: str) -> bool:
    """An ASCII capital and an ASCII small letter (the prefilter's classes "\\x01" and "\\x02")."""
    return _UPPER(s) is not None and _LOWER(s) is not None



def _digits_hint(s: str) -> bool:
    return _DIGITS_6(s) is not None


def _iban_hint(s: str) -> bool:
    """A capital, or a small letter in a text that is not all letters and digits (``IBAN_LOWER_CONTEXT``), and digits."""
    if _UPPER(s) is None and (_LOWER(s) is None or not any(c in s for c in IBAN_LOWER_CONTEXT)):
        return False
    return _DIGITS_6(s) is not None


# -- JWT, national IDs ----------------------------------------------------------------------------
def _jwt_ok(text: str) -> bool:
    head = text.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and ("alg" in header or "typ" in header or "enc" in header)


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_ok(text: str) -> bool:
    digits, letter = text[:8], text[-1]
    return _DNI_LETTERS[int(digits) % 23] == letter


_PASSWORD = re.compile(PASSWORD_KEYS + "(?:" + PAIR_VALUE % {"q": "1,400", "u": "1,400"} + "|" + MARKUP_VALUE + ")")
_SECRET_PAIR = re.compile(SECRET_KEYS + "(?:" + PAIR_VALUE % {"q": "8,400", "u": "8,400"} + "|" + MARKUP_VALUE + ")")

# a flag follows a space or, in an argv list, a quote: "u-5cb96538d3" (a dash alone) is not looked at;
# "ass" stands for password, passwd, passphrase and htpasswd (each needle costs 0.1-0.3 µs a log line)
_CMD_NEEDLES = (" -", '"-', "'-", "ass", "ASS", "oracle:", "dentified", "DENTIFIED", "contrase", "senha", "mqctl")
# words for a password no ASCII needle holds: looked for only in a text with a space (a sentence), which the
# batch prefilter can test (it has no bits for non-ASCII characters)
_CMD_WORDS = ("ароль", "密码", "口令", "パスワード", "비밀번호")
_cmd_needles = _any(*_CMD_NEEDLES)


def _cmd_hint(s: str) -> bool:
    if _cmd_needles(s):
        return True
    if " " in s:
        for w in _CMD_WORDS:
            if w in s:
                return True
    return False


def _webhook_ok(v: str) -> bool:
    """A webhook's secret path: random (a digit in it, or Mattermost's 26 small letters), not a word path
    (/hooks/deployment-status-updates)."""
    return any(c.isdigit() for c in v) or len(v) == 26 and v.isalpha() and v.islower()


_PAIR_NEEDLES = ("oken", "OKEN", "ey", "EY", "redential", "REDENTIAL", "ecret", "ECRET", "sn", "SN", "uth", "UTH",
                 "PAT", "_pat", "Pat", "nemonic", "NEMONIC", "hrase", "HRASE", "oneycomb", "ignature", "IGNATURE",
                 "add-mask", "authtok", "ebhook", "EBHOOK")   # each ~0.1 µs a log line
#: Needles the prefilter gets with a separator (revision 12): a non-ASCII word's ASCII rest, and "macaroon" (an lnd
#: macaroon is hex: as a token format its "0201036c6e64" admitted every hex id to the token rule's scan).
_SEP_NEEDLES = FOREIGN_NEEDLES + ("acaroon", "ACAROON")
def _token_hint(text: str) -> bool:
    return token_hint(text) or azurekeys.hint(text)


def _token_spans(text: str) -> Iterator[tuple[int, int]]:
    yield from token_spans(text)
    if azurekeys.hint(text):
        yield from azurekeys.spans(text)


_B = r"(?<![A-Za-z0-9])"   # not preceded by a letter or digit
_E = r"(?![A-Za-z0-9])"    # not followed by one

SECRET_RULES: dict[str, SecretRule] = {d.name: d for d in (
    SecretRule("email", EMAIL, _any("@"), help="e-mail addresses (not the password@host of a URL's user:password@host: "
             "url_userinfo masks the password, the host stays)", min_len=6, find=email_spans),
    SecretRule("card", _CARD, _card_hint, _card_ok,
             help="payment card numbers (issuer prefix and length, Luhn-checked; grouped by spaces, dashes or dots)",
             refine=_card_parts, min_len=13, alnum=True, requires=("",), min_digits=13, find=card_spans),
    SecretRule("ipv4", re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])"), _any("."), _ip_ok,
             help="IPv4 addresses", min_len=7),
    SecretRule("ipv6", re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|"
                                r"(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?![0-9A-Za-z_:])"), _any(":"), _ip_ok,
             help="IPv6 addresses", min_len=2),
    SecretRule("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"
                                 r"|\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)"
                                 r"(?:\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)?"), _any("eyJ"), _jwt_ok,
             help="JSON Web Tokens: JWS (3 parts) and JWE (5 parts, the key part empty with alg 'dir')", min_len=13),
    SecretRule("bearer", re.compile(r"(?i)\b(?:bearer|token|basic|jwt|ssws|splunk|apikey|geniekey|macaroon|ntlm|negotiate|zoho-oauthtoken)"
                                   r"[ \t]+(?P<s>[A-Za-z0-9._~+/][A-Za-z0-9\-._~+/]{7,}=*)(?![A-Za-z0-9=])"   # not a pair: Bearer expires_in=3600
                                   r"|(?i:digest)\s+(?P<s2>(?:[a-z\-]+=(?:\"[^\"\r\n]*\"|[^\s,\"]+),?\s*){2,})"
                                   r"|(?i:authorization)[\"']?\s{0,3}[:=,]\s{0,3}[\[\"'\s]{0,4}(?!digest\s)(?:[A-Za-z][\w\-]{1,30}\s+(?:[a-z]{1,10}=)?)?"
                                   r"(?P<s3>[A-Za-z0-9._~+/][A-Za-z0-9\-._~+/:]{7,}=*)"
                                   r"|\boauth(?::|%3[Aa])(?P<s4>[a-z0-9]{30})(?![A-Za-z0-9])"),   # Twitch's chat token (IRC PASS)
             _any("earer", "EARER", "oken", "OKEN", "asic", "ASIC", "igest", "IGEST", "JWT", "jwt", "SSWS", "plunk", "piKey",
                  "NTLM ", "Ntlm ", "egotiate ", "EGOTIATE ", "oauth:", "oauth%3",
                  "enieKey ", "eniekey ", "ENIEKEY ", "acaroon ", "ACAROON ", "uthorization", "UTHORIZATION"),   # with their
             # space: the prefilter tests characters, and a, c, r, o, n alone are in most words
             credential_like,
             help="credentials after 'Bearer', 'Token', 'Basic', 'GenieKey'..., any scheme's credential in an Authorization "
                  "header (Klaviyo-API-Key, Token token=...), and the parameters of 'Digest' (authorization "
                  "headers); a word is not one ('token validation succeeded')", min_len=14),
    SecretRule("aws_key", re.compile(
        _B + r"(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}" + _E +
        r"|(?i:aws_?secret_?access_?key|aws_?secret)[\"']?\s*[:=]\s*[\"']?(?P<s>[A-Za-z0-9/+=]{40}))"),
        lambda t: ("A" in t and any(n in t for n in ("AKIA", "ASIA", "ABIA", "ACCA"))) or "ecret" in t or "ECRET" in t,
        lambda v: not documentation_value(v), help="AWS access key ids and secret access keys (not AWS's documentation "
                                                    "examples, AKIAIOSFODNN7EXAMPLE and …EXAMPLEKEY)", min_len=20, alnum=True,
        requires=("AKIA", "ASIA", "ABIA", "ACCA", "ecret", "ECRET")),
    SecretRule("gcp_key", re.compile(_B + r"AIza[0-9A-Za-z\-_]{35}" + _E + r"|ya29\.[0-9A-Za-z\-_]{20,}"
                                   r"|(?<![A-Za-z0-9])1//0[0-9A-Za-z\-_]{30,}"),
             _any("AIza", "ya29.", "1//0"), help="Google API keys and OAuth access tokens", min_len=25, alnum=True),
    SecretRule("azure_key", re.compile(
        r"(?i:AccountKey|SharedAccessKey)=(?P<s>[A-Za-z0-9+/]{40,}={0,2})"
        r"|[?&]sig=(?P<s2>[A-Za-z0-9%+/=_\-]{20,})"
        r"|" + _B + r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}" + _E),
        lambda t: ("=" in t and ("ccountKey" in t or "ccessKey" in t or "sig=" in t)) or "Q~" in t, help="Azure storage/service-bus keys, SAS signatures, "
                                                       "client secrets", min_len=25,
             requires=("=ccountKey", "=ccessKey", "sig=", "Q~")),
    SecretRule("github_token", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
             _any("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), help="GitHub tokens", min_len=33),
    SecretRule("slack_token", re.compile(r"(?:xox[abposre]|xapp)-[A-Za-z0-9\-]{10,}|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/+]+"),
             _any("xox", "xapp-", "hooks.slack.com"), help="Slack tokens and webhook URLs", min_len=15),
    SecretRule("private_key", keyfiles.PEM, _any("PRIVATE KEY", "PuTTY-User-Key-File", keyfiles.STATIC_KEY, keyfiles.NKEY_SEED, *keyfiles.JWK_NEEDLES),
        help="PEM private key blocks (to the end of the text if unterminated), OpenVPN static keys, PuTTY key files and the private "
             "members of JSON Web Keys (d, p, q, dp, dq, qi, k)", min_len=27, find=keyfiles.private_key_spans),
    SecretRule("token", TOKEN, _token_hint, help="tokens of the formats of a maintained secret scanner "
             "(ben.redact.formats: GitHub, GitLab, Stripe, Slack, npm, PyPI, OpenAI, Anthropic, ...) and Azure's "
             "identifiable keys (a signature near their end: ben.redact.azurekeys)",
             min_len=16, alnum=True, requires=PREFIXES + azurekeys.SIGNATURES, find=_token_spans),
    SecretRule("password", _PASSWORD, password_hint, password_value,
             help="values of password=, passwd:, \"secret\": ..., <password>...</password> pairs (text, JSON, XML, "
                  "query strings, logs; also passwort, contraseña, senha, mot de passe, пароль, 密码 ...)", min_len=5,
             requires=tuple(n + sep for n in PASSWORD_TAILS | PASSWORD_TAILS_2 for sep in SEPARATORS),
             find=pair_spans(_PASSWORD, password_value, phrases=True)),
    SecretRule("secret_pair", _SECRET_PAIR,
             pairs(_PAIR_NEEDLES + _SEP_NEEDLES),
             credential_like, help="values of token=, api_key:, access_key, client_secret, auth, ... pairs", min_len=11,
             requires=tuple(n + sep for n in ("oken", "OKEN", "ey", "EY", "sn", "SN", "uth", "UTH") for sep in SEPARATORS)
             + ("redential", "REDENTIAL", "ecret", "ECRET") + _PAIR_NEEDLES[12:]
             + tuple(n + sep for n in _SEP_NEEDLES for sep in SEPARATORS),   # "令牌" alone would be no requirement
             find=pair_spans(_SECRET_PAIR, lambda v: len(v) >= 8 and credential_like(v))),
    SecretRule("command_line", COMMAND_LINE,
             _cmd_hint,
             help="passwords given to programs (--password v, mysql -pX, sshpass -p, redis-cli -a, curl -u user:pw, "
                  "oracle user/pw@db) and after 'password is' in sentences", min_len=8,
             requires=_CMD_NEEDLES + tuple(w + " " for w in _CMD_WORDS), find=command_line_spans),
    SecretRule("worded_secret", WORDED, worded_hint,
             help="values joined to a secret-like key by words: 'the token is v', 'set DB_PASSWORD to v', "
                  "'exported `API_KEY` as `v`', 'using secret v' (the value must look like a credential)", min_len=14,
             requires=WORDED_REQUIRES, find=worded_spans),
    SecretRule("cookie", COOKIE, _any("ookie", "OOKIE"),
             help="session values of Cookie and Set-Cookie headers (attributes and short words stay)", min_len=10,
             find=cookie_spans),
    SecretRule("session_cookie", SESSION_COOKIE, _any(*SESSION_NEEDLES),
             help="values of well-known session cookies (JSESSIONID=, connect.sid=, laravel_session=...) anywhere, and "
                  "long random values under a bare 'session' key",
             min_len=12, find=session_cookie_spans),
    SecretRule("layout", re.compile("(?!)"), layout_hint,
             help="values of secret keys written apart from them: name/value records (k8s env, ECS, CloudFormation), "
                  "SQL SET/INSERT, CSV columns, 'key  value' lines", min_len=8, requires=LAYOUT_REQUIRES,
             find=layout_spans),
    SecretRule("url_userinfo", re.compile(
        r"(?i)(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-_]{1,40}://(?:[^\s/@:?#]*:(?P<s>[^\s/?]{1,200}|[^\s/?]{1,200}\?[^\s/?@]{0,200})"
        r"|(?P<s2>[a-z0-9_\-.]{20,200}))@"), _any("://"), not_placeholder,
        help="passwords in URLs (scheme://user:password@host, any scheme) and keys as a URL's user (Sentry DSNs)",
        min_len=8),
    SecretRule("password_hash", PASSWORD_HASH, _any("$", "{", "::"),
             help="password hashes: LDAP {SSHA}/{SHA}/{CRYPT}... values, crypt(3) strings ($2b$, $6$, $apr1$, "
                  "$argon2id$, $y$) as in htpasswd and shadow lines, Django's; LDIF userPassword:: values", min_len=12,
             requires=("$", "{", "::"), find=hash_spans),
    SecretRule("telegram_token", re.compile(r"(?<![0-9])[0-9]{8,10}:A[A-Za-z0-9_\-]{32,36}(?![A-Za-z0-9_\-])"),
             _any(":A"), help="Telegram bot tokens", min_len=43),
    SecretRule("discord_token", DISCORD,
             lambda t: "." in t and ("M" in t or "N" in t or "O" in t), help="Discord bot tokens", min_len=58,
             requires=("M.", "N.", "O."), find=after(DISCORD, WORD + "_-")),
    SecretRule("webhook_url", re.compile(r"(?:discord(?:app)?\.com/api/webhooks|\.webhook\.office\.com/webhookb2)/\S+"
                                         r"|/(?:web|build_)?hooks?/(?P<s>[A-Za-z0-9_\-]{16,200}(?:/[A-Za-z0-9_\-]{8,200})*)"
                                         r"|/with/key/(?P<s2>[A-Za-z0-9_\-]{16,200})|/webhook/send\?key=(?P<s3>[A-Za-z0-9\-]{16,100})"
                                         r"|\bhook\.[a-z0-9]{2,8}\.make\.com/(?P<s4>[a-z0-9]{20,100})"),
             _any("/api/webhooks", "webhookb2", "hooks/", "hook/", "/with/key/", "/webhook/send", ".make.com/"),   # no '?': the prefilter reads non-ASCII as '?' 
             _webhook_ok,
             help="webhook URLs: Discord, Microsoft Teams, and the random path segment after /hooks/, /hook/, /webhook/, "
                  "/build_hooks/ (Mattermost, Rocket.Chat, Feishu/Lark, Home Assistant, Netlify...), IFTTT's /with/key/, "
                  "WeCom's send?key=, Make's hook.<zone>.make.com/", min_len=24),
    SecretRule("newrelic_license", re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{36}NRAL(?![A-Za-z0-9])"), _any("NRAL"),
             help="New Relic license keys", min_len=40, alnum=True),
    SecretRule("mailchimp_key", re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])"), _any("-us"),
             help="Mailchimp API keys", min_len=35),
    SecretRule("okta_token", OKTA, lambda t: "00" in t and _mixed_case(t),
             random_b64, help="Okta API tokens (00 and 40 characters, mixed case)", min_len=42, alnum=True,
             requires=("\x01\x02",), find=validated(OKTA, WORD + "_-", random_b64)),
    SecretRule("base64_wrapped", re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}"), b64_hint,
             help="base64 blobs that begin with a token, a private key or a password line (ghp_..., -----BEGIN, "
                  "password=...) or hold a word announcing one (password, secret, token, PRIVATE KEY, ://, \"auth\") "
                  "and decode to a secret", min_len=16, alnum=True, requires=B64_REQUIRES,
             find=lambda text: wrapped_spans(text, lambda: SECRET_RULES)),
    SecretRule("base64_text", layered.TEXT_GROUPS, layered.hint,
             help="documents written as base64 (a run whose first 8 groups are the base64 of ASCII; wrapped lines "
                  "joined) that hold a secret by the other detectors' rules, through further layers",
             min_len=32, alnum=True, requires=("\x01\x02",), find=lambda text: layered.text_spans(text, lambda: SECRET_RULES)),
    SecretRule("hex_wrapped", HEX_TEXT, hex_hint,
             help="text written as hex (printable ASCII once decoded) that is a credential-like word or holds a "
                  "secret by the other detectors' rules (not in a text that is all hex: an id)", min_len=21,
             requires=HEX_REQUIRES, find=lambda text: hex_text_spans(text, lambda: SECRET_RULES)),
    SecretRule("base64_pii", re.compile(r"[A-Za-z0-9+/]{16,128}={0,2}"), pii_hint,
             help="e-mail addresses, card numbers and IBANs written as base64 (a short whole run of mixed case, "
                  "decoding to printable ASCII)", min_len=16, alnum=True, requires=("\x01\x02",),
             find=lambda text: base64_pii_spans(text, lambda: SECRET_RULES)),
    SecretRule("vault_legacy", VAULT_LEGACY, vault_hint,
             help="legacy Vault tokens (s., b., r. and 24 letters and digits, mixed case)", min_len=26,
             requires=(".\x01\x02",), find=vault_legacy_spans),
    SecretRule("random_key", RANDOM_KEY, _mixed_case, random_b64, help="bare random keys of 40 (AWS secret access key) or 88 (Azure storage "
             "key) base64 characters: mixed case and digits, decoding to random bytes, not to text", min_len=40,
             alnum=True, requires=("\x01\x02",), find=random_key_spans),
    SecretRule("iban", IBAN, _iban_hint,
             help="IBANs (country length and mod-97 checked; in capitals or small letters, compact or grouped by "
                  "spaces or dashes)", min_len=15, alnum=True,
             requires=("\x01",) + tuple("\x02" + c for c in IBAN_LOWER_CONTEXT), min_digits=3, find=iban_spans),
    SecretRule("phone", PHONE, lambda t: _CHAIN_4(t) is not None and ("+" in t or "-" in t or " " in t or "." in t
                                                                    or "(" in t),
             phone_ok,
             help="phone numbers: international (+CC ...) and common national forms, separated", min_len=10,
             requires=("+", "-", " ", ".", "("), min_digits=4, find=phone_spans),
    SecretRule("us_ssn", re.compile(r"(?<![0-9\-])(?!000|666)[0-9]{3}([\- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
                                  r"(?![0-9\-])"), lambda t: ("-" in t or " " in t) and _CHAIN_9(t) is not None,
             help="US social security numbers (dashed or spaced; ITINs too)", min_len=11,
             requires=("-", " "), min_digits=9, find=ssn_spans),
    SecretRule("id_number", identifiers.ID_WORDS, identifiers.hint,
             help="national identifiers named by a key or the words before them (ssn, passport_number, taxId, NINO, "
                  "'NI number', 'passport no.', CPF, PESEL, DNI, BSN, TFN...): the value that follows, with digits",
             min_len=9, requires=identifiers.ID_REQUIRES, min_digits=2, find=identifiers.id_number_spans),
    SecretRule("keyless_password", identifiers.KEYLESS_COMMAND, identifiers.keyless_hint,
             help="passwords with no key name: program arguments (7z -pX, zip -P, openssl -k/-passout pass:, net user, "
                  "keytool -storepass, sqlcmd -P, echo X | ... --password-stdin), credential lines (pgbouncer, "
                  "sasl_passwd, user:pw alone), password-shaped tokens in sentences about logging in, GitHub Actions' "
                  "evaluated secrets (=> 'v') and Redis AUTH (MONITOR, redis-cli)", min_len=8,
             requires=identifiers.KEYLESS_REQUIRES, find=identifiers.keyless_spans),
    SecretRule("argv", re.compile("(?!)"), argv.hint,
             help="passwords on a command line recorded as a list of its arguments (/proc/PID/cmdline's NULs, a JSON, "
                  "Python or YAML list, auditd's EXECVE and PROCTITLE, kubectl exec's command= parameters): the list "
                  "joined and read by the command_line and keyless_password rules", min_len=12,
             requires=argv.REQUIRES, find=lambda text: argv.argv_spans(text, lambda: SECRET_RULES)),
    SecretRule("query", re.compile("(?!)"), queries.hint,
             help="secrets as databases, drivers and ORMs log them: bound parameters named by their placeholder's column, "
                  "constraint errors, quoted columns, positional SQL (REPLACE, USING, PRAGMA key, pgp_sym_decrypt, table "
                  "functions), Redis' argument lists (MONITOR, SLOWLOG, AOF), LDAP binds, mysql's history", min_len=8,
             requires=queries.REQUIRES, find=lambda text: queries.query_spans(text, lambda: SECRET_RULES)),
    SecretRule("change", re.compile("(?!)"), changes.hint,
             help="secrets on a word diff's changed lines (git diff --word-diff: KEY=[-old-]{+new+}): each line read as it "
                  "was and as it is by the pair and token rules", min_len=8, requires=changes.REQUIRES,
             find=lambda text: changes.change_spans(text, lambda: SECRET_RULES)),
    SecretRule("message", re.compile("(?!)"), messages.hint,
             help="secrets in a chat's or a mail's rich text: an editor's text runs joined (Slack blocks, ADF), inline "
                  "tags left out (password: <code>v</code>), read by the pair and sentence rules", min_len=12,
             requires=messages.REQUIRES, find=lambda text: messages.message_spans(text, lambda: SECRET_RULES)),
    SecretRule("table", re.compile("(?!)"), messages.table_hint,
             help="the cells of a markdown table's column whose header names a secret (| user | password |)", min_len=12,
             requires=messages.TABLE_REQUIRES, find=messages.table_spans),
    SecretRule("key_pair", re.compile("(?!)"), messages.key_pair_hint,
             help="the secret pasted after an AWS or Alibaba access key id (AKIA…, ASIA…, LTAI… then, within 160 "
                  "characters, 30-40 random base64 characters)", min_len=46, requires=messages.KEY_PAIR_NEEDLES,
             find=messages.key_pair_spans),
    SecretRule("key_lines", re.compile("(?!)"), changes.key_lines_hint,
             help="a private key's body lines in a diff that does not show its BEGIN and END lines (diff's < and >, a "
                  "unified diff's + and -: three or more lines of 64 base64 characters decoding to random bytes; a "
                  "certificate's hold its names and stay)", min_len=64, requires=changes.KEY_LINES_REQUIRES,
             find=changes.key_lines_spans),
    SecretRule("wallet_key", identifiers.WIF, identifiers.wallet_hint,
             help="wallet keys with no prefix: WIF private keys (Base58Check verified), 64-byte keypair arrays "
                  "(Solana), BIP39 phrases after 'seed phrase'/'recovery phrase'", min_len=51, alnum=True,
             requires=identifiers.WALLET_REQUIRES, find=identifiers.wallet_spans),
    SecretRule("k8s_secret", re.compile(r"kind:\s*Secret"), _any("Secret"),
             help="the data and stringData values of a Kubernetes Secret (YAML or JSON), whatever their keys",
             min_len=20, requires=("Secret",), find=k8s_secret_spans),
    SecretRule("fcm_key", re.compile(r"(?<![A-Za-z0-9_\-])AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{100,200}"), _any("APA91b"),
             help="Firebase Cloud Messaging server keys", min_len=64),
    SecretRule("uk_nino", re.compile(_B + r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                                   r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]" + _E), _digits_hint,
             help="UK national insurance numbers, opt-in", min_len=9, alnum=True, requires=("",), min_digits=3),
    SecretRule("es_dni", re.compile(_B + r"[0-9]{8}-?[TRWAGMYFPDXBNJZSQVHLCKE]" + _E), _digits_hint,
             lambda t: _dni_ok(t.replace("-", "")), help="Spanish DNI numbers (check letter verified), opt-in", min_len=9, alnum=True,
             requires=("",), min_digits=3),
)}

#: Detectors a default manifest turns on (ben.redact.defaults); the rest are opt-in.
OPT_IN = frozenset({"ipv4", "ipv6", "uk_nino", "es_dni"})

