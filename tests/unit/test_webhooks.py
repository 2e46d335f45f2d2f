"""The pure webhook rules: signature, retry schedule, what a subscription may say, and which
bus events become which webhook events."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.errors import InvalidInput
from hub.events import InteractionCreated, InteractionRated, MessageReceived, OfferWithdrawn
from hub.model import AuthorKind, Channel, Direction, Interaction, InteractionState, Message
from hub.satisfaction import Rating
from hub.webhook_events import webhook_event, webhook_payload
from hub.webhooks import (
    RetryPolicy,
    next_attempt_at,
    signature,
    signature_valid,
    subscription_change,
    valid_event_types,
    valid_url,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = '{"id":"evt_1"}'
    expected = hmac.new(b"whsec_x", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
    assert signature("whsec_x", 1700000000, body) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    ("secret", "body", "sent_at", "valid"),
    [
        ("whsec_x", "{}", NOW, True),
        ("whsec_y", "{}", NOW, False),  # another secret
        ("whsec_x", '{"a":1}', NOW, False),  # body changed in transit
        ("whsec_x", "{}", NOW - timedelta(minutes=10), False),  # an old replay
    ],
)
def test_webhook_signature_checked_as_a_receiver_would(
    secret: str, body: str, sent_at: datetime, valid: bool
) -> None:
    header = signature("whsec_x", int(sent_at.timestamp()), "{}")
    assert signature_valid(secret, header, body, now=NOW) is valid


def test_webhook_signature_garbage_header_is_invalid() -> None:
    assert not signature_valid("s", "v1=abc", "{}", now=NOW)
    assert not signature_valid("s", "t=x,v1=abc", "{}", now=NOW)


def test_webhook_retries_double_with_jitter_and_stop_at_the_deadline() -> None:
    policy = RetryPolicy(initial_s=30, max_s=3600, give_up_after_s=24 * 3600)
    give_up_at = NOW + timedelta(seconds=policy.give_up_after_s)
    rng = random.Random(7)
    at, attempts, waits = NOW, 1, []
    while due := next_attempt_at(policy, attempts, now=at, give_up_at=give_up_at, rng=rng):
        waits.append((due - at).total_seconds())
        at, attempts = due, attempts + 1
    assert at == give_up_at  # the last attempt falls on the deadline, then it gives up
    for n, wait in enumerate(waits[:7], start=1):
        nominal = 30 * 2 ** (n - 1)
        assert nominal / 2 <= wait <= nominal
    assert max(waits) <= 3600
    assert 25 <= attempts <= 50  # about a day of hourly tries after the first few minutes


def test_webhook_retry_after_the_deadline_gives_up() -> None:
    policy = RetryPolicy(initial_s=1, max_s=10, give_up_after_s=60)
    rng = random.Random(1)
    assert next_attempt_at(policy, 3, now=NOW, give_up_at=NOW, rng=rng) is None
    soon = next_attempt_at(policy, 9, now=NOW, give_up_at=NOW + timedelta(seconds=2), rng=rng)
    assert soon == NOW + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://erp.example.com/hooks?token=1", True),
        ("http://127.0.0.1:8099/hooks", True),
        ("http://localhost/hooks", True),
        ("http://[::1]:80/h", True),
        ("http://erp.example.com/hooks", False),
        ("ftp://erp.example.com/", False),
        ("https://user:pw@erp.example.com/", False),
        ("https://erp.example.com:99999/", False),
        ("https:///nohost", False),
        ("", False),
        (42, False),
    ],
)
def test_webhook_url_must_be_https_or_loopback(url: object, ok: bool) -> None:
    if ok:
        assert valid_url(url) == url
    else:
        with pytest.raises(InvalidInput, match="url"):
            valid_url(url)


def test_webhook_event_types_named_when_wrong() -> None:
    assert valid_event_types(["message.created", "*", "message.created"]) == (
        "message.created",
        "*",
    )
    with pytest.raises(InvalidInput, match=r"'order\.paid' is not an event type"):
        valid_event_types(["order.paid"])
    for empty in ([], "message.created", None):
        with pytest.raises(InvalidInput, match="events must be a non-empty list"):
            valid_event_types(empty)


def test_webhook_subscription_change_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="url is required"):
        subscription_change({"events": ["*"]}, creating=True)
    with pytest.raises(InvalidInput, match="enabled must be true or false"):
        subscription_change({"enabled": "yes"}, creating=False)
    with pytest.raises(InvalidInput, match="description"):
        subscription_change({"description": "x" * 201}, creating=False)
    assert subscription_change({"enabled": False}, creating=False).url is None


def _interaction() -> Interaction:
    return Interaction(
        interaction_id=5,
        conversation_id=4,
        customer_id=3,
        channel=Channel.WEBCHAT,
        queue="support",
        priority=0,
        state=InteractionState.QUEUED,
        created_at=NOW,
        queued_at=NOW,
    )


def test_webhook_events_from_bus_events() -> None:
    interaction = _interaction()
    message = Message(
        message_id=9,
        conversation_id=4,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        author_name="Carol",
        body="hi",
        created_at=NOW,
        interaction_id=5,
    )
    created = webhook_event(InteractionCreated(interaction))
    assert created is not None and created[0] == "interaction.created"
    assert created[1]["interaction"]["interaction_id"] == 5
    received = webhook_event(MessageReceived(interaction, message))
    assert received is not None and received[0] == "message.created"
    assert received[1]["message"]["body"] == "hi"
    rating = Rating(5, 3, 1, Channel.WEBCHAT, 2, "slow", NOW, NOW)
    rated = webhook_event(InteractionRated(interaction, rating, replaced=True))
    assert rated is not None and rated[0] == "csat.received"  # the name issue 7 gives it
    assert rated[1]["rating"]["score"] == 2 and rated[1]["rating"]["comment"] == "slow"
    assert rated[1]["replaced"] is True and rated[1]["interaction"]["interaction_id"] == 5
    assert webhook_event(OfferWithdrawn(5, 1, "expired")) is None
    event = webhook_payload("evt_1", created[0], NOW, created[1])
    assert json.loads(event.body) == {
        "id": "evt_1",
        "type": "interaction.created",
        "created_at": NOW.isoformat(),
        "data": created[1],
    }


def test_readme_signature_check_accepts_the_hubs_signature_and_refuses_a_forgery() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Integrations: webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the integrator's snippet, as printed
    verified = namespace["verified"]
    body = '{"id":"evt_1","type":"interaction.created"}'
    header = signature("whsec_k", int(time.time()), body)
    assert verified("whsec_k", header, body.encode())
    assert not verified("whsec_other", header, body.encode())
    assert not verified("whsec_k", header, body.encode() + b" ")
    old = signature("whsec_k", int(time.time()) - 3600, body)
    assert not verified("whsec_k", old, body.encode())
