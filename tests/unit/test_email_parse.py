"""The email parser on awkward real-world-shaped messages, the renderer, and a fuzz."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.parse import (
    clean_filename,
    parse_mail,
    split_quoted,
    thread_tokens,
)
from channels.email.render import (
    quote,
    references_for,
    render_reply,
    reply_subject,
    thread_address,
)
from hub.inbound import choose_thread
from hub.ports import ThreadMatch

CAP = 1000


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def parse(raw: bytes, **kw: object) -> object:
    return parse_mail(raw, max_attachment_bytes=CAP, fallback_domain="hub.test", **kw)  # type: ignore[arg-type]


def test_email_parse_multipart_alternative_prefers_plain_and_sanitises_html() -> None:
    raw = crlf(
        "From: Carol <carol@example.org>\nTo: support@example.com\nSubject: hi\n"
        "Message-ID: <a1@example.org>\nContent-Type: multipart/alternative; boundary=b\n\n"
        "--b\nContent-Type: text/plain; charset=utf-8\n\nplain words\n"
        "--b\nContent-Type: text/html\n\n"
        '<p onclick="x()">html <b>words</b><script>steal()</script>'
        '<a href="javascript:alert(1)">link</a><iframe src="https://evil"></iframe></p>\n'
        "--b--\n"
    )
    m = parse(raw)
    assert m.text == "plain words"
    assert "<b>words</b>" in m.html
    for bad in ("script", "onclick", "javascript:", "iframe", "steal"):
        assert bad not in m.html
    assert m.warnings == ()


def test_email_parse_html_only_gives_text_for_routing() -> None:
    raw = crlf(
        "From: a@example.org\nSubject: x\nMessage-ID: <h@x>\nContent-Type: text/html\n\n"
        "<html><head><style>p{}</style></head><body><p>First</p><p>Second &amp; third</p>"
        "</body></html>\n"
    )
    m = parse(raw)
    assert m.text == "First\n\nSecond & third"


def test_email_parse_nested_multipart_with_inline_image_and_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "Bob <bob@example.org>"
    msg["Subject"] = "photos"
    msg["Message-ID"] = "<n1@example.org>"
    msg.set_content("see the picture")
    msg.add_alternative('<p>see <img src="cid:pic1"></p>', subtype="html")
    msg.get_payload()[1].add_related(b"\x89PNG...", "image", "png", cid="<pic1>")
    msg.add_attachment(
        b"%PDF" * 10, maintype="application", subtype="pdf", filename="../../etc/passwd.pdf"
    )
    msg.add_attachment(b"x" * (CAP + 1), maintype="application", subtype="zip", filename="bomb.zip")
    m = parse(msg.as_bytes())
    assert m.text == "see the picture"
    by_name = {a.filename: a for a in m.attachments}
    assert {"passwd.pdf", "bomb.zip"} <= set(by_name)
    assert by_name["passwd.pdf"].data == b"%PDF" * 10
    inline = [a for a in m.attachments if a.inline]
    assert inline and inline[0].content_id == "pic1" and inline[0].data == b"\x89PNG..."
    bomb = by_name["bomb.zip"]
    assert bomb.data is None and bomb.size == CAP + 1  # listed, not kept
    assert any("bomb.zip" in w for w in m.warnings)


def test_email_parse_base64_and_quoted_printable_bodies() -> None:
    b64 = base64.b64encode("Grüße aus Köln".encode()).decode()
    raw = crlf(
        "From: x@example.org\nSubject: enc\nMessage-ID: <e@x>\n"
        "Content-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: base64\n\n{b64}\n"
        "--b\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "caf=E9 cr=E8me\n--b--\n"
    )
    m = parse(raw)
    assert "Grüße aus Köln" in m.text and "café crème" in m.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは"),
        ("=?GB2312?B?xOO6ww==?=", "你好"),
        ("=?utf-8?q?caf=C3=A9?= ordering", "café ordering"),
    ],
)
def test_email_parse_decodes_encoded_subjects(header: str, expected: str) -> None:
    m = parse(crlf(f"From: x@example.org\nSubject: {header}\nMessage-ID: <s@x>\n\nbody\n"))
    assert m.subject == expected


def test_email_parse_missing_message_id_gets_a_stable_one_and_a_warning() -> None:
    raw = crlf("From: x@example.org\nSubject: none\n\nbody\n")
    first, second = parse(raw), parse(raw)
    assert first.message_id == second.message_id and first.message_id.endswith("@hub.test")
    assert any("Message-ID" in w for w in first.warnings)


def test_email_parse_header_injection_never_reaches_our_headers() -> None:
    raw = crlf(
        "From: x@example.org\nSubject: =?utf-8?q?hello=0D=0ABcc=3A_victim=40example=2Ecom?=\n"
        "Message-ID: <i@x>\n\nbody\n"
    )
    m = parse(raw)
    assert "\r" not in m.subject and "\n" not in m.subject
    out = render_reply(
        mailbox="support@example.com",
        from_name="Alice\r\nBcc: x@evil",
        to_address=m.from_address,
        to_name="Carol\nBcc: y@evil",
        subject=reply_subject(m.subject, 7),
        body="ok",
        message_id="r@hub.test",
        in_reply_to=m.message_id,
        references=(),
        thread_id=7,
        date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    reparsed = BytesParser(policy=policy.default).parsebytes(out.as_bytes())
    assert reparsed["Bcc"] is None
    assert len(reparsed.get_all("To")) == 1


def test_email_parse_removes_nul_from_text_and_html_with_a_warning() -> None:
    # NUL is not allowed in mail (RFC 5322) and PostgreSQL text cannot hold it: a message
    # carrying one would be refused with 451 for ever instead of stored.
    raw = (
        b"From: carol@example.org\r\nTo: support@example.com\r\nSubject: a\x00b\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain\r\n\r\nbody \x00with nul\r\n"
        b"--zz\r\nContent-Type: text/html\r\n\r\n<p>html \x00with nul</p>\r\n--zz--\r\n"
    )
    m = parse(raw)
    assert m.text == "body with nul" and m.subject == "a b"
    assert m.html is not None and "html with nul" in m.html and "\x00" not in m.html
    assert any("NUL" in w for w in m.warnings)
    assert m.raw == raw  # the original stays for audit


def test_email_parse_malformed_message_is_kept_with_warnings() -> None:
    raw = b"From: \xff\xfe broken\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
    raw += b"--zz\r\nno end"
    m = parse(raw)
    assert m.raw == raw and m.warnings


def test_email_parse_auto_reply_and_bounce_detection() -> None:
    auto = parse(crlf("From: x@example.org\nAuto-Submitted: auto-replied\nSubject: away\n\nbrb\n"))
    assert auto.automated == "auto_reply"
    human = parse(crlf("From: x@example.org\nAuto-Submitted: no\nSubject: hi\n\nhello\n"))
    assert human.automated is None


def test_email_thread_tokens_from_address_and_subject_tag() -> None:
    assert thread_tokens(["support+c12@example.com", "x@y.z"], "Re: hi [#34]") == ((12,), 34)
    assert thread_tokens(["support@example.com"], "order #42") == ((), None)


def test_email_split_quoted_history() -> None:
    fresh, quoted = split_quoted("Thanks!\n\nOn Mon, 1 Jan, Alice wrote:\n> old text\n")
    assert fresh == "Thanks!" and quoted.startswith("On Mon") and "> old text" in quoted


def test_email_clean_filename() -> None:
    assert clean_filename("..\\..\\boot.ini", "text/plain", 1) == "boot.ini"
    assert clean_filename('a<b>:"c.txt', "text/plain", 1) == "a_b___c.txt"
    assert clean_filename(None, "image/png", 3) == "attachment-3.png"
    assert len(clean_filename("x" * 500 + ".pdf", "application/pdf", 1).encode()) <= 200


def test_email_render_reply_subject_address_references() -> None:
    assert reply_subject("RE: Aw: Order late [#5]", 5) == "Re: Order late [#5]"
    assert thread_address("support@example.com", 9) == "support+c9@example.com"
    assert references_for("b", ["a", "b"]) == ("a", "b")
    assert quote("one\n\ntwo", "Carol", datetime(2026, 1, 2, 3, 4, tzinfo=UTC)).splitlines() == [
        "On Fri, 02 Jan 2026 at 03:04 UTC, Carol wrote:",
        "> one",
        ">",
        "> two",
    ]


@pytest.mark.parametrize(
    ("matches", "sender", "automated", "expected"),
    [
        ([ThreadMatch(1, 10, "message_id", 0)], 10, False, 1),
        ([ThreadMatch(1, 10, "message_id", 0)], 11, False, None),  # someone else's thread
        ([ThreadMatch(1, 10, "message_id", 0)], None, True, 1),  # a bounce joins by id
        ([ThreadMatch(2, 10, "token", 0)], 11, False, 2),  # forwarded with the token
        ([ThreadMatch(1, 11, "message_id", 0), ThreadMatch(2, 10, "token", 0)], 10, False, 2),
        ([], 10, False, None),
    ],
)
def test_email_choose_thread(
    matches: list[ThreadMatch], sender: int | None, automated: bool, expected: int | None
) -> None:
    chosen = choose_thread(matches, sender, automated=automated)
    assert (chosen.thread_id if chosen else None) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                b"From: ",
                b"Subject: ",
                b"Content-Type: multipart/mixed; boundary=x\r\n",
                b"Content-Transfer-Encoding: base64\r\n",
                b"=?utf-8?b?",
                b"--x\r\n",
                b"\r\n",
                b"<a@b>",
                b"\xff\xfe",
                b"Message-ID: ",
                b"In-Reply-To: ",
                b"\x00",
            ]
        )
        | st.binary(max_size=40),
        max_size=30,
    )
)
def test_email_parse_never_raises_and_keeps_the_raw_bytes(chunks: list[bytes]) -> None:
    raw = b"".join(chunks)
    m = parse_mail(raw, max_attachment_bytes=100, fallback_domain="hub.test")
    assert m.raw == raw
    assert m.message_id
    assert "\n" not in m.subject and "\r" not in m.subject
    stored = (m.subject, m.text, m.html or "", m.from_name, m.bounce_reason)
    assert not any("\x00" in s for s in (*stored, *(a.filename for a in m.attachments)))
