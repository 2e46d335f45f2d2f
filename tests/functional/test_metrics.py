"""Prometheus ``/metrics`` on a real hub: what a scrape reports after chats are offered,
declined, accepted and left waiting, and who may scrape it."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.conftest import free_port, serve, settings_for
from tests.functional.test_chat_flow import agent, available, visitor

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        resp = await http.get(url, headers=headers or {})
        return resp.status, await resp.text()


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_after_a_chat_is_declined_accepted_and_another_waits(
    tmp_path: Path,
) -> None:
    # One chat each, so the second chat waits once Bob holds the first and Alice is away.
    settings = settings_for(tmp_path, HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT="1")
    async with serve(settings) as running:
        alice = await agent(running, "alice@example.com", "Alice Agent")
        bob = await agent(running, "bob@example.com", "Bob Agent")
        await available(alice)
        await available(bob)
        carol, _ = await visitor(running)
        assert (await carol.call("message", {"body": "Where is my order?"}))["ok"]
        offer = await alice.next("offer")
        iid = offer["interaction_id"]

        status, text = await scrape(f"{running.base}/metrics")
        assert status == 200, text
        offered = parse(text)
        assert value(offered, "hub_interactions", channel="webchat", state="offered") == 1
        assert value(offered, "hub_interactions", channel="webchat", state="assigned") == 0
        assert value(offered, "hub_offers_total") == 1
        assert value(offered, "hub_ingress_to_offer_seconds_count") == 1

        assert (await alice.call("decline", {"interaction_id": iid}))["ok"]
        assert (await bob.next("offer"))["interaction_id"] == iid
        assert (await bob.call("accept", {"interaction_id": iid}))["ok"]
        ack = await alice.call("set_state", {"state": "away", "reason": "break"})
        assert ack["ok"], ack
        dave, _ = await visitor(running)
        assert (await dave.call("message", {"body": "Hello?"}))["ok"]
        await dave.next("queue_position")

        status, text = await scrape(f"{running.base}/metrics")
        assert status == 200, text
        after = parse(text)
        assert value(after, "hub_interactions_created_total", channel="webchat") == 2
        assert value(after, "hub_interactions", channel="webchat", state="assigned") == 1
        assert value(after, "hub_interactions", channel="webchat", state="queued") == 1
        assert value(after, "hub_interactions", channel="webchat", state="offered") == 0
        assert value(after, "hub_offers_total") == 2  # Alice's, then Bob's
        assert value(after, "hub_offer_outcomes_total", outcome="declined") == 1
        assert value(after, "hub_offer_outcomes_total", outcome="accepted") == 1
        assert value(after, "hub_offer_outcomes_total", outcome="expired") == 0
        # The first offer only: the re-offer to Bob is not the customer's wait again.
        assert value(after, "hub_ingress_to_offer_seconds_count") == 1
        assert value(after, "hub_ingress_to_offer_seconds_bucket", le="+Inf") == 1
        assert value(after, "hub_queue_waiting", queue="support") == 1
        assert value(after, "hub_queue_longest_wait_seconds", queue="support") > 0
        assert value(after, "hub_connected_agents") == 2
        assert value(after, "hub_connected_visitors") == 2
        assert value(after, "hub_email_outbox_backlog") == 0
        assert value(after, "hub_webhook_backlog") == 0
        assert value(after, "hub_router_leader") == 1

        await carol.close()
        await dave.close()
        await alice.close()
        await bob.close()


async def test_metrics_refused_to_addresses_not_allowed_and_through_a_proxy(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        # Loopback by default, but not a request relayed by a proxy on this machine.
        assert (await scrape(f"{running.base}/metrics"))[0] == 200
        status, text = await scrape(f"{running.base}/metrics", {"X-Forwarded-For": "203.0.113.9"})
        assert status == 403 and "forbidden" in text
    async with serve(settings_for(tmp_path, HUB_METRICS__ALLOW="10.0.0.0/8")) as running:
        status, text = await scrape(f"{running.base}/metrics")
        assert status == 403 and "hub_offers_total" not in text


async def test_metrics_on_their_own_port_are_public_there_and_not_on_the_main_port(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = settings_for(tmp_path, HUB_METRICS__PORT=str(port), HUB_METRICS__ALLOW="")
    async with serve(settings) as running:
        status, text = await scrape(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "hub_router_leader 1.0" in text
        assert (await scrape(f"{running.base}/metrics"))[0] == 404
