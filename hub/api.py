"""The REST API under ``/api/v1`` and ``/healthz``; errors are ``{"error": {code, message}}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiohttp import web

from hub.access import require_customer, require_interaction, sees_everything
from hub.auth import ADMINS, SESSION_COOKIE, STAFF, SUPERVISORS, Authenticator
from hub.errors import InvalidInput, NotFound
from hub.events import RoutingSnapshotTaken
from hub.model import Channel, Interaction, InteractionState
from hub.openapi import OPENAPI
from hub.ports import Store
from hub.representation import (
    agent_snapshot_json,
    customer_record_json,
    interaction_record_json,
    queue_snapshot_json,
    user_json,
)
from hub.web import AUTHENTICATOR, api, current_user, public, read_json

STORE = web.AppKey("store", Store)
SNAPSHOT: web.AppKey[Callable[[], RoutingSnapshotTaken]] = web.AppKey("snapshot")
RELOAD_RULES: web.AppKey[Callable[[], Awaitable[int]]] = web.AppKey("reload_rules")
# The interaction ids offered to an agent right now (the router knows).
OFFERED: web.AppKey[Callable[[int], Collection[int]]] = web.AppKey("offered")
COOKIE_SECURE = web.AppKey("cookie_secure", bool)
SESSION_TTL_S = web.AppKey("session_ttl_s", int)
MAX_LIMIT = 500


def _int_param(request: web.Request, name: str, *, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise InvalidInput(f"{name} must not be negative")
    return value


def _enum_param(request: web.Request, name: str, enum: Any) -> Any:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"{name} must be one of {allowed}; got {raw!r}") from None


@public
async def healthz(request: web.Request) -> web.Response:
    if await request.app[STORE].ping():
        return web.json_response({"status": "ok"})
    return web.json_response(
        {
            "status": "unavailable",
            "error": {"code": "unavailable", "message": "database unreachable"},
        },
        status=503,
    )


@public
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


@public
async def sign_in(request: web.Request) -> web.Response:
    data = await read_json(request)
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise InvalidInput("email and password are required strings")
    authenticator: Authenticator = request.app[AUTHENTICATOR]
    token, user = await authenticator.sign_in(email, password, address=request.remote)
    response = web.json_response({"user": user_json(user)})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=request.app[SESSION_TTL_S],
        httponly=True,
        samesite="Lax",
        secure=request.app[COOKIE_SECURE] or request.secure,
        path="/",
    )
    return response


@public
async def sign_out(request: web.Request) -> web.Response:
    await request.app[AUTHENTICATOR].sign_out(request.cookies.get(SESSION_COOKIE))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@api(STAFF)
async def me(request: web.Request) -> web.Response:
    return web.json_response({"user": user_json(current_user(request))})


@api(STAFF)
async def get_customer(request: web.Request) -> web.Response:
    try:
        customer_id = int(request.match_info["customer_id"])
    except ValueError:
        raise InvalidInput("customer_id must be an integer") from None
    record = await request.app[STORE].customer(customer_id)
    user = current_user(request)
    offered = request.app[OFFERED](user.user_id)
    require_customer(user, customer_id, (r.interaction for r in record.interactions), offered)
    return web.json_response(customer_record_json(record))


async def visible_interaction(request: web.Request, interaction_id: int) -> Interaction:
    """The interaction, if the signed-in user may see it (``hub.access``), else Forbidden."""
    interaction = await request.app[STORE].interaction(interaction_id)
    user = current_user(request)
    require_interaction(user, interaction, request.app[OFFERED](user.user_id))
    return interaction


async def visible_customer(request: web.Request, customer_id: int) -> None:
    """Forbidden unless the signed-in user may see this customer (``hub.access``)."""
    user = current_user(request)
    if sees_everything(user):
        return
    store = request.app[STORE]
    # Only what the policy looks at: the customer's interactions this agent held, and those
    # offered to them now (not the whole record with every message).
    offered = request.app[OFFERED](user.user_id)
    held = await store.interactions(customer_id=customer_id, agent_id=user.user_id, limit=1)
    candidates = [r.interaction for r in held]
    candidates += [await store.interaction(iid) for iid in offered]
    require_customer(
        user, customer_id, (i for i in candidates if i.customer_id == customer_id), offered
    )


@api(STAFF)
async def list_interactions(request: web.Request) -> web.Response:
    limit = _int_param(request, "limit", default=100) or 100
    user = current_user(request)
    records = await request.app[STORE].interactions(
        customer_id=_int_param(request, "customer_id"),
        state=_enum_param(request, "state", InteractionState),
        channel=_enum_param(request, "channel", Channel),
        # An agent lists the interactions they hold or held (hub.access).
        agent_id=None if sees_everything(user) else user.user_id,
        limit=min(limit, MAX_LIMIT),
    )
    return web.json_response(
        {"interactions": [interaction_record_json(r, with_messages=False) for r in records]}
    )


@api(SUPERVISORS)
async def queue_stats(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    for q in request.app[SNAPSHOT]().queues:
        if q.name == name:
            return web.json_response(queue_snapshot_json(q))
    raise NotFound(f"no queue named {name!r}")


@api(STAFF)
async def list_agents(request: web.Request) -> web.Response:
    """Every agent's state and load; skills only for supervisors and admins."""
    with_skills = current_user(request).role in SUPERVISORS
    agents = request.app[SNAPSHOT]().agents
    return web.json_response(
        {"agents": [agent_snapshot_json(a, with_skills=with_skills) for a in agents]}
    )


@api(ADMINS)
async def reload_rules(request: web.Request) -> web.Response:
    count = await request.app[RELOAD_RULES]()
    return web.json_response({"rules": count})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_post("/api/v1/session", sign_in)
    app.router.add_delete("/api/v1/session", sign_out)
    app.router.add_get("/api/v1/me", me)
    app.router.add_get("/api/v1/customers/{customer_id}", get_customer)
    app.router.add_get("/api/v1/interactions", list_interactions)
    app.router.add_get("/api/v1/queues/{name}/stats", queue_stats)
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_post("/api/v1/admin/routing/reload", reload_rules)
