"""Validation of text that comes from outside (message bodies, notes, names)."""

from __future__ import annotations

from typing import Any

from hub.errors import InvalidInput

# The largest id a database integer column holds (SQLite INTEGER, PostgreSQL BIGINT): a
# bigger number can name no row, and the driver would fail on it rather than find nothing.
MAX_ID = 2**63 - 1


def require_text(data: Any, field: str, *, max_bytes: int, allow_empty: bool = False) -> str:
    """Return ``data[field]`` as a string within ``max_bytes`` of UTF-8, or raise InvalidInput.

    Leading and trailing whitespace is dropped before the emptiness check; the limit is on
    the text as sent, so nothing is silently truncated.
    """
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    value = data.get(field)
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    size = len(value.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise InvalidInput(f"{field} is {size} bytes; the limit is {max_bytes} bytes")
    text = value.strip()
    if not text and not allow_empty:
        raise InvalidInput(f"{field} must not be empty")
    if "\x00" in text:
        raise InvalidInput(f"{field} must not contain NUL characters")
    return text


def optional_text(data: dict[str, Any], field: str, *, max_bytes: int) -> str | None:
    """Like ``require_text`` but ``None`` when the field is missing or blank."""
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return require_text(data, field, max_bytes=max_bytes) or None


def transfer_target(data: Any) -> tuple[str | None, int | None]:
    """Where to transfer or move an interaction: exactly one of ``queue`` or ``agent_id``."""
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    to_queue, to_agent = data.get("queue"), data.get("agent_id")
    if to_queue is not None and not isinstance(to_queue, str):
        raise InvalidInput("queue must be a queue name")
    if to_agent is not None and (isinstance(to_agent, bool) or not isinstance(to_agent, int)):
        raise InvalidInput("agent_id must be an integer")
    if to_agent is not None:
        in_range(to_agent, "agent_id")
    if (to_queue is None) == (to_agent is None):
        raise InvalidInput("give exactly one of: queue, agent_id")
    return to_queue, to_agent


def require_int(data: Any, field: str) -> int:
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer")
    return in_range(value, field)


def in_range(value: int, field: str) -> int:
    """``value`` if a database id column can hold it, else InvalidInput."""
    if not -MAX_ID <= value <= MAX_ID:
        raise InvalidInput(f"{field} is out of range (at most {MAX_ID})")
    return value


def id_param(raw: str, field: str) -> int:
    """An id from a URL (path or query), as an integer a database id column can hold."""
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{field} must be an integer") from None
    return in_range(value, field)
