"""What each refusal looks like on the wire, on both transports (a stub in place of the WAL, in addition
to the real full-WAL tests of test_transports.py and test_otel_sdk.py): the statuses OTLP clients retry
on carry their delay (Retry-After / RetryInfo), the others carry none."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.rpc import error_details_pb2, status_pb2

from ben.otlp import grpc_server, http_server
from ben.otlp.convert import Converter
from ben.otlp.exporting import Exporting
from ben.otlp.sender import Delivery
from tests.otlp.test_transports import logs_request

BODY = logs_request(["hello"]).SerializeToString()


class StubSlots:
    """Answers every delivery with the same outcome."""

    def __init__(self, delivery: Delivery):
        self.delivery = delivery

    async def deliver(self, converted, key=None, seen=None, client=""):
        return self.delivery


CASES = [  # delivery, HTTP status, Retry-After, gRPC code
    (Delivery(False, 200, "quota"), 429, "1", grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Delivery(False, 1000, "wal_error"), 503, "1", grpc.StatusCode.UNAVAILABLE),
    (Delivery(False, 2500, "wal_error"), 503, "3", grpc.StatusCode.UNAVAILABLE),
    (Delivery(False, error="batch contract: field 'names' out of range"), 400, None, grpc.StatusCode.INVALID_ARGUMENT),
]


@pytest.mark.parametrize("delivery,http_status,retry_after,grpc_code", CASES)
def test_refusals_on_the_wire(delivery, http_status, retry_after, grpc_code):
    async def run():
        exporting = Exporting(StubSlots(delivery), Converter())
        try:
            client = TestClient(TestServer(http_server.app(exporting, 1 << 20)))
            await client.start_server()
            try:
                resp = await client.post("/v1/logs", data=BODY, headers={"Content-Type": "application/x-protobuf"})
                http = (resp.status, resp.headers.get("Retry-After"), await resp.read())
            finally:
                await client.close()
            server = grpc.aio.server()
            server.add_generic_rpc_handlers(grpc_server.handlers(exporting))
            port = server.add_insecure_port("127.0.0.1:0")
            await server.start()
            try:
                async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                    call = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
                    try:
                        await call(BODY, timeout=10)
                        rpc = None
                    except grpc.aio.AioRpcError as exc:
                        rpc = (exc.code(), dict(exc.trailing_metadata() or ()).get("grpc-status-details-bin"))
            finally:
                await server.stop(None)
            return http, rpc
        finally:
            exporting.shutdown()

    (status, header, body), rpc = asyncio.run(run())
    assert status == http_status and header == retry_after
    message = status_pb2.Status.FromString(body)
    assert message.message
    assert rpc is not None and rpc[0] == grpc_code
    details = status_pb2.Status.FromString(rpc[1]).details
    if retry_after is None:
        assert not details and not message.details
    else:
        info = error_details_pb2.RetryInfo()
        assert details[0].Unpack(info) and info.retry_delay.ToMilliseconds() == delivery.retry_after_ms
