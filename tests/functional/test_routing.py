"""The routing engine on a real hub: strategies, skills, capacity, transfers, presence, stats.

Every test writes its own ``config.yaml`` (queues, routing policy, rules, agents' skills and
capacities), starts a hub on 127.0.0.1 and drives agents and visitors as Socket.IO clients,
asserting only what a person would notice: who is offered a chat, what the visitor and the
agents are told, and what the REST API reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from hub.app import build, utc_now
from hub.auth import token_hash
from hub.config import load_settings
from hub.model import Role
from tests.functional.backend import hub_database_url
from tests.functional.conftest import PASSWORD, Client, Running, connect, free_port

_PASSWORD_HASH: str | None = None

# Defaults that keep tests independent of timing policies they do not exercise.
QUIET_ROUTING: dict[str, Any] = {
    "sticky_s": 0,
    "no_answer_delay_s": 0,
    "missed_offers_before_away": 0,
    "decline_delay_s": 0,
}


def queue(name: str = "support", **settings: Any) -> dict[str, Any]:
    return {
        "name": name,
        "channels": ["webchat"],
        "offer_timeout_s": 30,
        "wrap_up_s": 0,
        **settings,
    }


def write_config(
    path: Path,
    *,
    queues: Sequence[dict[str, Any]] | None = None,
    routing: dict[str, Any] | None = None,
    agents: Sequence[dict[str, Any]] = (),
    extra: dict[str, Any] | None = None,
) -> None:
    data = {
        "routing": {**QUIET_ROUTING, **(routing or {})},
        "queues": list(queues or [queue()]),
        "agents": list(agents),
        **(extra or {}),
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@dataclass
class Agent:
    io: Client
    agent_id: int
    name: str

    async def offer(self, timeout: float = 5.0) -> dict[str, Any]:
        offer: dict[str, Any] = await self.io.next("offer", timeout)
        return offer

    async def accept(self, offer: dict[str, Any]) -> dict[str, Any]:
        ack = await self.io.call("accept", {"interaction_id": offer["interaction_id"]})
        assert ack.get("ok"), ack
        work: dict[str, Any] = ack["work"]
        return work

    async def set_state(self, state: str, reason: str | None = None) -> dict[str, Any]:
        data = {"state": state} if reason is None else {"state": state, "reason": reason}
        ack: dict[str, Any] = await self.io.call("set_state", data)
        assert ack.get("ok") and ack["state"] == state, ack
        return ack


@dataclass
class Scene:
    """A running hub plus every client a test opened (all closed when the test ends)."""

    running: Running
    config_path: Path
    clients: list[Client] = field(default_factory=list)

    async def agent(
        self, email: str, name: str, *, available: bool = True, role: Role = Role.AGENT
    ) -> Agent:
        await self.add_user(email, name, role)
        client = await connect(self.running.base, "/agent", token=await self.sign_in(email))
        self.clients.append(client)
        hello = await client.next("hello")
        agent = Agent(client, hello["agent"]["agent_id"], name)
        if available:
            await agent.set_state("available")
            client.pending("state")  # forget the states reported while signing in
        return agent

    async def visitor(self, body: str, **hints: str) -> tuple[Client, int]:
        """A new visitor who writes ``body``; returns the client and its conversation_id.
        ``hints`` are what the widget sends on connecting (``site``, ``language``)."""
        client = await connect(self.running.base, "/chat", auth={"token": None, **hints})
        self.clients.append(client)
        await client.next("session")
        ack = await client.call("message", {"body": body})
        assert ack.get("ok"), ack
        return client, ack["conversation_id"]

    async def staff_token(self, email: str, role: Role) -> str:
        await self.add_user(email, f"{role.value} {email}", role)
        return await self.sign_in(email)

    async def add_user(self, email: str, name: str, role: Role) -> int:
        """Like Running.add_user, reusing one argon2 hash (hashing costs ~0.25 s a user)."""
        global _PASSWORD_HASH
        store = self.running.hub.store
        if _PASSWORD_HASH is None:
            _PASSWORD_HASH = self.running.hub.authenticator.hash_password(PASSWORD)
        user = await store.create_user(
            email=email, name=name, role=role, password_hash=_PASSWORD_HASH, now=utc_now()
        )
        return user.user_id

    async def sign_in(self, email: str) -> str:
        """A session token as ``POST /api/v1/session`` would issue, minus the argon2 check
        (the sign-in itself is covered by test_chat_flow)."""
        found = await self.running.hub.store.user_by_email(email)
        assert found is not None, email
        token = secrets.token_urlsafe(32)
        now = utc_now()
        await self.running.hub.store.create_session(
            token_hash(token), found[0].user_id, now, now + timedelta(hours=1)
        )
        return token

    async def get(self, path: str, token: str) -> tuple[int, Any]:
        return await self.running.get(path, token)

    async def post(self, path: str, token: str) -> tuple[int, Any]:
        return await self.running.send("POST", path, token, json={})

    async def agents_view(self, token: str) -> dict[str, dict[str, Any]]:
        status, body = await self.get("/api/v1/agents", token)
        assert status == 200, body
        return {a["name"]: a for a in body["agents"]}


@contextlib.asynccontextmanager
async def hub(
    tmp_path: Path,
    *,
    queues: Sequence[dict[str, Any]] | None = None,
    routing: dict[str, Any] | None = None,
    agents: Sequence[dict[str, Any]] = (),
    extra: dict[str, Any] | None = None,
) -> AsyncIterator[Scene]:
    """Like conftest.serve, but with a full config file the hub can re-read (rules reload);
    ``extra`` adds top-level sections (e.g. ``business_hours``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    write_config(path, queues=queues, routing=routing, agents=agents, extra=extra)
    environ = {
        "HUB_DATABASE__URL": hub_database_url(tmp_path),
        "HUB_HTTP__PORT": str(free_port()),
        "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
    }
    settings = load_settings(path, environ)
    built = build(settings, config_path=str(path))
    runner = web.AppRunner(built.app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.http.port)
    await site.start()
    scene = Scene(Running(built, f"http://127.0.0.1:{settings.http.port}", runner), path)
    try:
        yield scene
    finally:
        for client in scene.clients:
            with contextlib.suppress(Exception):
                await client.close()
        await runner.cleanup()


async def first_offer(
    agents: Sequence[Agent], timeout: float = 5.0
) -> tuple[Agent, dict[str, Any]]:
    """The next offer any of ``agents`` receives, and who received it."""
    async with asyncio.timeout(timeout):
        while True:
            for agent in agents:
                q = agent.io.queue("offer")
                if not q.empty():
                    return agent, q.get_nowait()
            await asyncio.sleep(0.01)


async def no_offer(*agents: Agent, within: float = 0.3) -> None:
    await asyncio.sleep(within)
    for agent in agents:
        assert agent.io.pending("offer") == [], f"{agent.name} was offered a chat"


async def eventually(probe: Any, timeout: float = 5.0, every: float = 0.05) -> Any:
    """Call the async ``probe`` until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = await probe()
            if result:
                return result
            await asyncio.sleep(every)


# --------------------------------------------------------------------------- strategies


async def test_longest_idle_offers_the_first_chat_to_who_became_available_first(
    tmp_path: Path,
) -> None:
    async with hub(tmp_path, queues=[queue(strategy="longest_idle")]) as scene:
        # Created in this order, but made available in the opposite order.
        ann = await scene.agent("ann@example.com", "Ann", available=False)
        ben = await scene.agent("ben@example.com", "Ben", available=False)
        await ben.set_state("available")
        await ann.set_state("available")
        _, conversation_id = await scene.visitor("hello")
        offer = await ben.offer()
        assert offer["conversation_id"] == conversation_id
        await no_offer(ann)


async def test_round_robin_rotates_consecutive_chats_over_all_agents(tmp_path: Path) -> None:
    async with hub(tmp_path, queues=[queue(strategy="round_robin")]) as scene:
        agents = [
            await scene.agent(f"rr{i}@example.com", f"Agent {i}", available=False) for i in range(3)
        ]
        for agent in reversed(agents):  # longest idle would pick the last one first
            await agent.set_state("available")
        receivers = []
        for n in range(4):
            _, conversation_id = await scene.visitor(f"chat {n}")
            who, offer = await first_offer(agents)
            assert offer["conversation_id"] == conversation_id
            receivers.append(who.name)
        assert sorted(receivers[:3]) == ["Agent 0", "Agent 1", "Agent 2"], receivers
        assert receivers[3] == receivers[0], receivers


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("least_occupied", ["Bea", "Bea"]),  # 0 < 1/2, then 1/4 < 1/2
        ("longest_idle", ["Al", "Bea"]),  # the contrast: Al has idled longer
    ],
)
async def test_least_occupied_prefers_the_lower_load_ratio(
    tmp_path: Path, strategy: str, expected: list[str]
) -> None:
    agents = [
        {"email": "al@example.com", "capacity": {"webchat": 2}},
        {"email": "bea@example.com", "capacity": {"webchat": 4}},
    ]
    async with hub(tmp_path, queues=[queue(strategy=strategy)], agents=agents) as scene:
        al = await scene.agent("al@example.com", "Al")
        bea = await scene.agent("bea@example.com", "Bea", available=False)
        await scene.visitor("first")
        await al.accept(await al.offer())  # Al now holds 1 of 2
        await bea.set_state("available")  # Bea is idle since after Al's offer
        receivers = []
        for body in ("second", "third"):
            await scene.visitor(body)
            who, offer = await first_offer([al, bea])
            await who.accept(offer)
            receivers.append(who.name)
        assert receivers == expected


MOST_SKILLED_AGENTS = [
    {"email": "two@example.com", "skills": {"billing": 2}},
    {"email": "five@example.com", "skills": {"billing": 5}},
    {"email": "none@example.com", "skills": {}},
]


async def _most_skilled(scene: Scene) -> None:
    nobody = await scene.agent("none@example.com", "No Billing")  # idles longest
    two = await scene.agent("two@example.com", "Billing Two")  # idles longer than five
    five = await scene.agent("five@example.com", "Billing Five")
    _, conversation_id = await scene.visitor("my invoice is wrong")
    who, offer = await first_offer([nobody, two, five])
    assert offer["conversation_id"] == conversation_id
    assert who is five, f"offered to {who.name}"
    await no_offer(nobody, two)


async def test_most_skilled_with_a_rule_requirement_prefers_the_higher_level(
    tmp_path: Path,
) -> None:
    rules = [
        {
            "name": "billing",
            "when": "true",
            "targets": [{"queue": "support", "requires": "billing >= 1"}],
        }
    ]
    async with hub(
        tmp_path,
        queues=[queue(strategy="most_skilled")],
        routing={"rules": rules},
        agents=MOST_SKILLED_AGENTS,
    ) as scene:
        await _most_skilled(scene)


async def test_most_skilled_with_a_queue_requirement_prefers_the_higher_level(
    tmp_path: Path,
) -> None:
    async with hub(
        tmp_path,
        queues=[queue(strategy="most_skilled", requires="billing >= 1")],
        agents=MOST_SKILLED_AGENTS,
    ) as scene:
        await _most_skilled(scene)


async def test_ring_all_offers_everyone_and_the_first_accept_wins(tmp_path: Path) -> None:
    async with hub(tmp_path, queues=[queue(strategy="ring_all")]) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        ben = await scene.agent("ben@example.com", "Ben")
        cy = await scene.agent("cy@example.com", "Cy")
        carol, conversation_id = await scene.visitor("anyone?")
        offers = {a.name: await a.offer() for a in (ann, ben, cy)}
        assert {o["conversation_id"] for o in offers.values()} == {conversation_id}
        assert len({o["interaction_id"] for o in offers.values()}) == 1
        iid = offers["Ben"]["interaction_id"]

        await ben.accept(offers["Ben"])
        assert (await carol.next("agent_joined"))["agent_name"] == "Ben"
        for loser in (ann, cy):
            withdrawn = await loser.io.next("offer_withdrawn")
            assert withdrawn == {"interaction_id": iid, "reason": "taken"}
        late = await ann.io.call("accept", {"interaction_id": iid})
        assert late["error"]["code"] == "conflict", late
        assert ben.io.pending("offer_withdrawn") == []


async def _random_receivers(tmp_path: Path) -> list[str]:
    async with hub(
        tmp_path, queues=[queue(strategy="random")], routing={"random_seed": 7}
    ) as scene:
        agents = [await scene.agent(f"r{i}@example.com", f"Agent {i}") for i in range(3)]
        receivers = []
        for n in range(6):
            _, conversation_id = await scene.visitor(f"chat {n}")
            who, offer = await first_offer(agents)
            assert offer["conversation_id"] == conversation_id
            await who.accept(offer)
            receivers.append(who.name)
        return receivers


async def test_random_spreads_chats_and_a_seed_makes_it_repeatable(tmp_path: Path) -> None:
    first = await _random_receivers(tmp_path / "one")
    second = await _random_receivers(tmp_path / "two")
    assert len(set(first)) > 1, first
    assert first == second


# --------------------------------------------------------------------------- skills and rules

SPANISH_RULE = {
    "name": "spanish-invoices",
    "when": 'first_message contains "factura"',
    "targets": [
        {"queue": "support", "requires": "lang_es >= 3", "timeout_s": 1},
        {"queue": "support", "requires": "true"},
    ],
}
LANGUAGE_AGENTS = [
    {"email": "en@example.com", "skills": {"lang_en": 5}},
    {"email": "es@example.com", "skills": {"lang_es": 4}},
]


async def test_rule_waits_for_a_spanish_agent_then_escalates_to_anyone(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"rules": [SPANISH_RULE]}, agents=LANGUAGE_AGENTS) as scene:
        en = await scene.agent("en@example.com", "English Agent")
        started = time.monotonic()
        carol, conversation_id = await scene.visitor("Necesito una FACTURA, por favor")
        assert (await carol.next("queue_position"))["position"] == 1
        await no_offer(en, within=0.6)
        offer = await en.offer(timeout=3)
        waited = time.monotonic() - started
        assert offer["conversation_id"] == conversation_id
        assert 0.9 <= waited <= 2.5, waited


async def test_rule_offers_the_spanish_chat_to_the_spanish_agent_at_once(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"rules": [SPANISH_RULE]}, agents=LANGUAGE_AGENTS) as scene:
        en = await scene.agent("en@example.com", "English Agent")  # idles longest
        es = await scene.agent("es@example.com", "Spanish Agent")
        started = time.monotonic()
        _, spanish = await scene.visitor("Hola, mi factura está mal")
        who, offer = await first_offer([en, es])
        assert who is es and offer["conversation_id"] == spanish
        assert time.monotonic() - started < 0.9
        # A chat that matches no rule goes to the longest idle agent as usual.
        _, english = await scene.visitor("Hi, my invoice is wrong")
        who, offer = await first_offer([en, es])
        assert who is en and offer["conversation_id"] == english
        await no_offer(en, es, within=1.2)  # nothing escalates to the English agent later


async def test_rule_routing_to_another_queue_is_reported_in_that_queue(tmp_path: Path) -> None:
    rules = [
        {
            "name": "invoices",
            "when": 'first_message contains "factura"',
            "targets": [{"queue": "billing"}],
        }
    ]
    async with hub(tmp_path, queues=[queue(), queue("billing")], routing={"rules": rules}) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        await scene.visitor("Necesito una factura")
        offer = await ann.offer()
        await ann.accept(offer)
        _, support = await scene.get("/api/v1/queues/support/stats", sup)
        _, billing = await scene.get("/api/v1/queues/billing/stats", sup)
        assert offer["queue"] == "billing", offer
        assert (billing["entered_today"], billing["answered_today"]) == (1, 1), billing
        assert support["entered_today"] == 0, support


# --------------------------------------------------------------------------- capacity


async def test_capacity_from_config_holds_a_second_chat_until_wrap_up_ends(
    tmp_path: Path,
) -> None:
    async with hub(
        tmp_path,
        queues=[queue(wrap_up_s=0.6)],
        agents=[{"email": "solo@example.com", "capacity": {"webchat": 1}}],
    ) as scene:
        solo = await scene.agent("solo@example.com", "Solo")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        assert (await scene.agents_view(sup))["Solo"]["capacity"] == {"webchat": 1}

        first_visitor, _ = await scene.visitor("first")
        first = await solo.offer()
        await solo.accept(first)
        second_visitor, second_conversation = await scene.visitor("second")
        position = await second_visitor.next("queue_position")
        assert position["conversation_id"] == second_conversation
        assert position["position"] == 1
        await no_offer(solo)

        closed = await solo.io.call("close", {"interaction_id": first["interaction_id"]})
        assert closed["ok"] and closed["work"]["state"] == "wrap_up", closed
        assert (await first_visitor.next("conversation_closed"))["by"] == "agent"
        await no_offer(solo, within=0.3)  # still wrapping up
        ended = await solo.io.wait_for("interaction_updated", lambda u: u.get("state") == "ended")
        assert ended["interaction_id"] == first["interaction_id"]
        second = await solo.offer(timeout=2)
        assert second["conversation_id"] == second_conversation


# --------------------------------------------------------------------------- declines, expiry


async def test_two_missed_offers_set_the_agent_away(tmp_path: Path) -> None:
    async with hub(
        tmp_path,
        queues=[queue(offer_timeout_s=0.4)],
        routing={"missed_offers_before_away": 2},
    ) as scene:
        solo = await scene.agent("solo@example.com", "Solo")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        await scene.visitor("hello?")
        for _ in range(2):
            offer = await solo.offer(timeout=2)
            withdrawn = await solo.io.next("offer_withdrawn", timeout=2)
            assert withdrawn == {"interaction_id": offer["interaction_id"], "reason": "expired"}
        state = await solo.io.wait_for("state", lambda s: s["state"] == "away", timeout=2)
        assert state["reason"] == "missed_offers"
        row = (await scene.agents_view(sup))["Solo"]
        assert (row["state"], row["reason"]) == ("away", "missed_offers")
        await no_offer(solo, within=0.6)  # an away agent is not offered the chat again
        status, stats = await scene.get("/api/v1/queues/support/stats", sup)
        assert status == 200 and stats["waiting"] == 1 and stats["offered"] == 0


async def test_declining_never_sets_the_agent_away(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"missed_offers_before_away": 1}) as scene:
        solo = await scene.agent("solo@example.com", "Solo")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        for body in ("one", "two"):
            await scene.visitor(body)
            offer = await solo.offer()
            assert offer["preview"] == body
            assert (await solo.io.call("decline", {"interaction_id": offer["interaction_id"]}))[
                "ok"
            ]
            withdrawn = await solo.io.next("offer_withdrawn")
            assert withdrawn["reason"] == "declined"
        await no_offer(solo)  # declined chats are not offered back to the decliner
        assert [s for s in solo.io.pending("state") if s["state"] != "available"] == []
        row = (await scene.agents_view(sup))["Solo"]
        assert (row["state"], row["reason"]) == ("available", None)


async def test_decline_delay_holds_the_next_chat_back(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"decline_delay_s": 1.0}) as scene:
        solo = await scene.agent("solo@example.com", "Solo")
        await scene.visitor("one")
        offer = await solo.offer()
        assert (await solo.io.call("decline", {"interaction_id": offer["interaction_id"]}))["ok"]
        declined_at = time.monotonic()
        _, second = await scene.visitor("two")
        await no_offer(solo, within=0.6)
        again = await solo.offer(timeout=2)
        assert again["conversation_id"] == second
        assert time.monotonic() - declined_at >= 0.95
        await no_offer(solo)  # the declined chat never comes back to the decliner


# --------------------------------------------------------------------------- transfers


async def test_transfer_to_a_queue_keeps_the_chat_age_and_offers_it_there(tmp_path: Path) -> None:
    async with hub(
        tmp_path,
        queues=[queue(), queue("billing", requires="billing >= 1")],
        agents=[{"email": "bill@example.com", "skills": {"billing": 3}}],
    ) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        carol, conversation_id = await scene.visitor("I was charged twice")
        offer = await ann.offer()
        work = await ann.accept(offer)
        assert (await carol.next("agent_joined"))["agent_name"] == "Ann"
        bill = await scene.agent("bill@example.com", "Bill")
        await no_offer(bill, within=0.1)
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)

        ack = await ann.io.call(
            "transfer", {"interaction_id": offer["interaction_id"], "queue": "billing"}
        )
        assert ack.get("ok"), ack
        update = await ann.io.wait_for("interaction_updated", lambda u: "state" in u)
        assert update == {"interaction_id": offer["interaction_id"], "state": "transferred"}
        moved = await bill.offer()
        assert moved["interaction_id"] == offer["interaction_id"]
        assert moved["conversation_id"] == conversation_id
        assert moved["queue"] == "billing"
        assert moved["queued_at"] == offer["queued_at"] == work["queued_at"]
        status, stats = await scene.get("/api/v1/queues/billing/stats", sup)
        assert status == 200, stats
        assert (stats["waiting"], stats["offered"]) == (1, 1)
        assert stats["oldest_queued_at"] == offer["queued_at"]
        await bill.accept(moved)
        assert (await carol.next("agent_joined"))["agent_name"] == "Bill"
        await no_offer(ann)


async def test_transfer_to_a_named_agent_then_back_to_the_queue_on_decline(
    tmp_path: Path,
) -> None:
    async with hub(tmp_path) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        ben = await scene.agent("ben@example.com", "Ben", available=False)
        cy = await scene.agent("cy@example.com", "Cy", available=False)
        await scene.visitor("please help")
        offer = await ann.offer()
        await ann.accept(offer)
        await ben.set_state("available")  # Ben idles longer than Cy
        await cy.set_state("available")
        iid = offer["interaction_id"]

        ack = await ann.io.call("transfer", {"interaction_id": iid, "agent_id": cy.agent_id})
        assert ack.get("ok"), ack
        named = await cy.offer()
        assert named["interaction_id"] == iid
        await no_offer(ann, ben)

        assert (await cy.io.call("decline", {"interaction_id": iid}))["ok"]
        back = await ben.offer()
        assert back["interaction_id"] == iid
        await no_offer(ann, cy)  # neither the transferring agent nor the decliner


# --------------------------------------------------------------------------- presence


async def test_disconnected_agent_is_away_then_offline_after_the_grace(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"presence_grace_s": 1}) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        assert (await scene.agents_view(sup))["Ann"]["state"] == "available"

        await ann.io.close()
        gone = time.monotonic()

        async def ann_is(state: str, reason: str | None) -> bool:
            row = (await scene.agents_view(sup))["Ann"]
            return (row["state"], row["reason"]) == (state, reason)

        await eventually(lambda: ann_is("away", "disconnected"), timeout=0.8)
        assert time.monotonic() - gone < 0.8
        await eventually(lambda: ann_is("offline", None), timeout=3)
        assert time.monotonic() - gone >= 0.95


async def test_reconnecting_within_the_grace_restores_available(tmp_path: Path) -> None:
    async with hub(tmp_path, routing={"presence_grace_s": 1}) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        await ann.io.close()

        async def ann_state() -> str:
            return str((await scene.agents_view(sup))["Ann"]["state"])

        async def ann_away() -> bool:
            return await ann_state() == "away"

        await eventually(ann_away, timeout=0.8)
        again = await connect(
            scene.running.base, "/agent", token=await scene.sign_in("ann@example.com")
        )
        scene.clients.append(again)
        hello = await again.next("hello")
        assert (hello["state"], hello["reason"]) == ("available", None)
        await asyncio.sleep(1.2)  # past the grace: still available, not offline
        assert await ann_state() == "available"
        _, conversation_id = await scene.visitor("hi")
        assert (await again.next("offer"))["conversation_id"] == conversation_id


# --------------------------------------------------------------------------- stats


async def test_queue_stats_after_answered_chats(tmp_path: Path) -> None:
    async with hub(tmp_path, queues=[queue(sla_s=0.5)]) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        sup = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        agent_token = await scene.sign_in("ann@example.com")

        await scene.visitor("quick one")
        await ann.accept(await ann.offer())  # answered well within the 0.5 s SLA
        await scene.visitor("slow one")
        slow = await ann.offer()
        await asyncio.sleep(0.7)
        await ann.accept(slow)  # answered after the SLA

        status, stats = await scene.get("/api/v1/queues/support/stats", sup)
        assert status == 200, stats
        assert stats["name"] == "support" and stats["sla_s"] == 0.5
        assert (stats["entered_today"], stats["answered_today"]) == (2, 2)
        assert (stats["waiting"], stats["assigned"], stats["abandoned_today"]) == (0, 2, 0)
        assert stats["service_level_today"] == pytest.approx(0.5)
        assert 0.3 <= stats["asa_today_s"] <= 0.9, stats

        status, body = await scene.get("/api/v1/queues/support/stats", agent_token)
        assert status == 403 and body["error"]["code"] == "forbidden", body
        status, body = await scene.get("/api/v1/queues/nowhere/stats", sup)
        assert status == 404 and body["error"]["code"] == "not_found", body


# --------------------------------------------------------------------------- rules reload

VIP_RULE = {
    "name": "vip-desk",
    "when": 'first_message contains "vip"',
    "targets": [{"queue": "support", "requires": "vip >= 1"}],
}
LATE_RULE = {
    "name": "late-orders",
    "when": 'first_message contains "late"',
    "targets": [{"queue": "support", "requires": "vip >= 1"}],
}


async def test_reload_reads_new_rules_refuses_agents_and_keeps_old_rules_on_error(
    tmp_path: Path,
) -> None:
    agents = [
        {"email": "vip@example.com", "skills": {"vip": 3}, "capacity": {"webchat": 5}},
        {"email": "anyone@example.com", "capacity": {"webchat": 5}},
    ]
    async with hub(tmp_path, agents=agents) as scene:
        anyone = await scene.agent("anyone@example.com", "Anyone")  # idles longest
        vip = await scene.agent("vip@example.com", "Vip Agent")
        admin = await scene.staff_token("root@example.com", Role.ADMIN)
        agent_token = await scene.sign_in("anyone@example.com")

        async def routed(body: str) -> str:
            """Who is offered a new chat; without rules, whoever has idled longest."""
            await scene.visitor(body)
            who, _ = await first_offer([anyone, vip])
            return who.name

        assert await routed("vip customer here") == "Anyone"  # no rules yet

        write_config(scene.config_path, routing={"rules": [VIP_RULE, LATE_RULE]}, agents=agents)
        status, body = await scene.post("/api/v1/admin/routing/reload", agent_token)
        assert status == 403 and body["error"]["code"] == "forbidden", body
        status, body = await scene.post("/api/v1/admin/routing/reload", admin)
        assert (status, body) == (200, {"rules": 2})

        assert await routed("hello") == "Vip Agent"  # longest idle now
        assert await routed("vip customer again") == "Vip Agent"  # the new rule, not idle order

        broken = {**LATE_RULE, "name": "broken-rule", "targets": [{"queue": "nowhere"}]}
        write_config(scene.config_path, routing={"rules": [broken]}, agents=agents)
        status, body = await scene.post("/api/v1/admin/routing/reload", admin)
        assert status == 400, body
        assert body["error"]["code"] == "invalid_input"
        assert "broken-rule" in body["error"]["message"], body

        assert await routed("hello again") == "Anyone"
        assert await routed("and again") == "Vip Agent"
        assert await routed("my order is late") == "Vip Agent"  # the old rules still hold
