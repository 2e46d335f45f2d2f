"""The hub's errors: one small tree, each with a stable ``code`` that is part of the API.

    HubError                      code "error"
    ├── InvalidInput              "invalid_input"  (HTTP 400)
    ├── Unauthorised              "unauthorised"   (HTTP 401)
    ├── Forbidden                 "forbidden"      (HTTP 403)
    ├── NotFound                  "not_found"      (HTTP 404)
    ├── Conflict                  "conflict"       (HTTP 409)
    │   └── IllegalTransition     "conflict"       (a state change the lifecycle refuses)
    ├── RateLimited               "rate_limited"   (HTTP 429, with Retry-After)
    └── Unavailable               "unavailable"    (HTTP 503, e.g. the database is down)

Edges translate these into their own language (HTTP JSON, Socket.IO ack, SMTP reply);
codes are never renamed.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    code = "error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidInput(HubError):
    code = "invalid_input"
    status = 400


class Unauthorised(HubError):
    code = "unauthorised"
    status = 401


class Forbidden(HubError):
    code = "forbidden"
    status = 403


class NotFound(HubError):
    code = "not_found"
    status = 404


class Conflict(HubError):
    code = "conflict"
    status = 409


class RateLimited(HubError):
    """Too many attempts; ``retry_after_s`` says when to try again."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class IllegalTransition(Conflict):
    """The interaction lifecycle (or the router) refused a state change."""


class Unavailable(HubError):
    code = "unavailable"
    status = 503
