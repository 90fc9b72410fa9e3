"""Per-series state held as arrays: what a bank checkpoints, restores, grows and selects.

:class:`BankState` is the state half of the detector contract. A subclass declares its arrays in
:meth:`BankState._fields` and its hyper-parameters in ``_param_names``; the base allocates one row
per series, exposes each array as an attribute of the same name, and gives exact plain-data
checkpoints. Detectors (:class:`ben.detect.base.DetectorBank`) build on it; so do the seasonal
transform and the monitor's noise state, which keep state but score nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ben.detect.errors import DetectorError
from ben.detect.primitives import TS_NONE, check_param

__all__ = ["BankState", "FieldSpec"]

#: One state array: ``(shape after the series axis, dtype, fill value of a fresh series)``.
FieldSpec = tuple[tuple[int, ...], Any, Any]


class BankState(ABC):
    """Arrays of per-series state, one row per series, updated in place by subclasses.

    Every bank has ``n`` (points accepted per series) and ``last_ts`` (the last accepted
    timestamp, ``TS_NONE`` before the first); subclasses add theirs in :meth:`_fields`.
    """

    kind: ClassVar[str] = "state"
    """Short name of the bank (``"ewma"``), in checkpoints and evidence."""
    _param_names: ClassVar[tuple[str, ...]] = ()
    """Constructor keyword arguments that are hyper-parameters (stored as attributes of that name)."""

    n_series: int
    n: np.ndarray
    """Points accepted per series (int64)."""
    last_ts: np.ndarray
    """Timestamp of each series' last accepted point (int64 nanoseconds)."""

    def __init__(self, n_series: int = 1):
        check_param("n_series", n_series, 0, integer=True)
        self.n_series = int(n_series)
        self._state: dict[str, np.ndarray] = {}
        for name, (tail, dtype, fill) in self._all_fields().items():
            arr = np.full((self.n_series, *tail), fill, dtype=dtype)
            self._state[name] = arr
            setattr(self, name, arr)

    # ---- description -------------------------------------------------------------------
    @abstractmethod
    def _fields(self) -> dict[str, FieldSpec]:
        """The subclass's state arrays: ``{name: (tail shape, dtype, fill)}``.

        Called once per construction, restore and grow; may depend on the hyper-parameters
        (set them before calling ``super().__init__``). Names must not clash with the base's.
        """

    def _base_fields(self) -> dict[str, FieldSpec]:
        """The arrays the base relies on (``n``, ``last_ts``)."""
        return {"n": ((), np.int64, 0), "last_ts": ((), np.int64, TS_NONE)}

    def _all_fields(self) -> dict[str, FieldSpec]:
        return {**self._base_fields(), **self._fields()}

    def params(self) -> dict[str, float]:
        """The constructor's hyper-parameters (numbers only)."""
        return {name: getattr(self, name) for name in self._param_names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}(n_series={self.n_series}, {args})"

    # ---- state ---------------------------------------------------------------------------
    def checkpoint(self) -> dict:
        """Plain-data copy of the whole state: ``{"params": {...}, "state": {name: array}}``."""
        return {"params": self.params(), "state": {k: v.copy() for k, v in self._state.items()}}

    def restore(self, checkpoint: dict) -> None:
        """Replace this bank's state with a checkpoint taken from a bank with the same params."""
        if checkpoint.get("params") != self.params():
            raise DetectorError(f"checkpoint params {checkpoint.get('params')} differ from {self.params()}",
                                problem="bad_state")
        state = checkpoint["state"]
        n = len(state["n"])
        for name, (tail, dtype, _fill) in self._all_fields().items():
            arr = np.asarray(state.get(name))
            if arr.shape != (n, *tail):
                raise DetectorError(f"checkpoint field {name!r} has shape {arr.shape}, want {(n, *tail)}",
                                    problem="bad_state")
            arr = arr.astype(dtype, copy=True)
            self._state[name] = arr
            setattr(self, name, arr)
        self.n_series = n

    @classmethod
    def from_checkpoint(cls, checkpoint: dict):
        """A new bank holding ``checkpoint``."""
        bank = cls(0, **checkpoint["params"])
        bank.restore(checkpoint)
        return bank

    def grow(self, n_series: int) -> None:
        """Add fresh series so that the bank holds ``n_series`` (existing state kept).

        The arrays are views of buffers whose capacity doubles, so adding series one at a time
        costs amortised O(1) per series (not a copy of every array per new series).
        """
        old = self.n_series
        if n_series < old:
            raise DetectorError(f"cannot shrink a bank from {self.n_series} to {n_series} series")
        spare = getattr(self, "_spare", None)
        if spare is None:
            spare = self._spare = {}
        for name, (tail, dtype, fill) in self._all_fields().items():
            cur = self._state[name]
            buf = spare.get(name)
            if buf is None or cur.base is not buf or len(buf) < n_series:
                buf = np.empty((max(n_series, 2 * old, 16), *tail), dtype=dtype)
                buf[:old] = cur
                spare[name] = buf
            buf[old:n_series] = fill
            arr = buf[:n_series]
            self._state[name] = arr
            setattr(self, name, arr)
        self.n_series = int(n_series)

    def select(self, i: int) -> dict:
        """Checkpoint of series ``i`` alone (restorable into a single-series object)."""
        return {"params": self.params(), "state": {k: v[i:i + 1].copy() for k, v in self._state.items()}}
