"""Socket.IO edge helpers shared by the namespaces: cookie sign-in, the cross-site check,
the caller's address, connection refusals and error acknowledgements."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from hub.auth import SESSION_COOKIE, Authenticator
from hub.csrf import allowed_origins, origin_problem, token_matches
from hub.errors import HubError
from hub.model import User

log = logging.getLogger(__name__)

Ack = dict[str, Any]


def ok(**data: Any) -> Ack:
    return {"ok": True, **data}


def acknowledged(
    handler: Callable[..., Awaitable[Ack]],
) -> Callable[..., Awaitable[Ack]]:
    """Turn a ``HubError`` (or any crash) in an event handler into an error ack."""

    @functools.wraps(handler)
    async def wrapper(self: Any, sid: str, data: Any = None) -> Ack:
        try:
            return await handler(self, sid, data)
        except HubError as exc:
            return exc.to_dict()
        except Exception:
            log.exception("socket event %s failed", handler.__name__)
            return {"error": {"code": "error", "message": "internal error"}}

    return wrapper


def socket_address(environ: dict[str, Any]) -> str | None:
    """The address the connection came from (the proxy's, behind one)."""
    request = environ.get("aiohttp.request")
    address = request.remote if request is not None else environ.get("REMOTE_ADDR")
    return address if isinstance(address, str) else None


def refused(exc: HubError) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection: the client's ``connect_error`` carries the error's code."""
    error = exc.to_dict()["error"]
    return socketio.exceptions.ConnectionRefusedError(error["message"], error)


def session_token(environ: dict[str, Any]) -> str | None:
    request = environ.get("aiohttp.request")
    if request is not None:
        token = request.cookies.get(SESSION_COOKIE)
        return str(token) if token else None
    cookie = SimpleCookie()
    try:
        cookie.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


async def socket_user(environ: dict[str, Any], authenticator: Authenticator) -> User | None:
    return await authenticator.user_for(session_token(environ))


def csrf_problem(
    environ: dict[str, Any], auth: Any, token: str, public_url: str | None
) -> str | None:
    """Why a cookie-authenticated socket connection is refused as cross-site, or None: its
    handshake must come from the hub's own origin and its ``auth`` must carry the session's
    ``csrf_token`` (``hub.csrf``)."""
    request = environ.get("aiohttp.request")
    if request is not None:
        scheme, host = request.scheme, request.host
    else:
        scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST")
    allowed = allowed_origins(public_url, scheme, host)
    problem = origin_problem(environ.get("HTTP_ORIGIN"), environ.get("HTTP_REFERER"), allowed)
    if problem is not None:
        return problem
    presented = auth.get("csrf_token") if isinstance(auth, dict) else None
    if not token_matches(token, presented):
        return "the connection carries no valid csrf_token (from GET /api/v1/me)"
    return None
