"""Follow-ups (pure): an agent's reminder to contact a customer again at a set time.

Theory of operation
-------------------
A follow-up belongs to a customer and continues one of their conversations (the one it was
scheduled from, else their latest), so at ``due_at`` it becomes a new interaction on that
conversation's channel thread, queued in ``queue``, whose first message is a system message
with the note. It is offered to its owner (the customer's owner, else whoever scheduled it)
alone for ``routing.followup_owner_wait_s``, then to the queue: the owner travels with the
interaction as the ``followup_owner`` attribute, so a restarted router routes it the same way.
When the thread already has a contact under way at ``due_at``, the note is added to that
interaction instead (no second contact for one customer on one thread).

States only move forward: ``scheduled`` to ``opened`` (once: a conditional update in the same
transaction as the interaction, so two hub nodes never open it twice) or to ``cancelled``.
Every value from outside is checked here, and a refusal names the field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.audit import parse_time
from hub.errors import InvalidInput
from hub.model import Channel, Interaction, Message, Note
from hub.text import MAX_ID

MAX_NOTE = 2000  # characters
MAX_AHEAD = timedelta(days=366)  # "at most a year ahead", a leap day included
OWNER_ATTRIBUTE = "followup_owner"  # the interaction attribute: the agent offered it first
FOLLOWUP_ATTRIBUTE = "followup_id"  # the interaction attribute: the follow-up it came from
AUTHOR = "Follow-up"  # author of a follow-up's first (system) message
RECENT = 20  # closed follow-ups listed with a customer's scheduled ones


class FollowupState(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPENED = "opened"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Followup:
    followup_id: int
    customer_id: int
    conversation_id: int
    channel: Channel
    owner_id: int
    created_by: int
    note: str
    queue: str
    due_at: datetime
    state: FollowupState
    created_at: datetime
    interaction_id: int | None = None  # the interaction it opened (or was noted on)
    note_id: int | None = None  # set when it became a note on a contact already under way
    opened_at: datetime | None = None
    cancelled_at: datetime | None = None
    created_by_name: str = ""
    owner_name: str = ""


@dataclass(frozen=True, slots=True)
class FollowupOpened:
    """A follow-up that came due: the interaction it opened with its first message, or the
    note it became on the contact already under way (``message`` None)."""

    followup: Followup
    interaction: Interaction
    message: Message | None = None
    note: Note | None = None


@dataclass(frozen=True, slots=True)
class FollowupRequest:
    """A checked request to schedule: ``queue`` None means the conversation's last queue."""

    due_at: datetime
    note: str
    queue: str | None = None
    interaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class FollowupThread:
    """Where a follow-up of a customer goes: the conversation, its channel and last queue."""

    conversation_id: int
    channel: Channel
    queue: str
    owner_id: int | None  # the customer's owner, if they have one


@dataclass(frozen=True, slots=True)
class FollowupQuery:
    customer_id: int | None = None
    agent_id: int | None = None  # owned or created by this agent
    state: FollowupState | None = None
    after_id: int | None = None
    limit: int = 50


def parse_request(data: Mapping[str, Any], now: datetime) -> FollowupRequest:
    """The body of ``POST .../followups``, each field checked against ``now``."""
    raw_due = data.get("due_at")
    if not isinstance(raw_due, str) or not raw_due.strip():
        raise InvalidInput(
            "due_at must be an ISO 8601 time with an offset, e.g. 2026-01-31T09:00:00+01:00"
        )
    text = raw_due.strip()
    if not text.endswith(("Z", "z")) and _names_no_offset(text):
        raise InvalidInput("due_at must name its offset (Z or +01:00): a bare time is ambiguous")
    due_at = parse_time("due_at", text)
    assert due_at is not None
    if due_at <= now:
        raise InvalidInput("due_at must be in the future")
    if due_at > now + MAX_AHEAD:
        raise InvalidInput("due_at must be at most a year ahead")
    note = data.get("note")
    if not isinstance(note, str) or not note.strip():
        raise InvalidInput("note must be a non-empty string")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note is {len(note)} characters; the limit is {MAX_NOTE}")
    if "\x00" in note:
        raise InvalidInput("note must not contain NUL characters")
    queue = data.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        raise InvalidInput("queue must be a queue's name")
    interaction_id = data.get("interaction_id")
    if interaction_id is not None and (
        isinstance(interaction_id, bool)
        or not isinstance(interaction_id, int)
        or not 1 <= interaction_id <= MAX_ID
    ):
        raise InvalidInput("interaction_id must be an interaction id")
    return FollowupRequest(due_at, note, queue.strip() if queue else None, interaction_id)


def _names_no_offset(text: str) -> bool:
    """A local time with no zone: which instant it means depends on where it was written."""
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False  # parse_time names the field


def check_queue(
    queue: str, channel: Channel, channels_of: Mapping[str, frozenset[Channel]]
) -> None:
    """The follow-up's queue must exist and take the conversation's channel."""
    if queue not in channels_of:
        raise InvalidInput(f"queue: there is no queue {queue[:64]!r}")
    if channel not in channels_of[queue]:
        raise InvalidInput(f"queue: {queue!r} does not take {channel.value} contacts")


def parse_state(raw: str | None) -> FollowupState | None:
    if raw is None or raw == "":
        return None
    try:
        return FollowupState(raw)
    except ValueError:
        names = ", ".join(s.value for s in FollowupState)
        raise InvalidInput(f"state must be one of {names}") from None


def opening_text(note: str, *, scheduled_by: str) -> str:
    """The follow-up's first message (or the note added to a contact under way)."""
    return f"Follow-up scheduled by {scheduled_by or 'a colleague'}: {note}"


def next_cursor(page: Sequence[Followup], limit: int) -> str | None:
    if len(page) < limit or not page:
        return None
    return str(page[-1].followup_id)
