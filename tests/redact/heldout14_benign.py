"""The fourteenth corpus' look-alikes (``heldout_style14``): what people write in chats, tickets and e-mails that looks
like a secret and is none — commit ids, request and ticket ids, checksums, image digests, public keys and their
fingerprints, a PGP signature, a certificate, placeholders and masks, prose about passwords and tokens, a key's name
or its last four characters, a vault path. Each is a *message* that goes through the same carriers as a secret (whose
e-mails carry their own look-alikes: DKIM and ARC signatures, message ids, ``Thread-Index``, MIME boundaries, an
inline image's base64).
"""

from __future__ import annotations

import base64
import hashlib

from tests.redact.heldout14_values import ALNUM, B64, Draw


JWT_HEAD = b'{"alg":"RS256","kid":"2026-12"}'


def _b64sha(d: Draw) -> str:
    return base64.b64encode(hashlib.sha256(d.randbytes(16)).digest()).decode()


def _cert(d: Draw) -> str:
    lines = ["MIID" + d.s(B64, 60)] + [d.s(B64, 64) for _ in range(d.randrange(6, 10))] + [d.s(B64, 20) + "=="]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----"


def _pgp_sig(d: Draw) -> str:
    body = "iQIzBAEBCAAdFiEE" + d.s(B64, 48)
    lines = [body] + [d.s(B64, 64) for _ in range(6)] + [d.s(B64, 40), "=" + d.s(B64, 4)]
    return "-----BEGIN PGP SIGNATURE-----\n\n" + "\n".join(lines) + "\n-----END PGP SIGNATURE-----"


def messages(d: Draw) -> list[tuple[str, str]]:
    """~24 look-alike messages, one of each kind: (kind, message)."""
    sha, short, uuid = d.hex(40), d.hex(7), d.uuid()
    return [
        ("commit", f"fixed in {sha}, deployed as build {short} — can you re-check?"),
        ("request_id", f"request id {uuid} failed with 401, looks like the token expired"),
        ("checksum", f"```\n$ sha256sum ben-1.4.2.tar.gz\n{d.hex(64)}  ben-1.4.2.tar.gz\n```"),
        ("image_digest", f"prod runs `ghcr.io/acme/api@sha256:{d.hex(64)}`"),
        ("ssh_pubkey", f"please add my key:\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{d.s(ALNUM + '+/', 43)} ann@laptop"),
        ("fingerprint", f"host key fingerprint is SHA256:{_b64sha(d).rstrip('=')} — matches?"),
        ("pgp_signature", f"release notes attached, signed.\n\n{_pgp_sig(d)}"),
        ("certificate", f"the new CA cert (public, fine to share):\n```\n{_cert(d)}\n```"),
        ("placeholder", "set `STRIPE_SECRET_KEY=<your key here>` in .env, see the README"),
        ("placeholder_dots", "the format is `sk_live_...` for live keys and `sk_test_...` for test ones"),
        ("masked", "password: ******** (ask in #sec-help, not here)"),
        ("masked_key", f"the leaked key was AKIA************{d.s('ABCDEFGHJKLMNPQRSTUVWXYZ', 4)}, already disabled"),
        ("last_four", f"which token? the one ending in …{d.hex(4)}"),
        ("vault_path", "it's in vault under `secret/data/prod/stripe`, field `api_key`"),
        ("one_password", "I rotated the key; the new one is in 1Password under 'Prod / Stripe'"),
        ("prose", "the password reset link expired, can you send a new one? also my token stopped working after the SSO change"),
        ("ticket_ref", f"dup of OPS-{d.randrange(1000, 9999)}, see also INC{d.randrange(10 ** 6, 10 ** 7)} and #{d.randrange(100, 9999)}"),
        ("trace_id", f"trace {d.hex(32)} span {d.hex(16)} shows the 403 at the gateway"),
        ("etag", f'ETag: "{d.hex(32)}" changed between the two requests'),
        ("env_reference", "```\nDB_PASSWORD=${DB_PASSWORD}\nAPI_TOKEN={{ secrets.API_TOKEN }}\n```"),
        ("version", f"upgraded to 4.{d.randrange(0, 20)}.{d.randrange(0, 40)}, changelog: https://github.com/acme/api/compare/"
                    f"{d.hex(12)}...{d.hex(12)}"),
        ("base64_text", "the header decodes fine: `" + base64.b64encode(JWT_HEAD).decode() + "`"),
        ("password_policy", "passwords must be 14+ chars, with a digit and a symbol; tokens expire after 90 days"),
        ("user_at_host", "ssh -l deploy bastion-2.acme.io then sudo -iu app"),
    ]
