"""Historical reports over REST: ``GET /api/v1/reports/history`` as JSON or CSV.

A range of local days (``from``, ``to``, at most ``MAX_DAYS``), cut into quarter hours, hours
or days and grouped by queue, agent or channel (``hub.history``). A supervisor limited to some
queues (``hub.access``) sees only those queues' contacts; admins and keys with
``reports:read`` see every queue. The CSV cells are formula-safe (``hub.reports.safe_cell``).

``csat_avg`` is the mean satisfaction score of the rated contacts among those counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol, cast

from aiohttp import web

from hub import daybook
from hub.access import Queues, require_agent_figures
from hub.api import SNAPSHOT
from hub.auth import STAFF, SUPERVISORS
from hub.errors import InvalidInput
from hub.history import GROUPS, Figures, Group, History, Interval, Row, fold
from hub.model import AgentStep
from hub.ports import Clock, InteractionRecord
from hub.reports import safe_cell
from hub.representation import ratio
from hub.text import id_param
from hub.web import api, caller, oversees

MAX_DAYS = 92
FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "service_level",
    "asa_s",
    "missed",
    "handled",
    "aht_s",
    "wrap_up_avg_s",
    "transfers",
    "ended",
    "fcr",
    "csat_avg",
)


class HistoryStore(Protocol):
    async def records(
        self, start: datetime, end: datetime, queues: Collection[str] | None
    ) -> list[InteractionRecord]: ...
    async def contacts(
        self, start: datetime, end: datetime, window: timedelta
    ) -> dict[int, list[tuple[datetime, int]]]: ...
    async def scores(self, start: datetime, end: datetime) -> dict[int, float]: ...


class Reports:
    """The historical reports use case: reads the range, folds it."""

    def __init__(
        self,
        *,
        store: HistoryStore,
        names: Callable[[], Awaitable[Mapping[int, str]]],
        agent_steps: Callable[[datetime, datetime], Awaitable[list[AgentStep]]],
        clock: Clock,
        zone: tzinfo,
        sla_s: Mapping[str, float],
        first_contact: timedelta,
    ) -> None:
        self._store = store
        self._names = names
        self._agent_steps = agent_steps
        self._clock = clock
        self.zone = zone
        self._sla_s = dict(sla_s)
        self._first_contact = first_contact

    def today(self) -> date:
        return self._clock().astimezone(self.zone).date()

    async def history(self, first: date, last: date, interval: Interval, queues: Queues) -> History:
        history, _ = await self._fold(first, last, interval, queues)
        return history

    async def _fold(
        self, first: date, last: date, interval: Interval, queues: Queues
    ) -> tuple[History, list[InteractionRecord]]:
        start = datetime.combine(first, time(0), self.zone)
        end = datetime.combine(last + timedelta(days=1), time(0), self.zone)
        records = await self._store.records(start, end, queues)
        contacts = await self._store.contacts(start, end, self._first_contact)
        scores = await self._store.scores(start, end)
        history = fold(
            ((r.interaction, r.steps) for r in records),
            start=start,
            end=end,
            interval=interval,
            zone=self.zone,
            sla_s=self._sla_s,
            ratings=scores,
            contacts=contacts,
        )
        return history, records

    async def agent(self, agent_id: int, first: date, last: date) -> AgentFigures:
        """One agent's figures over the days ``first`` to ``last``: the historical report's
        row for them, and their occupancy as the wallboard's day counts it (``hub.daybook``),
        over the range up to now."""
        history, records = await self._fold(first, last, Interval.DAY, None)
        figures = next((r.figures for r in history.totals("agent") if r.value == agent_id), None)
        until = min(history.end, self._clock())
        occupancy = None
        if until > history.start:
            steps = await self._agent_steps(history.start, until)
            day = daybook.fold(
                ((r.interaction, r.steps) for r in records),
                [s for s in steps if s.agent_id == agent_id],
                start=history.start,
                now=until,
                sla_s=self._sla_s,
            )
            own = day.agents.get(agent_id)
            occupancy = None if own is None else own.occupancy
        return AgentFigures(figures or Figures(), occupancy)

    async def agent_names(self) -> Mapping[int, str]:
        return await self._names()


@dataclass(frozen=True, slots=True)
class AgentFigures:
    figures: Figures
    occupancy: float | None


REPORTS = web.AppKey("history_reports", Reports)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figures_json(f: Figures) -> dict[str, Any]:
    """Rounded as the wallboard's day (``hub.representation.day_json``)."""
    return {
        "offered": f.offered,
        "answered": f.answered,
        "abandoned": f.abandoned,
        "service_level": ratio(f.service_level),
        "asa_s": _seconds(f.asa_s),
        "missed": f.missed,
        "handled": f.handled,
        "aht_s": _seconds(f.aht_s),
        "wrap_up_avg_s": _seconds(f.wrap_up_avg_s),
        "transfers": f.transfers,
        "ended": f.ended,
        "fcr": ratio(f.fcr),
        "csat_avg": None if f.csat_avg is None else round(f.csat_avg, 2),
    }


def _who(group: Group, row: Row, names: Mapping[int, str]) -> dict[str, Any]:
    if group != "agent":
        return {group: row.value}
    agent_id = cast(int | None, row.value)
    return {"agent_id": agent_id, "agent_name": None if agent_id is None else names.get(agent_id)}


def history_json(
    h: History, group: Group, zone: tzinfo, names: Mapping[int, str]
) -> dict[str, Any]:
    def at(moment: datetime) -> str:
        return moment.astimezone(zone).isoformat()

    return {
        "from": h.start.astimezone(zone).date().isoformat(),
        "to": (h.end.astimezone(zone) - timedelta(days=1)).date().isoformat(),
        "timezone": str(zone),
        "interval": h.interval.value,
        "group": group,
        "intervals": [at(i) for i in h.intervals],
        "rows": [
            {"start": at(r.start), **_who(group, r, names), **figures_json(r.figures)}
            for r in h.grouped(group)
        ],
        "totals": [{**_who(group, r, names), **figures_json(r.figures)} for r in h.totals(group)],
        "total": figures_json(h.total()),
    }


def history_csv(h: History, group: Group, zone: tzinfo, names: Mapping[int, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    who = ["agent_id", "agent_name"] if group == "agent" else [group]
    writer.writerow(["interval_start", *who, *FIGURES])
    for r in h.grouped(group):
        cells = figures_json(r.figures)
        row = [r.start.astimezone(zone).isoformat(), *_who(group, r, names).values()]
        writer.writerow([safe_cell(v) for v in [*row, *(cells[f] for f in FIGURES)]])
    return out.getvalue()


def _day(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be YYYY-MM-DD, not {raw!r}") from None


def _choice(request: web.Request, name: str, choices: Collection[str], default: str) -> str:
    value = request.query.get(name) or default
    if value not in choices:
        raise InvalidInput(f"{name} must be one of: {', '.join(choices)}")
    return value


def _days(request: web.Request, first_name: str, last_name: str) -> tuple[date, date]:
    """A range of local days from the query (default today), at most ``MAX_DAYS``."""
    first = _day(request, first_name, request.app[REPORTS].today())
    last = _day(request, last_name, first)
    if last < first:
        raise InvalidInput(f"{last_name} must not be before {first_name}")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"the range is at most {MAX_DAYS} days; ask for fewer")
    return first, last


@api(SUPERVISORS, scope="reports:read")
async def history(request: web.Request) -> web.Response:
    reports = request.app[REPORTS]
    first, last = _days(request, "from", "to")
    interval = Interval(_choice(request, "interval", [i.value for i in Interval], "hour"))
    group = cast(Group, _choice(request, "group", GROUPS, "queue"))
    kind = _choice(request, "format", ("json", "csv"), "json")
    h = await reports.history(first, last, interval, oversees(request))
    names = await reports.agent_names() if group == "agent" else {}
    if kind == "json":
        return web.json_response(history_json(h, group, reports.zone, names))
    name = f"history-{first.isoformat()}-{last.isoformat()}-{interval.value}-{group}.csv"
    return web.Response(
        text=history_csv(h, group, reports.zone, names),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@api(STAFF, scope="agents:read")
async def agent_stats(request: web.Request) -> web.Response:
    """An agent's figures over local days ``since`` to ``until`` (inclusive; default today),
    folded as the historical reports fold them; an agent reads only their own."""
    agent_id = id_param(request.match_info["agent_id"], "agent_id")
    first, last = _days(request, "since", "until")
    require_agent_figures(caller(request), request.app[SNAPSHOT](), agent_id, oversees(request))
    stats = await request.app[REPORTS].agent(agent_id, first, last)
    f = stats.figures
    return web.json_response(
        {
            "agent_id": agent_id,
            "since": first.isoformat(),
            "until": last.isoformat(),
            "timezone": str(request.app[REPORTS].zone),
            **figures_json(f),
            "occupancy": ratio(stats.occupancy),
            "csat_count": f.rated,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/history", history)
    app.router.add_get("/api/v1/agents/{agent_id}/stats", agent_stats)
