"""An interaction's private notes over REST: read them, and keep one from another system.

``GET /api/v1/interactions/{interaction_id}/notes`` lists the notes (and transfer notes) of
an interaction the caller may see (``hub.access``, as ``GET /api/v1/interactions/{id}``).
``POST`` keeps a private note ``{"body"}`` (at most the console's ``NOTE_MAX_BYTES``),
authored by the signed-in user or under the API key's name: an agent only on an interaction
they hold, as in the console. It is stored, audited, then announced (``NoteAdded``), so the
agent holding the interaction sees it at once. A customer's notes are those of their
interactions, read with the customer (``GET /api/v1/customers/{customer_id}``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.access import sees_everything
from hub.api import STORE, visible_interaction
from hub.audit import AuditAction as Did
from hub.audit_api import record
from hub.auth import STAFF
from hub.desk import NOTE_MAX_BYTES
from hub.errors import Forbidden
from hub.events import NoteAdded
from hub.model import User
from hub.ports import Clock
from hub.representation import note_json
from hub.tasks_api import interaction_notes
from hub.text import id_param, require_text
from hub.web import api, caller, read_json

log = logging.getLogger(__name__)

ANNOUNCE: web.AppKey[Callable[[object], Awaitable[None]]] = web.AppKey("notes_announce")
NOW: web.AppKey[Clock] = web.AppKey("notes_now")


def _interaction_id(request: web.Request) -> int:
    return id_param(request.match_info["interaction_id"], "interaction_id")


@api(STAFF, scope="interactions:read")
async def list_notes(request: web.Request) -> web.Response:
    interaction_id = _interaction_id(request)
    await visible_interaction(request, interaction_id)
    notes = await interaction_notes(request.app[STORE], interaction_id)
    return web.json_response({"notes": [note_json(n) for n in notes]})


@api(STAFF, scope="interactions:write")
async def add_note(request: web.Request) -> web.Response:
    interaction_id = _interaction_id(request)
    interaction = await visible_interaction(request, interaction_id)
    who = caller(request)
    if isinstance(who, User) and not sees_everything(who) and interaction.agent_id != who.user_id:
        raise Forbidden(f"interaction {interaction_id} is not assigned to you")
    body = require_text(await read_json(request), "body", max_bytes=NOTE_MAX_BYTES)
    author = who if isinstance(who, User) else who.name
    note = await request.app[STORE].add_note(
        interaction_id, author=author, body=body, now=request.app[NOW]()
    )
    record(request, Did.NOTE_ADDED, ("interaction", interaction_id), {"note_id": note.note_id})
    await request.app[ANNOUNCE](NoteAdded(interaction, note))
    log.info("interaction_id=%s note %s added over REST", interaction_id, note.note_id)
    return web.json_response({"note": note_json(note)}, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/interactions/{interaction_id}/notes", list_notes)
    app.router.add_post("/api/v1/interactions/{interaction_id}/notes", add_note)
