"""Routing rules: compiling them from config, refusing mistakes by name, and matching in order."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import InvalidInput
from routing.expressions import ExpressionError, parse
from routing.rules import Rule, RuleError, Target, compile_rules, first_match

QUEUES = frozenset({"billing", "sales", "support"})

RAW: list[dict[str, Any]] = [
    {
        "name": "spanish billing",
        "when": 'language == "es" and subject contains "factura"',
        "priority_boost": 2,
        "targets": [
            {"queue": "billing", "requires": "billing >= 3 and lang_es >= 2", "timeout_s": 60},
            {"queue": "billing", "requires": "lang_es >= 1", "timeout_s": 120.5},
            {"queue": "support", "priority_boost": 5},
        ],
    },
    {
        "name": "vip",
        "when": 'tier == "vip"',
        "targets": [{"queue": "sales", "requires": "sales >= 4", "timeout_s": None}],
    },
    {"name": "everything else", "targets": [{"queue": "support"}]},
]


def test_compile_rules_builds_rules_in_order() -> None:
    rules = compile_rules(RAW, QUEUES)
    assert [rule.name for rule in rules] == ["spanish billing", "vip", "everything else"]
    spanish = rules[0]
    assert isinstance(spanish, Rule)
    assert spanish.when.source == 'language == "es" and subject contains "factura"'
    assert spanish.when.names == {"language", "subject"}
    assert spanish.priority_boost == 2
    assert [t.queue for t in spanish.targets] == ["billing", "billing", "support"]
    assert [t.timeout_s for t in spanish.targets] == [60.0, 120.5, None]
    assert isinstance(spanish.targets[0].timeout_s, float)
    assert [t.priority_boost for t in spanish.targets] == [0, 0, 5]
    assert spanish.targets[0].requires.names == {"billing", "lang_es"}


def test_compile_rules_fills_defaults() -> None:
    (rule,) = compile_rules([{"name": "all", "targets": [{"queue": "support"}]}], QUEUES)
    assert rule == Rule(
        name="all",
        when=parse("true"),
        targets=(Target(queue="support", requires=parse("true", missing=0), timeout_s=None),),
        priority_boost=0,
    )
    assert rule.when.evaluate({}) is True
    assert rule.targets[0].requires.evaluate({}) is True


def test_compile_rules_of_nothing_is_empty() -> None:
    assert compile_rules([], QUEUES) == ()


def test_requires_treats_a_missing_skill_as_zero() -> None:
    target = compile_rules(RAW, QUEUES)[0].targets[0]
    assert target.requires.missing == 0
    assert target.requires.evaluate({"billing": 3, "lang_es": 2}) is True
    assert target.requires.evaluate({"billing": 5}) is False
    relaxed = compile_rules(RAW, QUEUES)[0].targets[1]
    assert relaxed.requires.evaluate({"lang_es": 1}) is True
    assert (
        compile_rules(
            [{"name": "r", "targets": [{"queue": "sales", "requires": "not sales >= 1"}]}], QUEUES
        )[0]
        .targets[0]
        .requires.evaluate({})
        is True
    )


def test_when_treats_a_missing_attribute_as_none() -> None:
    vip = compile_rules(RAW, QUEUES)[1]
    assert vip.when.missing is None
    assert vip.when.evaluate({}) is False


def test_yaml_booleans_are_read_as_the_literals() -> None:
    (rule,) = compile_rules(
        [{"name": "r", "when": False, "targets": [{"queue": "sales", "requires": True}]}], QUEUES
    )
    assert rule.when.source == "false"
    assert rule.when.evaluate({}) is False
    assert rule.targets[0].requires.source == "true"


def test_rules_are_frozen() -> None:
    rule = compile_rules(RAW, QUEUES)[0]
    with pytest.raises(AttributeError):
        rule.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        rule.targets[0].queue = "sales"  # type: ignore[misc]


def _rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": "vip", "targets": [{"queue": "sales"}]}
    rule.update(overrides)
    return {key: value for key, value in rule.items() if value is not _DROP}


def _target(**overrides: Any) -> dict[str, Any]:
    target: dict[str, Any] = {"queue": "sales"}
    target.update(overrides)
    return {key: value for key, value in target.items() if value is not _DROP}


_DROP = object()

ERRORS: list[tuple[Any, str, str, str]] = [
    # (raw rules, rule label, field, problem)
    ("vip", "rules", "", "must be a list of rules, not str"),
    ({"name": "vip"}, "rules", "", "must be a list of rules, not dict"),
    (["vip"], "rules[0]", "", "must be a mapping, not str"),
    ([_rule(), None], "rules[1]", "", "must be a mapping, not NoneType"),
    ([_rule(name=_DROP)], "rules[0]", "name", "is required"),
    ([_rule(name=3)], "rules[0]", "name", "must be a string, not int"),
    ([_rule(name="  ")], "rules[0]", "name", "must not be empty"),
    ([_rule(), _rule()], 'rules[1] "vip"', "name", "duplicates the name of rules[0]"),
    (
        [_rule(colour="red")],
        'rules[0] "vip"',
        "colour",
        "unknown key (allowed: name, priority_boost, targets, when)",
    ),
    (
        [_rule(when="tier ==")],
        'rules[0] "vip"',
        "when",
        'unexpected end of expression at column 7 in "tier =="',
    ),
    ([_rule(when=1)], 'rules[0] "vip"', "when", "must be an expression string, not int"),
    ([_rule(when=None)], 'rules[0] "vip"', "when", "must be an expression string, not NoneType"),
    (
        [_rule(priority_boost="2")],
        'rules[0] "vip"',
        "priority_boost",
        "must be an integer, not str",
    ),
    (
        [_rule(priority_boost=1.5)],
        'rules[0] "vip"',
        "priority_boost",
        "must be an integer, not float",
    ),
    (
        [_rule(priority_boost=True)],
        'rules[0] "vip"',
        "priority_boost",
        "must be an integer, not bool",
    ),
    (
        [_rule(targets=_DROP)],
        'rules[0] "vip"',
        "targets",
        "is required (a list of at least one target)",
    ),
    ([_rule(targets=[])], 'rules[0] "vip"', "targets", "must list at least one target"),
    ([_rule(targets="sales")], 'rules[0] "vip"', "targets", "must be a list, not str"),
    ([_rule(targets={"queue": "sales"})], 'rules[0] "vip"', "targets", "must be a list, not dict"),
    ([_rule(targets=["sales"])], 'rules[0] "vip"', "targets[0]", "must be a mapping, not str"),
    ([_rule(targets=[_target(queue=_DROP)])], 'rules[0] "vip"', "targets[0].queue", "is required"),
    (
        [_rule(targets=[_target(queue=["sales"])])],
        'rules[0] "vip"',
        "targets[0].queue",
        "must be a string, not list",
    ),
    (
        [_rule(targets=[_target(timeout_s=5), _target(queue="marketing")])],
        'rules[0] "vip"',
        "targets[1].queue",
        "unknown queue 'marketing' (known: billing, sales, support)",
    ),
    (
        [_rule(targets=[_target(skills="billing")])],
        'rules[0] "vip"',
        "targets[0].skills",
        "unknown key (allowed: priority_boost, queue, requires, timeout_s)",
    ),
    (
        [_rule(), {"name": "spanish billing", "targets": [_target(requires="billing >")]}],
        'rules[1] "spanish billing"',
        "targets[0].requires",
        'unexpected end of expression at column 9 in "billing >"',
    ),
    (
        [_rule(targets=[_target(requires=["billing"])])],
        'rules[0] "vip"',
        "targets[0].requires",
        "must be an expression string, not list",
    ),
    (
        [_rule(targets=[_target(), _target()])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "is required on every target but the last (it says when to escalate)",
    ),
    (
        [_rule(targets=[_target(timeout_s=10), _target(timeout_s=None), _target()])],
        'rules[0] "vip"',
        "targets[1].timeout_s",
        "is required on every target but the last (it says when to escalate)",
    ),
    (
        [_rule(targets=[_target(timeout_s=0)])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be > 0 and finite, got 0",
    ),
    (
        [_rule(targets=[_target(timeout_s=-1.5)])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be > 0 and finite, got -1.5",
    ),
    (
        [_rule(targets=[_target(timeout_s=float("inf"))])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be > 0 and finite, got inf",
    ),
    (
        [_rule(targets=[_target(timeout_s=float("nan"))])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be > 0 and finite, got nan",
    ),
    (
        [_rule(targets=[_target(timeout_s="30")])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be a number, not str",
    ),
    (
        [_rule(targets=[_target(timeout_s=True)])],
        'rules[0] "vip"',
        "targets[0].timeout_s",
        "must be a number, not bool",
    ),
    (
        [_rule(targets=[_target(priority_boost="high")])],
        'rules[0] "vip"',
        "targets[0].priority_boost",
        "must be an integer, not str",
    ),
]


@pytest.mark.parametrize(("raw", "label", "field", "problem"), ERRORS)
def test_compile_rules_error_names_rule_and_field(
    raw: Any, label: str, field: str, problem: str
) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rules(raw, QUEUES)
    error = caught.value
    assert (error.rule, error.field, error.problem) == (label, field, problem)
    expected = f"{label}: {field}: {problem}" if field else f"{label}: {problem}"
    assert error.message == expected


def test_rule_error_message_matches_the_documented_shape() -> None:
    raw = [
        _rule(name="first"),
        {"name": "spanish billing", "targets": [{"queue": "billing", "requires": "billing >"}]},
    ]
    with pytest.raises(RuleError) as caught:
        compile_rules(raw, QUEUES)
    assert str(caught.value) == (
        'rules[1] "spanish billing": targets[0].requires: '
        'unexpected end of expression at column 9 in "billing >"'
    )
    assert isinstance(caught.value.__cause__, ExpressionError)
    assert caught.value.__cause__.position == 9


def test_rule_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_rules([_rule(targets=[])], QUEUES)
    assert caught.value.code == "invalid_input"
    assert caught.value.status == 400


def test_unknown_queue_with_no_queues_configured() -> None:
    with pytest.raises(RuleError, match=r"unknown queue 'sales' \(known: none\)"):
        compile_rules([_rule()], ())


# --- first_match ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"language": "es", "subject": "Mi FACTURA", "tier": "vip"}, "spanish billing"),
        ({"language": "es", "subject": "hola", "tier": "vip"}, "vip"),
        ({"language": "en", "subject": "invoice", "tier": "vip"}, "vip"),
        ({"tier": "standard"}, "everything else"),
        ({}, "everything else"),
    ],
)
def test_first_match_takes_the_first_rule_that_holds(
    attributes: dict[str, object], expected: str
) -> None:
    rule = first_match(compile_rules(RAW, QUEUES), attributes)
    assert rule is not None
    assert rule.name == expected


def test_first_match_respects_order_not_specificity() -> None:
    raw = [
        {"name": "catch-all", "targets": [{"queue": "support"}]},
        {"name": "vip", "when": 'tier == "vip"', "targets": [{"queue": "sales"}]},
    ]
    rule = first_match(compile_rules(raw, QUEUES), {"tier": "vip"})
    assert rule is not None
    assert rule.name == "catch-all"


def test_first_match_returns_none_when_no_rule_holds() -> None:
    rules = compile_rules(RAW[:2], QUEUES)
    assert first_match(rules, {"tier": "standard"}) is None
    assert first_match((), {"tier": "vip"}) is None


def test_compile_rules_takes_any_name_under_an_open_prefix_and_no_other() -> None:
    raw = [
        {"name": "big orders", "when": 'task.order_size == "big"', "targets": [{"queue": "sales"}]}
    ]
    (rule,) = compile_rules(raw, QUEUES, {"channel", "task."})
    assert first_match([rule], {"task.order_size": "big"}) is rule
    assert first_match([rule], {"channel": "api"}) is None  # missing: no match
    with pytest.raises(RuleError, match=r"unknown attribute 'task\.order_size'"):
        compile_rules(raw, QUEUES, {"channel"})
