"""Self-service on a real hub, visitors and agents as Socket.IO clients: a web-chat visitor's
first message is offered matching published articles before it joins the queue; yes closes it
without an agent (self-served: on the interaction and in the day's CSV), no (or another
message, or the wait running out) routes it with its original age."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.model import Role
from tests.functional.conftest import Client, Running, connect, serve, settings_for
from tests.functional.test_chat_flow import agent, available

QUIET_S = 1.0  # long enough for an offer to have arrived if one were made


@dataclass
class Scene:
    running: Running
    supervisor: str
    alice: Client


@pytest.fixture
async def scene(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Scene]:
    overrides: dict[str, str] = getattr(request, "param", {})
    async with serve(settings_for(tmp_path, **overrides)) as running:
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        supervisor = await running.sign_in("sue@example.com")
        for article in (
            {"title": "Resetting your password", "body_markdown": "Open **Settings**."},
            {"title": "Password rules", "body_markdown": "At least 12 characters."},
            {"title": "重置密码", "body_markdown": "打开设置。", "language": "zh-CN"},
            {"title": "Draft on passwords", "body_markdown": "Not yet.", "published": False},
        ):
            code, body = await running.send(
                "POST", "/api/v1/kb/articles", supervisor, json={"published": True, **article}
            )
            assert code == 201, body
        alice = await agent(running, "alice@example.com", "Alice Agent")
        await available(alice)
        try:
            yield Scene(running, supervisor, alice)
        finally:
            await alice.close()


async def chat(scene: Scene, text: str, language: str = "en") -> tuple[Client, dict[str, Any]]:
    """A new visitor (browser language ``language``) who says ``text``; the message's ack."""
    visitor = await connect(scene.running.base, "/chat", auth={"language": language})
    await visitor.next("session")
    ack = await visitor.call("message", {"body": text})
    assert ack["ok"], ack
    return visitor, ack


async def interaction(scene: Scene, conversation_id: int) -> dict[str, Any]:
    code, body = await scene.running.get("/api/v1/interactions", scene.supervisor)
    assert code == 200, body
    [found] = [i for i in body["interactions"] if i["conversation_id"] == conversation_id]
    return found  # type: ignore[no-any-return]


async def no_offer(alice: Client) -> None:
    await asyncio.sleep(QUIET_S)
    assert alice.pending("offer") == []


async def test_self_service_yes_closes_without_an_agent_and_counts_as_self_served(
    scene: Scene,
) -> None:
    visitor, ack = await chat(scene, "How do I reset my password?")
    offered = await visitor.next("suggestions")
    assert offered["conversation_id"] == ack["conversation_id"] and offered["wait_s"] == 60
    titles = [a["title"] for a in offered["articles"]]
    assert titles == ["Resetting your password", "Password rules"]  # published, in English
    first = offered["articles"][0]
    assert first["body_html"] == "<p>Open <strong>Settings</strong>.</p>\n"
    await no_offer(scene.alice)  # held back while the visitor reads

    answer = await visitor.call(
        "suggestion_answer", {"article_id": first["article_id"], "helpful": True}
    )
    assert answer == {"ok": True, "closed": True}
    assert (await visitor.next("conversation_closed"))["by"] == "self_served"
    await no_offer(scene.alice)
    record = await interaction(scene, ack["conversation_id"])
    assert record["state"] == "ended" and record["closed_by"] == "self_served"
    code, csv = await scene.running.get("/api/v1/reports/interactions.csv", scene.supervisor)
    assert code == 200
    [row] = [line for line in csv.splitlines() if "self_served" in line]
    assert f"{record['interaction_id']}," in row
    # Asked again: nothing waits for an answer any more.
    again = await visitor.call(
        "suggestion_answer", {"article_id": first["article_id"], "helpful": True}
    )
    assert again["error"]["code"] == "conflict"
    await visitor.close()


async def test_self_service_no_routes_the_chat_with_its_original_age(scene: Scene) -> None:
    visitor, ack = await chat(scene, "password help")
    offered = await visitor.next("suggestions")
    await asyncio.sleep(1.5)  # reading the article
    said_no = datetime.now().astimezone()
    article_id = offered["articles"][0]["article_id"]
    answer = await visitor.call("suggestion_answer", {"article_id": article_id, "helpful": False})
    assert answer == {"ok": True, "closed": False}
    offer = await scene.alice.next("offer")
    assert offer["preview"] == "password help"
    queued_at = datetime.fromisoformat(offer["queued_at"])
    assert queued_at == datetime.fromisoformat(ack["message"]["created_at"])
    assert (said_no - queued_at).total_seconds() >= 1.5  # its wait counts from the message
    await visitor.close()


async def test_self_service_another_message_routes_the_chat(scene: Scene) -> None:
    visitor, _ = await chat(scene, "I forgot my password")
    await visitor.next("suggestions")
    await no_offer(scene.alice)
    assert (await visitor.call("message", {"body": "I need a person please"}))["ok"]
    offer = await scene.alice.next("offer")
    assert offer["preview"] == "I forgot my password"
    await visitor.close()


@pytest.mark.parametrize("scene", [{"HUB_KNOWLEDGE__SUGGESTION_WAIT_S": "5"}], indirect=True)
async def test_self_service_wait_runs_out_and_the_chat_is_routed(scene: Scene) -> None:
    visitor, _ = await chat(scene, "password")
    assert (await visitor.next("suggestions"))["wait_s"] == 5
    await no_offer(scene.alice)
    offer = await scene.alice.next("offer", timeout=10)
    assert offer["preview"] == "password"
    await visitor.close()


async def test_self_service_offers_articles_in_the_visitors_language_only(scene: Scene) -> None:
    visitor, _ = await chat(scene, "重置密码", language="zh-CN")
    offered = await visitor.next("suggestions")
    assert [a["title"] for a in offered["articles"]] == ["重置密码"]
    await visitor.close()
    other, _ = await chat(scene, "my password", language="fr")
    offer = await scene.alice.next("offer")  # no French article: straight to the queue
    assert offer["preview"] == "my password" and other.pending("suggestions") == []
    await other.close()


async def test_self_service_routes_at_once_when_nothing_matches(scene: Scene) -> None:
    visitor, _ = await chat(scene, "Where is my parcel?")
    offer = await scene.alice.next("offer")
    assert offer["preview"] == "Where is my parcel?" and visitor.pending("suggestions") == []
    answer = await visitor.call("suggestion_answer", {"article_id": 1, "helpful": True})
    assert answer["error"]["code"] == "conflict"
    bad = await visitor.call("suggestion_answer", {"article_id": "1", "helpful": "yes"})
    assert bad["error"]["code"] == "invalid_input" and "article_id" in bad["error"]["message"]
    await visitor.close()


@pytest.mark.parametrize("scene", [{"HUB_KNOWLEDGE__SUGGEST_TO_VISITORS": "false"}], indirect=True)
async def test_self_service_can_be_turned_off(scene: Scene) -> None:
    visitor, _ = await chat(scene, "How do I reset my password?")
    offer = await scene.alice.next("offer")
    assert offer["preview"] == "How do I reset my password?"
    assert visitor.pending("suggestions") == []
    await visitor.close()


async def test_self_service_visitor_leaving_while_reading_abandons_the_chat(scene: Scene) -> None:
    visitor, ack = await chat(scene, "password")
    await visitor.next("suggestions")
    assert (await visitor.call("close", {}))["closed"] is True
    assert (await visitor.next("conversation_closed"))["by"] == "customer"
    await no_offer(scene.alice)
    record = await interaction(scene, ack["conversation_id"])
    assert record["state"] == "abandoned"
    await visitor.close()
