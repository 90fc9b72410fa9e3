"""A sixth held-out-style corpus, written apart from the first five on 2026-12-07 **before opening
``src/ben/redact/``** and without reading the earlier corpora's generators (read: ADR 0030's section titles and
the harness the corpora share — ``heldout_style4.Sample``/``survivors``, ``heldout_style3.Figures``,
``heldout_style.redacted``/``report``).

The question this time: the rule sets of secret scanners (provider token shapes of 2024-2026 with their checksums,
AI-platform keys, CI/CD and infrastructure tokens, webhooks), database and broker connection strings of every
driver's syntax, private keys in their encodings (PEM as written, JSON-escaped, folded onto one line, base64 of the
whole file, a JWK's ``d``, WireGuard, PGP), and credentials in HTTP headers, cookies, query strings, form bodies,
gRPC metadata, shell traces, SQL, Redis ``MONITOR``, mobile (logcat, NSURLError) and browser telemetry (a
fragment's ``access_token``), in log lines of several languages — quoted, JSON-escaped (twice), URL-encoded,
base64-wrapped, or split over a PEM's lines. Look-alikes (``heldout6_benign``): trace/span/request ids, digests,
provider object ids, public keys and certificates, SRI hashes, metrics, versions, masked values and references.

Scoring as in the fourth corpus (``heldout_style4.survivors``: no run of 8 characters of a secret part, in any form
written, survives anywhere in the event).

    python -m tests.redact.heldout_style6 --seed 61 -v 20
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.redact.heldout6_benign import TS, benign
from tests.redact.heldout6_values import Draw, Pem, Value, password, private_key, token
from tests.redact.heldout_style import cli, look_alikes, scorer
from tests.redact.heldout_style3 import Figures
from tests.redact.heldout_style4 import Sample, forms, survivors


def _words(k: str) -> list[str]:
    return [w for w in k.replace(".", "_").replace("-", "_").lower().split("_") if w]


def _env(k: str) -> str:
    return "_".join(_words(k)).upper()


def _camel(k: str) -> str:
    w = _words(k)
    return w[0] + "".join(x.capitalize() for x in w[1:])


def _dash(k: str) -> str:
    return "-".join(_words(k))


def _short(k: str) -> str:
    """The name a config file would use: ``api_key`` for DD_API_KEY, ``access_key_id``, ``token``."""
    w = _words(k)
    n = 3 if w[-1] == "id" else 2 if w[-1] == "key" else 1
    return "_".join(w[-n:])


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


HOSTS = ["db.internal", "10.0.3.17", "pg-prod.c9akciq32.eu-west-1.rds.amazonaws.com", "mongo-0.mongo.prod.svc.cluster.local",
         "redis-master.cache.svc", "rabbitmq.acme.io", "kafka-1.acme.io", "sql-prod.database.windows.net"]
USERS = ["app", "admin", "svc_orders", "deploy", "postgres", "root", "reporting_ro", "alice@acme.io"]


# -- where a value with a name goes: (v, d) -> (body, attrs) --------------------------------------------------------
def _kv_carriers(v: Value, d: Draw) -> list:
    s, k = v.secret, v.key
    q = quote(s, safe="")
    js = json.dumps(s)
    return [
        ("logfmt", lambda: (f'time={TS} level=debug msg="loaded settings" {_env(k).lower()}={json.dumps(s) if " " in s else s} '
                            f'pid={d.randrange(99999)}', {})),
        ("json_env", lambda: (json.dumps({"ts": TS, "level": "DEBUG", "logger": "config", "msg": "environment",
                                          "env": {"PATH": "/usr/local/bin:/usr/bin", _env(k): s, "HOME": "/app"}}), {})),
        ("json_in_message", lambda: (json.dumps({"@timestamp": TS, "message": json.dumps({"event": "client.init",
                                                                                           _camel(k): s, "region": "eu-west-1"})}), {})),
        ("attr_plain", lambda: ("outbound call configured", {f"app.config.{_short(k)}": s, "http.method": "GET"})),
        ("attr_header", lambda: ("HTTP POST", {f"http.request.header.{_dash(k)}": json.dumps([s]), "http.status_code": "401"})),
        ("docker_env", lambda: (f'"Env": [\n  "PATH=/usr/local/sbin:/usr/local/bin",\n  "{_env(k)}={js[1:-1]}",\n  "LANG=C.UTF-8"\n]', {})),
        ("yaml", lambda: (f"effective config:\nserver:\n  port: 8443\nauth:\n  {_short(k)}: "
                          f"{json.dumps(s) if any(c in s for c in ':#{}[]&*!|>%@`') else s}\n  ttl: 30m", {})),
        ("export_trace", lambda: (f"+ export {_env(k)}='{s}'\n+ ./deploy.sh --region eu-west-1", {})),
        ("gha", lambda: (f"{TS[:-1]}1234Z ##[debug]Evaluating: secrets.{_env(k)}\n{TS[:-1]}1235Z ##[debug]=> '{s}'", {})),
        ("query_string", lambda: (f'10.1.2.3 - - [14/Mar/2026:09:26:53 +0000] "GET /api/v2/export?format=csv&{_short(k)}={q}'
                                  f'&page=2 HTTP/1.1" 200 5123 "-" "python-requests/2.32.3"', {})),
        ("form_body", lambda: (f"POST /oauth/token body: grant_type=client_credentials&client_id=web&{_short(k)}={q}", {})),
        ("python_repr", lambda: (f"Traceback (most recent call last):\n  File \"/app/client.py\", line 88, in connect\n"
                                 f"ConnectionError: settings={{'host': 'api.acme.io', '{k}': {s!r}, 'timeout': 30}}", {})),
        ("java_map", lambda: (f"ERROR o.a.c.c.C.[.[localhost] - Servlet.service() threw exception; properties={{url=https://api.acme.io, "
                              f"{_camel(k)}={s}, retries=3}}", {})),
        ("multilang", lambda: (d.pick([f"Fehler bei der Anmeldung: Benutzer=admin {_short(k)}={s}",
                                       f"Échec de connexion : utilisateur=admin, {_short(k)} : {s}",
                                       f"连接失败：用户=admin {_short(k)}={s}", f"Ошибка авторизации: {_short(k)}={s}",
                                       f"認証エラー: {_short(k)}={s} ユーザー=admin",
                                       f"Error de conexión: usuario=admin {_short(k)}=\"{s}\""]), {})),
        ("k8s_secret", lambda: (json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-env"},
                                            "data": {_env(k): _b64(s)}, "type": "Opaque"}), {}), (_b64(s),)),
    ]


def _password_carriers(v: Value, d: Draw) -> list:
    s, u, h = v.secret, d.pick(USERS), d.pick(HOSTS)
    q = quote(s, safe="")
    uq = quote(u, safe="")
    return [
        ("postgres_url", lambda: (f"connecting to postgresql://{uq}:{q}@{h}:5432/orders?sslmode=require", {})),
        ("mongo_srv", lambda: ("MongoServerSelectionError: connection timed out", {"db.connection_string":
                                                                                  f"mongodb+srv://{uq}:{q}@cluster0.ab1cd.mongodb.net/?retryWrites=true"})),
        ("redis_url", lambda: (f"Error 111 connecting to rediss://default:{q}@{h}:6380/0. Connection refused.", {})),
        ("amqp_url", lambda: (f"[error] <0.912.0> failed to connect amqps://{uq}:{q}@{h}:5671/%2Fprod", {})),
        ("jdbc", lambda: (f"HikariPool-1 - jdbcUrl=jdbc:sqlserver://{h}:1433;databaseName=orders;user={u};password={s};encrypt=true", {})),
        ("ado_net", lambda: (f"Connection string: Server=tcp:{h},1433;Initial Catalog=orders;User ID={u};Password={s};"
                             f"Encrypt=True;Connection Timeout=30;", {})),
        ("libpq_kv", lambda: (f"psql: error: connection to server failed; conninfo: host={h} port=5432 dbname=orders user={u} "
                              f"password='{s}' sslmode=verify-full", {})),
        ("kafka_jaas", lambda: (f'sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required '
                                f'username="{u}" password="{s}";', {})),
        ("basic_header", lambda: (f"> GET /api/v1/status HTTP/1.1\n> Host: {h}\n> Authorization: Basic {_b64(u + ':' + s)}\n"
                                  f"> User-Agent: curl/8.7.1", {}), (_b64(u + ":" + s),)),
        ("curl_u", lambda: (f"+ curl -fsS -u '{u}:{s}' https://{h}/api/health", {})),
        ("mysql_cli", lambda: (f"+ mysql -h {h} -u {u} -p'{s}' -e 'SELECT 1'", {})),
        ("docker_login", lambda: (f"$ echo done; docker login -u {u} -p '{s}' registry.acme.io\nWARNING! Using --password via "
                                  f"the CLI is insecure. Use --password-stdin.", {})),
        ("sql_alter", lambda: (f"LOG:  statement: ALTER ROLE {u.split('@')[0]} WITH LOGIN PASSWORD '{s}' VALID UNTIL '2027-01-01';", {})),
        ("redis_monitor", lambda: (f'1773480413.589301 [0 10.0.1.9:53122] "AUTH" "{u}" "{s}"', {})),
        ("form_login", lambda: (f"POST /login HTTP/1.1 form: username={uq}&password={q}&remember_me=1", {})),
        ("json_login", lambda: (json.dumps({"level": "debug", "msg": "request body", "body": json.dumps({"email": u, "password": s})}), {})),
        ("docker_auth", lambda: (json.dumps({"auths": {"registry.acme.io": {"auth": _b64(u + ":" + s)}}}), {}), (_b64(u + ":" + s),)),
        ("pgpass", lambda: (f"cat ~/.pgpass\n{h}:5432:*:{u}:{s}", {})),
        ("multilang_pw", lambda: (d.pick([f"Anmeldung fehlgeschlagen für {u}, Passwort: {s}", f"mot de passe={s} pour {u}",
                                          f"用户 {u} 登录失败，密码：{s}", f"пользователь={u} пароль={s}", f"パスワード={s}",
                                          f"senha: {s} (usuário {u})", f"contraseña=\"{s}\" usuario={u}"]), {})),
    ]


def _pem_carriers(p: Pem, d: Draw) -> list:
    raw = p.text()
    one_line = p.text(" ").strip()
    return [
        ("pem_body", lambda: ("failed to parse key file /etc/tls/server.key:\n" + raw, {})),
        ("gcp_sa_json", lambda: (json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": d.hex(40),
                                             "private_key": raw, "client_email": "ci@acme-prod.iam.gserviceaccount.com"}), {})),
        ("escaped_in_log", lambda: (json.dumps({"level": "error", "msg": "invalid credentials file",
                                                "content": json.dumps({"private_key": raw})}), {})),
        ("one_line_env", lambda: (f"TLS_KEY={one_line}", {})),
        ("b64_whole", lambda: (f"data:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n  tls.key: {_b64(raw)}", {}), None),
        ("attr_key", lambda: ("ssh connect failed", {"ssh.private_key": raw})),
    ]


CONTEXTLESS = frozenset({"aws_secret", "azure_storage", "twilio_auth", "datadog", "datadog_app", "opaque_api_key",
                         "session_cookie", "mailchimp"})


def place(d: Draw, v: Value) -> Sample:
    if v.family == "password":
        opts = _password_carriers(v, d) + _kv_carriers(v, d)
    elif v.kind in CONTEXTLESS:     # no shape of its own: only its name or header says what it is
        opts = _kv_carriers(v, d) + _token_only(v, d)[:-1]
    else:
        opts = _kv_carriers(v, d) + _token_only(v, d)
    c = d.pick(opts)
    body, attrs = c[1]()
    parts = c[2] if len(c) > 2 else v.need()
    return _finish(v, c[0], body, attrs, parts)


def _token_only(v: Value, d: Draw) -> list:
    s = v.secret
    return [
        ("bearer_logcat", lambda: (f"03-14 09:26:53.589  4121  4188 D OkHttp  : Authorization: Bearer {s}", {})),
        ("grpc_metadata", lambda: (f"grpc call /orders.v1.Orders/List metadata={{'authorization': ['Bearer {s}'], "
                                   f"'x-request-id': ['{d.uuid()}']}}", {})),
        ("fragment", lambda: (f"Uncaught (in promise) TypeError: Failed to fetch at https://app.acme.io/callback#access_token="
                              f"{quote(s, safe='')}&token_type=Bearer&expires_in=3600", {"browser.name": "Chrome"})),
        ("nsurlerror", lambda: (f"Task <{d.uuid().upper()}>.<1> finished with error [-1001] Error Domain=NSURLErrorDomain Code=-1001 "
                                f"UserInfo={{NSErrorFailingURLStringKey=https://api.acme.io/v1/me?token={quote(s, safe='')}}}", {})),
        ("cookie", lambda: (f"Cookie: _ga=GA1.2.{d.randrange(10**9)}.{d.randrange(10**9)}; __Secure-next-auth.session-token={s}; "
                            f"theme=dark", {})),
        ("set_cookie", lambda: ("HTTP/2 200", {"http.response.header.set-cookie": f"sid={s}; Path=/; Secure; HttpOnly; SameSite=Lax"})),
        ("x_api_key", lambda: (f"> X-Api-Key: {s}\n> Accept: application/json", {})),
        ("bare_in_sentence", lambda: (f"retrying with credential {s} after 401 from upstream", {})),
    ]


def place_key(d: Draw) -> Sample:
    kind, k = private_key(d)
    if isinstance(k, Pem):
        body_parts = tuple(x for x in k.lines if len(x) >= 16)
        c = d.pick(_pem_carriers(k, d))
        body, attrs = c[1]()
        if len(c) > 2:      # the whole file base64-wrapped: its base64, in pieces a scanner would see
            whole = _b64(k.text())
            body_parts = tuple(whole[i:i + 64] for i in range(0, len(whole), 64) if len(whole[i:i + 64]) >= 16)
        return _finish(Value("key", f"{kind}:{k.label.lower().replace(' ', '_')}", "", "private_key"), c[0], body, attrs, body_parts)
    if kind == "wireguard":
        body = f"[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = {k}\nListenPort = 51820\n\n[Peer]\nPublicKey = {_b64('x' * 32)}"
    elif kind == "jwk_d":
        body = json.dumps({"kty": "EC", "crv": "P-256", "kid": d.hex(8), "x": d.hex(43), "y": d.hex(43), "d": k})
    else:
        body = k
    return _finish(Value("key", kind, k, "private_key"), kind, body, {}, (k,))


def _finish(v: Value, carrier: str, body: str, attrs: dict, parts: tuple[str, ...]) -> Sample:
    text = body + "\x00" + "\x00".join(f"{k}\x00{x}" for k, x in attrs.items())
    kept = tuple(p for p in parts if any(f in text for f in forms(p)))
    if not kept:
        raise AssertionError(f"generator error: no part of {v.kind} is written in {carrier}: {parts} / {body[:200]!r}")
    return Sample(v.family, v.kind, carrier, body, attrs, kept)


def generate(seed: int, *, per_family: int = 150, benign_rounds: int = 6) -> list[Sample]:
    """``per_family`` tokens and passwords and a third as many private keys in random carriers, then the look-alikes."""
    d = Draw(seed)
    out = [place(d, token(d)) for _ in range(per_family)]
    out += [place(d, password(d)) for _ in range(per_family)]
    out += [place_key(d) for _ in range(per_family // 3)]
    return out + look_alikes(benign, d, benign_rounds)


run = scorer(survivors, Figures, "heldout6")


def main() -> None:
    cli(__doc__, generate, run, seed=61, size="per_family", default=150)


if __name__ == "__main__":
    main()
