"""Passwords in every syntax and language, and personal data, for ``heldout_style``.

Passwords are secrets only because of what surrounds them: ``password_kv`` is placed under a key by the
carriers; the other password kinds are whole texts (a command line, an SQL statement, a line of code, a
config file) that carry their password themselves. National IDs other than the US SSN are opt-in in ben's
documented policy: they are family ``national_id`` and scored with the opt-in detectors on.
"""

from __future__ import annotations

import base64
import string

from tests.redact.heldout_tokens import Secret, kind

PASSWORD_KEYS = (
    "password", "Password", "PASSWORD", "db_password", "DB_PASS", "dbPassword", "adminPwd", "root_pw", "passwd",
    "pass", "pwd", "MYSQL_ROOT_PASSWORD", "POSTGRES_PASSWORD", "spring.datasource.password", "ansible_become_pass",
    "ansible_ssh_pass", "administrator_login_password", "master_password", "keyStorePassword", "passphrase",
    "Passwort", "Kennwort", "contraseña", "mot_de_passe", "senha", "wachtwoord", "hasło", "пароль", "密码",
    "パスワード", "비밀번호", "şifre", "lösenord", "salasana", "parola", "heslo", "jelszó", "lozinka", "passord",
    "adgangskode", "κωδικός", "סיסמה", "كلمة_المرور", "mật_khẩu", "รหัสผ่าน", "kata_sandi", "contrasenya",
    "SMTP_PASSWD", "userPassword", "redis_auth_pass", "bind_pw", "rootPassword", "PassWord", "DB-PASSWORD",
)


@kind("password", "password_kv")
def _(g, f, n):
    pw = g.password()
    return Secret(f, n, pw, (pw,), PASSWORD_KEYS, self_id=False)


_SHELL = [
    "mysql -u root -p{pw} -h db.internal app", "mysql --user=root --password={pw} app", "mysql -uroot -p'{pw}' app",
    "PGPASSWORD={pw} psql -h db -U app -d app", "sshpass -p '{pw}' ssh deploy@10.0.0.5",
    "curl -u admin:{pw} https://api.example.com/v1/status", "curl --user admin:{pw} -X POST https://ci.example.com",
    "docker login -u ci -p {pw} registry.example.com", "redis-cli -h cache -a {pw} ping",
    "mongosh -u admin -p {pw} --authenticationDatabase admin", "htpasswd -b -c /etc/nginx/.htpasswd admin {pw}",
    "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:{pw}", "keytool -list -keystore ks.jks -storepass {pw}",
    "ldapsearch -x -D cn=admin,dc=example,dc=org -w {pw} -b dc=example,dc=org", "smbclient //srv/share -U backup%{pw}",
    "wget --user=deploy --password={pw} https://files.example.com/a.tgz", "sqlcmd -S db -U sa -P {pw} -Q 'SELECT 1'",
    "git clone https://deploy:{pw}@git.example.com/team/repo.git", "java -Djavax.net.ssl.keyStorePassword={pw} -jar app.jar",
    "echo '{pw}' | sudo -S systemctl restart api", "mysqldump -uroot -p{pw} --all-databases", "zip -P {pw} backup.zip db.sql",
    "helm upgrade api ./chart --set auth.password={pw}", "kubectl create secret generic db --from-literal=password={pw}",
    "az login -u ops@example.com -p {pw}", "ansible-playbook site.yml --extra-vars 'ansible_become_pass={pw}'",
    "net use \\\\fs01\\share /user:CORP\\backup {pw}", "rabbitmqctl add_user app {pw}", "psql 'postgresql://app:{pw}@db/app'",
    "mariadb -h db -u app --password {pw}", "influx auth create --password {pw}", "vncpasswd -f <<< {pw}",
]
_SQL = [
    "CREATE USER app IDENTIFIED BY '{pw}';", "ALTER USER postgres WITH PASSWORD '{pw}';",
    "CREATE ROLE reporting LOGIN PASSWORD '{pw}';", "SET PASSWORD FOR 'app'@'%' = '{pw}';",
    "CREATE LOGIN svc WITH PASSWORD = '{pw}', CHECK_POLICY = OFF;", "GRANT ALL ON *.* TO 'ops'@'%' IDENTIFIED BY '{pw}';",
    "CREATE USER ch IDENTIFIED WITH sha256_password BY '{pw}'", "INSERT INTO users (login, password) VALUES ('jdoe', '{pw}');",
    "UPDATE accounts SET password = '{pw}' WHERE id = 42;", "ALTER ROLE app WITH ENCRYPTED PASSWORD '{pw}' VALID UNTIL 'infinity';",
]
_CODE = [
    'conn = psycopg2.connect(host="db", user="app", password="{pw}", dbname="app")',
    "db = pymysql.connect(host='db', user='app', passwd='{pw}', db='app')",
    'ds.setPassword("{pw}");', 'DataSource ds = DataSourceBuilder.create().username("app").password("{pw}").build();',
    "const client = new Client({{ user: 'app', password: '{pw}', host: 'db' }});",
    "ActiveRecord::Base.establish_connection(adapter: 'postgresql', username: 'app', password: '{pw}')",
    "$db_pass = '{pw}';", "define('DB_PASSWORD', '{pw}');", 'cfg := Config{{User: "app", Password: "{pw}", Host: "db"}}',
    "$config['smtp_pass'] = \"{pw}\";", "let opts = PgConnectOptions::new().username(\"app\").password(\"{pw}\");",
    "spring.datasource.password={pw}", "<property name=\"hibernate.connection.password\">{pw}</property>",
    'var cred = new NetworkCredential("svc", "{pw}");', "Properties p = new Properties(); p.put(\"password\", \"{pw}\");",
]
_FILES = [
    "db.internal:5432:app:app:{pw}", "machine api.example.com login deploy password {pw}",
    "[global]\nindex-url = https://deploy:{pw}@pypi.example.com/simple", "requirepass {pw}\nmasterauth {pw}",
    '"app" "{pw}"', "[smtp.example.com]:587 mailer:{pw}", 'network={{\n  ssid="office"\n  psk="{pw}"\n}}',
    '<user username="admin" password="{pw}" roles="manager-gui"/>',
    "<server>\n  <id>nexus</id>\n  <username>deploy</username>\n  <password>{pw}</password>\n</server>",
    "env:\n  - name: DB_PASSWORD\n    value: \"{pw}\"\n  - name: LOG_LEVEL\n    value: info",
    '{{"name": "DB_PASSWORD", "value": "{pw}"}}', '{{"ParameterKey": "DBPassword", "ParameterValue": "{pw}"}}',
    '{{"SecretString": "{{\\"username\\":\\"app\\",\\"password\\":\\"{pw}\\"}}"}}',
    "Key         Value\n---         -----\nusername    app\npassword    {pw}",
    "auth-user-pass\n# /etc/openvpn/creds:\nvpnuser\n{pw}", "ftp_password: !vault |\n  {pw}",
]
_PROSE = [
    "the new password is {pw}", "password for admin: {pw}", "pw: {pw}", "use passphrase {pw} to unlock the vault",
    "Das Passwort lautet {pw}", "la contraseña es {pw}", "le mot de passe est {pw}", "a senha é {pw}",
    "пароль: {pw}", "密码是 {pw}", "login failed for user 'app' with password '{pw}'", "creds are app / {pw}",
]


def _text_kind(name: str, templates: list[str], *, multiline: bool = False) -> None:
    @kind("password", name)
    def _(g, f, n):
        pw = g.password().replace("'", "").replace('"', "").replace("\\", "")
        if name == "pw_shell":
            pw = pw.replace("&", "").replace(";", "").replace(" ", "")
        t = g.rng.choice(templates)
        return Secret(f, n, t.format(pw=pw), (pw,), ("cmd", "message", "statement", "line"),
                      multiline=multiline and "\n" in t)


_text_kind("pw_shell", _SHELL)
_text_kind("pw_sql", _SQL)
_text_kind("pw_code", _CODE)
_text_kind("pw_file", _FILES, multiline=True)
_text_kind("pw_prose", _PROSE)


@kind("password", "docker_config_auth")
def _(g, f, n):
    a = base64.b64encode(f"ci:{g.password()}".encode()).decode()
    return Secret(f, n, '{"auths": {"registry.example.com": {"auth": "' + a + '"}}}', (a,), ("config.json", "dockerconfig"))


# --- personal data -----------------------------------------------------------------------------
_FIRST = ["jane", "omar", "li", "priya", "lukas", "sofia", "kwame", "yuki", "mateo", "ines", "olga", "tariq"]
_LAST = ["doe", "haddad", "wei", "sharma", "schmidt", "rossi", "mensah", "tanaka", "garcia", "moreau", "petrova"]
_DOMAINS = ["example.com", "mail.example.org", "corp.example.co.uk", "example.de", "uni.example.edu", "example.jp"]


@kind("pii", "email")
def _(g, f, n):
    a, b = g.rng.choice(_FIRST), g.rng.choice(_LAST)
    local = g.rng.choice([f"{a}.{b}", f"{a}{b}{g.rng.randint(1, 99)}", f"{a[0]}{b}+ops", f"{a}_{b}",
                          f"{a.capitalize()}.{b.capitalize()}"])
    return Secret(f, n, f"{local}@{g.rng.choice(_DOMAINS)}", (local + "@",),
                  ("email", "user.email", "to", "customer_email", "From", "reply_to"))


@kind("pii", "phone")
def _(g, f, n):
    d = lambda k: g.s(string.digits, k)  # noqa: E731
    forms = [f"+1 (415) {d(3)}-{d(4)}", f"415-{d(3)}-{d(4)}", f"(212) {d(3)}-{d(4)}", f"+1 646.{d(3)}.{d(4)}",
             f"+44 20 {d(4)} {d(4)}", f"020 {d(4)} {d(4)}", f"07700 {d(6)}", f"+49 30 {d(8)}", f"+49 (0)30 {d(4)} {d(4)}",
             f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", f"01 {d(2)} {d(2)} {d(2)} {d(2)}", f"+91 98{d(3)} {d(5)}",
             f"+81 3-{d(4)}-{d(4)}", f"090-{d(4)}-{d(4)}", f"+55 11 9{d(4)}-{d(4)}", f"+61 2 {d(4)} {d(4)}",
             f"0412 {d(3)} {d(3)}", f"+1415{d(7)}", f"+31 6 {d(8)}", f"+34 612 {d(3)} {d(3)}", f"+39 347 {d(7)}"]
    v = g.rng.choice(forms)
    return Secret(f, n, v, (v,), ("phone", "msisdn", "tel", "mobile", "phone_number", "telefono"))


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, c in enumerate(reversed(digits + "0")):
        x = int(c) * (2 if i % 2 else 1)
        total += x - 9 if x > 9 else x
    return digits + str((10 - total % 10) % 10)


@kind("pii", "card")
def _(g, f, n):
    brand = g.rng.choice(["visa", "mc", "mc2", "amex", "discover", "jcb", "diners"])
    head, length = {"visa": ("4", 16), "mc": (str(g.rng.randint(51, 55)), 16), "mc2": ("2221", 16),
                    "amex": (g.rng.choice(["34", "37"]), 15), "discover": ("6011", 16), "jcb": ("3528", 16),
                    "diners": ("36", 14)}[brand]
    num = _luhn_complete(head + g.s(string.digits, length - len(head) - 1))
    sep = g.rng.choice([" ", "-", "", "", "."])
    groups = {15: (4, 6, 5), 14: (4, 6, 4)}.get(length, (4, 4, 4, 4))
    out, at = [], 0
    for k in groups:
        out.append(num[at:at + k])
        at += k
    v = sep.join(out)
    return Secret(f, n, v, (v,), ("card_number", "pan", "cc", "payment.card", "cardNumber"))


_IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "CH": 21, "BE": 16, "PL": 28, "AT": 20,
             "SE": 24, "IE": 22, "PT": 25, "DK": 18, "NO": 15, "FI": 18}


@kind("pii", "iban")
def _(g, f, n):
    cc = g.rng.choice(sorted(_IBAN_LEN))
    letters = cc in ("GB", "NL", "IE")
    bban = (g.s(string.ascii_uppercase, 4) if letters else "") + g.s(string.digits, _IBAN_LEN[cc] - 4 - (4 if letters else 0))
    num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
    iban = f"{cc}{98 - num % 97:02d}{bban}"
    v = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if g.rng.random() < 0.5 else iban
    return Secret(f, n, v, (v,), ("iban", "IBAN", "account", "bank_account"))


@kind("pii", "us_ssn")
def _(g, f, n):
    area = g.rng.choice([x for x in range(1, 900) if x != 666])
    a, b, c = f"{area:03d}", f"{g.rng.randint(1, 99):02d}", f"{g.rng.randint(1, 9999):04d}"
    v = g.rng.choice([f"{a}-{b}-{c}", f"{a} {b} {c}"])
    return Secret(f, n, v, (v,), ("ssn", "SSN", "social_security_number", "tax_id"))


def _dni_letter(num: int) -> str:
    return "TRWAGMYFPDXBNJZSQVHLCKE"[num % 23]


@kind("national_id", "national_id")
def _(g, f, n):
    d = lambda k: g.s(string.digits, k)  # noqa: E731
    which = g.rng.randrange(8)
    if which == 0:
        v = f"{g.rng.choice('ABCEGHJKLMNPRSTWXYZ')}{g.rng.choice('ABCEGHJKLMNPRSTWXYZ')} {d(2)} {d(2)} {d(2)} {g.rng.choice('ABCD')}"
    elif which == 1:
        num = int(d(8))
        v = f"{num:08d}{_dni_letter(num)}"
    elif which == 2:
        num = int(d(7))
        v = f"X{num:07d}{_dni_letter(num)}"
    elif which == 3:
        v = f"{d(3)}.{d(3)}.{d(3)}-{d(2)}"              # Brazil CPF
    elif which == 4:
        v = f"{g.rng.randint(2, 9)}{d(3)} {d(4)} {d(4)}"  # India Aadhaar
    elif which == 5:
        v = f"{g.rng.choice('12')} {d(2)} {d(2)} {d(2)} {d(3)} {d(3)} {d(2)}"  # France NIR
    elif which == 6:
        v = f"{d(6)}-{g.rng.choice('1234')}{d(6)}"      # Korea RRN
    else:
        v = f"19{g.rng.randint(50, 99)}{g.rng.randint(1, 12):02d}{g.rng.randint(1, 28):02d}-{d(4)}"  # Sweden
    return Secret(f, n, v, (v,), ("national_id", "nino", "dni", "cpf", "aadhaar", "personnummer", "id_number"))

