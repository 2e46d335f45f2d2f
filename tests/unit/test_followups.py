"""Follow-ups' rules (pure): what a request to schedule may say, and who may list or cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.access import followups_of, require_followup_cancel
from hub.errors import Forbidden, InvalidInput
from hub.followups import (
    FollowupState,
    check_queue,
    opening_text,
    parse_request,
    parse_state,
)
from hub.model import Channel, Role, User
from hub.ports import ApiKey

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def user(user_id: int, role: Role = Role.AGENT) -> User:
    return User(user_id, f"u{user_id}@example.com", f"User {user_id}", role, NOW)


KEY = ApiKey(1, "crm", "chk_abcdefgh", frozenset({"customers:read"}), NOW, "admin@example.com")


def test_followups_request_reads_every_field() -> None:
    wanted = parse_request(
        {
            "due_at": "2026-12-08T10:30:00+01:00",
            "note": "  Call back about the refund  ",
            "queue": "care",
            "interaction_id": 7,
        },
        NOW,
    )

    assert wanted.due_at == datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    assert wanted.due_at.tzinfo is UTC
    assert (wanted.note, wanted.queue, wanted.interaction_id) == (
        "Call back about the refund",
        "care",
        7,
    )


def test_followups_request_queue_and_interaction_are_optional() -> None:
    wanted = parse_request({"due_at": "2026-12-07T09:00:01Z", "note": "x"}, NOW)

    assert (wanted.queue, wanted.interaction_id) == (None, None)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"due_at": None}, "due_at", "ISO 8601"),
        ({"due_at": 1765098000}, "due_at", "ISO 8601"),
        ({"due_at": "next tuesday"}, "due_at", "ISO 8601"),
        ({"due_at": "2026-12-08T10:30:00"}, "due_at", "offset"),
        ({"due_at": "9999-12-31T23:59:59-23:59"}, "due_at", "ISO 8601"),  # past the calendar
        ({"due_at": "0001-01-01T00:00:00+23:59"}, "due_at", "ISO 8601"),
        ({"due_at": "2026-12-07T09:00:00Z"}, "due_at", "future"),  # now is not the future
        ({"due_at": "2026-12-07T08:00:00Z"}, "due_at", "future"),
        ({"due_at": "2027-12-09T09:00:00Z"}, "due_at", "a year"),
        ({"note": None}, "note", "non-empty"),
        ({"note": "   "}, "note", "non-empty"),
        ({"note": 5}, "note", "non-empty"),
        ({"note": "x" * 2001}, "note", "2000"),
        ({"note": "a\x00b"}, "note", "NUL"),
        ({"queue": ""}, "queue", "queue"),
        ({"queue": 3}, "queue", "queue"),
        ({"interaction_id": "7"}, "interaction_id", "id"),
        ({"interaction_id": True}, "interaction_id", "id"),
        ({"interaction_id": 0}, "interaction_id", "id"),
        ({"interaction_id": 2**63}, "interaction_id", "id"),
    ],
)
def test_followups_request_refusal_names_the_field(
    change: dict[str, Any], field: str, words: str
) -> None:
    data = {"due_at": "2026-12-08T09:00:00Z", "note": "Call back", **change}

    with pytest.raises(InvalidInput) as refused:
        parse_request(data, NOW)

    assert refused.value.message.startswith(field), refused.value.message
    assert words in refused.value.message


def test_followups_request_note_of_exactly_the_limit_is_taken() -> None:
    wanted = parse_request({"due_at": "2026-12-08T09:00:00Z", "note": "é" * 2000}, NOW)

    assert len(wanted.note) == 2000


def test_followups_request_a_year_ahead_is_taken() -> None:
    due = (NOW + timedelta(days=365)).isoformat()

    assert parse_request({"due_at": due, "note": "x"}, NOW).due_at == NOW + timedelta(days=365)


QUEUES = {
    "support": frozenset({Channel.WEBCHAT, Channel.EMAIL}),
    "phones": frozenset({Channel.VOICE}),
}


@pytest.mark.parametrize(
    ("queue", "channel", "words"),
    [
        ("sales", Channel.WEBCHAT, "there is no queue 'sales'"),
        ("phones", Channel.WEBCHAT, "'phones' does not take webchat"),
    ],
)
def test_followups_queue_must_exist_and_take_the_channel(
    queue: str, channel: Channel, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_queue(queue, channel, QUEUES)

    assert refused.value.message.startswith("queue: ")
    assert words in refused.value.message


def test_followups_queue_taking_the_channel_is_accepted() -> None:
    check_queue("support", Channel.EMAIL, QUEUES)


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (None, None),
        ("", None),
        ("scheduled", FollowupState.SCHEDULED),
        ("opened", FollowupState.OPENED),
    ],
)
def test_followups_state_filter(raw: str | None, state: FollowupState | None) -> None:
    assert parse_state(raw) is state


def test_followups_state_filter_refuses_an_unknown_state() -> None:
    with pytest.raises(InvalidInput, match="state must be one of scheduled, opened, cancelled"):
        parse_state("later")


def test_followups_opening_text_names_who_scheduled_it() -> None:
    assert (
        opening_text("Ring her", scheduled_by="Alice") == "Follow-up scheduled by Alice: Ring her"
    )
    assert (
        opening_text("Ring her", scheduled_by="") == "Follow-up scheduled by a colleague: Ring her"
    )


@pytest.mark.parametrize(
    ("who", "asked", "listed"),
    [
        (user(1), None, 1),  # an agent: their own
        (user(1), 1, 1),
        (user(2, Role.SUPERVISOR), None, None),  # everyone's
        (user(2, Role.SUPERVISOR), 1, 1),
        (user(3, Role.ADMIN), 1, 1),
        (KEY, None, None),
    ],
)
def test_followups_listing_scope(who: User | ApiKey, asked: int | None, listed: int | None) -> None:
    assert followups_of(who, asked) == listed


def test_followups_an_agent_may_not_list_a_colleagues() -> None:
    with pytest.raises(Forbidden):
        followups_of(user(1), 2)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (user(1), True),  # the owner
        (user(2), True),  # who scheduled it
        (user(3), False),  # another agent
        (user(4, Role.SUPERVISOR), True),
        (user(5, Role.ADMIN), True),
        (KEY, True),
    ],
)
def test_followups_who_may_cancel(who: User | ApiKey, allowed: bool) -> None:
    if allowed:
        require_followup_cancel(who, 9, owner_id=1, created_by=2)
    else:
        with pytest.raises(Forbidden, match="follow-up 9 is not yours to cancel"):
            require_followup_cancel(who, 9, owner_id=1, created_by=2)
