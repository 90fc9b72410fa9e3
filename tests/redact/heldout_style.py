"""A held-out-style corpus: fake secrets placed in realistic carriers, and benign look-alikes.

Written from the outside (ADR 0030, revision 4), without reading ben's rules or its own corpora: the
kinds (``heldout_tokens``, ``heldout_values``, ``heldout_pii``) are drawn fresh from a seed, placed in
carriers (JSON logs, JSON inside JSON, URL-encoded query strings, HTTP dumps, env dumps, k8s/compose/
terraform/ansible YAML, INI/TOML/properties/XML, SQL, shell, Python/Go/Java reprs, CSV, stack traces,
attributes), and run through ben's real engine (``Engine.apply`` over a columnar batch, as the sidecar
does). A secret is caught only if no run of 8 characters of its secret part (in any of the encodings
it was written in) survives anywhere in the event; a benign look-alike is damaged if anything in its
event changed.

    python -m tests.redact.heldout_style --seed 1        # figures per family, carrier and benign kind
"""

from __future__ import annotations

import argparse
import html
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from tests.redact import heldout_pii, heldout_values  # noqa: F401  (their kinds register themselves)
from tests.redact.heldout_benign import benign_samples
from tests.redact.heldout_tokens import KIND, Gen, Secret

OPT_IN_FAMILIES = frozenset({"national_id"})
# passwords are the commonest secret in logs and come in the most syntaxes: drawn more often
WEIGHT = {"password_kv": 4, "pw_shell": 3, "pw_sql": 2, "pw_code": 3, "pw_file": 3, "pw_prose": 2, "db_uri": 3,
          "db_connection_string": 2, "email": 2, "phone": 3, "card": 2}


@dataclass(frozen=True)
class Sample:
    """One event to redact: a secret (or a look-alike, ``secret`` None) in a carrier."""

    family: str
    kind: str
    carrier: str
    body: str
    attrs: dict
    parts: tuple[str, ...] = ()


def _json(v: str) -> str:
    return json.dumps(v, ensure_ascii=False)


def _upper(key: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in key).upper() if key.isascii() else key


def _camel(key: str) -> str:
    words = [w for w in "".join(c if c.isalnum() else " " for c in key).split() if w]
    return (words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words else key


TS = '"ts":"2026-12-06T11:57:04.123Z","level":"info"'
# Keyed carriers: (key, value) -> (body, attrs). The key names the secret; the value is as written.
KEYED = {
    "json_log": lambda k, v: ('{' + TS + ',"msg":"config loaded",' + _json(k) + ':' + _json(v) + ',"pid":4121}', {}),
    "json_in_json": lambda k, v: (json.dumps({"level": "debug", "msg": json.dumps({"service": "api", k: v})}), {}),
    "query_string": lambda k, v: (f"GET /api/v2/items?page=2&{quote(k)}={quote(v, safe='')}&sort=asc HTTP/1.1 200 31ms", {}),
    "http_dump": lambda k, v: ("POST /v1/ingest HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.5.0\r\n"
                               f"{k}: {v}\r\nContent-Type: application/json\r\n\r\n{{\"ok\":true}}", {}),
    "env_dump": lambda k, v: (f"PATH=/usr/local/bin:/usr/bin\nHOME=/home/app\n{_upper(k)}={v}\nLANG=C.UTF-8\nTZ=UTC", {}),
    "k8s_env": lambda k, v: (f"containers:\n  - name: api\n    env:\n      - name: {_upper(k)}\n        value: {_json(v)}\n"
                             "      - name: LOG_LEVEL\n        value: info", {}),
    "compose": lambda k, v: (f"services:\n  api:\n    image: api:1.4\n    environment:\n      {_upper(k)}: {_json(v)}\n", {}),
    "terraform": lambda k, v: (f'resource "aws_db_instance" "main" {{\n  engine = "postgres"\n  {_camel(k)} = {_json(v)}\n}}', {}),
    "ansible": lambda k, v: (f"- hosts: db\n  become: true\n  vars:\n    {k}: {_json(v)}\n    port: 5432\n", {}),
    "ini": lambda k, v: (f"[database]\nhost = db.internal\n{k} = {v}\ntimeout = 30\n", {}),
    "toml": lambda k, v: (f'[service]\nname = "api"\n{_json(k)} = {_json(v)}\n', {}),
    "properties": lambda k, v: (f"app.name=billing\napp.{_camel(k)}={v}\nserver.port=8080", {}),
    "xml_element": lambda k, v: (f"<config><host>db</host><{_camel(k)}>{html.escape(v, quote=False)}</{_camel(k)}></config>", {}),
    "xml_attr": lambda k, v: (f'<appSettings><add key="{html.escape(k)}" value="{html.escape(v)}" /></appSettings>', {}),
    "sql_update": lambda k, v: ("UPDATE settings SET value = '" + v.replace("'", "''") + f"' WHERE name = '{k}';", {}),
    "shell_export": lambda k, v: (f"export {_upper(k)}='" + v.replace("'", "'\\''") + "'", {}),
    "shell_inline": lambda k, v: (f"{_upper(k)}={quote(v, safe=':/@=+,.-_~')} ./deploy.sh --env prod", {}),
    "python_repr": lambda k, v: (f"Settings(host='db', {_camel(k)}={v!r}, port=5432)", {}),
    "python_dict": lambda k, v: (f"loaded {{'host': 'db', {k!r}: {v!r}, 'retries': 3}}", {}),
    "go_repr": lambda k, v: (f"config: &{{Host:db {_camel(k)[:1].upper() + _camel(k)[1:]}:{v} Port:5432}}", {}),
    "java_repr": lambda k, v: (f"DataSourceConfig{{host='db', {_camel(k)}='{v}', poolSize=10}}", {}),
    "csv": lambda k, v: (f"name,{k},created_at\nbilling,\"{v.replace(chr(34), chr(34) * 2)}\",2026-12-06", {}),
    "logfmt": lambda k, v: (f'level=warn msg="retrying upstream" {k}={_json(v) if " " in v else v} attempt=3', {}),
    "attribute": lambda k, v: ("config loaded", {k: v}),
    "stack_trace": lambda k, v: ('Traceback (most recent call last):\n  File "/app/db.py", line 42, in connect\n'
                                 "    return driver.connect(**cfg)\nConnectionError: auth failed, cfg="
                                 f"{{'host': 'db', {k!r}: {v!r}}}", {}),
}
# Carriers for values that identify themselves: no key, or a neutral one.
UNKEYED = {
    "prose": lambda v: (f"rotated the credential; new value {v} deployed to prod", {}),
    "quoted_error": lambda v: (f'ERROR upstream rejected "{v}" (401)', {}),
    "neutral_json": lambda v: (json.dumps({"level": "info", "msg": "job started", "args": ["--verbose", v]}), {}),
    "neutral_attr": lambda v: ("job started", {"job.args": v}),
    "url_encoded": lambda v: (f"GET /callback?state=xyz&data={quote(v, safe='')} HTTP/1.1", {}),
    "json_escaped": lambda v: (json.dumps({"msg": json.dumps({"payload": v})}), {}),
}
MULTILINE = {
    "json_log": KEYED["json_log"], "json_in_json": KEYED["json_in_json"], "attribute": KEYED["attribute"],
    "yaml_block": lambda k, v: (f"data:\n  {k}: |\n" + "".join(f"    {ln}\n" for ln in v.splitlines()), {}),
    "raw_text": lambda k, v: (f"read {k} from disk:\n{v}", {}),
    "env_escaped": lambda k, v: (f"{_upper(k)}=\"{v.replace(chr(10), chr(92) + 'n')}\"\nLOG_LEVEL=info", {}),
}


def _forms(part: str) -> set[str]:
    """The ways a secret part can be written in the carriers."""
    j = json.dumps(part, ensure_ascii=False)[1:-1]
    return {part, quote(part, safe=""), quote_plus(part), quote(part, safe=":/@=+,.-_~"), j,
            json.dumps(j, ensure_ascii=False)[1:-1], html.escape(part), html.escape(part, quote=False),
            part.replace("'", "''"), repr(part)[1:-1], part.replace("\n", "\\n"), part.replace("\n", " ")}


def survivors(sample: Sample, out: str) -> list[str]:
    """Runs of 8 characters of the secret part (any encoding) that are in ``out`` and not in the carrier."""
    text = sample.body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in sample.attrs.items())
    forms = {f for p in sample.parts for f in _forms(p) if f}
    context = text
    for f in sorted(forms, key=len, reverse=True):
        context = context.replace(f, "\x01")
    found = []
    for f in forms:
        windows = [f[i:i + 8] for i in range(len(f) - 7)] or [f]
        found += [w for w in windows if w in out and w not in context]
    return found


def _keyed(g: Gen, s: Secret, n: int) -> list[tuple[str, tuple]]:
    table = MULTILINE if s.multiline else KEYED
    out = []
    for name in g.rng.sample(sorted(table), min(n, len(table))):
        out.append((name, table[name](g.rng.choice(s.keys) if s.keys else "value", s.value)))
    return out


def generate(seed: int, *, per_kind: int = 6) -> list[Sample]:
    """The corpus of one seed: every kind ``per_kind`` times in random carriers, and the look-alikes."""
    g = Gen(random.Random(seed))
    samples = []
    for name in sorted(KIND):
        for rep in range(per_kind * WEIGHT.get(name, 1)):
            s = KIND[name](g)
            if s.self_id and not s.multiline and g.rng.random() < 0.35:
                carrier = g.rng.choice(sorted(UNKEYED))
                body, attrs = UNKEYED[carrier](s.value)
            else:
                carrier, (body, attrs) = _keyed(g, s, 1)[0]
            samples.append(Sample(s.family, s.kind, carrier, body, attrs, s.parts))
    for kind_name, carrier, body, attrs in benign_samples(g):
        samples.append(Sample("benign", kind_name, carrier, body, attrs))
    return samples


@dataclass
class Figures:
    """Recall per family / kind / carrier, benign damage per kind, and the misses."""

    caught: dict = field(default_factory=lambda: defaultdict(int))
    total: dict = field(default_factory=lambda: defaultdict(int))
    misses: list = field(default_factory=list)
    damaged: list = field(default_factory=list)

    def add(self, keys: tuple[str, ...], ok: bool) -> None:
        for k in keys:
            self.total[k] += 1
            self.caught[k] += ok

    def rate(self, key: str) -> float:
        return self.caught[key] / self.total[key] if self.total[key] else 1.0

    def recall(self, *, opt_in: bool = False) -> float:
        fams = [k[7:] for k in self.total if k.startswith("family:") and k[7:] != "benign"
                and (opt_in or k[7:] not in OPT_IN_FAMILIES)]
        c = sum(self.caught["family:" + f] for f in fams)
        t = sum(self.total["family:" + f] for f in fams)
        return c / t if t else 1.0

    def benign_damage(self) -> float:
        t = self.total["family:benign"]
        return (t - self.caught["family:benign"]) / t if t else 0.0


class AllFamilies(Figures):
    """Figures whose recall counts every family (the later corpora name their national IDs by a key or words, which
    the default policy masks; the first corpus' bare ones are opt-in)."""

    def recall(self) -> float:
        return super().recall(opt_in=True)


def look_alikes(benign, d, rounds: int) -> list[Sample]:
    """``rounds`` times every look-alike ``benign(d)`` draws, as samples with no secret."""
    return [Sample("benign", kind, "benign", body, attrs) for _ in range(rounds) for kind, body, attrs in benign(d)]


def redacted(samples: list, *, manifest_text: str | None = None, chunk: int = 256, host: str = "heldout"):
    """Each sample with its body and attributes as ben's engine leaves them (``Engine.apply`` over
    batches of ``chunk``, as the sidecar does; the provenance attribute dropped): (sample, body, attrs)."""
    from ben.redact import DEFAULT_MANIFEST, REDACTED_KEY, Engine, parse_manifest
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    engine = Engine(parse_manifest(manifest_text or DEFAULT_MANIFEST, need_key=False))
    for at in range(0, len(samples), chunk):
        part = samples[at:at + chunk]
        builder = BatchBuilder(1)
        for s in part:
            builder.add(4, "app.log", 0.0, s.body, dict(s.attrs), 0)
        batch = engine.apply(builder.build(pb.Source(host=host), host))
        strings, a = batch.strings, 0
        for i, s in enumerate(part):
            attrs = {strings[batch.attr_keys[j]]: strings[batch.attr_values[j]] for j in range(a, a + batch.attr_counts[i])}
            a += batch.attr_counts[i]
            attrs.pop(REDACTED_KEY, None)
            yield s, strings[batch.bodies[i]], attrs


def score(samples: list, *, survivors, figures=None, host: str = "heldout", manifest_text: str | None = None,
          chunk: int = 256) -> "Figures":
    """Redact every sample through ben's engine and score it, the scoring every corpus shares: a look-alike is damaged
    if anything in its event changed; a secret is missed if ``survivors(sample, out)`` finds any of it left in ``out``
    (the redacted body and attributes, NUL-joined). ``figures`` is the corpus' ``Figures`` class (its recall rule)."""
    fig = (figures or Figures)()
    for s, body, attrs in redacted(samples, manifest_text=manifest_text, chunk=chunk, host=host):
        if s.family == "benign":
            ok = body == s.body and attrs == s.attrs
            if not ok:
                fig.damaged.append((s.kind, s.carrier, s.body, s.attrs, body, attrs))
            fig.add(("family:benign", f"benign:{s.kind}"), ok)
            continue
        left = survivors(s, body + "\x00" + "\x00".join(f"{k}\x00{v}" for k, v in attrs.items()))
        if left:
            fig.misses.append((s.family, s.kind, s.carrier, left[0], body, attrs))
        fig.add((f"family:{s.family}", f"kind:{s.kind}", f"carrier:{s.carrier}"), not left)
    return fig


def scorer(survivors, figures, host: str):
    """A corpus' ``run(samples, *, manifest_text=None, chunk=256)``: ``score`` with its ``survivors``, ``Figures``, host."""
    def run(samples: list, *, manifest_text: str | None = None, chunk: int = 256) -> Figures:
        """Redacts every sample through ben's engine (``Engine.apply`` over a batch, as the sidecar does) and scores it."""
        return score(samples, survivors=survivors, figures=figures, host=host, manifest_text=manifest_text, chunk=chunk)
    return run


def key_words(k: str) -> list[str]:
    """A key's words in small letters: ``DD_API_KEY``, ``ddApiKey``, ``dd-api-key`` -> ``["dd", "api", "key"]``."""
    out, cur = [], ""
    for c in k:
        if c.isalnum() and not (c.isupper() and cur and cur[-1].islower()):
            cur += c
        else:
            if cur:
                out.append(cur)
            cur = c if c.isalnum() else ""
    return [w.lower() for w in out + [cur] if w]


def run(samples: list[Sample], *, manifest_text: str | None = None, chunk: int = 256) -> Figures:
    """Redact every sample through ben's engine and score it."""
    return score(samples, survivors=survivors, manifest_text=manifest_text, chunk=chunk)


def opt_in_manifest() -> str:
    """The default manifest with the documented opt-in national IDs switched on."""
    from ben.redact import DEFAULT_MANIFEST

    return DEFAULT_MANIFEST + '\n[[rule]]\nname = "national-id-bare"\ndetect = ["uk_nino", "es_dni"]\naction = "mask"\n'


def report(fig: Figures, *, verbose: int = 0) -> str:
    lines = [f"recall {fig.recall():.3f}; benign damaged {fig.benign_damage():.3f} "
             f"({fig.total['family:benign'] - fig.caught['family:benign']}/{fig.total['family:benign']})"]
    for prefix in ("family:", "carrier:", "kind:"):
        for k in sorted(fig.total):
            if k.startswith(prefix) and (prefix == "family:" or fig.rate(k) < 1.0):
                lines.append(f"  {k:36s} {fig.caught[k]:4d}/{fig.total[k]:<4d} {fig.rate(k):.3f}")
    for k in sorted(fig.total):
        if k.startswith("benign:") and fig.rate(k) < 1.0:
            lines.append(f"  {k:36s} damaged {fig.total[k] - fig.caught[k]}/{fig.total[k]}")
    for m in fig.misses[:verbose]:
        lines.append(f"MISS {m[0]}/{m[1]} in {m[2]}: {m[3]!r} :: {m[4][:300]!r} {m[5]}")
    for d in fig.damaged[:verbose]:
        lines.append(f"DAMAGE {d[0]} in {d[1]}: {d[2][:200]!r} {d[3]} -> {d[4][:200]!r} {d[5]}")
    return "\n".join(lines)


def cli(doc: str, generate, run, *, seed: int, size: str = "per_kind", default: int = 6, opt_in: bool = False,
        argv: list[str] | None = None) -> None:
    """The command line every corpus shares: ``--seed``, its size flag (``--per-kind`` or ``--per-family``),
    ``--verbose N`` misses and damages, ``--summary`` (the recall line and the families), ``--opt-in``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--" + size.replace("_", "-"), dest="size", type=int, default=default)
    ap.add_argument("--verbose", "-v", type=int, default=0, help="print this many misses and damages")
    ap.add_argument("--summary", action="store_true", help="only the recall line and the families")
    if opt_in:
        ap.add_argument("--opt-in", action="store_true", help="switch on the opt-in national-ID detectors")
    args = ap.parse_args(argv)
    samples = generate(args.seed, **{size: args.size})
    fig = run(samples, manifest_text=opt_in_manifest()) if getattr(args, "opt_in", False) else run(samples)
    text = report(fig, verbose=args.verbose)
    if args.summary:
        text = "\n".join(ln for ln in text.splitlines() if ln.startswith(("recall", "  family:")))
    print(text)


def main() -> None:
    cli(__doc__, generate, run, seed=1, default=6, opt_in=True)


if __name__ == "__main__":
    main()
