"""Typed, validated settings from ``config.yaml`` with ``HUB_<SECTION>__<KEY>`` overrides.

Every key can be overridden from the environment: ``HUB_HTTP__PORT=9000`` sets ``http.port``;
deeper keys chain with ``__`` (``HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT=2``), and a whole
section by its name (``HUB_QUEUES='[{name: support, channels: [webchat]}]'``). A value that
starts with ``[`` or ``{`` is read as YAML (lists, mappings); anything else is given to the
validator as text, which converts numbers and booleans. Any mistake raises ``ConfigError``
naming the key, the bad value and where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.customers import CustomField, FieldType
from hub.errors import InvalidInput
from hub.hours import Schedule, parse_schedules
from hub.model import Channel, Queue
from hub.phone import to_e164
from hub.reply_targets import REPLIED_CHANNELS, ReplyTargets
from hub.satisfaction import SurveyPolicy
from hub.wrapup import WrapUpRules

ENV_PREFIX = "HUB_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _networks(value: Any, key: str) -> Any:
    """A list (or a comma-separated string) of addresses and networks, parsed."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        return value
    try:
        return [ip_network(str(v).strip()) for v in value]
    except ValueError as exc:
        raise ValueError(f"{key}: {exc} (use addresses like 10.0.0.0/8)") from None


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = None
    # Reverse proxies (nginx, a load balancer) whose X-Forwarded-For / -Proto are believed
    # (hub.proxies): only when the connection comes from one of these. Empty: never.
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        return _networks(value, "http.trusted_proxies")


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///contact-hub.db"
    echo: bool = False


class ClusterSettings(_Section):
    """Several hub nodes on one PostgreSQL and one Redis (docs/scaling.md). Without
    ``redis_url`` the hub is one process: in-process events and Socket.IO, any database."""

    redis_url: str | None = None  # e.g. redis://127.0.0.1:6379/0; set to run as a cluster
    node_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    # The router lease: renewed every lease_ttl_s / 3; a dead router's lease runs out after
    # lease_ttl_s and another node takes over.
    lease_ttl_s: float = Field(5.0, ge=1.0, le=60.0)
    # A command to the router not answered within this is refused as unavailable.
    command_timeout_s: float = Field(10.0, gt=0, le=120.0)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("cluster.redis_url: use redis://host:port/db (or rediss://)")
        return value or None

    @property
    def enabled(self) -> bool:
        return self.redis_url is not None


class SecuritySettings(_Section):
    secret_key: SecretStr | None = None
    # Rotation: the keys used before secret_key, comma-separated, oldest first. Visitor
    # tokens they signed stay valid (until they expire); new ones are signed with secret_key.
    previous_secret_keys: SecretStr | None = None
    session_ttl_s: int = Field(12 * 3600, ge=60)
    # A session not used for this long ends (an open console keeps it in use).
    idle_timeout_s: int = Field(1800, ge=60)
    # Session cookies are Secure when this is set, when public_url is https, and on TLS.
    cookie_secure: bool = False
    # Repeated failed sign-ins lock the account (and, separately, the address they come
    # from) for signin_lockout_s: so many failures within signin_window_s.
    signin_failures_per_account: int = Field(10, ge=1, le=1000)
    signin_failures_per_address: int = Field(30, ge=1, le=100_000)
    signin_window_s: float = Field(900.0, gt=0, le=86400)
    signin_lockout_s: float = Field(900.0, ge=0, le=86400)


class ApiChannelSettings(_Section):
    """Work handed over by another system (``POST /api/v1/interactions``, channel api)."""

    # The queue a task joins when the caller names none; unset: webchat.queue. Either way
    # it must take the api channel (queues[].channels) for a task to be accepted there.
    queue: str | None = None


class WebchatSettings(_Section):
    queue: str = "support"
    max_message_bytes: int = Field(8192, ge=1, le=1_048_576)
    visitor_token_ttl_s: int = Field(30 * 24 * 3600, ge=60)
    embed_origins: list[str] = Field(default_factory=list)
    # A visitor's messages (and pre-chat forms): a burst, then this many a minute; beyond
    # that the ack is the error rate_limited with retry_after_s (a flood costs us nothing).
    messages_per_minute: int = Field(30, ge=1, le=60_000)
    message_burst: int = Field(10, ge=1, le=10_000)
    # Per address as well (a client that drops its token is a new visitor): new connections
    # and messages, each up to this many at once and then this many a minute; a refused
    # connection gets the connect error rate_limited. Raise them for many visitors behind one
    # address (a company proxy, a load test).
    connections_per_minute_per_address: int = Field(30, ge=1, le=600_000)
    messages_per_minute_per_address: int = Field(120, ge=1, le=600_000)


class KnowledgeSettings(_Section):
    """The knowledge base offered to web-chat visitors (``hub.self_service``): a visitor's
    first message is answered with up to ``max_suggestions`` published articles in their
    language, when any match; the chat waits at most ``suggestion_wait_s`` for "did this
    answer your question?" before it joins the queue (with its original age)."""

    suggest_to_visitors: bool = True
    max_suggestions: int = Field(3, ge=1, le=5)
    suggestion_wait_s: float = Field(60, ge=5, le=600)


class EmailSettings(_Section):
    """The email channel: inbound SMTP server, addresses mapped to queues, outbound relay.

    The SMTP server starts only when ``addresses`` names at least one inbound address. The
    relay password is read only from the environment (``HUB_EMAIL__RELAY_PASSWORD``).
    """

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(2525, ge=0, le=65535)
    domain: str = Field("localhost", min_length=1, max_length=253)
    max_message_bytes: int = Field(25 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_recipients: int = Field(20, ge=1, le=1000)
    max_connections: int = Field(50, ge=1, le=10_000)
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=0)  # larger ones are listed, not kept
    max_reply_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # an agent's reply with attachments
    tls_cert: str | None = None  # PEM files; with both, the server offers STARTTLS
    tls_key: str | None = None
    addresses: dict[str, str] = Field(default_factory=dict)  # inbound address -> queue
    relay_host: str = "127.0.0.1"
    relay_port: int = Field(25, ge=1, le=65535)
    relay_starttls: bool = False
    relay_tls: bool = False  # implicit TLS (port 465)
    relay_username: str | None = None
    relay_password: SecretStr | None = None  # environment only
    relay_timeout_s: float = Field(30.0, gt=0, le=600)
    retry_initial_s: float = Field(30.0, gt=0, le=86400)
    retry_max_s: float = Field(3600.0, gt=0, le=86400)
    max_attempts: int = Field(12, ge=1, le=1000)

    @field_validator("addresses", mode="after")
    @classmethod
    def _addresses_lower(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for address, queue in value.items():
            local, at, domain = address.strip().lower().rpartition("@")
            if not at or not local or not domain or "+" in local:
                raise ValueError(f"{address!r} is not a plain address like support@example.com")
            out[f"{local}@{domain}"] = queue
        return out

    @model_validator(mode="after")
    def _tls_pair(self) -> EmailSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together (PEM files for STARTTLS)")
        return self


def _default_capacity() -> dict[Channel, int]:
    return {
        Channel.WEBCHAT: 3,
        Channel.EMAIL: 5,
        Channel.SMS: 5,
        Channel.VOICE: 1,
        Channel.API: 1,  # a task from another system: one at a time, like a call
    }


class RoutingSettings(_Section):
    default_capacity: dict[Channel, int] = Field(default_factory=_default_capacity)
    voice_exclusive: bool = True  # while on a call an agent gets no other offer
    voice_while_holding: bool = False  # may an agent holding chats or emails be offered a call?
    presence_grace_s: float = Field(30.0, ge=0, le=3600)
    decline_delay_s: float = Field(0.0, ge=0, le=3600)
    no_answer_delay_s: float = Field(5.0, ge=0, le=3600)
    busy_delay_s: float = Field(10.0, ge=0, le=3600)  # after the agent's phone was busy
    missed_offers_before_away: int = Field(3, ge=0, le=100)
    sticky_s: float = Field(10.0, ge=0, le=3600)
    sticky_by_channel: dict[Channel, float] = Field(
        default_factory=lambda: {Channel.EMAIL: 3600.0, Channel.SMS: 600.0}
    )
    transfer_priority_boost: int = Field(1, ge=0, le=1000)
    # A follow-up comes due: offered to its owner alone this long, then to its queue.
    followup_owner_wait_s: float = Field(300.0, ge=0, le=86400)
    tier_priority: dict[str, int] = Field(
        default_factory=lambda: {"important": 10, "normal": 0, "potential": 0}
    )
    away_reasons: list[str] = Field(
        default_factory=lambda: ["break", "lunch", "meeting", "training"]
    )
    random_seed: int | None = None
    rules: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("default_capacity", mode="before")
    @classmethod
    def _keep_unnamed_channels(cls, value: Any) -> Any:
        # Setting one channel (HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT=2) keeps the others.
        if isinstance(value, dict):
            return {**{ch.value: n for ch, n in _default_capacity().items()}, **value}
        return value

    @model_validator(mode="after")
    def _capacities_not_negative(self) -> RoutingSettings:
        for channel, n in self.default_capacity.items():
            if n < 0:
                raise ValueError(f"capacity for {channel.value} must be 0 or more, not {n}")
        return self


class WallboardThresholds(_Section):
    """When a queue's tile turns amber (warn) or red (alert) on the supervisors' wallboard."""

    longest_wait_warn_s: float = Field(60.0, gt=0, le=86400)
    longest_wait_alert_s: float = Field(180.0, gt=0, le=86400)
    service_level_warn: float = Field(0.8, ge=0, le=1)  # below this share, the tile warns
    service_level_alert: float = Field(0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> WallboardThresholds:
        if self.longest_wait_alert_s < self.longest_wait_warn_s:
            raise ValueError("longest_wait_alert_s must not be less than longest_wait_warn_s")
        if self.service_level_alert > self.service_level_warn:
            raise ValueError("service_level_alert must not be more than service_level_warn")
        return self


class ReportSettings(_Section):
    """Reports and the wallboard count "today" from midnight in this time zone; a contact
    is a first contact (historical reports' FCR) when the customer made no other in the
    ``first_contact_hours`` before it."""

    timezone: str = "UTC"
    first_contact_hours: int = Field(24, ge=1, le=720)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/London)") from None
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


Strategy = Literal[
    "longest_idle", "round_robin", "least_occupied", "most_skilled", "ring_all", "random"
]


Disposition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class CsatSettings(_Section):
    """A queue's satisfaction survey (hub.satisfaction): asked in the channel the contact
    was on once it ends; a score at or below ``low_threshold`` opens a follow-up in
    ``followup_queue`` (unset: none)."""

    enabled: bool = False
    channels: list[Channel] = Field(default_factory=lambda: list(Channel), min_length=1)
    low_threshold: int = Field(2, ge=1, le=4)
    followup_queue: str | None = None

    def to_policy(self) -> SurveyPolicy:
        return SurveyPolicy(
            enabled=self.enabled,
            channels=frozenset(self.channels),
            low_threshold=self.low_threshold,
            followup_queue=self.followup_queue,
        )


class QueueSettings(_Section):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channels: list[Channel] = Field(min_length=1)
    priority: int = 0
    strategy: Strategy = "longest_idle"
    offer_timeout_s: float = Field(20.0, gt=0, le=3600)
    wrap_up_s: float = Field(15.0, ge=0, le=3600)
    sla_s: float = Field(20.0, gt=0, le=86400)
    # How long a customer who wrote last may wait for a reply (hub.reply_targets): one number
    # for every channel, or per channel ({webchat: 60, email: 14400}); unset channels keep
    # the defaults (chat 60 s, SMS 5 min, email 4 h).
    reply_target_s: dict[Channel, float] = Field(default_factory=dict)
    requires: str = "true"  # which agents serve this queue, e.g. "billing >= 2"
    max_wait_s: float | None = Field(None, gt=0, le=86400)
    on_max_wait: Literal["overflow", "voicemail", "callback"] | None = None
    overflow_queue: str | None = None
    record: bool = False  # voice: record calls answered from this queue
    wallboard: WallboardThresholds = WallboardThresholds()
    dispositions: list[Disposition] | None = None  # None: the global list
    disposition_required: bool = False  # "ready" is refused until one is chosen
    csat: CsatSettings = CsatSettings()

    @field_validator("reply_target_s", mode="before")
    @classmethod
    def _one_for_every_channel(cls, value: Any) -> Any:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            return {ch.value: value for ch in REPLIED_CHANNELS}
        return value

    @model_validator(mode="after")
    def _reply_targets(self) -> QueueSettings:
        for channel, seconds in self.reply_target_s.items():
            if channel not in REPLIED_CHANNELS:
                why = "tasks get no reply" if channel is Channel.API else "calls are live"
                raise ValueError(f"reply_target_s: {channel.value} has none ({why})")
            if not 0 < seconds <= 7 * 86400:
                raise ValueError(
                    f"reply_target_s for {channel.value} must be more than 0 and at most"
                    f" 604800 (7 days), not {seconds:g}"
                )
        return self

    def to_queue(self) -> Queue:
        return Queue(
            name=self.name,
            channels=frozenset(self.channels),
            priority=self.priority,
            offer_timeout_s=self.offer_timeout_s,
            wrap_up_s=self.wrap_up_s,
            strategy=self.strategy,
            sla_s=self.sla_s,
            requires=self.requires,
            max_wait_s=self.max_wait_s,
            on_max_wait=self.on_max_wait,
            overflow_queue=self.overflow_queue,
        )


class AgentSettings(_Section):
    """Per-agent routing profile, matched to a user by email."""

    email: str = Field(min_length=3, max_length=320)
    skills: dict[str, int] = Field(default_factory=dict)
    capacity: dict[Channel, int] = Field(default_factory=dict)
    phone: str | None = None  # where calls they accept ring (E.164 after validation)
    # A supervisor's queues: their wallboard, reports and actions cover only these queues
    # and the agents serving them. Not set: every queue (admins always see every queue).
    supervises: list[str] | None = None

    @field_validator("phone", mode="after")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return to_e164(value, field="phone")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _levels(self) -> AgentSettings:
        for skill, level in self.skills.items():
            if not 1 <= level <= 5:
                raise ValueError(
                    f"skill {skill!r} must have a proficiency from 1 to 5, not {level}"
                )
        for channel, n in self.capacity.items():
            if n < 0:
                raise ValueError(f"capacity for {channel.value} must be 0 or more, not {n}")
        return self


TwilioPurpose = Literal["sms", "voice"]
_PURPOSE_CHANNEL = {"sms": Channel.SMS, "voice": Channel.VOICE}


def _http_url(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    url = value.strip().rstrip("/")
    if not url.startswith(("https://", "http://")) or " " in url:
        raise ValueError(f"{key} must be an http(s) URL like https://support.example.com")
    return url


class TwilioNumberSettings(_Section):
    """One Twilio phone number: what it is for, where its contacts wait, its hours."""

    number: str  # E.164 after validation
    purposes: list[TwilioPurpose] = Field(["sms"], min_length=1)
    queue: str
    business_hours: str | None = None  # a schedule named in business_hours
    sms_fallback_url: str | None = None  # Twilio calls it when /twilio/sms fails
    voice_fallback_url: str | None = None  # ... and this when /twilio/voice fails

    @field_validator("number", mode="after")
    @classmethod
    def _e164(cls, value: str) -> str:
        try:
            return to_e164(value, field="number")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("sms_fallback_url", "voice_fallback_url", mode="after")
    @classmethod
    def _fallback(cls, value: str | None) -> str | None:
        return _http_url(value, "a fallback URL")


class IvrChoice(_Section):
    """One key of a menu: a queue to wait in (with routing attributes), or a sub-menu."""

    key: str = Field(pattern=r"^[0-9*#]$")
    say: str = Field(min_length=1, max_length=500)  # how the choice is announced
    words: list[str] = Field(default_factory=list)  # what a caller may say instead
    queue: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)  # e.g. {language: es}
    menu: IvrMenu | None = None

    @model_validator(mode="after")
    def _one_target(self) -> IvrChoice:
        if (self.queue is None) == (self.menu is None):
            raise ValueError(f"choice {self.key}: give exactly one of queue or menu")
        return self


class IvrMenu(_Section):
    prompt: str = Field("", max_length=1000)  # said before the choices
    choices: list[IvrChoice] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_unique(self) -> IvrMenu:
        keys = [c.key for c in self.choices]
        if len(set(keys)) != len(keys):
            raise ValueError(f"menu keys must be unique: {', '.join(keys)}")
        return self


IvrChoice.model_rebuild()


class IvrSettings(_Section):
    """The menu a caller hears in hours. Without one, calls go straight to the number's queue."""

    greeting: str = Field("Thank you for calling.", max_length=1000)
    language: str = "en-US"  # TwiML language of <Say> and speech recognition
    voice: str = "Polly.Joanna"
    timeout_s: int = Field(5, ge=1, le=60)  # silence before a <Gather> gives up
    retries: int = Field(2, ge=0, le=10)  # repeats after no input or an invalid choice
    invalid: str = "Sorry, that is not one of the choices."
    no_input: str = "Sorry, I did not hear a choice."
    menu: IvrMenu | None = None


class VoiceSettings(_Section):
    """What callers hear outside the menu: out of hours, while waiting, on a callback."""

    out_of_hours: str = (
        "Thank you for calling. We are closed now. Please leave a message after the tone."
    )
    voicemail_max_s: int = Field(120, ge=5, le=3600)
    voicemail_thanks: str = "Thank you, we will get back to you. Goodbye."
    hold_music_url: str | None = None
    announce_every_s: int = Field(30, ge=5, le=600)  # hold music between announcements
    callback_after_s: float | None = Field(60.0, ge=0, le=86400)  # None: never offered
    callback_thanks: str = "Thank you. We will call you back. Goodbye."
    callback_attempts: int = Field(3, ge=1, le=10)  # calls to a customer who does not answer
    callback_retry_s: float = Field(30.0, ge=0, le=3600)  # between them (the agent waits)
    # What a caller hears when a queue's max_wait_s passes (on_max_wait: callback | voicemail).
    max_wait_callback: str = (
        "We are sorry to keep you waiting. To keep your place and have us call you back, "
        "press 1. Or stay on the line."
    )
    max_wait_voicemail: str = (
        "We are sorry to keep you waiting. Please leave a message after the tone, "
        "and we will call you back."
    )
    agent_ring_timeout_s: int = Field(20, ge=5, le=120)
    caller_id: str | None = None  # for calls we place; default: the number called

    @field_validator("hold_music_url", mode="after")
    @classmethod
    def _music(cls, value: str | None) -> str | None:
        return _http_url(value, "twilio.voice.hold_music_url")


def _ivr_choices(menu: IvrMenu, where: str) -> list[tuple[str, IvrChoice]]:
    found = []
    for i, choice in enumerate(menu.choices):
        path = f"{where}.choices.{i}"
        found.append((path, choice))
        if choice.menu is not None:
            found += _ivr_choices(choice.menu, f"{path}.menu")
    return found


class TwilioSettings(_Section):
    """Phone numbers on Twilio. The account SID and auth token come only from the
    environment (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``), never from a file."""

    public_url: str | None = None  # what Twilio calls; signatures are on this exact URL
    numbers: list[TwilioNumberSettings] = Field(default_factory=list)
    account_sid: SecretStr | None = None  # environment only
    auth_token: SecretStr | None = None  # environment only
    # The browser phone (Twilio Voice JS SDK): an API key from the environment only
    # (TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET) signs the agents' access tokens, and the
    # TwiML App that answers calls a browser places.
    api_key_sid: SecretStr | None = None  # environment only
    api_key_secret: SecretStr | None = None  # environment only
    twiml_app_sid: str | None = Field(None, pattern=r"^AP[0-9a-fA-F]{32}$")
    browser_token_ttl_s: int = Field(900, ge=60, le=86400)  # the console renews it before
    api_base_url: str = "https://api.twilio.com"  # tests point it at a local fake
    request_timeout_s: float = Field(10.0, gt=0, le=120)
    ivr: IvrSettings = IvrSettings()
    voice: VoiceSettings = VoiceSettings()

    @field_validator("public_url", mode="after")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        return _http_url(value, "twilio.public_url")

    @field_validator("api_base_url", mode="after")
    @classmethod
    def _api(cls, value: str) -> str:
        url = _http_url(value, "twilio.api_base_url")
        assert url is not None
        return url

    def number(self, e164: str, purpose: TwilioPurpose) -> TwilioNumberSettings | None:
        """The configured number ``e164`` if it serves ``purpose``."""
        for n in self.numbers:
            if n.number == e164 and purpose in n.purposes:
                return n
        return None

    def browser_phone_missing(self) -> list[str]:
        """What the browser phone still needs (nothing: agents may take calls in the browser)."""
        missing = [
            env
            for env, secret in (
                ("TWILIO_API_KEY_SID", self.api_key_sid),
                ("TWILIO_API_KEY_SECRET", self.api_key_secret),
            )
            if secret is None or not secret.get_secret_value()
        ]
        if self.twiml_app_sid is None:
            missing.append("twilio.twiml_app_sid")
        if not any("voice" in n.purposes for n in self.numbers):
            missing.append("a voice number in twilio.numbers")
        return missing


def _loopback() -> list[IPv4Network | IPv6Network]:
    return [IPv4Network("127.0.0.1/32"), IPv6Network("::1/128")]


class WebhookSettings(_Section):
    """Outbound webhooks (subscriptions are made by admins, not here): how long one POST may
    take, and how failed deliveries are retried (README "Integrations")."""

    timeout_s: float = Field(10.0, gt=0, le=120)
    retry_initial_s: float = Field(30.0, gt=0, le=86400)
    retry_max_s: float = Field(3600.0, gt=0, le=86400)
    give_up_after_s: float = Field(86400.0, gt=0, le=7 * 86400)
    parallel: int = Field(10, ge=1, le=200)  # deliveries posted at once


class MetricsSettings(_Section):
    """Prometheus ``/metrics``: on the main port for ``allow``-ed addresses only (loopback by
    default), or, with ``port`` set, public on a listener of its own (and not on the main
    port)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)
    allow: list[IPv4Network | IPv6Network] = Field(default_factory=_loopback)

    @field_validator("allow", mode="before")
    @classmethod
    def _allowed(cls, value: Any) -> Any:
        return _networks(value, "metrics.allow")


class LoggingSettings(_Section):
    """``json``: one JSON object per line (time, level, logger, message, extra fields), for
    log collectors; ``text``: one readable line. Levels come from ``HUB_LOG_LEVEL(S)``."""

    format: Literal["text", "json"] = "text"


class CannedResponseSettings(_Section):
    """A prepared answer agents insert with ``/shortcut``; ``{customer.name}``,
    ``{agent.name}`` and ``{agent.first_name}`` are filled in when it is inserted."""

    shortcut: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=8000)
    channels: list[Channel] = Field(default_factory=list)  # empty: every channel
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")  # None: any


class CustomerFieldSettings(_Section):
    """A custom field on every customer record, checked on every write: ``text``,
    ``number``, ``date`` (YYYY-MM-DD) or ``choice`` (one of ``choices``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: FieldType
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _choices(self) -> CustomerFieldSettings:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError(f"customer_fields.{self.name}: a choice field needs choices")
        if self.type is not FieldType.CHOICE and self.choices:
            raise ValueError(f"customer_fields.{self.name}: only choice fields have choices")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"customer_fields.{self.name}: each choice once")
        return self

    def to_field(self) -> CustomField:
        return CustomField(self.name, self.type, tuple(self.choices))


def _default_queues() -> list[QueueSettings]:
    return [
        QueueSettings(
            name="support", channels=[Channel.WEBCHAT], offer_timeout_s=20.0, wrap_up_s=15.0
        )
    ]


class Settings(_Section):
    http: HttpSettings = HttpSettings()
    database: DatabaseSettings = DatabaseSettings()
    cluster: ClusterSettings = ClusterSettings()
    security: SecuritySettings = SecuritySettings()
    webchat: WebchatSettings = WebchatSettings()
    api: ApiChannelSettings = ApiChannelSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    routing: RoutingSettings = RoutingSettings()
    queues: list[QueueSettings] = Field(default_factory=_default_queues, min_length=1)
    agents: list[AgentSettings] = Field(default_factory=list)
    email: EmailSettings = EmailSettings()
    business_hours: dict[str, dict[str, Any]] = Field(default_factory=dict)
    twilio: TwilioSettings = TwilioSettings()
    reports: ReportSettings = ReportSettings()
    metrics: MetricsSettings = MetricsSettings()
    webhooks: WebhookSettings = WebhookSettings()
    logging: LoggingSettings = LoggingSettings()
    dispositions: list[Disposition] = Field(default_factory=list)  # wrap-up outcome codes
    canned_responses: list[CannedResponseSettings] = Field(default_factory=list)
    customer_fields: list[CustomerFieldSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hours_valid(self) -> Settings:
        try:
            parse_schedules(self.business_hours)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return self

    def api_queue(self) -> str:
        """The queue of a task whose caller names none (``api.queue``, else the chat's)."""
        return self.api.queue or self.webchat.queue

    def schedules(self) -> dict[str, Schedule]:
        return parse_schedules(self.business_hours)

    @model_validator(mode="after")
    def _queues_consistent(self) -> Settings:
        names = [q.name for q in self.queues]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"queues: names must be unique; repeated: {', '.join(duplicates)}")
        by_name = {q.name: q for q in self.queues}
        chat_queue = by_name.get(self.webchat.queue)
        if chat_queue is None:
            raise ValueError(f"webchat.queue: {self.webchat.queue!r} is not a configured queue")
        if Channel.WEBCHAT not in chat_queue.channels:
            raise ValueError(f"webchat.queue: {self.webchat.queue!r} does not accept webchat")
        api_queue = by_name.get(self.api.queue) if self.api.queue is not None else chat_queue
        if api_queue is None:
            raise ValueError(f"api.queue: {self.api.queue!r} is not a configured queue")
        if self.api.queue is not None and Channel.API not in api_queue.channels:
            raise ValueError(f"api.queue: {self.api.queue!r} does not accept api")
        for q in self.queues:
            if q.overflow_queue is not None and q.overflow_queue not in by_name:
                raise ValueError(
                    f"queues.{q.name}.overflow_queue: {q.overflow_queue!r} is not a queue"
                )
            if q.on_max_wait == "overflow" and q.overflow_queue is None:
                raise ValueError(f"queues.{q.name}.overflow_queue: needed by on_max_wait: overflow")
            followup = q.csat.followup_queue
            if followup is not None and followup not in by_name:
                raise ValueError(
                    f"queues.{q.name}.csat.followup_queue: {followup!r} is not a queue"
                )
            if followup is not None:
                # A follow-up stays on the customer's channel, so replies reach them there.
                missing = sorted(
                    ch.value
                    for ch in set(q.channels) & set(q.csat.channels)
                    if ch not in by_name[followup].channels
                )
                if missing:
                    raise ValueError(
                        f"queues.{q.name}.csat.followup_queue: {followup!r} does not accept "
                        f"{', '.join(missing)} (a follow-up is on the rated contact's channel)"
                    )
            mailed = Channel.EMAIL in q.channels and Channel.EMAIL in q.csat.channels
            if q.csat.enabled and mailed and not self.http.public_url:
                raise ValueError(
                    f"queues.{q.name}.csat: surveys by email need http.public_url for their "
                    "rating links (or leave email out of csat.channels)"
                )
        emails = [a.email.lower() for a in self.agents]
        repeated = sorted({e for e in emails if emails.count(e) > 1})
        if repeated:
            raise ValueError(f"agents: each email once; repeated: {', '.join(repeated)}")
        for a in self.agents:
            unknown = sorted(set(a.supervises or ()) - set(by_name))
            if unknown:
                raise ValueError(f"agents.{a.email}.supervises: not a queue: {', '.join(unknown)}")
        return self

    def supervises(self) -> dict[str, frozenset[str]]:
        """The queues of each supervisor limited to some (``agents[].supervises``), by e-mail."""
        return {
            a.email.lower(): frozenset(a.supervises)
            for a in self.agents
            if a.supervises is not None
        }

    @model_validator(mode="after")
    def _cluster_database(self) -> Settings:
        if self.cluster.enabled and not self.database.url.startswith("postgresql"):
            raise ValueError(
                "cluster.redis_url: several nodes need a shared PostgreSQL database; "
                f"database.url is {self.database.url.split(':', 1)[0]}: (SQLite is one "
                "process only)"
            )
        return self

    @model_validator(mode="after")
    def _email_queues(self) -> Settings:
        by_name = {q.name: q for q in self.queues}
        for address, queue in self.email.addresses.items():
            found = by_name.get(queue)
            if found is None:
                raise ValueError(f"email.addresses: {address} -> {queue!r} is not a queue")
            if Channel.EMAIL not in found.channels:
                raise ValueError(f"email.addresses: queue {queue!r} does not accept email")
        return self

    def agent_profile(self, email: str) -> tuple[dict[Channel, int], dict[str, int]]:
        """(capacity, skills) for the agent with this email: config overrides on defaults."""
        capacity = self.agent_capacity()
        for agent in self.agents:
            if agent.email.lower() == email.lower():
                capacity.update(agent.capacity)
                return capacity, dict(agent.skills)
        return capacity, {}

    @model_validator(mode="after")
    def _dispositions_consistent(self) -> Settings:
        for q in [None, *self.queues]:
            codes = self.dispositions if q is None else q.dispositions
            where = "dispositions" if q is None else f"queues.{q.name}.dispositions"
            repeated = sorted({c for c in codes or () if list(codes or ()).count(c) > 1})
            if repeated:
                raise ValueError(f"{where}: each code once; repeated: {', '.join(repeated)}")
            if q is not None and q.disposition_required and not (codes or self.dispositions):
                raise ValueError(
                    f"queues.{q.name}.disposition_required: no disposition codes to choose "
                    "from; list them in dispositions (or the queue's own dispositions)"
                )
        return self

    @model_validator(mode="after")
    def _canned_unique(self) -> Settings:
        keys = [(c.shortcut, c.language) for c in self.canned_responses]
        repeated = sorted({f"/{k[0]}" for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(
                "canned_responses: each shortcut once per language; repeated: "
                + ", ".join(repeated)
            )
        return self

    @model_validator(mode="after")
    def _customer_fields_unique(self) -> Settings:
        names = [f.name for f in self.customer_fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError("customer_fields: each name once; repeated: " + ", ".join(repeated))
        return self

    def custom_fields(self) -> tuple[CustomField, ...]:
        return tuple(f.to_field() for f in self.customer_fields)

    def wrap_up_rules(self) -> WrapUpRules:
        return WrapUpRules(
            codes=tuple(self.dispositions),
            by_queue={q.name: tuple(q.dispositions) for q in self.queues if q.dispositions},
            required=frozenset(q.name for q in self.queues if q.disposition_required),
        )

    def reply_targets(self) -> ReplyTargets:
        return ReplyTargets({q.name: dict(q.reply_target_s) for q in self.queues})

    def survey_policies(self) -> dict[str, SurveyPolicy]:
        """Each queue's satisfaction survey (``queues[].csat``)."""
        return {q.name: q.csat.to_policy() for q in self.queues}

    def queue_map(self) -> dict[str, Queue]:
        return {q.name: q.to_queue() for q in self.queues}

    @model_validator(mode="after")
    def _twilio_consistent(self) -> Settings:
        tw = self.twilio
        if not tw.numbers:
            return self
        if tw.public_url is None and self.http.public_url is not None:
            tw.public_url = _http_url(self.http.public_url, "http.public_url")
        if tw.public_url is None:
            raise ValueError(
                "twilio.public_url: needed with Twilio numbers: the https URL Twilio calls "
                "(its signatures are checked on that exact URL)"
            )
        for env, secret in (
            ("TWILIO_ACCOUNT_SID", tw.account_sid),
            ("TWILIO_AUTH_TOKEN", tw.auth_token),
        ):
            if secret is None or not secret.get_secret_value():
                raise ValueError(f"twilio: set {env} in the environment to use Twilio numbers")
        seen: set[str] = set()
        by_name = {q.name: q for q in self.queues}
        for i, n in enumerate(tw.numbers):
            where = f"twilio.numbers.{i}"
            if n.number in seen:
                raise ValueError(f"{where}.number: {n.number} is listed twice")
            seen.add(n.number)
            found = by_name.get(n.queue)
            if found is None:
                raise ValueError(f"{where}.queue: {n.queue!r} is not a queue")
            for purpose in n.purposes:
                if _PURPOSE_CHANNEL[purpose] not in found.channels:
                    raise ValueError(f"{where}.queue: queue {n.queue!r} does not accept {purpose}")
            if n.business_hours is not None and n.business_hours not in self.business_hours:
                raise ValueError(
                    f"{where}.business_hours: {n.business_hours!r} is not a schedule in "
                    "business_hours"
                )
        if tw.ivr.menu is not None:
            for path, choice in _ivr_choices(tw.ivr.menu, "twilio.ivr.menu"):
                if choice.queue is None:
                    continue
                found = by_name.get(choice.queue)
                if found is None:
                    raise ValueError(f"{path}.queue: {choice.queue!r} is not a queue")
                if Channel.VOICE not in found.channels:
                    raise ValueError(f"{path}.queue: queue {choice.queue!r} does not accept voice")
        return self

    def record_calls(self, queue: str) -> bool:
        """Whether calls answered from ``queue`` are recorded."""
        return any(q.record for q in self.queues if q.name == queue)

    def agent_phone(self, email: str) -> str | None:
        for agent in self.agents:
            if agent.email.lower() == email.lower():
                return agent.phone
        return None

    def agent_capacity(self) -> dict[Channel, int]:
        """Default capacity on the channels some queue accepts (the others cannot route)."""
        served = {ch for q in self.queues for ch in q.channels}
        return {ch: n for ch, n in self.routing.default_capacity.items() if ch in served}


# Settings holding secrets (environment only): read verbatim, never shown in an error.
SECRET_SETTINGS = frozenset(
    {
        ("security", "secret_key"),
        ("security", "previous_secret_keys"),
        ("email", "relay_password"),
    }
)


def _env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, Any]]:
    found: dict[tuple[str, ...], tuple[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        if "__" not in name and name[len(ENV_PREFIX) :].lower() not in Settings.model_fields:
            continue  # e.g. HUB_LOG_LEVEL: not a setting
        path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if any(not part for part in path):
            raise ConfigError(f"{name}: malformed override name")
        value: Any = raw
        # A secret is taken as written: "[x9..." is a password, and must never be echoed in
        # a YAML error.
        if path not in SECRET_SETTINGS and raw.strip()[:1] in ("[", "{"):
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ConfigError(f"{name}: cannot read {raw!r} as YAML: {exc}") from None
        found[path] = (name, value)
    return found


def _apply(data: dict[str, Any], path: tuple[str, ...], value: Any, source: str) -> None:
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {'.'.join(path)} does not name a mapping key")
        node = child
    node[path[-1]] = value


TWILIO_CREDENTIALS = {
    "TWILIO_ACCOUNT_SID": "account_sid",
    "TWILIO_AUTH_TOKEN": "auth_token",
    "TWILIO_API_KEY_SID": "api_key_sid",
    "TWILIO_API_KEY_SECRET": "api_key_secret",
}


def _twilio_credentials(
    data: dict[str, Any], environ: Mapping[str, str], path: str | Path | None
) -> None:
    """Twilio's credentials from the environment into ``twilio``; refused in a file."""
    section = data.get("twilio")
    for env, key in TWILIO_CREDENTIALS.items():
        if isinstance(section, dict) and key in section:
            raise ConfigError(
                f"{path}: twilio.{key} must not be written in a file; set {env} in the environment"
            )
    found = {key: environ[env] for env, key in TWILIO_CREDENTIALS.items() if environ.get(env)}
    if found:
        if section is None:
            section = data["twilio"] = {}
        if isinstance(section, dict):
            section.update(found)


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``path`` (YAML; skipped when None), apply environment overrides, validate."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of sections at the top level")
        data = loaded or {}
        email_section = data.get("email")
        if isinstance(email_section, dict) and "relay_password" in email_section:
            raise ConfigError(
                f"{path}: email.relay_password must not be written in a file; "
                "set HUB_EMAIL__RELAY_PASSWORD in the environment"
            )
    _twilio_credentials(data, environ, path)
    sources: dict[tuple[str, ...], str] = {}
    for key_path, (env_name, value) in _env_overrides(environ).items():
        _apply(data, key_path, value, env_name)
        sources[key_path] = env_name
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, sources, path)) from None


def _describe(
    exc: ValidationError, sources: Mapping[tuple[str, ...], str], path: str | Path | None
) -> str:
    lines = ["invalid configuration:"]
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if not loc and ": " in msg:
            # A rule across sections names its key at the start of its message.
            named, msg = msg.split(": ", 1)
            loc = tuple(named.split("."))
        key = ".".join(loc) or "(top level)"
        origin = next(
            (env for p, env in sources.items() if loc[: len(p)] == p or p[: len(loc)] == loc),
            str(path) if path else "defaults",
        )
        value = err.get("input")
        hidden = isinstance(value, (dict, list)) or loc[:2] in SECRET_SETTINGS
        shown = "" if hidden else f" (got {value!r})"
        lines.append(f"  {key}: {msg}{shown} [from {origin}]")
    return "\n".join(lines)
