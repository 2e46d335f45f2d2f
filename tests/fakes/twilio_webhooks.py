"""Plays Twilio's side of the webhooks: form-encoded POSTs signed exactly as Twilio signs them.

Twilio signs the URL it calls (the hub's public URL) with the form's parameters, using the
account's auth token; ``RequestValidator.compute_signature`` from the official SDK builds
the same signature. The request itself goes to the hub on 127.0.0.1, like a reverse proxy
would deliver it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


@dataclass
class Answer:
    status: int
    text: str
    content_type: str


@dataclass
class TwilioSide:
    local_base: str  # where the hub listens (http://127.0.0.1:port)
    public_url: str  # what Twilio calls (twilio.public_url)
    auth_token: str
    account_sid: str

    def sign(self, url: str, form: Mapping[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, dict(form))

    async def post(
        self,
        path: str,
        form: Mapping[str, str],
        *,
        signature: str | bool | None = True,
        signed_url: str | None = None,
    ) -> Answer:
        """POST ``form`` to ``path`` (with its query). ``signature``: True signs it like
        Twilio; a string is sent as is; None/False sends none."""
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if signature is True:
            headers["X-Twilio-Signature"] = self.sign(signed_url or self.public_url + path, form)
        elif isinstance(signature, str):
            headers["X-Twilio-Signature"] = signature
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.local_base + path, data=dict(form), headers=headers) as resp,
        ):
            return Answer(resp.status, await resp.text(), resp.content_type)

    def sms_form(
        self,
        *,
        from_number: str,
        to_number: str,
        body: str,
        sid: str | None = None,
        media: Iterable[tuple[str, str]] = (),
    ) -> dict[str, str]:
        """The form Twilio posts for an incoming SMS/MMS."""
        media = list(media)
        sid = sid or ("MM" if media else "SM") + secrets.token_hex(16)
        form = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ToCity": "SAN FRANCISCO",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "CA",
            "SmsStatus": "received",
            "FromCity": "SAN FRANCISCO",
            "Body": body,
            "FromCountry": "US",
            "To": to_number,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_number,
            "ApiVersion": "2010-04-01",
        }
        for i, (url, content_type) in enumerate(media):
            form[f"MediaUrl{i}"] = url
            form[f"MediaContentType{i}"] = content_type
        return form

    async def sms(self, **kwargs: Any) -> Answer:
        return await self.post("/twilio/sms", self.sms_form(**kwargs))

    async def status(
        self,
        callback_url: str,
        *,
        sid: str,
        status: str,
        error_code: str | None = None,
        **extra: str,
    ) -> Answer:
        """A delivery-status callback to ``callback_url`` (as given to Twilio, public)."""
        assert callback_url.startswith(self.public_url), callback_url
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            **extra,
        }
        if error_code is not None:
            form["ErrorCode"] = error_code
        return await self.post(callback_url.removeprefix(self.public_url), form)
