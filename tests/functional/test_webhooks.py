"""Outbound webhooks on a real hub, posting to a real receiver on 127.0.0.1: signed deliveries
retried until the receiver takes them, a delivery log that says what happened, giving up at
the deadline, redelivery, resuming after a restart, a slow receiver not holding others up,
admin-only routes and the CLI."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hub.model import Role
from hub.webhooks import signature_valid
from tests.functional.conftest import Running, free_port, serve, settings_for
from tests.functional.test_audit import admin, by_action, entries
from tests.functional.test_chat_flow import visitor
from tests.functional.test_cli import cli, hub_env
from tests.functional.test_email_support import email_settings, mail, send, sink_server
from tests.functional.test_metrics import parse, scrape, value

FAST_RETRIES = {
    "HUB_WEBHOOKS__RETRY_INITIAL_S": "0.05",
    "HUB_WEBHOOKS__RETRY_MAX_S": "0.2",
}


@dataclass
class Receiver:
    """An integrator's endpoint: answers ``fail_first`` requests with ``fail_status``, then
    200; keeps every request it got, and the ones whose signature held."""

    port: int
    secret: str = ""
    fail_first: int = 0
    fail_status: int = 503
    delay_s: float = 0.0
    got: list[dict[str, Any]] = field(default_factory=list)
    accepted: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?token=abc"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        header = request.headers.get("X-Hub-Signature", "")
        seen = {
            "body": json.loads(body),
            "delivery": request.headers.get("X-Hub-Delivery"),
            "event": request.headers.get("X-Hub-Event"),
            "signed": signature_valid(self.secret, header, body, now=datetime.now(UTC)),
        }
        self.got.append(seen)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if len(self.got) <= self.fail_first:
            return web.Response(status=self.fail_status, text="busy, come back later")
        if not seen["signed"]:
            return web.Response(status=401, text="bad signature")
        self.accepted.put_nowait(seen)
        return web.Response(status=204)

    async def next(self, event_type: str, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                seen = await self.accepted.get()
                if seen["body"]["type"] == event_type:
                    return seen


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    try:
        yield receiver
    finally:
        await runner.cleanup()


@asynccontextmanager
async def hooked(
    tmp_path: Path, receiver: Receiver, **env: str
) -> AsyncIterator[tuple[Running, Receiver, str]]:
    """A hub with fast retries, the receiver listening, and an admin signed in."""
    async with serve(settings_for(tmp_path, **FAST_RETRIES, **env)) as running:
        async with receiving(receiver):
            yield running, receiver, await admin(running)


async def subscribe(
    running: Running, token: str, url: str, events: list[str] | None = None
) -> tuple[int, str]:
    status, body = await running.send(
        "POST",
        "/api/v1/admin/webhooks",
        token,
        {"url": url, "events": events or ["interaction.created", "message.created"]},
    )
    assert status == 201, body
    return body["webhook"]["subscription_id"], body["secret"]


async def deliveries(running: Running, token: str, subscription_id: int) -> list[dict[str, Any]]:
    status, body = await running.get(f"/api/v1/admin/webhooks/{subscription_id}/deliveries", token)
    assert status == 200, body
    return list(body["deliveries"])


async def wait_until(
    running: Running,
    token: str,
    subscription_id: int,
    holds: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10,
) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while True:
            found = await deliveries(running, token, subscription_id)
            if holds(found):
                return found
            await asyncio.sleep(0.05)


async def chat(running: Running, text: str = "Where is my order?") -> None:
    """A web-chat visitor writes: an interaction is created with their message."""
    carol, _ = await visitor(running)
    ack = await carol.call("message", {"body": text})
    assert ack["ok"], ack
    await carol.close()


async def test_webhooks_deliver_signed_events_retrying_until_the_receiver_takes_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with hooked(tmp_path, Receiver(free_port(), fail_first=2)) as (running, receiver, token):
        subscription_id, receiver.secret = await subscribe(
            running, token, receiver.url, ["interaction.created"]
        )
        await chat(running, "My parcel never came")
        created = await receiver.next("interaction.created")
        # Two refusals, then the third attempt of the same delivery got through, signed.
        assert [seen["delivery"] for seen in receiver.got] == [created["delivery"]] * 3
        assert all(seen["signed"] for seen in receiver.got)
        event = created["body"]
        assert event["id"].startswith("evt_") and event["created_at"]
        assert event["data"]["interaction"]["channel"] == "webchat"
        assert event["data"]["interaction"]["queue"] == "support"
        assert created["event"] == "interaction.created"
        # The same bytes each time: the body of a retry is the body of the first attempt.
        assert len({json.dumps(seen["body"]) for seen in receiver.got}) == 1
        [delivery] = await wait_until(
            running, token, subscription_id, lambda d: d and d[0]["status"] == "delivered"
        )
        assert delivery["delivery_id"] == int(created["delivery"])
        assert delivery["attempts"] == 3
        assert delivery["last_http_status"] == 204 and delivery["last_error"] is None
        assert delivery["event_id"] == event["id"]
        assert delivery["event_type"] == "interaction.created"
        assert delivery["delivered_at"] is not None and delivery["next_attempt_at"] is not None
    # Neither the secret nor the URL (which often carries a token) is in the hub's logs.
    hub_lines = [
        r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("hub", "routing")
    ]
    assert any(f"delivery {delivery['delivery_id']} delivered" in line for line in hub_lines)
    assert not [line for line in hub_lines if receiver.secret in line or "token=abc" in line]


async def test_webhook_message_created_carries_the_customers_text(tmp_path: Path) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        _, receiver.secret = await subscribe(running, token, receiver.url, ["message.created"])
        await chat(running, "Héllo, <b>where</b> is order 42?")
        message = (await receiver.next("message.created"))["body"]["data"]
        assert message["message"]["body"] == "Héllo, <b>where</b> is order 42?"
        assert message["message"]["author_kind"] == "customer"
        assert message["message"]["interaction_id"] == message["interaction"]["interaction_id"]
        # Subscribed to messages only: the interaction's creation was not sent.
        assert {seen["body"]["type"] for seen in receiver.got} == {"message.created"}


async def test_webhook_ping_tries_the_receiver_and_a_disabled_one_is_refused(
    tmp_path: Path,
) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        subscription_id, receiver.secret = await subscribe(
            running, token, receiver.url, ["interaction.ended"]
        )
        one = f"/api/v1/admin/webhooks/{subscription_id}"
        status, body = await running.send("POST", f"{one}/ping", token)
        assert status == 202, body
        pinged = await receiver.next("ping")
        assert pinged["signed"] and pinged["event"] == "ping"
        assert pinged["body"]["data"] == {"subscription_id": subscription_id}
        assert pinged["delivery"] == str(body["delivery"]["delivery_id"])
        assert (await running.send("PATCH", one, token, {"enabled": False}))[0] == 200
        status, body = await running.send("POST", f"{one}/ping", token)
        assert status == 409 and "enable it first" in body["error"]["message"]
        assert (await running.send("POST", "/api/v1/admin/webhooks/999/ping", token))[0] == 404


async def test_webhook_gives_up_at_the_deadline_and_an_admin_redelivers(tmp_path: Path) -> None:
    refusing = Receiver(free_port(), fail_first=10_000, fail_status=500)
    async with hooked(tmp_path, refusing, HUB_WEBHOOKS__GIVE_UP_AFTER_S="0.5") as (
        running,
        receiver,
        token,
    ):
        subscription_id, receiver.secret = await subscribe(
            running, token, receiver.url, ["interaction.created"]
        )
        await chat(running)
        [failed] = await wait_until(
            running, token, subscription_id, lambda d: d and d[0]["status"] == "failed"
        )
        assert failed["attempts"] >= 2
        assert failed["last_http_status"] == 500
        assert failed["last_error"] == "HTTP 500 Internal Server Error: busy, come back later"
        assert failed["next_attempt_at"] is None and failed["delivered_at"] is None

        receiver.fail_first = 0  # the receiver is fixed; the admin sends it again
        path = f"/api/v1/admin/webhooks/{subscription_id}/deliveries/{failed['delivery_id']}"
        status, body = await running.send("POST", f"{path}/redeliver", token)
        assert status == 202, body
        again = await receiver.next("interaction.created")
        assert again["delivery"] == str(failed["delivery_id"])
        [delivered] = await wait_until(
            running, token, subscription_id, lambda d: d and d[0]["status"] == "delivered"
        )
        assert delivered["attempts"] == failed["attempts"] + 1
        redelivered = by_action(await entries(running, token), "webhook.redelivered")
        assert redelivered[0]["details"]["delivery_id"] == failed["delivery_id"]

        status, body = await running.send("POST", f"{path[:-1]}999/redeliver", token)
        assert status == 404, body


async def test_webhook_deliveries_pending_at_shutdown_are_sent_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, **FAST_RETRIES)
    receiver = Receiver(free_port())  # not listening yet: connections are refused
    async with serve(settings) as running:
        token = await admin(running)
        subscription_id, receiver.secret = await subscribe(
            running, token, receiver.url, ["interaction.created"]
        )
        await chat(running)
        [pending] = await wait_until(
            running, token, subscription_id, lambda d: d and d[0]["attempts"] >= 2
        )
        assert pending["status"] in ("pending", "sending")
        status, text = await scrape(f"{running.base}/metrics")
        assert status == 200 and value(parse(text), "hub_webhook_backlog") == 1
        assert "Cannot connect" in (pending["last_error"] or "") or pending["status"] == "sending"
    async with receiving(receiver), serve(settings) as restarted:
        token = await restarted.sign_in("ada@example.com")
        created = await receiver.next("interaction.created")
        assert created["delivery"] == str(pending["delivery_id"]) and created["signed"]
        [done] = await wait_until(
            restarted, token, subscription_id, lambda d: d and d[0]["status"] == "delivered"
        )
        assert done["attempts"] > pending["attempts"]
        status, text = await scrape(f"{restarted.base}/metrics")
        assert status == 200 and value(parse(text), "hub_webhook_backlog") == 0


async def test_a_slow_receiver_does_not_hold_up_the_others(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **FAST_RETRIES, HUB_WEBHOOKS__TIMEOUT_S="0.5")
    async with (
        serve(settings) as running,
        receiving(Receiver(free_port(), delay_s=30)) as slow,
        receiving(Receiver(free_port())) as quick,
    ):
        token = await admin(running)
        slow_id, slow.secret = await subscribe(running, token, slow.url, ["interaction.created"])
        _, quick.secret = await subscribe(running, token, quick.url, ["interaction.created"])
        await chat(running)
        assert (await quick.next("interaction.created"))["signed"]
        [timed_out] = await wait_until(
            running, token, slow_id, lambda d: d and d[0]["last_error"] is not None
        )
        assert timed_out["last_error"] == "no reply within 0.5 s"
        assert timed_out["last_http_status"] is None and timed_out["status"] != "delivered"


async def test_webhook_routes_are_for_admins_only_and_never_show_the_secret(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        token = await admin(running)
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        await running.add_user("al@example.com", "Al Agent", Role.AGENT)
        subscription_id, secret = await subscribe(running, token, "https://erp.example.com/h")
        assert secret.startswith("whsec_") and len(secret) > 40
        base = "/api/v1/admin/webhooks"
        one = f"{base}/{subscription_id}"
        for email in ("sue@example.com", "al@example.com"):
            other = await running.sign_in(email)
            assert (await running.get(base, other))[0] == 403
            assert (await running.get(f"{one}/deliveries", other))[0] == 403
            status, _ = await running.send("POST", base, other, {"url": "https://x.example"})
            assert status == 403
            assert (await running.send("DELETE", one, other))[0] == 403
        assert (await running.get(base))[0] == 401

        status, listing = await running.get(base, token)
        assert status == 200 and secret not in json.dumps(listing)
        [hook] = listing["webhooks"]
        assert hook["url"] == "https://erp.example.com/h" and hook["enabled"] is True
        assert "interaction.created" in listing["event_types"]
        status, got = await running.get(one, token)
        assert status == 200 and secret not in json.dumps(got)

        status, changed = await running.send(
            "PATCH", one, token, {"enabled": False, "events": ["*"], "description": "ERP"}
        )
        assert status == 200, changed
        assert changed["webhook"]["enabled"] is False and changed["webhook"]["events"] == ["*"]
        status, rotated = await running.send("POST", f"{one}/secret", token)
        assert status == 200 and rotated["secret"] != secret
        trail = json.dumps(await entries(running, token))
        assert secret not in trail and rotated["secret"] not in trail
        assert by_action(await entries(running, token), "webhook.added")

        for bad, field_name in (
            ({"url": "http://erp.example.com/h", "events": ["*"]}, "url"),
            ({"url": "https://erp.example.com/h", "events": ["order.paid"]}, "events"),
            ({"url": "https://erp.example.com/h"}, "events"),
            ({"url": "https://erp.example.com/h", "events": ["*"], "colour": 1}, "colour"),
        ):
            status, body = await running.send("POST", base, token, bad)
            assert status == 400 and field_name in body["error"]["message"], body

        assert (await running.send("DELETE", one, token))[0] == 204
        assert (await running.get(one, token))[0] == 404
        assert (await running.get(f"{one}/deliveries", token))[0] == 404


async def test_events_of_a_disabled_webhook_are_not_queued(tmp_path: Path) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        subscription_id, receiver.secret = await subscribe(running, token, receiver.url, ["*"])
        one = f"/api/v1/admin/webhooks/{subscription_id}"
        assert (await running.send("PATCH", one, token, {"enabled": False}))[0] == 200
        await chat(running)
        assert (await running.send("PATCH", one, token, {"enabled": True}))[0] == 200
        await chat(running, "Second question")
        seen = await receiver.next("message.created")
        assert seen["body"]["data"]["message"]["body"] == "Second question"
        logged = await deliveries(running, token, subscription_id)
        # The second chat's alone: its new visitor's customer, its interaction, its message.
        assert sorted(d["event_type"] for d in logged) == [
            "customer.created",
            "interaction.created",
            "message.created",
        ]


@pytest.mark.timeout(240)  # three runs of the command, each migrating first
def test_cli_webhook_add_list_remove(tmp_path: Path) -> None:
    env = hub_env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cli("webhook", *args), env=env, capture_output=True, text=True)

    added = run("add", "https://crm.example.com/in", "--event", "interaction.ended")
    assert added.returncode == 0, added.stderr
    assert "created webhook 1 for interaction.ended" in added.stdout
    secret = added.stdout.split("signing secret (shown only now): ")[1].strip()
    assert secret.startswith("whsec_")
    listed = run("list")
    assert listed.returncode == 0, listed.stderr
    assert "1\tenabled\tinteraction.ended\thttps://crm.example.com/in" in listed.stdout
    assert secret not in listed.stdout
    removed = run("remove", "1")
    assert removed.returncode == 0 and "removed webhook 1" in removed.stdout, removed.stderr


async def test_customer_changes_made_through_the_api_reach_the_integrator(tmp_path: Path) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        _, receiver.secret = await subscribe(
            running,
            token,
            receiver.url,
            ["customer.created", "customer.updated", "customer.merged"],
        )
        customers = "/api/v1/customers"
        status, body = await running.send(
            "POST",
            customers,
            token,
            {"name": "Dana Doe", "identities": [{"kind": "email", "value": "dana@example.com"}]},
        )
        assert status == 201, body
        dana = body["customer"]["customer_id"]
        created = (await receiver.next("customer.created"))["body"]["data"]
        assert created["customer"]["name"] == "Dana Doe" and created["change"] == "created"
        assert [i["value"] for i in created["customer"]["identities"]] == ["dana@example.com"]

        status, body = await running.send(
            "PATCH", f"{customers}/{dana}", token, {"tier": "important"}
        )
        assert status == 200, body
        updated = (await receiver.next("customer.updated"))["body"]["data"]
        assert updated["customer"]["tier"] == "important"
        assert updated["change"] == "profile" and updated["fields"] == ["tier"]

        status, body = await running.send("POST", customers, token, {"name": "D. Doe"})
        twin = body["customer"]["customer_id"]
        await receiver.next("customer.created")
        status, body = await running.send(
            "POST", f"{customers}/{dana}/merge", token, {"from_customer_id": twin}
        )
        assert status == 200, body
        merged = (await receiver.next("customer.merged"))["body"]["data"]
        assert merged["customer"]["customer_id"] == dana
        assert merged["merge"]["merged_id"] == twin and merged["merge"]["moved"]

        status, body = await running.send(
            "POST", f"{customers}/{dana}/erase", token, {"confirm": True}
        )
        assert status == 200, body
        erased = (await receiver.next("customer.updated"))["body"]["data"]
        assert erased["change"] == "erased" and erased["customer"]["customer_id"] == dana
        assert "Dana" not in json.dumps(erased) and "dana@example.com" not in json.dumps(erased)
        # Every delivery was signed; none was sent twice.
        assert all(seen["signed"] for seen in receiver.got)
        assert len({seen["delivery"] for seen in receiver.got}) == len(receiver.got)


async def test_a_first_chat_delivers_one_customer_created_and_the_form_an_update(
    tmp_path: Path,
) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        hook, receiver.secret = await subscribe(
            running,
            token,
            receiver.url,
            ["customer.created", "customer.updated", "message.created"],
        )
        carol, _ = await visitor(running)
        assert (await carol.call("message", {"body": "Where is my order?"}))["ok"]
        created = await receiver.next("customer.created")
        data = created["body"]["data"]
        assert created["signed"] and data["change"] == "created"
        assert [i["kind"] for i in data["customer"]["identities"]] == ["webchat"]
        customer_id = data["customer"]["customer_id"]

        # The same visitor again: their customer exists, nothing is created. Deliveries are
        # recorded in the order things happened, so once the second message's is recorded,
        # a second customer.created would have been too.
        assert (await carol.call("message", {"body": "It was due Monday"}))["ok"]
        recorded = await wait_until(
            running,
            token,
            hook,
            lambda ds: sum(d["event_type"] == "message.created" for d in ds) == 2,
        )
        assert sum(d["event_type"] == "customer.created" for d in recorded) == 1

        # The pre-chat form adds their email: an update of the same customer.
        ack = await carol.call("profile", {"name": "Carol", "email": "carol@example.com"})
        assert ack["ok"], ack
        updated = (await receiver.next("customer.updated"))["body"]["data"]
        assert updated["customer"]["customer_id"] == customer_id
        assert updated["change"] == "identities"
        assert "carol@example.com" in [i["value"] for i in updated["customer"]["identities"]]
        await carol.close()


@pytest.mark.timeout(120)  # the import runs as its own process, migrating first
async def test_a_csv_import_delivers_customer_created_from_outside_the_hub(
    tmp_path: Path,
) -> None:
    env = hub_env(tmp_path)
    same_database = {"HUB_DATABASE__URL": env["HUB_DATABASE__URL"]}
    async with hooked(tmp_path, Receiver(free_port()), **same_database) as (
        running,
        receiver,
        token,
    ):
        hook, receiver.secret = await subscribe(
            running, token, receiver.url, ["customer.created", "customer.updated"]
        )
        csv_file = tmp_path / "customers.csv"
        csv_file.write_text("name,email\nGrace Hopper,grace@example.com\n")
        done = await asyncio.to_thread(
            subprocess.run,
            cli("customers", "import", str(csv_file)),
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "imported: 1 new" in done.stdout
        # The import wrote the delivery to the hub's table; the hub posts it on its next look
        # (at most its idle wait), brought forward here.
        assert running.hub.webhooks is not None
        running.hub.webhooks.wake()
        created = await receiver.next("customer.created")
        data = created["body"]["data"]
        assert created["signed"] and data["customer"]["name"] == "Grace Hopper"
        assert [i["value"] for i in data["customer"]["identities"]] == ["grace@example.com"]
        listed = await deliveries(running, token, hook)
        assert [d["event_type"] for d in listed] == ["customer.created"]


async def test_an_email_sender_is_created_once_and_their_name_filled_in_is_an_update(
    tmp_path: Path,
) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running, receiving(Receiver(free_port())) as receiver:
            token = await admin(running)
            hook, receiver.secret = await subscribe(
                running, token, receiver.url, ["customer.created", "customer.updated"]
            )
            await send(settings, mail(sender="carol@example.org", message_id="m1@example.org"))
            created = (await receiver.next("customer.created"))["body"]["data"]
            assert created["customer"]["name"] == ""
            assert [i["value"] for i in created["customer"]["identities"]] == ["carol@example.org"]
            # Her next mail carries her name: the empty one is filled in, an update.
            named = mail(sender="Carol Customer <carol@example.org>", message_id="m2@example.org")
            await send(settings, named)
            updated = (await receiver.next("customer.updated"))["body"]["data"]
            assert updated["change"] == "profile"
            assert updated["customer"]["name"] == "Carol Customer"
            assert updated["customer"]["customer_id"] == created["customer"]["customer_id"]
            # A third changes nothing about her: no more customer events.
            await send(settings, named)
            listed = await deliveries(running, token, hook)
            assert sorted(d["event_type"] for d in listed) == [
                "customer.created",
                "customer.updated",
            ]


async def test_a_visitor_who_names_a_known_email_is_merged_into_that_customer(
    tmp_path: Path,
) -> None:
    async with hooked(tmp_path, Receiver(free_port())) as (running, receiver, token):
        _, receiver.secret = await subscribe(
            running, token, receiver.url, ["customer.created", "customer.merged"]
        )
        status, body = await running.send(
            "POST",
            "/api/v1/customers",
            token,
            {"name": "Dana Doe", "identities": [{"kind": "email", "value": "dana@example.com"}]},
        )
        assert status == 201, body
        dana = body["customer"]["customer_id"]
        await receiver.next("customer.created")
        visitor_client, _ = await visitor(running)
        assert (await visitor_client.call("message", {"body": "Hi"}))["ok"]
        anonymous = (await receiver.next("customer.created"))["body"]["data"]["customer"]
        assert anonymous["customer_id"] != dana
        # The pre-chat form names Dana's email: the visitor's record folds into hers.
        ack = await visitor_client.call("profile", {"name": "Dana", "email": "dana@example.com"})
        assert ack["ok"], ack
        merged = (await receiver.next("customer.merged"))["body"]["data"]
        assert merged["customer"]["customer_id"] == dana
        assert merged["merge"] == {"survivor_id": dana, "merged_id": anonymous["customer_id"]}
        assert "webchat" in [i["kind"] for i in merged["customer"]["identities"]]
        await visitor_client.close()
