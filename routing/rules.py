"""Routing rules: which queue an interaction goes to and which agents may take it (pure).

Theory of operation
-------------------
Rules work like a TaskRouter workflow. They are tried in order; the first whose ``when``
(an attribute expression, see ``routing.expressions``) holds for the interaction's attributes
decides its targets, and later rules are not consulted. Each target names a queue and a skill
requirement (``requires``, parsed with ``missing=0``: an agent without a skill has proficiency
0). The interaction waits on the first target until its ``timeout_s`` passes with no agent
taking it, then escalates to the next target, and so on; the last target may have no timeout
and then holds it for good. A rule's ``priority_boost`` and the current target's add to the
queue's priority. No rule matching means the interaction stays in the queue it came in on,
with no skill requirement beyond that queue's own.

Invariants of a compiled rule set (``compile_rules`` refuses anything else, whole, with a
``RuleError`` naming the rule, the field and the problem):

- rule names are non-empty and unique;
- every rule has at least one target, and every target's queue is a configured queue;
- every target except the last has a finite timeout > 0;
- every expression parsed, and no mapping had a key it does not know;
- when the caller names the attributes interactions carry, a ``when`` uses no other name.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from hub.errors import InvalidInput
from routing.expressions import Expression, ExpressionError, parse

RULE_KEYS = frozenset({"name", "when", "priority_boost", "targets"})
TARGET_KEYS = frozenset({"queue", "requires", "timeout_s", "priority_boost"})


@dataclass(frozen=True, slots=True)
class Target:
    """One step of escalation: wait in ``queue`` for an agent matching ``requires``."""

    queue: str
    requires: Expression
    timeout_s: float | None  # None: wait here for good (only the last target)
    priority_boost: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: Expression
    targets: tuple[Target, ...]
    priority_boost: int = 0


class RuleError(InvalidInput):
    """A raw rule is invalid; ``rule`` labels it (``rules[1] "vip"``), ``field`` is the path."""

    def __init__(self, rule: str, field: str, problem: str) -> None:
        super().__init__(f"{rule}: {field}: {problem}" if field else f"{rule}: {problem}")
        self.rule = rule
        self.field = field
        self.problem = problem


def _unknown(names: Collection[str], attributes: Collection[str]) -> set[str]:
    """``names`` that are not attributes; an attribute ending in "." stands for every name it
    starts (``task.``: whatever a task's caller sent)."""
    prefixes = tuple(a for a in attributes if a.endswith("."))
    return {n for n in names if n not in attributes and not n.startswith(prefixes)}


def compile_rules(
    raw: Sequence[Mapping[str, object]],
    queues: Collection[str],
    attributes: Collection[str] | None = None,
) -> tuple[Rule, ...]:
    """Validate and compile raw rules (as loaded from config) against the known queue names
    and, when given, the attribute names a ``when`` may use (so a typo stops start-up)."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise RuleError("rules", "", f"must be a list of rules, not {type(raw).__name__}")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        rule = _compile_rule(index, item, queues, seen)
        unknown = sorted(_unknown(rule.when.names, attributes)) if attributes is not None else []
        if unknown:
            raise RuleError(
                f'rules[{index}] "{rule.name}"',
                "when",
                f"unknown attribute '{unknown[0]}' (known: {', '.join(sorted(attributes or ()))})",
            )
        seen[rule.name] = index
        rules.append(rule)
    return tuple(rules)


def first_match(rules: Sequence[Rule], attributes: Mapping[str, object]) -> Rule | None:
    """The first rule whose ``when`` holds for ``attributes``, or None if none does."""
    for rule in rules:
        if rule.when.evaluate(attributes):
            return rule
    return None


def _compile_rule(
    index: int, item: object, queues: Collection[str], seen: Mapping[str, int]
) -> Rule:
    label = f"rules[{index}]"
    if not isinstance(item, Mapping):
        raise RuleError(label, "", f"must be a mapping, not {type(item).__name__}")
    name = item.get("name")
    if isinstance(name, str) and name.strip():
        label = f'{label} "{name}"'
    _refuse_unknown_keys(label, "", item, RULE_KEYS)
    if "name" not in item:
        raise RuleError(label, "name", "is required")
    if not isinstance(name, str):
        raise RuleError(label, "name", f"must be a string, not {type(name).__name__}")
    if not name.strip():
        raise RuleError(label, "name", "must not be empty")
    if name in seen:
        raise RuleError(label, "name", f"duplicates the name of rules[{seen[name]}]")

    when = _expression(label, "when", item.get("when", "true"), missing=None)
    boost = _integer(label, "priority_boost", item.get("priority_boost", 0))

    raw_targets = item.get("targets")
    if raw_targets is None:
        raise RuleError(label, "targets", "is required (a list of at least one target)")
    if isinstance(raw_targets, str | bytes | Mapping) or not isinstance(raw_targets, Sequence):
        raise RuleError(label, "targets", f"must be a list, not {type(raw_targets).__name__}")
    if not raw_targets:
        raise RuleError(label, "targets", "must list at least one target")
    last = len(raw_targets) - 1
    targets = tuple(
        _compile_target(label, f"targets[{i}]", raw_target, queues, is_last=i == last)
        for i, raw_target in enumerate(raw_targets)
    )
    return Rule(name=name, when=when, targets=targets, priority_boost=boost)


def _compile_target(
    label: str, path: str, item: object, queues: Collection[str], *, is_last: bool
) -> Target:
    if not isinstance(item, Mapping):
        raise RuleError(label, path, f"must be a mapping, not {type(item).__name__}")
    _refuse_unknown_keys(label, path, item, TARGET_KEYS)

    queue = item.get("queue")
    if queue is None:
        raise RuleError(label, f"{path}.queue", "is required")
    if not isinstance(queue, str):
        raise RuleError(label, f"{path}.queue", f"must be a string, not {type(queue).__name__}")
    if queue not in queues:
        known = ", ".join(sorted(queues)) or "none"
        raise RuleError(label, f"{path}.queue", f"unknown queue '{queue}' (known: {known})")

    requires = _expression(label, f"{path}.requires", item.get("requires", "true"), missing=0)

    timeout = item.get("timeout_s")
    if timeout is None:
        if not is_last:
            raise RuleError(
                label,
                f"{path}.timeout_s",
                "is required on every target but the last (it says when to escalate)",
            )
    elif isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise RuleError(
            label, f"{path}.timeout_s", f"must be a number, not {type(timeout).__name__}"
        )
    elif not (math.isfinite(timeout) and timeout > 0):
        raise RuleError(label, f"{path}.timeout_s", f"must be > 0 and finite, got {timeout}")

    boost = _integer(label, f"{path}.priority_boost", item.get("priority_boost", 0))
    return Target(
        queue=queue,
        requires=requires,
        timeout_s=None if timeout is None else float(timeout),
        priority_boost=boost,
    )


def _refuse_unknown_keys(
    label: str, path: str, item: Mapping[object, object], allowed: frozenset[str]
) -> None:
    unknown = [key for key in item if key not in allowed]
    if unknown:
        prefix = f"{path}." if path else ""
        raise RuleError(
            label,
            f"{prefix}{unknown[0]}",
            f"unknown key (allowed: {', '.join(sorted(allowed))})",
        )


def _expression(label: str, path: str, value: object, *, missing: object) -> Expression:
    if isinstance(value, bool):  # YAML reads an unquoted `when: true` as a boolean
        value = "true" if value else "false"
    if not isinstance(value, str):
        raise RuleError(label, path, f"must be an expression string, not {type(value).__name__}")
    try:
        return parse(value, missing=missing)
    except ExpressionError as error:
        raise RuleError(label, path, error.message) from error


def _integer(label: str, path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(label, path, f"must be an integer, not {type(value).__name__}")
    return value
