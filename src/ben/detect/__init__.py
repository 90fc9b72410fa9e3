"""``ben.detect``: online, deterministic, checkpointable anomaly detectors.

Single-series API (one object per series, points in time order)::

    EWMA, CUSUM, Robust, Drift, Variance  .update(ts_ns, value) -> Verdict(score, flag, evidence)
    SeriesMonitor                   calibrated detection (ADR 0028) -> MonitorVerdict(..., episodes)
    BankSeriesMonitor               all five + noise control (what MonitorBank runs) -> the same

Vectorised banks for the spine (many series, numpy, time-major blocks)::

    EWMABank, CUSUMBank, RobustBank, DriftBank, VarianceBank  .update(...) / .update_block(...) -> BankResult
    MonitorBank                                  -> MonitorResult(scores, flags, status, episodes)
    CalibratedBank   SeriesMonitor's calibrated detection, one state row per series (the spine's default)

State: ``state()`` / ``from_state()`` (objects), ``checkpoint()`` / ``restore()`` (banks) give plain
data; ``to_bytes`` / ``from_bytes`` serialise it. Bad points raise :class:`DetectorError` in the
single-series API and are reported per point (``status``) by banks.

A new detector subclasses :class:`DetectorBank` (its abstract hooks, :mod:`ben.detect.base`), gets a
:class:`SeriesDetector` for one series, and is registered in ``DETECTORS``: the conformance checks
of :mod:`ben.detect.checks` then run over it with its defaults (``tests/detect/test_checks.py``).
"""

from ben.detect.base import NOT_FINITE, OK, OUT_OF_ORDER, STATUS, BankResult, DetectorBank, Verdict
from ben.detect.checkpoint import from_bytes, to_bytes
from ben.detect.cusum import CUSUM, CUSUMBank
from ben.detect.drift import Drift, DriftBank
from ben.detect.episode import Episode
from ben.detect.errors import DetectorError
from ben.detect.ewma import EWMA, EWMABank
from ben.detect.monitor import DETECTORS, MonitorBank, MonitorResult, MonitorVerdict
from ben.detect.noise import NoiseControl
from ben.detect.robust import Robust, RobustBank
from ben.detect.calibrated import Timing
from ben.detect.calibrated_bank import CalibratedBank, CalibratedResult
from ben.detect.series import BankSeriesMonitor, SeriesMonitor
from ben.detect.single import SeriesDetector
from ben.detect.variance import Variance, VarianceBank

__all__ = [
    "EWMA", "CUSUM", "Robust", "Drift", "Variance", "SeriesMonitor", "BankSeriesMonitor", "Timing",
    "EWMABank", "CUSUMBank", "RobustBank", "DriftBank", "VarianceBank", "MonitorBank", "DETECTORS",
    "Verdict", "MonitorVerdict", "BankResult", "MonitorResult", "Episode", "NoiseControl",
    "DetectorError", "to_bytes", "from_bytes", "STATUS", "OK", "NOT_FINITE", "OUT_OF_ORDER",
    "DetectorBank", "SeriesDetector", "CalibratedBank", "CalibratedResult",
]
