"""Wrap-up rules: which codes a queue offers, what is accepted, when "ready" is refused."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import ConfigError, load_settings
from hub.errors import InvalidInput
from hub.wrapup import WrapUpOutcome, WrapUpRules

RULES = WrapUpRules(
    codes=("resolved", "follow_up"),
    by_queue={"sales": ("sold", "not_interested")},
    required=frozenset({"support"}),
)


@pytest.mark.parametrize(
    ("queue", "codes", "required"),
    [
        ("support", ("resolved", "follow_up"), True),
        ("sales", ("sold", "not_interested"), False),
        ("other", ("resolved", "follow_up"), False),
    ],
)
def test_wrapup_codes_and_requirement_per_queue(
    queue: str, codes: tuple[str, ...], required: bool
) -> None:
    assert RULES.codes_for(queue) == codes
    assert RULES.describe(queue) == {"dispositions": list(codes), "required": required}


@pytest.mark.parametrize(
    ("queue", "data", "expected"),
    [
        ("support", {"disposition": "resolved"}, WrapUpOutcome("resolved", None)),
        ("support", {"disposition": "", "note": "  "}, WrapUpOutcome(None, None)),
        ("sales", {"disposition": "sold", "note": " paid "}, WrapUpOutcome("sold", "paid")),
        ("support", {}, WrapUpOutcome(None, None)),
    ],
)
def test_wrapup_outcome_accepts_the_queues_codes(
    queue: str, data: dict[str, Any], expected: WrapUpOutcome
) -> None:
    assert RULES.outcome(queue, data) == expected


@pytest.mark.parametrize(
    ("queue", "data", "named"),
    [
        ("sales", {"disposition": "resolved"}, "sold, not_interested"),
        ("support", {"disposition": 3}, "resolved, follow_up"),
        ("support", {"note": "x" * 5000}, "note is 5000 bytes"),
        ("support", {"note": 5}, "note must be a string"),
        ("support", "resolved", "object"),
    ],
)
def test_wrapup_outcome_refuses_bad_input_naming_it(queue: str, data: Any, named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        RULES.outcome(queue, data)


def test_wrapup_ready_refused_only_where_required_and_missing() -> None:
    with pytest.raises(InvalidInput, match="queue support requires one"):
        RULES.check_ready("support", None)
    RULES.check_ready("support", "resolved")
    RULES.check_ready("sales", None)


def test_wrapup_config_builds_the_rules(tmp_path: Any) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "dispositions: [resolved, follow_up]\n"
        "queues:\n"
        "  - {name: support, channels: [webchat], disposition_required: true}\n"
        "  - {name: sales, channels: [webchat], dispositions: [sold]}\n"
    )
    rules = load_settings(config, {}).wrap_up_rules()
    assert rules == WrapUpRules(
        codes=("resolved", "follow_up"),
        by_queue={"sales": ("sold",)},
        required=frozenset({"support"}),
    )


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "queues:\n  - {name: support, channels: [webchat], disposition_required: true}\n",
            "queues.support.disposition_required: no disposition codes",
        ),
        (
            "dispositions: [done, done]\nqueues:\n  - {name: support, channels: [webchat]}\n",
            "dispositions: each code once; repeated: done",
        ),
        (
            "canned_responses:\n  - {shortcut: Hi There, title: t, text: x}\n",
            "canned_responses.0.shortcut",
        ),
        (
            "canned_responses:\n  - {shortcut: hi, title: t, text: x}\n"
            "  - {shortcut: hi, title: u, text: y}\n",
            "each shortcut once per language; repeated: /hi",
        ),
    ],
)
def test_wrapup_and_canned_config_mistakes_are_named(
    tmp_path: Any, yaml_text: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, {})
