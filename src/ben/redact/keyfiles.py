"""Private keys that are no PEM block (and OpenVPN's static keys, written like one) (ADR 0030, revision 10), for the ``private_key`` detector
(``ben.redact.detectors``): the private members of a JSON Web Key (RFC 7517/7518: ``d`` of an EC, OKP or RSA
key, RSA's ``p``, ``q``, ``dp``, ``dq``, ``qi``, a symmetric key's ``k``) in any JSON that declares a key type
(``"kty"``), also JSON-escaped. A JWK's public members (``n``, ``e``, ``x``, ``y``) stay: they are public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)"
                 r"|PuTTY-User-Key-File-[0-9]+:.*?(?:Private-MAC:\s*[0-9a-fA-F]+|\Z)"
                 r"|-----BEGIN OpenVPN Static key V[0-9]-----(?:.*?-----END OpenVPN Static key V[0-9]-----|.*)"
                 r"|-----BEGIN (?:USER|ACCOUNT|OPERATOR|SERVER|CLUSTER) NKEY SEED-----(?:.*?-----END [A-Z]+ NKEY SEED-+|.*)", re.DOTALL)
_JWK_PRIVATE = re.compile(r"""(?<![\w\-])(?P<k>d|p|q|dp|dq|qi|k)\\{0,2}["']\s{0,3}:\s{0,3}\\{0,2}["']"""
                          r"""(?P<s>[A-Za-z0-9_\-]{16,}={0,2})\\{0,2}["']""")


#: An OpenVPN static key (``--tls-auth``/``--tls-crypt``'s ``ta.key``: 2048 secret bits as hex lines; revision 12).
STATIC_KEY = "Static key V"
#: A NATS ``.creds`` file's seed block (``-----BEGIN USER NKEY SEED-----``; its END line has six dashes).
NKEY_SEED = "NKEY SEED"
#: A quoted ``kty`` (``"kty"``, ``\"kty\"``, ``'kty'``): with its quote, so that the batch prefilter (which tests the
#: characters of a needle) does not send every text holding a k, a t and a y (user agents, "key type") here.
JWK_NEEDLES = ('"kty', "'kty")


def private_key_spans(text: str) -> Iterator[tuple[int, int]]:
    """PEM private key blocks and PuTTY key files (whole), and a JWK's private members (the value)."""
    if "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text or STATIC_KEY in text or NKEY_SEED in text:
        for m in PEM.finditer(text):
            yield m.span()
    if '"kty' in text or "'kty" in text:
        for m in _JWK_PRIVATE.finditer(text):
            q = m.start("k") - 1   # the key's opening quote, escaped or not
            if q >= 0 and text[q] in "\"'":
                yield m.span("s")
