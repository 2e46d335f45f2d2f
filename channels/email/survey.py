"""The satisfaction survey by email: a short mail on the conversation's thread with five
one-click links, and the small pages those links open.

When an email interaction ends in a queue with ``csat`` for email, a survey mail goes through
the durable outbox like a reply (threaded: In-Reply-To the customer's last mail, Reply-To
the thread's address, marked ``Auto-Submitted: auto-generated`` so auto-responders stay
quiet). Each link is ``GET /csat/<token>/<score>``; the token, signed with the hub's keys
(itsdangerous, like chat visitor tokens) and valid for ``LINK_TTL``, names the interaction
and is the only authority: no cookie, so nothing to forge across sites. The page that opens
thanks the customer and offers a comment form (``POST /csat/<token>``) that changes the same
rating within the window ``hub.satisfaction`` allows. A link clicked again changes the score
and keeps the comment.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from email import policy
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from channels.email.render import make_message_id, references_for, render_reply, reply_subject
from channels.email.replies import answered
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.events import SurveyDue
from hub.model import Channel
from hub.ports import Clock, EventBus, MailDetails, MailStore, Store
from hub.satisfaction import MAX_COMMENT_CHARS, MAX_SCORE, MIN_SCORE, SURVEY_AUTHOR
from hub.surveys import Surveys
from hub.web import public

log = logging.getLogger(__name__)

TOKEN_SALT = "contact-hub.csat.email"  # noqa: S105 (a namespace, not a secret)
LINK_TTL = timedelta(days=14)
SCORE_WORDS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"}


class SurveyLinks:
    """Signed, expiring rating links; the newest key signs, every key verifies."""

    def __init__(self, secret_keys: list[str], public_url: str, ttl: timedelta = LINK_TTL) -> None:
        self._serializer = URLSafeTimedSerializer(secret_keys, salt=TOKEN_SALT)
        self._public_url = public_url.rstrip("/")
        self._ttl_s = int(ttl.total_seconds())

    def token(self, interaction_id: int) -> str:
        return self._serializer.dumps({"i": interaction_id})

    def url(self, token: str, score: int | None = None) -> str:
        base = f"{self._public_url}/csat/{token}"
        return base if score is None else f"{base}/{score}"

    def read(self, token: str) -> int:
        """The interaction a token names: NotFound when forged, LinkExpired when too old."""
        if not token or len(token) > 500:
            raise NotFound("this rating link is not valid")
        try:
            data = self._serializer.loads(token, max_age=self._ttl_s)
        except SignatureExpired:
            raise LinkExpired("this rating link has expired") from None
        except BadSignature:
            raise NotFound("this rating link is not valid") from None
        interaction_id = data.get("i") if isinstance(data, dict) else None
        if isinstance(interaction_id, bool) or not isinstance(interaction_id, int):
            raise NotFound("this rating link is not valid")
        return interaction_id


class LinkExpired(HubError):
    code = "expired"
    status = 410


def survey_text(links: SurveyLinks, token: str, subject: str) -> str:
    """The survey mail's text: one link per score, best last."""
    lines = [
        "How did we do?",
        "",
        f'Please rate our help with "{subject}" with one click:'
        if subject
        else "Please rate our help with one click:",
        "",
    ]
    for score in range(MIN_SCORE, MAX_SCORE + 1):
        lines.append(f"{score} - {SCORE_WORDS[score]}: {links.url(token, score)}")
    days = LINK_TTL.days
    lines += ["", f"You can add a comment on the page that opens. The links work for {days} days."]
    return "\n".join(lines) + "\n"


class MailSurveys:
    """Sends the survey mail when an email interaction is due one."""

    def __init__(
        self,
        *,
        store: Store,
        mail_store: MailStore,
        bus: EventBus,
        clock: Clock,
        links: SurveyLinks,
        domain: str,
        queued: Callable[[], None],
        token: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._store = store
        self._mail = mail_store
        self._clock = clock
        self._links = links
        self._domain = domain
        self._queued = queued
        self._token = token
        bus.subscribe(SurveyDue, self._on_survey_due)

    async def _on_survey_due(self, e: SurveyDue) -> None:
        i = e.interaction
        if i.channel is not Channel.EMAIL:
            return
        thread = await self._mail.mail_thread(i.conversation_id)
        last = answered(thread.messages)
        if last is None:
            log.info("interaction_id=%s no survey mailed: no address to write to", i.interaction_id)
            return
        now = self._clock()
        message_id = make_message_id(self._token(), self._domain)
        references = references_for(last.details.header_message_id, last.details.references)
        subject = reply_subject(last.details.subject or thread.subject, thread.thread_id)
        body = survey_text(self._links, self._links.token(i.interaction_id), last.details.subject)
        mail = render_reply(
            mailbox=last.details.mailbox,
            from_name=SURVEY_AUTHOR,
            to_address=last.details.reply_address,
            to_name=last.details.from_name,
            subject=subject,
            body=body,
            message_id=message_id,
            in_reply_to=last.details.header_message_id,
            references=references,
            thread_id=thread.thread_id,
            date=now,
        )
        mail.replace_header("Auto-Submitted", "auto-generated")
        payload = mail.as_bytes(policy=policy.SMTP)
        details = MailDetails(
            header_message_id=message_id,
            subject=subject,
            from_address=last.details.mailbox,
            mailbox=last.details.mailbox,
            reply_address=last.details.reply_address,
            from_name=SURVEY_AUTHOR,
            in_reply_to=(last.details.header_message_id,),
            references=references,
            to_addresses=(last.details.reply_address,),
            raw=payload,
            thread_id=thread.thread_id,
        )
        message = await self._mail.enqueue_system_mail(
            i.interaction_id,
            author_name=SURVEY_AUTHOR,
            body=body,
            details=details,
            payload=payload,
            recipients=(last.details.reply_address,),
            now=now,
        )
        log.info(
            "interaction_id=%s survey mail %s queued as message %s",
            i.interaction_id,
            message_id,
            message.message_id,
        )
        self._queued()


# ---------------------------------------------------------------------- pages
def _page(title: str, *parts: str, status: int = 200) -> web.Response:
    body = "".join(parts)
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(status=status, text=text, content_type="text/html")


def _problem(exc: HubError) -> web.Response:
    titles = {
        "not_found": "This rating link is not valid",
        "expired": "This rating link has expired",
        "conflict": "Your rating can no longer be changed",
        "invalid_input": "That rating could not be recorded",
    }
    title = titles.get(exc.code, "Your rating could not be recorded")
    return _page(title, f"<p>{html.escape(exc.message)}.</p>", status=exc.status)


def _thanks(token: str, score: int, comment: str, *, saved_comment: bool) -> web.Response:
    action = f"/csat/{html.escape(token, quote=True)}"
    note = '<p role="status">Your comment was saved.</p>' if saved_comment else ""
    return _page(
        "Thank you for your feedback",
        f"<p>You rated us {score} of {MAX_SCORE} ({html.escape(SCORE_WORDS[score])}).</p>",
        note,
        f'<form method="post" action="{action}">',
        f'<input type="hidden" name="score" value="{score}">',
        '<p><label for="comment">Anything to add? (optional)</label><br>',
        f'<textarea id="comment" name="comment" rows="4" cols="50" '
        f'maxlength="{MAX_COMMENT_CHARS}">{html.escape(comment)}</textarea></p>',
        '<p><button type="submit">Send comment</button></p></form>',
    )


class SurveyPages:
    """The pages a survey mail's links open."""

    def __init__(self, *, store: Store, surveys: Surveys, links: SurveyLinks) -> None:
        self._store = store
        self._surveys = surveys
        self._links = links

    async def _rate(self, token: str, score: Any, comment: str | None) -> tuple[int, str]:
        interaction = await self._store.interaction(self._links.read(token))
        if interaction.channel is not Channel.EMAIL:
            raise NotFound("this rating link is not valid")
        rating = await self._surveys.rate(
            interaction, score=score, comment=comment, channel=Channel.EMAIL
        )
        return rating.score, rating.comment

    async def click(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            score, comment = await self._rate(token, request.match_info["score"], None)
        except (NotFound, LinkExpired, Conflict, InvalidInput) as exc:
            return _problem(exc)
        return _thanks(token, score, comment, saved_comment=False)

    async def comment(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        form = await request.post()
        raw_comment = form.get("comment")
        try:
            if not isinstance(raw_comment, str):
                raise InvalidInput("comment must be text")
            score, comment = await self._rate(token, form.get("score"), raw_comment)
        except (NotFound, LinkExpired, Conflict, InvalidInput) as exc:
            return _problem(exc)
        return _thanks(token, score, comment, saved_comment=True)


def add_routes(app: web.Application, pages: SurveyPages) -> None:
    @public
    async def click(request: web.Request) -> web.StreamResponse:
        return await pages.click(request)

    @public
    async def comment(request: web.Request) -> web.StreamResponse:
        return await pages.comment(request)

    app.router.add_get("/csat/{token}/{score}", click)
    app.router.add_post("/csat/{token}", comment)
