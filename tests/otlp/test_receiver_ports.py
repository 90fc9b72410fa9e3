"""An OTLP port another process holds: said by ben in one line, before gRPC's core prints its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ben.core.transport import in_use as _in_use


def test_a_grpc_port_in_use_is_one_line_of_bens_without_grpc_s_log(home: Path) -> None:
    """gRPC's core wrote "E1206 ... add_port.cc:83] Failed to add port to server: ..." to stderr first, and
    ben's line then said "Failed to bind to address ...; set GRPC_VERBOSITY=debug ..."."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = home / "ben.toml"
        config.write_text(f'[sidecar]\ndata_dir = "sc"\n[sidecar.otlp]\ngrpc_listen = "127.0.0.1:{port}"\n'
                          'http_listen = ""\n')
        done = subprocess.run([sys.executable, "-m", "ben", "sidecar", "--config", str(config)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "BEN_HOME": str(home)})
    errors = [line for line in done.stderr.splitlines() if " INFO " not in line]
    assert done.returncode == 2, done.stderr
    assert errors == [f"error: field 'sidecar.otlp.grpc_listen': cannot listen on 127.0.0.1:{port}: Address "
                      "already in use"], done.stderr


def test_in_use_sees_a_listener_and_nothing_else() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert _in_use(f"127.0.0.1:{port}") is not None
        assert _in_use(f"localhost:{port}") is not None
    assert _in_use(f"127.0.0.1:{port}") is None                  # closed: free again (TIME_WAIT is no owner)
    assert _in_use("127.0.0.1:0") is None and _in_use("no-such-host.invalid:4317") is None
