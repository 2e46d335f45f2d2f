"""Tasks from other systems (channel api) on a real hub: an API key hands one over, an agent
on the console is offered it, accepts it and reads it; a retry finds the same interaction;
bad requests and callers are refused naming what was wrong. The hub runs on the run's
backend (``HUB_TEST_BACKEND``); the retry race runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.model import Role
from tests.functional.conftest import Running, free_port, serve, settings_for
from tests.functional.test_api_keys import new_key, with_key
from tests.functional.test_routing import Scene, hub, queue
from tests.functional.test_webhooks import Receiver, receiving, subscribe

README = Path(__file__).parents[2] / "README.md"
TASK = {
    "customer": {"email": "Grace@Example.com", "name": "Grace Hopper"},
    "subject": "Call about order 1234",
    "text": "The courier lost order 1234; call Grace to arrange a new delivery.",
    "attributes": {"order_id": "1234"},
    "external_id": "erp-task-1234",
}


@contextlib.asynccontextmanager
async def tasks_hub(tmp_path: Path) -> AsyncIterator[tuple[Scene, str]]:
    """A hub whose support queue takes chats and tasks, a billing queue that takes only
    chats (and a supervisor of billing alone, quinn), and an admin's session."""
    async with hub(
        tmp_path,
        queues=[queue("support", channels=["webchat", "api"]), queue("billing")],
        agents=[{"email": "quinn@example.com", "supervises": ["billing"]}],
    ) as scene:
        yield scene, await scene.staff_token("ada@example.com", Role.ADMIN)


async def test_api_task_is_offered_to_an_agent_and_read_whole_once_accepted(
    tmp_path: Path,
) -> None:
    async with tasks_hub(tmp_path) as (scene, admin):
        key, _ = await new_key(scene.running, admin, "erp", "interactions:write")
        reader, _ = await new_key(scene.running, admin, "erp-reader", "interactions:read")
        al = await scene.agent("al@example.com", "Al Agent")

        status, created = await with_key(scene.running, key, "POST", "/api/v1/interactions", TASK)
        assert status == 201, created
        iid = created["interaction_id"]
        assert (created["channel"], created["queue"]) == ("api", "support")
        assert created["state"] in ("queued", "offered")  # routed as soon as it was stored
        assert created["external_id"] == "erp-task-1234"
        (message,) = created["messages"]
        assert message["body"] == TASK["text"]
        assert (message["author_kind"], message["author_name"]) == ("system", "erp")

        offer = await al.offer()
        assert offer["interaction_id"] == iid
        assert offer["channel"] == "api"
        assert offer["subject"] == "Call about order 1234"
        assert offer["preview"].startswith("The courier lost order 1234")
        assert offer["customer"]["name"] == "Grace Hopper"
        assert offer["customer"]["contact"] == "grace@example.com"  # normalised
        work = await al.accept(offer)
        assert work["channel"] == "api"
        assert [m["body"] for m in work["messages"]] == [TASK["text"]]

        ack = await al.io.call("add_note", {"interaction_id": iid, "body": "Left a voicemail"})
        assert ack.get("ok"), ack
        # Nowhere to send a reply: the console offers notes only, and the hub agrees.
        ack = await al.io.call("send_message", {"interaction_id": iid, "body": "hello?"})
        assert ack["error"]["code"] == "invalid_input"
        assert "private note" in ack["error"]["message"]

        status, whole = await with_key(scene.running, reader, "GET", f"/api/v1/interactions/{iid}")
        assert status == 200, whole
        assert (whole["state"], whole["agent_name"]) == ("assigned", "Al Agent")
        assert [m["body"] for m in whole["messages"]] == [TASK["text"]]
        assert [n["body"] for n in whole["notes"]] == ["Left a voicemail"]

        # A retry of the same request (the ERP lost our answer): the same task, offered once.
        status, again = await with_key(scene.running, key, "POST", "/api/v1/interactions", TASK)
        assert status == 200, again
        assert again["interaction_id"] == iid and again["state"] == "assigned"
        await asyncio.sleep(0.3)
        assert al.io.pending("offer") == []

        ack = await al.io.call("close", {"interaction_id": iid})
        assert ack.get("ok"), ack
        status, customers = await scene.get("/api/v1/customers?email=grace@example.com", admin)
        assert status == 200 and len(customers["customers"]) == 1
        assert customers["customers"][0]["customer_id"] == created["customer_id"]


async def test_api_task_for_a_known_customer_by_id_and_phone_in_a_named_queue(
    tmp_path: Path,
) -> None:
    async with tasks_hub(tmp_path) as (scene, admin):
        key, _ = await new_key(scene.running, admin, "crm", "interactions:write")
        task = {"customer": {"phone": "+44 20 7946 0018"}, "subject": "Renewal", "text": "Call"}
        status, first = await with_key(
            scene.running, key, "POST", "/api/v1/interactions", {**task, "queue": "support"}
        )
        assert status == 201, first
        customer_id = first["customer_id"]
        status, found = await scene.get("/api/v1/customers?phone=%2B442079460018", admin)
        assert [c["customer_id"] for c in found["customers"]] == [customer_id]
        status, second = await with_key(
            scene.running,
            key,
            "POST",
            "/api/v1/interactions",
            {"customer": {"id": customer_id}, "subject": "Again", "text": "Call again"},
        )
        assert status == 201, second
        assert second["customer_id"] == customer_id
        assert second["interaction_id"] != first["interaction_id"]  # no external_id: a new one


async def test_api_task_reaches_the_integrators_webhooks_like_any_contact(tmp_path: Path) -> None:
    async with tasks_hub(tmp_path) as (scene, admin), receiving(Receiver(free_port())) as hooks:
        events = ["interaction.created", "interaction.assigned", "interaction.ended"]
        _, hooks.secret = await subscribe(scene.running, admin, hooks.url, events)
        al = await scene.agent("al@example.com", "Al Agent")
        status, made = await scene.running.send("POST", "/api/v1/interactions", admin, TASK)
        assert status == 201, made
        created = (await hooks.next("interaction.created"))["body"]["data"]["interaction"]
        assert (created["interaction_id"], created["channel"]) == (made["interaction_id"], "api")
        assert created["external_id"] == "erp-task-1234"
        await al.accept(await al.offer())
        assigned = (await hooks.next("interaction.assigned"))["body"]["data"]
        assert assigned["agent_name"] == "Al Agent"
        ack = await al.io.call("close", {"interaction_id": made["interaction_id"]})
        assert ack.get("ok"), ack
        ended = (await hooks.next("interaction.ended"))["body"]["data"]["interaction"]
        assert (ended["interaction_id"], ended["state"]) == (made["interaction_id"], "ended")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": None}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"text": None}, "text"),
        ({"text": "x" * 10_001}, "text"),
        ({"customer": None}, "customer"),
        ({"customer": {"email": "not an address"}}, "customer.email"),
        ({"customer": {"phone": "12"}}, "customer.phone"),
        ({"customer": {"id": 999_999}}, "customer.id"),
        ({"external_id": "x" * 201}, "external_id"),
        ({"attributes": {"order_id": 7}}, "attributes.order_id"),
        ({"queue": "nowhere"}, "queue"),
        ({"queue": "billing"}, "queue"),  # a queue that does not take api
    ],
)
async def test_api_task_refuses_a_bad_request_naming_the_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    async with tasks_hub(tmp_path) as (scene, admin):
        key, _ = await new_key(scene.running, admin, "erp", "interactions:write")
        body = {k: v for k, v in {**TASK, **change}.items() if v is not None}
        status, refused = await with_key(scene.running, key, "POST", "/api/v1/interactions", body)
        assert status == 400, refused
        assert refused["error"]["code"] == "invalid_input"
        assert refused["error"]["message"].startswith(field), refused
        status, listing = await scene.get("/api/v1/interactions", admin)
        assert listing["interactions"] == []  # refused whole: nothing stored


async def test_api_task_refused_to_a_key_without_the_scope_and_to_agents(tmp_path: Path) -> None:
    async with tasks_hub(tmp_path) as (scene, admin):
        read_only, _ = await new_key(scene.running, admin, "erp", "interactions:read")
        status, refused = await with_key(
            scene.running, read_only, "POST", "/api/v1/interactions", TASK
        )
        assert status == 403 and "interactions:write" in refused["error"]["message"]
        agent = await scene.staff_token("al@example.com", Role.AGENT)
        status, refused = await scene.running.send("POST", "/api/v1/interactions", agent, TASK)
        assert status == 403, refused
        supervisor = await scene.staff_token("sue@example.com", Role.SUPERVISOR)
        status, made = await scene.running.send("POST", "/api/v1/interactions", supervisor, TASK)
        assert status == 201, made
        assert made["messages"][0]["author_name"] == "supervisor sue@example.com"
        # A supervisor of billing only may not put work into support.
        quinn = await scene.staff_token("quinn@example.com", Role.SUPERVISOR)
        status, refused = await scene.running.send(
            "POST", "/api/v1/interactions", quinn, {**TASK, "external_id": "other"}
        )
        assert status == 403 and "'support'" in refused["error"]["message"], refused


async def test_api_interaction_read_only_by_its_agent_and_404_when_unknown(
    tmp_path: Path,
) -> None:
    async with tasks_hub(tmp_path) as (scene, admin):
        al = await scene.agent("al@example.com", "Al Agent")
        status, made = await scene.running.send("POST", "/api/v1/interactions", admin, TASK)
        assert status == 201, made
        await al.accept(await al.offer())
        path = f"/api/v1/interactions/{made['interaction_id']}"
        status, mine = await scene.get(path, await scene.sign_in("al@example.com"))
        assert status == 200 and mine["agent_id"] == al.agent_id
        other = await scene.staff_token("bo@example.com", Role.AGENT)
        status, refused = await scene.get(path, other)
        assert status == 403 and refused["error"]["code"] == "forbidden"
        status, missing = await scene.get("/api/v1/interactions/424242", admin)
        assert status == 404 and missing["error"]["message"] == "no interaction 424242"


async def test_readme_curl_example_hands_over_a_task_and_its_retry_finds_it(
    tmp_path: Path,
) -> None:
    section = README.read_text(encoding="utf-8").split("### Tasks from other systems", 1)[1]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0]
    async with tasks_hub(tmp_path) as (scene, admin):
        key, _ = await new_key(scene.running, admin, "erp", "interactions:write")
        command = command.replace("http://127.0.0.1:8080", scene.running.base)
        answers = []
        for _ in range(2):
            proc = await asyncio.create_subprocess_exec(
                "sh",
                "-c",
                command.rstrip() + " -w '\\n%{http_code}'",
                env={**os.environ, "HUB_API_KEY": key},
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await proc.communicate()
            assert proc.returncode == 0, out
            body, status = out.decode().rsplit("\n", 1)
            answers.append((int(status), json.loads(body)))
    (first_status, first), (again_status, again) = answers
    assert (first_status, again_status) == (201, 200)
    assert (first["channel"], first["external_id"]) == ("api", "erp-task-1234")
    assert again["interaction_id"] == first["interaction_id"]


async def test_api_task_retries_at_once_make_one_interaction(
    tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(
        tmp_path,
        HUB_DATABASE__URL=database_url,
        HUB_QUEUES="[{name: support, channels: [webchat, api]}]",
    )
    async with serve(settings) as running:
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        key, _ = await new_key(
            running, await running.sign_in("ada@example.com"), "erp", "interactions:write"
        )
        results = await asyncio.gather(*(_post(running, key) for _ in range(6)))
    assert sorted(status for status, _, _ in results) == [200] * 5 + [201]
    (iid,) = {body["interaction_id"] for _, body, _ in results}
    assert {location for _, _, location in results} == {f"/api/v1/interactions/{iid}"}


async def _post(running: Running, key: str) -> tuple[int, Any, str | None]:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{running.base}/api/v1/interactions",
            json=TASK,
            headers={"Authorization": f"Bearer {key}"},
        )
        return resp.status, await resp.json(), resp.headers.get("Location")
