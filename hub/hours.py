"""Business hours: named weekly schedules with holidays, in their own time zone (pure).

Theory of operation
-------------------
A ``Schedule`` says whether a place is open at an instant. It holds, for each weekday
(Monday = 0), a list of opening spans in local wall-clock time, and a set of local dates on
which it is closed all day (holidays). ``is_open(now)`` converts ``now`` (aware UTC) to the
schedule's zone, so daylight-saving changes are the zone database's business, not ours.

A span whose end is not after its start runs past midnight ("22:00-06:00" on Friday is open
Friday 22:00 to Saturday 06:00); the part after midnight belongs to the day it started on, so
a holiday on Saturday does not shut Friday's night shift. "24:00" may end a span.

Config shape (``business_hours:`` in config.yaml), refused whole with a message naming the
schedule, the field and the problem::

    default:
      timezone: Europe/London
      weekly: {mon-fri: "09:00-17:30", sat: "10:00-12:00, 13:00-16:00"}
      holidays: [2026-12-25, 2026-12-26]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MIDNIGHT = 24 * 60


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    zone: ZoneInfo
    # weekday -> spans as (start, end) minutes from local midnight; end may exceed 1440
    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date]

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        today = local.date()
        for day, offset in ((today, 0), (today - timedelta(days=1), _MIDNIGHT)):
            if day in self.holidays:
                continue
            for start, end in self.weekly.get(day.weekday(), ()):
                if start <= minute + offset < end:
                    return True
        return False


def parse_schedule(name: str, raw: object) -> Schedule:
    """A schedule from its config mapping; ``InvalidInput`` names what is wrong."""
    where = f"business_hours.{name}"
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: must be a mapping with timezone, weekly and holidays")
    unknown = sorted(set(raw) - {"timezone", "weekly", "holidays"})
    if unknown:
        raise InvalidInput(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    zone_name = raw.get("timezone", "UTC")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{where}.timezone: unknown time zone {zone_name!r}") from None
    weekly_raw = raw.get("weekly", {})
    if not isinstance(weekly_raw, Mapping):
        raise InvalidInput(f"{where}.weekly: must map days (mon, mon-fri ...) to hours")
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for days_text, spans_text in weekly_raw.items():
        spans = _spans(f"{where}.weekly.{days_text}", spans_text)
        for day in _days(f"{where}.weekly", str(days_text)):
            if day in weekly:
                raise InvalidInput(f"{where}.weekly: {DAYS[day]} is given twice")
            weekly[day] = spans
    return Schedule(name, zone, weekly, _holidays(f"{where}.holidays", raw.get("holidays", [])))


def parse_schedules(raw: Mapping[str, object]) -> dict[str, Schedule]:
    return {str(name): parse_schedule(str(name), value) for name, value in raw.items()}


def _days(where: str, text: str) -> list[int]:
    first, dash, last = text.strip().lower().partition("-")
    if first not in DAYS or (dash and last not in DAYS):
        raise InvalidInput(f"{where}: {text!r} is not a day or range like mon-fri")
    start = DAYS.index(first)
    end = DAYS.index(last) if dash else start
    if end < start:
        raise InvalidInput(f"{where}: {text!r} runs backwards; write it as two entries")
    return list(range(start, end + 1))


def _spans(where: str, text: object) -> tuple[tuple[int, int], ...]:
    if not isinstance(text, str):
        raise InvalidInput(f'{where}: must be hours like "09:00-17:00" (or "closed")')
    if text.strip().lower() == "closed":
        return ()
    spans = []
    for part in text.split(","):
        match = _SPAN.match(part)
        if match is None:
            raise InvalidInput(f"{where}: {part.strip()!r} is not a span like 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise InvalidInput(f"{where}: {part.strip()!r} is not a valid time of day")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            end += _MIDNIGHT  # past midnight
        spans.append((start, end))
    return tuple(spans)


def _holidays(where: str, raw: object) -> frozenset[date]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidInput(f"{where}: must be a list of dates like 2026-12-25")
    days = set()
    for item in raw:
        if isinstance(item, datetime):
            item = item.date()
        if isinstance(item, date):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError:
            raise InvalidInput(f"{where}: {item!r} is not a date like 2026-12-25") from None
    return frozenset(days)
