"""Rules on what a contact came with: the site a chat started on, the visitor's language and
business hours, through a real hub with visitors and agents as Socket.IO clients."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.app import build
from hub.config import ConfigError, load_settings
from tests.functional.test_routing import first_offer, hub, no_offer, queue, write_config

AGENTS = [
    {"email": "es@example.com", "skills": {"lang_es": 5}},
    {"email": "shop@example.com", "skills": {"shop": 3}},
]


def rule(name: str, when: str, requires: str, queue_name: str = "support") -> dict[str, Any]:
    return {"name": name, "when": when, "targets": [{"queue": queue_name, "requires": requires}]}


async def test_a_visitor_browsing_in_spanish_is_offered_to_the_spanish_speaker(
    tmp_path: Path,
) -> None:
    rules = [rule("spanish browsers", 'language == "es"', "lang_es >= 3")]
    async with hub(tmp_path, routing={"rules": rules}, agents=AGENTS) as scene:
        other = await scene.agent("shop@example.com", "Shop Agent")  # idles longest
        es = await scene.agent("es@example.com", "Spanish Agent")
        _, spanish = await scene.visitor("Hello", language="es-MX")
        who, offer = await first_offer([other, es])
        assert who is es and offer["conversation_id"] == spanish
        # The same words from an English browser go to whoever idles longest.
        _, english = await scene.visitor("Hello", language="en-GB")
        who, offer = await first_offer([other, es])
        assert who is other and offer["conversation_id"] == english


async def test_chats_from_one_shop_go_to_that_shops_team(tmp_path: Path) -> None:
    rules = [rule("shop site", 'address == "shop.example.com"', "shop >= 1")]
    async with hub(tmp_path, routing={"rules": rules}, agents=AGENTS) as scene:
        es = await scene.agent("es@example.com", "Spanish Agent")  # idles longest
        shop = await scene.agent("shop@example.com", "Shop Agent")
        _, from_shop = await scene.visitor("Where is my parcel?", site="Shop.Example.com")
        who, offer = await first_offer([es, shop])
        assert who is shop and offer["conversation_id"] == from_shop
        # Another site, or a malformed hint (ignored, never refused), matches no rule.
        _, elsewhere = await scene.visitor("Hi", site="<script>")
        who, offer = await first_offer([es, shop])
        assert who is es and offer["conversation_id"] == elsewhere


def hours(weekly: dict[str, str], holidays: list[str] | None = None) -> dict[str, Any]:
    return {"timezone": "Europe/Madrid", "weekly": weekly, "holidays": holidays or []}


async def test_out_of_hours_chats_go_to_the_night_queue(tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo("Europe/Madrid")).date().isoformat()
    extra = {
        "business_hours": {
            "default": hours({"mon-sun": "00:00-24:00"}, holidays=[today]),  # closed today
            "night": hours({"mon-sun": "00:00-24:00"}),  # always open
        }
    }
    rules = [
        {"name": "after hours", "when": "not in_hours", "targets": [{"queue": "night"}]},
    ]
    queues = [queue(), queue("night")]
    async with hub(tmp_path, queues=queues, routing={"rules": rules}, extra=extra) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        await scene.visitor("Anyone there?")
        offer = await ann.offer()
        assert offer["queue"] == "night", offer


async def test_in_hours_chats_stay_in_their_queue(tmp_path: Path) -> None:
    extra = {"business_hours": {"default": hours({"mon-sun": "00:00-24:00"})}}
    rules = [
        {"name": "after hours", "when": "not in_hours", "targets": [{"queue": "night"}]},
        {"name": "night line", "when": "in_hours_night", "targets": [{"queue": "night"}]},
    ]
    extra["business_hours"]["night"] = hours({"mon-sun": "closed"})
    queues = [queue(), queue("night")]
    async with hub(tmp_path, queues=queues, routing={"rules": rules}, extra=extra) as scene:
        ann = await scene.agent("ann@example.com", "Ann")
        await scene.visitor("Hello")
        offer = await ann.offer()
        assert offer["queue"] == "support", offer
        await no_offer(ann, within=0.2)


@pytest.mark.parametrize(
    ("when", "named"),
    [
        ('teir == "important"', "unknown attribute 'teir'"),
        ("in_hours_weekend", "unknown attribute 'in_hours_weekend'"),
    ],
)
def test_a_rule_naming_an_unknown_attribute_stops_start_up(
    tmp_path: Path, when: str, named: str
) -> None:
    path = tmp_path / "config.yaml"
    write_config(
        path, routing={"rules": [{"name": "typo", "when": when, "targets": [{"queue": "support"}]}]}
    )
    settings = load_settings(path, {"HUB_SECURITY__SECRET_KEY": "k" * 32})
    with pytest.raises(ConfigError) as raised:
        build(settings)
    assert 'rules[0] "typo": when:' in str(raised.value) and named in str(raised.value)


def test_bad_business_hours_stop_start_up_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    write_config(path, extra={"business_hours": {"default": hours({"mon-fri": "9-17"})}})
    with pytest.raises(ConfigError) as raised:
        load_settings(path, {})
    message = str(raised.value)
    assert "business_hours.default.weekly.mon-fri" in message and "'9-17'" in message, message
