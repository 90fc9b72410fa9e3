"""Who sent an OTLP request, as the kernel says: a loopback client's uid (ADR 0045, round 6).

Every local application reaches the loopback OTLP ports, and everything in a request (``service.name``
included) is the application's to choose. What it cannot choose is the account its socket belongs to:
the kernel's socket diagnostics name the uid at the client's end of a loopback TCP connection
(``ben.core.peer``, one netlink lookup, ~10-600 us). That uid is the request's *client*: it has its own
senders (``sender.Slots``), so its series are charged to its own detection share at the spine
(``<sidecar>/otlp/u<uid>``, ``max_series_per_peer``), and its own alert shares (``alert_share``).

On a unix socket the client is the uid of the process that connected (``SO_PEERCRED``, ``of_transport``; round 18).
A client that cannot be told apart this way (a peer on another host, a connection gone before the lookup) is "":
the receiver's shared senders and shares, as before.

Over mutual TLS (``tls_client_ca_file``) the client is its certificate, ``c<16 hex>`` (its common name,
hashed: the CA may put any character in a name), wherever it connects from: every exporter of other hosts
was "", so one certificate of the CA took the shares of all of them (ADR 0045, round 12).
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket

from ben.core.peer import peer_uid
from ben.core.peers import peer_credentials

Address = tuple[str, int]


def _host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def client_of(client: Address | None, server: Address | None) -> str:
    """``u<uid>`` for a loopback TCP client the kernel names, else ""."""
    return name_of(client, server) or ""


def name_of(client: Address | None, server: Address | None) -> str | None:
    """``client_of``, but None for a loopback client whose end no open socket holds any more: it closed (or
    reset) its connection before it was accepted, and nothing it sent can be answered. Loopback is this host's
    (one network namespace), so the kernel lists every live client end of it (ADR 0045, round 9)."""
    if not isinstance(client, tuple) or not isinstance(server, tuple) or len(client) < 2 or len(server) < 2:
        return ""  # a unix socket's peer, or none
    src, dst = _host(str(client[0])), _host(str(server[0]))
    if src is None or not src.is_loopback:
        return ""
    if dst is None or dst.is_unspecified:  # a wildcard bind: a loopback client reached the same address
        dst = src
    try:
        uid = peer_uid((str(src), int(client[1])), (str(dst), int(server[1])))
    except (OSError, ValueError):
        return ""
    return None if uid is None else f"u{uid}"


def of_transport(transport) -> str | None:
    """``name_of`` a connection's client from its asyncio transport; on a unix socket ``u<uid>`` of the process that
    connected (the kernel's ``SO_PEERCRED``): every account of a unix socket was one client, "" (ADR 0045, round 18)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == socket.AF_UNIX:
        try:
            return f"u{peer_credentials(sock)[1]}"
        except OSError:
            return None
    return name_of(transport.get_extra_info("peername"), transport.get_extra_info("sockname"))


def of_common_name(name: str | bytes | None) -> str:
    """``c<16 hex>`` for a TLS client certificate's common name (None or empty: "")."""
    if not name:
        return ""
    raw = name if isinstance(name, bytes) else name.encode()
    return "c" + hashlib.sha256(raw).hexdigest()[:16]


def of_certificate(cert: dict | None) -> str:
    """``of_common_name`` of a peer certificate as ``ssl`` decodes it (``getpeercert()``); "" without one."""
    if not cert:
        return ""
    return of_common_name(",".join(v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName")
                          or repr(cert.get("subject")))
