"""A tenth held-out-style corpus, written apart from the first nine on 2026-12-07 from a stranger's angle: a secret
behind layers. Logs carry documents that carry other documents: a ``.env`` file base64-encoded into a Kubernetes
Secret whose manifest sits JSON-escaped in a log line; a login form URL-encoded into an OAuth ``state``; an HTTP
request dumped into a JSON field, then into a CSV cell. Each layer adds its own escaping.

A secret (``heldout10_values``: self-naming tokens, opaque keys under their name, passwords, connection URIs of engines
not drawn before, private keys of six formats, framework session cookies) is written into a small *document* (the
file or message that would hold it), then wrapped in 0 to 3 *layers* drawn at random from 24: JSON strings (a docker
json-file record, a log field, Go's ``\\u003c`` escaping, a HAR ``postData``), URL-encoding (a query's value, a form
body), base64 (a field, ``base64``'s 76-column output, GitHub's contents API with ``\\n`` every 60, a ConfigMap's
``binaryData`` and its ``last-applied-configuration``, EC2 user data, an OAuth ``state`` in base64url), hex (a PostgreSQL
``bytea`` parameter), HTML and XML escaping, nginx's ``\\x22`` escaping of a request body, a Python repr, a structlog
console line in ANSI colours, shell single quotes in a ``set -x`` trace, a CSV cell, an SQL literal, RFC 5424
structured data, a YAML block scalar, a Jackson parse error quoting its source. Look-alikes (``heldout10_benign``):
ids, hashes, public keys, certificates, base64 images and cursors, placeholders and masks, documents without a
secret, through the same layers. Scoring as in the ninth corpus (no run of 8 characters of a secret part, as the
layers wrote it, survives); a look-alike's event must be unchanged.

Seeds: 101-106 for development; **107 and 108 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style10 --seed 101 -v 20
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus

from tests.redact import heldout10_values as values
from tests.redact.heldout10_benign import benign_documents
from tests.redact.heldout7_values import ALNUM, Draw, b64, b64u
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer
from tests.redact.heldout_style8 import survivors as survivors

RESERVED_SEEDS = (107, 108)
TS = values.TS
NGINX_TS = "07/Dec/2026:09:12:44 +0000"


# -- layers: (text, parts, d) -> (text, parts); a part is the secret as the text now writes it -------------------------
def _char(enc, frame):
    """A layer whose encoding maps each character on its own (so a part's encoding is in the text's)."""
    def layer(text, parts, d):
        return frame(enc(text), d), [enc(p) for p in parts]
    return layer


def _b64(frame, *, url: bool = False, width: int = 0, sep: str = "\n", hexa: bool = False):
    """A layer that encodes the whole text as base64 (or hex); a part becomes the encoded characters that only its
    bytes decide, wrapped as the layer wraps its lines."""
    def layer(text, parts, d):
        raw = text.encode()
        enc = raw.hex() if hexa else (b64u(raw) if url else b64(raw))
        spans = []
        for p in parts:
            pb, i = p.encode(), raw.find(p.encode())
            while i >= 0:
                if hexa:
                    spans.append((2 * i, 2 * (i + len(pb))))
                else:
                    g0, g1 = -(-i // 3), (i + len(pb)) // 3
                    if g1 > g0:
                        spans.append((4 * g0, 4 * g1))
                i = raw.find(pb, i + 1)
        if width:
            def at(k):
                return k + (k // width) * len(sep)
            wrapped = sep.join(enc[k:k + width] for k in range(0, len(enc), width))
            new = [wrapped[at(a):at(b - 1) + 1] for a, b in spans]
            enc = wrapped
        else:
            new = [enc[a:b] for a, b in spans]
        return frame(enc, d), [p for p in new if len(p) >= 8]
    return layer


def _json(t: str) -> str:
    return json.dumps(t, ensure_ascii=False)[1:-1]


def _go_json(t: str) -> str:
    return json.dumps(t)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _nginx(t: str) -> str:
    return "".join(f"\\x{b:02X}" if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) else chr(b) for b in t.encode())


def _pyrepr(t: str) -> str:
    return t.encode("unicode_escape").decode().replace("'", "\\'")


def _sd(t: str) -> str:
    return t.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


LAYERS = {
    "docker_json": _char(_json, lambda e, d: f'{{"log":"{e}\\n","stream":"stdout","time":"{TS}"}}'),
    "json_field": _char(_json, lambda e, d: f'{{"ts":"{TS}","level":"warn","logger":"webhook","msg":"payload rejected","payload":"{e}"}}'),
    "go_json": _char(_go_json, lambda e, d: f'{{"level":"debug","ts":1796610067.902,"caller":"client/http.go:88","msg":"request","body":"{e}"}}'),
    "har_post": _char(_json, lambda e, d: f'{{"request":{{"method":"POST","url":"https://api.acme.io/v1/import","postData":{{"mimeType":"text/plain","text":"{e}"}}}}}}'),
    "url_query": _char(lambda t: quote(t, safe=""), lambda e, d: f'10.0.0.5 - - [{NGINX_TS}] "GET /oauth/callback?code={d.s(ALNUM, 20)}&state={e} HTTP/1.1" 302 0'),
    "form_body": _char(quote_plus, lambda e, d: f"POST /api/v1/import HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nsource=upload&config={e}"),
    "b64_field": _b64(lambda e, d: f'{{"event":"config.uploaded","encoding":"base64","content":"{e}"}}'),
    "b64_wrapped76": _b64(lambda e, d: f"$ base64 < app.conf\n{e}\n$ ", width=76),
    "gh_contents": _b64(lambda e, d: f'{{"name":"app.conf","path":"deploy/app.conf","sha":"{d.hex(40)}","size":812,"content":"{e}\\n","encoding":"base64"}}',
                        width=60, sep="\\n"),
    "configmap_binary": _b64(lambda e, d: f"apiVersion: v1\nbinaryData:\n  app.conf: {e}\nkind: ConfigMap\nmetadata:\n  name: billing-config\n  namespace: prod"),
    "last_applied": _b64(lambda e, d: ("metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n"
                                       f'      {{"apiVersion":"v1","binaryData":{{"app.conf":"{e}"}},"kind":"ConfigMap","metadata":{{"name":"billing","namespace":"prod"}}}}')),
    "ec2_user_data": _b64(lambda e, d: json.dumps({"InstanceId": "i-0" + d.hex(16), "UserData": {"Value": "__E__"}}).replace("__E__", e)),
    "oauth_state": _b64(lambda e, d: f'10.0.0.5 - - [{NGINX_TS}] "GET /login/callback?state={e}&code={d.s(ALNUM, 20)} HTTP/1.1" 302 0', url=True),
    "pg_bytea": _b64(lambda e, d: ("LOG:  execute <unnamed>: INSERT INTO blobs (name, data) VALUES ($1, $2)\n"
                                   f"DETAIL:  parameters: $1 = 'app.conf', $2 = '\\x{e}'"), hexa=True),
    "html_pre": _char(html.escape, lambda e, d: f"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1><pre>{e}</pre></body></html>"),
    "xml_text": _char(lambda t: html.escape(t, quote=False),
                      lambda e, d: f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Import><Payload>{e}</Payload></Import></soap:Body></soap:Envelope>'),
    "nginx_body": _char(_nginx, lambda e, d: f'10.0.0.5 - - [{NGINX_TS}] "POST /api/import HTTP/1.1" 400 31 "-" "python-requests/2.32.3" "{e}"'),
    "py_repr": _char(_pyrepr, lambda e, d: f"DEBUG:urllib3.connectionpool:https://api.acme.io:443 \"POST /v1/import HTTP/1.1\" 400 None body='{e}'"),
    "structlog_ansi": _char(_pyrepr, lambda e, d: f"\x1b[2m{TS}\x1b[0m [\x1b[33m\x1b[1mwarning  \x1b[0m] \x1b[1mimport failed\x1b[0m \x1b[36mbody\x1b[0m=\x1b[35m'{e}'\x1b[0m"),
    "set_x": _char(lambda t: t.replace("'", "'\\''"), lambda e, d: f"+ printf '%s' '{e}'\n+ kubectl apply -f -"),
    "csv_cell": _char(lambda t: t.replace('"', '""'), lambda e, d: f'id,received_at,body\n4812,{TS},"{e}"\n'),
    "sql_literal": _char(lambda t: t.replace("'", "''"), lambda e, d: f"LOG:  statement: INSERT INTO webhook_events (source, body) VALUES ('github', '{e}')"),
    "rfc5424": _char(_sd, lambda e, d: f'<134>1 {TS} web-1 api 4211 ID47 [req@32473 body="{e}"] request rejected'),
    "yaml_block": _char(lambda t: t.replace("\n", "\n    "), lambda e, d: f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: billing\ndata:\n  app.conf: |\n    {e}\n"),
    "jackson": _char(lambda t: t, lambda e, d: (f"com.fasterxml.jackson.core.JsonParseException: Unexpected character ('x' (code 120)): was expecting "
                                                f"double-quote to start field name\n at [Source: (String)\"{e}\"; line: 1, column: 3]")),
}


def wrap(text: str, parts: list[str], d: Draw, depth: int) -> tuple[str, list[str], list[str]]:
    """``depth`` layers drawn at random around ``text``: (text, parts, layer names inside out)."""
    names = []
    for _ in range(depth):
        name = d.pick(sorted(LAYERS))
        text, parts = LAYERS[name](text, parts, d)
        names.append(name)
    return text, parts, names


def _depth(d: Draw) -> int:
    r = d.random()
    return 0 if r < 0.1 else 1 if r < 0.5 else 2 if r < 0.85 else 3


FAMILIES = {"token": values.token, "opaque": values.opaque, "password": values.password, "uri": values.uri, "key": values.key,
            "cookie": values.cookie}


def place(d: Draw, family: str) -> Sample:
    for _ in range(20):
        c = FAMILIES[family](d)
        docs = values.documents(c)
        doc = d.pick(sorted(docs))
        text, parts = docs[doc](c, d)
        text, parts, names = wrap(text, parts, d, _depth(d))
        parts = [p for p in parts if len(p) >= 8 and p in text]
        if parts:
            return Sample(family, c.kind, "+".join([doc, *names]), text, {}, tuple(parts))
    raise AssertionError(f"generator error: no part of a {family} survives its layers")


def look_alikes(d: Draw, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for kind, text in benign_documents(d):
            text, _, names = wrap(text, [], d, _depth(d))
            out.append(Sample("benign", kind, "+".join(["benign", *names]), text, {}))
    return out


def generate(seed: int, *, per_family: int = 60, benign_rounds: int = 6) -> list[Sample]:
    """``per_family`` secrets of each of the six families, then the look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    return [place(d, f) for f in FAMILIES for _ in range(per_family)] + look_alikes(d, benign_rounds)


run = scorer(survivors, Figures, "heldout10")


def layers_report(fig) -> str:
    """Recall per document and per layer (a sample counts under each layer it went through)."""
    from collections import Counter
    total, missed = Counter(), Counter()
    for k, n in fig.total.items():
        if k.startswith("carrier:"):
            names = k[8:].split("+")
            for i, nm in enumerate(names):
                key = ("doc:" if i == 0 else "layer:") + nm
                total[key] += n
                missed[key] += n - fig.caught[k]
    return "\n".join(f"  {k:36s} {total[k] - missed[k]:4d}/{total[k]:<4d} {1 - missed[k] / total[k]:.3f}" for k in sorted(total) if missed[k])


def main() -> None:
    cli(__doc__, generate, run, seed=101, size="per_family", default=60)


if __name__ == "__main__":
    main()
