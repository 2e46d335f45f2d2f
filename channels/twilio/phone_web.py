"""The phone's HTTP edge for the console: the agent's device, browser-phone tokens and
click-to-call. Only staff who take calls (agents, supervisors) may use them.

    GET  /api/v1/voice/device              where I take calls, and whether the browser can
    PUT  /api/v1/voice/device              {"device": "phone" | "browser"}
    GET  /api/v1/voice/token               a Twilio.Device access token (browser agents)
    POST /api/v1/customers/{id}/call       {"number": optional}: call the customer

On a hub without a voice number every one answers 503 ``unavailable`` saying so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from channels.twilio.device import TAKES_CALLS, Devices
from channels.twilio.outbound import OutboundCalls
from hub.api import visible_customer
from hub.errors import InvalidInput, Unavailable
from hub.model import Interaction
from hub.text import id_param
from hub.web import api, current_user, read_json

DEVICES = web.AppKey("voice_devices", Devices)
OUTBOUND = web.AppKey("voice_outbound", OutboundCalls)
WORK_ITEM: web.AppKey[Callable[[Interaction], Awaitable[dict[str, Any]]]] = web.AppKey(
    "voice_work_item"
)
NOT_SET_UP = "phone calls are not set up on this hub (add a voice number to twilio.numbers)"


def _devices(request: web.Request) -> Devices:
    devices = request.app.get(DEVICES)
    if devices is None:
        raise Unavailable(NOT_SET_UP)
    return devices


@api(TAKES_CALLS)
async def get_device(request: web.Request) -> web.Response:
    """Where the agent takes calls; ``calls`` is false on a hub without a voice number (a
    fact about the hub, not an error: the console then shows no phone controls)."""
    devices = request.app.get(DEVICES)
    if devices is None:
        return web.json_response(
            {
                "calls": False,
                "device": None,
                "phone": None,
                "browser_available": False,
                "browser_problem": NOT_SET_UP,
            }
        )
    return web.json_response({"calls": True, **await devices.describe(current_user(request))})


@api(TAKES_CALLS)
async def put_device(request: web.Request) -> web.Response:
    devices = _devices(request)
    return web.json_response(await devices.choose(current_user(request), await read_json(request)))


@api(TAKES_CALLS)
async def get_token(request: web.Request) -> web.Response:
    token = await _devices(request).token(current_user(request))
    response = web.json_response(
        {"token": token.token, "identity": token.identity, "ttl_s": token.ttl_s}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@api(TAKES_CALLS)
async def call_customer(request: web.Request) -> web.Response:
    outbound = request.app.get(OUTBOUND)
    if outbound is None:
        raise Unavailable(NOT_SET_UP)
    customer_id = id_param(request.match_info["customer_id"], "customer_id")
    data = await read_json(request)
    number = data.get("number")
    if number is not None and not isinstance(number, str):
        raise InvalidInput("number must be one of the customer's phone numbers")
    await visible_customer(request, customer_id)
    interaction = await outbound.call_customer(current_user(request), customer_id, number)
    work = await request.app[WORK_ITEM](interaction)
    return web.json_response({"work": work}, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/voice/device", get_device)
    app.router.add_put("/api/v1/voice/device", put_device)
    app.router.add_get("/api/v1/voice/token", get_token)
    app.router.add_post("/api/v1/customers/{customer_id}/call", call_customer)
