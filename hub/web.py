"""HTTP edge helpers: the access policy every route declares, JSON errors, security headers.

Every route handler declares who may call it with ``@public``, ``@api(roles)``,
``@page(roles)`` or, for machines, ``@from_networks(networks)``; one middleware enforces it.
An ``@api`` route may also name the scope an integration's API key needs
(``@api(STAFF, scope="customers:read")``): a request with ``Authorization: Bearer <key>``
reaches only such routes, with a key that is active and carries that scope; it is not a
cookie session, so it needs no CSRF token, and it never opens a page or a socket. Every use
of a key goes on the audit trail with the key as the actor (kind "api").
A handler that declares nothing is refused (default deny), except the static-file
resources, which are public. The same middleware refuses cross-site requests
(``hub.csrf``): a state-changing ``/api/`` request that carries the session cookie needs the
hub's own Origin and the session's CSRF token. An account with a temporary password reaches
only the routes marked ``@before_password_change``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from aiohttp import web

from hub.access import Oversight, Queues
from hub.apikeys import SCOPES, ApiKeys
from hub.audit import Actor, ActorKind
from hub.audit import AuditAction as Did
from hub.audit_trail import Audit
from hub.auth import SESSION_COOKIE, Authenticator
from hub.csrf import CSRF_HEADER, STATE_CHANGING, allowed_origins, origin_problem, token_matches
from hub.errors import (
    CsrfRefused,
    Forbidden,
    HubError,
    InvalidInput,
    PasswordChangeRequired,
    RateLimited,
    Unauthorised,
)
from hub.model import Role, User
from hub.ports import ApiKey
from hub.proxies import address_in

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
API_KEYS = web.AppKey("api_keys", ApiKeys)
AUDIT = web.AppKey("audit", Audit)
OVERSIGHT = web.AppKey("oversight", Oversight)
FRAME_ANCESTORS = web.AppKey("frame_ancestors", str)
# Extra CSP sources, by directive, for pages marked ``softphone`` (the browser phone's
# signalling and sounds); empty unless the browser phone is set up.
SOFTPHONE_SOURCES: web.AppKey[dict[str, str]] = web.AppKey("softphone_sources")
PUBLIC_URL = web.AppKey("public_url", str)  # http.public_url, or "" when not set
USER = web.RequestKey("hub_user", User)
API_KEY = web.RequestKey("hub_api_key", ApiKey)
BEARER = "Bearer "
SOCKET_IO_PATH = "/socket.io/"
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def public(handler: Handler) -> Handler:
    handler._hub_access = ("public", frozenset())  # type: ignore[attr-defined]
    return handler


def api(roles: Iterable[Role], scope: str | None = None) -> Callable[[Handler], Handler]:
    """Signed-in users with one of ``roles``; and API keys carrying ``scope``, when the route
    names one (a route without a scope refuses every key)."""
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown API key scope {scope!r}; add it to hub.apikeys.SCOPES")

    def mark(handler: Handler) -> Handler:
        handler._hub_access = ("api", frozenset(roles))  # type: ignore[attr-defined]
        handler._hub_scope = scope  # type: ignore[attr-defined]
        return handler

    return mark


def page(roles: Iterable[Role]) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        handler._hub_access = ("page", frozenset(roles))  # type: ignore[attr-defined]
        return handler

    return mark


def from_networks(networks: Iterable[IPv4Network | IPv6Network]) -> Callable[[Handler], Handler]:
    """For machines, not people (``/metrics``): only callers whose address is in ``networks``.
    A request relayed by a proxy is refused, since its address would be the proxy's."""

    def mark(handler: Handler) -> Handler:
        handler._hub_access = ("network", frozenset(networks))  # type: ignore[attr-defined]
        return handler

    return mark


def _directly_from(request: web.Request, networks: frozenset[IPv4Network | IPv6Network]) -> bool:
    if any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    return address_in(request.remote, tuple(networks))


def signs_in(handler: Handler) -> Handler:
    """The sign-in route: it carries credentials, not a session, so it needs no CSRF token
    (its Origin is still checked)."""
    handler._hub_signs_in = True  # type: ignore[attr-defined]
    return handler


def before_password_change(handler: Handler) -> Handler:
    """Routes an account with a temporary password may use: to change it, or to leave."""
    handler._hub_before_password_change = True  # type: ignore[attr-defined]
    return handler


def embeddable(handler: Handler) -> Handler:
    """Pages that other sites may frame (the chat box), within ``webchat.embed_origins``."""
    handler._hub_embeddable = True  # type: ignore[attr-defined]
    return handler


def softphone(handler: Handler) -> Handler:
    """Pages that may run the browser phone: their CSP allows ``SOFTPHONE_SOURCES``."""
    handler._hub_softphone = True  # type: ignore[attr-defined]
    return handler


def current_user(request: web.Request) -> User:
    user: User | None = request.get(USER)
    if user is None:
        raise Unauthorised("sign in first")
    return user


def caller(request: web.Request) -> User | ApiKey:
    """Who is asking: the signed-in user, or the integration's API key."""
    key: ApiKey | None = request.get(API_KEY)
    return key if key is not None else current_user(request)


def oversees(request: web.Request) -> Queues:
    """The queues the caller oversees: a limited supervisor's (``hub.access``); None, all."""
    who = caller(request)
    if isinstance(who, ApiKey):
        return None
    return request.app[OVERSIGHT].queues_of(who)


def key_actor(key: ApiKey, address: str | None) -> Actor:
    return Actor(ActorKind.API, key.name, key.key_id, address)


def actor(request: web.Request) -> Actor:
    """The audit actor of ``request``: its user or its API key, from the request's address."""
    who = caller(request)
    if isinstance(who, ApiKey):
        return key_actor(who, request.remote)
    return Actor.of_user(who, request.remote)


def error_response(exc: HubError) -> web.Response:
    response = web.json_response(exc.to_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    return response


def page_limit(request: web.Request, *, default: int, maximum: int) -> int:
    """The ``limit`` query parameter: a whole number from 1 to ``maximum``."""
    raw = request.query.get("limit", "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidInput(f"limit must be a whole number from 1 to {maximum}")
    return int(raw)


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
    key = _bearer(request)
    if key is not None and kind == "api":
        return await _with_api_key(request, handler, key)
    if request.method in STATE_CHANGING and request.path.startswith("/api/"):
        check_csrf(request, needs_token=not getattr(route_handler, "_hub_signs_in", False))
    if kind == "public":
        return await handler(request)
    if kind == "network":
        if not _directly_from(request, roles):
            raise Forbidden("this address may not read this")
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
    if user.must_change_password and not getattr(
        route_handler, "_hub_before_password_change", False
    ):
        if kind == "page":
            raise web.HTTPFound(f"/login?next={request.path}")
        raise PasswordChangeRequired(
            "change your temporary password first (POST /api/v1/session/password)"
        )
    request[USER] = user
    return await handler(request)


def _bearer(request: web.Request) -> str | None:
    """The API key of an ``Authorization: Bearer`` header; None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    if not header.startswith(BEARER) or not header[len(BEARER) :].strip():
        raise Unauthorised("send the API key as: Authorization: Bearer <key>")
    return header[len(BEARER) :].strip()


async def _with_api_key(request: web.Request, handler: Handler, key: str) -> web.StreamResponse:
    """Serve an integration: an active key with the route's scope; each use audited."""
    record = await request.app[API_KEYS].authenticate(key)
    if record is None:
        log.warning("refused %s %s: unknown or revoked API key", request.method, request.path)
        raise Unauthorised("unknown or revoked API key")
    audit, who = request.app[AUDIT], key_actor(record, request.remote)
    scope = getattr(request.match_info.handler, "_hub_scope", None)
    if scope is None or scope not in record.scopes:
        reason = (
            "this route does not take API keys; a person must sign in"
            if scope is None
            else f"this API key lacks the {scope} scope"
        )
        audit.record(who, Did.API_REFUSED, details=_use(request, reason=reason))
        raise Forbidden(reason)
    request[API_KEY] = record
    try:
        response = await handler(request)
    except HubError as exc:  # a use that failed is still a use
        audit.record(who, Did.API_USED, details=_use(request, status=exc.status))
        raise
    audit.record(who, Did.API_USED, details=_use(request, status=response.status))
    return response


def _use(request: web.Request, **more: object) -> dict[str, object]:
    return {"method": request.method, "path": request.path, **more}


def check_csrf(request: web.Request, *, needs_token: bool) -> None:
    """CsrfRefused unless a state-changing request is the hub's own. Without a session
    cookie there is nothing to forge, so only a foreign Origin is refused; with one, the
    Origin (or Referer) must be the hub's and the session's token must come with it."""
    token = request.cookies.get(SESSION_COOKIE)
    origin, referer = request.headers.get("Origin"), request.headers.get("Referer")
    if not token and origin is None and referer is None:
        return
    allowed = allowed_origins(request.app[PUBLIC_URL], request.scheme, request.host)
    problem = origin_problem(origin, referer, allowed)
    if problem is not None:
        log.warning("refused %s %s: %s", request.method, request.path, problem)
        raise CsrfRefused(f"{problem}; use the hub's own pages")
    if token and needs_token and not token_matches(token, request.headers.get(CSRF_HEADER)):
        log.warning("refused %s %s: no valid CSRF token", request.method, request.path)
        raise CsrfRefused(f"send the {CSRF_HEADER} header from GET /api/v1/me")


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


async def secure_prepared(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a streamed response (a CSV export) sends its headers before
    ``headers_middleware`` sees it, so the same headers are set here as it starts."""
    _secure(request, response)


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    frame = "'none'"
    if getattr(request.match_info.handler, "_hub_embeddable", False):
        frame = request.app[FRAME_ANCESTORS]
    extra: dict[str, str] = {}
    if getattr(request.match_info.handler, "_hub_softphone", False):
        extra = request.app.get(SOFTPHONE_SOURCES) or {}
    connect = " ".join(["'self'", *extra.get("connect-src", "").split()])
    media = f"media-src 'self' {extra['media-src']}; " if extra.get("media-src") else ""
    h = response.headers
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; {media}object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame}",
    )
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    if frame == "'none'":
        h.setdefault("X-Frame-Options", "DENY")
