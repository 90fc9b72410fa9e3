"""A second held-out-style corpus, written apart from the first (``heldout_style``) and before reading
ben's rules (ADR 0030, revision 5): national identifiers and financial numbers with real check digits,
passwords written with no key name (sentences, command histories, credential files), vendor tokens,
prefix-less keys, wallets, one-line private keys, webhook URLs, cloud connection strings and bearer
headers (``heldout2_tokens``, ``heldout2_ids``), placed in carriers the first corpus does not have:
OTLP span/resource attributes, span events and JSON log bodies, keys glued to other text, URL query
strings and fragments, base64 blobs (k8s Secret data, JSON blobs), JSON inside strings, C-escaped
strings, helm/docker/systemd/PowerShell/GitHub Actions lines. Benign look-alikes (``heldout2_benign``)
must come out unchanged.

Scoring as in the first corpus: a secret is caught only if no run of 8 characters of its secret part
(in any encoding it was written in) survives anywhere in the event.

    python -m tests.redact.heldout_style2 --seed 11 -v 20
"""

from __future__ import annotations

import base64
import html
import json
import random
from urllib.parse import quote, quote_plus

from tests.redact import heldout2_ids, heldout2_tokens  # noqa: F401  (their kinds register themselves)
from tests.redact.heldout2_benign import samples as benign_samples
from tests.redact.heldout2_gen import FAMILY, KINDS, WEIGHTS, Item, Rand
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer


def _glue(key: str) -> str:
    return "".join(c for c in key if c.isalnum()).upper()


def _env(key: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in key).upper().strip("_")


def _camel(key: str) -> str:
    w = "".join(c if c.isalnum() else " " for c in key).lower().split()
    return (w[0] + "".join(x.title() for x in w[1:])) if w else key


def b64_region(blob: str, value: str) -> tuple[str, str]:
    """(base64 of ``blob``, the piece of it that encodes only bytes of ``value``)."""
    raw, v = blob.encode(), value.encode()
    enc = base64.b64encode(raw).decode()
    at = raw.index(v)
    start, end = -(-at // 3) * 4, ((at + len(v)) // 3) * 4
    return enc, enc[start:end]


def _b64_secret(k: str, v: str) -> tuple[str, dict, tuple[str, ...]]:
    enc, piece = b64_region(v, v)
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  {_camel(k)}: {enc}\n"
            "  region: ZXUtd2VzdC0x\n", {}, (piece,))


def _b64_blob(v: str) -> tuple[str, dict, tuple[str, ...]]:
    enc, piece = b64_region(json.dumps({"client": "web", "cred": v}), v)
    return json.dumps({"level": "debug", "msg": "state restored", "blob": enc}), {}, (piece,)


KEYED = {
    "otlp_span_attr": lambda k, v: ("GET /v1/orders", {"otel.signal": "span", f"app.config.{k}": v, "http.route": "/v1/orders"}),
    "otlp_resource": lambda k, v: ("span ended", {"resource.service.name": "billing", f"resource.{k}": v}),
    "otlp_log_json": lambda k, v: (json.dumps({"event": "config_loaded", "config": {k: v, "region": "eu-west-1"}}),
                                   {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}),
    "otlp_exception": lambda k, v: ("POST /v1/pay", {"otel.signal": "span", "otel.events": json.dumps(
        [{"name": "exception", "attributes": {"exception.type": "ValueError", "exception.message": f"invalid {k}={v}"}}])}),
    "json_string_in_json": lambda k, v: (json.dumps({"level": "warn", "payload": json.dumps({"settings": {k: v}})}), {}),
    "c_escaped": lambda k, v: ("printf(\"" + f"{k}=\\\"{v}\\\"" + "\\n\");", {}),
    "glued_key": lambda k, v: (f"env: PATH=/usr/bin;{_glue(k)}={v};LANG=C.UTF-8", {}),
    "glued_colon": lambda k, v: (f"{_glue(k).lower()}:{v},region:eu-west-1", {}),
    "url_query": lambda k, v: (f"fetching https://api.example.com/v1/export?format=csv&{_camel(k)}={v}&page=1", {}),
    "url_fragment": lambda k, v: (f"redirect to https://app.example.com/cb#{_camel(k)}={quote(v, safe='')}&expires_in=3600", {}),
    "helm_set": lambda k, v: (f"helm upgrade --install api ./chart --set secrets.{_camel(k)}={v} --namespace prod", {}),
    "docker_run": lambda k, v: (f"docker run -d -e {_env(k)}={v} -p 8080:8080 acme/api:1.4", {}),
    "systemd": lambda k, v: (f"[Service]\nEnvironment=\"{_env(k)}={v}\"\nExecStart=/usr/bin/api", {}),
    "powershell_env": lambda k, v: (f"$env:{_env(k)} = \"{v}\"", {}),
    "yaml_flow": lambda k, v: (f"config: {{{k}: '{v}', retries: 3}}", {}),
    "dotnet_json": lambda k, v: (json.dumps({"Logging": {"LogLevel": {"Default": "Information"}}, "App": {k: v}}, indent=2), {}),
    "github_actions": lambda k, v: (f"    - name: deploy\n      env:\n        {_env(k)}: {v}\n      run: ./deploy.sh", {}),
}
UNKEYED = {
    "prose": lambda v: (f"rotated the credential; new value {v} deployed to prod", {}),
    "glued_brackets": lambda v: (f"cfg[{v}]loaded", {}),
    "json_in_string": lambda v: (json.dumps({"msg": json.dumps({"args": ["--verbose", v]})}), {}),
    "otlp_log_body": lambda v: (json.dumps({"event": "retry", "detail": f"upstream returned 401 for {v}"}), {"severity_number": "13"}),
    "otlp_status": lambda v: (f"rpc error: code = Unauthenticated desc = credential {v} rejected",
                              {"otel.signal": "span", "otel.status": "ERROR"}),
    "markdown_ticket": lambda v: (f"found this in the repo:\n```\n{v}\n```\nplease rotate", {}),
    "query_neutral": lambda v: (f"GET https://example.com/cb?code=42&t={v}&lang=en 302", {}),
    "path_glued": lambda v: (f"open /var/cache/app/{v}/index.json: no such file", {}),
}
LINE = {
    "line_raw": lambda s: (s, {}),
    "line_json": lambda s: (json.dumps({"level": "info", "msg": s}), {}),
    "line_cmdline_attr": lambda s: ("process started", {"process.command_line": s}),
    "line_json_in_json": lambda s: (json.dumps({"log": json.dumps({"msg": s})}), {}),
    "line_otlp_event": lambda s: ("job failed", {"otel.events": json.dumps([{"name": "log", "attributes": {"message": s}}])}),
}
URL_LIKE = ("webhook", "conn_string")


def _forms(part: str) -> set[str]:
    j = json.dumps(part, ensure_ascii=False)[1:-1]
    jj = json.dumps(j, ensure_ascii=False)[1:-1]
    return {part, j, jj, json.dumps(jj)[1:-1], quote(part, safe=""), quote_plus(part), html.escape(part),
            part.replace(" ", "+"), part.replace('"', '\\"')}


def survivors(s: Sample, out: str) -> list[str]:
    """Runs of 8 characters of the secret parts (any form) found in ``out`` and not in the carrier."""
    text = s.body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in s.attrs.items())
    forms = {f for p in s.parts for f in _forms(p) if f}
    context = text
    for f in sorted(forms, key=len, reverse=True):
        context = context.replace(f, "\x01")
    left = []
    for f in forms:
        for w in ([f[i:i + 8] for i in range(len(f) - 7)] or [f]):
            if w in out and w not in context:
                left.append(w)
    return left


def place(r: Rand, it: Item) -> Sample:
    """Puts one drawn item into a carrier chosen for it."""
    roll = r.rng.random()
    if it.lines and (roll < 0.6 or not it.keys):
        name = r.pick(sorted(LINE))
        body, attrs = LINE[name](r.pick(it.lines))
        return Sample(it.family, it.kind, name, body, attrs, it.parts)
    if it.self_id and roll < 0.4:
        names = [n for n in sorted(UNKEYED) if not (it.family in URL_LIKE and n in ("query_neutral", "path_glued"))
                 and not (" " in it.value and n in ("query_neutral", "path_glued"))] + ["b64_blob"]
        name = r.pick(names)
        if name == "b64_blob":
            body, attrs, parts = _b64_blob(it.value)
            return Sample(it.family, it.kind, name, body, attrs, parts)
        body, attrs = UNKEYED[name](it.value)
        return Sample(it.family, it.kind, name, body, attrs, it.parts)
    key = r.pick(it.keys) if it.keys else "value"
    name = r.pick(sorted(KEYED) + ["k8s_secret_b64"])
    if name == "k8s_secret_b64":
        body, attrs, parts = _b64_secret(key, it.value)
        return Sample(it.family, it.kind, name, body, attrs, parts)
    body, attrs = KEYED[name](key, it.value)
    return Sample(it.family, it.kind, name, body, attrs, it.parts)


def generate(seed: int, *, per_kind: int = 3, benign_rounds: int = 6) -> list[Sample]:
    """Every kind ``per_kind * weight`` times in random carriers, then the look-alikes."""
    r = Rand(random.Random(seed * 7919 + 2))
    out = []
    for name in sorted(KINDS):
        for _ in range(per_kind * WEIGHTS[name]):
            out.append(place(r, KINDS[name](r)))
    for _ in range(benign_rounds):
        for kind_name, body, attrs in benign_samples(r):
            out.append(Sample("benign", kind_name, "benign", body, attrs))
    return out


run = scorer(survivors, Figures, "heldout2")


def main() -> None:
    cli(__doc__, generate, run, seed=11, size="per_kind", default=3)


if __name__ == "__main__":
    main()
