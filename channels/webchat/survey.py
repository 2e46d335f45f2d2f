"""The chat's satisfaction survey, parse/render: the ``survey`` card we send when a chat ends
and the ``rate`` event the visitor answers with. Pure.

A rating names the interaction the card was for; the transport checks that it belongs to
the visitor who sends it, so a visitor can rate only their own chats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput
from hub.model import Interaction
from hub.satisfaction import MAX_COMMENT_CHARS, MAX_SCORE, MIN_SCORE, parse_comment, parse_score


@dataclass(frozen=True, slots=True)
class ChatRating:
    interaction_id: int
    score: int
    comment: str


def parse_rating(data: Any) -> ChatRating:
    """``{interaction_id: int, score: 1..5, comment?: str}``, refused whole if malformed."""
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    interaction_id = data.get("interaction_id")
    if (
        isinstance(interaction_id, bool)
        or not isinstance(interaction_id, int)
        or not 1 <= interaction_id < 2**63
    ):
        raise InvalidInput("interaction_id must be a positive integer")
    return ChatRating(
        interaction_id, parse_score(data.get("score")), parse_comment(data.get("comment"))
    )


def survey_card(interaction: Interaction) -> dict[str, Any]:
    """What the chat box needs to show the rating card for this chat."""
    return {
        "interaction_id": interaction.interaction_id,
        "min_score": MIN_SCORE,
        "max_score": MAX_SCORE,
        "max_comment_chars": MAX_COMMENT_CHARS,
    }
