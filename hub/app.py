"""The wiring: the only module that imports every adapter and passes dependencies in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import socketio
from aiohttp import web

from agent_console import pages as console_pages
from agent_console.namespace import AgentNamespace, SupervisorNamespace
from channels.email import server as email_server
from channels.email import web as email_web
from channels.email.replies import MailReplies
from channels.email.sender import OutboxSender, Relay
from channels.twilio import webhook as twilio_webhook
from channels.twilio.calls import VoiceChannel
from channels.twilio.client import TwilioApi
from channels.twilio.messaging import SmsChannel
from channels.twilio.provisioning import Configured, configure_numbers
from channels.webchat import transport as webchat
from hub import api
from hub.auth import Authenticator
from hub.bus import InProcessBus
from hub.clock import SteadyClock
from hub.config import ConfigError, Settings, load_settings
from hub.desk import Desk
from hub.errors import HubError, InvalidInput
from hub.inbound import Inbound
from hub.model import Channel
from hub.ports import Clock, ReplyChannel
from hub.storage.migrate import upgrade
from hub.storage.sms import SqlSmsStore
from hub.storage.sql import SqlStore, make_engine
from hub.storage.voice import SqlVoiceStore
from hub.throttle import FailureThrottle
from hub.web import (
    AUTHENTICATOR,
    FRAME_ANCESTORS,
    access_middleware,
    errors_middleware,
    headers_middleware,
)
from routing.engine import RoutingPolicy
from routing.expressions import parse
from routing.rules import compile_rules
from routing.runner import RouterRunner, RoutingSetup, rule_attributes

log = logging.getLogger(__name__)

VENDOR = Path(__file__).with_name("static") / "vendor"
SHUTDOWN_TIMEOUT_S = 1.0  # per phase: aiohttp waits for handlers, cancels them, waits again


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """The assembled parts, for the CLI and the tests."""

    settings: Settings
    store: SqlStore
    bus: InProcessBus
    router: RouterRunner
    inbound: Inbound
    desk: Desk
    authenticator: Authenticator
    sio: socketio.AsyncServer
    app: web.Application
    reload_rules: Callable[[], Awaitable[int]]
    outbox: OutboxSender | None = None
    sms: SmsChannel | None = None
    voice: VoiceChannel | None = None


HUB = web.AppKey("hub", Hub)


def secret_keys(settings: Settings) -> list[str]:
    key = settings.security.secret_key
    if key is None or not key.get_secret_value():
        log.warning(
            "HUB_SECURITY__SECRET_KEY is not set: using a temporary key, so web-chat visitors "
            "start new conversations after a restart"
        )
        return [secrets.token_urlsafe(32)]
    return [key.get_secret_value()]


def routing_setup(settings: Settings) -> RoutingSetup:
    """The router's configuration; a bad rule or expression raises a HubError naming it."""
    r = settings.routing
    queues = settings.queue_map()
    for queue in queues.values():
        try:
            parse(queue.requires, missing=0)
        except HubError as exc:
            raise ConfigError(f"queues.{queue.name}.requires: {exc.message}") from None
    schedules = settings.schedules()
    try:
        rules = compile_rules(r.rules, queues, rule_attributes(schedules))
    except HubError as exc:
        raise ConfigError(f"routing.rules: {exc.message}") from None
    profiles: dict[str, tuple[Mapping[Channel, int], Mapping[str, int]]] = {}
    for agent in settings.agents:
        profiles[agent.email.lower()] = settings.agent_profile(agent.email)
    return RoutingSetup(
        queues=queues,
        default_capacity=settings.agent_capacity(),
        rules=rules,
        policy=RoutingPolicy(
            voice_exclusive=r.voice_exclusive,
            voice_while_holding=r.voice_while_holding,
            decline_delay_s=r.decline_delay_s,
            no_answer_delay_s=r.no_answer_delay_s,
            busy_delay_s=r.busy_delay_s,
            missed_offers_before_away=r.missed_offers_before_away,
            sticky_s=r.sticky_s,
            sticky_by_channel=dict(r.sticky_by_channel),
            transfer_priority_boost=r.transfer_priority_boost,
        ),
        profiles=profiles,
        tier_priority=dict(r.tier_priority),
        presence_grace_s=r.presence_grace_s,
        seed=r.random_seed,
        schedules=schedules,
    )


def twilio_api(settings: Settings) -> TwilioApi:
    """Twilio's REST API with the credentials from the environment."""
    tw = settings.twilio
    if tw.account_sid is None or tw.auth_token is None:
        raise ConfigError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the environment")
    return TwilioApi(
        tw.account_sid.get_secret_value(),
        tw.auth_token.get_secret_value(),
        base_url=tw.api_base_url,
        timeout_s=tw.request_timeout_s,
    )


async def configure_twilio(settings: Settings, *, dry_run: bool = False) -> list[Configured]:
    """``contact-hub twilio configure``: set the configured numbers' webhooks on Twilio."""
    if not settings.twilio.numbers:
        raise ConfigError("twilio.numbers is empty: list the numbers to configure")
    api = twilio_api(settings)
    try:
        return await configure_numbers(api, settings.twilio, dry_run=dry_run)
    finally:
        await api.close()


def build(settings: Settings, *, clock: Clock | None = None, config_path: str | None = None) -> Hub:
    """Wire a hub. Its clock is steady by default (wall time at start, then monotonic), so a
    jump of the machine's clock does not expire offers or wrap-ups at once (hub.clock)."""
    clock = clock or SteadyClock()
    store = SqlStore(make_engine(settings.database.url, echo=settings.database.echo))
    sms_store = SqlSmsStore(store)
    bus = InProcessBus()
    router = RouterRunner(setup=routing_setup(settings), store=store, bus=bus, clock=clock)
    inbound = Inbound(
        store=store,
        bus=bus,
        router=router,
        clock=clock,
        queue_for={Channel.WEBCHAT: settings.webchat.queue},
        mail_store=store,
        sms_store=sms_store,
    )
    sms_channel = None
    if any("sms" in n.purposes for n in settings.twilio.numbers):
        sms_channel = SmsChannel(
            settings=settings.twilio,
            inbound=inbound,
            sms_store=sms_store,
            bus=bus,
            clock=clock,
            api=twilio_api(settings),
        )
    voice_channel = None
    if any("voice" in n.purposes for n in settings.twilio.numbers):
        voice_channel = VoiceChannel(
            settings=settings,
            inbound=inbound,
            store=store,
            voice_store=SqlVoiceStore(store),
            router=router,
            bus=bus,
            clock=clock,
            api=twilio_api(settings),
            schedules=settings.schedules(),
        )
    reply_channels: dict[Channel, ReplyChannel] = {}
    if sms_channel is not None:
        reply_channels[Channel.SMS] = sms_channel
    if voice_channel is not None:
        reply_channels[Channel.VOICE] = voice_channel
    desk = Desk(
        store=store,
        bus=bus,
        router=router,
        clock=clock,
        max_message_bytes=settings.webchat.max_message_bytes,
        away_reasons=tuple(settings.routing.away_reasons),
        queue_names=tuple(q.name for q in settings.queues),
        reply_channels=reply_channels,
        calls=voice_channel,
    )
    sec = settings.security
    authenticator = Authenticator(
        store,
        clock,
        session_ttl_s=sec.session_ttl_s,
        accounts=FailureThrottle(
            limit=sec.signin_failures_per_account,
            window_s=sec.signin_window_s,
            lockout_s=sec.signin_lockout_s,
        ),
        addresses=FailureThrottle(
            limit=sec.signin_failures_per_address,
            window_s=sec.signin_window_s,
            lockout_s=sec.signin_lockout_s,
        ),
    )

    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
    sio.register_namespace(
        webchat.ChatNamespace(
            inbound=inbound,
            store=store,
            bus=bus,
            tokens=webchat.VisitorTokens(
                secret_keys(settings), settings.webchat.visitor_token_ttl_s
            ),
            max_message_bytes=settings.webchat.max_message_bytes,
        )
    )
    sio.register_namespace(AgentNamespace(authenticator=authenticator, desk=desk, bus=bus))
    sio.register_namespace(
        SupervisorNamespace(
            authenticator=authenticator,
            snapshot=router.snapshot,
            refresh=router.refresh_agents,
            bus=bus,
        )
    )

    app = web.Application(middlewares=[headers_middleware, errors_middleware, access_middleware])
    app[AUTHENTICATOR] = authenticator
    app[api.STORE] = store
    app[api.COOKIE_SECURE] = settings.security.cookie_secure
    app[api.SESSION_TTL_S] = settings.security.session_ttl_s
    app[api.SNAPSHOT] = router.snapshot
    app[api.OFFERED] = lambda agent_id: {iid for iid, _ in router.offers_for(agent_id)}

    async def reload_rules() -> int:
        """Re-read the rules from the config file; queued interactions keep their targets."""
        try:
            fresh = load_settings(config_path) if config_path else settings
            setup = routing_setup(fresh)
        except ConfigError as exc:
            raise InvalidInput(f"rules not reloaded, the old ones stay: {exc}") from None
        rules = setup.rules
        router.replace_rules(rules, setup.schedules)
        log.info("routing rules reloaded: %d rules", len(rules))
        return len(rules)

    app[api.RELOAD_RULES] = reload_rules
    origins = " ".join(settings.webchat.embed_origins)
    app[FRAME_ANCESTORS] = f"'self' {origins}".strip()
    sio.attach(app)
    api.add_routes(app)
    webchat.add_routes(app)
    console_pages.add_routes(app)
    app.router.add_static("/static/vendor", VENDOR)

    mail = settings.email
    outbox = OutboxSender(
        store=store,
        bus=bus,
        clock=clock,
        relay=Relay(
            host=mail.relay_host,
            port=mail.relay_port,
            starttls=mail.relay_starttls,
            tls=mail.relay_tls,
            username=mail.relay_username,
            password=mail.relay_password.get_secret_value() if mail.relay_password else None,
            timeout_s=mail.relay_timeout_s,
        ),
        retry_initial_s=mail.retry_initial_s,
        retry_max_s=mail.retry_max_s,
        max_attempts=mail.max_attempts,
    )
    app[email_web.MAIL_STORE] = store
    app[email_web.REPLY_LIMIT] = lambda: mail.max_reply_bytes
    app[email_web.REPLIES] = MailReplies(
        store=store,
        mail_store=store,
        bus=bus,
        clock=clock,
        domain=mail.domain,
        max_reply_bytes=mail.max_reply_bytes,
        queued=outbox.wake,
    )
    email_web.add_routes(app)
    smtp_limits = email_server.SmtpLimits(
        max_message_bytes=mail.max_message_bytes,
        max_recipients=mail.max_recipients,
        max_connections=mail.max_connections,
        max_attachment_bytes=mail.max_attachment_bytes,
    )
    mail_handler = email_server.MailHandler(
        inbound=inbound, addresses=mail.addresses, limits=smtp_limits, domain=mail.domain
    )

    if settings.twilio.numbers:
        # Every /twilio/* route sits behind the one signature gate.
        assert settings.twilio.auth_token is not None and settings.twilio.public_url is not None
        twilio = twilio_webhook.twilio_app(
            settings.twilio.auth_token.get_secret_value(), settings.twilio.public_url
        )
        if sms_channel is not None:
            sms_channel.add_routes(twilio)
        if voice_channel is not None:
            voice_channel.add_routes(twilio)
        app.add_subapp(twilio_webhook.PREFIX, twilio)

    hub = Hub(
        settings, store, bus, router, inbound, desk, authenticator, sio, app, reload_rules, outbox
    )
    hub.sms = sms_channel
    hub.voice = voice_channel
    app[HUB] = hub

    async def email_channel(_app: web.Application) -> AsyncIterator[None]:
        """SMTP in (only when inbound addresses are configured) and the outbox sender."""
        smtp = None
        if mail.addresses:
            try:
                smtp = await email_server.start_server(
                    mail_handler,
                    host=mail.smtp_host,
                    port=mail.smtp_port,
                    limits=smtp_limits,
                    hostname=mail.domain,
                    tls=email_server.tls_context(mail.tls_cert, mail.tls_key),
                )
            except OSError as exc:
                raise HubError(
                    f"cannot listen for email on {mail.smtp_host}:{mail.smtp_port}: {exc.strerror}"
                ) from None
        await outbox.start()
        yield
        if smtp is not None:
            smtp.close()
        await outbox.stop()

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await upgrade(store.engine)
        await router.start()
        log.info("contact-hub ready")
        yield
        await router.stop()
        await store.close()
        log.info("contact-hub stopped")

    async def disconnect_sockets(_app: web.Application) -> None:
        # Close every client's connection so that open websockets do not hold the
        # shutdown up; browsers reconnect to whichever node is up.
        log.info("contact-hub stopping: disconnecting %d clients", len(sio.eio.sockets))
        if sio.eio.sockets:  # engineio refuses to wait on an empty set
            # Bounded: a client that vanished meanwhile never acknowledges its close.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sio.eio.disconnect(), SHUTDOWN_TIMEOUT_S)
        await sio.shutdown()

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(email_channel)

    async def sms_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        if sms_channel is not None:
            await sms_channel.start()
        yield
        if sms_channel is not None:
            await sms_channel.stop()
        if voice_channel is not None:
            await voice_channel.stop()

    app.cleanup_ctx.append(sms_lifecycle)
    app.on_shutdown.append(disconnect_sockets)
    return hub
