"""The follow-ups API: agents schedule, list and cancel reminders to contact a customer again.

The rules are in ``hub.followups`` (what a request may say) and ``hub.access`` (who may do
what); storage in ``hub.storage.followups``; ``hub.followup_clock`` opens them when due.
API keys use the ``customers:read`` and ``customers:write`` scopes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from hub.access import followups_of, require_followup_cancel
from hub.api import STORE, visible_customer
from hub.audit import AuditAction as Did
from hub.audit import parse_cursor
from hub.audit_api import record
from hub.auth import STAFF
from hub.errors import InvalidInput
from hub.followups import FollowupQuery, check_queue, next_cursor, parse_request, parse_state
from hub.model import Channel, User
from hub.ports import Clock, FollowupStore
from hub.representation import followup_json
from hub.text import id_param
from hub.web import api, caller, page_limit, read_json

PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200

FOLLOWUPS = web.AppKey("followups", FollowupStore)
NOW: web.AppKey[Clock] = web.AppKey("followups_clock")  # the hub's clock
QUEUE_CHANNELS: web.AppKey[Mapping[str, frozenset[Channel]]] = web.AppKey("followup_queues")
SCHEDULED: web.AppKey[Callable[[], None]] = web.AppKey("followup_scheduled")  # wakes the clock


def _id(request: web.Request, name: str) -> int:
    return id_param(request.match_info[name], name)


@api(STAFF, scope="customers:write")
async def schedule_followup(request: web.Request) -> web.Response:
    """A follow-up on one of the customer's conversations (the one of ``interaction_id``,
    else their latest), owned by the customer's owner, else by whoever scheduled it."""
    customer_id = _id(request, "customer_id")
    await visible_customer(request, customer_id)  # first: a refusal says nothing of the input
    now = request.app[NOW]()
    wanted = parse_request(await read_json(request), now)
    followups = request.app[FOLLOWUPS]
    thread = await followups.thread(customer_id, wanted.interaction_id)
    queue = wanted.queue or thread.queue
    check_queue(queue, thread.channel, request.app[QUEUE_CHANNELS])
    who = caller(request)
    owner_id = thread.owner_id
    if owner_id is not None:
        owner = await request.app[STORE].user(owner_id)
        if owner is None or owner.disabled:
            owner_id = None
    if isinstance(who, User):
        created_by = who.user_id
        owner_id = owner_id or who.user_id
    elif owner_id is None:
        raise InvalidInput(
            f"customer {customer_id} has no owner_id: an integration schedules follow-ups "
            "for the customer's owner, so set one first"
        )
    else:
        created_by = owner_id
    followup = await followups.schedule(
        customer_id,
        wanted,
        thread=thread,
        queue=queue,
        owner_id=owner_id,
        created_by=created_by,
        now=now,
    )
    record(
        request,
        Did.FOLLOWUP_SCHEDULED,
        ("customer", customer_id),
        {
            "followup_id": followup.followup_id,
            "due_at": followup.due_at.isoformat(),
            "owner_id": followup.owner_id,
            "queue": followup.queue,
        },
    )
    request.app[SCHEDULED]()
    return web.json_response({"followup": followup_json(followup)}, status=201)


@api(STAFF, scope="customers:read")
async def customer_followups(request: web.Request) -> web.Response:
    """The customer's scheduled follow-ups (soonest first), then their recent others."""
    customer_id = _id(request, "customer_id")
    await visible_customer(request, customer_id)
    found = await request.app[FOLLOWUPS].of_customer(customer_id)
    return web.json_response({"followups": [followup_json(f) for f in found]})


@api(STAFF, scope="customers:read")
async def list_followups(request: web.Request) -> web.Response:
    """Follow-ups by id, a page at a time: an agent's own (owned or created by them);
    supervisors, admins and API keys everyone's, or one agent's (``agent_id``)."""
    raw_agent = request.query.get("agent_id", "")
    agent_id = id_param(raw_agent, "agent_id") if raw_agent else None
    limit = page_limit(request, default=PAGE_LIMIT, maximum=MAX_PAGE_LIMIT)
    query = FollowupQuery(
        agent_id=followups_of(caller(request), agent_id),
        state=parse_state(request.query.get("state")),
        after_id=parse_cursor(request.query.get("cursor")),
        limit=limit,
    )
    page = await request.app[FOLLOWUPS].followups(query)
    return web.json_response(
        {"followups": [followup_json(f) for f in page], "next_cursor": next_cursor(page, limit)}
    )


@api(STAFF, scope="customers:write")
async def cancel_followup(request: web.Request) -> web.Response:
    """Cancel a scheduled follow-up (its creator, its owner, supervisors and admins); 409
    once it has opened."""
    followup_id = _id(request, "followup_id")
    followups = request.app[FOLLOWUPS]
    found = await followups.followup(followup_id)
    require_followup_cancel(caller(request), followup_id, found.owner_id, found.created_by)
    cancelled = await followups.cancel(followup_id, now=request.app[NOW]())
    record(
        request,
        Did.FOLLOWUP_CANCELLED,
        ("customer", cancelled.customer_id),
        {"followup_id": followup_id},
    )
    return web.json_response({"followup": followup_json(cancelled)})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/customers/{customer_id}/followups", schedule_followup)
    app.router.add_get("/api/v1/customers/{customer_id}/followups", customer_followups)
    app.router.add_get("/api/v1/followups", list_followups)
    app.router.add_delete("/api/v1/followups/{followup_id}", cancel_followup)
