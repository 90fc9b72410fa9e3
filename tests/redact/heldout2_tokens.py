"""Kinds of the second held-out-style corpus: vendor tokens, prefix-less keys, wallets, one-line private
keys, webhook URLs, cloud connection strings and bearer headers (all fakes, drawn from a seed)."""

from __future__ import annotations

import base64
import json

from tests.redact.heldout2_gen import ALNUM, B58, B64URL, DIGITS, HEX, LOWER, UPPER, Item, Rand, b58, b58check, kind

# (name, prefix, body(r) -> str, keys) -- realistic shapes of published formats, random bodies
VENDOR = [
    ("github_classic", lambda r: r.pick(["ghp_", "gho_", "ghs_", "ghu_"]), lambda r: r.mixed(36), ("GITHUB_TOKEN", "gh_token")),
    ("github_fine", lambda r: "github_pat_", lambda r: r.mixed(22) + "_" + r.mixed(59), ("GH_PAT", "github.token")),
    ("gitlab_pat", lambda r: "glpat-", lambda r: r.s(B64URL, 20), ("GITLAB_TOKEN", "private_token")),
    ("slack_bot", lambda r: r.pick(["xoxb-", "xoxp-"]), lambda r: f"{r.digits(12)}-{r.digits(13)}-{r.mixed(24)}", ("SLACK_BOT_TOKEN", "slackToken")),
    ("stripe_live", lambda r: r.pick(["sk_live_", "rk_live_"]), lambda r: r.mixed(r.between(24, 99)), ("STRIPE_SECRET_KEY", "stripe.apiKey")),
    ("stripe_webhook", lambda r: "whsec_", lambda r: r.mixed(32), ("STRIPE_WEBHOOK_SECRET", "endpoint_secret")),
    ("openai_project", lambda r: "sk-proj-", lambda r: r.s(B64URL, 74) + "T3BlbkFJ" + r.s(B64URL, 74), ("OPENAI_API_KEY", "openai.api_key")),
    ("anthropic", lambda r: "sk-ant-api03-", lambda r: r.s(B64URL, 93) + "AA", ("ANTHROPIC_API_KEY", "anthropicKey")),
    ("aws_access_key", lambda r: r.pick(["AKIA", "ASIA"]), lambda r: r.s(UPPER + "234567", 16), ("aws_access_key_id",)),
    ("google_api", lambda r: "AIza", lambda r: "Sy" + r.s(B64URL, 33), ("GOOGLE_API_KEY", "maps.key")),
    ("google_oauth_secret", lambda r: "GOCSPX-", lambda r: r.s(B64URL, 28), ("client_secret", "GOOGLE_CLIENT_SECRET")),
    ("sendgrid", lambda r: "SG.", lambda r: r.s(B64URL, 22) + "." + r.s(B64URL, 43), ("SENDGRID_API_KEY",)),
    ("npm", lambda r: "npm_", lambda r: r.mixed(36), ("NPM_TOKEN", "//registry.npmjs.org/:_authToken")),
    ("pypi", lambda r: "pypi-AgEIcHlwaS5vcmc", lambda r: r.s(B64URL, r.between(60, 120)), ("TWINE_PASSWORD", "pypi_token")),
    ("shopify", lambda r: r.pick(["shpat_", "shpss_", "shpca_"]), lambda r: r.hex(32), ("SHOPIFY_ACCESS_TOKEN",)),
    ("huggingface", lambda r: "hf_", lambda r: r.s(LOWER + UPPER, 34), ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")),
    ("digitalocean", lambda r: r.pick(["dop_v1_", "doo_v1_"]), lambda r: r.hex(64), ("DIGITALOCEAN_TOKEN",)),
    ("linear", lambda r: "lin_api_", lambda r: r.mixed(40), ("LINEAR_API_KEY",)),
    ("vault", lambda r: "hvs.", lambda r: r.s(B64URL, r.pick([24, 90])), ("VAULT_TOKEN", "X-Vault-Token")),
    ("databricks", lambda r: "dapi", lambda r: r.hex(32), ("DATABRICKS_TOKEN",)),
    ("postman", lambda r: "PMAK-", lambda r: r.hex(24) + "-" + r.hex(34), ("POSTMAN_API_KEY",)),
    ("atlassian", lambda r: "ATATT3xFfGF0", lambda r: r.s(B64URL, 170) + "=" + r.hex(8).upper(), ("JIRA_API_TOKEN",)),
    ("grafana_sa", lambda r: "glsa_", lambda r: r.mixed(32) + "_" + r.hex(8), ("GRAFANA_TOKEN",)),
    ("newrelic", lambda r: r.pick(["NRAK-", "NRII-"]), lambda r: r.s(UPPER + DIGITS, 27), ("NEW_RELIC_API_KEY",)),
    ("pulumi", lambda r: "pul-", lambda r: r.hex(40), ("PULUMI_ACCESS_TOKEN",)),
    ("telegram_bot", lambda r: r.digits(10) + ":AA", lambda r: r.s(B64URL, 33), ("TELEGRAM_BOT_TOKEN",)),
    ("square", lambda r: r.pick(["EAAA", "sq0csp-"]), lambda r: r.s(B64URL, 60), ("SQUARE_ACCESS_TOKEN",)),
    ("azure_ad_secret", lambda r: r.s(ALNUM, 3) + "8Q~", lambda r: r.s(ALNUM + "_.~-", 34), ("AZURE_CLIENT_SECRET", "clientSecret")),
    ("supabase", lambda r: "sbp_", lambda r: r.hex(40), ("SUPABASE_ACCESS_TOKEN",)),
    ("doppler", lambda r: "dp.st.prd.", lambda r: r.mixed(40), ("DOPPLER_TOKEN",)),
    ("figma", lambda r: "figd_", lambda r: r.s(B64URL, 40), ("FIGMA_TOKEN",)),
    ("dockerhub", lambda r: "dckr_pat_", lambda r: r.s(B64URL, 27), ("DOCKERHUB_TOKEN",)),
    ("age_key", lambda r: "AGE-SECRET-KEY-1", lambda r: r.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), ("SOPS_AGE_KEY",)),
    ("groq", lambda r: "gsk_", lambda r: r.mixed(52), ("GROQ_API_KEY",)),
    ("replicate", lambda r: "r8_", lambda r: r.mixed(37), ("REPLICATE_API_TOKEN",)),
    ("mapbox_secret", lambda r: "sk.eyJ1Ijoi", lambda r: r.s(B64URL, 60) + "." + r.s(B64URL, 22), ("MAPBOX_SECRET_TOKEN",)),
    ("planetscale", lambda r: "pscale_pw_", lambda r: r.s(B64URL, 43), ("DATABASE_PASSWORD",)),
    ("braintree", lambda r: "access_token$production$", lambda r: r.hex(16) + "$" + r.hex(32), ("BRAINTREE_ACCESS_TOKEN",)),
    ("firebase_fcm", lambda r: "AAAA", lambda r: r.s(B64URL, 7) + ":APA91b" + r.s(B64URL, 134), ("FCM_SERVER_KEY",)),
    ("terraform_cloud", lambda r: "", lambda r: r.mixed(14) + ".atlasv1." + r.mixed(67), ("TFE_TOKEN", "TF_TOKEN_app_terraform_io")),
    ("discord_bot", lambda r: "", lambda r: base64.b64encode(r.digits(18).encode()).decode().rstrip("=") + "." + r.s(B64URL, 6)
     + "." + r.s(B64URL, 38), ("DISCORD_TOKEN",)),
]

for _name, _prefix, _body, _keys in VENDOR:
    def _make(r: Rand, name=_name, prefix=_prefix, body=_body, keys=_keys) -> Item:
        p, b = prefix(r), body(r)
        return Item("vendor_token", name, p + b, (b,), keys)
    kind("vendor_token", _name)(_make)


# -- prefix-less keys: recognisable only by the name they are given, or the words around them ----------
PREFIXLESS = [
    ("datadog_api", lambda r: r.hex(32), ("DD_API_KEY", "datadog_api_key", "DD-API-KEY")),
    ("datadog_app", lambda r: r.hex(40), ("DD_APP_KEY", "application_key")),
    ("mistral", lambda r: r.mixed(32), ("MISTRAL_API_KEY",)),
    ("cohere", lambda r: r.mixed(40), ("CO_API_KEY", "cohere_api_key")),
    ("cloudflare_token", lambda r: r.s(B64URL, 40), ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN")),
    ("algolia_admin", lambda r: r.hex(32), ("ALGOLIA_ADMIN_KEY", "algoliaAdminApiKey")),
    ("jenkins", lambda r: "11" + r.hex(32), ("JENKINS_API_TOKEN", "jenkins.token")),
    ("okta", lambda r: "00" + r.s(B64URL, 40), ("OKTA_API_TOKEN", "okta.client.token")),
    ("twilio_auth", lambda r: r.hex(32), ("TWILIO_AUTH_TOKEN", "authToken")),
    ("heroku_api", lambda r: f"{r.hex(8)}-{r.hex(4)}-4{r.hex(3)}-a{r.hex(3)}-{r.hex(12)}", ("HEROKU_API_KEY",)),
    ("mailgun", lambda r: f"{r.hex(32)}-{r.hex(8)}-{r.hex(8)}", ("MAILGUN_API_KEY", "mailgun.key")),
    ("aws_secret", lambda r: r.s(ALNUM + "+/", 40), ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "secretAccessKey")),
    ("generic_hmac", lambda r: r.b64(32), ("WEBHOOK_SIGNING_SECRET", "hmacKey", "JWT_SECRET")),
    ("django_secret", lambda r: "django-insecure-" + r.s(LOWER + DIGITS + "!@#$%^&*(-_=+)", 50), ("SECRET_KEY",)),
    ("rails_master", lambda r: r.hex(32), ("RAILS_MASTER_KEY",)),
]
for _name, _body, _keys in PREFIXLESS:
    def _make2(r: Rand, name=_name, body=_body, keys=_keys) -> Item:
        v = body(r)
        return Item("prefixless", name, v, (v[16:] if v.startswith("django-") else v,), keys, self_id=False)
    kind("prefixless", _name, weight=2)(_make2)


# -- wallets -------------------------------------------------------------------------------------------
BIP39 = ("abandon ability able about above absent absorb abstract absurd abuse access accident account accuse "
         "achieve acid acoustic acquire across act action actor actress actual adapt add addict address adjust "
         "admit adult advance advice aerobic affair afford afraid again age agent agree ahead aim air airport "
         "aisle alarm album alcohol alert alien all alley allow almost alone alpha already also alter always "
         "amateur amazing among amount amused analyst anchor ancient anger angle angry animal ankle announce "
         "annual another answer antenna antique anxiety any apart apology appear apple approve april arch "
         "arctic area arena argue arm armed armor army around arrange arrest arrive arrow art artefact artist "
         "artwork ask aspect assault asset assist assume asthma athlete atom attack attend attitude attract "
         "auction audit august aunt author auto autumn average avocado avoid awake aware away awesome awful "
         "awkward axis baby bachelor bacon badge bag balance balcony ball bamboo banana banner bar barely "
         "bargain barrel base basic basket battle beach bean beauty because become beef before begin behave "
         "behind believe below belt bench benefit best betray better between beyond bicycle bid bike bind "
         "biology bird birth bitter black blade blame blanket blast bleak bless blind blood blossom blouse blue "
         "blur blush board boat body boil bomb bone bonus book boost border boring borrow boss bottom bounce "
         "box boy bracket brain brand brass brave bread breeze brick bridge brief bright bring brisk broccoli "
         "broken bronze broom brother brown brush bubble buddy budget buffalo build bulb bulk bullet bundle").split()


@kind("wallet", "eth_private_key", weight=2)
def _eth(r: Rand) -> Item:
    h = r.hex(64)
    v = r.pick(["0x", ""]) + h
    lines = (f"cast send 0x{r.hex(40)} 'transfer(address,uint256)' 0x{r.hex(40)} 100 --private-key {v} --rpc-url $RPC",
             f"npx hardhat run scripts/deploy.js --network sepolia  # deployer {v}",
             f"forge script Deploy --broadcast --private-key {v}")
    return Item("wallet", "eth_private_key", v, (h,), ("PRIVATE_KEY", "DEPLOYER_PRIVATE_KEY", "wallet.privateKey", "ETH_PK"),
                lines=lines, self_id=False)


@kind("wallet", "wif")
def _wif(r: Rand) -> Item:
    raw = bytes(r.rng.getrandbits(8) for _ in range(32))
    v = b58check(b"\x80" + raw + (b"\x01" if r.rng.random() < 0.7 else b""))
    return Item("wallet", "wif", v, (v[1:],), ("btc_wif", "WALLET_WIF", "privkey"),
                lines=(f"bitcoin-cli importprivkey {v} \"cold\" false",), self_id=True)


@kind("wallet", "xprv")
def _xprv(r: Rand) -> Item:
    payload = bytes.fromhex("0488ade4") + bytes([0]) + bytes(8) + bytes(r.rng.getrandbits(8) for _ in range(32)) \
        + b"\0" + bytes(r.rng.getrandbits(8) for _ in range(32))
    v = b58check(payload)
    return Item("wallet", "xprv", v, (v[4:],), ("XPRV", "master_key"))


@kind("wallet", "solana_keypair")
def _sol(r: Rand) -> Item:
    raw = bytes(r.rng.getrandbits(8) for _ in range(64))
    if r.rng.random() < 0.5:
        v = b58(raw)
        return Item("wallet", "solana_keypair", v, (v,), ("SOLANA_PRIVATE_KEY", "phantom_secret"), self_id=False)
    v = json.dumps(list(raw), separators=(",", ":"))
    return Item("wallet", "solana_keypair", v, (v[1:-1][10:],), ("keypair", "SOLANA_KEYPAIR"), self_id=False)


@kind("wallet", "bip39", weight=2)
def _bip39(r: Rand) -> Item:
    v = " ".join(r.pick(BIP39) for _ in range(r.pick([12, 24])))
    lines = (f"recovered wallet from seed phrase: {v}", f"echo '{v}' | solana-keygen recover --force",
             f"MNEMONIC=\"{v}\" npx hardhat test")
    return Item("wallet", "bip39", v, (v,), ("mnemonic", "SEED_PHRASE", "wallet.recoveryPhrase"), lines=lines, self_id=False)


# -- private keys on one line ----------------------------------------------------------------------------
@kind("private_key", "pem_one_line", weight=6)
def _pem(r: Rand) -> Item:
    label = r.pick(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"])
    head = {"PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA",
            "EC PRIVATE KEY": "MHcCAQEEI", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAA",
            "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG"}[label]
    body = head + r.b64(r.pick([90, 180, 400]))
    lines = [body[i:i + (70 if "OPENSSH" in label else 64)] for i in range(0, len(body), 70 if "OPENSSH" in label else 64)]
    sep = r.pick(["\\n", "\\n", "\\r\\n", " "])
    v = f"-----BEGIN {label}-----{sep}" + sep.join(lines) + f"{sep}-----END {label}-----" + (sep if sep != " " else "")
    secret = body[len(head):]
    parts = tuple(secret[i:i + 40] for i in range(0, len(secret), 40))
    sa = json.dumps({"type": "service_account", "project_id": "billing-prod-4412", "private_key_id": r.hex(40),
                     "private_key": v.replace("\\n", "\n").replace("\\r", "\r"), "client_email": "ci@billing-prod-4412.iam.gserviceaccount.com"})
    return Item("private_key", "pem_one_line", v, parts, ("private_key", "TLS_KEY", "SSH_PRIVATE_KEY", "signingKey"),
                lines=(sa, f"GOOGLE_CREDENTIALS='{sa}'"))


# -- webhook URLs -------------------------------------------------------------------------------------
@kind("webhook", "slack_webhook", weight=2)
def _slack_hook(r: Rand) -> Item:
    tail = r.mixed(24)
    v = f"https://hooks.slack.com/services/T{r.s(UPPER + DIGITS, 8)}/B{r.s(UPPER + DIGITS, 10)}/{tail}"
    return Item("webhook", "slack_webhook", v, (tail,), ("SLACK_WEBHOOK_URL", "webhookUrl"))


@kind("webhook", "discord_webhook", weight=2)
def _discord_hook(r: Rand) -> Item:
    tail = r.s(B64URL, 68)
    v = f"https://{r.pick(['discord.com', 'discordapp.com'])}/api/webhooks/{r.digits(19)}/{tail}"
    return Item("webhook", "discord_webhook", v, (tail,), ("DISCORD_WEBHOOK", "alerts.discord_url"))


@kind("webhook", "teams_webhook", weight=2)
def _teams_hook(r: Rand) -> Item:
    def uuid() -> str:
        return f"{r.hex(8)}-{r.hex(4)}-{r.hex(4)}-{r.hex(4)}-{r.hex(12)}"
    h = r.hex(32)
    tail_uuid = uuid()
    v = (f"https://{r.pick(['contoso', 'acme-corp', 'northwind'])}.webhook.office.com/webhookb2/{uuid()}@{uuid()}"
         f"/IncomingWebhook/{h}/{tail_uuid}")
    if r.rng.random() < 0.4:
        h = r.s(ALNUM + "_-", 40)
        v = (f"https://prod-{r.digits(2)}.westeurope.logic.azure.com:443/workflows/{r.hex(32)}/triggers/manual/paths/invoke"
             f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={h}")
        return Item("webhook", "teams_webhook", v, (h,), ("TEAMS_WEBHOOK_URL",))
    return Item("webhook", "teams_webhook", v, (h,), ("TEAMS_WEBHOOK_URL", "msteams.url"))


@kind("webhook", "other_webhook")
def _other_hook(r: Rand) -> Item:
    c = r.rng.randrange(3)
    if c == 0:
        s = r.s(B64URL, 43)
        v = f"https://chat.googleapis.com/v1/spaces/AAAA{r.s(B64URL, 7)}/messages?key=AIzaSy{r.s(B64URL, 33)}&token={s}"
    elif c == 1:
        s = r.s(B64URL, 35)
        v = f"https://api.telegram.org/bot{r.digits(10)}:AA{s}/sendMessage?chat_id=-100{r.digits(10)}"
    else:
        s = r.s(LOWER + DIGITS, 26)
        v = f"https://chat.example.org/hooks/{s}"
    return Item("webhook", "other_webhook", v, (s,), ("WEBHOOK_URL", "notify.url"))


# -- cloud connection strings ---------------------------------------------------------------------------
@kind("conn_string", "azure_storage", weight=2)
def _azure_storage(r: Rand) -> Item:
    k = r.b64(64)
    v = (f"DefaultEndpointsProtocol=https;AccountName={r.s(LOWER + DIGITS, 12)};AccountKey={k};"
         "EndpointSuffix=core.windows.net")
    return Item("conn_string", "azure_storage", v, (k[:-2],), ("AzureWebJobsStorage", "STORAGE_CONNECTION_STRING", "ConnectionStrings__Blob"))


@kind("conn_string", "azure_servicebus", weight=2)
def _azure_sb(r: Rand) -> Item:
    k = r.b64(32)
    v = (f"Endpoint=sb://{r.s(LOWER, 8)}-{r.pick(['bus', 'events', 'hub'])}.servicebus.windows.net/;"
         f"SharedAccessKeyName={r.pick(['RootManageSharedAccessKey', 'send', 'listen-only'])};SharedAccessKey={k}"
         + r.pick(["", ";EntityPath=orders"]))
    return Item("conn_string", "azure_servicebus", v, (k[:-1],), ("ServiceBusConnection", "EVENTHUB_CONNECTION_STRING"))


@kind("conn_string", "cosmos_or_sqlserver", weight=2)
def _cosmos(r: Rand) -> Item:
    if r.rng.random() < 0.5:
        k = r.b64(64)
        v = f"AccountEndpoint=https://{r.s(LOWER, 9)}.documents.azure.com:443/;AccountKey={k};"
        return Item("conn_string", "cosmos_or_sqlserver", v, (k[:-2],), ("CosmosDb", "COSMOS_CONNECTION"))
    pw = r.password()
    v = (f"Server=tcp:{r.s(LOWER, 8)}.database.windows.net,1433;Initial Catalog=orders;Persist Security Info=False;"
         f"User ID=sqladmin;Password={pw};MultipleActiveResultSets=False;Encrypt=True;")
    return Item("conn_string", "cosmos_or_sqlserver", v, (pw,), ("ConnectionStrings:Default", "SQL_CONN"))


@kind("conn_string", "mongo_srv", weight=2)
def _mongo(r: Rand) -> Item:
    pw = r.mixed(r.between(12, 24))
    v = f"mongodb+srv://{r.pick(['app', 'svc_orders', 'admin'])}:{pw}@cluster0.{r.s(LOWER + DIGITS, 5)}.mongodb.net/shop?retryWrites=true&w=majority"
    return Item("conn_string", "mongo_srv", v, (pw,), ("MONGODB_URI", "spring.data.mongodb.uri"))


@kind("conn_string", "redis_url", weight=2)
def _redis(r: Rand) -> Item:
    pw = r.mixed(r.between(16, 32))
    v = r.pick([f"redis://:{pw}@cache.internal:6379/0", f"rediss://default:{pw}@{r.s(LOWER, 6)}.upstash.io:6379",
                f"redis://default:{pw}@redis-{r.digits(5)}.c1.us-east-1-2.ec2.cloud.redislabs.com:{r.digits(5)}"])
    return Item("conn_string", "redis_url", v, (pw,), ("REDIS_URL", "CELERY_BROKER_URL", "cache.url"))


@kind("conn_string", "jdbc", weight=2)
def _jdbc(r: Rand) -> Item:
    pw = r.password()
    pw = "".join(c for c in pw if c not in "&;@#?%") or r.mixed(12)
    v = r.pick([f"jdbc:postgresql://db.internal:5432/orders?user=app&password={pw}&sslmode=require",
                f"jdbc:sqlserver://sql01:1433;databaseName=crm;user=sa;password={pw};encrypt=true",
                f"jdbc:mysql://app:{pw}@mysql.internal:3306/shop?useSSL=true",
                f"jdbc:oracle:thin:scott/{pw}@//ora.internal:1521/ORCLPDB1"])
    return Item("conn_string", "jdbc", v, (pw,), ("spring.datasource.url", "JDBC_URL", "db.url"))


@kind("conn_string", "amqp_url")
def _amqp(r: Rand) -> Item:
    pw = r.mixed(r.between(14, 28))
    v = r.pick([f"amqps://orders:{pw}@rabbit.internal:5671/prod", f"amqp://guest2:{pw}@mq:5672/%2F",
                f"nats://svc:{pw}@nats.internal:4222", f"kafka+sasl://user:{pw}@broker-1:9094"])
    return Item("conn_string", "amqp_url", v, (pw,), ("AMQP_URL", "BROKER_URL"))


# -- bearer tokens and API keys in headers ---------------------------------------------------------------
def _opaque(r: Rand) -> str:
    c = r.rng.randrange(4)
    if c == 0:
        return r.mixed(r.between(32, 64))
    if c == 1:
        return r.s(ALNUM + "-._~", r.between(40, 80))
    if c == 2:
        hdr = base64.urlsafe_b64encode(json.dumps({"alg": r.pick(["RS256", "HS256", "ES256"]), "typ": "JWT",
                                                    "kid": r.hex(8)}).encode()).decode().rstrip("=")
        body = base64.urlsafe_b64encode(json.dumps({"sub": r.digits(9), "iss": "https://auth.example.com", "exp": 1796000000
                                                    + r.between(0, 99999), "scope": "read write"}).encode()).decode().rstrip("=")
        return f"{hdr}.{body}.{r.s(B64URL, 43)}"
    return r.b64(r.between(24, 48))


@kind("bearer", "header_token", weight=6)
def _header(r: Rand) -> Item:
    t = _opaque(r)
    parts = tuple(t.split(".")[1:]) if t.count(".") == 2 and t.startswith("ey") else (t,)
    spell = r.pick([("Authorization", "Bearer "), ("authorization", "bearer "), ("AUTHORIZATION", "BEARER "),
                    ("Authorization", "Token "), ("Authorization", "JWT "), ("authorization", "Bearer\t"),
                    ("X-Api-Key", ""), ("x-api-key", ""), ("Api-Key", ""), ("X-Auth-Token", ""), ("Private-Token", ""),
                    ("X-Goog-Api-Key", ""), ("Ocp-Apim-Subscription-Key", ""), ("x-functions-key", ""),
                    ("X-Shopify-Access-Token", ""), ("Proxy-Authorization", "Bearer "), ("X-Access-Token", ""),
                    ("Authorization", "Bearer  ")])
    h, scheme = spell
    lines = (
        f"GET /v1/orders HTTP/1.1\r\nHost: api.example.com\r\n{h}: {scheme}{t}\r\nAccept: */*\r\n\r\n",
        f"curl -sS -H '{h}: {scheme}{t}' https://api.example.com/v1/me",
        f"curl -H \"{h}:{scheme}{t}\" -X POST https://api.example.com/v1/jobs -d @job.json",
        json.dumps({"msg": "outgoing request", "headers": {h: scheme + t, "Accept": "application/json"}}),
        f"request headers: map[{h}:[{scheme}{t}] User-Agent:[Go-http-client/2.0]]",
        f"sending {{'{h}': '{scheme}{t}', 'Content-Type': 'application/json'}}",
        f"grpc metadata: {h.lower()}={scheme}{t} user-agent=grpc-go/1.62.1",
        f"proxy_set_header {h} \"{scheme}{t}\";",
        f"fetch(url, {{ headers: {{ \"{h}\": \"{scheme}{t}\" }} }})",
        f"Invoke-RestMethod -Uri $uri -Headers @{{\"{h}\" = \"{scheme}{t}\"}}",
    )
    return Item("bearer", "header_token", scheme + t, parts, (h,), lines=(r.pick(lines),))


@kind("bearer", "basic_auth", weight=3)
def _basic(r: Rand) -> Item:
    user, pw = r.pick(["admin", "svc-ci", "grafana", "alice@example.com"]), r.password()
    enc = base64.b64encode(f"{user}:{pw}".encode()).decode()
    off = len(user) + 1
    start, end = (off // 3 + 1) * 4, ((off + len(pw)) // 3) * 4
    part = enc[start:end] if end - start >= 8 else enc
    h = r.pick(["Authorization", "authorization", "Proxy-Authorization"])
    line = r.pick([f"{h}: Basic {enc}", f"curl -H '{h}: Basic {enc}' https://registry.example.com/v2/",
                   json.dumps({"headers": {h: f"Basic {enc}"}}), f"{h.lower()}=Basic {enc}"])
    return Item("bearer", "basic_auth", "Basic " + enc, (part,), (h,), lines=(line,))
