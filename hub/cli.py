"""The ``contact-hub`` command: run, demo, migrate, user add/set-role/disable/enable/passwd,
apikey create/list/revoke, audit export, webhook add/list/remove, customers import/export,
twilio configure."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from hub.accounts import Accounts
from hub.apikeys import SCOPES, ApiKeys
from hub.app import SHUTDOWN_TIMEOUT_S, build, configure_twilio, utc_now
from hub.audit import Actor, AuditQuery, csv_entry, csv_header, jsonl_lines, parse_time
from hub.audit import AuditAction as Did
from hub.audit_api import all_entries
from hub.audit_trail import Audit
from hub.auth import Authenticator
from hub.bus import InProcessBus
from hub.cli_output import write_output
from hub.config import ConfigError, Settings, load_settings
from hub.customers_cli import add_parser as add_customers_parser
from hub.demo import seed, seed_articles
from hub.errors import HubError
from hub.logformat import TEXT_FORMAT, set_log_format
from hub.model import Role, User
from hub.ports import ApiKey
from hub.storage.apikeys import SqlApiKeyStore
from hub.storage.audit import SqlAuditStore
from hub.storage.knowledge import SqlKnowledgeStore
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from hub.storage.webhooks import SqlWebhookStore
from hub.webhook_admin import WebhookAdmin
from hub.webhooks import EVENT_TYPES, Subscription
from routing.simulate_cli import add_parser as add_simulate_parser

log = logging.getLogger("hub")
DEFAULT_CONFIG = "config.yaml"


def _config_path(args: argparse.Namespace) -> str | None:
    path: str | None = args.config
    if path is None and Path(DEFAULT_CONFIG).exists():
        path = DEFAULT_CONFIG
    return path


def _settings(args: argparse.Namespace) -> Settings:
    path = _config_path(args)
    settings = load_settings(path)
    set_log_format(settings.logging.format)
    updates = {}
    if getattr(args, "host", None):
        updates["host"] = args.host
    if getattr(args, "port", None):
        updates["port"] = args.port
    if updates:
        settings = settings.model_copy(update={"http": settings.http.model_copy(update=updates)})
    return settings


async def _serve_until_signalled(settings: Settings, banner: str, config_path: str | None) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully (clients told, state closed).
    SIGHUP re-reads the routing rules from the config file."""
    hub = build(settings, config_path=config_path)
    host, port = settings.http.host, settings.http.port
    base = settings.http.public_url or f"http://{host}:{port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def reload() -> None:
        try:
            await hub.reload_rules()
        except (HubError, ConfigError) as exc:
            log.error("rules not reloaded, the old ones stay: %s", exc)

    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload()))
    runner = web.AppRunner(hub.app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise HubError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        print(f"contact-hub listening on {base}", flush=True)
        if banner:
            print(banner, flush=True)
        await stop.wait()
        log.info("signal received; stopping")
    finally:
        await runner.cleanup()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (a dependency except on Windows: a faster
    loop for the many sockets of a busy hub); asyncio's loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], Any] = uvloop.new_event_loop
    return factory


def _serve(settings: Settings, banner: str = "", config_path: str | None = None) -> None:
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve_until_signalled(settings, banner, config_path))


def cmd_run(args: argparse.Namespace) -> int:
    _serve(_settings(args), config_path=_config_path(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    base = settings.http.public_url or f"http://{settings.http.host}:{settings.http.port}"

    async def prepare() -> list[tuple[str, str, str, str]]:
        store = SqlStore(make_engine(settings.database.url))
        try:
            await upgrade(store.engine)
            accounts = await seed(store, Authenticator(store, utc_now, session_ttl_s=60), utc_now)
            await seed_articles(SqlKnowledgeStore(store), utc_now)
        finally:
            await store.close()
        return [(a.role.value, a.name, a.email, a.password) for a in accounts]

    accounts = asyncio.run(prepare())
    lines = [
        "",
        "Demo ready. Open these in your browser:",
        f"  customer chat      {base}/chat",
        f"  widget on a page   {base}/widget-demo",
        f"  agent console      {base}/console",
        f"  supervisor view    {base}/console/supervisor",
        f"  knowledge base     {base}/console/kb",
        f"  API description    {base}/api/v1/openapi.json",
        *(
            f"  email              mail {address} at SMTP "
            f"{settings.email.smtp_host}:{settings.email.smtp_port}"
            for address in settings.email.addresses
        ),
        "",
        "Accounts (new temporary passwords every time the demo starts; the first sign-in",
        "asks each for a password of its own):",
    ]
    lines += [f"  {role:<11} {name:<15} {email:<24} {pw}" for role, name, email, pw in accounts]
    lines += ["", "Stop with Ctrl+C."]
    _serve(settings, "\n".join(lines), _config_path(args))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def migrate() -> None:
        engine = make_engine(settings.database.url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    print("database is up to date")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise HubError("the passwords do not match")
    return first


def _operator(command: str) -> Actor:
    """The audit actor for an operator at the command line: the OS account that ran it."""
    try:
        account = getpass.getuser()
    except (OSError, KeyError):
        account = "unknown"
    return Actor.system(f"contact-hub {command} (os user {account})")


async def _with_accounts(
    settings: Settings,
    use: Callable[[Accounts], Awaitable[User]],
    *,
    command: str,
    action: Did,
    details: Callable[[User], dict[str, Any]] = lambda user: {},
) -> User:
    """Run one account operation against the configured database (migrated first) and put it
    on the audit trail as done by the operator. Sessions it ends are deleted at once; a
    running hub closes their sockets at their next event or keep-alive (within a minute);
    the admin REST routes close them at once."""
    store = SqlStore(make_engine(settings.database.url))
    try:
        await upgrade(store.engine)
        authenticator = Authenticator(store, utc_now, session_ttl_s=60)
        accounts = Accounts(
            store=store, authenticator=authenticator, bus=InProcessBus(), clock=utc_now
        )
        user = await use(accounts)
        audit = Audit(SqlAuditStore(store), utc_now)
        audit.record(
            _operator(command), action, target=("user", user.user_id), details=details(user)
        )
        await audit.stop()
        return user
    finally:
        await store.close()


def cmd_user_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = _read_password(args)

    async def add(accounts: Accounts) -> User:
        return await accounts.add(
            email=args.email,
            name=args.name,
            role=Role(args.role),
            password=password,
            temporary=not args.permanent_password,
        )

    user = asyncio.run(
        _with_accounts(
            settings,
            add,
            command="user add",
            action=Did.USER_ADDED,
            details=lambda u: {"email": u.email, "role": u.role.value},
        )
    )
    print(f"created {args.role} {args.email} (user_id {user.user_id})")
    if user.must_change_password:
        print("the password is temporary: the first sign-in asks for a new one")
    return 0


def cmd_user_set_role(args: argparse.Namespace) -> int:
    async def set_role(accounts: Accounts) -> User:
        user = await accounts.by_email(args.email)
        return await accounts.set_role(user.user_id, Role(args.role))

    user = asyncio.run(
        _with_accounts(
            _settings(args),
            set_role,
            command="user set-role",
            action=Did.USER_ROLE_SET,
            details=lambda u: {"role": u.role.value},
        )
    )
    print(f"{user.email} is now {user.role.value}; their sessions have ended")
    return 0


def _cmd_user_disabled(args: argparse.Namespace, disabled: bool) -> int:
    async def set_disabled(accounts: Accounts) -> User:
        user = await accounts.by_email(args.email)
        return await accounts.set_disabled(user.user_id, disabled)

    user = asyncio.run(
        _with_accounts(
            _settings(args),
            set_disabled,
            command="user disable" if disabled else "user enable",
            action=Did.USER_DISABLED if disabled else Did.USER_ENABLED,
        )
    )
    if disabled:
        print(f"disabled {user.email}; their sessions have ended")
    else:
        print(f"enabled {user.email}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    return _cmd_user_disabled(args, True)


def cmd_user_enable(args: argparse.Namespace) -> int:
    return _cmd_user_disabled(args, False)


def cmd_user_passwd(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = _read_password(args)

    async def passwd(accounts: Accounts) -> User:
        user = await accounts.by_email(args.email)
        return await accounts.set_password(
            user.user_id, password, temporary=not args.permanent_password
        )

    user = asyncio.run(
        _with_accounts(
            settings,
            passwd,
            command="user passwd",
            action=Did.USER_PASSWORD_SET,
            details=lambda u: {"temporary": u.must_change_password},
        )
    )
    print(f"password of {user.email} set; their sessions have ended")
    if user.must_change_password:
        print("the password is temporary: the next sign-in asks for a new one")
    return 0


async def _with_api_keys(
    settings: Settings, use: Callable[[ApiKeys, Audit, Actor], Awaitable[Any]]
) -> Any:
    """Run one API-key operation against the configured database (migrated first); ``use``
    puts what it changed on the audit trail as done by the operator."""
    store = SqlStore(make_engine(settings.database.url))
    try:
        await upgrade(store.engine)
        audit = Audit(SqlAuditStore(store), utc_now)
        try:
            return await use(ApiKeys(SqlApiKeyStore(store), utc_now), audit, _operator("apikey"))
        finally:
            await audit.stop()
    finally:
        await store.close()


def _key_line(k: ApiKey) -> str:
    used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never used"
    status = f"revoked {k.revoked_at.isoformat(timespec='seconds')}" if k.revoked_at else "active"
    return f"{k.key_id}\t{k.prefix}\t{k.name}\t{','.join(sorted(k.scopes))}\t{status}\t{used}"


def cmd_apikey_create(args: argparse.Namespace) -> int:
    async def create(keys: ApiKeys, audit: Audit, operator: Actor) -> tuple[ApiKey, str]:
        made, key = await keys.create(args.name, args.scope or [], by=operator.name)
        audit.record(
            operator,
            Did.API_KEY_CREATED,
            target=("api_key", made.key_id),
            details={"name": made.name, "prefix": made.prefix, "scopes": sorted(made.scopes)},
        )
        return made, key

    made, key = asyncio.run(_with_api_keys(_settings(args), create))
    print(key)
    print(
        f"created API key {made.key_id} ({made.prefix}) for {made.name} with "
        f"{', '.join(sorted(made.scopes))}; store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


def cmd_apikey_list(args: argparse.Namespace) -> int:
    async def listing(keys: ApiKeys, audit: Audit, operator: Actor) -> list[ApiKey]:
        return await keys.list()

    for k in asyncio.run(_with_api_keys(_settings(args), listing)):
        print(_key_line(k))
    return 0


def cmd_apikey_revoke(args: argparse.Namespace) -> int:
    async def revoke(keys: ApiKeys, audit: Audit, operator: Actor) -> ApiKey:
        revoked = await keys.revoke((await keys.find(args.key)).key_id)
        audit.record(
            operator,
            Did.API_KEY_REVOKED,
            target=("api_key", revoked.key_id),
            details={"name": revoked.name, "prefix": revoked.prefix},
        )
        return revoked

    revoked = asyncio.run(_with_api_keys(_settings(args), revoke))
    print(f"revoked API key {revoked.key_id} ({revoked.prefix}) of {revoked.name}")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Write the audit entries matching the filters, newest first, to stdout or a file."""
    settings = _settings(args)
    query = AuditQuery(
        since=parse_time("--since", args.since),
        until=parse_time("--until", args.until),
        actor=args.actor or None,
        action=args.action or None,
    )

    async def export(out: TextIO) -> int:
        store = SqlStore(make_engine(settings.database.url))
        rows = 0
        try:
            await upgrade(store.engine)
            audit_store = SqlAuditStore(store)
            if args.format == "csv":
                out.write(csv_header())
            async for entry in all_entries(audit_store, query):
                out.write(csv_entry(entry) if args.format == "csv" else next(jsonl_lines([entry])))
                rows += 1
            out.flush()
            audit = Audit(audit_store, utc_now)
            audit.record(
                _operator("audit export"),
                Did.AUDIT_EXPORTED,
                details={
                    "format": args.format,
                    "rows": rows,
                    "since": query.since,
                    "until": query.until,
                    "actor": query.actor,
                    "action": query.action,
                },
            )
            await audit.stop()
        finally:
            await store.close()
        return rows

    rows = write_output(args.output, export)
    print(f"exported {rows} audit entries", file=sys.stderr)
    return 0


async def _with_webhooks(
    settings: Settings,
    use: Callable[[WebhookAdmin], Awaitable[tuple[Subscription, Any]]],
    *,
    command: str,
    action: Did,
) -> tuple[Subscription, Any]:
    """Run one webhook change against the configured database (migrated first) and put it on
    the audit trail as done by the operator. A running hub picks it up at its next event."""
    store = SqlStore(make_engine(settings.database.url))
    try:
        await upgrade(store.engine)
        admin = WebhookAdmin(
            store=SqlWebhookStore(store),
            clock=utc_now,
            give_up_after_s=settings.webhooks.give_up_after_s,
        )
        subscription, result = await use(admin)
        audit = Audit(SqlAuditStore(store), utc_now)
        audit.record(
            _operator(command),
            action,
            target=("webhook", subscription.subscription_id),
            details={"events": list(subscription.event_types), "enabled": subscription.enabled},
        )
        await audit.stop()
        return subscription, result
    finally:
        await store.close()


def cmd_webhook_add(args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {"url": args.url, "events": args.event or []}
    if args.description is not None:
        fields["description"] = args.description
    if args.disabled:
        fields["enabled"] = False

    async def add(admin: WebhookAdmin) -> tuple[Subscription, Any]:
        return await admin.add(fields)

    subscription, secret = asyncio.run(
        _with_webhooks(_settings(args), add, command="webhook add", action=Did.WEBHOOK_ADDED)
    )
    print(f"created webhook {subscription.subscription_id} for {', '.join(fields['events'])}")
    print(f"signing secret (shown only now): {secret}")
    return 0


def cmd_webhook_list(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def listing() -> list[Subscription]:
        store = SqlStore(make_engine(settings.database.url))
        try:
            await upgrade(store.engine)
            return await SqlWebhookStore(store).subscriptions()
        finally:
            await store.close()

    found = asyncio.run(listing())
    for s in found:
        state = "enabled" if s.enabled else "disabled"
        events = ",".join(s.event_types)
        line = f"{s.subscription_id}\t{state}\t{events}\t{s.url}"
        print(f"{line}\t{s.description}" if s.description else line)
    if not found:
        print("no webhooks", file=sys.stderr)
    return 0


def cmd_webhook_remove(args: argparse.Namespace) -> int:
    async def remove(admin: WebhookAdmin) -> tuple[Subscription, Any]:
        return await admin.remove(args.webhook_id), None

    subscription, _ = asyncio.run(
        _with_webhooks(
            _settings(args), remove, command="webhook remove", action=Did.WEBHOOK_REMOVED
        )
    )
    print(f"removed webhook {subscription.subscription_id} and its deliveries")
    return 0


def cmd_twilio_configure(args: argparse.Namespace) -> int:
    settings = _settings(args)
    done = asyncio.run(configure_twilio(settings, dry_run=args.dry_run))
    for item in done:
        urls = item.result
        if urls is None:
            print(f"{item.number}: would set")
            for key, value in item.requested.items():
                print(f"  {key} = {value}")
            continue
        if item.kind == "twiml_app":
            print(f"TwiML App {item.number}:\n  browser calls  -> {urls.voice_url}")
            continue
        print(f"{item.number} ({urls.number_sid}):")
        if urls.sms_url:
            print(f"  incoming SMS   -> {urls.sms_url}")
        if urls.voice_url:
            print(f"  incoming call  -> {urls.voice_url}")
        if urls.status_callback:
            print(f"  call status    -> {urls.status_callback}")
    if not args.dry_run:
        numbers = sum(1 for item in done if item.kind == "number")
        print(f"configured {numbers} number(s)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="contact-hub", description=__doc__)
    p.add_argument("--config", help=f"path to the YAML config (default: ./{DEFAULT_CONFIG})")
    sub = p.add_subparsers(dest="command", required=True)

    def serving(name: str, help_text: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text)
        sp.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
        sp.add_argument("--host", help="address to listen on (default from config)")
        sp.add_argument("--port", type=int, help="port to listen on (default from config)")
        return sp

    serving("run", "serve HTTP and Socket.IO").set_defaults(func=cmd_run)
    serving("demo", "seed demo accounts, then serve").set_defaults(func=cmd_demo)
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    mig.set_defaults(func=cmd_migrate)
    add_simulate_parser(sub)
    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    roles = [r.value for r in Role]

    def user_command(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        sp = user_sub.add_parser(name, help=help_text)
        sp.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
        sp.add_argument("--email", required=True)
        sp.set_defaults(func=func)
        return sp

    def password_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        sp.add_argument(
            "--permanent-password",
            action="store_true",
            help="do not ask for a new password at the next sign-in (it is temporary by default)",
        )

    add = user_command("add", "add a user (with a temporary password)", cmd_user_add)
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--name", required=True)
    password_options(add)
    set_role = user_command(
        "set-role", "change a user's role (ends their sessions)", cmd_user_set_role
    )
    set_role.add_argument("--role", required=True, choices=roles)
    user_command("disable", "disable a user (ends their sessions)", cmd_user_disable)
    user_command("enable", "enable a disabled user", cmd_user_enable)
    passwd = user_command(
        "passwd", "set a user's password (temporary; ends their sessions)", cmd_user_passwd
    )
    password_options(passwd)
    apikey = sub.add_parser("apikey", help="integrations' API keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser(
        "create", help="create a key (printed once) with scopes: " + ", ".join(SCOPES)
    )
    create.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    create.add_argument("--name", required=True, help="what the key is for, e.g. erp")
    create.add_argument(
        "--scope", action="append", choices=list(SCOPES), help="a scope (repeat for more)"
    )
    create.set_defaults(func=cmd_apikey_create)
    listing = apikey_sub.add_parser("list", help="list keys (id, prefix, name, scopes, status)")
    listing.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    listing.set_defaults(func=cmd_apikey_list)
    revoke = apikey_sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    revoke.add_argument("key", help="the key's id, prefix (chk_...) or name")
    revoke.set_defaults(func=cmd_apikey_revoke)
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser(
        "export", help="write audit entries (newest first) as CSV or JSON lines"
    )
    export.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    export.add_argument("--since", help="ISO 8601 time or date (UTC unless a zone is given)")
    export.add_argument("--until", help="ISO 8601 time or date (UTC unless a zone is given)")
    export.add_argument("--actor", help="an actor's id, or part of their name or e-mail")
    export.add_argument("--action", help="an action (signin.failed) or family (signin)")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_audit_export)
    webhook = sub.add_parser("webhook", help="outbound webhooks (README: Integrations)")
    webhook_sub = webhook.add_subparsers(dest="webhook_command", required=True)

    def webhook_command(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        sp = webhook_sub.add_parser(name, help=help_text)
        sp.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
        sp.set_defaults(func=func)
        return sp

    add_hook = webhook_command(
        "add", "subscribe a URL to events; prints its secret", cmd_webhook_add
    )
    add_hook.add_argument("url", help="https:// (or http://127.0.0.1 for a local receiver)")
    add_hook.add_argument(
        "--event",
        action="append",
        required=True,
        help=f"repeat for each: * (all) or {', '.join(EVENT_TYPES)}",
    )
    add_hook.add_argument("--description", help="what the receiver is, for the list")
    add_hook.add_argument("--disabled", action="store_true", help="add it switched off")
    webhook_command("list", "list the webhooks (never their secrets)", cmd_webhook_list)
    remove_hook = webhook_command(
        "remove", "remove a webhook and its deliveries", cmd_webhook_remove
    )
    remove_hook.add_argument("webhook_id", type=int)
    add_customers_parser(sub, _settings, _operator, utc_now)
    twilio = sub.add_parser("twilio", help="Twilio phone numbers")
    twilio_sub = twilio.add_subparsers(dest="twilio_command", required=True)
    configure = twilio_sub.add_parser(
        "configure", help="point the configured numbers' SMS and voice webhooks at this hub"
    )
    configure.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    configure.add_argument(
        "--dry-run", action="store_true", help="print what would be set, change nothing"
    )
    configure.set_defaults(func=cmd_twilio_configure)
    return p


# Loggers quieter than HUB_LOG_LEVEL unless HUB_LOG_LEVELS names them: aiosmtpd's mail.log
# writes a line per SMTP connection and command at INFO.
QUIET_LOGGERS = {"mail.log": "WARNING"}


def configure_logging(environ: Mapping[str, str]) -> None:
    """Logging from the environment: ``HUB_LOG_LEVEL`` for the root (INFO), and
    ``HUB_LOG_LEVELS`` ("mail.log=INFO,channels.email=DEBUG") per logger. The format
    (``logging.format``) is a setting, applied once the settings are read."""
    logging.basicConfig(
        level=environ.get("HUB_LOG_LEVEL", "INFO").upper(),
        format=TEXT_FORMAT,
    )
    levels = dict(QUIET_LOGGERS)
    known = logging.getLevelNamesMapping()
    for item in environ.get("HUB_LOG_LEVELS", "").split(","):
        name, _, level = (part.strip() for part in item.partition("="))
        if not item.strip():
            continue
        if not name or level.upper() not in known:
            raise ConfigError(
                f"HUB_LOG_LEVELS: {item.strip()!r} is not logger=LEVEL (e.g. mail.log=INFO)"
            )
        levels[name] = level.upper()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        configure_logging(os.environ)
    except ConfigError as exc:
        print(f"contact-hub: {exc}", file=sys.stderr)
        return 2
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"contact-hub: {exc}", file=sys.stderr)
        return 2
    except HubError as exc:
        print(f"contact-hub: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
