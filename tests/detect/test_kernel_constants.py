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
