"""The customer record's rules (pure): profile fields, custom fields declared in config,
identities, and what a merge moves.

Theory of operation
-------------------
Every value a user sends is checked here before anything is stored, and a refusal names the
field (``custom.contract_end``, ``identities[1].value``), so an integrator can fix the call
without guessing. Identities are normalised to one form per kind so that uniqueness holds
whatever way they were written: emails lower-cased, phone numbers E.164 (``hub.phone``),
web-chat visitor ids as given, and ids from other systems as ``<system>:<id>`` under the kind
``external`` (shown to API users as kind ``external:<system>``).

A customer is never physically deleted: ``deleted_at`` hides them from search (a merged one
also gets ``merged_into``); ``erased_at`` marks personal data removed on request.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hub.errors import InvalidInput
from hub.model import Identity, IdentityKind
from hub.phone import to_e164

TIERS = ("important", "normal", "potential")
MAX_NAME = 200
MAX_COMPANY = 200
MAX_TAGS = 50
MAX_TAG = 50
MAX_TEXT_FIELD = 2000
MAX_IDENTITY = 320
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
SYSTEM = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EXTERNAL_PREFIX = "external:"


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom field declared in config (``customer_fields``)."""

    name: str
    type: FieldType
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    identity_id: int
    kind: IdentityKind
    value: str  # stored form: for external, "<system>:<id>"
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Profile:
    """A customer's record as the customers API shows it."""

    customer_id: int
    name: str
    company: str
    tier: str
    language: str | None
    tags: tuple[str, ...]
    owner_id: int | None
    custom: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    merged_into: int | None = None
    erased_at: datetime | None = None
    identities: tuple[IdentityRecord, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Moved:
    """What a merge moved from the merged customer to the survivor (so it can move back)."""

    identities: tuple[int, ...] = ()
    conversations: tuple[int, ...] = ()
    interactions: tuple[int, ...] = ()
    notes: tuple[int, ...] = ()

    def as_json(self) -> dict[str, list[int]]:
        return {
            "identities": list(self.identities),
            "conversations": list(self.conversations),
            "interactions": list(self.interactions),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Moved:
        return cls(
            tuple(data.get("identities", ())),
            tuple(data.get("conversations", ())),
            tuple(data.get("interactions", ())),
            tuple(data.get("notes", ())),
        )


@dataclass(frozen=True, slots=True)
class Merge:
    merge_id: int
    survivor_id: int
    merged_id: int
    moved: Moved
    at: datetime
    by_user_id: int | None
    unmerged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Live (not deleted) customers, by customer id ascending after ``after_id``."""

    text: str | None = None  # part of a name, company or identity
    identity: Identity | None = None  # an exact identity
    after_id: int | None = None
    limit: int = 50


# ---------------------------------------------------------------------- identities


def identity_kind_json(ident: Identity | IdentityRecord) -> tuple[str, str]:
    """(kind, value) as the API shows them: ``external:<system>`` and the bare id."""
    if ident.kind is IdentityKind.EXTERNAL:
        system, _, external_id = ident.value.partition(":")
        return f"{EXTERNAL_PREFIX}{system}", external_id
    return ident.kind.value, ident.value


def parse_identity(raw: Any, where: str) -> Identity:
    """``{"kind": ..., "value": ...}`` in stored form, or ``InvalidInput`` naming ``where``."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be an object with kind and value")
    kind, value = raw.get("kind"), raw.get("value")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput(f"{where}.kind must be one of email, phone, webchat, external:<system>")
    return identity(kind, value, where)


def identity(kind: str, value: Any, where: str, *, value_field: str | None = None) -> Identity:
    """An identity of ``kind`` (``email``, ``phone``, ``webchat``, ``external:<system>``);
    refusals name ``where.kind`` or ``value_field`` (by default ``where.value``)."""
    field_name = value_field or f"{where}.value"
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field_name} must be a non-empty string")
    value = value.strip()
    if len(value) > MAX_IDENTITY:
        raise InvalidInput(f"{field_name} is longer than {MAX_IDENTITY} characters")
    if kind == IdentityKind.EMAIL.value:
        if not EMAIL.match(value):
            raise InvalidInput(f"{field_name}: {value!r} is not an email address")
        return Identity(IdentityKind.EMAIL, value.lower())
    if kind == IdentityKind.PHONE.value:
        return Identity(IdentityKind.PHONE, to_e164(value, field=f"{field_name}"))
    if kind == IdentityKind.WEBCHAT.value:
        return Identity(IdentityKind.WEBCHAT, value)
    if kind.startswith(EXTERNAL_PREFIX):
        system = kind.removeprefix(EXTERNAL_PREFIX)
        if not SYSTEM.match(system):
            raise InvalidInput(
                f"{where}: the system in external:<system> is 1-40 lower-case letters, "
                "digits, '_', '.' or '-'"
            )
        return Identity(IdentityKind.EXTERNAL, f"{system}:{value}")
    raise InvalidInput(
        f"{where}.kind must be one of email, phone, webchat, external:<system>; got {kind!r}"
    )


def parse_identities(raw: Any, where: str = "identities") -> list[Identity]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput(f"{where} must be a list of {{kind, value}} objects")
    found = [parse_identity(item, f"{where}[{n}]") for n, item in enumerate(raw)]
    if len(set(found)) != len(found):
        raise InvalidInput(f"{where} lists the same identity twice")
    return found


def search_identity(params: Mapping[str, str]) -> Identity | None:
    """The exact identity a search names (``email``, ``phone`` or ``external=<system>:<id>``)."""
    given = [k for k in ("email", "phone", "external") if params.get(k)]
    if len(given) > 1:
        raise InvalidInput("search by one of email, phone or external at a time")
    if not given:
        return None
    key = given[0]
    raw = params[key]
    if key == "external":
        system, sep, external_id = raw.partition(":")
        if not sep or not external_id:
            raise InvalidInput("external must be <system>:<id>, like erp:C-1001")
        return identity(f"{EXTERNAL_PREFIX}{system}", external_id, key, value_field=key)
    return identity(key, raw, key, value_field=key)


# ---------------------------------------------------------------------- profile fields

PROFILE_FIELDS = ("name", "company", "tier", "language", "tags", "owner_id", "custom")


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data[key]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{key} is longer than {limit} characters")
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("tags must be a list of strings")
    tags: list[str] = []
    for n, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInput(f"tags[{n}] must be a non-empty string")
        tag = tag.strip()
        if len(tag) > MAX_TAG:
            raise InvalidInput(f"tags[{n}] is longer than {MAX_TAG} characters")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"tags has more than {MAX_TAGS} tags")
    return tags


def custom_value(spec: CustomField, value: Any) -> Any:
    """``value`` checked against its declared type (dates as ``YYYY-MM-DD``)."""
    where = f"custom.{spec.name}"
    if spec.type is FieldType.TEXT:
        if not isinstance(value, str):
            raise InvalidInput(f"{where} must be text")
        if len(value) > MAX_TEXT_FIELD:
            raise InvalidInput(f"{where} is longer than {MAX_TEXT_FIELD} characters")
        return value
    if spec.type is FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where} must be a number")
        if not math.isfinite(value):
            raise InvalidInput(f"{where} must be a finite number")
        return value
    if spec.type is FieldType.DATE:
        if not isinstance(value, str):
            raise InvalidInput(f"{where} must be a date like 2026-12-31")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise InvalidInput(f"{where} must be a date like 2026-12-31; got {value!r}") from None
    if value not in spec.choices:
        raise InvalidInput(f"{where} must be one of {', '.join(spec.choices)}; got {value!r}")
    return value


def custom_changes(value: Any, specs: Sequence[CustomField]) -> dict[str, Any]:
    """The custom fields to set (None: clear) from ``{"custom": {...}}``."""
    if not isinstance(value, Mapping):
        raise InvalidInput("custom must be an object of declared customer fields")
    declared = {s.name: s for s in specs}
    changes: dict[str, Any] = {}
    for name, raw in value.items():
        spec = declared.get(name)
        if spec is None:
            known = ", ".join(declared) or "none are declared in customer_fields"
            raise InvalidInput(f"custom.{name} is not a declared customer field ({known})")
        changes[name] = None if raw is None else custom_value(spec, raw)
    return changes


def profile_changes(
    data: Mapping[str, Any], specs: Sequence[CustomField], *, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """The profile fields ``data`` sets, each checked; unknown fields are refused by name.
    ``custom`` comes back as the changes to apply (None clears a field)."""
    unknown = sorted(set(data) - set(PROFILE_FIELDS) - set(extra))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _text(data, "name", MAX_NAME)
    if "company" in data:
        changes["company"] = _text(data, "company", MAX_COMPANY)
    if "tier" in data:
        if data["tier"] not in TIERS:
            raise InvalidInput(f"tier must be one of {', '.join(TIERS)}")
        changes["tier"] = data["tier"]
    if "language" in data:
        language = data["language"]
        if language is not None and (not isinstance(language, str) or not LANGUAGE.match(language)):
            raise InvalidInput("language must be a language tag like en or pt-BR, or null")
        changes["language"] = language
    if "tags" in data:
        changes["tags"] = _tags(data["tags"])
    if "owner_id" in data:
        owner = data["owner_id"]
        if owner is not None and (isinstance(owner, bool) or not isinstance(owner, int)):
            raise InvalidInput("owner_id must be a user id or null")
        changes["owner_id"] = owner
    if "custom" in data:
        changes["custom"] = custom_changes(data["custom"], specs)
    return changes


def apply_custom(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


# ---------------------------------------------------------------------- search


def search_query(params: Mapping[str, str], *, after_id: int | None, limit: int) -> SearchQuery:
    text = (params.get("q") or "").strip()
    if len(text) > MAX_IDENTITY:
        raise InvalidInput(f"q is longer than {MAX_IDENTITY} characters")
    return SearchQuery(text or None, search_identity(params), after_id, limit)


def next_cursor(page: Sequence[Profile], limit: int) -> str | None:
    """The cursor of the next page, if ``page`` was full (the last customer id seen)."""
    if len(page) < limit or not page:
        return None
    return str(page[-1].customer_id)
