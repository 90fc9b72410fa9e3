"""The compiled kernels take their constants from the modules that own them, and refuse a stale cache."""

import subprocess
import sys

from ben.detect import primitives, robust, variance


def test_kernels_use_the_owners_constants():
    from ben.detect import _kernels

    assert _kernels.CONSTANTS == (primitives.BIG, primitives.FLOOR_EVERY, primitives.MEANAD_SIGMA, variance.MIN_SD,
                                  robust.MAD_SIGMA)
    assert tuple(_kernels._frozen()) == _kernels.CONSTANTS


def test_a_constant_changed_after_caching_fails_the_import(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    load = "from ben.detect.base import kernels; kernels(); print('loaded')"
    first = subprocess.run([sys.executable, "-c", load], env=env, capture_output=True, text=True, timeout=300)
    assert first.stdout.strip() == "loaded", first.stderr
    changed = "import ben.detect.variance as v; v.MIN_SD = 0.06; " + load
    second = subprocess.run([sys.executable, "-c", changed], env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode != 0
    assert "cached detector kernels were compiled with constants" in second.stderr
    assert "delete the numba cache" in second.stderr


def positional_kernel_calls(source: str) -> list[str]:
    """``kern.<kernel>(...)`` calls that pass arguments by position."""
    import ast

    return [f"{node.lineno}: kern.{node.func.attr}" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "kern" and node.args]


def test_the_detectors_call_the_kernels_by_keyword():
    from pathlib import Path

    import ben.detect

    for path in sorted(Path(ben.detect.__file__).parent.glob("*.py")):
        assert positional_kernel_calls(path.read_text()) == [], path.name
    assert positional_kernel_calls("kern.ewma_block(X, n0=1)\nkern.drift_kl(p=p)\n") == ["1: kern.ewma_block"]
