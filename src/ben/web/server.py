"""WebServer: uvicorn serving the app, in the foreground (``ben web``) or a thread (``ben spine --web``)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import ssl
import threading
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ben.core.config import WebConfig
from ben.core.errors import BenError, ConfigError
from ben.web.app import create_app
from ben.web.auth import (CERTIFICATES, certificate_name, certificates_served, check_tls,
                          resolve_token, token_file)
from ben.web.reads import Reader
from ben.web.triage import Recommend

log = logging.getLogger(__name__)


HEADER_TIMEOUT_S = 10.0  # the default of [web] header_timeout_s
BODY_TIMEOUT_S = 60.0  # the default of [web] body_timeout_s
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
#: Connections held open at once. The interface runs in the spine's process: without a bound, any local
#: account could open connections to the loopback port until the spine had no file descriptor left
#: for its WAL, its store or its sidecars (each is held until HEADER_TIMEOUT_S). Past it, the oldest
#: connection with no request running is closed (a browser asks at once; a held one waits); the
#: listen backlog is as long, so one turn of the accept loop cannot take many more.
MAX_CONNECTIONS = 256
#: The listen backlog, and so the most connections one turn of asyncio's accept loop takes: each is closed (when
#: over MAX_CONNECTIONS) only turns later, so a flood holds about MAX_CONNECTIONS plus a few bursts of it. At 256
#: a flood of 3,000 connections took the spine to its 1,024 descriptors under load; at 64 it stays far below.
ACCEPT_BURST = 64


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline on request headers (slowloris): a connection on which
    no request started for ``header_timeout_s`` while none is running is closed (uvicorn times
    out an idle keep-alive connection, not one that sends its headers a byte at a time).

    And on request bodies (ADR 0045, round 8): a request whose body is not all received within
    ``body_timeout_s`` of its headers is answered 408 and its connection closed. Without it a client the
    interface serves (its own uid, a token, a certificate) held a connection for ever with a body sent a
    byte at a time, on its first request or any later one of a keep-alive connection."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = time.monotonic()
        if len(self.connections) > MAX_CONNECTIONS:
            idle = [c for c in self.connections if isinstance(c, HeaderDeadline) and c is not self
                    and not c.transport.is_closing()
                    and (c.cycle is None or c.cycle.response_complete)]
            victim = min(idle, key=lambda c: c._opened) if idle else self
            victim.transport.close()
        cert = transport.get_extra_info("peercert")  # [web.tls]: the client's certificate names it
        if cert and self.client:
            CERTIFICATES[tuple(self.client)] = certificate_name(cert)
        self._last_cycle = self._started_cycle = None
        self._started = self._opened
        self._deadline = self.loop.call_later(self.header_timeout_s, self._check_progress)

    def _check_progress(self) -> None:
        cycle, now = self.cycle, time.monotonic()
        if (cycle is None or cycle.response_complete) and cycle is self._last_cycle:
            self.transport.close()
            return
        if cycle is not None and cycle is self._started_cycle and cycle.more_body and now - self._started >= self.body_timeout_s:
            if not cycle.response_started:
                why = f"request body not received within {self.body_timeout_s:g} s (web.body_timeout_s)\n".encode()
                self.transport.write(_TIMED_OUT % (len(why), why))
            self.transport.close()
            return
        self._last_cycle = cycle
        wait = self.header_timeout_s
        if cycle is not None and cycle.more_body:
            wait = min(wait, max(0.1, self._started + self.body_timeout_s - now))
        self._deadline = self.loop.call_later(wait, self._check_progress)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not self._started_cycle:  # a request's headers were just read: its body's clock starts
            self._started_cycle, self._started = self.cycle, time.monotonic()

    def connection_lost(self, exc) -> None:
        if self.client:
            CERTIFICATES.pop(tuple(self.client), None)
        self._deadline.cancel()
        super().connection_lost(exc)


class _Server(uvicorn.Server):
    """uvicorn's server, which first ends the open ``/live`` streams when it stops (else it cancels them after its
    graceful timeout, logging an ERROR and a traceback for each page left open)."""

    async def shutdown(self, sockets=None) -> None:
        end = getattr(self.config.app, "end_streams", None)
        if end is not None:
            end()
        await super().shutdown(sockets)


class WebServer:
    """The web interface for one spine. ``start()`` runs it in a daemon thread; ``run()`` blocks.

    The access token is resolved before anything listens: a non-loopback bind without one refuses to
    start with a ConfigError naming ``web.token_env``. ``recommend`` (``ben.web.triage.recommender``):
    the cortex's recommendations on the incident page.
    """

    def __init__(self, cfg: WebConfig, spine: str, sidecars: tuple[str, ...] = (), *,
                 recommend: Recommend | None = None):
        self._cfg = cfg
        self._token = resolve_token(cfg)
        secure = check_tls(cfg)
        # a token file is read again when it changes: a leaked token replaced is refused at once (round 12)
        token = token_file(cfg.token_file, self._token) if self._token and cfg.token_file is not None else self._token
        # No token, no client certificates (loopback): only these accounts, named by the kernel.
        local_uids = None if self._token or secure else frozenset({os.geteuid(), *cfg.local_uids})
        reader = self._reader = Reader(spine, sidecars, sql_max_result_bytes=cfg.sql_max_result_bytes)
        app = create_app(reader, token=token, poll_interval_s=cfg.poll_interval_ms / 1000,
                         recommend=recommend, local_uids=local_uids, certificates=certificates_served(cfg))
        tls = {}
        if secure:  # HTTPS; a client without a certificate the CA signed fails the handshake
            tls = {"ssl_certfile": str(cfg.tls.cert), "ssl_keyfile": str(cfg.tls.key),
                   "ssl_ca_certs": str(cfg.tls.ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
        self._scheme = "https" if tls else "http"
        self._server = _Server(uvicorn.Config(app, host=cfg.listen_host, port=cfg.listen_port,
                                                     log_level="warning", access_log=False, lifespan="on",
                                                     # a client is its socket: X-Forwarded-For from loopback was
                                                     # believed, a new token-guess budget per made-up address
                                                     # (ADR 0045, round 10)
                                                     proxy_headers=False,
                                                     http=type("HeaderDeadline", (HeaderDeadline,),
                                                               {"header_timeout_s": cfg.header_timeout_s,
                                                                "body_timeout_s": cfg.body_timeout_s}),
                                                     backlog=ACCEPT_BURST,
                                                     timeout_graceful_shutdown=1, **tls))
        self._thread: threading.Thread | None = None

    @property
    def spine(self) -> str:
        """The spine's address the pages read through."""
        return self._reader.spine

    @property
    def sidecars(self) -> tuple[str, ...]:
        """The sidecars the map shows besides those the spine knows."""
        return self._reader.sidecars

    @property
    def url(self) -> str:
        host = self._cfg.listen_host
        host = f"[{host}]" if ":" in host else host
        return f"{self._scheme}://{host}:{self.port}/"

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", None) or []
        for s in servers:
            for sock in s.sockets:
                return sock.getsockname()[1]
        return self._cfg.listen_port

    def run(self, announce=None) -> None:
        """Serve until SIGINT/SIGTERM (uvicorn's handlers); announce(url) once listening."""
        self._probe()

        async def serve() -> None:
            try:
                await self._server.serve()
            except SystemExit:  # uvicorn's answer to a port it cannot bind (it logged why): said below
                if self._server.started:
                    raise

        async def main() -> None:
            task = asyncio.create_task(serve())
            while not self._server.started and not task.done():
                await asyncio.sleep(0.02)
            if self._server.started and announce is not None:
                announce(self.url)
            await task

        asyncio.run(main())
        if not self._server.started:
            raise ConfigError(f"the web interface could not listen on {self._cfg.listen_host}:{self._cfg.listen_port} "
                              "(in use? choose another with --port)", field="web.listen_port")

    def _probe(self) -> None:
        """A port that cannot be bound is said in one line, before uvicorn logs its ERROR with the errno."""
        import socket

        host, port = self._cfg.listen_host, self._cfg.listen_port
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
                probe.bind(address)
        except OSError as exc:  # a port in use or privileged: the port's fault; else the host's (an address that is
            # not this machine's, a name that does not resolve: "choose another with --port" sent the user astray)
            port_fault = exc.errno in (errno.EADDRINUSE, errno.EACCES)
            raise ConfigError(f"the web interface could not listen on {host}:{port}: {exc.strerror or exc} "
                              f"(choose another with {'--port' if port_fault else '--host'})",
                              field="web.listen_port" if port_fault else "web.listen_host") from None

    def start(self, timeout: float = 10.0) -> "WebServer":
        # In a thread uvicorn installs no signal handlers: the host process keeps its own.
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), name="ben-web",
                                        daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self._server.started or not self._thread.is_alive():
                break
            deadline.wait(0.02)
        if not self._server.started:
            raise BenError(f"the web interface could not listen on {self._cfg.listen_host}:{self._cfg.listen_port}")
        log.info("web interface on %s", self.url)
        return self

    def shutdown(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)


def start_beside(spine: str, sidecars: tuple[str, ...] = (), port: int = 8427) -> WebServer:
    """A loopback web interface for `ben demo`: on `port`, or on any free port when that one is taken."""
    import socket

    with socket.socket() as probe:  # taken: say so in one line, not with uvicorn's ERROR and its errno
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            log.info("port %d is taken; the web interface takes a free one", port)
            return WebServer(WebConfig(listen_port=0), spine, sidecars).start()
    try:
        return WebServer(WebConfig(listen_port=port), spine, sidecars).start()
    except BenError:
        log.info("port %d is taken; the web interface takes a free one", port)
        return WebServer(WebConfig(listen_port=0), spine, sidecars).start()
