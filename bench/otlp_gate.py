"""What the OTLP/gRPC gate costs (ADR 0045, round 7): one export at a time and four at once, through the
gate (TCP -> ``ben.otlp.gate`` -> gRPC on a unix socket) against the same gRPC server on TCP directly.

    python bench/otlp_gate.py [--requests N] [--body-kib K] [--runs R]

The server answers every export at once (no parsing, no WAL), so the figures are the transport's alone;
the client is a process of its own. Medians of R runs; the baseline (direct) is measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading

import grpc

from ben.otlp.gate import Gate

METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
CLIENT = """
import sys, time, grpc
from concurrent.futures import ThreadPoolExecutor
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = b"x" * size
with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1),
        ("grpc.max_send_message_length", 64 << 20)]) as ch:
    call = ch.unary_unary(sys.argv[4])
    call(body, timeout=30)
    lat = []
    for _ in range(n):
        t = time.perf_counter(); call(body, timeout=30); lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: call(body, timeout=30), range(n)))
    par = time.perf_counter() - t
lat.sort()
print(lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6, n * size / par / 1e6)
"""


def serve(gated: bool) -> tuple[int, callable]:
    ready, out = threading.Event(), {}

    def run() -> None:
        async def main() -> None:
            server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])

            async def export(body, context):
                return b""
            server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.logs.v1.LogsService",
                {"Export": grpc.unary_unary_rpc_method_handler(export)})])
            gate = Gate(per_client=64, total=256) if gated else None
            if gate:
                server.add_insecure_port(f"unix:{gate.inner}")
                await server.start()
                out["port"] = await gate.start("127.0.0.1", 0)
            else:
                out["port"] = server.add_insecure_port("127.0.0.1:0")
                await server.start()
            out["stop"] = asyncio.Event()
            out["loop"] = asyncio.get_running_loop()
            ready.set()
            await out["stop"].wait()
            await server.stop(0)
            if gate:
                await gate.shutdown()
        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    return out["port"], lambda: (out["loop"].call_soon_threadsafe(out["stop"].set), thread.join(10))


def measure(gated: bool, n: int, size: int) -> list[float]:
    port, stop = serve(gated)
    try:
        done = subprocess.run([sys.executable, "-c", CLIENT, str(port), str(n), str(size), METHOD],
                              capture_output=True, text=True, timeout=600, check=True)
        return [float(x) for x in done.stdout.split()]
    finally:
        stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--body-kib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = {}
    for name, gated in (("direct", False), ("gate", True)):
        runs = [measure(gated, args.requests, args.body_kib << 10) for _ in range(args.runs)]
        result[name] = {k: round(statistics.median(r[i] for r in runs), 1)
                        for i, k in enumerate(("p50_us", "p99_us", "mb_per_s_4_streams"))}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
