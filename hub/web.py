"""HTTP edge helpers: the access policy every route declares, JSON errors, security headers.

Every route handler declares who may call it with ``@public``, ``@api(roles)`` or
``@page(roles)``; one middleware enforces it. A handler that declares nothing is refused
(default deny), except the static-file resources, which are public.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from hub.auth import SESSION_COOKIE, Authenticator
from hub.errors import Forbidden, HubError, InvalidInput, RateLimited, Unauthorised
from hub.model import Role, User

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
FRAME_ANCESTORS = web.AppKey("frame_ancestors", str)
USER = web.RequestKey("hub_user", User)
SOCKET_IO_PATH = "/socket.io/"


def public(handler: Handler) -> Handler:
    handler._hub_access = ("public", frozenset())  # type: ignore[attr-defined]
    return handler


def api(roles: Iterable[Role]) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        handler._hub_access = ("api", frozenset(roles))  # type: ignore[attr-defined]
        return handler

    return mark


def page(roles: Iterable[Role]) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        handler._hub_access = ("page", frozenset(roles))  # type: ignore[attr-defined]
        return handler

    return mark


def embeddable(handler: Handler) -> Handler:
    """Pages that other sites may frame (the chat box), within ``webchat.embed_origins``."""
    handler._hub_embeddable = True  # type: ignore[attr-defined]
    return handler


def current_user(request: web.Request) -> User:
    user: User | None = request.get(USER)
    if user is None:
        raise Unauthorised("sign in first")
    return user


def error_response(exc: HubError) -> web.Response:
    response = web.json_response(exc.to_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    return response


async def read_json(request: web.Request) -> dict[str, Any]:
    # Requiring the JSON content type means a cross-site HTML form can never post here.
    if request.content_type != "application/json":
        raise InvalidInput("send the request body as application/json")
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the request body must be JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    return data


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HubError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if request.path.startswith("/api/") and exc.status >= 400:
            code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
                exc.status, "error"
            )
            return web.json_response(
                {"error": {"code": code, "message": exc.reason}}, status=exc.status
            )
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response(
            {"error": {"code": "error", "message": "internal error"}}, status=500
        )


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(SOCKET_IO_PATH):
        return await handler(request)  # each Socket.IO namespace authenticates itself
    route_handler = request.match_info.handler
    access = getattr(route_handler, "_hub_access", None)
    if access is None:
        resource = request.match_info.route.resource
        if isinstance(resource, web.StaticResource) or request.match_info.http_exception:
            return await handler(request)
        log.error("route %s declares no access policy; refused", request.path)
        raise Forbidden("this route declares no access policy")
    kind, roles = access
    if kind == "public":
        return await handler(request)
    authenticator = request.app[AUTHENTICATOR]
    user = await authenticator.user_for(request.cookies.get(SESSION_COOKIE))
    if user is None:
        if kind == "page":
            raise web.HTTPFound(f"/login?next={request.path}")
        raise Unauthorised("sign in first")
    if user.role not in roles:
        if kind == "page":
            return web.Response(status=403, text="Your role may not open this page.")
        raise Forbidden(f"the {user.role.value} role may not do this")
    request[USER] = user
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _secure(request, response)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    frame = "'none'"
    if getattr(request.match_info.handler, "_hub_embeddable", False):
        frame = request.app[FRAME_ANCESTORS]
    h = response.headers
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors {frame}",
    )
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    if frame == "'none'":
        h.setdefault("X-Frame-Options", "DENY")
