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
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol, cast

from aiohttp import web

from hub.access import Queues
from hub.auth import SUPERVISORS
from hub.errors import InvalidInput
from hub.history import GROUPS, Figures, Group, History, Interval, Row, fold
from hub.ports import Clock, InteractionRecord
from hub.reports import safe_cell
from hub.representation import ratio
from hub.web import api, oversees

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
        clock: Clock,
        zone: tzinfo,
        sla_s: Mapping[str, float],
        first_contact: timedelta,
    ) -> None:
        self._store = store
        self._names = names
        self._clock = clock
        self.zone = zone
        self._sla_s = dict(sla_s)
        self._first_contact = first_contact

    def today(self) -> date:
        return self._clock().astimezone(self.zone).date()

    async def history(self, first: date, last: date, interval: Interval, queues: Queues) -> History:
        start = datetime.combine(first, time(0), self.zone)
        end = datetime.combine(last + timedelta(days=1), time(0), self.zone)
        records = await self._store.records(start, end, queues)
        contacts = await self._store.contacts(start, end, self._first_contact)
        scores = await self._store.scores(start, end)
        return fold(
            ((r.interaction, r.steps) for r in records),
            start=start,
            end=end,
            interval=interval,
            zone=self.zone,
            sla_s=self._sla_s,
            ratings=scores,
            contacts=contacts,
        )

    async def agent_names(self) -> Mapping[int, str]:
        return await self._names()


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


@api(SUPERVISORS, scope="reports:read")
async def history(request: web.Request) -> web.Response:
    reports = request.app[REPORTS]
    first = _day(request, "from", reports.today())
    last = _day(request, "to", first)
    if last < first:
        raise InvalidInput("to must not be before from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"the range is at most {MAX_DAYS} days; ask for fewer")
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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/history", history)
