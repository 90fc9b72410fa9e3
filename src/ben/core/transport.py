"""gRPC plumbing shared by every component: channels, servers, TLS, message limits, backoff.

A TCP listener serves mutual TLS (``tls`` cert, key and the CA client certificates must chain to)
or, with ``insecure = true`` only, plain TCP with a WARNING at every start; a unix socket gets the
configured mode and group (ADR 0034). Channels to a TCP address use the process's client TLS
material (``use_client_tls``, set by the sidecar from its config; else ``BEN_TLS_CA``,
``BEN_TLS_CERT``, ``BEN_TLS_KEY`` for the command line) and plain TCP without it.
"""

from __future__ import annotations

import asyncio
import errno
import grp
import logging
import os
import random
import socket
import stat
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from ben.core.address import ENV_TLS_CA, ENV_TLS_CERT, ENV_TLS_KEY, expand_user, is_loopback, socket_path
from ben.core.errors import ConfigError

log = logging.getLogger(__name__)

#: ben's limit on one request (an ingest batch of the SDK, a control document is 64 KiB at most): every
#: server refuses a larger message before parsing it, every channel refuses to send one.
MAX_MESSAGE_BYTES = 16 << 20
#: The spine takes a sidecar's batch after redaction, which may lengthen strings, in a request wrapper.
SPINE_MAX_MESSAGE_BYTES = 2 * MAX_MESSAGE_BYTES
#: Replies (query results) may be larger than requests.
MAX_REPLY_BYTES = 256 << 20

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_REPLY_BYTES),
    ("grpc.enable_retries", 0),
    # ben reconnects with its own backoff. By default gRPC shares subchannels between channels
    # process-wide and backs off up to 120 s after a refused connection, so a new channel to a
    # restarted peer could wait two minutes: give each channel its own subchannels, short backoff.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 50),
    # Despite its name gRPC reads this as the least time one connection attempt gets (at least 100 ms):
    # at 50 a peer slow to answer its handshake for 0.1 s (a loaded machine) was "nothing answers" at
    # once, whatever the call's deadline. A refused or missing socket still fails at once.
    ("grpc.min_reconnect_backoff_ms", 20_000),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
#: A connection that has not finished its handshake (TLS, and the HTTP/2 preface and settings)
#: within this is closed: half-open and slow clients hold nothing for long (gRPC's default: 120 s).
HANDSHAKE_TIMEOUT_MS = 10_000
#: Calls one connection carries at once (HTTP/2 ``SETTINGS_MAX_CONCURRENT_STREAMS``; more wait in the client). gRPC
#: sets none: 20,000 ingest streams that never sent, on one connection, took a sidecar from 106 MB to 394 MB, past
#: the connection quota (ADR 0045, round 14). ben's clients hold at most a few on one channel (an SDK: ingest and
#: commands; a sidecar to its spine: ingest, attach, status).
MAX_STREAMS_PER_CONNECTION = 32
SERVER_OPTIONS = [
    ("grpc.max_send_message_length", MAX_REPLY_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
    ("grpc.server_handshake_timeout_ms", HANDSHAKE_TIMEOUT_MS),
    ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
]
#: Open files a server leaves to everything but its connections (WALs, RocksDB, the store, metrics): a
#: ``max_connections`` leaving fewer is warned of at start.
FILES_RESERVE = 1024


def connection_quota(max_connections: int, idle_s: float, field: str, each: int = 1) -> list[tuple[str, int]]:
    """gRPC server options bounding a listener's connections (ADR 0045, rounds 5 and 12): its core closes a
    connection past ``max_connections`` at accept, and one with no call for ``idle_s``; a flood cannot take
    the process's descriptors. WARNING when the bound leaves fewer than ``FILES_RESERVE`` open files (``each``:
    descriptors a connection costs, three behind an accepting gate)."""
    import resource

    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if files != resource.RLIM_INFINITY and max_connections * each > files - FILES_RESERVE:
        log.warning("%s = %d (%d descriptors each) leaves fewer than %d of the process's %d open files for its "
                    "WALs, store and metrics: a flood could still take them; lower it or raise RLIMIT_NOFILE",
                    field, max_connections, each, FILES_RESERVE, files)
    return [("grpc.max_allowed_incoming_connections", max_connections),
            ("grpc.max_connection_idle_ms", int(idle_s * 1000))]


SPINE_SERVER_OPTIONS = [(k, SPINE_MAX_MESSAGE_BYTES if k == "grpc.max_receive_message_length" else v)
                        for k, v in SERVER_OPTIONS]
#: Channels of a sidecar to its spine send what the spine takes.
SPINE_CHANNEL_OPTIONS = [(k, SPINE_MAX_MESSAGE_BYTES if k == "grpc.max_send_message_length" else v)
                         for k, v in CHANNEL_OPTIONS]

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


def check_socket_dir(path: Path, flag: str) -> None:
    """Refuse a socket in a directory another account could swap it in: one owned by another user
    (root aside), or one any user may write without the sticky bit (``/tmp`` has it). There, after
    ben binds, the other user could remove the socket and listen in its place: the sidecars and
    applications would send their telemetry, and the operators their tokens, to that process."""
    st = os.stat(path.parent)
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        raise ConfigError(f"{path.parent} (the directory of the socket {path.name}) belongs to uid {st.st_uid}, not "
                          f"to the user ben runs as (uid {me}): its owner could replace the socket", field=flag)
    if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        raise ConfigError(f"{path.parent} (the directory of the socket {path.name}) is writable by any user "
                          f"(mode {stat.S_IMODE(st.st_mode):04o}): another account could replace the socket; "
                          "choose a private directory (or chmod o-w, or +t)", field=flag)


def prepare_listen(address: str, flag: str = "listen") -> None:
    """Before binding a unix socket: refuse if a live server owns it, else remove a stale socket. Anything
    else at the path (a file, a directory, a symlink) is refused naming ``flag`` and left as it is: it was
    removed, whatever it was (a listen option mistyped onto a data file lost the file; ADR 0045, round 8)."""
    path = socket_path(address)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    check_socket_dir(path, flag)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a symlink" if stat.S_ISLNK(st.st_mode) else "a file"
        raise ConfigError(f"{path} is {kind}, not a socket: ben removes only a stale socket there; choose "
                          "another path or remove it", field=flag)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        try:
            path.unlink(missing_ok=True)  # stale: its server is gone
        except PermissionError:  # another account's, in a sticky directory: was a traceback (round 12)
            raise ConfigError(f"{path} is a stale socket of uid {st.st_uid}, which the user ben runs as may not "
                              "remove (a sticky directory): choose another path, or have it removed", field=flag) from None
    else:
        raise ConfigError(f"another process is already listening on {path}", field=flag)
    finally:
        probe.close()


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of one end of a mutual-TLS connection. ``names``: what an error calls each file when it is
    not ``<flag>.cert|key|ca`` (the environment variables of the command line)."""

    cert: Path
    key: Path
    ca: Path
    names: tuple[str, str, str] | None = field(default=None, compare=False)

    def read(self, flag: str) -> tuple[bytes, bytes, bytes]:
        """The three files' bytes, each checked to be what it is named: a certificate (or CA bundle) and a
        private key in PEM. gRPC took any bytes, logged "E… Invalid cert chain file" lines of its own and
        failed every connection, which the command then called "nothing answers"; a file that was no key at
        all was told to be chmod 600'd. A key others may read and a CA another account may write are refused
        after the content (ADR 0034, 0045)."""
        from ben.core.files import check_secret, check_trusted, read_input

        fields = self.names or (f"{flag}.cert", f"{flag}.key", f"{flag}.ca")
        out = []
        for name, where in zip(("cert", "key", "ca"), fields):
            path = getattr(self, name)
            try:
                data = read_input(path)
            except FileNotFoundError:
                raise ConfigError(f"{path}: not found", field=where) from None
            except OSError as exc:
                raise ConfigError(f"cannot read {path}: {exc.strerror}", field=where) from None
            _check_pem(name, path, data, where)
            out.append(data)
        _check_pair(out[0], out[1], self.cert, self.key, fields[1])
        check_secret(self.key, fields[1])  # and no other account's (ADR 0045, round 14)
        check_trusted(self.ca, fields[2])  # another account able to write it could add its own CA
        return out[0], out[1], out[2]


def _check_pair(cert: bytes, key: bytes, cert_path: Path, key_path: Path, where: str) -> None:
    """The certificate (the first of its file) is the key's: another name's key beside it (alice.crt with bob.key)
    failed every handshake, which the command called "nothing answers"."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    public = serialization.load_pem_private_key(key, password=None).public_key().public_bytes(*pem)
    if x509.load_pem_x509_certificates(cert)[0].public_key().public_bytes(*pem) != public:
        raise ConfigError(f"{key_path} is not the key of {cert_path} (another certificate's key): give the .key "
                          "ben certs issue wrote beside that .crt", field=where)


def _check_pem(name: str, path: Path, data: bytes, where: str) -> None:
    """``data`` is a PEM certificate (``cert``, ``ca``: one or more) or an unencrypted PEM private key (``key``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    made = "ben certs init / ben certs issue NAME write them"
    if name == "key":
        if b"PRIVATE KEY-----" in data:
            try:
                serialization.load_pem_private_key(data, password=None)
                return
            except (ValueError, TypeError) as exc:
                reason = str(exc).split(". See https://", 1)[0]
                raise ConfigError(f"{path}: not a usable PEM private key ({reason}); {made}", field=where) from None
        what = "a certificate, not its private key" if b"CERTIFICATE-----" in data else "not a PEM private key"
        raise ConfigError(f"{path}: {what}; {made}", field=where)
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        what = ("a private key, not a certificate" if b"PRIVATE KEY-----" in data
                else "not a PEM certificate")
        raise ConfigError(f"{path}: {what}; {made}", field=where) from None


def tls_files(tls, flag: str) -> TlsFiles | None:
    """The TlsConfig as files (None when it names none); ConfigError when only some are set."""
    if tls is None or not tls.configured:
        return None
    missing = [name for name in ("cert", "key", "ca") if getattr(tls, name) is None]
    if missing:
        raise ConfigError(f"mutual TLS needs cert, key and ca; {', '.join(missing)} not set", field=flag)
    return TlsFiles(tls.cert, tls.key, tls.ca)


def check_listen(address: str, flag: str, *, tls: TlsFiles | None, insecure: bool) -> None:
    """Refuse a TCP listen with neither mutual TLS nor an explicit ``insecure = true`` (at once, at start),
    and plain TCP beyond loopback whatever ``insecure`` says: every caller of a plain listener is served
    as an unauthenticated operator, which a network peer must never be (ADR 0045, round 9)."""
    if socket_path(address) is not None or tls is not None:
        return
    if not insecure:
        raise ConfigError(f"{address} is TCP: set [tls] cert, key and ca (mutual TLS; `ben certs` makes them) "
                          f"or insecure = true to serve plain TCP without authentication", field=flag)
    if not is_loopback(address.rpartition(":")[0]):
        raise ConfigError(f"{address} is not loopback: plain TCP (insecure = true) serves every caller as an "
                          f"operator, so it is for loopback only; set [tls] cert, key and ca (mutual TLS; "
                          f"`ben certs` makes them) to listen beyond it", field=flag)


def in_use(address: str) -> OSError | None:
    """The error of binding a TCP ``host:port`` that another process listens on, else None (port 0, a name that
    does not resolve and any other error are left to gRPC, which says them itself). Asked before gRPC binds: its
    own refusal is "Failed to bind to address ...; set GRPC_VERBOSITY=debug ...", the reason only in its log."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return None
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, int(port), type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except OSError:
        return None
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds: TIME_WAIT is no owner
            try:
                probe.bind(addr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return exc
    return None


def refuse_in_use(address: str, flag: str) -> None:
    """ConfigError naming ``flag`` when another process listens on the TCP ``address`` (``in_use``)."""
    if (busy := in_use(address)) is not None:
        raise ConfigError(f"cannot listen on {address}: {busy.strerror} (another process listens there: a ben "
                          "component already running, or another program)", field=flag)


def bind(server: grpc.aio.Server, address: str, flag: str = "listen", *, tls: TlsFiles | None = None,
         insecure: bool = False) -> None:
    """Bind an aio server to an address, translating failures into ConfigError.

    TCP: mutual TLS with ``tls``; without it only when ``insecure`` (a WARNING, every start); else
    the start is refused. A unix socket is plain: its mode and group are its gate (``secure_socket``)."""
    prepare_listen(address, flag)
    tcp = socket_path(address) is None
    if tcp and tls is None:
        check_listen(address, flag, tls=tls, insecure=insecure)  # the missing TLS first, as before
    if tcp:  # was "Failed to bind ...; set GRPC_VERBOSITY=debug ..."
        refuse_in_use(address, flag)
    try:
        if tcp and tls is not None:
            cert, key, ca = tls.read(flag.rsplit(".", 1)[0] + ".tls")
            creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)
            port = server.add_secure_port(address, creds)
        else:
            check_listen(address, flag, tls=tls, insecure=insecure)
            if tcp:
                log.warning("INSECURE: %s serves plain TCP on %s without TLS or authentication (insecure = true): "
                            "any peer that reaches it can ingest, attach and query", flag, address)
            port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc}", field=flag) from exc
    if tcp and port == 0:
        raise ConfigError(f"cannot listen on {address}", field=flag)


def secure_socket(address: str, mode: int, group: str, flag: str = "listen") -> None:
    """Give a bound unix socket its mode and group (after the server started: it creates the file).

    Through the socket itself, never a name: the path is opened without following a symlink and must be a socket,
    then changed through ``/proc/self/fd``. A member of a group that may write the socket's directory replaced the
    socket by a symlink to any file between the bind and this, and ben (root) gave that file the socket's group and
    mode (``/etc/shadow``, 0660; ADR 0045, round 12)."""
    path = socket_path(address)
    if path is None:
        return
    gid = -1
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError(f"no group {group!r} on this host", field=f"{flag.rsplit('.', 1)[0]}.socket_group")
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW)
    except OSError as exc:
        raise ConfigError(f"cannot set the mode of {path}: {exc.strerror}", field=flag) from None
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise ConfigError(f"{path} is no longer the socket ben bound: something in its directory replaced it "
                              "(another account that may write there); choose a directory only ben may write",
                              field=flag)
        os.chown(f"/proc/self/fd/{fd}", -1, gid)
        os.chmod(f"/proc/self/fd/{fd}", mode)
    except OSError as exc:
        raise ConfigError(f"cannot set the mode of {path}: {exc.strerror}", field=flag) from None
    finally:
        os.close(fd)


# -- the client side --------------------------------------------------------------------------------
_client_tls: TlsFiles | None = None


def use_client_tls(tls: TlsFiles | None) -> None:
    """The TLS material this process dials TCP addresses with (the sidecar's [sidecar.tls])."""
    global _client_tls
    _client_tls = tls


def client_tls() -> TlsFiles | None:
    if _client_tls is not None:
        return _client_tls
    env = [os.environ.get(name, "") for name in (ENV_TLS_CERT, ENV_TLS_KEY, ENV_TLS_CA)]
    if all(env):
        # "~/certs/x.crt" quoted (a unit file, an .env file: no shell expands it) is the home's, as $BEN_HOME's is
        cert, key, ca = (Path(expand_user(value)) for value in env)
        return TlsFiles(cert, key, ca, names=(f"${ENV_TLS_CERT}", f"${ENV_TLS_KEY}", f"${ENV_TLS_CA}"))
    if any(env):
        raise ConfigError(f"set all of {ENV_TLS_CERT}, {ENV_TLS_KEY} and {ENV_TLS_CA}, or none", field=ENV_TLS_CERT)
    return None


def _credentials(address: str) -> grpc.ChannelCredentials | None:
    if socket_path(address) is not None:
        return None
    tls = client_tls()
    if tls is None:
        return None
    cert, key, ca = tls.read("tls")
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def channel(address: str, options=None) -> grpc.Channel:
    """A blocking channel: mutual TLS to a TCP address when this process has TLS material."""
    creds = _credentials(address)
    options = CHANNEL_OPTIONS if options is None else options
    if creds is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, creds, options=options)


def aio_channel(address: str, options=None) -> grpc.aio.Channel:
    """An asyncio channel: mutual TLS to a TCP address when this process has TLS material."""
    creds = _credentials(address)
    options = CHANNEL_OPTIONS if options is None else options
    if creds is None:
        return grpc.aio.insecure_channel(address, options=options)
    return grpc.aio.secure_channel(address, creds, options=options)


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



#: The HTTP/2 client preface and an empty SETTINGS frame: a gRPC listener that took the handshake answers them.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def certificate_refused(address: str, timeout: float = 3.0) -> str:
    """Why gRPC said only "Socket closed" of a TCP ``address`` that answers: it refused this end's certificate (a
    client certificate of another CA than the one the listener trusts). Under TLS 1.3 the listener judges the client's
    certificate after the client's side of the handshake is done, then closes the connection without a word, and the
    command said "nothing answers (is it running?)" of a running spine (ADR 0033). One handshake of its own with this
    process's material, then HTTP/2's preface, tells: a listener that took the certificate answers it. "" when nothing
    answers, TLS is not in use, the handshake fails otherwise (said by ``tls_refused``) or the listener answers."""
    import ssl

    if socket_path(address) is not None:
        return ""
    try:
        tls = client_tls()
    except ConfigError:
        return ""
    host, _, port = address.rpartition(":")
    if tls is None or not port.isdigit():
        return ""
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # a name the certificate does not hold is said by tls_refused
        context.load_verify_locations(cafile=str(tls.ca))
        context.load_cert_chain(str(tls.cert), str(tls.key))
        context.set_alpn_protocols(["h2"])
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw, \
                context.wrap_socket(raw) as conn:
            conn.sendall(_H2_PREFACE)
            answered = conn.recv(9)
    except ssl.SSLError as exc:
        if "ALERT" not in str(exc).upper():
            return ""  # not this end's certificate: the listener's own, or no TLS (tls_refused says those)
        answered = b""
    except (ConnectionResetError, BrokenPipeError):
        answered = b""
    except (OSError, ValueError):
        return ""  # nothing listens, no route, material that does not load: the caller's words stand
    if answered:
        return ""
    name = tls.names[0] if tls.names else "tls.cert"
    return (f"{address} answers, but closed the connection once it saw this end's certificate ({name}: {tls.cert}): "
            "the listener trusts another CA; use a certificate its CA issued (ben certs issue NAME in the ben certs "
            "directory whose ca.crt the listener's tls.ca names)")
