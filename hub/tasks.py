"""Tasks: work another system hands to the contact centre (channel api), pure.

Theory of operation
-------------------
An ERP's "call this customer about order 1234" or a CRM's task arrives as
``POST /api/v1/interactions``; ``parse_task`` turns its JSON body into a ``TaskRequest`` or
refuses it whole with ``InvalidInput`` naming the field and the limit, so an integrator can
fix the call without guessing. Nothing here stores anything: the request then goes the one
path of every contact (``hub.inbound.Inbound.receive``: persist, announce, route).

- The customer is named by id (``{"id": 7}``) or by one identity (``{"email": ...}`` or
  ``{"phone": ...}``), normalised like every identity (``hub.customers.identity``: emails
  lower-cased, phones E.164); an identity nobody has yet makes a new customer (``name``).
- ``attributes`` are the caller's routing hints, kept on the interaction as
  ``task.<key>`` (the names routing rules may use), bounded in number and size.
- ``external_id`` is the caller's own id for the task: the store keeps one interaction per
  id (a unique index), so a retried request finds the first one instead of making another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.customers import MAX_NAME, identity
from hub.errors import InvalidInput
from hub.model import TASK_ATTRIBUTE_PREFIX, Identity
from hub.text import in_range

MAX_SUBJECT = 200
MAX_TEXT = 10_000
MAX_EXTERNAL_ID = 200
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_VALUE = 200
MAX_QUEUE = 64
ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELDS = frozenset({"customer", "subject", "text", "queue", "attributes", "external_id"})
CUSTOMER_FIELDS = frozenset({"id", "email", "phone", "name"})


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A task as asked for: exactly one of ``customer_id`` and ``identity`` is set."""

    subject: str
    text: str
    customer_id: int | None = None
    identity: Identity | None = None
    name: str | None = None  # for a customer made from the identity
    queue: str | None = None  # None: the configured queue for api
    attributes: Mapping[str, str] = field(default_factory=dict)
    external_id: str | None = None

    def interaction_attributes(self) -> dict[str, str]:
        """What the interaction keeps for routing rules and the console: the subject, and
        the caller's attributes under ``task.``."""
        return {
            "subject": self.subject,
            **{f"{TASK_ATTRIBUTE_PREFIX}{k}": v for k, v in self.attributes.items()},
        }


def parse_task(data: Mapping[str, Any]) -> TaskRequest:
    """The task a request body asks for, or InvalidInput naming the field."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    customer_id, ident, name = _customer(data.get("customer"))
    return TaskRequest(
        subject=_text(data, "subject", MAX_SUBJECT),
        text=_text(data, "text", MAX_TEXT),
        customer_id=customer_id,
        identity=ident,
        name=name,
        queue=_optional(data, "queue", MAX_QUEUE),
        attributes=_attributes(data.get("attributes")),
        external_id=_optional(data, "external_id", MAX_EXTERNAL_ID),
    )


def _customer(raw: Any) -> tuple[int | None, Identity | None, str | None]:
    if raw is None:
        raise InvalidInput('customer is required: {"id": ...}, {"email": ...} or {"phone": ...}')
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            'customer must be an object: {"id": ...}, {"email": ...} or {"phone": ...}'
        )
    unknown = sorted(set(raw) - CUSTOMER_FIELDS)
    if unknown:
        raise InvalidInput(f"customer: unknown field(s): {', '.join(unknown)}")
    given = [k for k in ("id", "email", "phone") if raw.get(k) is not None]
    if len(given) != 1:
        raise InvalidInput("customer needs exactly one of id, email or phone")
    name = _optional(raw, "name", MAX_NAME, where="customer.name")
    if given[0] == "id":
        if name is not None:
            raise InvalidInput("customer.name is only for a customer named by email or phone")
        value = raw["id"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("customer.id must be a positive integer")
        return in_range(value, "customer.id"), None, None
    kind = given[0]
    return None, identity(kind, raw[kind], "customer", value_field=f"customer.{kind}"), name


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None:
        raise InvalidInput(f"{key} is required")
    return _string(value, key, limit, blank="must not be empty")


def _optional(data: Mapping[str, Any], key: str, limit: int, *, where: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return _string(value, where or key, limit, blank="must not be empty (leave it out instead)")


def _string(raw: Any, where: str, limit: int, *, blank: str) -> str:
    """``raw`` stripped, or InvalidInput naming ``where``: the limit is in characters."""
    if not isinstance(raw, str):
        raise InvalidInput(f"{where} must be a string")
    value = raw.strip()
    if not value:
        raise InvalidInput(f"{where} {blank}")
    if len(value) > limit:
        raise InvalidInput(f"{where} is {len(value)} characters; the limit is {limit}")
    if "\x00" in value:
        raise InvalidInput(f"{where} must not contain NUL characters")
    return value


def _attributes(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput("attributes must be an object of strings")
    if len(raw) > MAX_ATTRIBUTES:
        raise InvalidInput(f"attributes has {len(raw)} keys; the limit is {MAX_ATTRIBUTES}")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not ATTRIBUTE_KEY.match(key):
            raise InvalidInput(
                f"attributes: {key[:50]!r} is not a key (1-40 lower-case letters, digits or "
                "'_', starting with a letter)"
            )
        if not isinstance(value, str):
            raise InvalidInput(f"attributes.{key} must be a string")
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise InvalidInput(
                f"attributes.{key} is {len(value)} characters; the limit is {MAX_ATTRIBUTE_VALUE}"
            )
        if "\x00" in value:
            raise InvalidInput(f"attributes.{key} must not contain NUL characters")
        out[key] = value
    return out
