"""Twilio's REST API through the official SDK: ``twilio.rest.Client`` on its async HTTP client.

The HTTP client is Twilio's own ``AsyncTwilioHttpClient`` with one change: requests for
Twilio's hosts go to ``base_url`` instead, so tests point the real SDK at a local fake API
and nothing reaches the internet. Credentials go to the SDK only; they are never logged
(the SDK logs no Authorization header, and our lines name numbers and SIDs, not secrets).

Errors are translated here, at the boundary::

    HubError
    ├── Unavailable       Twilio could not be reached, timed out or failed (5xx): try later
    └── TwilioRejected    Twilio refused the request (4xx); ``twilio_code`` says why,
                          e.g. 21610 (the recipient texted STOP), 21211 (bad To number)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from hub.errors import HubError, Unavailable

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
TWILIO_DOMAIN = ".twilio.com"


class TwilioRejected(HubError):
    code = "conflict"
    status = 409

    def __init__(self, message: str, *, twilio_code: str | None, http_status: int) -> None:
        super().__init__(message)
        self.twilio_code = twilio_code
        self.http_status = http_status


class RedirectingHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async HTTP client, sending requests for ``*.twilio.com`` to ``base_url``."""

    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s, logger=logging.getLogger("twilio.http"))
        self._base = urlsplit(base_url)

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.hostname or not parts.hostname.endswith(TWILIO_DOMAIN):
            return url
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Response:
        # Credentials as a header: aiohttp deprecates the BasicAuth object the SDK would
        # build. The SDK never logs Authorization headers.
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        return await super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_sid: str
    status: str


@dataclass(frozen=True, slots=True)
class NumberUrls:
    """What Twilio calls for a number, as the API reports it after an update."""

    number_sid: str
    phone_number: str
    sms_url: str | None
    voice_url: str | None
    status_callback: str | None


def _translate(exc: Exception, doing: str) -> HubError:
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = str(exc.code) if exc.code is not None else None
        text = (
            getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
        )
        if status >= 500:
            return Unavailable(f"Twilio failed to {doing} (HTTP {status}); try again later")
        if status in (401, 403):
            text = "Twilio refused our credentials (check TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"
        return TwilioRejected(
            f"Twilio refused to {doing}: {text}" + (f" (error {code})" if code else ""),
            twilio_code=code,
            http_status=status,
        )
    if isinstance(exc, TimeoutError):
        return Unavailable(f"Twilio did not answer in time to {doing}; try again later")
    return Unavailable(f"Twilio could not be reached to {doing}: {exc.__class__.__name__}")


class TwilioApi:
    """The calls the hub makes to Twilio; one aiohttp session, opened in the event loop."""

    def __init__(
        self, account_sid: str, auth_token: str, *, base_url: str = TWILIO_API, timeout_s: float
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._http: RedirectingHttpClient | None = None
        self._client: Client | None = None

    def __repr__(self) -> str:  # never show the token
        return f"TwilioApi(base_url={self._base_url!r})"

    def _rest(self) -> Client:
        if self._client is None:
            self._http = RedirectingHttpClient(self._base_url, timeout_s=self._timeout_s)
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    async def _call(self, doing: str, call: Any) -> Any:
        try:
            return await call
        except (TwilioException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = _translate(exc, doing)
            log.warning("Twilio: %s", error.message)
            raise error from None

    async def send_sms(
        self, *, from_number: str, to_number: str, body: str, status_callback: str
    ) -> SentMessage:
        message = await self._call(
            f"send an SMS to {to_number}",
            self._rest().messages.create_async(
                to=to_number, from_=from_number, body=body, status_callback=status_callback
            ),
        )
        return SentMessage(str(message.sid), str(message.status or "queued"))

    async def create_call(
        self,
        *,
        to_number: str,
        from_number: str,
        twiml: str,
        status_callback: str,
        timeout_s: int,
    ) -> str:
        """Place a call that runs ``twiml`` when answered; its status goes to the callback."""
        call = await self._call(
            f"call {to_number}",
            self._rest().calls.create_async(
                to=to_number,
                from_=from_number,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=timeout_s,
            ),
        )
        return str(call.sid)

    async def update_call(
        self, call_sid: str, *, twiml: str | None = None, status: str | None = None
    ) -> None:
        """Give a live call new TwiML, or end it (``status``: completed, or canceled while
        it rings)."""
        params: dict[str, str] = {}
        if twiml is not None:
            params["twiml"] = twiml
        if status is not None:
            params["status"] = status
        await self._call(
            f"update call {call_sid}", self._rest().calls(call_sid).update_async(**params)
        )

    async def update_participant(
        self,
        conference_sid: str,
        call_sid: str,
        *,
        hold: bool | None = None,
        hold_url: str | None = None,
        muted: bool | None = None,
        end_conference_on_exit: bool | None = None,
        coach: str | None = None,
        coaching: bool | None = None,
    ) -> None:
        """Hold, mute or re-role one leg of a conference: ``end_conference_on_exit`` (does
        the conference end when this leg leaves), ``coaching``/``coach`` (whisper to the leg
        ``coach`` only)."""
        params: dict[str, object] = {}
        if hold is not None:
            params["hold"] = hold
            if hold and hold_url:
                params["hold_url"] = hold_url
        if muted is not None:
            params["muted"] = muted
        if end_conference_on_exit is not None:
            params["end_conference_on_exit"] = end_conference_on_exit
        if coaching is not None:
            params["coaching"] = coaching
        if coach is not None:
            params["call_sid_to_coach"] = coach
        await self._call(
            f"update participant {call_sid}",
            self._rest().conferences(conference_sid).participants(call_sid).update_async(**params),
        )

    async def add_participant(
        self,
        conference_sid: str,
        *,
        to_number: str,
        from_number: str,
        status_callback: str,
        timeout_s: int,
        label: str,
        muted: bool = False,
        coach: str | None = None,
    ) -> str:
        """Call ``to_number`` into a running conference (a colleague consulted, a supervisor
        listening or, with ``coach``, whispering to that leg); the new leg's CallSid. It never
        ends the conference when it leaves."""
        params: dict[str, object] = {}
        if coach is not None:
            params = {"coaching": True, "call_sid_to_coach": coach}
        participant = await self._call(
            f"call {to_number} into conference {conference_sid}",
            self._rest()
            .conferences(conference_sid)
            .participants.create_async(
                from_=from_number,
                to=to_number,
                label=label,
                muted=muted,
                beep="false",
                start_conference_on_enter=True,
                end_conference_on_exit=False,
                timeout=timeout_s,
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                **params,
            ),
        )
        return str(participant.call_sid)

    async def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take one leg out of a conference (Twilio hangs that leg up)."""
        await self._call(
            f"remove participant {call_sid}",
            self._rest().conferences(conference_sid).participants(call_sid).delete_async(),
        )

    async def update_application(self, application_sid: str, *, voice_url: str) -> str | None:
        """Point a TwiML App's voice URL at the hub; the URL Twilio now reports."""
        updated = await self._call(
            f"update TwiML App {application_sid}",
            self._rest()
            .applications(application_sid)
            .update_async(voice_url=voice_url, voice_method="POST"),
        )
        return None if updated.voice_url is None else str(updated.voice_url)

    async def number_sid(self, e164: str) -> str:
        """The SID of our Twilio number ``e164`` (``IncomingPhoneNumbers`` by number)."""
        found = await self._call(
            f"look up {e164}",
            self._rest().incoming_phone_numbers.list_async(phone_number=e164, limit=20),
        )
        for number in found:
            if number.phone_number == e164:
                return str(number.sid)
        raise TwilioRejected(
            f"{e164} is not a number on this Twilio account", twilio_code=None, http_status=404
        )

    async def update_number(self, number_sid: str, **urls: str) -> NumberUrls:
        """Set the webhooks of one of our numbers (``sms_url``, ``voice_url`` ...)."""
        updated = await self._call(
            f"update number {number_sid}",
            self._rest().incoming_phone_numbers(number_sid).update_async(**urls),
        )
        return NumberUrls(
            number_sid=str(updated.sid),
            phone_number=str(updated.phone_number),
            sms_url=updated.sms_url,
            voice_url=updated.voice_url,
            status_callback=updated.status_callback,
        )
