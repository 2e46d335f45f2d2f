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
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.errors import InvalidInput
from hub.hours import Schedule, parse_schedules
from hub.model import Channel, Queue
from hub.phone import to_e164

ENV_PREFIX = "HUB_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = None


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///contact-hub.db"
    echo: bool = False


class SecuritySettings(_Section):
    secret_key: SecretStr | None = None
    session_ttl_s: int = Field(12 * 3600, ge=60)
    cookie_secure: bool = False
    # Repeated failed sign-ins lock the account (and, separately, the address they come
    # from) for signin_lockout_s: so many failures within signin_window_s.
    signin_failures_per_account: int = Field(10, ge=1, le=1000)
    signin_failures_per_address: int = Field(30, ge=1, le=100_000)
    signin_window_s: float = Field(900.0, gt=0, le=86400)
    signin_lockout_s: float = Field(900.0, ge=0, le=86400)


class WebchatSettings(_Section):
    queue: str = "support"
    max_message_bytes: int = Field(8192, ge=1, le=1_048_576)
    visitor_token_ttl_s: int = Field(30 * 24 * 3600, ge=60)
    embed_origins: list[str] = Field(default_factory=list)


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
    return {Channel.WEBCHAT: 3, Channel.EMAIL: 5, Channel.SMS: 5, Channel.VOICE: 1}


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


Strategy = Literal[
    "longest_idle", "round_robin", "least_occupied", "most_skilled", "ring_all", "random"
]


class QueueSettings(_Section):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channels: list[Channel] = Field(min_length=1)
    priority: int = 0
    strategy: Strategy = "longest_idle"
    offer_timeout_s: float = Field(20.0, gt=0, le=3600)
    wrap_up_s: float = Field(15.0, ge=0, le=3600)
    sla_s: float = Field(20.0, gt=0, le=86400)
    requires: str = "true"  # which agents serve this queue, e.g. "billing >= 2"
    max_wait_s: float | None = Field(None, gt=0, le=86400)
    on_max_wait: Literal["overflow", "voicemail", "callback"] | None = None
    overflow_queue: str | None = None
    record: bool = False  # voice: record calls answered from this queue

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


def _default_queues() -> list[QueueSettings]:
    return [
        QueueSettings(
            name="support", channels=[Channel.WEBCHAT], offer_timeout_s=20.0, wrap_up_s=15.0
        )
    ]


class Settings(_Section):
    http: HttpSettings = HttpSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    webchat: WebchatSettings = WebchatSettings()
    routing: RoutingSettings = RoutingSettings()
    queues: list[QueueSettings] = Field(default_factory=_default_queues, min_length=1)
    agents: list[AgentSettings] = Field(default_factory=list)
    email: EmailSettings = EmailSettings()
    business_hours: dict[str, dict[str, Any]] = Field(default_factory=dict)
    twilio: TwilioSettings = TwilioSettings()

    @model_validator(mode="after")
    def _hours_valid(self) -> Settings:
        try:
            parse_schedules(self.business_hours)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return self

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
        for q in self.queues:
            if q.overflow_queue is not None and q.overflow_queue not in by_name:
                raise ValueError(
                    f"queues.{q.name}.overflow_queue: {q.overflow_queue!r} is not a queue"
                )
            if q.on_max_wait == "overflow" and q.overflow_queue is None:
                raise ValueError(f"queues.{q.name}.overflow_queue: needed by on_max_wait: overflow")
        emails = [a.email.lower() for a in self.agents]
        repeated = sorted({e for e in emails if emails.count(e) > 1})
        if repeated:
            raise ValueError(f"agents: each email once; repeated: {', '.join(repeated)}")
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
        if raw.strip()[:1] in ("[", "{"):
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


TWILIO_CREDENTIALS = {"TWILIO_ACCOUNT_SID": "account_sid", "TWILIO_AUTH_TOKEN": "auth_token"}


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
        shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
        lines.append(f"  {key}: {msg}{shown} [from {origin}]")
    return "\n".join(lines)
