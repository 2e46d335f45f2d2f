"""The voice channel's pure parts: menu paths, choices by key or by voice, what a waiting
caller hears, webhook forms refused whole; and the README's voice configuration loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from channels.twilio.voice import (
    choose,
    join_path,
    menu_at,
    menu_text,
    parse_incoming,
    parse_status,
    position_text,
)
from hub.config import ConfigError, IvrMenu, load_settings
from hub.errors import InvalidInput

ENV = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "secret-token-123"}
README = Path(__file__).parents[2] / "README.md"
MENU = IvrMenu.model_validate(
    {
        "prompt": "Please choose.",
        "choices": [
            {"key": "1", "say": "For sales", "words": ["sales", "buy"], "queue": "sales"},
            {
                "key": "2",
                "say": "For support",
                "words": ["support"],
                "menu": {"choices": [{"key": "#", "say": "For an operator", "queue": "ops"}]},
            },
        ],
    }
)


@pytest.mark.parametrize(
    ("digits", "speech", "queue_or_menu"),
    [
        ("1", None, "sales"),
        ("2", None, "menu"),
        ("9", None, None),
        (None, "I'd like to BUY something", "sales"),
        (None, "support please", "menu"),
        (None, "two", None),  # not a configured word
        (None, "salesman", None),  # whole words only
        (None, None, None),
    ],
)
def test_voice_choose_by_key_or_word(
    digits: str | None, speech: str | None, queue_or_menu: str | None
) -> None:
    choice = choose(MENU, digits, speech)
    found = None if choice is None else (choice.queue or "menu")
    assert found == queue_or_menu


def test_voice_menu_paths() -> None:
    assert menu_at(MENU, "") is MENU
    assert menu_at(MENU, join_path("", "2")).choices[0].queue == "ops"
    assert join_path("2", "#") == "2.#"
    for bad in ("1", "3", "2.#", "2..1", "x"):
        with pytest.raises(InvalidInput):
            menu_at(MENU, bad)
    assert menu_text(menu_at(MENU, "2")) == "For an operator, press pound."


@pytest.mark.parametrize(
    ("position", "wait_s", "said"),
    [
        (None, None, "Please hold, we are connecting you."),
        (1, None, "You are next in line."),
        (3, None, "You are number 3 in the queue."),
        (3, 20.0, "You are number 3 in the queue. The estimated wait is about 1 minute."),
        (5, 290.0, "You are number 5 in the queue. The estimated wait is about 5 minutes."),
    ],
)
def test_voice_position_announcement(position: int | None, wait_s: float | None, said: str) -> None:
    assert position_text(position, wait_s) == said


def test_voice_forms_are_checked_whole() -> None:
    sid = "CA" + "a" * 32
    call = parse_incoming({"CallSid": sid, "From": "(415) 555-0123", "To": "+14155550100"})
    assert (call.customer_number, call.hub_number) == ("+14155550123", "+14155550100")
    withheld = parse_incoming({"CallSid": sid, "From": "anonymous", "To": "+14155550100"})
    assert withheld.customer_number == "anonymous"
    with pytest.raises(InvalidInput, match="CallSid"):
        parse_incoming({"CallSid": "nope", "From": "+14155550123", "To": "+14155550100"})
    with pytest.raises(InvalidInput, match="CallStatus"):
        parse_status({"CallSid": sid, "CallStatus": "exploded"})
    with pytest.raises(InvalidInput, match="CallDuration"):
        parse_status({"CallSid": sid, "CallStatus": "completed", "CallDuration": "-3"})


def test_voice_readme_configuration_loads(tmp_path: Path) -> None:
    text = README.read_text()
    section = text[text.index("**Voice.**") : text.index("**Fallback.**")]
    voice, browser = (yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S))
    data = voice
    data["queues"].append({"name": "support", "channels": ["webchat"]})
    data["twilio"] |= browser["twilio"]  # the browser phone's lines
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    settings = load_settings(path, ENV)
    assert settings.agent_phone("alice@example.com") == "+14155550177"
    assert settings.record_calls("calls") and not settings.record_calls("sales")
    assert settings.twilio.ivr.menu is not None
    assert settings.twilio.browser_phone_missing() == [
        "TWILIO_API_KEY_SID",
        "TWILIO_API_KEY_SECRET",
    ]
    keys = {"TWILIO_API_KEY_SID": "SK" + "5" * 32, "TWILIO_API_KEY_SECRET": "s" * 32}
    assert load_settings(path, ENV | keys).twilio.browser_phone_missing() == []


def test_voice_ivr_queue_must_take_calls(tmp_path: Path) -> None:
    data = {
        "queues": [{"name": "support", "channels": ["webchat", "sms"]}],
        "twilio": {
            "public_url": "https://hub.example.com",
            "numbers": [{"number": "+14155550100", "purposes": ["sms"], "queue": "support"}],
            "ivr": {"menu": {"choices": [{"key": "1", "say": "Sales", "queue": "support"}]}},
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"twilio.ivr.menu.choices.0.queue"):
        load_settings(path, ENV)
