"""OTLP request authentication: a bearer token, as OpenTelemetry exporters send headers.

Off unless ``[sidecar.otlp] auth_token_file`` names a private file (mode 0600) holding a token of at
least 16 characters. Then every request, on both transports, must carry ``authorization: Bearer
<token>`` (an HTTP header, a gRPC metadata entry): what ``OTEL_EXPORTER_OTLP_HEADERS=
"Authorization=Bearer%20<token>"`` makes every SDK and the Collector's ``headers`` send, with no code
change. A request without it is refused before its body is read: HTTP 401 / gRPC UNAUTHENTICATED, which
no exporter retries. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from ben.core.errors import ConfigError
from ben.core.files import check_secret, read_input, read_input_text
from ben.core.reloaded import ReloadedSecret

FIELD = "sidecar.otlp.auth_token_file"
MIN_TOKEN_CHARS = 16


def load_token(path: Path | None) -> bytes | None:
    """The token of ``auth_token_file`` (None when unset); ConfigError naming the field otherwise."""
    if path is None:
        return None
    check_secret(path, FIELD, "token file")  # private, and no other account's (ADR 0045, round 14)
    try:
        token = read_input_text(path).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", field=FIELD) from None
    if len(token) < MIN_TOKEN_CHARS or any(ch.isspace() for ch in token):
        raise ConfigError(f"the OTLP token in {path} must be at least {MIN_TOKEN_CHARS} characters, "
                          "without spaces", field=FIELD)
    return token.encode()


def token_file(path: Path) -> ReloadedSecret[bytes]:
    """``auth_token_file``'s token, read again when the file changed (ADR 0045, round 12)."""
    return ReloadedSecret(path, load_token, FIELD)


def authorized(token: bytes | ReloadedSecret[bytes] | None, header: str | None) -> bool:
    """True when no token is configured, or ``header`` is ``Bearer <token>`` (scheme case-insensitive)."""
    if token is None:
        return True
    if isinstance(token, ReloadedSecret):
        token = token.current()
    if not header or not header[:7].lower() == "bearer ":
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token)


REFUSAL = "missing or wrong bearer token: send the header authorization: Bearer <token> " \
          "(OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer%20<token>\")"
