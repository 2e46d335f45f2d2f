"""Email parse: the bytes of one message in, a ``ParsedMail`` out. Pure.

Theory of operation
-------------------
- ``parse_mail`` never raises, whatever the bytes: a part that cannot be decoded is replaced
  by what can be read of it and a warning says so; the raw bytes are always kept, so nothing
  is lost even when the parse is poor.
- The plain-text body is preferred for routing and previews; when there is only HTML, its
  text is extracted. HTML is kept for display only after ``nh3`` (a maintained sanitiser)
  has removed scripts, handlers and anything else active; it is never trusted otherwise.
- Every header value we keep is decoded (RFC 2047, any charset Python knows) and flattened to
  one line, so a CR or LF smuggled into a header can never reach a header we write.
- No text we keep holds NUL: mail must not carry it (RFC 5322) and PostgreSQL text cannot
  store it, so it is removed from bodies (with a warning) and from headers (as above).
- Threading keys are the ``Message-ID``, ``In-Reply-To`` and ``References`` ids (without
  angle brackets), plus our conversation token: ``mailbox+c<thread>@domain`` in a recipient
  address, or ``[#<thread>]`` in the subject.
- Auto-replies (``Auto-Submitted``, ``Precedence``, ``X-Autoreply``, ``X-Autorespond``) and
  delivery-status notifications are flagged (``automated``) so they are recorded, never routed
  and never answered automatically.

Imports: the standard library and ``nh3`` (no I/O).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

import nh3

SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
PLUS_TOKEN = re.compile(r"^c(\d{1,12})$")
_MSG_ID = re.compile(r"<([^<>\s]{1,990})>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FILENAME_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+$")
AUTO_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}
AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")
MAX_IDS = 50  # References kept per message (the newest)
MAX_FILENAME_BYTES = 200

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "font", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "*": {"dir", "lang"},
}


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None when over the cap
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str
    subject: str
    from_address: str
    from_name: str
    reply_address: str
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    automated: str | None  # "auto_reply", "bounce" or None
    bounced_ids: tuple[str, ...]
    bounce_reason: str
    warnings: tuple[str, ...]
    raw: bytes = field(repr=False)

    @property
    def thread_refs(self) -> tuple[str, ...]:
        """Ids to look up, strongest first: In-Reply-To, then References newest first."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


# ---------------------------------------------------------------------- small pure helpers
def one_line(value: str) -> str:
    """A header value on one line: control characters (CR, LF, NUL ...) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def normalise_address(value: str) -> str:
    """Lower-case ``local@domain`` or "" when it is not a plain address."""
    address = value.strip().strip("<>").strip().lower()
    return address if _ADDRESS.match(address) and len(address) <= 320 else ""


def message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = _MSG_ID.findall(str(value))
    if not found and str(value).strip() and " " not in str(value).strip():
        found = [str(value).strip()]  # a bare id without brackets
    return tuple(found[-MAX_IDS:])


def split_plus(address: str) -> tuple[str, str | None]:
    """``support+c12@example.com`` -> (``support@example.com``, ``c12``)."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address, None
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", (tag if plus else None)


def thread_tokens(recipients: Iterable[str], subject: str) -> tuple[tuple[int, ...], int | None]:
    """(thread numbers in plus-addresses, thread number in a subject tag)."""
    from_address = []
    for rcpt in recipients:
        _, tag = split_plus(rcpt.lower())
        m = PLUS_TOKEN.match(tag or "")
        if m:
            from_address.append(int(m.group(1)))
    tag_match = SUBJECT_TAG.search(subject)
    return tuple(from_address), (int(tag_match.group(1)) if tag_match else None)


def clean_filename(name: str | None, content_type: str, index: int) -> str:
    """A safe file name: no path, no control or reserved characters, bounded length."""
    cleaned = ""
    if name:
        base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
        cleaned = _FILENAME_BAD.sub("_", base).strip().lstrip(".").strip()
    if not cleaned:
        ext = mimetypes.guess_extension(content_type) or ".bin"
        cleaned = f"attachment-{index}{ext}"
    if len(cleaned.encode("utf-8")) > MAX_FILENAME_BYTES:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        room = MAX_FILENAME_BYTES - len(ext.encode()) - 1
        stem = (stem if dot else cleaned).encode("utf-8")[:room].decode("utf-8", "ignore")
        cleaned = f"{stem}.{ext}" if ext else stem
    return cleaned


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (for routing and previews, never for display)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sanitise_html(html: str) -> str:
    """HTML safe to show an agent: no scripts, handlers, forms, styles or frames."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history): the quote starts at an "On ... wrote:" line or at "> "."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        starts_quote = stripped.startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[i:]
        )
        attribution = re.match(
            r"^(On|Le|Am|El) .{3,200}(wrote|a écrit|schrieb|escribió):$", stripped
        )
        if starts_quote or attribution or stripped == "-----Original Message-----":
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i:]).strip()
    return text.rstrip(), ""


# ---------------------------------------------------------------------- the parser
def _raw_values(msg: Message, name: str) -> list[str]:
    """A header's values as they came, undecoded (when decoding them failed)."""
    try:
        return [str(v) for k, v in msg.raw_items() if k.lower() == name]
    except Exception:
        return []


def _header(msg: Message, name: str, warnings: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception as exc:
        warnings.append(f"header {name} could not be decoded ({exc.__class__.__name__})")
        raw = _raw_values(msg, name)
        value = raw[0] if raw else None
    return "" if value is None else one_line(str(value))


def _part_kind(
    part: Message, index: int, warnings: list[str]
) -> tuple[str, str | None, str | None]:
    """(content type, disposition, file name) of a leaf. The email package decodes these
    headers lazily and raises on some (an RFC 2231 name in a charset that cannot decode
    it): such a part is kept as a nameless attachment rather than failing the whole mail."""
    try:
        ctype = part.get_content_type()
    except Exception:
        warnings.append(f"part {index} has a Content-Type that could not be read")
        ctype = "application/octet-stream"
    try:
        disposition = part.get_content_disposition()
    except Exception:
        warnings.append(f"part {index} has a Content-Disposition that could not be read")
        disposition = "attachment"
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    return ctype, disposition, filename


def _addresses(msg: Message, name: str, warnings: list[str]) -> list[tuple[str, str]]:
    out = []
    try:
        values = [str(v) for v in msg.get_all(name, failobj=[])]
    except Exception:
        warnings.append(f"header {name} could not be decoded")
        values = _raw_values(msg, name)
    for display, addr in getaddresses(values):
        address = normalise_address(addr)
        if address:
            out.append((one_line(display)[:200], address))
        elif addr:
            warnings.append(f"{name} holds an address that is not valid: {one_line(addr)[:80]!r}")
    return out


def _text_of(part: Message, warnings: list[str]) -> str:
    text = _decoded_text(part, warnings)
    if "\x00" in text:
        warnings.append(f"NUL characters were removed from a {part.get_content_type()} part")
        text = text.replace("\x00", "")
    return text


def _decoded_text(part: Message, warnings: list[str]) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception as exc:
        warnings.append(f"a {part.get_content_type()} part was decoded leniently ({exc})"[:200])
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _leaves(part: Message) -> Iterator[Message]:
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield part


def _bytes_of(part: Message) -> bytes:
    if part.get_content_maintype() == "message" or part.is_multipart():
        try:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
            if isinstance(inner, str):
                return inner.encode("utf-8", "replace")
        except Exception:
            return b""
        return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _automated(msg: Message, headers: Mapping[str, str], envelope_from: str | None) -> str | None:
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    from_local = headers["from"].lower()
    if (ctype == "multipart/report" and report_type == "delivery-status") or any(
        p.get_content_type() == "message/delivery-status" for p in _leaves(msg)
    ):
        return "bounce"
    if envelope_from == "" and ("mailer-daemon" in from_local or "postmaster" in from_local):
        return "bounce"
    auto = headers["auto-submitted"].lower()
    if auto and auto != "no":
        return "auto_reply"
    if headers["precedence"].lower() in AUTO_PRECEDENCE:
        return "auto_reply"
    if any(headers[h] for h in AUTO_HEADERS):
        return "auto_reply"
    return None


def _bounce_details(msg: Message) -> tuple[tuple[str, ...], str]:
    ids: list[str] = []
    reasons: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                ids += message_ids(str(inner[0].get("message-id", "")))
            elif isinstance(inner, str):
                found = re.search(r"(?im)^message-id:\s*(<[^>]+>)", inner)
                if found:
                    ids += message_ids(found.group(1))
        elif ctype == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                for key in ("status", "diagnostic-code", "action"):
                    value = block.get(key) if isinstance(block, Message) else None
                    if value:
                        reasons.append(f"{key}: {one_line(str(value))}")
    return tuple(dict.fromkeys(ids)), "; ".join(reasons)[:500]


def parse_mail(
    raw: bytes,
    *,
    max_attachment_bytes: int,
    fallback_domain: str = "invalid",
    envelope_from: str | None = None,
) -> ParsedMail:
    """Parse one message; never raises. ``envelope_from`` is MAIL FROM ("" for a bounce)."""
    warnings: list[str] = []
    try:
        msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:
        warnings.append(f"the message could not be parsed ({exc.__class__.__name__})")
        msg = EmailMessage()
        msg.set_content(raw.decode("utf-8", errors="replace"))
    for defect in getattr(msg, "defects", [])[:5]:
        warnings.append(f"malformed message: {defect.__class__.__name__}")

    names = ("subject", "from", "auto-submitted", "precedence", *AUTO_HEADERS)
    headers = {name: _header(msg, name, warnings) for name in names}
    subject = headers["subject"][:998]

    ids = message_ids(_header(msg, "message-id", warnings))
    if ids:
        message_id = ids[0]
    else:
        digest = hashlib.sha256(raw).hexdigest()[:32]
        message_id = f"missing-{digest}@{fallback_domain}"
        warnings.append("the message has no Message-ID; one was made from its content")

    senders = _addresses(msg, "from", warnings)
    if senders:
        from_name, from_address = senders[0]
    else:
        from_name, from_address = "", normalise_address(envelope_from or "")
        warnings.append("the message has no valid From address")
    replies = _addresses(msg, "reply-to", warnings)
    reply_address = replies[0][1] if replies else from_address
    to = tuple(a for _, a in _addresses(msg, "to", warnings))
    cc = tuple(a for _, a in _addresses(msg, "cc", warnings))

    plain_part = html_part = None
    try:
        plain_part = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        html_part = msg.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    except Exception:
        warnings.append("the message body structure could not be read")
    html_source = _text_of(html_part, warnings) if html_part is not None else None
    texts = [_text_of(plain_part, warnings)] if plain_part is not None else []

    attachments: list[ParsedAttachment] = []
    automated = _automated(msg, headers, envelope_from)
    for index, part in enumerate(_leaves(msg), start=1):
        if part is plain_part or part is html_part:
            continue
        ctype, disposition, filename = _part_kind(part, index, warnings)
        if ctype == "text/plain" and disposition != "attachment" and not filename:
            texts.append(_text_of(part, warnings))  # e.g. a list footer after the body
            continue
        if ctype in ("message/delivery-status", "text/rfc822-headers") and automated == "bounce":
            continue
        data = _bytes_of(part)
        content_id = next(iter(message_ids(_header(part, "content-id", warnings))), None)
        name = clean_filename(filename, ctype, index)
        kept: bytes | None = data
        if len(data) > max_attachment_bytes:
            kept = None
            warnings.append(
                f"attachment {name} ({len(data)} bytes) is over the {max_attachment_bytes}-byte"
                " limit and was not kept (it stays in the raw message)"
            )
        attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=ctype,
                size=len(data),
                data=kept,
                content_id=content_id,
                inline=disposition == "inline" or (content_id is not None and not filename),
            )
        )

    texts = [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    if not text and html_source:
        text = html_to_text(html_source)
    html = sanitise_html(html_source) if html_source else None
    if not text and not attachments:
        warnings.append("the message has no readable body")

    bounced: tuple[str, ...] = ()
    reason = ""
    if automated == "bounce":
        bounced, reason = _bounce_details(msg)
    return ParsedMail(
        message_id=message_id,
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        reply_address=reply_address,
        to_addresses=to,
        cc_addresses=cc,
        in_reply_to=message_ids(_header(msg, "in-reply-to", warnings)),
        references=message_ids(_header(msg, "references", warnings)),
        text=text,
        html=html,
        attachments=tuple(attachments),
        automated=automated,
        bounced_ids=bounced,
        bounce_reason=reason,
        warnings=tuple(dict.fromkeys(warnings)),
        raw=raw,
    )


def sender_name(mail: ParsedMail) -> str:
    """How the sender is shown: their display name, else their address."""
    return mail.from_name or mail.from_address or "unknown sender"


__all__ = [
    "ParsedAttachment",
    "ParsedMail",
    "html_to_text",
    "message_ids",
    "normalise_address",
    "one_line",
    "parse_mail",
    "sanitise_html",
    "sender_name",
    "split_plus",
    "split_quoted",
    "thread_tokens",
]
