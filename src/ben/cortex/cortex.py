"""The cortex: recommend responses to an incident, learn from outcomes, keep both on disk.

Everything it decides or learns is a line in ``<data_dir>/history.jsonl`` (append-only, fsynced
before it counts): ``recommendation`` (the ranked responses shown for an incident: the cortex's
audit trail), ``accept`` (a human chose a response) and ``learn`` (a reward for a response in a
context). The model (``state.json``: the bandit's arrays and how many ``learn`` lines it holds) is
written atomically (temp file, fsync, rename; mode 0600) after each ``learn``. A crash between the
two is repaired at start by replaying the ``learn`` lines the state lacks; a torn last line is
dropped; a damaged line with lines after it stops the start naming it (nothing is truncated). ``rebuild`` replays the whole history into a fresh model: the same history gives the same
model (the bandit is deterministic).

Several cortexes may share a data directory at once (the web page opens one per request, ``ben cortex
accept`` another): each append holds an exclusive ``flock`` on the history and first takes in the lines
the others appended since it read it (learning from theirs), so every line has its own ``seq`` and the
outbox sends each one (ADR 0046 round 5).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ben.core.errors import ConfigError, StorageError
from ben.core.files import private_dir, remove_temporaries, write_atomic
from ben.cortex.bandit import LinUCB
from ben.cortex.features import Context, FeatureIndex, from_incident
from ben.cortex.record import Outbox
from ben.cortex.responses import Candidate, Responses

log = logging.getLogger(__name__)

VERDICTS = {"helpful": 1.0, "unhelpful": 0.0}
RECEIPTS = {"accepted": 1.0, "succeeded": 1.0, "done": 1.0, "refused": 0.0, "failed": 0.0}


@dataclass(frozen=True)
class Settings:
    """The learning cortex's settings (exploration, discount, features, resolution window)."""

    alpha: float = 0.0
    discount: float = 0.995
    feature_dim: int = 64
    resolve_within_s: float = 1800.0
    similar_cosine: float = 0.8
    change_drop: float = 0.3
    change_threshold: float = 3.0


def reward(*, verdict: str | None = None, resolved_in_time: bool | None = None, receipt: str | None = None) -> float:
    """The mean of the signals there are: the operator's verdict, resolved in time, the command's receipt."""
    signals = []
    if verdict is not None:
        if verdict not in VERDICTS:
            raise ConfigError(f"verdict {verdict!r}: expected helpful or unhelpful", field="verdict")
        signals.append(VERDICTS[verdict])
    if resolved_in_time is not None:
        signals.append(1.0 if resolved_in_time else 0.0)
    if receipt in RECEIPTS:
        signals.append(RECEIPTS[receipt])
    if not signals:
        raise ConfigError("no outcome to learn from (no verdict, resolution or receipt)", field="verdict")
    return sum(signals) / len(signals)


#: A temporary file of a state or outbox write not changed for this long is a killed writer's, not a live one's.
STALE_WRITE_S = 300.0


class Cortex:
    """Recommendations and learning for one data directory (see the module docstring)."""

    def __init__(self, *, data_dir: Path, responses: Responses, policy=None, settings: Settings = Settings(),
                 audit: Callable[[str, str, dict], dict] | None = None):
        """``audit(kind, incident_id, body)``: appends to ben's audit log (``ben.control.client.record``
        against the spine); None: the lines wait in the outbox (``record``) for a cortex that has it."""
        self.dir = Path(data_dir)
        self.responses, self.policy, self.settings = responses, policy, settings
        self.history_path, self.state_path = self.dir / "history.jsonl", self.dir / "state.json"
        self.outbox = Outbox(self.dir / "audited", audit)
        self.bandit, self.index = self._fresh(), FeatureIndex(settings.feature_dim)
        self.events: list[dict] = []
        self._size = 0   # bytes of the history read (its good lines)
        self.learned: list[tuple[str, np.ndarray, float]] = []   # (response, x, reward), for support

    def _fresh(self) -> LinUCB:
        s = self.settings
        return LinUCB(arms=self.responses.arms(), dim=s.feature_dim, alpha=s.alpha, discount=s.discount,
                      change_drop=s.change_drop, change_threshold=s.change_threshold)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Cortex:
        # made, or checked as ben's own: another account's directory (made first in a shared parent, or a
        # symlink to its own) would let it plant learned outcomes and read every decision (ADR 0045, round 8)
        private_dir(self.dir, "cortex.data_dir")
        for path in (self.state_path, self.outbox.path):   # a write killed before its rename (ADR 0046 round 5);
            freed = remove_temporaries(path, older_than_s=STALE_WRITE_S)   # another cortex may be writing now
            if freed:
                log.warning("cortex: removed the temporary files of a killed write of %s (%d bytes)", path, freed)
        self.events = self._read_history()
        learns = [e for e in self.events if e["type"] == "learn"]
        applied = 0
        try:
            doc = json.loads(self.state_path.read_text(encoding="utf-8"))
            model = LinUCB.from_json(doc["model"])
            s = self.settings
            if (model.dim, model.alpha, model.discount, model.change_drop, model.change_threshold) == (
                    s.feature_dim, s.alpha, s.discount, s.change_drop, s.change_threshold) and doc["applied"] <= len(
                    learns):
                self.bandit, applied = model, int(doc["applied"])
                self.index = FeatureIndex(s.feature_dim, doc["features"])
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("cortex: %s unreadable (%s); rebuilding the model from %s", self.state_path, exc,
                        self.history_path)
        for e in learns[applied:]:
            self._apply(e)
        self.learned = [(e["response"], self._x(e), e["reward"]) for e in learns]
        if applied < len(learns):
            self._save(len(learns))
        self.outbox.flush(self.events)
        return self

    def shutdown(self, timeout: float = 0.0) -> None:
        """Nothing pending: every change is on disk when its call returns."""

    def rebuild(self) -> int:
        """A fresh model from every ``learn`` line of the history; how many it replayed."""
        self.bandit, self.index = self._fresh(), FeatureIndex(self.settings.feature_dim)
        learns = [e for e in self.events if e["type"] == "learn"]
        for e in learns:
            self._apply(e)
        self._save(len(learns))
        return len(learns)

    def rebuilt(self) -> dict:
        """``rebuild``, and whether the result equals the model that was stored (``ben replay --cortex``)."""
        before = self.bandit.to_json()
        n = self.rebuild()
        return {"outcomes": n, "history": len(self.events), "same": self.bandit.to_json() == before}

    # -- decisions ------------------------------------------------------------------------------
    def recommend(self, incident: dict, anomalies: list[dict], *, changes: list[dict] = (),
                  now_ns: int | None = None) -> dict:
        """Ranked responses for an incident, explained; excluded ones apart. Each new ranking is a
        history line and an entry in ben's audit log."""
        ctx = from_incident(incident, anomalies, changes)
        x = self.index.vector(ctx)
        cands = {c.response: c for c in self.responses.for_incident(ctx.subsystem, self.policy, now_ns)}
        allowed = [r for r, c in cands.items() if c.mode != "excluded"]
        ranked = self.bandit.rank(x, allowed, ctx.key) if allowed else []
        entries = []
        for i, est in enumerate(ranked):
            entry = {"rank": i + 1, **cands[est.arm].to_json(), "expected_reward": round(est.mean, 4),
                     "uncertainty": round(est.uncertainty, 4), "score": round(est.score, 4),
                     "support": self._support(est.arm, x), "drivers": self._drivers(est.arm, ctx)}
            entries.append(entry)
        if len(ranked) > 1:
            entries[1]["why_lower"] = self._why_lower(ranked[0], ranked[1], ctx)
        out = {"incident": incident.get("id", ""), "model_updates": self.bandit.updates, "ranked": entries,
               "excluded": [c.to_json() for c in cands.values() if c.mode == "excluded"], "context": ctx.values}
        if not cands:  # a heading over nothing (ben explain, the incident page) was all a newcomer saw
            out["note"] = (f"no response for subsystem {ctx.subsystem!r}: no [[subsystems]] match of "
                           f"{self.responses.source} matches it (add one, e.g. match = \"*\")")
        last = next((e for e in reversed(self.events) if e["type"] == "recommendation"
                     and e["incident"] == out["incident"]), None)
        if last is None or last["model_updates"] != out["model_updates"] or last["ranked"] != [
                e["response"] for e in entries]:
            self._append({"type": "recommendation", "incident": out["incident"], "model_updates": out["model_updates"],
                          "ranked": [e["response"] for e in entries], "modes": [e["mode"] for e in entries],
                          "expected": [e["expected_reward"] for e in entries], "context": ctx.to_json()})
        self.outbox.flush(self.events)
        return out

    def accept(self, incident: dict, anomalies: list[dict], response: str = "", *, by: str,
               changes: list[dict] = ()) -> dict:
        """A human accepts the top recommendation (``response`` empty) or picks another offered one;
        returns the candidate and its ``ben command send`` line (empty for advice)."""
        rec = self.recommend(incident, anomalies, changes=changes)
        if not rec["ranked"]:
            raise ConfigError(f"no response is offered for {rec['incident']}", field="RESPONSE")
        top = rec["ranked"][0]["response"]
        response = response or top
        chosen = next((e for e in rec["ranked"] if e["response"] == response), None)
        if chosen is None:
            offered = ", ".join(e["response"] for e in rec["ranked"]) or "none"
            raise ConfigError(f"response {response!r} is not offered for {rec['incident']} (offered: {offered}; "
                              f"excluded ones are refused by the command policy)", field="RESPONSE")
        line = command_line(chosen, rec["incident"]) if chosen["action"] else ""
        self._append({"type": "accept", "incident": rec["incident"], "response": response, "by": by,
                      "recommended": top, "choice": "recommended" if response == top else "other",
                      "mode": chosen["mode"], "command": line,
                      "context": from_incident(incident, anomalies, changes).to_json()})
        self.outbox.flush(self.events)
        return {**chosen, "command": line}

    def dismiss(self, incident: dict, anomalies: list[dict], *, by: str, why: str = "",
                changes: list[dict] = ()) -> dict:
        """A human dismisses the recommendations (nothing is done; no reward: no response was tried)."""
        rec = self.recommend(incident, anomalies, changes=changes)
        event = self._append({"type": "dismiss", "incident": rec["incident"], "by": by, "why": why,
                              "recommended": rec["ranked"][0]["response"] if rec["ranked"] else ""})
        self.outbox.flush(self.events)
        return event

    def accepted_for(self, iid: str) -> dict | None:
        """The incident's latest decision, if it is an accept (a later dismiss withdraws it)."""
        last = next((e for e in reversed(self.events) if e["type"] in ("accept", "dismiss") and e["incident"] == iid),
                    None)
        return last if last is not None and last["type"] == "accept" else None

    def _outcome_learned(self, accepted: dict) -> bool:
        return any(e["type"] == "learn" and e["incident"] == accepted["incident"] and e["seq"] > accepted["seq"]
                   and e["response"] == accepted["response"]
                   and (e.get("by") == "outcome" or e["signals"].get("resolved_in_time") is not None)
                   for e in self.events)

    def _resolution(self, incident: dict, accepted: dict | None, now_ns: int) -> bool | None:
        """Resolved within ``resolve_within_s`` of the accepted response: True; not by then: False;
        still open and within the time, or resolved before the response: None (no signal yet)."""
        if accepted is None:
            return None
        resolved, limit = int(incident.get("resolved_ts") or 0), self.settings.resolve_within_s * 1e9
        if resolved >= accepted["at_ns"]:
            return resolved - accepted["at_ns"] <= limit
        if not resolved and now_ns - accepted["at_ns"] > limit:
            return False
        return None

    def observe(self, incident: dict, anomalies: list[dict], *, commands: list[dict] = (),
                changes: list[dict] = (), now_ns: int | None = None) -> dict | None:
        """The outcome of an accepted response, learned once it is known (no human needed): the
        incident resolved in time or not, and the receipt of the command it led to (an incident
        already resolved when the response was accepted teaches by the receipt alone). None:
        nothing accepted, already learned, or not known yet."""
        accepted = self.accepted_for(incident.get("id", ""))
        if accepted is None or self._outcome_learned(accepted):
            return None
        now_ns = time.time_ns() if now_ns is None else now_ns
        resolved_in_time, receipt = self._resolution(incident, accepted, now_ns), receipt_of(accepted, commands)
        over = resolved_in_time is not None or int(incident.get("resolved_ts") or 0) > 0
        if not over or (resolved_in_time is None and receipt is None):
            return None
        return self._learn(incident, anomalies, changes, response=accepted["response"], verdict=None,
                           resolved_in_time=resolved_in_time, receipt=receipt, by="outcome", now_ns=now_ns)

    def feedback(self, incident: dict, anomalies: list[dict], *, verdict: str | None = None, response: str = "",
                 receipt: str | None = None, commands: list[dict] = (), changes: list[dict] = (), by: str = "",
                 now_ns: int | None = None) -> dict:
        """An operator's verdict on the response to an incident (the accepted one, else ``response``,
        else the top one), with the outcome signals not learned yet (resolution, receipt)."""
        iid = incident.get("id", "")
        accepted = self.accepted_for(iid)
        if response and (accepted is None or response != accepted["response"]):
            known = [c.response for c in self.responses.for_incident(
                from_incident(incident, anomalies, changes).subsystem, self.policy, now_ns)]
            if response not in known:  # a typo was learned as a response of its own, in silence (round 8)
                raise ConfigError(f"response {response[:80]!r} is no response for {iid} (its responses: "
                                  f"{', '.join(known) or 'none'}; ben explain {iid} lists them)", field="--response")
        if not response:
            if accepted is not None:
                response = accepted["response"]
            else:
                rec = self.recommend(incident, anomalies, changes=changes)
                if not rec["ranked"]:
                    raise ConfigError(f"no response is offered for {iid}: nothing to learn", field="ID")
                response = rec["ranked"][0]["response"]
        resolved_in_time = None
        if accepted is not None and accepted["response"] == response and not self._outcome_learned(accepted):
            resolved_in_time = self._resolution(incident, accepted, time.time_ns() if now_ns is None else now_ns)
            if receipt is None:
                receipt = receipt_of(accepted, commands)
        elif accepted is not None and accepted["response"] == response:
            receipt = None      # the outcome already taught its resolution and receipt
        return self._learn(incident, anomalies, changes, response=response, verdict=verdict,
                           resolved_in_time=resolved_in_time, receipt=receipt, by=by, now_ns=now_ns)

    def _learn(self, incident: dict, anomalies: list[dict], changes: list[dict], *, response: str,
               verdict: str | None, resolved_in_time: bool | None, receipt: str | None, by: str,
               now_ns: int | None) -> dict:
        r = reward(verdict=verdict, resolved_in_time=resolved_in_time, receipt=receipt)
        event = self._append({"type": "learn", "incident": incident.get("id", ""), "response": response, "reward": r,
                              "by": by, "signals": {"verdict": verdict, "resolved_in_time": resolved_in_time,
                                                    "receipt": receipt if receipt in RECEIPTS else None},
                              "context": from_incident(incident, anomalies, changes).to_json()}, now_ns=now_ns)
        self._apply(event)
        self.learned.append((response, self._x(event), r))
        self._save(sum(1 for e in self.events if e["type"] == "learn"))
        self.outbox.flush(self.events)
        return event

    # -- explanations ---------------------------------------------------------------------------
    def _support(self, arm: str, x: np.ndarray) -> int:
        nx = float(np.linalg.norm(x)) or 1.0
        return sum(1 for a, y, _ in self.learned if a == arm
                   and float(x @ y) / (nx * (float(np.linalg.norm(y)) or 1.0)) >= self.settings.similar_cosine)

    def _contrib(self, arm: str, ctx: Context) -> dict[str, float]:
        theta, slots = self.bandit.theta(arm), self.index.lookup(ctx.values)
        return {name: v * float(theta[slots[name]]) for name, v in ctx.values.items()}

    def _drivers(self, arm: str, ctx: Context, n: int = 3) -> list[dict]:
        c = self._contrib(arm, ctx)
        top = sorted(c, key=lambda k: (-abs(c[k]), k))[:n]
        return [{"feature": k, "contribution": round(c[k], 4)} for k in top if abs(c[k]) > 1e-6]

    def _why_lower(self, best, alt, ctx: Context) -> str:
        cb, ca = self._contrib(best.arm, ctx), self._contrib(alt.arm, ctx)
        gap = max(ctx.values, key=lambda k: (cb[k] - ca[k], k))
        if alt.mean < best.mean:
            return (f"expected reward {alt.mean:.2f} < {best.mean:.2f} for {best.arm}; the feature that separates "
                    f"them most is {gap} ({cb[gap]:+.2f} vs {ca[gap]:+.2f})")
        return (f"expected reward {alt.mean:.2f} >= {best.mean:.2f}, but {best.arm} is less tried here "
                f"(uncertainty {best.uncertainty:.2f} vs {alt.uncertainty:.2f}): it is explored first")

    # -- storage --------------------------------------------------------------------------------
    def _x(self, event: dict, *, learn: bool = False) -> np.ndarray:
        return self.index.vector(Context.from_json(event["context"]), learn=learn)

    def _apply(self, event: dict) -> None:
        self.bandit.update(event["response"], self._x(event, learn=True), float(event["reward"]),
                           key=Context.from_json(event["context"]).key)

    def _append(self, event: dict, *, now_ns: int | None = None) -> dict:
        fd = os.open(self.history_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)   # one writer at a time (see the module doc); released by close
            self._catch_up(fd)
            event = {"seq": len(self.events) + 1, "at_ns": time.time_ns() if now_ns is None else now_ns, **event}
            line = (json.dumps(event, sort_keys=True) + "\n").encode()
            _append_whole(fd, line, self.history_path)
            self._size += len(line)
        finally:
            os.close(fd)
        self.events.append(event)
        return event

    def _catch_up(self, fd: int) -> None:
        """Take in the lines another cortex on this directory appended since this one read the history (the
        lock held), learning from their ``learn`` lines as the start would."""
        size = os.fstat(fd).st_size
        if size == self._size:
            return
        new = self._parse(os.pread(fd, max(size - self._size, 0), self._size) if size > self._size else b"",
                          first_line=len(self.events) + 1, base=self._size)
        for e in new:
            self.events.append(e)
            if e["type"] == "learn":
                self._apply(e)
                self.learned.append((e["response"], self._x(e), e["reward"]))

    def _read_history(self) -> list[dict]:
        self._size = 0
        try:
            fd = os.open(self.history_path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)   # a tail another cortex is writing is not a torn one
            raw = self.history_path.read_bytes()
            return self._parse(raw, first_line=1, base=0)
        finally:
            os.close(fd)

    def _parse(self, raw: bytes, *, first_line: int, base: int) -> list[dict]:
        """The events of ``raw`` (the history from byte ``base``, line ``first_line``); a torn last line is cut
        off the file (the lock held: no writer is alive in it); ``self._size``: where the good lines end."""
        events, good = [], 0
        lines = raw.splitlines(keepends=True)
        for n, line in enumerate(lines, start=1):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("torn")
                event = json.loads(line)
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    raise ValueError("not an event")
                events.append(event)
                good += len(line)
            except ValueError:
                if n < len(lines):  # lines after it were written (fsynced) later: a damaged line, not a torn write
                    more = len(lines) - n
                    raise ConfigError(f"line {first_line + n - 1} is damaged (not a cortex event) and {more} line"
                                      f"{'s follow' if more > 1 else ' follows'} it: nothing was changed; remove or "
                                      "repair that line",
                                      source=str(self.history_path)) from None
                log.warning("cortex: dropping a torn last line of %s (%d bytes)", self.history_path, len(raw) - good)
                with open(self.history_path, "r+b") as f:
                    f.truncate(base + good)
                break
        self._size = base + good
        return events

    def _save(self, applied: int) -> None:
        """The model after the history's lines: a cache of them (replayed at start past ``applied``). Not written
        (a full disk) is a warning: the line is in the history, and a failure here had the user give the same
        verdict again, learned twice."""
        try:
            write_atomic(self.state_path, json.dumps({"applied": applied, "model": self.bandit.to_json(),
                                                      "features": self.index.to_json()}).encode(), 0o600)
        except OSError as exc:
            log.warning("cortex: %s not saved (%s); what it holds is in the history and is learned again from it "
                        "at the next start", self.state_path, exc.strerror or exc)


def receipt_of(accepted: dict, commands: list[dict]) -> str | None:
    """The state of the command an accepted response led to (the incident's latest command of that
    action sent after the accept), if it has a receipt (``RECEIPTS``)."""
    action = accepted["command"].split()[3] if accepted.get("command") else ""
    sent = [c for c in commands if action and c.get("action") == action
            and int(c.get("updated_ts") or 0) >= accepted["at_ns"] and c.get("state") in RECEIPTS]
    return sent[-1]["state"] if sent else None


def command_line(entry: dict, incident_id: str) -> str:
    """The exact ``ben command send`` line of a command response (shell-quoted)."""
    import shlex

    parts = ["ben", "command", "send", entry["action"], "--target", entry["target"]]
    for k, v in sorted(entry["params"].items()):
        parts += ["--param", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    parts += ["--incident", incident_id, "--reason", f"cortex recommendation {entry['response']} for {incident_id}"]
    return " ".join(shlex.quote(p) for p in parts)


def _append_whole(fd: int, line: bytes, path: Path) -> None:
    """Append ``line`` whole and synced, or nothing (the flock held). On a nearly full disk one ``os.write`` wrote
    part of a line and said nothing: the event was taken as learned, and the next append, once there was room,
    followed the torn part, a damaged line *inside* the history that stops every later start. A part written is
    cut off again and the failure named."""
    end = os.lseek(fd, 0, os.SEEK_END)
    view = memoryview(line)
    try:
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError as exc:
        try:
            os.ftruncate(fd, end)
        except OSError:
            pass
        raise StorageError(f"{path}: cannot append to the cortex's history: {exc.strerror or exc} (nothing was "
                           "recorded or learned; free some space and run it again)") from None
