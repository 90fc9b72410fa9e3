"""The public single-series API: one detector object per series (a bank of one series)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ben.detect import inputs
from ben.detect.base import BankResult, DetectorBank, Verdict
from ben.detect.errors import DetectorError

__all__ = ["SeriesDetector"]


class SeriesDetector:
    """One series, one detector: the public single-series API (a bank of one series).

    Subclasses set ``bank_class`` (a :class:`~ben.detect.base.DetectorBank`) and define
    ``__init__`` with their hyper-parameters, passed on by keyword.
    ``update(ts_ns, value)`` returns a :class:`Verdict`; ``state()`` / ``from_state()``
    checkpoint exactly; ``clone()`` is a fresh detector with the same parameters.
    """

    bank_class: ClassVar[type[DetectorBank]]

    def __init__(self, *, name: str = "series", **params: float):
        self.name = name
        self._bank = self.bank_class(1, **params)

    def params(self) -> dict[str, float]:
        """The hyper-parameters."""
        return self._bank.params()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args}, name={self.name!r})"

    @property
    def points(self) -> int:
        """Points accepted so far."""
        return int(self._bank.n[0])

    def _check(self, ts_ns: int, value: float) -> float:
        value = float(value)  # (values that inputs.point / inputs.points already took)
        if not math.isfinite(value):
            raise DetectorError(f"value {value!r} at ts_ns={ts_ns} is not finite", series=self.name,
                                problem="not_finite")
        last = int(self._bank.last_ts[0])
        if ts_ns < last:
            raise DetectorError(f"timestamp {ts_ns} is older than the previous point's {last}",
                                series=self.name, problem="out_of_order")
        return value

    def update(self, ts_ns: int, value: float) -> Verdict:
        """Feed one point (in time order) and return its :class:`Verdict`."""
        ts_ns, value = inputs.point(self.name, ts_ns, value, fresh=False)  # type checks; no unit: memories count points
        x = np.array([self._check(ts_ns, value)])
        score, flag, aux = self._bank.step(slice(None), x)
        self._bank.last_ts[0] = ts_ns
        return Verdict(float(score[0]), bool(flag[0]), {k: float(v[0]) for k, v in aux.items()})

    def update_many(self, ts_ns, values) -> BankResult:
        """Feed many points of this series at once (fast); raises like :meth:`update`.

        Returns a :class:`BankResult` with 1-d ``scores`` and ``flags``. Same results as
        calling :meth:`update` point by point.
        """
        ts, x = inputs.points(self.name, ts_ns, values, last=int(self._bank.last_ts[0]), fresh=False)
        res = self._bank.update_block(ts, x.reshape(-1, 1))
        return BankResult(res.scores[:, 0], res.flags[:, 0], res.status[:, 0])

    def clone(self) -> SeriesDetector:
        """A fresh detector with the same parameters and name (no state)."""
        return type(self)(name=self.name, **self.params())

    def state(self) -> dict:
        """Plain-data checkpoint (see :func:`ben.detect.to_bytes` for bytes)."""
        return self._bank.checkpoint()

    @classmethod
    def from_state(cls, state: dict, *, name: str = "series") -> SeriesDetector:
        """Rebuild a detector from :meth:`state` (or from a bank's ``select(i)``)."""
        det = cls(name=name, **state["params"])
        det._bank.restore(state)
        if det._bank.n_series != 1:
            raise DetectorError(f"a single-series state has 1 series, this one {det._bank.n_series}",
                                series=name, problem="bad_state")
        return det
