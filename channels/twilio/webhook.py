"""Every ``/twilio/*`` request passes one gate: Twilio's ``X-Twilio-Signature``.

The routes live on their own aiohttp sub-application whose only middleware checks the
signature with the official ``RequestValidator`` on the exact URL Twilio called: the
configured public URL (what Twilio sees behind proxies and tunnels) plus the path and query
as sent. A missing or wrong signature is answered 403 before any handler runs, so a channel
(SMS now, voice later) only adds routes to the gate and never forgets to check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml import TwiML

from hub.errors import InvalidInput
from hub.web import public

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
PREFIX = "/twilio"  # every Twilio webhook lives under it, behind the signature gate
SMS_PATH = PREFIX + "/sms"  # incoming message (the number's "A message comes in" URL)
SMS_STATUS_PATH = PREFIX + "/sms/status"  # delivery status of our replies
VOICE_PATH = PREFIX + "/voice"  # incoming call
VOICE_STATUS_PATH = PREFIX + "/voice/status"  # call status

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signed_url(public_url: str, request: web.Request) -> str:
    """The URL Twilio signed: our public base, then the path and query exactly as sent."""
    return public_url + request.raw_path


def query_id(request: web.Request, name: str = "interaction_id") -> int:
    """A row id from our own callback URL's query; a clear 400 for anything else."""
    raw = request.query.get(name, "")
    if not raw.isdigit() or len(raw) > 18:  # 18 digits always fit a 64-bit column
        raise InvalidInput(f"{name} must be a number")
    return int(raw)


async def form_of(request: web.Request) -> MultiDict[str]:
    """The posted form's text fields (Twilio never sends files)."""
    if request.method != "POST":
        return MultiDict()
    posted = await request.post()
    return MultiDict((k, v) for k, v in posted.items() if isinstance(v, str))


def signature_gate(
    auth_token: str, public_url: str
) -> Callable[..., Awaitable[web.StreamResponse]]:
    validator = RequestValidator(auth_token)

    @web.middleware
    async def check_signature(request: web.Request, handler: Handler) -> web.StreamResponse:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = signed_url(public_url, request)
        if not signature or not validator.validate(url, await form_of(request), signature):
            log.warning(
                "refused %s %s: %s X-Twilio-Signature (is twilio.public_url %s the URL "
                "Twilio calls?)",
                request.method,
                request.path,
                "bad" if signature else "no",
                public_url,
            )
            return web.Response(status=403, text="invalid or missing X-Twilio-Signature")
        return await handler(request)

    return check_signature


def twilio_app(auth_token: str, public_url: str) -> web.Application:
    """An empty, signature-checked sub-application for ``/twilio``; channels add routes."""
    return web.Application(middlewares=[signature_gate(auth_token, public_url)])


def add_webhooks(twilio: web.Application, routes: Mapping[str, Handler]) -> None:
    """POST routes at full ``/twilio/...`` paths on the signature-checked sub-application
    (public to the hub's sign-in check: the signature is their check)."""
    for path, method in routes.items():

        def bind(method: Handler) -> Handler:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await method(request)

            return handler

        twilio.router.add_post(path.removeprefix(PREFIX), public(bind(method)))


def twiml(response: TwiML) -> web.Response:
    """A TwiML document built by the SDK (``MessagingResponse``, ``VoiceResponse``)."""
    return web.Response(text=response.to_xml(), content_type="text/xml", charset="utf-8")
