"""Supervisors' REST routes: today's figures, the day's interactions as CSV, and the floor
actions (set an agent's state, log them out, move an interaction) for scripts and tools.

The CSV is safe to open in a spreadsheet: a cell that starts with ``= + - @`` (or a tab or
carriage return) is prefixed with ``'`` so that it is never run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from aiohttp import web

from hub.access import require_agent_figures
from hub.api import SNAPSHOT
from hub.audit import AuditAction as Did
from hub.audit_api import record
from hub.auth import STAFF, SUPERVISORS
from hub.errors import InvalidInput
from hub.floor import Floor
from hub.ports import InteractionRecord, RatingStore
from hub.representation import day_json, iso
from hub.satisfaction import score_summary
from hub.text import id_param
from hub.web import api, caller, current_user, oversees, read_json

FLOOR = web.AppKey("floor", Floor)
RATINGS = web.AppKey("ratings", RatingStore)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "interaction_id",
    "channel",
    "queue",
    "state",
    "customer_id",
    "agent_id",
    "agent_name",
    "created_at",
    "queued_at",
    "assigned_at",
    "wait_s",
    "wrap_up_at",
    "ended_at",
    "abandoned_at",
    "closed_by",
    "csat_score",
    "csat_comment",
    "csat_channel",
)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _wait_s(queued_at: datetime, assigned_at: datetime | None) -> str:
    if assigned_at is None:
        return ""
    return f"{(assigned_at - queued_at).total_seconds():.1f}"


def interactions_csv(records: Iterable[InteractionRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        i = r.interaction
        row: list[object] = [
            i.interaction_id,
            i.channel.value,
            i.queue,
            i.state.value,
            i.customer_id,
            i.agent_id,
            r.agent_name,
            iso(i.created_at),
            iso(i.queued_at),
            iso(i.assigned_at),
            _wait_s(i.queued_at, i.assigned_at),
            iso(i.wrap_up_at),
            iso(i.ended_at),
            iso(i.abandoned_at),
            i.closed_by,
            r.rating.score if r.rating else None,
            r.rating.comment if r.rating else None,
            r.rating.channel.value if r.rating else None,
        ]
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _date_param(request: web.Request) -> date | None:
    raw = request.query.get("date")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"date must be YYYY-MM-DD, not {raw!r}") from None


@api(SUPERVISORS, scope="reports:read")
async def interactions_report(request: web.Request) -> web.Response:
    """The day's interactions (every one with a step that day, and those still open)."""
    floor = request.app[FLOOR]
    day = _date_param(request)
    records = await floor.interactions_of(day, oversees(request))
    begin, _ = floor.day_bounds(day)
    name = f"interactions-{begin.date().isoformat() if day is None else day.isoformat()}.csv"
    return web.Response(
        text=interactions_csv(records),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@api(SUPERVISORS, scope="reports:read")
async def today(request: web.Request) -> web.Response:
    return web.json_response(day_json(await request.app[FLOOR].day(oversees(request))))


def _agent_id(request: web.Request) -> int:
    return id_param(request.match_info["agent_id"], "agent_id")


@api(SUPERVISORS)
async def set_agent_state(request: web.Request) -> web.Response:
    data: dict[str, Any] = {**await read_json(request), "agent_id": _agent_id(request)}
    agent = await request.app[FLOOR].set_agent_state(current_user(request), data)
    record(request, Did.AGENT_STATE_SET, ("user", agent["agent_id"]), {"state": agent["state"]})
    return web.json_response({"agent": agent})


@api(SUPERVISORS)
async def log_out_agent(request: web.Request) -> web.Response:
    agent = await request.app[FLOOR].log_out_agent(
        current_user(request), {"agent_id": _agent_id(request)}
    )
    record(request, Did.AGENT_LOGGED_OUT, ("user", agent["agent_id"]))
    return web.json_response({"agent": agent})


@api(SUPERVISORS)
async def move_interaction(request: web.Request) -> web.Response:
    interaction_id = id_param(request.match_info["interaction_id"], "interaction_id")
    data = {**await read_json(request), "interaction_id": interaction_id}
    moved = await request.app[FLOOR].move(current_user(request), data)
    record(
        request,
        Did.INTERACTION_MOVED,
        ("interaction", interaction_id),
        {"to_queue": data.get("queue"), "to_agent_id": data.get("agent_id")},
    )
    return web.json_response({"moved": moved})


@api(STAFF, scope="reports:read")
async def agent_satisfaction(request: web.Request) -> web.Response:
    """An agent's satisfaction ratings on a day (today by default)."""
    agent_id = _agent_id(request)
    require_agent_figures(caller(request), request.app[SNAPSHOT](), agent_id, oversees(request))
    floor = request.app[FLOOR]
    day = _date_param(request)
    begin, end = floor.day_bounds(day)
    counts = await request.app[RATINGS].score_counts(agent_id, begin, end)
    return web.json_response(
        {"agent_id": agent_id, "date": begin.date().isoformat(), **score_summary(counts)}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/interactions.csv", interactions_report)
    app.router.add_get("/api/v1/agents/{agent_id}/satisfaction", agent_satisfaction)
    app.router.add_get("/api/v1/reports/today", today)
    app.router.add_post("/api/v1/agents/{agent_id}/state", set_agent_state)
    app.router.add_post("/api/v1/agents/{agent_id}/logout", log_out_agent)
    app.router.add_post("/api/v1/interactions/{interaction_id}/move", move_interaction)
