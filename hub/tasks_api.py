"""The api channel's HTTP edge: another system hands over a task, and anyone allowed reads
one interaction whole.

``POST /api/v1/interactions`` (an API key with ``interactions:write``, or a supervisor or
admin) translates the request (``hub.tasks.parse_task``) into an ``InboundContact`` of
channel api and hands it to ``Inbound.receive`` like every channel does; it decides no
routing and stores nothing itself. ``GET /api/v1/interactions/{interaction_id}`` shows an
interaction with its messages and notes under the access policy (``hub.access``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.access import require_queue
from hub.api import STORE, visible_interaction
from hub.auth import STAFF, SUPERVISORS
from hub.errors import InvalidInput, NotFound
from hub.inbound import Inbound
from hub.model import Channel, Identity, IdentityKind, Interaction, Note, Queue
from hub.ports import ApiKey, InboundContact, Store, TaskDetails
from hub.representation import interaction_record_json, note_json
from hub.tasks import TaskRequest, parse_task
from hub.text import id_param
from hub.web import api, caller, oversees, read_json

log = logging.getLogger(__name__)

INBOUND = web.AppKey("tasks_inbound", Inbound)
QUEUE_OF: web.AppKey[Callable[[str], Queue]] = web.AppKey("tasks_queue_of")
DEFAULT_QUEUE = web.AppKey("tasks_default_queue", str)  # api.queue, else webchat.queue
NOTE_KINDS = ("note", "transfer")
# The channel's own facts about an interaction (``Desk.channel_details``): {"sms": ...}, ...
CHANNEL_DETAILS: web.AppKey[Callable[[Interaction], Awaitable[dict[str, Any]]]] = web.AppKey(
    "tasks_channel_details"
)


async def interaction_notes(store: Store, interaction_id: int) -> list[Note]:
    """An interaction's private notes (and transfer notes), oldest first (whispers are the
    supervisor's words to the agent, not the record's)."""
    notes = [
        n for kind in NOTE_KINDS for n in await store.interaction_notes(interaction_id, kind=kind)
    ]
    return sorted(notes, key=lambda n: n.note_id)


def _queue(request: web.Request, task: TaskRequest) -> str:
    """The queue the task joins: the one named, else the configured one; it must take api."""
    name = task.queue or request.app[DEFAULT_QUEUE]
    try:
        queue = request.app[QUEUE_OF](name)
    except NotFound:
        raise InvalidInput(f"queue: no queue named {name!r}") from None
    if Channel.API not in queue.channels:
        named = "" if task.queue else " (the default; name a queue, or set api.queue)"
        raise InvalidInput(f"queue: {name!r}{named} does not accept the api channel")
    require_queue(queue.name, oversees(request))  # a supervisor limited to some queues
    return queue.name


async def _contact(request: web.Request, task: TaskRequest) -> InboundContact:
    who = caller(request)
    customer_id = task.customer_id
    if customer_id is not None:
        try:
            await request.app[STORE].customer_summary(customer_id, identities=False)
        except NotFound:
            raise InvalidInput(f"customer.id: no customer {customer_id}") from None
    thread_key = f"task:{secrets.token_urlsafe(12)}"  # each task is a conversation of its own
    return InboundContact(
        channel=Channel.API,
        # Only read for a customer named by identity; one named by id is ``customer_id``.
        identity=task.identity or Identity(IdentityKind.EXTERNAL, thread_key),
        thread_key=thread_key,
        body=task.text,
        display_name=task.name,  # a new customer's name
        customer_id=customer_id,
        attributes=task.interaction_attributes(),
        task=TaskDetails(
            requested_by=who.name,
            external_id=task.external_id,
        ),
    )


@api(SUPERVISORS, scope="interactions:write")
async def create_interaction(request: web.Request) -> web.Response:
    """A task for the contact centre: 201 and the new interaction, routed like any contact;
    200 and the first one for a retry with the same ``external_id``."""
    task = parse_task(await read_json(request))
    queue = _queue(request, task)
    contact = await _contact(request, task)
    recorded = await request.app[INBOUND].receive(contact, queue_name=queue)
    interaction_id = recorded.interaction.interaction_id
    who = caller(request)
    log.info(
        "interaction_id=%s task %s by %s %s",
        interaction_id,
        "asked for again" if recorded.duplicate else "handed over",
        "API key" if isinstance(who, ApiKey) else "user",
        who.name,
    )
    record = await request.app[STORE].interaction_record(interaction_id)
    response = web.json_response(
        interaction_record_json(record, with_messages=True),
        status=200 if recorded.duplicate else 201,
    )
    response.headers["Location"] = f"/api/v1/interactions/{interaction_id}"
    return response


@api(STAFF, scope="interactions:read")
async def get_interaction(request: web.Request) -> web.Response:
    """One interaction with its steps, messages and notes (an agent: only their own), and
    what its channel adds: ``sms`` (numbers, each message's delivery) or ``voice`` (the
    call's timings and recording)."""
    interaction_id = id_param(request.match_info["interaction_id"], "interaction_id")
    interaction = await visible_interaction(request, interaction_id)
    store = request.app[STORE]
    out = interaction_record_json(
        await store.interaction_record(interaction_id), with_messages=True
    )
    out["notes"] = [note_json(n) for n in await interaction_notes(store, interaction_id)]
    out.update(await request.app[CHANNEL_DETAILS](interaction))
    return web.json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/interactions", create_interaction)
    app.router.add_get("/api/v1/interactions/{interaction_id}", get_interaction)
