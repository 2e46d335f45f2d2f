"""The router's picture as the other nodes see it: a JSON form of what the router knows.

The router node publishes a ``RouterView`` whenever its picture changes (at most every
``routing.runner.SNAPSHOT_EVERY_S``); every other node answers its consoles' questions
(an agent's state and offers, a contact's place in the queue, the supervisors' snapshot)
from the latest one it received. Pure: JSON-able dicts in and out, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.events import AgentSnapshot, AgentStateReported, QueueSnapshot, RoutingSnapshotTaken
from hub.model import Channel, Presence


@dataclass(frozen=True)
class RouterView:
    snapshot: RoutingSnapshotTaken
    offers: Mapping[int, tuple[tuple[int, datetime], ...]] = field(default_factory=dict)
    positions: Mapping[int, int] = field(default_factory=dict)  # by interaction_id
    signed_in: frozenset[int] = frozenset()  # agents with a console open on some node

    def state_of(
        self, agent_id: int, default_capacity: Mapping[Channel, int]
    ) -> AgentStateReported:
        for a in self.snapshot.agents:
            if a.agent_id == agent_id:
                return AgentStateReported(
                    agent_id, a.state, a.load, a.capacity, a.state_since, a.reason
                )
        return AgentStateReported(agent_id, Presence.OFFLINE, {}, dict(default_capacity))

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        return list(self.offers.get(agent_id, ()))

    def with_agent(
        self, state: AgentStateReported, offers: list[tuple[int, datetime]], name: str
    ) -> RouterView:
        """This view with one agent's state and offers replaced by fresher ones (a command's
        reply), so a console sees its own change at once."""
        old = {a.agent_id: a for a in self.snapshot.agents}
        prev = old.get(state.agent_id)
        old[state.agent_id] = AgentSnapshot(
            state.agent_id,
            prev.name if prev else name,
            state.state,
            state.state_since or self.snapshot.at,
            state.load,
            state.capacity,
            state.reason,
            prev.skills if prev else None,
            prev.queues if prev else (),
        )
        agents = tuple(old[k] for k in sorted(old))
        return RouterView(
            RoutingSnapshotTaken(self.snapshot.at, self.snapshot.queues, agents),
            {**self.offers, state.agent_id: tuple(offers)},
            self.positions,
            self.signed_in,
        )


def empty_view(at: datetime) -> RouterView:
    return RouterView(RoutingSnapshotTaken(at, (), ()))


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _channels(counts: Mapping[Channel, int]) -> dict[str, int]:
    return {ch.value: n for ch, n in counts.items()}


def _parse_channels(counts: Mapping[str, int]) -> dict[Channel, int]:
    return {Channel(ch): int(n) for ch, n in counts.items()}


def state_json(s: AgentStateReported) -> dict[str, Any]:
    return {
        "agent_id": s.agent_id,
        "state": s.state.value,
        "load": _channels(s.load),
        "capacity": _channels(s.capacity),
        "state_since": _time(s.state_since),
        "reason": s.reason,
    }


def parse_state(d: Mapping[str, Any]) -> AgentStateReported:
    return AgentStateReported(
        int(d["agent_id"]),
        Presence(d["state"]),
        _parse_channels(d["load"]),
        _parse_channels(d["capacity"]),
        _parse_time(d["state_since"]),
        d["reason"],
    )


def offers_json(offers: list[tuple[int, datetime]]) -> list[list[Any]]:
    return [[iid, at.isoformat()] for iid, at in offers]


def parse_offers(raw: list[list[Any]]) -> list[tuple[int, datetime]]:
    return [(int(iid), datetime.fromisoformat(at)) for iid, at in raw]


def view_json(view: RouterView) -> dict[str, Any]:
    snap = view.snapshot
    return {
        "at": snap.at.isoformat(),
        "queues": [
            {
                "name": q.name,
                "waiting": q.waiting,
                "offered": q.offered,
                "assigned": q.assigned,
                "oldest_queued_at": _time(q.oldest_queued_at),
                "entered_today": q.entered_today,
                "answered_today": q.answered_today,
                "abandoned_today": q.abandoned_today,
                "service_level_today": q.service_level_today,
                "asa_today_s": q.asa_today_s,
                "sla_s": q.sla_s,
            }
            for q in snap.queues
        ],
        "agents": [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "state": a.state.value,
                "state_since": a.state_since.isoformat(),
                "load": _channels(a.load),
                "capacity": _channels(a.capacity),
                "reason": a.reason,
                "skills": None if a.skills is None else dict(a.skills),
                "queues": list(a.queues),
            }
            for a in snap.agents
        ],
        "offers": {str(agent): offers_json(list(o)) for agent, o in view.offers.items()},
        "positions": {str(iid): p for iid, p in view.positions.items()},
        "signed_in": sorted(view.signed_in),
    }


def parse_view(d: Mapping[str, Any]) -> RouterView:
    queues = tuple(
        QueueSnapshot(**{**q, "oldest_queued_at": _parse_time(q["oldest_queued_at"])})
        for q in d["queues"]
    )
    agents = tuple(
        AgentSnapshot(
            int(a["agent_id"]),
            a["name"],
            Presence(a["state"]),
            datetime.fromisoformat(a["state_since"]),
            _parse_channels(a["load"]),
            _parse_channels(a["capacity"]),
            a["reason"],
            a["skills"],
            tuple(a["queues"]),
        )
        for a in d["agents"]
    )
    return RouterView(
        RoutingSnapshotTaken(datetime.fromisoformat(d["at"]), queues, agents),
        {int(k): tuple(parse_offers(v)) for k, v in d["offers"].items()},
        {int(k): int(v) for k, v in d["positions"].items()},
        frozenset(int(a) for a in d["signed_in"]),
    )
