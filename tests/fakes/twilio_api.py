"""A local fake of Twilio's REST API (aiohttp) that records every call and answers like Twilio.

The hub's real SDK client talks to it (``twilio.api_base_url``), so tests see exactly what
would have gone to Twilio: the form fields of each request and the credentials used. It
serves what the hub uses: Messages (create), IncomingPhoneNumbers (list by number, update),
Calls (create, update: new TwiML or an end), conference Participants (create: a colleague
or a supervisor called in; update: hold, mute, coach, end-conference-on-exit; delete) and
Applications (update: a TwiML App's voice URL).
A test can make the next message creation fail with a Twilio error code.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from tests.functional.conftest import free_port

API = "/2010-04-01/Accounts/{account_sid}"

# IncomingPhoneNumber update parameters (as the SDK posts them) -> resource fields.
NUMBER_FIELDS = {
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "FriendlyName": "friendly_name",
}


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Call:
    """One request the hub made to the fake API."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    username: str | None
    password: str | None


@dataclass
class FakeTwilioApi:
    account_sid: str
    auth_token: str
    calls: list[Call] = field(default_factory=list)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by PN sid
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)  # by AP sid
    messages: list[dict[str, Any]] = field(default_factory=list)
    placed_calls: list[dict[str, Any]] = field(default_factory=list)  # Calls.json creations
    added_participants: list[dict[str, Any]] = field(default_factory=list)  # with "call_sid"
    fail_messages: tuple[int, int, str] | None = None  # (HTTP status, Twilio code, message)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------ setup
    def add_number(self, e164: str, **fields: Any) -> str:
        number_sid = sid("PN")
        self.numbers[number_sid] = {
            "sid": number_sid,
            "account_sid": self.account_sid,
            "phone_number": e164,
            "friendly_name": e164,
            "sms_url": "https://demo.twilio.com/welcome/sms/reply",
            "sms_method": "POST",
            "sms_fallback_url": "",
            "voice_url": "https://demo.twilio.com/welcome/voice/",
            "voice_method": "POST",
            "status_callback": "",
            "capabilities": {"sms": True, "voice": True, "mms": True, "fax": False},
            "api_version": "2010-04-01",
            "uri": f"{API.format(account_sid=self.account_sid)}/IncomingPhoneNumbers/"
            f"{number_sid}.json",
            **fields,
        }
        return number_sid

    def add_application(self, application_sid: str) -> None:
        self.applications[application_sid] = {
            "sid": application_sid,
            "account_sid": self.account_sid,
            "friendly_name": "contact-hub browser phone",
            "voice_url": "",
            "voice_method": "POST",
            "api_version": "2010-04-01",
            "uri": f"{API.format(account_sid=self.account_sid)}/Applications/"
            f"{application_sid}.json",
        }

    def number(self, e164: str) -> dict[str, Any]:
        return next(n for n in self.numbers.values() if n["phone_number"] == e164)

    async def start(self) -> str:
        app = web.Application()
        base = API.format(account_sid="{account_sid}")
        app.router.add_post(f"{base}/Messages.json", self._create_message)
        app.router.add_get(f"{base}/IncomingPhoneNumbers.json", self._list_numbers)
        app.router.add_post(f"{base}/Calls.json", self._create_call)
        app.router.add_post(f"{base}/Calls/{{call_sid}}.json", self._update_call)
        participant = f"{base}/Conferences/{{conference_sid}}/Participants/{{call_sid}}.json"
        app.router.add_post(participant, self._update_participant)
        app.router.add_delete(participant, self._remove_participant)
        app.router.add_post(
            f"{base}/Conferences/{{conference_sid}}/Participants.json", self._add_participant
        )
        app.router.add_post(f"{base}/IncomingPhoneNumbers/{{number_sid}}.json", self._update_number)
        app.router.add_post(f"{base}/Applications/{{application_sid}}.json", self._update_app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ what tests look at
    def calls_to(self, suffix: str, method: str = "POST") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    async def wait_for(
        self,
        count: int,
        suffix: str = "/Messages.json",
        timeout: float = 5.0,
        method: str = "POST",
    ) -> list[Call]:
        """The first ``count`` calls to ``suffix``, waiting for them to arrive."""
        async with asyncio.timeout(timeout):
            while len(self.calls_to(suffix, method)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.calls_to(suffix, method)[:count]

    # ------------------------------------------------------------------ the API
    def _error(self, status: int, code: int, message: str) -> web.Response:
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status=status,
        )

    async def _record(self, request: web.Request) -> tuple[Call, web.Response | None]:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        username = password = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            username, _, password = base64.b64decode(header[6:]).decode().partition(":")
        call = Call(request.method, request.path, dict(request.query), form, username, password)
        self.calls.append(call)
        self._changed.set()
        if (username, password) != (self.account_sid, self.auth_token):
            return call, self._error(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            return call, self._error(404, 20404, "The requested resource was not found")
        return call, None

    async def _create_message(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        if self.fail_messages is not None:
            status, code, message = self.fail_messages
            return self._error(status, code, message)
        now = format_datetime(datetime.now(UTC))
        message_sid = sid("SM")
        resource = {
            "sid": message_sid,
            "account_sid": self.account_sid,
            "to": call.form.get("To"),
            "from": call.form.get("From"),
            "body": call.form.get("Body"),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "messaging_service_sid": None,
            "uri": f"{API.format(account_sid=self.account_sid)}/Messages/{message_sid}.json",
            "subresource_uris": {},
        }
        self.messages.append({**resource, "status_callback": call.form.get("StatusCallback")})
        return web.json_response(resource, status=201)

    async def _list_numbers(self, request: web.Request) -> web.Response:
        _, refused = await self._record(request)
        if refused is not None:
            return refused
        wanted = request.query.get("PhoneNumber")
        found = [n for n in self.numbers.values() if wanted in (None, n["phone_number"])]
        uri = f"{API.format(account_sid=self.account_sid)}/IncomingPhoneNumbers.json"
        return web.json_response(
            {
                "incoming_phone_numbers": found,
                "end": max(len(found) - 1, 0),
                "first_page_uri": f"{uri}?PageSize=50&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize=50&Page=0",
            }
        )

    async def _update_number(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        number = self.numbers.get(request.match_info["number_sid"])
        if number is None:
            return self._error(404, 20404, "The requested resource was not found")
        for param, value in call.form.items():
            if param in NUMBER_FIELDS:
                number[NUMBER_FIELDS[param]] = value
        return web.json_response(number)

    async def _update_app(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        application = self.applications.get(request.match_info["application_sid"])
        if application is None:
            return self._error(404, 20404, "The requested resource was not found")
        for param, key in (("VoiceUrl", "voice_url"), ("VoiceMethod", "voice_method")):
            if param in call.form:
                application[key] = call.form[param]
        return web.json_response(application)

    def _call_resource(self, call_sid: str, form: dict[str, str], status: str) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC))
        return {
            "sid": call_sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": status,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "parent_call_sid": None,
            "uri": f"{API.format(account_sid=self.account_sid)}/Calls/{call_sid}.json",
            "subresource_uris": {},
        }

    async def _create_call(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        call_sid = sid("CA")
        self.placed_calls.append({"sid": call_sid, **call.form})
        return web.json_response(self._call_resource(call_sid, call.form, "queued"), status=201)

    async def _update_call(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        status = call.form.get("Status", "in-progress")
        return web.json_response(
            self._call_resource(request.match_info["call_sid"], call.form, status)
        )

    async def _add_participant(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        call_sid = sid("CA")
        self.added_participants.append({"call_sid": call_sid, **call.form})
        resource = self._participant(request.match_info["conference_sid"], call_sid, call.form)
        return web.json_response({**resource, "status": "queued"}, status=201)

    async def _remove_participant(self, request: web.Request) -> web.Response:
        _, refused = await self._record(request)
        if refused is not None:
            return refused
        return web.Response(status=204)

    async def _update_participant(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        conference_sid = request.match_info["conference_sid"]
        call_sid = request.match_info["call_sid"]
        return web.json_response(self._participant(conference_sid, call_sid, call.form))

    def _participant(
        self, conference_sid: str, call_sid: str, form: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "call_sid": call_sid,
            "conference_sid": conference_sid,
            "label": form.get("Label"),
            "coaching": form.get("Coaching") == "true",
            "call_sid_to_coach": form.get("CallSidToCoach"),
            "end_conference_on_exit": form.get("EndConferenceOnExit", "true") == "true",
            "start_conference_on_enter": True,
            "hold": form.get("Hold") == "true",
            "muted": form.get("Muted") == "true",
            "status": "connected",
            "date_created": format_datetime(datetime.now(UTC)),
            "date_updated": format_datetime(datetime.now(UTC)),
            "uri": f"{API.format(account_sid=self.account_sid)}/Conferences/"
            f"{conference_sid}/Participants/{call_sid}.json",
        }
