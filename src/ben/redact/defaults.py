"""The manifest a sidecar runs when its config names none (``ben redact default`` prints it)."""

DEFAULT_MANIFEST = '''\
# ben's built-in redaction manifest: secrets and personal data that must never be stored, wherever
# they appear (names, bodies, attribute keys and values, the source's host, subsystem and instance),
# also when URL-encoded or JSON-escaped. A match is masked, not the field around it. E-mail
# addresses are masked: a keyed hash needs a key only the operator can provide (see
# docs/examples/redact.toml). National IDs are masked when something names them (a key or the words
# before them: ssn, passport_number, "NI number", CPF...); IP addresses and the bare-format national-ID
# detectors (uk_nino, es_dni) are opt-in.
version = 1

[[rule]]
name = "private-key"
detect = ["private_key", "key_lines"]
action = "mask"

# the whole value of an attribute whose key names a secret (any case: Authorization, X-Api-Key, DB_PASSWORD,
# DB_PASS, and the word for a password, a token or an API key in the languages logs are commonly written in)
[[rule]]
name = "secret-attribute"
fields = ["attributes.*password*", "attributes.*passwd*", "attributes.*passphrase*", "attributes.*pwd",
          "attributes.*secret*", "attributes.*token", "attributes.*api_key*", "attributes.*api-key*", "attributes.*auth",
          "attributes.*apikey*", "attributes.*api.key", "attributes.*access_key*", "attributes.*access-key*",
          "attributes.*accesskey*", "attributes.*private_key*", "attributes.*private-key*",
          "attributes.*privatekey*", "attributes.*signing_key*", "attributes.*authorization*",
          "attributes.*cookie*", "attributes.*credential*", "attributes.*dsn",
          "attributes.*connection_string*", "attributes.*connectionstring*",
          "attributes.pass", "attributes.*_pass", "attributes.*.pass", "attributes.*-pass", "attributes.*master_key*",
          "attributes.*encryption_key*", "attributes.*license_key*", "attributes.*app_key*", "attributes.*auth_key*",
          "attributes.*passwort*", "attributes.*kennwort*", "attributes.*contrase?a*", "attributes.*clave",
          "attributes.*mot_de_passe*", "attributes.*motdepasse*", "attributes.*senha*", "attributes.*wachtwoord*",
          "attributes.*haslo*", "attributes.*hasło*", "attributes.*lösenord*", "attributes.*losenord*",
          "attributes.*salasana*", "attributes.*parola", "attributes.*jelsz?*", "attributes.*heslo*",
          "attributes.*şifre*", "attributes.*sifre*", "attributes.*adgangskode*", "attributes.*passord*",
          "attributes.*lozinka*", "attributes.*пароль*", "attributes.*密码*", "attributes.*口令*",
          "attributes.*パスワード*", "attributes.*비밀번호*", "attributes.*contrasenya*", "attributes.*κωδικ*",
          "attributes.*סיסמה*", "attributes.*كلمة*مرور*", "attributes.*mật*khẩu*", "attributes.*mat_khau*",
          "attributes.*รหัสผ่าน*", "attributes.*kata*sandi*", "attributes.pw", "attributes.*_pw", "attributes.*.pw",
          "attributes.*psk", "attributes.*_pat", "attributes.*mnemonic*", "attributes.*seed_phrase*",
          "attributes.*recovery_phrase*", "attributes.*keypair*", "attributes.*routing_key*",
          "attributes.*integration_key*", "attributes.*service_key*", "attributes.*honeycomb-team*",
          "attributes.*application_key*", "attributes.*hmac*key*", "attributes.*_pk", "attributes.*webhook_url*",
          "attributes.*app-key*", "attributes.*auth-key*", "attributes.*master-key*", "attributes.*encryption-key*",
          "attributes.*license-key*", "attributes.*signing-key*", "attributes.*service-key*",
          "attributes.*integration-key*", "attributes.*routing-key*", "attributes.*application-key*",
          "attributes.session", "attributes.*.session", "attributes.*webhook", "attributes.*fernet*key*",
          "attributes.*unseal*key*", "attributes.*api*schl?ssel*", "attributes.*schl?ssel*api*", "attributes.*clé*api*", "attributes.*cle_api*",
          "attributes.*clave*api*", "attributes.*chave*api*", "attributes.*jeton*", "attributes.*токен*",
          "attributes.*ключ*api*", "attributes.*令牌*", "attributes.*密钥*", "attributes.*秘钥*", "attributes.*トークン*",
          "attributes.*토큰*", "attributes.*apiキー*"]
ignore_case = true
action = "mask"

# personal numbers under their key, also written without separators (0612345678, 078051120), which the
# value rules cannot tell from ids
[[rule]]
name = "pii-attribute"
fields = ["attributes.phone", "attributes.*.phone", "attributes.*_phone", "attributes.*phone_number*",
          "attributes.*phonenumber*", "attributes.mobile", "attributes.*.mobile", "attributes.*_mobile",
          "attributes.*msisdn*", "attributes.ssn", "attributes.*.ssn", "attributes.*_ssn",
          "attributes.*social_security*", "attributes.*passport*", "attributes.*nino", "attributes.*ni_number*",
          "attributes.*national_insurance*", "attributes.*nationalinsurance*", "attributes.*socialinsurance*", "attributes.*national_id*", "attributes.*social_insurance*",
          "attributes.*tax_id*", "attributes.*taxid*", "attributes.*taxpayer*", "attributes.*tax_file*",
          "attributes.*licen?e_number*", "attributes.*licencenumber*", "attributes.*licensenumber*",
          "attributes.*driver*licen?e*", "attributes.*dl_number*", "attributes.*personnummer*",
          "attributes.*personal_number*", "attributes.*burgerservicenummer*", "attributes.*pesel",
          "attributes.*cpf", "attributes.*cnpj", "attributes.*bsn", "attributes.*tfn", "attributes.*itin",
          "attributes.*.ein", "attributes.*_ein", "attributes.ein", "attributes.*.sin", "attributes.*_sin",
          "attributes.sin", "attributes.*dni", "attributes.*.nie", "attributes.nie", "attributes.*documento*",
          "attributes.*.nir", "attributes.nir", "attributes.*secu*sociale*", "attributes.*num_secu*",
          "attributes.*pan_number*", "attributes.*pan_card*", "attributes.*panno", "attributes.*iban*",
          "attributes.*card_number*", "attributes.*cardnumber*", "attributes.*ccnumber*", "attributes.*creditcard*",
          "attributes.*.pan", "attributes.pan"]
ignore_case = true
action = "mask"

[[rule]]
name = "card"
detect = "card"
action = "mask"

[[rule]]
name = "jwt"
detect = "jwt"
action = "mask"

[[rule]]
name = "bearer"
detect = "bearer"
action = "mask"

[[rule]]
name = "cloud-key"
detect = ["aws_key", "gcp_key", "azure_key", "github_token", "slack_token"]
action = "mask"

# token formats of a maintained secret scanner (ben.redact.formats) and other structured tokens
[[rule]]
name = "api-token"
detect = ["token", "telegram_token", "discord_token", "webhook_url", "mailchimp_key", "newrelic_license",
          "okta_token", "random_key", "base64_wrapped", "wallet_key", "k8s_secret",
          "fcm_key", "hex_wrapped", "vault_legacy", "base64_pii", "base64_text", "key_pair"]
action = "mask"

# password=..., "api_key": "...", <password>...</password>, scheme://user:password@host, --password ...,
# session cookies, password hashes ({SSHA}..., $2b$..., $6$..., $argon2id$...)
[[rule]]
name = "password"
detect = ["password", "secret_pair", "url_userinfo", "command_line", "cookie", "password_hash", "session_cookie",
          "layout", "keyless_password", "worded_secret", "change", "query", "message", "table", "argv"]
action = "mask"

[[rule]]
name = "email"
detect = "email"
action = "mask"

[[rule]]
name = "iban"
detect = "iban"
action = "mask"

[[rule]]
name = "ssn"
detect = "us_ssn"
action = "mask"

# national identifiers named as such (a key, or the words of a sentence: "passport no. 123456789")
[[rule]]
name = "national-id"
detect = "id_number"
action = "mask"

[[rule]]
name = "phone"
detect = "phone"
action = "mask"
'''
