"""Self-service from the knowledge base: a web-chat visitor's first message answered with
articles before an agent is needed.

Theory of operation
-------------------
The first message of a new web-chat interaction is stored (persist first) and then, instead
of announcing the interaction to routing at once, ``hold`` searches the published articles
in the visitor's language for the words of that message. With no match (or with the feature
off) it returns False and the interaction is routed as ever. With matches it keeps the
interaction back, announces ``SuggestionsOffered`` (the chat box shows them, "did this
answer your question?") and starts a timer. Then exactly one of these happens first:

- the visitor says yes (``answer(helpful=True)``): the interaction ends without an agent
  (``Action.SELF_SERVE``: ended, closed_by and step ``self_served``), announced as
  ``SelfServed`` with the article; it never reaches the queue;
- the visitor leaves (``leave``): abandoned here, as the router would, without an offer;
- the visitor says no, writes again, or the wait runs out: ``release`` announces
  ``InteractionCreated``, and the router queues it with its stored ``queued_at``, so the time
  spent reading counts as waiting (its original age).

The held set lives in this process; after a restart the router loads every queued
interaction from the store, so a held chat is routed then, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.article_text import to_html
from hub.errors import Conflict, IllegalTransition
from hub.events import InteractionAbandoned, InteractionCreated, SelfServed, SuggestionsOffered
from hub.knowledge import ArticleQuery, visitor_terms
from hub.lifecycle import Action
from hub.model import Channel, Interaction, InteractionState, Message
from hub.ports import Clock, EventBus, KnowledgeStore, Store

log = logging.getLogger(__name__)

SELF_SERVED = "self_served"  # closed_by and the step: what reports and the wallboard count


@dataclass(frozen=True, slots=True)
class SelfServiceSettings:
    enabled: bool = True
    max_suggestions: int = 3
    wait_s: float = 60.0


class SelfService:
    def __init__(
        self,
        *,
        store: Store,
        knowledge: KnowledgeStore,
        bus: EventBus,
        clock: Clock,
        settings: SelfServiceSettings,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._knowledge = knowledge
        self._bus = bus
        self._clock = clock
        self._settings = settings
        self._sleep = sleep
        self._held: dict[int, asyncio.Task[None]] = {}  # interaction id -> its wait timer
        self._offered: dict[int, frozenset[int]] = {}  # interaction id -> articles offered

    def holds(self, interaction_id: int) -> bool:
        return interaction_id in self._held

    async def hold(self, interaction: Interaction, message: Message) -> bool:
        """Offer articles for a new web chat's first message; True when it is held back."""
        if not self._settings.enabled or interaction.channel is not Channel.WEBCHAT:
            return False
        terms = visitor_terms(message.body)
        if not terms:
            return False
        language = interaction.attributes.get("language")
        query = ArticleQuery(
            terms=terms,
            any_word=True,
            language=language if isinstance(language, str) and language else None,
            published_only=True,
            limit=self._settings.max_suggestions,
        )
        hits = await self._knowledge.search_articles(query)
        if not hits:
            return False
        iid = interaction.interaction_id
        self._offered[iid] = frozenset(h.article.article_id for h in hits)
        self._held[iid] = asyncio.create_task(self._wait(iid), name=f"self-service-{iid}")
        log.info("interaction_id=%s offered %d article(s) before queueing", iid, len(hits))
        articles = tuple(
            _visitor_article(
                h.article.article_id, h.article.title, h.snippet, h.article.body_markdown
            )
            for h in hits
        )
        await self._bus.publish(SuggestionsOffered(interaction, articles, self._settings.wait_s))
        return True

    async def _wait(self, interaction_id: int) -> None:
        await self._sleep(self._settings.wait_s)
        if self._held.get(interaction_id) is asyncio.current_task():
            del self._held[interaction_id]
            log.info("interaction_id=%s: no answer to the suggestions; queued", interaction_id)
            await self._announce(interaction_id)

    async def release(self, interaction_id: int) -> bool:
        """Send a held interaction to routing now (no, a new message, leaving). False when
        it was not held."""
        task = self._held.pop(interaction_id, None)
        if task is None:
            return False
        task.cancel()
        await self._announce(interaction_id)
        return True

    async def leave(self, interaction_id: int) -> bool:
        """The visitor left while reading: abandoned here, never offered to anyone. False
        when it was not held (the router handles it)."""
        task = self._held.pop(interaction_id, None)
        if task is None:
            return False
        task.cancel()
        self._offered.pop(interaction_id, None)
        try:
            interaction = await self._store.transition(
                interaction_id, Action.ABANDON, now=self._clock(), step="abandoned"
            )
        except IllegalTransition:
            return False  # routed meanwhile (a restart): the router abandons it
        log.info("interaction_id=%s abandoned while reading suggestions", interaction_id)
        await self._bus.publish(InteractionAbandoned(interaction, None))
        return True

    async def _announce(self, interaction_id: int) -> None:
        self._offered.pop(interaction_id, None)
        interaction = await self._store.interaction(interaction_id)
        if interaction.state is InteractionState.QUEUED:
            await self._bus.publish(InteractionCreated(interaction))

    async def answer(self, interaction_id: int, article_id: int, *, helpful: bool) -> bool:
        """The visitor's answer about one of the articles offered; True when it closed the
        conversation. Conflict when nothing is waiting for an answer (already queued)."""
        offered = self._offered.get(interaction_id, frozenset())
        if interaction_id not in self._held or article_id not in offered:
            raise Conflict("no suggestion is waiting for an answer; an agent will reply")
        if not helpful:
            await self.release(interaction_id)
            return False
        task = self._held.pop(interaction_id)
        task.cancel()
        self._offered.pop(interaction_id, None)
        try:
            interaction = await self._store.transition(
                interaction_id,
                Action.SELF_SERVE,
                now=self._clock(),
                step=SELF_SERVED,
                closed_by=SELF_SERVED,
            )
        except IllegalTransition:
            log.warning("interaction_id=%s changed before self-service; routed", interaction_id)
            await self._announce(interaction_id)
            raise Conflict("the conversation has moved on; an agent will reply") from None
        log.info("interaction_id=%s self-served by article %s", interaction_id, article_id)
        await self._bus.publish(SelfServed(interaction, article_id))
        return True

    async def close(self) -> None:
        """Stop the timers (the hub is stopping; the store still has every held chat)."""
        for task in self._held.values():
            task.cancel()
        self._held.clear()


def _visitor_article(article_id: int, title: str, snippet: str, body: str) -> Mapping[str, Any]:
    return {
        "article_id": article_id,
        "title": title,
        "snippet": snippet,
        "body_html": to_html(body),
    }
