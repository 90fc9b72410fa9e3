"""Public values shaped like keys (ben.redact.lookalikes): kept whole, in the raw pass and the URL-decoded one."""

from __future__ import annotations

import base64
import random
import string

import pytest

from tests.redact.test_coverage import redact

B64 = string.ascii_letters + string.digits + "+/"
ALNUM = string.ascii_letters + string.digits


def _s(rng: random.Random, n: int, alphabet: str = B64) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def test_ssh_fingerprints_and_ed25519_public_keys_stay_whatever_their_plus_and_slash() -> None:
    """Before: about 1 in 90 such lines was changed. A '+' early in a fingerprint is a space in the URL-decoded
    pass, which cut the run from its ``SHA256:``; an ed25519 key's blob split at a '/' or '+' read as a random key."""
    rng = random.Random(4242)
    changed = []
    for _ in range(600):
        text = (f"Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2: ED25519 SHA256:{_s(rng, 43)}\n"
                f"authorized_keys: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_s(rng, 43)} deploy@ci")
        if redact(text) != text:
            changed.append(text)
    assert not changed, changed[:3]


@pytest.mark.parametrize("kind, blob", [
    ("ssh-rsa", b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01"),
    ("ecdsa-sha2-nistp256", b"\x00\x00\x00\x13ecdsa-sha2-nistp256\x00\x00\x00\x08nistp256\x00\x00\x00\x41\x04"),
])
def test_rsa_and_ecdsa_public_keys_stay(kind: str, blob: bytes) -> None:
    rng = random.Random(kind)
    for _ in range(100):
        text = f"{kind} {base64.b64encode(blob + rng.randbytes(257 if kind == 'ssh-rsa' else 64)).decode()} ops@laptop"
        assert redact(text) == text


def test_a_key_after_a_public_key_s_length_or_in_a_private_block_is_still_masked() -> None:
    rng = random.Random(7)
    key = _s(rng, 40, ALNUM)
    for text in (f"deploy key: {key}", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_s(rng, 43)} key={key}",
                 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
                 f"{key}\n-----END OPENSSH PRIVATE KEY-----"):
        assert key not in redact(text), text
