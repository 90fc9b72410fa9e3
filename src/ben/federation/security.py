"""The NATS link's own transport security: TLS (a CA, a client certificate for mutual TLS) and
credentials (a token, or a user and password), read from files only ben's user may read.

Secure by default (ADR 0038, 2026-12 amendment): a server that is not loopback is refused without
TLS unless ``insecure = true`` (a WARNING at every start); credentials written into a server URL
are refused (a config file is no secret store). With TLS configured (``tls_ca_file``, or a
``tls://`` URL), ben sends nothing, credentials included, over a connection that is not TLS:
nats-py upgrades to TLS only when the server's first message asks for it, so a peer in the middle
answering "no TLS" would otherwise get the credentials in clear (``TlsOnlyClient``).

A connection the server refuses (a certificate that does not verify, credentials missing or
wrong) becomes one line naming the option to look at (``explain``); the link keeps trying and the
outbox keeps every summary meanwhile, as when NATS is down.
"""

from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from nats import errors as nats_errors
from nats.aio.client import Client

from ben.core.address import is_loopback
from ben.core.config import FederationConfig
from ben.core.errors import ConfigError
from ben.core.files import check_secret, read_input_text

log = logging.getLogger(__name__)

FLAG = "spine.federation"
SCHEMES = ("nats", "tls")


class TlsRequired(nats_errors.Error):
    """The server did not start TLS although the link requires it (nothing was sent)."""


@dataclass(frozen=True)
class NatsSecurity:
    """What ``nats.connect`` gets besides the servers: a TLS context (None: plain), credentials."""

    tls: ssl.SSLContext | None = None
    token: str | None = None
    user: str | None = None
    password: str | None = None

    def connect_options(self) -> dict:
        out: dict = {}
        if self.tls is not None:
            out["tls"] = self.tls
        if self.token is not None:
            out["token"] = self.token
        if self.user is not None:
            out["user"], out["password"] = self.user, self.password
        return out


def _secret(path: Path, name: str) -> str:
    """One line from a file only its owner may read; ConfigError naming the option otherwise."""
    check_secret(path, f"{FLAG}.{name}", "secret file")
    try:
        value = read_input_text(path).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", field=f"{FLAG}.{name}") from None
    if not value:
        raise ConfigError(f"{path} is empty", field=f"{FLAG}.{name}")
    return value


def _tls(cfg: FederationConfig, wanted: bool) -> ssl.SSLContext | None:
    if (cfg.tls_cert_file is None) != (cfg.tls_key_file is None):
        missing = "tls_key_file" if cfg.tls_key_file is None else "tls_cert_file"
        raise ConfigError("a client certificate needs tls_cert_file and tls_key_file together", field=f"{FLAG}.{missing}")
    if not wanted:
        if cfg.tls_cert_file is not None:
            raise ConfigError("a client certificate without TLS: set tls_ca_file (or tls:// server URLs)",
                              field=f"{FLAG}.tls_ca_file")
        return None
    if cfg.tls_ca_file is not None:  # another account able to write it could add its own CA (ADR 0045, round 9)
        from ben.core.files import check_trusted

        check_trusted(cfg.tls_ca_file, f"{FLAG}.tls_ca_file")
    try:
        ctx = ssl.create_default_context(cafile=str(cfg.tls_ca_file) if cfg.tls_ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the CA {cfg.tls_ca_file}: {exc}", field=f"{FLAG}.tls_ca_file") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cfg.tls_cert_file is not None:
        check_secret(cfg.tls_key_file, f"{FLAG}.tls_key_file")
        try:
            ctx.load_cert_chain(str(cfg.tls_cert_file), str(cfg.tls_key_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the client certificate {cfg.tls_cert_file} with key {cfg.tls_key_file}: "
                              f"{exc}", field=f"{FLAG}.tls_cert_file") from None
    return ctx


def resolve(cfg: FederationConfig) -> NatsSecurity:
    """Check the servers and read the TLS and credential files; ConfigError naming the option."""
    hosts = []
    if not cfg.servers:  # the link ran with no server, saying nothing
        raise ConfigError("no server: give at least one, e.g. [\"nats://127.0.0.1:4222\"]", field=f"{FLAG}.servers")
    for url in cfg.servers:
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES or not parsed.hostname:
            raise ConfigError(f"server {url!r}: expected nats://HOST:PORT or tls://HOST:PORT", field=f"{FLAG}.servers")
        try:  # port 99999 was taken here and retried for ever ("Port out of range 0-65535")
            port = parsed.port
        except ValueError:
            port = 0
        if port == 0 or not re.fullmatch(r"[A-Za-z0-9._:-]+", parsed.hostname):
            raise ConfigError(f"server {url!r}: expected a host name or address and a port of 1-65535 "
                              "(nats://HOST:PORT; 4222 if left out)", field=f"{FLAG}.servers")
        if parsed.username or parsed.password:
            raise ConfigError(f"server {parsed.hostname}: credentials in a server URL (the config file is no secret "
                              "store): use token_file, or user and password_file", field=f"{FLAG}.servers")
        hosts.append((url, parsed))
    wanted = cfg.tls_ca_file is not None or any(p.scheme == "tls" for _, p in hosts)
    tls = _tls(cfg, wanted)
    remote = [url for url, p in hosts if not is_loopback(p.hostname)]
    if remote and tls is None:
        if not cfg.insecure:
            raise ConfigError(f"NATS server {remote[0]} is not loopback and the link has no TLS: set "
                              f"{FLAG}.tls_ca_file (TLS; tls_cert_file and tls_key_file for mutual TLS), or "
                              f"{FLAG}.insecure = true to send summaries and credentials in plain text",
                              field=f"{FLAG}.tls_ca_file")
        log.warning("federation: NATS server %s is not loopback and %s.insecure = true: summaries%s travel in plain "
                    "text", remote[0], FLAG, " and credentials" if cfg.token_file or cfg.user else "")
    if cfg.token_file is not None and (cfg.user or cfg.password_file is not None):
        raise ConfigError("set token_file, or user and password_file, not both", field=f"{FLAG}.token_file")
    if bool(cfg.user) != (cfg.password_file is not None):
        raise ConfigError("user and password_file go together", field=f"{FLAG}.{'password_file' if cfg.user else 'user'}")
    token = _secret(cfg.token_file, "token_file") if cfg.token_file is not None else None
    password = _secret(cfg.password_file, "password_file") if cfg.password_file is not None else None
    return NatsSecurity(tls=tls, token=token, user=cfg.user or None, password=password)


class TlsOnlyClient(Client):
    """nats-py's client that sends CONNECT (and the credentials in it) only over TLS when the link
    requires TLS: nats-py itself starts TLS only if the server's INFO asks for it."""

    require_tls = False

    def _connect_command(self) -> bytes:
        if self.require_tls:
            writer = getattr(self._transport, "_io_writer", None)
            if writer is None or writer.get_extra_info("ssl_object") is None:
                raise TlsRequired(f"the NATS server did not start TLS ({FLAG}.tls_ca_file is set): nothing sent")
        return super()._connect_command()


def explain(exc: BaseException, cfg: FederationConfig) -> str:
    """One line for a failed connection, naming the option to look at."""
    text = f"{exc!r} {exc}"
    verify = exc if isinstance(exc, ssl.SSLCertVerificationError) else None
    if verify is None and isinstance(exc.__cause__ or exc.__context__, ssl.SSLCertVerificationError):
        verify = exc.__cause__ or exc.__context__
    if verify is not None or "CERTIFICATE_VERIFY_FAILED" in text:
        detail = getattr(verify, "verify_message", "") or "certificate verify failed"
        return (f"the NATS server's certificate does not verify against {FLAG}.tls_ca_file "
                f"({cfg.tls_ca_file or 'the system CAs'}): {detail}")
    if isinstance(exc, TlsRequired):
        return str(exc)
    if "CERTIFICATE_REQUIRED" in text or "BAD_CERTIFICATE" in text:  # the server's TLS alert
        if cfg.tls_cert_file is None:
            return f"the NATS server asks for a client certificate: set {FLAG}.tls_cert_file and tls_key_file"
        return (f"the NATS server refused the client certificate of {FLAG}.tls_cert_file ({cfg.tls_cert_file}): "
                "not signed by the CA it trusts")
    if isinstance(exc, nats_errors.AuthorizationError) or "authorization violation" in text.lower():
        if cfg.token_file is not None:
            return f"the NATS server refused the token of {FLAG}.token_file ({cfg.token_file})"
        if cfg.user:
            return f"the NATS server refused user {cfg.user!r} with the password of {FLAG}.password_file"
        return f"the NATS server asks for credentials: set {FLAG}.token_file, or {FLAG}.user and password_file"
    return f"cannot connect to NATS ({exc!r})"
