"""The command contract's names and limits: what an action, a target, an id may look like.

Shared by the signing side (:mod:`ben.control.documents`), the policy and the SDK, which checks an
action name when a handler is registered; this module imports nothing, so the SDK reaches the
contract without loading signing code (keys, canonical documents, ``cryptography``).

Every pattern is applied with ``fullmatch`` (and ends in ``\\Z``): ``$`` would also match before a
trailing newline, so "shop\\n" would pass for "shop".
"""

from __future__ import annotations

import re

__all__ = ["ID_RE", "ACTION_RE", "TARGET_RE", "KEY_ID_RE", "PARAM_RE", "NONCE_RE", "HASH_RE", "MAX_REASON",
           "MAX_PARAMS", "MAX_PARAM_CHARS"]

ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
ACTION_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
TARGET_RE = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
KEY_ID_RE = re.compile(r"k-[0-9a-f]{16}\Z")
PARAM_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
NONCE_RE = re.compile(r"[0-9a-f]{32}\Z")
HASH_RE = re.compile(r"[0-9a-f]{64}\Z")
MAX_REASON = 2000
MAX_PARAMS = 32
MAX_PARAM_CHARS = 4096
