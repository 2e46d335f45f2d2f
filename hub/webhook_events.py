"""Which bus events become which webhook events, and the JSON posted for them (pure).

The ``data`` of each type is built from the same representations the REST API returns, so an
integrator reads one shape everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.events import (
    CustomerChanged,
    InteractionAbandoned,
    InteractionAssigned,
    InteractionCreated,
    InteractionEnded,
    InteractionRated,
    MessageReceived,
    ReplySent,
)
from hub.representation import interaction_json, iso, message_json, profile_json, rating_json
from hub.webhooks import WebhookEvent

BUS_EVENTS: tuple[type, ...] = (
    InteractionCreated,
    InteractionAssigned,
    InteractionEnded,
    InteractionAbandoned,
    MessageReceived,
    ReplySent,
    CustomerChanged,
    InteractionRated,
)


def webhook_event(event: object) -> tuple[str, dict[str, Any]] | None:
    """The webhook type and ``data`` of a bus event, or None if it is not one we send."""
    match event:
        case InteractionCreated(interaction=i):
            return "interaction.created", {"interaction": interaction_json(i)}
        case InteractionAssigned(interaction=i, agent_name=name):
            return "interaction.assigned", {"interaction": interaction_json(i), "agent_name": name}
        case InteractionEnded(interaction=i):
            return "interaction.ended", {"interaction": interaction_json(i)}
        case InteractionAbandoned(interaction=i):
            return "interaction.abandoned", {"interaction": interaction_json(i)}
        case InteractionRated(interaction=i, rating=r, replaced=replaced):
            return "csat.received", {
                "interaction": interaction_json(i),
                "rating": rating_json(r),
                "replaced": replaced,
            }
        case MessageReceived(interaction=i, message=m) | ReplySent(interaction=i, message=m):
            message = message_json(m) | {"interaction_id": i.interaction_id}
            return "message.created", {
                "message": message,
                "interaction": interaction_json(i),
            }
        case CustomerChanged(kind=kind, profile=p, change=change, detail=detail):
            data = {"customer": profile_json(p), "change": change}
            return f"customer.{kind}", data | dict(detail or {})
    return None


def webhook_payload(
    event_id: str, event_type: str, created_at: datetime, data: Mapping[str, Any]
) -> WebhookEvent:
    """The event as posted: ``{"id", "type", "created_at", "data"}`` as compact JSON."""
    document = {"id": event_id, "type": event_type, "created_at": iso(created_at), "data": data}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return WebhookEvent(event_id, event_type, created_at, body)
