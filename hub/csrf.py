"""Cross-site request forgery defences, pure: the session-bound token and the origin check.

A browser sends the session cookie with any request to the hub, even one a foreign page
starts. So every cookie-authenticated request that changes state, and every console or
supervisor socket, must show both:

- an Origin (or, when a browser leaves it out, a Referer) that is the hub's own: the public
  URL's origin or the origin the request was addressed to (its scheme and Host);
- the CSRF token of its session, which only the hub's own pages can read (``GET /api/v1/me``
  and the sign-in answer carry it). It is an HMAC of the session token, so it needs no
  storage, dies with the session, and reveals nothing about the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from urllib.parse import urlsplit

CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(session_token: str) -> str:
    """The CSRF token bound to a session (the session token itself is the key)."""
    return hmac.new(session_token.encode(), b"contact-hub csrf", hashlib.sha256).hexdigest()


def token_matches(session_token: str, presented: object) -> bool:
    if not isinstance(presented, str) or len(presented) > 200:
        return False
    return hmac.compare_digest(csrf_token(session_token), presented)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped; None if it has
    no scheme and host (``null``, a path, garbage)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origins(public_url: str | None, scheme: str, host: str | None) -> set[str]:
    """The hub's own origins for one request: its public URL's and the one it was sent to."""
    found = {origin_of(public_url), origin_of(f"{scheme}://{host}") if host else None}
    return {o for o in found if o is not None}


def origin_problem(origin: str | None, referer: str | None, allowed: Collection[str]) -> str | None:
    """Why the request's origin is refused, or None when it is one of ``allowed``. The Origin
    header decides when present; a browser that omits it still sends a same-origin Referer."""
    claimed = origin if origin is not None else referer
    if not claimed:
        return "the request names no Origin or Referer"
    if origin_of(claimed) not in allowed:
        return "the request comes from another site"
    return None
