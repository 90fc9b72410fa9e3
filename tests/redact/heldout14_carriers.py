"""The fourteenth corpus' carriers (``heldout_style14``): a person's message, in plain text with markdown marks, as a
chat, a tracker or a mail system stores, exports or sends it. Each carrier takes ``(message, d)`` and returns
``(body, extra)``: the text ben sees and any written form of the secret the carrier made that is not found by looking
(the characters of a base64 body that only the secret's bytes decide). Chat: a Slack export's JSON (mrkdwn escaping,
links in angle brackets, the text again in ``blocks``), a message copied out of Slack's client, Slack's interactive
``payload=`` (URL-encoded JSON), a Teams message from Graph (HTML), Discord's gateway ``MESSAGE_CREATE``, an IRC or
Matrix log. Trackers: a Jira comment in wiki markup in a webhook, a Jira comment in the Atlassian document format, a
GitHub issue comment (``\\r\\n``), a Zendesk comment (``body`` and ``html_body``), ServiceNow work notes, a Confluence
page's storage format. Mail: a reply quoting the original, hard-wrapped at 72 columns under ``> `` (a long token split
across lines), a ``text/plain`` part in quoted-printable (``=3D``, soft breaks at 76), ``multipart/alternative`` with an
HTML part in quoted-printable, a ``text/plain`` part in base64, Outlook's forwarded block (``\\r\\n``), ``format=flowed``.
Mails carry their own look-alikes: DKIM and ARC signatures, ``X-Google-Smtp-Source``, ``X-Gm-Message-State``,
``Thread-Index``, MIME boundaries, and sometimes an inline PNG in base64. Addresses are left out (``Name <>``): ben
masks an e-mail address by policy.
"""

from __future__ import annotations

import base64
import html
import json
import quopri
import re
import textwrap
from urllib.parse import quote_plus

from tests.redact.heldout14_values import ALNUM, B64, PEOPLE, Draw

FENCE = re.compile(r"```\n(.*?)```", re.S)
CODE = re.compile(r"`([^`\n]+)`")
URL = re.compile(r"https?://[^\s`<>]+")
STAMP = "2026-12-07T09:12:44"


def blocks(msg: str) -> list[tuple[str, str]]:
    """The message as ("text", line) and ("code", block) items, in order."""
    out, at = [], 0
    for m in FENCE.finditer(msg):
        out += [("text", ln) for ln in msg[at:m.start()].split("\n") if ln]
        out.append(("code", m.group(1).rstrip("\n")))
        at = m.end()
    return out + [("text", ln) for ln in msg[at:].split("\n") if ln]


def _ts(d: Draw) -> str:
    return f"{1796610067 + d.randrange(0, 10 ** 5)}.{d.randrange(100000, 999999)}"


def _ms(d: Draw) -> int:
    """A time in milliseconds near the corpus' date (Teams' ids and etags)."""
    return 1796610067000 + d.randrange(0, 10 ** 8)


def _snowflake(d: Draw) -> str:
    """A Discord id: milliseconds since 2015 shifted by 22 bits, and 22 bits of worker, process and counter."""
    return str((_ms(d) - 1420070400000) << 22 | d.randrange(1 << 22))


def _slack_id(d: Draw, head: str) -> str:
    return head + d.s("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10)


# -- chat ---------------------------------------------------------------------------------------------------------------
def _mrkdwn(msg: str) -> str:
    s = msg.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return URL.sub(lambda m: f"<{m.group(0)}>", s)


def slack_export(msg, d):
    text = _mrkdwn(msg)
    elems = []
    for kind, t in blocks(msg):
        if kind == "code":
            elems.append({"type": "rich_text_preformatted", "elements": [{"type": "text", "text": t}]})
        else:
            parts = re.split(r"(`[^`\n]+`)", t)
            els = [{"type": "text", "text": p[1:-1], "style": {"code": True}} if p.startswith("`") and p.endswith("`") and len(p) > 1
                   else {"type": "text", "text": p} for p in parts if p]
            elems.append({"type": "rich_text_section", "elements": els + [{"type": "text", "text": "\n"}]})
    doc = {"client_msg_id": d.uuid(), "type": "message", "text": text, "user": _slack_id(d, "U0"), "ts": _ts(d),
           "blocks": [{"type": "rich_text", "block_id": d.s(ALNUM, 5), "elements": elems}], "team": _slack_id(d, "T0"),
           "user_profile": {"real_name": d.choice(PEOPLE), "display_name": "", "avatar_hash": d.hex(12)}}
    return json.dumps(doc, ensure_ascii=False), []


def slack_copy(msg, d):
    a, b = d.sample(PEOPLE, 2)
    return f"{a}  9:{d.randrange(10, 59)} AM\n{msg}\n{b}  9:{d.randrange(10, 59)} AM\nthx, trying now :+1:", []


def slack_interactive(msg, d):
    payload = {"type": "message_action", "callback_id": "file_ticket", "trigger_id": f"{d.randrange(10 ** 12)}.{d.randrange(10 ** 12)}."
               + d.hex(32), "team": {"id": _slack_id(d, "T0"), "domain": "acme"}, "channel": {"id": _slack_id(d, "C0"), "name": "ops"},
               "message": {"type": "message", "user": _slack_id(d, "U0"), "ts": _ts(d), "text": _mrkdwn(msg)}}
    return "POST /slack/actions HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\npayload=" + quote_plus(
        json.dumps(payload, separators=(",", ":"))), []


def _html(msg: str) -> str:
    out = []
    for kind, t in blocks(msg):
        if kind == "code":
            out.append(f"<pre><code>{html.escape(t, quote=False)}</code></pre>")
        else:
            e = html.escape(t, quote=False)
            out.append("<p>" + CODE.sub(lambda m: f"<code>{m.group(1)}</code>", e) + "</p>")
    return "".join(out)


def teams_graph(msg, d):
    ms = _ms(d)
    doc = {"@odata.type": "#microsoft.graph.chatMessage", "id": str(ms), "replyToId": None, "etag": str(ms), "messageType": "message", "createdDateTime": STAMP + ".902Z",
           "from": {"user": {"id": d.uuid(), "displayName": d.choice(PEOPLE), "tenantId": d.uuid()}},
           "body": {"contentType": "html", "content": _html(msg)}, "attachments": [], "importance": "normal"}
    return json.dumps(doc), []


def discord_gateway(msg, d):
    sf = _snowflake(d)
    doc = {"t": "MESSAGE_CREATE", "s": d.randrange(2, 900), "op": 0, "d": {
        "type": 0, "tts": False, "timestamp": STAMP + ".902000+00:00", "nonce": _snowflake(d),
        "id": sf, "content": msg, "channel_id": _snowflake(d), "guild_id": _snowflake(d),
        "author": {"username": d.choice(PEOPLE).split()[0].lower(), "id": _snowflake(d),
                   "discriminator": "0", "avatar": d.hex(32)}, "mentions": [], "attachments": []}}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False), []


def irc_log(msg, d):
    nick = d.choice(PEOPLE).split()[0].lower()
    return "\n".join(f"[09:12:{i + 10:02d}] <{nick}> {ln}" for i, ln in enumerate(msg.split("\n")) if ln) + \
        "\n[09:13:02] <bob> ok", []


# -- trackers -----------------------------------------------------------------------------------------------------------
def _wiki(msg: str, d: Draw) -> str:
    out = []
    for kind, t in blocks(msg):
        if kind == "code":
            tag = d.choice(["code", "code:bash", "noformat"])
            out.append("{" + tag + "}\n" + t + "\n" + ("{noformat}" if tag == "noformat" else "{code}"))
        else:
            t = re.sub(r"^> ", "bq. ", t)
            out.append(CODE.sub(lambda m: "{{" + m.group(1) + "}}", t))
    return "\n".join(out)


def jira_webhook(msg, d):
    key = f"OPS-{d.randrange(1000, 9999)}"
    doc = {"timestamp": 1796610067902, "webhookEvent": "comment_created", "comment": {
        "self": f"https://acme.atlassian.net/rest/api/2/issue/{d.randrange(10 ** 4, 10 ** 5)}/comment/{d.randrange(10 ** 5, 10 ** 6)}",
        "id": str(d.randrange(10 ** 5, 10 ** 6)), "author": {"accountId": "712020:" + d.uuid(), "displayName": d.choice(PEOPLE)},
        "body": _wiki(msg, d), "created": STAMP + ".902+0000"}, "issue": {"key": key, "fields": {"summary": "Access for new contractor"}}}
    return json.dumps(doc, ensure_ascii=False), []


def _adf_inline(t: str) -> list[dict]:
    out = []
    for p in re.split(r"(`[^`\n]+`)", t):
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            out.append({"type": "text", "text": p[1:-1], "marks": [{"type": "code"}]})
        elif p:
            out.append({"type": "text", "text": p})
    return out


def jira_adf(msg, d):
    content = []
    for kind, t in blocks(msg):
        if kind == "code":
            content.append({"type": "codeBlock", "attrs": {"language": "bash"}, "content": [{"type": "text", "text": t}]})
        elif t.startswith("> "):
            content.append({"type": "blockquote", "content": [{"type": "paragraph", "content": _adf_inline(t[2:])}]})
        else:
            content.append({"type": "paragraph", "content": _adf_inline(t)})
    doc = {"id": str(d.randrange(10 ** 5, 10 ** 6)), "author": {"accountId": "712020:" + d.uuid()},
           "body": {"type": "doc", "version": 1, "content": content}, "created": STAMP + ".902+0000", "jsdPublic": True}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False), []


def github_comment(msg, d):
    doc = {"action": "created", "issue": {"number": d.randrange(100, 9999), "title": "Staging login broken", "state": "open"},
           "comment": {"id": d.randrange(10 ** 9, 10 ** 10), "node_id": "IC_kwDO" + d.s(ALNUM + "-_", 20),
                       "user": {"login": d.choice(PEOPLE).split()[0].lower(), "id": d.randrange(10 ** 6, 10 ** 8)},
                       "body": msg.replace("\n", "\r\n"), "created_at": STAMP + "Z", "author_association": "MEMBER"},
           "repository": {"full_name": "acme/infra", "private": True}}
    return json.dumps(doc, ensure_ascii=False), []


def zendesk_comment(msg, d):
    plain = FENCE.sub(lambda m: m.group(1), msg).replace("`", "")
    doc = {"ticket": {"id": d.randrange(10 ** 4, 10 ** 6), "subject": "Cannot log in to the portal", "status": "open",
                      "comment": {"id": d.randrange(10 ** 10, 10 ** 11), "type": "Comment", "public": False, "body": plain,
                                  "html_body": '<div class="zd-comment" dir="auto">' + _html(msg) + "</div>",
                                  "author_id": d.randrange(10 ** 10, 10 ** 11), "created_at": STAMP + "Z"}}}
    return json.dumps(doc, ensure_ascii=False), []


def servicenow_notes(msg, d):
    plain = FENCE.sub(lambda m: m.group(1), msg)
    return (f"INC{d.randrange(10 ** 6, 10 ** 7)} work_notes:\n2026-12-07 09:12:44 - {d.choice(PEOPLE)} (Work notes)\n{plain}\n\n"
            f"2026-12-07 08:55:10 - {d.choice(PEOPLE)} (Additional comments)\nUser cannot reach the portal since the SSO change."), []


def confluence_storage(msg, d):
    out = []
    for kind, t in blocks(msg):
        if kind == "code":
            out.append(f'<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="{d.uuid()}"><ac:parameter '
                       f'ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[{t}]]></ac:plain-text-body>'
                       "</ac:structured-macro>")
        else:
            out.append("<p>" + CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(t, quote=False)) + "</p>")
    return "".join(out), []


# -- mail ---------------------------------------------------------------------------------------------------------------
def _fold(s: str) -> str:
    return "\n\t".join(s[i:i + 72] for i in range(0, len(s), 72))


def _headers(d: Draw, ct: str, cte: str, subject: str) -> list[str]:
    a, b = d.sample(PEOPLE, 2)
    h = [f"Received: by 2002:a05:{d.hex(4)}:{d.hex(4)}:b0:{d.hex(3)}:{d.hex(4)} with SMTP id {d.s('abcdefghijklmnopqrstuvwxyz0123456789', 10)}"
         f"csp{d.randrange(10 ** 5, 10 ** 6)}{d.s('abcdefghij', 3)};", "        Mon, 7 Dec 2026 01:12:44 -0800 (PST)"]
    if d.random() < 0.7:
        h += ["DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.io; s=google; t=1796610067; x=1797214867; "
              "darn=acme.io;", "        h=to:subject:message-id:date:from:in-reply-to:references:mime-version",
              "         :from:to:cc:subject:date:message-id:reply-to;",
              f"        bh={base64.b64encode(d.randbytes(32)).decode()};",
              "        b=" + _fold(base64.b64encode(d.randbytes(256)).decode()).replace("\n\t", "\n         ")]
    if d.random() < 0.5:
        h += [f"X-Google-Smtp-Source: AGHT+I{d.s(ALNUM + '+/', 74)}=", f"X-Gm-Message-State: AOJu0Y{d.s(ALNUM + '+/', 50)}",
              "\t" + d.s(ALNUM + "+/", 60) + "=="]
    if d.random() < 0.4:
        h += [f"Thread-Topic: {subject}", f"Thread-Index: AQH{d.s(ALNUM + '+/', 25)}", f"X-MS-Exchange-Organization-Network-Message-Id: "
              f"{d.uuid()}", f"X-MS-Exchange-CrossTenant-Id: {d.uuid()}"]
    return h + [f"From: {a} <>", f"To: {b} <>", f"Subject: {subject}", "Date: Mon, 7 Dec 2026 09:12:44 +0000", "MIME-Version: 1.0",
                f"Content-Type: {ct}", *([f"Content-Transfer-Encoding: {cte}"] if cte else [])]


def _plain(msg: str) -> str:
    return FENCE.sub(lambda m: m.group(1), msg)


def _wrap(text: str, width: int = 72, prefix: str = "") -> str:
    out = []
    for ln in text.split("\n"):
        out += [prefix + w for w in (textwrap.wrap(ln, width - len(prefix), break_long_words=True, break_on_hyphens=False) or [""])]
    return "\n".join(out)


def mail_reply(msg, d):
    a = d.choice(PEOPLE)
    quoted = d.random() < 0.6
    top = "Thanks, that worked. I'll rotate it after the migration." if quoted else _wrap(_plain(msg))
    orig = _wrap(_plain(msg), 72, "> ") if quoted else _wrap("> Could you send me the access details for the staging "
                                                                "environment? The old ones stopped working.", 72, "> ")
    body = f"{top}\n\nOn Mon, Dec 7, 2026 at 9:02 AM {a} <> wrote:\n{orig}\n"
    return "\n".join(_headers(d, 'text/plain; charset="UTF-8"', "7bit", "Re: staging access") + ["", body]), []


def _boundary(d: Draw) -> str:
    return "000000000000" + d.hex(12)


def _png(d: Draw) -> str:
    raw = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + d.randbytes(d.randrange(300, 700))
    return base64.encodebytes(raw).decode().rstrip("\n")


def mail_qp(msg, d):
    qp = quopri.encodestring(_plain(msg).encode()).decode()
    head = _headers(d, 'text/plain; charset="UTF-8"', "quoted-printable", "access details")
    return "\n".join(head + ["", qp]), []


def mail_html_qp(msg, d):
    bnd = _boundary(d)
    text = quopri.encodestring(_plain(msg).encode()).decode()
    page = '<div dir=3D"ltr">' + quopri.encodestring(_html(msg).encode()).decode() + "</div>"
    parts = [f"--{bnd}", 'Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable", "", text,
             f"--{bnd}", 'Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable", "", page]
    if d.random() < 0.5:
        cid = f"ii_{d.s('abcdefghijklmnopqrstuvwxyz0123456789', 11)}"
        parts += [f"--{bnd}", 'Content-Type: image/png; name="image.png"', "Content-Disposition: inline; filename=\"image.png\"",
                  "Content-Transfer-Encoding: base64", f"Content-ID: <{cid}>", f"X-Attachment-Id: {cid}", "", _png(d)]
    head = _headers(d, f'multipart/alternative; boundary="{bnd}"', "", "Re: key for the partner API")
    return "\n".join(head + ["", *parts, f"--{bnd}--", ""]), []


def mail_b64(msg, d):
    text = _plain(msg) + "\n\n-- \nAnn Example | Platform team\n"
    enc = base64.b64encode(text.encode()).decode()
    body = "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))
    head = _headers(d, 'text/plain; charset="utf-8"', "base64", "RE: credentials")
    return "\n".join(head + ["", body]), [text]


def outlook_forward(msg, d):
    a, b = d.sample(PEOPLE, 2)
    text = (f"FYI, see below.\n\n________________________________\nFrom: {a} <>\nSent: Monday, December 7, 2026 9:02 AM\nTo: {b} <>\n"
            f"Subject: credentials for the vendor portal\n\n{_plain(msg)}\n\nRegards,\n{a.split()[0]}\n")
    head = _headers(d, 'text/plain; charset="us-ascii"', "7bit", "FW: credentials for the vendor portal")
    return "\r\n".join(head + [""] + text.split("\n")), []


def mail_flowed(msg, d):
    out = []
    for ln in _plain(msg).split("\n"):
        ws = textwrap.wrap(ln, 72, break_long_words=False, break_on_hyphens=False) or [""]
        out += [w + " " for w in ws[:-1]] + [ws[-1]]
    head = _headers(d, 'text/plain; charset="UTF-8"; format=flowed', "7bit", "Re: VPN")
    return "\n".join(head + ["", *out]), []


CARRIERS = {
    "slack_export": slack_export, "slack_copy": slack_copy, "slack_interactive": slack_interactive, "teams_graph": teams_graph,
    "discord_gateway": discord_gateway, "irc_log": irc_log, "jira_webhook": jira_webhook, "jira_adf": jira_adf,
    "github_comment": github_comment, "zendesk_comment": zendesk_comment, "servicenow_notes": servicenow_notes,
    "confluence_storage": confluence_storage, "mail_reply": mail_reply, "mail_qp": mail_qp, "mail_html_qp": mail_html_qp,
    "mail_b64": mail_b64, "outlook_forward": outlook_forward, "mail_flowed": mail_flowed,
}
__all__ = ["B64", "CARRIERS", "blocks"]
