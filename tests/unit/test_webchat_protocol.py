"""Web chat input checks: what a visitor may send, and the message they get when refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from channels.webchat.protocol import (
    DEFAULT_VISITOR_NAME,
    EMAIL_MAX_BYTES,
    NAME_MAX_BYTES,
    Profile,
    Receipt,
    parse_message,
    parse_profile,
    parse_receipt,
    parse_typing,
    routing_hints,
    visitor_message,
)
from hub.errors import InvalidInput
from hub.model import AuthorKind, Direction, Message
from hub.text import optional_text, require_int, require_text

# ---------------------------------------------------------------- message bodies


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"body": "hello"}, "hello"),
        ({"body": "  hello there \n"}, "hello there"),
        ({"body": "one\ntwo"}, "one\ntwo"),
        ({"body": "héllo ☃"}, "héllo ☃"),
        ({"body": "x" * 16}, "x" * 16),  # exactly at the limit
        ({"body": "é" * 8}, "é" * 8),  # 16 bytes of UTF-8
        ({"body": "hi", "extra": 1}, "hi"),
    ],
)
def test_webchat_message_accepts_and_trims(data: dict[str, Any], expected: str) -> None:
    assert parse_message(data, max_bytes=16) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "body must not be empty"),
        ({"body": "   \n\t "}, "body must not be empty"),
        ({}, "body must be a string"),
        ({"body": None}, "body must be a string"),
        ({"body": 42}, "body must be a string"),
        ({"body": ["hi"]}, "body must be a string"),
        ({"body": {"text": "hi"}}, "body must be a string"),
        ({"body": "x" * 17}, "body is 17 bytes; the limit is 16 bytes"),
        ({"body": "é" * 9}, "body is 18 bytes; the limit is 16 bytes"),  # 9 chars, 18 bytes
        ({"body": "☃" * 6}, "body is 18 bytes; the limit is 16 bytes"),  # 6 chars, 18 bytes
        ({"body": "hi\x00there"}, "body must not contain NUL characters"),
        ({"body": "\x00"}, "body must not contain NUL characters"),
        ("hello", "event data must be an object"),
        (None, "event data must be an object"),
        (["body", "hello"], "event data must be an object"),
    ],
)
def test_webchat_message_refuses_bad_input_naming_field_and_limit(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message(data, max_bytes=16)

    assert caught.value.message == message
    assert caught.value.code == "invalid_input"


def test_webchat_message_limit_is_on_the_text_as_sent() -> None:
    # Surrounding whitespace counts: nothing is silently trimmed to fit.
    with pytest.raises(InvalidInput, match="body is 18 bytes; the limit is 16 bytes"):
        parse_message({"body": " " + "x" * 16 + " "}, max_bytes=16)


# ---------------------------------------------------------------- profile


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, Profile(None, None)),
        ({"name": "Ada"}, Profile("Ada", None)),
        ({"name": "  Ada Lovelace  "}, Profile("Ada Lovelace", None)),
        ({"name": "", "email": ""}, Profile(None, None)),
        ({"name": None, "email": None}, Profile(None, None)),
        ({"email": "ada@example.com"}, Profile(None, "ada@example.com")),
        ({"email": "  Ada@Example.COM "}, Profile(None, "ada@example.com")),
        (
            {"email": "first.last+tag@mail.example.org"},
            Profile(None, "first.last+tag@mail.example.org"),
        ),
        ({"email": '"odd@local"@example.com'}, Profile(None, '"odd@local"@example.com')),
        ({"name": "Zoë", "email": "zoe@example.co.uk"}, Profile("Zoë", "zoe@example.co.uk")),
    ],
)
def test_webchat_profile_accepts_valid_input(data: dict[str, Any], expected: Profile) -> None:
    assert parse_profile(data) == expected


@pytest.mark.parametrize(
    "email",
    [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada lovelace@example.com",
        "ada@exa mple.com",
        "ada@example.com@",
    ],
)
def test_webchat_profile_refuses_malformed_email(email: str) -> None:
    with pytest.raises(InvalidInput, match=r"email must look like name@example\.com"):
        parse_profile({"name": "Ada", "email": email})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("ada", "event data must be an object"),
        (None, "event data must be an object"),
        ({"name": 7}, "name must be a string"),
        ({"email": ["a@b.c"]}, "email must be a string"),
        ({"name": "a\x00b"}, "name must not contain NUL characters"),
        (
            {"name": "n" * (NAME_MAX_BYTES + 1)},
            f"name is {NAME_MAX_BYTES + 1} bytes; the limit is {NAME_MAX_BYTES} bytes",
        ),
        (
            {"email": "a@example.com" + "m" * EMAIL_MAX_BYTES},
            f"email is {EMAIL_MAX_BYTES + 13} bytes; the limit is {EMAIL_MAX_BYTES} bytes",
        ),
    ],
)
def test_webchat_profile_refuses_bad_input(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_profile(data)

    assert caught.value.message == message


def test_webchat_profile_name_limit_counts_utf8_bytes() -> None:
    assert parse_profile({"name": "é" * (NAME_MAX_BYTES // 2)}).name == "é" * (NAME_MAX_BYTES // 2)
    with pytest.raises(InvalidInput, match="the limit is 200 bytes"):
        parse_profile({"name": "é" * (NAME_MAX_BYTES // 2 + 1)})


@pytest.mark.parametrize("blank", [" ", "  \t\n"])
def test_webchat_profile_treats_whitespace_only_fields_as_missing(blank: str) -> None:
    assert parse_profile({"name": blank, "email": blank}) == Profile(None, None)


# ---------------------------------------------------------------- typing


@pytest.mark.parametrize(
    ("data", "expected"), [({"typing": True}, True), ({"typing": False}, False)]
)
def test_webchat_typing_accepts_booleans(data: dict[str, Any], expected: bool) -> None:
    assert parse_typing(data) is expected


@pytest.mark.parametrize(
    "data",
    [{}, {"typing": 1}, {"typing": 0}, {"typing": "true"}, {"typing": None}, True, None, "typing"],
)
def test_webchat_typing_refuses_anything_but_a_boolean(data: Any) -> None:
    with pytest.raises(InvalidInput, match="typing must be true or false"):
        parse_typing(data)


# ---------------------------------------------------------------- hub.text helpers


@pytest.mark.parametrize(
    ("data", "expected"),
    [({}, ""), ({"note": None}, ""), ({"note": "  "}, ""), ({"note": " ok "}, "ok")],
)
def test_text_require_text_allow_empty(data: dict[str, Any], expected: str) -> None:
    assert require_text(data, "note", max_bytes=10, allow_empty=True) == expected


@pytest.mark.parametrize(
    ("data", "expected"), [({"n": 0}, 0), ({"n": -3}, -3), ({"n": 10**12}, 10**12)]
)
def test_text_require_int_accepts_integers(data: dict[str, Any], expected: int) -> None:
    assert require_int(data, "n") == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n": True}, "n must be an integer"),
        ({"n": 1.0}, "n must be an integer"),
        ({"n": "1"}, "n must be an integer"),
        ({}, "n must be an integer"),
        ([1], "event data must be an object"),
    ],
)
def test_text_require_int_refuses_non_integers(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        require_int(data, "n")
    assert caught.value.message == message


def test_text_optional_text_missing_or_empty_is_none() -> None:
    assert optional_text({}, "name", max_bytes=5) is None
    assert optional_text({"name": ""}, "name", max_bytes=5) is None
    assert optional_text({"name": " x "}, "name", max_bytes=5) == "x"


# ---------------------------------------------------------------- rendering


def _message(direction: Direction, kind: AuthorKind, author_name: str) -> Message:
    return Message(
        message_id=1,
        conversation_id=2,
        direction=direction,
        author_kind=kind,
        author_name=author_name,
        body="hi",
        created_at=datetime(2024, 5, 1, tzinfo=UTC),
        author_id=33,
        interaction_id=4,
    )


@pytest.mark.parametrize(
    ("direction", "kind", "author_name", "shown"),
    [
        (Direction.INBOUND, AuthorKind.CUSTOMER, "", DEFAULT_VISITOR_NAME),
        (Direction.INBOUND, AuthorKind.CUSTOMER, "Ada", "Ada"),
        (Direction.OUTBOUND, AuthorKind.AGENT, "", "Agent"),
        (Direction.OUTBOUND, AuthorKind.AGENT, "Grace", "Grace"),
    ],
)
def test_webchat_visitor_message_names_the_author(
    direction: Direction, kind: AuthorKind, author_name: str, shown: str
) -> None:
    out = visitor_message(_message(direction, kind, author_name))

    assert out["author_name"] == shown
    assert out["body"] == "hi"
    assert 33 not in out.values()  # the agent's internal id is never shown to visitors


@pytest.mark.parametrize(
    ("auth", "hints"),
    [
        (
            {"language": "es-MX", "site": "Shop.Example.com"},
            {"language": "es", "address": "shop.example.com"},
        ),
        (
            {"language": "pt_BR", "site": "localhost:8080"},
            {"language": "pt", "address": "localhost:8080"},
        ),
        ({"language": "x" * 40, "site": "<script>alert(1)</script>"}, {}),
        ({"language": 5, "site": ["a"]}, {}),
        ({"language": "", "site": ""}, {}),
        ("not a mapping", {}),
        (None, {}),
    ],
)
def test_routing_hints_keep_well_formed_language_and_site_only(
    auth: Any, hints: dict[str, str]
) -> None:
    assert routing_hints(auth) == hints


# ---------------------------------------------------------------- receipts


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"message_ids": [7], "status": "delivered"}, Receipt((7,), read=False)),
        ({"message_ids": [7, 9], "status": "read"}, Receipt((7, 9), read=True)),
        ({"message_ids": [9, 7, 9], "status": "read"}, Receipt((9, 7), read=True)),
        (
            {"message_ids": list(range(1, 101)), "status": "read"},
            Receipt(tuple(range(1, 101)), True),
        ),
    ],
)
def test_webchat_receipt_accepts_ids_and_status(data: dict[str, Any], expected: Receipt) -> None:
    assert parse_receipt(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("read", "event data must be an object"),
        ({"message_ids": [1]}, 'status must be "delivered" or "read"'),
        ({"message_ids": [1], "status": "seen"}, 'status must be "delivered" or "read"'),
        ({"status": "read"}, "message_ids must be a list of 1 to 100 message ids"),
        (
            {"message_ids": [], "status": "read"},
            "message_ids must be a list of 1 to 100 message ids",
        ),
        (
            {"message_ids": 7, "status": "read"},
            "message_ids must be a list of 1 to 100 message ids",
        ),
        (
            {"message_ids": list(range(1, 102)), "status": "read"},
            "message_ids must be a list of 1 to 100 message ids",
        ),
        (
            {"message_ids": ["7"], "status": "read"},
            "message_ids must hold positive integer message ids",
        ),
        (
            {"message_ids": [True], "status": "read"},
            "message_ids must hold positive integer message ids",
        ),
        (
            {"message_ids": [0], "status": "read"},
            "message_ids must hold positive integer message ids",
        ),
        (
            {"message_ids": [2.0], "status": "read"},
            "message_ids must hold positive integer message ids",
        ),
        (
            {"message_ids": [2**63], "status": "read"},
            "message_ids must hold positive integer message ids",
        ),
    ],
)
def test_webchat_receipt_refuses_bad_input_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_receipt(data)
    assert caught.value.message == message
