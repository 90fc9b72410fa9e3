"""Admin servicer (status and query), shared by the sidecar and the spine."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import grpc

from ben.core.errors import BenError, QueryError
from ben.core.figures import Figure
from ben.core.operator_pool import OperatorPool, PoolFull
from ben.v1 import admin_pb2 as pb
from ben.v1 import admin_pb2_grpc as pb_grpc

#: Threads of operator queries, their own (ADR 0045, round 17): on the default pool, 10 queries of 3 s each held
#: every thread of it (min(32, cores + 4)), and the spine's WAL appends, which share that pool, waited behind
#: them: a sidecar's batch was acknowledged after 13 s. The chDB store runs one query at a time anyway.
QUERY_THREADS = 4
#: Operator queries in progress or waiting at once; past it one is refused (RESOURCE_EXHAUSTED), not queued.
MAX_QUERIES_WAITING = 64
#: The bound's name in a refusal.
FIELD = "ben.core.admin.MAX_QUERIES_WAITING"
#: Metadata a query's caller may send: where it comes from (``cli``, ``web-sql``, ``web-page``) and
#: whom it runs it for (the web interface's client); recorded in the spine's query log as claims.
ORIGIN_METADATA = "ben-query-origin"
FOR_METADATA = "ben-query-for"


class AdminServicer(pb_grpc.AdminServicer):
    """The ``Admin`` service every component serves: status figures, operator queries (cancelled when the client
    goes away) and acknowledgements."""

    def __init__(
        self,
        component: str,
        ident: Callable[[], str],
        figures: Callable[[], list[Figure]],
        query: Callable[[str, str, str, str], bytes] | None = None,
        last_error: Callable[[], str] = lambda: "",
        acknowledge: Callable[[str, str], tuple[str, str]] | None = None,
        cancel_query: Callable[[str], None] | None = None,
        label: Callable[[str, str, str, str, str], int] | None = None,
        pool: OperatorPool | None = None,
    ):
        """query(sql, query_id, origin, on_behalf): an operator query (ADR 0032) with what its caller
        claims (``ORIGIN_METADATA``, ``FOR_METADATA``); cancel_query(query_id) stops it when the
        client goes away, is interrupted, or the server stops."""
        self._component = component
        self._ident = ident
        self._figures = figures
        self._query = query
        self._last_error = last_error
        self._acknowledge = acknowledge
        self._cancel_query = cancel_query
        self._label = label  # (incident_id, label, kind, note, by) -> audit seq (ben.baseline.labels)
        self.queries_running = 0    # operator queries in flight
        self.queries_cancelled = 0  # ... cancelled because their client went away (or we stopped)
        self.queries_refused = 0    # ... refused: MAX_QUERIES_WAITING in progress or waiting already
        #: the operators' threads (the spine shares them with its audit calls: ``ben.control.router``)
        self.pool = pool or OperatorPool(QUERY_THREADS, MAX_QUERIES_WAITING, "operator-query", FIELD)

    async def Status(self, request, context):
        return pb.StatusReply(component=self._component, id=self._ident(),
                              figures=[f.to_proto() for f in self._figures()], last_error=self._last_error())

    async def Query(self, request, context):
        if self._query is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the {self._component} does not answer queries")
        query_id = secrets.token_hex(8)  # the store's query_id (core imports no store code)
        claims = dict(context.invocation_metadata() or ())
        self.queries_running += 1
        try:
            # served in turn per operator, in the caller's context (the operator its audit entry names is a context
            # variable, ben.core.peers.CALLER): ben.core.operator_pool (ADR 0045, rounds 17 and 18)
            data = await self.pool.run(self._query, request.sql, query_id, str(claims.get(ORIGIN_METADATA, "")),
                                       str(claims.get(FOR_METADATA, "")))
        except PoolFull as exc:
            self.queries_refused += 1
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except asyncio.CancelledError:  # the client went away or was interrupted, or we stop
            self.queries_cancelled += 1
            if self._cancel_query is not None:
                self._cancel_query(query_id)
            raise
        except QueryError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except BenError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"the store failed during the query: {exc}")
        finally:
            self.queries_running -= 1
        return pb.QueryReply(json=data)

    def close(self) -> None:
        """The queries' threads: those waiting are dropped (their calls were cancelled), none waited for."""
        self.pool.close()

    async def Acknowledge(self, request, context):
        if self._acknowledge is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the {self._component} has no incidents")
        try:
            state, narrative = await asyncio.to_thread(self._acknowledge, request.incident_id, request.by)
        except KeyError:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no incident {request.incident_id!r} in this spine's "
                                                           "memory (ben incidents lists them)")
        return pb.AcknowledgeReply(state=state, narrative=narrative)

    async def Label(self, request, context):
        if self._label is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the {self._component} has no incidents")
        try:
            seq = await asyncio.to_thread(self._label, request.incident_id, request.label, request.kind,
                                          request.note, request.by)
        except KeyError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc.args[0]))
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.LabelReply(audit_seq=seq)


# -- client side ------------------------------------------------------------------------------------
def _call(address: str, method: str, request, timeout: float):
    from ben.core.address import foreign_peer, tls_refused
    from ben.core.errors import TransportError
    from ben.core.peers import operator_metadata
    from ben.core.transport import certificate_refused
    from ben.core.transport import channel as open_channel

    # Status answers anyone it serves, its details only an operator (ADR 0045, round 10): a token when this user is one
    metadata = operator_metadata(address, required=method != "Status")
    with open_channel(address) as channel:
        stub = pb_grpc.AdminStub(channel)
        try:
            return getattr(stub, method)(request, timeout=timeout, wait_for_ready=False, metadata=metadata)
        except grpc.RpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                raise QueryError(exc.details()) from None
            if code == grpc.StatusCode.PERMISSION_DENIED:
                raise TransportError(f"{address} refused this caller: {exc.details()}") from None
            foreign = foreign_peer(address, exc.details() or "") or tls_refused(address, exc.details() or "")
            if foreign:
                raise TransportError(foreign) from None
            if code == grpc.StatusCode.UNAVAILABLE and "connect" in (exc.details() or "").lower():
                raise TransportError(certificate_refused(address)  # a client certificate refused: "Socket closed"
                                     or f"nothing answers at {address} (is it running?)") from None
            raise TransportError(_lost(address, exc) or f"{address}: {code.name}: {exc.details()}") from None


def _lost(address: str, exc) -> str:
    """A call the peer cut while it ran (it stopped or restarted: "UNAVAILABLE: Cancelling all calls" was all the
    line said, ADR 0033 round 10), in words; "" for any other error."""
    said = (exc.details() or "").lower()
    if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED) or not any(
            cut in said for cut in ("cancelling all calls", "socket closed", "goaway", "stream removed", "rst_stream",
                                    "broken pipe", "end of tcp stream")):
        return ""  # a name that does not resolve, a refused connection: no call ran
    return (f"{address} stopped answering while it ran this call (did it stop or restart?): the call did not "
            f"finish; run it again once it answers ({exc.code().name}: {exc.details()})")


def fetch_status(address: str, timeout: float = 2.0) -> pb.StatusReply:
    """Status of the sidecar or spine at address; TransportError if it does not answer."""
    return _call(address, "Status", pb.StatusRequest(), timeout)


def run_query(address: str, sql: str, timeout: float = 600.0, *, origin: str = "cli", on_behalf: str = "",
              max_reply: tuple[int, str] | None = None) -> bytes:
    """Run a read-only query through the spine; ClickHouse JSON bytes. The spine's own limits
    (max_execution_time, max_result_bytes) end a query first; ``timeout`` only bounds the wait
    for a spine that does not answer. Ctrl-C (KeyboardInterrupt) cancels the query at the spine.
    ``origin`` and ``on_behalf`` go into the spine's query log (the web interface: ``web-sql`` for its
    client's SQL, ``web-page`` for a page's own reads, and who its client is). ``max_reply``: (bytes, the option
    naming them): a larger result is refused as it arrives, before this process holds it (the web interface)."""
    from ben.core.address import foreign_peer, tls_refused
    from ben.core.errors import TransportError
    from ben.core.peers import operator_metadata
    from ben.core.transport import CHANNEL_OPTIONS
    from ben.core.transport import certificate_refused
    from ben.core.transport import channel as open_channel

    metadata = operator_metadata(address)  # who asks (ADR 0034)
    metadata += [(ORIGIN_METADATA, origin)] + ([(FOR_METADATA, on_behalf)] if on_behalf else [])
    options = None if max_reply is None else [
        *(o for o in CHANNEL_OPTIONS if o[0] != "grpc.max_receive_message_length"),
        ("grpc.max_receive_message_length", max_reply[0])]
    with open_channel(address, options) as channel:
        call = pb_grpc.AdminStub(channel).Query.future(pb.QueryRequest(sql=sql), timeout=timeout,
                                                       wait_for_ready=False, metadata=metadata)
        try:
            return call.result().json
        except KeyboardInterrupt:
            call.cancel()  # the spine kills the query
            raise
        except grpc.RpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise QueryError(exc.details()) from None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise QueryError(f"no answer from the spine at {address} within {timeout:g} s; the query was "
                                 "cancelled") from None
            if code == grpc.StatusCode.PERMISSION_DENIED:
                raise TransportError(f"{address} refused this caller: {exc.details()}") from None
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED and max_reply is not None \
                    and "larger than max" in (exc.details() or ""):
                raise QueryError(f"the result is over {max_reply[0]} bytes ({max_reply[1]}): add a LIMIT or choose "
                                 "fewer columns, or use ben query") from None
            foreign = foreign_peer(address, exc.details() or "") or tls_refused(address, exc.details() or "")
            if foreign:  # the OTLP ports, another program, a certificate for another name
                raise TransportError(foreign) from None
            if code == grpc.StatusCode.UNAVAILABLE and "connect" in (exc.details() or "").lower():
                raise TransportError(certificate_refused(address)  # a client certificate refused: "Socket closed"
                                     or f"nothing answers at {address} (is it running?)") from None
            raise QueryError(_lost(address, exc) or f"{address}: {code.name}: {exc.details()}") from None


def acknowledge(address: str, incident_id: str, by: str, timeout: float = 10.0) -> pb.AcknowledgeReply:
    """Acknowledge an incident through the spine."""
    return _call(address, "Acknowledge", pb.AcknowledgeRequest(incident_id=incident_id, by=by), timeout)


def label(address: str, incident_id: str, label: str, kind: str, note: str, by: str,
          timeout: float = 10.0) -> pb.LabelReply:
    """Label an incident (real | noise) through the spine: audited, stored in ben.incident_labels."""
    return _call(address, "Label", pb.LabelRequest(incident_id=incident_id, label=label, kind=kind, note=note, by=by),
                 timeout)
