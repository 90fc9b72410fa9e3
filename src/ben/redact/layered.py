"""Documents inside documents: a run of base64 that is *text* once decoded (an ``.env`` file in a ConfigMap's
``binaryData``, a request dump in a JSON field, a login form in an OAuth ``state``, a file from GitHub's contents
API), scanned by the other rules, through further layers (ADR 0030, revision 14).

``base64_wrapped`` (``ben.redact.wrapped``) decodes only runs that start with a known prefix or hold a known word;
a document's secret can sit under any key (``X-Api-Key:``, ``"ParameterValue"``, a cookie's name). Here a run is
decoded when its first 8 groups of 4 characters are the base64 of ASCII: the first character of a group is then one
of 32, its second one of 32 and its third one of 32, so a random run (a token, a hash in base64, a certificate's
body) passes one time in 8 per group: 1 in ~16.7 million for 8 groups. A base64 run wrapped in lines (``base64``'s 76
columns, PEM's 64, GitHub's 60 with ``\\n``) is read whole when its lines have the first one's length. The decoded
text, when at least 95% printable, is looked at by ``holds_secret``: the value rules' detectors over it and over its
decoded form (``ben.redact.decode``), and the layered detectors again (base64 inside base64, hex, JSON escapes)
down to ``MAX_DEPTH`` layers. A run that holds a secret is masked whole.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Iterator

from ben.redact.decode import decoded, may_decode

#: A whole run of base64 (standard or URL-safe), at least 8 groups.
_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}")
#: 8 groups that are the base64 of ASCII bytes (each byte < 0x80: three bits of every group are fixed).
TEXT_GROUPS = re.compile(r"(?:[A-Za-f][A-HQ-Xg-nwxyz0-3][ABEFIJMNQRUVYZcdghklopstwx014589][A-Za-z0-9+/_\-]){8}")
_MATCH = TEXT_GROUPS.match
_UPPER, _LOWER = re.compile("[A-Z]").search, re.compile("[a-z]").search
#: What separates the lines of a wrapped run: a line break, or one written as ``\n`` inside a JSON string.
_LINE_BREAK = re.compile(r"\r?\n[ \t]*|\\r\\n|\\n")
_LINE = re.compile(r"[A-Za-z0-9+/_\-]{4,}={0,2}")
_LINE_END = re.compile(r"$|\r?\n|\\[rn]|[\s\"'<]").match
MAX_RUN = 65_536      # characters of one run decoded, at most
MAX_DECODED = 16      # runs decoded per text, at most
MAX_DEPTH = 4         # layers looked through, at most
#: The detectors that judge a decoded document (the default manifest's, personal data included: a document that
#: holds an e-mail address is masked as a whole, as the address would be).
CHECKS = ("token", "private_key", "password", "secret_pair", "url_userinfo", "command_line", "cookie", "session_cookie",
          "layout", "keyless_password", "worded_secret", "argv", "bearer", "jwt", "aws_key", "gcp_key", "azure_key",
          "github_token", "slack_token", "telegram_token", "discord_token", "webhook_url", "password_hash", "k8s_secret",
          "base64_wrapped", "hex_wrapped", "base64_text", "email", "card", "iban")
_DEPTH = threading.local()


#: The headers of a mail's part encoded in base64, ending where its body starts (revision 18).
_PART = re.compile(r"(?i)content-transfer-encoding:[ \t]*base64[ \t]*\r?\n(?:[^\r\n]{1,200}\r?\n){0,8}\r?\n$").search


def _declared(text: str, at: int) -> bool:
    """Does a mail's part that says it is base64 start at ``at``?"""
    return text[at - 1:at] == "\n" and "ncoding" in text[max(0, at - 2000):at] and _PART(text, max(0, at - 2000), at) is not None


def _starts(run: str) -> Iterator[int]:
    """Where a document may start in a run: its beginning, or after a ``-``/``_`` that glues a prefix to it
    (Supabase's ``base64-`` cookie values)."""
    yield 0
    for i in range(min(len(run) - 32, 16)):
        if run[i] in "-_":
            yield i + 1


def _candidates(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every run whose beginning is the base64 of ASCII, wrapped lines joined."""
    done = 0
    for m in _RUN.finditer(text):
        if m.start() < done:   # a line of a wrapped run already read
            continue
        run = m.group()
        for off in _starts(run):
            if _MATCH(run, off) is not None:
                break
        else:
            if not _declared(text, m.start()):
                continue
            off = 0   # a mail's part that says it is base64: its text may start with any UTF-8 (revision 18)
        if _UPPER(run) is None or _LOWER(run) is None:
            continue   # capitals and small letters: what the batch prefilter requires (a hex id is never read)
        a, end = m.start() + off, m.end()
        width = end - a
        if width % 4 == 0 and width >= 40:   # a wrapped run: lines of the first one's width, the last one shorter
            while (br := _LINE_BREAK.match(text, end)) is not None and (line := _LINE.match(text, br.end())) is not None:
                n = line.end() - line.start()
                if n > width or _LINE_END(text, line.end()) is None:
                    break   # not a line of the run (kind: ConfigMap)
                end = line.end()
                if n < width or text[end - 1] == "=":
                    break
        done = end
        yield a, end


def hint(text: str) -> bool:
    """A run whose beginning is the base64 of ASCII."""
    return next(_candidates(text), None) is not None


def _plain(run: str) -> str | None:
    """The run decoded as UTF-8 text, or None when it is not (at least 95% printable)."""
    core = _LINE_BREAK.sub("", run).rstrip("=")
    try:
        raw = base64.b64decode(core + "=" * (-len(core) % 4), altchars=b"-_" if "-" in core or "_" in core else None)
        plain = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    bad = sum(1 for c in plain if not c.isprintable() and c not in "\t\n\r\x1b")
    return plain if plain and bad * 20 <= len(plain) else None


def holds_secret(plain: str, rules: Callable[[], dict]) -> bool:
    """Does a decoded document hold a secret by the value rules' detectors, as written or decoded once more?
    Layers are looked through down to ``MAX_DEPTH`` (a thread's own count)."""
    depth = getattr(_DEPTH, "n", 0)
    if depth >= MAX_DEPTH:
        return False
    _DEPTH.n = depth + 1
    try:
        found = rules()
        texts = [plain]
        if may_decode(plain):
            dec = decoded(plain)
            if dec is not None:
                texts.append(dec[0])
        return any(next(found[name].spans(t), None) is not None for t in texts for name in CHECKS)
    finally:
        _DEPTH.n = depth


def text_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """(start, end) of every base64 run of text that is a document holding a secret."""
    done = 0
    for a, b in _candidates(text):
        if b - a > MAX_RUN:
            continue
        done += 1
        if done > MAX_DECODED:
            return
        plain = _plain(text[a:b])
        if plain is not None and holds_secret(plain, rules):
            yield a, b
