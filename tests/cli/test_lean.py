"""``ben.cli.lean``: a ben command's process never loads pandas, except ``ben bench`` (ADR 0048)."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys
from ben.cli.lean import NoPandas, without_pandas
assert without_pandas(sys.argv[1:])
assert not without_pandas(sys.argv[1:])  # put there once
import pyarrow as pa
table = pa.Table.from_pylist([{"value": 1.5}])  # pyarrow asks for pandas here, and is told there is none
assert table.column("value").to_pylist() == [1.5] and "pandas" not in sys.modules
try:
    import pandas.core
except ModuleNotFoundError as exc:
    print(exc.name, exc)
"""


def _child(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=60)


def test_a_command_builds_arrow_tables_without_pandas() -> None:
    out = _child("ben", "--verbose", "replay", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pandas a ben command's process does not load pandas (ADR 0048)"


def test_bench_may_load_pandas() -> None:
    out = subprocess.run([sys.executable, "-c", "import sys; from ben.cli.lean import without_pandas; "
                          "assert not without_pandas(['ben', 'bench', 'detect-real', 'DIR']); import pandas; "
                          "print('pandas' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
