"""A fourth held-out-style corpus, written apart from the first three on 2026-12-06 **before opening
``src/ben/redact/``** (read: ADR 0030's method, the docs' list of what is masked by default — secrets, e-mails,
phone numbers, cards, IBANs, named national IDs —, and the first three corpora's kind and carrier lists, only
to avoid repeating them).

What a stranger building a held-out set in 2026 would add: token formats of AI vendors and developer platforms
of 2024-2026 (``heldout4_values``), cloud session credentials, presigned and SAS URLs, private keys cut into log
lines by a log shipper (Heroku/CRI/docker json-file prefixes, one JSON record a line, a JSON array of lines,
base64 in a kubeconfig), DSNs of many databases and brokers, passwords on logged command lines of twenty tools
and in config files of fourteen, SQL and login bodies (form, JSON, GraphQL), OAuth token responses and form
bodies, signed session cookies, personal data (``heldout4_lines``) — in carriers a 2026 pipeline carries: debug
dumps of nine languages (Ruby 3.4 and legacy hash inspect, Elixir maps, Java toString and Lombok, Rust Debug,
Go ``%+v``, PHP print_r/var_dump, Perl Data::Dumper, C# anonymous objects, Python bytes reprs), RFC 5424
structured data, CEF, nginx access logs, double URL-encoding, Kubernetes Secret ``data`` (base64), docker
json-file and journald records, ECS JSON, MCP server configs, OpenTelemetry GenAI attributes (tool-call
arguments and input messages as JSON strings), HCL variables, TOML inline tables, XML CDATA, CSV and Markdown
tables, gRPC metadata, HTTP/2 pseudo-headers, PowerShell, ``gh``/``aws``/``dotnet`` CLIs. Look-alikes
(``heldout4_benign``) must come out unchanged.

Scoring as in the earlier corpora: a secret is caught only if no run of 8 characters of its secret parts, in any
form it was written in (plus double URL-encoding), survives anywhere in the event.

    python -m tests.redact.heldout_style4 --seed 41 -v 20
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.redact import heldout4_lines  # noqa: F401  (its kinds register themselves)
from tests.redact.heldout4_benign import benign
from tests.redact.heldout4_values import REG, Draw, Value, b64_piece
from tests.redact.heldout_style import Sample, cli, look_alikes, scorer
from tests.redact.heldout_style import key_words as _words
from tests.redact.heldout_style3 import Figures
from tests.redact.heldout_style3 import forms as _forms3


def _env(k):
    return "_".join(_words(k)).upper()


def _snake(k):
    return "_".join(_words(k))


def _camel(k):
    w = _words(k)
    return w[0] + "".join(x.title() for x in w[1:])


def _pascal(k):
    return "".join(x.title() for x in _words(k))


def _dash(k):
    return "-".join(_words(k))


def _j(v):
    return json.dumps(v)


TS = "2026-12-06T10:15:02.481Z"
KEYED = {
    "ruby_inspect": lambda k, v: (f'config loaded: {{host: "db.internal", {_snake(k)}: {_j(v)}, pool: 5}}', {}),
    "ruby_legacy": lambda k, v: (f'Processing by SessionsController#create as JSON\n  Parameters: {{"user"=>{{"{_snake(k)}"=>{_j(v)}}}}}', {}),
    "elixir_map": lambda k, v: (f"[info] Repo config: %{{hostname: \"db\", {_snake(k)}: {_j(v)}, pool_size: 10}}", {}),
    "java_tostring": lambda k, v: (f"DataSourceProperties{{url='jdbc:postgresql://db:5432/app', {_camel(k)}='{v}', poolSize=10}}", {}),
    "lombok": lambda k, v: (f"Created client ClientConfig(baseUrl=https://api.acme.io, {_camel(k)}={v}, timeout=PT30S)", {}),
    "rust_debug": lambda k, v: (f'DEBUG app::cfg: loaded Settings {{ endpoint: "https://api.acme.io", {_snake(k)}: {_j(v)}, retries: 3 }}', {}),
    "go_plusv": lambda k, v: (f"cfg: {{Endpoint:https://api.acme.io {_pascal(k)}:{v} Timeout:30s}}", {}),
    "php_print_r": lambda k, v: (f"Array\n(\n    [host] => db.internal\n    [{_snake(k)}] => {v}\n    [port] => 3306\n)", {}),
    "php_var_dump": lambda k, v: (f'array(2) {{\n  ["host"]=>\n  string(11) "db.internal"\n  ["{_snake(k)}"]=>\n  string({len(v)}) "{v}"\n}}', {}),
    "perl_dumper": lambda k, v: (f"$VAR1 = {{\n          'host' => 'db.internal',\n          '{_snake(k)}' => '{v}'\n        }};", {}),
    "csharp_anon": lambda k, v: (f"Options: {{ Endpoint = https://api.acme.io, {_pascal(k)} = {v}, Retries = 3 }}", {}),
    "py_bytes": lambda k, v: (f"kwargs={{'host': 'db.internal', '{_snake(k)}': b{v!r}}}", {}),
    "syslog_sd": lambda k, v: (f'<134>1 {TS} web-1 api 2211 CFG [meta@32473 {_snake(k)}="{v}" tenant="42"] configuration applied', {}),
    "cef": lambda k, v: (f"CEF:0|Acme|Gateway|3.1|100|config loaded|3|src=10.0.0.1 cs1Label={_camel(k)} cs1={v} act=allow", {}),
    "nginx_query": lambda k, v: (f'10.0.0.1 - - [06/Dec/2026:10:15:02 +0000] "GET /api/v1/export?{_snake(k)}={quote(v, safe="")}&format=csv HTTP/1.1" '
                                 '200 512 "-" "python-requests/2.32.3"', {}),
    "double_urlencoded": lambda k, v: ("redirect to /login?next=" + quote(f"/oauth/cb?{_snake(k)}={quote(v, safe='')}&s=1", safe=""), {}),
    "k8s_secret_data": lambda k, v: (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-env\n  namespace: prod\ntype: Opaque\ndata:\n"
                                     f"  {_env(k)}: {base64.b64encode(v.encode()).decode()}\n", {}),
    "docker_json_file": lambda k, v: (json.dumps({"log": f"{_env(k)}={v}\n", "stream": "stderr", "time": TS}), {}),
    "journald": lambda k, v: (f"MESSAGE=startup: {_snake(k)}={v}\n_SYSTEMD_UNIT=app.service\n_PID=2211\nPRIORITY=6", {}),
    "ecs_message": lambda k, v: (json.dumps({"@timestamp": TS, "log.level": "info", "message": f"config {_snake(k)}={v} applied",
                                             "service.name": "api"}), {}),
    "mcp_config": lambda k, v: (json.dumps({"mcpServers": {"acme": {"command": "npx", "args": ["-y", "@acme/mcp-server"],
                                                                    "env": {_env(k): v}}}}, indent=2), {}),
    "genai_tool_args": lambda k, v: ("execute_tool configure_integration", {"gen_ai.tool.name": "configure_integration",
                                                                            "gen_ai.tool.call.arguments": json.dumps({_snake(k): v, "region": "eu"})}),
    "genai_messages": lambda k, v: ("chat", {"gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
        {"type": "text", "content": f"why does this fail?\n{_env(k)}={v}\nREGION=eu"}]}])}),
    "hcl_variable": lambda k, v: (f'variable "{_snake(k)}" {{\n  type      = string\n  sensitive = false\n  default   = {_j(v)}\n}}', {}),
    "toml_inline": lambda k, v: (f'upstream = {{ url = "https://api.acme.io", {_snake(k)} = {_j(v)}, timeout = 30 }}', {}),
    "xml_cdata": lambda k, v: (f"<config><endpoint>https://api.acme.io</endpoint><{_camel(k)}><![CDATA[{v}]]></{_camel(k)}></config>", {}),
    "csv_table": lambda k, v: (f"name,{_snake(k)},region\nbilling,{_j(v) if ',' in v else v},eu-west-1", {}),
    "markdown_table": lambda k, v: (f"| service | {_snake(k)} |\n|---|---|\n| billing | {v} |", {}),
    "grpc_metadata": lambda k, v: (f"rpc error: metadata=map[:authority:[api.internal:443] {_dash(k)}:[{v}] content-type:[application/grpc]]", {}),
    "http2_headers": lambda k, v: (f":method: POST\n:path: /v1/sync\n:authority: api.acme.io\n{_dash(k)}: {v}\ncontent-type: application/json", {}),
    "powershell_env": lambda k, v: (f"PS C:\\deploy> $env:{_env(k)} = '{v}'", {}),
    "gh_secret_set": lambda k, v: (f"+ gh secret set {_env(k)} --repo acme/api --body \"{v}\"", {}),
    "aws_ssm_put": lambda k, v: (f"aws ssm put-parameter --name /prod/api/{_snake(k)} --value '{v}' --type SecureString --overwrite", {}),
    "dotnet_secrets": lambda k, v: (f'dotnet user-secrets set "Upstream:{_pascal(k)}" "{v}"', {}),
    "url_full_attr": lambda k, v: ("GET", {"url.full": f"https://api.acme.io/v1/export?{_snake(k)}={quote(v, safe='')}&page=2",
                                          "http.response.status_code": "200"}),
    "declare_x": lambda k, v: (f'declare -x HOME="/root"\ndeclare -x {_env(k)}="{v}"\ndeclare -x PATH="/usr/bin"', {}),
}
BARE = {
    "genai_prompt": lambda v: ("chat", {"gen_ai.prompt": f"my requests fail with 401, I'm using {v} - what's wrong?"}),
    "http_exception": lambda v: (f"requests.exceptions.HTTPError: 401 Client Error: Unauthorized (credential {v} rejected)", {}),
    "chat_alert": lambda v: (f":rotating_light: secret scanner: leaked credential in #eng-builds -> {v}", {}),
    "shell_pipe": lambda v: (f"$ echo {v} | gh auth login --with-token", {}),
    "cmdline_attr": lambda v: ("process started", {"process.command_line": f"/usr/local/bin/agent --token {v} --log-level=debug"}),
    "neutral_attr": lambda v: ("cfg", {"app.settings.value": v}),
    "heroku_line": lambda v: (f"2026-12-06T10:15:02.481462+00:00 app[worker.1]: using credential {v}", {}),
    "cri_line": lambda v: (f"{TS} stderr F auth: presented {v}", {}),
    "json_list": lambda v: (json.dumps({"level": "debug", "candidates": ["none", v]}), {}),
}
URL = {
    "sqlalchemy_error": lambda v: ("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection failed\n"
                                   f"[url: {v}]\n(Background on this error at: https://sqlalche.me/e/20/e3q8)", {}),
    "celery_banner": lambda v: (f" -------------- celery@worker-1 v5.4.0\n- ** ---------- .> transport:   {v}\n- ** ---------- .> results:     disabled://", {}),
    "cli_quoted": lambda v: (f'+ psql "{v}" -c "select 1"', {}),
    "py_kwargs": lambda v: (f"create_pool(dsn={v!r}, min_size=2)", {}),
    "docker_json_file": lambda v: (json.dumps({"log": f"connecting to {v}\n", "stream": "stdout", "time": TS}), {}),
    "neutral_attr": lambda v: ("connected", {"app.config.broker": v}),
    "syslog_sd": lambda v: (f'<11>1 {TS} worker-1 etl 77 CONN [conn uri="{v}"] retrying', {}),
    "helm_values": lambda v: (f"externalDatabase:\n  enabled: true\n  url: {v}\n", {}),
}


def _pfx(lines, prefix):
    return "\n".join(prefix(i) + ln for i, ln in enumerate(lines))


PEM = {
    "heroku_lines": lambda v: (_pfx(v.splitlines(), lambda i: f"2026-12-06T10:15:02.{481000 + i:06d}+00:00 app[web.1]: "), {}),
    "cri_lines": lambda v: (_pfx(v.splitlines(), lambda i: f"2026-12-06T10:15:02.{481 + i:03d}Z stdout F "), {}),
    "syslog_lines": lambda v: (_pfx(v.splitlines(), lambda i: "Dec  6 10:15:02 web-1 app[2211]: "), {}),
    "docker_json_lines": lambda v: ("\n".join(json.dumps({"log": ln + "\n", "stream": "stdout", "time": TS}) for ln in v.splitlines()), {}),
    "json_array": lambda v: (json.dumps({"event": "key_loaded", "key_lines": v.splitlines()}), {}),
    "json_twice": lambda v: (json.dumps({"log": json.dumps({"tls": {"private_key_pem": v}})}), {}),
    "tfstate": lambda v: (json.dumps({"version": 4, "resources": [{"type": "tls_private_key", "instances": [
        {"attributes": {"algorithm": "RSA", "private_key_pem": v}}]}]}, indent=2), {}),
    "exception_attr": lambda v: ("exception", {"exception.type": "ValueError", "exception.message": f"Could not deserialize key data:\n{v}"}),
    "py_bytes": lambda v: (f"load_pem_private_key(data={v.encode()!r}, password=None)", {}),
    "kubeconfig": lambda v: ("apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n"
                             f"    client-key-data: {base64.b64encode(v.encode()).decode()}\n", {}),
}
LINE = {
    "raw": lambda v: (v, {}),
    "docker_json_file": lambda v: (json.dumps({"log": v + "\n", "stream": "stderr", "time": TS}), {}),
    "journald": lambda v: (f"MESSAGE={v}\n_SYSTEMD_UNIT=app.service\n_PID=2211", {}),
    "log_original_attr": lambda v: ("captured", {"log.record.original": v}),
    "gha_prefixed": lambda v: (_pfx(v.splitlines(), lambda i: f"2026-12-06T10:15:02.{1234567 + i}Z "), {}),
    "cri_prefixed": lambda v: (_pfx(v.splitlines(), lambda i: f"{TS} stderr F "), {}),
    "ecs_message": lambda v: (json.dumps({"@timestamp": TS, "log.level": "warn", "message": v}), {}),
}


def forms(part: str) -> set[str]:
    """The ways a part may be written in the carriers (the third corpus' forms, plus double URL-encoding)."""
    q = quote(part, safe="")
    return _forms3(part) | {quote(q, safe=""), json.dumps(q)[1:-1]} - {""}


def survivors(s: Sample, out: str) -> list[str]:
    """Runs of 8 characters of the secret parts (any form) found in ``out`` and not in the carrier."""
    text = s.body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in s.attrs.items())
    fs = {f for p in s.parts for f in forms(p)}
    context = text
    for f in sorted(fs, key=len, reverse=True):
        context = context.replace(f, "\x01")
    left = []
    for f in fs:
        for w in ([f[i:i + 8] for i in range(len(f) - 7)] or [f]):
            if w in out and w not in context:
                left.append(w)
    return left


def _b64_parts(text: str, parts: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for p in parts:
        at = text.find(p)
        if at >= 0:
            piece = b64_piece(text, at, len(p))
            if len(piece) >= 8:
                out.append(piece)
    return tuple(out)


def place(d: Draw, v: Value) -> Sample:
    """Puts one value into a carrier drawn for its shape."""
    roll = d.rng.random()
    if v.shape == "line":
        name = d.one(sorted(LINE))
        return _finish(v, "line_" + name, *LINE[name](v.text), v.parts)
    if v.shape == "pem":
        name = d.one(sorted(PEM))
        parts = _b64_parts(v.text, v.parts) if name == "kubeconfig" else v.parts
        return _finish(v, "pem_" + name, *PEM[name](v.text), parts)
    if v.shape == "url" and (roll < 0.6 or not v.keys):
        name = d.one(sorted(URL))
        return _finish(v, "url_" + name, *URL[name](v.text), v.parts)
    if v.shape == "token" and roll < 0.5:
        name = d.one(sorted(BARE))
        return _finish(v, "bare_" + name, *BARE[name](v.text), v.parts)
    names = [n for n in sorted(KEYED) if not (n == "csv_table" and '"' in v.text)]
    name, key = d.one(names), d.one(v.keys) if v.keys else "secret"
    body, attrs = KEYED[name](key, v.text)
    parts = v.parts
    if name == "k8s_secret_data":
        parts = _b64_parts(v.text, v.parts)
    return _finish(v, "kv_" + name, body, attrs, parts)


def _finish(v: Value, carrier: str, body: str, attrs: dict, parts: tuple[str, ...]) -> Sample:
    text = body + "\x00" + "\x00".join(f"{k}\x00{x}" for k, x in attrs.items())
    kept = tuple(p for p in parts if any(f in text for f in forms(p)))
    if not kept:
        raise AssertionError(f"generator error: no part of {v.kind} is written in {carrier}: {parts} / {body[:200]!r}")
    return Sample(v.family, v.kind, carrier, body, attrs, kept)


def generate(seed: int, *, per_kind: int = 5, benign_rounds: int = 6) -> list[Sample]:
    """Every kind ``per_kind * weight`` times in random carriers, then the look-alikes."""
    d = Draw(seed)
    out = []
    for name in sorted(REG):
        _family, weight, fn = REG[name]
        for _ in range(per_kind * weight):
            out.append(place(d, fn(d)))
    return out + look_alikes(benign, d, benign_rounds)


run = scorer(survivors, Figures, "heldout4")


def main() -> None:
    cli(__doc__, generate, run, seed=41, size="per_kind", default=5)


if __name__ == "__main__":
    main()
