"""Time-based one-time codes (RFC 6238, what authenticator apps show), pure: time comes in.

A code is six digits for a 30-second step; one step either side is accepted for clock drift.
``matching_step`` says which step a code belongs to, so the caller can refuse a code that was
already used (a replayed code): a step at or before the last one used is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp

ISSUER = "contact-hub"
STEP_S = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app takes (typed in or as a QR code)."""
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=email, issuer_name=ISSUER)


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, interval=STEP_S).at(at)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for around ``now``, or None if it is not valid."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        at = now + timedelta(seconds=offset * STEP_S)
        if pyotp.utils.strings_equal(totp.at(at), code):
            return int(totp.timecode(at))
    return None
