"""The ``contact-hub`` command: run, demo, migrate, user add, twilio configure."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiohttp import web

from hub.app import SHUTDOWN_TIMEOUT_S, build, configure_twilio, utc_now
from hub.auth import Authenticator
from hub.config import ConfigError, Settings, load_settings
from hub.demo import seed
from hub.errors import HubError
from hub.model import Role
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
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


def _serve(settings: Settings, banner: str = "", config_path: str | None = None) -> None:
    asyncio.run(_serve_until_signalled(settings, banner, config_path))


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
        f"  API description    {base}/api/v1/openapi.json",
        *(
            f"  email              mail {address} at SMTP "
            f"{settings.email.smtp_host}:{settings.email.smtp_port}"
            for address in settings.email.addresses
        ),
        "",
        "Accounts (new passwords every time the demo starts):",
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


def cmd_user_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = _read_password(args)

    async def add() -> int:
        store = SqlStore(make_engine(settings.database.url))
        try:
            await upgrade(store.engine)
            authenticator = Authenticator(store, utc_now, session_ttl_s=60)
            user = await store.create_user(
                email=args.email.strip(),
                name=args.name.strip(),
                role=Role(args.role),
                password_hash=authenticator.hash_password(password),
                now=utc_now(),
            )
        finally:
            await store.close()
        return user.user_id

    user_id = asyncio.run(add())
    print(f"created {args.role} {args.email} (user_id {user_id})")
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
        print(f"{item.number} ({urls.number_sid}):")
        if urls.sms_url:
            print(f"  incoming SMS   -> {urls.sms_url}")
        if urls.voice_url:
            print(f"  incoming call  -> {urls.voice_url}")
        if urls.status_callback:
            print(f"  call status    -> {urls.status_callback}")
    if not args.dry_run:
        print(f"configured {len(done)} number(s)")
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
    add = user_sub.add_parser("add", help="add a user")
    add.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_user_add)
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
    ``HUB_LOG_LEVELS`` ("mail.log=INFO,channels.email=DEBUG") per logger."""
    logging.basicConfig(
        level=environ.get("HUB_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
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
