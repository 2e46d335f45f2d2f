"""The audit trail's rules: who did what, to what, from where, and what is never written down.

Theory of operation
-------------------
An ``AuditEntry`` is a fact about a person's (or the hub's) action: when, the ``Actor`` (kind,
id, name, address), a stable ``action`` name, the target and some details. Entries are only
ever appended; nothing in the product updates or deletes one (the database refuses it too).

What is recorded is decided here, not by each caller: ``AuditEntry.of`` passes the details
through ``redact``, which never keeps a secret (any key naming a password, token, secret,
signature, cookie, credential or API key is masked) nor customer or agent text (a ``body``,
``text``, ``html``, ``subject`` or ``content`` is replaced by its size in bytes), and caps
every string, list and nesting level, so a caller cannot leak what it forgot to strip.

Browsing is newest first with an opaque cursor (the last entry id seen): pages never skip or
repeat an entry while new ones are appended. Exports render CSV cells that a spreadsheet will
not run as formulas (a leading ``= + - @`` or control character gets a quote in front).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.errors import InvalidInput
from hub.model import User


class ActorKind(enum.StrEnum):
    USER = "user"  # a person signed in to the console (or trying to)
    API = "api"  # a program with an API key
    SYSTEM = "system"  # the hub itself, or an operator at the command line
    VISITOR = "visitor"  # a web-chat visitor or other customer-side party


class AuditAction(enum.StrEnum):
    """The stable action names: part of the API (filters, exports), never renamed."""

    SIGNIN_SUCCEEDED = "signin.succeeded"
    SIGNIN_FAILED = "signin.failed"
    SIGNIN_LOCKED = "signin.locked"  # this failure locked the account or the address
    SIGNIN_REFUSED = "signin.refused"  # refused unchecked while locked
    SIGNOUT = "signout"
    AGENT_STATE_SET = "agent.state_set"
    OFFER_ACCEPTED = "offer.accepted"
    OFFER_DECLINED = "offer.declined"
    INTERACTION_TRANSFERRED = "interaction.transferred"
    INTERACTION_CLOSED = "interaction.closed"
    WRAP_UP_ENDED = "wrap_up.ended"
    WRAP_UP_SAVED = "wrap_up.saved"
    CALL_CONSULTED = "call.consulted"
    CALL_MONITORED = "call.monitored"  # a supervisor listening, whispering or stopping
    AGENT_LOGGED_OUT = "agent.logged_out"  # by a supervisor
    INTERACTION_MOVED = "interaction.moved"  # by a supervisor
    WHISPERED = "interaction.whispered"
    REPLY_SENT = "reply.sent"
    NOTE_ADDED = "note.added"
    CALL_CONTROLLED = "call.controlled"
    RULES_RELOADED = "rules.reloaded"
    RULES_RELOAD_REFUSED = "rules.reload_refused"
    USER_ADDED = "user.added"
    USER_ROLE_SET = "user.role_set"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_PASSWORD_SET = "user.password_set"  # noqa: S105 (by an admin or an operator)
    PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (by the user themselves)
    AUDIT_EXPORTED = "audit.exported"
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_CHANGED = "webhook.changed"
    WEBHOOK_REMOVED = "webhook.removed"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"  # noqa: S105 (an action name)
    WEBHOOK_REDELIVERED = "webhook.redelivered"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_IDENTITY_ADDED = "customer.identity_added"
    CUSTOMER_IDENTITY_REMOVED = "customer.identity_removed"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMER_EXPORTED = "customer.exported"
    CUSTOMER_ERASED = "customer.erased"
    CUSTOMERS_IMPORTED = "customers.imported"
    FOLLOWUP_SCHEDULED = "followup.scheduled"
    FOLLOWUP_CANCELLED = "followup.cancelled"
    CUSTOMERS_EXPORTED = "customers.exported"
    KB_ARTICLE_CREATED = "kb.article_created"
    KB_ARTICLE_CHANGED = "kb.article_changed"  # published / unpublished are changes too
    KB_ARTICLE_DELETED = "kb.article_deleted"
    API_KEY_CREATED = "apikey.created"
    API_KEY_REVOKED = "apikey.revoked"
    API_USED = "api.used"  # an integration's request with its API key
    API_REFUSED = "api.refused"  # a known key asked for what its scopes do not allow


SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "signature",
    "cookie",
    "credential",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
)
CONTENT_KEYS = frozenset({"body", "text", "html", "subject", "content"})
REDACTED = "[redacted]"
MAX_STRING = 200
MAX_ITEMS = 50
MAX_DEPTH = 3
MAX_NAME = 320
MAX_ADDRESS = 64
CSV_COLUMNS = (
    "entry_id",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "address",
    "action",
    "target_kind",
    "target_id",
    "details",
)
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str
    actor_id: int | None = None
    address: str | None = None  # the client's IP address, when there is one

    @classmethod
    def of_user(cls, user: User, address: str | None = None) -> Actor:
        """A signed-in user, named by their e-mail (unique, and what a failed sign-in names)."""
        return cls(ActorKind.USER, user.email, user.user_id, address)

    @classmethod
    def system(cls, name: str = "hub") -> Actor:
        return cls(ActorKind.SYSTEM, name)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: Actor
    action: str
    target_kind: str | None = None
    target_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    entry_id: int | None = None  # set once stored

    @classmethod
    def of(
        cls,
        at: datetime,
        actor: Actor,
        action: str,
        *,
        target: tuple[str, object] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """An entry with its details redacted and every field within its column's size."""
        if at.tzinfo is None:
            raise ValueError("audit times are UTC-aware")
        actor = Actor(
            actor.kind,
            actor.name[:MAX_NAME],
            actor.actor_id,
            actor.address[:MAX_ADDRESS] if actor.address else None,
        )
        kind, ident = target if target is not None else (None, None)
        return cls(
            at=at,
            actor=actor,
            action=action[:100],
            target_kind=None if kind is None else kind[:40],
            target_id=None if ident is None else str(ident)[:MAX_NAME],
            details=redact(details or {}),
        )


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _clean(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_STRING]
    if isinstance(value, enum.Enum):
        return _clean(value.value, depth)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if depth + 1 >= MAX_DEPTH:  # a container this deep is not kept
        return REDACTED
    if isinstance(value, Mapping):
        return redact(value, depth + 1)
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    return str(value)[:MAX_STRING]


def redact(details: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """``details`` safe to keep: secrets masked, customer/agent text replaced by its size."""
    out: dict[str, Any] = {}
    for raw_key, value in list(details.items())[:MAX_ITEMS]:
        key = str(raw_key)[:MAX_STRING]
        if key.lower() in CONTENT_KEYS:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[f"{key}_bytes"] = len(text.encode("utf-8", "replace"))
        elif _is_secret(key):
            out[key] = REDACTED
        else:
            out[key] = _clean(value, depth)
    return out


# ---------------------------------------------------------------------- browsing


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries, newest first: ``before_id`` is the cursor (entries older than it)."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None  # an actor id (digits), or part of the actor's name
    action: str | None = None  # an action, or a family ("signin" matches "signin.failed")
    before_id: int | None = None
    limit: int = 100


def parse_time(name: str, raw: str | None) -> datetime | None:
    """An ISO 8601 time or date from a filter (UTC when it names no zone)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        at = datetime.fromisoformat(text)
        # A time at the very ends of the calendar may not exist in UTC (0001-01-01T00:00+01:00).
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name} must be an ISO 8601 time such as 2026-01-31T09:00:00Z; got {raw[:40]!r}"
        ) from None


def parse_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"cursor must be a value from next_cursor; got {raw[:40]!r}")
    return int(raw)


def query_from(params: Mapping[str, str], *, limit: int) -> AuditQuery:
    """The query named by filter parameters (``since``, ``until``, ``actor``, ``action``,
    ``cursor``), with every bad value refused by name."""
    since = parse_time("since", params.get("since"))
    until = parse_time("until", params.get("until"))
    if since is not None and until is not None and until < since:
        raise InvalidInput("until must not be before since")
    actor = (params.get("actor") or "").strip()[:MAX_NAME] or None
    action = (params.get("action") or "").strip()[:100] or None
    return AuditQuery(since, until, actor, action, parse_cursor(params.get("cursor")), limit)


def next_cursor(page: list[AuditEntry], limit: int) -> str | None:
    """The cursor of the next (older) page, if ``page`` was full."""
    if len(page) < limit or not page or page[-1].entry_id is None:
        return None
    return str(page[-1].entry_id)


# ---------------------------------------------------------------------- rendering


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": {
            "kind": entry.actor.kind.value,
            "actor_id": entry.actor.actor_id,
            "name": entry.actor.name,
            "address": entry.actor.address,
        },
        "action": entry.action,
        "target": None
        if entry.target_kind is None
        else {"kind": entry.target_kind, "id": entry.target_id},
        "details": dict(entry.details),
    }


def csv_safe(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(entry: AuditEntry) -> list[str]:
    a = entry.actor
    cells: list[object] = [
        entry.entry_id,
        entry.at.astimezone(UTC).isoformat(),
        a.kind.value,
        a.actor_id,
        a.name,
        a.address,
        entry.action,
        entry.target_kind,
        entry.target_id,
        json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True),
    ]
    return [csv_safe(c) for c in cells]


def _csv_line(cells: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_entry(entry: AuditEntry) -> str:
    """One entry as a CSV line (with its ``\\r\\n``), every cell safe to open."""
    return _csv_line(_csv_row(entry))


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    yield csv_header()
    for entry in entries:
        yield csv_entry(entry)


def jsonl_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(entry_json(entry), ensure_ascii=False) + "\n"
