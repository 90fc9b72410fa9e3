"""Addresses and default locations, without heavy imports (the SDK uses this)."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variables ben reads, in one place.
ENV_HOME = "BEN_HOME"
ENV_SIDECAR_SOCKET = "BEN_SIDECAR_SOCKET"
ENV_KEY = "BEN_KEY"  # the private key `ben command` signs with
#: Password for `ben query --clickhouse` (the spine reads spine.store.password_env or _file instead).
ENV_CLICKHOUSE_PASSWORD = "BEN_CLICKHOUSE_PASSWORD"
#: Client certificate, its key and the CA of a spine on TCP with mutual TLS (`ben query`, `ben command`...).
ENV_TLS_CERT = "BEN_TLS_CERT"
ENV_TLS_KEY = "BEN_TLS_KEY"
ENV_TLS_CA = "BEN_TLS_CA"

UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL


def is_loopback(host: str) -> bool:
    """True for a host that names this machine's loopback: ``localhost``, ``127.0.0.0/8``, ``::1``
    (brackets allowed); False for anything else, names included (they could resolve elsewhere)."""
    import ipaddress

    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ben_home() -> Path:
    """Where defaults live: ``$BEN_HOME`` or ``~/.local/state/ben``."""
    env = _env_path(ENV_HOME)
    # "~/x" (quoted, or from a unit file) is the home; a relative one is made absolute: the sockets under it are
    # then the same for a component and a `ben` command started in another directory (was unix:relhome/...).
    if not env:
        return home_dir() / ".local" / "state" / "ben"
    home = Path(os.path.abspath(expand_user(env)))
    if os.path.exists(home) and not os.path.isdir(home):  # BEN_HOME=/etc/ben.toml: "nothing answers at
        from ben.core.errors import ConfigError          # unix:///etc/ben.toml/spine.sock" (ADR 0033, round 13)

        raise ConfigError(f"{home} is a file, not a directory: it names the directory ben keeps its sockets, data and "
                          "keys in (a config file is given with --config)", field=f"${ENV_HOME}")
    return home


def home_dir() -> Path:
    """The user's home, as ``~`` reads it (``$HOME``, else the account's entry), or a ConfigError naming ``$HOME``
    when it is empty or relative: ``HOME= ben keys generate alice`` wrote the key in ``/.local/state/ben/keys``,
    ``HOME=rel`` made every default relative to where each command ran, so a spine and a ``ben status`` started
    in two directories never met (ADR 0033, round 10)."""
    env = os.environ.get("HOME")
    if env is None:
        return Path.home()
    if not env.strip() or not os.path.isabs(env) or (not env.isprintable() and path_problem(env)):
        from ben.core.errors import ConfigError

        what = "empty" if not env.strip() else f"{env[:120]!r}, " + (
            "a relative path" if env.isprintable() else "which holds a control character")
        raise ConfigError(f"{what}: ben's defaults go under ~/.local/state/ben; set HOME to your home directory (an "
                          f"absolute path), or {ENV_HOME} to where ben keeps its files", field="$HOME")
    return Path(env)


def expand_user(text: str) -> str:
    """``os.path.expanduser``, with ``~`` and ``~/...`` read from :func:`home_dir` (an empty ``$HOME`` made ``~/x``
    the root's ``/x``)."""
    if text == "~" or text.startswith("~/"):
        return str(home_dir()) + text[1:]
    return os.path.expanduser(text)


def default_sidecar_address() -> str:
    env = _env_path(ENV_SIDECAR_SOCKET)
    if not env:
        return f"unix://{ben_home() / 'sidecar.sock'}"
    if env.startswith("unix:"):  # the form --sidecar takes: was the relative path "unix:/…" under the current one
        try:
            check_address(env)  # "unix:" / "unix://" were the current directory (ADR 0033, round 13)
        except ValueError as exc:
            from ben.core.errors import ConfigError

            raise ConfigError(str(exc), field=f"${ENV_SIDECAR_SOCKET}") from None
        env = str(socket_path(env))
    elif "://" in env:  # tcp://host:1 was the relative path "tcp:/host:1" under the current directory
        from ben.core.errors import ConfigError

        raise ConfigError(f"{env!r} is a URL: this variable names the sidecar's unix socket (a path, e.g. "
                          "/run/ben/sidecar.sock, or unix:///run/ben/sidecar.sock)", field=f"${ENV_SIDECAR_SOCKET}")
    elif "/" not in env and env.rpartition(":")[2].isdigit():  # host:port: was a socket file named so, made here
        from ben.core.errors import ConfigError

        raise ConfigError(f"{env!r} is host:port: this variable names the sidecar's unix socket (a path, e.g. "
                          "/run/ben/sidecar.sock); a sidecar on TCP is given to the SDK as Client(sidecar=...) and to "
                          "ben as --sidecar", field=f"${ENV_SIDECAR_SOCKET}")
    return f"unix://{os.path.abspath(expand_user(env))}"


def _env_path(name: str) -> str | None:
    """The path in environment variable ``name``; ConfigError naming it when it holds a control character
    (``$'/tmp/a\\nb'``, a stray newline from ``$(...)``): every data directory, socket and log line under it
    was then split in two (ADR 0033, round 8)."""
    env = os.environ.get(name)
    if env and (problem := path_problem(env)):
        from ben.core.errors import ConfigError

        if not env.strip():  # "leave the key out" is a config file's words: a variable is unset (round 15)
            problem = f"blank ({env!r}): give a path, or unset {name} for its default"
        raise ConfigError(problem, field=f"${name}")
    return env


def path_problem(text: str) -> str:
    """Why ``text`` is no path ben takes, or "": empty or blank (a config's ``data_dir = ""`` was the config's own
    directory), or holding a control character (ADR 0033)."""
    if not text.strip():
        return "an empty path (leave the key out for its default)"
    if not text.isprintable() and any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        return f"{text[:120]!r} holds a control character (a newline?): give a plain path"
    return ""


def default_spine_address() -> str:
    return f"unix://{ben_home() / 'spine.sock'}"


def check_address(value: str) -> str:
    """Accept ``unix:///abs/path``, ``unix:path`` or ``host:port``; return the gRPC target."""
    if value.startswith("unix:"):
        path = value[len("unix://"):] if value.startswith("unix://") else value[len("unix:"):]
        if not path:
            raise ValueError("unix address has no path (expected unix:///path/to.sock)")
        if len(os.fsencode(path)) > UNIX_PATH_MAX:
            raise ValueError(f"unix socket path is {len(path)} bytes; the limit is {UNIX_PATH_MAX}")
        return f"unix://{path}" if path.startswith("/") else f"unix:{path}"
    if "://" in value:  # http://127.0.0.1:4318 (the OTLP/HTTP port's URL) was taken as host "http://127.0.0.1"
        raise ValueError(f"{value!r} is a URL: ben's addresses are unix:///path or host:port, without a scheme")
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is neither unix:///path nor host:port")
    return value


def socket_path(address: str) -> Path | None:
    """The filesystem path of a unix address, or None for TCP."""
    if address.startswith("unix://"):
        return Path(address[len("unix://"):])
    if address.startswith("unix:"):
        return Path(address[len("unix:"):])
    return None


def same_endpoint(a: str, b: str) -> bool:
    """Whether dialling address ``b`` reaches a listener on address ``a`` for sure: one unix socket (paths
    resolved), or one TCP port where both hosts are the same or ``a`` listens on every address (or loopback)
    and ``b`` names loopback. Other hosts may be this machine too; they are not guessed."""
    pa, pb = socket_path(a), socket_path(b)
    if pa is not None or pb is not None:
        return pa is not None and pb is not None and os.path.realpath(pa) == os.path.realpath(pb)
    (host_a, _, port_a), (host_b, _, port_b) = a.rpartition(":"), b.rpartition(":")
    if port_a != port_b:
        return False
    host_a, host_b = host_a.strip("[]"), host_b.strip("[]")
    return host_a == host_b or ((host_a in ("0.0.0.0", "::") or is_loopback(host_a)) and is_loopback(host_b))


#: In every line of :func:`foreign_peer` (what the SDK keeps as its last error, ``ben emit`` looks for).
NOT_BEN = "not a ben spine or sidecar"


def foreign_peer(address: str, said: str) -> str:
    """What answered at ``address`` when it is no ben component, from gRPC's words ``said`` ("" otherwise): a gRPC
    server without ben's services ("UNIMPLEMENTED: Method not found!", e.g. the OTLP/gRPC port 4317), or an HTTP/1
    server (e.g. the OTLP/HTTP port 4318). Before, the line was gRPC's alone, after the whole wait."""
    if "Method not found!" in said:
        what = ("a gRPC server that serves none of ben's calls (an OTLP/gRPC port such as 4317? another program? an "
                "older ben?)")
    elif "http1.x server" in said or "Failed parsing HTTP/2" in said:
        what = "an HTTP/1 server (an OTLP/HTTP port such as 4318? a web page?)"
    else:
        return ""
    return (f"{address} is {what}, {NOT_BEN}: ben's components answer at their listen address "
            f"(by default unix://$BEN_HOME/spine.sock and unix://$BEN_HOME/sidecar.sock)")


def tls_refused(address: str, said: str) -> str:
    """Why the TLS handshake with ``address`` failed, from gRPC's words ``said`` ("" when it did not): the command
    said "nothing answers (is it running?)" of a spine that answered with a certificate for another name (the
    README's ``--host spine.example`` dialled as 127.0.0.1), of another CA, or with no TLS at all."""
    host = address.rpartition(":")[0].strip("[]") or address
    if "Hostname Verification Check failed" in said:
        return (f"{address} answers, but its certificate does not name {host!r}: dial it by a name its certificate "
                f"holds, or issue it again naming this one (ben certs issue NAME --server --host {host})")
    if "WRONG_VERSION_NUMBER" in said:
        return (f"{address} answers without TLS (a listener with insecure = true?), and this end speaks mutual TLS "
                "(BEN_TLS_CERT, BEN_TLS_KEY, BEN_TLS_CA are set)")
    if "certificate signature failure" in said or "CERTIFICATE_VERIFY_FAILED" in said:
        return (f"{address} answers with a certificate the CA this end trusts (BEN_TLS_CA) did not sign: give the "
                "ca.crt of the ben certs directory that issued it")
    if "handshake failed" in said.lower():
        return f"the TLS handshake with {address} failed: {said.rpartition(': ')[2] or said}"
    return ""
