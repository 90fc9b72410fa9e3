"""The thirteenth corpus' files (``heldout_style13``): a changed attribute written into a config file of one of nine
syntaxes (``.env``, YAML, JSON, INI, TOML, Java properties, .NET XML, a Kubernetes Secret's base64 ``data`` or its
``stringData``, a Deployment's ``env`` list), before and after, with lines around it that do not change; and the
diffs tools print of two such files (unified, normal, side by side, word diff).
"""

from __future__ import annotations

import base64
import difflib
import json
from html import escape

from tests.redact.heldout13_values import Change, Draw
from tests.redact.heldout_style import key_words


def env_name(k: str) -> str:
    return "_".join(key_words(k)).upper()


def snake(k: str) -> str:
    return "_".join(key_words(k))


def camel(k: str) -> str:
    w = key_words(k)
    return w[0] + "".join(x.capitalize() for x in w[1:])


def pascal(k: str) -> str:
    return "".join(x.capitalize() for x in key_words(k))


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _yq(v: str) -> str:
    if v == "" or any(c in v for c in ":#{}[],&*!|>'\"%@`") or v != v.strip() or v.lower() in ("yes", "no", "true", "false", "null"):
        return json.dumps(v)
    return v


def _env_v(v: str) -> str:
    if "\n" in v:
        return '"' + v.rstrip("\n") + '"'
    return '"' + v + '"' if any(c in v for c in " #'\"$") else v


PATHS = {
    "env": [".env", "deploy/prod.env", "/etc/default/api", "services/billing/.env.production"],
    "yaml": ["config/settings.yml", "charts/api/values-prod.yaml", "group_vars/prod/main.yml", "docker-compose.override.yml"],
    "json": ["config/production.json", "appsettings.Production.json", ".devcontainer/secrets.json"],
    "ini": ["/etc/api/api.ini", "conf/app.conf", "/etc/php/8.3/fpm/pool.d/api.ini"],
    "toml": ["config.toml", "/etc/api/api.toml", "settings/prod.toml"],
    "properties": ["src/main/resources/application-prod.properties", "/opt/app/conf/app.properties"],
    "xml": ["Web.config", "src/Api/App.config"],
    "k8s_secret": ["k8s/prod/secret.yaml"],
    "k8s_string": ["k8s/prod/secret-string.yaml"],
    "k8s_env": ["k8s/prod/deployment.yaml"],
}
SINGLE_ONLY = {"ini", "properties", "xml", "k8s_env"}


def lines(fmt: str, key: str, v: str | None) -> tuple[list[str], list[str]]:
    """The file's lines with ``key`` holding ``v`` (absent when None), and the forms of ``v`` written there beyond
    ``v`` itself (base64, escapes)."""
    extra: list[str] = []
    if fmt == "env":
        mid = [] if v is None else f"{env_name(key)}={_env_v(v)}".split("\n")
        return ["APP_ENV=production", "LOG_LEVEL=info", "PORT=8080", *mid, "FEATURE_FLAGS=checkout-v2,search-beta",
                "TZ=UTC"], extra
    if fmt == "yaml":
        if v is None:
            mid = []
        elif "\n" in v:
            mid = [f"  {key}: |"] + ["    " + ln for ln in v.rstrip("\n").split("\n")]
        else:
            mid = [f"  {snake(key) if '.' not in key else key}: {_yq(v)}"]
            extra.append(json.dumps(v)[1:-1])
        return ["service:", "  name: api", "  replicas: 3", "  port: 8080", *mid, "  log_level: info", "  timeout: 30s"], extra
    if fmt == "json":
        mid = [] if v is None else [f'  "{camel(key)}": {json.dumps(v)},']
        if v is not None:
            extra.append(json.dumps(v)[1:-1])
        return ["{", '  "name": "api",', '  "port": 8080,', *mid, '  "logLevel": "info",', '  "timeoutMs": 30000', "}"], extra
    if fmt == "ini":
        mid = [] if v is None else [f"{snake(key)} = {v}"]
        return ["[server]", "port = 8080", "workers = 4", "", "[database]", "host = db-1.internal", *mid, "pool = 10"], extra
    if fmt == "toml":
        if v is None:
            mid = []
        elif "\n" in v:
            mid = [f'{snake(key)} = """'] + v.rstrip("\n").split("\n") + ['"""']
        else:
            mid = [f"{snake(key)} = {json.dumps(v)}"]
            extra.append(json.dumps(v)[1:-1])
        return ["[server]", "port = 8080", "", "[auth]", 'issuer = "https://auth.acme.io"', *mid, "leeway = 30"], extra
    if fmt == "properties":
        mid = [] if v is None else ["app." + ".".join(key_words(key)) + "=" + v.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")]
        if v is not None:
            extra.append(v.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\="))
        return ["server.port=8080", "spring.application.name=api", *mid, "logging.level.root=INFO"], extra
    if fmt == "xml":
        mid = [] if v is None else [f'    <add key="{pascal(key)}" value="{escape(v)}" />']
        if v is not None:
            extra.append(escape(v))
        return ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>",
                '    <add key="Environment" value="Production" />', *mid, '    <add key="LogLevel" value="Information" />',
                "  </appSettings>", "</configuration>"], extra
    if fmt == "k8s_secret":
        mid = [] if v is None else [f"  {key if '.' in key else snake(key)}: {b64(v)}"]
        if v is not None:
            extra.append(b64(v))
        return ["apiVersion: v1", "data:", f"  app-env: {b64('production')}", *mid, "kind: Secret", "metadata:", "  name: api-secrets",
                "  namespace: shop", "type: Opaque"], extra
    if fmt == "k8s_string":
        if v is None:
            mid = []
        elif "\n" in v:
            mid = [f"  {key}: |"] + ["    " + ln for ln in v.rstrip("\n").split("\n")]
        else:
            mid = [f"  {key if '.' in key else snake(key)}: {_yq(v)}"]
            extra.append(json.dumps(v)[1:-1])
        return ["apiVersion: v1", "kind: Secret", "metadata:", "  name: api-secrets", "  namespace: shop", "stringData:",
                "  app-env: production", *mid, "type: Opaque"], extra
    if fmt == "k8s_env":
        mid = [] if v is None else [f"        - name: {env_name(key)}", f"          value: {_yq(v)}"]
        if v is not None:
            extra.append(json.dumps(v)[1:-1])
        return ["    spec:", "      containers:", "      - name: api", "        image: registry.acme.io/api:1.4.2", "        env:",
                "        - name: APP_ENV", "          value: production", *mid, "        - name: PORT", '          value: "8080"',
                "        ports:", "        - containerPort: 8080"], extra
    raise ValueError(fmt)


def pick_format(d: Draw, ch: Change, fmts: list[str]) -> str:
    ok = [f for f in fmts if not (ch.multiline and f in SINGLE_ONLY)]
    return d.choice(ok or ["yaml"])


def before_after(d: Draw, ch: Change, fmts: list[str]) -> tuple[str, str, list[str], list[str], list[str]]:
    """(format, path, lines before, lines after, extra forms of the values)."""
    fmt = pick_format(d, ch, fmts)
    a, e1 = lines(fmt, ch.key, ch.old)
    b, e2 = lines(fmt, ch.key, ch.new)
    return fmt, d.choice(PATHS[fmt]), a, b, e1 + e2


def hunks(a: list[str], b: list[str], n: int = 3) -> list[str]:
    """A unified diff's hunks (``@@`` lines and the lines marked `` ``/``-``/``+``), no file header."""
    return list(difflib.unified_diff(a, b, lineterm="", n=n))[2:]


def normal(a: list[str], b: list[str]) -> list[str]:
    """``diff``'s default output (``3c3``, ``< old``, ``---``, ``> new``)."""
    out = []
    def rng(i: int, j: int) -> str:
        return str(i + 1) if j - i <= 1 else f"{i + 1},{j}"
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace":
            out += [f"{rng(i1, i2)}c{rng(j1, j2)}"] + ["< " + x for x in a[i1:i2]] + ["---"] + ["> " + x for x in b[j1:j2]]
        elif tag == "delete":
            out += [f"{rng(i1, i2)}d{j1}"] + ["< " + x for x in a[i1:i2]]
        else:
            out += [f"{i1}a{rng(j1, j2)}"] + ["> " + x for x in b[j1:j2]]
    return out


def side_by_side(a: list[str], b: list[str], width: int = 100) -> list[str]:
    """``diff -y -W`` (``sdiff``): left and right columns, ``|`` changed, ``<`` only left, ``>`` only right; tabs as
    spaces; a long left line pushes its right one along (wider than ``-W`` asks, as with ``--expand-tabs`` off)."""
    out = []
    col = width // 2 - 2
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [f"{x:<{col}}    {x}" for x in a[i1:i2]]
        elif tag == "replace":
            ls, rs = a[i1:i2], b[j1:j2]
            for k in range(max(len(ls), len(rs))):
                left, right = (ls[k] if k < len(ls) else ""), (rs[k] if k < len(rs) else "")
                mark = "|" if k < len(ls) and k < len(rs) else ("<" if k < len(ls) else ">")
                out.append(f"{left:<{col}}  {mark} {right}".rstrip())
        elif tag == "delete":
            out += [f"{x:<{col}}  <" for x in a[i1:i2]]
        else:
            out += [f"{'':<{col}}  > {x}" for x in b[j1:j2]]
    return out


def word_diff(a: list[str], b: list[str]) -> list[str]:
    """``git diff --word-diff``'s body: unchanged lines as they are, a changed line's words as ``[-old-]{+new+}``."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += a[max(i1, i2 - 3):i2]
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2]):
                k = 0
                while k < min(len(x), len(y)) and x[k] == y[k]:
                    k += 1
                k = max(x.rfind(" ", 0, k), x.rfind("=", 0, k), x.rfind(":", 0, k)) + 1
                out.append(f"{x[:k]}[-{x[k:]}-]{{+{y[k:]}+}}")
        else:
            out += [f"[-{x}-]" for x in a[i1:i2]] + [f"{{+{y}+}}" for y in b[j1:j2]]
    return out
