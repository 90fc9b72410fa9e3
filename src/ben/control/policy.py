"""Bounded autonomy as policy-as-code: per action, the limits a human set.

A TOML file (validated at start; errors name the file and the rule)::

    kill_switch = false          # true: every automation command is refused

    [actions.throttle_job]
    targets = ["batch-*"]        # glob patterns of allowed targets
    blast_radius = 3             # distinct targets per window, at most
    rate = 10                    # commands per window, at most
    window_s = 3600
    breaker_failures = 3         # this many failed/refused receipts in a row open the circuit breaker
                                 # (refusals by the bounds themselves - rate, kill switch... - do not count)
    breaker_cooldown_s = 600     # ... for this long
    require_approval = false     # true: every command of this action waits for a human's approval
    require_distinct_approver = false  # true: ... for the approval of another person than its signer

An action not listed is refused. ``Limits.check`` is pure: it gets the recent history and
says which bound (if any) a new command would break, with the reason code
``wrong_target``, ``over_rate``, ``over_blast_radius`` or ``breaker_open``.
"""

from __future__ import annotations

import bisect
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ben.control._toml import load_model
from ben.control.documents import ACTION_RE
from ben.core.errors import PolicyError


#: A window or cooldown of more than a year is a typo (in seconds: 31,536,000).
MAX_WINDOW_S = 365 * 24 * 3600


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ActionRule(_Strict):
    """Policy for one action: allowed targets, blast radius, rate, circuit breaker and approvals."""

    targets: list[str] = Field(min_length=1)
    blast_radius: int = Field(default=1, ge=1)
    rate: int = Field(default=10, ge=1)
    window_s: int = Field(default=3600, ge=1, le=MAX_WINDOW_S)
    breaker_failures: int = Field(default=3, ge=1)
    breaker_cooldown_s: int = Field(default=600, ge=1, le=MAX_WINDOW_S)
    require_approval: bool = False
    #: Two-person rule: every command of this action waits for the approval of a key other than
    #: the one that signed it (implies require_approval).
    require_distinct_approver: bool = False

    @field_validator("targets")
    @classmethod
    def _patterns(cls, targets: list[str]) -> list[str]:
        for pattern in targets:  # "" matched only an empty target: the action was allowed nowhere, in silence
            if not pattern.strip():
                raise ValueError(f"an empty target pattern {pattern!r} matches no target (\"*\" matches every one)")
        return targets

    @model_validator(mode="after")
    def _consistent(self) -> ActionRule:
        if self.blast_radius > self.rate:  # the rate reaches fewer targets than the radius promises
            raise ValueError(f"blast_radius = {self.blast_radius} is more than rate = {self.rate}: {self.rate} "
                             f"commands per window reach at most {self.rate} targets (set blast_radius <= rate)")
        return self


class PolicyModel(_Strict):
    """The policy file as validated: the kill switch and one rule per action."""

    kill_switch: bool = False
    actions: dict[str, ActionRule] = Field(default_factory=dict)

    @field_validator("actions")
    @classmethod
    def _names(cls, actions: dict[str, ActionRule]) -> dict[str, ActionRule]:
        for name in actions:
            if not ACTION_RE.fullmatch(name):
                raise ValueError(f"action name {name!r} must match {ACTION_RE.pattern}")
        return actions


@dataclass(frozen=True)
class Past:
    """A command already let through (for rate and blast radius) and how it ended (for the breaker)."""

    action: str
    target: str
    at_ns: int
    outcome: str = ""   # "", "accepted", "refused", "failed"


class Policy:
    """The policy in force: decides whether a command may run (targets, rate, blast radius, breaker, approvals)."""

    def __init__(self, model: PolicyModel, source: str = "policy"):
        self.model = model
        self.source = source

    @classmethod
    def load(cls, path: Path | str) -> Policy:
        from ben.core.files import check_trusted

        check_trusted(Path(path), "control.policy")  # another account able to write it could lift every limit
        return cls(load_model(Path(path), PolicyModel, "policy"), source=str(path))

    @classmethod
    def empty(cls) -> Policy:
        return cls(PolicyModel(), source="(no policy configured)")

    @property
    def kill_switch(self) -> bool:
        return self.model.kill_switch

    def rule(self, action: str) -> ActionRule:
        rule = self.model.actions.get(action)
        if rule is None:
            raise PolicyError(f"action {action!r} has no rule in the policy ({self.source}): refused",
                              reason="action_not_allowed")
        return rule

    def check(self, action: str, target: str, now_ns: int, history: list[Past] | Releases) -> None:
        """Raise PolicyError naming the bound a new command would break; history: commands let through."""
        rule = self.rule(action)
        where = f"rule [actions.{action}] in {self.source}"
        if not any(fnmatch.fnmatchcase(target, p) for p in rule.targets):
            raise PolicyError(f"target {target!r} is not among the allowed targets {rule.targets} ({where})",
                              reason="wrong_target")
        if not isinstance(history, Releases):
            history = Releases.of(history)
        window_start = now_ns - rule.window_s * 10**9
        recent = history.count_since(action, window_start)
        if recent + 1 > rule.rate:
            raise PolicyError(f"over rate: {recent} {action} commands in the last {rule.window_s} s, at most "
                              f"{rule.rate} ({where})", reason="over_rate")
        targets = history.targets_since(action, window_start) | {target}
        if len(targets) > rule.blast_radius:
            raise PolicyError(f"over blast radius: {action} would reach {len(targets)} targets in {rule.window_s} s, "
                              f"at most {rule.blast_radius} ({where})", reason="over_blast_radius")
        tail = history.last_ended(action, rule.breaker_failures)
        if (len(tail) == rule.breaker_failures and all(p.outcome in BREAKER_OUTCOMES for p in tail)
                and tail[-1].at_ns >= now_ns - rule.breaker_cooldown_s * 10**9):
            raise PolicyError(f"circuit breaker open: the last {rule.breaker_failures} {action} commands failed or "
                              f"were refused; it closes {rule.breaker_cooldown_s} s after the last ({where})",
                              reason="breaker_open")


#: Outcomes that count toward the circuit breaker: a handler that raised, and a command the
#: sidecar refused after the spine let it through (no handler, bad parameters, the subsystem gone...).
BREAKER_OUTCOMES = ("refused", "failed")


class _Track:
    def __init__(self) -> None:
        self.times: list[int] = []                   # release times, sorted
        self.last_by_target: dict[str, int] = {}     # target -> latest release time
        self.ended: list[tuple[int, str, str]] = []  # (release time, key, outcome), sorted


class Releases:
    """Commands let through, per action, indexed for the three questions ``Policy.check`` asks
    (how many since t, which targets since t, the last n that ended) in O(log n) + the answer."""

    def __init__(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._ended_keys: set[str] = set()

    @classmethod
    def of(cls, history: list[Past]) -> Releases:
        out = cls()
        for i, past in enumerate(history):
            out.add(str(i), past.action, past.target, past.at_ns, past.outcome)
        return out

    def add(self, key: str, action: str, target: str, at_ns: int, outcome: str = "") -> None:
        track = self._tracks.setdefault(action, _Track())
        bisect.insort(track.times, at_ns)
        if track.last_by_target.get(target, -1) < at_ns:
            track.last_by_target[target] = at_ns
        if outcome:
            self.ended(key, action, at_ns, outcome)

    def ended(self, key: str, action: str, at_ns: int, outcome: str) -> None:
        """A command let through at ``at_ns`` ended with ``outcome`` (once per key)."""
        if key in self._ended_keys:
            return
        self._ended_keys.add(key)
        bisect.insort(self._tracks.setdefault(action, _Track()).ended, (at_ns, key, outcome))

    def count_since(self, action: str, since_ns: int) -> int:
        track = self._tracks.get(action)
        return 0 if track is None else len(track.times) - bisect.bisect_left(track.times, since_ns)

    def targets_since(self, action: str, since_ns: int) -> set[str]:
        track = self._tracks.get(action)
        return set() if track is None else {t for t, at in track.last_by_target.items() if at >= since_ns}

    def last_ended(self, action: str, n: int) -> list[Past]:
        track = self._tracks.get(action)
        tail = [] if track is None else track.ended[-n:]
        return [Past(action, "", at, outcome) for at, _, outcome in tail]
