"""Phone calls through Twilio, parse and decide (pure): webhook forms in, records and words out.

Theory of operation
-------------------
Twilio posts a form at each step of a call: the incoming call, each menu answer (``<Gather>``),
each poll of the wait URL while the caller is in ``<Enqueue>``, the end of the wait, call
status, conference and recording callbacks. The ``parse_*`` functions turn those forms into
frozen records or refuse them whole with ``InvalidInput`` naming the field.

The IVR is a tree from ``twilio.ivr.menu``; a caller's place in it is a *path*, the keys
pressed joined by dots ("2", "1.3"; "" is the top menu). The path is what the interaction's
``ivr`` attribute holds, so routing rules can say ``ivr == "1.3"``. ``choose`` accepts a key
(DTMF) or a spoken word; anything else is an invalid choice.

Announcements use our routing engine's position and estimated wait, never Twilio's counters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from channels.twilio.form import SID
from channels.twilio.form import field as _field
from channels.twilio.form import sid as _sid
from hub.config import IvrChoice, IvrMenu
from hub.errors import InvalidInput
from hub.phone import region_of, to_e164

_URL = re.compile(r"^https?://[^\s<>\"']+$")
_PATH = re.compile(r"^([0-9*#](\.[0-9*#])*)?$")
MAX_PATH_CHARS = 40

# Call statuses after which the leg is gone.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CALL_STATUSES = FINAL_STATUSES | {"queued", "initiated", "ringing", "in-progress"}
# What an agent leg that never answered means to the routing engine.
UNREACHABLE = {"busy": "busy", "failed": "busy", "no-answer": "no_answer"}


@dataclass(frozen=True, slots=True)
class IncomingCall:
    call_sid: str
    customer_number: str  # From, E.164
    hub_number: str  # To, E.164: the number called


@dataclass(frozen=True, slots=True)
class CallStatus:
    call_sid: str
    status: str
    duration_s: int | None = None


@dataclass(frozen=True, slots=True)
class ConferenceEvent:
    conference_sid: str
    event: str  # conference-start, conference-end, participant-join, participant-leave ...
    call_sid: str | None  # the participant's leg, for participant events
    hold: bool | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    call_sid: str | None
    status: str
    url: str | None
    duration_s: int | None


def _seconds(form: Mapping[str, str], name: str) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(f"{name} must be a whole number of seconds")
    return int(raw)


def call_sid_of(form: Mapping[str, str]) -> str:
    return _sid(form, "CallSid")


def parse_incoming(form: Mapping[str, str]) -> IncomingCall:
    sid = _sid(form, "CallSid")
    hub_number = to_e164(form.get("To"), field="To")
    caller = form.get("From", "").strip()
    try:
        customer_number = to_e164(caller, field="From", region=region_of(hub_number))
    except InvalidInput:
        # Withheld or unknown caller ID ("anonymous", "+266696687"): still a caller.
        customer_number = "anonymous"
    return IncomingCall(sid, customer_number, hub_number)


def parse_status(form: Mapping[str, str]) -> CallStatus:
    sid = _sid(form, "CallSid")
    status = _field(form, "CallStatus").strip().lower()
    if status not in CALL_STATUSES:
        raise InvalidInput(f"CallStatus: {status[:20]!r} is not a call status")
    return CallStatus(sid, status, _seconds(form, "CallDuration"))


def parse_conference(form: Mapping[str, str]) -> ConferenceEvent:
    sid = _sid(form, "ConferenceSid")
    event = _field(form, "StatusCallbackEvent").strip().lower()
    if not re.match(r"^[a-z-]{1,40}$", event):
        raise InvalidInput("StatusCallbackEvent is not an event name")
    call_sid = form.get("CallSid", "").strip() or None
    if call_sid is not None and not SID.match(call_sid):
        raise InvalidInput("CallSid is not a Twilio SID")
    hold = form.get("Hold")
    return ConferenceEvent(sid, event, call_sid, None if hold is None else hold == "true")


def parse_recording(form: Mapping[str, str]) -> Recording:
    call_sid = form.get("CallSid", "").strip() or None
    if call_sid is not None and not SID.match(call_sid):
        raise InvalidInput("CallSid is not a Twilio SID")
    status = _field(form, "RecordingStatus").strip().lower()
    url = form.get("RecordingUrl", "").strip() or None
    if url is not None and (len(url) > 2000 or not _URL.match(url)):
        raise InvalidInput("RecordingUrl must be an http(s) URL")
    return Recording(call_sid, status, url, _seconds(form, "RecordingDuration"))


# ---------------------------------------------------------------------- the menu
def check_path(path: str) -> str:
    if len(path) > MAX_PATH_CHARS or not _PATH.match(path):
        raise InvalidInput("path must be menu keys joined by dots, like 1.3")
    return path


def menu_at(menu: IvrMenu, path: str) -> IvrMenu:
    """The menu a caller at ``path`` hears; ``InvalidInput`` when there is none."""
    current = menu
    for key in check_path(path).split(".") if path else ():
        choice = next((c for c in current.choices if c.key == key), None)
        if choice is None or choice.menu is None:
            raise InvalidInput(f"path {path!r} is not a menu")
        current = choice.menu
    return current


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def choose(menu: IvrMenu, digits: str | None, speech: str | None) -> IvrChoice | None:
    """The choice a caller made by key or by voice, or None (nothing valid)."""
    if digits:
        return next((c for c in menu.choices if c.key == digits.strip()), None)
    if speech:
        said = _words(speech)
        for choice in menu.choices:
            for word in [*choice.words, choice.key]:
                if _words(word) and re.search(rf"\b{re.escape(_words(word))}\b", said):
                    return choice
    return None


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def menu_text(menu: IvrMenu) -> str:
    """What the caller hears: the prompt, then each choice with its key."""
    parts = [menu.prompt.strip()] if menu.prompt.strip() else []
    for choice in menu.choices:
        key = {"*": "star", "#": "pound"}.get(choice.key, choice.key)
        parts.append(f"{choice.say.strip().rstrip('.')}, press {key}.")
    return " ".join(parts)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def position_text(position: int | None, estimated_wait_s: float | None) -> str:
    """The announcement of a caller's place in the queue."""
    if position is None:
        return "Please hold, we are connecting you."
    text = "You are next in line." if position == 1 else f"You are number {position} in the queue."
    if estimated_wait_s is not None:
        text += f" The estimated wait is about {_minutes(estimated_wait_s)}."
    return text


def seconds_between(start: datetime | None, end: datetime) -> float | None:
    """A call's ring or talk time, to a tenth of a second (None if it never started)."""
    return None if start is None else round((end - start).total_seconds(), 1)


def call_thread_key(call_sid: str) -> str:
    return f"voice:{call_sid}"
