"""Socket.IO edge helpers shared by the namespaces: cookie sign-in and error acknowledgements."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

from hub.auth import SESSION_COOKIE, Authenticator
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
