"""The library's conformance checks (ben.detect.checks) over every monitor it ships, defaults included."""

import pytest

from ben.detect import calibrated as cal
from ben.detect import checks
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
