"""The customers API under ``/api/v1/customers``: records, identities, search, merge, export
and erasure. The rules live in ``hub.customers``; storage in ``hub.storage.customers``.

Who may do what: any staff member may search and create customers; reading and changing one
follows ``hub.access`` (an agent: the customers they work or worked with; a supervisor
limited to some queues: the customers with an interaction in them; other supervisors and
admins: everyone); whoever may act on a customer may merge them into another (an agent links
their conversation to a customer found by search, ``hub.access.require_merge``); only admins
unmerge, export and erase, and each of those goes on the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.access import require_customer, require_merge
from hub.api import OFFERED, STORE, visible_customer
from hub.audit import AuditAction as Did
from hub.audit import parse_cursor
from hub.audit_api import record
from hub.auth import ADMINS, STAFF
from hub.customers import (
    CustomField,
    Merge,
    Profile,
    apply_custom,
    next_cursor,
    parse_identities,
    parse_identity,
    profile_changes,
    search_query,
)
from hub.errors import InvalidInput
from hub.events import CustomerChanged
from hub.model import User
from hub.ports import Clock, CustomerStore
from hub.representation import (
    custom_field_json,
    customer_record_json,
    iso,
    merge_json,
    profile_json,
)
from hub.text import id_param
from hub.web import api, caller, current_user, oversees, page_limit, read_json

PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200


CUSTOMERS = web.AppKey("customers", CustomerStore)
CUSTOM_FIELDS: web.AppKey[tuple[CustomField, ...]] = web.AppKey("custom_fields")
NOW: web.AppKey[Clock] = web.AppKey("customers_clock")  # the hub's clock
# Announces a committed change on the hub's bus (outbound webhooks customer.*).
ANNOUNCE: web.AppKey[Callable[[object], Awaitable[None]]] = web.AppKey("customers_announce")


async def _announce(
    request: web.Request,
    kind: str,
    profile: Profile,
    change: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    await request.app[ANNOUNCE](CustomerChanged(kind, profile, change, detail))


def _id(request: web.Request, name: str) -> int:
    return id_param(request.match_info[name], name)


def _body_id(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a customer id")
    return value


async def _checked(request: web.Request, data: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Profile changes from ``data``, each checked; the owner must be an active user."""
    fields: tuple[CustomField, ...] = request.app[CUSTOM_FIELDS]
    changes = profile_changes(data, fields, **extra)
    owner_id = changes.get("owner_id")
    if owner_id is not None:
        owner = await request.app[STORE].user(owner_id)
        if owner is None or owner.disabled:
            raise InvalidInput(f"owner_id: there is no active user {owner_id}")
    return changes


def _changed_fields(changes: Mapping[str, Any]) -> list[str]:
    """Which fields changed, for the audit trail (names only: values are personal data)."""
    fields = [k for k in changes if k != "custom"]
    fields += [f"custom.{k}" for k in changes.get("custom", {})]
    return sorted(fields)


@api(STAFF, scope="customers:read")
async def search_customers(request: web.Request) -> web.Response:
    """Live customers by name, company or any identity (``q``), or one exact identity
    (``email``, ``phone``, ``external=<system>:<id>``), by id, a page at a time; each with
    when their latest interaction began (``last_contact_at``), for a list to show."""
    limit = page_limit(request, default=PAGE_LIMIT, maximum=MAX_PAGE_LIMIT)
    query = search_query(
        request.query, after_id=parse_cursor(request.query.get("cursor")), limit=limit
    )
    customers = request.app[CUSTOMERS]
    page = await customers.search(query)
    last = await customers.last_contacts([p.customer_id for p in page])
    found = [{**profile_json(p), "last_contact_at": iso(last.get(p.customer_id))} for p in page]
    return web.json_response({"customers": found, "next_cursor": next_cursor(page, limit)})


@api(STAFF, scope="customers:write")
async def create_customer(request: web.Request) -> web.Response:
    data = await read_json(request)
    changes = await _checked(request, data, extra=("identities",))
    idents = parse_identities(data.get("identities"))
    if "custom" in changes:
        changes["custom"] = apply_custom({}, changes["custom"])
    profile = await request.app[CUSTOMERS].create(changes, idents, now=request.app[NOW]())
    record(
        request,
        Did.CUSTOMER_CREATED,
        ("customer", profile.customer_id),
        {"identities": len(idents)},
    )
    await _announce(request, "created", profile, "created")
    return web.json_response({"customer": profile_json(profile)}, status=201)


@api(STAFF, scope="customers:read")
async def get_customer(request: web.Request) -> web.Response:
    """The profile, identities, notes and full timeline of a customer the user may see."""
    customer_id = _id(request, "customer_id")
    rec = await request.app[STORE].customer(customer_id)
    who = caller(request)
    offered = request.app[OFFERED](who.user_id) if isinstance(who, User) else ()
    interactions = (r.interaction for r in rec.interactions)
    require_customer(who, customer_id, interactions, offered, oversees(request))
    profile = await request.app[CUSTOMERS].profile(customer_id)
    fields = [custom_field_json(f) for f in request.app[CUSTOM_FIELDS]]
    return web.json_response(
        {**customer_record_json(rec), **profile_json(profile), "custom_fields": fields}
    )


@api(STAFF, scope="customers:write")
async def update_customer(request: web.Request) -> web.Response:
    customer_id = _id(request, "customer_id")
    await visible_customer(request, customer_id)  # first: a refusal says nothing of the input
    data = await read_json(request)
    changes = await _checked(request, data)
    if not changes:
        raise InvalidInput("send at least one field to change")
    profile = await request.app[CUSTOMERS].update(customer_id, changes, now=request.app[NOW]())
    record(
        request,
        Did.CUSTOMER_UPDATED,
        ("customer", customer_id),
        {"fields": _changed_fields(changes)},
    )
    await _announce(request, "updated", profile, "profile", {"fields": _changed_fields(changes)})
    return web.json_response({"customer": profile_json(profile)})


@api(STAFF, scope="customers:write")
async def add_identity(request: web.Request) -> web.Response:
    customer_id = _id(request, "customer_id")
    await visible_customer(request, customer_id)  # first: a refusal says nothing of the input
    ident = parse_identity(await read_json(request), "identity")
    added = await request.app[CUSTOMERS].add_identity(customer_id, ident, now=request.app[NOW]())
    record(
        request,
        Did.CUSTOMER_IDENTITY_ADDED,
        ("customer", customer_id),
        {"identity_id": added.identity_id, "kind": added.kind.value},
    )
    profile = await request.app[CUSTOMERS].profile(customer_id)
    await _announce(request, "updated", profile, "identity_added")
    return web.json_response({"customer": profile_json(profile)}, status=201)


@api(STAFF, scope="customers:write")
async def remove_identity(request: web.Request) -> web.Response:
    customer_id = _id(request, "customer_id")
    identity_id = _id(request, "identity_id")
    await visible_customer(request, customer_id)
    removed = await request.app[CUSTOMERS].remove_identity(customer_id, identity_id)
    record(
        request,
        Did.CUSTOMER_IDENTITY_REMOVED,
        ("customer", customer_id),
        {"identity_id": identity_id, "kind": removed.kind.value},
    )
    profile = await request.app[CUSTOMERS].profile(customer_id)
    await _announce(request, "updated", profile, "identity_removed")
    return web.json_response({"customer": profile_json(profile)})


@api(STAFF)
async def merge_customers(request: web.Request) -> web.Response:
    """Fold ``from_customer_id`` into this customer: its identities, conversations,
    interactions and notes move here in one transaction; it is soft-deleted. The caller
    must be allowed to act on ``from_customer_id`` (``hub.access.require_merge``): an agent
    links the conversation they are working on to a customer they found by search."""
    survivor_id = _id(request, "customer_id")
    merged_id = _body_id(await read_json(request), "from_customer_id")
    await visible_customer(request, merged_id, rule=require_merge)
    merge = await request.app[CUSTOMERS].merge(
        survivor_id, merged_id, by_user_id=current_user(request).user_id, now=request.app[NOW]()
    )
    record(
        request,
        Did.CUSTOMER_MERGED,
        ("customer", survivor_id),
        {"merge_id": merge.merge_id, "from_customer_id": merged_id, **merge.moved.as_json()},
    )
    survivor = await request.app[CUSTOMERS].profile(survivor_id)
    await _announce(request, "merged", survivor, "merged", {"merge": merge_json(merge)})
    return web.json_response({"customer": profile_json(survivor), "merge": merge_json(merge)})


@api(ADMINS)
async def unmerge_customers(request: web.Request) -> web.Response:
    """Undo a merge: exactly what moved goes back to ``from_customer_id``, live again."""
    survivor_id = _id(request, "customer_id")
    merged_id = _body_id(await read_json(request), "from_customer_id")
    merge = await request.app[CUSTOMERS].unmerge(survivor_id, merged_id, now=request.app[NOW]())
    record(
        request,
        Did.CUSTOMER_UNMERGED,
        ("customer", survivor_id),
        {"merge_id": merge.merge_id, "from_customer_id": merged_id},
    )
    customers = request.app[CUSTOMERS]
    survivor = await customers.profile(survivor_id)
    restored = await customers.profile(merged_id)
    for profile in (survivor, restored):
        await _announce(request, "updated", profile, "unmerged", {"merge": merge_json(merge)})
    return web.json_response(
        {
            "customer": profile_json(survivor),
            "restored": profile_json(restored),
            "merge": merge_json(merge),
        }
    )


def _plain(value: Any) -> Any:
    """Rows and records as JSON: times in ISO 8601, files left out (named, not included)."""
    if isinstance(value, Profile):
        return profile_json(value)
    if isinstance(value, Merge):
        return merge_json(value)
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@api(ADMINS)
async def export_customer(request: web.Request) -> web.Response:
    """Everything held about the customer, as one JSON document (a subject access request)."""
    customer_id = _id(request, "customer_id")
    data = await request.app[CUSTOMERS].export(customer_id)
    body = _plain(data)
    body["exported_at"] = request.app[NOW]().isoformat()
    record(
        request,
        Did.CUSTOMER_EXPORTED,
        ("customer", customer_id),
        {k: len(v) for k, v in body.items() if isinstance(v, list)},
    )
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{customer_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


@api(ADMINS)
async def erase_customer(request: web.Request) -> web.Response:
    """Remove the customer's personal data for good (names, identities, message bodies,
    attachments, notes); their interactions stay, anonymous, for statistics."""
    customer_id = _id(request, "customer_id")
    data = await read_json(request)
    if data.get("confirm") is not True:
        raise InvalidInput("confirm must be true: erasure cannot be undone")
    erased = await request.app[CUSTOMERS].erase(customer_id, now=request.app[NOW]())
    record(request, Did.CUSTOMER_ERASED, ("customer", customer_id), erased)
    # Told so that systems kept in step erase their copy too; the profile is the anonymous one.
    await _announce(request, "updated", await request.app[CUSTOMERS].profile(customer_id), "erased")
    return web.json_response({"customer_id": customer_id, "erased": erased})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers", search_customers)
    app.router.add_post("/api/v1/customers", create_customer)
    app.router.add_get("/api/v1/customers/{customer_id}", get_customer)
    app.router.add_patch("/api/v1/customers/{customer_id}", update_customer)
    app.router.add_post("/api/v1/customers/{customer_id}/identities", add_identity)
    app.router.add_delete(
        "/api/v1/customers/{customer_id}/identities/{identity_id}", remove_identity
    )
    app.router.add_post("/api/v1/customers/{customer_id}/merge", merge_customers)
    app.router.add_post("/api/v1/customers/{customer_id}/unmerge", unmerge_customers)
    app.router.add_get("/api/v1/customers/{customer_id}/export", export_customer)
    app.router.add_post("/api/v1/customers/{customer_id}/erase", erase_customer)
