"""Historical reports, folded from stored steps (pure).

Theory of operation
-------------------
``fold`` reads interactions with their steps (``hub.timeline``: the same reading of steps as
the wallboard's day, ``hub.daybook``) and counts each fact that falls in ``[start, end)`` in
one row keyed by (interval start, queue, agent, channel). The interval (a quarter hour, an
hour or a day) is cut in local time (``reports.timezone``), so a day runs from local
midnight to local midnight, 23 or 25 hours across a clock change. ``History.grouped`` then
adds rows up by interval and queue, agent or channel. Every figure is a sum, so rows add up
to totals exactly; averages are taken last.

The queue is the interaction's queue (where it is now, as on the wallboard); the channel its
channel; the agent the one the step names (none for offered and abandoned contacts).

- *Offered*: a ``queued`` step. *Answered*: an ``assigned`` step ending a wait; its wait from
  when the interaction was first queued gives the average speed of answer (ASA), and it is
  *within SLA* when at most the queue's ``sla_s``. *Abandoned*: an ``abandoned`` step.
  *Service level* = within SLA / (answered + abandoned). For today these are exactly the
  wallboard's figures.
- *Missed*: an offer that expired or rang out on the agent. *Handled*: wrap-up started by the
  agent holding it (``closed_by_*``), as the wallboard's agents count.
- *Handle time*: an agent's work on an interaction, from ``assigned`` to the start of wrap-up
  (``closed_by_*``), or to ``ended`` when there was no wrap-up, or to a transfer (each agent
  who had a transferred contact has their own part). Counted when that work finishes;
  *AHT* = the mean over the parts finished in the row.
- *Wrap-up time*: from the start of wrap-up to ``ended``, counted at ``ended``; the average
  is over the wrap-ups finished in the row.
- *Transfers*: ``transferred`` and ``transferred_to_agent`` steps, under the agent who
  passed it on.
- *First-contact resolution* (FCR): of the interactions ended (an ``ended`` step) in the row,
  the share that were the customer's first contact: no other interaction of the same
  customer, on any channel, created in the ``first_contact`` window (24 hours by default,
  ``reports.first_contact_hours``) before it. A figure fixed when the contact ends, so a
  report never changes after the fact.
- *CSAT average*: the mean of ``ratings`` (interaction id -> score) of the interactions ended
  in the row; None when none of them was rated.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from hub.daybook import QueueDay
from hub.model import Channel, Interaction, Step
from hub.timeline import walk

FIRST_CONTACT_WINDOW = timedelta(hours=24)
Group = Literal["queue", "agent", "channel"]
GROUPS: tuple[Group, ...] = ("queue", "agent", "channel")


class Interval(enum.StrEnum):
    QUARTER = "15min"
    HOUR = "hour"
    DAY = "day"


# A step that always lands in the next interval once truncated (a local day is 23 to 25 h).
_STRIDE = {
    Interval.QUARTER: timedelta(minutes=15),
    Interval.HOUR: timedelta(hours=1),
    Interval.DAY: timedelta(hours=25),
}


def interval_start(at: datetime, interval: Interval, zone: tzinfo) -> datetime:
    """The start (UTC) of the local interval ``at`` falls in."""
    local = at.astimezone(zone)
    if interval is Interval.DAY:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif interval is Interval.HOUR:
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    return local.astimezone(UTC)


def interval_starts(
    start: datetime, end: datetime, interval: Interval, zone: tzinfo
) -> list[datetime]:
    """Every interval starting in ``[start, end)`` (the first one holding ``start``)."""
    out: list[datetime] = []
    at = interval_start(start, interval, zone)
    while at < end:
        out.append(at)
        at = interval_start(at + _STRIDE[interval], interval, zone)
    return out


@dataclass(slots=True)
class Figures(QueueDay):
    """Sums for one row; the averages and ratios are properties (service level and ASA as
    the wallboard's day counts them, ``hub.daybook.QueueDay``)."""

    missed: int = 0
    handled: int = 0
    handle_parts: int = 0
    handle_s: float = 0.0
    wrap_ups: int = 0
    wrap_up_s: float = 0.0
    transfers: int = 0
    ended: int = 0
    first_contacts: int = 0
    rated: int = 0
    rating_sum: float = 0.0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def aht_s(self) -> float | None:
        return self.handle_s / self.handle_parts if self.handle_parts else None

    @property
    def wrap_up_avg_s(self) -> float | None:
        return self.wrap_up_s / self.wrap_ups if self.wrap_ups else None

    @property
    def fcr(self) -> float | None:
        return self.first_contacts / self.ended if self.ended else None

    @property
    def csat_avg(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


@dataclass(frozen=True, slots=True)
class Key:
    start: datetime
    queue: str
    agent_id: int | None
    channel: Channel

    def of(self, group: Group) -> str | int | None:
        if group == "queue":
            return self.queue
        if group == "agent":
            return self.agent_id
        return self.channel.value


GroupValue = str | int | None


@dataclass(frozen=True, slots=True)
class Row:
    start: datetime
    value: GroupValue  # the queue, agent id (None: no agent) or channel
    figures: Figures


def _order(value: GroupValue) -> tuple[int, str]:
    # None (no agent) first, then ids by number, names alphabetically.
    if value is None:
        return (0, "")
    if isinstance(value, int):
        return (1, f"{value:020d}")
    return (2, value)


@dataclass(frozen=True, slots=True)
class History:
    start: datetime
    end: datetime
    interval: Interval
    intervals: list[datetime]
    rows: dict[Key, Figures] = field(default_factory=dict)

    def grouped(self, group: Group) -> list[Row]:
        """Rows by interval and ``group``, oldest first (only those where something
        happened)."""
        sums: dict[tuple[datetime, GroupValue], Figures] = {}
        for key, figures in self.rows.items():
            sums.setdefault((key.start, key.of(group)), Figures()).add(figures)
        return [
            Row(at, value, figures)
            for (at, value), figures in sorted(
                sums.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))
            )
        ]

    def totals(self, group: Group) -> list[Row]:
        """One row per queue, agent or channel over the whole range (``start`` is the
        range's)."""
        sums: dict[GroupValue, Figures] = {}
        for key, figures in self.rows.items():
            sums.setdefault(key.of(group), Figures()).add(figures)
        return [Row(self.start, v, sums[v]) for v in sorted(sums, key=_order)]

    def total(self) -> Figures:
        out = Figures()
        for figures in self.rows.values():
            out.add(figures)
        return out


def _first_contact(
    interaction: Interaction, contacts: Sequence[tuple[datetime, int]], window: timedelta
) -> bool:
    own = (interaction.created_at, interaction.interaction_id)
    since = interaction.created_at - window
    return not any(since <= at and (at, iid) < own for at, iid in contacts)


def fold(
    records: Iterable[tuple[Interaction, Sequence[Step]]],
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
    zone: tzinfo,
    sla_s: Mapping[str, float],
    ratings: Mapping[int, float] | None = None,
    contacts: Mapping[int, Iterable[tuple[datetime, int]]] | None = None,
    first_contact: timedelta = FIRST_CONTACT_WINDOW,
) -> History:
    """The figures of ``[start, end)`` by interval, queue, agent and channel.

    ``records`` are the interactions with a step in the range (others add nothing);
    ``contacts``: customer id -> (created_at, interaction id) of their other interactions
    that may precede those in ``records`` (the records' own are added), for FCR; ``ratings``:
    interaction id -> satisfaction score."""
    records = list(records)
    ratings = ratings or {}
    known: dict[int, set[tuple[datetime, int]]] = {}
    for customer_id, seen in (contacts or {}).items():
        known.setdefault(customer_id, set()).update(seen)
    for interaction, _ in records:
        known.setdefault(interaction.customer_id, set()).add(
            (interaction.created_at, interaction.interaction_id)
        )
    history = History(start, end, interval, interval_starts(start, end, interval, zone))
    rows = history.rows

    for interaction, steps in records:
        sla = sla_s.get(interaction.queue, 0.0)

        def row(at: datetime, agent_id: int | None, i: Interaction = interaction) -> Figures | None:
            if not start <= at < end:
                return None
            key = Key(interval_start(at, interval, zone), i.queue, agent_id, i.channel)
            return rows.setdefault(key, Figures())

        line = walk(steps)
        for at in line.entered:
            if (r := row(at, None)) is not None:
                r.offered += 1
        for answer in line.answers:
            if (r := row(answer.at, answer.agent_id)) is not None:
                r.answered += 1
                r.answer_wait_s += answer.wait_s
                r.within_sla += answer.wait_s <= sla
        for at in line.abandoned:
            if (r := row(at, None)) is not None:
                r.abandoned += 1
        for mark in line.missed:
            if (r := row(mark.at, mark.agent_id)) is not None:
                r.missed += 1
        for mark in line.closed:
            if (r := row(mark.at, mark.agent_id)) is not None:
                r.handled += 1
        for part in line.handling:
            if part.end is not None and (r := row(part.end, part.agent_id)) is not None:
                r.handle_parts += 1
                r.handle_s += (part.end - part.begin).total_seconds()
        for part in line.wrap_ups:
            if part.end is not None and (r := row(part.end, part.agent_id)) is not None:
                r.wrap_ups += 1
                r.wrap_up_s += (part.end - part.begin).total_seconds()
        for mark in line.transfers:
            if (r := row(mark.at, mark.agent_id)) is not None:
                r.transfers += 1
        for mark in line.ended:
            if (r := row(mark.at, mark.agent_id)) is not None:
                r.ended += 1
                seen = sorted(known.get(interaction.customer_id, ()))
                r.first_contacts += _first_contact(interaction, seen, first_contact)
                score = ratings.get(interaction.interaction_id)
                if score is not None:
                    r.rated += 1
                    r.rating_sum += score
    return history
