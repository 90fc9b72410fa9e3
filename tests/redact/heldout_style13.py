"""A thirteenth held-out-style corpus, written apart from the first twelve on 2026-12-07 from a stranger's angle: a
secret as *change* tools print it — diffs and plans. A secret rotated, added or removed (``heldout13_values``: five
families — passwords, vendors' and applications' tokens, connection strings and URLs, private keys, cloud keys) in a
config file of nine syntaxes (``heldout13_files``: ``.env``, YAML, JSON, INI, TOML, properties, .NET XML, a Kubernetes
Secret's base64 ``data`` or ``stringData``, a Deployment's ``env`` list) is printed by one of the tools that show a
change: ``git diff``, ``git log -p``, ``git format-patch`` e-mails, ``git diff --word-diff``, ``git diff --color`` in a
CI log, ``diff -u``, ``diff`` (normal), ``diff -y``/``sdiff``, ``chezmoi diff``, ``etckeeper``'s ``vcs diff``,
``ansible --diff``, Puppet's ``--noop``, Chef's ``diff`` blocks, Salt's ``changes:``, ``kubectl diff``, ``helm diff``,
``argocd app diff``; or by a tool that says what it will change: ``terraform plan`` (attributes and map entries, a
multi-line value as a heredoc), its ``Changes to Outputs``, ``terraform show -json``, Pulumi's preview, a CloudFormation
change set with ``--include-property-values`` (``BeforeValue``/``AfterValue`` beside the property's ``Name``) and its
parameters, a Kubernetes audit event's ``requestObject`` (JSON Patch with the name in the ``path``, a merge patch, an
``env`` entry added); or by a migration tool (Flyway's debug ``Executing SQL``, Liquibase's ``update-sql``, Alembic's
``--sql``). A private key's lines each carry the diff's mark (``+``, ``-``, a space, Chef's indent, Salt's column).
Look-alikes (``heldout13_benign``): attributes named for passwords, tokens and keys that hold lengths, times, names,
paths, hashes, ids and public keys, through the same carriers; and lock files' integrity hashes (``package-lock.json``,
``yarn.lock``, ``go.sum``, ``Cargo.lock``, ``poetry.lock``, ``requirements.txt``), commit headers, migration checksums,
configuration tools' file checksums and a plan's own masks. Scoring as in the ninth corpus: no run of 8 characters of
the secret, as the carrier wrote it (base64 in a Secret's ``data``, escaped in JSON or XML), survives; a look-alike's
event must be unchanged.

Seeds: 131-136 for development; **137 and 138 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style13 --seed 131 -v 20
"""

from __future__ import annotations

import base64
import binascii
import json

from tests.redact import heldout13_values as values
from tests.redact.heldout13_benign import benign_changes, benign_specials
from tests.redact.heldout13_files import (b64, before_after, camel, env_name, hunks, normal, pascal, side_by_side, snake,
                                          word_diff)
from tests.redact.heldout13_values import Change, Draw
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer
from tests.redact.heldout_style8 import survivors as survivors

RESERVED_SEEDS = (137, 138)
FILES = ["env", "yaml", "json", "ini", "toml", "properties", "xml"]
K8S = ["k8s_secret", "k8s_string", "k8s_env", "yaml"]
TS = "2026-12-07 09:12:44.902311234 +0000"


def _sha(d: Draw) -> str:
    return d.hex(40)


def _git_header(d: Draw, path: str, ch: Change) -> list[str]:
    p = path.lstrip("/")
    if ch.old is None and ch.new is not None and d.random() < 0.3:
        return [f"diff --git a/{p} b/{p}", "new file mode 100644", f"index 0000000..{d.hex(7)}", "--- /dev/null", f"+++ b/{p}"]
    return [f"diff --git a/{p} b/{p}", f"index {d.hex(7)}..{d.hex(7)} 100644", f"--- a/{p}", f"+++ b/{p}"]


def _diff_for(d: Draw, ch: Change, a: list[str], b: list[str], path: str) -> list[str]:
    return _git_header(d, path, ch) + hunks(a, b)


# -- file diffs: (ch, d) -> (body, attrs, extra forms) ----------------------------------------------------------------
def git_diff(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    return "\n".join(_diff_for(d, ch, a, b, path)), {}, extra


def git_log_p(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    head = [f"commit {_sha(d)}", "Author: Ann Example <>", "Date:   Mon Dec 7 09:12:44 2026 +0000", "",
            f"    {d.choice(['Rotate credentials', 'Update prod config', 'chore: bump settings', 'fix: new key for staging'])}", ""]
    return "\n".join(head + _diff_for(d, ch, a, b, path)), {}, extra


def format_patch(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    head = [f"From {_sha(d)} Mon Sep 17 00:00:00 2001", "From: Ann Example <>", "Date: Mon, 7 Dec 2026 09:12:44 +0000",
            "Subject: [PATCH] Update production settings", "", "---", f" {path.lstrip('/')} | 2 +-", " 1 file changed, 1 insertion(+), "
            "1 deletion(-)", ""]
    return "\n".join(head + _diff_for(d, ch, a, b, path) + ["-- ", "2.47.1", ""]), {}, extra


def git_word_diff(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    p = path.lstrip("/")
    return "\n".join([f"diff --git a/{p} b/{p}", f"index {d.hex(7)}..{d.hex(7)} 100644", f"--- a/{p}", f"+++ b/{p}",
                      "@@ -1,9 +1,9 @@"] + word_diff(a, b)), {}, extra


def git_color(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    colour = {"-": "\x1b[31m", "+": "\x1b[32m", "@": "\x1b[36m"}
    out = []
    for i, ln in enumerate(_diff_for(d, ch, a, b, path)):
        c = "\x1b[1m" if i < 4 and not ln.startswith("@@") else colour.get(ln[:1], "")
        out.append(f"{c}{ln}\x1b[m" if c else ln)
    step = f"2026-12-07T09:12:44.{d.randrange(1000000, 9999999)}Z "
    return "\n".join(step + ln for ln in out), {}, extra


def diff_u(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    return "\n".join([f"--- {path}.orig\t{TS}", f"+++ {path}\t{TS}"] + hunks(a, b)), {}, extra


def diff_normal(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    return "\n".join([f"$ diff {path}.bak {path}"] + normal(a, b)), {}, extra


def sdiff(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    return "\n".join([f"$ diff -y -W 200 {path}.bak {path}"] + side_by_side(a, b, 200)), {}, extra


def chezmoi(ch, d):
    _, path, a, b, extra = before_after(d, ch, ["env", "yaml", "json", "toml", "ini"])
    p = ".config/" + path.lstrip("/").replace("/etc/", "")
    return "\n".join([f"diff --git a/{p} b/{p}", f"index {d.hex(40)}..{d.hex(40)} 100600", f"--- a/{p}", f"+++ b/{p}"]
                     + hunks(a, b)), {}, extra


def etckeeper(ch, d):
    _, path, a, b, extra = before_after(d, ch, ["ini", "env", "yaml", "toml"])
    p = "etc/" + path.lstrip("/").replace("etc/", "")
    return "\n".join(["$ sudo etckeeper vcs diff", f"diff --git a/{p} b/{p}", f"index {d.hex(7)}..{d.hex(7)} 100640", f"--- a/{p}",
                      f"+++ b/{p}"] + hunks(a, b)), {}, extra


def ansible(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    return "\n".join([f"TASK [api : render {path.rsplit('/', 1)[-1]}] " + "*" * 60, f"--- before: /srv/api/{path.lstrip('/')}",
                      f"+++ after: /home/ops/.ansible/tmp/ansible-local-{d.randrange(1000, 99999)}{d.s('abcdefghij', 8)}/tmp"
                      f"{d.s('abcdefghij_', 8)}/{path.rsplit('/', 1)[-1]}.j2"] + hunks(a, b)
                     + ["", "changed: [web-1]"]), {}, extra


def puppet(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    p = "/" + path.lstrip("/")
    res = f"Notice: /Stage[main]/Api::Config/File[{p}]/content: "
    return "\n".join([res, f"--- {p}\t2026-12-06 09:12:44.000000000 +0000",
                      f"+++ /tmp/puppet-file20261207-{d.randrange(1000, 9999)}-{d.s('abcdefghij0123', 6)}\t{TS}"] + hunks(a, b)
                     + ["", f"{res}current_value '{{md5}}{d.hex(32)}', should be '{{md5}}{d.hex(32)}' (noop)"]), {}, extra


def chef(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    p = "/" + path.lstrip("/")
    return "\n".join([f"  * template[{p}] action create", f"    - update content in file {p} from {d.hex(6)} to {d.hex(6)}",
                      f"    --- {p}\t2026-12-06 09:12:44.000000000 +0000", f"    +++ {p.rsplit('/', 1)[0]}/.chef-"
                      f"{p.rsplit('/', 1)[-1]}20261207-{d.randrange(1000, 9999)}-{d.hex(6)}\t{TS}"]
                     + ["    " + ln for ln in hunks(a, b)] + ["    - restore selinux security context"]), {}, extra


def salt(ch, d):
    _, path, a, b, extra = before_after(d, ch, FILES)
    p = "/" + path.lstrip("/")
    pad = " " * 18
    return "\n".join(["----------", "          ID: api-config", "    Function: file.managed", f"        Name: {p}", "      Result: True",
                      f"     Comment: File {p} updated", "     Started: 09:12:44.902311", f"    Duration: {d.randrange(10, 99)}.1 ms",
                      "     Changes:   ", "              ----------", "              diff:", pad + "---", pad + "+++"]
                     + [pad + ln for ln in hunks(a, b)]), {}, extra


# -- Kubernetes: diffs of manifests -------------------------------------------------------------------------------------
def kubectl_diff(ch, d):
    fmt, _, a, b, extra = before_after(d, ch, K8S)
    kind = "apps.v1.Deployment.shop.api" if fmt == "k8s_env" else "v1.Secret.shop.api-secrets"
    n1, n2 = d.randrange(10 ** 9, 10 ** 10), d.randrange(10 ** 9, 10 ** 10)
    return "\n".join([f"diff -u -N /tmp/LIVE-{n1}/{kind} /tmp/MERGED-{n2}/{kind}", f"--- /tmp/LIVE-{n1}/{kind}\t{TS}",
                      f"+++ /tmp/MERGED-{n2}/{kind}\t{TS}"] + hunks(a, b)), {}, extra


def helm_diff(ch, d):
    fmt, _, a, b, extra = before_after(d, ch, K8S)
    what = "api, Deployment (apps)" if fmt == "k8s_env" else "api-secrets, Secret (v1)"
    body = [ln for ln in hunks(a, b, n=99) if not ln.startswith("@@")]
    return "\n".join([f"shop, {what} has changed:", "  # Source: api/templates/" + ("deployment.yaml" if fmt == "k8s_env" else
                                                                                    "secret.yaml")]
                     + [(ln[0] + " " + ln[1:]) if ln[:1] in "+-" else "  " + ln[1:] for ln in body]), {}, extra


def argocd_diff(ch, d):
    fmt, _, a, b, extra = before_after(d, ch, K8S)
    what = "apps/Deployment shop/api" if fmt == "k8s_env" else "/Secret shop/api-secrets"
    return "\n".join([f"===== {what} ======"] + normal(a, b)), {}, extra


# -- plans ------------------------------------------------------------------------------------------------------------
def _tfq(v: str) -> str:
    return json.dumps(v)


def _tf_attr(key: str, old, new, pad: int = 6) -> tuple[list[str], list[str]]:
    sp = " " * pad
    k = f"{key:<24}"
    multi = (old or "").count("\n") > 1 or (new or "").count("\n") > 1
    if multi:
        mark = "~" if old is not None and new is not None else ("+" if new is not None else "-")
        out = [f"{sp}{mark} {k} = <<-EOT"]
        out += [f"{sp}    - {ln}" for ln in (old or "").rstrip("\n").split("\n") if old is not None]
        out += [f"{sp}    + {ln}" for ln in (new or "").rstrip("\n").split("\n") if new is not None]
        return out + [f"{sp}  EOT" + (" -> null" if new is None else "")], []
    if old is not None and new is not None:
        return [f"{sp}~ {k} = {_tfq(old)} -> {_tfq(new)}"], [json.dumps(old)[1:-1], json.dumps(new)[1:-1]]
    if new is not None:
        return [f"{sp}+ {k} = {_tfq(new)}"], [json.dumps(new)[1:-1]]
    return [f"{sp}- {k} = {_tfq(old)} -> null"], [json.dumps(old)[1:-1]]


RESOURCES = ["aws_db_instance.main", "azurerm_key_vault_secret.api", "google_secret_manager_secret_version.api", "kubernetes_secret.api",
             "aws_lambda_function.worker", "vault_generic_secret.api", "github_actions_secret.deploy", "helm_release.api"]


def terraform_plan(ch, d):
    res = d.choice(RESOURCES)
    typ, name = res.split(".")
    verb = "updated in-place" if ch.old is not None and ch.new is not None else ("created" if ch.old is None else "updated in-place")
    mark = "+" if ch.old is None else "~"
    if d.random() < 0.35 and "\n" not in (ch.old or "") + (ch.new or ""):
        attr, extra = _tf_attr(f'"{env_name(ch.key)}"', ch.old, ch.new, 14)
        inner = ["      ~ environment {", "          ~ variables = {", '                "APP_ENV"   = "production"'] + attr + [
            "            }", "        }"]
    else:
        attr, extra = _tf_attr(snake(ch.key), ch.old, ch.new)
        inner = [f'        id                       = "{d.s("abcdefghijklmnopqrstuvwxyz0123456789-", 20)}"'] + attr + [
            '        name                     = "api"', "        # (12 unchanged attributes hidden)"]
    out = [f"  # {res} will be {verb}", f'  {mark} resource "{typ}" "{name}" {{'] + inner + ["    }", "",
                                                                                              "Plan: 0 to add, 1 to change, 0 to destroy."]
    return "\n".join(out), {}, extra


def terraform_outputs(ch, d):
    attr, extra = _tf_attr(snake(ch.key), ch.old, ch.new, 2)
    return "\n".join(["Changes to Outputs:"] + attr + ["", "You can apply this plan to save these new output values to the "
                                                           "Terraform state, without changing any real infrastructure."]), {}, extra


def terraform_json(ch, d):
    k = snake(ch.key)
    before = None if ch.old is None else {"id": "api", k: ch.old, "name": "api"}
    after = {"id": "api", k: ch.new, "name": "api"} if ch.new is not None else None
    doc = {"format_version": "1.2", "terraform_version": "1.10.2", "resource_changes": [{
        "address": "vault_generic_secret.api", "mode": "managed", "type": "vault_generic_secret", "name": "api",
        "change": {"actions": ["update" if before and after else ("create" if after else "delete")], "before": before, "after": after,
                   "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}}]}
    extra = [json.dumps(v)[1:-1] for v in (ch.old, ch.new) if v is not None]
    return json.dumps(doc, separators=(",", ":")), {}, extra


def pulumi(ch, d):
    k = camel(ch.key)
    if ch.old is not None and ch.new is not None:
        line = [f"      ~ {k}: {json.dumps(ch.old)} => {json.dumps(ch.new)}"]
    elif ch.new is not None:
        line = [f"      + {k}: {json.dumps(ch.new)}"]
    else:
        line = [f"      - {k}: {json.dumps(ch.old)}"]
    extra = [json.dumps(v)[1:-1] for v in (ch.old, ch.new) if v is not None]
    return "\n".join(["Previewing update (prod)", "", "    ~ aws:lambda/function:Function: (update)", f"        [id=worker-{d.hex(7)}]",
                      "        [urn=urn:pulumi:prod::app::aws:lambda/function:Function::worker]", "      ~ environment: {",
                      "          ~ variables: {"] + ["      " + ln for ln in line] + ["            }", "        }", "Resources:",
                                                                                     "    ~ 1 to update", "    7 unchanged"]), {}, extra


def cloudformation(ch, d):
    acct = d.randrange(10 ** 11, 10 ** 12)
    if d.random() < 0.5:
        target = {"Attribute": "Properties", "Name": pascal(ch.key), "RequiresRecreation": "Never",
                  "AttributeChangeType": "Modify" if ch.old and ch.new else ("Add" if ch.new else "Remove")}
        if ch.old is not None:
            target["BeforeValue"] = ch.old
        if ch.new is not None:
            target["AfterValue"] = ch.new
        doc = {"ChangeSetName": "rotate", "ChangeSetId": f"arn:aws:cloudformation:eu-west-1:{acct}:changeSet/rotate/{d.uuid()}",
               "Changes": [{"Type": "Resource", "ResourceChange": {
                   "Action": "Modify", "LogicalResourceId": "Api", "PhysicalResourceId": f"api-{d.hex(8)}",
                   "ResourceType": "AWS::Lambda::Function", "Replacement": "False", "Scope": ["Properties"],
                   "Details": [{"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}]}}]}
    else:
        doc = {"ChangeSetName": "rotate", "StackName": "api", "Parameters": [
            {"ParameterKey": "Environment", "ParameterValue": "prod"},
            {"ParameterKey": pascal(ch.key), "ParameterValue": ch.new if ch.new is not None else ch.old}], "Status": "CREATE_COMPLETE"}
    extra = [json.dumps(v)[1:-1] for v in (ch.old, ch.new) if v is not None]
    return json.dumps(doc, indent=2), {}, extra


def k8s_audit(ch, d):
    v = ch.new if ch.new is not None else ch.old
    form = d.choice(["json_patch_data", "merge_string", "merge_data", "env_add"])
    key = ch.key if "." in ch.key else snake(ch.key)
    if form == "json_patch_data":
        obj, res = [{"op": "replace" if ch.old is not None else "add", "path": f"/data/{key}", "value": b64(v)}], "secrets"
        extra = [b64(v)]
    elif form == "merge_string":
        obj, res, extra = {"stringData": {key: v}}, "secrets", [json.dumps(v)[1:-1]]
    elif form == "merge_data":
        obj, res, extra = {"data": {key: b64(v)}}, "secrets", [b64(v)]
    else:
        obj = [{"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": env_name(ch.key), "value": v}}]
        res, extra = "deployments", [json.dumps(v)[1:-1]]
    doc = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": d.uuid(), "stage": "ResponseComplete",
           "requestURI": f"/api/v1/namespaces/shop/{res}/api", "verb": "patch",
           "user": {"username": "system:serviceaccount:argocd:argocd-application-controller"},
           "objectRef": {"resource": res, "namespace": "shop", "name": "api", "apiVersion": "v1"},
           "responseStatus": {"metadata": {}, "code": 200}, "requestObject": obj,
           "requestReceivedTimestamp": "2026-12-07T09:12:44.902311Z"}
    return json.dumps(doc, separators=(",", ":")), {}, extra


# -- migrations -------------------------------------------------------------------------------------------------------
def _sql(ch, d) -> tuple[str, list[str]]:
    v = ch.new if ch.new is not None else ch.old
    q = v.replace("'", "''")
    if ch.family == "password" and d.random() < 0.5:
        return f"ALTER USER {d.choice(['app', 'reporting', 'etl'])} WITH PASSWORD '{q}'", [q]
    if d.random() < 0.5:
        return f"UPDATE settings SET value = '{q}' WHERE name = '{snake(ch.key)}'", [q]
    return f"INSERT INTO integrations (name, {snake(ch.key)}) VALUES ('{d.choice(['ci', 'billing', 'alerts'])}', '{q}')", [q]


def flyway(ch, d):
    sql, extra = _sql(ch, d)
    v = d.randrange(2, 40)
    return "\n".join([f"DEBUG: Starting migration of schema \"public\" to version \"{v} - seed integrations\" ...",
                      f"DEBUG: Executing SQL: {sql}", f"DEBUG: Successfully completed migration of schema \"public\" to version {v}"]), {}, extra


def liquibase(ch, d):
    sql, extra = _sql(ch, d)
    return "\n".join(["-- Changeset db/changelog/012-integrations.xml::12::ops", sql + ";", "",
                      "INSERT INTO public.databasechangelog (ID, AUTHOR, FILENAME, DATEEXECUTED, ORDEREXECUTED, MD5SUM, DESCRIPTION) "
                      f"VALUES ('12', 'ops', 'db/changelog/012-integrations.xml', NOW(), 12, '9:{d.hex(32)}', 'sql');"]), {}, extra


def alembic(ch, d):
    sql, extra = _sql(ch, d)
    a, b = d.hex(12), d.hex(12)
    return "\n".join(["INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.", "INFO  [alembic.runtime.migration] "
                      f"Running upgrade {a} -> {b}, seed integrations", sql + ";",
                      f"UPDATE alembic_version SET version_num='{b}' WHERE alembic_version.version_num = '{a}';"]), {}, extra


CARRIERS = {
    "git_diff": git_diff, "git_log_p": git_log_p, "format_patch": format_patch, "git_word_diff": git_word_diff, "git_color": git_color,
    "diff_u": diff_u, "diff_normal": diff_normal, "sdiff": sdiff, "chezmoi_diff": chezmoi, "etckeeper": etckeeper,
    "ansible_diff": ansible, "puppet_noop": puppet, "chef_diff": chef, "salt_changes": salt, "kubectl_diff": kubectl_diff,
    "helm_diff": helm_diff, "argocd_diff": argocd_diff, "terraform_plan": terraform_plan, "terraform_outputs": terraform_outputs,
    "terraform_json": terraform_json, "pulumi_preview": pulumi, "cloudformation_changeset": cloudformation, "k8s_audit": k8s_audit,
    "flyway": flyway, "liquibase": liquibase, "alembic": alembic,
}
MIGRATIONS = {"flyway", "liquibase", "alembic"}


def frame(ch: Change, d: Draw, carrier: str | None = None) -> tuple[str, str, dict, list[str]]:
    """``ch`` printed by a carrier (drawn, or ``carrier``): (carrier, body, attrs, extra forms)."""
    names = [n for n in CARRIERS if not (ch.multiline and n in MIGRATIONS)]
    name = carrier or d.choice(names)
    body, attrs, extra = CARRIERS[name](ch, d)
    return name, body, attrs, extra


def place(d: Draw, family: str) -> Sample:
    for _ in range(20):
        ch = values.draw(d, family)
        carrier, body, attrs, extra = frame(ch, d)
        text = body + "\x00" + "\x00".join(attrs.values())
        parts = tuple(p for p in set(ch.secrets) | {e for e in extra if _holds_secret(e, ch)} if len(p) >= 8 and p in text)
        if parts:
            return Sample(family, ch.kind, carrier, body, attrs, tuple(sorted(parts)))
    raise AssertionError(f"generator error: no {family} secret survives its carrier")


def _holds_secret(form: str, ch: Change) -> bool:
    """An extra form (base64, an escape) of a value counts when the value is all secret, or when it is a base64 of a
    value that holds one (a URI, a PEM): decoded, the secret is there."""
    try:
        dec = base64.b64decode(form, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        dec = None
    if dec is not None and any(s in dec for s in ch.secrets):
        return True
    return ch.family in ("password", "token", "cloud") and ch.kind != "gcp_sa_json"


def look_alikes(d: Draw, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for ch in benign_changes(d):
            carrier, body, attrs, _ = frame(ch, d)
            out.append(Sample("benign", ch.kind, carrier, body, attrs))
        for kind, carrier, body in benign_specials(d):
            out.append(Sample("benign", kind, carrier, body, {}))
    return out


def generate(seed: int, *, per_family: int = 45, benign_rounds: int = 3) -> list[Sample]:
    """``per_family`` secrets of each of the five families, then the look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    return [place(d, f) for f in values.FAMILIES for _ in range(per_family)] + look_alikes(d, benign_rounds)


run = scorer(survivors, Figures, "heldout13")


def main() -> None:
    cli(__doc__, generate, run, seed=131, size="per_family", default=45)


if __name__ == "__main__":
    main()
