"""The customers API on a real hub: create with identities, update with custom fields,
search with cursor pages, identities, merge and unmerge, export and erasure; each error
path names what was wrong, and each role gets only what it may."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.app import utc_now
from hub.lifecycle import Action
from hub.model import Channel, Identity, IdentityKind, Role
from hub.ports import InboundContact
from tests.functional.conftest import Running, serve, settings_for

FIELDS = (
    "[{name: contract_end, type: date}, {name: seats, type: number},"
    " {name: plan, type: choice, choices: [basic, pro]}]"
)


@dataclass
class Staff:
    running: Running
    admin: str
    supervisor: str
    agent: str

    async def call(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        return await self.running.send(method, path, token or self.admin, json=json)


@pytest.fixture
async def staff(tmp_path: Path) -> AsyncIterator[Staff]:
    async with serve(settings_for(tmp_path, HUB_CUSTOMER_FIELDS=FIELDS)) as running:
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        await running.add_user("al@example.com", "Al Agent", Role.AGENT)
        yield Staff(
            running,
            await running.sign_in("ada@example.com"),
            await running.sign_in("sue@example.com"),
            await running.sign_in("al@example.com"),
        )


async def create(staff: Staff, name: str, *identities: dict[str, str]) -> dict[str, Any]:
    code, body = await staff.call(
        "POST", "/api/v1/customers", json={"name": name, "identities": list(identities)}
    )
    assert code == 201, body
    return body["customer"]  # type: ignore[no-any-return]


async def chat(staff: Staff, visitor: str, text: str) -> int:
    """A web-chat message from ``visitor``, stored as the channel stores it; its interaction."""
    recorded = await staff.running.hub.store.record_inbound(
        InboundContact(Channel.WEBCHAT, Identity(IdentityKind.WEBCHAT, visitor), visitor, text),
        queue="support",
        priority=0,
        now=utc_now(),
    )
    return recorded.interaction.interaction_id


async def audit_actions(staff: Staff, action: str) -> list[dict[str, Any]]:
    code, body = await staff.call("GET", f"/api/v1/admin/audit?action={action}")
    assert code == 200, body
    return body["entries"]  # type: ignore[no-any-return]


def error(body: Any) -> str:
    return str(body["error"]["message"])


async def test_a_customer_is_created_with_identities_in_one_form_and_each_identity_is_unique(
    staff: Staff,
) -> None:
    made = await create(
        staff,
        "Grace Hopper",
        {"kind": "email", "value": " Grace@Example.COM "},
        {"kind": "phone", "value": "+1 (415) 555-0100"},
        {"kind": "external:erp", "value": "C-1001"},
    )
    assert [(i["kind"], i["value"]) for i in made["identities"]] == [
        ("email", "grace@example.com"),
        ("phone", "+14155550100"),
        ("external:erp", "C-1001"),
    ]
    assert made["tier"] == "normal" and made["deleted_at"] is None

    code, body = await staff.call(
        "POST",
        "/api/v1/customers",
        json={"name": "Impostor", "identities": [{"kind": "phone", "value": "+14155550100"}]},
    )
    assert code == 409
    assert "phone +14155550100" in error(body) and f"customer {made['customer_id']}" in error(body)

    for identities, named in (
        ([{"kind": "fax", "value": "1"}], "identities[0].kind"),
        ([{"kind": "email", "value": "a@b.c"}, {"kind": "phone", "value": "12"}], "identities[1]"),
        ([{"kind": "email", "value": "not-an-address"}], "identities[0].value"),
    ):
        code, body = await staff.call(
            "POST", "/api/v1/customers", json={"name": "X", "identities": identities}
        )
        assert code == 400 and named in error(body), body
    # Nothing of a refused request was kept.
    code, body = await staff.call("GET", "/api/v1/customers?email=a@b.c")
    assert body["customers"] == []


async def test_updates_check_every_field_and_name_the_one_that_is_wrong(staff: Staff) -> None:
    made = await create(staff, "Ada", {"kind": "email", "value": "ada.l@example.com"})
    path = f"/api/v1/customers/{made['customer_id']}"
    for change, named in (
        ({"tier": "gold"}, "tier"),
        ({"tags": ["vip", 3]}, "tags[1]"),
        ({"custom": {"contract_end": "31/12/2026"}}, "custom.contract_end"),
        ({"custom": {"seats": "ten"}}, "custom.seats"),
        ({"custom": {"plan": "enterprise"}}, "custom.plan"),
        ({"custom": {"shoe_size": 42}}, "custom.shoe_size"),
        ({"owner_id": 999}, "owner_id"),
        ({"language": "English please"}, "language"),
        ({"favourite": "colour"}, "favourite"),
    ):
        code, body = await staff.call("PATCH", path, json=change)
        assert code == 400 and named in error(body), (change, body)

    code, body = await staff.call(
        "PATCH",
        path,
        json={
            "company": "Analytical Engines",
            "tier": "important",
            "tags": ["vip", "vip", "beta"],
            "language": "en",
            "owner_id": 3,
            "custom": {"contract_end": "2026-12-31", "seats": 12, "plan": "pro"},
        },
    )
    assert code == 200, body
    customer = body["customer"]
    assert customer["tier"] == "important" and customer["tags"] == ["vip", "beta"]
    assert customer["custom"] == {"contract_end": "2026-12-31", "seats": 12, "plan": "pro"}
    # A null clears one custom field and leaves the others.
    code, body = await staff.call("PATCH", path, json={"custom": {"seats": None}})
    assert body["customer"]["custom"] == {"contract_end": "2026-12-31", "plan": "pro"}
    code, body = await staff.call("GET", path)
    assert code == 200 and body["company"] == "Analytical Engines" and body["owner_id"] == 3
    assert [e["details"]["fields"] for e in await audit_actions(staff, "customer.updated")] == [
        ["custom.seats"],
        [
            "company",
            "custom.contract_end",
            "custom.plan",
            "custom.seats",
            "language",
            "owner_id",
            "tags",
            "tier",
        ],
    ]


async def test_search_by_name_or_any_identity_in_stable_cursor_pages(staff: Staff) -> None:
    made = [
        await create(staff, f"Smith {n}", {"kind": "email", "value": f"smith{n}@example.com"})
        for n in range(5)
    ]
    await create(staff, "Jones", {"kind": "phone", "value": "+442071838750"})
    await create(staff, "Erp Only", {"kind": "external:erp", "value": "C-7"})

    seen: list[int] = []
    cursor = ""
    for _ in range(4):
        code, body = await staff.call("GET", f"/api/v1/customers?q=smith&limit=2&cursor={cursor}")
        assert code == 200, body
        seen += [c["customer_id"] for c in body["customers"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["customer_id"] for c in made]

    async def found(query: str) -> list[str]:
        code, body = await staff.call("GET", f"/api/v1/customers?{query}", staff.agent)
        assert code == 200, body
        return [c["name"] for c in body["customers"]]

    # Agents may search (to find who they are talking to); reading a record stays limited.
    code, body = await staff.call("GET", "/api/v1/customers?phone=020%207183%208750")
    assert code == 400 and error(body).startswith("phone:")  # no country: which +44?
    assert await found("phone=%2B44%2020%207183%208750") == ["Jones"]
    assert await found("email=SMITH3@example.com") == ["Smith 3"]
    assert await found("external=erp:C-7") == ["Erp Only"]
    assert await found("q=4207183") == ["Jones"]  # part of an identity
    assert await found("q=100%25") == []  # LIKE wildcards are plain text
    code, body = await staff.call("GET", "/api/v1/customers?email=x@y.z&phone=%2B1", staff.agent)
    assert code == 400
    code, body = await staff.call("GET", "/api/v1/customers?cursor=abc")
    assert code == 400 and "cursor" in error(body)
    code, body = await staff.call("GET", f"/api/v1/customers/{made[0]['customer_id']}", staff.agent)
    assert code == 403
    code, body = await staff.call(
        "PATCH", f"/api/v1/customers/{made[0]['customer_id']}", staff.agent, {"name": "Hacked"}
    )
    assert code == 403


async def test_search_results_say_when_each_customer_last_made_contact(staff: Staff) -> None:
    store = staff.running.hub.store
    first = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n, hours in enumerate((0, 5, 2)):  # the latest is not the last stored
        await store.record_inbound(
            InboundContact(
                Channel.WEBCHAT, Identity(IdentityKind.WEBCHAT, "v-last"), f"t{n}", "hello"
            ),
            queue="support",
            priority=0,
            now=first + timedelta(hours=hours),
        )
    await create(staff, "Quiet Customer")
    code, body = await staff.call("GET", "/api/v1/customers?limit=10", staff.agent)
    assert code == 200, body
    last = {
        c["name"] or c["identities"][0]["value"]: c["last_contact_at"] for c in body["customers"]
    }
    assert last == {"v-last": (first + timedelta(hours=5)).isoformat(), "Quiet Customer": None}


async def test_identities_are_added_and_removed_and_stay_unique(staff: Staff) -> None:
    one = await create(staff, "One", {"kind": "email", "value": "one@example.com"})
    two = await create(staff, "Two")
    path = f"/api/v1/customers/{two['customer_id']}/identities"
    code, body = await staff.call("POST", path, json={"kind": "email", "value": "ONE@example.com"})
    assert code == 409 and f"customer {one['customer_id']}" in error(body)
    code, body = await staff.call("POST", path, json={"kind": "webchat", "value": "v-42"})
    assert code == 201, body
    (added,) = body["customer"]["identities"]
    assert added["kind"] == "webchat"
    code, body = await staff.call("DELETE", f"{path}/{one['identities'][0]['identity_id']}")
    assert code == 404  # not this customer's
    code, body = await staff.call("DELETE", f"{path}/{added['identity_id']}")
    assert code == 200 and body["customer"]["identities"] == []
    # The visitor id is free again.
    code, body = await staff.call(
        "POST",
        f"/api/v1/customers/{one['customer_id']}/identities",
        json={"kind": "webchat", "value": "v-42"},
    )
    assert code == 201


async def test_merge_moves_everything_to_the_survivor_and_an_admin_moves_it_back(
    staff: Staff,
) -> None:
    keep = await create(staff, "Keep", {"kind": "webchat", "value": "v-keep"})
    dup = await create(
        staff,
        "Duplicate",
        {"kind": "webchat", "value": "v-dup"},
        {"kind": "email", "value": "dup@example.com"},
    )
    keep_id, dup_id = keep["customer_id"], dup["customer_id"]
    own = await chat(staff, "v-keep", "hello from keep")
    moved = await chat(staff, "v-dup", "hello from dup")

    merge = f"/api/v1/customers/{keep_id}/merge"
    code, body = await staff.call("POST", merge, staff.agent, {"from_customer_id": dup_id})
    assert code == 403
    code, body = await staff.call("POST", merge, json={"from_customer_id": keep_id})
    assert code == 400
    code, body = await staff.call("POST", merge, staff.supervisor, {"from_customer_id": dup_id})
    assert code == 200, body
    assert body["merge"]["moved"]["interactions"] == [moved]
    assert {i["value"] for i in body["customer"]["identities"]} == {
        "v-keep",
        "v-dup",
        "dup@example.com",
    }
    code, record = await staff.call("GET", f"/api/v1/customers/{keep_id}")
    assert sorted(i["interaction_id"] for i in record["interactions"]) == [own, moved]
    code, body = await staff.call("GET", f"/api/v1/customers/{dup_id}")
    assert code == 404  # gone from here, and the answer says where it went
    assert body["error"]["code"] == "not_found" and body["error"]["merged_into"] == keep_id
    _, found = await staff.call("GET", "/api/v1/customers?q=duplicate")
    assert found["customers"] == []
    # Merging again is refused: the merged customer is gone.
    code, body = await staff.call("POST", merge, json={"from_customer_id": dup_id})
    assert code == 404
    # The next message of the moved chat stays in it, on the survivor.
    later = await chat(staff, "v-dup", "me again")
    assert later == moved
    assert (await staff.running.hub.store.interaction(later)).customer_id == keep_id

    unmerge = f"/api/v1/customers/{keep_id}/unmerge"
    code, body = await staff.call("POST", unmerge, staff.supervisor, {"from_customer_id": dup_id})
    assert code == 403
    code, body = await staff.call("POST", unmerge, json={"from_customer_id": dup_id})
    assert code == 200, body
    assert {i["value"] for i in body["restored"]["identities"]} == {"v-dup", "dup@example.com"}
    assert [i["value"] for i in body["customer"]["identities"]] == ["v-keep"]
    _, record = await staff.call("GET", f"/api/v1/customers/{keep_id}")
    assert [i["interaction_id"] for i in record["interactions"]] == [own]
    _, record = await staff.call("GET", f"/api/v1/customers/{dup_id}")
    assert [i["interaction_id"] for i in record["interactions"]] == [moved]
    assert [m["body"] for m in record["interactions"][0]["messages"]][-1] == "me again"
    code, body = await staff.call("POST", unmerge, json={"from_customer_id": dup_id})
    assert code == 404

    (merged,) = await audit_actions(staff, "customer.merged")
    assert merged["actor"]["name"] == "sue@example.com"
    assert merged["details"]["from_customer_id"] == dup_id
    assert len(await audit_actions(staff, "customer.unmerged")) == 1


async def test_export_holds_everything_and_erasure_leaves_only_statistics(staff: Staff) -> None:
    made = await create(
        staff,
        "Erin Erase",
        {"kind": "webchat", "value": "v-erin"},
        {"kind": "email", "value": "erin@example.com"},
    )
    cid = made["customer_id"]
    iid = await chat(staff, "v-erin", "my account number is 12345")
    path = f"/api/v1/customers/{cid}"

    assert (await staff.call("GET", f"{path}/export", staff.supervisor))[0] == 403
    code, exported = await staff.call("GET", f"{path}/export")
    assert code == 200
    assert exported["profile"]["name"] == "Erin Erase"
    assert [m["body"] for m in exported["messages"]] == ["my account number is 12345"]
    assert [i["interaction_id"] for i in exported["interactions"]] == [iid]

    code, body = await staff.call("POST", f"{path}/erase", staff.supervisor, {"confirm": True})
    assert code == 403
    code, body = await staff.call("POST", f"{path}/erase", json={})
    assert code == 400 and "confirm" in error(body)
    code, body = await staff.call("POST", f"{path}/erase", json={"confirm": True})
    assert code == 409 and str(iid) in error(body)  # the chat is still open

    await staff.running.hub.store.transition(iid, Action.ABANDON, now=utc_now())
    code, body = await staff.call("POST", f"{path}/erase", json={"confirm": True})
    assert code == 200, body
    assert body["erased"]["identities"] == 2 and body["erased"]["interactions_kept"] == 1

    _, exported = await staff.call("GET", f"{path}/export")
    profile = exported["profile"]
    assert profile["name"] == "" and profile["identities"] == [] and profile["erased_at"]
    assert [m["body"] for m in exported["messages"]] == [""]
    assert "12345" not in str(exported) and "erin" not in str(exported).lower()
    # The interaction is still counted: channel, queue, state and times remain.
    _, listed = await staff.call("GET", "/api/v1/interactions", staff.supervisor)
    (kept,) = [i for i in listed["interactions"] if i["interaction_id"] == iid]
    assert (kept["channel"], kept["queue"], kept["state"]) == ("webchat", "support", "abandoned")
    _, found = await staff.call("GET", "/api/v1/customers?email=erin@example.com")
    assert found["customers"] == []
    # Erasure is final, and audited without the personal data.
    assert (await staff.call("POST", f"{path}/erase", json={"confirm": True}))[0] == 404
    (erased,) = await audit_actions(staff, "customer.erased")
    assert "erin" not in str(erased).lower()
    assert len(await audit_actions(staff, "customer.exported")) == 2
    # The same visitor writing again is a new, unknown customer.
    again = await chat(staff, "v-erin", "hello")
    assert (await staff.running.hub.store.interaction(again)).customer_id != cid


async def test_interactions_are_filtered_by_time_queue_agent_and_channel_in_cursor_pages(
    staff: Staff,
) -> None:
    store = staff.running.hub.store
    base = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    made = []
    for n in range(6):
        recorded = await store.record_inbound(
            InboundContact(Channel.WEBCHAT, Identity(IdentityKind.WEBCHAT, f"v{n}"), f"t{n}", "hi"),
            queue="billing" if n % 2 else "support",
            priority=0,
            now=base + timedelta(hours=n),
        )
        made.append(recorded.interaction.interaction_id)

    async def ids(query: str, token: str | None = None) -> list[int]:
        code, body = await staff.call("GET", f"/api/v1/interactions?{query}", token)
        assert code == 200, body
        return [i["interaction_id"] for i in body["interactions"]]

    window = "since=2026-11-02T10:00:00Z&until=2026-11-02T14:00:00Z"
    assert await ids(window) == [made[4], made[3], made[2], made[1]]
    assert await ids(f"{window}&queue=billing") == [made[3], made[1]]
    assert await ids("queue=support&state=queued&channel=webchat") == made[4::-2]
    pages, cursor = [], ""
    while True:
        code, body = await staff.call("GET", f"/api/v1/interactions?limit=4&cursor={cursor}")
        pages.append([i["interaction_id"] for i in body["interactions"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [made[:1:-1], made[1::-1]]
    code, body = await staff.call("GET", "/api/v1/interactions?since=yesterday")
    assert code == 400 and "since" in error(body)
    # Agents list only their own: none here, and no one else's by asking.
    assert await ids("", staff.agent) == []
    code, body = await staff.call("GET", "/api/v1/interactions?agent_id=1", staff.agent)
    assert code == 403


async def test_every_customers_route_is_in_the_openapi_document(staff: Staff) -> None:
    code, doc = await staff.call("GET", "/api/v1/openapi.json")
    assert code == 200
    routes = {
        (r.resource.canonical, r.method.lower())
        for r in staff.running.hub.app.router.routes()
        if r.resource is not None
        and (
            r.resource.canonical.startswith("/api/v1/customers")
            or r.resource.canonical == "/api/v1/interactions"
        )
        and r.method != "HEAD"
    }
    assert routes, "no routes found"
    missing = {
        (path, method) for path, method in routes if method not in doc["paths"].get(path, {})
    }
    assert missing == set()
    schemas = doc["components"]["schemas"]
    refs = {
        part.rsplit("/", 1)[1]
        for part in str(doc).split("'$ref': '")[1:]
        for part in [part.split("'", 1)[0]]
    }
    assert refs <= set(schemas)
