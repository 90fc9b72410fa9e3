"""Redaction: a declarative manifest applied in the sidecar before anything is written (ADR 0014).

    manifest  TOML -> validated, compiled rules (errors name the file, the rule and the line)
    detectors the secret rules (SECRET_RULES) a manifest's ``detect`` names: e-mail, cards (Luhn), IPs,
              JWTs, bearer tokens, cloud keys, private keys, national IDs, passwords and secret pairs,
              URL userinfo, command lines, cookies, IBAN, phones, and (formats) ~176 token prefixes
    layouts   secret keys written apart from their values (name/value records, SQL, CSV, directive lines),
              session cookies anywhere (ADR 0030, revision 4)
    decode    URL and JSON escapes and XML/HTML entities undone, with offsets back into the original (ADR 0030)
    wrapped   base64 blobs that begin with a token, a private key or a password line (ADR 0030, revision 2)
    corpus    fake secrets and look-alikes in every placement: recall and benign rate of a manifest
    actions   drop, mask, keyed hash (HMAC-SHA256), truncate
    engine    a manifest applied to a columnar Batch, per distinct string (ADR 0043: split by job)
      scanning  what the rules make of one string (Scanner, named plans)
      cache     the bounded per-string caches
      rebuild   the batch rebuilt with the outcomes (Rebuilder, NewStrings)
      wire      index columns in (numpy) and out (protobuf's packed encoding)
    redactor  the sidecar's engine in force, atomic reload, figures
"""

from ben.redact.defaults import DEFAULT_MANIFEST
from ben.redact.detectors import OPT_IN, SECRET_RULES
from ben.redact.engine import FAILED, REDACTED_KEY, Engine
from ben.redact.manifest import Manifest, Rule, load_manifest, parse_manifest
from ben.redact.redactor import Redactor

__all__ = ["DEFAULT_MANIFEST", "OPT_IN", "SECRET_RULES", "FAILED", "REDACTED_KEY", "Engine", "Manifest", "Rule",
           "load_manifest", "parse_manifest", "Redactor"]
