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

from ben.core.address import check_address
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


def serve_metrics(listen: str, component: str, figures: Callable[[], list[Figure]]):
    """Serve /metrics on host:port (HTTP); returns the server (call .shutdown()) or None if listen is ""."""
    if not listen:
        return None
    from prometheus_client import CollectorRegistry, start_http_server

    try:
        check_address(listen)
        host, _, port = listen.rpartition(":")
        if listen.startswith("unix:"):
            raise ValueError("metrics are served over HTTP on host:port")
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(component, figures))
        server, _thread = start_http_server(int(port), addr=host, registry=registry)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot serve metrics on {listen}: {exc}", field=f"{component}.metrics_listen") from exc
    log.info("%s: Prometheus metrics on http://%s/metrics", component, listen)
    return server
