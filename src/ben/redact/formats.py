"""Token formats of maintained secret scanners, as data: a fixed prefix and what follows it.

The list follows the default rule set of gitleaks (https://github.com/gitleaks/gitleaks,
``config/gitleaks.toml``), whose rules are published under the MIT licence:

    MIT License -- Copyright (c) 2019 Zachary Rice

    Permission is hereby granted, free of charge, to any person obtaining a copy of this software
    and associated documentation files (the "Software"), to deal in the Software without
    restriction, including without limitation the rights to use, copy, modify, merge, publish,
    distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
    Software is furnished to do so, subject to the following conditions: The above copyright
    notice and this permission notice shall be included in all copies or substantial portions of
    the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
    PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
    LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
    OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
    IN THE SOFTWARE.

The patterns here are written for ben from the published formats, not copied: only the formats
that carry a prefix of their own (``ghp_``, ``sk_live_``, ``xoxb-``...) are listed, since a prefix
is what tells a token from a trace id or a hash. Bodies are lenient on length (a format-valid fake
or a format revision must not slip through); a prefix plus a long body is what makes a match.
Keyword-only rules of gitleaks (a vendor name next to an anonymous hex string) are covered by the
``secret_pair`` detector and the default manifest's key rule instead (see ADR 0014).

``detectors.token`` finds candidate tokens (a run of ``[A-Za-z0-9_.$~-]`` of 16+ characters
starting at a word boundary), looks the first three characters up in ``INDEX`` and tries only the
formats filed there, anchored at the token's start: a few dictionary lookups per long token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One token format: ``prefix`` then a body matching ``body`` (a regex, anchored after the prefix)."""

    name: str
    prefix: str
    body: str


_AN = "A-Za-z0-9"
_HEX = "0-9a-f"
_UUID = rf"[{_HEX}]{{8}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{12}}"

_TABLE = (
    # -- cloud providers --
    # access key ids only: AROA/AIDA/AGPA/ANPA... are unique ids of roles, users and policies, in every
    # CloudTrail record's principalId, and no credential (ADR 0030, revision 4)
    ("aws-access-key-id", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), r"[A-Z0-9]{12,20}"),
    ("aws-session-token", ("IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE"), rf"[{_AN}+/=]{{60,}}"),
    ("gcp-api-key", ("AIza",), rf"[{_AN}_\-]{{30,40}}"),
    ("gcp-oauth-access-token", ("ya29.",), rf"[{_AN}_\-.]{{20,}}"),
    ("gcp-oauth-client-secret", ("GOCSPX-",), rf"[{_AN}_\-]{{20,40}}"),
    ("digitalocean-token", ("dop_v1_", "doo_v1_", "dor_v1_"), rf"[{_HEX}]{{40,64}}"),
    ("alibaba-access-key-id", ("LTAI",), rf"[{_AN}]{{12,24}}"),
    ("cloudflare-origin-ca-key", ("v1.0-",), rf"[{_HEX}]{{24}}-[{_HEX}]{{100,}}"),
    ("flyio-token", ("fo1_", "fm1a_", "fm1r_", "fm2_"), rf"[{_AN}_\-+/=]{{30,}}"),
    ("tailscale-key", ("tskey-",), rf"[{_AN}\-]{{20,}}"),
    ("supabase-token", ("sbp_",), rf"[{_HEX}]{{30,50}}"),
    ("netlify-token", ("nfp_",), rf"[{_AN}]{{30,50}}"),
    ("render-token", ("rnd_",), rf"[{_AN}]{{24,40}}"),
    ("supabase-secret-key", ("sb_secret_",), rf"[{_AN}_\-]{{20,60}}"),
    ("neon-api-key", ("napi_",), rf"[{_AN}]{{40,80}}"),
    ("hashicorp-tf-token", ("atlasv1.",), rf"[{_AN}_\-=]{{40,80}}"),   # and its lead (``LEADS``)
    ("tencent-secret-id", ("AKID",), rf"[{_AN}]{{32}}"),
    # -- version control --
    ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), rf"[{_AN}]{{30,255}}"),
    ("github-fine-grained-pat", ("github_pat_",), rf"[{_AN}_]{{22,255}}"),
    ("gitlab-token", ("glpat-", "gldt-", "glrt-", "glft-", "glsoat-", "glimt-", "glagent-", "gloas-", "glffct-",
                      "glcbt-", "GR1348941"), rf"[{_AN}_\-.]{{18,300}}"),
    ("gitlab-pipeline-trigger-token", ("glptt-",), rf"[{_HEX}]{{30,40}}"),
    ("bitbucket-app-password", ("ATBB",), rf"[{_AN}]{{28,40}}"),
    ("atlassian-api-token", ("ATATT3", "ATCTT3"), rf"[{_AN}_\-=]{{40,200}}"),
    ("sourcegraph-token", ("sgp_",), rf"[{_AN}_]{{40,}}"),
    # -- CI / CD --
    ("circleci-token", ("CCIPAT_", "CCIPRJ_"), rf"[{_AN}_]{{30,}}"),
    ("buildkite-token", ("bkua_",), rf"[{_HEX}]{{36,40}}"),
    ("pulumi-token", ("pul-",), rf"[{_HEX}]{{36,40}}"),
    ("sonarqube-token", ("squ_", "sqp_", "sqa_"), rf"[{_HEX}]{{40}}"),
    ("harness-token", ("pat.", "sat."), rf"[{_AN}_\-]{{18,24}}\.[{_AN}]{{20,24}}\.[{_AN}]{{16,20}}"),
    ("octopus-deploy-key", ("API-",), r"[A-Z0-9]{24,32}"),
    ("prefect-token", ("pnu_",), rf"[{_AN}]{{30,40}}"),
    ("scalingo-token", ("tk-us-",), rf"[{_AN}_\-]{{40,50}}"),
    ("doppler-token", ("dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."), rf"[{_AN}_\-.]{{30,50}}"),
    ("vault-token", ("hvs.", "hvb.", "hvr."), rf"[{_AN}_\-]{{20,300}}"),
    ("infisical-service-token", ("st.",), _UUID + rf"\.[{_HEX}]{{16,40}}\.[{_HEX}]{{16,40}}"),
    ("1password-service-account", ("ops_eyJ",), rf"[{_AN}+/=_\-]{{40,}}"),   # base64url too
    ("1password-secret-key", ("A3-",), r"[A-Z0-9]{6}-[A-Z0-9\-]{20,40}"),
    ("age-secret-key", ("AGE-SECRET-KEY-1",), r"[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{50,60}"),
    # -- payment --
    # not pk_live_/pk_test_: a publishable key is public by design (in every checkout page's script; ADR 0030,
    # revision 11), as Supabase's sb_publishable_ is
    ("stripe-key", ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_"), rf"[{_AN}]{{10,255}}"),
    ("paypal-access-token", ("A21AA",), rf"[{_AN}_\-]{{50,200}}"),
    ("square-token", ("sq0atp-", "sq0csp-", "EAAA"), rf"[{_AN}_\-]{{22,100}}"),
    ("paypal-braintree-token", ("access_token$production$", "access_token$sandbox$"),
     rf"[{_AN}]{{12,20}}\$[{_AN}]{{24,40}}"),
    ("flutterwave-key", ("FLWSECK_TEST-", "FLWSECK-", "FLWPUBK_TEST-", "FLWPUBK-"), rf"[{_AN}]{{12,}}(?:-X)?"),
    ("easypost-token", ("EZAK", "EZTK"), rf"[{_AN}]{{40,60}}"),
    ("duffel-token", ("duffel_test_", "duffel_live_"), rf"[{_AN}_\-=]{{40,50}}"),
    ("shippo-token", ("shippo_live_", "shippo_test_"), r"[0-9a-fA-F]{36,40}"),
    ("razorpay-key", ("rzp_live_", "rzp_test_"), rf"[{_AN}]{{14,32}}"),
    ("mollie-key", ("live_",), rf"[{_AN}]{{30}}"),   # not test_: a test's name may be 30 letters
    ("plaid-token", ("access-production-", "access-sandbox-", "access-development-"),
     _UUID),
    # -- messaging --
    ("slack-token", ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe-", "xoxe.xoxb-", "xoxe.xoxp-", "xapp-"),
     rf"[{_AN}\-]{{10,250}}"),
    ("twilio-key", ("SK", "AC"), r"[0-9a-fA-F]{32}"),
    ("sendgrid-key", ("SG.",), rf"[{_AN}_\-]{{16,32}}\.[{_AN}_\-]{{30,50}}"),
    ("sendinblue-key", ("xkeysib-",), rf"[{_HEX}]{{64}}-[{_AN}]{{16}}"),
    ("mailgun-key", ("key-", "pubkey-"), rf"[{_HEX}]{{32}}"),
    ("resend-key", ("re_",), rf"[{_AN}]{{8}}_[{_AN}]{{24}}"),
    ("postman-key", ("PMAK-",), rf"[{_AN}]{{20,30}}-[{_AN}]{{30,40}}"),
    ("linear-key", ("lin_api_", "lin_oauth_"), rf"[{_AN}]{{32,64}}"),
    ("notion-token", ("ntn_",), rf"[{_AN}]{{40,50}}"),
    ("notion-secret", ("secret_",), rf"[{_AN}]{{40,46}}"),
    ("typeform-token", ("tfp_",), rf"[{_AN}_\-.=]{{40,64}}"),
    ("frameio-token", ("fio-u-",), rf"[{_AN}_\-=]{{60,70}}"),
    ("readme-token", ("rdme_",), rf"[{_AN}]{{60,80}}"),
    # -- package registries --
    ("npm-token", ("npm_",), rf"[{_AN}]{{30,40}}"),
    ("pypi-token", ("pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"), rf"[{_AN}_\-]{{30,1000}}"),
    ("pypi-token-other", ("pypi-",), rf"[{_AN}_\-]{{60,1000}}"),   # a macaroon under another issuer
    ("rubygems-token", ("rubygems_",), rf"[{_HEX}]{{40,48}}"),
    ("nuget-key", ("oy2",), r"[a-z0-9]{40,46}"),
    ("docker-pat", ("dckr_pat_", "dckr_oat_"), rf"[{_AN}_\-]{{20,40}}"),
    ("figma-token", ("figd_", "figu_"), rf"[{_AN}_\-]{{36,48}}"),
    ("clojars-token", ("CLOJARS_",), rf"[{_AN}]{{50,60}}"),
    ("crates-io-token", ("cio",), rf"[{_AN}]{{32}}"),
    # -- crypto wallets: BIP32 extended private keys (base58) --
    ("bip32-extended-private-key", ("xprv", "tprv", "yprv", "zprv", "Yprv", "Zprv", "uprv", "vprv"),
     r"[1-9A-HJ-NP-Za-km-z]{100,112}"),
    ("artifactory-key", ("AKCp",), rf"[{_AN}]{{60,73}}"),
    ("artifactory-reference-token", ("cmVmd",), rf"[{_AN}]{{50,64}}"),
    # -- AI providers --
    ("anthropic-key", ("sk-ant-",), rf"[a-z]{{2,8}}[0-9]{{0,3}}-[{_AN}_\-]{{32,200}}"),
    ("openai-key", ("sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-"), rf"[{_AN}_\-]{{32,300}}"),
    ("openai-legacy-key", ("sk-",), rf"[{_AN}]{{32,60}}"),
    ("huggingface-token", ("hf_", "api_org_"), rf"[{_AN}]{{30,40}}"),
    ("replicate-token", ("r8_",), rf"[{_AN}]{{36,40}}"),
    ("groq-key", ("gsk_",), rf"[{_AN}]{{48,56}}"),
    ("xai-key", ("xai-",), rf"[{_AN}]{{60,90}}"),
    ("perplexity-key", ("pplx-",), rf"[{_AN}]{{40,56}}"),
    ("langsmith-key", ("lsv2_pt_", "lsv2_sk_"), rf"[{_HEX}]{{32}}_[{_HEX}]{{10}}"),
    ("pinecone-key", ("pcsk_",), rf"[{_AN}]{{4,8}}_[{_AN}_]{{40,120}}"),
    # -- SaaS --
    ("shopify-token", ("shpat_", "shpca_", "shppa_", "shpss_"), r"[0-9a-fA-F]{32}"),
    ("heroku-key", ("HRKU-",), rf"[{_AN}_\-]{{30,70}}"),
    ("newrelic-key", ("NRAK-", "NRJS-", "NRII-", "NRAA-"), r"[A-Za-z0-9_\-]{19,40}"),
    ("sentry-token", ("sntrys_", "sntryu_"), rf"[{_AN}+/=_\-]{{40,}}"),
    ("honeycomb-key", ("hcaik_", "hcxik_"), rf"[{_AN}]{{40,80}}"),
    ("databricks-token", ("dapi",), rf"[{_HEX}]{{32}}(?:-[0-9])?"),
    ("dynatrace-token", ("dt0c01.",), rf"[{_AN}]{{24}}\.[{_AN}]{{64}}"),
    ("grafana-token", ("glc_", "glsa_", "eyJrIjoi"), rf"[{_AN}_+/=]{{32,400}}"),
    ("planetscale-token", ("pscale_tkn_", "pscale_pw_", "pscale_oauth_"), rf"[{_AN}_=.\-]{{32,64}}"),
    ("contentful-token", ("CFPAT-",), rf"[{_AN}_\-]{{40,50}}"),
    ("infracost-token", ("ico-",), rf"[{_AN}]{{32}}"),
    ("mapbox-secret-token", ("sk.eyJ",), rf"[{_AN}_\-.]{{60,}}"),
    ("facebook-page-token", ("EAAM", "EAAC"), rf"[{_AN}]{{60,}}"),
    ("adobe-client-secret", ("p8e-",), rf"[{_AN}]{{32}}"),
    ("openshift-token", ("sha256~",), rf"[{_AN}_\-]{{43}}"),
    ("settlemint-token", ("sm_pat_", "sm_aat_", "sm_sat_"), rf"[{_AN}]{{16}}"),
    ("intra42-secret", ("s-s4t2ud-", "s-s4t2af-"), rf"[{_HEX}]{{64}}"),
    ("defined-networking-key", ("dnkey-",), rf"[{_AN}=_\-]{{26}}-[{_AN}=_\-]{{52}}"),
    # -- revision 12: less common clouds, SaaS, infrastructure join tokens, token formats, key files --
    ("scaleway-access-key", ("SCW",), r"[A-Z0-9]{17}"),
    ("yandex-cloud-api-key", ("AQVN",), rf"[{_AN}_\-]{{30,40}}"),
    ("yandex-cloud-iam-token", ("t1.9euelZ",), rf"[{_AN}_\-.]{{50,}}"),
    ("akamai-edgegrid-token", ("akab-",), r"[a-z0-9]{16}-[a-z0-9]{16}"),
    ("exoscale-key", ("EXO",), rf"[{_HEX}]{{24}}"),
    ("posthog-personal-key", ("phx_",), rf"[{_AN}]{{40,50}}"),   # not phc_: a project key is public (in every page)
    ("hubspot-private-app-token", ("pat-na1-", "pat-na2-", "pat-eu1-", "pat-ap1-"), _UUID),
    ("airtable-pat", ("pat",), rf"[{_AN}]{{14}}\.[{_HEX}]{{64}}"),
    ("clickup-token", ("pk_",), r"[0-9]{6,10}_[A-Z0-9]{32}"),
    ("salesforce-access-token", ("00D",), rf"[{_AN}]{{12,15}}![{_AN}._]{{80,}}"),
    ("salesforce-refresh-token", ("5Aep861",), rf"[{_AN}.]{{60,}}"),
    ("telnyx-key", ("KEY",), r"[0-9A-Z]{26}_[A-Za-z0-9]{22}"),
    ("onesignal-key", ("os_v2_app_",), r"[a-z2-7]{60,}"),
    ("launchdarkly-sdk-key", ("sdk-",), _UUID),
    ("k3s-token", ("K10",), rf"[{_HEX}]{{64}}::[a-z]+:[{_HEX}]{{32}}"),
    ("docker-swarm-join-token", ("SWMTKN-1-",), r"[a-z0-9]{50}-[a-z0-9]{25}"),
    ("cloudflare-tunnel-token", ("eyJhIjoi",), rf"[{_AN}+/]{{60,}}={{0,2}}"),
    ("nostr-private-key", ("nsec1",), r"[02-9ac-hj-np-z]{58}"),
    ("paseto", tuple(f"v{n}.{p}." for n in range(1, 5) for p in ("local", "public")), rf"[{_AN}_\-]{{40,}}(?:\.[{_AN}_\-]+)?"),
    ("minisign-secret-key", ("RWRTY0Iy",), rf"[{_AN}+/]{{100,}}={{0,2}}"),
    ("signify-secret-key", ("RWRCSwAAAA",), rf"[{_AN}+/]{{60,}}={{0,2}}"),
    ("django-insecure-secret-key", ("django-insecure-",), r"[a-z0-9!@#$%^&*(\-_=+)]{30,60}"),
)
#: Revision 13's formats (ADR 0030): their prefixes' requirements are written apart (``_MORE_13``).
_TABLE_13 = (
    # -- revision 13: a secret-scanning partner list's providers not above (a prefix of their own, or a prefix and a
    # shape: a prefix whose characters every id holds — "fc-", "pa-", "4b1d", "ion_", "aio_" — would send most strings
    # to this scan, ADR 0018; those are found by their key only) --
    ("gcs-hmac-access-id", ("GOOG1E",), r"[A-Z0-9]{50,64}"),
    ("baidu-access-key", ("ALTAK",), rf"[{_AN}]{{16,32}}"),
    ("volcengine-access-key", ("AKLT",), rf"[{_AN}_\-]{{32,60}}"),
    ("vercel-blob-token", ("vercel_blob_rw_",), rf"[{_AN}]{{12,20}}_[{_AN}]{{20,40}}"),
    ("openrouter-key", ("sk-or-v1-",), rf"[{_HEX}]{{64}}"),
    ("langfuse-secret-key", ("sk-lf-",), _UUID),
    ("nvidia-key", ("nvapi-",), rf"[{_AN}_\-]{{56,72}}"),
    ("cerebras-key", ("csk-",), r"[a-z0-9]{40,56}"),
    ("tavily-key", ("tvly-",), rf"(?:dev-|prod-)?[{_AN}]{{28,40}}"),
    ("jina-key", ("jina_",), rf"[{_AN}]{{50,70}}"),
    ("anyscale-key", ("esecret_",), r"[a-z0-9]{20,32}"),
    ("checkout-secret-key", ("sk_sbox_",), r"[a-z0-9]{24,32}"),
    ("paddle-key", ("pdl_live_apikey_", "pdl_sdbx_apikey_"), rf"[{_AN}_]{{40,60}}"),
    ("mercadopago-token", ("APP_USR-",), r"[0-9]{10,20}-[0-9]{6}-[0-9a-f]{32}-[0-9]{6,12}"),
    ("gocardless-token", ("live_", "sandbox_"), rf"(?=[{_AN}_\-]{{0,49}}[0-9])(?=[{_AN}_\-]{{0,49}}[A-Z])[{_AN}_\-]{{38,50}}"),
    ("midtrans-server-key", ("Mid-server-", "SB-Mid-server-"), rf"[{_AN}_\-]{{20,30}}"),
    ("xendit-key", ("xnd_production_", "xnd_development_"), rf"[{_AN}]{{40,70}}"),
    ("intercom-token", ("dG9rOj",), rf"[{_AN}+/_\-]{{40,}}={{0,2}}"),   # base64 of "tok:"
    ("twitter-bearer-token", ("AAAAAAAAAAAAAAAAAAAAA",), rf"[{_AN}%]{{40,}}"),
    ("facebook-access-token", ("EAAG", "EAAB", "EAAJ", "EAAI", "EAAQ"), rf"[{_AN}]{{80,}}"),
    ("instagram-token", ("IGAA",),   # not IGQV: its capitals have no prefilter bit (ADR 0030 r13)
     rf"[{_AN}_\-]{{80,}}"),
    ("pinterest-token", ("pina_",), rf"[{_AN}]{{40,}}"),
    ("trello-token", ("ATTA",), r"[0-9a-fA-F]{60,80}"),
    ("rootly-key", ("rootly_",), rf"[{_HEX}]{{64}}"),
    ("devcycle-server-key", ("dvc_server_",), _UUID + rf"_[{_HEX}]{{6,8}}"),
    ("unkey-root-key", ("unkey_",), rf"[{_AN}]{{16,40}}"),
    ("zuplo-key", ("zpka_",), rf"[{_HEX}]{{32}}_[{_HEX}]{{8}}"),
    ("aiven-password", ("AVNS_",), rf"[{_AN}_\-]{{18,32}}"),
    ("xata-key", ("xau_",), rf"[{_AN}]{{30,40}}"),
    ("cockroach-cloud-key", ("CCDB1_",), rf"[{_AN}]{{18,26}}_[{_AN}]{{30,45}}"),
    ("axiom-token", ("xaat-", "xapt-"), _UUID),
    ("honeybadger-key", ("hbp_",), rf"[{_AN}]{{30,40}}"),
    ("coralogix-key", ("cxtp_",), rf"[{_AN}]{{25,35}}"),
    ("stytch-secret", ("secret-live-", "secret-test-"), rf"[{_AN}_\-=]{{30,44}}"),
    ("onfido-token", ("api_live.", "api_sandbox."), rf"[{_AN}_\-]{{8,15}}\.[{_AN}_\-]{{30,40}}"),
    ("persona-key", ("persona_production_", "persona_sandbox_"), _UUID),
    ("samsara-token", ("samsara_api_",), rf"[{_AN}]{{25,40}}"),
)
FORMATS: tuple[Format, ...] = tuple(Format(n, p, b) for n, ps, b in _TABLE + _TABLE_13 for p in ps)
#: What some formats carry before their prefix, masked with them: (how many characters, the regex
#: they match). Terraform Cloud's ``<14 characters>.atlasv1.<body>``: the first part is found after it.
LEADS: dict[str, tuple[int, re.Pattern]] = {"hashicorp-tf-token": (15, re.compile(r"[A-Za-z0-9]{14}\."))}
#: What a key id carries after it, masked with it: its secret after a ':' (``SK<32 hex>:<secret>`` as
#: Twilio's basic credentials are written, ``AKIA...:<secret key>``), ADR 0030 revision 8.
TRAILS: dict[str, re.Pattern] = {"twilio-key": re.compile(r":[A-Za-z0-9]{32}(?![A-Za-z0-9])"),
                                 "aws-access-key-id": re.compile(r":[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")}


def trail_end(name: str, text: str, end: int) -> int:
    """The end of a token of format ``name`` ending at ``end``, with its trail (``TRAILS``) if one follows."""
    rx = TRAILS.get(name)
    t = rx.match(text, end) if rx is not None and text[end:end + 1] == ":" else None
    return end if t is None else t.end()


# -- the index: a token's head -> the formats that can start it ---------------------------------------
def head(text: str, at: int = 0) -> str:
    """The key a token starting at ``at`` is filed under: its first three characters, cut at the first
    that is not an ASCII letter or digit ("sk_live_..." -> "sk", "ghp_..." -> "ghp")."""
    out = text[at:at + 3]
    for i, c in enumerate(out):
        if not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9"):
            return out[:i]
    return out


def _keys(prefix: str, body: str) -> list[str]:
    """The heads a format's tokens have: a prefix of two letters or digits only ("SK") takes each
    character its body may start with."""
    key = head(prefix)
    if len(key) == 3 or len(key) < len(prefix):
        return [key]
    m = re.match(r"\[([^\]]+)\]", body)
    chars = set()
    spec = m.group(1) if m else ""
    i = 0
    while i < len(spec):   # expand a character class such as 0-9a-fA-F
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars.update(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            chars.add(spec[i])
            i += 1
    return [prefix + c for c in sorted(chars)]


def _index() -> tuple[dict[str, tuple[tuple[str, re.Pattern], ...]], dict[str, tuple[str, ...]]]:
    out: dict[str, list] = {}
    prefixes: dict[str, set[str]] = {}
    for f in FORMATS:
        rx = re.compile(re.escape(f.prefix) + f"(?:{f.body})(?![A-Za-z0-9])")
        for key in _keys(f.prefix, f.body):
            out.setdefault(key, []).append((f.name, rx))
            prefixes.setdefault(key, set()).add(f.prefix)
    # longer (more specific) prefixes first: sk-ant- before sk-
    return ({k: tuple(sorted(v, key=lambda nr: -len(nr[1].pattern))) for k, v in out.items()},
            {k: tuple(sorted(v)) for k, v in prefixes.items()})


#: The formats a head may start, and the prefixes filed under each head (a cheap substring test before any
#: regex); built in one pass (a pass per head took 46,000 calls of ``_keys`` at every start).
INDEX, PREFIXES_BY_HEAD = _index()
#: What a token of a prefix always holds beyond it, for the prefilter (which tests characters, not substrings): the
#: "s", "t", "." of Infisical's "st." are in every "request.id"; its token also holds a UUID's "-". An Airtable token
#: holds a ".", Telnyx's a "_", k3s' a ":", Salesforce's a "!".
_MORE = {"st.": "st.-", "pat": "pat.", "KEY": "KEY_", "K10": "K10:", "00D": "00D!"}   # revision 12's short prefixes too
#: Revision 13's prefixes less the capitals no earlier prefix names: the prefilter gives a bit of its own to the capitals
#: most requirements name (A, E, N, R, S; ``prefilter._ranked``), so a new prefix's I or T took R's bit and Gitlab's
#: ``GR1348941`` then read "any capital": 2,800 more of the bench's strings went to this scan. A capital without a bit
#: is "any capital" whether named or not. Twitter's app bearer tokens are URL-encoded (``%2F``, ``%3D``): ``%``.
_MORE_13 = {p: "".join(c for c in p if not ("A" <= c <= "Z") or c in "AENRS") or "\x01"
            for _, ps, _ in _TABLE_13 for p in ps} | {"AAAAAAAAAAAAAAAAAAAAA": "A%"}
#: Every prefix (for the prefilter's requirements: a token can only be found in a text holding one's characters).
PREFIXES: tuple[str, ...] = tuple(sorted({_MORE_13.get(f.prefix, _MORE.get(f.prefix, f.prefix)) for f in FORMATS}))
