"""Ctrl-C while the ``ben`` command is still importing (its first second or two): one line, exit 130, not a
traceback of the import under way (ADR 0033, round 7). A real ``ben`` process, held in an import until
the signal comes by a module of the test's that stands in for one ben imports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

HOLD = """
import os, signal
os.write(2, b"importing\\n")
while True:
    signal.pause()
"""


#: A line of gRPC's own log (``E1207 08:19:58.568981   15660 ev_epoll1_linux.cc:373] ...``).
GRPC_LOG = re.compile(rb"[EWI]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\] ")


def test_ctrl_c_while_ben_imports_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "unicodedata.py").write_text(HOLD)  # ben.cli imports it at the start: held there
    script = shutil.which("ben", path=os.path.dirname(sys.executable))  # the venv's bin, beside its python
    assert script, "the ben script of this environment"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "BEN_HOME": str(tmp_path)}
    # as from a terminal: a background job of a shell starts with SIGINT ignored, and Python then installs no
    # handler for it (the import would be held for ever)
    proc = subprocess.Popen([script, "status"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stderr.readline()
        while GRPC_LOG.match(line):  # gRPC's fork handler in the forked child can log one (this worker used gRPC)
            line = proc.stderr.readline()
        assert line == b"importing\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = b"".join(x for x in err.splitlines(keepends=True) if not GRPC_LOG.match(x))
    assert proc.returncode == 130 and err.decode() == "ben: interrupted\n", (proc.returncode, err.decode()[-600:])
