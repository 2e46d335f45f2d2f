"""The customer record's rules (hub.customers, hub.customers_csv): identities in one form,
custom fields declared in config, and refusals that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.config import ConfigError, load_settings
from hub.customers import (
    CustomField,
    FieldType,
    custom_changes,
    identity,
    identity_kind_json,
    profile_changes,
    search_identity,
)
from hub.customers_csv import read_import
from hub.errors import InvalidInput
from hub.model import Identity, IdentityKind

SPECS = (
    CustomField("contract_end", FieldType.DATE),
    CustomField("seats", FieldType.NUMBER),
    CustomField("plan", FieldType.CHOICE, ("basic", "pro")),
    CustomField("note", FieldType.TEXT),
)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("email", " Ann@Example.COM ", Identity(IdentityKind.EMAIL, "ann@example.com")),
        ("phone", "+44 20 7183 8750", Identity(IdentityKind.PHONE, "+442071838750")),
        ("phone", "+1 (415) 555-0100", Identity(IdentityKind.PHONE, "+14155550100")),
        ("webchat", "v-1", Identity(IdentityKind.WEBCHAT, "v-1")),
        ("external:erp", "C:1", Identity(IdentityKind.EXTERNAL, "erp:C:1")),
    ],
)
def test_identities_are_stored_in_one_form(kind: str, value: str, stored: Identity) -> None:
    assert identity(kind, value, "identity") == stored
    shown_kind, shown_value = identity_kind_json(stored)
    assert shown_kind == kind and identity(shown_kind, shown_value, "x") == stored


@pytest.mark.parametrize(
    ("kind", "value", "named"),
    [
        ("fax", "1", "identity.kind"),
        ("email", "nobody", "identity.value"),
        ("phone", "12", "identity.value"),
        ("external:ERP!", "1", "identity: the system"),
        ("webchat", "  ", "identity.value"),
    ],
)
def test_bad_identities_are_refused_by_name(kind: str, value: str, named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        identity(kind, value, "identity")
    assert caught.value.message.startswith(named)


def test_search_takes_one_exact_identity() -> None:
    assert search_identity({"external": "erp:C-1"}) == Identity(IdentityKind.EXTERNAL, "erp:C-1")
    assert search_identity({}) is None
    with pytest.raises(InvalidInput):
        search_identity({"email": "a@b.co", "phone": "+14155550100"})


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({"contract_end": "2026-12-31"}, {"contract_end": "2026-12-31"}),
        ({"seats": 3.5, "plan": "pro"}, {"seats": 3.5, "plan": "pro"}),
        ({"note": None}, {"note": None}),
    ],
)
def test_custom_fields_keep_their_declared_types(
    custom: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert custom_changes(custom, SPECS) == expected


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"custom": {"seats": True}}, "custom.seats"),
        ({"custom": {"seats": float("nan")}}, "custom.seats"),
        ({"custom": {"contract_end": "2026-02-30"}}, "custom.contract_end"),
        ({"custom": {"plan": "gold"}}, "custom.plan"),
        ({"custom": {"colour": "red"}}, "custom.colour"),
        ({"custom": []}, "custom"),
        ({"tier": "vip"}, "tier"),
        ({"name": 7}, "name"),
        ({"owner_id": "3"}, "owner_id"),
        ({"tags": "vip"}, "tags"),
        ({"identities": []}, "identities"),  # not a profile field
    ],
)
def test_profile_changes_name_the_wrong_field(data: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_changes(data, SPECS)
    assert named in caught.value.message


def test_config_declares_custom_fields_and_refuses_bad_ones(tmp_path: Path) -> None:
    fields = "[{name: plan, type: choice, choices: [a, b]}, {name: since, type: date}]"
    settings = load_settings(None, environ={"HUB_CUSTOMER_FIELDS": fields})
    assert settings.custom_fields() == (
        CustomField("plan", FieldType.CHOICE, ("a", "b")),
        CustomField("since", FieldType.DATE),
    )
    for bad, named in (
        ("[{name: plan, type: choice}]", "needs choices"),
        ("[{name: n, type: number, choices: [x]}]", "only choice fields"),
        ("[{name: a, type: text}, {name: a, type: date}]", "repeated: a"),
        ("[{name: Bad Name, type: text}]", "customer_fields.0.name"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_settings(None, environ={"HUB_CUSTOMER_FIELDS": bad})
        assert named in str(caught.value), str(caught.value)


def test_an_import_file_is_checked_line_by_line() -> None:
    plan = read_import(
        "name,email,phone,custom.seats\n"
        "Ann,ann@example.com,'+14155550100,4\n"
        ",,,\n"
        ",,,\n"
        "Bob,ANN@example.com,,\n"
        ",,,7\n",
        SPECS,
    )
    (row,) = plan.rows
    assert row.line == 2 and row.values == {"name": "Ann", "custom": {"seats": 4}}
    assert row.identities[1] == Identity(IdentityKind.PHONE, "+14155550100")
    assert [(e.line, e.message) for e in plan.errors] == [
        (5, "email ann@example.com is also on line 2"),
        (6, "a customer needs a name or at least one identity"),
    ]
    with pytest.raises(InvalidInput, match="unknown column"):
        read_import("name,shoe_size\nAnn,42\n", SPECS)
