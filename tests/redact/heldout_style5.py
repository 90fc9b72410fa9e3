"""A fifth held-out-style corpus, written apart from the first four on 2026-12-06 **before opening
``src/ben/redact/``** (read: ADR 0030's method, the docs' list of what is masked by default — secrets, e-mails,
phone numbers, cards, IBANs, named national IDs; IP addresses are not personal data there, the earlier corpora
keep them as look-alikes —, and the first four corpora's kind and carrier lists, only to avoid repeating them).

The question this time: real log formats of whole ecosystems, with secrets planted where a stranger would plant
them — nginx/Apache access and error logs (query strings, Referer, cookies, a debug log's headers), ``kubectl
describe`` and events, compose logs, journald verbose records (``_CMDLINE=``), Spring Boot (actuator ``/env``,
startup arguments, a HikariCP ``jdbcUrl``, a binding exception), Python tracebacks (``locals`` and rich's
boxes), Go panics (``%#v``), Node ``util.inspect`` errors, Rails and Django request parameters, SQL logs
(``IDENTIFIED BY``, ``PASSWORD(``, ``WITH PASSWORD``), GitHub Actions (``env:`` blocks, ``::add-mask::``) and
GitLab jobs, CloudTrail, Terraform plans, Ansible verbose results, LDAP and sssd, SMTP ``AUTH PLAIN``/``LOGIN``,
credentials in URLs of many schemes and on command lines of file-sharing tools. Look-alikes
(``heldout5_values.benign``): ids, digests, public keys and certificates, masked values in each ecosystem's own
words (``***``, ``[FILTERED]``, ``VALUE_SPECIFIED_IN_NO_LOG_PARAMETER``, ``HIDDEN_DUE_TO_SECURITY_REASONS``,
``(sensitive value)``, ``<masked>``) and references (``<password>``, ``${X}``, ``$(X)``, ``{{ x }}``,
``%env(X)%``, a k8s ``<set to the key …>``): a reference names where a secret is, it is not one.

Scoring as in the fourth corpus (``heldout_style4.survivors``: no run of 8 characters of a secret part, in any form
written, survives anywhere in the event).

    python -m tests.redact.heldout_style5 --seed 51 -v 20
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.redact.heldout5_values import Draw, Value, benign, password, pii, token
from tests.redact.heldout_style import cli, look_alikes, scorer
from tests.redact.heldout_style3 import Figures
from tests.redact.heldout_style4 import Sample, forms, survivors

TS = "2026-12-06T10:15:02.481Z"
NGX = "06/Dec/2026:10:15:02 +0000"


def _w(k: str) -> list[str]:
    return k.replace("-", " ").split()


CASES = {
    "snake": lambda k: "_".join(_w(k)), "upper": lambda k: "_".join(_w(k)).upper(), "kebab": lambda k: "-".join(_w(k)),
    "camel": lambda k: _w(k)[0] + "".join(w.title() for w in _w(k)[1:]),
    "pascal": lambda k: "".join(w.title() for w in _w(k)),
}


def _q(v: str) -> str:
    return quote(v, safe="")


# -- keyed carriers: (key, value) -> (body, attrs); each names the key's case it uses ----------------------------
KEYED = {
    "nginx_query": ("snake", lambda k, v, d: f'{d.ip()} - - [{NGX}] "GET /api/v1/session?{k}={_q(v)}&page=2 HTTP/1.1" 200 512 "-" "curl/8.5.0"'),
    "nginx_referer": ("snake", lambda k, v, d: f'{d.ip()} - - [{NGX}] "GET /static/app.js HTTP/2.0" 200 1234 '
                                               f'"https://app.acme.io/settings?tab=security&{k}={_q(v)}" "Mozilla/5.0 (X11; Linux x86_64)"'),
    "nginx_error": ("snake", lambda k, v, d: f"2026/12/06 10:15:02 [error] 31#31: *1021 upstream timed out (110: Connection timed out) "
                                             f'while reading response header from upstream, client: {d.ip()}, server: api.acme.io, '
                                             f'request: "POST /login?{k}={_q(v)} HTTP/1.1", upstream: "http://10.0.5.6:8080/login", host: "api.acme.io"'),
    "apache_cookie": ("snake", lambda k, v, d: f'{d.ip()} - - [{NGX}] "GET / HTTP/1.1" 200 2326 "-" "Mozilla/5.0" "{k}={_q(v)}; _ga=GA1.2.1234.5678"'),
    "k8s_describe_env": ("upper", lambda k, v, d: f"Containers:\n  api:\n    Container ID:  containerd://{d.hexs(64)}\n"
                                                  f"    Image:         registry.acme.io/api:1.4.2\n    Environment:\n      LOG_LEVEL:  info\n"
                                                  f"      {k}:  {v}\n      PORT:  8080\n    Mounts:\n      /tmp from tmp (rw)"),
    "k8s_event_probe": ("kebab", lambda k, v, d: "LAST SEEN   TYPE      REASON      OBJECT                MESSAGE\n"
                                                 f"2m          Warning   Unhealthy   pod/db-0   Liveness probe failed: "
                                                 f"healthcheck -h 127.0.0.1 -u root --{k}={v}: exit status 1"),
    "compose_printenv": ("upper", lambda k, v, d: f"api-1  | HOSTNAME={d.hexs(12)}\napi-1  | {k}={v}\napi-1  | HOME=/root"),
    "journal_cmdline": ("kebab", lambda k, v, d: f"Sun 2026-12-06 10:15:02.481000 UTC [s={d.hexs(32)};i=4d2]\n    _PID=1234\n"
                                                 f"    _COMM=app\n    _CMDLINE=/usr/local/bin/app serve --{k}={v} --port 8080\n    MESSAGE=listening"),
    "journal_short": ("snake", lambda k, v, d: f"Dec 06 10:15:02 web1 app[1234]: loaded settings {k}={v} from /etc/app/app.env"),
    "spring_actuator_env": ("upper", lambda k, v, d: json.dumps({"activeProfiles": ["prod"], "propertySources": [{"name": "systemEnvironment",
                                                                 "properties": {k: {"value": v, "origin": f'System Environment Property "{k}"'}}}]})),
    "spring_args": ("kebab", lambda k, v, d: f"{TS}  INFO 1 --- [           main] com.acme.Application                     : "
                                             f"Started with args [--spring.profiles.active=prod, --app.db.{k}={v}]"),
    "spring_bind_error": ("camel", lambda k, v, d: "org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean "
                                                   f"with name 'dataSource'\nCaused by: java.lang.IllegalStateException: Invalid property '{k}' "
                                                   f"value [{v}]\n\tat org.springframework.beans.BeanWrapperImpl.setPropertyValue(BeanWrapperImpl.java:123)"),
    "hikari_jdbc": ("camel", lambda k, v, d: f"HikariPool-1 - configuration:\njdbcUrl.........................jdbc:postgresql://db:5432/app?"
                                             f"user=app&{k}={_q(v)}\nmaximumPoolSize.................10"),
    "py_locals": ("snake", lambda k, v, d: 'Traceback (most recent call last):\n  File "/app/worker.py", line 88, in run\n    client.connect()\n'
                                           f"ConnectionError: refused\nlocals: {{'self': <worker.Client object at 0x7f3a{d.hexs(8)}>, "
                                           f"'{k}': '{v}', 'retries': 3}}"),
    "py_rich_locals": ("snake", lambda k, v, d: f"╭──────── locals ────────╮\n│  host = 'db.internal'  │\n│ {k} = '{v}' │\n│ retries = 3 │\n╰────────────────────────╯"),
    "go_panic_sharpv": ("pascal", lambda k, v, d: f'panic: cannot connect: &config.Settings{{Host:"db.internal", {k}:"{v}", Port:5432}}\n\n'
                                                  "goroutine 1 [running]:\nmain.main()\n\t/src/cmd/api/main.go:42 +0x1a5\nexit status 2"),
    "node_inspect": ("camel", lambda k, v, d: f"Error: connect ECONNREFUSED {d.ip()}:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] "
                                              f"(node:net:1607:16) {{\n  errno: -111,\n  code: 'ECONNREFUSED',\n  config: {{ host: 'db', {k}: '{v}', port: 5432 }}\n}}"),
    "rails_params": ("snake", lambda k, v, d: f'Started POST "/users/sign_in" for {d.ip()} at 2026-12-06 10:15:02 +0000\n'
                                              "Processing by Users::SessionsController#create as HTML\n"
                                              f'  Parameters: {{"authenticity_token"=>"[FILTERED]", "user"=>{{"login"=>"bob", "{k}"=>"{v}"}}, "commit"=>"Log in"}}'),
    "django_querydict": ("snake", lambda k, v, d: "Internal Server Error: /api/login/\nTraceback (most recent call last):\n  ...\n"
                                                  f"POST: <QueryDict: {{'username': ['bob'], '{k}': ['{v}']}}>"),
    "cloudtrail": ("camel", lambda k, v, d: json.dumps({"eventVersion": "1.09", "eventSource": "rds.amazonaws.com", "eventName": "CreateDBInstance",
                                                        "sourceIPAddress": d.ip(), "requestParameters": {"dBInstanceIdentifier": "prod-db", k: v},
                                                        "responseElements": None, "requestID": d.uuid()})),
    "tf_plan": ("snake", lambda k, v, d: '  # aws_db_instance.main will be created\n  + resource "aws_db_instance" "main" {\n'
                                         f'      + engine   = "postgres"\n      + {k} = "{v}"\n      + id       = (known after apply)\n    }}'),
    "ansible_verbose": ("snake", lambda k, v, d: "TASK [db : create application user] ********************\n"
                                                 + 'ok: [web1] => {"changed": false, "invocation": {"module_args": '
                                                 + json.dumps({"name": "app", k: v, "state": "present"}) + "}}"),
    "gitlab_export": ("upper", lambda k, v, d: 'Executing "step_script" stage of the job script\n'
                                               f'$ export {k}="{v}"\n$ ./deploy.sh production'),
    "gha_env_block": ("upper", lambda k, v, d: f"Run ./deploy.sh\n  ./deploy.sh\n  shell: /usr/bin/bash -e {{0}}\n  env:\n    {k}: {v}\n    NODE_VERSION: 20"),
}


# -- carriers that need no key: a value's own family decides ------------------------------------------------------
def _sql(v, d):
    return d.one([f"CREATE USER 'app'@'%' IDENTIFIED BY '{v}';", f"ALTER USER 'app'@'localhost' IDENTIFIED WITH mysql_native_password BY '{v}';",
                  f"SET PASSWORD FOR 'app'@'%' = PASSWORD('{v}');", f"ALTER ROLE app WITH PASSWORD '{v}';",
                  f"CREATE USER app WITH ENCRYPTED PASSWORD '{v}' VALID UNTIL 'infinity';", f"GRANT ALL ON *.* TO 'app'@'%' IDENTIFIED BY '{v}';"])


def _sql_log(v, d):
    return d.one([f"# Time: {TS}\n# User@Host: root[root] @ localhost []\n# Query_time: 2.104  Lock_time: 0.000\nSET timestamp=1765016102;\n{_sql(v, d)}",
                  f"2026-12-06 10:15:02.481 UTC [4211] LOG:  statement: {_sql(v, d)}",
                  f"{TS}\t42 Query\t{_sql(v, d)}"])


PW_BARE = {
    "sql_log": _sql_log,
    "url_scheme": lambda v, d: d.one([
        f"Collecting acme-lib from git+https://bob:{_q(v)}@git.acme.io/acme/lib.git@v1.2",
        f"fatal: Authentication failed for 'https://bob:{_q(v)}@github.com/acme/api.git/'",
        f"svn: E170013: Unable to connect to a repository at URL 'svn+ssh://bob:{_q(v)}@svn.acme.io/repo/trunk'",
        f"mirror: fetching ftp://deploy:{_q(v)}@ftp.acme.io/pub/releases/",
        f"sftp://deploy:{_q(v)}@files.acme.io:22/incoming upload failed: timeout",
        f"mount error(13): Permission denied for smb://CORP;bob:{_q(v)}@fs01.acme.io/share",
        f"ldap_initialize( ldap://cn=admin:{_q(v)}@ldap.acme.io:389 )",
        f"rsync: failed to connect to rsync://backup:{_q(v)}@backup.acme.io/data (111)"]),
    "cmdline_tool": lambda v, d: d.one([
        f'ldapsearch -x -H ldaps://ldap.acme.io -D "cn=admin,dc=acme,dc=io" -w {v} -b "dc=acme,dc=io" "(uid=bob)"',
        f"smbclient //fs01.acme.io/share -U bob%{v} -c 'ls'",
        f"mount -t cifs //fs01/share /mnt/share -o username=bob,password={v},vers=3.0",
        f"lftp -u deploy,{v} sftp://files.acme.io -e 'put app.tar.gz; bye'",
        f"svn checkout --username bob --password {v} svn://svn.acme.io/repo/trunk",
        f"htpasswd -b /etc/nginx/.htpasswd admin {v}",
        f"openssl pkcs12 -export -in tls.crt -inkey tls.key -out tls.p12 -passout pass:{v}",
        f"keytool -importkeystore -srckeystore tls.p12 -destkeystore app.jks -deststorepass {v}"]),
    "sssd_conf": lambda v, d: f"[domain/acme.io]\nldap_uri = ldaps://ldap.acme.io\nldap_default_bind_dn = cn=svc,ou=apps,dc=acme,dc=io\nldap_default_authtok = {v}",
    "gha_add_mask": lambda v, d: f"##[group]Run echo \"::add-mask::$DB_PASS\"\n::add-mask::{v}\n##[endgroup]",
}


def _basic(v, d):
    b = base64.b64encode(f"bob:{v}".encode()).decode()
    return d.one([f'2026/12/06 10:15:02 [debug] 31#31: *1021 http header: "Authorization: Basic {b}"',
                  f'{d.ip()} - bob [{NGX}] "GET /admin HTTP/1.1" 401 0 "-" "curl/8.5.0" auth="Basic {b}"']), b


def _smtp(v, d):
    if d.rng.random() < 0.5:
        b = base64.b64encode(f"\0bob@acme.io\0{v}".encode()).decode()
        return f"postfix/smtpd[2211]: C: AUTH PLAIN {b}\npostfix/smtpd[2211]: S: 235 2.7.0 Authentication successful", b
    b = base64.b64encode(v.encode()).decode()
    return (f"S: 334 VXNlcm5hbWU6\nC: {base64.b64encode(b'bob@acme.io').decode()}\nS: 334 UGFzc3dvcmQ6\nC: {b}\n"
            "S: 235 2.7.0 Authentication successful"), b


PW_ENCODED = {"basic_header": _basic, "smtp_auth": _smtp}
TOKEN_BARE = {
    "gha_add_mask": PW_BARE["gha_add_mask"],
    "git_url": lambda v, d: f"Cloning into 'infra'...\nremote: fetching https://oauth2:{v}@gitlab.acme.io/ops/infra.git",
    "axios_error": lambda v, d: ("AxiosError: Request failed with status code 401\n    at settle (/app/node_modules/axios/lib/core/settle.js:19:12) {\n"
                                 f"  config: {{\n    headers: {{ Accept: 'application/json', Authorization: 'Bearer {v}' }},\n    method: 'get'\n  }}\n}}"),
    "varnish_cookie": lambda v, d: f"-   ReqHeader      Cookie: _session_id={v}; theme=dark\n-   ReqHeader      Host: app.acme.io",
}
PII_BARE = {
    "postfix_to": lambda v, d: f"postfix/smtp[2211]: 3F2A1C0D: to=<{v}>, relay=mx.acme.io[10.0.0.8]:25, delay=0.4, status=sent (250 2.0.0 OK)",
    "sql_where": lambda v, d: f"# Query_time: 1.2\nSELECT id, name FROM customers WHERE contact = '{v}' LIMIT 1;",
    "k8s_regcred": lambda v, d: f"kubectl create secret docker-registry regcred --docker-server=registry.acme.io --docker-username=bob --docker-email={v}",
    "django_log": lambda v, d: f"[06/Dec/2026 10:15:02] INFO accounts.views: password reset requested for {v} from {d.ip()}",
}
BARE_OK = {"email": set(PII_BARE), "phone": {"sql_where", "django_log"}, "card": {"sql_where"}, "iban": {"sql_where"}}


def place(d: Draw, v: Value) -> Sample:
    """Puts one value into a carrier drawn for its family."""
    roll = d.rng.random()
    if v.family == "password" and roll < 0.35:
        names = sorted(PW_BARE) + sorted(PW_ENCODED)
        name = d.one(names)
        if name in PW_ENCODED:
            body, b = PW_ENCODED[name](v.text, d)
            return _finish(v, "bare_" + name, body, {}, (b,))
        return _finish(v, "bare_" + name, PW_BARE[name](v.text, d), {}, v.parts)
    if v.family == "token" and roll < 0.3:
        name = d.one(sorted(TOKEN_BARE))
        return _finish(v, "bare_" + name, TOKEN_BARE[name](v.text, d), {}, v.parts)
    if v.family == "pii" and v.kind in BARE_OK and roll < 0.4:
        name = d.one(sorted(BARE_OK[v.kind]))
        return _finish(v, "bare_" + name, PII_BARE[name](v.text, d), {}, v.parts)
    name = d.one(sorted(KEYED))
    case, fn = KEYED[name]
    return _finish(v, "kv_" + name, fn(CASES[case](d.one(v.keys)), v.text, d), {}, v.parts)


def _finish(v: Value, carrier: str, body: str, attrs: dict, parts: tuple[str, ...]) -> Sample:
    text = body + "\x00" + "\x00".join(f"{k}\x00{x}" for k, x in attrs.items())
    kept = tuple(p for p in parts if any(f in text for f in forms(p)))
    if not kept:
        raise AssertionError(f"generator error: no part of {v.kind} is written in {carrier}: {parts} / {body[:200]!r}")
    return Sample(v.family, v.kind, carrier, body, attrs, kept)


def generate(seed: int, *, per_family: int = 120, benign_rounds: int = 6) -> list[Sample]:
    """``per_family`` passwords, tokens and personal data in random carriers, then the look-alikes."""
    d = Draw(seed)
    out = []
    for make, n in ((password, per_family), (token, per_family), (pii, per_family)):
        for _ in range(n):
            out.append(place(d, make(d)))
    return out + look_alikes(benign, d, benign_rounds)


run = scorer(survivors, Figures, "heldout5")


def main() -> None:
    cli(__doc__, generate, run, seed=51, size="per_family", default=120)


if __name__ == "__main__":
    main()
