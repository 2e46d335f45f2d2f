"""Satisfaction surveys (CSAT): the rules, no I/O.

Theory of operation:
- a queue asks for a rating when its ``csat`` is enabled for the interaction's channel and an
  agent served the interaction (an abandoned contact is not surveyed);
- a rating is a whole score from 1 to 5 and an optional comment of at most
  ``MAX_COMMENT_CHARS`` characters; anything else is refused whole, naming the field;
- one rating per interaction: the customer may change it (a mis-click, a comment added after
  the one-click score) within ``REPLACE_WINDOW`` of their first rating; after that it is final
  and a new one is refused as a conflict;
- by text, the survey is a question the customer answers with a bare digit within
  ``TEXT_RATING_WINDOW``; any other reply is a message like every other;
- a score at or below the queue's ``low_threshold`` asks for a follow-up, once per
  interaction, however often the rating changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.errors import Conflict, InvalidInput
from hub.model import Channel, Interaction, InteractionState

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT_CHARS = 2000
REPLACE_WINDOW = timedelta(minutes=15)
SURVEY_AUTHOR = "Satisfaction survey"  # author of survey questions and follow-ups' first message
FOLLOWUP_ATTRIBUTE = "followup_of"  # a follow-up's attribute: the rated interaction's id
TEXT_RATING_WINDOW = timedelta(hours=24)  # a bare 1-5 texted back within this is a rating
SURVEY_SENT_STEP = "survey_sent"  # the interaction step that records a survey asked by text
# ASCII only, so the text stays one GSM-7 segment (a dash outside it would force UCS-2).
SMS_SURVEY_TEXT = "How did we do? Reply 1-5 (1 = poor, 5 = excellent)."
SURVEYED_STATES = frozenset({InteractionState.WRAP_UP, InteractionState.ENDED})


@dataclass(frozen=True, slots=True)
class SurveyPolicy:
    """A queue's ``csat`` settings."""

    enabled: bool = False
    channels: frozenset[Channel] = frozenset(Channel)
    low_threshold: int = 2
    followup_queue: str | None = None

    def surveys(self, interaction: Interaction) -> bool:
        """Whether this interaction's customer is asked for a rating."""
        return (
            self.enabled
            and interaction.channel in self.channels
            and interaction.agent_id is not None
            and interaction.state in SURVEYED_STATES
        )

    def wants_followup(self, score: int) -> bool:
        return self.followup_queue is not None and score <= self.low_threshold


@dataclass(frozen=True, slots=True)
class Rating:
    """A customer's rating of one interaction (and so of its agent)."""

    interaction_id: int
    customer_id: int
    agent_id: int | None
    channel: Channel
    score: int
    comment: str
    rated_at: datetime
    first_rated_at: datetime
    followup_interaction_id: int | None = None


def parse_score(raw: Any) -> int:
    """A score from 1 to 5 (an int, or its digits as text)."""
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not MIN_SCORE <= raw <= MAX_SCORE:
        raise InvalidInput(f"score must be a whole number from {MIN_SCORE} to {MAX_SCORE}")
    return raw


def bare_score(text: str) -> int | None:
    """The score of a reply that is only a digit from 1 to 5 (spaces and a final full stop
    allowed), else None: anything more is a message, not a rating."""
    core = text.strip().rstrip(".").strip()
    return int(core) if len(core) == 1 and core in "12345" else None


def parse_comment(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput("comment must be text")
    comment = raw.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(f"comment must be at most {MAX_COMMENT_CHARS} characters")
    return comment


def check_replace(existing: Rating | None, now: datetime) -> None:
    """Refuse (Conflict) a rating once the earlier one is final."""
    if existing is not None and now - existing.first_rated_at > REPLACE_WINDOW:
        minutes = int(REPLACE_WINDOW.total_seconds() // 60)
        raise Conflict(
            f"interaction {existing.interaction_id} was already rated; a rating can be "
            f"changed only within {minutes} minutes"
        )


def followup_text(rating: Rating, *, agent_name: str | None, queue: str) -> str:
    """The first line of a follow-up: what the customer said, about whom."""
    who = agent_name or "no agent"
    head = (
        f"Low satisfaction rating: {rating.score}/{MAX_SCORE} for interaction "
        f"#{rating.interaction_id} ({rating.channel.value}, queue {queue}, agent {who})."
    )
    return f"{head}\nComment: {rating.comment}" if rating.comment else f"{head}\nNo comment."


def score_summary(counts: dict[int, int]) -> dict[str, Any]:
    """Ratings by score as reported: how many, the average (None without any), each score."""
    total = sum(counts.values())
    average = round(sum(score * n for score, n in counts.items()) / total, 2) if total else None
    return {
        "ratings": total,
        "average": average,
        "scores": {str(score): counts.get(score, 0) for score in range(MIN_SCORE, MAX_SCORE + 1)},
    }
