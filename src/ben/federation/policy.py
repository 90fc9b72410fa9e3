"""The federation policy (policy-as-code): which facts of an incident leave the cluster, and how.

A summary is built only from these facts; none of them is free-form (no narrative, no series name,
no attribute value, no log text, no host name). Each fact is either left out (not listed), left as
it is (``leave``, only for facts that are already classes), pseudonymised (``pseudonymise``:
HMAC-SHA256 with the federation key, the same value gives the same pseudonym, not reversible
without the key) or generalised (``generalise``: times to the minute, magnitudes to classes,
durations to buckets). ``min_group_size``: a summary is held back until at least that many local
incidents share its signature (subsystem class, detector, direction, magnitude class).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ben.control._toml import load_model
from ben.core.errors import ConfigError
from ben.core.files import create_once, read_input

log = logging.getLogger(__name__)

#: fact -> the treatments it allows.
TREATMENTS: dict[str, tuple[str, ...]] = {
    "change": ("leave",), "state": ("leave",), "severity": ("leave",), "detector": ("leave",),
    "direction": ("leave",), "anomalies": ("leave",), "subsystem_class": ("leave",),
    "incident": ("pseudonymise",), "subsystem": ("pseudonymise",),
    "opened": ("generalise",), "resolved": ("generalise",), "magnitude": ("generalise",),
    "duration": ("generalise",),
}
DEFAULT_LEAVE = ["change", "state", "severity", "detector", "direction", "anomalies", "subsystem_class"]
DEFAULT_PSEUDONYMISE = ["incident", "subsystem"]
DEFAULT_GENERALISE = ["opened", "resolved", "magnitude", "duration"]

MAGNITUDE_CLASSES = ((1.5, "<1.5x"), (3.0, "1.5-3x"), (10.0, "3-10x"))  # ratio upper bound -> class; else ">10x"
DURATION_BUCKETS = ((300, "<5m"), (1800, "5-30m"), (7200, "30m-2h"), (43200, "2-12h"))  # seconds; else ">12h"
MINUTE_NS = 60 * 10**9


class PolicyFile(BaseModel):
    """The TOML file: ``version = 1``, ``leave``/``pseudonymise``/``generalise`` lists of facts,
    ``min_group_size``, ``[classes]`` subsystem -> operator-declared class (e.g. postgres, nginx),
    ``export_notes`` (baseline export: label notes leave only if true)."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(default=1, ge=1, le=1)
    leave: list[str] = Field(default_factory=lambda: list(DEFAULT_LEAVE))
    pseudonymise: list[str] = Field(default_factory=lambda: list(DEFAULT_PSEUDONYMISE))
    generalise: list[str] = Field(default_factory=lambda: list(DEFAULT_GENERALISE))
    min_group_size: int = Field(default=1, ge=1, le=1000)
    classes: dict[str, str] = Field(default_factory=dict)
    #: ``ben baseline export``: the operator's free-form label notes leave only if this is true.
    export_notes: bool = False

    @model_validator(mode="after")
    def _known(self) -> PolicyFile:
        seen: set[str] = set()
        for treatment in ("leave", "pseudonymise", "generalise"):
            for fact in getattr(self, treatment):
                allowed = TREATMENTS.get(fact)
                if allowed is None:
                    raise ValueError(f"{treatment}: unknown fact {fact!r} (known: {', '.join(sorted(TREATMENTS))})")
                if treatment not in allowed:
                    raise ValueError(f"{treatment}: {fact!r} may only be {' or '.join(allowed)}d "
                                     "(it could identify a host, a service or a person otherwise)")
                if fact in seen:
                    raise ValueError(f"{treatment}: {fact!r} is listed twice")
                seen.add(fact)
        for name, cls in self.classes.items():
            if not cls.replace("-", "").replace("_", "").isalnum() or len(cls) > 32:
                raise ValueError(f"classes.{name}: a class is a short word (letters, digits, '-', '_')")
        return self


@dataclass(frozen=True)
class Facts:
    """What the spine knows of one incident change, before the policy applies."""

    incident_id: str
    change: str           # opened | escalated | resolved
    subsystem: str
    state: str
    severity: str
    detector: str         # the lead anomaly's first detector
    direction: str        # up | down
    ratio: float          # observed / baseline of the lead anomaly (>= 1: the larger of the two ways)
    opened_ns: int
    resolved_ns: int      # 0 while open
    anomalies: int


def magnitude_class(ratio: float) -> str:
    for bound, name in MAGNITUDE_CLASSES:
        if ratio < bound:
            return name
    return ">10x"


def duration_bucket(seconds: float | None) -> str:
    if seconds is None:
        return "ongoing"
    for bound, name in DURATION_BUCKETS:
        if seconds < bound:
            return name
    return ">12h"


@dataclass
class Policy:
    """What this cluster shares with others: pseudonyms (keyed HMAC) and subsystem classes."""

    rules: PolicyFile = field(default_factory=PolicyFile)
    key: bytes = b""
    source: str = "default policy"

    def pseudonym(self, kind: str, value: str) -> str:
        return "p-" + hmac.new(self.key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:20]

    def subsystem_class(self, subsystem: str) -> str:
        return self.rules.classes.get(subsystem, "other")

    def signature(self, facts: Facts) -> tuple[str, str, str, str]:
        """What min_group_size groups by."""
        return (self.subsystem_class(facts.subsystem), facts.detector, facts.direction, magnitude_class(facts.ratio))

    def apply(self, facts: Facts) -> dict:
        """The anonymised body of a summary: only what the policy lets leave (ints and strings)."""
        r = self.rules
        out: dict = {}
        leave = {"change": facts.change, "state": facts.state, "severity": facts.severity,
                 "detector": facts.detector, "direction": facts.direction, "anomalies": int(facts.anomalies),
                 "subsystem_class": self.subsystem_class(facts.subsystem)}
        for fact in r.leave:
            out[fact] = leave[fact]
        for fact in r.pseudonymise:
            out[fact] = self.pseudonym(fact, facts.incident_id if fact == "incident" else facts.subsystem)
        duration = (facts.resolved_ns - facts.opened_ns) / 1e9 if facts.resolved_ns else None
        general = {"opened": facts.opened_ns // MINUTE_NS * 60, "resolved": facts.resolved_ns // MINUTE_NS * 60,
                   "magnitude": magnitude_class(facts.ratio), "duration": duration_bucket(duration)}
        for fact in r.generalise:
            out[fact] = general[fact]
        return out


def load_key(path: Path) -> bytes:
    """The pseudonymisation key: created (32 random bytes, 0600) at first start; refused if others can read it."""
    path = Path(path)
    if path.exists() and path.stat().st_size == 0:   # made by a start killed before it wrote the key (the old
        log.warning("federation: %s is empty (a start was killed making it); a new key is made", path)  # code):
        path.unlink()                                 # nothing was ever pseudonymised with it
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_once(path, os.urandom(32).hex().encode() + b"\n", 0o600)   # whole or not at all
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"federation key is accessible by others (mode {stat.S_IMODE(mode):o}); chmod 600 it",
                          source=str(path), field="pseudonym_key")
    try:
        data = read_input(path).strip()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=str(path), field="pseudonym_key") from None
    if len(data) < 32:
        raise ConfigError("federation key too short (want at least 32 bytes)", source=str(path), field="pseudonym_key")
    return data


def load_policy(policy_path: Path | None, key_path: Path) -> Policy:
    rules = load_model(policy_path, PolicyFile, "federation policy") if policy_path else PolicyFile()
    return Policy(rules=rules, key=load_key(key_path), source=str(policy_path or "default policy"))
