"""The wiring: the only module that imports every adapter and passes dependencies in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from aiohttp.typedefs import Middleware
from redis.asyncio import Redis

from agent_console import audit_page
from agent_console import pages as console_pages
from agent_console.namespace import (
    AGENT_NAMESPACE,
    AGENT_ROOM_PREFIX,
    AgentNamespace,
    SupervisorNamespace,
)
from channels.email import server as email_server
from channels.email import survey as email_survey
from channels.email import web as email_web
from channels.email.replies import MailReplies
from channels.email.sender import OutboxSender, Relay
from channels.twilio import phone_web
from channels.twilio import webhook as twilio_webhook
from channels.twilio.calls import VoiceChannel
from channels.twilio.client import TwilioApi
from channels.twilio.device import Devices
from channels.twilio.messaging import SmsChannel
from channels.twilio.outbound import OutboundCalls
from channels.twilio.provisioning import Configured, configure_numbers
from channels.webchat import transport as webchat
from hub import (
    api,
    apikey_api,
    audit_api,
    customers_api,
    followups_api,
    history_api,
    knowledge_api,
    notes_api,
    reports,
    tasks_api,
    webhooks_api,
)
from hub import metrics as metrics_web
from hub.access import Oversight
from hub.accounts import Accounts
from hub.apikeys import ApiKeys
from hub.audit import Actor
from hub.audit import AuditAction as Did
from hub.audit_trail import Audit
from hub.auth import Authenticator
from hub.bus import InProcessBus
from hub.clock import SteadyClock
from hub.cluster import keys as cluster_keys
from hub.cluster.broadcast import Broadcast
from hub.cluster.commands import CommandConsumer, CommandSender
from hub.cluster.leadership import Leadership
from hub.cluster.lease import RouterLease
from hub.cluster.remote import ClusterRouter
from hub.config import ConfigError, Settings, load_settings
from hub.desk import Desk
from hub.errors import HubError, InvalidInput
from hub.floor import Floor
from hub.followup_clock import FollowupClock
from hub.inbound import Inbound
from hub.model import Channel
from hub.ports import Clock, ReplyChannel
from hub.proxies import forwarded_middleware
from hub.self_service import SelfService, SelfServiceSettings
from hub.storage.apikeys import SqlApiKeyStore
from hub.storage.audit import SqlAuditStore
from hub.storage.counts import SqlCounts
from hub.storage.customers import SqlCustomerStore
from hub.storage.devices import SqlDeviceStore
from hub.storage.fence import SqlFence
from hub.storage.followups import SqlFollowupStore
from hub.storage.history import SqlHistory
from hub.storage.knowledge import SqlKnowledgeStore
from hub.storage.migrate import upgrade
from hub.storage.outbound import SqlOutboundStore
from hub.storage.ratings import SqlRatingStore
from hub.storage.sms import SqlSmsStore
from hub.storage.sql import SqlStore, make_engine
from hub.storage.voice import SqlVoiceStore
from hub.storage.webhooks import SqlWebhookStore
from hub.surveys import Surveys
from hub.throttle import FailureThrottle, RateLimit, per_minute
from hub.web import (
    API_KEYS,
    AUTHENTICATOR,
    FRAME_ANCESTORS,
    OVERSIGHT,
    PUBLIC_URL,
    SOFTPHONE_SOURCES,
    access_middleware,
    errors_middleware,
    headers_middleware,
    secure_prepared,
)
from hub.webhook_admin import WebhookAdmin
from hub.webhook_outbox import WebhookRecorder, WebhookSender
from hub.webhooks import RetryPolicy
from routing.engine import RoutingPolicy
from routing.expressions import parse
from routing.rules import compile_rules
from routing.runner import RouterRunner, RoutingSetup, rule_attributes

log = logging.getLogger(__name__)

VENDOR = Path(__file__).with_name("static") / "vendor"
# What the Twilio Voice JS SDK reaches from the console: its signalling and insights
# (wss/https on twilio.com) and its ringtones (sdk.twilio.com).
TWILIO_DEVICE_SOURCES = {
    "connect-src": "wss://*.twilio.com https://*.twilio.com",
    "media-src": "https://sdk.twilio.com",
}
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
    reload_rules: Callable[..., Awaitable[int]]
    audit: Audit
    outbox: OutboxSender | None = None
    sms: SmsChannel | None = None
    voice: VoiceChannel | None = None
    outbound: OutboundCalls | None = None
    webhooks: WebhookSender | None = None
    surveys: Surveys | None = None
    followups: FollowupClock | None = None
    leadership: Leadership | None = None  # in a cluster: who routes (hub.cluster)
    cluster: ClusterRouter | None = None  # in a cluster: the router as this node reaches it
    broadcast: Broadcast | None = None  # in a cluster: revocations and reloads to every node


HUB = web.AppKey("hub", Hub)


def secret_keys(settings: Settings) -> list[str]:
    """The signing keys, oldest first: the last signs, every one verifies (rotation)."""
    key = settings.security.secret_key
    if key is None or not key.get_secret_value():
        log.warning(
            "HUB_SECURITY__SECRET_KEY is not set: using a temporary key, so web-chat visitors "
            "start new conversations after a restart"
        )
        return [secrets.token_urlsafe(32)]
    previous = settings.security.previous_secret_keys
    older = previous.get_secret_value().split(",") if previous is not None else []
    return [k.strip() for k in older if k.strip()] + [key.get_secret_value()]


def redis_client(url: str) -> Redis:
    """The cluster's Redis connection pool; a stalled server fails calls after 5 s."""
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


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
        day_zone=settings.reports.zone(),
        followup_owner_wait_s=r.followup_owner_wait_s,
    )


def queue_settings(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each queue's configuration as the wallboard and ``GET /api/v1/queues`` show it: its
    channels, priority, SLA target and the tile's thresholds."""
    return {
        q.name: {
            "name": q.name,
            "channels": [c.value for c in q.channels],
            "priority": q.priority,
            "sla_s": q.sla_s,
        }
        | q.wallboard.model_dump()
        for q in settings.queues
    }


def wallboard_settings(settings: Settings) -> dict[str, Any]:
    """What the wallboard needs of the config: each queue's target and thresholds."""
    return {
        "queues": queue_settings(settings),
        "away_reasons": list(settings.routing.away_reasons),
        "timezone": settings.reports.timezone,
    }


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
    audit_store = SqlAuditStore(store)
    audit = Audit(audit_store, clock)
    bus = InProcessBus()
    supervisors: SupervisorNamespace | None = None  # made below; it watches the router
    cluster = settings.cluster
    setup = routing_setup(settings)
    router = RouterRunner(
        setup=setup,
        store=store,
        bus=bus,
        clock=clock,
        # In a cluster the picture also feeds the standby nodes' supervisors and questions.
        snapshot_wanted=lambda: (
            cluster.enabled or (supervisors is not None and supervisors.watching())
        ),
        cluster=cluster.enabled,
    )
    routing: RouterRunner | ClusterRouter = router  # what the use cases call
    redis = None
    node_id = cluster.node_id or f"{socket.gethostname()}-{os.getpid()}"
    channels = None
    if cluster.redis_url:
        redis = redis_client(cluster.redis_url)
        channels = cluster_keys.Channels.of(redis)
        routing = ClusterRouter(
            runner=router,
            sender=CommandSender(redis, node_id=node_id, timeout_s=cluster.command_timeout_s),
            redis=redis,
            store=store,
            bus=bus,
            clock=clock,
            node_id=node_id,
            channels=channels,
            heartbeat_s=cluster.lease_ttl_s / 3,
            default_capacity=setup.default_capacity,
        )
    knowledge = SqlKnowledgeStore(store)
    self_service = SelfService(
        store=store,
        knowledge=knowledge,
        bus=bus,
        clock=clock,
        settings=SelfServiceSettings(
            enabled=settings.knowledge.suggest_to_visitors,
            max_suggestions=settings.knowledge.max_suggestions,
            wait_s=settings.knowledge.suggestion_wait_s,
        ),
    )
    inbound = Inbound(
        store=store,
        bus=bus,
        router=routing,
        clock=clock,
        queue_for={Channel.WEBCHAT: settings.webchat.queue},
        mail_store=store,
        sms_store=sms_store,
        self_service=self_service,
        profile=SqlCustomerStore(store).profile,
    )

    async def agent_name(user_id: int) -> str | None:
        user = await store.user(user_id)
        return None if user is None else user.name

    ratings = SqlRatingStore(store)
    surveys = Surveys(
        ratings=ratings,
        bus=bus,
        clock=clock,
        policies=settings.survey_policies(),
        priorities={q.name: q.priority for q in settings.queues},
        agent_name=agent_name,
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
            surveys=surveys,
        )
    voice_channel = None
    outbound = None
    devices = Devices(settings=settings, store=SqlDeviceStore(store), clock=clock)
    if any("voice" in n.purposes for n in settings.twilio.numbers):
        voice_store = SqlVoiceStore(store)
        voice_api = twilio_api(settings)  # one client for both call directions; voice closes it
        voice_channel = VoiceChannel(
            settings=settings,
            inbound=inbound,
            store=store,
            voice_store=voice_store,
            router=routing,
            bus=bus,
            clock=clock,
            api=voice_api,
            schedules=settings.schedules(),
            devices=devices,
            surveys=surveys,
        )
        outbound = OutboundCalls(
            settings=settings,
            store=store,
            outbound_store=SqlOutboundStore(store),
            voice_store=voice_store,
            router=routing,
            bus=bus,
            clock=clock,
            api=voice_api,
            devices=devices,
            conference=voice_channel,
        )
    reply_channels: dict[Channel, ReplyChannel] = {}
    if sms_channel is not None:
        reply_channels[Channel.SMS] = sms_channel
    if voice_channel is not None:
        reply_channels[Channel.VOICE] = voice_channel
    desk = Desk(
        store=store,
        bus=bus,
        router=routing,
        clock=clock,
        max_message_bytes=settings.webchat.max_message_bytes,
        away_reasons=tuple(settings.routing.away_reasons),
        queue_names=tuple(q.name for q in settings.queues),
        reply_channels=reply_channels,
        calls=voice_channel,
        wrap_up=settings.wrap_up_rules(),
        canned_responses=tuple(c.model_dump(mode="json") for c in settings.canned_responses),
        reply_targets=settings.reply_targets(),
    )
    sec = settings.security
    authenticator = Authenticator(
        store,
        clock,
        session_ttl_s=sec.session_ttl_s,
        idle_timeout_s=sec.idle_timeout_s,
        bus=bus,
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

    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        logger=False,
        engineio_logger=False,
        # In a cluster, an emit on any node reaches the room's clients on every node.
        client_manager=(
            socketio.AsyncRedisManager(cluster.redis_url, channel=channels.socketio)
            if channels is not None
            else None
        ),
    )
    signing_keys = secret_keys(settings)  # chat visitor tokens, survey links
    sio.register_namespace(
        webchat.ChatNamespace(
            inbound=inbound,
            self_service=self_service,
            store=store,
            bus=bus,
            tokens=webchat.VisitorTokens(signing_keys, settings.webchat.visitor_token_ttl_s),
            max_message_bytes=settings.webchat.max_message_bytes,
            pace=RateLimit(
                per_s=settings.webchat.messages_per_minute / 60,
                burst=settings.webchat.message_burst,
            ),
            address_pace=per_minute(settings.webchat.messages_per_minute_per_address),
            connections=per_minute(settings.webchat.connections_per_minute_per_address),
            surveys=surveys,
        )
    )
    public_url = settings.http.public_url
    sio.register_namespace(
        AgentNamespace(
            authenticator=authenticator, desk=desk, bus=bus, public_url=public_url, audit=audit
        )
    )
    oversight = Oversight(settings.supervises())
    floor = Floor(
        store=store,
        bus=bus,
        router=routing,
        clock=clock,
        zone=settings.reports.zone(),
        sla_s={q.name: q.sla_s for q in settings.queues},
        away_reasons=tuple(settings.routing.away_reasons),
        oversight=oversight,
    )
    supervisors = SupervisorNamespace(
        authenticator=authenticator,
        snapshot=routing.snapshot,
        refresh=routing.refresh_agents,
        floor=floor,
        settings=wallboard_settings(settings),
        bus=bus,
        desk=desk,
        public_url=public_url,
        audit=audit,
    )
    sio.register_namespace(supervisors)

    proxied: list[Middleware] = [forwarded_middleware(settings.http.trusted_proxies)]
    app = web.Application(
        middlewares=[
            *(proxied if settings.http.trusted_proxies else []),
            headers_middleware,
            errors_middleware,
            access_middleware,
        ]
    )
    app.on_response_prepare.append(secure_prepared)
    app[AUTHENTICATOR] = authenticator
    app[API_KEYS] = ApiKeys(SqlApiKeyStore(store), clock)
    app[OVERSIGHT] = oversight
    app[audit_api.AUDIT] = audit
    app[audit_api.AUDIT_STORE] = audit_store
    app[api.STORE] = store
    app[PUBLIC_URL] = public_url or ""
    app[api.ACCOUNTS] = Accounts(store=store, authenticator=authenticator, bus=bus, clock=clock)
    app[api.COOKIE_SECURE] = sec.cookie_secure or (public_url or "").lower().startswith("https:")
    app[api.SESSION_TTL_S] = settings.security.session_ttl_s
    app[api.SNAPSHOT] = routing.snapshot
    app[api.QUEUE_SETTINGS] = queue_settings(settings)
    app[api.OFFERED] = lambda agent_id: {iid for iid, _ in routing.offers_for(agent_id)}

    def load_rules() -> int:
        """Re-read the rules from the config file (ConfigError naming what is wrong, and the
        old rules stay); queued interactions keep their targets. How many rules there are."""
        fresh = load_settings(config_path) if config_path else settings
        setup = routing_setup(fresh)
        routing.replace_rules(setup.rules, setup.schedules)
        return len(setup.rules)

    async def reload_asked_elsewhere() -> int:
        """Another node reloaded valid rules: this node re-reads its own config file."""
        try:
            return load_rules()
        except ConfigError as exc:
            raise InvalidInput(str(exc)) from None

    broadcast = None
    if redis is not None and channels is not None:
        broadcast = Broadcast(
            redis,
            channel=channels.broadcast,
            node_id=node_id,
            bus=bus,
            reload_rules=reload_asked_elsewhere,
        )

    async def reload_rules(actor: Actor | None = None) -> int:
        """Re-read the rules from the config file; in a cluster, valid ones on every node.
        ``actor`` (the hub itself, e.g. on SIGHUP, when None) goes on the audit trail."""
        actor = actor or Actor.system("signal SIGHUP")
        try:
            count = load_rules()
        except ConfigError as exc:
            audit.record(actor, Did.RULES_RELOAD_REFUSED, details={"error": str(exc)})
            raise InvalidInput(f"rules not reloaded, the old ones stay: {exc}") from None
        audit.record(actor, Did.RULES_RELOADED, details={"rules": count})
        log.info("routing rules reloaded: %d rules", count)
        if broadcast is not None:
            await broadcast.rules_reloaded()
        return count

    app[api.RELOAD_RULES] = reload_rules
    app[customers_api.CUSTOMERS] = SqlCustomerStore(store)
    app[customers_api.CUSTOM_FIELDS] = settings.custom_fields()
    app[customers_api.NOW] = clock
    app[customers_api.ANNOUNCE] = bus.publish
    followup_store = SqlFollowupStore(store)
    followup_clock = FollowupClock(
        store=followup_store,
        bus=bus,
        clock=clock,
        priorities={q.name: q.priority for q in settings.queues},
    )
    app[followups_api.FOLLOWUPS] = followup_store
    app[followups_api.NOW] = clock
    queue_channels = {q.name: q.channels for q in setup.queues.values()}
    app[followups_api.QUEUE_CHANNELS] = queue_channels
    app[followups_api.SCHEDULED] = followup_clock.wake
    app[reports.FLOOR] = floor

    async def agent_names() -> dict[int, str]:
        return {u.user_id: u.name for u in await store.users()}

    app[history_api.REPORTS] = history_api.Reports(
        store=SqlHistory(store),
        names=agent_names,
        agent_steps=store.agent_steps,
        clock=clock,
        zone=settings.reports.zone(),
        sla_s={q.name: q.sla_s for q in settings.queues},
        first_contact=timedelta(hours=settings.reports.first_contact_hours),
    )
    app[knowledge_api.KNOWLEDGE] = knowledge
    app[knowledge_api.NOW] = clock
    app[reports.RATINGS] = ratings
    origins = " ".join(settings.webchat.embed_origins)
    app[FRAME_ANCESTORS] = f"'self' {origins}".strip()
    sio.attach(app)
    api.add_routes(app)
    reports.add_routes(app)
    history_api.add_routes(app)
    audit_api.add_routes(app)
    customers_api.add_routes(app)
    app[tasks_api.INBOUND] = inbound
    app[tasks_api.QUEUE_OF] = routing.queue
    app[tasks_api.DEFAULT_QUEUE] = settings.api_queue()
    app[tasks_api.CHANNEL_DETAILS] = desk.channel_details
    tasks_api.add_routes(app)
    followups_api.add_routes(app)
    app[notes_api.ANNOUNCE] = bus.publish
    app[notes_api.NOW] = clock
    notes_api.add_routes(app)
    apikey_api.add_routes(app)
    knowledge_api.add_routes(app)
    webchat.add_routes(app)
    console_pages.add_routes(app)
    audit_page.add_routes(app)
    app.router.add_static("/static/vendor", VENDOR)
    metrics = metrics_web.HubMetrics(
        bus=bus,
        counts=SqlCounts(store),
        snapshot=routing.snapshot,
        connections=lambda: metrics_web.Connections(
            agents=metrics_web.rooms_in_use(sio, AGENT_NAMESPACE, AGENT_ROOM_PREFIX),
            visitors=metrics_web.rooms_in_use(sio, webchat.NAMESPACE, webchat.VISITOR_ROOM_PREFIX),
        ),
        leader=lambda: router.running,
        clock=clock,
    )
    if settings.metrics.enabled and settings.metrics.port is None:
        metrics_web.add_route(app, metrics, settings.metrics.allow)
    phone_web.add_routes(app)
    if voice_channel is not None and outbound is not None:
        app[phone_web.DEVICES] = devices
        app[phone_web.OUTBOUND] = outbound
        app[phone_web.WORK_ITEM] = desk.work_item
        if not settings.twilio.browser_phone_missing():
            app[SOFTPHONE_SOURCES] = TWILIO_DEVICE_SOURCES

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
    if settings.http.public_url:
        links = email_survey.SurveyLinks(signing_keys, settings.http.public_url)
        email_survey.MailSurveys(
            store=store,
            mail_store=store,
            bus=bus,
            clock=clock,
            links=links,
            domain=mail.domain,
            queued=outbox.wake,
        )
        email_survey.add_routes(
            app, email_survey.SurveyPages(store=store, surveys=surveys, links=links)
        )
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
        if outbound is not None:
            outbound.add_routes(twilio)
        app.add_subapp(twilio_webhook.PREFIX, twilio)

    hub = Hub(
        settings,
        store,
        bus,
        router,
        inbound,
        desk,
        authenticator,
        sio,
        app,
        reload_rules,
        audit,
        outbox,
    )
    hub.sms = sms_channel
    hub.voice = voice_channel
    hub.outbound = outbound
    hub.surveys = surveys
    hub.followups = followup_clock
    app[HUB] = hub
    hub.broadcast = broadcast
    if redis is not None and channels is not None and isinstance(routing, ClusterRouter):
        hub.cluster = routing
        hub.leadership = Leadership(
            lease=RouterLease(redis, node_id=node_id, ttl_s=cluster.lease_ttl_s),
            fence=SqlFence(store),
            router=router,
            node_id=node_id,
            ttl_s=cluster.lease_ttl_s,
            now=clock,
            duties=[
                routing,
                CommandConsumer(
                    redis,
                    node_id=node_id,
                    channels=channels,
                    timeout_s=cluster.command_timeout_s,
                    handle=routing.handle,
                    routing=lambda: router.running,
                ),
            ],
        )

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
        await audit.start()
        if hub.leadership is None or hub.cluster is None:
            await router.start()
        else:
            await hub.cluster.start()
            await hub.leadership.start()  # routes when (and while) it holds the lease
        if broadcast is not None:
            await broadcast.start()
        log.info("contact-hub ready")
        yield
        await self_service.close()
        await supervisors.stop()
        if hub.leadership is None or hub.cluster is None:
            await router.stop()
        else:
            await hub.leadership.stop()
            await hub.cluster.stop()
        if broadcast is not None:
            await broadcast.stop()
        if redis is not None:
            await redis.aclose()
        await audit.stop()  # every entry recorded until now is stored (or logged)
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
    if settings.metrics.enabled and settings.metrics.port is not None:
        app.cleanup_ctx.append(
            metrics_web.listener(metrics, settings.metrics.host, settings.metrics.port)
        )
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

    hooks = settings.webhooks
    webhook_store = SqlWebhookStore(store)
    webhook_sender = WebhookSender(
        store=webhook_store,
        clock=clock,
        policy=RetryPolicy(hooks.retry_initial_s, hooks.retry_max_s, hooks.give_up_after_s),
        timeout_s=hooks.timeout_s,
        parallel=hooks.parallel,
    )
    # Subscribed last, so agents and supervisors hear of an event before its deliveries are
    # written; the bus announces only committed facts, so nothing is posted that did not happen.
    WebhookRecorder(
        store=webhook_store,
        clock=clock,
        give_up_after_s=hooks.give_up_after_s,
        recorded=webhook_sender.wake,
    ).subscribe(bus)
    app[webhooks_api.WEBHOOKS] = WebhookAdmin(
        store=webhook_store,
        clock=clock,
        give_up_after_s=hooks.give_up_after_s,
        queued=webhook_sender.wake,
    )
    webhooks_api.add_routes(app)
    hub.webhooks = webhook_sender

    async def webhook_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await webhook_sender.start()
        yield
        await webhook_sender.stop()

    app.cleanup_ctx.append(webhook_lifecycle)

    async def followup_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        """After the router (started in ``lifecycle``): what fell due meanwhile opens now."""
        await followup_clock.start()
        yield
        await followup_clock.stop()

    app.cleanup_ctx.append(followup_lifecycle)
    app.on_shutdown.append(disconnect_sockets)
    return hub
