"""Each detector's documented defaults are its real defaults (numpydoc ``name : type, default X``)."""

import inspect
import re

import pytest

from ben.detect import checks
from ben.detect.monitor import DETECTORS

ENTRY = re.compile(r"^ {4}([\w, ]+) : [^\n]*\bdefault ([^\n]+)$", re.M)


def documented_defaults(cls) -> dict[str, str]:
    out = {}
    for m in ENTRY.finditer(cls.__doc__ or ""):
        names = [n.strip() for n in m.group(1).split(",")]
        values = [v.strip() for v in m.group(2).split(",")]
        out.update({n: values[min(i, len(values) - 1)] for i, n in enumerate(names)})
    return out


def mismatches(cls) -> list[str]:
    sig = inspect.signature(cls.__init__).parameters
    bad = [f"{n}: documented {v}, default {sig[n].default!r}" if n in sig else f"{n}: documented, not a parameter"
           for n, v in documented_defaults(cls).items()
           if n not in sig or float(v) != float(sig[n].default)]
    bad += [f"{n}: not documented" for n in sig if n not in ("self", "name") and not re.search(
        rf"^ {{4}}[\w, ]*\b{n}\b[\w, ]* :", cls.__doc__ or "", re.M)]
    return bad


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_documented_defaults_are_the_defaults(name):
    single = checks.single_of(DETECTORS[name])
    assert single is not None, f"{name} has a single-series class"
    assert mismatches(single) == []


def test_a_wrong_default_is_caught():
    class Wrong:
        """Toy.

        Parameters
        ----------
        span : float, default 64
            Memory.
        """

        def __init__(self, span: float = 16.0, trend: float = 0.2, *, name: str = "s"):
            pass

    assert mismatches(Wrong) == ["span: documented 64, default 16.0", "trend: not documented"]
