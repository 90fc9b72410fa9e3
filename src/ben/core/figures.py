"""Figures: one list per component, shown by ``ben status`` and served as Prometheus metrics.

A component describes itself with ``Figure`` values; ``serve_metrics`` exposes them on
``/metrics`` (prometheus-client) by reading them at every scrape, so the two views can never
disagree.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ben.core.address import check_address, is_loopback
from ben.core.errors import ConfigError
from ben.v1 import admin_pb2 as pb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    """One figure for status and Prometheus: a named value with labels (a counter or a gauge)."""

    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    counter: bool = False
    help: str = ""

    def to_proto(self) -> pb.Figure:
        return pb.Figure(name=self.name, labels=self.labels, value=float(self.value), counter=self.counter,
                         help=self.help)


def gauge(name: str, value: float, help: str = "", **labels: str) -> Figure:
    return Figure(name, float(value), labels, False, help)


def counter(name: str, value: float, help: str = "", **labels: str) -> Figure:
    return Figure(name, float(value), labels, True, help)


def flat(figures: Iterable[pb.Figure | Figure]) -> dict[str, float]:
    """{name: sum over labels} plus {"name{k=v,...}": value} for each labelled figure."""
    out: dict[str, float] = {}
    for f in figures:
        out[f.name] = out.get(f.name, 0.0) + f.value
        if f.labels:
            key = f.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(dict(f.labels).items())) + "}"
            out[key] = f.value
    return out


class RecentSamples:
    """The latest values (at most ``maxlen``), each with the monotonic time it was taken; quantiles
    over those of the last ``window_s`` seconds. One thread may add while another reads: a deque's
    appends are atomic and a read copies it in one call."""

    def __init__(self, maxlen: int):
        self._samples: deque[tuple[float, float]] = deque(maxlen=maxlen)

    def __len__(self) -> int:
        return len(self._samples)

    def extend(self, values: Iterable[float], at: float | None = None) -> None:
        """Add values taken at monotonic time ``at`` (now by default)."""
        at = time.monotonic() if at is None else at
        self._samples.extend((at, v) for v in values)

    def quantiles(self, window_s: float, qs: Iterable[float]) -> dict[float, float]:
        """{q: value} over the values of the last window_s seconds ({} if none)."""
        since = time.monotonic() - window_s
        values = sorted(v for at, v in list(self._samples) if at >= since)
        if not values:
            return {}
        return {q: values[min(len(values) - 1, int(q * len(values)))] for q in qs}


class _Collector:
    def __init__(self, component: str, figures: Callable[[], list[Figure]]):
        self._prefix = f"ben_{component}_"
        self._figures = figures

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        families: dict[str, object] = {}
        for f in self._figures():
            name = self._prefix + (f.name[: -len("_total")] if f.counter and f.name.endswith("_total") else f.name)
            family = families.get(name)
            if family is None:
                cls = CounterMetricFamily if f.counter else GaugeMetricFamily
                family = families[name] = cls(name, f.help or f.name.replace("_", " "), labels=sorted(f.labels))
            family.add_metric([f.labels[k] for k in sorted(f.labels)], f.value)
        yield from families.values()


#: The metrics listener's bounds against slow or idle clients (slowloris): connections served at
#: once (more are closed at once), and the time one connection may take, handshake included (the
#: default of ``metrics_connection_timeout_s``).
METRICS_CONNECTIONS, METRICS_CONNECTION_S = 32, 10.0
#: Of those, what one local account (the kernel-named uid of a loopback client) may hold: one account's
#: connections, renewed as they are cut, held every place and Prometheus was refused (ADR 0045, round 8).
#: A client of another host is its address (IPv6: its /64), and over mutual TLS a connection is its
#: certificate's once the handshake is done: every client of other hosts was one unnamed client, so one peer
#: held every place (round 12). A full listener cuts the newest connection of the client holding most for one
#: holding fewer.
METRICS_PER_CLIENT = 8


def serve_metrics(listen: str, component: str, figures: Callable[[], list[Figure]], *, tls=None,
                  insecure: bool = False, connection_timeout_s: float = METRICS_CONNECTION_S):
    """Serve /metrics on host:port; returns the server (call .shutdown()) or None if listen is "".

    Like every TCP listener (ADR 0034, 0045): with the component's ``[tls]`` it is HTTPS and asks
    for a client certificate of the CA; without, only a loopback address, unless ``insecure``."""
    if not listen:
        return None
    from prometheus_client import CollectorRegistry

    field = f"{component}.metrics_listen"
    try:
        check_address(listen)
        host, _, port = listen.rpartition(":")
        if listen.startswith("unix:"):
            raise ValueError("metrics are served over HTTP on host:port")
        secure = tls is not None and tls.configured
        if not secure and not is_loopback(host):
            if not insecure:
                raise ConfigError(f"metrics on {listen} are not loopback: set [{component}.tls] (mutual TLS) or "
                                  "insecure = true", field=field)
            log.warning("INSECURE: %s metrics on %s in plain text, without authentication", component, listen)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(component, figures))
        server = _metrics_server(host.strip("[]"), int(port), registry, tls if secure else None,
                                 connection_timeout_s)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot serve metrics on {listen}: {exc}", field=field) from exc
    log.info("%s: Prometheus metrics on %s://%s/metrics", component, "https" if secure else "http", listen)
    return server


def _metrics_server(host: str, port: int, registry, tls, connection_timeout_s: float = METRICS_CONNECTION_S):
    """prometheus_client's WSGI app on a threading server with bounded connections and time."""
    import ipaddress
    import socket
    import ssl
    import threading
    from collections import Counter
    from wsgiref.simple_server import make_server

    from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler, make_wsgi_app

    from ben.core.peer import peer_uid

    held: Counter = Counter()  # uid, address, or a certificate's name (None: none) -> connections being served
    owners: dict[int, list] = {}  # id(request socket) -> [uid, request, order, counted]
    lock = threading.Lock()
    order = iter(range(1 << 62))

    def client_of(client_address) -> int | str | None:
        """The kernel-named uid; else (another host) the address, an IPv6 one's /64 (round 12: every client
        of other hosts was one unnamed client, so one peer with no certificate, holding 32 handshakes open,
        kept Prometheus out); None if it has none."""
        try:
            uid = peer_uid(tuple(client_address)[:2], tuple(httpd.socket.getsockname())[:2])
        except (OSError, ValueError, TypeError):
            uid = None
        if uid is not None:
            return uid
        try:
            address = ipaddress.ip_address(str(client_address[0]))
        except (ValueError, TypeError, IndexError):
            return None
        if address.version == 6 and getattr(address, "ipv4_mapped", None) is None:
            return f"address {ipaddress.ip_network(f'{address}/64', strict=False)}"
        return f"address {getattr(address, 'ipv4_mapped', None) or address}"

    def _uncount(uid) -> None:
        held[uid] -= 1
        if held[uid] <= 0:
            del held[uid]

    def _make_room(uid) -> bool:
        """The listener is full: the newest connection of the account holding most is cut for an account
        holding at least two fewer (several accounts, each within its share, held every place; round 8)."""
        most, count = max(held.items(), key=lambda kv: kv[1], default=(None, 0))
        if count - held[uid] < 2:
            return False
        victim = max((o for o in owners.values() if o[0] == most and o[3]), key=lambda o: o[2], default=None)
        if victim is None:
            return False
        victim[3] = False  # out of the counts now; its thread ends once its socket is shut
        _uncount(most)
        try:
            socket.socket.shutdown(victim[1], socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    class Handler(_SilentHandler):
        timeout = connection_timeout_s

        def setup(self) -> None:
            super().setup()
            self._cut = threading.Timer(connection_timeout_s, self._shut)
            self._cut.daemon = True
            self._cut.start()
            if tls is not None:
                self._by_certificate()

        def _by_certificate(self) -> None:
            """Mutual TLS: the handshake (under the deadline), then the connection counts as its certificate's;
            past ``METRICS_PER_CLIENT`` of that certificate it is cut (round 12)."""
            try:
                self.connection.do_handshake()
                subject = self.connection.getpeercert().get("subject", ())
            except (OSError, ValueError, AttributeError):
                return  # the handler's read fails next: no certificate, no answer
            name = "certificate CN=" + ",".join(v for rdn in subject for k, v in rdn if k == "commonName")
            with lock:
                owner = owners.get(id(self.request))
                if owner is None or not owner[3]:
                    return
                _uncount(owner[0])
                if held[name] >= METRICS_PER_CLIENT:
                    owner[3] = False
                    self._shut()
                    return
                owner[0] = name
                held[name] += 1

        def _shut(self) -> None:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def finish(self) -> None:
            self._cut.cancel()
            super().finish()

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def process_request(self, request, client_address) -> None:
            uid = client_of(client_address)
            with lock:
                if (uid is not None and held[uid] >= METRICS_PER_CLIENT) or (
                        sum(held.values()) >= METRICS_CONNECTIONS and not _make_room(uid)):
                    self.shutdown_request(request)
                    return
                held[uid] += 1
                owners[id(request)] = [uid, request, next(order), True]
            super().process_request(request, client_address)

        def process_request_thread(self, request, client_address) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                with lock:
                    uid, _, _, counted = owners.pop(id(request), [None, None, 0, False])
                    if counted:
                        _uncount(uid)

        def shutdown(self) -> None:  # stop serving and close the listening socket
            super().shutdown()
            self.server_close()

    from ben.core.files import check_secret

    if tls is not None:
        check_secret(tls.key, "tls.key")
    httpd = make_server(host, port, make_wsgi_app(registry), Server, handler_class=Handler)
    if tls is not None:  # the handshake runs in the connection's thread, under its deadline
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls.cert), str(tls.key))
        context.load_verify_locations(cafile=str(tls.ca))
        context.verify_mode = ssl.CERT_REQUIRED
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=httpd.serve_forever, name="ben-metrics", daemon=True).start()
    return httpd
