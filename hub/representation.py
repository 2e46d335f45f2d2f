"""How domain records look on the wire (REST and Socket.IO alike): one place, pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hub.customers import CustomField, IdentityRecord, Merge, Profile, identity_kind_json
from hub.daybook import Day
from hub.events import AgentSnapshot, AgentStateReported, QueueSnapshot, RoutingSnapshotTaken
from hub.followups import Followup
from hub.model import (
    Channel,
    Customer,
    IdentityKind,
    Interaction,
    Message,
    Note,
    Presence,
    User,
)
from hub.ports import ApiKey, CustomerRecord, InteractionRecord
from hub.satisfaction import Rating


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
        "language": user.language,
        "must_change_password": user.must_change_password,
        "totp_enabled": user.totp_enabled,
    }


def user_account_json(user: User) -> dict[str, Any]:
    """A user as an administrator sees them."""
    return {
        **user_json(user),
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def api_key_json(k: ApiKey) -> dict[str, Any]:
    """An API key as an administrator sees it: never the key, only its prefix."""
    return {
        "key_id": k.key_id,
        "name": k.name,
        "prefix": k.prefix,
        "scopes": sorted(k.scopes),
        "created_at": k.created_at.isoformat(),
        "created_by": k.created_by,
        "last_used_at": iso(k.last_used_at),
        "revoked_at": iso(k.revoked_at),
        "active": k.active,
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
        **receipt_json(m),
    }


def receipt_json(m: Message) -> dict[str, Any]:
    """A chat reply's receipts, once there are any: when the visitor's chat box received it
    and when it was on their screen (read implies delivered)."""
    if m.delivered_at is None:
        return {}
    return {"delivered_at": iso(m.delivered_at), "read_at": iso(m.read_at)}


def note_json(n: Note) -> dict[str, Any]:
    return {
        "note_id": n.note_id,
        "interaction_id": n.interaction_id,
        "author_name": n.author_name,
        "body": n.body,
        "created_at": iso(n.created_at),
        "kind": n.kind,
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
        "disposition": i.disposition,
        "wrap_up_note": i.wrap_up_note,
        "created_at": iso(i.created_at),
        "queued_at": iso(i.queued_at),
        "offered_at": iso(i.offered_at),
        "assigned_at": iso(i.assigned_at),
        "wrap_up_at": iso(i.wrap_up_at),
        "ended_at": iso(i.ended_at),
        "abandoned_at": iso(i.abandoned_at),
        "external_id": i.external_id,
    }


def rating_json(r: Rating | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "score": r.score,
        "comment": r.comment,
        "channel": r.channel.value,
        "agent_id": r.agent_id,
        "rated_at": iso(r.rated_at),
        "followup_interaction_id": r.followup_interaction_id,
    }


def interaction_record_json(r: InteractionRecord, *, with_messages: bool) -> dict[str, Any]:
    out = interaction_json(r.interaction)
    out["agent_name"] = r.agent_name
    out["rating"] = rating_json(r.rating)
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


def whisper_json(
    conversation_id: int, note_id: int, author_name: str, body: str, created_at: datetime
) -> dict[str, Any]:
    """A supervisor's whisper as a line of the agent's thread (the customer never sees it):
    ``author_name`` is the supervisor's name; the console writes the label around it."""
    return {
        "message_id": None,
        "note_id": note_id,
        "conversation_id": conversation_id,
        "direction": "in",
        "author_kind": "system",
        "author_name": author_name,
        "body": body,
        "created_at": iso(created_at),
        "whisper": True,
    }


def thread_json(
    i: Interaction, messages: list[Message], whispers: list[Note]
) -> list[dict[str, Any]]:
    """The conversation's messages with the whispers on this interaction among them, oldest
    first (a whisper written at the same instant as a message comes after it)."""
    lines = [(m.created_at, message_json(m)) for m in messages]
    lines += [
        (
            w.created_at,
            whisper_json(i.conversation_id, w.note_id, w.author_name, w.body, w.created_at),
        )
        for w in whispers
    ]
    lines.sort(key=lambda line: line[0])
    return [line for _, line in lines]


def work_item_json(
    i: Interaction,
    customer: Customer,
    messages: list[Message],
    wrap_up_until: datetime | None = None,
    whispers: list[Note] | None = None,
) -> dict[str, Any]:
    return {
        "interaction_id": i.interaction_id,
        "conversation_id": i.conversation_id,
        "channel": i.channel.value,
        "queue": i.queue,
        "state": i.state.value,
        "customer": customer_brief(customer),
        "subject": i.attributes.get("subject"),  # an email's or a task's
        "queued_at": iso(i.queued_at),
        "assigned_at": iso(i.assigned_at),
        "wrap_up_at": iso(i.wrap_up_at),
        "wrap_up_until": iso(wrap_up_until),
        "closed_by": i.closed_by,
        "messages": thread_json(i, messages, whispers or []),
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
        "subject": i.attributes.get("subject"),  # an email's, shown above its first words
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
        "queues": list(a.queues),
    }
    if with_skills:
        out["skills"] = dict(a.skills or {})
    return out


def staffing(queue: str, agents: Iterable[AgentSnapshot]) -> dict[str, int]:
    """The agents serving ``queue`` by what they do now, as the wallboard's tile counts them:
    available with nothing in hand, busy (available and holding work), or away."""
    counts = {"available": 0, "busy": 0, "away": 0}
    for a in agents:
        if queue not in a.queues:
            continue
        if a.state is Presence.AVAILABLE:
            counts["busy" if sum(a.load.values()) > 0 else "available"] += 1
        elif a.state is Presence.AWAY:
            counts["away"] += 1
    return counts


def queue_tile_json(q: QueueSnapshot, s: RoutingSnapshotTaken) -> dict[str, Any]:
    """A queue's live figures as its wallboard tile shows them (and ``GET /api/v1/queues``):
    the router's counts, the longest wait at the snapshot's time, and the staffing."""
    longest = None if q.oldest_queued_at is None else (s.at - q.oldest_queued_at).total_seconds()
    return {
        **queue_snapshot_json(q),
        "longest_wait_s": None if longest is None else round(max(0.0, longest), 1),
        "staff": staffing(q.name, s.agents),
    }


def snapshot_json(s: RoutingSnapshotTaken) -> dict[str, Any]:
    """The live picture for the wallboard; each queue with its staffing (``staffing``)."""
    return {
        "at": iso(s.at),
        "queues": [queue_tile_json(q, s) for q in s.queues],
        "agents": [agent_snapshot_json(a, with_skills=True) for a in s.agents],
    }


def ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def day_json(day: Day) -> dict[str, Any]:
    """Today's figures for the wallboard (hub.daybook): per queue, per agent, per quarter
    hour, and the waiting count a minute over the last hour."""
    return {
        "start": iso(day.start),
        "at": iso(day.now),
        "queues": {
            name: {
                "offered": q.offered,
                "answered": q.answered,
                "abandoned": q.abandoned,
                "service_level": ratio(q.service_level),
                "asa_s": None if q.asa_s is None else round(q.asa_s, 1),
            }
            for name, q in sorted(day.queues.items())
        },
        "agents": {
            str(agent_id): {
                "handled": a.handled,
                "missed": a.missed,
                "occupancy": ratio(a.occupancy),
            }
            for agent_id, a in sorted(day.agents.items())
        },
        "buckets": [
            {
                "start": iso(b.start),
                "contacts": channel_counts(b.contacts),
                "service_level": ratio(b.service_level),
            }
            for b in day.buckets
        ],
        "waiting": [{"at": iso(at), "waiting": n} for at, n in day.waiting],
    }


def identity_json(ident: IdentityRecord) -> dict[str, Any]:
    kind, value = identity_kind_json(ident)
    return {
        "identity_id": ident.identity_id,
        "kind": kind,
        "value": value,
        "created_at": iso(ident.created_at),
    }


def profile_json(p: Profile) -> dict[str, Any]:
    """A customer's profile and identities as the customers API shows them."""
    return {
        "customer_id": p.customer_id,
        "name": p.name,
        "company": p.company,
        "tier": p.tier,
        "language": p.language,
        "tags": list(p.tags),
        "owner_id": p.owner_id,
        "custom": dict(p.custom),
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "deleted_at": iso(p.deleted_at),
        "merged_into": p.merged_into,
        "erased_at": iso(p.erased_at),
        "identities": [identity_json(i) for i in p.identities],
    }


def custom_field_json(f: CustomField) -> dict[str, Any]:
    """A declared custom field, as a form needs it to offer the right input."""
    return {"name": f.name, "type": f.type.value, "choices": list(f.choices)}


def merge_json(m: Merge) -> dict[str, Any]:
    return {
        "merge_id": m.merge_id,
        "survivor_id": m.survivor_id,
        "merged_id": m.merged_id,
        "moved": m.moved.as_json(),
        "at": iso(m.at),
        "by_user_id": m.by_user_id,
        "unmerged_at": iso(m.unmerged_at),
    }


def followup_json(f: Followup) -> dict[str, Any]:
    return {
        "followup_id": f.followup_id,
        "customer_id": f.customer_id,
        "conversation_id": f.conversation_id,
        "channel": f.channel.value,
        "owner_id": f.owner_id,
        "owner_name": f.owner_name,
        "created_by": f.created_by,
        "created_by_name": f.created_by_name,
        "note": f.note,
        "queue": f.queue,
        "due_at": iso(f.due_at),
        "state": f.state.value,
        "interaction_id": f.interaction_id,
        "became_note": f.note_id is not None,
        "created_at": iso(f.created_at),
        "opened_at": iso(f.opened_at),
        "cancelled_at": iso(f.cancelled_at),
    }
