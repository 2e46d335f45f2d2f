"""The expression language: what parses, what it means, and how it refuses bad input."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hub.errors import InvalidInput
from hub.model import Channel
from routing.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    TRUE,
    Expression,
    ExpressionError,
    parse,
)

# --- attribute mode (missing names are None) --------------------------------------------

WEB_REFUND = {
    "channel": "webchat",
    "tier": "standard",
    "subject": "Where is my REFUND?",
    "in_business_hours": False,
    "wait_s": 42,
    "score": 2.5,
}
ROUTING_FILTER = (
    'channel == "webchat" and (tier == "important" or subject contains "refund")'
    " and not in_business_hours"
)


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("true", {}, True),
        ("false", {}, False),
        (ROUTING_FILTER, WEB_REFUND, True),
        (ROUTING_FILTER, {**WEB_REFUND, "in_business_hours": True}, False),
        (ROUTING_FILTER, {**WEB_REFUND, "subject": "hello"}, False),
        (ROUTING_FILTER, {**WEB_REFUND, "subject": "hello", "tier": "important"}, True),
        (ROUTING_FILTER, {**WEB_REFUND, "channel": "email"}, False),
        ('channel == "webchat"', {"channel": Channel.WEBCHAT}, True),
        ('channel != "email"', {"channel": Channel.WEBCHAT}, True),
        ("wait_s > 30", WEB_REFUND, True),
        ("wait_s >= 42", WEB_REFUND, True),
        ("wait_s < 42", WEB_REFUND, False),
        ("wait_s <= 42", WEB_REFUND, True),
        ("wait_s == 42.0", WEB_REFUND, True),
        ("score > 2", WEB_REFUND, True),
        ("score < 2.51", WEB_REFUND, True),
        ("30 < wait_s", WEB_REFUND, True),
        ("42 <= wait_s", WEB_REFUND, True),
        ("43 <= wait_s", WEB_REFUND, False),
        ("delta > -5", {"delta": -3}, True),
        ("delta < -5", {"delta": -3}, False),
        ('tier < "z"', WEB_REFUND, True),
        ("wait_s > score", WEB_REFUND, True),
        ("wait_s == score", WEB_REFUND, False),
        ("in_business_hours == false", WEB_REFUND, True),
        ("in_business_hours != true", WEB_REFUND, True),
        ("in_business_hours", WEB_REFUND, False),
        ("wait_s", WEB_REFUND, True),
        ("zero", {"zero": 0}, False),
        ("empty", {"empty": ""}, False),
        ("tags", {"tags": ["vip"]}, True),
        ("1", {}, True),
        ("0", {}, False),
        ('""', {}, False),
        ("'x'", {}, True),
        ("1 < 2", {}, True),
        ("customer.tier == 'vip'", {"customer.tier": "vip"}, True),
        ("x == 'it\\'s'", {"x": "it's"}, True),
        ('x == "say \\"hi\\""', {"x": 'say "hi"'}, True),
        ('x == "a\\\\b"', {"x": "a\\b"}, True),
        ('x == "line\\nbreak\\ttab\\r"', {"x": "line\nbreak\ttab\r"}, True),
        ("x == 'naïve ☕'", {"x": "naïve ☕"}, True),
        ("\tx\n==\r\n1 ", {"x": 1}, True),
    ],
)
def test_evaluate_attribute_truth_table(
    source: str, values: dict[str, Any], expected: bool
) -> None:
    assert parse(source).evaluate(values) is expected


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ('queue in ["billing", "sales"]', {"queue": "sales"}, True),
        ('queue in ["billing", "sales"]', {"queue": "support"}, False),
        ('queue in ["billing", "sales"]', {"queue": Channel.EMAIL}, False),
        ('channel in ["webchat", "sms"]', {"channel": Channel.WEBCHAT}, True),
        ("queue in []", {"queue": "sales"}, False),
        ("n in [1, 2, 3,]", {"n": 2}, True),
        ("n in [1, 2, 3]", {"n": 2.0}, True),
        ("n in [1, 2, 3]", {"n": True}, False),  # a boolean is not the number 1
        ("flag in [true]", {"flag": True}, True),
        ("flag in [true]", {"flag": 1}, False),
        ('n in ["1"]', {"n": 1}, False),
        ("n in [1.5, 'x']", {"n": "x"}, True),
        ('queue in ["billing"]', {}, False),
        ('not queue in ["billing"]', {}, True),
        ('"a" in ["a"]', {}, True),
        ('subject contains "refund"', {"subject": "Refund please"}, True),
        ('subject contains "REFUND"', {"subject": "my refund"}, True),
        ('subject contains "Straße"', {"subject": "STRASSE 1"}, True),
        ('subject contains "refund"', {"subject": "money back"}, False),
        ('subject contains ""', {"subject": "anything"}, True),
        ('subject contains "1"', {"subject": 123}, False),
        ("subject contains 1", {"subject": "123"}, False),
        ('subject contains "refund"', {}, False),
        ("subject contains word", {"subject": "Big Refund", "word": "REFUND"}, True),
        ("subject contains word", {"subject": "Big Refund"}, False),
        ('channel contains "CHAT"', {"channel": Channel.WEBCHAT}, True),
        ('"Refund now" contains "refund"', {}, True),
    ],
)
def test_evaluate_in_and_contains(source: str, values: dict[str, Any], expected: bool) -> None:
    assert parse(source).evaluate(values) is expected


@pytest.mark.parametrize(
    "source",
    [
        'tier == "vip"',
        'tier != "vip"',  # SQL-like: a missing attribute is not unequal either
        "tier < 3",
        "tier >= 0",
        'tier contains "v"',
        "tier == false",
        "tier",
        "tier == other",
        "tier != other",
    ],
)
def test_missing_attribute_is_none_and_makes_comparisons_false(source: str) -> None:
    expression = parse(source)
    assert expression.evaluate({}) is False
    assert expression.evaluate({"tier": None, "other": None}) is False


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("billing >= 3", {}, False),
        ("billing >= 0", {}, True),
        ("billing == 0", {}, True),
        ("billing < 1", {}, True),
        ("billing", {}, False),
        ("not billing", {}, True),
        ("billing >= 3 and lang_es >= 2", {"billing": 3, "lang_es": 2}, True),
        ("billing >= 3 and lang_es >= 2", {"billing": 5}, False),
        ("billing >= 3 or lang_es >= 2", {"lang_es": 4}, True),
        ("billing >= 3", {"billing": 2.5}, False),
        ("billing > 2", {"billing": 2.5}, True),
    ],
)
def test_missing_skill_is_zero(source: str, values: dict[str, Any], expected: bool) -> None:
    assert parse(source, missing=0).evaluate(values) is expected


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ('"a" < 3', {}),
        ("x < 3", {"x": "a"}),
        ("x == 3", {"x": "3"}),
        ("x != 3", {"x": "3"}),  # a mismatch is False whatever the operator
        ("x >= 1", {"x": True}),  # booleans are not numbers
        ("x == 1", {"x": True}),
        ("x == true", {"x": 1}),
        ("x < true", {"x": False}),  # booleans are never ordered
        ("true > false", {}),
        ("x > 1", {"x": [2]}),
        ("x == 'a'", {"x": ["a"]}),
        ("x > 1", {"x": {"a": 1}}),
        ("x > 1", {"x": object()}),
        ("x > y", {"x": 1, "y": "2"}),
        ("x == y", {"x": None, "y": None}),
        ("x > 1", {"x": float("nan")}),
        ("x contains 'a'", {"x": ["a"]}),
        ("x in [1]", {"x": [1]}),
    ],
)
def test_type_mismatch_is_false_not_an_error(source: str, values: dict[str, Any]) -> None:
    assert parse(source).evaluate(values) is False


class _Unhelpful:
    """A value that refuses every question; evaluation must shrug it off."""

    def __bool__(self) -> bool:
        raise RuntimeError("no")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no")

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "source", ["x", "x == 1", "x != 'a'", "x > 1", "x in [1]", "x contains 'a'", "not x"]
)
def test_evaluate_survives_hostile_values(source: str) -> None:
    assert isinstance(parse(source).evaluate({"x": _Unhelpful()}), bool)


# --- precedence -------------------------------------------------------------------------

PRECEDENCE = [
    ("a or b and c", lambda a, b, c: a or (b and c)),
    ("a and b or c", lambda a, b, c: (a and b) or c),
    ("not a and b", lambda a, b, c: (not a) and b),
    ("not a or b", lambda a, b, c: (not a) or b),
    ("a or not b and c", lambda a, b, c: a or ((not b) and c)),
    ("not (a or b) and c", lambda a, b, c: (not (a or b)) and c),
    ("(a or b) and c", lambda a, b, c: (a or b) and c),
    ("not not a", lambda a, b, c: a),
    ("a and b and c", lambda a, b, c: a and b and c),
    ("a or b or c", lambda a, b, c: a or b or c),
    ("a or b or c or a and b and c", lambda a, b, c: a or b or c),
    ("a and b and c and not a", lambda a, b, c: False),
    ("a == true and b == false or c", lambda a, b, c: (a and not b) or c),
    ("not a == true", lambda a, b, c: not a),
]


@pytest.mark.parametrize(("source", "meaning"), PRECEDENCE)
def test_precedence_not_over_and_over_or(source: str, meaning: Any) -> None:
    expression = parse(source)
    for a, b, c in itertools.product([False, True], repeat=3):
        values = {"a": a, "b": b, "c": c}
        assert expression.evaluate(values) is bool(meaning(a, b, c)), values


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true and false", False),
        ("true or false", True),
        ("not true", False),
        ("not false and x", False),
        ("false or x", False),
        ("true or x", True),
        ("x or true", True),
        ("x and false", False),
    ],
)
def test_constant_branches_fold_but_keep_meaning(source: str, expected: bool) -> None:
    assert parse(source).evaluate({}) is expected


# --- the Expression object --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("true", set()),
        ('"billing" == "billing"', set()),
        ("billing >= 3 and lang_es >= 2", {"billing", "lang_es"}),
        (ROUTING_FILTER, {"channel", "tier", "subject", "in_business_hours"}),
        ("x or true", {"x"}),  # named even where it can never decide the result
        ("a > b", {"a", "b"}),
        ("customer.tier in ['vip']", {"customer.tier"}),
        ("android and order and notes and inbox", {"android", "order", "notes", "inbox"}),
    ],
)
def test_names_lists_every_name_referenced(source: str, names: set[str]) -> None:
    assert parse(source).names == frozenset(names)


def test_expression_keeps_source_and_missing() -> None:
    skill = parse("billing >= 3", missing=0)
    assert skill.source == "billing >= 3"
    assert str(skill) == "billing >= 3"
    assert skill.missing == 0
    assert skill == parse("billing >= 3", missing=0)
    assert skill != parse("billing >= 3")
    assert hash(skill) == hash(parse("billing >= 3", missing=0))


def test_expression_is_frozen() -> None:
    with pytest.raises(AttributeError):
        TRUE.source = "false"  # type: ignore[misc]


def test_true_constant_always_holds() -> None:
    assert isinstance(TRUE, Expression)
    assert TRUE.source == "true"
    assert TRUE.names == frozenset()
    assert TRUE.evaluate({}) is True
    assert TRUE.evaluate({"anything": None}) is True


def test_evaluate_accepts_any_mapping() -> None:
    from types import MappingProxyType

    assert parse("billing >= 3", missing=0).evaluate(MappingProxyType({"billing": 3})) is True


# --- errors -----------------------------------------------------------------------------

MALFORMED = [
    # (source, column, problem)
    ("billing >= 3)", 12, "unexpected ')'"),
    ("(billing >= 3", 13, "expected ')', found end of expression"),
    ("((a) or b", 9, "expected ')', found end of expression"),
    ("(a or b))", 8, "unexpected ')'"),
    ("()", 1, "unexpected ')'"),
    ("billing >= 3 and", 16, "unexpected end of expression"),
    ("billing >= 3 or ", 16, "unexpected end of expression"),
    ("not", 3, "unexpected end of expression"),
    ("billing >", 9, "unexpected end of expression"),
    ("channel ==", 10, "unexpected end of expression"),
    ("channel == )", 11, "unexpected ')'"),
    ("== 'webchat'", 0, "unexpected '=='"),
    ("x == or", 5, "unexpected keyword 'or'"),
    ("billing >= 3 & lang_es", 13, "unexpected '&' (use 'and')"),
    ("a || b", 2, "unexpected '|' (use 'or')"),
    ("!a", 0, "unexpected '!' (use 'not', or '!=' to compare)"),
    ("a = 1", 2, "unexpected '=' (use '==' to compare)"),
    ("a $ b", 2, "unexpected '$'"),
    ("x == 1.", 6, "unexpected '.'"),
    ("x == .5", 5, "unexpected '.'"),
    ("x - 1", 2, "unexpected '-'"),
    ("x\x00", 1, "unexpected '\\x00'"),
    ("3abc", 1, "unexpected 'abc'"),
    ("a b", 2, "unexpected 'b'"),
    ("a < b < c", 6, "unexpected '<'"),
    ('subject contains "refund', 17, "unterminated string"),
    ("x == 'it\\'s", 5, "unterminated string"),
    ('x == "trailing\\', 5, "unterminated string"),
    ('x == "a\\qb"', 7, "unknown escape '\\q'"),
    ("and >= 3", 0, "unexpected keyword 'and'"),
    ("billing >= 3 and or", 17, "unexpected keyword 'or'"),
    ("in == 1", 0, "unexpected keyword 'in'"),
    ("contains", 0, "unexpected keyword 'contains'"),
    ("not == 1", 4, "unexpected '=='"),
    ("x in y", 5, "expected '[' after 'in', found 'y'"),
    ("x in", 4, "expected '[' after 'in', found end of expression"),
    ("x in [1, 2", 10, "unexpected end of expression"),
    ("x in [1 2]", 8, "unexpected '2'"),
    ("x in [y]", 6, "unexpected 'y' (list items must be literals)"),
    ("x in [[1]]", 6, "unexpected '['"),
    ("x in [,]", 6, "unexpected ','"),
    ("True", 0, "'True' is not allowed as a name; keywords are lowercase ('true')"),
    ("a AND b", 2, "'AND' is not allowed as a name; keywords are lowercase ('and')"),
    ("Not a", 0, "'Not' is not allowed as a name; keywords are lowercase ('not')"),
    ("", 0, "empty expression"),
    ("   ", 3, "empty expression"),
    ("__import__('os').system('id')", 10, "unexpected '('"),
    ("a.b()", 3, "unexpected '('"),
    ("x[0]", 1, "unexpected '['"),
    ("x, y", 1, "unexpected ','"),
    ("a ) & b", 2, "unexpected ')'"),  # the leftmost fault is the one reported
    ("a & b )", 2, "unexpected '&' (use 'and')"),
    ("(a 'open", 3, "unterminated string"),
]


@pytest.mark.parametrize(("source", "column", "problem"), MALFORMED)
def test_malformed_input_names_the_column(source: str, column: int, problem: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    error = caught.value
    assert error.position == column
    assert error.problem == problem
    assert error.message == f'{problem} at column {column} in "{source}"'
    assert str(error) == error.message


def test_error_message_matches_the_documented_shape() -> None:
    with pytest.raises(
        ExpressionError, match=r'^unexpected end of expression at column 9 in "billing >"$'
    ):
        parse("billing >")


def test_expression_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("billing >= 3)")
    assert caught.value.code == "invalid_input"
    assert caught.value.to_dict() == {
        "error": {
            "code": "invalid_input",
            "message": "unexpected ')' at column 12 in \"billing >= 3)\"",
        }
    }


def test_length_limit() -> None:
    longest = "x == " + "1" * (MAX_LENGTH - 5)
    assert parse(longest).evaluate({"x": int("1" * (MAX_LENGTH - 5))}) is True
    with pytest.raises(ExpressionError) as caught:
        parse(longest + "1")
    assert caught.value.position == MAX_LENGTH
    assert caught.value.problem == (
        f"expression is {MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}"
    )
    assert len(caught.value.message) < 200  # the whole source is not echoed back


@pytest.mark.parametrize(
    ("nest", "column_of_fault"),
    [
        (lambda depth: "(" * depth + "a" + ")" * depth, lambda depth: depth - 1),
        (lambda depth: "not " * depth + "a", lambda depth: 4 * (depth - 1)),
        (lambda depth: "(not " * (depth // 2) + "a" + ")" * (depth // 2), None),
    ],
    ids=["parentheses", "not", "mixed"],
)
def test_depth_limit(nest: Any, column_of_fault: Any) -> None:
    assert parse(nest(MAX_DEPTH)).evaluate({"a": True}) in (True, False)
    deeper = MAX_DEPTH + 1 if column_of_fault else MAX_DEPTH + 2
    with pytest.raises(ExpressionError) as caught:
        parse(nest(deeper))
    assert caught.value.problem == f"expression nests deeper than {MAX_DEPTH} levels"
    if column_of_fault:
        assert caught.value.position == column_of_fault(deeper)


def test_wide_expressions_are_not_deep() -> None:
    wide = " and ".join(f"s{i} >= 1" for i in range(60))
    expression = parse(wide, missing=0)
    assert expression.evaluate({f"s{i}": 1 for i in range(60)}) is True
    assert expression.evaluate({f"s{i}": 1 for i in range(59)}) is False


def test_non_string_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be a string, not int"):
        parse(3)  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "billing", "customer.tier", "_x9"])


def _quote(text: str) -> str:
    quote = '"' if "'" in text else "'"
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


LITERALS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]}"),
    st.text(max_size=8).map(_quote),
    st.sampled_from(["true", "false"]),
)
OPERANDS = st.one_of(NAMES, LITERALS)
COMPARISONS = st.one_of(
    OPERANDS,
    st.tuples(OPERANDS, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), OPERANDS).map(
        " ".join
    ),
    st.tuples(OPERANDS, st.lists(LITERALS, max_size=2)).map(
        lambda p: f"{p[0]} in [{', '.join(p[1])}]"
    ),
    st.tuples(OPERANDS, OPERANDS).map(lambda p: f"{p[0]} contains {p[1]}"),
)
EXPRESSIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"{p[0]} and {p[1]}"),
        st.tuples(inner, inner).map(lambda p: f"{p[0]} or {p[1]}"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=6,
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(list(Channel)),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.binary(max_size=4),
)
MAPPINGS = st.dictionaries(NAMES, VALUES)
GRAMMAR_SOUP = st.lists(
    st.sampled_from(
        [*"ab_.019-()[],=!<>\"'\\ \t\n&$", "and ", "or ", "not ", " in ", " contains ", "true"]
    ),
    max_size=40,
).map("".join)


@given(source=st.one_of(st.text(max_size=80), GRAMMAR_SOUP, st.text(min_size=990, max_size=1010)))
def test_parse_only_ever_raises_expression_error(source: str) -> None:
    try:
        expression = parse(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source)
        assert f"at column {error.position}" in error.message
    else:
        assert expression.source == source
        assert isinstance(expression.evaluate({}), bool)


@given(source=EXPRESSIONS, values=MAPPINGS, missing=st.sampled_from([None, 0]))
def test_evaluate_never_raises_and_returns_bool(
    source: str, values: dict[str, object], missing: object
) -> None:
    expression = parse(source, missing=missing)
    assert expression.names <= {"a", "b", "billing", "customer.tier", "_x9"}
    result = expression.evaluate(values)
    assert isinstance(result, bool)
    assert parse(f"not ({source})", missing=missing).evaluate(values) is (not result)


@given(left=EXPRESSIONS, right=EXPRESSIONS, values=MAPPINGS)
def test_and_or_combine_like_booleans(left: str, right: str, values: dict[str, object]) -> None:
    assume(len(left) + len(right) < MAX_LENGTH - 20)
    a, b = parse(left).evaluate(values), parse(right).evaluate(values)
    assert parse(f"({left}) and ({right})").evaluate(values) is (a and b)
    assert parse(f"({left}) or ({right})").evaluate(values) is (a or b)


@given(text=st.text(max_size=30))
def test_string_literals_round_trip(text: str) -> None:
    assert parse(f"x == {_quote(text)}").evaluate({"x": text}) is True
    assert parse(f"x contains {_quote(text)}").evaluate({"x": "<" + text + ">"}) is True
