"""A fourteenth held-out-style corpus, written apart from the first thirteen on 2026-12-07 from a stranger's angle: a
secret as a *person* pastes it — into a chat, a ticket or an e-mail. A password, a token, a connection string, a private
key or a cloud key pair (``heldout14_values``: five families) sits in the words a person writes around it (a sentence,
``user / pass``, a ``key: value`` list, a markdown code fence, a quote, a table, in English and two other languages), and
the message is stored, exported or sent by one of 18 carriers (``heldout14_carriers``): Slack's export JSON, a copy out
of Slack's client, Slack's interactive ``payload=``, a Teams message (HTML in JSON), Discord's gateway, an IRC log, a Jira
comment in wiki markup and in the Atlassian document format, a GitHub issue comment, a Zendesk comment, ServiceNow work
notes, a Confluence page; a mail reply hard-wrapped at 72 columns under ``> `` (a long token split across lines), a
quoted-printable part (``=3D``, soft breaks ``=`` at 76 columns), ``multipart/alternative`` with a quoted-printable HTML
part, a base64 ``text/plain`` part, Outlook's forwarded block, ``format=flowed``. Look-alikes (``heldout14_benign``):
messages with commit ids, request ids, checksums, digests, public keys, fingerprints, a PGP signature, a certificate,
placeholders, masks, a vault path, prose about passwords — through the same carriers, whose mails carry DKIM and ARC
signatures, ``X-Google-Smtp-Source``, ``Thread-Index`` and inline images of their own.

Scoring as in the earlier corpora, with one change for wrapping: what must not survive is each *piece* of the secret as
the carrier wrote it — found by following its characters (plain, HTML-, JSON- or URL-escaped, quoted-printable) across
the carrier's line breaks (``=`` soft breaks, ``\\n`` with a ``> `` quote, ``\\r\\n`` written in JSON) — and in a base64
part the characters only the secret's bytes decide, split at the part's 76 columns; no run of 8 characters of a piece may
survive. A look-alike's event must be unchanged.

Seeds: 141-146 for development; **147 and 148 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style14 --seed 141 -v 20
"""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import quote, quote_plus

from tests.redact import heldout14_values as values
from tests.redact.heldout14_benign import messages as benign_messages
from tests.redact.heldout14_carriers import CARRIERS
from tests.redact.heldout14_values import Draw
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer

RESERVED_SEEDS = (147, 148)
BREAK = r"(?:=\r?\n|\r?\n[>\t ]*|(?:\\r)?\\n(?:> ?)*|\\r\\n)"


def _qp(v: str) -> str:
    return "".join("=3D" if c == "=" else c if 32 < ord(c) < 127 else "".join(f"={b:02X}" for b in c.encode()) for c in v)


def forms(v: str) -> set[str]:
    """The ways a carrier writes a secret part, before its line breaks."""
    base = {v, html.escape(v, quote=False), html.escape(v), _qp(v), _qp(html.escape(v, quote=False))}
    out = set(base)
    for f in base:
        j = json.dumps(f, ensure_ascii=False)[1:-1]
        out |= {j, json.dumps(j, ensure_ascii=False)[1:-1], quote_plus(j), quote(j, safe="")}
    return {f for f in out if f}


def _b64_pieces(body: str, plain: str, part: str) -> list[str]:
    """The characters of ``plain``'s base64 (wrapped at 76 in ``body``) that only ``part``'s bytes decide, as lines."""
    raw, enc, out = plain.encode(), base64.b64encode(plain.encode()).decode(), []
    pb = part.encode()
    at = raw.find(pb)
    while at >= 0:
        a, b = -(-at // 3) * 4, (at + len(pb)) // 3 * 4
        cut = [a] + [i for i in range(a + 1, b) if i % 76 == 0] + [b]
        out += [enc[x:y] for x, y in zip(cut, cut[1:]) if y - x >= 8 and enc[x:y] in body]
        at = raw.find(pb, at + 1)
    return out


def pieces(body: str, part: str) -> list[str]:
    """Each piece of ``part`` as ``body`` writes it (split by the carrier's line breaks), 8 characters or longer."""
    out = []
    for f in sorted(forms(part), key=len, reverse=True):
        if f in body:
            out.append(f)
        if len(f) < 16:
            continue
        rx = re.compile(BREAK.join(re.escape(c) for c in f))
        for m in rx.finditer(body):
            out += [p for p in re.split(BREAK, m.group(0)) if len(p) >= 8]
    return out


def frame(sec, d: Draw, carrier: str | None = None) -> tuple[str, str, list[str]]:
    """``sec``'s message carried by a carrier (drawn, or ``carrier``): (carrier, body, pieces that must not survive)."""
    name = carrier or d.choice(list(CARRIERS))
    body, plains = CARRIERS[name](sec.message if hasattr(sec, "message") else sec, d)
    got = []
    for part in getattr(sec, "secrets", ()):
        got += pieces(body, part)
        for plain in plains:
            got += _b64_pieces(body, plain, part)
    return name, body, got


def place(d: Draw, family: str) -> Sample:
    for _ in range(20):
        sec = values.draw(d, family)
        carrier, body, got = frame(sec, d)
        if got:
            return Sample(family, sec.kind, carrier, body, {}, tuple(sorted(set(got))))
    raise AssertionError(f"generator error: no {family} secret survives its carrier")


def survivors(s: Sample, out: str) -> list[str]:
    """Runs of 8 characters of a piece that are in ``out`` and nowhere else in the carrier."""
    context = s.body
    for f in sorted(s.parts, key=len, reverse=True):
        context = context.replace(f, "\x01")
    return [w for f in s.parts for w in ([f[i:i + 8] for i in range(len(f) - 7)] or [f]) if w in out and w not in context]


def look_alikes(d: Draw, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for kind, msg in benign_messages(d):
            carrier, body, _ = frame(msg, d)
            out.append(Sample("benign", kind, carrier, body, {}))
    return out


def generate(seed: int, *, per_family: int = 45, benign_rounds: int = 5) -> list[Sample]:
    """``per_family`` secrets of each of the five families, then the look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    return [place(d, f) for f in values.FAMILIES for _ in range(per_family)] + look_alikes(d, benign_rounds)


run = scorer(survivors, Figures, "heldout14")


def main() -> None:
    cli(__doc__, generate, run, seed=141, size="per_family", default=45)


if __name__ == "__main__":
    main()
