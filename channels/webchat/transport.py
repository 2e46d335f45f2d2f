"""Web chat transport: the ``/chat`` Socket.IO namespace, visitor tokens and the chat pages.

A visitor is known by a signed token (itsdangerous, with expiry) kept in the browser's
localStorage; the visitor id inside is the conversation's thread key, so a reload resumes
the open conversation. A forged or expired token silently starts a new anonymous visitor.

Floods are refused before they cost a database write: messages and pre-chat forms per
visitor (``pace``) and per address (``address_pace``), since a client that drops its token
is a new visitor; and new connections per address (``connections``), refused with the
connect error ``rate_limited``.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from channels.webchat.protocol import (
    DEFAULT_VISITOR_NAME,
    parse_message,
    parse_profile,
    parse_receipt,
    parse_suggestion_answer,
    parse_typing,
    routing_hints,
    visitor_message,
)
from channels.webchat.survey import parse_rating, survey_card
from hub.errors import Conflict, NotFound, RateLimited
from hub.events import (
    InteractionAbandoned,
    InteractionAssigned,
    QueuePositionChanged,
    ReplySent,
    SelfServed,
    SuggestionsOffered,
    SurveyDue,
    Typing,
    WrapUpStarted,
)
from hub.inbound import Inbound
from hub.model import AuthorKind, Channel, Identity, IdentityKind
from hub.ports import EventBus, InboundContact, Store
from hub.self_service import SelfService
from hub.sockets import Ack, acknowledged, ok, refused, socket_address
from hub.surveys import Surveys
from hub.throttle import RateLimit
from hub.web import embeddable, public

log = logging.getLogger(__name__)

NAMESPACE = "/chat"
STATIC = Path(__file__).with_name("static")
TOKEN_SALT = "contact-hub.webchat.visitor"  # noqa: S105 (a namespace, not a secret)


class VisitorTokens:
    """Signed, expiring visitor tokens; the last (newest) key signs, every key verifies, so
    a rotated-out key's tokens stay valid until they expire (itsdangerous key lists)."""

    def __init__(self, secret_keys: list[str], ttl_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_keys, salt=TOKEN_SALT)
        self._ttl_s = ttl_s

    def issue(self, visitor_id: str) -> str:
        return self._serializer.dumps({"v": visitor_id})

    def read(self, token: Any) -> str | None:
        if not isinstance(token, str) or not token or len(token) > 500:
            return None
        try:
            data = self._serializer.loads(token, max_age=self._ttl_s)
        except BadSignature:
            return None
        visitor_id = data.get("v") if isinstance(data, dict) else None
        return visitor_id if isinstance(visitor_id, str) else None


VISITOR_ROOM_PREFIX = "visitor:"


def visitor_room(visitor_id: str) -> str:
    return f"{VISITOR_ROOM_PREFIX}{visitor_id}"


class ChatNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        *,
        inbound: Inbound,
        store: Store,
        bus: EventBus,
        tokens: VisitorTokens,
        max_message_bytes: int,
        self_service: SelfService | None = None,
        pace: RateLimit | None = None,
        address_pace: RateLimit | None = None,
        connections: RateLimit | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        surveys: Surveys | None = None,
    ) -> None:
        super().__init__(NAMESPACE)
        self._pace = pace
        self._address_pace = address_pace
        self._connections = connections
        self._monotonic = monotonic
        self._inbound = inbound
        self._self_service = self_service
        self._store = store
        self._tokens = tokens
        self._max_bytes = max_message_bytes
        self._thread_keys: OrderedDict[int, str | None] = OrderedDict()
        self._surveys = surveys
        bus.subscribe(QueuePositionChanged, self._on_position)
        bus.subscribe(InteractionAssigned, self._on_assigned)
        bus.subscribe(ReplySent, self._on_reply)
        bus.subscribe(Typing, self._on_typing)
        bus.subscribe(WrapUpStarted, self._on_wrap_up)
        bus.subscribe(InteractionAbandoned, self._on_abandoned)
        bus.subscribe(SuggestionsOffered, self._on_suggestions)
        bus.subscribe(SelfServed, self._on_self_served)
        bus.subscribe(SurveyDue, self._on_survey_due)

    # ------------------------------------------------------------------ visitor events
    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = socket_address(environ) or "unknown"
        wait = self._wait(self._connections, address)
        if wait > 0:
            log.warning("chat connection from %s refused: too many", address)
            raise refused(
                RateLimited(
                    f"too many chat connections from your address; try again in"
                    f" {math.ceil(wait)} s",
                    wait,
                )
            )
        token = auth.get("token") if isinstance(auth, dict) else None
        visitor_id = self._tokens.read(token)
        if visitor_id is None:
            visitor_id = secrets.token_urlsafe(18)
            token = self._tokens.issue(visitor_id)
        await self.save_session(
            sid,
            {
                "visitor_id": visitor_id,
                "address": address,
                "name": None,
                "hints": routing_hints(auth),
            },
        )
        await self.enter_room(sid, visitor_room(visitor_id))
        thread = await self._inbound.thread(Channel.WEBCHAT, visitor_id)
        await self.emit(
            "session",
            {
                "token": token,
                "visitor_id": visitor_id,
                "conversation_id": thread.conversation_id,
                "state": thread.interaction.state.value if thread.interaction else None,
                "agent_name": thread.agent_name,
                "position": thread.position,
                # The hub's own lines (a low rating's follow-up) are for staff only.
                "messages": [
                    visitor_message(m)
                    for m in thread.messages
                    if m.author_kind is not AuthorKind.SYSTEM
                ],
            },
            to=sid,
        )

    async def _visitor(self, sid: str) -> tuple[str, str | None]:
        session = await self.get_session(sid)
        return session["visitor_id"], session.get("name")

    def _wait(self, limit: RateLimit | None, key: str) -> float:
        return 0.0 if limit is None else limit.wait_s(key, self._monotonic())

    async def _paced(self, sid: str) -> tuple[str, str | None]:
        """The visitor, unless they (or their address) are flooding: refused before it costs
        a database write (RateLimited)."""
        visitor_id, name = await self._visitor(sid)
        session = await self.get_session(sid)
        wait = self._wait(self._pace, visitor_id) or self._wait(
            self._address_pace, session.get("address") or "unknown"
        )
        if wait > 0:
            raise RateLimited(
                f"you are sending messages too fast; try again in {math.ceil(wait)} s", wait
            )
        return visitor_id, name

    @acknowledged
    async def on_message(self, sid: str, data: Any) -> Ack:
        body = parse_message(data, max_bytes=self._max_bytes)
        visitor_id, name = await self._paced(sid)
        hints = (await self.get_session(sid)).get("hints", {})
        recorded = await self._inbound.receive(
            InboundContact(
                channel=Channel.WEBCHAT,
                identity=Identity(IdentityKind.WEBCHAT, visitor_id),
                thread_key=visitor_id,
                body=body,
                display_name=name,
                attributes=hints,
            )
        )
        self._remember(recorded.interaction.conversation_id, visitor_id)
        return ok(
            message=visitor_message(recorded.message),
            conversation_id=recorded.interaction.conversation_id,
        )

    @acknowledged
    async def on_profile(self, sid: str, data: Any) -> Ack:
        profile = parse_profile(data)
        visitor_id, _ = await self._paced(sid)
        customer_id = await self._inbound.identify(
            Identity(IdentityKind.WEBCHAT, visitor_id), name=profile.name, email=profile.email
        )
        async with self.session(sid) as session:
            session["name"] = profile.name
        return ok(customer_id=customer_id)

    @acknowledged
    async def on_typing(self, sid: str, data: Any) -> Ack:
        typing = parse_typing(data)
        visitor_id, name = await self._visitor(sid)
        await self._inbound.typing(
            Channel.WEBCHAT, visitor_id, typing, name or DEFAULT_VISITOR_NAME
        )
        return ok()

    @acknowledged
    async def on_receipt(self, sid: str, data: Any) -> Ack:
        """The chat box received (or showed) agent replies; the agent sees Delivered / Read."""
        receipt = parse_receipt(data)
        visitor_id, _ = await self._visitor(sid)
        changed = await self._inbound.replies_seen(
            Channel.WEBCHAT, visitor_id, receipt.message_ids, read=receipt.read
        )
        return ok(changed=[m.message_id for m in changed])

    @acknowledged
    async def on_suggestion_answer(self, sid: str, data: Any) -> Ack:
        """Yes (an article answered the question: closed, self-served) or no (to an agent,
        with the chat's original age). Conflict when nothing waits for an answer."""
        answer = parse_suggestion_answer(data)
        visitor_id, _ = await self._visitor(sid)
        thread = await self._inbound.thread(Channel.WEBCHAT, visitor_id)
        if self._self_service is None or thread.interaction is None:
            raise Conflict("no suggestion is waiting for an answer")
        closed = await self._self_service.answer(
            thread.interaction.interaction_id, answer.article_id, helpful=answer.helpful
        )
        return ok(closed=closed)

    @acknowledged
    async def on_close(self, sid: str, data: Any) -> Ack:
        visitor_id, _ = await self._visitor(sid)
        closed = await self._inbound.leave(Channel.WEBCHAT, visitor_id)
        return ok(closed=closed)

    @acknowledged
    async def on_rate(self, sid: str, data: Any) -> Ack:
        """The visitor rated a chat of theirs from the survey card (their own chats only)."""
        rating = parse_rating(data)
        visitor_id, _ = await self._paced(sid)
        if self._surveys is None:
            raise NotFound("satisfaction surveys are not offered here")
        interaction = await self._store.interaction(rating.interaction_id)
        conversation = await self._store.conversation(interaction.conversation_id)
        if conversation.channel is not Channel.WEBCHAT or conversation.thread_key != visitor_id:
            raise NotFound(f"no chat {rating.interaction_id} of yours to rate")
        saved = await self._surveys.rate(
            interaction, score=rating.score, comment=rating.comment, channel=Channel.WEBCHAT
        )
        return ok(interaction_id=saved.interaction_id, score=saved.score, comment=saved.comment)

    # ------------------------------------------------------------------ hub events to visitors
    def _remember(self, conversation_id: int, thread_key: str | None) -> None:
        self._thread_keys[conversation_id] = thread_key
        self._thread_keys.move_to_end(conversation_id)
        while len(self._thread_keys) > 10_000:
            self._thread_keys.popitem(last=False)

    async def _room(self, conversation_id: int) -> str | None:
        if conversation_id not in self._thread_keys:
            conversation = await self._store.conversation(conversation_id)
            key = conversation.thread_key if conversation.channel is Channel.WEBCHAT else None
            self._remember(conversation_id, key)
        key = self._thread_keys[conversation_id]
        return None if key is None else visitor_room(key)

    async def _send(self, conversation_id: int, event: str, data: dict[str, Any]) -> None:
        room = await self._room(conversation_id)
        if room is not None:
            await self.emit(event, {"conversation_id": conversation_id, **data}, room=room)

    async def _on_position(self, e: QueuePositionChanged) -> None:
        await self._send(
            e.conversation_id,
            "queue_position",
            {"position": e.position, "estimated_wait_s": e.estimated_wait_s},
        )

    async def _on_assigned(self, e: InteractionAssigned) -> None:
        await self._send(
            e.interaction.conversation_id, "agent_joined", {"agent_name": e.agent_name}
        )

    async def _on_reply(self, e: ReplySent) -> None:
        await self._send(
            e.interaction.conversation_id, "message", {"message": visitor_message(e.message)}
        )

    async def _on_typing(self, e: Typing) -> None:
        if not e.by_customer:
            await self._send(
                e.conversation_id, "typing", {"typing": e.typing, "agent_name": e.author_name}
            )

    async def _on_wrap_up(self, e: WrapUpStarted) -> None:
        await self._send(e.interaction.conversation_id, "conversation_closed", {"by": e.closed_by})

    async def _on_suggestions(self, e: SuggestionsOffered) -> None:
        await self._send(
            e.interaction.conversation_id,
            "suggestions",
            {"articles": list(e.articles), "wait_s": e.wait_s},
        )

    async def _on_self_served(self, e: SelfServed) -> None:
        await self._send(
            e.interaction.conversation_id, "conversation_closed", {"by": "self_served"}
        )

    async def _on_survey_due(self, e: SurveyDue) -> None:
        if e.interaction.channel is Channel.WEBCHAT:
            await self._send(e.interaction.conversation_id, "survey", survey_card(e.interaction))

    async def _on_abandoned(self, e: InteractionAbandoned) -> None:
        await self._send(e.interaction.conversation_id, "conversation_closed", {"by": "customer"})


# ---------------------------------------------------------------------- pages
def _file(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name)


@public
@embeddable
async def chat_page(request: web.Request) -> web.StreamResponse:
    return _file("chat.html")


@public
async def widget_script(request: web.Request) -> web.StreamResponse:
    response = _file("widget.js")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@public
async def widget_demo(request: web.Request) -> web.StreamResponse:
    return _file("widget-demo.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/widget.js", widget_script)
    app.router.add_get("/widget-demo", widget_demo)
    app.router.add_static("/chat/static", STATIC)
