"""Payment and personal data of the third held-out-style corpus (``heldout_style3``): Luhn-valid cards of nine
issuers in five layouts, IBANs of twelve countries (mod 97) compact, grouped by spaces or dashes, or in small
letters, e-mail addresses and international phone numbers. Every value is drawn from a seed."""

from __future__ import annotations

from tests.redact.heldout3_values import DG, UP, AN, Draw, Value, _v, iban, kind, luhn


# -- payment and personal data ----------------------------------------------------------------------------------
CARD = {"visa": ("4", 16), "mastercard": ("5" + "12345"[0], 16), "mc2": ("2720", 16), "amex": ("37", 15), "discover": ("6011", 16),
        "jcb": ("3530", 16), "diners": ("3056", 14), "unionpay": ("62", 16), "maestro": ("6759", 19)}


@kind("payment", "card", 3)
def _card(d: Draw) -> Value:
    head, n = CARD[d.one(sorted(CARD))]
    num = luhn(head + d.s(DG, n - len(head) - 1))
    style = d.rng.randrange(5)
    if style == 0:
        text = num
    elif style == 1:
        text = " ".join(num[i:i + 4] for i in range(0, n, 4)) if n != 15 else f"{num[:4]} {num[4:10]} {num[10:]}"
    elif style == 2:
        text = "-".join(num[i:i + 4] for i in range(0, n, 4))
    elif style == 3:
        text = ".".join(num[i:i + 4] for i in range(0, n, 4))
    else:
        text = num
    parts = tuple(text[i:i + 8] for i in range(0, len(text) - 7, 4)) + (num[2:10], num[-8:])
    return _v("payment", "card", text, parts, ("card_number", "pan", "cc", "cardNumber", "ccnum", "creditCard"),
              docs=(f"charge declined card={text} exp={d.num(1, 12):02d}/{d.num(27, 31)} cvv={d.s(DG, 3)}",
                    f'{{"payment":{{"method":"card","number":{num},"holder":"J DOE"}}}}'))


IBANS = {"DE": lambda d: d.s(DG, 18), "GB": lambda d: d.s(UP, 4) + d.s(DG, 14), "FR": lambda d: d.s(DG, 10) + d.s(AN.upper()[:36], 11) + d.s(DG, 2),
         "NL": lambda d: d.s(UP, 4) + d.s(DG, 10), "ES": lambda d: d.s(DG, 20), "IT": lambda d: d.s(UP, 1) + d.s(DG, 10) + d.s(DG, 12),
         "CH": lambda d: d.s(DG, 17), "BE": lambda d: d.s(DG, 12), "PL": lambda d: d.s(DG, 24), "AT": lambda d: d.s(DG, 16),
         "SE": lambda d: d.s(DG, 20), "IE": lambda d: d.s(UP, 4) + d.s(DG, 14)}


@kind("payment", "iban", 2)
def _iban(d: Draw) -> Value:
    c = d.one(sorted(IBANS))
    v = iban(c, IBANS[c](d))
    style = d.rng.randrange(4)
    text = v if style == 0 else " ".join(v[i:i + 4] for i in range(0, len(v), 4)) if style == 1 else \
        v.lower() if style == 2 else "-".join(v[i:i + 4] for i in range(0, len(v), 4))
    return _v("payment", "iban", text, tuple(text[i:i + 8] for i in range(4, len(text) - 7, 5)), ("iban", "IBAN", "bank_account", "payout_iban"),
              docs=(f"Überweisung an IBAN {text} (BIC {d.s(UP, 6)}2X) ausgeführt", f"virement SEPA vers {text} refusé"))


@kind("pii", "email", 2)
def _email(d: Draw) -> Value:
    first, last = d.one(["maria", "jon", "li", "aiko", "olu", "sven", "priya"]), d.one(["garcia", "smith", "wang", "tanaka", "okafor"])
    local = d.one([f"{first}.{last}", f"{first}{d.s(DG, 2)}", f"{first[0]}{last}+{d.one(['billing', 'test', 'news'])}", f"{first}_{last}"])
    dom = d.one(["gmail.com", "outlook.de", "acme-corp.co.uk", "mail.example.org", "yahoo.co.jp", "proton.me"])
    v = f"{local}@{dom}"
    return _v("pii", "email", v, (v,), ("email", "user_email", "to", "mail", "E-Mail", "correo"),
              docs=(f"From: \"{first.title()} {last.title()}\" <{v}>", f"mailto:{v}?subject=invoice",
                    (f"GET /unsubscribe?email={v.replace('@', '%40')} 200", (v.replace("@", "%40"),))))


@kind("pii", "phone", 2)
def _phone(d: Draw) -> Value:
    v = d.one([f"+44 20 7946 {d.s(DG, 4)}", f"+1 (415) 555-{d.s(DG, 4)}", f"+49 30 {d.s(DG, 8)}", f"+33 1 {d.s(DG, 2)} {d.s(DG, 2)} {d.s(DG, 2)} {d.s(DG, 2)}",
               f"+81 3-{d.s(DG, 4)}-{d.s(DG, 4)}", f"+91 98{d.s(DG, 3)} {d.s(DG, 5)}", f"+55 11 9{d.s(DG, 4)}-{d.s(DG, 4)}",
               f"+61 4{d.s(DG, 2)} {d.s(DG, 3)} {d.s(DG, 3)}", f"+1-202-555-{d.s(DG, 4)}", f"+34 6{d.s(DG, 2)} {d.s(DG, 3)} {d.s(DG, 3)}"])
    digits = "".join(c for c in v if c.isdigit())
    return _v("pii", "phone", v, (v[-9:], digits[-9:]), ("phone", "mobile", "tel", "phoneNumber", "Telefon"),
              docs=(f"SMS to {v} queued (otp)", f"tel:+{digits}", f"Kontakt: Tel. {v}, Rückruf erbeten"))
