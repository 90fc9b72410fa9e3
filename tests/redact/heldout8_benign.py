"""The eighth held-out-style corpus' look-alikes (``tests/redact/heldout_style8.py``): what sits beside the eighth
corpus' secrets and must be kept — the public halves of its key kinds (WireGuard, age, minisign, Nostr ``npub``,
DKIM records, GPG fingerprints), the ids its tools print beside a secret's name (Consul's AccessorID, ``docker
secret ls``, ``fly secrets list`` digests, ``gh secret list``), hashes of its ecosystems (kubeadm's CA hash, Nix store
paths, Cargo and Terraform lock files, pip ``--hash``, JA3/JA4), chain and content ids (Ethereum transactions and
addresses, Bitcoin addresses, IPFS CIDs), headers named ``Key`` that hold none (``Sec-WebSocket-Key``,
``Idempotency-Key``), OAuth requests without a credential (PKCE challenge, client id, state), public client keys
(PostHog ``phc_``), Windows SIDs and GUIDs, SOPS ciphertext, code that reads a secret by name, and sentences about
passwords and tokens in ten languages.
"""

from __future__ import annotations

import json
import string

from tests.redact.heldout8_values import ALNUM, B64, BECH32, HEX, LOWNUM, URLSAFE, Draw, b64

TS = "2026-12-07T05:12:44.902Z"
NIX = "0123456789abcdfghijklmnpqrsvwxyz"


def benign(d: Draw) -> list[tuple[str, str, dict]]:
    """One of each look-alike: (kind, body, attrs)."""
    uid = d.uuid()
    return [
        ("kubeadm_ca_hash", f"[discovery] Trying to connect to API Server \"10.0.0.10:6443\"\n[discovery] Cluster info signature and "
                            f"contents are valid and TLS certificate validates against pinned roots, will use API Server; "
                            f"discovery-token-ca-cert-hash sha256:{d.hex(64)}", {}),
        ("consul_accessor", f"AccessorID:       {uid}\nDescription:      ci agent token\nLocal:            false\n"
                            f"Create Time:      2026-12-01 09:14:02.118 +0000 UTC\nPolicies:\n   {d.uuid()} - ci-read", {}),
        ("docker_secret_ls", f"ID                          NAME          DRIVER    CREATED\n{d.s(LOWNUM, 25)}   db_password             "
                             f"3 weeks ago\n{d.s(LOWNUM, 25)}   stripe_api_key          2 days ago", {}),
        ("fly_secrets_list", f"NAME                 \tDIGEST          \tCREATED AT\nDATABASE_URL         \t{d.hex(16)}\t2m ago\n"
                             f"SECRET_KEY_BASE      \t{d.hex(16)}\t1h ago", {}),
        ("gh_secret_list", "NAME               UPDATED\nNPM_TOKEN          about 2 days ago\nSONAR_TOKEN        about 1 month ago", {}),
        ("wireguard_public", f"[Peer]\nPublicKey = {b64(d.randbytes(32))}\nAllowedIPs = 10.8.0.{d.randrange(2, 250)}/32\n"
                             "Endpoint = vpn.acme.io:51820\nPersistentKeepalive = 25", {}),
        ("age_recipient", f"creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: age1{d.s(BECH32, 58)}", {}),
        ("minisign_public", f"untrusted comment: minisign public key {d.s('0123456789ABCDEF', 16)}\nRWQ{d.s(B64, 53)}", {}),
        ("nostr_npub", f"follow me on nostr: npub1{d.s(BECH32, 58)}", {}),
        ("dkim_record", f'selector1._domainkey.acme.io. 3600 IN TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'
                        f'{d.s(B64, 300)}IDAQAB"', {}),
        ("gpg_fingerprint", "gpg: Signature made Sat 07 Dec 2026 05:12:44 UTC\ngpg:                using EDDSA key "
                            f"{d.s('0123456789ABCDEF', 40)}\nPrimary key fingerprint: "
                            + " ".join(d.s("0123456789ABCDEF", 4) for _ in range(10)), {}),
        ("nix_store", f"building '/nix/store/{d.s(NIX, 32)}-openssl-3.0.15.drv'...\ncopying path '/nix/store/{d.s(NIX, 32)}-glibc-2.40-36'", {}),
        ("cargo_lock", f'[[package]]\nname = "ring"\nversion = "0.17.8"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n'
                       f'checksum = "{d.hex(64)}"', {}),
        ("terraform_lock", f'provider "registry.terraform.io/hashicorp/aws" {{\n  version = "5.80.0"\n  hashes = [\n'
                           f'    "h1:{d.s(B64, 43)}=",\n    "zh:{d.hex(64)}",\n  ]\n}}', {}),
        ("pip_hash", f"requests==2.32.3 \\\n    --hash=sha256:{d.hex(64)} \\\n    --hash=sha256:{d.hex(64)}", {}),
        ("tls_fingerprints", f"tls handshake ja3={d.hex(32)} ja4=t13d1516h2_{d.hex(12)}_{d.hex(12)} sni=api.acme.io", {}),
        ("eth_tx", f"tx 0x{d.hex(64)} from 0x{d.hex(40)} confirmed in block {d.randrange(2 * 10**7, 3 * 10**7)}", {}),
        ("btc_ipfs", f"payout to bc1q{d.s(BECH32, 38)}; receipt pinned at ipfs://bafybei{d.s('abcdefghijklmnopqrstuvwxyz234567', 52)}", {}),
        ("websocket_key", f"GET /ws HTTP/1.1\r\nHost: rt.acme.io\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {b64(d.randbytes(16))}\r\nSec-WebSocket-Version: 13", {}),
        ("idempotency_key", "POST /v1/payments 201", {"http.request.header.idempotency-key": d.uuid(), "http.request.header.x-request-id": d.uuid()}),
        ("pkce_request", f"GET /authorize?response_type=code&client_id={d.randrange(10**11, 10**12)}-{d.s(LOWNUM, 32)}"
                         f".apps.googleusercontent.com&redirect_uri=https%3A%2F%2Fapp.acme.io%2Fcallback&scope=openid%20email"
                         f"&state={d.s(URLSAFE, 22)}&code_challenge={d.s(URLSAFE, 43)}&code_challenge_method=S256 HTTP/1.1", {}),
        ("posthog_project_key", f"<script>posthog.init('phc_{d.s(ALNUM, 43)}', {{api_host: 'https://eu.i.posthog.com'}})</script>", {}),
        ("windows_ids", f"An account was successfully logged on. Security ID: S-1-5-21-{d.randrange(10**9, 4 * 10**9)}-"
                        f"{d.randrange(10**9, 4 * 10**9)}-{d.randrange(10**9, 4 * 10**9)}-1104 Logon GUID: "
                        f"{{{d.uuid().upper()}}}", {}),
        ("sops_ciphertext", f"api_url: ENC[AES256_GCM,data:{d.s(B64, 40)},iv:{d.s(B64, 43)}=,tag:{d.s(B64, 22)}==,type:str]\n"
                            f"replicas: ENC[AES256_GCM,data:{d.s(B64, 4)},iv:{d.s(B64, 43)}=,tag:{d.s(B64, 22)}==,type:int]", {}),
        ("secret_by_name", d.pick(['DB_PASSWORD = os.environ["DB_PASSWORD"]', 'const apiKey = process.env.STRIPE_SECRET_KEY;',
                                   '@Value("${spring.datasource.password}")\nprivate String password;',
                                   "'password' => env('DB_PASSWORD'),", 'password = %(DB_PASSWORD)s',
                                   'token := os.Getenv("GITHUB_TOKEN")', "password: !vault |", 'let apiKey = ProcessInfo.processInfo.environment["API_KEY"]']), {}),
        ("password_sentences", d.pick(["Passwort zuletzt geändert am 2026-11-02 durch admin", "mot de passe expiré depuis 3 jours",
                                       "пароль изменён пользователем admin", "密码已重置，请重新登录", "パスワードの有効期限が切れました",
                                       "la contraseña debe tener al menos 12 caracteres", "senha redefinida com sucesso",
                                       "wachtwoord vergeten? klik hier", "şifre sıfırlama e-postası gönderildi", "토큰이 만료되었습니다"]), {}),
        ("llm_usage", json.dumps({"ts": TS, "gen_ai.usage.input_tokens": d.randrange(99999), "gen_ai.usage.output_tokens": d.randrange(9999),
                                  "max_tokens": 4096, "tokenizer": "o200k_base", "cache_key": d.hex(16)}), {}),
        ("secret_metadata", json.dumps({"secret_name": "prod/db-password", "version_id": d.uuid(), "rotation_days": 30,
                                        "arn": f"arn:aws:secretsmanager:eu-west-1:{d.randrange(10**11, 10**12)}:secret:prod/db-password-{d.s(ALNUM, 6)}",
                                        "ref": "op://prod/postgres/password"}), {}),
        ("object_hashes", f"uploaded {d.s(string.ascii_lowercase, 8)}.tar.zst etag=\"{d.hex(32)}-{d.randrange(2, 40)}\" "
                          f"x-amz-checksum-sha256={b64(d.randbytes(32))} version={d.s(URLSAFE, 32)}", {}),
        ("hex_in_prose", f"build {d.hex(12)} passed {d.randrange(900, 2000)} tests on runner {d.s(HEX, 8)}", {}),
    ]
