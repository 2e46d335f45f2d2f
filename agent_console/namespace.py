"""Socket.IO namespaces for agents (``/agent``) and supervisors (``/supervisor``).

Both authenticate with the session cookie at connect and again on every event, so a
revoked session or a changed role takes effect at once. The use cases live in ``hub.desk``;
this adapter only moves data between sockets and the desk, and hub events to the browsers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from hub.auth import STAFF, SUPERVISORS, Authenticator, require_role
from hub.desk import Desk
from hub.errors import HubError, Unauthorised
from hub.events import (
    AgentStateReported,
    InteractionAssigned,
    InteractionEnded,
    InteractionRequeued,
    MessageDetailsChanged,
    MessageReceived,
    OfferMade,
    OfferWithdrawn,
    OptOutChanged,
    ReplySent,
    RoutingSnapshotTaken,
    Typing,
    WrapUpStarted,
)
from hub.model import InteractionState, User
from hub.ports import EventBus
from hub.representation import agent_state_json, message_json, offer_json, snapshot_json
from hub.sockets import Ack, acknowledged, ok, session_token

log = logging.getLogger(__name__)

SUPERVISOR_ROOM = "supervisors"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


class _SignedIn(socketio.AsyncNamespace):  # type: ignore[misc]
    roles = STAFF

    def __init__(self, namespace: str, authenticator: Authenticator) -> None:
        super().__init__(namespace)
        self._auth = authenticator

    async def _sign_in(self, sid: str, environ: dict[str, Any]) -> User:
        token = session_token(environ)
        user = await self._auth.user_for(token)
        try:
            require_role(user, self.roles)
        except HubError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.to_dict()["error"]) from None
        assert user is not None
        await self.save_session(sid, {"token": token, "user_id": user.user_id})
        return user

    async def _user(self, sid: str) -> User:
        session = await self.get_session(sid)
        user = await self._auth.user_for(session.get("token"))
        if user is None or user.user_id != session.get("user_id"):
            # Answer the event first, then drop the socket.
            self.server.start_background_task(self._drop, sid)
            raise Unauthorised("your session has ended; sign in again")
        return require_role(user, self.roles)

    async def _drop(self, sid: str) -> None:
        await asyncio.sleep(0.2)
        await self.disconnect(sid)


class AgentNamespace(_SignedIn):
    def __init__(self, *, authenticator: Authenticator, desk: Desk, bus: EventBus) -> None:
        super().__init__("/agent", authenticator)
        self._desk = desk
        bus.subscribe(OfferMade, self._on_offer)
        bus.subscribe(OfferWithdrawn, self._on_withdrawn)
        bus.subscribe(InteractionAssigned, self._on_assigned)
        bus.subscribe(MessageReceived, self._on_message)
        bus.subscribe(ReplySent, self._on_reply)
        bus.subscribe(Typing, self._on_typing)
        bus.subscribe(WrapUpStarted, self._on_wrap_up)
        bus.subscribe(InteractionEnded, self._on_ended)
        bus.subscribe(AgentStateReported, self._on_state)
        bus.subscribe(InteractionRequeued, self._on_requeued)
        bus.subscribe(MessageDetailsChanged, self._on_message_details)
        bus.subscribe(OptOutChanged, self._on_opt_out)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        user = await self._sign_in(sid, environ)
        await self.enter_room(sid, agent_room(user.user_id))
        hello = await self._desk.connected(user)
        await self.emit("hello", hello, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = await self.get_session(sid)
        user_id = session.get("user_id")
        if user_id is not None:
            await self._desk.disconnected(user_id)

    @acknowledged
    async def on_set_state(self, sid: str, data: Any) -> Ack:
        return ok(**await self._desk.set_state(await self._user(sid), data))

    @acknowledged
    async def on_accept(self, sid: str, data: Any) -> Ack:
        return ok(work=await self._desk.accept(await self._user(sid), data))

    @acknowledged
    async def on_decline(self, sid: str, data: Any) -> Ack:
        await self._desk.decline(await self._user(sid), data)
        return ok()

    @acknowledged
    async def on_send_message(self, sid: str, data: Any) -> Ack:
        return ok(message=await self._desk.reply(await self._user(sid), data))

    @acknowledged
    async def on_typing(self, sid: str, data: Any) -> Ack:
        await self._desk.typing(await self._user(sid), data)
        return ok()

    @acknowledged
    async def on_add_note(self, sid: str, data: Any) -> Ack:
        return ok(note=await self._desk.add_note(await self._user(sid), data))

    @acknowledged
    async def on_close(self, sid: str, data: Any) -> Ack:
        return ok(work=await self._desk.close(await self._user(sid), data))

    @acknowledged
    async def on_transfer(self, sid: str, data: Any) -> Ack:
        await self._desk.transfer(await self._user(sid), data)
        return ok()

    @acknowledged
    async def on_call_control(self, sid: str, data: Any) -> Ack:
        return ok(voice=await self._desk.call_control(await self._user(sid), data))

    @acknowledged
    async def on_end_wrap_up(self, sid: str, data: Any) -> Ack:
        await self._desk.end_wrap_up(await self._user(sid), data)
        return ok()

    # ------------------------------------------------------------------ hub events to agents
    async def _to(self, agent_id: int | None, event: str, data: dict[str, Any]) -> None:
        if agent_id is not None:
            await self.emit(event, data, room=agent_room(agent_id))

    async def _on_offer(self, e: OfferMade) -> None:
        await self._to(
            e.agent_id,
            "offer",
            offer_json(e.interaction, e.customer, e.preview, e.expires_at, e.timeout_s),
        )

    async def _on_withdrawn(self, e: OfferWithdrawn) -> None:
        await self._to(
            e.agent_id, "offer_withdrawn", {"interaction_id": e.interaction_id, "reason": e.reason}
        )

    async def _on_assigned(self, e: InteractionAssigned) -> None:
        await self._to(
            e.interaction.agent_id, "assigned", await self._desk.work_item(e.interaction)
        )

    async def _on_message(self, e: MessageReceived) -> None:
        if e.interaction.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
            await self._to(
                e.interaction.agent_id, "message", self._message(e.interaction, e.message)
            )

    async def _on_reply(self, e: ReplySent) -> None:
        await self._to(e.interaction.agent_id, "message", self._message(e.interaction, e.message))

    @staticmethod
    def _message(interaction: Any, message: Any) -> dict[str, Any]:
        return {
            "interaction_id": interaction.interaction_id,
            "conversation_id": interaction.conversation_id,
            "message": message_json(message),
        }

    async def _on_typing(self, e: Typing) -> None:
        if e.by_customer:
            await self._to(
                e.agent_id, "typing", {"interaction_id": e.interaction_id, "typing": e.typing}
            )

    async def _on_wrap_up(self, e: WrapUpStarted) -> None:
        await self._to(
            e.interaction.agent_id, "interaction_updated", await self._desk.work_item(e.interaction)
        )

    async def _on_ended(self, e: InteractionEnded) -> None:
        await self._to(
            e.interaction.agent_id,
            "interaction_updated",
            {"interaction_id": e.interaction.interaction_id, "state": "ended"},
        )

    async def _on_requeued(self, e: InteractionRequeued) -> None:
        await self._to(
            e.from_agent,
            "interaction_updated",
            {"interaction_id": e.interaction.interaction_id, "state": "transferred"},
        )

    async def _on_message_details(self, e: MessageDetailsChanged) -> None:
        if e.interaction.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
            await self._to(
                e.interaction.agent_id,
                "message_details",
                {
                    "interaction_id": e.interaction.interaction_id,
                    "message_id": e.message_id,
                    **e.details,
                },
            )

    async def _on_opt_out(self, e: OptOutChanged) -> None:
        i = e.interaction
        if i is not None and i.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
            await self._to(
                i.agent_id,
                "opt_out",
                {
                    "interaction_id": i.interaction_id,
                    "channel": e.channel.value,
                    "address": e.address,
                    "opted_out": e.opted_out,
                },
            )

    async def _on_state(self, e: AgentStateReported) -> None:
        await self._to(e.agent_id, "state", agent_state_json(e))


class SupervisorNamespace(_SignedIn):
    roles = SUPERVISORS

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        snapshot: Callable[[], RoutingSnapshotTaken],
        refresh: Callable[[], Awaitable[None]],
        bus: EventBus,
    ) -> None:
        super().__init__("/supervisor", authenticator)
        self._snapshot = snapshot
        self._refresh = refresh
        bus.subscribe(RoutingSnapshotTaken, self._on_snapshot)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await self._sign_in(sid, environ)
        await self.enter_room(sid, SUPERVISOR_ROOM)
        await self._refresh()
        await self.emit("snapshot", snapshot_json(self._snapshot()), to=sid)

    async def _on_snapshot(self, e: RoutingSnapshotTaken) -> None:
        await self.emit("snapshot", snapshot_json(e), room=SUPERVISOR_ROOM)
