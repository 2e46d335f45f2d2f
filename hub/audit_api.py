"""The audit trail over HTTP: browse (JSON) and export (CSV), for admins only; and the helper
every route uses to put what a signed-in user did on the trail, with their address.

There is no route that changes or removes an entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from hub.audit import AuditAction as Did
from hub.audit import (
    AuditEntry,
    AuditQuery,
    csv_entry,
    csv_header,
    entry_json,
    next_cursor,
    query_from,
)
from hub.auth import ADMINS
from hub.ports import AuditStore
from hub.web import AUDIT, actor, api, page_limit

__all__ = ["AUDIT", "AUDIT_STORE", "record"]
AUDIT_STORE = web.AppKey("audit_store", AuditStore)
PAGE_LIMIT = 100
MAX_PAGE_LIMIT = 500
EXPORT_BATCH = 1000
FLUSH_TIMEOUT_S = 5.0


def record(
    request: web.Request,
    action: str,
    target: tuple[str, object] | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Put what the signed-in user (or API key) of ``request`` did on the audit trail."""
    request.app[AUDIT].record(actor(request), action, target=target, details=details)


async def audit_page(request: web.Request, query: AuditQuery) -> list[AuditEntry]:
    """One page of entries, after storing everything recorded so far (a reader sees their
    own actions, including this look)."""
    await request.app[AUDIT].flush(FLUSH_TIMEOUT_S)
    return await request.app[AUDIT_STORE].audit_entries(query)


async def all_entries(store: AuditStore, query: AuditQuery) -> AsyncIterator[AuditEntry]:
    """Every entry ``query`` matches, newest first, read in batches."""
    before = query.before_id
    while True:
        page = await store.audit_entries(
            AuditQuery(query.since, query.until, query.actor, query.action, before, EXPORT_BATCH)
        )
        for entry in page:
            yield entry
        if len(page) < EXPORT_BATCH:
            return
        before = page[-1].entry_id


def _filters(query: AuditQuery) -> dict[str, Any]:
    return {
        "since": query.since,
        "until": query.until,
        "actor": query.actor,
        "action": query.action,
    }


@api(ADMINS)
async def list_audit(request: web.Request) -> web.Response:
    limit = page_limit(request, default=PAGE_LIMIT, maximum=MAX_PAGE_LIMIT)
    query = query_from(request.query, limit=limit)
    page = await audit_page(request, query)
    return web.json_response(
        {"entries": [entry_json(e) for e in page], "next_cursor": next_cursor(page, limit)}
    )


@api(ADMINS)
async def export_audit_csv(request: web.Request) -> web.StreamResponse:
    query = query_from(request.query, limit=EXPORT_BATCH)
    await request.app[AUDIT].flush(FLUSH_TIMEOUT_S)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="audit.csv"',
            "Cache-Control": "private, no-store",
        }
    )
    await response.prepare(request)
    await response.write(csv_header().encode())
    rows = 0
    async for entry in all_entries(request.app[AUDIT_STORE], query):
        await response.write(csv_entry(entry).encode())
        rows += 1
    record(request, Did.AUDIT_EXPORTED, None, {"format": "csv", "rows": rows, **_filters(query)})
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/audit", list_audit)
    app.router.add_get("/api/v1/admin/audit.csv", export_audit_csv)
