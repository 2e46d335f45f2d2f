"""Web chat parse/render: visitor event data in, payloads out. Pure.

Everything a visitor sends is checked here and refused whole with a message naming the
field and the limit; what we send back is built here from hub records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput
from hub.model import AuthorKind, Direction, Message
from hub.representation import message_json
from hub.text import optional_text, require_text

NAME_MAX_BYTES = 200
EMAIL_MAX_BYTES = 320
DEFAULT_VISITOR_NAME = "Visitor"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str | None
    email: str | None


_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::\d{1,5})?$")


def routing_hints(auth: Any) -> dict[str, str]:
    """The routing attributes a visitor's widget tells us when it connects: the ``site`` it
    is embedded in (rules call it ``address``) and the browser's ``language`` (primary
    subtag, e.g. ``es`` from ``es-MX``). Hints only: anything malformed is ignored, never
    refused, since a visitor must always be able to chat."""
    if not isinstance(auth, dict):
        return {}
    hints: dict[str, str] = {}
    language = auth.get("language")
    if isinstance(language, str):
        match = _LANGUAGE.match(language.strip())
        if match:
            hints["language"] = match.group(1).lower()
    site = auth.get("site")
    if isinstance(site, str) and _HOST.match(site.strip().lower()):
        hints["address"] = site.strip().lower()
    return hints


def parse_message(data: Any, *, max_bytes: int) -> str:
    return require_text(data, "body", max_bytes=max_bytes)


def parse_profile(data: Any) -> Profile:
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    name = optional_text(data, "name", max_bytes=NAME_MAX_BYTES)
    email = optional_text(data, "email", max_bytes=EMAIL_MAX_BYTES)
    if email is not None:
        email = email.lower()
        local, at, domain = email.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in email):
            raise InvalidInput("email must look like name@example.com")
    return Profile(name, email)


def parse_typing(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("typing"), bool):
        raise InvalidInput("typing must be true or false")
    return bool(data["typing"])


RECEIPT_MAX_IDS = 100
RECEIPT_STATUSES = ("delivered", "read")


@dataclass(frozen=True, slots=True)
class Receipt:
    """The chat box received (``read`` False) or showed (``read`` True) these replies."""

    message_ids: tuple[int, ...]
    read: bool


def parse_receipt(data: Any) -> Receipt:
    """``{message_ids: [int, ...], status: "delivered"|"read"}``, refused whole if malformed."""
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    status = data.get("status")
    if status not in RECEIPT_STATUSES:
        raise InvalidInput('status must be "delivered" or "read"')
    ids = data.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= RECEIPT_MAX_IDS:
        raise InvalidInput(f"message_ids must be a list of 1 to {RECEIPT_MAX_IDS} message ids")
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 1 <= i < 2**63:
            raise InvalidInput("message_ids must hold positive integer message ids")
    return Receipt(tuple(dict.fromkeys(ids)), status == "read")


@dataclass(frozen=True, slots=True)
class SuggestionAnswer:
    """ "Did this answer your question?" about one suggested article."""

    article_id: int
    helpful: bool


def parse_suggestion_answer(data: Any) -> SuggestionAnswer:
    """``{article_id: int, helpful: bool}``, refused whole if malformed."""
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    article_id = data.get("article_id")
    if (
        isinstance(article_id, bool)
        or not isinstance(article_id, int)
        or not 1 <= article_id < 2**63
    ):
        raise InvalidInput("article_id must be the id of a suggested article")
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise InvalidInput("helpful must be true or false")
    return SuggestionAnswer(article_id, helpful)


def visitor_message(message: Message) -> dict[str, Any]:
    """A message as the visitor sees it (no internal ids of agents)."""
    out = message_json(message)
    if message.author_kind is AuthorKind.CUSTOMER and not message.author_name:
        out["author_name"] = DEFAULT_VISITOR_NAME
    if message.direction is Direction.OUTBOUND:
        out["author_name"] = message.author_name or "Agent"
    return out
