"""Webhook subscriptions and their delivery logs over HTTP, for admins only.

    GET    /api/v1/admin/webhooks                                   list
    POST   /api/v1/admin/webhooks                                   add (the secret, once)
    GET    /api/v1/admin/webhooks/{id}                              read
    PATCH  /api/v1/admin/webhooks/{id}                              change url/events/...
    DELETE /api/v1/admin/webhooks/{id}                              remove
    POST   /api/v1/admin/webhooks/{id}/secret                       rotate (the new one, once)
    POST   /api/v1/admin/webhooks/{id}/ping                         send a ping event to try it
    GET    /api/v1/admin/webhooks/{id}/deliveries                   the delivery log
    POST   /api/v1/admin/webhooks/{id}/deliveries/{did}/redeliver   send again now

Every change goes on the audit trail (never the secret).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.audit import AuditAction as Did
from hub.audit_api import record
from hub.auth import ADMINS
from hub.errors import InvalidInput
from hub.text import id_param
from hub.web import api, read_json
from hub.webhook_admin import WebhookAdmin
from hub.webhooks import EVENT_TYPES, Subscription, delivery_json, subscription_json

WEBHOOKS = web.AppKey("webhooks", WebhookAdmin)
PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 500
BASE = "/api/v1/admin/webhooks"


def _id(request: web.Request, name: str = "subscription_id") -> int:
    return id_param(request.match_info[name], name)


def _query_int(request: web.Request, name: str, *, low: int, high: int) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _target(subscription: Subscription) -> tuple[str, object]:
    return ("webhook", subscription.subscription_id)


def _shown(subscription: Subscription) -> dict[str, Any]:
    """What the audit trail keeps of a subscription (not its URL, which may hold a token)."""
    return {"events": list(subscription.event_types), "enabled": subscription.enabled}


@api(ADMINS)
async def list_webhooks(request: web.Request) -> web.Response:
    found = await request.app[WEBHOOKS].subscriptions()
    return web.json_response(
        {"webhooks": [subscription_json(s) for s in found], "event_types": list(EVENT_TYPES)}
    )


@api(ADMINS)
async def add_webhook(request: web.Request) -> web.Response:
    subscription, secret = await request.app[WEBHOOKS].add(await read_json(request))
    record(request, Did.WEBHOOK_ADDED, _target(subscription), _shown(subscription))
    body = {"webhook": subscription_json(subscription), "secret": secret}
    return web.json_response(body, status=201, headers={"Cache-Control": "no-store"})


@api(ADMINS)
async def get_webhook(request: web.Request) -> web.Response:
    subscription = await request.app[WEBHOOKS].subscription(_id(request))
    return web.json_response({"webhook": subscription_json(subscription)})


@api(ADMINS)
async def change_webhook(request: web.Request) -> web.Response:
    fields = await read_json(request)
    subscription = await request.app[WEBHOOKS].change(_id(request), fields)
    details = _shown(subscription) | {"changed": sorted(fields)}
    record(request, Did.WEBHOOK_CHANGED, _target(subscription), details)
    return web.json_response({"webhook": subscription_json(subscription)})


@api(ADMINS)
async def remove_webhook(request: web.Request) -> web.Response:
    subscription = await request.app[WEBHOOKS].remove(_id(request))
    record(request, Did.WEBHOOK_REMOVED, _target(subscription), _shown(subscription))
    return web.Response(status=204)


@api(ADMINS)
async def rotate_secret(request: web.Request) -> web.Response:
    subscription, secret = await request.app[WEBHOOKS].rotate_secret(_id(request))
    record(request, Did.WEBHOOK_SECRET_ROTATED, _target(subscription))
    body = {"webhook": subscription_json(subscription), "secret": secret}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@api(ADMINS)
async def list_deliveries(request: web.Request) -> web.Response:
    limit = _query_int(request, "limit", low=1, high=MAX_PAGE_LIMIT) or PAGE_LIMIT
    before = _query_int(request, "before", low=1, high=2**62)
    page = await request.app[WEBHOOKS].deliveries(_id(request), limit=limit, before_id=before)
    cursor = page[-1].delivery_id if len(page) == limit else None
    return web.json_response(
        {"deliveries": [delivery_json(d) for d in page], "next_before": cursor}
    )


@api(ADMINS)
async def ping(request: web.Request) -> web.Response:
    delivery = await request.app[WEBHOOKS].ping(_id(request))
    return web.json_response({"delivery": delivery_json(delivery)}, status=202)


@api(ADMINS)
async def redeliver(request: web.Request) -> web.Response:
    subscription_id, delivery_id = _id(request), _id(request, "delivery_id")
    delivery = await request.app[WEBHOOKS].redeliver(subscription_id, delivery_id)
    details = {"delivery_id": delivery_id, "event_type": delivery.event_type}
    record(request, Did.WEBHOOK_REDELIVERED, ("webhook", subscription_id), details)
    return web.json_response({"delivery": delivery_json(delivery)}, status=202)


def add_routes(app: web.Application) -> None:
    one = BASE + r"/{subscription_id:\d+}"
    app.router.add_get(BASE, list_webhooks)
    app.router.add_post(BASE, add_webhook)
    app.router.add_get(one, get_webhook)
    app.router.add_patch(one, change_webhook)
    app.router.add_delete(one, remove_webhook)
    app.router.add_post(one + "/secret", rotate_secret)
    app.router.add_post(one + "/ping", ping)
    app.router.add_get(one + "/deliveries", list_deliveries)
    app.router.add_post(one + r"/deliveries/{delivery_id:\d+}/redeliver", redeliver)
