"""The manifest a sidecar runs when its config names none (``ben redact default`` prints it)."""

DEFAULT_MANIFEST = '''\
# ben's built-in redaction manifest: secrets that must never be stored, wherever they appear
# (names, bodies, attribute keys and values). E-mail addresses are masked: a keyed hash needs a
# key only the operator can provide (see docs/examples/redact.toml). IP addresses and national IDs
# are opt-in.
version = 1

[[rule]]
name = "private-key"
detect = "private_key"
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

[[rule]]
name = "email"
detect = "email"
action = "mask"
'''
