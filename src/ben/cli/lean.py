"""What a ``ben`` command's process does not load (ADR 0048).

pyarrow imports pandas at its first array (``pa.array``, ``Table.from_pylist``) only to ask whether it was
given a DataFrame: 0.3-0.6 s of CPU and ~50 MiB in each process, and no ``ben`` command ever gives it one
(chDB runs in the store process and answers in Arrow). In a command's process an import of pandas fails,
which pyarrow reads as "no pandas". ``ben bench`` is left alone: the development corpora it builds
(``bench/dev_sources*.py``) read their sources with pandas. A library user of ben (a notebook) is untouched:
only the ``ben`` command line does this.
"""

from __future__ import annotations

import importlib.abc
import sys

#: Commands whose process may load pandas.
NEEDS_PANDAS = frozenset({"bench"})


class NoPandas(importlib.abc.MetaPathFinder):
    """An import finder that makes ``import pandas`` (and its submodules) fail."""

    def find_spec(self, name: str, path=None, target=None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("a ben command's process does not load pandas (ADR 0048)", name=name)
        return None


def without_pandas(argv: list[str]) -> bool:
    """Put ``NoPandas`` first on ``sys.meta_path`` unless the command (the first argument that is no option)
    needs pandas or pandas is loaded already; whether it was put there."""
    command = next((a for a in argv[1:] if not a.startswith("-")), "")
    if command in NEEDS_PANDAS or "pandas" in sys.modules or any(isinstance(f, NoPandas) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, NoPandas())
    return True
