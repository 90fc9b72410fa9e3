"""OTLP/gRPC's accepting gate: connections counted per local account (ADR 0045, round 7); since round 17 also in
front of a sidecar's plain loopback ``listen`` (``ben.sidecar.listen``), since round 18 in front of the unix sockets
of both (``start_unix``: the kernel names the connecting process's uid, ``SO_PEERCRED``, and every account of the
socket's group was one client of the connection, call and sender bounds before).

gRPC's core caps a listener's connections (``grpc.max_allowed_incoming_connections``) but knows no
per-peer limit and evicts nothing: another account's flood of idle connections held the whole quota,
and a *new* exporter of any other account was refused at accept until the flood left. Python's gRPC
cannot be handed an accepted socket, so ben accepts the TCP connections itself:

- for each, the kernel names the client's uid (``clients.client_of``: one netlink lookup per
  connection, instead of one per request as before);
- a client already holding ``per_client`` connections gets the new connection closed at once (counted in
  ``refused``). A listener holding ``total`` makes room for a client holding fewer than the one holding
  most (by two or more): that one's newest connection is closed (``evicted``), so accounts flooding
  together each keep about ``total / accounts`` and a new account is still let in (ADR 0045, round 8);
  otherwise the new connection is closed;
- an admitted connection is spliced to the gRPC server, which listens on a unix socket in a directory
  of its own (0700, so no one else can reach it and go around the gate). The gate's end of
  that socket is bound to ``<dir>/u<uid>.<n>`` (unlinked once connected), which gRPC reports as the
  call's peer: ``client_of_peer`` reads the client back from it. A client the kernel does not name (a
  peer on another host) is ``n.<n>``: "", counted only in ``total``. A loopback connection whose client
  end is already closed (a flood that exited, its last connections still in the accept queue) is closed at
  once (``gone``): it took a place, and evicted a live account's connection, as "" before (round 9).

Everything the client sends reaches gRPC unchanged (TLS included: it ends at gRPC), so gRPC's own
deadlines (handshake, idle, message size) apply as before; when either side closes, the other is closed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import stat
import tempfile
from collections import Counter
from pathlib import Path

from ben.core.files import write_atomic
from ben.otlp import clients

log = logging.getLogger(__name__)

_HIGH_WATER = 256 << 10  # bytes buffered toward one side before the other side is paused
_MAX_DIR = 107 - len("/u4294967295.") - 12  # a unix socket's path is at most 107 bytes
_TEMP_PREFIX = "ben-otlp-"


class Gate:
    """The TCP listener in front of one gRPC server; ``start`` / ``shutdown`` like every component."""

    def __init__(self, *, per_client: int, total: int, directory: Path | None = None, what: str = "OTLP/gRPC",
                 fields: tuple[str, str] = ("sidecar.otlp.max_connections_per_client", "sidecar.otlp.max_connections")):
        """``directory``: the unix sockets' (the sidecar's ``<data_dir>/otlp-gate``, made again 0700 at each
        start, so a sidecar killed leaves nothing elsewhere); a new temporary one when None or too long for
        a socket's path (then named in ``<directory>.path``: the next start removes the one a kill -9 left).
        ``what`` and ``fields`` name the listener and its two options in the log lines (the sidecar's own
        ``listen`` is gated too: ADR 0045, round 17)."""
        self.per_client, self.total = per_client, total
        self.what, self.fields = what, fields
        self._record: Path | None = None
        if directory is not None and len(str(directory)) <= _MAX_DIR:
            shutil.rmtree(directory, ignore_errors=True)  # sockets of a sidecar that was killed
            directory.mkdir(mode=0o700)
            directory.chmod(0o700)
            self.directory = directory
        else:
            if directory is not None:  # named in <dir>.path, so the next start removes what a kill -9 left
                self._record = directory.with_name(directory.name + ".path")
                _remove_left(self._record)
            self.directory = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX))  # 0700 whatever the umask
            if self._record is not None:
                write_atomic(self._record, str(self.directory).encode(), 0o600)
        self.inner = str(self.directory / "grpc.sock")
        self.held: Counter[str] = Counter()   # client -> connections held
        self.refused = self.evicted = 0
        #: connections whose loopback client had closed its end before they were accepted (a flood that left,
        #: stragglers of its SYN retries): closed at once, never admitted nor counted as refused (round 9)
        self.gone = 0
        self._n = 0
        self._pipes: set[_Outer] = set()
        self._server: asyncio.base_events.Server | None = None
        self._unix: tuple[str, int, int] | None = None  # the unix socket listened on: removed at shutdown if ours

    async def start_unix(self, path: str, backlog: int = 16) -> None:
        """Listen on the unix socket ``path`` (``transport.prepare_listen`` checked it; its mode and group are set
        after, as gRPC's were). A client is the uid the kernel names for the connecting process (``SO_PEERCRED``):
        every account of a unix socket was one client of the listener's bounds (ADR 0045, round 18)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _Outer(self), path, backlog=backlog)
        st = os.lstat(path)
        self._unix = (path, st.st_dev, st.st_ino)

    async def start(self, host: str, port: int, backlog: int = 16) -> int:
        """Listen on ``host:port`` (0: any free port); the port bound. ``OSError`` if it is taken."""
        loop = asyncio.get_running_loop()
        # asyncio accepts up to a backlog's worth per turn of the loop: a short one keeps a burst small
        self._server = await loop.create_server(lambda: _Outer(self), host or None, port, backlog=backlog,
                                                reuse_port=False)
        return self._server.sockets[0].getsockname()[1]

    def client_of_peer(self, peer: str) -> str:
        """The client of a call whose gRPC peer is ``unix:<dir>/u<uid>.<n>``: ``u<uid>``; else ""."""
        path = (peer or "").partition(":")[2]
        if not path.startswith(f"{self.directory}/u"):
            return ""
        name = path[len(str(self.directory)) + 1:].partition(".")[0]
        return name if name[1:].isdigit() else ""

    def admit(self, client: str) -> bool:
        full = sum(self.held.values()) >= self.total
        if full and not (client and self.held[client] >= self.per_client):
            full = not self._make_room(client)
        if full or (client and self.held[client] >= self.per_client):
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning("%s connection of client %r refused: %d held by it, %d in all (%s, %s); %d refused so "
                            "far", self.what, client or "?", self.held[client], sum(self.held.values()),
                            *self.fields, self.refused)
            return False
        self.held[client] += 1
        return True

    def _make_room(self, client: str) -> bool:
        """Close the newest connection of the client holding most, if ``client`` holds two fewer or more."""
        most, count = max(self.held.items(), key=lambda kv: kv[1], default=("", 0))
        if count - self.held[client] < 2:
            return False
        victim = max((p for p in self._pipes if p.client == most and p.admitted), key=lambda p: p.order, default=None)
        if victim is None:
            return False
        victim.evict()
        self.evicted += 1
        if self.evicted == 1 or self.evicted % 1000 == 0:
            log.warning("%s connection of client %r closed to let in one of client %r: the listener holds "
                        "%s (%d); %d closed so far", self.what, most or "?", client or "?", self.fields[1],
                        self.total, self.evicted)
        return True

    def release(self, client: str) -> None:
        self.held[client] -= 1
        if self.held[client] <= 0:
            del self.held[client]

    def name(self, client: str) -> str:
        self._n += 1
        return str(self.directory / f"{client or 'n'}.{self._n}")

    async def close_listener(self) -> None:
        """No new connection (those held stay, so calls in flight are answered)."""
        if self._server is not None:
            self._server.close()  # the listening socket at once (wait_closed would wait for every connection)
            self._server = None
        if self._unix is not None:  # asyncio leaves the file: the next start would find a stale socket
            path, dev, ino = self._unix
            self._unix = None
            try:
                st = os.lstat(path)
                if (st.st_dev, st.st_ino) == (dev, ino):
                    os.unlink(path)
            except OSError:
                pass

    async def shutdown(self, timeout: float = 1.0) -> None:
        """Stop listening, cut the connections still held, remove the directory."""
        await self.close_listener()
        for pipe in list(self._pipes):
            pipe.abort()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self._record is not None:
            self._record.unlink(missing_ok=True)


def _remove_left(record: Path) -> None:
    """Remove the temporary socket directory that ``record`` names (a sidecar killed before its shutdown
    left it in the temporary directory: one per kill, before), if it is still one of ours."""
    try:
        left = Path(record.read_text().strip())
        st = os.lstat(left)
    except (OSError, ValueError):
        st = None
    if (st is not None and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and left.parent == Path(tempfile.gettempdir()) and left.name.startswith(_TEMP_PREFIX)):
        shutil.rmtree(left, ignore_errors=True)
    record.unlink(missing_ok=True)


class _Side(asyncio.Protocol):
    """One end of a spliced connection; what it receives is written to ``other``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.other: _Side | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        other = self.other
        if other is None or other.transport is None:
            return
        other.transport.write(data)

    def eof_received(self) -> bool:
        self.close_both()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.close_both()

    def pause_writing(self) -> None:  # our outgoing buffer is full: stop reading the other side
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None and not self.other.transport.is_closing():
            self.other.transport.resume_reading()

    def close_both(self) -> None:
        for side in (self, self.other):
            if side is not None and side.transport is not None and not side.transport.is_closing():
                side.transport.close()  # what was written is still sent

    def abort(self) -> None:
        for side in (self, self.other):
            if side is not None and side.transport is not None:
                side.transport.abort()


class _Outer(_Side):
    def __init__(self, gate: Gate):
        super().__init__()
        self.gate, self.client, self.admitted, self.order = gate, "", False, 0

    def evict(self) -> None:
        """Closed to make room: released at once (the listener's count must not wait for the loop)."""
        self.admitted = False
        self.gate.release(self.client)
        self.gate._pipes.discard(self)
        self.abort()

    def connection_made(self, transport) -> None:
        self.transport = transport
        client = clients.of_transport(transport)  # a unix socket's: the connecting process's uid (round 18)
        if client is None:  # its client closed it before it was accepted: it takes no place, evicts no one
            self.gate.gone += 1
            transport.abort()
            return
        if not self.gate.admit(client):
            transport.abort()
            return
        self.client, self.admitted = client, True
        self.order = self.gate._n = self.gate._n + 1
        self.gate._pipes.add(self)
        transport.set_write_buffer_limits(high=_HIGH_WATER)
        transport.pause_reading()  # until the gRPC side is connected
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        name = self.gate.name(self.client)
        try:
            sock.setblocking(False)
            sock.bind(name)  # gRPC's peer for this connection: the client's name (client_of_peer)
            await loop.sock_connect(sock, self.gate.inner)
            inner = _Side()
            inner.other, self.other = self, inner
            await loop.create_unix_connection(lambda: inner, sock=sock)
        except OSError as exc:
            sock.close()
            log.debug("%s gate: cannot reach the server: %s", self.gate.what, exc)
            self.abort()
            return
        finally:
            try:
                os.unlink(name)
            except OSError:
                pass
        inner.transport.set_write_buffer_limits(high=_HIGH_WATER)
        if self.transport.is_closing():
            inner.transport.close()
            return
        self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.admitted:
            self.admitted = False
            self.gate.release(self.client)
            self.gate._pipes.discard(self)
