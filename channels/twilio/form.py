"""Reading a Twilio webhook's form fields (pure): a required field, a Twilio SID."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.errors import InvalidInput

SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


def field(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"{name} is missing")
    return value


def sid(form: Mapping[str, str], name: str) -> str:
    value = field(form, name).strip()
    if not SID.match(value):
        raise InvalidInput(f"{name}: {value[:40]!r} is not a Twilio SID")
    return value
