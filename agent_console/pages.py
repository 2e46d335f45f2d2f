"""The console's pages: sign-in, the agent console, the supervisor wallboard, the
historical reports, the customer records and the knowledge base's management page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.auth import STAFF, SUPERVISORS
from hub.web import page, public, softphone

STATIC = Path(__file__).with_name("static")


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")


@public
async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


@softphone
@page(STAFF)
async def console_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "console.html")


@page(SUPERVISORS)
async def supervisor_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "supervisor.html")


@page(SUPERVISORS)
async def history_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "history.html")


@page(STAFF)
async def customers_page(request: web.Request) -> web.StreamResponse:
    """The search and every record: one page, whose script reads the id from the path; the
    customers API decides what the signed-in user may read."""
    return web.FileResponse(STATIC / "customers.html")


@page(SUPERVISORS)
async def knowledge_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "kb.html")


@public
async def favicon(request: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/login", login_page)
    app.router.add_get("/console", console_page)
    app.router.add_get("/console/supervisor", supervisor_page)
    app.router.add_get("/console/supervisor/history", history_page)
    app.router.add_get("/console/customers", customers_page)
    app.router.add_get("/console/customers/{customer_id}", customers_page)
    app.router.add_get("/console/kb", knowledge_page)
    app.router.add_static("/console/static", STATIC)
