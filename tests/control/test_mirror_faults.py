"""The audit mirror when an INSERT into ``ben.audit`` was stored but its answer lost (the store
process killed between the two): the retry must not store the entries twice, or ``ben audit
verify`` reports the store's copy reordered (an entry "appears again") after a mere crash.

Real chDB (in this process) under a wrapper that loses the answer of the first audit INSERT."""

from __future__ import annotations

from pathlib import Path

from ben.control.documents import make_envelope
from ben.control.plane import ControlPlane
from ben.core.config import ControlConfig
from ben.core.errors import StoreUnavailableError
from ben.store import ChdbStore
from tests.control.conftest import make_setup


class LostAnswer:
    """A real store whose first ``ben.audit`` INSERT is stored, then answered with an error."""

    def __init__(self, store: ChdbStore):
        self.store = store
        self.lost = 0

    def insert_rows(self, target: str, table) -> None:
        self.store.insert_rows(target, table)
        if target == "ben.audit" and not self.lost:
            self.lost += 1
            raise StoreUnavailableError("the store process failed during insert_rows (EOFError, exit code -9)")

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_an_audit_insert_stored_but_unanswered_is_not_stored_twice(home: Path) -> None:
    setup = make_setup(home)
    store = ChdbStore(home / "chdb")
    wrapped = LostAnswer(store)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine", wrapped)
    try:
        for i in range(3):
            plane.send(make_envelope(setup.alice, "ping", "shop", {}, f"command {i}")[1])
        assert plane.force_flush(30), plane.mirror.last_error
        assert wrapped.lost == 1
        report = plane.verify_audit()
        assert all(copy["ok"] for copy in report), report
        rows = store.rows("SELECT count() AS n, uniqExact(seq) AS u FROM ben.audit")
        assert rows[0][0] == rows[0][1] == plane.audit.last_seq, rows
    finally:
        plane.close()
        store.close()
