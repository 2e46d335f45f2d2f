"""The hub's errors: one small tree, each with a stable ``code`` that is part of the API.

    HubError                      code "error"
    ├── InvalidInput              "invalid_input"  (HTTP 400)
    ├── Unauthorised              "unauthorised"   (HTTP 401)
    │   └── TotpRequired          "totp_required"  (the account needs its authenticator code)
    ├── Forbidden                 "forbidden"      (HTTP 403)
    │   ├── PasswordChangeRequired "password_change_required" (first sign-in: change it first)
    │   └── CsrfRefused           "csrf"           (foreign Origin or missing/wrong CSRF token)
    ├── NotFound                  "not_found"      (HTTP 404)
    │   └── CustomerMerged        "not_found"      (with merged_into: the customer it became)
    ├── Conflict                  "conflict"       (HTTP 409)
    │   ├── IllegalTransition     "conflict"       (a state change the lifecycle refuses)
    │   └── StaleRouter           "stale_router"   (a claim from a router whose lease ended)
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


class TotpRequired(Unauthorised):
    """The password was right; the account also needs the code from its authenticator app."""

    code = "totp_required"


class Forbidden(HubError):
    code = "forbidden"
    status = 403


class PasswordChangeRequired(Forbidden):
    """The account signed in with a temporary password, which must be changed first."""

    code = "password_change_required"


class CsrfRefused(Forbidden):
    """A cookie-authenticated request from a foreign origin or without the session's token."""

    code = "csrf"


class NotFound(HubError):
    code = "not_found"
    status = 404


class CustomerMerged(NotFound):
    """A customer folded into another: not found here, and the answer names where it went
    (``{"error": {"code": "not_found", "message", "merged_into"}}``)."""

    def __init__(self, customer_id: int, merged_into: int) -> None:
        super().__init__(f"customer {customer_id} was merged into customer {merged_into}")
        self.merged_into = merged_into

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["error"]["merged_into"] = self.merged_into
        return out


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

    def to_dict(self) -> dict[str, Any]:
        error = super().to_dict()
        error["error"]["retry_after_s"] = round(self.retry_after_s, 1)
        return error


class IllegalTransition(Conflict):
    """The interaction lifecycle (or the router) refused a state change."""


class StaleRouter(Conflict):
    """A claim carried a fencing token older than the current router's: refused whole."""

    code = "stale_router"


class Unavailable(HubError):
    code = "unavailable"
    status = 503
