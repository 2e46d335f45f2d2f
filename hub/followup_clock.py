"""The follow-up clock: opens agents' follow-ups when they come due, then announces them.

A background loop (``OutboxWorker``) sleeps until the soonest scheduled follow-up is due (at
most 30 s; ``wake()`` when one is scheduled sooner), opens every one due by the hub's clock,
each in its own transaction and at most once across hub nodes (``FollowupStore.open``),
and only then announces it: ``InteractionCreated`` and ``MessageReceived``, so routing
offers it (its owner first), the console shows it and webhooks hear of it. Follow-ups that
fell due while the hub was down open as soon as it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from hub.errors import HubError
from hub.events import InteractionCreated, MessageReceived, NoteAdded
from hub.followups import FollowupOpened
from hub.outbox_worker import OutboxWorker
from hub.ports import Clock, EventBus, FollowupStore

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)  # a follow-up that failed to open is tried again then


class FollowupClock:
    def __init__(
        self,
        *,
        store: FollowupStore,
        bus: EventBus,
        clock: Clock,
        priorities: Mapping[str, int],
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._priorities = dict(priorities)
        self._failed: dict[int, datetime] = {}  # follow-up id -> when to try it again
        self._worker: OutboxWorker[FollowupOpened] = OutboxWorker(
            name="followup-clock",
            claim=self._open_due,
            handle=self._announce,
            next_due=self._next_due,
            clock=clock,
        )

    def wake(self) -> None:
        """A follow-up was scheduled: look again at when the next one is due."""
        self._worker.wake()

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _open_due(self) -> list[FollowupOpened]:
        """Persist first: every due follow-up opened (or noted) and committed."""
        now = self._clock()
        opened = []
        for followup_id in await self._store.due(now):
            if self._failed.get(followup_id, now) > now:
                continue
            try:
                done = await self._store.open(followup_id, priorities=self._priorities, now=now)
            except HubError as exc:
                log.warning("followup_id=%s not opened: %s", followup_id, exc.message)
                self._failed[followup_id] = now + RETRY_AFTER
                continue
            self._failed.pop(followup_id, None)
            if done is not None:  # None: another hub node opened it, or it was cancelled
                opened.append(done)
        return opened

    async def _next_due(self) -> datetime | None:
        due = await self._store.next_due()
        if due is not None and self._failed:
            due = max(due, min(self._failed.values()))
        return due

    async def _announce(self, done: FollowupOpened) -> None:
        f, interaction = done.followup, done.interaction
        if done.message is None:
            log.info(
                "interaction_id=%s followup_id=%s due: noted on the contact under way",
                interaction.interaction_id,
                f.followup_id,
            )
            if done.note is not None:  # the agent on that contact sees it at once
                await self._bus.publish(NoteAdded(interaction, done.note))
            return
        log.info(
            "interaction_id=%s opened for followup_id=%s in queue %s, owner agent_id=%s",
            interaction.interaction_id,
            f.followup_id,
            f.queue,
            f.owner_id,
        )
        await self._bus.publish(InteractionCreated(interaction))
        await self._bus.publish(MessageReceived(interaction, done.message))
