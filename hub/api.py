"""The REST API under ``/api/v1`` and ``/healthz``; errors are ``{"error": {code, message}}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

from aiohttp import web

from hub.access import (
    Caller,
    CustomerRule,
    require_agent,
    require_customer,
    require_interaction,
    require_queue,
    sees_all_queues,
    sees_everything,
    snapshot_within,
)
from hub.accounts import Accounts, parse_role
from hub.audit import Actor, ActorKind, query_from
from hub.audit import AuditAction as Did
from hub.audit_api import AUDIT
from hub.auth import ADMINS, SESSION_COOKIE, STAFF, SUPERVISORS, Authenticator
from hub.csrf import csrf_token
from hub.errors import Forbidden, InvalidInput, NotFound, RateLimited, Unauthorised
from hub.events import AgentSnapshot, RoutingSnapshotTaken
from hub.languages import require_language
from hub.model import Channel, Interaction, InteractionState, Presence, Role, User
from hub.openapi import OPENAPI
from hub.ports import Store
from hub.representation import (
    agent_snapshot_json,
    interaction_record_json,
    queue_snapshot_json,
    queue_tile_json,
    user_account_json,
    user_json,
)
from hub.text import id_param
from hub.web import (
    AUTHENTICATOR,
    api,
    before_password_change,
    caller,
    current_user,
    oversees,
    public,
    read_json,
    signs_in,
)

STORE = web.AppKey("store", Store)
SNAPSHOT: web.AppKey[Callable[[], RoutingSnapshotTaken]] = web.AppKey("snapshot")
# Re-read the routing rules; the actor goes on the audit trail with the outcome.
RELOAD_RULES: web.AppKey[Callable[[Actor], Awaitable[int]]] = web.AppKey("reload_rules")
# The interaction ids offered to an agent right now (the router knows).
OFFERED: web.AppKey[Callable[[int], Collection[int]]] = web.AppKey("offered")
ACCOUNTS = web.AppKey("accounts", Accounts)
# Each queue's configuration an integrator needs (channels, priority, sla_s, the wallboard's
# thresholds), by name (``hub.app.queue_settings``).
QUEUE_SETTINGS: web.AppKey[Mapping[str, Mapping[str, Any]]] = web.AppKey("queue_settings")
# Session cookies are Secure when this is set (security.cookie_secure, or an https public_url)
# and whenever the request itself came over TLS.
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


def _session_answer(request: web.Request, token: str, user: Any) -> web.Response:
    """The signed-in user, the session's CSRF token, and the session cookie."""
    response = web.json_response({"user": user_json(user), "csrf_token": csrf_token(token)})
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
@signs_in
async def sign_in(request: web.Request) -> web.Response:
    data = await read_json(request)
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise InvalidInput("email and password are required strings")
    code = data.get("code")
    if code is not None and not isinstance(code, str):
        raise InvalidInput("code must be a string of 6 digits")
    authenticator: Authenticator = request.app[AUTHENTICATOR]
    audit = request.app[AUDIT]
    # Who tried: the account named (never the password), from the request's address.
    claimed = Actor(ActorKind.USER, email.strip().lower(), None, request.remote)
    try:
        token, user = await authenticator.sign_in(
            email, password, address=request.remote, code=code or None
        )
    except RateLimited:
        audit.record(claimed, Did.SIGNIN_REFUSED, details={"reason": "locked out"})
        raise
    except Unauthorised:
        audit.record(claimed, Did.SIGNIN_FAILED)
        locked = authenticator.locked(email, request.remote)
        if locked:
            audit.record(claimed, Did.SIGNIN_LOCKED, details={"locked": locked})
        raise
    audit.record(
        Actor.of_user(user, request.remote), Did.SIGNIN_SUCCEEDED, target=("user", user.user_id)
    )
    return _session_answer(request, token, user)


@public
async def sign_out(request: web.Request) -> web.Response:
    authenticator = request.app[AUTHENTICATOR]
    token = request.cookies.get(SESSION_COOKIE)
    user = await authenticator.user_for(token)
    await authenticator.sign_out(token)
    if user is not None:
        request.app[AUDIT].record(
            Actor.of_user(user, request.remote), Did.SIGNOUT, target=("user", user.user_id)
        )
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@api(STAFF)
@before_password_change
async def change_password(request: web.Request) -> web.Response:
    """The signed-in user's own new password (required after a temporary one): every other
    session of theirs ends, and this browser gets a fresh session."""
    data = await read_json(request)
    current, new = data.get("current_password"), data.get("new_password")
    if not isinstance(current, str) or not current:
        raise InvalidInput("current_password is required")
    if not isinstance(new, str) or not new:
        raise InvalidInput("new_password is required")
    token, user = await request.app[AUTHENTICATOR].change_password(
        current_user(request), current, new, address=request.remote
    )
    request.app[AUDIT].record(
        Actor.of_user(user, request.remote), Did.PASSWORD_CHANGED, target=("user", user.user_id)
    )
    return _session_answer(request, token, user)


def _code(data: dict[str, Any]) -> str:
    code = data.get("code")
    if not isinstance(code, str) or not code:
        raise InvalidInput("code is required: the 6 digits your authenticator app shows")
    return code


@api(SUPERVISORS)
async def start_totp(request: web.Request) -> web.Response:
    """Enrol an authenticator app: the secret to type in, or the otpauth URI to scan."""
    secret, uri = await request.app[AUTHENTICATOR].start_totp(current_user(request))
    return web.json_response({"secret": secret, "otpauth_uri": uri})


@api(SUPERVISORS)
async def confirm_totp(request: web.Request) -> web.Response:
    """Turn the second factor on with a first code from the app."""
    code = _code(await read_json(request))
    await request.app[AUTHENTICATOR].confirm_totp(current_user(request), code)
    return web.json_response({"totp_enabled": True})


@api(STAFF)
async def stop_totp(request: web.Request) -> web.Response:
    code = _code(await read_json(request))
    await request.app[AUTHENTICATOR].stop_totp(current_user(request), code)
    return web.json_response({"totp_enabled": False})


@api(STAFF)
@before_password_change
async def me(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    return web.json_response(
        {"user": user_json(current_user(request)), "csrf_token": csrf_token(token)}
    )


def _offered(request: web.Request, who: Caller) -> Collection[int]:
    """The interactions offered to a signed-in agent right now (none to an API key)."""
    return request.app[OFFERED](who.user_id) if isinstance(who, User) else ()


@api(STAFF)
async def set_language(request: web.Request) -> web.Response:
    """Keep the user's console language, so every page and device they sign in on uses it."""
    language = require_language(await read_json(request))
    user = current_user(request)
    await request.app[STORE].set_language(user.user_id, language)
    return web.json_response({"user": user_json(replace(user, language=language))})


async def visible_interaction(request: web.Request, interaction_id: int) -> Interaction:
    """The interaction, if the caller may see it (``hub.access``), else Forbidden."""
    interaction = await request.app[STORE].interaction(interaction_id)
    who = caller(request)
    require_interaction(who, interaction, _offered(request, who), oversees(request))
    return interaction


async def visible_customer(
    request: web.Request, customer_id: int, rule: CustomerRule = require_customer
) -> None:
    """Forbidden unless the caller may see this customer (``hub.access``); ``rule``: the
    policy asked (``require_merge`` for the customer a merge folds away)."""
    user = caller(request)
    queues = oversees(request)
    if not isinstance(user, User) or sees_all_queues(user, queues):
        return
    store = request.app[STORE]
    if sees_everything(user):
        # A supervisor limited to some queues: one of the customer's interactions in them.
        within = await store.interactions(customer_id=customer_id, queues=queues, limit=1)
        rule(user, customer_id, (r.interaction for r in within), (), queues)
        return
    # Only what the policy looks at: the customer's interactions this agent held, and those
    # offered to them now (not the whole record with every message).
    offered = _offered(request, user)
    held = await store.interactions(customer_id=customer_id, agent_id=user.user_id, limit=1)
    candidates = [r.interaction for r in held]
    candidates += [await store.interaction(iid) for iid in offered]
    rule(
        user, customer_id, (i for i in candidates if i.customer_id == customer_id), offered, queues
    )


@api(STAFF, scope="interactions:read")
async def list_interactions(request: web.Request) -> web.Response:
    """Interactions newest first, filtered by customer, state, channel, queue, agent and the
    time they came in (``since`` inclusive, ``until`` exclusive), a page at a time."""
    limit = min(_int_param(request, "limit", default=100) or 100, MAX_LIMIT)
    who = caller(request)
    query = query_from(request.query, limit=limit)  # since, until and cursor, checked
    agent_id = _int_param(request, "agent_id")
    queues = oversees(request) if sees_everything(who) else None
    if isinstance(who, User) and not sees_everything(who):
        # An agent lists the interactions they hold or held (hub.access).
        if agent_id not in (None, who.user_id):
            raise Forbidden("agents list only their own interactions")
        agent_id = who.user_id
    records = await request.app[STORE].interactions(
        customer_id=_int_param(request, "customer_id"),
        queues=queues,  # a supervisor limited to some queues lists theirs
        state=_enum_param(request, "state", InteractionState),
        channel=_enum_param(request, "channel", Channel),
        queue=request.query.get("queue") or None,
        agent_id=agent_id,
        since=query.since,
        until=query.until,
        before_id=query.before_id,
        limit=limit,
    )
    cursor = str(records[-1].interaction.interaction_id) if len(records) == limit else None
    return web.json_response(
        {
            "interactions": [interaction_record_json(r, with_messages=False) for r in records],
            "next_cursor": cursor,
        }
    )


@api(SUPERVISORS, scope="reports:read")
async def queue_stats(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    require_queue(name, oversees(request))
    for q in request.app[SNAPSHOT]().queues:
        if q.name == name:
            return web.json_response(queue_snapshot_json(q))
    raise NotFound(f"no queue named {name!r}")


@api(SUPERVISORS, scope="reports:read")
async def list_queues(request: web.Request) -> web.Response:
    """Every queue (a supervisor limited to some: theirs) with its configuration and the live
    figures of its wallboard tile (``queue_tile_json``: one source, so they never disagree)."""
    snapshot = snapshot_within(request.app[SNAPSHOT](), oversees(request))
    settings = request.app[QUEUE_SETTINGS]
    queues = [
        {**settings.get(q.name, {}), **queue_tile_json(q, snapshot)}
        for q in sorted(snapshot.queues, key=lambda q: q.name)
    ]
    return web.json_response({"at": snapshot.at.isoformat(), "queues": queues})


@api(STAFF, scope="agents:read")
async def list_agents(request: web.Request) -> web.Response:
    """Every agent's state and load; skills only for supervisors, admins and API keys."""
    with_skills = sees_everything(caller(request))
    # A supervisor limited to some queues sees the agents serving them.
    agents = snapshot_within(request.app[SNAPSHOT](), oversees(request)).agents
    return web.json_response(
        {"agents": [agent_snapshot_json(a, with_skills=with_skills) for a in agents]}
    )


@api(STAFF, scope="agents:read")
async def get_agent(request: web.Request) -> web.Response:
    """One agent's state and load, as in the list (a limited supervisor: the agents serving
    their queues)."""
    agent_id = id_param(request.match_info["agent_id"], "agent_id")
    who = caller(request)
    snapshot = request.app[SNAPSHOT]()
    agent = next((a for a in snapshot.agents if a.agent_id == agent_id), None)
    if agent is None:
        # Not signed in since the hub started: the router has not met them, they are offline.
        user = await request.app[STORE].user(agent_id)
        if user is None or user.role not in (Role.AGENT, Role.SUPERVISOR):
            raise NotFound(f"no agent with agent_id {agent_id}")
        agent = AgentSnapshot(agent_id, user.name, Presence.OFFLINE, user.created_at, {}, {})
    require_agent(snapshot, agent_id, oversees(request))
    return web.json_response(
        {"agent": agent_snapshot_json(agent, with_skills=sees_everything(who))}
    )


@api(ADMINS)
async def reload_rules(request: web.Request) -> web.Response:
    actor = Actor.of_user(current_user(request), request.remote)
    count = await request.app[RELOAD_RULES](actor)
    return web.json_response({"rules": count})


def _user_id(request: web.Request) -> int:
    return id_param(request.match_info["user_id"], "user_id")


USER_FIELDS = frozenset({"name", "role", "disabled", "password", "temporary", "totp"})


@api(ADMINS)
async def list_users(request: web.Request) -> web.Response:
    users = await request.app[ACCOUNTS].list()
    return web.json_response({"users": [user_account_json(u) for u in users]})


@api(ADMINS)
async def get_user(request: web.Request) -> web.Response:
    user = await request.app[ACCOUNTS].get(_user_id(request))
    return web.json_response({"user": user_account_json(user)})


def _temporary(data: dict[str, Any]) -> bool:
    temporary = data.get("temporary", True)
    if not isinstance(temporary, bool):
        raise InvalidInput("temporary must be true or false")
    return temporary


def _password(data: dict[str, Any]) -> str:
    password = data.get("password")
    if not isinstance(password, str) or not password:
        raise InvalidInput("password must be a non-empty string")
    return password


@api(ADMINS)
async def add_user(request: web.Request) -> web.Response:
    """A new staff account; its password is temporary (changed at first sign-in) unless
    ``temporary`` is false."""
    data = await read_json(request)
    unknown = set(data) - {"email", "name", "role", "password", "temporary"}
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    email, name = data.get("email"), data.get("name")
    if not isinstance(email, str) or not isinstance(name, str):
        raise InvalidInput("email and name are required strings")
    user = await request.app[ACCOUNTS].add(
        email=email,
        name=name,
        role=parse_role(data.get("role")),
        password=_password(data),
        temporary=_temporary(data),
    )
    request.app[AUDIT].record(
        Actor.of_user(current_user(request), request.remote),
        Did.USER_ADDED,
        target=("user", user.user_id),
        details={"email": user.email, "role": user.role.value},
    )
    return web.json_response({"user": user_account_json(user)}, status=201)


@api(ADMINS)
async def update_user(request: web.Request) -> web.Response:
    """Change a user's name, role, disabled flag or password (temporary unless
    ``temporary`` is false). A new role or password, or disabling, ends their sessions and
    closes their sockets at once. An admin may not disable or demote themselves."""
    user_id = _user_id(request)
    data = await read_json(request)
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not set(data) - {"temporary"}:
        raise InvalidInput("send at least one of name, role, disabled, password, totp")
    accounts, by = request.app[ACCOUNTS], current_user(request)
    # Check every field before changing anything: a bad request changes nothing.
    role = parse_role(data["role"]) if "role" in data else None
    disabled = data.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise InvalidInput("disabled must be true or false")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("name must be a string")
    password = _password(data) if "password" in data else None
    if "totp" in data and data["totp"] is not False:
        raise InvalidInput("totp can only be set to false (turn the authenticator off)")
    temporary = _temporary(data)
    await accounts.get(user_id)
    audit, actor, target = (
        request.app[AUDIT],
        Actor.of_user(by, request.remote),
        ("user", user_id),
    )
    # The changes that may be refused (an admin's own role or account) go first.
    if role is not None:
        await accounts.set_role(user_id, role, by=by)
        audit.record(actor, Did.USER_ROLE_SET, target=target, details={"role": role.value})
    if disabled is not None:
        await accounts.set_disabled(user_id, disabled, by=by)
        audit.record(actor, Did.USER_DISABLED if disabled else Did.USER_ENABLED, target=target)
    if name is not None:
        await accounts.rename(user_id, name)
    if password is not None:
        await accounts.set_password(user_id, password, temporary=temporary)
        audit.record(actor, Did.USER_PASSWORD_SET, target=target, details={"temporary": temporary})
    if "totp" in data:
        await accounts.reset_totp(user_id)
    return web.json_response({"user": user_account_json(await accounts.get(user_id))})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_post("/api/v1/session", sign_in)
    app.router.add_delete("/api/v1/session", sign_out)
    app.router.add_post("/api/v1/session/password", change_password)
    app.router.add_post("/api/v1/session/totp", start_totp)
    app.router.add_post("/api/v1/session/totp/confirm", confirm_totp)
    app.router.add_delete("/api/v1/session/totp", stop_totp)
    app.router.add_get("/api/v1/me", me)
    app.router.add_put("/api/v1/me/language", set_language)
    app.router.add_get("/api/v1/interactions", list_interactions)
    app.router.add_get("/api/v1/queues", list_queues)
    app.router.add_get("/api/v1/queues/{name}/stats", queue_stats)
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_get("/api/v1/agents/{agent_id}", get_agent)
    app.router.add_post("/api/v1/admin/routing/reload", reload_rules)
    app.router.add_get("/api/v1/users", list_users)
    app.router.add_post("/api/v1/users", add_user)
    app.router.add_get("/api/v1/users/{user_id}", get_user)
    app.router.add_patch("/api/v1/users/{user_id}", update_user)
