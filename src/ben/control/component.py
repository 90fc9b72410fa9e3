"""What spine and sidecar share: the control database, the component's key, trust, policy, audit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ben.control.audit import AuditLog, Verdict
from ben.control.db import ControlDb
from ben.control.keys import Signer, load_or_create, load_signer, public_from_text
from ben.control.policy import Policy
from ben.control.trust_store import TrustStore
from ben.control.verify import Verifier
from ben.core.config import ControlConfig
from ben.core.errors import ConfigError

log = logging.getLogger(__name__)


def control_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "control"


def component_signer(cfg: ControlConfig, data_dir: Path, name: str) -> Signer:
    return load_signer(cfg.key) if cfg.key else load_or_create(control_dir(data_dir), name)


def component_public(data_dir: Path, name: str, key: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """The public key a component signs its audit entries with (its .pub file), by key id."""
    from ben.control.keys import key_id

    pub = (key.with_suffix(".pub") if key else control_dir(data_dir) / f"{name}.pub")
    if not pub.exists():
        return {}
    public = public_from_text(pub.read_text(), source=str(pub), field="(file)")
    return {key_id(public.public_bytes_raw()): public}


def check_files(cfg: ControlConfig, section: str = "") -> None:
    """Load (validate) the trust store, the policy and a configured key; ConfigError naming file and field.

    Components call this first thing at start, before opening anything, so a bad file stops
    them cleanly. ``section`` ("spine", "sidecar") names the config key in the error: "in /etc/ben/x: key file
    not found" was said alike of ``control.key`` and ``control.audit_key_file`` (ADR 0033, round 13).
    """
    for key, load in (("trust", TrustStore.load), ("policy", Policy.load), ("key", load_signer),
                      ("audit_key_file", load_signer)):
        path = getattr(cfg, key)
        if not path:
            continue
        try:
            load(path)
        except ConfigError as exc:
            if exc.field is not None or not section:
                raise
            message = str(exc).removeprefix(f"in {exc.source}: ") if exc.source else str(exc)
            raise ConfigError(message, source=exc.source, field=f"{section}.control.{key}") from None


class ControlBase:
    """Opened at start, closed at shutdown; trust and policy loaded (and validated) at start."""

    def __init__(self, cfg: ControlConfig, data_dir: Path, name: str):
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.name = name
        self.signer = component_signer(cfg, data_dir, name)
        #: Signs the audit entries: ``audit_key_file`` (outside the data dir) or the component's key.
        self.audit_signer = load_signer(cfg.audit_key_file) if cfg.audit_key_file else self.signer
        self._trust_stamp = self._stamp()
        self.trust = TrustStore.load(cfg.trust) if cfg.trust else TrustStore.empty()
        self.policy = Policy.load(cfg.policy) if cfg.policy else None
        self.verifier = Verifier(self.trust, cfg.clock_skew_ms, cfg.max_ttl_s, refresh=self.reload_trust)
        self.db = ControlDb(control_dir(data_dir) / "db")
        self.audit: AuditLog | None = None

    def _stamp(self) -> tuple[int, ...] | None:
        """What tells a changed trust store: its inode too (ADR 0045, round 8). A file's times move by the
        kernel's clock tick (milliseconds), so a store replaced by a rename (``ben keys trust``, an editor)
        within one tick, at the same size (one key's line for another's), kept its stamp: the revoked key
        went on verifying until the next change."""
        try:
            st = Path(self.cfg.trust).stat() if self.cfg.trust else None
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size) if st else None

    def reload_trust(self) -> bool:
        """Read the trust store again if its file changed (e.g. ``ben keys trust`` pinned a sidecar);
        a file that no longer loads is logged and the store in force is kept."""
        stamp = self._stamp()
        if stamp is None or stamp == self._trust_stamp:
            return False
        self._trust_stamp = stamp
        try:
            self.trust = TrustStore.load(self.cfg.trust)
        except Exception as exc:
            log.error("control: the trust store changed but does not load (%s); keeping the one in force", exc)
            return False
        self.verifier.trust = self.trust
        log.info("control: trust store %s reloaded", self.cfg.trust)
        return True

    def audit_keys(self) -> dict[str, Ed25519PublicKey]:
        return {self.audit_signer.id: self.audit_signer.public}

    def verify_local(self) -> Verdict:
        return self.audit.verify(self.audit_keys())

    def audit_entries_json(self, after: int = 0) -> str:
        return json.dumps([e.row() for e in self.audit.entries(after)])

    def close(self) -> None:
        self.db.close()
