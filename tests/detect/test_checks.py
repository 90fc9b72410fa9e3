"""The library's conformance checks (ben.detect.checks) over every monitor it ships and every detector
registered in ``DETECTORS``, defaults included."""

import pytest

from ben.detect import calibrated as cal
from ben.detect import checks
from ben.detect.base import DetectorBank
from ben.detect.ewma import EWMABank
from ben.detect.monitor import DETECTORS
from ben.detect.series import SeriesMonitor


@pytest.mark.parametrize("name", sorted(checks.MONITORS()))
def test_every_shipped_monitor_conforms(name):
    checks.check_monitor(checks.MONITORS()[name])


def test_the_checks_can_fail():
    class Forgetful(SeriesMonitor):
        def state(self):                      # moves the level a little: no longer exact
            st = super().state()
            st["state"] = st["state"].copy()
            st["state"][cal.I_L0] += 1e-6
            return st

    with pytest.raises(AssertionError, match="checkpoint"):
        checks.check_monitor(lambda name: Forgetful(name))


# ---- the detector contract, over the registry ------------------------------------------------


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_registered_detector_conforms_with_its_defaults(name):
    checks.check_detector(DETECTORS[name])


class _Leaky(EWMABank):
    """A broken toy: its checkpoint forgets the variance (restores are not exact)."""

    kind = "leaky"

    def checkpoint(self):
        cp = super().checkpoint()
        cp["state"]["var"] = cp["state"]["var"] * 0.5
        return cp


class _Incomplete(DetectorBank):
    """A toy that declares its state but implements no update (``_recur`` missing)."""

    kind = "incomplete"
    threshold = 1.0

    def _fields(self):
        return {}


def test_a_broken_detector_fails_the_checks_once_registered(monkeypatch):
    monkeypatch.setitem(DETECTORS, "leaky", _Leaky)
    with pytest.raises(AssertionError, match=r"detector 'leaky' \(_Leaky\): checkpoint at step \d+ is exact"):
        checks.check_registered(names={"leaky"})  # (the shipped ones: one test each, above)
    checks.check_registered(names={"ewma"})  # its parent passes


def test_the_contract_is_abstract():
    with pytest.raises(TypeError, match="_recur"):
        _Incomplete(1)
    with pytest.raises(TypeError, match="_fast_kernel"):
        type("NoKernel", (_Incomplete,), {"_kernel": True})
