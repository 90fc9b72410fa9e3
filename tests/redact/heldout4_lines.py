"""Fake passwords, OAuth/session material and personal data of the fourth held-out-style corpus
(``heldout_style4``): passwords on logged command lines of many tools, in config files of many tools, in
SQL and HTTP bodies; OAuth token responses and form bodies, signed session cookies; e-mails with tags and
subdomains, international phone numbers, cards, IBANs, named national IDs. Registered into
``heldout4_values.REG``.

Written on 2026-12-06 before opening ``src/ben/redact/`` (see ``heldout4_values``).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus, urlencode

from tests.redact.heldout4_values import AN, DG, HX, LO, REG, UP, US, Draw, Value, b64_piece, kind


def _sh(pw: str) -> str:
    """A password as a shell would be given it (single quotes when it needs them)."""
    return pw if all(c.isalnum() or c in "-_.@%+=:,/" for c in pw) else "'" + pw.replace("'", "'\\''") + "'"


CLI = (
    lambda u, p: f"mysql -h db.internal -u{u} -p{_sh(p)} -e 'SHOW PROCESSLIST'",
    lambda u, p: f"PGPASSWORD={_sh(p)} psql -h pg-primary -U {u} -d orders -c 'vacuum analyze'",
    lambda u, p: f"kubectl create secret generic db-creds --from-literal=username={u} --from-literal=password={_sh(p)} -n prod",
    lambda u, p: f"vault kv put secret/prod/{u} password={_sh(p)} ttl=24h",
    lambda u, p: f"docker login registry.acme.io -u {u} -p {_sh(p)}",
    lambda u, p: f"htpasswd -bB /etc/nginx/.htpasswd {u} {_sh(p)}",
    lambda u, p: f"az login --service-principal -u 4f1c2d3e-0000-4000-8000-{u}000000 -p {_sh(p)} --tenant acme.onmicrosoft.com",
    lambda u, p: f"rabbitmqctl add_user {u} {_sh(p)}",
    lambda u, p: f"redis-cli -h cache-0 -p 6379 -a {_sh(p)} --no-auth-warning INFO",
    lambda u, p: f"clickhouse-client --host ch-0 --user {u} --password {_sh(p)} --query 'SELECT 1'",
    lambda u, p: f"sshpass -p {_sh(p)} ssh -o StrictHostKeyChecking=no {u}@10.0.4.17 uptime",
    lambda u, p: f"curl -sS -u {u}:{_sh(p)} https://nexus.acme.io/service/rest/v1/repositories",
    lambda u, p: f"helm repo add acme https://charts.acme.io --username {u} --password {_sh(p)}",
    lambda u, p: f"mongosh --host rs0/mongo-0:27017 -u {u} -p {_sh(p)} --authenticationDatabase admin",
    lambda u, p: f"cmdkey /generic:TERMSRV/jump01 /user:ACME\\{u} /pass:{p}",
    lambda u, p: f"$pw = ConvertTo-SecureString \"{p}\" -AsPlainText -Force; New-LocalUser -Name {u} -Password $pw",
    lambda u, p: f"openssl pkcs12 -export -in tls.crt -inkey tls.key -out {u}.p12 -passout pass:{p}",
    lambda u, p: f"java -jar app.jar --spring.datasource.username={u} --spring.datasource.password={_sh(p)}",
    lambda u, p: f"ldapsearch -x -H ldaps://ldap.acme.io -D 'cn={u},dc=acme,dc=io' -w {_sh(p)} '(uid=*)'",
    lambda u, p: f"influx -host influx.internal -username {u} -password {_sh(p)} -execute 'SHOW DATABASES'",
)
CONF = (
    lambda u, p: f"# /etc/redis/redis.conf\nbind 0.0.0.0\nrequirepass {p}\nmaxmemory 2gb",
    lambda u, p: f"<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>{u}</username>\n"
                 f"      <password>{p.replace('&', '&amp;').replace('<', '&lt;')}</password>\n    </server>\n  </servers>\n</settings>",
    lambda u, p: f"signing.keyId=24875D73\nsigning.password={p}\nsigning.secretKeyRingFile=/root/.gnupg/secring.gpg",
    lambda u, p: f"[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = {u}\npassword = {p}",
    lambda u, p: f"protocol=https\nhost=github.com\nusername={u}\npassword={p}\n",
    lambda u, p: f"[Service]\nEnvironment=\"DB_USER={u}\" \"DB_PASS={p}\"\nExecStart=/usr/bin/app",
    lambda u, p: f"define( 'DB_USER', '{u}' );\ndefine( 'DB_PASSWORD', '{p}' );\ndefine( 'DB_HOST', 'localhost' );",
    lambda u, p: f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.postgresql', 'USER': '{u}', 'PASSWORD': {p!r}, 'HOST': 'db'}}}}",
    lambda u, p: f"production:\n  adapter: postgresql\n  username: {u}\n  password: \"{p}\"\n  host: db.internal",
    lambda u, p: f"[client]\nuser={u}\npassword=\"{p}\"\nhost=mysql.internal",
    lambda u, p: f"userlist admins\n  user {u} insecure-password {p}",
    lambda u, p: f"[prod]\nweb01 ansible_host=10.0.1.5 ansible_user={u} ansible_password='{p}' ansible_become_pass='{p}'",
    lambda u, p: f"spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.username={u}\nspring.datasource.password={p}",
    lambda u, p: f"machine api.heroku.com\n  login {u}@acme.io\n  password {p}",
)
SQL = (
    lambda u, p: f"ALTER USER {u} IDENTIFIED BY \"{p}\";",
    lambda u, p: f"CREATE ROLE {u} WITH LOGIN PASSWORD '{p}' VALID UNTIL '2027-01-01';",
    lambda u, p: f"SET PASSWORD FOR '{u}'@'%' = '{p}';",
    lambda u, p: f"CREATE USER {u} IDENTIFIED WITH sha256_password BY '{p}' DEFAULT ROLE reader;",
    lambda u, p: f"EXEC sp_addlogin '{u}', '{p}', 'master';",
)
HTTP = (
    lambda u, p: f"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n{urlencode({'username': u, 'password': p, 'remember': 'on'})}",
    lambda u, p: json.dumps({"operationName": "Login", "query": "mutation Login($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                             "variables": {"e": f"{u}@acme.io", "p": p}}),
    lambda u, p: f'mutation {{ signIn(username: "{u}", password: "{p}") {{ accessToken }} }}',
    lambda u, p: f"POST /oauth/token grant_type=password&username={u}&password={quote_plus(p)}&client_id=web",
)


def _pw_kind(name, templates, weight=1):
    def fn(d: Draw) -> Value:
        pw, user = d.password(), d.one(("svc_orders", "admin", "deploy", "etl", "grafana", "app_rw"))
        text = d.one(templates)(user, pw)
        forms = [pw, quote_plus(pw), quote(pw, safe=""), _sh(pw), pw.replace("&", "&amp;").replace("<", "&lt;"), repr(pw)[1:-1]]
        part = next(f for f in forms if f in text)
        return Value("password", name, text, (part,), (), "line")
    REG[name] = ("password", weight, fn)


_pw_kind("pw_cli", CLI, 4)
_pw_kind("pw_config_file", CONF, 3)
_pw_kind("pw_sql", SQL, 2)
_pw_kind("pw_http_body", HTTP, 2)


@kind("password", "pw_keyed", 3)
def _keyed(d: Draw) -> Value:
    pw = d.password()
    keys = ("password", "db_pass", "passwd", "pwd", "adminPassword", "root_password", "MYSQL_ROOT_PASSWORD",
            "smtp_password", "keystore_pass", "redis.auth", "bind_password", "master_password", "encryption_passphrase")
    return Value("password", "pw_keyed", pw, (pw,), keys, "pw")


@kind("password", "basic_auth_header", 2)
def _basic(d: Draw) -> Value:
    user, pw = d.one(("ci-bot", "admin", "svc-export")), d.password()
    blob = f"{user}:{pw}"
    enc = base64.b64encode(blob.encode()).decode()
    hdr = d.one(("Authorization", "Proxy-Authorization", "authorization"))
    text = d.one((f"{hdr}: Basic {enc}", f"> {hdr}: Basic {enc}\r\n> User-Agent: curl/8.11.0"))
    return Value("password", "basic_auth_header", text, (b64_piece(blob, len(user) + 1, len(pw)),), (), "line")


@kind("password", "registry_auth_b64")
def _docker_auth(d: Draw) -> Value:
    user, pw = d.one(("_json_key", "robot$ci", "deploy")), d.password()
    blob = f"{user}:{pw}"
    enc = base64.b64encode(blob.encode()).decode()
    text = d.one((json.dumps({"auths": {"registry.acme.io": {"auth": enc}}}, indent=2),
                  f"//registry.acme.io/npm/:_auth={enc}\nalways-auth=true",
                  f"//registry.acme.io/npm/:username={user}\n//registry.acme.io/npm/:_password={base64.b64encode(pw.encode()).decode()}"))
    part = b64_piece(blob, len(user) + 1, len(pw)) if enc in text else base64.b64encode(pw.encode()).decode()
    return Value("password", "registry_auth_b64", text, (part,), (), "line")


# -- OAuth and sessions --------------------------------------------------------------------------------------
@kind("session", "oauth_token_response", 2)
def _token_resp(d: Draw) -> Value:
    at, rt = d.mix(d.one((40, 64, 86)), US), d.mix(d.one((48, 64)), US)
    text = json.dumps({"access_token": at, "token_type": "Bearer", "expires_in": 3599, "refresh_token": rt, "scope": "openid profile"})
    return Value("session", "oauth_token_response", text, (at, rt), (), "line")


@kind("session", "oauth_form_body", 2)
def _form(d: Draw) -> Value:
    cs, rt = d.mix(40, US + "~."), d.mix(54, US)
    body = urlencode({"grant_type": "refresh_token", "client_id": "web-portal", "client_secret": cs, "refresh_token": rt})
    text = d.one((f"POST /oauth2/v1/token HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\n{body}",
                  f"request body={quote(body, safe='')}", f"form={body}"))
    return Value("session", "oauth_form_body", text, (quote_plus(cs) if quote_plus(cs) in text else quote(quote_plus(cs), safe=""),
                                                      rt), (), "line")


@kind("session", "session_cookie", 3)
def _cookie(d: Draw) -> Value:
    c = d.one(("express", "rails", "flask", "nextauth", "laravel"))
    if c == "express":
        v, part = None, d.mix(32, US)
        v = "s%3A" + part + "." + d.mix(43, US)
        name = "connect.sid"
    elif c == "rails":
        part = d.mix(120, AN + "+/")
        v, name = quote(part, safe="") + "--" + d.s(HX, 40), "_acme_session"
        part = quote(part, safe="")
    elif c == "flask":
        part = d.mix(60, US)
        v, name = "eyJ" + part + "." + d.mix(6, US) + "." + d.mix(27, US), "session"
    elif c == "nextauth":
        part = d.mix(200, US)
        v, name = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + part, "__Secure-next-auth.session-token"
    else:
        part = d.mix(180, AN)
        v, name = "eyJpdiI6" + part + "%3D%3D", "laravel_session"
    text = d.one((f"Cookie: theme=dark; {name}={v}; _ga=GA1.1.18834.1764950400",
                  f"Set-Cookie: {name}={v}; Path=/; HttpOnly; Secure; SameSite=Lax",
                  f'{{"http.request.header.cookie": "{name}={v}"}}'))
    return Value("session", "session_cookie", text, (part,), (), "line")


# -- personal data ----------------------------------------------------------------------------------------------
def luhn_fill(prefix: str, n: int, d: Draw) -> str:
    body = prefix + d.s(DG, n - len(prefix) - 1)
    total = 0
    for i, ch in enumerate(reversed(body)):
        x = int(ch) * (2 if i % 2 == 0 else 1)
        total += x - 9 if x > 9 else x
    return body + str((10 - total % 10) % 10)


@kind("pii", "email", 3)
def _email(d: Draw) -> Value:
    local = d.one((f"{d.s(LO, 5)}.{d.s(LO, 7)}+{d.one(('billing', 'github', 'test-2026'))}", f"{d.s(LO, 1)}{d.s(LO, 8)}{d.s(DG, 2)}",
                   f"{d.s(LO, 6)}_{d.s(LO, 4)}"))
    dom = d.one(("mail.eu.acme-corp.co.uk", "students.uni-heidelberg.de", "gmail.com", "outlook.com.br", "subsidiary.example.org"))
    v = f"{local}@{dom}"
    return Value("pii", "email", v, (local if len(local) >= 8 else v,), ("email", "user.email", "enduser.email", "to", "customer_email"))


@kind("pii", "phone_intl", 3)
def _phone(d: Draw) -> Value:
    n = lambda k: d.s(DG, k)  # noqa: E731
    v = d.one((f"+44 20 {n(4)} {n(4)}", f"+49 (0)30 {n(3)} {n(5)}", f"+1 (415) 555-{n(4)}", f"+33 6 {n(2)} {n(2)} {n(2)} {n(2)}",
               f"+81-3-{n(4)}-{n(4)}", f"+91 98{n(3)} {n(5)}", f"+55 11 9{n(4)}-{n(4)}", f"+61 4{n(2)} {n(3)} {n(3)}",
               f"0044 7700 {n(6)}", f"+353 87 {n(3)} {n(4)}", f"+48 6{n(2)} {n(3)} {n(3)}", f"+1-202-555-{n(4)}"))
    return Value("pii", "phone_intl", v, (v,), ("phone", "phone_number", "msisdn", "contact.phone", "mobile"))


@kind("pii", "card", 2)
def _card(d: Draw) -> Value:
    num = d.one((luhn_fill("4", 16, d), luhn_fill("5" + str(d.rng.randint(1, 5)), 16, d), luhn_fill("37", 15, d),
                 luhn_fill("6011", 16, d), luhn_fill("2221", 16, d)))
    sep = d.one((" ", "-", ""))
    groups = [num[:4], num[4:10], num[10:]] if len(num) == 15 else [num[i:i + 4] for i in range(0, 16, 4)]
    v = sep.join(groups)
    return Value("pii", "card", v, (v,), ("card_number", "pan", "cc", "payment.card.number"))


IBAN_LEN = {"DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21, "AT": 20, "PL": 28, "SE": 24, "IE": 22}


@kind("pii", "iban", 2)
def _iban(d: Draw) -> Value:
    cc = d.one(sorted(IBAN_LEN))
    bban = (d.s(UP, 4) + d.s(DG, IBAN_LEN[cc] - 8)) if cc in ("GB", "NL", "IE") else d.s(DG, IBAN_LEN[cc] - 4)
    num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
    iban = f"{cc}{98 - num % 97:02d}{bban}"
    v = d.one((iban, " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))))
    return Value("pii", "iban", v, (v,), ("iban", "payout.iban", "bank_account", "IBAN"))


@kind("pii", "named_national_id", 2)
def _nid(d: Draw) -> Value:
    k, v = d.one((("ssn", f"{d.rng.randint(100, 665)}-{d.s(DG, 2)}-{d.s(DG, 4)}"),
                  ("nino", f"{d.one('ABCEGHJKLMNPRSTWXYZ')}{d.one('ABCEGHJKLMNPRSTWXYZ')}{d.s(DG, 6)}{d.one('ABCD')}"),
                  ("passport_number", d.s(UP, 2) + d.s(DG, 7)), ("tax_id", f"{d.s(DG, 2)}-{d.s(DG, 7)}"),
                  ("national_id", d.s(DG, 11))))
    return Value("pii", "named_national_id", v, (v,), (k, k.upper(), "customer." + k), "pw")


__all__ = ["AN", "HX", "LO", "UP", "US"]
