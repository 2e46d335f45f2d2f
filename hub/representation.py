"""How domain records look on the wire (REST and Socket.IO alike): one place, pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.events import AgentSnapshot, AgentStateReported, QueueSnapshot, RoutingSnapshotTaken
from hub.model import Channel, Customer, IdentityKind, Interaction, Message, Note, User
from hub.ports import CustomerRecord, InteractionRecord


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def channel_counts(counts: Mapping[Channel, int]) -> dict[str, int]:
    return {ch.value: n for ch, n in sorted(counts.items())}


def agent_state_json(report: AgentStateReported) -> dict[str, Any]:
    return {
        "state": report.state.value,
        "reason": report.reason,
        "state_since": iso(report.state_since),
        "load": channel_counts(report.load),
        "capacity": channel_counts(report.capacity),
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "name": user.name,
        "email": user.email,
        "role": user.role.value,
    }


def message_json(m: Message) -> dict[str, Any]:
    return {
        "message_id": m.message_id,
        "conversation_id": m.conversation_id,
        "direction": m.direction.value,
        "author_kind": m.author_kind.value,
        "author_name": m.author_name,
        "body": m.body,
        "created_at": iso(m.created_at),
    }


def note_json(n: Note) -> dict[str, Any]:
    return {
        "note_id": n.note_id,
        "interaction_id": n.interaction_id,
        "author_name": n.author_name,
        "body": n.body,
        "created_at": iso(n.created_at),
    }


def customer_brief(c: Customer) -> dict[str, Any]:
    """What an offer or work item says of the customer: ``contact`` (their first phone number
    or address) names someone who gave no name."""
    contact = next((i.value for i in c.identities if i.kind is not IdentityKind.WEBCHAT), None)
    return {"customer_id": c.customer_id, "name": c.name, "tier": c.tier, "contact": contact}


def interaction_json(i: Interaction) -> dict[str, Any]:
    return {
        "interaction_id": i.interaction_id,
        "conversation_id": i.conversation_id,
        "customer_id": i.customer_id,
        "channel": i.channel.value,
        "queue": i.queue,
        "priority": i.priority,
        "state": i.state.value,
        "agent_id": i.agent_id,
        "closed_by": i.closed_by,
        "created_at": iso(i.created_at),
        "queued_at": iso(i.queued_at),
        "offered_at": iso(i.offered_at),
        "assigned_at": iso(i.assigned_at),
        "wrap_up_at": iso(i.wrap_up_at),
        "ended_at": iso(i.ended_at),
        "abandoned_at": iso(i.abandoned_at),
    }


def interaction_record_json(r: InteractionRecord, *, with_messages: bool) -> dict[str, Any]:
    out = interaction_json(r.interaction)
    out["agent_name"] = r.agent_name
    out["steps"] = [{"step": s.step, "agent_id": s.agent_id, "at": iso(s.at)} for s in r.steps]
    if with_messages:
        out["messages"] = [message_json(m) for m in r.messages]
    return out


def customer_record_json(rec: CustomerRecord) -> dict[str, Any]:
    c = rec.customer
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "tier": c.tier,
        "created_at": iso(c.created_at),
        "identities": [{"kind": i.kind.value, "value": i.value} for i in c.identities],
        "notes": [note_json(n) for n in rec.notes],
        "interactions": [interaction_record_json(r, with_messages=True) for r in rec.interactions],
    }


def work_item_json(
    i: Interaction,
    customer: Customer,
    messages: list[Message],
    wrap_up_until: datetime | None = None,
) -> dict[str, Any]:
    return {
        "interaction_id": i.interaction_id,
        "conversation_id": i.conversation_id,
        "channel": i.channel.value,
        "queue": i.queue,
        "state": i.state.value,
        "customer": customer_brief(customer),
        "queued_at": iso(i.queued_at),
        "assigned_at": iso(i.assigned_at),
        "wrap_up_at": iso(i.wrap_up_at),
        "wrap_up_until": iso(wrap_up_until),
        "closed_by": i.closed_by,
        "messages": [message_json(m) for m in messages],
    }


def offer_json(
    i: Interaction, customer: Customer, preview: str, expires_at: datetime, timeout_s: float
) -> dict[str, Any]:
    return {
        "interaction_id": i.interaction_id,
        "conversation_id": i.conversation_id,
        "channel": i.channel.value,
        "queue": i.queue,
        "customer": customer_brief(customer),
        "preview": preview,
        "queued_at": iso(i.queued_at),
        "offered_at": iso(i.offered_at),
        "expires_at": iso(expires_at),
        "timeout_s": timeout_s,
    }


def queue_snapshot_json(q: QueueSnapshot) -> dict[str, Any]:
    return {
        "name": q.name,
        "waiting": q.waiting,
        "offered": q.offered,
        "assigned": q.assigned,
        "oldest_queued_at": iso(q.oldest_queued_at),
        "sla_s": q.sla_s,
        "entered_today": q.entered_today,
        "answered_today": q.answered_today,
        "abandoned_today": q.abandoned_today,
        "service_level_today": q.service_level_today,
        "asa_today_s": None if q.asa_today_s is None else round(q.asa_today_s, 1),
    }


def agent_snapshot_json(a: AgentSnapshot, *, with_skills: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agent_id": a.agent_id,
        "name": a.name,
        "state": a.state.value,
        "reason": a.reason,
        "state_since": iso(a.state_since),
        "load": channel_counts(a.load),
        "capacity": channel_counts(a.capacity),
    }
    if with_skills:
        out["skills"] = dict(a.skills or {})
    return out


def snapshot_json(s: RoutingSnapshotTaken) -> dict[str, Any]:
    return {
        "at": iso(s.at),
        "queues": [queue_snapshot_json(q) for q in s.queues],
        "agents": [agent_snapshot_json(a, with_skills=True) for a in s.agents],
    }
