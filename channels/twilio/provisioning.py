"""``contact-hub twilio configure``: point each configured number's webhooks at the hub.

For every number in ``twilio.numbers`` it finds the number on the account
(``IncomingPhoneNumbers`` by phone number) and sets what Twilio calls: the SMS URL for SMS
numbers (replies get their status callback per message), the voice URL and call status
callback for voice numbers, and the fallback URLs when configured, so nobody has to copy
URLs into Twilio's console. With a browser phone (``twilio.twiml_app_sid``), it also sets
that TwiML App's voice URL, which answers calls a browser places. ``webhook_urls`` (pure)
says what will be set.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.twilio.client import NumberUrls, TwilioApi
from channels.twilio.outbound import CLIENT_PATH
from channels.twilio.webhook import SMS_PATH, VOICE_PATH, VOICE_STATUS_PATH
from hub.config import TwilioNumberSettings, TwilioSettings


@dataclass(frozen=True, slots=True)
class Configured:
    number: str  # the E.164 number, or the TwiML App's SID
    requested: dict[str, str]
    result: NumberUrls | None  # None on a dry run
    kind: str = "number"  # or "twiml_app"


def webhook_urls(public_url: str, number: TwilioNumberSettings) -> dict[str, str]:
    """The IncomingPhoneNumber fields to set for ``number`` (SDK parameter names)."""
    urls: dict[str, str] = {}
    if "sms" in number.purposes:
        urls |= {"sms_url": public_url + SMS_PATH, "sms_method": "POST"}
        if number.sms_fallback_url:
            urls |= {"sms_fallback_url": number.sms_fallback_url, "sms_fallback_method": "POST"}
    if "voice" in number.purposes:
        urls |= {
            "voice_url": public_url + VOICE_PATH,
            "voice_method": "POST",
            "status_callback": public_url + VOICE_STATUS_PATH,
            "status_callback_method": "POST",
        }
        if number.voice_fallback_url:
            urls |= {
                "voice_fallback_url": number.voice_fallback_url,
                "voice_fallback_method": "POST",
            }
    return urls


async def configure_numbers(
    api: TwilioApi, settings: TwilioSettings, *, dry_run: bool = False
) -> list[Configured]:
    """Set every configured number's webhooks; stops at the first number Twilio refuses."""
    assert settings.public_url is not None
    done = []
    for number in settings.numbers:
        urls = webhook_urls(settings.public_url, number)
        if dry_run:
            done.append(Configured(number.number, urls, None))
            continue
        number_sid = await api.number_sid(number.number)
        done.append(Configured(number.number, urls, await api.update_number(number_sid, **urls)))
    app_sid = settings.twiml_app_sid
    if app_sid is not None:
        url = settings.public_url + CLIENT_PATH
        result = None
        if not dry_run:
            voice_url = await api.update_application(app_sid, voice_url=url)
            result = NumberUrls(app_sid, "", None, voice_url, None)
        done.append(Configured(app_sid, {"voice_url": url}, result, kind="twiml_app"))
    return done
