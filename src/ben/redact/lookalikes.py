"""Look-alikes the finders leave alone (ADR 0030, revision 8): values that stand where a secret would and
are none.

- ``in_arn``: a key inside an Amazon resource name (``arn:aws:secretsmanager:…:secret:prod/db/password-AbCdEf``
  names a secret, it holds none: ``secret:`` there is a resource type, not a key).
- ``string_prefix``: a one-letter value just before a quote is a string literal's prefix (Python's ``b'…'``,
  ``r"…"``), not a password: the quoted string after it is the value (``ben.redact.positional``).
- ``truncated``: a value shown cut (``sk-...a1b2``, ``ghp_…9fQ2``, ``AKIA****WXYZ``): a few characters, an
  ellipsis or stars, a few more; what a tool prints in place of the secret.
- ``after_id_key``: 17-19 digits (13-16 too, unless the key speaks of a card: ``ben.redact.cards``) written compact right after an id's key are the id (Datadog's decimal trace and
  span ids, ``dd.trace_id=4566702618455540244``, snowflake ids ``"user_id": 1234...``), not a card, though one in a
  few dozen passes a card's issuer and Luhn checks. A card of 13-16 digits, or grouped, is a card wherever it is.
- ``digest_run``: a base64 run that is a digest's (an SSH key's ``SHA256:<43 characters>`` fingerprint, a
  subresource-integrity ``sha384-<64>``, a go.sum ``h1:<44>``): public hashes, not keys or passwords.
- ``documentation_value`` (revision 11): a value that says it stands in for one — a vendor's documentation
  example (AWS's ``AKIAIOSFODNN7EXAMPLE`` and ``…EXAMPLEKEY``), a run of eight ``x`` where the random part
  would be (``hf_xxxxxxxx…``, ``sk_live_XXXXXXXX…``), ``YOUR_GITHUB_TOKEN``, ``your-api-key``.
- ``resource_id`` (revision 11): a run of letters and digits that is a whole segment of a URL's path right
  after a collection's name (``/v1/objects/<40 characters>/versions``): a REST resource's id, not a key.
  After a segment that names a secret (``/keys/``, ``/tokens/``, ``/secrets/``, ``/webhooks/``) it stays one.
"""

from __future__ import annotations

from collections.abc import Iterator

import re

_TRUNCATED = re.compile(r"[\w\-.]{0,12}?(?:\.{3}|…|\*{3,})[\w\-]{0,8}").fullmatch
_DIGEST_HEADS = ("SHA256:", "SHA384:", "SHA512:", "SHA1:", "sha256-", "sha384-", "sha512-", "sha1-", "h1:")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


ARN_MAX = 2048   # an ARN's length, at most (IAM's limit)


def in_arn(text: str, key_at: int) -> bool:
    """Is the key at ``key_at`` part of an ARN (``arn:`` earlier in the same run of non-space characters)? Looked for
    within ``ARN_MAX`` characters before the key, an ARN's longest (2026-12-08: read back to the run's start from every
    key, a long run of pairs took time quadratic in its length)."""
    w0 = max(0, key_at - ARN_MAX)
    lo = max(text.rfind(" ", w0, key_at), text.rfind("\n", w0, key_at), text.rfind('"', w0, key_at), w0 - 1) + 1
    return (text.startswith("arn:", lo, key_at) and (lo == 0 or text[lo - 1] in ' \n"')
            or text.find(":arn:", lo, key_at) >= 0 or text.find("=arn:", lo, key_at) >= 0)


def string_prefix(text: str, a: int, b: int) -> bool:
    """A value of one letter (b, r, u, f and their capitals, or two: rb) just before a quote."""
    return b - a <= 2 and text[b:b + 1] in ("'", '"') and text[a:b].lower() in ("b", "r", "u", "f", "rb", "br")


def truncated(value: str) -> bool:
    """A value shown cut: up to 12 characters, '...', '…' or '***', up to 8 more (never a whole secret)."""
    return ("..." in value or "…" in value or "***" in value) and _TRUNCATED(value) is not None


#: A digest's length in base64 after its name: how far back a run split by spaces may still be its tail.
_DIGEST_CHARS = {"SHA1:": 28, "sha1-": 28, "SHA256:": 44, "sha256-": 44, "h1:": 44, "SHA384:": 64, "sha384-": 64,
                 "SHA512:": 88, "sha512-": 88}
#: An SSH public key's blob opens with its type's name, length-prefixed, in base64; the most characters it can take.
_SSH_BLOBS = {"AAAAC3NzaC1lZDI1NTE5": 70, "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t": 120, "AAAAB3NzaC1yc2E": 1400,
              "AAAAB3NzaC1kc3M": 600, "AAAAE2VjZHNhLXNoYTItbmlzdHA": 240, "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20": 300}
_SSH_HEADS = tuple(_SSH_BLOBS)


def _run_starts(text: str, at: int, limit: int) -> Iterator[int]:
    """The starts of the base64 run holding ``at``, going back over single spaces (in the URL-decoded pass a
    '+' is one) while within ``limit`` characters of ``at``."""
    lo = at
    while True:
        while lo > 0 and text[lo - 1] in _B64:
            lo -= 1
        yield lo
        if lo == 0 or text[lo - 1] != " " or at - lo >= limit:
            return
        lo -= 1


def digest_run(text: str, at: int) -> bool:
    """Does the base64 run holding ``at`` follow a digest's name (``SHA256:``, ``sha384-``)? A run after spaces
    (a digest's '+' in the URL-decoded pass) is its tail while within the digest's length."""
    for hops, lo in enumerate(_run_starts(text, at, 88)):
        head = next((h for h in _DIGEST_HEADS if text.endswith(h, max(0, lo - 7), lo)), None)
        if head is not None:
            return hops == 0 or at - lo < _DIGEST_CHARS[head]
    return False


def ssh_public_run(text: str, at: int) -> bool:
    """Is ``at`` inside an SSH public key's blob (``ssh-ed25519 AAAAC3NzaC1lZDI1NTE5…``, ``ssh-rsa AAAAB3…``),
    within its length? Public by design, like a certificate; a private key is a PEM block (private_key's)."""
    for lo in _run_starts(text, at, 1400):
        head = next((h for h in _SSH_HEADS if text.startswith(h, lo)), None)
        if head is not None:
            return at - lo < _SSH_BLOBS[head]
    return False


_ID_KEY_BEFORE = re.compile(r"(?:^|[^A-Za-z0-9])(?:[A-Za-z0-9]*(?:[_.\-](?:id|ID|Id)|[a-z]Id|[a-z]ID)|id|ID|Id)[\"']?\s{0,2}[:=]\s{0,2}[\"']?$")


def after_id_key(text: str, at: int) -> bool:
    """Does an id's key (``trace_id=``, ``"spanId": "``, ``x-datadog-trace-id: ``) end right before ``at``?"""
    return _ID_KEY_BEFORE.search(text, max(0, at - 60), at) is not None


_PLACEHOLDER = re.compile(r"EXAMPLE(?:KEY)?$|x{8}|X{8}").search
_YOUR = re.compile(r"(?i)your[_\-]?[a-z][a-z_\-]*").fullmatch


def documentation_value(value: str) -> bool:
    """A documentation example (``…EXAMPLE``, ``…EXAMPLEKEY``), eight ``x`` in a row, or ``YOUR_…``/``your-…``."""
    return _PLACEHOLDER(value) is not None or _YOUR(value) is not None


_SEGMENT_END = frozenset("/?# \"\t\r\n;")
_COLLECTION = re.compile(r"/[a-z][a-z_\-]{2,30}s/$")
_SECRET_SEGMENT = re.compile(r"(?i)key|token|secret|hook|cred|pass|auth|sig|bot")


def resource_id(text: str, a: int, b: int) -> bool:
    """Is ``text[a:b]``, letters and digits only, a whole path segment after a collection's plural name?"""
    if a < 5 or text[a - 1] != "/" or (b < len(text) and text[b] not in _SEGMENT_END) or not text[a:b].isalnum():
        return False
    m = _COLLECTION.search(text, max(0, a - 33), a)
    return m is not None and _SECRET_SEGMENT.search(m.group()) is None


def sops_value(text: str, at: int) -> bool:
    """Is ``at`` inside a SOPS-encrypted value (``ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]``)? Its data, iv and tag
    are ciphertext, made to be committed to a repository (revision 12): no key."""
    lo = text.rfind("ENC[", max(0, at - 4000), at)
    return lo >= 0 and text.find("]", lo, at) < 0 and text.startswith(("AES256_GCM,", "AES256_GCM_SIV,"), lo + 4)
