"""The hub under load, end to end, against the transport's own limit.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/load.py --agents 1000 --rates 50,100,200,400,800 --duration 20

Starts ``contact-hub run`` in its own process (a temporary SQLite file, uvloop), with the
agents' accounts and sessions made beforehand. This process is the load generator: N agents
as Socket.IO clients (an offer is accepted after ``--think-ms``, answered, closed and its
wrap-up ended) and Poisson arrivals of customers at each offered rate, split by ``--mix``
over web chat (a pool of connected visitors, each writing again once its chat is closed),
mail over SMTP (to the hub's SMTP server; replies come back through the hub's outbox to a
sink here) and Twilio SMS (signed webhooks; replies come back to a fake Twilio API here).

Per channel and rate it measures ingress-to-offer (the customer's message sent, or the SMTP
dialogue or webhook begun, to the offer at the agent's socket) and accept-to-first-reply
(accept sent to the reply arriving at the customer's side), p50/p95/p99/max, throughput and
errors; the hub's CPU seconds per interaction and resident memory per connected agent. Then
a bare python-socketio relay (bench/relay.py) gets the same agents and the same chat rates.
Results go to ``bench/results/load.json`` and ``load.png``; ``--out`` changes the prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import psutil
import socketio
import yaml
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.auth import Authenticator, token_hash
from hub.cli import event_loop_factory
from hub.csrf import csrf_token
from hub.model import Role
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ("webchat", "email", "sms")
SEQ = re.compile(r"load-(\d+)")
HUB_NUMBER = "+14155550100"
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "bench-auth-token-" + secrets.token_hex(8)
PUBLIC_URL = "https://hub.bench.example"
SUSTAINABLE_P99_MS = 100.0


def now() -> float:
    return time.perf_counter()


# ---------------------------------------------------------------------- what is measured
@dataclass
class Sample:
    channel: str
    sent: float
    offered: float | None = None
    accepted: float | None = None
    replied: float | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or self.replied is not None


@dataclass
class Recorder:
    samples: dict[int, Sample] = field(default_factory=dict)
    next_seq: int = 0
    setup_errors: dict[str, int] = field(default_factory=dict)  # agents signing on

    def start(self, channel: str) -> int:
        self.next_seq += 1
        self.samples[self.next_seq] = Sample(channel, now())
        return self.next_seq

    def get(self, text: str | None) -> Sample | None:
        match = SEQ.search(text or "")
        return self.samples.get(int(match.group(1))) if match else None

    def fail(self, seq: int, why: str) -> None:
        sample = self.samples.get(seq)
        if sample is not None and sample.error is None and sample.replied is None:
            sample.error = why


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (ms)."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(values[-1], 2) if values else math.nan,
    }


def summarise(samples: list[Sample], elapsed_s: float) -> dict[str, Any]:
    def row(group: list[Sample]) -> dict[str, Any]:
        completed = [s for s in group if s.replied is not None and s.error is None]
        errors: dict[str, int] = {}
        for s in group:
            if s.error is not None:
                errors[s.error] = errors.get(s.error, 0) + 1
        unfinished = sum(1 for s in group if not s.done)
        return {
            "sent": len(group),
            "completed": len(completed),
            "throughput_per_s": round(len(completed) / elapsed_s, 1) if elapsed_s else 0.0,
            "errors": sum(errors.values()) + unfinished,
            "error_kinds": {**errors, **({"unfinished": unfinished} if unfinished else {})},
            "ingress_to_offer": spread(
                [(s.offered - s.sent) * 1000 for s in group if s.offered is not None]
            ),
            "accept_to_reply": spread(
                [
                    (s.replied - s.accepted) * 1000
                    for s in group
                    if s.replied is not None and s.accepted is not None
                ]
            ),
        }

    result = {"all": row(samples)}
    for channel in CHANNELS:
        group = [s for s in samples if s.channel == channel]
        if group:
            result[channel] = row(group)
    return result


# ---------------------------------------------------------------------- the processes
@dataclass
class Server:
    """A server process (the hub or the relay) and where it listens."""

    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn(args: list[str], env: dict[str, str], log: Path, base: str) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(proc, base, log)
    server.wait_ready()
    return server


@dataclass(frozen=True)
class Ports:
    hub: int
    smtp: int
    sink: int
    twilio: int


def hub_config(tmp: Path, ports: Ports) -> Path:
    """A deployment as an operator would write it: a queue per channel, wrap-up ended by the
    agent, no stickiness (every customer here is new, and visitors come back at once)."""
    queue = {"offer_timeout_s": 30, "wrap_up_s": 30}
    config = {
        "http": {"host": "127.0.0.1", "port": ports.hub},
        "database": {"url": f"sqlite+aiosqlite:///{tmp / 'hub.db'}"},
        # The pool's visitors write far more often than a person does: no flood limit here.
        "webchat": {
            "queue": "support",
            "messages_per_minute": 60_000,
            "message_burst": 10_000,
            "messages_per_minute_per_address": 600_000,  # every visitor is on 127.0.0.1
            "connections_per_minute_per_address": 600_000,
        },
        "routing": {
            "sticky_s": 0,
            "sticky_by_channel": {},
            "default_capacity": {"webchat": 3, "email": 5, "sms": 5, "voice": 1},
        },
        "queues": [
            {"name": "support", "channels": ["webchat"], **queue},
            {"name": "mail", "channels": ["email"], **queue},
            {"name": "texts", "channels": ["sms"], **queue},
        ],
        "email": {
            "smtp_host": "127.0.0.1",
            "smtp_port": ports.smtp,
            "domain": "hub.bench.example",
            "addresses": {"support@hub.bench.example": "mail"},
            "max_connections": 500,
            "relay_host": "127.0.0.1",
            "relay_port": ports.sink,
        },
        "twilio": {
            "public_url": PUBLIC_URL,
            "api_base_url": f"http://127.0.0.1:{ports.twilio}",
            "numbers": [{"number": HUB_NUMBER, "purposes": ["sms"], "queue": "texts"}],
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def seed_agents(database_url: str, agents: int) -> list[str]:
    """The agents' accounts and open console sessions, written before the hub starts (the
    same store calls a sign-in makes, without N argon2 checks)."""
    store = SqlStore(make_engine(database_url))
    try:
        await upgrade(store.engine)
        password_hash = Authenticator(
            store, lambda: datetime.now(UTC), session_ttl_s=60
        ).hash_password(secrets.token_urlsafe(16))
        at = datetime.now(UTC)
        tokens = []
        for n in range(agents):
            user = await store.create_user(
                email=f"agent{n}@bench.example",
                name=f"Agent {n}",
                role=Role.AGENT,
                password_hash=password_hash,
                now=at,
            )
            token = secrets.token_urlsafe(32)
            await store.create_session(token_hash(token), user.user_id, at, at + timedelta(days=1))
            tokens.append(token)
        return tokens
    finally:
        await store.close()


def start_hub(tmp: Path, ports: Ports) -> Server:
    config = hub_config(tmp, ports)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "TWILIO_"))}
    env.update(
        HUB_SECURITY__SECRET_KEY=secrets.token_urlsafe(32),
        HUB_LOG_LEVEL="WARNING",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
    )
    args = [sys.executable, "-m", "hub.cli", "--config", str(config), "run"]
    return spawn(args, env, tmp / "hub.log", f"http://127.0.0.1:{ports.hub}")


def start_relay(tmp: Path) -> Server:
    port = free_port()
    args = [sys.executable, str(ROOT / "bench" / "relay.py"), "--port", str(port)]
    return spawn(args, dict(os.environ), tmp / "relay.log", f"http://127.0.0.1:{port}")


# ---------------------------------------------------------------------- the people
async def call(sio: socketio.AsyncClient, namespace: str, event: str, data: Any) -> Any:
    ack = await sio.call(event, data, namespace=namespace, timeout=30)
    if not isinstance(ack, dict) or "error" in ack:
        code = ack["error"]["code"] if isinstance(ack, dict) else "bad_ack"
        raise AckError(f"{event}: {code}")
    return ack


class AckError(Exception):
    pass


async def connect(
    base: str,
    namespace: str,
    *,
    headers: dict[str, str] | None = None,
    auth: dict[str, str] | None = None,
) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        base,
        namespaces=[namespace],
        # As a browser on the hub's own pages sends it (the hub checks it, hub.csrf).
        headers={"Origin": base, **(headers or {})},
        auth=auth or {},
        transports=["websocket"],
        wait_timeout=30,
    )
    return sio


@dataclass
class Agent:
    """An agent at the console: accepts each offer after a think time, replies once, closes
    and ends the wrap-up (hub); or just replies (relay, which has no offers to accept)."""

    sio: socketio.AsyncClient
    recorder: Recorder
    think_s: float
    relay: bool
    http: aiohttp.ClientSession | None = None
    cookie: str = ""
    origin: str = ""  # the hub's own, as the console's requests carry it
    csrf: str = ""  # the session's CSRF token (hub.csrf)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def listen(self) -> None:
        self.sio.on("offer", self._on_offer, namespace="/agent")

    def _on_offer(self, offer: dict[str, Any]) -> None:
        task = asyncio.create_task(self._take(offer))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _take(self, offer: dict[str, Any]) -> None:
        match = SEQ.search(str(offer.get("preview", "")))
        if match is None:
            return
        seq = int(match.group(1))
        sample = self.recorder.samples.get(seq)
        if sample is None:  # from a step already counted (unfinished there)
            return
        sample.offered = now()
        await asyncio.sleep(self.think_s)
        sample.accepted = now()
        try:
            if self.relay:
                reply = {"customer": offer["customer"], "body": f"hi load-{seq}"}
                await call(self.sio, "/agent", "send_message", reply)
                return
            interaction = {"interaction_id": offer["interaction_id"]}
            await call(self.sio, "/agent", "accept", interaction)
            if offer["channel"] == "email":
                await self._mail_reply(offer["interaction_id"], seq)
            else:
                await call(
                    self.sio, "/agent", "send_message", {**interaction, "body": f"hi load-{seq}"}
                )
            await call(self.sio, "/agent", "close", interaction)
            await call(self.sio, "/agent", "end_wrap_up", interaction)
        except (AckError, socketio.exceptions.SocketIOError, aiohttp.ClientError) as exc:
            self.recorder.fail(seq, str(exc) or exc.__class__.__name__)

    async def _mail_reply(self, interaction_id: int, seq: int) -> None:
        assert self.http is not None
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("body", f"Thank you, we are on it (load-{seq}).")
        async with self.http.post(
            f"/api/v1/interactions/{interaction_id}/email/reply",
            data=form,
            headers={
                "X-Requested-With": "contact-hub",
                "Cookie": self.cookie,
                "Origin": self.origin,
                "X-CSRF-Token": self.csrf,
            },
        ) as resp:
            if resp.status != 201:
                raise AckError(f"email reply: HTTP {resp.status} {(await resp.text())[:80]}")


@dataclass
class Visitor:
    """A web-chat visitor, connected; writes again once their chat is closed."""

    sio: socketio.AsyncClient
    seq: int | None = None


@dataclass
class Customers:
    """Every channel's customers, and where the replies to them arrive."""

    base: str
    recorder: Recorder
    relay: bool
    idle: list[Visitor] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None
    smtp_port: int = 0
    twilio: TwilioSide | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def add_visitors(self, count: int) -> None:
        gate = asyncio.Semaphore(50)

        async def one() -> None:
            async with gate:
                self.idle.append(await self._visitor())

        await asyncio.gather(*(one() for _ in range(count)))

    async def _visitor(self) -> Visitor:
        visitor = Visitor(await connect(self.base, "/chat"))

        def replied(data: dict[str, Any]) -> None:
            sample = self.recorder.samples.get(visitor.seq) if visitor.seq else None
            if sample is not None:
                sample.replied = now()
                if self.relay:  # the relay has no closing: the reply ends the chat
                    self._free(visitor)

        visitor.sio.on("message", replied, namespace="/chat")
        visitor.sio.on("conversation_closed", lambda _data: self._free(visitor), namespace="/chat")
        return visitor

    def _free(self, visitor: Visitor) -> None:
        if visitor.seq is not None:
            visitor.seq = None
            self.idle.append(visitor)

    def arrive(self, channel: str) -> None:
        task = asyncio.create_task(self._send(channel))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, channel: str) -> None:
        sender: Callable[[int], Awaitable[None]] = {
            "webchat": self._chat,
            "email": self._mail,
            "sms": self._sms,
        }[channel]
        seq = self.recorder.start(channel)
        try:
            await sender(seq)
        except (
            AckError,
            socketio.exceptions.SocketIOError,
            aiosmtplib.SMTPException,
            aiohttp.ClientError,
            OSError,
        ) as exc:
            self.recorder.fail(seq, f"{channel}: {exc.__class__.__name__} {exc}"[:80])

    async def _chat(self, seq: int) -> None:
        visitor = self.idle.pop() if self.idle else await self._visitor()
        visitor.seq = seq
        self.recorder.samples[seq].sent = now()
        await call(visitor.sio, "/chat", "message", {"body": f"load-{seq} hello, I need help"})

    async def _mail(self, seq: int) -> None:
        msg = EmailMessage()
        msg["From"] = f"Customer {seq} <c{seq}@customers.example>"
        msg["To"] = "support@hub.bench.example"
        msg["Subject"] = f"Order question load-{seq}"
        msg.set_content(f"load-{seq} Hello, where is my order?")
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=self.smtp_port, timeout=30)

    async def _sms(self, seq: int) -> None:
        assert self.twilio is not None and self.http is not None
        form = self.twilio.sms_form(
            from_number=sms_number(seq), to_number=HUB_NUMBER, body=f"load-{seq} hi, help"
        )
        headers = {"X-Twilio-Signature": self.twilio.sign(PUBLIC_URL + "/twilio/sms", form)}
        async with self.http.post("/twilio/sms", data=form, headers=headers) as resp:
            if resp.status != 200:
                raise AckError(f"webhook HTTP {resp.status}")


def sms_number(seq: int) -> str:
    return f"+1415{2_000_000 + seq % 7_000_000:07d}"


class ReplySink(FakeTwilioApi):
    """The fake Twilio API; every reply it is asked to send is a reply delivered."""

    on_reply: Callable[[str], None] = staticmethod(lambda _to: None)

    async def _create_message(self, request: web.Request) -> web.Response:
        response = await super()._create_message(request)
        self.on_reply(self.calls[-1].form.get("To", ""))
        self.calls.clear()  # the run sends tens of thousands; keep none
        self.messages.clear()
        return response


class MailSink:
    """The relay the hub's outbox delivers replies to: each one is a reply delivered."""

    def __init__(self, on_reply: Callable[[str], None]) -> None:
        self._on_reply = on_reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            self._on_reply(rcpt)
        return "250 OK"


# ---------------------------------------------------------------------- a run
@dataclass
class Options:
    agents: int
    rates: list[float]
    duration_s: float
    think_s: float
    mix: dict[str, float]
    visitors: int
    drain_s: float
    seed: int
    out: Path


async def offer_load(
    customers: Customers, mix: dict[str, float], rate: float, duration_s: float, rng: random.Random
) -> None:
    """Poisson arrivals at ``rate``/s for ``duration_s``, each on a channel drawn by ``mix``."""
    channels, weights = list(mix), list(mix.values())
    start = now()
    due = start
    while True:
        due += rng.expovariate(rate)
        if due - start >= duration_s:
            return
        delay = due - now()
        if delay > 0:
            await asyncio.sleep(delay)
        customers.arrive(rng.choices(channels, weights)[0])


async def drain(recorder: Recorder, seqs: range, timeout_s: float) -> None:
    deadline = now() + timeout_s
    while now() < deadline and not all(recorder.samples[s].done for s in seqs):  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # a poll keeps the hot paths free of bookkeeping


async def ramp(
    server: Server,
    customers: Customers,
    recorder: Recorder,
    opts: Options,
    mix: dict[str, float],
    label: str,
) -> list[dict[str, Any]]:
    steps = []
    rng = random.Random(opts.seed)
    me = psutil.Process()
    for rate in opts.rates:
        first = recorder.next_seq + 1
        cpu0, own0, t0 = server.cpu_s(), sum(me.cpu_times()[:2]), now()
        await offer_load(customers, mix, rate, opts.duration_s, rng)
        offered_s = now() - t0
        seqs = range(first, recorder.next_seq + 1)
        await drain(recorder, seqs, opts.drain_s)
        elapsed = now() - t0
        cpu, own = server.cpu_s() - cpu0, sum(me.cpu_times()[:2]) - own0
        for seq in seqs:  # whatever the drain did not see finish is an error of this step
            recorder.fail(seq, "unfinished")
        samples = [recorder.samples[s] for s in seqs]
        result = summarise(samples, offered_s)
        completed = result["all"]["completed"]
        step = {
            "offered_rate_per_s": rate,
            "duration_s": round(offered_s, 2),
            "drained_after_s": round(elapsed - offered_s, 2),
            "server_cpu_s": round(cpu, 2),
            "server_cpu_ms_per_interaction": round(cpu / completed * 1000, 3)
            if completed
            else None,
            "generator_cpu_share": round(own / elapsed, 2),
            "channels": result,
        }
        step["sustainable"] = sustainable(step)
        steps.append(step)
        a = result["all"]
        print(
            f"{label} {rate:>6.0f}/s: {a['completed']}/{a['sent']} done, "
            f"{a['throughput_per_s']}/s, errors {a['errors']}, ingress->offer p50 "
            f"{a['ingress_to_offer']['p50_ms']} p99 {a['ingress_to_offer']['p99_ms']} ms, "
            f"accept->reply p99 {a['accept_to_reply']['p99_ms']} ms, "
            f"cpu {step['server_cpu_ms_per_interaction']} ms/interaction, "
            f"generator at {step['generator_cpu_share']:.0%} of a core",
            flush=True,
        )
        for seq in seqs:  # keep the generator's memory flat over long runs
            del recorder.samples[seq]
        if (
            a["errors"] > a["sent"] / 10  # losing work: higher rates would only lose more
        ):
            print(f"{label}: saturated at {rate}/s; higher rates skipped", flush=True)
            break
        await asyncio.sleep(1)
    return steps


def sustainable(step: dict[str, Any]) -> bool:
    a = step["channels"]["all"]
    return bool(
        a["errors"] == 0
        and a["ingress_to_offer"]["p99_ms"] < SUSTAINABLE_P99_MS
        and a["completed"] >= 0.98 * a["sent"]
    )


# ---------------------------------------------------------------------- the whole run
async def connect_agents(
    base: str, tokens: list[str | None], recorder: Recorder, opts: Options, relay: bool
) -> tuple[list[Agent], aiohttp.ClientSession]:
    """Every agent connected (and Available, on the hub), as a console would."""
    http = aiohttp.ClientSession(base_url=base)
    gate = asyncio.Semaphore(20)
    agents: list[Agent] = []

    async def one(token: str | None) -> None:
        async with gate:
            cookie = f"hub_session={token}" if token else ""
            headers = {"Cookie": cookie} if cookie else {}
            # A console's connection carries its session's CSRF token (hub.csrf).
            auth = {"csrf_token": csrf_token(token)} if token else {}
            sio = await connect(base, "/agent", headers=headers, auth=auth)
            agent = Agent(
                sio, recorder, opts.think_s, relay, http, cookie, base, auth.get("csrf_token", "")
            )
            agent.listen()
            for _attempt in range(5):  # as the console does after an error: try again
                if relay:
                    break
                try:
                    await call(sio, "/agent", "set_state", {"state": "available"})
                    break
                except AckError as exc:
                    recorder.setup_errors[str(exc)] = recorder.setup_errors.get(str(exc), 0) + 1
                    await asyncio.sleep(1)
            agents.append(agent)

    await asyncio.gather(*(one(t) for t in tokens))
    return agents, http


async def hang_up(agents: list[Agent], customers: Customers) -> None:
    clients = [a.sio for a in agents] + [v.sio for v in customers.idle]
    gate = asyncio.Semaphore(100)

    async def one(sio: socketio.AsyncClient) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await sio.disconnect()

    await asyncio.gather(*(one(sio) for sio in clients))
    for task in [*customers.tasks, *(t for a in agents for t in a.tasks)]:
        task.cancel()


async def measure_hub(opts: Options, tmp: Path) -> dict[str, Any]:
    recorder = Recorder()
    seqs_by_address: dict[str, int] = {}

    def reply_to(address: str) -> None:
        seq = seqs_by_address.pop(address.lower(), None)
        sample = recorder.samples.get(seq) if seq is not None else None
        if sample is not None:
            sample.replied = now()

    twilio_api = ReplySink(ACCOUNT_SID, AUTH_TOKEN)
    twilio_api.on_reply = reply_to
    await twilio_api.start()
    sink_port = free_port()
    loop = asyncio.get_running_loop()
    mail_sink = await loop.create_server(
        lambda: SMTP(MailSink(reply_to), hostname="sink.bench.example"), "127.0.0.1", sink_port
    )
    ports = Ports(free_port(), free_port(), sink_port, int(twilio_api.base_url.rsplit(":", 1)[1]))
    tokens = await seed_agents(f"sqlite+aiosqlite:///{tmp / 'hub.db'}", opts.agents)
    hub = start_hub(tmp, ports)
    try:
        await asyncio.sleep(2)
        rss_idle = hub.rss()
        agents, http = await connect_agents(hub.base, list(tokens), recorder, opts, relay=False)
        await asyncio.sleep(3)
        rss_agents = hub.rss()
        print(
            f"hub: {opts.agents} agents connected and available; RSS {rss_idle / 2**20:.1f} MiB "
            f"-> {rss_agents / 2**20:.1f} MiB",
            flush=True,
        )
        customers = Customers(hub.base, recorder, relay=False, http=http, smtp_port=ports.smtp)
        customers.twilio = TwilioSide(hub.base, PUBLIC_URL, AUTH_TOKEN, ACCOUNT_SID)
        await customers.add_visitors(opts.visitors)
        original = recorder.start

        def start(channel: str) -> int:
            seq = original(channel)
            if channel == "email":
                seqs_by_address[f"c{seq}@customers.example"] = seq
            elif channel == "sms":
                seqs_by_address[sms_number(seq)] = seq
            return seq

        recorder.start = start  # type: ignore[method-assign]
        steps = await ramp(hub, customers, recorder, opts, opts.mix, "hub")
        await hang_up(agents, customers)
        await http.close()
    finally:
        hub.stop()
        shutil.copy(hub.log, opts.out.with_suffix(".hub.log"))  # for a look after the run
        mail_sink.close()
        await twilio_api.close()
    return {
        "memory": {
            "rss_no_agents_mib": round(rss_idle / 2**20, 1),
            "rss_with_agents_mib": round(rss_agents / 2**20, 1),
            "kib_per_agent": round((rss_agents - rss_idle) / opts.agents / 1024, 1),
            "agent_sign_on_errors": recorder.setup_errors,
        },
        "steps": steps,
    }


async def measure_relay(opts: Options, tmp: Path) -> list[dict[str, Any]]:
    recorder = Recorder()
    relay = start_relay(tmp)
    try:
        agents, http = await connect_agents(
            relay.base, [None] * opts.agents, recorder, opts, relay=True
        )
        customers = Customers(relay.base, recorder, relay=True)
        await customers.add_visitors(opts.visitors)
        steps = await ramp(relay, customers, recorder, opts, {"webchat": 1.0}, "relay")
        await hang_up(agents, customers)
        await http.close()
    finally:
        relay.stop()
    return steps


def best(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The highest offered rate that was sustainable."""
    ok = [s for s in steps if s["sustainable"]]
    return max(ok, key=lambda s: s["offered_rate_per_s"]) if ok else None


def lossless(steps: list[dict[str, Any]]) -> float:
    """The highest throughput reached with every interaction finished, whatever the latency:
    on a busy machine the relay's p99 can pass 100 ms long before it loses anything."""
    return max(
        (
            s["channels"]["all"]["throughput_per_s"]
            for s in steps
            if not s["channels"]["all"]["errors"]
        ),
        default=0.0,
    )


def at_rate(steps: list[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    return next((s for s in steps if s["offered_rate_per_s"] == rate), None)


def verdicts(opts: Options, hub: dict[str, Any], relay: list[dict[str, Any]]) -> dict[str, Any]:
    steps = hub["steps"]
    hub_best, relay_best = best(steps), best(relay)
    at_200 = at_rate(steps, 200)
    p99_200 = at_200["channels"]["all"]["ingress_to_offer"]["p99_ms"] if at_200 else None
    hub_max = hub_best["channels"]["all"]["throughput_per_s"] if hub_best else 0.0
    relay_max = relay_best["channels"]["all"]["throughput_per_s"] if relay_best else 0.0
    relay_tops_out = (
        bool(relay_best)
        and relay_best is relay[-1]
        and relay_best["offered_rate_per_s"] == max(opts.rates)
    )
    summary: dict[str, Any] = {
        "max_sustainable_rate_per_s": hub_best["offered_rate_per_s"] if hub_best else None,
        "max_sustainable_throughput_per_s": hub_max,
        "relay_max_sustainable_rate_per_s": relay_best["offered_rate_per_s"]
        if relay_best
        else None,
        "relay_max_sustainable_throughput_per_s": relay_max,
        "relay_not_saturated": relay_tops_out,
        "throughput_ratio_to_relay": round(hub_max / relay_max, 3) if relay_max else None,
        "lossless_throughput_per_s": lossless(steps),
        "relay_lossless_throughput_per_s": lossless(relay),
        "lossless_throughput_ratio_to_relay": round(lossless(steps) / lossless(relay), 3)
        if lossless(relay)
        else None,
        "p99_ingress_to_offer_at_200_ms": p99_200,
        "kib_per_agent": hub["memory"]["kib_per_agent"],
        "latency_ratio_to_relay": {},
    }
    for step in steps:
        other = at_rate(relay, step["offered_rate_per_s"])
        if other is None:
            continue
        mine = step["channels"].get("webchat", step["channels"]["all"])["ingress_to_offer"]
        theirs = other["channels"]["all"]["ingress_to_offer"]
        summary["latency_ratio_to_relay"][str(step["offered_rate_per_s"])] = {
            key: round(mine[key] / theirs[key], 2) if theirs[key] else None
            for key in ("p50_ms", "p99_ms")
        }
    summary["targets"] = {
        "p99 <= 20 ms at 200/s with 1,000 agents": bool(
            opts.agents >= 1000 and p99_200 is not None and p99_200 <= 20
        ),
        ">= 1,000/s sustainable": bool(hub_best and hub_best["offered_rate_per_s"] >= 1000),
        ">= 40% of the relay's throughput": bool(
            lossless(relay) and lossless(steps) / lossless(relay) >= 0.4
        ),
        "<= 50 KiB per agent": hub["memory"]["kib_per_agent"] <= 50,
    }
    return summary


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"p50_ms": ":", "p95_ms": "--", "p99_ms": "-"}
    series = [("hub, all channels", result["hub"]["steps"], "all", "tab:blue")]
    series += [
        (f"hub, {ch}", result["hub"]["steps"], ch, colour)
        for ch, colour in (("email", "tab:green"), ("sms", "tab:purple"))
        if ch in result["options"]["mix"]
    ]
    series.append(("bare relay", result["relay"], "all", "tab:orange"))
    for label, steps, channel, colour in series:
        rows = [(s["offered_rate_per_s"], s["channels"].get(channel)) for s in steps]
        rows = [(rate, row["ingress_to_offer"]) for rate, row in rows if row]
        for key, style in styles.items():
            if channel != "all" and key != "p99_ms":
                continue
            ax.plot(
                [r for r, _ in rows],
                [d[key] for _, d in rows],
                style,
                marker="o",
                color=colour,
                label=f"{label} {key[:-3]}",
            )
    ax.axhline(SUSTAINABLE_P99_MS, color="grey", linewidth=0.8)
    ax.axhline(20, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (new interactions/s)")
    ax.set_ylabel("ingress to offer (ms)")
    opts = result["options"]
    ax.set_title(
        f"contact-hub vs a bare Socket.IO relay, {opts['agents']} agents, "
        f"{platform.node() and os.cpu_count()} cores"
    )
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def main(opts: Options, out: Path, command: str) -> None:
    # A killed run still stops the hub and the relay (the ``finally`` blocks run).
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    out.parent.mkdir(parents=True, exist_ok=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        hub = await measure_hub(opts, Path(tmp))
        relay = await measure_relay(opts, Path(tmp))
    result: dict[str, Any] = {
        "command": command,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loop": "uvloop" if event_loop_factory() else "asyncio",
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "options": {
            "agents": opts.agents,
            "rates": opts.rates,
            "duration_s": opts.duration_s,
            "think_ms": opts.think_s * 1000,
            "mix": opts.mix,
            "visitors": opts.visitors,
            "seed": opts.seed,
        },
        "hub": hub,
        "relay": relay,
    }
    result["summary"] = verdicts(opts, hub, relay)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    chart(result, out.with_suffix(".png"))
    print(json.dumps(result["summary"], indent=2))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


def redo(out: Path) -> None:
    """The summary and the chart again from a run's JSON (after a change to either)."""
    path = out.with_suffix(".json")
    result = json.loads(path.read_text())
    o = result["options"]
    opts = Options(
        o["agents"],
        o["rates"],
        o["duration_s"],
        o["think_ms"] / 1000,
        o["mix"],
        o["visitors"],
        0,
        o["seed"],
        out,
    )
    result["summary"] = verdicts(opts, result["hub"], result["relay"])
    path.write_text(json.dumps(result, indent=2) + "\n")
    chart(result, out.with_suffix(".png"))
    print(json.dumps(result["summary"], indent=2))


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for item in text.split(","):
        channel, _, share = item.partition("=")
        if channel not in CHANNELS:
            raise argparse.ArgumentTypeError(f"--mix: {channel!r} is not one of {CHANNELS}")
        mix[channel] = float(share)
    return mix


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rates", default="50,100,200,400,800", help="new interactions/s")
    parser.add_argument("--duration", type=float, default=20, help="seconds per rate")
    parser.add_argument("--think-ms", type=float, default=50, help="before an agent accepts")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix("webchat=0.8,email=0.1,sms=0.1"))
    parser.add_argument("--visitors", type=int, default=300, help="chat visitors kept connected")
    parser.add_argument("--drain", type=float, default=15, help="seconds to let a rate finish")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load")
    parser.add_argument(
        "--summarise", action="store_true", help="only redo the summary and chart of --out"
    )
    args = parser.parse_args()
    options = Options(
        agents=args.agents,
        rates=[float(r) for r in args.rates.split(",")],
        duration_s=args.duration,
        think_s=args.think_ms / 1000,
        mix=args.mix,
        visitors=args.visitors,
        drain_s=args.drain,
        seed=args.seed,
        out=args.out,
    )
    if args.summarise:
        redo(args.out)
        sys.exit(0)
    command = "python bench/load.py " + " ".join(sys.argv[1:])
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # noise at disconnect
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main(options, args.out, command))
