"""Socket.IO namespaces for agents (``/agent``) and supervisors (``/supervisor``).

Both authenticate with the session cookie at connect and again on every event, so a
revoked session or a changed role takes effect at once; a connection must also come from the
hub's own origin with the session's CSRF token in its ``auth`` (``hub.csrf``), and an account
with a temporary password may not connect. When sessions end (``SessionsRevoked``: sign-out,
idle, disabled, role or password changed) their sockets get ``signed_out`` and are closed.
The console sends ``keep_alive`` once a minute: an open console keeps its session from idling.
The use cases live in ``hub.desk``; this adapter only moves data between sockets and the
desk, and hub events to the browsers.
Each agent action that succeeded goes on the audit trail with the agent and the address
their socket connected from (the bus events do not carry the address).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from hub.access import Queues, snapshot_within
from hub.audit import Actor
from hub.audit import AuditAction as Did
from hub.audit_trail import Audit
from hub.auth import STAFF, SUPERVISORS, Authenticator, require_role, token_hash
from hub.desk import Desk
from hub.errors import CsrfRefused, HubError, InvalidInput, PasswordChangeRequired, Unauthorised
from hub.events import (
    AgentLoggedOut,
    AgentStateReported,
    CallChanged,
    CustomerChanged,
    InteractionAbandoned,
    InteractionAssigned,
    InteractionCreated,
    InteractionEnded,
    InteractionRated,
    InteractionRequeued,
    MessageDetailsChanged,
    MessageReceived,
    NoteAdded,
    OfferMade,
    OfferWithdrawn,
    OptOutChanged,
    ReplySent,
    RoutingSnapshotTaken,
    SessionsRevoked,
    Typing,
    Whispered,
    WrapUpStarted,
)
from hub.floor import Floor
from hub.model import InteractionState, User
from hub.ports import EventBus
from hub.representation import (
    agent_state_json,
    day_json,
    message_json,
    note_json,
    rating_json,
    snapshot_json,
    whisper_json,
)
from hub.sockets import (
    Ack,
    acknowledged,
    csrf_problem,
    ok,
    refused,
    session_token,
    socket_address,
)

log = logging.getLogger(__name__)

SUPERVISOR_ROOM = "supervisors"
SCOPE_ROOM_PREFIX = "oversees:"  # one room per set of queues overseen ("*": all)
DAY_EVERY_S = 1.0  # today's figures are refolded at most this often after a change
DAY_IDLE_S = 30.0  # and this often anyway (occupancy and the waiting chart move with time)
AGENT_NAMESPACE = "/agent"
AGENT_ROOM_PREFIX = "agent:"
DAY_SHARE = 10.0  # and never sooner than ten times as long as the last fold took


def agent_room(agent_id: int) -> str:
    return f"{AGENT_ROOM_PREFIX}{agent_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def session_room(session_hash: str) -> str:
    return f"session:{session_hash}"


SIGNED_OUT_MESSAGES = {
    "signed_out": "You signed out.",
    "idle": "Your session ended after a period without activity.",
    "disabled": "Your account has been disabled.",
    "role_changed": "Your role has changed; please sign in again.",
    "password_changed": "Your password has changed; please sign in again.",
}


class _SignedIn(socketio.AsyncNamespace):  # type: ignore[misc]
    roles = STAFF

    def __init__(
        self,
        namespace: str,
        authenticator: Authenticator,
        bus: EventBus,
        public_url: str | None = None,
        audit: Audit | None = None,
    ) -> None:
        super().__init__(namespace)
        self._auth = authenticator
        self._public_url = public_url
        self._audit = audit
        bus.subscribe(SessionsRevoked, self._on_sessions_revoked)

    async def _sign_in(self, sid: str, environ: dict[str, Any], auth: Any) -> User:
        token = session_token(environ)
        try:
            if token is not None:
                problem = csrf_problem(environ, auth, token, self._public_url)
                if problem is not None:
                    log.warning("socket %s refused: %s", self.namespace, problem)
                    raise CsrfRefused(problem)
            user = require_role(await self._auth.user_for(token), self.roles)
            if user.must_change_password:
                raise PasswordChangeRequired("change your temporary password first")
        except HubError as exc:
            raise refused(exc) from None  # the client's connect_error: {message, data}
        assert token is not None
        address = socket_address(environ)
        await self.save_session(sid, {"token": token, "user_id": user.user_id, "address": address})
        await self.enter_room(sid, user_room(user.user_id))
        await self.enter_room(sid, session_room(token_hash(token)))
        return user

    async def _audited(
        self,
        sid: str,
        user: User,
        action: Did,
        target: tuple[str, object],
        **details: Any,
    ) -> None:
        """Put what ``user`` just did on the audit trail, from their socket's address."""
        if self._audit is not None:
            address = (await self.get_session(sid)).get("address")
            self._audit.record(Actor.of_user(user, address), action, target=target, details=details)

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

    @acknowledged
    async def on_keep_alive(self, sid: str, data: Any) -> Ack:
        """The console is open: its session is in use (``hub.auth`` idle timeout)."""
        await self._user(sid)
        return ok()

    async def _on_sessions_revoked(self, e: SessionsRevoked) -> None:
        room = session_room(e.session_hash) if e.session_hash else user_room(e.user_id)
        sids = [sid for sid, _ in self.server.manager.get_participants(self.namespace, room)]
        if not sids:
            return
        message = SIGNED_OUT_MESSAGES.get(e.reason, "Your session has ended.")
        # This node's sockets only: in a cluster every node hears the revocation
        # (hub.cluster.broadcast) and tells its own, so no console is told twice.
        await self.emit(
            "signed_out", {"reason": e.reason, "message": message}, room=room, ignore_queue=True
        )
        for sid in sids:
            # After a moment, so an event being answered (the one that found the session
            # idle) still gets its ack; meanwhile every event is refused (``_user``).
            self.server.start_background_task(self._drop, sid)


def _interaction(data: dict[str, Any]) -> tuple[str, object]:
    """The audit target named by an event (or a work item) the desk has already validated."""
    return ("interaction", data["interaction_id"])


class AgentNamespace(_SignedIn):
    def __init__(
        self,
        *,
        authenticator: Authenticator,
        desk: Desk,
        bus: EventBus,
        public_url: str | None = None,
        audit: Audit | None = None,
    ) -> None:
        super().__init__(AGENT_NAMESPACE, authenticator, bus, public_url, audit)
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
        bus.subscribe(Whispered, self._on_whisper)
        bus.subscribe(NoteAdded, self._on_note_added)
        bus.subscribe(AgentLoggedOut, self._on_logged_out)
        bus.subscribe(CallChanged, self._on_call)
        bus.subscribe(InteractionRated, self._on_rated)
        bus.subscribe(CustomerChanged, self._on_customer_changed)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        user = await self._sign_in(sid, environ, auth)
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
        user = await self._user(sid)
        state = await self._desk.set_state(user, data)
        await self._audited(
            sid,
            user,
            Did.AGENT_STATE_SET,
            ("agent", user.user_id),
            state=data.get("state"),
            reason=data.get("reason"),
        )
        return ok(**state)

    @acknowledged
    async def on_accept(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        work = await self._desk.accept(user, data)
        await self._audited(sid, user, Did.OFFER_ACCEPTED, _interaction(work))
        return ok(work=work)

    @acknowledged
    async def on_decline(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        await self._desk.decline(user, data)
        await self._audited(sid, user, Did.OFFER_DECLINED, _interaction(data))
        return ok()

    @acknowledged
    async def on_send_message(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        message = await self._desk.reply(user, data)
        await self._audited(
            sid,
            user,
            Did.REPLY_SENT,
            _interaction(data),
            message_id=message["message_id"],
            body=message.get("body", ""),
        )
        return ok(message=message)

    @acknowledged
    async def on_typing(self, sid: str, data: Any) -> Ack:
        await self._desk.typing(await self._user(sid), data)
        return ok()

    @acknowledged
    async def on_add_note(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        note = await self._desk.add_note(user, data)
        await self._audited(
            sid,
            user,
            Did.NOTE_ADDED,
            _interaction(data),
            note_id=note["note_id"],
            body=note.get("body", ""),
        )
        return ok(note=note)

    @acknowledged
    async def on_close(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        work = await self._desk.close(user, data)
        await self._audited(sid, user, Did.INTERACTION_CLOSED, _interaction(data))
        return ok(work=work)

    @acknowledged
    async def on_transfer(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        await self._desk.transfer(user, data)
        await self._audited(
            sid,
            user,
            Did.INTERACTION_TRANSFERRED,
            _interaction(data),
            to_queue=data.get("queue"),
            to_agent_id=data.get("agent_id"),
        )
        return ok()

    @acknowledged
    async def on_call_control(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        voice = await self._desk.call_control(user, data)
        await self._audited(
            sid, user, Did.CALL_CONTROLLED, _interaction(data), control=data.get("action")
        )
        return ok(voice=voice)

    @acknowledged
    async def on_save_wrap_up(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        wrap_up = await self._desk.save_wrap_up(user, data)
        await self._audited(
            sid, user, Did.WRAP_UP_SAVED, _interaction(data), disposition=data.get("disposition")
        )
        return ok(wrap_up=wrap_up)

    @acknowledged
    async def on_call_consult(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        voice = await self._desk.call_consult(user, data)
        await self._audited(
            sid,
            user,
            Did.CALL_CONSULTED,
            _interaction(data),
            consult=data.get("action"),
            agent_id=data.get("agent_id"),
        )
        return ok(voice=voice)

    @acknowledged
    async def on_end_wrap_up(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        await self._desk.end_wrap_up(user, data)
        await self._audited(sid, user, Did.WRAP_UP_ENDED, _interaction(data))
        return ok()

    # ------------------------------------------------------------------ hub events to agents
    async def _to(self, agent_id: int | None, event: str, data: dict[str, Any]) -> None:
        if agent_id is not None:
            await self.emit(event, data, room=agent_room(agent_id))

    async def _on_offer(self, e: OfferMade) -> None:
        await self._to(e.agent_id, "offer", await self._desk.offer(e))

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

    async def _on_rated(self, e: InteractionRated) -> None:
        """The customer rated the agent's interaction: their customer panel shows it."""
        await self._to(
            e.interaction.agent_id,
            "interaction_rated",
            {
                "interaction_id": e.interaction.interaction_id,
                "customer_id": e.interaction.customer_id,
                "rating": rating_json(e.rating),
            },
        )

    async def _on_customer_changed(self, e: CustomerChanged) -> None:
        """A customer's record changed (an edit, a link in another tab, the API): every
        console is told which record, by id only; one that shows it reads it again through
        the API, which decides what that agent may see. A customer just made is on no
        console yet (an offer reads the record when it arrives): not sent, so a burst of new
        visitors does not reach every console once each."""
        if e.kind == "created":
            return
        merge = (e.detail or {}).get("merge") if e.kind == "merged" else None
        await self.emit(
            "customer_changed",
            {
                "customer_id": e.profile.customer_id,
                "merged_customer_id": merge.get("merged_id") if merge else None,
            },
            namespace=AGENT_NAMESPACE,
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

    async def _on_whisper(self, e: Whispered) -> None:
        """Shown in the agent's thread as a system line the customer never receives."""
        i = e.interaction
        message = whisper_json(i.conversation_id, e.note_id, e.author_name, e.body, e.created_at)
        await self._to(
            i.agent_id,
            "message",
            {
                "interaction_id": i.interaction_id,
                "conversation_id": i.conversation_id,
                "message": message,
            },
        )

    async def _on_note_added(self, e: NoteAdded) -> None:
        """A note kept over REST: the agent holding the interaction sees it as if theirs."""
        i = e.interaction
        await self._to(
            i.agent_id,
            "note_added",
            {"interaction_id": i.interaction_id, "note": note_json(e.note)},
        )

    async def _on_logged_out(self, e: AgentLoggedOut) -> None:
        room = agent_room(e.agent_id)
        await self.emit("logged_out", {"by": e.by_name}, room=room)
        sids = [sid for sid, _ in self.server.manager.get_participants(self.namespace, room)]
        for sid in sids:
            await self.disconnect(sid)

    async def _on_call(self, e: CallChanged) -> None:
        i = e.interaction
        if i.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
            await self._to(i.agent_id, "interaction_updated", await self._desk.work_item(i))


class SupervisorNamespace(_SignedIn):
    roles = SUPERVISORS

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        snapshot: Callable[[], RoutingSnapshotTaken],
        refresh: Callable[[], Awaitable[None]],
        floor: Floor,
        settings: dict[str, Any],
        bus: EventBus,
        desk: Desk | None = None,
        public_url: str | None = None,
        audit: Audit | None = None,
    ) -> None:
        super().__init__("/supervisor", authenticator, bus, public_url, audit)
        self._snapshot = snapshot
        self._refresh = refresh
        self._floor = floor
        self._settings = settings  # queues' targets and thresholds, away reasons
        self._day_task: asyncio.Task[None] | None = None
        self._day_dirty = asyncio.Event()
        bus.subscribe(RoutingSnapshotTaken, self._on_snapshot)
        bus.subscribe(MessageReceived, self._on_watched_message)
        bus.subscribe(ReplySent, self._on_watched_message)
        for changes_the_day in (
            InteractionCreated,
            InteractionAssigned,
            InteractionAbandoned,
            WrapUpStarted,
            InteractionEnded,
            InteractionRequeued,
            OfferWithdrawn,
            AgentStateReported,
        ):
            bus.subscribe(changes_the_day, self._day_changed)
        self._desk = desk
        bus.subscribe(CallChanged, self._on_call)

    def watching(self) -> bool:
        """Whether any supervisor is connected (the router builds no snapshot otherwise)."""
        return self._watching()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        user = await self._sign_in(sid, environ, auth)
        queues = self._floor.queues_of(user)
        await self.enter_room(sid, SUPERVISOR_ROOM)
        await self.enter_room(sid, scope_room(queues))
        await self._refresh()
        await self.emit("hello", self._hello(queues), to=sid)
        await self.emit(
            "snapshot", snapshot_json(snapshot_within(self._snapshot(), queues)), to=sid
        )
        await self.emit("day", day_json(await self._floor.day(queues)), to=sid)
        if self._day_task is None or self._day_task.done():
            self._day_task = asyncio.create_task(self._publish_days(), name="wallboard-day")
        if self._desk is not None:
            calls = await self._desk.live_calls(user, queues)
            await self.emit("calls", {"calls": calls}, to=sid)

    def _hello(self, queues: Queues) -> dict[str, Any]:
        """The wallboard's settings, for the queues this supervisor oversees."""
        if queues is None:
            return self._settings
        shown = {n: q for n, q in self._settings.get("queues", {}).items() if n in queues}
        return {**self._settings, "queues": shown}

    def _scopes(self) -> list[str]:
        """The oversight rooms someone is in."""
        rooms = self.server.manager.rooms.get(self.namespace, {})
        return [r for r, sids in rooms.items() if r and r.startswith(SCOPE_ROOM_PREFIX) and sids]

    @acknowledged
    async def on_call_monitor(self, sid: str, data: Any) -> Ack:
        """Listen to a live call, whisper to its agent, or stop (supervisors and admins)."""
        user = await self._user(sid)
        if self._desk is None:
            raise InvalidInput("no phone numbers are configured")
        await self._floor.overseen(user, data)
        voice = await self._desk.call_monitor(user, data)
        await self._audited(
            sid, user, Did.CALL_MONITORED, _interaction(data), mode=data.get("mode")
        )
        return ok(voice=voice)

    async def _on_snapshot(self, e: RoutingSnapshotTaken) -> None:
        for room in self._scopes():
            await self.emit(
                "snapshot", snapshot_json(snapshot_within(e, room_scope(room))), room=room
            )

    # ------------------------------------------------------------------ today's figures
    async def _day_changed(self, _e: object) -> None:
        self._day_dirty.set()

    def _watching(self) -> bool:
        return any(
            True for _ in self.server.manager.get_participants(self.namespace, SUPERVISOR_ROOM)
        )

    async def _publish_days(self) -> None:
        """Refold today's figures after changes (at most every DAY_EVERY_S) while anyone
        watches; the task ends when the last supervisor has gone."""
        while self._watching():
            try:
                await asyncio.wait_for(self._day_dirty.wait(), DAY_IDLE_S)
            except TimeoutError:
                pass
            self._day_dirty.clear()
            loop = asyncio.get_running_loop()
            began = loop.time()
            try:
                for room in self._scopes():
                    day = await self._floor.day(room_scope(room))
                    await self.emit("day", day_json(day), room=room)
            except Exception:
                log.exception("wallboard day figures not published")
            # A busy day takes longer to fold (bench/wallboard_day.py): keep it under a
            # tenth of the time.
            await asyncio.sleep(max(DAY_EVERY_S, DAY_SHARE * (loop.time() - began)))

    async def stop(self) -> None:
        if self._day_task is not None:
            self._day_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._day_task

    # ------------------------------------------------------------------ actions
    @acknowledged
    async def on_set_agent_state(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        agent = await self._floor.set_agent_state(user, data)
        await self._audited(
            sid, user, Did.AGENT_STATE_SET, ("user", agent["agent_id"]), state=agent["state"]
        )
        return ok(agent=agent)

    @acknowledged
    async def on_log_out_agent(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        agent = await self._floor.log_out_agent(user, data)
        await self._audited(sid, user, Did.AGENT_LOGGED_OUT, ("user", agent["agent_id"]))
        return ok(agent=agent)

    @acknowledged
    async def on_move_interaction(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        moved = await self._floor.move(user, data)
        await self._audited(
            sid,
            user,
            Did.INTERACTION_MOVED,
            _interaction(data),
            to_queue=data.get("queue"),
            to_agent_id=data.get("agent_id"),
        )
        return ok(moved=moved)

    @acknowledged
    async def on_current_interactions(self, sid: str, data: Any) -> Ack:
        return ok(interactions=await self._floor.current(await self._user(sid)))

    @acknowledged
    async def on_watch(self, sid: str, data: Any) -> Ack:
        """Read-only live view: the thread now, then its messages as they come."""
        thread = await self._floor.thread(await self._user(sid), data)
        for room in self.rooms(sid):
            if room.startswith("watch:"):
                await self.leave_room(sid, room)
        await self.enter_room(sid, watch_room(thread["interaction_id"]))
        return ok(thread=thread)

    @acknowledged
    async def on_unwatch(self, sid: str, data: Any) -> Ack:
        await self._user(sid)
        for room in self.rooms(sid):
            if room.startswith("watch:"):
                await self.leave_room(sid, room)
        return ok()

    @acknowledged
    async def on_whisper(self, sid: str, data: Any) -> Ack:
        user = await self._user(sid)
        whisper = await self._floor.whisper(user, data)
        await self._audited(
            sid, user, Did.WHISPERED, _interaction(data), note_id=whisper.get("note_id")
        )
        return ok(whisper=whisper)

    async def _on_watched_message(self, e: MessageReceived | ReplySent) -> None:
        await self.emit(
            "watched_message",
            {"interaction_id": e.interaction.interaction_id, "message": message_json(e.message)},
            room=watch_room(e.interaction.interaction_id),
        )

    async def _on_call(self, e: CallChanged) -> None:
        """The live calls changed (one connected, ended, or a supervisor joined): all of them
        again, to every supervisor, each seeing the calls of the queues they oversee."""
        if self._desk is not None:
            for room in self._scopes():
                calls = await self._desk.live_calls_within(room_scope(room))
                await self.emit("calls", {"calls": calls}, room=room)


def watch_room(interaction_id: int) -> str:
    return f"watch:{interaction_id}"


def scope_room(queues: Queues) -> str:
    """The room of the supervisors who oversee ``queues``: they see the same wallboard."""
    return SCOPE_ROOM_PREFIX + ("*" if queues is None else ",".join(sorted(queues)))


def room_scope(room: str) -> Queues:
    names = room.removeprefix(SCOPE_ROOM_PREFIX)
    return None if names == "*" else frozenset(names.split(",")) - {""}
