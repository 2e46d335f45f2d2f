"""A hub as an operator runs it, in its own process (``contact-hub run``), with web chat, mail
and Twilio SMS configured, so that a test can kill it, restart it on the same database and
look at that database directly (``sqlite3``, read only)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import yaml

from hub.auth import Authenticator, token_hash
from hub.model import Role
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.conftest import PASSWORD, free_port
from tests.functional.test_cli import wait_listening

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "faults-auth-token-3c1d"  # a test value
PUBLIC_URL = "https://hub.faults.example"
HUB_NUMBER = "+14155550100"
MAIL_TO = "support@hub.faults.example"


async def seed_agents(database_url: str, emails: list[str]) -> list[str]:
    """Agents' accounts (password ``PASSWORD``) and an open console session for each, made
    before the hub starts: the store calls a sign-in makes, without an argon2 check each."""
    store = SqlStore(make_engine(database_url))
    try:
        await upgrade(store.engine)
        at = datetime.now(UTC)
        password_hash = Authenticator(store, lambda: at, session_ttl_s=60).hash_password(PASSWORD)
        tokens = []
        for n, email in enumerate(emails):
            user = await store.create_user(
                email=email, name=f"Agent {n}", role=Role.AGENT, password_hash=password_hash, now=at
            )
            token = secrets.token_urlsafe(32)
            await store.create_session(token_hash(token), user.user_id, at, at + timedelta(days=1))
            tokens.append(token)
        return tokens
    finally:
        await store.close()


def sms_number(n: int) -> str:
    return f"+1415{2_000_000 + n:07d}"


def fingerprint(db: Path, *, skip: frozenset[str] = frozenset()) -> str:
    """Every row of every table but ``skip``, hashed: equal fingerprints, nothing written.

    Rows are sorted in Python: some tables (SQLite FTS5's own) have no rowid to order by.
    """
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(set(tables) - skip):
            rows = sorted(repr(row) for row in con.execute(f'SELECT * FROM "{table}"'))
            digest.update(repr((table, rows)).encode())
    return digest.hexdigest()


@dataclass
class HubProcess:
    tmp: Path
    config: dict[str, Any] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    proc: subprocess.Popen[str] | None = None

    @property
    def db(self) -> Path:
        return self.tmp / "hub.db"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.db}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def twilio(self) -> TwilioSide:
        return TwilioSide(self.base, PUBLIC_URL, AUTH_TOKEN, ACCOUNT_SID)

    def write_config(self) -> Path:
        queue = {"offer_timeout_s": 600, "wrap_up_s": 0}
        config = {
            "http": {"host": "127.0.0.1", "port": self.port},
            "database": {"url": self.database_url},
            # A stream of chat messages from one visitor, far above a person's flood limit.
            "webchat": {
                "messages_per_minute": 60_000,
                "message_burst": 1_000,
                "messages_per_minute_per_address": 600_000,
                "connections_per_minute_per_address": 600_000,
            },
            "routing": {
                "sticky_s": 0,
                "sticky_by_channel": {},
                "default_capacity": {"webchat": 100, "email": 100, "sms": 100, "voice": 1},
            },
            "queues": [
                {"name": "support", "channels": ["webchat"], **queue},
                {"name": "mail", "channels": ["email"], **queue},
                {"name": "texts", "channels": ["sms"], **queue},
            ],
            "email": {
                "smtp_host": "127.0.0.1",
                "smtp_port": self.smtp_port,
                "domain": "hub.faults.example",
                "addresses": {MAIL_TO: "mail"},
                "relay_port": free_port(),  # nobody listens: replies would wait in the outbox
            },
            "twilio": {
                "public_url": PUBLIC_URL,
                "api_base_url": f"http://127.0.0.1:{free_port()}",
                "numbers": [{"number": HUB_NUMBER, "purposes": ["sms"], "queue": "texts"}],
            },
            **self.config,
        }
        path = self.tmp / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "TWILIO_"))}
        env.update(
            HUB_SECURITY__SECRET_KEY=self.secret_key,
            HUB_LOG_LEVEL="WARNING",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        )
        args = [sys.executable, "-m", "hub.cli", "--config", str(self.write_config()), "run"]
        with (self.tmp / "hub.log").open("a") as log:
            self.proc = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
        try:
            await asyncio.to_thread(wait_listening, self.proc, f"{self.base}/healthz", 60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{self.log()}") from None

    def log(self) -> str:
        return (self.tmp / "hub.log").read_text()[-4000:]

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def exited(self, timeout_s: float) -> int:
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout_s)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    # ------------------------------------------------------------------ the database, read only
    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as con:
            return list(con.execute(sql, params))

    def fingerprint(self) -> str:
        """Every row of every table, hashed: equal fingerprints, nothing written."""
        return fingerprint(self.db)

    # ------------------------------------------------------------------ customers
    async def mail(self, n: int, *, subject: str = "") -> None:
        """A customer's mail over SMTP; raises unless the hub answers 250."""
        msg = EmailMessage()
        msg["From"] = f"Customer {n} <c{n}@customers.example>"
        msg["To"] = MAIL_TO
        msg["Subject"] = subject or f"Question {n}"
        msg["Message-ID"] = f"<m{n}@customers.example>"
        msg.set_content(f"mail {n}: where is my order?")
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=self.smtp_port, timeout=15)

    async def sms(self, http: aiohttp.ClientSession, n: int) -> tuple[int, str]:
        """A text as Twilio posts it, signed; (status, MessageSid)."""
        twilio = self.twilio
        form = twilio.sms_form(from_number=sms_number(n), to_number=HUB_NUMBER, body=f"sms {n}")
        headers = {"X-Twilio-Signature": twilio.sign(PUBLIC_URL + "/twilio/sms", form)}
        async with http.post(f"{self.base}/twilio/sms", data=form, headers=headers) as resp:
            return resp.status, form["MessageSid"]
