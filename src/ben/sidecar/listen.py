"""A sidecar's plain loopback ``listen`` behind an accepting gate: connections per local account (ADR 0045, round 17).

A plain loopback ``listen`` (``insecure = true``) takes telemetry from every account of the host (round 10). gRPC's
core bounds the listener's connections (``max_connections``, round 12), not an account's, and Python's gRPC takes
no accepted socket: one account holding all 4,096 kept every other account's SDKs out for as long as it liked
(round 16 measured it: an SDK of another account started then could not connect). So the listener is the OTLP
gate's (``ben.otlp.gate.Gate``, round 7): ben accepts, the kernel names the client's uid once per connection, an
account holding ``max_connections_per_client`` is refused, and a full listener closes the newest connection of
the account holding most to let in one holding two fewer or more. gRPC serves on a unix socket in
``<data_dir>/listen-gate`` (0700); the gate's end of each connection is named for the account, which the guard,
the senders' bound and the call budget read back (``PlainTcp(gated=...)``) instead of a kernel lookup per call.

Costs: three descriptors a connection instead of one (the client's, the gate's two ends of the unix socket) and
every byte copied once more in the sidecar's event loop (measured in the ADR).

Since round 18 the unix socket (``sidecar.sock``, the default) is gated too: its mode and group decide who connects
at all, as before, and the kernel names each connecting process's uid (``SO_PEERCRED``), so every account of the
socket's group is a client of its own for ``max_connections_per_client``, ``max_calls_per_client`` and
``max_senders_per_client``: before, they were one, and one member of the group could take the budget of all.
"""

from __future__ import annotations

import logging
from pathlib import Path

import grpc

from ben.core import transport
from ben.core.address import socket_path
from ben.core.errors import ConfigError
from ben.core.figures import Figure, counter, gauge
from ben.otlp.gate import Gate

log = logging.getLogger(__name__)

#: Connections a burst may queue before the gate accepts them (asyncio accepts up to this many a turn).
BACKLOG = 128
#: Descriptors a gated connection costs: the client's, and the gate's two ends of the unix socket to gRPC.
DESCRIPTORS_EACH = 3


def gate(per_client: int, total: int, data_dir: Path) -> Gate:
    """The gate of a plain loopback ``listen`` (its sockets in ``<data_dir>/listen-gate``)."""
    return Gate(per_client=per_client, total=total, directory=Path(data_dir) / "listen-gate", what="sidecar listen",
                fields=("sidecar.max_connections_per_client", "sidecar.max_connections"))


def bind_inner(server: grpc.aio.Server, gated: Gate, address: str, flag: str) -> None:
    """gRPC on the gate's private unix socket; ``address`` checked first as ``transport.bind`` checks it."""
    if socket_path(address) is not None:  # a stale socket removed, a live one or anything else refused
        transport.prepare_listen(address, flag)
        server.add_insecure_port(f"unix:{gated.inner}")
        return
    transport.refuse_in_use(address, flag)
    log.warning("INSECURE: %s serves plain TCP on %s without TLS or authentication (insecure = true): "
                "any local account can send telemetry; the rest is for the sidecar's own account and "
                "sidecar.socket_group's", flag, address)
    server.add_insecure_port(f"unix:{gated.inner}")


async def start(gated: Gate, address: str, flag: str) -> int:
    """The gate's listener on ``address`` (TCP: the port bound; a unix socket: 0)."""
    host, _, port = address.rpartition(":")
    try:
        if socket_path(address) is not None:
            await gated.start_unix(str(socket_path(address)), backlog=BACKLOG)
            return 0
        return await gated.start(host.strip("[]"), int(port), backlog=BACKLOG)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc}", field=flag) from exc


def figures(gated: Gate) -> list[Figure]:
    """The gate's counts, as the OTLP/gRPC gate's."""
    return [
        counter("listen_connections_refused_total", gated.refused, "connections of listen refused at accept: their "
                "account held sidecar.max_connections_per_client, or the listener max_connections"),
        counter("listen_connections_evicted_total", gated.evicted, "connections of listen closed to let in one of "
                "an account holding fewer (the listener held sidecar.max_connections)"),
        gauge("listen_connections", sum(gated.held.values()), "connections of listen held by its gate"),
    ]
