"""Who is on the other end of a loopback TCP connection: the kernel's socket tables name the uid.

A loopback port is reachable by every account on the host, and the web interface reads as the
spine's operator; so without a token or client certificates it serves only the uids it was told
to (its own by default). The client's socket is this host's too: ``/proc/net/tcp`` and
``/proc/net/tcp6`` list it with local address = the client's, remote = the server's, and its
owner's uid (``sock_i_uid``, fixed when the socket was made).
"""

from __future__ import annotations

import ipaddress
import struct


def _address(field: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """``0100007F:1F90`` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order."""
    host, port = field.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(struct.pack("=I", struct.unpack(">I", raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words), int(port, 16)


def _canonical(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(host)
    return getattr(address, "ipv4_mapped", None) or address


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the client end of the TCP connection client -> server, or None if the kernel
    lists no such socket (the client is not on this host, or it is gone)."""
    want = (_canonical(client[0]), client[1], _canonical(server[0]), server[1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    (lhost, lport), (rhost, rport) = _address(parts[1]), _address(parts[2])
                    if (lport, rport) != (want[1], want[3]):
                        continue
                    lhost = getattr(lhost, "ipv4_mapped", None) or lhost
                    rhost = getattr(rhost, "ipv4_mapped", None) or rhost
                    if (lhost, rhost) == (want[0], want[2]):
                        return int(parts[7])
        except OSError:
            continue
    return None


