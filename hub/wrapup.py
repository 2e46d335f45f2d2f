"""Wrap-up rules: the disposition codes an agent may pick for a queue's interactions, and
whether the queue wants one before the agent says "ready".

Theory of operation:
- a queue's codes are its own list when it has one, otherwise the global list;
- a queue that requires a disposition has at least one code (the configuration checks it);
- a disposition is one of the queue's codes or nothing; a wrap-up note is short plain text;
- ``ready`` is refused, never silently accepted, when the queue requires a disposition and
  the interaction has none.
Pure: no I/O; the desk stores what ``outcome`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidInput
from hub.text import optional_text

WRAP_UP_NOTE_MAX_BYTES = 4 * 1024


@dataclass(frozen=True, slots=True)
class WrapUpOutcome:
    disposition: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class WrapUpRules:
    codes: tuple[str, ...] = ()
    by_queue: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()

    def codes_for(self, queue: str) -> tuple[str, ...]:
        return self.by_queue.get(queue, self.codes)

    def is_required(self, queue: str) -> bool:
        return queue in self.required

    def outcome(self, queue: str, data: Any) -> WrapUpOutcome:
        """The disposition and note in ``data`` (an event's data), checked for ``queue``."""
        if not isinstance(data, dict):
            raise InvalidInput("event data must be an object")
        disposition = data.get("disposition")
        if disposition == "":
            disposition = None
        codes = self.codes_for(queue)
        if disposition is not None and (
            not isinstance(disposition, str) or disposition not in codes
        ):
            allowed = ", ".join(codes) if codes else "none are configured"
            raise InvalidInput(f"disposition must be one of the queue's codes: {allowed}")
        note = optional_text(data, "note", max_bytes=WRAP_UP_NOTE_MAX_BYTES)
        return WrapUpOutcome(disposition, note)

    def check_ready(self, queue: str, disposition: str | None) -> None:
        """Refuse to end wrap-up while a required disposition is missing."""
        if disposition is None and self.is_required(queue):
            raise InvalidInput(
                f"choose a disposition before you are ready: queue {queue} requires one"
            )

    def describe(self, queue: str) -> dict[str, Any]:
        """What the console needs to offer the choice."""
        return {"dispositions": list(self.codes_for(queue)), "required": self.is_required(queue)}
