"""The MIME parser under hostile input: whatever the bytes, ``parse_mail`` returns a mail the
hub can store (never raises), with one-line headers within their column sizes, and HTML that
kept no script."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings

from channels.email.parse import parse_mail
from tests.mime_strategies import MAIL_BYTES

CASES = 200
ACTIVE_HTML = re.compile(r"<script|<iframe|<object|<embed|\son\w+\s*=|javascript:", re.I)


@settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=MAIL_BYTES)
def test_parse_mail_hostile_bytes_give_a_storable_mail(raw: bytes) -> None:
    parsed = parse_mail(raw, max_attachment_bytes=100, fallback_domain="hub.example.com")
    assert parsed.message_id and len(parsed.message_id) <= 998
    assert len(parsed.subject) <= 998
    for value in (parsed.subject, parsed.from_name, parsed.from_address, parsed.reply_address):
        assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert len(parsed.from_address) <= 320 and len(parsed.from_name) <= 200
    assert isinstance(parsed.text, str) and "\x00" not in parsed.text
    assert parsed.html is None or not ACTIVE_HTML.search(parsed.html)
    for attachment in parsed.attachments:
        assert attachment.filename and len(attachment.filename) <= 255
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.data is None or len(attachment.data) == attachment.size <= 100
    assert parsed.raw == raw
