"""Phone numbers in one form, E.164 (``+14155550100``), whatever way they were written. Pure.

Theory of operation
-------------------
A customer's phone identity, a configured hub number and the ``From``/``To`` of every Twilio
request are compared as text, so they must all be in the same form. ``to_e164`` parses with
Google's libphonenumber rules (the ``phonenumbers`` package: data and parsing only, no I/O)
and refuses, naming the field, anything that cannot be a phone number. A number written
without ``+`` is read in ``region`` (the country of the hub number it was sent to), the way a
person in that country would dial it. Numbers are checked for being *possible* (right length
for their country), not *assigned*, so fictional test numbers (555-01xx) still work.
"""

from __future__ import annotations

import phonenumbers

from hub.errors import InvalidInput

MAX_CHARS = 40


def to_e164(raw: object, *, field: str = "number", region: str | None = None) -> str:
    """``raw`` as E.164, or ``InvalidInput`` naming ``field``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field} must be a phone number like +14155550100")
    text = raw.strip()
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"{field} is {len(text)} characters; a phone number has at most 40")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{field}: {text!r} is not a phone number like +14155550100") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(f"{field}: {text!r} has the wrong length for a phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """The two-letter country of an E.164 number (``GB`` for ``+44...``), if known."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    # By country code, not by the number's range: fictional test numbers have no range.
    region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return None if region in (None, "ZZ") else str(region)


SMS_THREAD_PREFIX = "sms:"


def sms_thread_key(hub_number: str, customer_number: str) -> str:
    """An SMS conversation is one customer number writing to one of our numbers; the key
    says where replies go (from ``hub_number`` to ``customer_number``)."""
    return f"{SMS_THREAD_PREFIX}{hub_number}:{customer_number}"


def sms_numbers(thread_key: str) -> tuple[str, str] | None:
    """(hub number, customer number) of an SMS thread key, or None if it is not one."""
    if not thread_key.startswith(SMS_THREAD_PREFIX):
        return None
    hub_number, _, customer_number = thread_key.removeprefix(SMS_THREAD_PREFIX).partition(":")
    return (hub_number, customer_number) if hub_number and customer_number else None
