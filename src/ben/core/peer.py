"""Who is on the other end of a loopback TCP connection: the kernel names the uid.

A loopback port is reachable by every account on the host: the web interface (which reads as the
spine's operator) serves, without a token or client certificates, only the uids it was told to (its
own by default); the OTLP receiver gives each local account its own shares (ADR 0045, round 6). The client's socket is this host's too: the kernel's socket diagnostics
(netlink ``SOCK_DIAG_BY_FAMILY``, one exact lookup by address and ports, ~10 us) give its owner's
uid (fixed when the socket was made). Where netlink is not available, ``/proc/net/tcp`` and
``tcp6`` are read instead (the same record, milliseconds on a busy host).

A client that sent its request and closed its socket at once has no owner any more: the kernel keeps its
end as an orphan, soon a TIME_WAIT entry (in state FIN_WAIT2 or TIME_WAIT), which both tables list with uid
0 and inode 0. That is not root: an end no open socket holds (inode 0) names no one (None), or any local
account could be served as root by closing its end before the lookup (ADR 0045, round 8).
"""

from __future__ import annotations

import ipaddress
import socket
import struct

_NETLINK_SOCK_DIAG, _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, _NLMSG_ERROR = 4, 20, 1, 2
_NO_COOKIE = 0xFFFFFFFF
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _canonical(host: str) -> IP:
    address = ipaddress.ip_address(host)
    return getattr(address, "ipv4_mapped", None) or address


def _mapped(address: IP) -> ipaddress.IPv6Address:
    return address if address.version == 6 else ipaddress.IPv6Address(f"::ffff:{address}")


def _diag(family: int, src: IP, sport: int, dst: IP, dport: int) -> int | None:
    """The uid of the TCP socket src:sport -> dst:dport of this host (None: no such socket)."""
    sockid = (struct.pack("!HH", sport, dport) + src.packed.ljust(16, b"\0") + dst.packed.ljust(16, b"\0")
              + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE))
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1.0)
        nl.send(struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0) + request)
        data = nl.recv(65536)
    kind = struct.unpack_from("=H", data, 4)[0]
    if kind == _NLMSG_ERROR or len(data) < 16 + 4 + 48 + 20:
        return None
    _, _, _, uid, inode = struct.unpack_from("=IIIII", data, 16 + 4 + 48)  # expires, rqueue, wqueue, uid, inode
    return None if inode == 0 else uid  # inode 0: the client closed its end, no one holds it now


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the client end of the TCP connection client -> server, or None if the kernel
    lists no such socket (the client is not on this host, or it is gone)."""
    src, dst = _canonical(client[0]), _canonical(server[0])
    tries = [(socket.AF_INET6, _mapped(src), _mapped(dst))]  # a client on an IPv6 socket
    if src.version == dst.version == 4:
        tries.insert(0, (socket.AF_INET, src, dst))
    try:
        for family, a, b in tries:
            uid = _diag(family, a, client[1], b, server[1])
            if uid is not None:
                return uid
        return None
    except OSError:  # no netlink socket diagnostics here: the kernel's tables in /proc
        return _proc_uid(src, client[1], dst, server[1])


def _address(field: str) -> tuple[IP, int]:
    """``0100007F:1F90`` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order."""
    host, port = field.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(struct.pack("=I", struct.unpack(">I", raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    return getattr(address, "ipv4_mapped", None) or address, int(port, 16)


def _proc_uid(src: IP, sport: int, dst: IP, dport: int) -> int | None:
    ports = (f":{sport:04X}", f":{dport:04X}")
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if not (parts[1].endswith(ports[0]) and parts[2].endswith(ports[1])):
                        continue
                    if (_address(parts[1])[0], _address(parts[2])[0]) == (src, dst):
                        return None if parts[9] == "0" else int(parts[7])  # inode 0: closed
        except OSError:
            continue
    return None
