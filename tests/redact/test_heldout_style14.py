"""The fourteenth held-out-style corpus (``tests/redact/heldout_style14.py``, ADR 0030 revision 18: a secret as a person
pastes it into a chat, a ticket or an e-mail), one test per rule it led to (each with the look-alikes the rule must
leave), and long adversarial inputs for the new patterns, redacted in a subprocess (a hang fails by its timeout).

Seeds 141-146 were used while the rules were fixed; the misses of seeds 147 and 148 were never read. The corpus tests
run a slice of each seed (the first five secrets of every family and one round of look-alikes, ~1-1.5 s of CPU): a whole
seed costs ~12 s, over the suite's budget.
"""

from __future__ import annotations

import base64
import json
import quopri
import random
import subprocess
import sys

import pytest

from ben.redact.decode import decoded
from ben.redact.detectors import SECRET_RULES
from tests.redact.heldout_style14 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact

PW = "Kq81Xt5Pw2Lm!z"
TOK = "f3Kq9ZpL2vX8rT4mN7bW1cY6"
AWS = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KEY88 = base64.b64encode(random.Random(18).randbytes(64)).decode()


# -- the corpus: a slice of the reserved seeds ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style14_recall_on_a_slice_of_the_reserved_seeds(seed: int) -> None:
    fig = run(generate(seed, per_family=5, benign_rounds=1))
    assert fig.total["family:benign"] == 24 and sum(1 for k in fig.total if k.startswith("family:")) == 6
    # the whole seeds, revision 17 -> 18: ADR 0030 revision 18
    assert fig.recall() >= 0.95, fig.recall()
    assert len(fig.damaged) <= 1, len(fig.damaged)


# -- quoted-printable ---------------------------------------------------------------------------------------------
def _qp(text: str) -> str:
    return quopri.encodestring(text.encode()).decode()


@pytest.mark.parametrize("plain", [
    f"can you connect with mongodb+srv://svc_api:{PW}xY7aB9cD0eF@cluster0.abcde.mongodb.net/app?retryWrites=true ? it times "
    "out for me",
    f"jdbc:sqlserver://10.0.4.21:1433;databaseName=shop;user=app;password={PW};encrypt=true",
    f"la contraseña de VPN es {PW}",
    f"DefaultEndpointsProtocol=https;AccountName=acmeprodlogs;AccountKey={KEY88};EndpointSuffix=core.windows.net",
])
def test_a_secret_in_a_quoted_printable_part_is_masked(plain: str) -> None:
    body = _qp(plain)
    alone = (body,) if "=\n" in body else ()   # a part without its headers: read as one when it has a soft break
    for text in alone + ("Content-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + body,):
        out = redact(text)
        assert PW[:8] not in out and PW[-8:] not in out and KEY88[:60] not in out and KEY88[-30:] not in out, (text, out)


def test_quoted_printable_is_undone_only_where_a_mail_says_so_or_writes_its_escapes() -> None:
    text = "x=3D1 ends with a soft break=\nand goes on"
    d, starts = decoded(text)
    assert d == "x=1 ends with a soft breakand goes on" and text[starts[d.index("and")]:].startswith("and")
    assert decoded("aGVsbG8gd29ybGQ=\nc2Vjb25k") is None   # base64's padding at a line's end is no soft break
    assert decoded("size=3D=\nnext") is not None and decoded("size=3D and more") is None


@pytest.mark.parametrize("text", [
    "Content-Transfer-Encoding: quoted-printable\n\nDB_PASSWORD=3D${DB_PASSWORD}\nAPI_TOKEN=3D{{ secrets.API_TOKEN }}",
    "Content-Transfer-Encoding: quoted-printable\n\n<div dir=3D\"ltr\"><p>the password reset link expired =E2=80=94 can yo=\nu "
    "send a new one?</p></div>",
])
def test_quoted_printable_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- sentences ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    f"pw is {PW} (rotating it friday)", f"Your temporary password is: {PW}\nYou will be asked to change it.",
    f"try logging in as deploy / {PW}", f"I signed in as admin / {PW} and it worked", f"@eero the VPN password is {PW} - shh",
])
def test_a_password_in_a_persons_sentence_is_masked(text: str) -> None:
    assert PW not in redact(text)


@pytest.mark.parametrize("text", [
    "the pw is required", "password is: required", "the pw is stored in 1Password",
    '{"issue": {"title": "Staging login broken"}, "comment": {"node_id": "IC_kwDOPyBMHqOfSPN51R7m9wm-", "user": {"login": "ann"}}}',
    '{"user": {"login": "ann", "node_id": "MDQ6VXNlcjE4NzY1NDM="}}',
    "Thread-Index: AQHZ1b2c3d4e5f6g7h8i9j0kLmNoPq==\nThread-Topic: RE: credentials\nFrom: Ann Example <>",
])
def test_sentence_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- rich text: runs, marks and inline tags -----------------------------------------------------------------------
def _slack(*runs: tuple[str, bool]) -> str:
    els = [{"type": "text", "text": t, **({"style": {"code": True}} if code else {})} for t, code in runs]
    return json.dumps({"type": "message", "text": "see below", "blocks": [{"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": els}]}]})


def _adf(*runs: tuple[str, bool]) -> str:
    content = [{"type": "text", "text": t, **({"marks": [{"type": "code"}]} if code else {})} for t, code in runs]
    return json.dumps({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]}},
                      separators=(",", ":"))


@pytest.mark.parametrize("text", [
    _slack(("password: ", False), (PW, True)), _adf(("the VPN password is ", False), (PW, True)),
    _adf(("creds for staging: user app / ", False), (PW, True)),
    f"<p>password: <code>{PW}</code></p>", f'<div class="zd-comment"><p>pw is <b>{PW}</b></p></div>',
    f'<p>API_TOKEN=<span style="font-family:monospace">{PW}</span></p>',
])
def test_a_secret_in_a_rich_texts_runs_or_tags_is_masked(text: str) -> None:
    assert PW not in redact(text)


def test_the_message_detector_alone_reads_runs_and_tags() -> None:
    det = SECRET_RULES["message"]
    for text in (_slack(("password: ", False), (PW, True)), f"<p>password: <code>{PW}</code></p>"):
        assert det.hint(text) and any(text[a:b] == PW for a, b in det.spans(text)), text
    apart = json.dumps({"text": "the VPN password is", "user": "U0ABCDEF12", "ts": "1796610067.000100", "x": {"text": PW}})
    assert list(det.spans(apart)) == []   # runs of two fields are not one paragraph


@pytest.mark.parametrize("text", [
    _slack(("the password reset link expired, ", False), ("v4.2.1", True)),
    _adf(("token ", False), ("OPS-4211", True), (" is the ticket", False)),
    "<p>password: <code>********</code></p>", "<p>the <b>password</b> policy: <em>14+ characters</em></p>",
])
def test_rich_text_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- tables ---------------------------------------------------------------------------------------------------------
def test_a_markdown_tables_secret_column_is_masked() -> None:
    text = f"| system | user | password |\n|---|---|---|\n| jenkins | ann.example | {PW} |\n| vpn | bob | {TOK} |\n\nthanks"
    out = redact(text)
    assert PW not in out and TOK not in out and "ann.example" in out and "jenkins" in out, out
    prefixed = "\n".join(f"[09:12:1{i}] <ann> {ln}" for i, ln in enumerate(text.split("\n")[:3]))
    assert PW not in redact(prefixed)


@pytest.mark.parametrize("text", [
    "| system | user | password |\n|---|---|---|\n| jenkins | ann | ******** |\n| vpn | bob | <redacted> |",
    "| service | token ttl | rotated |\n|---|---|---|\n| api | 30d | 2026-12-01 |",
    "| system | owner |\n| --- | --- |\n| jenkins | Kq81Xt5Pw2Lm-z |",
])
def test_table_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


# -- an access key id and its secret ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    f"access key AKIAJKLMNPQRSTUVWXYZ\nsecret {AWS}", f"key id: AKIAJKLMNPQRSTUVWXYZ / secret: {AWS}",
    "AccessKey ID LTAI5tAbcdefGhijKlmnOpqrst\nAccessKey Secret qhST7dEUM91E6whJkJ7cy2Uduq4jUQ",
    "ak: LTAI5tAbcdefGhijKlmnOpqrst, sk: KM1iwXyu45gwrvZtYjVHBHB3uIZVV3",
])
def test_the_secret_pasted_after_an_access_key_id_is_masked(text: str) -> None:
    out = redact(text)
    assert AWS not in out and "qhST7dEUM91E6whJ" not in out and "KM1iwXyu45gwrvZt" not in out, out


def test_what_follows_an_access_key_id_that_is_no_secret_stays() -> None:
    sha, path = "3f9a2c1e8b7d6f5a4e3d2c1b0a9f8e7d6c5b4a39", "arn/aws/iam/123456789012/role/deploy"
    out = redact(f"the leaked key AKIAJKLMNPQRSTUVWXYZ was disabled in commit {sha}, see {path}")
    assert sha in out and path in out, out


# -- a mail's own signatures and hashes ---------------------------------------------------------------------------
def test_a_mails_signatures_and_trace_headers_stay() -> None:
    text = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.io; s=google; t=1796610067;\n"
            "        bh=IagOw0elrM/9p8s0Xq3Lk5ZbT7mQ2wR8yH1nC4vJ6eA=;\n"
            "        b=rAjzRIqrz39kkvKqMMzqCFtqJWdATvR/aTW+b6OrwHke22cnN0b5Xq3Lk5ZbT7mQ2wR8yH1nC4vJ6eAaTW+b6OrwH\n"
            "         Ze22cnN0b5Xq3Lk5ZbT7mQ2wR8yH1nC4vJ6eAaTW+b6OrwHke22cnN0b5Xq3Lk5ZbT7mQ2wR8==\n"
            "X-Gm-Message-State: AOJu0YVJ9vzObQIHligbZnSlPGyVJMM4W5GUivl48A+croQRwCLZ77EPu\n"
            "\tWXdskfMrwUOZe5/yp4W5GUivl48A+croQRwCLZ77EPuBW42tWXdskfMrwUOZe5/yp==\n"
            "Thread-Topic: RE: credentials\nSubject: RE: credentials\n\nsee the runbook")
    assert redact(text) == text
    assert AWS not in redact(text + f"\n\naccess key AKIAJKLMNPQRSTUVWXYZ\nsecret {AWS}")


# -- long inputs ------------------------------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ['"text": "a' + '\\"' * 3000, '{"text": "a"}' + ', {"type": "text", "text": "b"' * 1500, '"text": "x" ' + ' [' * 4000,
         "<code " + "a" * 6000, "</span>" * 2000 + "password: x", "| a |" * 3000, ("| password |\n|---|\n" + "| x |\n" * 1500),
         "|" + " ---|" * 4000, "AKIA" * 3000, "AKIAJKLMNPQRSTUVWXYZ " + "Ab1/" * 3000, "=3D" * 4000 + "=\n",
         "quoted-printable " + "=C3" * 4000, "=\n" * 6000 + "=3D", "DKIM-Signature: a\n" + " b\n" * 6000,
         "pw is: " * 2000, "logging in " + "Ab-Cd:" * 2000, '{"login": "' * 2000]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "done", out.stderr
