"""A seventh held-out-style corpus, written apart from the first six on 2026-12-07 **before opening
``src/ben/redact/``** and without reading the earlier corpora's values (read: ADR 0030's revision 10 context, and
the harness the corpora share — ``heldout_style.Sample``/``score``/``cli``, ``heldout_style4.forms``).

The question this time: a stranger's corpus of 2026 — credentials of ~90 kinds from the vendors a service talks to
(``heldout7_values``: clouds big and small, AI platforms, payments, messaging, source hosting and CI, secrets
managers, observability, database passwords, JWTs, private keys as PEM, OpenSSH, PuTTY and PGP), written where the
earlier corpora did not write them: CSV rows, SOAP envelopes, protobuf text, HCL, TOML tables, SQL INSERTs, source
literals (Python ``os.getenv`` defaults, JS objects, Go struct literals, Gradle's quoted-in-quoted
``buildConfigField``), Jupyter notebooks, HAR files, syslog lines, Dockerfiles, systemd units, ``web.config``,
``.netrc``/``.npmrc``/``.pypirc``, docker ``config.json``, Terraform state, Kubernetes Secret YAML, shell history,
JSON as PHP writes it (``\\/``) and as Go writes it (``\\u0026``), a shell command quoted inside a JSON string inside
a log. Look-alikes (``heldout7_benign``): ids, digests, encodings, public material, placeholders, documentation
examples and masks a service logs beside them.

Scoring as in the fourth corpus, plus the two JSON dialects: no run of 8 characters of a secret part, in any form
written, survives anywhere in the event.

    python -m tests.redact.heldout_style7 --seed 71 -v 20
"""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.redact.heldout7_benign import TS, benign
from tests.redact.heldout7_values import Cred, Draw, b64, password, private_key, token
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, look_alikes, scorer
from tests.redact.heldout_style import key_words as _words
from tests.redact.heldout_style4 import forms as _forms4


def env(k: str) -> str:
    return "_".join(_words(k)).upper()


def snake(k: str) -> str:
    return "_".join(_words(k))


def camel(k: str) -> str:
    w = _words(k)
    return w[0] + "".join(x.capitalize() for x in w[1:])


def pascal(k: str) -> str:
    return "".join(x.capitalize() for x in _words(k))


def header(k: str) -> str:
    return "-".join(x.capitalize() for x in _words(k))


def php(v: str) -> str:
    """A JSON string as PHP's ``json_encode`` writes it (``/`` escaped), quotes included."""
    return json.dumps(v).replace("/", "\\/")


def go_json(v: str) -> str:
    """A JSON string as Go's ``encoding/json`` writes it (``<``, ``>``, ``&`` escaped), quotes included."""
    return json.dumps(v).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def forms(part: str) -> set[str]:
    """The fourth corpus' forms and the two JSON dialects."""
    return _forms4(part) | {php(part)[1:-1], go_json(part)[1:-1], quote(part, safe="/:")} - {""}


def survivors(s: Sample, out: str) -> list[str]:
    """Runs of 8 characters of the secret parts (any form) found in ``out`` and not in the carrier."""
    text = s.body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in s.attrs.items())
    fs = {f for p in s.parts for f in forms(p)}
    context = text
    for f in sorted(fs, key=len, reverse=True):
        context = context.replace(f, "\x01")
    return [w for f in fs for w in ([f[i:i + 8] for i in range(len(f) - 7)] or [f]) if w in out and w not in context]


SYSLOG = "<134>Dec  7 02:41:07 web-01"
NGINX = "07/Dec/2026:02:41:07 +0000"


# -- a value under its name: (k, v, d) -> (body, attrs) --------------------------------------------------------------
KEYED = {
    "csv_row": lambda k, v, d: (f"service,environment,{snake(k)},rotated_at\nbilling,prod,\"{v.replace(chr(34), chr(34) * 2)}\","
                                "2026-11-30", {}),
    "soap": lambda k, v, d: ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                             f"<ns1:Configure><ns1:{pascal(k)}>{v.replace('&', '&amp;').replace('<', '&lt;')}</ns1:{pascal(k)}>"
                             "<ns1:Region>eu-central-1</ns1:Region></ns1:Configure></soapenv:Body></soapenv:Envelope>", {}),
    "proto_text": lambda k, v, d: (f"config {{\n  endpoint: \"https://api.acme.io\"\n  credentials {{\n    {snake(k)}: "
                                   f"{json.dumps(v)}\n  }}\n  timeout_ms: 5000\n}}", {}),
    "hcl": lambda k, v, d: (f'provider "acme" {{\n  region    = "eu-west-1"\n  {snake(k)} = {json.dumps(v)}\n}}', {}),
    "toml_table": lambda k, v, d: (f'[integrations.billing]\nenabled = true\n{snake(k)} = {json.dumps(v)}\nretries = 3', {}),
    "sql_insert": lambda k, v, d: (f"INSERT INTO integrations (id, provider, {snake(k)}, created_at) VALUES ({d.randrange(999)}, "
                                   f"'acme', '{v.replace(chr(39), chr(39) * 2)}', now());", {}),
    "py_getenv": lambda k, v, d: (f'{env(k)} = os.getenv("{env(k)}", "{v}")', {}),
    "js_object": lambda k, v, d: (f"const client = new Client({{ {camel(k)}: '{v}', timeout: 5000 }});", {}),
    "go_struct": lambda k, v, d: (f'cfg := &Config{{\n\tEndpoint: "https://api.acme.io",\n\t{pascal(k)}: "{v}",\n}}', {}),
    "gradle": lambda k, v, d: (f'buildConfigField("String", "{env(k)}", "\\"{v}\\"")', {}),
    "jupyter": lambda k, v, d: (json.dumps({"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [],
                                                       "source": ["import os\n", f'os.environ["{env(k)}"] = "{v}"\n']}],
                                            "nbformat": 4, "nbformat_minor": 5}, indent=1), {}),
    "har": lambda k, v, d: (json.dumps({"log": {"entries": [{"request": {"method": "POST", "url": "https://api.acme.io/v1/jobs",
                                                                         "headers": [{"name": "Content-Type", "value": "application/json"},
                                                                                     {"name": header(k), "value": v}]}}]}}), {}),
    "syslog": lambda k, v, d: (f"{SYSLOG} billing[{d.randrange(99999)}]: settings loaded: {{'{snake(k)}': '{v}', 'region': 'eu'}}", {}),
    "nginx_query": lambda k, v, d: (f'10.0.{d.randrange(255)}.{d.randrange(255)} - - [{NGINX}] "GET /v1/hooks/ingest?source=web&'
                                    f'{snake(k)}={quote(v, safe="")} HTTP/1.1" 204 0 "-" "okhttp/4.12.0"', {}),
    "dockerfile": lambda k, v, d: (f"Step 7/12 : ENV {env(k)}={v}\n ---> Running in {d.hex(12)}", {}),
    "systemd": lambda k, v, d: (f'[Service]\nUser=app\nEnvironment="{env(k)}={v}"\nExecStart=/usr/bin/app serve', {}),
    "php_json": lambda k, v, d: ('{"status":"ok","config":{"' + snake(k) + '":' + php(v) + ',"endpoint":"https:\\/\\/api.acme.io"}}', {}),
    "go_json_url": lambda k, v, d: ('{"level":"error","msg":"request failed","url":'
                                    + go_json(f"https://api.acme.io/v1/export?format=csv&{snake(k)}={quote(v, safe='')}&page=2") + "}", {}),
    "cmd_in_json": lambda k, v, d: (json.dumps({"ts": TS, "event": "exec", "cmd": f"sh -c \"curl -sS -d '{json.dumps({snake(k): v})}' "
                                                                                 "https://api.acme.io/v1/config\""}), {}),
    "yaml_flow": lambda k, v, d: (f"integrations: {{ billing: {{ {snake(k)}: {json.dumps(v)}, ttl: 30 }} }}", {}),
    "terraform_state": lambda k, v, d: (json.dumps({"version": 4, "terraform_version": "1.9.8", "resources": [{
        "mode": "managed", "type": "acme_integration", "name": "billing", "instances": [{"schema_version": 0, "attributes": {
            "id": str(d.randrange(10**6)), snake(k): v, "name": "billing"}, "sensitive_attributes": []}]}]}, indent=2), {}),
    "k8s_secret_yaml": lambda k, v, d: (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing\ntype: Opaque\ndata:\n"
                                        f"  {env(k)}: {b64(v)}\n", {}),
    "attr": lambda k, v, d: ("integration configured", {f"app.{snake(k)}": v}),
}
# -- a value that names itself: (v, d) -> (body, attrs) ---------------------------------------------------------------
BARE = {
    "shell_history": lambda v, d: (f"  {d.randrange(100, 2000)}  cd ~/src/api\n  {d.randrange(100, 2000)}  ./scripts/smoke.sh {v} --env prod", {}),
    "markdown": lambda v, d: (f"comment by ops: this works for me\n```\n{v}\n```\nthanks!", {}),
    "java_exception": lambda v, d: (f"Caused by: com.acme.client.AuthException: rejected credential {v}\n\tat com.acme.client.Http.send"
                                    "(Http.java:212)", {}),
    "csv_note": lambda v, d: (f"date,user,note,status\n2026-12-07,deploy-bot,rotated to {v},active", {}),
    "json_args": lambda v, d: (json.dumps({"ts": TS, "msg": "spawn", "argv": ["/usr/bin/uploader", "--quiet", v]}), {}),
}
# -- passwords: (user, pw, host, d) -> body ---------------------------------------------------------------------------
PASSWORD = {
    "postgres_uri": lambda u, p, h, d: f"DATABASE_URL=postgresql://{u}:{quote(p, safe='')}@{h}:5432/app?sslmode=require",
    "mysql_uri": lambda u, p, h, d: f"connecting to mysql://{u}:{quote(p, safe='')}@{h}:3306/shop",
    "mongo_srv": lambda u, p, h, d: json.dumps({"mongo": {"uri": f"mongodb+srv://{u}:{quote(p, safe='')}@cluster0.x1yz2.mongodb.net/app"}}),
    "redis_uri": lambda u, p, h, d: f"celery broker: redis://:{quote(p, safe='')}@{h}:6379/0",
    "amqp_uri": lambda u, p, h, d: f"{SYSLOG} worker[88]: connecting to amqp://{u}:{quote(p, safe='')}@{h}:5672/%2F",
    "clickhouse_uri": lambda u, p, h, d: f"clickhouse://{u}:{quote(p, safe='')}@{h}:9000/analytics?secure=true",
    "basic_auth_url": lambda u, p, h, d: f'10.0.0.9 - - [{NGINX}] "GET https://{u}:{quote(p, safe="")}@{h}/metrics HTTP/1.1" 401 0',
    "netrc": lambda u, p, h, d: f"machine {h}\n  login {u}\n  password {p}\n",
    "pypirc": lambda u, p, h, d: f"[distutils]\nindex-servers = private\n\n[private]\nrepository = https://{h}/simple\nusername = {u}\npassword = {p}\n",
    "docker_config": lambda u, p, h, d: json.dumps({"auths": {h: {"auth": b64(f"{u}:{p}")}}}, indent="\t"),
    "web_config": lambda u, p, h, d: (f'<connectionStrings><add name="Default" connectionString="Server={h};Database=app;User Id={u};'
                                      f'Password={p.replace("&", "&amp;").replace(chr(34), "&quot;")};" providerName="System.Data.SqlClient" />'
                                      "</connectionStrings>"),
    "soap_wsse": lambda u, p, h, d: (f"<wsse:UsernameToken><wsse:Username>{u}</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/"
                                     f"wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">{p.replace('&', '&amp;')}"
                                     "</wsse:Password></wsse:UsernameToken>"),
    "shell_history_pw": lambda u, p, h, d: f"  {d.randrange(100, 2000)}  sshpass -p '{p}' ssh {u}@{h}",
}
# -- a token file: (v, d) -> (body, attrs) -----------------------------------------------------------------------------
TOKEN_FILES = {
    "npmrc": lambda v, d: (f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={v}\nalways-auth=true", {}),
    "netrc_token": lambda v, d: (f"machine api.github.com login x-access-token password {v}", {}),
    "pypirc_token": lambda v, d: (f"[pypi]\nusername = __token__\npassword = {v}\n", {}),
    "har_bearer": lambda v, d: (json.dumps({"request": {"method": "GET", "url": "https://api.acme.io/v1/me", "headers": [
        {"name": "authorization", "value": f"Bearer {v}"}]}}), {}),
}
# -- a private key's container: (text, d) -> (body, attrs) -------------------------------------------------------------
KEYS = {
    "raw": lambda t, d: (f"read key from /etc/ssl/private/app.key:\n{t}", {}),
    "terraform_state": lambda t, d: (json.dumps({"type": "tls_private_key", "instances": [{"attributes": {
        "algorithm": "RSA", "private_key_pem": t, "public_key_fingerprint_md5": ":".join(d.hex(2) for _ in range(16))}}]}), {}),
    "hcl_heredoc": lambda t, d: (f'resource "acme_cert" "api" {{\n  private_key = <<EOT\n{t}EOT\n}}', {}),
    "jupyter_output": lambda t, d: (json.dumps({"cell_type": "code", "outputs": [{"name": "stdout", "output_type": "stream",
                                                                                "text": t.splitlines(keepends=True)}]}), {}),
    "csv_cell": lambda t, d: (f"name,key,created\napi-signing,\"{t}\",2026-12-01", {}),
    "py_literal": lambda t, d: (f'SIGNING_KEY = """\n{t}"""', {}),
    "k8s_string_data": lambda t, d: ("apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: |\n"
                                     + "".join(f"    {ln}\n" for ln in t.splitlines()), {}),
}
HOSTS = ["db.internal", "10.0.3.17", "pg.eu-west-1.rds.amazonaws.com", "redis-master.cache.svc", "mq.acme.io", "ch-01.acme.io",
         "registry.acme.io", "nexus.acme.io"]
USERS = ["app", "admin", "deploy", "svc_billing", "postgres", "ci-bot"]


def place(d: Draw, c: Cred) -> Sample:
    if c.shape == "pem":
        name = d.pick(sorted(KEYS))
        return _finish(c, "key_" + name, *KEYS[name](c.value, d))
    if c.shape == "password":
        r = d.random()
        if r < 0.6:
            name = d.pick(sorted(PASSWORD))
            body = PASSWORD[name](d.pick(USERS), c.value, d.pick(HOSTS), d)
            parts = c.parts
            if name == "docker_config":
                parts = tuple(v["auth"] for v in json.loads(body)["auths"].values())
            return _finish(c, "pw_" + name, body, {}, parts)
    if c.shape == "blob":
        name = d.pick(["k8s_secret_yaml", "terraform_state", "attr", "php_json", "json_file"])
        if name == "json_file":
            return _finish(c, "blob_json_file", f"wrote {d.pick(c.keys).lower()}.json:\n{c.value}", {})
    elif c.shape == "token" and d.random() < 0.35:
        if d.random() < 0.3:
            name = d.pick(sorted(TOKEN_FILES))
            return _finish(c, "file_" + name, *TOKEN_FILES[name](c.value, d))
        name = d.pick(sorted(BARE))
        return _finish(c, "bare_" + name, *BARE[name](c.value, d))
    else:
        name = d.pick(sorted(KEYED))
    body, attrs = KEYED[name](d.pick(c.keys), c.value, d)
    parts = c.parts
    if name == "k8s_secret_yaml":
        parts = (b64(c.value),)
    return _finish(c, ("blob_" if c.shape == "blob" else "kv_") + name, body, attrs, parts)


def _finish(c: Cred, carrier: str, body: str, attrs: dict, parts: tuple[str, ...] | None = None) -> Sample:
    parts = c.parts if parts is None else parts
    text = body + "\x00" + "\x00".join(f"{k}\x00{x}" for k, x in attrs.items())
    kept = tuple(p for p in parts if any(f in text for f in forms(p)))
    if not kept:
        raise AssertionError(f"generator error: no part of {c.kind} is written in {carrier}: {parts} / {body[:200]!r}")
    return Sample(c.family, c.kind, carrier, body, attrs, kept)


def generate(seed: int, *, per_family: int = 150, benign_rounds: int = 5) -> list[Sample]:
    """``2 * per_family`` tokens, ``per_family`` passwords and a third as many private keys, then the look-alikes."""
    d = Draw(seed)
    out = [place(d, token(d)) for _ in range(2 * per_family)]
    out += [place(d, password(d)) for _ in range(per_family)]
    out += [place(d, private_key(d)) for _ in range(per_family // 3)]
    return out + look_alikes(benign, d, benign_rounds)


run = scorer(survivors, Figures, "heldout7")


def main() -> None:
    cli(__doc__, generate, run, seed=71, size="per_family", default=150)


if __name__ == "__main__":
    main()
