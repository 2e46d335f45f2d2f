"""Tasks from other systems (channel api): what a request body becomes, and every refusal
naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import InvalidInput
from hub.model import Identity, IdentityKind
from hub.tasks import MAX_ATTRIBUTES, TaskRequest, parse_task

BASE: dict[str, Any] = {"customer": {"id": 7}, "subject": "Order 1234", "text": "Call them"}


def test_parse_task_by_customer_id_keeps_the_subject_for_rules_and_the_console() -> None:
    task = parse_task({**BASE, "subject": "  Order 1234 ", "attributes": {"order_id": "1234"}})
    assert task == TaskRequest(
        subject="Order 1234", text="Call them", customer_id=7, attributes={"order_id": "1234"}
    )
    assert task.interaction_attributes() == {"subject": "Order 1234", "task.order_id": "1234"}


@pytest.mark.parametrize(
    ("customer", "identity"),
    [
        ({"email": " Grace@Example.COM "}, Identity(IdentityKind.EMAIL, "grace@example.com")),
        ({"phone": "+44 20 7946 0018"}, Identity(IdentityKind.PHONE, "+442079460018")),
        ({"phone": "+1 (415) 555-0100"}, Identity(IdentityKind.PHONE, "+14155550100")),
    ],
)
def test_parse_task_normalises_the_customer_identity(
    customer: dict[str, str], identity: Identity
) -> None:
    task = parse_task({**BASE, "customer": {**customer, "name": "Grace"}})
    assert (task.customer_id, task.identity, task.name) == (None, identity, "Grace")


def test_parse_task_takes_queue_and_external_id() -> None:
    task = parse_task({**BASE, "queue": "billing", "external_id": "erp-9"})
    assert (task.queue, task.external_id) == ("billing", "erp-9")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": None}, "customer is required"),
        ({"customer": "7"}, "customer must be an object"),
        ({"customer": {}}, "customer needs exactly one of id, email or phone"),
        ({"customer": {"id": 7, "email": "a@b.co"}}, "customer needs exactly one of"),
        ({"customer": {"id": True}}, "customer.id must be a positive integer"),
        ({"customer": {"id": 0}}, "customer.id must be a positive integer"),
        ({"customer": {"id": 2**64}}, "customer.id is out of range"),
        ({"customer": {"id": 7, "name": "X"}}, "customer.name is only for"),
        ({"customer": {"email": "nope"}}, "customer.email: 'nope' is not an email"),
        ({"customer": {"phone": "12"}}, "customer.phone"),
        ({"customer": {"email": "a@b.co", "name": "x" * 201}}, "customer.name is 201"),
        ({"customer": {"fax": "1"}}, "customer: unknown field(s): fax"),
        ({"subject": None}, "subject is required"),
        ({"subject": "  "}, "subject must not be empty"),
        ({"subject": 5}, "subject must be a string"),
        ({"subject": "x" * 201}, "subject is 201 characters; the limit is 200"),
        ({"text": None}, "text is required"),
        ({"text": "x" * 10_001}, "text is 10001 characters; the limit is 10000"),
        ({"text": "a\x00b"}, "text must not contain NUL"),
        ({"queue": ""}, "queue must not be empty"),
        ({"queue": 3}, "queue must be a string"),
        ({"external_id": "x" * 201}, "external_id is 201 characters; the limit is 200"),
        ({"attributes": ["a"]}, "attributes must be an object"),
        ({"attributes": {"Order": "1"}}, "attributes: 'Order' is not a key"),
        ({"attributes": {"order": 1}}, "attributes.order must be a string"),
        ({"attributes": {"order": "x" * 201}}, "attributes.order is 201 characters"),
        (
            {"attributes": {f"k{n}": "v" for n in range(MAX_ATTRIBUTES + 1)}},
            "attributes has 21 keys; the limit is 20",
        ),
        ({"priority": 5}, "unknown field(s): priority"),
    ],
)
def test_parse_task_refuses_naming_the_field(change: dict[str, Any], message: str) -> None:
    body = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(InvalidInput) as refused:
        parse_task(body)
    assert str(refused.value).startswith(message), str(refused.value)
