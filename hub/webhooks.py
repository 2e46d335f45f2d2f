"""Outbound webhooks, the pure part: the event types, the signature, the retry schedule,
what a subscription may say, and the records the store and the sender exchange.

Theory of operation:

- An event's payload is ``{"id", "type", "created_at", "data"}``, serialised once when the
  event happens and stored with each delivery, so a retry or a redelivery sends the same
  bytes; ``id`` is the event's (the same for every subscription, stable across retries), so
  a receiver can drop repeats: delivery is at least once.
- The signature is ``X-Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  f"{t}.{body}")>``, made at each attempt, so a receiver can refuse old replays by ``t``.
- A failed attempt is retried after ``initial_s`` doubling up to ``max_s``, each wait drawn
  uniformly from its upper half (jitter, so a receiver back up is not hit by every hub at
  once), until ``give_up_after_s`` from when the event happened; the last attempt falls on
  that deadline, and a failure then marks the delivery failed.
- Deliveries of one subscription are not ordered: a retried event can arrive after a later
  one. Receivers order by ``created_at`` (or re-read the record) when order matters.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from hub.errors import InvalidInput

# The events a subscription may ask for (the bus announces each of these today).
EVENT_TYPES = (
    "interaction.created",
    "interaction.assigned",
    "interaction.ended",
    "interaction.abandoned",
    "csat.received",
    "message.created",
    "customer.created",
    "customer.updated",
    "customer.merged",
)
ALL_EVENTS = "*"  # every event, including those added in later versions
PING = "ping"  # sent to one subscription when an admin asks, to try the receiver
MAX_URL = 2000
MAX_DESCRIPTION = 200
SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Hub-Delivery"
EVENT_HEADER = "X-Hub-Event"
LOOPBACK_HOSTS = frozenset({"localhost"})


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event as the receivers get it: ``body`` is the exact JSON text posted."""

    event_id: str
    event_type: str
    created_at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: int
    url: str
    event_types: tuple[str, ...]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one subscription, as the delivery log shows it."""

    delivery_id: int
    subscription_id: int
    event_id: str
    event_type: str
    state: str  # pending, sending, delivered, failed
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    give_up_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None  # the receiver's HTTP status, None when none came back
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery, with what the sender needs to post it."""

    delivery_id: int
    url: str
    secret: str
    event_type: str
    body: str
    attempts: int  # including this one
    give_up_at: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float = 30.0
    max_s: float = 3600.0
    give_up_after_s: float = 24 * 3600.0


def signature(secret: str, timestamp: int, body: str) -> str:
    """The ``X-Hub-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_valid(
    secret: str, header: str, body: str, *, now: datetime, tolerance_s: float = 300
) -> bool:
    """What a receiver checks: a ``v1`` that matches, made within ``tolerance_s`` of ``now``."""
    parts = dict(p.partition("=")[::2] for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not stamp.isdigit() or abs(now.timestamp() - int(stamp)) > tolerance_s:
        return False
    expected = signature(secret, int(stamp), body).partition(",v1=")[2]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def next_attempt_at(
    policy: RetryPolicy,
    attempts: int,
    *,
    now: datetime,
    give_up_at: datetime,
    rng: random.Random,
) -> datetime | None:
    """When to try again after attempt number ``attempts`` failed at ``now``; None: give up."""
    if now >= give_up_at:
        return None
    delay = min(policy.max_s, policy.initial_s * 2 ** max(0, attempts - 1))
    wait = rng.uniform(delay / 2, delay)
    return min(now + timedelta(seconds=wait), give_up_at)


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """What an admin asked to set; None leaves a field as it is."""

    url: str | None = None
    event_types: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


def subscription_change(fields: Mapping[str, Any], *, creating: bool) -> SubscriptionChange:
    """Validate an admin's input (REST body or CLI options); InvalidInput names the field."""
    known = {"url", "events", "description", "enabled"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; expected {', '.join(sorted(known))}")
    if creating:
        for name in ("url", "events"):
            if fields.get(name) is None:
                raise InvalidInput(f"{name} is required")
    url = fields.get("url")
    events = fields.get("events")
    description = fields.get("description")
    enabled = fields.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false")
    if description is not None:
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"description must be text of at most {MAX_DESCRIPTION} characters")
    return SubscriptionChange(
        url=None if url is None else valid_url(url),
        event_types=None if events is None else valid_event_types(events),
        description=description,
        enabled=enabled,
    )


def valid_url(url: object) -> str:
    """An https URL, or http to this machine's loopback (for a receiver beside the hub)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("url must be an https:// address")
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidInput(f"url must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise InvalidInput("url is not a valid address") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        raise InvalidInput("url needs a host and no user name or password in it")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise InvalidInput("url must be https:// (plain http only to 127.0.0.1 or localhost)")


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def valid_event_types(events: object) -> tuple[str, ...]:
    if isinstance(events, str) or not isinstance(events, Sequence) or not events:
        raise InvalidInput("events must be a non-empty list of event types")
    out: list[str] = []
    for name in events:
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise InvalidInput(
                f"events: {name!r} is not an event type; use {ALL_EVENTS!r} or any of "
                + ", ".join(EVENT_TYPES)
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def matches(event_types: Sequence[str], event_type: str) -> bool:
    return ALL_EVENTS in event_types or event_type in event_types


def subscription_json(s: Subscription) -> dict[str, Any]:
    """A subscription as an admin sees it: never its secret."""
    return {
        "subscription_id": s.subscription_id,
        "url": s.url,
        "events": list(s.event_types),
        "description": s.description,
        "enabled": s.enabled,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.state,
        "attempts": d.attempts,
        "created_at": iso(d.created_at),
        "last_attempt_at": iso(d.last_attempt_at),
        "last_http_status": d.last_status,
        "last_error": d.last_error,
        "next_attempt_at": iso(d.next_attempt_at),
        "give_up_at": iso(d.give_up_at),
        "delivered_at": iso(d.delivered_at),
    }
