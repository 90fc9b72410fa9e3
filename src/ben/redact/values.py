"""Checks of a value found after a key (``ben.redact.pairs``, ``ben.redact.finders`` and the detectors that read
values): is it a placeholder, a reference, a path, a word, or something shaped like a credential?"""

from __future__ import annotations

import re

from ben.redact.lookalikes import documentation_value, truncated

_TRIVIAL = frozenset({"null", "none", "nil", "true", "false", "undefined", "redacted", "empty", "required",
                      "changeme", "******", "xxxxxx", "yes", "no", "on", "off", "set", "unset", "hidden", "masked",
                      "(sensitive", "sensitive", "(sensitive value)", "filtered", "omitted", "replace_me", "(hidden)",
                      "(redacted)", "(masked)", "value_specified_in_no_log_parameter", "hidden_due_to_security_reasons"})


#: A reference to a value kept elsewhere: $VAR, ${VAR} (or its "$" before a "{" the value stops at),
#: %VAR%, Terraform's var.x / local.x / data.x / module.x, Kubernetes' and make's $(VAR).
_REFERENCE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$|%[A-Za-z_][A-Za-z0-9_]*%|(?:var|local|data|module)\.[a-z_][\w.\-]*").fullmatch


def not_placeholder(text: str) -> bool:
    """A value that is no secret: a placeholder, a template, a variable's reference, something already masked."""
    return not (text.lower() in _TRIVIAL or text.startswith(("}}", "%}")) or text[0] == "&" and _QUOTE_ENTITY(text) is not None
                or text[:2] == "3D" and text[2:3] in _QP_REFERENCE
                or text[0] in "[<{$*%" and text[-1:] in "]>}*%" or set(text) <= {"*", "x", "X"}
                or text[0] in "$%vldm" and _REFERENCE(text) is not None or truncated(text) or documentation_value(text)
                or text.startswith("ENC[") and text.endswith("]"))   # a value encrypted in place (SOPS; revision 17)


#: A value that starts with a quote or a bracket written as an entity (``password: &quot;{{ .Values.x }}&quot;`` in an
#: HTML page): its decoded form is judged in the decoded pass (``ben.redact.decode``), not these characters.
_QUOTE_ENTITY = re.compile(r"&(?:quot|apos|lt|#3[49]|#x2[27]|#60|#x3[cC])(?:;|$)").match
#: A value after a quoted-printable ``=3D`` (a mail's ``DB_PASSWORD=3D${DB_PASSWORD}``) that starts a reference or a
#: quote: judged in the decoded pass, where the mail's escapes are undone (revision 18).
_QP_REFERENCE = frozenset("$%{<[\"'*")
_IDENT = re.compile(r"[A-Z0-9_.]+|[a-z_.]+").fullmatch
_PATH = re.compile(r"(?:~?/|\./)[\w.\-/]*").fullmatch
#: A secret's name in a store, not its value (revision 17): ``prod/db/credentials``, ``kv/data/app/api`` — words in
#: small letters, three or more, apart by '/'.
_STORE_PATH = re.compile(r"[a-z][a-z0-9_\-]*(?:/[a-z0-9][a-z0-9_.\-]*){2,}").fullmatch


def password_value(text: str) -> bool:
    """A password pair's value: no placeholder, and no path (``PWD=/home/app`` is the shell's directory,
    ``PASSWORD_FILE=/run/secrets/db`` names a file)."""
    return not_placeholder(text) and _PATH(text) is None and _STORE_PATH(text) is None


def credential_like(text: str) -> bool:
    """A token, not a word: holds a digit or punctuation, or letters in mixed case (not 'Validation')."""
    if not not_placeholder(text):
        return False
    if not text.isalpha():
        return _STORE_PATH(text) is None
    return not (text.islower() or text.isupper() or text.istitle())
