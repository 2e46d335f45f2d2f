"""The core's ports: small Protocols that adapters implement, and the records they exchange.

The core (use cases, router runner) depends on these only; the wiring module passes the
concrete adapters in through constructors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from hub.audit import AuditEntry, AuditQuery
from hub.customers import IdentityRecord, Merge, Profile, SearchQuery
from hub.events import AgentStateReported, RoutingSnapshotTaken
from hub.followups import (
    Followup,
    FollowupOpened,
    FollowupQuery,
    FollowupRequest,
    FollowupThread,
)
from hub.knowledge import Article, ArticleQuery, Hit
from hub.lifecycle import Action
from hub.model import (
    AgentStep,
    Channel,
    Conversation,
    Customer,
    Direction,
    Identity,
    Interaction,
    InteractionState,
    Message,
    Note,
    Presence,
    Queue,
    Role,
    Step,
    User,
)
from hub.satisfaction import Rating
from hub.webhooks import (
    Delivery,
    DueDelivery,
    Subscription,
    SubscriptionChange,
    WebhookEvent,
)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class MailAttachment:
    """A file that came with (or goes with) an email; ``data`` is None when over the cap."""

    filename: str
    content_type: str
    size: int
    data: bytes | None
    content_id: str | None = None
    inline: bool = False
    customer_id: int = 0  # whose mail it came with (or went with), for access checks


@dataclass(frozen=True, slots=True)
class MailDetails:
    """What an email adds to a message: its headers for threading, HTML, files, the raw copy."""

    header_message_id: str
    subject: str
    from_address: str
    mailbox: str  # our address it came to (or goes from)
    reply_address: str
    from_name: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    to_addresses: tuple[str, ...] = ()
    cc_addresses: tuple[str, ...] = ()
    html: str | None = None  # sanitised
    attachments: tuple[MailAttachment, ...] = ()
    automated: str | None = None  # "auto_reply" or "bounce": recorded, never routed
    warnings: tuple[str, ...] = ()
    raw: bytes | None = None
    thread_id: int | None = None  # the email thread it joins; None opens a new thread


@dataclass(frozen=True, slots=True)
class SmsMedia:
    """A picture or file that came with an MMS; Twilio keeps it at ``url``."""

    url: str
    content_type: str


@dataclass(frozen=True, slots=True)
class SmsDetails:
    """What a text message adds to a message: both numbers (E.164), Twilio's id, media."""

    hub_number: str  # ours: the number the customer wrote to, and that replies come from
    customer_number: str
    message_sid: str | None = None  # None for a reply until Twilio has accepted it
    media: tuple[SmsMedia, ...] = ()
    keyword: str | None = None  # "stop", "start" or "help": recorded, never routed


@dataclass(frozen=True, slots=True)
class TaskDetails:
    """Work another system handed over (channel api): who asked, and their id for it."""

    requested_by: str  # the API key's name, or the staff member's: the task's author
    external_id: str | None = None  # the caller's id: a retry with it finds the same task


@dataclass(frozen=True, slots=True)
class InboundContact:
    """One normalised inbound message, whatever channel it came from."""

    channel: Channel
    identity: Identity
    thread_key: str
    body: str
    display_name: str | None = None
    mail: MailDetails | None = None
    # The customer whose conversation this joins when it is not the sender's own (a
    # message forwarded into a thread with its token); None: the sender's.
    customer_id: int | None = None
    # Routing attributes kept on a new interaction (``address``, ``language`` ...).
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)
    sms: SmsDetails | None = None  # a text message: the numbers, Twilio's id, MMS media
    task: TaskDetails | None = None  # a task from another system (channel api)


@dataclass(frozen=True, slots=True)
class InboundRecorded:
    interaction: Interaction
    message: Message
    interaction_created: bool
    # A task sent again with an external_id already taken: nothing new was stored, and
    # ``interaction``/``message`` are the first time's.
    duplicate: bool = False
    # What the contact did to its sender's customer: "created" (they were new), "profile"
    # (an email's display name filled their empty name) or None.
    customer_change: str | None = None


@dataclass(frozen=True, slots=True)
class Unrouted:
    """A message kept without routing (an auto-reply, a bounce, an SMS keyword): the
    interaction it joined, if one was active, and its sender's customer with what the message
    did to them (as ``InboundRecorded.customer_change``)."""

    message: Message
    interaction: Interaction | None
    customer_id: int
    customer_change: str | None = None


@dataclass(frozen=True, slots=True)
class Identified:
    """The customer a visitor's pre-chat form led to, and what changed: ``created`` (a new
    customer), ``identities`` (the email, or the visitor, joined them), ``merged`` (the
    visitor's own record, ``merged_id``, was folded into them), ``profile`` (their empty name
    was filled in) or None."""

    customer_id: int
    change: str | None
    merged_id: int | None = None


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    interaction: Interaction
    agent_name: str | None
    steps: tuple[Step, ...]
    messages: tuple[Message, ...]
    rating: Rating | None = None  # the customer's satisfaction rating, if they gave one


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    customer: Customer
    notes: tuple[Note, ...]
    interactions: tuple[InteractionRecord, ...]


class Store(Protocol):
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    async def create_user(
        self,
        *,
        email: str,
        name: str,
        role: Role,
        password_hash: str,
        now: datetime,
        must_change_password: bool = False,
    ) -> User: ...
    async def update_user(
        self,
        user_id: int,
        *,
        name: str | None = None,
        role: Role | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
        must_change_password: bool | None = None,
    ) -> None:
        """Change a user; a new role or password, or disabling, also deletes every session
        of theirs in the same transaction."""

    async def set_totp(self, user_id: int, secret: str | None, *, enabled: bool) -> None: ...
    async def totp_secret(self, user_id: int) -> str | None: ...
    async def user_by_email(self, email: str) -> tuple[User, str] | None: ...
    async def user(self, user_id: int) -> User | None: ...
    async def users(self) -> list[User]: ...
    async def set_presence(self, user_id: int, presence: Presence) -> None: ...
    async def create_session(
        self, session_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None: ...
    async def session_user(self, session_hash: str, now: datetime) -> tuple[User, datetime] | None:
        """The session's active user and when the session was last seen, if it has not
        expired."""

    async def touch_session(self, session_hash: str, now: datetime) -> None: ...
    async def delete_session(self, session_hash: str) -> None: ...

    async def identify(
        self, visitor: Identity, *, name: str | None, email: str | None, now: datetime
    ) -> Identified: ...
    async def customer(self, customer_id: int) -> CustomerRecord: ...
    async def customer_summary(self, customer_id: int, *, identities: bool = True) -> Customer: ...
    async def record_inbound(
        self, contact: InboundContact, *, queue: str, priority: int, now: datetime
    ) -> InboundRecorded: ...

    async def transition(
        self,
        interaction_id: int,
        action: Action,
        *,
        now: datetime,
        agent_id: int | None = None,
        step: str | None = None,
        closed_by: str | None = None,
        queue: str | None = None,
        fence: int | None = None,
    ) -> Interaction: ...
    async def add_step(
        self,
        interaction_id: int,
        step: str,
        *,
        now: datetime,
        agent_id: int | None = None,
        queue: str | None = None,
        fence: int | None = None,
    ) -> Interaction: ...
    async def last_agent(self, customer_id: int, channel: Channel) -> int | None: ...
    async def interaction(self, interaction_id: int) -> Interaction: ...
    async def interaction_record(self, interaction_id: int) -> InteractionRecord: ...
    async def interactions(
        self,
        *,
        customer_id: int | None = None,
        state: InteractionState | None = None,
        channel: Channel | None = None,
        agent_id: int | None = None,
        active_only: bool = False,
        limit: int = 100,
        queue: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        queues: Collection[str] | None = None,
    ) -> list[InteractionRecord]: ...
    async def day_records(self, start: datetime, end: datetime) -> list[InteractionRecord]: ...
    async def add_agent_step(self, step: AgentStep) -> None: ...
    async def agent_steps(self, start: datetime, end: datetime) -> list[AgentStep]: ...
    async def delete_sessions_of(self, user_id: int) -> int: ...
    async def routable(self) -> list[Interaction]: ...
    async def open_conversation(self, channel: Channel, thread_key: str) -> Conversation | None: ...
    async def conversation(self, conversation_id: int) -> Conversation: ...
    async def latest_interaction(self, conversation_id: int) -> Interaction | None: ...
    async def messages(self, conversation_id: int) -> list[Message]: ...
    async def first_message(self, interaction_id: int) -> Message | None: ...
    async def mark_replies_seen(
        self,
        channel: Channel,
        thread_key: str,
        message_ids: Collection[int],
        *,
        read: bool,
        now: datetime,
    ) -> list[Message]: ...
    async def add_reply(
        self, interaction_id: int, *, agent: User, body: str, now: datetime
    ) -> Message: ...
    async def add_note(
        self,
        interaction_id: int,
        *,
        author: User | str,  # a staff member, or an API key's name
        body: str,
        now: datetime,
        kind: str = "note",
    ) -> Note: ...
    async def interaction_notes(self, interaction_id: int, *, kind: str) -> list[Note]: ...
    async def set_wrap_up(
        self,
        interaction_id: int,
        *,
        agent_id: int,
        disposition: str | None,
        note: str | None,
        now: datetime,
    ) -> Interaction: ...
    async def set_language(self, user_id: int, language: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    """An email thread that an inbound message refers to, and how."""

    thread_id: int
    customer_id: int
    via: str  # "in_reply_to", "references" or "token"
    rank: int = 0  # lower is a stronger match


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One message of an email thread as the console shows it."""

    message: Message
    details: MailDetails
    status: str | None  # outbound: queued, sent, failed
    status_detail: str | None
    attachment_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MailThread:
    thread_id: int
    subject: str
    customer_id: int
    messages: tuple[MailMessage, ...]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A rendered email claimed for sending (the Message-ID inside is already recorded)."""

    outbox_id: int
    message_id: int
    sender: str
    recipients: tuple[str, ...]
    payload: bytes
    attempts: int


class MailStore(Protocol):
    """The email channel's storage (threading lookups, attachments, the durable outbox)."""

    async def thread_matches(
        self, message_ids: tuple[str, ...], thread_ids: tuple[int, ...]
    ) -> list[ThreadMatch]: ...
    async def customer_by_identity(self, identity: Identity) -> int | None: ...
    async def received_mail(
        self, header_message_id: str, from_address: str, *, subject: str, body: str
    ) -> Message | None: ...
    async def record_unrouted(self, contact: InboundContact, *, now: datetime) -> Unrouted: ...
    async def mail_thread(self, conversation_id: int) -> MailThread: ...
    async def attachment(self, attachment_id: int) -> MailAttachment: ...
    async def enqueue_mail(
        self,
        interaction_id: int,
        *,
        agent: User,
        body: str,
        details: MailDetails,
        payload: bytes,
        recipients: tuple[str, ...],
        now: datetime,
    ) -> Message: ...
    async def enqueue_system_mail(
        self,
        interaction_id: int,
        *,
        author_name: str,
        body: str,
        details: MailDetails,
        payload: bytes,
        recipients: tuple[str, ...],
        now: datetime,
    ) -> Message: ...
    async def claim_outbox(
        self, *, now: datetime, lease_s: float, limit: int
    ) -> list[OutboxItem]: ...
    # Each returns the interaction of the message whose delivery status changed, or None.
    async def outbox_sent(self, outbox_id: int, *, now: datetime) -> Interaction | None: ...
    async def outbox_retry(
        self, outbox_id: int, *, error: str, next_attempt_at: datetime
    ) -> Interaction | None: ...
    async def outbox_failed(
        self, outbox_id: int, *, error: str, now: datetime
    ) -> Interaction | None: ...
    async def next_outbox_at(self) -> datetime | None: ...
    async def mark_bounced(self, header_message_ids: tuple[str, ...], *, reason: str) -> int: ...


@dataclass(frozen=True, slots=True)
class SmsMessageState:
    """One text message's channel facts: delivery status (ours), media (theirs)."""

    message_id: int
    direction: Direction
    status: str | None  # outbound: queued, sent, delivered, undelivered, failed ...
    error_code: str | None = None
    error_message: str | None = None
    media: tuple[SmsMedia, ...] = ()
    keyword: str | None = None


@dataclass(frozen=True, slots=True)
class SmsConversation:
    hub_number: str
    customer_number: str
    opted_out: bool
    opted_out_at: datetime | None
    messages: Mapping[int, SmsMessageState]


class SmsStore(Protocol):
    """The SMS channel's storage: idempotency by Twilio's id, opt-outs, delivery status."""

    async def sms_seen(self, message_sid: str) -> bool: ...
    async def record_keyword(
        self, contact: InboundContact, *, opted_out: bool | None, now: datetime
    ) -> Unrouted | None: ...
    async def opted_out(self, number: str) -> bool: ...
    async def set_opt_out(
        self, number: str, *, opted_out: bool, keyword: str, hub_number: str | None, now: datetime
    ) -> None: ...
    async def sms_conversation(self, conversation_id: int) -> SmsConversation: ...
    async def add_sms_reply(
        self, interaction_id: int, *, agent: User, body: str, now: datetime
    ) -> tuple[Message, SmsDetails]: ...
    async def sms_status(
        self,
        *,
        message_id: int | None,
        message_sid: str | None,
        status: str,
        replaces: Collection[str | None],
        error_code: str | None = None,
        error_message: str | None = None,
        now: datetime,
    ) -> tuple[Interaction | None, SmsMessageState] | None: ...
    async def fail_unsent(self, *, older_than: datetime, now: datetime) -> int: ...
    async def add_sms_survey(
        self, interaction_id: int, *, body: str, now: datetime
    ) -> tuple[Message, SmsDetails] | None: ...
    async def record_sms_rating(
        self, contact: InboundContact, *, since: datetime, now: datetime
    ) -> tuple[Message, Interaction] | None: ...


@dataclass(frozen=True, slots=True)
class VoiceCall:
    """A customer's phone call as the voice channel tracks it (one row per CallSid)."""

    call_sid: str
    hub_number: str
    customer_number: str
    stage: str  # ivr, voicemail, queued, callback, ringing, connected, ended, abandoned
    created_at: datetime
    interaction_id: int | None = None
    ivr_path: str = ""
    attempts: int = 0
    agent_id: int | None = None
    agent_call_sid: str | None = None
    customer_leg_sid: str | None = None  # a callback: the call we placed to the customer
    conference_sid: str | None = None
    ring_started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ring_s: float | None = None
    talk_s: float | None = None
    hold_s: float = 0.0
    held_since: datetime | None = None
    muted: bool = False
    hung_up_by: str | None = None
    recording_url: str | None = None
    recording_s: int | None = None
    consult_agent_id: int | None = None  # a warm transfer: the colleague consulted
    consult_call_sid: str | None = None
    consult_stage: str | None = None  # ringing, talking
    monitor_user_id: int | None = None  # a supervisor listening or whispering
    monitor_call_sid: str | None = None
    monitor_mode: str | None = None  # listen, whisper


class VoiceStore(Protocol):
    """The voice channel's storage: calls by Twilio's CallSid, changed by conditional updates
    (``stages``: the update happens only from one of them, so a retried or late callback
    changes nothing and returns None; ``match``: fields that must hold these values too,
    None meaning unset)."""

    async def start_call(
        self, call_sid: str, *, hub_number: str, customer_number: str, stage: str, now: datetime
    ) -> tuple[VoiceCall, bool]: ...
    async def voice_call(self, call_sid: str) -> VoiceCall | None: ...
    async def call_of_agent_leg(self, agent_call_sid: str) -> VoiceCall | None: ...
    async def call_of_interaction(self, interaction_id: int) -> VoiceCall | None: ...
    async def live_calls(self) -> list[VoiceCall]: ...
    async def update_call(
        self,
        call_sid: str,
        *,
        stages: Collection[str] | None = None,
        match: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> VoiceCall | None: ...


class RatingStore(Protocol):
    """Satisfaction ratings, one per interaction (``hub.storage.ratings``)."""

    async def save_rating(
        self,
        interaction_id: int,
        *,
        score: int,
        comment: str | None,
        channel: Channel,
        now: datetime,
    ) -> tuple[Rating, Rating | None]: ...
    async def rating(self, interaction_id: int) -> Rating | None: ...
    async def open_followup(
        self, interaction_id: int, *, queue: str, priority: int, body: str, now: datetime
    ) -> tuple[Interaction, Message] | None: ...
    async def score_counts(
        self, agent_id: int, since: datetime, until: datetime
    ) -> dict[int, int]: ...


class FollowupStore(Protocol):
    """Agents' follow-ups of customers (``hub.storage.followups``); ``open`` is a claim."""

    async def thread(self, customer_id: int, interaction_id: int | None) -> FollowupThread: ...
    async def schedule(
        self,
        customer_id: int,
        request: FollowupRequest,
        *,
        thread: FollowupThread,
        queue: str,
        owner_id: int,
        created_by: int,
        now: datetime,
    ) -> Followup: ...
    async def followup(self, followup_id: int) -> Followup: ...
    async def followups(self, query: FollowupQuery) -> list[Followup]: ...
    async def of_customer(self, customer_id: int) -> list[Followup]: ...
    async def cancel(self, followup_id: int, *, now: datetime) -> Followup: ...
    async def next_due(self) -> datetime | None: ...
    async def due(self, now: datetime, *, limit: int = 100) -> list[int]: ...
    async def open(
        self, followup_id: int, *, priorities: Mapping[str, int], now: datetime
    ) -> FollowupOpened | None: ...


class OutboundCallStore(Protocol):
    """A call an agent places from the console (click-to-call): its interaction, already
    assigned to them, and its call row, written together."""

    async def record_outbound_call(
        self,
        call_key: str,
        *,
        agent: User,
        customer_id: int,
        customer_number: str,
        hub_number: str,
        queue: str,
        now: datetime,
    ) -> tuple[Interaction, VoiceCall]: ...


class DeviceStore(Protocol):
    """Where each agent takes calls ("phone" or "browser"); None until they choose."""

    async def agent_device(self, agent_id: int) -> str | None: ...
    async def set_agent_device(self, agent_id: int, device: str, *, now: datetime) -> None: ...


class ReplyChannel(Protocol):
    """A channel that checks and stores agents' replies itself (its own limits, consent and
    sender), and tells the console what it knows about each message."""

    async def store_reply(self, interaction: Interaction, *, agent: User, data: Any) -> Message: ...
    async def details(self, interaction: Interaction) -> dict[str, Any]: ...


class CallControl(Protocol):
    """A phone channel: rings the agent who accepts a call, controls the live call (hold,
    mute, a consultation for a warm transfer) and lets supervisors listen or whisper."""

    async def ring_agent(self, interaction: Interaction, agent: User) -> bool: ...
    async def control(self, interaction: Interaction, action: str) -> dict[str, Any]: ...
    async def consult(
        self, interaction: Interaction, agent: User, action: str, colleague_id: int | None
    ) -> dict[str, Any]: ...
    async def monitor(self, interaction_id: int, supervisor: User, mode: str) -> dict[str, Any]: ...
    async def live_calls(self) -> list[dict[str, Any]]: ...


class CustomerStore(Protocol):
    """What the customers API needs of storage (``hub.storage.customers``)."""

    async def profile(self, customer_id: int) -> Profile: ...
    async def search(self, query: SearchQuery) -> list[Profile]: ...
    async def last_contacts(self, customer_ids: Sequence[int]) -> dict[int, datetime]: ...
    async def create(
        self, values: dict[str, Any], idents: list[Identity], *, now: datetime
    ) -> Profile: ...
    async def update(
        self, customer_id: int, changes: dict[str, Any], *, now: datetime
    ) -> Profile: ...
    async def add_identity(
        self, customer_id: int, ident: Identity, *, now: datetime
    ) -> IdentityRecord: ...
    async def remove_identity(self, customer_id: int, identity_id: int) -> IdentityRecord: ...
    async def merge(
        self, survivor_id: int, merged_id: int, *, by_user_id: int | None, now: datetime
    ) -> Merge: ...
    async def unmerge(self, survivor_id: int, merged_id: int, *, now: datetime) -> Merge: ...
    async def export(self, customer_id: int) -> dict[str, Any]: ...
    async def erase(self, customer_id: int, *, now: datetime) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An integration's API key as stored (``hub.apikeys``): never the key itself."""

    key_id: int
    name: str
    prefix: str  # "chk_XXXXXXXX": enough to recognise the key, useless to use it
    scopes: frozenset[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KnowledgeStore(Protocol):
    """The knowledge base's articles (``hub.storage.knowledge``); deleted ones are never
    found or read."""

    async def article(self, article_id: int) -> Article: ...
    async def search_articles(self, query: ArticleQuery) -> list[Hit]: ...
    async def add_article(
        self, values: dict[str, Any], *, by_user_id: int | None, now: datetime
    ) -> Article: ...
    async def change_article(
        self, article_id: int, changes: dict[str, Any], *, by_user_id: int | None, now: datetime
    ) -> Article: ...
    async def delete_article(
        self, article_id: int, *, by_user_id: int | None, now: datetime
    ) -> Article: ...
    async def has_published_articles(self) -> bool: ...


class ApiKeyStore(Protocol):
    async def add_api_key(
        self,
        *,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: frozenset[str],
        created_by: str,
        now: datetime,
    ) -> ApiKey: ...
    async def api_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        ...

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def revoke_api_key(self, key_id: int, now: datetime) -> None: ...
    async def touch_api_key(self, key_id: int, now: datetime) -> None: ...


class AuditStore(Protocol):
    """The append-only audit trail: entries are added, never changed or removed."""

    async def append_audit(self, entries: Collection[AuditEntry]) -> None: ...
    async def audit_entries(self, query: AuditQuery) -> list[AuditEntry]: ...


E = TypeVar("E")
Handler = Callable[[Any], Awaitable[None]]


class EventBus(Protocol):
    """Announces committed facts to whoever listens (adapters, the router)."""

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None: ...
    async def publish(self, event: object) -> None: ...


class Router(Protocol):
    """What the use cases ask of the routing runner."""

    async def agent_connected(self, user: User) -> None: ...
    async def agent_disconnected(self, agent_id: int) -> None: ...
    async def set_state(
        self, agent_id: int, state: Presence, reason: str | None = None, *, by: int | None = None
    ) -> None: ...
    async def log_out(self, agent_id: int, *, by: int) -> None: ...
    def signed_in(self, agent_id: int) -> bool: ...
    def snapshot(self) -> RoutingSnapshotTaken: ...
    async def transfer(
        self, interaction_id: int, agent_id: int, *, to_queue: str | None, to_agent: int | None
    ) -> None: ...
    async def accept(self, interaction_id: int, agent_id: int) -> None: ...
    async def decline(self, interaction_id: int, agent_id: int) -> None: ...
    async def close(self, interaction_id: int, agent_id: int) -> None: ...
    async def customer_left(self, interaction_id: int) -> None: ...
    async def end_wrap_up(self, interaction_id: int, agent_id: int) -> None: ...
    def state_of(self, agent_id: int) -> AgentStateReported: ...
    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]: ...
    def position(self, interaction_id: int) -> int | None: ...
    def queue(self, name: str) -> Queue: ...


class WebhookStore(Protocol):
    """Webhook subscriptions and the durable queue of their deliveries."""

    async def create_subscription(
        self,
        *,
        url: str,
        event_types: tuple[str, ...],
        description: str,
        enabled: bool,
        secret: str,
        now: datetime,
    ) -> Subscription: ...
    async def subscriptions(self) -> list[Subscription]: ...
    async def subscription(self, subscription_id: int) -> Subscription: ...
    async def update_subscription(
        self,
        subscription_id: int,
        change: SubscriptionChange,
        *,
        now: datetime,
        secret: str | None = None,
    ) -> Subscription: ...
    async def delete_subscription(self, subscription_id: int) -> Subscription: ...
    async def record_event(self, event: WebhookEvent, *, give_up_after_s: float) -> int: ...
    async def record_ping(
        self, subscription_id: int, event: WebhookEvent, *, give_up_after_s: float
    ) -> Delivery: ...
    async def claim_deliveries(
        self, *, now: datetime, lease_s: float, limit: int
    ) -> list[DueDelivery]: ...
    async def finish_attempt(
        self,
        delivery_id: int,
        *,
        now: datetime,
        status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> str | None: ...
    async def next_delivery_at(self) -> datetime | None: ...
    async def deliveries(
        self, subscription_id: int, *, limit: int, before_id: int | None = None
    ) -> list[Delivery]: ...
    async def redeliver(
        self, subscription_id: int, delivery_id: int, *, now: datetime, give_up_after_s: float
    ) -> Delivery: ...
