"""The command line for a Python child of ben: this interpreter with ``-P``, so neither the working
directory (``-m``) nor a script's directory goes first on ``sys.path``. Without it a stray ``attr.py`` in
the directory ben was started from shadows a library of the child, and whoever can write that directory
runs code as ben. Standard library only."""

from __future__ import annotations

import sys


def python_argv(*args: str) -> list[str]:
    """``[sys.executable, "-P", *args]``: e.g. ``python_argv("-m", "ben", "spine")``."""
    return [sys.executable, "-P", *args]
