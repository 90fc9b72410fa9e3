"""Values and look-alikes of the fifth held-out corpus (``tests/redact/heldout_style5.py``).

Values: passwords, API tokens of common services, personal data (e-mails, phone numbers, cards, IBANs, named
national IDs), each with the key words a stranger would file it under. Look-alikes: whole lines of the same
ecosystems' logs with ids, digests, public keys, masked values and references that must come out unchanged.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from dataclasses import dataclass

AN = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


class Draw:
    """A seeded source of random choices."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def one(self, xs):
        return xs[self.rng.randrange(len(xs))]

    def mix(self, n: int, alphabet: str = AN) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hexs(self, n: int) -> str:
        return self.mix(n, HEX)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ip(self) -> str:
        return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"


@dataclass(frozen=True)
class Value:
    """A secret: its family, its kind, its text as written, the parts that must not survive, key words."""

    family: str
    kind: str
    text: str
    parts: tuple[str, ...]
    keys: tuple[str, ...]


WORDS = ["falcon", "Orchid", "maple", "Tundra", "quartz", "Harbor", "velvet", "Cobalt", "saffron", "Ember", "lagoon"]
PW_KEYS = ("password", "passwd", "db password", "root password", "admin password", "smtp password",
           "redis password", "bind password", "master user password", "keystore password", "login password", "pwd")
TOKEN_KEYS = ("api key", "access token", "auth token", "github token", "gitlab token", "slack bot token",
              "stripe secret key", "npm token", "client secret", "secret key", "private token", "webhook secret")


def password(d: Draw) -> Value:
    r = d.rng.random()
    if r < 0.3:
        v = f"{d.one(WORDS)}{d.rng.randint(10, 9999)}{d.one('!*-_.~^+=#')}{d.one(WORDS)}"
    elif r < 0.55:
        v = d.mix(d.rng.randint(14, 24), AN + "!*-_.~^+=#")
    elif r < 0.7:
        v = "-".join(d.one(WORDS).lower() for _ in range(4)) + str(d.rng.randint(1, 99))
    elif r < 0.85:
        v = d.hexs(32)                                                   # openssl rand -hex 16
    else:
        v = base64.b64encode(d.rng.randbytes(18)).decode()             # openssl rand -base64 18
    return Value("password", "password", v, (v,), PW_KEYS)


def token(d: Draw) -> Value:
    r = d.rng.randrange(9)
    v = [lambda: "ghp_" + d.mix(36), lambda: "glpat-" + d.mix(20, AN + "_-"),
         lambda: f"xoxb-{d.rng.randint(10**11, 10**12 - 1)}-{d.rng.randint(10**12, 10**13 - 1)}-{d.mix(24)}",
         lambda: "sk_live_" + d.mix(d.rng.randint(24, 60)), lambda: "npm_" + d.mix(36), lambda: d.hexs(40),
         lambda: base64.urlsafe_b64encode(d.rng.randbytes(32)).decode().rstrip("="),
         lambda: "github_pat_" + d.mix(22) + "_" + d.mix(59), lambda: "shpat_" + d.hexs(32)][r]()
    return Value("token", ["ghp", "glpat", "xoxb", "stripe", "npm", "hex40", "opaque", "ghpat", "shopify"][r], v,
                 (v,), TOKEN_KEYS)


def _luhn_fill(prefix: str, n: int, d: Draw) -> str:
    body = prefix + "".join(str(d.rng.randint(0, 9)) for _ in range(n - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body)):
        x = int(c) * (2 if i % 2 == 0 else 1)
        total += x - 9 if x > 9 else x
    return body + str((10 - total % 10) % 10)


def _iban(cc: str, bban: str) -> str:
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    return f"{cc}{98 - int(num) % 97:02d}{bban}"


def pii(d: Draw) -> Value:
    r = d.rng.randrange(6)
    if r == 0:
        v = f"{d.one(['bob', 'alice.m', 'j.doe', 'ops+alerts', 'karin'])}{d.rng.randint(1, 99)}@{d.one(['acme.io', 'gmail.com', 'mail.example.org', 'corp.acme.co.uk'])}"
        return Value("pii", "email", v, (v,), ("email", "contact email", "user email"))
    if r == 1:
        n = d.rng
        v = d.one([f"+44 7700 {n.randint(900000, 900999)}", f"+1 (415) {n.randint(200, 989)}-{n.randint(1000, 9999)}",
                   f"+49 151 {n.randint(10000000, 99999999)}", f"+33 6 {n.randint(10, 99)} {n.randint(10, 99)} {n.randint(10, 99)} {n.randint(10, 99)}",
                   f"+1-212-{n.randint(200, 989)}-{n.randint(1000, 9999)}"])
        return Value("pii", "phone", v, (v,), ("phone", "mobile number", "contact phone"))
    if r == 2:
        c = _luhn_fill(d.one(["4", "51", "55", "2221"]), 16, d) if d.rng.random() < 0.8 else _luhn_fill("37", 15, d)
        v = " ".join(c[i:i + 4] for i in range(0, len(c), 4)) if d.rng.random() < 0.4 else c
        return Value("pii", "card", v, (v,), ("card number", "pan", "cc number"))
    if r == 3:
        cc, bban = d.one([("DE", lambda: d.mix(18, string.digits)), ("GB", lambda: "NWBK" + d.mix(14, string.digits)),
                          ("FR", lambda: d.mix(23, string.digits)), ("NL", lambda: "ABNA" + d.mix(10, string.digits))])
        v = _iban(cc, bban())
        return Value("pii", "iban", v, (v,), ("iban", "bank account iban", "payout iban"))
    if r == 4:
        v = f"{d.rng.randint(100, 665)}-{d.rng.randint(10, 99)}-{d.rng.randint(1000, 9999)}"
        return Value("pii", "ssn", v, (v,), ("ssn", "social security number"))
    v = f"{d.one(['AB', 'JK', 'QQ', 'ZX'])}{d.rng.randint(100000, 999999)}{d.one('ABCD')}"
    return Value("pii", "nino", v, (v,), ("national insurance number", "ni number", "nino"))


# -- look-alikes: (kind, body, attrs) --------------------------------------------------------------------------
def _b64(d: Draw, n: int) -> str:
    return base64.b64encode(d.rng.randbytes(n)).decode()


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    ip, u, h40, h64 = d.ip(), d.uuid(), d.hexs(40), d.hexs(64)
    ts = "06/Dec/2026:10:15:02 +0000"
    trace, span = d.hexs(32), d.hexs(16)
    out = [
        ("nginx_ids", f'{ip} - - [{ts}] "GET /api/v1/orders/{u}?page=2 HTTP/1.1" 200 512 "-" "curl/8.5.0" '
                      f'rid={d.hexs(32)} trace={trace}', {}),
        ("nginx_ipv6", f'2001:db8::{d.hexs(4)} - - [{ts}] "GET /accounts/password_reset/ HTTP/2.0" 200 91 "-" "Mozilla/5.0"', {}),
        ("k8s_uid", f"Name:         api-7d9f8b6c5-{d.mix(5, string.ascii_lowercase + string.digits)}\nNamespace:    prod\n"
                    f"UID:          {u}\nContainer ID: containerd://{h64}\n"
                    f"Image ID:     registry.acme.io/api@sha256:{d.hexs(64)}", {}),
        ("k8s_secret_ref", "    Environment:\n      DB_PASSWORD:  <set to the key 'password' in secret 'db-creds'>  Optional: false\n"
                           "      API_TOKEN:    <set to the key 'token' of config map 'api'>", {}),
        ("k8s_env_expansion", "      DATABASE_URL:  postgres://app:$(DB_PASSWORD)@db:5432/app", {}),
        ("docker_pull", f"Digest: sha256:{d.hexs(64)}\nStatus: Downloaded newer image for postgres:16", {}),
        ("git_checkout", f"HEAD is now at {h40[:7]} Fix login form\nChecking out {h40} (refs/remotes/origin/main)", {}),
        ("checksum", f"{d.hexs(64)}  ben-1.4.2-linux-amd64.tar.gz\nsha512sum: {d.hexs(128)}", {}),
        ("ssh_pubkey", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_b64(d, 24)[:43]} deploy@ci", {}),
        ("masked_gha", "Run ./deploy.sh --token ***\n  env:\n    API_TOKEN: ***\n    DB_PASSWORD: ***", {}),
        ("masked_rails", 'Parameters: {"user"=>{"email"=>"[FILTERED]", "password"=>"[FILTERED]"}, "commit"=>"Log in"}', {}),
        ("masked_ansible", 'ok: [web1] => {"invocation": {"module_args": {"login_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "name": "app"}}}', {}),
        ("masked_cloudtrail", '{"eventName":"CreateUser","requestParameters":{"userName":"svc-ci","password":"HIDDEN_DUE_TO_SECURITY_REASONS"},'
                              f'"requestID":"{u}"}}', {}),
        ("masked_tf", '  ~ resource "aws_db_instance" "main" {\n      ~ password = (sensitive value)\n        id       = "prod-db"\n    }', {}),
        ("masked_hikari", "HikariPool-1 - configuration:\npassword........................<masked>\n"
                          "dataSourceProperties............{password=<masked>}", {}),
        ("placeholder_angle", "mysql -u root -p<password> -h db.internal", {}),
        ("placeholder_var", "spring.datasource.password=${DB_PASSWORD}\nspring.datasource.url=jdbc:postgresql://db:5432/app", {}),
        ("placeholder_jinja", 'ok: [web1] => {"msg": "password={{ vault_db_password }}"}', {}),
        ("placeholder_symfony", "DATABASE_URL=%env(DATABASE_URL)%\nAPP_SECRET=%env(APP_SECRET)%", {}),
        ("java_frames", "\tat com.acme.auth.PasswordEncoder.encode(PasswordEncoder.java:42)\n"
                        "\tat org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder.matches(BCryptPasswordEncoder.java:121)", {}),
        ("mysql_denied", f"java.sql.SQLException: Access denied for user 'app'@'{ip}' (using password: YES)", {}),
        ("go_frames", f"goroutine 1 [running]:\nmain.connect(0xc000{d.hexs(6)}, {{0x4b2a1f, 0x8}})\n\t/src/cmd/api/main.go:42 +0x1a5", {}),
        ("traceparent", f"traceparent: 00-{trace}-{span}-01\nx-request-id: {u}", {}),
        ("otel_attrs", "", {"trace_id": trace, "span_id": span, "k8s.pod.uid": u, "container.image.digest": f"sha256:{h64}"}),
        ("cert_public", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU" + _b64(d, 45) + "\n-----END CERTIFICATE-----", {}),
        ("ldap_bind_nopw", 'conn=1001 op=0 BIND dn="cn=admin,dc=acme,dc=io" method=128\nconn=1001 op=0 RESULT tag=97 err=0', {}),
        ("smtp_plain_offer", "250-AUTH PLAIN LOGIN\n334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n235 2.7.0 Authentication successful", {}),
        ("systemd_unit", "Dec 06 10:15:02 web1 systemd[1]: Started api.service - ACME API (PID 1234).", {}),
    ]
    return out
