"""The pure parts of the SMS channel: numbers, keywords, webhook forms, reply limits, status
order, and the TwiML and webhook URLs built from them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from channels.twilio.client import RedirectingHttpClient
from channels.twilio.provisioning import webhook_urls
from channels.twilio.sms import (
    MAX_REPLY_CHARS,
    Keyword,
    check_reply,
    error_text,
    keyword_of,
    parse_inbound,
    parse_status,
    status_advances,
    statuses_before,
)
from channels.twilio.webhook import twiml
from hub.config import TwilioNumberSettings
from hub.errors import InvalidInput
from hub.phone import region_of, sms_numbers, sms_thread_key, to_e164

SID = "SM" + "a" * 32


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550100", None, "+14155550100"),
        ("+1 (415) 555-0100", None, "+14155550100"),
        (" +44 7700 900123 ", None, "+447700900123"),
        ("07700 900123", "GB", "+447700900123"),  # written as dialled in the UK
        ("(415) 555-0100", "US", "+14155550100"),
        ("+34 612 34 56 78", None, "+34612345678"),
    ],
)
def test_phone_to_e164_normalises(raw: str, region: str | None, expected: str) -> None:
    assert to_e164(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "hello", "12", "07700 900123", "+1415555010099", 415])
def test_phone_to_e164_refuses_what_is_not_a_number(raw: object) -> None:
    with pytest.raises(InvalidInput, match="From"):
        to_e164(raw, field="From")


def test_phone_region_and_sms_thread_key_round_trip() -> None:
    assert region_of("+447700900123") == "GB"
    assert region_of("+14155550100") == "US"
    key = sms_thread_key("+14155550100", "+447700900123")
    assert sms_numbers(key) == ("+14155550100", "+447700900123")
    assert sms_numbers("visitor-token") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.STOP),
        ("stop", Keyword.STOP),
        ("  Stop.  ", Keyword.STOP),
        ("STOPALL", Keyword.STOP),
        ("unsubscribe", Keyword.STOP),
        ("Cancel!", Keyword.STOP),
        ("END", Keyword.STOP),
        ("quit", Keyword.STOP),
        ("START", Keyword.START),
        ("yes", Keyword.START),
        ("Unstop", Keyword.START),
        ("HELP", Keyword.HELP),
        ("info", Keyword.HELP),
        ("please stop", None),
        ("stop it", None),
        ("STOPP", None),
        ("", None),
        ("yes please", None),
    ],
)
def test_sms_keyword_only_when_the_message_is_the_word(body: str, expected: Keyword | None) -> None:
    assert keyword_of(body) is expected


def form(**extra: str) -> dict[str, str]:
    return {
        "MessageSid": SID,
        "From": "+14155550123",
        "To": "+14155550100",
        "Body": "Hello",
        "NumMedia": "0",
        **extra,
    }


def test_sms_parse_inbound_reads_twilio_form() -> None:
    text = parse_inbound(form(From="(415) 555-0123"))  # national form: the To number's country
    assert text.message_sid == SID
    assert text.customer_number == "+14155550123"
    assert text.hub_number == "+14155550100"
    assert text.body == "Hello"
    assert text.media == ()
    assert text.keyword is None
    assert parse_inbound(form(Body="STOP")).keyword is Keyword.STOP


def test_sms_parse_inbound_keeps_mms_media_in_order() -> None:
    text = parse_inbound(
        form(
            Body="",
            NumMedia="2",
            MediaUrl0="https://api.twilio.com/m/ME0",
            MediaContentType0="image/png",
            MediaUrl1="https://api.twilio.com/m/ME1",
        )
    )
    assert [(m.url, m.content_type) for m in text.media] == [
        ("https://api.twilio.com/m/ME0", "image/png"),
        ("https://api.twilio.com/m/ME1", "application/octet-stream"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"MessageSid": "SM123"}, "MessageSid"),
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": "anonymous"}, "From"),
        ({"To": ""}, "To"),
        ({"Body": "x" * 10_001}, "Body"),
        ({"Body": "   "}, "Body"),
        ({"NumMedia": "11"}, "NumMedia"),
        ({"NumMedia": "-1"}, "NumMedia"),
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl0"),
    ],
)
def test_sms_parse_inbound_refuses_bad_forms_whole(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        parse_inbound(form(**changes))


def test_sms_parse_inbound_refuses_missing_sid() -> None:
    data = form()
    del data["MessageSid"]
    with pytest.raises(InvalidInput, match="MessageSid is missing"):
        parse_inbound(data)


def test_sms_parse_status_reads_error_code() -> None:
    report = parse_status({"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert (report.message_sid, report.status, report.error_code) == (SID, "undelivered", "30003")
    assert parse_status({"MessageSid": SID, "MessageStatus": "Delivered"}).status == "delivered"
    with pytest.raises(InvalidInput, match="MessageStatus"):
        parse_status({"MessageSid": SID, "MessageStatus": "exploded"})
    with pytest.raises(InvalidInput, match="ErrorCode"):
        parse_status({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "abc"})


@pytest.mark.parametrize(
    ("current", "new", "advances"),
    [
        (None, "queued", True),
        ("pending", "queued", True),
        ("pending", "failed", True),
        ("queued", "sent", True),
        ("sent", "delivered", True),
        ("queued", "delivered", True),
        ("delivered", "sent", False),  # a late callback
        ("delivered", "failed", False),
        ("failed", "delivered", False),
        ("sent", "sent", False),
        ("delivered", "read", True),
    ],
)
def test_sms_status_only_moves_forward(current: str | None, new: str, advances: bool) -> None:
    assert status_advances(current, new) is advances
    assert (current in statuses_before(new)) is advances


def test_sms_reply_limit_is_1600_characters_not_bytes() -> None:
    assert check_reply("é" * MAX_REPLY_CHARS) == "é" * 1600  # 3,200 bytes, 1,600 characters
    with pytest.raises(InvalidInput, match=r"1,601 characters.*1,600"):
        check_reply("a" * 1601)
    with pytest.raises(InvalidInput, match="empty"):
        check_reply("   ")
    with pytest.raises(InvalidInput, match="string"):
        check_reply(None)


def test_sms_error_text_explains_known_codes() -> None:
    assert error_text("30003") == (
        "the customer's phone is unreachable (off or out of coverage) (Twilio error 30003)"
    )
    assert error_text("99999", "refused") == "refused (Twilio error 99999)"
    assert error_text(None, "timeout") == "timeout"


def test_sms_webhook_answer_is_an_empty_messaging_response() -> None:
    response = twiml(MessagingResponse())
    assert response.content_type == "text/xml"
    assert response.text is not None
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    assert list(root) == []


def test_twilio_webhook_urls_per_purpose() -> None:
    sms = TwilioNumberSettings(
        number="+14155550100", queue="texts", sms_fallback_url="https://handler.twilio.com/x"
    )
    assert webhook_urls("https://hub.example.com", sms) == {
        "sms_url": "https://hub.example.com/twilio/sms",
        "sms_method": "POST",
        "sms_fallback_url": "https://handler.twilio.com/x",
        "sms_fallback_method": "POST",
    }
    both = TwilioNumberSettings(number="+14155550101", queue="q", purposes=["sms", "voice"])
    urls = webhook_urls("https://hub.example.com", both)
    assert urls["voice_url"] == "https://hub.example.com/twilio/voice"
    assert urls["status_callback"] == "https://hub.example.com/twilio/voice/status"
    assert urls["sms_url"] == "https://hub.example.com/twilio/sms"


async def test_twilio_http_client_sends_twilio_hosts_to_the_fake() -> None:
    client = RedirectingHttpClient("http://127.0.0.1:9999/base", timeout_s=5)
    try:
        assert (
            client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1")
            == "http://127.0.0.1:9999/base/2010-04-01/Accounts/AC1/Messages.json?a=1"
        )
        assert client.rewrite("https://example.com/x") == "https://example.com/x"
    finally:
        await client.close()
