"""A seeded corpus of secrets, one per detector (valid by each detector's own checks), for tests."""

from __future__ import annotations

import base64
import json
import random


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        from ben.redact.detectors import luhn_ok
        if luhn_ok(digits + check):
            return digits + check
    raise AssertionError("unreachable")


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def secrets(seed: int = 6) -> dict[str, list[str]]:
    """{detector name: [secret, ...]}: strings each detector must find (and that must never be stored)."""
    rng = random.Random(seed)
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

    def token(n: int, alphabet: str = alnum) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    visa, mc, amex = _luhn_complete("4", 16, rng), _luhn_complete("53", 16, rng), _luhn_complete("37", 15, rng)
    jwt = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': token(8), 'exp': 1900000000})}.{token(43)}"
    return {
        "email": [f"{token(6).lower()}.{token(5).lower()}@example-corp.com"],
        "card": [visa, f"{mc[:4]} {mc[4:8]} {mc[8:12]} {mc[12:]}", f"{amex[:4]}-{amex[4:10]}-{amex[10:]}"],
        "jwt": [jwt],
        "bearer": [token(32)],          # planted after "Bearer "
        "aws_key": ["AKIA" + token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")],
        "gcp_key": ["AIza" + token(35)],
        "github_token": ["ghp_" + token(36)],
        "slack_token": ["xoxb-" + token(12, "0123456789") + "-" + token(24)],
        "azure_key": [token(86, alnum + "+/") + "=="],   # planted after "AccountKey="
        "private_key": ["-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + token(60) + "\n" + token(64)
                        + "\n-----END RSA PRIVATE KEY-----"],
        "us_ssn": [f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"],
        "uk_nino": ["AB" + f"{rng.randint(100000, 999999)}" + "C"],
        "ipv4": [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"],
        "ipv6": [f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}"],
    }


def planted(detector: str, secret: str) -> str:
    """The secret in the context its detector expects."""
    return {"bearer": f"Bearer {secret}", "azure_key": f"DefaultEndpointsProtocol=https;AccountKey={secret};"}.get(
        detector, secret)
