"""An eighth held-out-style corpus, written apart from the first seven on 2026-12-07 **before opening
``src/ben/redact/``** (read: ADR 0030's revisions 1-11, the shared harness — ``heldout_style.Sample``/``score``/
``scorer``/``cli``/``look_alikes`` — and the earlier corpora's lists of vendors, kinds and carriers, only to draw
others).

The question this time: what a different person writing a fake-secrets corpus in 2026 would pick that the first seven
did not. Values (``heldout8_values``): credentials of less common clouds and of SaaS and developer tools, values of
HTTP headers named by their service (``Ocp-Apim-Subscription-Key``, ``X-RapidAPI-Key``, ``Authorization: Splunk`` /
``GenieKey`` / ``ApiKey`` / ``Token`` / ``Klaviyo-API-Key``, lnd's hex macaroon), infrastructure join and agent tokens
(kubeadm, k3s, Swarm, Consul, Nomad, NATS NKEY seeds and ``.creds`` files, Cloudflare tunnels, Vault's unseal keys),
frameworks' application secrets, PASETO, JWE, macaroons, TOTP seeds and ``otpauth://`` URIs, key material that is no
PEM (minisign, signify, OpenVPN static keys, Nostr, Solana keypairs, base64 keystores, keytabs, Tor keys), webhook
URLs of twelve services, signed URLs of four stores, session cookies of twelve frameworks, and passwords (non-ASCII
ones and Apple app-specific ones among them). Carriers: access logs of HAProxy, Envoy, Caddy, Traefik, IIS and nginx's
debug log; ``curl -v``, ``tcpdump -A``, Node's ``rawHeaders``, a ``requests`` headers repr; browser storage state,
``cookies.txt``, ``document.cookie``; ``/proc/<pid>/environ`` (NUL-separated), ``strace`` of ``execve`` and ``write``,
``ps auxww``, ``docker history``, Azure Pipelines' ``##vso`` and TeamCity's service messages, ``heroku config``,
``vault kv get`` tables; config in PHP (``define``, arrays), Elixir, Erlang, EDN, HOCON, Nix, Lua, Kotlin, Swift, Rust,
C, C#, Dart, R, PowerShell, batch, Makefiles and Spring's ``${key:default}``; positional passwords of thirty tools and
protocols (``sqlplus u/p@db``, ODBC's ``Pwd={…}``, ``smbclient -U 'D\\u%p'``, IMAP ``LOGIN``, FTP ``PASS``, ``wpa_supplicant``,
``ipsec.secrets``, Cisco ``password 0``, ``CONFIG SET requirepass``…); PHP stack frames' arguments, Rust panics, .NET
exceptions; key names in fourteen languages (JSON-escaped as ``\\uXXXX`` by default); a value base64'd by a CI step and
wrapped at 76 columns, a line wrapped by a terminal at 80, JSON three levels deep, key files with a CI log's timestamp
on every line. Look-alikes (``heldout8_benign``): the public halves of the same key kinds, ids tools print beside a
secret's name, ecosystem hashes, chain ids, headers named ``Key`` that hold none, OAuth requests, code that reads a
secret by name, sentences in ten languages.

Scoring as in the seventh corpus (no run of 8 characters of a secret part, in any form written, survives), plus the
forms these carriers add (C-escaped, ODBC's doubled ``}``, JSON with ``\\uXXXX``).

Seeds: 81-86 for development; **87 and 88 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style8 --seed 81 -v 20
"""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.redact.heldout8_benign import TS, benign
from tests.redact.heldout8_values import Cred, Draw, b64, key_material, password, secret
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, look_alikes, scorer
from tests.redact.heldout_style import key_words as _words
from tests.redact.heldout_style7 import forms as _forms7

RESERVED_SEEDS = (87, 88)


def env(k: str) -> str:
    return "_".join(_words(k)).upper()


def snake(k: str) -> str:
    return "_".join(_words(k))


def kebab(k: str) -> str:
    return "-".join(_words(k))


def camel(k: str) -> str:
    w = _words(k)
    return w[0] + "".join(x.capitalize() for x in w[1:])


def pascal(k: str) -> str:
    return "".join(x.capitalize() for x in _words(k))


def c_str(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


def sq(v: str) -> str:
    """A single-quoted shell word."""
    return "'" + v.replace("'", "'\\''") + "'"


def forms(part: str) -> set[str]:
    """The seventh corpus' forms, and C-escaped, ODBC-braced, JSON with ``\\uXXXX``, and shell-quoted ones."""
    a1 = json.dumps(part)[1:-1]
    a2 = json.dumps(a1)[1:-1]
    return _forms7(part) | {c_str(part), part.replace("}", "}}"), a1, a2, json.dumps(a2)[1:-1], part.replace("'", "'\\''")} - {""}


def survivors(s: Sample, out: str) -> list[str]:
    text = s.body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in s.attrs.items())
    fs = {f for p in s.parts for f in forms(p)}
    context = text
    for f in sorted(fs, key=len, reverse=True):
        context = context.replace(f, "\x01")
    return [w for f in fs for w in ([f[i:i + 8] for i in range(len(f) - 7)] or [f]) if w in out and w not in context]


FOREIGN_PASSWORD = ["Passwort", "mot_de_passe", "contraseña", "senha", "wachtwoord", "hasło", "пароль", "密码", "パスワード",
                    "비밀번호", "şifre", "lösenord", "salasana", "heslo"]
FOREIGN_TOKEN = ["API-Schlüssel", "clé_api", "clave_api", "chave_api", "токен", "ключ_api", "令牌", "密钥", "アクセストークン", "토큰",
                 "jeton_api", "Zugangstoken"]
NGINX = "07/Dec/2026:05:12:44 +0000"
HOSTS = ["db.internal", "10.0.4.21", "ora-prod.acme.io", "nas01.corp.acme.io", "mq.acme.io", "cam-07.site.acme.io"]
USERS = ["app", "admin", "svc_backup", "scott", "deploy", "ops"]

# -- a value under its name: (k, v, d) -> (body, attrs) -------------------------------------------------------------
KEYED = {
    "proc_environ": lambda k, v, d: (f"$ cat /proc/{d.randrange(2, 9999)}/environ\nPATH=/usr/local/bin:/usr/bin\x00HOME=/app\x00"
                                     f"{env(k)}={v}\x00LANG=C.UTF-8\x00", {}),
    "strace_execve": lambda k, v, d: (f'execve("/usr/local/bin/worker", ["worker", "--queue=default"], ["PATH=/usr/bin", '
                                      f'"{env(k)}={c_str(v)}", "HOME=/app"]) = 0', {}),
    "ps_auxww": lambda k, v, d: (f"app {d.randrange(100, 9999)}  2.1  1.3 4242424 212112 ?  Ssl  05:01   0:42 /usr/bin/java "
                                 f"-Xmx512m -Dacme.{camel(k)}={v} -jar /app/app.jar", {}),
    "docker_history": lambda k, v, d: (f"<missing>      2 days ago    RUN |1 {env(k)}={v} /bin/sh -c npm ci --omit=dev # buildkit   "
                                       "312MB     buildkit.dockerfile.v0", {}),
    "azure_vso": lambda k, v, d: (f"2026-12-07T05:12:44.9021234Z ##vso[task.setvariable variable={env(k)};issecret=false]{v}", {}),
    "teamcity": lambda k, v, d: (f"##teamcity[setParameter name='env.{env(k)}' value='{v}']", {}),
    "heroku_config": lambda k, v, d: (f"=== acme-prod Config Vars\nLOG_LEVEL:{' ' * 20}info\n{env(k)}:{' ' * 8}{v}", {}),
    "vault_table": lambda k, v, d: (f"====== Data ======\nKey{' ' * 14}Value\n---{' ' * 14}-----\n{snake(k)}{' ' * 4}{v}\nttl{' ' * 14}768h", {}),
    "php_define": lambda k, v, d: (f"define( '{env(k)}', '{v}' );", {}),
    "php_array": lambda k, v, d: (f"return [\n    'driver' => 'acme',\n    '{snake(k)}' => '{v}',\n    'timeout' => 30,\n];", {}),
    "elixir": lambda k, v, d: (f'config :acme, Acme.Integrations,\n  {snake(k)}: "{c_str(v)}",\n  timeout: 5_000', {}),
    "erlang": lambda k, v, d: (f'[{{acme, [{{{snake(k)}, "{c_str(v)}"}}, {{timeout, 5000}}]}}].', {}),
    "edn": lambda k, v, d: (f'{{:acme/{kebab(k)} "{c_str(v)}" :acme/timeout 5000}}', {}),
    "hocon": lambda k, v, d: (f'acme {{\n  {camel(k)} = "{c_str(v)}"\n  timeout = 5s\n}}', {}),
    "nix": lambda k, v, d: (f'services.acme = {{\n  enable = true;\n  {camel(k)} = "{c_str(v)}";\n}};', {}),
    "lua": lambda k, v, d: (f'local config = {{\n  {snake(k)} = "{c_str(v)}",\n  timeout = 5,\n}}', {}),
    "kotlin": lambda k, v, d: (f'private const val {env(k)} = "{c_str(v)}"', {}),
    "swift": lambda k, v, d: (f'static let {camel(k)} = "{c_str(v)}"', {}),
    "rust_const": lambda k, v, d: (f'pub const {env(k)}: &str = "{c_str(v)}";', {}),
    "c_define": lambda k, v, d: (f'#define {env(k)} "{c_str(v)}"', {}),
    "csharp": lambda k, v, d: (f'private const string {pascal(k)} = "{c_str(v)}";', {}),
    "dart": lambda k, v, d: (f"const String {camel(k)} = '{v}';", {}),
    "r_setenv": lambda k, v, d: (f'Sys.setenv({env(k)} = "{c_str(v)}")', {}),
    "powershell_env": lambda k, v, d: (f"$env:{env(k)} = '{v}'", {}),
    "batch_set": lambda k, v, d: (f"@echo off\nset {env(k)}={v}\ncall deploy.cmd", {}),
    "makefile": lambda k, v, d: (f"{env(k)} ?= {v}\n\ndeploy:\n\t./deploy.sh", {}),
    "spring_default": lambda k, v, d: (f'@Value("${{acme.{kebab(k)}:{v}}}")\nprivate String {camel(k)};', {}),
    "json3": lambda k, v, d: (json.dumps({"ts": TS, "msg": json.dumps({"event": "config", "payload": json.dumps({k: v})})}), {}),
    "json_ascii": lambda k, v, d: (json.dumps({"ts": TS, "level": "info", "config": {k: v, "region": "eu"}}), {}),
    "attr": lambda k, v, d: ("integration configured", {f"acme.{snake(k)}": v}),
}
# -- a value that names itself: (v, d) -> (body, attrs) -------------------------------------------------------------
BARE = {
    "rust_panic": lambda v, d: (f"thread 'main' panicked at src/client.rs:{d.randrange(20, 400)}:10:\ncalled `Result::unwrap()` on an "
                                f'`Err` value: Unauthorized("{c_str(v)}")', {}),
    "php_frame": lambda v, d: (f"PHP Fatal error:  Uncaught Acme\\AuthException: 401\n#0 /var/www/html/src/Client.php(88): "
                               f"Acme\\Client->__construct('{v}', 30)\n#1 {{main}}", {}),
    "dotnet_exception": lambda v, d: (f"System.Net.Http.HttpRequestException: Response status code does not indicate success: 401 "
                                      f"(Unauthorized).\n   at Acme.Sync.Run(String credential = \"{v}\") in /src/Sync.cs:line 42", {}),
    "journald": lambda v, d: (f"Dec 07 05:12:44 web-01 agent[{d.randrange(100, 9999)}]: using credential {v}", {}),
    "iis_w3c": lambda v, d: (f"2026-12-07 05:12:44 10.0.0.4 GET /api/export cb={quote(v, safe='')} 443 - 10.0.0.9 "
                             "Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 31", {}),
    "chat_export": lambda v, d: (json.dumps({"type": "message", "user": "U04ABCDEF", "ts": "1796610067.000200",
                                             "text": f"try this one: {v}"}), {}),
    "markdown_table": lambda v, d: (f"| env | value |\n|---|---|\n| prod | `{v}` |", {}),
    "gitlab_trace": lambda v, d: (f"$ ./scripts/deploy.sh {v}\nDeploying to production...", {}),
}
URL_BARE = {
    "haproxy_referer": lambda u, d: (f"haproxy[{d.randrange(100, 9999)}]: 10.0.0.5:51234 [07/Dec/2026:05:12:44.902] fe_https~ be_api/api-1 "
                                     f'0/0/1/12/13 200 512 - - ---- 1/1/0/0/0 0/0 {{{u}|Mozilla/5.0}} "GET /v1/sync HTTP/1.1"', {}),
    "uvicorn_error": lambda u, d: (f"ERROR:    Exception in ASGI application\nhttpx.HTTPStatusError: Client error '403 Forbidden' for url '{u}'", {}),
    "sentry_breadcrumb": lambda u, d: (json.dumps({"category": "httplib", "data": {"url": u, "method": "POST", "status_code": 200}}), {}),
    "dotnet_request": lambda u, d: (f"info: System.Net.Http.HttpClient.Default.LogicalHandler[100]\n      Start processing HTTP request POST {u}", {}),
}
# -- a header: (name, value, d) -> (body, attrs) --------------------------------------------------------------------
HEADER = {
    "caddy_json": lambda n, v, d: (json.dumps({"level": "info", "ts": 1796610067.4, "logger": "http.log.access", "msg": "handled request",
                                               "request": {"method": "GET", "uri": "/v1/items", "headers": {"Accept": ["*/*"], n: [v]}}}), {}),
    "traefik_json": lambda n, v, d: (json.dumps({"ClientHost": "10.0.0.5", "RequestMethod": "GET", "RequestPath": "/v1/items",
                                                 f"request_{n}": v, "DownstreamStatus": 200}), {}),
    "curl_verbose": lambda n, v, d: (f"> GET /v1/items HTTP/2\n> Host: api.acme.io\n> user-agent: curl/8.11.0\n> {n}: {v}\n> accept: */*\n>", {}),
    "node_raw_headers": lambda n, v, d: (f"IncomingMessage {{ rawHeaders: [ 'Host', 'api.acme.io', '{n}', '{v}', 'Accept', '*/*' ] }}", {}),
    "requests_repr": lambda n, v, d: (f"DEBUG request headers: {{'User-Agent': 'python-requests/2.32.3', '{n}': '{v}', 'Accept': '*/*'}}", {}),
    "tcpdump_ascii": lambda n, v, d: (f"05:12:44.902311 IP 10.0.0.5.51234 > 10.0.0.9.80: Flags [P.], seq 1:211, ack 1, length 210\n"
                                      f"E...c.@.@.......\nGET /v1/items HTTP/1.1\r\nHost: api.acme.io\r\n{n}: {v}\r\n\r\n", {}),
    "nginx_debug": lambda n, v, d: (f'2026/12/07 05:12:44 [debug] 31#31: *{d.randrange(1, 9999)} http header: "{n}: {v}"', {}),
    "otel_attr": lambda n, v, d: ("HTTP GET", {f"http.request.header.{n.lower()}": v, "http.route": "/v1/items"}),
}
HEADER_UNNAMED = {
    "envoy": lambda v, d: (f'[{TS}] "GET /v1/items HTTP/1.1" 200 - 0 512 13 12 "10.0.0.5" "okhttp/4.12.0" "{d.uuid()}" '
                           f'"api.acme.io" "{v}"', {}),
    "haproxy_capture": lambda v, d: (f"haproxy[{d.randrange(100, 9999)}]: 10.0.0.5:51234 [07/Dec/2026:05:12:44.902] fe_https be_api/api-1 "
                                     f'0/0/1/12/13 200 512 - - ---- {{{v}|api.acme.io}} "GET /v1/items HTTP/1.1"', {}),
}
# -- a cookie: (name, value, d) -> (body, attrs) --------------------------------------------------------------------
COOKIE = {
    "cookie_header": lambda n, v, d: (f"GET /account HTTP/1.1\r\nHost: app.acme.io\r\nCookie: _ga=GA1.1.{d.randrange(10**9)}.1796610067; "
                                      f"{n}={v}; theme=dark\r\n", {}),
    "set_cookie": lambda n, v, d: (f"< HTTP/2 302\n< location: /dashboard\n< set-cookie: {n}={v}; Path=/; HttpOnly; Secure; SameSite=Lax", {}),
    "storage_state": lambda n, v, d: (json.dumps({"cookies": [{"name": n, "value": v, "domain": ".acme.io", "path": "/",
                                                               "expires": 1796610067, "httpOnly": True, "secure": True}], "origins": []}), {}),
    "cookies_txt": lambda n, v, d: (f"# Netscape HTTP Cookie File\n.acme.io\tTRUE\t/\tTRUE\t1796610067\t_ga\tGA1.1.42.1\n"
                                    f"app.acme.io\tFALSE\t/\tTRUE\t1796610067\t{n}\t{v}", {}),
    "document_cookie": lambda n, v, d: (f'> document.cookie\n< "theme=dark; {n}={v}; lang=en"', {}),
    "curl_b": lambda n, v, d: (f"curl -sS -b '{n}={v}' https://app.acme.io/api/me", {}),
}


def _pw(p: str) -> str:
    """A password as a shell word."""
    return p if all(c.isalnum() or c in "-_.@%+=:,/" for c in p) else sq(p)


# -- passwords by position: (u, p, h, d) -> body ---------------------------------------------------------------------
PASSWORD = {
    "sqlplus": lambda u, p, h, d: f'sqlplus {u}/"{p}"@{h}:1521/ORCLPDB1',
    "jdbc_oracle": lambda u, p, h, d: f"spring.datasource.url=jdbc:oracle:thin:{u}/{p}@//{h}:1521/ORCL",
    "odbc_braces": lambda u, p, h, d: (f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{h},1433;Database=app;Uid={u};"
                                       f"Pwd={{{p.replace('}', '}}')}}};Encrypt=yes;"),
    "db2": lambda u, p, h, d: f"DATABASE=app;HOSTNAME={h};PORT=50000;PROTOCOL=TCPIP;UID={u};PWD={p};",
    "mongo_create_user": lambda u, p, h, d: f'db.createUser({{ user: "{u}", pwd: "{c_str(p)}", roles: [ "readWrite" ] }})',
    "mongo_auth": lambda u, p, h, d: f'db.auth("{u}", "{c_str(p)}")',
    "neo4j": lambda u, p, h, d: f"CALL dbms.security.createUser('{u}', '{p}', false)",
    "cassandra": lambda u, p, h, d: f"CREATE ROLE {u} WITH PASSWORD = '{p}' AND LOGIN = true;",
    "redis_config_set": lambda u, p, h, d: f'{h}:6379> CONFIG SET requirepass "{c_str(p)}"\nOK',
    "redis_cli": lambda u, p, h, d: f"redis-cli -h {h} -a {sq(p)} --no-auth-warning ping",
    "smbclient": lambda u, p, h, d: f"smbclient //{h}/share -U {sq('ACME' + chr(92) + u + '%' + p)} -c 'ls'",
    "mount_cifs": lambda u, p, h, d: f"mount -t cifs //{h}/backup /mnt/backup -o username={u},password={p},vers=3.0",
    "xfreerdp": lambda u, p, h, d: f"xfreerdp /v:{h} /u:{u} /p:{sq(p)} /cert:ignore",
    "ipmitool": lambda u, p, h, d: f"ipmitool -I lanplus -H {h} -U {u} -P {sq(p)} chassis power status",
    "keytool": lambda u, p, h, d: f"keytool -importkeystore -srckeystore app.p12 -srcstoretype PKCS12 -srcstorepass {_pw(p)} -alias app",
    "openssl_pass": lambda u, p, h, d: f"openssl pkcs12 -export -in cert.pem -inkey key.pem -out app.p12 -passout {sq('pass:' + p)}",
    "seven_zip": lambda u, p, h, d: f"7z a -p{sq(p)} -mhe=on backup.7z /srv/data",
    "lftp": lambda u, p, h, d: f"lftp -u {u},{sq(p)} sftp://{h}",
    "imap_login": lambda u, p, h, d: f'C: a001 LOGIN {u} "{c_str(p)}"\nS: a001 OK LOGIN completed',
    "ftp_pass": lambda u, p, h, d: f"USER {u}\r\n331 Please specify the password.\r\nPASS {p}\r\n230 Login successful.",
    "strace_write": lambda u, p, h, d: f'write(5, "AUTH {c_str(p)}\\r\\n", {len(p.encode()) + 7}) = {len(p.encode()) + 7}',
    "postfix_sasl": lambda u, p, h, d: f"[{h}]:587 {u}@acme.io:{p}",
    "pgbouncer_userlist": lambda u, p, h, d: f'"{u}" "{p}"\n"stats" "md5{d.hex(32)}"',
    "wpa_supplicant": lambda u, p, h, d: f'network={{\n    ssid="acme-office"\n    psk="{p}"\n    key_mgmt=WPA-PSK\n}}',
    "hostapd": lambda u, p, h, d: f"interface=wlan0\nssid=acme-guest\nwpa=2\nwpa_passphrase={p}\nrsn_pairwise=CCMP",
    "ipsec_secrets": lambda u, p, h, d: f'{h} %any : PSK "{p}"',
    "keepalived": lambda u, p, h, d: f"vrrp_instance VI_1 {{\n    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}\n}}",
    "cisco": lambda u, p, h, d: f"!\nusername {u} privilege 15 password 0 {p}\n!",
    "snmp_community": lambda u, p, h, d: f"snmp-server community {p} RO 10\nsnmp-server location dc1",
    "muttrc": lambda u, p, h, d: f'set smtp_url = "smtps://{u}@{h}:465/"\nset smtp_pass = "{c_str(p)}"',
    "fetchmailrc": lambda u, p, h, d: f'poll {h} protocol IMAP user "{u}" password "{c_str(p)}" ssl',
    "powershell_cred": lambda u, p, h, d: f"$cred = New-Object PSCredential('{u}', (ConvertTo-SecureString {sq(p)} -AsPlainText -Force))",
    "rtsp": lambda u, p, h, d: f'ffmpeg -i "rtsp://{u}:{quote(p, safe="")}@{h}:554/Streaming/Channels/101" -c copy out.mp4',
    "nats_url": lambda u, p, h, d: f"[INF] Connected to nats://{u}:{quote(p, safe='')}@{h}:4222",
    "mosquitto_pub": lambda u, p, h, d: f"mosquitto_pub -h {h} -u {u} -P {sq(p)} -t sensors/temp -m 21.5",
    "snowflake": lambda u, p, h, d: f"snowflake://{u}:{quote(p, safe='')}@acme-xy12345/analytics?warehouse=WH",
    "elixir_repo": lambda u, p, h, d: f'config :acme, Acme.Repo,\n  username: "{u}",\n  password: "{c_str(p)}",\n  hostname: "{h}"',
    "mongo_log_json": lambda u, p, h, d: json.dumps({"t": {"$date": TS}, "s": "I", "c": "COMMAND", "msg": "Slow query",
                                                     "attr": {"command": {"createUser": u, "pwd": p, "roles": []}}}),
    "elastic_reset": lambda u, p, h, d: f"Password for the [elastic] user successfully reset.\nNew value: {p}",
}
# -- key material's containers: (text, d) -> (body, attrs) ----------------------------------------------------------
BLOCK = {
    "cat": lambda t, d: (f"$ cat ~/.config/keys/{d.pick(['app', 'release', 'vpn'])}.key\n{t}", {}),
    "json_content": lambda t, d: (json.dumps({"path": "/etc/acme/key", "mode": "0600", "content": t}), {}),
    "ovpn_inline": lambda t, d: (f"client\ndev tun\nremote vpn.acme.io 1194\n<tls-crypt>\n{t}</tls-crypt>\nverb 3", {}),
    "configmap": lambda t, d: ("apiVersion: v1\nkind: ConfigMap\ndata:\n  key.txt: |\n" + "".join(f"    {ln}\n" for ln in t.splitlines()), {}),
    "ci_timestamps": lambda t, d: ("".join(f"2026-12-07T05:12:{44 + i // 10:02d}.{d.randrange(10**7):07d}Z {ln}\n"
                                           for i, ln in enumerate(["$ cat $KEY_FILE"] + t.splitlines())), {}),
}


def _wrapped_b64(v: str, d: Draw) -> tuple[str, tuple[str, ...]]:
    """``echo -n "$X" | base64`` in a CI log: the value's base64, wrapped at 76 columns."""
    enc = b64(v)
    lines = [enc[i:i + 76] for i in range(0, len(enc), 76)]
    body = "+ echo -n \"$SECRET\" | base64\n" + "\n".join(lines) + "\n+ ./upload.sh"
    return body, tuple(ln for ln in lines if len(ln) >= 8)


def _terminal_wrap(k: str, c: Cred, d: Draw) -> tuple[str, tuple[str, ...]]:
    """``export K=v`` in a terminal capture that wraps at 80 columns; the parts are the secret parts' pieces."""
    line = f"$ export {env(k)}={c.value}"
    pieces = [line[i:i + 80] for i in range(0, len(line), 80)]
    parts = []
    for p in c.parts:
        at = line.find(p)
        cuts = [at] + [b for b in range(80, len(line), 80) if at < b < at + len(p)] + [at + len(p)]
        parts += [line[x:y] for x, y in zip(cuts, cuts[1:])]
    return "\n".join(pieces) + "\n$ ./deploy.sh", tuple(p for p in parts if len(p) >= 8)


def place(d: Draw, c: Cred) -> Sample:
    if c.shape == "block":
        name = d.pick(sorted(BLOCK))
        return _finish(c, "block_" + name, *BLOCK[name](c.value, d))
    if c.shape == "cookie":
        name = d.pick(sorted(COOKIE))
        return _finish(c, "cookie_" + name, *COOKIE[name](c.keys[0], c.value, d))
    if c.shape == "header":
        if " " in c.value and d.random() < 0.25:
            name = d.pick(sorted(HEADER_UNNAMED))
            return _finish(c, "hdr_" + name, *HEADER_UNNAMED[name](c.value, d))
        name = d.pick(sorted(HEADER))
        return _finish(c, "hdr_" + name, *HEADER[name](c.keys[0], c.value, d))
    if c.shape == "password" and d.random() < 0.6:
        name = d.pick(sorted(PASSWORD))
        return _finish(c, "pw_" + name, PASSWORD[name](d.pick(USERS), c.value, d.pick(HOSTS), d), {})
    if c.shape == "url" and d.random() < 0.5:
        name = d.pick(sorted(URL_BARE))
        return _finish(c, "url_" + name, *URL_BARE[name](c.value, d))
    if c.shape == "token" and d.random() < 0.35:
        name = d.pick(sorted(BARE))
        return _finish(c, "bare_" + name, *BARE[name](c.value, d))
    k = d.pick(c.keys)
    if d.random() < 0.15:
        k = d.pick(FOREIGN_PASSWORD if c.shape == "password" else FOREIGN_TOKEN)
    r = d.random()
    if r < 0.06 and c.shape in ("token", "opaque"):
        body, parts = _wrapped_b64(c.value, d)
        return _finish(c, "enc_b64_wrapped", body, {}, parts)
    if r < 0.12 and len(c.value) > 70:
        body, parts = _terminal_wrap(k, c, d)
        return _finish(c, "enc_terminal_wrap", body, {}, parts)
    name = d.pick(sorted(KEYED))
    return _finish(c, "kv_" + name, *KEYED[name](k, c.value, d))


def _finish(c: Cred, carrier: str, body: str, attrs: dict, parts: tuple[str, ...] | None = None) -> Sample:
    parts = c.parts if parts is None else parts
    text = body + "\x00" + "\x00".join(f"{k}\x00{x}" for k, x in attrs.items())
    kept = tuple(p for p in parts if any(f in text for f in forms(p)))
    if not kept:
        raise AssertionError(f"generator error: no part of {c.kind} is written in {carrier}: {parts} / {body[:200]!r}")
    return Sample(c.family, c.kind, carrier, body, attrs, kept)


def generate(seed: int, *, per_family: int = 150, benign_rounds: int = 5) -> list[Sample]:
    """``3 * per_family`` token-like secrets, ``per_family`` passwords and a third as much key material, then the
    look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    out = [place(d, secret(d)) for _ in range(3 * per_family)]
    out += [place(d, password(d)) for _ in range(per_family)]
    out += [place(d, key_material(d)) for _ in range(per_family // 3)]
    return out + look_alikes(benign, d, benign_rounds)


run = scorer(survivors, Figures, "heldout8")


def main() -> None:
    cli(__doc__, generate, run, seed=81, size="per_family", default=150)


if __name__ == "__main__":
    main()

