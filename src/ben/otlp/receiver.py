"""The sidecar's OTLP receiver: OTLP/gRPC and OTLP/HTTP listeners feeding its ingest receiver.

On by default, on the ports every OpenTelemetry exporter uses (``127.0.0.1:4317`` gRPC,
``127.0.0.1:4318`` HTTP), loopback only. A non-loopback bind needs TLS (``tls_cert_file`` and
``tls_key_file``) or an explicit ``insecure = true`` (logged at every start), as OpenTelemetry's
Collector does. When a DEFAULT port is taken (another sidecar on this host), that listener is left
off with a warning and the sidecar runs on; a port the config names must be free, or the start is
refused naming the field. ``auth_token_file`` makes every request carry a bearer token (``auth``).
"""

from __future__ import annotations

import logging
import ssl
import time
from pathlib import Path

import grpc
from aiohttp import web

from ben.core import transport
from ben.core.address import is_loopback, socket_path
from ben.core.errors import ConfigError
from ben.core.files import check_secret, check_trusted
from ben.core.figures import Figure, counter, gauge
from ben.core.receiver import IngestReceiver
from ben.otlp import auth, grpc_server, http_server
from ben.otlp.alert_share import AlertShare
from ben.otlp.call_budget import OtlpCallBudget
from ben.otlp.convert import Converter
from ben.otlp.dedup import Digests
from ben.otlp.exporting import SIGNALS, Exporting
from ben.otlp.gate import Gate
from ben.otlp.sender import Slots

log = logging.getLogger(__name__)

DEFAULT_GRPC, DEFAULT_HTTP = "127.0.0.1:4317", "127.0.0.1:4318"


def _loopback(address: str) -> bool:
    if socket_path(address) is not None:
        return True
    return is_loopback(address.rpartition(":")[0])


class OtlpReceiver:
    """Both OTLP listeners of one sidecar; ``start`` / ``shutdown`` like every component."""

    def __init__(self, config, receiver: IngestReceiver, sidecar_id: str, explicit: frozenset[str] = frozenset(),
                 wals: dict | None = None, state_dir: Path | None = None):
        """``config``: the sidecar's ``[sidecar.otlp]`` (``OtlpConfig``); ``explicit``: which of its
        listen fields the config file set (a taken default port is then not an error); ``wals``: the
        receiver's WALs, which keep the digests of the requests accepted lately (``dedup``); ``state_dir``: the
        sidecar's data directory (the OTLP/gRPC gate's sockets go in it)."""
        self.config = config
        self._state_dir = state_dir
        self._explicit = explicit
        self.alert_share = AlertShare(config.alert_rate_per_subsystem_per_s, config.alert_burst_per_subsystem,
                                      per_client=config.alert_subsystems_per_client)
        converter = Converter(config.alert_severity_number, config.span_series, time.time_ns(),
                              alert_share=self.alert_share)
        self.digests = None if wals is None else Digests(wals, config.dedup_window_s, config.dedup_max_entries)
        self.exporting = Exporting(Slots(receiver, sidecar_id, config.slots, self.digests), converter,
                                   config.max_bytes_in_flight_per_client)
        self._grpc: grpc.aio.Server | None = None
        self._gate: Gate | None = None
        self.call_budget: OtlpCallBudget | None = None
        self._http: web.AppRunner | None = None
        self._token: auth.ReloadedSecret[bytes] | None = None
        self.grpc_port = 0
        self.http_port = 0

    def _check_transport(self, address: str, field: str) -> ssl.SSLContext | None:
        cfg = self.config
        if cfg.tls_cert_file and cfg.tls_key_file:
            check_secret(cfg.tls_key_file, "sidecar.otlp.tls_key_file")  # a loose key refuses the start
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                context.load_cert_chain(cfg.tls_cert_file, cfg.tls_key_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the OTLP TLS certificate or key: {exc}",
                                  field="sidecar.otlp.tls_cert_file") from exc
            if cfg.tls_client_ca_file:  # mutual TLS: a client without a certificate of this CA fails the handshake
                check_trusted(cfg.tls_client_ca_file, "sidecar.otlp.tls_client_ca_file")  # (ADR 0045, round 9)
                try:
                    context.load_verify_locations(cafile=str(cfg.tls_client_ca_file))
                except (OSError, ssl.SSLError) as exc:
                    raise ConfigError(f"cannot load the OTLP client CA: {exc}",
                                      field="sidecar.otlp.tls_client_ca_file") from exc
                context.verify_mode = ssl.CERT_REQUIRED
            return context
        if not _loopback(address):
            if not cfg.insecure:
                raise ConfigError(f"OTLP on {address} is not loopback: set tls_cert_file and tls_key_file, "
                                  "or insecure = true to accept plain-text telemetry from the network",
                                  field=field)
            log.warning("OTLP on %s accepts plain-text telemetry from the network (insecure = true)", address)
        return None

    def _taken(self, field: str, address: str, exc: Exception) -> bool:
        """A default port that is in use: warn and run without it. Otherwise the caller raises."""
        if field.rsplit(".", 1)[-1] in self._explicit:
            return False
        log.warning("OTLP listener %s not started: %s is in use (%s); set sidecar.otlp.%s to another "
                    "address, or \"\" to turn it off", field, address, exc, field.rsplit(".", 1)[-1])
        return True

    async def start(self) -> None:
        cfg = self.config
        # read again when its file changes: a leaked token replaced is refused at once (ADR 0045, round 12)
        self._token = auth.token_file(cfg.auth_token_file) if cfg.auth_token_file is not None else None
        if cfg.grpc_listen:
            await self._start_grpc(cfg.grpc_listen, "sidecar.otlp.grpc_listen")
        if cfg.http_listen:
            await self._start_http(cfg.http_listen, "sidecar.otlp.http_listen")

    async def _start_grpc(self, address: str, field: str) -> None:
        tls = self._check_transport(address, field)
        limit = self.config.max_request_bytes
        # gRPC behind the gate, per-account caps (ADR 0045, round 7), on a unix socket too (round 18: SO_PEERCRED)
        gate = Gate(per_client=self.config.max_connections_per_client, total=self.config.max_connections,
                    directory=None if self._state_dir is None else Path(self._state_dir) / "otlp-gate")
        client_of_peer = gate.client_of_peer
        # calls per client, counted from their start (ADR 0045, round 16)
        self.call_budget = OtlpCallBudget(self.config.max_calls_per_client, client_of_peer)
        server = grpc.aio.server(interceptors=[self.call_budget], options=[("grpc.max_receive_message_length", limit),
                                          ("grpc.max_send_message_length", 1 << 20),
                                          ("grpc.so_reuseport", 0),
                                          ("grpc.server_handshake_timeout_ms", int(self.config.slow_client_timeout_s * 1000)),
                                          # descriptor floods (ADR 0045): gRPC's core closes a connection
                                          # past the quota at accept; an idle one is closed after a while
                                          ("grpc.max_allowed_incoming_connections", self.config.max_connections),
                                          ("grpc.max_connection_idle_ms",
                                           int(self.config.max_connection_idle_s * 1000)),
                                          # calls per connection (ADR 0045, round 15): gRPC sets none; 5,000
                                          # streams of a message in part took a sidecar from 103 MB to 198 MB
                                          ("grpc.max_concurrent_streams", transport.MAX_STREAMS_PER_CONNECTION)])
        server.add_generic_rpc_handlers(grpc_server.handlers(self.exporting, self._token, client_of_peer))
        bind = f"unix:{gate.inner}"
        transport.prepare_listen(address, field)
        busy = transport.in_use(address) if socket_path(address) is None else None
        if busy is not None:  # said before gRPC's core prints its own "add_port.cc ... Failed to add port" line
            if self._taken(field, address, busy):
                return
            raise ConfigError(f"cannot listen on {address}: {busy.strerror}", field=field)
        try:
            if tls is not None:
                ca = self.config.tls_client_ca_file
                creds = grpc.ssl_server_credentials([(open(self.config.tls_key_file, "rb").read(),
                                                      open(self.config.tls_cert_file, "rb").read())],
                                                    root_certificates=open(ca, "rb").read() if ca else None,
                                                    require_client_auth=ca is not None)
                port = server.add_secure_port(bind, creds)
            else:
                port = server.add_insecure_port(bind)
            if socket_path(address) is not None:
                await gate.start_unix(str(socket_path(address)), backlog=min(self.config.max_connections, 16))
            else:
                host, _, wanted = address.rpartition(":")
                port = await gate.start(host.strip("[]"), int(wanted), backlog=min(self.config.max_connections, 16))
        except (RuntimeError, OSError) as exc:
            await gate.shutdown()
            await server.stop(None)
            if self._taken(field, address, exc):
                return
            raise ConfigError(f"cannot listen on {address}: {exc}", field=field) from exc
        await server.start()
        self._grpc, self._gate, self.grpc_port = server, gate, port
        log.info("OTLP/gRPC listening on %s%s", address if port == 0 or socket_path(address) else
                 f"{address.rpartition(':')[0]}:{port}", " (TLS)" if tls else "")

    async def _start_http(self, address: str, field: str) -> None:
        tls = self._check_transport(address, field)
        runner = web.AppRunner(http_server.app(self.exporting, self.config.max_request_bytes, self._token),
                               access_log=None, handle_signals=False,
                               keepalive_timeout=self.config.slow_client_timeout_s,
                               auto_decompress=False)  # ben inflates, bounded (http_server)
        await runner.setup()
        http_server.cap_connections(runner.server, self.config.max_connections,  # (ADR 0045, rounds 4 and 7)
                                    per_client=self.config.max_connections_per_client)
        path = socket_path(address)
        try:
            if path is not None:
                transport.prepare_listen(address, field)
                site = web.UnixSite(runner, str(path), ssl_context=tls)
            else:
                host, _, port = address.rpartition(":")
                # asyncio accepts up to a backlog's worth per turn of the loop: a short one keeps a flood's
                # excess (closed on the next turn) small (ADR 0045, round 4)
                site = web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=tls, reuse_port=False,
                                   backlog=min(self.config.max_connections, 16))
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if self._taken(field, address, exc):
                return
            raise ConfigError(f"cannot listen on {address}: {exc}", field=field) from exc
        self._http = runner
        if path is None:
            self.http_port = site._server.sockets[0].getsockname()[1]
            address = f"{address.rpartition(':')[0]}:{self.http_port}"
        log.info("OTLP/HTTP listening on %s%s", address, " (TLS)" if tls else "")

    def figures(self) -> list[Figure]:
        f = self.exporting.figures
        out = [gauge("otlp_grpc_port", self.grpc_port, "port of the OTLP/gRPC listener (0: none on TCP)"),
               gauge("otlp_http_port", self.http_port, "port of the OTLP/HTTP listener (0: none on TCP)")]
        for signal in SIGNALS:
            for tr in ("grpc", "http"):
                out.append(counter("otlp_requests_total", f.requests[(signal, tr)], "OTLP export requests",
                                   signal=signal, transport=tr))
            out.append(counter("otlp_items_total", f.items[signal], "OTLP items stored (log records, data "
                               "points, spans)", signal=signal))
            out.append(counter("otlp_rejected_items_total", f.rejected_items[signal],
                               "OTLP items left out (partial_success)", signal=signal))
            for reason in ("quota", "wal_error", "invalid", "unauthenticated", "in_flight"):
                out.append(counter("otlp_refused_total", f.refused[(signal, reason)],
                                   "OTLP requests refused", signal=signal, reason=reason))
            out.append(counter("otlp_duplicate_requests_total", f.duplicates[signal], "OTLP requests answered "
                               "success without being stored again (a resend within sidecar.otlp.dedup_window_s)",
                               signal=signal))
        out.append(counter("otlp_alerts_demoted_total", self.alert_share.demoted, "OTLP log records stored in "
                           "the anomaly lane instead of the alert lane: over their subsystem's share "
                           "(sidecar.otlp.alert_rate_per_subsystem_per_s, alert_burst_per_subsystem)"))
        if self.call_budget is not None:
            out.append(counter("otlp_grpc_calls_refused_total", self.call_budget.refused, "OTLP/gRPC calls refused "
                               "at their start: their client held sidecar.otlp.max_calls_per_client calls"))
        if self._gate is not None:
            out.append(counter("otlp_grpc_connections_refused_total", self._gate.refused, "OTLP/gRPC connections "
                               "closed at accept: their client (the kernel-named account) held "
                               "sidecar.otlp.max_connections_per_client, or the listener max_connections"))
            out.append(counter("otlp_grpc_connections_evicted_total", self._gate.evicted, "OTLP/gRPC connections "
                               "closed to let in a client holding fewer: the listener held max_connections and "
                               "their client held the most"))
            out.append(counter("otlp_grpc_connections_gone_total", self._gate.gone, "OTLP/gRPC connections "
                               "closed at accept because their loopback client had already closed its end"))
            out.append(gauge("otlp_grpc_connections", sum(self._gate.held.values()), "OTLP/gRPC connections held "
                             "by the accepting gate (at most sidecar.otlp.max_connections)"))
        if self.digests is not None:
            out.append(gauge("otlp_dedup_entries", len(self.digests), "OTLP requests whose digest is remembered"))
        return out

    async def shutdown(self, timeout: float = 1.0) -> None:
        """Stop listening; requests in flight get ``timeout`` to be answered."""
        if self._gate is not None:
            await self._gate.close_listener()  # no new connection; those held are answered within the grace
        if self._grpc is not None:
            await self._grpc.stop(grace=timeout)
            self._grpc = None
        if self._gate is not None:
            await self._gate.shutdown(timeout)
            self._gate = None
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        self.exporting.shutdown()
