"""Ed25519 keys: generate, save (private key file 0600), load, sign, verify; key ids.

A key pair lives in two files: ``NAME.key`` (the private key, PKCS#8 PEM, mode 0600, refused
when readable by others) and ``NAME.pub`` (the raw public key, base64, one line). A key's id is
``k-`` + the first 16 hex digits of SHA-256 over the raw public key, so anyone holding the
public key can compute it. Each issuer key also has ``NAME.seq``: its per-issuer sequence
counter, incremented under a file lock for every envelope it signs.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ben.core.dirlock import writing_in
from ben.core.errors import ConfigError, SignatureError
from ben.core.files import own_dir, read_input, write_atomic


def key_id(public_raw: bytes) -> str:
    return "k-" + hashlib.sha256(public_raw).hexdigest()[:16]


def public_from_text(text: str, *, source: str = "trust store", field: str = "public_key") -> Ed25519PublicKey:
    """A public key from its base64 (or hex) text form."""
    text = text.strip()
    raw = None
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:
        pass
    if raw is None or len(raw) != 32:
        raise ConfigError("not an Ed25519 public key (expected 32 bytes, base64)", source=source, field=field)
    return Ed25519PublicKey.from_public_bytes(raw)


def public_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes_raw()).decode()


def verify(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass
class Signer:
    """A private key in memory, its id, and where it lives (for the sequence counter)."""

    private: Ed25519PrivateKey
    path: Path | None = None

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def id(self) -> str:
        return key_id(self.public.public_bytes_raw())

    @property
    def public_text(self) -> str:
        return public_text(self.public)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def next_sequence(self) -> int:
        """The next per-issuer sequence number, kept in ``NAME.seq`` beside the key (file lock, fsync)."""
        if self.path is None:
            raise ConfigError("an in-memory key has no sequence counter", field="key")
        seq_path = self.path.with_suffix(".seq")
        fd = os.open(seq_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            text = os.read(fd, 64).decode(errors="replace").strip()
            if text and not text.isdigit():
                raise ConfigError(f"{seq_path} holds {text[:20]!r}, not a sequence number; write in it a number above "
                                  "the last this key signed (ben command list shows them), or the spine refuses the "
                                  "next commands as replays", source=str(seq_path))
            seq = (int(text) if text else 0) + 1
            # One write over the old number, never shorter (fixed width): a kill leaves the old number or the new
            # one. Truncating first, as before, let a kill leave an empty file: the count began again at 1 and the
            # spine refused each next command as a replay (ADR 0046 round 6).
            os.pwrite(fd, f"{seq:020d}\n".encode(), 0)
            os.fsync(fd)
            return seq
        finally:
            os.close(fd)


def generate(directory: Path, name: str, *, overwrite: bool = False) -> Signer:
    """Create NAME.key (0600) and NAME.pub in directory; refuses to overwrite unless asked."""
    # a name of the trust store (ASCII, at most 64), and a file name: "." or ".." wrote "...key" beside the
    # directory's own entries, "/" or "" was refused only as it happened to be no letter
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name or "") or not name.strip("."):
        raise ConfigError(f"key name {name!r:.80}: expected letters, digits, '.', '_' or '-' (at most 64, not only "
                          "dots), as the trust store's names", source="command line", field="NAME")
    own_dir(directory, "--dir")  # not another account's, nor one it may write (ADR 0045, round 6)
    key_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    # one generator at a time in the directory: two `ben keys generate alice` at once both printed a trust entry,
    # and one of the two keys was gone (or alice.key and alice.pub were halves of two keys) (ADR 0033, round 10)
    with writing_in(directory, "--dir", f"{name}.key"):
        if key_path.exists() and not overwrite:
            raise ConfigError(f"{key_path} exists; refusing to overwrite a key (use --force)", source=str(key_path))
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        signer = Signer(private, key_path)
        # the public half first: a kill between the two leaves a .pub without its .key (generate again),
        # never a .key without the .pub that `ben audit verify` and the trust store need
        write_atomic(pub_path, (signer.public_text + "\n").encode(), 0o600)
        write_atomic(key_path, pem, 0o600)
    return signer


def load_signer(path: Path | str) -> Signer:
    """Load a private key file; refuses files others can read (like ssh)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = read_input(path)
    except FileNotFoundError:
        raise ConfigError("key file not found (create one with: ben keys generate NAME)", source=str(path)) from None
    except IsADirectoryError:  # was "cannot read key file: [Errno 21] Is a directory: '…'"
        raise ConfigError("a directory, not a key file (ben keys generate NAME writes one)", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read key file: {exc}", source=str(path)) from None
    # a .pub, a trust store or a config given as --key: say what it is, not "chmod 600 it" (only a PEM private
    # key others can read is the chmod's case; it is still refused before it is parsed)
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and b"PRIVATE KEY-----" in data:
        raise ConfigError(f"private key file is accessible by others (mode {stat.S_IMODE(mode):o}); "
                          "chmod 600 it", source=str(path))
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(_not_a_private_key(data, path, exc), source=str(path)) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError("not an Ed25519 private key", source=str(path))
    return Signer(private, path)


def _public_key_text(data: bytes) -> bool:
    """``data`` is the text of an Ed25519 public key (a ``.pub`` file)."""
    try:
        public_from_text(data.decode("ascii"))
    except (ConfigError, UnicodeDecodeError, ValueError):
        return False
    return True


def _not_a_private_key(data: bytes, path: Path, exc: Exception) -> str:
    """Why ``data`` is no private key, in words: the ``.pub`` beside it given instead (its base64 text is a
    valid public key) was "Unable to load PEM file. See https://cryptography.io/... MalformedFraming"."""
    if _public_key_text(data):
        private = path.with_suffix(".key") if path.suffix == ".pub" else "its .key file"
        return f"this is a public key: signing takes the private key ({private}, written by ben keys generate)"
    if data.lstrip().startswith(b"-----BEGIN") and b"ENCRYPTED" in data.split(b"\n", 1)[0]:
        return "an encrypted private key: ben reads unencrypted PEM keys (mode 0600), as ben keys generate writes"
    reason = str(exc).split(". See https://", 1)[0]  # cryptography's text points at its FAQ
    return f"not a PEM private key ({reason}); ben keys generate NAME writes one"


def load_or_create(directory: Path, name: str) -> Signer:
    """A component's own key: load it, or create it at first start. A damaged one (cut short, altered)
    is refused with what to do: it signed the component's audit entries and receipts."""
    path = directory / f"{name}.key"
    if not path.exists():
        return generate(directory, name)
    try:
        return load_signer(path)
    except ConfigError as exc:
        if "private key" not in str(exc) or "accessible by others" in str(exc):
            raise
        raise ConfigError(
            f"{name}.key is damaged (not a readable Ed25519 private key: cut short or altered). Restore it from a backup: it signed "
            f"this component's audit entries (`ben audit verify` checks them with {name}.pub) and receipts. To "
            f"start with a new key instead, move {name}.key and {name}.pub aside (a sidecar's new key must then be "
            f"pinned again: ben keys trust --sidecar ID PUBKEY)", source=str(path)) from None


__all__ = ["InvalidSignature", "SignatureError", "Signer", "generate", "key_id", "load_or_create", "load_signer",
           "public_from_text", "public_text", "verify"]
