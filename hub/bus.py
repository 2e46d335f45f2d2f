"""The in-process event bus: the embedded default behind the ``EventBus`` port."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
E = TypeVar("E")


class InProcessBus:
    """Delivers each event to the handlers subscribed to its type, in subscription order.

    A failing handler is logged and does not stop the others: the fact is already committed,
    and the router re-reads the store at start-up, so nothing is lost.
    """

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], Awaitable[None]]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._handlers[event_type].append(handler)

    async def publish(self, event: object) -> None:
        for handler in list(self._handlers.get(type(event), ())):
            try:
                await handler(event)
            except Exception:
                log.exception("handler %r failed on %s", handler, type(event).__name__)
