"""The email channel's HTTP edge for the console: a thread's view, replies, attachments.

Every route needs a signed-in staff member. The reply is multipart (for its attachments),
which a cross-site HTML form could post: like every state-changing request it must come from
the hub's own Origin with the session's CSRF token (``hub.web``, ``hub.csrf``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote as url_quote

from aiohttp import BodyPartReader, web

from channels.email.parse import split_quoted
from channels.email.render import OutgoingFile, reply_subject, thread_address
from channels.email.replies import BODY_MAX_BYTES, MailReplies, answered
from hub.api import visible_customer, visible_interaction
from hub.audit import AuditAction
from hub.audit_api import record as audit_record
from hub.auth import STAFF
from hub.errors import InvalidInput, NotFound
from hub.model import Direction
from hub.ports import MailMessage, MailStore, MailThread
from hub.representation import iso, message_json
from hub.web import api, current_user

MAIL_STORE = web.AppKey("email_mail_store", MailStore)
REPLIES = web.AppKey("email_replies", MailReplies)
MAX_FILES = 20


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise InvalidInput(f"{name} must be an integer") from None


def mail_message_json(item: MailMessage) -> dict[str, Any]:
    d = item.details
    out = message_json(item.message)
    fresh, quoted = (
        split_quoted(item.message.body)
        if item.message.direction is Direction.INBOUND
        else (item.message.body, "")
    )
    out.update(
        {
            "subject": d.subject,
            "from_name": d.from_name,
            "from_address": d.from_address,
            "to": list(d.to_addresses),
            "cc": list(d.cc_addresses),
            "header_message_id": d.header_message_id,
            "body_new": fresh,
            "body_quoted": quoted,
            "html": d.html,
            "automated": d.automated,
            "warnings": list(d.warnings),
            "status": item.status,
            "status_detail": item.status_detail,
            "attachments": [
                {
                    "attachment_id": attachment_id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "inline": a.inline,
                    "kept": a.data is not None,
                    "url": f"/api/v1/email/attachments/{attachment_id}",
                }
                for attachment_id, a in zip(item.attachment_ids, d.attachments, strict=True)
            ],
        }
    )
    return out


def thread_json(thread: MailThread) -> dict[str, Any]:
    last = answered(thread.messages)
    return {
        "thread_id": thread.thread_id,
        "subject": thread.subject,
        "customer_id": thread.customer_id,
        "reply": None
        if last is None
        else {
            "to": last.details.reply_address,
            "to_name": last.details.from_name,
            "from": last.details.mailbox,
            "reply_to": thread_address(last.details.mailbox, thread.thread_id),
            "subject": reply_subject(last.details.subject or thread.subject, thread.thread_id),
            "quoted": last.message.body,
            "quoted_at": iso(last.message.created_at),
        },
        "messages": [mail_message_json(m) for m in thread.messages],
    }


@api(STAFF, scope="interactions:read")
async def get_thread(request: web.Request) -> web.Response:
    interaction = await visible_interaction(request, _int(request, "interaction_id"))
    thread = await request.app[MAIL_STORE].mail_thread(interaction.conversation_id)
    return web.json_response(thread_json(thread))


async def _read_part(part: BodyPartReader, limit: int, field: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise InvalidInput(f"{field} is larger than {limit} bytes")
    return bytes(data)


@api(STAFF)
async def post_reply(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("send the reply as multipart/form-data")
    replies = request.app[REPLIES]
    budget = replies_limit(request)
    body: str | None = None
    subject: str | None = None
    files: list[OutgoingFile] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise InvalidInput("nested multipart is not accepted")
        if part.name == "body":
            body = (await _read_part(part, BODY_MAX_BYTES, "body")).decode("utf-8", "replace")
        elif part.name == "subject":
            subject = (await _read_part(part, 2000, "subject")).decode("utf-8", "replace")
        elif part.name == "attachment" and part.filename:
            if len(files) >= MAX_FILES:
                raise InvalidInput(f"at most {MAX_FILES} attachments")
            data = await _read_part(part, budget, "attachments")
            budget -= len(data)
            ctype = part.headers.get("Content-Type", "application/octet-stream")
            files.append(OutgoingFile(part.filename[:200], ctype.split(";")[0].strip(), data))
        else:
            await part.release()
    if body is None:
        raise InvalidInput("body is required")
    interaction_id = _int(request, "interaction_id")
    message = await replies.reply(
        current_user(request),
        interaction_id,
        body=body,
        subject=subject or None,
        attachments=files,
    )
    audit_record(
        request,
        AuditAction.REPLY_SENT,
        ("interaction", interaction_id),
        {
            "message_id": message.message_id,
            "body": body,
            "attachments": len(files),
            "attachment_bytes": sum(len(f.data) for f in files),
        },
    )
    return web.json_response({"message": message_json(message)}, status=201)


def replies_limit(request: web.Request) -> int:
    limit: Callable[[], int] = request.app[REPLY_LIMIT]
    return limit()


REPLY_LIMIT: web.AppKey[Callable[[], int]] = web.AppKey("email_reply_limit")


@api(STAFF, scope="interactions:read")
async def get_attachment(request: web.Request) -> web.StreamResponse:
    attachment = await request.app[MAIL_STORE].attachment(_int(request, "attachment_id"))
    await visible_customer(request, attachment.customer_id)
    if attachment.data is None:  # the store refuses these; kept for the type checker
        raise NotFound("this attachment is only in the raw message")
    name = attachment.filename
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return web.Response(
        body=attachment.data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{url_quote(name)}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/interactions/{interaction_id}/email", get_thread)
    app.router.add_post("/api/v1/interactions/{interaction_id}/email/reply", post_reply)
    app.router.add_get("/api/v1/email/attachments/{attachment_id}", get_attachment)
