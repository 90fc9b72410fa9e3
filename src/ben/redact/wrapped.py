"""Secrets wrapped in base64: a value that is the base64 of a token or of a ``password=`` line.

A base64 blob that *starts* with a well-known prefix has a fixed beginning (``ghp_`` -> ``Z2hwX``,
``-----BEGIN`` -> ``LS0tLS1CRUdJT``, ``password`` -> ``cGFzc3dvcm``): those beginnings are the hint's
needles. Only a run of base64 characters that starts with one is decoded, and it is masked whole when
the decoded text holds a secret by the other detectors' rules (``CHECKS``). A prefix in the middle
of the encoded data (three possible alignments) is not looked for: decoding every base64 run of
every string costs more than a log line's budget (ADR 0030, revision 2).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

#: Plain beginnings of a wrapped secret: few, since every needle costs 0.1-0.3 µs on every log line
#: (``sk_`` stands for sk_live_/sk_test_, ``sk-`` for OpenAI and Anthropic keys, ``xox`` for Slack).
PREFIXES = ("ghp_", "github_pat_", "glpat-", "sk_", "sk-", "xox", "AKIA", "-----BEGIN", "password", "eyJhbGci")
#: Their base64, the characters the prefix alone decides.
NEEDLES = tuple(sorted({base64.b64encode(p.encode()).decode()[:len(p) * 8 // 6] for p in PREFIXES}))
_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{16,}={0,2}")
#: The detectors run over a decoded blob.
CHECKS = ("token", "private_key", "password", "secret_pair", "aws_key", "gcp_key", "github_token", "slack_token", "jwt")


def wrapped_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """(start, end) of every base64 run of text that starts with a needle and decodes to a secret."""
    found = rules()
    for m in _RUN.finditer(text):
        run = m.group()
        if not run.startswith(NEEDLES):
            continue
        core = run.rstrip("=")
        try:
            raw = base64.b64decode(core + "=" * (-len(core) % 4), altchars=b"-_" if "-" in core or "_" in core else None)
        except (binascii.Error, ValueError):
            continue
        plain = raw.decode("utf-8", "replace")
        if any(next(found[name].spans(plain), None) is not None for name in CHECKS):
            yield m.span()
