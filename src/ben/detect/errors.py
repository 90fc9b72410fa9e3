"""Errors of :mod:`ben.detect`.

``DetectorError`` joins ben's one error tree (see :mod:`ben.core.errors`)::

    BenError
    └── DetectorError      a point a detector cannot accept (NaN/inf value, out-of-order
                           timestamp, unknown series) or a bad parameter / checkpoint

Single-series objects raise it; banks (the vectorised forms) report bad points per point
instead (see :data:`ben.detect.base.STATUS`), because the spine's hot path never raises.
"""

from __future__ import annotations

from ben.core.errors import BenError

__all__ = ["DetectorError"]


class DetectorError(BenError):
    """A detector refused a point, a parameter or a checkpoint.

    ``series`` names the series (or is ``None`` for parameter errors) and ``problem`` is a short
    machine-readable tag: ``"not_finite"``, ``"out_of_order"``, ``"bad_series"``,
    ``"bad_param"``, ``"bad_state"`` or ``"bad_type"`` (a point of the wrong type or unit,
    :mod:`ben.detect.inputs`).
    """

    def __init__(self, message: str, *, series: str | None = None, problem: str = "bad_param"):
        self.series = series
        self.problem = problem
        super().__init__(f"series {series!r}: {message}" if series is not None else message)
