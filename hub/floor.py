"""The supervisor's floor: the use cases a supervisor performs on agents and interactions.

Every use case checks the role itself (the socket adapter and the REST routes check it too),
and a supervisor limited to some queues (``hub.access.Oversight``) acts only on those
queues' interactions and the agents serving them; it persists first, and announces on the
bus after. Actions on agents are stored as agent steps
naming the supervisor; moves as interaction steps, so the audit trail shows who did what.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from hub.access import Oversight, Queues, in_queues, require_agent, require_queue, serves_any
from hub.auth import SUPERVISORS, require_role
from hub.daybook import Day, day_start, fold
from hub.errors import Conflict, InvalidInput, NotFound
from hub.events import AgentLoggedOut, Whispered
from hub.model import Interaction, InteractionState, Presence, Role, User
from hub.ports import Clock, EventBus, InteractionRecord, Router, Store
from hub.representation import customer_brief, interaction_json, message_json
from hub.text import require_int, require_text, transfer_target

log = logging.getLogger(__name__)

WHISPER_MAX_BYTES = 4 * 1024
SETTABLE = {p.value: p for p in (Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE)}
HELD = (InteractionState.ASSIGNED, InteractionState.WRAP_UP)


class Floor:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        router: Router,
        clock: Clock,
        zone: tzinfo,
        sla_s: Mapping[str, float],
        away_reasons: tuple[str, ...] = (),
        oversight: Oversight | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._router = router
        self._clock = clock
        self._zone = zone
        self._sla_s = dict(sla_s)
        self._away_reasons = away_reasons
        self._oversight = oversight or Oversight()

    def queues_of(self, user: User) -> Queues:
        """The queues ``user`` oversees (None: all)."""
        return self._oversight.queues_of(user)

    # ------------------------------------------------------------------ today's figures
    async def day(self, queues: Queues = None) -> Day:
        """Today's figures (hub.daybook) from the stored steps, for ``queues`` and the agents
        serving them (None: all)."""
        now = self._clock()
        start = day_start(now, self._zone)
        records = await self._store.day_records(start, now + timedelta(seconds=1))
        agent_steps = await self._store.agent_steps(start, now + timedelta(seconds=1))
        if queues is not None:
            agents = {
                a.agent_id for a in self._router.snapshot().agents if serves_any(a.queues, queues)
            }
            records = [r for r in records if r.interaction.queue in queues]
            agent_steps = [s for s in agent_steps if s.agent_id in agents]
        return fold(
            ((r.interaction, r.steps) for r in records),
            agent_steps,
            start=start,
            now=now,
            sla_s=self._sla_s,
            queues=[q for q in self._sla_s if in_queues(q, queues)],
        )

    def day_bounds(self, day: date | None) -> tuple[datetime, datetime]:
        """The UTC bounds of a local day (today when None)."""
        if day is None:
            start = day_start(self._clock(), self._zone)
            day = start.astimezone(self._zone).date()
        begin = datetime.combine(day, time(0), self._zone)
        end = datetime.combine(day + timedelta(days=1), time(0), self._zone)
        return begin, end

    async def interactions_of(
        self, day: date | None, queues: Queues = None
    ) -> list[InteractionRecord]:
        begin, end = self.day_bounds(day)
        records = await self._store.day_records(begin, end)
        return [r for r in records if in_queues(r.interaction.queue, queues)]

    # ------------------------------------------------------------------ agents
    async def _agent(self, user: User, data: Any) -> User:
        """The agent ``data`` names, if ``user`` supervises a queue they serve."""
        agent_id = require_int(data, "agent_id")
        agent = await self._store.user(agent_id)
        if agent is None or agent.role not in (Role.AGENT, Role.SUPERVISOR):
            raise NotFound(f"no agent with agent_id {agent_id}")
        require_agent(self._router.snapshot(), agent_id, self.queues_of(user))
        return agent

    async def set_agent_state(self, user: User, data: Any) -> dict[str, Any]:
        require_role(user, SUPERVISORS)
        agent = await self._agent(user, data)
        state = SETTABLE.get(data.get("state"))
        if state is None:
            raise InvalidInput("state must be one of: " + ", ".join(SETTABLE))
        reason = data.get("reason")
        if state is not Presence.AWAY:
            reason = None
        elif reason is not None and reason not in self._away_reasons:
            raise InvalidInput("reason must be one of: " + ", ".join(self._away_reasons))
        if state is Presence.AVAILABLE and not self._router.signed_in(agent.user_id):
            # Offers would go to nobody and expire.
            raise Conflict(f"{agent.name} has no console open; only they can become available")
        await self._router.set_state(agent.user_id, state, reason, by=user.user_id)
        log.info(
            "agent_id=%s set %s (%s) by supervisor %s",
            agent.user_id,
            state.value,
            reason,
            user.user_id,
        )
        return {"agent_id": agent.user_id, "state": state.value, "reason": reason}

    async def log_out_agent(self, user: User, data: Any) -> dict[str, Any]:
        """Sign the agent out everywhere: sessions revoked, offline, consoles closed."""
        require_role(user, SUPERVISORS)
        agent = await self._agent(user, data)
        if agent.user_id == user.user_id:
            raise InvalidInput("use Log out to sign yourself out")
        sessions = await self._store.delete_sessions_of(agent.user_id)
        await self._router.log_out(agent.user_id, by=user.user_id)
        await self._bus.publish(AgentLoggedOut(agent.user_id, user.name))
        log.info("agent_id=%s logged out by supervisor %s", agent.user_id, user.user_id)
        return {"agent_id": agent.user_id, "sessions": sessions}

    # ------------------------------------------------------------------ interactions
    async def overseen(self, user: User, data: Any) -> Interaction:
        """The interaction ``data`` names, if it is in a queue ``user`` supervises."""
        require_role(user, SUPERVISORS)
        interaction = await self._store.interaction(require_int(data, "interaction_id"))
        require_queue(interaction.queue, self.queues_of(user))
        return interaction

    async def _held(self, user: User, data: Any) -> Any:
        interaction = await self.overseen(user, data)
        if interaction.state not in HELD or interaction.agent_id is None:
            raise InvalidInput(
                f"interaction {interaction.interaction_id} is {interaction.state.value}; "
                "only one an agent holds can be moved or whispered on"
            )
        return interaction

    async def move(self, user: User, data: Any) -> dict[str, Any]:
        """Move an interaction an agent holds to another queue or agent (the router's
        transfer, on the holder's behalf)."""
        require_role(user, SUPERVISORS)
        interaction = await self._held(user, data)
        if interaction.state is not InteractionState.ASSIGNED:
            raise InvalidInput(f"interaction {interaction.interaction_id} is in wrap-up")
        to_queue, to_agent = transfer_target(data)
        if to_agent == interaction.agent_id:
            raise InvalidInput(f"agent {to_agent} already holds it")
        iid = interaction.interaction_id
        await self._router.transfer(iid, interaction.agent_id, to_queue=to_queue, to_agent=to_agent)
        # After the router's own "transferred" step: the audit names who asked for it.
        await self._store.add_step(
            iid, "moved_by_supervisor", now=self._clock(), agent_id=user.user_id
        )
        log.info(
            "interaction_id=%s moved by supervisor %s to %s",
            iid,
            user.user_id,
            to_queue or f"agent {to_agent}",
        )
        return {"interaction_id": iid, "queue": to_queue, "agent_id": to_agent}

    async def thread(self, user: User, data: Any) -> dict[str, Any]:
        """A read-only view of a current interaction: who, where, and its messages."""
        interaction = await self.overseen(user, data)
        customer = await self._store.customer_summary(interaction.customer_id)
        messages = await self._store.messages(interaction.conversation_id)
        return {
            **interaction_json(interaction),
            "customer": customer_brief(customer),
            "messages": [message_json(m) for m in messages],
        }

    async def current(self, user: User) -> list[dict[str, Any]]:
        """Every interaction an agent holds now, to pick one to watch or move."""
        require_role(user, SUPERVISORS)
        queues = self.queues_of(user)
        records = await self._store.interactions(active_only=True, limit=500)
        return [
            {**interaction_json(r.interaction), "agent_name": r.agent_name}
            for r in records
            if r.interaction.state in HELD and in_queues(r.interaction.queue, queues)
        ]

    async def whisper(self, user: User, data: Any) -> dict[str, Any]:
        """A note only the holding agent sees, stored as a private note of kind ``whisper`` on the
        interaction (so the agent's thread shows it again after a reconnect or a reload)."""
        require_role(user, SUPERVISORS)
        interaction = await self._held(user, data)
        body = require_text(data, "body", max_bytes=WHISPER_MAX_BYTES)
        note = await self._store.add_note(
            interaction.interaction_id, author=user, body=body, now=self._clock(), kind="whisper"
        )
        await self._bus.publish(
            Whispered(interaction, note.note_id, user.name, note.body, note.created_at)
        )
        log.info(
            "interaction_id=%s whisper from supervisor %s to agent_id=%s",
            interaction.interaction_id,
            user.user_id,
            interaction.agent_id,
        )
        return {"interaction_id": interaction.interaction_id, "note_id": note.note_id}
