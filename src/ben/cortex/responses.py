"""Candidate responses as policy-as-code: per subsystem (glob), what ben may recommend.

A TOML file (validated when loaded; errors name the file and the field)::

    [[subsystems]]
    match = "batch-*"                     # glob over incident subsystems; the first match wins
    responses = ["watch", "page:data-oncall", "cmd:throttle"]

    [commands.throttle]
    action = "throttle_job"               # a control-plane action (set_mode, quarantine_artifact, custom...)
    target = "{subsystem}"                # template: {subsystem} is the incident's subsystem
    params = { job = "etl", rate_per_s = 10 }   # checked as `ben command send --param` checks them
    destructive = false                   # default: true for quarantine_artifact, false otherwise

A response is ``watch``, ``page:<team>`` or ``cmd:<name>`` (a template above). ``Candidates.for_incident``
says, per response, its mode against the command policy (``ben.control.policy``): ``advice``
(watch, page), ``automatic`` (a command the policy lets through without a human), ``proposal``
(destructive, or the policy wants an approval) or ``excluded`` (the policy refuses it: never offered,
never explored).
"""

from __future__ import annotations

import fnmatch
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ben.control._toml import load_model
from ben.control.documents import ACTION_RE, TARGET_RE
from ben.core.errors import PolicyError

TEAM_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}\Z")
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
#: Actions that are destructive unless the file says otherwise: only ever proposals.
DESTRUCTIVE_ACTIONS = frozenset({"quarantine_artifact"})
MODES = ("advice", "automatic", "proposal", "excluded")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CommandTemplate(_Strict):
    """A command the cortex may propose: action, target and parameters (``{subsystem}`` filled in)."""

    action: str
    target: str = "{subsystem}"
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    destructive: bool | None = None

    @field_validator("action")
    @classmethod
    def _action(cls, v: str) -> str:
        if not ACTION_RE.fullmatch(v):
            raise ValueError(f"action {v!r} must match {ACTION_RE.pattern}")
        return v

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        if not TARGET_RE.fullmatch(v.replace("{subsystem}", "x")):
            raise ValueError(f"target {v!r}: letters, digits, '.', '_', '-' and the placeholder {{subsystem}} only")
        return v

    @property
    def is_destructive(self) -> bool:
        return self.action in DESTRUCTIVE_ACTIONS if self.destructive is None else self.destructive


class Route(_Strict):
    """Which responses the cortex may choose for subsystems matching a pattern."""

    match: str = Field(min_length=1)
    responses: list[str] = Field(min_length=1)

    @field_validator("responses")
    @classmethod
    def _responses(cls, v: list[str]) -> list[str]:
        for r in v:
            kind, _, arg = r.partition(":")
            if r == "watch" or (kind == "page" and TEAM_RE.fullmatch(arg)) or (
                    kind == "cmd" and NAME_RE.fullmatch(arg)):
                continue
            raise ValueError(f"response {r!r}: expected 'watch', 'page:<team>' (team: lower-case letters, digits, "
                             "'_', '.', '-'; up to 64) or 'cmd:<name>' (name: a [commands.<name>] of lower-case "
                             "letters, digits and '_')")
        if len(set(v)) != len(v):
            raise ValueError("a response is listed twice")
        return v


class ResponsesModel(_Strict):
    """The responses file as validated: routes per subsystem and the command templates they name."""

    # Commands first: they are validated before the routes that name them, and each check's error names its
    # field (a check of the whole model was "field '(top level)'").
    commands: dict[str, CommandTemplate] = Field(default_factory=dict)
    subsystems: list[Route] = Field(min_length=1)

    @field_validator("commands")
    @classmethod
    def _commands(cls, v: dict[str, CommandTemplate]) -> dict[str, CommandTemplate]:
        from ben.control.actions import coerce_params
        from ben.core.errors import ControlError

        for name, tpl in v.items():
            if not NAME_RE.fullmatch(name):  # no response could name it ('cmd:<name>'): taken in silence
                raise ValueError(f"[commands.{name[:64]}]: a name is lower-case letters, digits and '_', starting "
                                 "with a letter (it is named as 'cmd:<name>')")
            try:   # the parameters a built-in action needs, typed as `ben command send` would
                coerce_params(tpl.action, {k: str(v).lower() if isinstance(v, bool) else str(v)
                                           for k, v in tpl.params.items()})
            except ControlError as exc:
                raise ValueError(f"commands.{name}.params: {exc}") from None
        return v

    @field_validator("subsystems")
    @classmethod
    def _known(cls, v: list[Route], info: ValidationInfo) -> list[Route]:
        commands = info.data.get("commands")
        if commands is None:  # the commands were refused: that error is the one said
            return v
        for i, route in enumerate(v):
            for r in route.responses:
                if r.startswith("cmd:") and r[4:] not in commands:
                    raise ValueError(f"subsystems[{i}].responses: {r!r} names no [commands.{r[4:]}]")
        return v


@dataclass(frozen=True)
class Candidate:
    """One response for one incident: what it is, the command it would be, and its mode."""

    response: str
    mode: str
    action: str = ""
    target: str = ""
    params: dict = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict:
        return {"response": self.response, "mode": self.mode, "action": self.action, "target": self.target,
                "params": dict(self.params), "note": self.note}


class Responses:
    """The loaded file; ``for_incident`` gives the candidates of one incident, checked against the policy."""

    def __init__(self, model: ResponsesModel, source: str = "responses"):
        self.model = model
        self.source = source

    @classmethod
    def load(cls, path: Path | str) -> Responses:
        return cls(load_model(Path(path), ResponsesModel, "responses"), source=str(path))

    @classmethod
    def default(cls) -> Responses:
        return cls(ResponsesModel(subsystems=[Route(match="*", responses=["watch"])]), source="(default: watch)")

    def arms(self) -> list[str]:
        """Every response any subsystem may get, in file order (the bandit's arms)."""
        seen: dict[str, None] = {}
        for route in self.model.subsystems:
            seen.update(dict.fromkeys(route.responses))
        return list(seen)

    def for_incident(self, subsystem: str, policy=None, now_ns: int | None = None) -> list[Candidate]:
        """The candidates for an incident of ``subsystem``; ``policy``: a ``ben.control.policy.Policy``
        (None: no command policy, so no command is automatic)."""
        route = next((r for r in self.model.subsystems if fnmatch.fnmatchcase(subsystem, r.match)), None)
        if route is None:
            return []
        out = []
        for r in route.responses:
            if not r.startswith("cmd:"):
                out.append(Candidate(response=r, mode="advice"))
                continue
            tpl = self.model.commands[r[4:]]
            target = tpl.target.replace("{subsystem}", subsystem)
            if TARGET_RE.fullmatch(target):
                mode, note = _mode(tpl, target, policy, time.time_ns() if now_ns is None else now_ns)
            else:  # a subsystem an application named ("batch-a/../b", "batch-ｅｔｌ "): the policy's "batch-*" took it
                mode, note = "excluded", (f"target {target[:80]!r} is no command target (letters, digits, '.', '_' "
                                          f"and '-', 1 to 128): the incident's subsystem cannot be one")
            out.append(Candidate(response=r, mode=mode, action=tpl.action, target=target, params=dict(tpl.params),
                                 note=note))
        return out


def _mode(tpl: CommandTemplate, target: str, policy, now_ns: int) -> tuple[str, str]:
    if policy is None:
        return "excluded", "no command policy configured: commands are refused"
    if policy.kill_switch:
        return "excluded", "the command policy's kill switch is on"
    try:
        policy.check(tpl.action, target, now_ns, [])
        rule = policy.rule(tpl.action)
    except PolicyError as exc:
        return "excluded", f"the command policy refuses it: {exc}"
    if tpl.is_destructive:
        return "proposal", "destructive: only ever a proposal a human approves"
    if rule.require_approval or rule.require_distinct_approver:
        return "proposal", "the command policy wants a human's approval"
    return "automatic", "the command policy lets it through"
