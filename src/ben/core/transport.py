"""gRPC plumbing shared by every component: channels, servers on unix sockets, backoff."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable, Iterator

import grpc

from ben.core.address import socket_path
from ben.core.errors import ConfigError

MAX_MESSAGE_BYTES = 256 << 20

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_retries", 0),
    # ben reconnects with its own backoff. By default gRPC shares subchannels between channels
    # process-wide and backs off up to 120 s after a refused connection, so a new channel to a
    # restarted peer could wait two minutes: give each channel its own subchannels, short backoff.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
SERVER_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
]

#: gRPC status codes after which a caller reconnects and resends.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


def backoff(min_ms: int, max_ms: int) -> Iterator[float]:
    """Exponential backoff with full jitter, in seconds: min, ~2*min, ... capped at max."""
    ceiling = float(min_ms)
    while True:
        yield random.uniform(min_ms, ceiling) / 1000.0
        ceiling = min(float(max_ms), ceiling * 2)


def prepare_listen(address: str, flag: str = "listen") -> None:
    """Before binding a unix socket: refuse if a live server owns it, else remove a stale file."""
    path = socket_path(address)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink(missing_ok=True)  # stale: its server is gone
    else:
        raise ConfigError(f"another process is already listening on {path}", field=flag)
    finally:
        probe.close()


def bind(server: grpc.aio.Server, address: str, flag: str = "listen") -> None:
    """Bind an aio server to an address, translating failures into ConfigError."""
    prepare_listen(address, flag)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc}", field=flag) from exc
    if socket_path(address) is None and port == 0:
        raise ConfigError(f"cannot listen on {address}", field=flag)


async def keep_connected(session: Callable[[], Awaitable[None]], backoff_ms: tuple[int, int],
                         on_break: Callable[[Exception | None], None], succeeded: Callable[[], bool]) -> None:
    """Run ``session()`` again and again until cancelled: the reconnect loop of every stream client.

    After each end of a session (an error, or none when the peer closed it) ``on_break`` gets the
    error to log and count, then the loop waits with exponential backoff and full jitter. The
    backoff starts low again when ``succeeded()`` (asked before ``on_break``) says the session had
    worked for a while. Cancellation is never caught.
    """
    delays = backoff(*backoff_ms)
    while True:
        error: Exception | None = None
        try:
            await session()
        except Exception as exc:  # every failure means: reconnect (the caller classifies it)
            error = exc
        if succeeded():
            delays = backoff(*backoff_ms)
        on_break(error)
        await asyncio.sleep(next(delays))
