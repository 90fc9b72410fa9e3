"""Azure's identifiable keys (ADR 0030, revision 13): keys Azure has issued since 2023 carry a four-character
signature near their end (a storage account key ``…+ASt…==``, Cosmos DB ``…ACDb…==``, a Function key ``…AzFu…==``,
Search ``…AzSe…``, Event Grid ``…AZEG…``, Service Bus / Event Hubs / Relay ``…+ASb…``, ``…+AEh…``, ``…+ARm…``, a
container registry ``…+ACR…``, API Management ``…APIM…``, Azure Cache for Redis ``…AzCa…``) so that scanners can tell
them from random strings without a key name. Not Cognitive Services' and Azure OpenAI's ``…JQQJ9…``: its characters
are capitals the batch prefilter has no bit for (``ben.redact.prefilter``), so as a requirement it reads "any capital"
and would send nearly every string to this scan; those keys are found by their name (``api-key``).

A key is found by its signature, then read out to both sides over the key's alphabet, at most ``_REACH`` characters
each way (linear in the text: a run of signatures is not read again from each): the whole run must be 40-96
characters with the signature 30 or more from its start and 12 or fewer from its end (a key is random before its
signature; a long base64 blob that happens to hold ``AzSe`` is no key), and hold a digit and both cases."""

from __future__ import annotations

from collections.abc import Iterator

SIGNATURES = ("+ASt", "ACDb", "AzFu", "AzSe", "AZEG", "+ASb", "+AEh", "+ARm", "+ACR", "APIM", "AzCa")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_REACH = 100


def hint(text: str) -> bool:
    for s in SIGNATURES:
        if s in text:
            return True
    return False


def spans(text: str) -> Iterator[tuple[int, int]]:
    chars, n = _KEY_CHARS, len(text)
    for sig in SIGNATURES:
        at, done = text.find(sig), -1
        while at >= 0:
            if at >= done:
                a = at
                lo = max(0, at - _REACH)
                while a > lo and text[a - 1] in chars:
                    a -= 1
                b, hi = at + len(sig), min(n, at + len(sig) + _REACH)
                while b < hi and text[b] in chars:
                    b += 1
                while b < n and b - a < 100 and text[b] == "=":
                    b += 1
                run = text[a:b]
                if 40 <= b - a <= 96 and at - a >= 30 and b - at - len(sig) <= 14 and _mixed(run):
                    yield a, b
                    done = b
            at = text.find(sig, at + 1)


def _mixed(run: str) -> bool:
    return any(c.isdigit() for c in run) and any(c.islower() for c in run) and any(c.isupper() for c in run)
