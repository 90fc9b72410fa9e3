"""A small certificate authority for mutual TLS between ben's components (``ben certs``, ADR 0034).

``init`` makes ``ca.crt`` and ``ca.key``; ``issue`` makes ``NAME.crt`` and ``NAME.key`` signed by
it, with the common name NAME: a sidecar's id, an operator's name (``spine.operators[].cert``) or
the spine, whose certificate also names the hosts and addresses sidecars dial it by. Keys are
ECDSA P-256 (every TLS stack takes them), written 0600; certificates 0644. An operator's own PKI
serves as well: the spine needs a server certificate, the CA client certificates chain to, and
client certificates whose common name is the sidecar id or the operator's name.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ben.core.dirlock import writing_in
from ben.core.errors import ConfigError
from ben.core.files import check_private, own_dir, write_atomic

CA_DAYS = 3650
LEAF_DAYS = 825
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
#: A certificate's name is a sidecar id (``[sidecar] id``), an operator's name (``[[spine.operators]] name``) or
#: ``spine``: the characters either may hold (a name of other characters made a certificate nothing accepts).
NAME_RE = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,63}")


def _write_pair(key_path: Path, key: bytes, cert_path: Path, cert: bytes, overwrite: bool) -> None:
    """A key and its certificate, both or neither: each is checked before either is written (a certificate
    there without its key got a new key beside it, then the refusal: a pair that was none), and a key this call
    made is removed when its certificate is not written (Ctrl-C or a full disk between the two)."""
    there = [p for p in (key_path, cert_path) if p.exists()]
    if there and not overwrite:
        raise ConfigError(f"{there[0]} exists (--force overwrites it; nothing was written)", field="--dir")
    write_atomic(key_path, key, 0o600)
    try:
        write_atomic(cert_path, cert, 0o644)
    except BaseException:
        if key_path not in there:
            key_path.unlink(missing_ok=True)
        raise


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ben"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def init_ca(directory: Path, name: str = "ben CA", *, overwrite: bool = False) -> Path:
    """Create ca.crt and ca.key (0600) in directory (made 0700)."""
    own_dir(directory, "--dir")  # not another account's, nor one it may write (ADR 0045, round 6)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    # one `ben certs init` at a time: two at once both said they made the CA, and ca.crt and ca.key could be of
    # two different CAs (ADR 0033, round 10)
    with writing_in(directory, "--dir", "ca.key"):
        _write_pair(directory / "ca.key", _key_pem(key), directory / "ca.crt",
                    cert.public_bytes(serialization.Encoding.PEM), overwrite)
    return directory / "ca.crt"


def _load_ca(directory: Path):
    if not (directory / "ca.key").exists():
        raise ConfigError(f"no CA in {directory}: {directory / 'ca.key'} does not exist "
                          f"(ben certs init --dir {directory} makes one)", field="--dir")
    check_private(directory / "ca.key", "ca.key")
    loaded = []
    for name, load in (("ca.key", lambda data: serialization.load_pem_private_key(data, password=None)),
                       ("ca.crt", x509.load_pem_x509_certificate)):
        try:
            loaded.append(load((directory / name).read_bytes()))
        except (OSError, ValueError, TypeError) as exc:  # which file, without cryptography's FAQ link
            reason = getattr(exc, "strerror", None) or str(exc).split(". See https://", 1)[0]
            raise ConfigError(f"cannot load the CA in {directory}: {name}: {reason} (ben certs init makes one)",
                              field="--dir") from None
    key, cert = loaded
    pem = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*pem) != cert.public_key().public_bytes(*pem):
        # a ca.crt copied from another CA: the certificate was issued and every TLS handshake then failed
        raise ConfigError(f"ca.crt and ca.key in {directory} are not a pair (ca.crt is another CA's certificate, "
                          "or ca.key another CA's key): nothing was issued; ben certs init makes a CA",
                          field="--dir")
    return key, cert


def issue(directory: Path, name: str, *, server: bool = False, hosts: tuple[str, ...] = (),
          overwrite: bool = False) -> tuple[Path, Path]:
    """NAME.crt and NAME.key (0600) signed by the CA in directory. ``server``: also a TLS server
    certificate for ``hosts`` (DNS names or IP addresses; default localhost and loopback)."""
    if not NAME_RE.fullmatch(name):  # "é", 100 characters: "a bug in ben"; "a b", "a\nb", "*": signed as given
        shown = name if len(name) <= 40 else f"{name[:40]}... ({len(name)} characters)"
        raise ConfigError(f"{shown!r} is not a usable name: a sidecar id or an operator's name, of letters, digits, "
                          "'.', '_', '-' and '@' (at most 64, not starting with '.')", field="NAME")
    own_dir(directory, "--dir")
    with writing_in(directory, "--dir", f"{name}.crt"):  # the CA read and the pair written by one issuer at a time
        return _issue(directory, name, server, hosts, overwrite)


def _issue(directory: Path, name: str, server: bool, hosts: tuple[str, ...], overwrite: bool) -> tuple[Path, Path]:
    ca_key, ca_cert = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    sans: list[x509.GeneralName] = [x509.DNSName(name)] if not server else []
    for host in (hosts or DEFAULT_HOSTS) if server else hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    builder = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    _write_pair(key_path, _key_pem(key), cert_path, cert.public_bytes(serialization.Encoding.PEM), overwrite)
    return cert_path, key_path


def common_name_of(pem: bytes) -> str:
    """The common name of the first certificate in ``pem`` ("" when it names none)."""
    names = x509.load_pem_x509_certificate(pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
