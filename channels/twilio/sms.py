"""SMS through Twilio, parse and check (pure): webhook forms in, records out.

Theory of operation
-------------------
Twilio posts a form for every inbound message (``/twilio/sms``) and for every change of an
outbound message's delivery status (``/twilio/sms/status``). ``parse_inbound`` and
``parse_status`` turn those forms into frozen records or refuse them whole with
``InvalidInput`` naming the field, so nothing half-read is ever stored. Numbers come out
in E.164 so they compare as text with customers' phone identities.

Keywords follow Twilio's own opt-out handling: only a message that is nothing but the word
(any case, surrounding spaces and a final full stop or exclamation mark ignored) counts, so
"please stop texting me about X" is a message for an agent, not an opt-out.

Delivery status only moves forward (``status_advances``): Twilio may deliver callbacks out of
order, and a late ``sent`` must never hide a ``delivered`` or a ``failed`` already shown.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.twilio.form import field as _field
from channels.twilio.form import sid as _sid
from hub.errors import InvalidInput
from hub.phone import region_of, to_e164
from hub.ports import SmsConversation, SmsMedia, SmsMessageState

MAX_REPLY_CHARS = 1600  # Twilio refuses longer bodies (error 21617)
MAX_INBOUND_CHARS = 10_000  # far above what a handset can send; a bigger form is not an SMS
MAX_MEDIA = 10  # Twilio's limit per MMS
MAX_URL_CHARS = 2000

_URL = re.compile(r"^https?://[^\s<>\"']+$")
_ERROR_CODE = re.compile(r"^\d{1,6}$")


class Keyword(enum.StrEnum):
    STOP = "stop"  # opt out
    START = "start"  # opt back in
    HELP = "help"  # recorded; Twilio answers it


KEYWORDS: Mapping[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}

# Statuses Twilio reports for an outbound message, ranked by how far along it is; the
# terminal ones share the top rank so none replaces another.
STATUS_RANK: Mapping[str, int] = {
    "pending": 0,  # ours: stored, not yet accepted by Twilio
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
FAILED_STATUSES = frozenset({"undelivered", "failed", "canceled"})

# What the common delivery errors mean, for the agent who sees a reply fail.
ERRORS: Mapping[str, str] = {
    "21211": "the customer's number is not a valid phone number",
    "21408": "sending to this country is not enabled on the Twilio account",
    "21610": "the customer has opted out (texted STOP)",
    "21612": "Twilio cannot send from this number to the customer's",
    "21614": "the customer's number is not a mobile number",
    "21617": "the message is too long",
    "30003": "the customer's phone is unreachable (off or out of coverage)",
    "30004": "the message was blocked by the customer or their carrier",
    "30005": "the customer's number is unknown to their carrier",
    "30006": "the customer's number is a landline or its carrier cannot take SMS",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier could not deliver it (unknown error)",
}


@dataclass(frozen=True, slots=True)
class InboundSms:
    message_sid: str
    customer_number: str  # From, E.164
    hub_number: str  # To, E.164: the number the customer wrote to
    body: str
    media: tuple[SmsMedia, ...] = ()
    keyword: Keyword | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    message_sid: str
    status: str
    error_code: str | None = None


def keyword_of(body: str) -> Keyword | None:
    """The opt-out/opt-in/help keyword a message consists of, if it is only that."""
    word = body.strip().rstrip(".!").strip().upper()
    return KEYWORDS.get(word)


def parse_inbound(form: Mapping[str, str]) -> InboundSms:
    """An inbound SMS or MMS webhook form, checked whole."""
    sid = _sid(form, "MessageSid")
    hub_number = to_e164(form.get("To"), field="To")
    customer_number = to_e164(form.get("From"), field="From", region=region_of(hub_number))
    body = form.get("Body", "")
    if len(body) > MAX_INBOUND_CHARS:
        raise InvalidInput(f"Body is {len(body)} characters; the limit is {MAX_INBOUND_CHARS}")
    if "\x00" in body:
        raise InvalidInput("Body must not contain NUL characters")
    raw_count = form.get("NumMedia", "0").strip() or "0"
    if not raw_count.isdigit() or int(raw_count) > MAX_MEDIA:
        raise InvalidInput(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}")
    media = []
    for i in range(int(raw_count)):
        url = _field(form, f"MediaUrl{i}").strip()
        if len(url) > MAX_URL_CHARS or not _URL.match(url):
            raise InvalidInput(f"MediaUrl{i} must be an http(s) URL")
        content_type = form.get(f"MediaContentType{i}", "").strip()[:255]
        media.append(SmsMedia(url, content_type or "application/octet-stream"))
    if not body.strip() and not media:
        raise InvalidInput("Body is empty and the message has no media")
    return InboundSms(
        message_sid=sid,
        customer_number=customer_number,
        hub_number=hub_number,
        body=body,
        media=tuple(media),
        keyword=keyword_of(body) if not media else None,
    )


def parse_status(form: Mapping[str, str]) -> StatusReport:
    """A delivery-status callback form (``MessageStatus`` and, on failure, ``ErrorCode``)."""
    sid = _sid(form, "MessageSid")
    status = _field(form, "MessageStatus").strip().lower()
    if status not in STATUS_RANK:
        raise InvalidInput(f"MessageStatus: {status[:20]!r} is not a message status")
    code = form.get("ErrorCode", "").strip() or None
    if code is not None and not _ERROR_CODE.match(code):
        raise InvalidInput("ErrorCode must be a number")
    return StatusReport(sid, status, code)


def status_advances(current: str | None, new: str) -> bool:
    """Whether a message showing ``current`` should now show ``new``."""
    if current is None:
        return True
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current, 0)


def statuses_before(new: str) -> frozenset[str | None]:
    """The statuses that ``new`` may replace (for a conditional update)."""
    return frozenset(s for s in [None, *STATUS_RANK] if status_advances(s, new))


def error_text(error_code: str | None, fallback: str | None = None) -> str | None:
    """What a Twilio error code means to an agent."""
    if error_code is None:
        return fallback
    meaning = ERRORS.get(error_code) or fallback or "Twilio could not deliver it"
    return f"{meaning} (Twilio error {error_code})"


def message_state_json(state: SmsMessageState) -> dict[str, Any]:
    """One message's SMS facts as the console shows them."""
    return {
        "direction": state.direction.value,
        "status": state.status,
        "error_code": state.error_code,
        "error": state.error_message,
        "media": [{"url": m.url, "content_type": m.content_type} for m in state.media],
        "keyword": state.keyword,
    }


def conversation_json(conv: SmsConversation) -> dict[str, Any]:
    return {
        "hub_number": conv.hub_number,
        "customer_number": conv.customer_number,
        "opted_out": conv.opted_out,
        "opted_out_at": None if conv.opted_out_at is None else conv.opted_out_at.isoformat(),
        "max_chars": MAX_REPLY_CHARS,
        "messages": {str(i): message_state_json(s) for i, s in conv.messages.items()},
    }


def check_reply(body: object) -> str:
    """An agent's SMS reply, or ``InvalidInput`` saying why it cannot be sent."""
    if not isinstance(body, str):
        raise InvalidInput("body must be a string")
    text = body.strip()
    if not text:
        raise InvalidInput("body must not be empty")
    if "\x00" in text:
        raise InvalidInput("body must not contain NUL characters")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(
            f"body is {len(text):,} characters; an SMS reply may have at most "
            f"{MAX_REPLY_CHARS:,} (split it or shorten it)"
        )
    return text


def status_callback_url(public_url: str, message_id: int) -> str:
    """Where Twilio reports the delivery of our message ``message_id``. The id is in the URL
    so a callback that overtakes the API's answer still finds its message."""
    return f"{public_url}/twilio/sms/status?message_id={message_id}"  # webhook.SMS_STATUS_PATH
