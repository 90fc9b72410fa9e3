"""A recording proxy between two unix sockets: what crossed the wire, byte for byte, both ways."""

from __future__ import annotations

import socket
import threading
from pathlib import Path


class RecordingProxy:
    def __init__(self, listen: Path, target: Path):
        self.target = str(target)
        self.captured = bytearray()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(listen))
        self._server.listen(8)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def bytes(self) -> bytes:
        with self._lock:
            return bytes(self.captured)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:   # the target is not up (yet): the client sees the connection close
                upstream.close()
                conn.close()
                continue
            self._conns += [conn, upstream]
            for src, dst in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    self.captured += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._server.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
