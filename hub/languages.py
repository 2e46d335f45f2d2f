"""The languages the console speaks: a user's choice is one of these or none (the browser's).

The catalogues live with the console (``agent_console/static/i18n/<language>.json``); a test
keeps this list and those files in step.
"""

from __future__ import annotations

from typing import Any

from hub.errors import InvalidInput

LANGUAGES = ("en", "zh-CN")


def require_language(data: Any) -> str | None:
    """``data["language"]``: one of LANGUAGES, or None to follow the browser again."""
    if not isinstance(data, dict) or "language" not in data:
        raise InvalidInput("language is required: one of " + ", ".join(LANGUAGES) + " or null")
    language = data["language"]
    if language is not None and language not in LANGUAGES:
        raise InvalidInput("language must be one of " + ", ".join(LANGUAGES) + " or null")
    return language  # type: ignore[no-any-return]
