"""One export request, whatever its transport: parse, convert, deliver, answer (ADR 0036).

The transports (``grpc_server``, ``http_server``) only move bytes; what an answer means is decided
here, once, as an :class:`Answer`:

========================  =========================  ===========================  ==================
what happened             gRPC status                HTTP status                  client retries?
========================  =========================  ===========================  ==================
stored (all or part)      OK (+ partial_success)     200 (+ partial_success)      no
stored, some strings cut  OK (+ partial_success:     200 (+ partial_success:      no
                          0 rejected, a message)     0 rejected, a message)
WAL budget full (quota)   RESOURCE_EXHAUSTED         429 + Retry-After            yes (RetryInfo)
client's bytes in flight  RESOURCE_EXHAUSTED         429 + Retry-After            yes (RetryInfo)
WAL cannot write (disk)   UNAVAILABLE                503 + Retry-After            yes (RetryInfo)
malformed request         INVALID_ARGUMENT           400                          no
no or wrong bearer token  UNAUTHENTICATED            401                          no
========================  =========================  ===========================  ==================

Success is answered only once every event of the request is fsync'd in the sidecar's WAL,
redacted by the manifest in force (the ingest receiver's encoder), in its lane. A request whose digest
says it was stored within the de-duplication window (a resend after a lost answer, ``dedup``) is
answered with success at once and not stored again (``otlp_duplicate_requests_total``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_svc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_svc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_svc

from ben.core.sparse_log import Sparse
from ben.otlp import dedup, jsonform, shape
from ben.otlp.convert import Converted, Converter
from ben.otlp.sender import Slots
from ben.otlp.turns import Turns

log = logging.getLogger(__name__)
#: Malformed requests (any local application may send them): a line a minute per signal, the rest counted (round 15).
_sparse = Sparse(log)

#: Protobuf bodies up to this size are parsed in the event loop (at most ~64,000 empty parts: milliseconds);
#: larger ones, and every OTLP/JSON body (``ParseDict`` costs ~60 us a part), in the parse thread.
INLINE_PARSE_BYTES = 128 << 10

LOGS, METRICS, TRACES = "logs", "metrics", "traces"
SIGNALS = (LOGS, METRICS, TRACES)


@dataclass(frozen=True)
class _Signal:
    request: type
    response: type
    partial: type
    rejected_field: str


_TYPES = {
    LOGS: _Signal(logs_svc.ExportLogsServiceRequest, logs_svc.ExportLogsServiceResponse,
                  logs_svc.ExportLogsPartialSuccess, "rejected_log_records"),
    METRICS: _Signal(metrics_svc.ExportMetricsServiceRequest, metrics_svc.ExportMetricsServiceResponse,
                     metrics_svc.ExportMetricsPartialSuccess, "rejected_data_points"),
    TRACES: _Signal(trace_svc.ExportTraceServiceRequest, trace_svc.ExportTraceServiceResponse,
                    trace_svc.ExportTracePartialSuccess, "rejected_spans"),
}

OK, BUSY, DOWN, INVALID = "ok", "busy", "down", "invalid"


@dataclass(frozen=True)
class Answer:
    """What to tell the client: ``outcome`` (ok | busy | down | invalid), the response message
    (ok), a message (otherwise), and how long to wait before retrying (busy, down)."""

    outcome: str
    response: object = None
    message: str = ""
    retry_after_ms: int = 0


@dataclass
class OtlpFigures:
    """Counts of the OTLP receiver: requests, items stored, items left out and requests refused, by reason."""

    requests: Counter = field(default_factory=Counter)       # (signal, transport)
    items: Counter = field(default_factory=Counter)          # signal: items stored
    rejected_items: Counter = field(default_factory=Counter) # signal: left out (partial_success)
    # (signal, reason): quota | wal_error | invalid | unauthenticated | in_flight
    refused: Counter = field(default_factory=Counter)
    duplicates: Counter = field(default_factory=Counter)     # signal: requests answered as already stored
    last_error: str = ""


class Exporting:
    """Parses, converts and delivers export requests of every signal and transport."""

    def __init__(self, slots: Slots, converter: Converter, max_bytes_in_flight_per_client: int = 64 << 20):
        self._slots = slots
        # Bytes of each client's requests in the receiver now (ADR 0045, round 11): each request is bounded, but
        # 100 at once of one account (gzip bodies of 15 KB, 15 MiB inflated) took the sidecar from 103 MB to 1 GB
        # while they waited for their turns.
        self._max_in_flight = max_bytes_in_flight_per_client
        self.bytes_in_flight: Counter = Counter()
        self._converter = converter
        # Conversion runs off the event loop (the sidecar's SDK streams share it), one request at a
        # time: the cumulative state of metric streams is updated in request order.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-convert")
        # Parsing too (a 16 MiB body takes seconds, OTLP/JSON's ParseDict more): the loop keeps serving meanwhile.
        self._parsing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-parse")
        # ... each in turns handed round-robin between clients: no account's backlog goes before another's request
        self._parse_turns, self._convert_turns = Turns(), Turns()
        self.figures = OtlpFigures()
        digests = getattr(slots, "digests", None)
        self._digests = digests if digests is not None and digests.enabled else None
        self._in_flight: dict[bytes, asyncio.Future] = {}  # digests of requests being delivered now

    def parse(self, signal: str, body: bytes, json_body: bool = False):
        """The request message of ``signal`` from protobuf or OTLP/JSON bytes; ValueError if malformed."""
        kind = _TYPES[signal].request
        if json_body:  # parts counted before ParseDict, which costs per part (ADR 0045, round 10)
            return jsonform.parse(body, kind(), check=functools.partial(shape.too_many_json, signal))
        try:
            return kind.FromString(body)
        except DecodeError as exc:
            raise ValueError(f"the body is not a valid {kind.DESCRIPTOR.full_name} (protobuf): {exc}") from None

    async def export(self, signal: str, transport: str, body: bytes, json_body: bool = False,
                     client: str = "") -> Answer:
        """Parse, convert, deliver and answer one request; ``client``: who the kernel says sent it
        (``clients``), with senders and alert shares of its own, and a budget of bytes in flight."""
        self.figures.requests[(signal, transport)] += 1
        held, size = self.bytes_in_flight[client], len(body)
        if held and held + size > self._max_in_flight:  # one request alone always passes (max_request_bytes)
            self.figures.refused[(signal, "in_flight")] += 1
            self.figures.last_error = f"otlp {signal}: a client's requests in flight past its budget"
            return Answer(BUSY, message=f"this client has {held} bytes of requests in the receiver already "
                                        f"(sidecar.otlp.max_bytes_in_flight_per_client = {self._max_in_flight}); "
                                        "retry after the delay", retry_after_ms=1000)
        self.bytes_in_flight[client] += size
        try:
            return await self._export(signal, body, json_body, client)
        finally:
            self.bytes_in_flight[client] -= size
            if not self.bytes_in_flight[client]:
                del self.bytes_in_flight[client]

    async def _export(self, signal: str, body: bytes, json_body: bool, client: str) -> Answer:
        try:
            if not json_body and len(body) <= INLINE_PARSE_BYTES:  # a few ms at most: no thread hop
                request = self.parse(signal, body)
            else:
                async with self._parse_turns.turn(client):
                    request = await asyncio.get_running_loop().run_in_executor(self._parsing, self.parse, signal,
                                                                                body, json_body)
        except ValueError as exc:
            return self.invalid(signal, str(exc))
        if self._digests is None:
            return await self._deliver(signal, request, client=client)
        key = dedup.digest(signal, request)
        while key in self._in_flight:  # the same request twice at once: the second waits for the first
            await asyncio.wait([self._in_flight[key]])
        seen = self._digests.lookup(key)
        if seen is not None and seen.complete:
            return self._duplicate(signal, seen)
        # Delivered to the end even if the client gives up (a gRPC deadline cancels the handler): what
        # the WAL takes must be remembered, for the resend that follows a timeout.
        task = asyncio.ensure_future(self._deliver(signal, request, key, seen, client))
        self._in_flight[key] = task
        task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(task)

    def _duplicate(self, signal: str, seen: dedup.Entry) -> Answer:
        """A resend of a request stored within the window: success, with what was left out of it then."""
        self.figures.duplicates[signal] += 1
        types = _TYPES[signal]
        response = types.response()
        if seen.rejected:
            partial = types.partial(error_message=f"{seen.rejected} items of this request were left out when it "
                                                  "was first received (this is a resend; it was stored once)")
            setattr(partial, types.rejected_field, seen.rejected)
            response.partial_success.CopyFrom(partial)
        return Answer(OK, response)

    async def _deliver(self, signal: str, request, key: bytes | None = None, seen: dedup.Entry | None = None,
                       client: str = "") -> Answer:
        convert = getattr(self._converter, signal)
        async with self._convert_turns.turn(client):
            try:
                converted: Converted | str = await asyncio.get_running_loop().run_in_executor(
                    self._pool, functools.partial(_counted, convert, signal, request, client))
            except Exception as exc:  # a request this receiver cannot convert: refused for good, never retried
                log.exception("otlp %s: could not convert a request", signal)
                return self.invalid(signal, f"could not convert the request: {type(exc).__name__}: {exc}")
        if isinstance(converted, str):
            return self.invalid(signal, converted)
        delivery = await self._slots.deliver(converted, key, seen, client=client)
        undo = [change for i in delivery.unstored for change in converted.parts[i].undo]
        if undo:   # cumulative points not stored: their resend must count the increment again
            await asyncio.get_running_loop().run_in_executor(self._pool, self._converter.cumulative.undo, undo)
        if delivery.error:
            return self.invalid(signal, delivery.error)
        if not delivery.ok:
            self.figures.refused[(signal, delivery.reason)] += 1
            why = ("the sidecar's WAL budget is full" if delivery.reason == "quota"
                   else "the sidecar's WAL cannot be written (disk full?)")
            self.figures.last_error = f"otlp {signal}: refused, {why}"
            return Answer(BUSY if delivery.reason == "quota" else DOWN, message=f"{why}; retry later",
                          retry_after_ms=delivery.retry_after_ms)
        types = _TYPES[signal]
        self.figures.items[signal] += converted.items - converted.rejected
        response = types.response()
        if converted.rejected or converted.counts.truncated:   # with nothing rejected: the spec's warning
            self.figures.rejected_items[signal] += converted.rejected
            partial = types.partial(error_message=converted.message)
            setattr(partial, types.rejected_field, converted.rejected)
            response.partial_success.CopyFrom(partial)
        return Answer(OK, response)

    def unauthenticated(self, signal: str, transport: str) -> None:
        """Count a request refused for its missing or wrong token (answered by the transport)."""
        self.figures.requests[(signal, transport)] += 1
        self.figures.refused[(signal, "unauthenticated")] += 1
        self.figures.last_error = f"otlp {signal}: refused a request without the bearer token ({transport})"

    def invalid(self, signal: str, message: str) -> Answer:
        """Refuse a malformed request for good (400 / INVALID_ARGUMENT), counted and logged."""
        self.figures.refused[(signal, "invalid")] += 1
        self.figures.last_error = f"otlp {signal}: {message}"
        _sparse.warning(f"otlp {signal} exporters", "otlp %s: refused a malformed request: %s", signal, message)
        return Answer(INVALID, message=message)

    def shutdown(self) -> None:
        self._parsing.shutdown(wait=True)
        self._pool.shutdown(wait=True)


def _counted(convert, signal: str, request, client: str) -> Converted | str:
    """The request converted, or why it is refused for its number of parts, counted first: millions of empty ones
    held the conversion thread (ADR 0045, round 10)."""
    too_many = shape.too_many(signal, request)
    return too_many or convert(request, client=client)
