"""API keys over HTTP, for admins: list (with the known scopes), create (the key is in the
answer, once) and revoke. Creation and revocation go on the audit trail."""

from __future__ import annotations

from aiohttp import web

from hub.apikeys import SCOPES
from hub.audit import AuditAction as Did
from hub.audit_api import record
from hub.auth import ADMINS
from hub.errors import InvalidInput
from hub.representation import api_key_json
from hub.web import API_KEYS, actor, api, read_json


def _key_id(request: web.Request) -> int:
    try:
        return int(request.match_info["key_id"])
    except ValueError:
        raise InvalidInput("key_id must be an integer") from None


@api(ADMINS)
async def list_keys(request: web.Request) -> web.Response:
    keys = await request.app[API_KEYS].list()
    return web.json_response({"api_keys": [api_key_json(k) for k in keys], "scopes": SCOPES})


@api(ADMINS)
async def create_key(request: web.Request) -> web.Response:
    data = await read_json(request)
    unknown = set(data) - {"name", "scopes"}
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    made, key = await request.app[API_KEYS].create(
        data.get("name"), data.get("scopes"), by=actor(request).name
    )
    record(
        request,
        Did.API_KEY_CREATED,
        ("api_key", made.key_id),
        {"name": made.name, "prefix": made.prefix, "scopes": sorted(made.scopes)},
    )
    # The only time the key is shown: it is stored hashed.
    return web.json_response({"api_key": api_key_json(made), "key": key}, status=201)


@api(ADMINS)
async def revoke_key(request: web.Request) -> web.Response:
    keys = request.app[API_KEYS]
    before = await keys.get(_key_id(request))
    revoked = await keys.revoke(before.key_id)
    if before.active:
        record(
            request,
            Did.API_KEY_REVOKED,
            ("api_key", revoked.key_id),
            {"name": revoked.name, "prefix": revoked.prefix},
        )
    return web.json_response({"api_key": api_key_json(revoked)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/apikeys", list_keys)
    app.router.add_post("/api/v1/admin/apikeys", create_key)
    app.router.add_delete("/api/v1/admin/apikeys/{key_id}", revoke_key)
