"""Plays Twilio's side of a phone call, step by step, the way Twilio's voice engine does.

Each step is a signed POST of the form Twilio sends, to the URL the hub's last TwiML named:
the incoming call to the number's voice URL, a ``<Gather>`` answer to its ``action``, silence
to the ``<Redirect>`` after it, polls of the ``<Enqueue>`` ``waitUrl``, the end of the wait to
its ``action``, then the agent leg's status callbacks, the conference's events and the
recording callbacks. Answers are parsed as XML (``Twiml``); nothing is compared as a string.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.twilio_webhooks import Answer, TwilioSide


def call_sid() -> str:
    return "CA" + secrets.token_hex(16)


@dataclass
class Twiml:
    """A parsed TwiML answer."""

    answer: Answer
    root: ET.Element = field(init=False)

    def __post_init__(self) -> None:
        assert self.answer.status == 200, (self.answer.status, self.answer.text)
        assert self.answer.content_type == "text/xml", self.answer.content_type
        self.root = ET.fromstring(self.answer.text)
        assert self.root.tag == "Response"

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def first(self, tag: str) -> ET.Element:
        found = self.root.find(f".//{tag}")
        assert found is not None, f"no <{tag}> in {self.verbs}"
        return found

    def has(self, tag: str) -> bool:
        return self.root.find(f".//{tag}") is not None

    @property
    def spoken(self) -> str:
        """Everything the caller hears said, in order."""
        return " ".join((say.text or "").strip() for say in self.root.iter("Say"))


def twiml_of(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


@dataclass
class CallFlow:
    """One caller's call to one of the hub's numbers."""

    twilio: TwilioSide
    from_number: str
    to_number: str
    sid: str = field(default_factory=call_sid)
    last: Twiml | None = None

    def _base(self, status: str = "in-progress") -> dict[str, str]:
        return {
            "AccountSid": self.twilio.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": status,
            "Called": self.to_number,
            "Caller": self.from_number,
            "Direction": "inbound",
            "From": self.from_number,
            "To": self.to_number,
            "FromCountry": "US",
            "ToCountry": "US",
        }

    async def post(self, url: str, form: dict[str, str], **kwargs: Any) -> Answer:
        assert url.startswith(self.twilio.public_url), url
        return await self.twilio.post(url.removeprefix(self.twilio.public_url), form, **kwargs)

    async def _twiml(self, url: str, form: dict[str, str]) -> Twiml:
        self.last = Twiml(await self.post(url, form))
        return self.last

    # ------------------------------------------------------------------ answering
    async def dial(self, **kwargs: Any) -> Answer:
        """The incoming call, to the number's voice URL (``kwargs``: signature options)."""
        return await self.post(
            self.twilio.public_url + "/twilio/voice", self._base("ringing"), **kwargs
        )

    async def ring(self) -> Twiml:
        self.last = Twiml(await self.dial())
        return self.last

    def _gather(self) -> ET.Element:
        assert self.last is not None
        return self.last.first("Gather")

    async def press(self, digits: str) -> Twiml:
        """Keys pressed during the last ``<Gather>``: Twilio posts them to its action."""
        gather = self._gather()
        form = {**self._base(), "Digits": digits, "FinishedOnKey": ""}
        return await self._twiml(gather.attrib["action"], form)

    async def speak(self, words: str) -> Twiml:
        gather = self._gather()
        form = {**self._base(), "SpeechResult": words, "Confidence": "0.92"}
        return await self._twiml(gather.attrib["action"], form)

    async def silence(self) -> Twiml:
        """The caller said nothing: the ``<Gather>`` times out and Twilio follows the next
        verb, the ``<Redirect>``."""
        assert self.last is not None
        redirect = self.last.first("Redirect")
        return await self._twiml((redirect.text or "").strip(), self._base())

    # ------------------------------------------------------------------ voicemail
    def form(self, **fields: str) -> dict[str, str]:
        """What Twilio posts about this call while it is up, plus ``fields``."""
        return {**self._base(), **fields}

    async def follow(self, url: str, **fields: str) -> Twiml:
        """Twilio fetching the next TwiML at ``url`` (a ``<Redirect>``, a ``<Gather>`` action
        with ``Digits``): the answer becomes the call's current TwiML."""
        return await self._twiml(url, {**self._base(), **fields})

    async def leave_voicemail(
        self, recording_url: str, duration_s: int, *, record: ET.Element | None = None
    ) -> Twiml:
        """Speak after the beep and hang up: the ``<Record>`` action, then (later, when the
        file is ready) the recording status callback. ``record``: the ``<Record>`` of TwiML
        the hub gave by REST; by default that of the last answer."""
        if record is None:
            assert self.last is not None
            record = self.last.first("Record")
        form = {
            **self._base(),
            "RecordingUrl": recording_url,
            "RecordingDuration": str(duration_s),
            "RecordingSid": "RE" + secrets.token_hex(16),
            "Digits": "hangup",
        }
        done = await self._twiml(record.attrib["action"], form)
        answer = await self.post(
            record.attrib["recordingStatusCallback"],
            self.recording_form(recording_url, duration_s),
        )
        assert answer.status < 300, answer.text
        return done

    def recording_form(self, url: str, duration_s: int) -> dict[str, str]:
        return {
            "AccountSid": self.twilio.account_sid,
            "CallSid": self.sid,
            "RecordingSid": "RE" + secrets.token_hex(16),
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": str(duration_s),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        }

    # ------------------------------------------------------------------ waiting
    @property
    def enqueue(self) -> ET.Element:
        assert self.last is not None
        return self.last.first("Enqueue")

    async def poll_wait(self, enqueue: ET.Element, *, queue_time_s: int = 0) -> Twiml:
        """One poll of the wait URL (Twilio's own counters are sent too; the hub must use its
        engine's instead, so they are deliberately wrong here)."""
        form = {
            **self._base(),
            "QueueSid": "QU" + "0" * 32,
            "QueuePosition": "99",
            "QueueTime": str(queue_time_s),
            "AvgQueueTime": "999",
            "CurrentQueueSize": "99",
            "MaxQueueSize": "100",
        }
        return Twiml(await self.post(enqueue.attrib["waitUrl"], form))

    async def press_while_waiting(self, wait: Twiml, digits: str) -> Twiml:
        gather = wait.first("Gather")
        return Twiml(await self.post(gather.attrib["action"], {**self._base(), "Digits": digits}))

    async def hang_up_waiting(self, enqueue: ET.Element) -> None:
        """The caller hangs up in the queue: the ``<Enqueue>`` action (QueueResult=hangup),
        then the number's call status callback."""
        form = {**self._base("completed"), "QueueResult": "hangup", "QueueTime": "12"}
        Twiml(await self.post(enqueue.attrib["action"], form))
        await self.status("completed", duration_s=40)

    async def status(self, status: str, *, duration_s: int | None = None) -> None:
        """The number's call status callback (``twilio configure`` sets it)."""
        form = {**self._base(status), "CallbackSource": "call-progress-events"}
        if duration_s is not None:
            form["CallDuration"] = str(duration_s)
        answer = await self.post(self.twilio.public_url + "/twilio/voice/status", form)
        assert answer.status < 300, answer.text


@dataclass
class AgentLeg:
    """A call the hub placed (seen by the fake REST API): to an agent's phone, to a customer
    called back, or a participant it added to a conference (a colleague, a supervisor)."""

    flow: CallFlow
    placed: dict[str, Any]  # the Calls.json or Participants.json form, plus its "sid"/"call_sid"

    @property
    def sid(self) -> str:
        return str(self.placed.get("sid") or self.placed["call_sid"])

    @property
    def conference(self) -> ET.Element:
        conference = twiml_of(self.placed["Twiml"]).find(".//Dial/Conference")
        assert conference is not None
        return conference

    async def status(self, status: str, *, duration_s: int | None = None) -> None:
        form = {
            "AccountSid": self.flow.twilio.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": status,
            "Direction": "outbound-api",
            "From": str(self.placed.get("From")),
            "To": str(self.placed.get("To")),
            "CallbackSource": "call-progress-events",
        }
        if duration_s is not None:
            form["CallDuration"] = str(duration_s)
        answer = await self.flow.post(self.placed["StatusCallback"], form)
        assert answer.status < 300, answer.text

    async def ring_out(self, final: str) -> None:
        for status in ("initiated", "ringing", final):
            await self.status(status)

    async def answer(self) -> None:
        for status in ("initiated", "ringing", "in-progress"):
            await self.status(status)

    async def conference_event(
        self, event: str, conference_sid: str, call_sid: str | None = None, **extra: str
    ) -> None:
        form = {
            "AccountSid": self.flow.twilio.account_sid,
            "ConferenceSid": conference_sid,
            "FriendlyName": self.conference.text or "",
            "StatusCallbackEvent": event,
            "SequenceNumber": "1",
            "Timestamp": "Mon, 23 Nov 2026 14:00:00 +0000",
            **extra,
        }
        if call_sid is not None:
            form |= {
                "CallSid": call_sid,
                "Muted": "false",
                "Hold": extra.get("Hold", "false"),
                "Coaching": "false",
                "EndConferenceOnExit": "true",
                "StartConferenceOnEnter": "true",
            }
        answer = await self.flow.post(self.conference.attrib["statusCallback"], form)
        assert answer.status < 300, answer.text
