"""The trust store: which public keys ben trusts, their roles, and what each role may sign for.

A TOML file::

    [roles.operator]
    kind = "human"                 # "human" or "automation"
    actions = ["*"]                # glob patterns of actions this role may sign
    targets = ["*"]                # glob patterns of targets
    approve = true                 # may approve/refuse proposals and flip the kill switch

    [roles.automation]
    kind = "automation"
    actions = ["throttle_job"]
    targets = ["batch-*"]

    [[keys]]
    name = "alice"
    role = "operator"
    public_key = "base64 of the 32-byte Ed25519 public key (the .pub file)"

    [[sidecars]]                   # the spine takes commands' receipts only from pinned sidecars
    id = "web-1"
    public_key = "base64 of the sidecar's key (<data_dir>/control/sidecar.pub)"
    targets = ["web-*"]            # optional: the only targets it may take commands for (default: any)

Each key's id is computed from its public key. Every check raises ``SignatureError`` with the
reason code a receipt carries: ``unknown_key``, ``wrong_role``, ``wrong_target``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ben.control._toml import load_model
from ben.control.keys import key_id, public_from_text, public_text
from ben.core.errors import ConfigError, SignatureError

NAME = r"^[A-Za-z0-9._-]{1,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RoleModel(_Strict):
    """A role in the trust store: human or automation, the actions and targets it may sign, whether it may approve."""

    kind: Literal["human", "automation"]
    actions: list[str] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    approve: bool = False

    @field_validator("actions", "targets")
    @classmethod
    def _patterns(cls, values: list[str]) -> list[str]:
        for v in values:
            if not v or any(c.isspace() for c in v):
                raise ValueError(f"{v!r} is not a glob pattern")
        return values


class KeyModel(_Strict):
    """A trusted public key and the role it signs under."""

    name: str = Field(pattern=NAME)
    role: str = Field(pattern=NAME)
    public_key: str
    id: str | None = None  # optional: if given, must match the public key


class SidecarModel(_Strict):
    """A sidecar's receipt key, by sidecar id, and the targets it may take commands for (None: any)."""

    id: str = Field(pattern=NAME)
    public_key: str  # the sidecar's receipt key (its <data_dir>/control/sidecar.pub)
    # Commands go to a sidecar that announces their target; any pinned sidecar could announce another's
    # subsystems and take their commands, answering for them (ADR 0045, round 14).
    targets: list[str] | None = Field(default=None, min_length=1)

    @field_validator("targets")
    @classmethod
    def _patterns(cls, values: list[str] | None) -> list[str] | None:
        return values if values is None else RoleModel._patterns(values)


class TrustModel(_Strict):
    """The trust store file as validated: roles, keys and sidecars."""

    roles: dict[str, RoleModel] = Field(default_factory=dict)
    keys: list[KeyModel] = Field(default_factory=list)
    sidecars: list[SidecarModel] = Field(default_factory=list)


@dataclass(frozen=True)
class Trusted:
    """A key the trust store trusts, with its role resolved."""

    id: str
    name: str
    role_name: str
    role: RoleModel
    public: Ed25519PublicKey

    @property
    def human(self) -> bool:
        return self.role.kind == "human"


def _matches(value: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


class TrustStore:
    """The trust store in force: trusted keys by id, sidecar receipt keys; errors name the field."""

    def __init__(self, model: TrustModel, source: str = "trust store"):
        self.source = source
        self.keys: dict[str, Trusted] = {}
        for i, entry in enumerate(model.keys):
            where = f"keys[{i}]"
            if entry.role not in model.roles:
                raise ConfigError(f"role {entry.role!r} is not defined under [roles]", source=source,
                                  field=f"{where}.role")
            public = public_from_text(entry.public_key, source=source, field=f"{where}.public_key")
            kid = key_id(public.public_bytes_raw())
            if entry.id is not None and entry.id != kid:
                raise ConfigError(f"id {entry.id!r} does not match the public key (its id is {kid})", source=source,
                                  field=f"{where}.id")
            if kid in self.keys:
                raise ConfigError(f"the same public key is listed twice ({kid})", source=source, field=where)
            self.keys[kid] = Trusted(kid, entry.name, entry.role, model.roles[entry.role], public)
        #: Pinned sidecar receipt keys: sidecar id -> public key text (base64).
        self.sidecars: dict[str, str] = {}
        #: The targets a pinned sidecar may take commands for: sidecar id -> glob patterns (None: any).
        self.sidecar_targets: dict[str, list[str] | None] = {}
        for i, pin in enumerate(model.sidecars):
            where = f"sidecars[{i}]"
            public = public_from_text(pin.public_key, source=source, field=f"{where}.public_key")
            if pin.id in self.sidecars:
                raise ConfigError(f"sidecar {pin.id!r} is pinned twice", source=source, field=f"{where}.id")
            self.sidecars[pin.id] = public_text(public)
            self.sidecar_targets[pin.id] = pin.targets

    @classmethod
    def load(cls, path: Path | str) -> TrustStore:
        from ben.core.files import check_trusted

        check_trusted(Path(path), "control.trust")  # another account able to write it could trust its own key
        return cls(load_model(Path(path), TrustModel, "trust store"), source=str(path))

    @classmethod
    def empty(cls) -> TrustStore:
        return cls(TrustModel(), source="(no trust store configured)")

    def key(self, kid: str) -> Trusted:
        found = self.keys.get(kid)
        if found is None:
            raise SignatureError(f"key {kid[:40]!r} is not in the trust store ({self.source})", reason="unknown_key")
        return found

    def authorize(self, kid: str, action: str, target: str) -> Trusted:
        """The key, if its role may sign this action on this target."""
        trusted = self.key(kid)
        if not _matches(action, trusted.role.actions):
            raise SignatureError(f"key {trusted.name} ({kid}) has role {trusted.role_name!r}, which may not sign "
                                 f"action {action!r}", reason="wrong_role")
        if not _matches(target, trusted.role.targets):
            raise SignatureError(f"key {trusted.name} ({kid}) has role {trusted.role_name!r}, which may not act on "
                                 f"target {target!r}", reason="wrong_target")
        return trusted

    def pinned_targets(self, sidecar_id: str, announced: set[str]) -> tuple[set[str], list[str]]:
        """The targets of ``announced`` this sidecar may take commands for, and the others (sorted)."""
        patterns = self.sidecar_targets.get(sidecar_id)
        if patterns is None:
            return set(announced), []
        kept = {t for t in announced if _matches(t, patterns)}
        return kept, sorted(announced - kept)

    def approver(self, kid: str) -> Trusted:
        """The key, if it is a human's allowed to approve (and to flip the kill switch)."""
        trusted = self.key(kid)
        if not (trusted.human and trusted.role.approve):
            raise SignatureError(f"key {trusted.name} ({kid}) has role {trusted.role_name!r}, which may not approve "
                                 "(needs kind = \"human\" and approve = true)", reason="wrong_role")
        return trusted
