"""One cortex data directory used by several processes at once (``ben explain``, ``ben cortex ...``, the web's
incident page): no history line is numbered twice and no learned outcome is lost or applied twice (ADR 0033
round 7; the lock and the catch-up are ADR 0046 round 5's)."""

from __future__ import annotations

import json
import subprocess
import sys

from ben.cortex.cortex import Cortex
from tests.cortex.test_cortex import _files, _incident


def _open(tmp_path) -> Cortex:
    responses, policy = _files(tmp_path)
    return Cortex(data_dir=tmp_path / "cx", responses=responses, policy=policy).start()


def _check_history(tmp_path, learns: int) -> None:
    events = [json.loads(line) for line in (tmp_path / "cx" / "history.jsonl").read_text().splitlines()]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1)), seqs
    assert sum(e["type"] == "learn" for e in events) == learns
    again = _open(tmp_path)
    assert again.bandit.updates == learns
    stored = again.bandit.to_json()
    again.rebuild()
    assert again.bandit.to_json() == stored  # the saved model is the history's, each outcome once


def test_two_openers_of_one_directory_each_see_what_the_other_wrote(tmp_path) -> None:
    """Both opened before either wrote (a ``ben cortex feedback`` while the web page shows the incident): the
    second's line took the first's seq, and the saved model held one outcome twice and lost the other."""
    a, b = _open(tmp_path), _open(tmp_path)
    row0, an0 = _incident(0)
    row1, an1 = _incident(1)
    a.feedback(row0, an0, verdict="helpful", response="cmd:throttle")
    b.feedback(row1, an1, verdict="unhelpful", response="watch")
    assert b.bandit.updates == 2  # b learned on top of a's outcome, not beside it
    a.recommend(row1, an1)
    b.accept(row0, an0, "watch", by="ann")
    a.feedback(row1, an1, verdict="helpful", response="watch")
    assert a.bandit.updates == 3 and a.accepted_for("inc-0000")["by"] == "ann"  # b's lines taken in as a wrote
    _check_history(tmp_path, learns=3)


CHILD = """
import sys
from pathlib import Path
from tests.cortex.test_cortex import _incident
from ben.control.policy import Policy
from ben.cortex.cortex import Cortex
from ben.cortex.responses import Responses

tmp, me = Path(sys.argv[1]), int(sys.argv[2])
# read, never rewrite: a child that rewrote the files truncated them under another child's read (failed CI once)
responses, policy = Responses.load(tmp / "responses.toml"), Policy.load(tmp / "policy.toml")
for n in range(15):  # each call opens the directory, as each ben command and each web request does
    row, anomalies = _incident(me * 100 + n)
    cx = Cortex(data_dir=tmp / "cx", responses=responses, policy=policy).start()
    cx.feedback(row, anomalies, verdict="helpful" if n % 2 else "unhelpful", response="watch")
"""


def test_processes_learning_at_once_lose_no_outcome(tmp_path) -> None:
    _files(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(i)]) for i in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    _check_history(tmp_path, learns=60)
