"""Redaction manifests: TOML, validated with pydantic; every error names the file, the rule and the line.

::

    version = 1
    mode = "deny"                  # "allow": attributes whose key matches no `allow` glob are dropped
    allow = ["http.method", "http.route"]

    [hash]                         # the key of every `hash` action: HMAC-SHA256, never unkeyed
    key_env = "BEN_REDACT_KEY"     # or key_file = "redact.key" (relative to the manifest)

    [[rule]]                       # a field rule: the whole value at these paths
    name = "auth-header"
    fields = ["attributes.http.request.header.authorization", "body.password"]
    action = "drop"                # drop | mask | hash | truncate (max_chars = N)

    [[rule]]                       # a value rule: what a detector or a regex finds in any string
    name = "email"
    detect = "email"               # or pattern = "ORD-[0-9]{8}"; fields = [...] restricts where
    action = "mask"

tomllib gives no line numbers for values, so ``locate`` finds each ``[[rule]]`` table (and a key
inside it) by scanning the text.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ben.core.errors import RedactionError
from ben.core.files import missing_or_directory, read_input, read_input_text
from ben.redact.detectors import SECRET_RULES, SecretRule

MAX_RULES = 60          # rules are bits of a 64-bit mask (the rest: built-in pseudo-rules)
MIN_KEY_BYTES = 16
ALLOW_RULE = "allow-list"   # what an attribute dropped by the allow-list records as its rule
ACTIONS = ("drop", "mask", "hash", "truncate")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HashSettings(_Model):
    """The manifest's ``[hash]`` table: where the HMAC key comes from and how much of the digest is kept."""

    key_env: str | None = Field(default=None, min_length=1)
    key_file: str | None = Field(default=None, min_length=1)
    #: Hex characters of the HMAC kept in the output (64 bits by default).
    hex_chars: int = Field(default=16, ge=8, le=64)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.key_env is None) == (self.key_file is None):
            raise ValueError("give exactly one of key_env or key_file")
        return self


def _path_ok(path: str) -> str:
    if path in ("name", "body") or path.startswith(("body.", "attributes.")) and len(path.split(".", 1)[1]) > 0:
        return path
    raise ValueError(f"field path {path!r} must be 'name', 'body', 'body.<json key glob>' or 'attributes.<key glob>'")


class RuleModel(_Model):
    """One ``[[rule]]`` of a manifest as written (validated; compiled into a :class:`Rule`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")
    action: Literal["drop", "mask", "hash", "truncate"]
    fields: list[str] | None = None
    detect: list[str] | None = None
    pattern: str | None = None
    max_chars: int | None = Field(default=None, ge=1)
    replacement: str | None = None
    #: Field globs match paths without regard to case ("attributes.*password*" takes "Password").
    ignore_case: bool = False

    @field_validator("detect", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("detect")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        for name in v or ():
            if name not in SECRET_RULES:
                raise ValueError(f"unknown detector {name!r} (known: {', '.join(SECRET_RULES)})")
        if v is not None and not v:
            raise ValueError("name at least one detector")
        return v

    @field_validator("fields")
    @classmethod
    def _paths(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError("name at least one field path")
        return [_path_ok(p) for p in v] if v is not None else v

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        if compiled.search(""):
            raise ValueError("pattern matches the empty string")
        return v

    @model_validator(mode="after")
    def _shape(self):
        value_rule = self.detect is not None or self.pattern is not None
        if self.detect is not None and self.pattern is not None:
            raise ValueError("give detect or pattern, not both")
        if not value_rule and self.fields is None:
            raise ValueError("a rule needs fields (a field rule) or detect/pattern (a value rule)")
        if self.action == "truncate":
            if self.max_chars is None:
                raise ValueError("action 'truncate' needs max_chars")
            if value_rule:
                raise ValueError("action 'truncate' applies to fields, not to detector or pattern matches")
        elif self.max_chars is not None:
            raise ValueError("max_chars is only for action 'truncate'")
        if self.replacement is not None and self.action != "mask":
            raise ValueError("replacement is only for action 'mask'")
        if not value_rule and self.action == "drop" and "name" in (self.fields or ()):
            raise ValueError("an event's name cannot be dropped; use mask or hash")
        return self


class ManifestModel(_Model):
    """A redaction manifest file as written: version, mode, allow-list, hash settings and rules."""

    version: Literal[1] = 1
    mode: Literal["deny", "allow"] = "deny"
    allow: list[str] = Field(default_factory=list)
    hash: HashSettings | None = None
    rule: list[RuleModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _whole(self):
        if self.allow and self.mode != "allow":
            raise ValueError("allow is only used with mode = \"allow\"")
        if len(self.rule) > MAX_RULES:
            raise ValueError(f"a manifest has at most {MAX_RULES} rules")
        return self


# -- compiled form ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)   # identity: hashed in hot paths
class Rule:
    """One rule, ready to run. ``bit`` is its bit in the per-event mask of rules that fired."""

    name: str
    bit: int
    action: str
    line: int
    fields: tuple[str, ...] = ()             # field paths (globs); () = every string (value rules)
    secret_rules: tuple[SecretRule, ...] = ()
    pattern: re.Pattern | None = None
    max_chars: int = 0
    replacement: str = ""
    ignore_case: bool = False   # then `fields` are lower-cased globs, matched against lower-cased paths

    @property
    def is_value_rule(self) -> bool:
        return bool(self.secret_rules) or self.pattern is not None

    def matches(self, path: str) -> bool:
        if self.ignore_case:
            path = path.lower()
        return any(fnmatch.fnmatchcase(path, g) for g in self.fields)

    def path(self, path: str) -> str:
        """A path as this rule's globs see it."""
        return path.lower() if self.ignore_case else path


@dataclass(frozen=True)
class Manifest:
    """A validated, compiled manifest: the rules in order, the mode, the allow-list and the hash key."""

    rules: tuple[Rule, ...]
    mode: str = "deny"
    allow: tuple[str, ...] = ()
    hash_key: bytes = b""
    hash_hex_chars: int = 16
    source: str = "manifest"
    names: tuple[str, ...] = field(default=())   # every rule name by bit, the pseudo-rule last

    def allowed(self, key: str) -> bool:
        return self.mode != "allow" or any(fnmatch.fnmatchcase(key, g) for g in self.allow)


# -- locating rules in the text ---------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]\s*(?:#.*)?$")
_TABLE = re.compile(r"^\s*\[")


def locate(text: str) -> tuple[list[tuple[int, int]], int]:
    """Line ranges [first, last] (1-based) of every [[rule]] table, and the last line of the top level."""
    ranges: list[tuple[int, int]] = []
    top_end = None
    lines = text.splitlines()
    in_multi = None
    for no, line in enumerate(lines, 1):
        if in_multi:
            if line.count(in_multi) % 2 == 1:
                in_multi = None
            continue
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_multi = quote
        if _HEADER.match(line):
            if ranges:
                ranges[-1] = (ranges[-1][0], no - 1)
            ranges.append((no, len(lines)))
            top_end = no - 1 if top_end is None else top_end
        elif _TABLE.match(line):
            if ranges and ranges[-1][1] == len(lines):
                ranges[-1] = (ranges[-1][0], no - 1)
            top_end = no - 1 if top_end is None else top_end
    return ranges, top_end if top_end is not None else len(lines)


def _key_line(text: str, key: str, first: int, last: int) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for no, line in enumerate(text.splitlines()[first - 1:last], first):
        if pattern.match(line):
            return no
    return None


def _table_line(text: str, table: str) -> int | None:
    pattern = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    for no, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return no
    return None


def _error(exc: ValidationError, raw: dict, text: str, source: str) -> RedactionError:
    err = exc.errors()[0]
    loc = err["loc"]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r} (check its spelling)"
    elif err["type"] == "missing":
        msg = f"missing key {loc[-1]!r}"
    elif "input" in err and not isinstance(err["input"], (dict, list)):
        msg = f"{loc[-1]}: {msg} (got {err['input']!r})" if isinstance(loc[-1], str) else msg
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    ranges, top_end = locate(text)
    if len(loc) >= 2 and loc[0] == "rule" and isinstance(loc[1], int):
        i = loc[1]
        rules = raw.get("rule") if isinstance(raw.get("rule"), list) else []
        name = rules[i].get("name") if i < len(rules) and isinstance(rules[i], dict) else None
        label = str(name) if isinstance(name, str) and name else f"#{i + 1}"
        line = None
        if i < len(ranges):
            first, last = ranges[i]
            line = (_key_line(text, str(loc[2]), first, last) if len(loc) > 2 else None) or first
        return RedactionError(msg, source=source, rule=label, line=line)
    line = None
    if loc and loc[0] == "hash":
        line = (_key_line(text, str(loc[1]), _table_line(text, "hash") or 1, len(text.splitlines()))
                if len(loc) > 1 else None) or _table_line(text, "hash")
    elif loc:
        line = _key_line(text, str(loc[0]), 1, top_end)
    if loc and not line and len(loc) == 1 and isinstance(loc[0], str):
        msg = f"{loc[0]}: {msg}"
    return RedactionError(msg, source=source, line=line)


def _load_key(settings: HashSettings, base: Path | None, source: str, text: str) -> bytes:
    line = _table_line(text, "hash")
    if settings.key_env is not None:
        value = os.environ.get(settings.key_env)
        if not value:
            raise RedactionError(f"hash key: environment variable {settings.key_env} is not set or empty (the "
                                 f"secret of the keyed hashes, {MIN_KEY_BYTES}+ bytes: export {settings.key_env}=$(openssl rand "
                                 "-hex 32), the same on every sidecar)", source=source, line=line)
        key = value.encode()
    else:
        path = Path(settings.key_file)
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            key = read_input(path).strip()
        except OSError as exc:
            raise RedactionError(f"hash key: cannot read key_file {path}: {exc.strerror or exc}", source=source,
                                 line=line) from None
    if len(key) < MIN_KEY_BYTES:
        raise RedactionError(f"hash key is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed (brute force)",
                             source=source, line=line)
    return key


def parse_manifest(text: str, source: str = "manifest", base: Path | None = None, *, need_key: bool = True) -> Manifest:
    """Validate and compile a manifest's text. ``base``: the directory key_file is relative to.

    need_key=False checks everything but reads no hash key (``ben redact lint --no-key``).
    Raises RedactionError naming the source, the rule and the line.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RedactionError(f"not valid TOML: {exc}", source=source, line=int(m.group(1)) if m else None) from None
    from ben.core.config import ben_config_given

    if other := ben_config_given(raw, "redaction manifest"):  # was "spine: unknown key 'spine'"
        raise RedactionError(other, source=source)
    try:
        model = ManifestModel.model_validate(raw)
    except ValidationError as exc:
        raise _error(exc, raw, text, source) from None
    ranges, _ = locate(text)
    seen: dict[str, int] = {}
    rules = []
    for i, r in enumerate(model.rule):
        line = ranges[i][0] if i < len(ranges) else 0
        if r.name in seen or r.name == ALLOW_RULE:
            raise RedactionError(f"the name is already used (line {seen.get(r.name, '-')}); rule names are unique"
                                 if r.name != ALLOW_RULE else f"{ALLOW_RULE!r} is reserved", source=source,
                                 rule=r.name, line=line)
        seen[r.name] = line
        if r.action == "hash" and model.hash is None:
            raise RedactionError("action 'hash' needs a [hash] table with key_env or key_file (hashes are keyed)",
                                 source=source, rule=r.name, line=_key_line(text, "action", *ranges[i]) or line)
        rules.append(Rule(
            name=r.name, bit=i, action=r.action, line=line,
            fields=tuple(f.lower() if r.ignore_case else f for f in r.fields or ()), ignore_case=r.ignore_case,
            secret_rules=tuple(SECRET_RULES[d] for d in (r.detect or ())),
            pattern=re.compile(r.pattern) if r.pattern is not None else None,
            max_chars=r.max_chars or 0,
            replacement=r.replacement if r.replacement is not None else f"[{r.name}]",
        ))
    key = b""
    if model.hash is not None and need_key:
        key = _load_key(model.hash, base, source, text)
    return Manifest(tuple(rules), model.mode, tuple(model.allow), key,
                    model.hash.hex_chars if model.hash else 16, source,
                    tuple(r.name for r in rules) + (ALLOW_RULE,))


def _shadowed_fields(manifest: Manifest) -> list[str]:
    """Two field rules naming one field with different actions: the first applies and the second never does (a
    ``drop`` added under an older ``mask`` of the same field was taken, and ``lint`` said ok)."""
    first: dict[str, Rule] = {}
    out = []
    for r in manifest.rules:
        if r.is_value_rule:
            continue
        for glob in r.fields:
            earlier = first.setdefault(glob, r)
            if earlier is not r and earlier.action != r.action:
                out.append(f"rule {r.name!r} (line {r.line}): field {glob!r} is named by rule {earlier.name!r} already "
                           f"(line {earlier.line}, action {earlier.action}), which applies first: this rule's "
                           f"{r.action} never applies to it (name each field in one rule)")
    return out


def lint_warnings(manifest: Manifest) -> list[str]:
    """What a manifest allows but probably does not mean (``ben redact lint`` prints them; the manifest
    still loads): a field rule another one shadows, a ``drop`` that empties whole bodies."""
    out = _shadowed_fields(manifest)
    for r in manifest.rules:
        if r.action != "drop":
            continue
        where = f"rule {r.name!r} (line {r.line})"
        if r.is_value_rule and (not r.fields or r.matches("body")):
            out.append(f"{where}: action 'drop' on a {'detector' if r.secret_rules else 'pattern'} match drops the "
                       f"whole field it is found in: a body holding one becomes empty (use 'mask' to replace only "
                       f"the match)")
        elif not r.is_value_rule and r.matches("body"):
            out.append(f"{where}: action 'drop' on the path 'body' empties every body")
    return out


def load_manifest(path: Path | str, *, need_key: bool = True) -> Manifest:
    path = Path(path)
    try:
        text = read_input_text(path)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise RedactionError(missing_or_directory(path, exc), source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RedactionError(f"cannot read: {exc}", source=str(path)) from None
    return parse_manifest(text, str(path), path.resolve().parent, need_key=need_key)
