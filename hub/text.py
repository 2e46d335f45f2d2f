"""Validation of text that comes from outside (message bodies, notes, names)."""

from __future__ import annotations

from typing import Any

from hub.errors import InvalidInput


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


def require_int(data: Any, field: str) -> int:
    if not isinstance(data, dict):
        raise InvalidInput("event data must be an object")
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer")
    return value
