"""Email render: an agent's reply in, a ``EmailMessage`` ready for SMTP out. Pure.

Theory of operation
-------------------
- A reply is threaded three ways, so that every mail client files it in the customer's
  thread and every reply comes back to the right conversation: ``In-Reply-To`` names the
  message answered, ``References`` carries its references plus its id, and the reply token
  rides in ``Reply-To`` (``support+c<thread>@domain``) and in the subject tag ``[#<thread>]``.
- ``From`` is the queue's address the customer wrote to; ``Message-ID`` is made with our
  domain from an id passed in (randomness comes from the caller), so it can be recorded
  before the message is ever sent.
- Header values are built by the standard library's ``EmailMessage`` (policy.default), which
  refuses CR or LF in a header; values from outside are flattened to one line first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from channels.email.parse import SUBJECT_TAG, one_line, split_plus

MAX_REFERENCES = 20
_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|fwd?)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    filename: str
    content_type: str
    data: bytes


def thread_address(mailbox: str, thread_id: int) -> str:
    """The reply address that carries the token: ``support+c12@example.com``."""
    base, _ = split_plus(mailbox)
    local, _, domain = base.rpartition("@")
    return f"{local}+c{thread_id}@{domain}"


def reply_subject(subject: str, thread_id: int) -> str:
    """``Re: <subject> [#<thread>]``: one ``Re:``, one tag, whatever the customer's client did."""
    bare = _RE_PREFIX.sub("", one_line(subject))
    bare = SUBJECT_TAG.sub("", bare).strip() or "(no subject)"
    return f"Re: {bare} [#{thread_id}]"


def make_message_id(token: str, domain: str) -> str:
    """A Message-ID (without brackets) from a random token the caller drew."""
    return f"{token}@{domain}"


def quote(text: str, author: str, at: datetime) -> str:
    """The quoted history that goes under a reply."""
    when = at.strftime("%a, %d %b %Y at %H:%M UTC")
    lines = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    return f"On {when}, {one_line(author)} wrote:\n{lines}"


def references_for(in_reply_to: str, references: Sequence[str]) -> tuple[str, ...]:
    refs = [r for r in references if r != in_reply_to] + [in_reply_to]
    return tuple(refs[-MAX_REFERENCES:])


def render_reply(
    *,
    mailbox: str,
    from_name: str,
    to_address: str,
    to_name: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    thread_id: int,
    date: datetime,
    attachments: Sequence[OutgoingFile] = (),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address(display_name=one_line(from_name), addr_spec=mailbox)
    msg["To"] = Address(display_name=one_line(to_name), addr_spec=to_address)
    msg["Reply-To"] = Address(
        display_name=one_line(from_name), addr_spec=thread_address(mailbox, thread_id)
    )
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    msg["Auto-Submitted"] = "no"
    msg.set_content(body)
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg
