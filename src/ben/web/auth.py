"""Who may read: loopback by default; any other bind needs the access token the config names, or
client certificates ([web.tls]: HTTPS, every client presents a certificate the CA signed, and only those
``web.tls_clients`` names are served: the CA may sign sidecars' too; ADR 0045, round 11)."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ben.core.address import is_loopback
from ben.core.config import WebConfig
from ben.core.errors import ConfigError
from ben.core.files import check_secret, check_trusted, read_input, read_input_text
from ben.core.reloaded import ReloadedSecret
from ben.web.guesses import Guesses, client_key
from ben.web.headers import foreign_request
from ben.core.peer import peer_uid

COOKIE = "ben_web_token"
#: The scope key naming who the interface is serving: ``uid N (name)``, ``web token``, a certificate.
CLIENT = "ben.client"


#: The scope key of a callable: is the token this request came with still the interface's (``web.token_file``
#: read again)? A ``/live`` stream opened with a token that leaked, and was replaced, went on streaming for ever.
STILL_VALID = "ben.token_still_valid"
#: [web.tls]: the client certificate's name per open connection (client address), set by the server.
CERTIFICATES: dict[tuple, str] = {}


def certificate_name(cert: dict) -> str:
    """``certificate CN=...`` of a peer certificate as ``ssl`` decodes it."""
    names = [f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    return "certificate " + (",".join(names).replace("commonName", "CN") or "(no common name)")


def client_of(request: Request) -> str:
    """Who the interface is serving for this request (as ``TokenAuth`` or the TLS connection named it)."""
    client = request.scope.get("client")
    return (request.scope.get(CLIENT) or (CERTIFICATES.get(tuple(client)) if client else None)
            or "unidentified client")


def _uid_name(uid: int) -> str:
    import pwd

    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def _loopback_host(header: str) -> bool:
    """A Host header naming this machine's loopback (any port): 127.0.0.1:8427, [::1], localhost."""
    if header.startswith("["):
        host = header[1:header.find("]")]
    else:
        host = header.rsplit(":", 1)[0]
    return is_loopback(host.lower())


def _cross_site(request: Request) -> bool:
    """A POST (or any write) whose browser says it comes from a page of another origin."""
    origin = request.headers.get("origin")
    if request.method in ("GET", "HEAD", "OPTIONS") or origin is None:
        return False
    return origin.split("://", 1)[-1].rstrip("/") != request.headers.get("host", "")


def check_tls(cfg: WebConfig) -> bool:
    """True when [web.tls] is set (cert, key and ca, all readable); ConfigError naming the field if
    only part of it is, or a file cannot be read."""
    tls = cfg.tls
    if not tls.configured:
        if cfg.tls_clients:  # taken in silence: the names restricted nothing, served over plain HTTP
            raise ConfigError(f"names the client certificates served over HTTPS ({', '.join(cfg.tls_clients)}), but "
                              "[web.tls] is not set: without it they restrict nothing; set [web.tls] cert, key and ca "
                              "(ben certs makes them), or leave tls_clients out", field="web.tls_clients")
        return False
    for name in ("cert", "key", "ca"):
        path = getattr(tls, name)
        if path is None:
            raise ConfigError("web.tls needs cert, key and ca together (ben certs makes them)",
                              field=f"web.tls.{name}")
        try:
            read_input(path)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc}", field=f"web.tls.{name}") from None
    check_trusted(tls.ca, "web.tls.ca")  # another account able to write it could add its own CA (ADR 0045, round 9)
    if not cfg.tls_clients:  # every certificate of the CA passes the handshake: a sidecar's too (round 11)
        raise ConfigError("web.tls needs web.tls_clients: the names of the operators' certificates the interface "
                          "serves (every certificate web.tls.ca signed passes the handshake, a sidecar's too)",
                          field="web.tls_clients")
    return True


def certificates_served(cfg: WebConfig) -> frozenset[str] | None:
    """With [web.tls], the certificate names (as ``certificate_name`` writes them) the interface serves."""
    if not cfg.tls.configured:
        return None
    return frozenset(f"certificate CN={name}" for name in cfg.tls_clients)


def read_token_file(path: Path) -> str:
    """The token in ``web.token_file``: private (a token others may read is no secret), not empty, at least 16
    characters; ConfigError naming ``web.token_file`` otherwise."""
    check_secret(path, "web.token_file", "token file")  # private, and no other account's (ADR 0045, round 14)
    try:
        token = read_input_text(path).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", field="web.token_file") from None
    if not token:
        raise ConfigError(f"{path} is empty", field="web.token_file")
    if len(token) < 16:
        raise ConfigError("the access token must be at least 16 characters", field="web.token_file")
    return token


def token_file(path: Path, token: str) -> ReloadedSecret[str]:
    """``web.token_file``'s token (``token``, read at start), read again when the file changed: an operator
    replacing a token that leaked has the old one refused at once, without restarting the interface (the
    spine's, with ``ben spine --web``; ADR 0045, round 12)."""
    return ReloadedSecret(path, read_token_file, "web.token_file", token)


def resolve_token(cfg: WebConfig) -> str | None:
    """The access token, or None on loopback (or with client certificates) without one; ConfigError
    naming the field otherwise."""
    if cfg.token_env and cfg.token_file is not None:
        raise ConfigError("set web.token_env or web.token_file, not both", field="web.token_env")
    token = ""
    if cfg.token_env:
        token = os.environ.get(cfg.token_env, "").strip()
        if not token:
            raise ConfigError(f"the environment variable {cfg.token_env} (named by web.token_env) is empty or unset",
                              field="web.token_env")
    elif cfg.token_file is not None:
        token = read_token_file(cfg.token_file)
    if token and len(token) < 16:
        raise ConfigError("the access token must be at least 16 characters", field="web.token_env"
                          if cfg.token_env else "web.token_file")
    if not token and not is_loopback(cfg.listen_host) and not check_tls(cfg):
        raise ConfigError(f"web.listen_host = {cfg.listen_host!r} is not loopback: set web.token_env or "
                          "web.token_file to name an access token (or [web.tls] for client certificates)",
                          field="web.token_env")
    return token or None


def _refusal(request: Request, bearer: str | None) -> str:
    """The 401's line: which token was wrong (the cookie, ?token=, the header) or that none came, and how a
    browser gives one (was "Authorization: Bearer ...", which a person with a browser cannot send, for all)."""
    how = "open any page once with ?token=TOKEN (a cookie keeps it), or send Authorization: Bearer TOKEN"
    wrong = [name for name, value in (("the Authorization header", bearer),
                                      (f"the {COOKIE} cookie", request.cookies.get(COOKIE)),
                                      ("?token=", request.query_params.get("token"))) if value is not None]
    if not wrong:
        return f"401: this interface needs its access token: {how}"
    return (f"401: the access token of {' and '.join(wrong)} is not this interface's (mistyped, or the token was "
            f"changed since): {how}")


class TokenAuth:
    """ASGI middleware: every request carries the token (Bearer header or cookie) or gets 401.

    ``?token=...`` on any page sets the cookie (HttpOnly, SameSite=Strict) and redirects without it.
    Comparison is constant-time (hmac.compare_digest). Without a token, ``local_uids`` (when not
    None) are the only accounts served: the kernel names the uid owning the client's socket
    (``ben.core.peer``); any other local user gets 403 (a loopback port is open to every account).
    """

    def __init__(self, app: ASGIApp, token: str | ReloadedSecret[str] | None, local_uids: frozenset[int] | None = None,
                 certificates: frozenset[str] | None = None):
        self._app = app
        self._source = token if isinstance(token, ReloadedSecret) else None  # read again when its file changes
        self._token = (token.value if self._source else token).encode() if token else None
        self._local_uids = local_uids
        self._certificates = certificates
        self.guesses = Guesses()  # wrong tokens per client (ADR 0045, round 7)

    def _local_refusal(self, scope: Scope) -> str | None:
        """Why a request to the loopback interface without a token is refused (None: it is served)."""
        request = Request(scope)
        if not _loopback_host(request.headers.get("host", "")):
            # DNS rebinding: a page from elsewhere whose name now points at 127.0.0.1 would read as us
            return "on loopback this interface answers only to a loopback Host (127.0.0.1, [::1], localhost)"
        client, server = scope.get("client"), scope.get("server")
        uid = peer_uid((client[0], client[1]), (server[0], server[1])) if client and server else None
        if uid is not None:
            scope[CLIENT] = _uid_name(uid)
        if uid not in self._local_uids:
            return ("on loopback this interface serves only the accounts of web.local_uids (default: the user it "
                    "runs as); others need web.token_env or token_file")
        return None

    def _certificate_refusal(self, scope: Scope) -> str | None:
        """[web.tls]: why a client's certificate is not served (None: it is one of ``web.tls_clients``)."""
        client = scope.get("client")
        name = CERTIFICATES.get(tuple(client)) if client else None
        if name is not None and name in self._certificates:
            return None
        return (f"the {name or 'client certificate'} is not named in web.tls_clients: the interface serves only "
                "the operators' certificates named there")

    def _ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token or b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        foreign = foreign_request(Request(scope))  # token or not: a same-site page gets a SameSite cookie
        if foreign is not None:
            await PlainTextResponse(f"403: {foreign}", status_code=403)(scope, receive, send)
            return
        refused = self._certificate_refusal(scope) if self._certificates is not None else None
        if refused is None and _cross_site(Request(scope)):  # any mode: a browser sends client certificates
            refused = "a form from another site cannot post here"  # to every site (old ones no fetch metadata)
        if refused is not None:  # a sidecar's certificate of the same CA read everything through the spine
            await PlainTextResponse(f"403: {refused}", status_code=403)(scope, receive, send)
            return
        if self._source is not None:
            self._token = self._source.current().encode()
        if self._token is None:
            refusal = self._local_refusal(scope) if self._local_uids is not None else None
            if refusal is not None:
                await PlainTextResponse(f"403: {refusal}", status_code=403)(scope, receive, send)
                return
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        given = [t for t in (bearer, request.cookies.get(COOKIE), request.query_params.get("token")) if t is not None]
        key = client_key(scope.get("client"), scope.get("server")) if given else ""
        if given and not self.guesses.allowed(key):  # past its wrong tokens: not even looked at (guesses)
            await PlainTextResponse("429: too many wrong access tokens from this client; try again later",
                                    status_code=429, headers={"Retry-After": str(self.guesses.retry_after_s(key))}
                                    )(scope, receive, send)
            return
        response: Response | None = None
        if self._ok(bearer) or self._ok(request.cookies.get(COOKIE)):
            scope.setdefault(CLIENT, "web token")
            if self._source is not None:  # a /live stream asks again as it goes: a token replaced ends it
                used = self._token
                scope[STILL_VALID] = lambda: self._source.current().encode() == used
            await self._app(scope, receive, send)
            return
        if self._ok(request.query_params.get("token")):
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(COOKIE, self._token.decode(), httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")  # never sent back over plain HTTP
        else:
            if given:
                self.guesses.wrong(key, given)
            response = PlainTextResponse(_refusal(request, bearer), status_code=401,
                                         headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)
