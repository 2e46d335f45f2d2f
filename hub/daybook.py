"""Today's figures for the wallboard, folded from stored steps (pure).

Theory of operation
-------------------
The day is the hub's local day (``reports.timezone``): it starts at local midnight. Every
figure is computed from what is stored (interactions with their steps, and agents' state
steps), so it survives a restart and agrees with the CSV export. ``fold`` is a function of
its arguments only: time comes in as ``start`` and ``now``. What each step means is
``hub.timeline``'s, shared with the historical reports (``hub.history``).

- An interaction *waits* from its ``queued`` (or ``transferred*``) step until it is
  ``assigned`` or ``abandoned``; an expired or declined offer does not end the wait.
- *Offered* to a queue: a ``queued`` step today. *Answered*: an ``assigned`` step today; its
  wait since it was first queued (a transfer keeps its age, as in the router) counts for the
  average speed of answer (ASA), and it is *within SLA* when that wait is at most the
  queue's ``sla_s``. *Abandoned*: an ``abandoned`` step today.
- Service level = within SLA / (answered + abandoned), as the router counts it.
- An agent *handled* an interaction when it was closed while they held it (``closed_by_*``);
  a *missed offer* is one that expired or rang out on them.
- *Occupancy* = time holding at least one interaction (assigned or in wrap-up) / time signed
  in (not offline), both since ``start``; concurrent chats do not count twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from hub.model import AgentStep, Channel, Interaction, Presence, Step
from hub.timeline import Span, walk

BUCKET = timedelta(minutes=15)
WAITING_WINDOW = timedelta(hours=1)
WAITING_STEP = timedelta(minutes=1)


def day_start(now: datetime, zone: tzinfo) -> datetime:
    """Local midnight (in ``zone``) of the day ``now`` falls in, as UTC."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


@dataclass(slots=True)
class QueueDay:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_sla: int = 0
    answer_wait_s: float = 0.0

    @property
    def service_level(self) -> float | None:
        settled = self.answered + self.abandoned
        return self.within_sla / settled if settled else None

    @property
    def asa_s(self) -> float | None:
        return self.answer_wait_s / self.answered if self.answered else None


@dataclass(slots=True)
class AgentDay:
    handled: int = 0
    missed: int = 0
    busy_s: float = 0.0
    signed_in_s: float = 0.0

    @property
    def occupancy(self) -> float | None:
        if self.signed_in_s <= 0:
            return None
        return min(1.0, self.busy_s / self.signed_in_s)


@dataclass(slots=True)
class Bucket:
    """One quarter hour: contacts offered by channel, and how the answers went."""

    start: datetime
    contacts: dict[Channel, int] = field(default_factory=dict)
    answered: int = 0
    abandoned: int = 0
    within_sla: int = 0

    @property
    def service_level(self) -> float | None:
        settled = self.answered + self.abandoned
        return self.within_sla / settled if settled else None


@dataclass(slots=True)
class Day:
    start: datetime
    now: datetime
    queues: dict[str, QueueDay]
    agents: dict[int, AgentDay]
    buckets: list[Bucket]
    waiting: list[tuple[datetime, int]]  # one point a minute over the last hour


def _overlap(stays: Iterable[Span], start: datetime, now: datetime) -> float:
    """Seconds of ``[start, now)`` covered by the union of the stays."""
    spans = sorted(
        (max(s.begin, start), min(s.end or now, now))
        for s in stays
        if (s.end or now) > start and s.begin < now
    )
    total, cur_begin, cur_end = 0.0, None, None
    for begin, end in spans:
        if end <= begin:
            continue
        if cur_end is None or begin > cur_end:
            if cur_end is not None and cur_begin is not None:
                total += (cur_end - cur_begin).total_seconds()
            cur_begin, cur_end = begin, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None and cur_begin is not None:
        total += (cur_end - cur_begin).total_seconds()
    return total


def fold(
    records: Iterable[tuple[Interaction, Sequence[Step]]],
    agent_steps: Iterable[AgentStep],
    *,
    start: datetime,
    now: datetime,
    sla_s: Mapping[str, float],
    queues: Iterable[str] = (),
) -> Day:
    """Today's figures from the stored steps (``records`` may include older interactions
    still open today; ``agent_steps`` should include each agent's last step before
    ``start``, so their state at midnight is known)."""
    queue_days = {name: QueueDay() for name in queues}
    agents: dict[int, AgentDay] = {}
    count = max(1, int((now - start) / BUCKET) + 1)
    buckets = [Bucket(start + i * BUCKET) for i in range(count)]
    waits: list[Span] = []
    held: dict[int, list[Span]] = {}

    def bucket(at: datetime) -> Bucket | None:
        if not start <= at <= now:
            return None
        return buckets[min(int((at - start) / BUCKET), len(buckets) - 1)]

    def agent(agent_id: int) -> AgentDay:
        return agents.setdefault(agent_id, AgentDay())

    for interaction, steps in records:
        q = queue_days.setdefault(interaction.queue, QueueDay())
        sla = sla_s.get(interaction.queue, 0.0)
        line = walk(steps)
        for at in line.entered:
            if start <= at <= now:
                q.offered += 1
                b = bucket(at)
                if b is not None:
                    b.contacts[interaction.channel] = b.contacts.get(interaction.channel, 0) + 1
        for answer in line.answers:
            if start <= answer.at <= now:
                q.answered += 1
                q.answer_wait_s += answer.wait_s
                within = answer.wait_s <= sla
                q.within_sla += within
                b = bucket(answer.at)
                if b is not None:
                    b.answered += 1
                    b.within_sla += within
        for at in line.abandoned:
            if start <= at <= now:
                q.abandoned += 1
                b = bucket(at)
                if b is not None:
                    b.abandoned += 1
        for mark in line.missed:
            if mark.agent_id is not None and start <= mark.at <= now:
                agent(mark.agent_id).missed += 1
        for mark in line.closed:
            if mark.agent_id is not None and start <= mark.at <= now:
                agent(mark.agent_id).handled += 1
        waits.extend(line.waits)
        for stay in line.held:
            held.setdefault(stay.agent_id, []).append(Span(stay.begin, stay.end))

    for agent_id, stays in held.items():
        agent(agent_id).busy_s = _overlap(stays, start, now)

    signed_in: dict[int, list[Span]] = {}
    since: dict[int, datetime] = {}
    for step in sorted(agent_steps, key=lambda a: a.at):
        was = since.pop(step.agent_id, None)
        if was is not None:
            signed_in.setdefault(step.agent_id, []).append(Span(was, step.at))
        if step.state is not Presence.OFFLINE:
            since[step.agent_id] = step.at
    for agent_id, was in since.items():
        signed_in.setdefault(agent_id, []).append(Span(was, None))
    for agent_id, stays in signed_in.items():
        agent(agent_id).signed_in_s = _overlap(stays, start, now)

    first = max(start, now - WAITING_WINDOW)
    recent = [w for w in waits if w.end is None or w.end > first]
    points = []
    at = first
    while at <= now:
        points.append(
            (at, sum(1 for w in recent if w.begin <= at and (w.end is None or at < w.end)))
        )
        at += WAITING_STEP
    return Day(start, now, queue_days, agents, buckets, points)
