"""Kinds of the second held-out-style corpus: national identifiers and financial numbers with their real
check digits (fakes drawn from a seed), and passwords written with no key name (sentences, command
histories, credential files)."""

from __future__ import annotations

from tests.redact.heldout2_gen import DIGITS, UPPER, Item, Rand, kind, luhn_digit, mod97_iban

# -- financial numbers -----------------------------------------------------------------------------------
CARD_ISSUERS = [("visa", ["4"], 16), ("mastercard", ["51", "52", "53", "54", "55", "2221", "2720"], 16),
                ("amex", ["34", "37"], 15), ("discover", ["6011", "65"], 16), ("jcb", ["3528", "3589"], 16),
                ("diners", ["36"], 14), ("unionpay", ["62"], 16)]


def card_number(r: Rand) -> tuple[str, str]:
    """(issuer, digits) with a valid Luhn check digit."""
    issuer, prefixes, n = r.pick(CARD_ISSUERS)
    p = r.pick(prefixes)
    payload = p + r.digits(n - 1 - len(p))
    return issuer, payload + luhn_digit(payload)


def group_card(d: str, sep: str) -> str:
    if len(d) == 15:
        return sep.join([d[:4], d[4:10], d[10:]])
    if len(d) == 14:
        return sep.join([d[:4], d[4:10], d[10:]])
    return sep.join(d[i:i + 4] for i in range(0, len(d), 4))


@kind("financial", "card", weight=5)
def _card(r: Rand) -> Item:
    issuer, d = card_number(r)
    v = group_card(d, r.pick(["", " ", "-", ".", " ", "-"]))
    lines = (f"charge declined for card {v} exp {r.between(1, 12):02d}/{r.between(27, 31)} ({issuer})",
             f"payment_method=card&number={v}&cvc={r.digits(3)}&exp_month=08",
             f"<CardNumber>{v}</CardNumber><Expiry>0829</Expiry>",
             f"customer read their card over the phone: {v}, CVV {r.digits(3)}")
    return Item("financial", "card", v, (v,), ("card_number", "pan", "ccNumber", "creditCard"), lines=(r.pick(lines),))


IBAN_SHAPES = {"DE": lambda r: r.digits(18), "GB": lambda r: r.pick(["NWBK", "BARC", "HBUK", "LOYD"]) + r.digits(14),
               "FR": lambda r: r.digits(10) + r.s(UPPER + DIGITS, 11) + r.digits(2), "ES": lambda r: r.digits(20),
               "NL": lambda r: r.pick(["ABNA", "RABO", "INGB"]) + r.digits(10), "IT": lambda r: r.pick(UPPER) + r.digits(10) + r.s(DIGITS, 12),
               "BE": lambda r: r.digits(12), "CH": lambda r: r.digits(5) + r.s(UPPER + DIGITS, 12),
               "PL": lambda r: r.digits(24), "SE": lambda r: r.digits(20), "AT": lambda r: r.digits(16),
               "IE": lambda r: r.pick(["AIBK", "BOFI"]) + r.digits(14), "PT": lambda r: r.digits(21)}


@kind("financial", "iban", weight=3)
def _iban(r: Rand) -> Item:
    country = r.pick(sorted(IBAN_SHAPES))
    compact = mod97_iban(country, IBAN_SHAPES[country](r))
    v = compact if r.rng.random() < 0.4 else " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    lines = (f"SEPA transfer to IBAN {v} (ref INV-{r.digits(6)})", f"<CdtrAcct><Id><IBAN>{compact}</IBAN></Id></CdtrAcct>",
             f"refund queued: beneficiary {r.pick(['M. Keller', 'J. Dupont'])}, {v}, amount 120.00 EUR")
    return Item("financial", "iban", v, (compact[4:] if v == compact else v[5:],), ("iban", "IBAN", "bankAccount", "payout.iban"),
                lines=(r.pick(lines),))


# -- national identifiers --------------------------------------------------------------------------------
def _ssn(r: Rand) -> str:
    while True:
        area = r.between(1, 899)
        if area != 666:
            return f"{area:03d}{r.between(1, 99):02d}{r.between(1, 9999):04d}"


def _nino(r: Rand) -> str:
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    while True:
        p = r.pick(first) + r.pick(second)
        if p not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            return p + r.digits(6) + r.pick("ABCD")


def _cpf(r: Rand) -> str:
    d = [int(c) for c in r.digits(9)]
    for n in (10, 11):
        s = sum(x * w for x, w in zip(d, range(n, 1, -1)))
        d.append(0 if s % 11 < 2 else 11 - s % 11)
    return "".join(map(str, d))


def _bsn(r: Rand) -> str:
    while True:
        d = [int(c) for c in r.digits(8)]
        s = sum(x * w for x, w in zip(d, range(9, 1, -1)))
        if s % 11 < 10 and d[0] != 0:
            return "".join(map(str, d)) + str(s % 11)


def _pesel(r: Rand) -> str:
    d = f"{r.between(50, 99):02d}{r.between(1, 12):02d}{r.between(1, 28):02d}{r.digits(4)}"
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    return d + str((10 - sum(int(c) * k for c, k in zip(d, w)) % 10) % 10)


def _personnummer(r: Rand) -> str:
    d = f"{r.between(50, 99):02d}{r.between(1, 12):02d}{r.between(1, 28):02d}{r.digits(3)}"
    return d[:6] + "-" + d[6:] + luhn_digit(d)


def _sin(r: Rand) -> str:
    p = r.pick("1234567") + r.digits(7)
    d = p + luhn_digit(p)
    return f"{d[:3]} {d[3:6]} {d[6:]}"


def _dni(r: Rand) -> str:
    if r.rng.random() < 0.6:
        n = r.digits(8)
        return n + "TRWAGMYFPDXBNJZSQVHLCKE"[int(n) % 23]
    lead = r.pick("XYZ")
    n = r.digits(7)
    return lead + n + "TRWAGMYFPDXBNJZSQVHLCKE"[int(str("XYZ".index(lead)) + n) % 23]


def _nir(r: Rand) -> str:
    n = f"{r.pick('12')}{r.between(50, 99):02d}{r.between(1, 12):02d}{r.between(1, 95):02d}{r.digits(3)}{r.digits(3)}"
    key = 97 - int(n) % 97
    return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {key:02d}" if r.rng.random() < 0.5 else f"{n}{key:02d}"


def _tfn(r: Rand) -> str:
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10]
    while True:
        d = r.digits(8)
        for last in DIGITS:
            if sum(int(c) * k for c, k in zip(d + last, w)) % 11 == 0:
                return f"{d[:3]} {d[3:6]} {d[6:]}{last}"


def _cnpj(r: Rand) -> str:
    d = [int(c) for c in r.digits(8) + "0001"]
    for w in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        s = sum(x * k for x, k in zip(d, w))
        d.append(0 if s % 11 < 2 else 11 - s % 11)
    s = "".join(map(str, d))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


def _dvla(r: Rand) -> str:
    sur = (r.s(UPPER, r.between(3, 5)) + "99999")[:5]
    return f"{sur}{r.digits(1)}{r.pick(['01', '07', '11', '56', '62'])}{r.between(1, 28):02d}{r.digits(1)}{r.s(UPPER, 2)}{r.digits(1)}{r.s(UPPER, 2)}"


# (name, draw, printed forms, keys, words a sentence names it with)
IDS = [
    ("us_ssn", _ssn, lambda v, r: r.pick([f"{v[:3]}-{v[3:5]}-{v[5:]}", f"{v[:3]} {v[3:5]} {v[5:]}", v]),
     ("ssn", "social_security_number", "applicant.ssn"), ["SSN", "Social Security number", "SSN#"]),
    ("us_itin", lambda r: f"9{r.digits(2)}{r.between(70, 88)}{r.digits(4)}", lambda v, r: f"{v[:3]}-{v[3:5]}-{v[5:]}",
     ("itin", "taxpayer_id"), ["ITIN"]),
    ("us_ein", lambda r: f"{r.between(10, 95)}{r.digits(7)}", lambda v, r: f"{v[:2]}-{v[2:]}", ("ein", "employer_id_number", "taxId"), ["EIN", "FEIN"]),
    ("uk_nino", _nino, lambda v, r: r.pick([v, f"{v[:2]} {v[2:4]} {v[4:6]} {v[6:8]} {v[8]}"]), ("nino", "ni_number", "nationalInsuranceNumber"),
     ["NI number", "National Insurance number", "NINO"]),
    ("br_cpf", _cpf, lambda v, r: r.pick([f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}", v]), ("cpf", "documento.cpf"), ["CPF"]),
    ("br_cnpj", _cnpj, lambda v, r: v, ("cnpj",), ["CNPJ"]),
    ("nl_bsn", _bsn, lambda v, r: v, ("bsn", "burgerservicenummer"), ["BSN", "burgerservicenummer"]),
    ("pl_pesel", _pesel, lambda v, r: v, ("pesel",), ["PESEL"]),
    ("se_personnummer", _personnummer, lambda v, r: v, ("personnummer", "personal_number"), ["personnummer"]),
    ("ca_sin", _sin, lambda v, r: r.pick([v, v.replace(" ", "-"), v.replace(" ", "")]), ("sin", "social_insurance_number"), ["SIN"]),
    ("es_dni", _dni, lambda v, r: v, ("dni", "nie", "documento"), ["DNI", "NIE"]),
    ("fr_nir", _nir, lambda v, r: v, ("nir", "numero_securite_sociale", "num_secu"), ["numéro de sécurité sociale", "NIR"]),
    ("au_tfn", _tfn, lambda v, r: r.pick([v, v.replace(" ", "")]), ("tfn", "tax_file_number"), ["TFN", "tax file number"]),
    ("in_pan", lambda r: r.s(UPPER, 3) + r.pick("PCHFATBLJG") + r.pick(UPPER) + r.digits(4) + r.pick(UPPER), lambda v, r: v,
     ("pan_number", "pan_card", "panNo"), ["PAN"]),
    ("passport", lambda r: r.pick([r.digits(9), r.pick(UPPER) + r.digits(8), r.digits(2) + r.s(UPPER, 2) + r.digits(5),
                                   "C" + r.s("CFGHJKLMNPRTVWXYZ0123456789", 8)]), lambda v, r: v,
     ("passport_number", "passportNo", "traveller.passport"), ["passport no.", "passport number", "Reisepassnummer"]),
    ("driver_license", lambda r: r.pick([r.pick(UPPER) + r.digits(7), _dvla(r), f"{r.pick(UPPER)}{r.digits(3)}-{r.digits(3)}-{r.digits(2)}-{r.digits(3)}-{r.digits(1)}",
                                         f"{r.digits(3)} {r.digits(3)} {r.digits(3)}"]), lambda v, r: v,
     ("driver_license", "dl_number", "licenceNumber"), ["driver's license", "driving licence number", "DL#"]),
]

for _name, _draw, _print, _keys, _words in IDS:
    def _make(r: Rand, name=_name, draw=_draw, printed=_print, keys=_keys, words=_words) -> Item:
        v = printed(draw(r), r)
        w = r.pick(words)
        lines = (f"KYC check passed for {r.pick(['J. Smith', 'A. Kowalski', 'M. Silva'])}, {w} {v}",
                 f"customer updated {w}: {v}",
                 f"ticket #{r.digits(5)}: please verify {w} {v} against the scan",
                 f"form submitted name=Maria+Lopez&{keys[0]}={v.replace(' ', '+')}&dob=1984-03-02")
        return Item("national_id", name, v, (v,), keys, lines=(r.pick(lines),), self_id=False)
    kind("national_id", _name, weight=2)(_make)


# -- passwords with no key name ----------------------------------------------------------------------------
def _commands(r: Rand, pw: str) -> list[str]:
    host = r.pick(["10.0.4.17", "db01.internal", "prod-bastion"])
    u = r.pick(["root", "admin", "deploy", "svc_backup"])
    n = r.between(200, 2100)
    return [
        f"{n}  mysql -h {host} -u{u} -p{pw} shop",
        f"{n}  mysql -h {host} -u {u} -p'{pw}' -e 'show databases'",
        f"sshpass -p '{pw}' ssh -o StrictHostKeyChecking=no {u}@{host}",
        f"curl -u {u}:{pw} https://{host}/api/health",
        f"curl --user '{u}:{pw}' -X POST https://jenkins.internal/job/deploy/build",
        f"redis-cli -h {host} -a {pw} --no-auth-warning info",
        f"mongosh admin -u {u} -p {pw} --host {host}",
        f"net user {u} {pw} /add /domain",
        f"net use \\\\fs01\\finance /user:CORP\\{u} {pw}",
        f"echo '{pw}' | docker login registry.internal -u {u} --password-stdin",
        f"echo \"{u}:{pw}\" | chpasswd",
        f"htpasswd -bc /etc/nginx/.htpasswd {u} {pw}",
        f"openssl pkcs12 -export -in cert.pem -inkey key.pem -out bundle.p12 -passout pass:{pw}",
        f"zip -P {pw} -r backup-2026-12-06.zip dumps/",
        f"7z a -p{pw} -mhe=on archive.7z exports/",
        f"smbclient //fs01/share -U {u}%{pw} -c 'ls'",
        f"rabbitmqctl add_user {u} {pw}",
        f"keytool -importkeystore -srckeystore a.jks -srcstorepass {pw} -deststorepass {pw}",
        f"ldapsearch -x -H ldap://{host} -D 'cn={u},dc=corp,dc=local' -w {pw} '(uid=*)'",
        f"sqlcmd -S {host} -U sa -P {pw} -Q 'SELECT 1'",
        f"ipmitool -I lanplus -H {host} -U ADMIN -P {pw} chassis power status",
        f"mosquitto_pub -h {host} -u iot -P {pw} -t sensors/temp -m 21.5",
        f"sqlplus scott/{pw}@//{host}:1521/ORCL",
        f"echo {pw} | sudo -S systemctl restart nginx",
        f"unzip -P {pw} secrets.zip",
        f"openssl enc -aes-256-cbc -pbkdf2 -k {pw} -in db.sql -out db.sql.enc",
        f"ssh-keygen -t ed25519 -N '{pw}' -f ~/.ssh/id_deploy",
        f"git clone https://{u}:{pw}@git.internal/platform/infra.git",
        f"psql -h {host} -U {u} -c \"ALTER USER {u} WITH PASSWORD '{pw}'\"",
        f"$secure = ConvertTo-SecureString '{pw}' -AsPlainText -Force",
        f"wget --user={u} --password={pw} https://{host}/exports/latest.csv",
    ]


def _sentences(r: Rand, pw: str) -> list[str]:
    u = r.pick(["admin", "jsmith", "deploy", "ops"])
    return [
        f"creds for the staging box: {u} / {pw}",
        f"Hi team, temp login is {u} / {pw} - please change it after first sign-in",
        f"ssh in as {u}, it's {pw}",
        f"use {pw} to log into grafana as {u}",
        f"new wifi for the office: {pw}",
        f"login {u} {pw} worked after the reset",
        f"server {r.pick(['10.0.0.5', 'web-3'])} {u}:{pw}",
        f"sign in with {u}@example.com and {pw}",
        f"the vault unseal passphrase is {pw}",
        f"Zugangsdaten: Benutzer {u}, Kennung {pw}",
        f"identifiants : {u} / {pw}",
        f"reset done, you can now log in with \"{pw}\"",
    ]


def _files(r: Rand, pw: str) -> list[str]:
    u = r.pick(["app", "replicator", "alice"])
    return [
        f"\"{u}\" \"{pw}\"",                                            # pgbouncer userlist.txt
        f"db.internal:5432:orders:{u}:{pw}",                            # .pgpass
        f"[smtp.gmail.com]:587 {u}@example.com:{pw}",                   # postfix sasl_passwd
        f"https://{u}:{pw}@github.com",                                 # .git-credentials
        f"machine api.example.com login {u} password {pw}",             # .netrc
        f"{u}:{pw}",                                                    # a user:password line on its own
    ]


@kind("password_keyless", "pw_command", weight=6)
def _pw_cmd(r: Rand) -> Item:
    pw = r.password()
    if " " in pw:
        pw = pw.replace(" ", "")
    return Item("password_keyless", "pw_command", pw, (pw,), lines=(r.pick(_commands(r, pw)),), self_id=False)


@kind("password_keyless", "pw_sentence", weight=4)
def _pw_sentence(r: Rand) -> Item:
    pw = r.password()
    return Item("password_keyless", "pw_sentence", pw, (pw,), lines=(r.pick(_sentences(r, pw)),), self_id=False)


@kind("password_keyless", "pw_file", weight=3)
def _pw_file(r: Rand) -> Item:
    pw = r.password()
    return Item("password_keyless", "pw_file", pw, (pw,), lines=(r.pick(_files(r, pw)),), self_id=False)
