"""The OpenAPI 3 description of the REST API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from hub import __version__
from hub.languages import LANGUAGES
from hub.model import Channel


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _paging(*, maximum: int, default: int, minimum: int | None = 1) -> list[dict[str, Any]]:
    """The ``cursor`` and ``limit`` query parameters of a list route."""
    limit: dict[str, Any] = {"type": "integer", "maximum": maximum, "default": default}
    if minimum is not None:
        limit["minimum"] = minimum
    return [
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": limit},
    ]


def _page(key: str, item: str, description: str) -> dict[str, Any]:
    """A list route's 200: one page of ``key`` and the cursor of the next."""
    properties = {
        key: {"type": "array", "items": _ref(item)},
        "next_cursor": {"type": ["string", "null"]},
    }
    return _json({"type": "object", "properties": properties}, description)


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid input"),
    "401": _json(_ref("Error"), "Not signed in"),
    "403": _json(_ref("Error"), "Role not allowed"),
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_LANGUAGE = {"type": ["string", "null"], "enum": [*LANGUAGES, None]}
_INTERACTION_ID = {
    "name": "interaction_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
_AGENT_ID = {"name": "agent_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_USER = _json({"type": "object", "properties": {"user": _ref("User")}}, "OK")


def _body(properties: dict[str, Any], *, required: list[str]) -> dict[str, Any]:
    """A required JSON object request body."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_TASK: dict[str, Any] = {
    "customer": {
        "type": "object",
        "description": 'one of {"id": 7}, {"email": ...} or {"phone": ...} (E.164 or any '
        "format with its country code); an unknown email or phone makes a customer, named "
        "by name",
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "email": {"type": "string", "maxLength": 320},
            "phone": {"type": "string", "maxLength": 320},
            "name": {"type": "string", "maxLength": 200},
        },
    },
    "subject": {"type": "string", "minLength": 1, "maxLength": 200},
    "text": {"type": "string", "minLength": 1, "maxLength": 10000},
    "queue": {
        "type": "string",
        "description": "a queue taking the api channel; default api.queue (or webchat.queue)",
    },
    "attributes": {
        "type": "object",
        "description": "routing hints, up to 20; rules name them task.<key>",
        "maxProperties": 20,
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,39}$"},
        "additionalProperties": {"type": "string", "maxLength": 200},
    },
    "external_id": {
        "type": "string",
        "maxLength": 200,
        "description": "your id for the task: a retry with it returns the same interaction",
    },
}
_IDENTITY_KIND = r"^(email|phone|webchat|external:[a-z0-9][a-z0-9_.-]{0,39})$"
_PROFILE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 200},
    "company": {"type": "string", "maxLength": 200},
    "tier": {"type": "string", "enum": ["important", "normal", "potential"]},
    "language": {"type": ["string", "null"], "description": "a language tag: en, pt-BR"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 50},
    "owner_id": {"type": ["integer", "null"], "description": "the owner agent's user id"},
    "custom": {
        "type": "object",
        "description": "fields declared in config (customer_fields): text, number, date "
        "(YYYY-MM-DD) or choice; null clears one",
    },
}
_CUSTOMER_ID = {
    "name": "customer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
_ONE_CUSTOMER = _json({"type": "object", "properties": {"customer": _ref("CustomerProfile")}}, "OK")
_FROM = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["from_customer_id"],
                "properties": {"from_customer_id": {"type": "integer"}},
            }
        }
    },
}


def _customer_op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An operation on one customer (by id in the path)."""
    return {
        "summary": summary,
        "parameters": [_CUSTOMER_ID, *extra.pop("parameters", [])],
        "responses": {
            **responses,
            "404": _json(_ref("Error"), "No such customer (or merged, or deleted)"),
            **_ERRORS,
        },
        **extra,
    }


_STATES = ["queued", "offered", "assigned", "wrap_up", "ended", "abandoned"]
_CHANNELS = [c.value for c in Channel]


def _action(summary: str, path_id: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """A supervisor's POST on one agent or interaction (by id in the path)."""
    post: dict[str, Any] = {
        "summary": summary,
        "parameters": [
            {"name": path_id, "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "200": _json({"type": "object"}, "Done"),
            "404": _json(_ref("Error"), "Not found"),
            **_ERRORS,
        },
    }
    if body is not None:
        post["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": post}


_AUDIT_FILTERS: list[dict[str, Any]] = [
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "actor", "in": "query", "schema": {"type": "string"}},
    {"name": "action", "in": "query", "schema": {"type": "string"}},
]

_WEBHOOK_FIELDS: dict[str, Any] = {
    "url": {"type": "string", "description": "https://, or http:// to 127.0.0.1/localhost"},
    "events": {"type": "array", "items": {"type": "string"}, "description": "or ['*']"},
    "description": {"type": "string", "maxLength": 200},
    "enabled": {"type": "boolean"},
}
_ID = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_WEBHOOK = _json({"type": "object", "properties": {"webhook": _ref("Webhook")}}, "OK")
_WITH_SECRET = {
    "type": "object",
    "properties": {"webhook": _ref("Webhook"), "secret": {"type": "string"}},
}
_NOT_FOUND = {"404": _json(_ref("Error"), "No such webhook or delivery")}


_ARTICLE_FIELDS: dict[str, Any] = {
    "title": {"type": "string", "maxLength": 200},
    "body_markdown": {"type": "string", "maxLength": 50000, "description": "Markdown"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
    "language": {"type": "string", "description": "a language tag: en, zh-CN"},
    "published": {"type": "boolean"},
}
_ARTICLE_ID = {"name": "article_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ARTICLE = _json({"type": "object", "properties": {"article": _ref("KbArticle")}}, "OK")
_NO_ARTICLE = {"404": _json(_ref("Error"), "No such article (or deleted)")}


def _kb_paths() -> dict[str, Any]:
    """The knowledge base (README "Knowledge base")."""
    base = "/api/v1/kb/articles"
    one = base + "/{article_id}"
    query = [
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
        {"name": "language", "in": "query", "schema": {"type": "string"}},
        {"name": "tag", "in": "query", "schema": {"type": "string", "maxLength": 40}},
        {
            "name": "published",
            "in": "query",
            "schema": {"type": "string", "enum": ["true", "false"]},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    ]
    hits = {
        "type": "object",
        "properties": {
            "articles": {"type": "array", "items": _ref("KbHit")},
            "next_cursor": {"type": ["string", "null"]},
        },
    }
    return {
        base: {
            "get": {
                "summary": "Search articles (full text, every word as a word start), best first, "
                "with a snippet; agents see published ones (scope kb:read)",
                "parameters": query,
                "responses": {
                    "200": _json(hits, "One page; next_cursor fetches the next"),
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Write an article, a draft unless published (supervisors, admins; "
                "scope kb:write)",
                "requestBody": _body(_ARTICLE_FIELDS, required=["title", "body_markdown"]),
                "responses": {"201": _ARTICLE, **_ERRORS},
            },
        },
        one: {
            "parameters": [_ARTICLE_ID],
            "get": {
                "summary": "One article: Markdown, sanitised HTML and plain text (scope kb:read)",
                "responses": {"200": _ARTICLE, **_NO_ARTICLE, **_ERRORS},
            },
            "patch": {
                "summary": "Change, publish or unpublish an article (scope kb:write)",
                "requestBody": _body(_ARTICLE_FIELDS, required=[]),
                "responses": {"200": _ARTICLE, **_NO_ARTICLE, **_ERRORS},
            },
            "delete": {
                "summary": "Delete an article (kept, no longer found; scope kb:write)",
                "responses": {"204": {"description": "Deleted"}, **_NO_ARTICLE, **_ERRORS},
            },
        },
        "/api/v1/kb/preview": {
            "post": {
                "summary": "The sanitised HTML of some Markdown, before it is saved (scope "
                "kb:write)",
                "requestBody": _body(
                    {"body_markdown": _ARTICLE_FIELDS["body_markdown"]}, required=["body_markdown"]
                ),
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"body_html": {"type": "string"}}}, "OK"
                    ),
                    **_ERRORS,
                },
            }
        },
    }


def _followup_paths() -> dict[str, Any]:
    """Follow-ups (README "Follow-ups"); API keys with customers:read / customers:write."""
    one = _json({"type": "object", "properties": {"followup": _ref("Followup")}}, "OK")
    conflict = {"409": _json(_ref("Error"), "Not scheduled any more (opened or cancelled)")}
    return {
        "/api/v1/customers/{customer_id}/followups": {
            "post": _customer_op(
                "Schedule a follow-up on one of the customer's conversations (that of "
                "interaction_id, else the latest); at due_at it becomes an interaction on that "
                "thread, offered to its owner first (the customer's owner, else the caller), "
                "then to the queue. 400 names the field; a customer with no conversation: 400",
                {"201": one},
                requestBody=_body(
                    {
                        "due_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "ISO 8601 with an offset, in the future, at most "
                            "a year ahead",
                        },
                        "note": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "queue": {
                            "type": "string",
                            "description": "default: the conversation's last queue",
                        },
                        "interaction_id": {"type": "integer", "minimum": 1},
                    },
                    required=["due_at", "note"],
                ),
            ),
            "get": _customer_op(
                "The customer's scheduled follow-ups (soonest first), then their recent "
                "opened and cancelled ones",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "followups": {"type": "array", "items": _ref("Followup")}
                            },
                        },
                        "OK",
                    )
                },
            ),
        },
        "/api/v1/followups": {
            "get": {
                "summary": "Follow-ups by id: an agent's own (owned or created by them); "
                "supervisors, admins and API keys everyone's, or one agent's",
                "parameters": [
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["scheduled", "opened", "cancelled"]},
                    },
                    {"name": "agent_id", "in": "query", "schema": {"type": "integer"}},
                    *_paging(maximum=200, default=50),
                ],
                "responses": {
                    "200": _page("followups", "Followup", "One page; next_cursor fetches the next"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/followups/{followup_id}": {
            "delete": {
                "summary": "Cancel a scheduled follow-up (its creator, its owner, supervisors "
                "and admins)",
                "parameters": [
                    {
                        "name": "followup_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": one,
                    "404": _json(_ref("Error"), "No such follow-up"),
                    **conflict,
                    **_ERRORS,
                },
            }
        },
    }


def _webhook_paths() -> dict[str, Any]:
    """Admins' webhook subscriptions and delivery logs (README "Integrations")."""
    base = "/api/v1/admin/webhooks"
    one = base + "/{subscription_id}"
    return {
        base: {
            "get": {
                "summary": "Webhook subscriptions, never their secrets (admins only)",
                "responses": {"200": _json({"type": "object"}, "webhooks, event_types"), **_ERRORS},
            },
            "post": {
                "summary": "Subscribe a URL to events; the signing secret is shown only here",
                "requestBody": _body(_WEBHOOK_FIELDS, required=["url", "events"]),
                "responses": {"201": _json(_WITH_SECRET, "Created"), **_ERRORS},
            },
        },
        one: {
            "parameters": [_ID],
            "get": {
                "summary": "One webhook subscription",
                "responses": {"200": _WEBHOOK, **_NOT_FOUND, **_ERRORS},
            },
            "patch": {
                "summary": "Change a subscription (enabling it sends what waited)",
                "requestBody": _body(_WEBHOOK_FIELDS, required=[]),
                "responses": {"200": _WEBHOOK, **_NOT_FOUND, **_ERRORS},
            },
            "delete": {
                "summary": "Remove a subscription and its deliveries",
                "responses": {"204": {"description": "Removed"}, **_NOT_FOUND, **_ERRORS},
            },
        },
        one + "/secret": {
            "parameters": [_ID],
            "post": {
                "summary": "A new signing secret, shown only here",
                "responses": {"200": _json(_WITH_SECRET, "Rotated"), **_NOT_FOUND, **_ERRORS},
            },
        },
        one + "/ping": {
            "parameters": [_ID],
            "post": {
                "summary": "Send a ping event to this webhook alone, to try the receiver",
                "responses": {
                    "202": _json({"type": "object"}, "Queued"),
                    "409": _json(_ref("Error"), "The webhook is disabled"),
                    **_NOT_FOUND,
                    **_ERRORS,
                },
            },
        },
        one + "/deliveries": {
            "parameters": [_ID],
            "get": {
                "summary": "The delivery log, newest first",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "before", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "deliveries": {"type": "array", "items": _ref("Delivery")},
                                "next_before": {"type": ["integer", "null"]},
                            },
                        },
                        "One page; next_before fetches the next (older) one",
                    ),
                    **_NOT_FOUND,
                    **_ERRORS,
                },
            },
        },
        one + "/deliveries/{delivery_id}/redeliver": {
            "parameters": [
                _ID,
                {
                    "name": "delivery_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            ],
            "post": {
                "summary": "Send a delivery again now, with a fresh retry window",
                "responses": {
                    "202": _json({"type": "object"}, "Queued"),
                    "409": _json(_ref("Error"), "An attempt is in flight"),
                    **_NOT_FOUND,
                    **_ERRORS,
                },
            },
        },
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "contact-hub",
        "version": __version__,
        "description": "Customer records and interactions. Authenticate with the session "
        "cookie from POST /api/v1/session. Every POST, PUT, PATCH and DELETE that carries the "
        "cookie must come from the hub's own Origin and send the session's csrf_token (from "
        "the sign-in answer or GET /api/v1/me) in the X-CSRF-Token header; otherwise 403 "
        "csrf. An account with a temporary password gets 403 password_change_required "
        "everywhere but POST /api/v1/session/password, GET /api/v1/me and sign-out. "
        "Integrations send an API key as Authorization: Bearer <key> (no cookie, no CSRF "
        "token) to the routes of its scopes: customers:read, interactions:read, "
        "interactions:write, agents:read, "
        "reports:read; any other route refuses a key with 403, an unknown or revoked key "
        "gets 401.",
    },
    "components": {
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            "apiKey": {"type": "http", "scheme": "bearer", "description": "contact-hub apikey"},
        },
        "schemas": {
            "Queues": {
                "type": "object",
                "required": ["at", "queues"],
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "queues": {"type": "array", "items": _ref("Queue")},
                },
            },
            "Queue": {
                "type": "object",
                "required": ["name", "channels", "priority", "sla_s", "waiting", "staff"],
                "properties": {
                    "name": {"type": "string"},
                    "channels": {"type": "array", "items": {"type": "string"}},
                    "priority": {"type": "integer"},
                    "sla_s": {"type": "number"},
                    "longest_wait_warn_s": {"type": "number"},
                    "longest_wait_alert_s": {"type": "number"},
                    "service_level_warn": {"type": "number"},
                    "service_level_alert": {"type": "number"},
                    "waiting": {"type": "integer"},
                    "offered": {"type": "integer", "description": "being offered to agents now"},
                    "assigned": {"type": "integer"},
                    "oldest_queued_at": _TIME,
                    "longest_wait_s": {"type": ["number", "null"]},
                    "entered_today": {"type": "integer"},
                    "answered_today": {"type": "integer"},
                    "abandoned_today": {"type": "integer"},
                    "service_level_today": {"type": ["number", "null"]},
                    "asa_today_s": {"type": ["number", "null"]},
                    "staff": {
                        "type": "object",
                        "properties": {
                            k: {"type": "integer"} for k in ("available", "busy", "away")
                        },
                    },
                },
            },
            "AgentStats": {
                "type": "object",
                "properties": {
                    "agent_id": {"type": "integer"},
                    "since": {"type": "string", "format": "date"},
                    "until": {"type": "string", "format": "date"},
                    "handled": {"type": "integer"},
                    "aht_s": {"type": ["number", "null"]},
                    "wrap_up_avg_s": {"type": ["number", "null"]},
                    "occupancy": {"type": ["number", "null"]},
                    "missed": {"type": "integer"},
                    "transfers": {"type": "integer"},
                    "csat_avg": {"type": ["number", "null"]},
                    "csat_count": {"type": "integer"},
                },
            },
            "KbHit": {
                "type": "object",
                "properties": {
                    "article_id": {"type": "integer"},
                    "title": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "language": {"type": "string"},
                    "published": {"type": "boolean"},
                    "updated_at": _TIME,
                    "snippet": {"type": "string", "description": "plain text"},
                    "rank": {"type": "number"},
                },
            },
            "KbArticle": {
                "type": "object",
                "properties": {
                    "article_id": {"type": "integer"},
                    "title": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "language": {"type": "string"},
                    "published": {"type": "boolean"},
                    "body_markdown": {"type": "string"},
                    "body_html": {"type": "string", "description": "sanitised"},
                    "body_text": {"type": "string", "description": "plain text, for replies"},
                    "created_at": _TIME,
                    "created_by": {"type": ["integer", "null"]},
                    "updated_at": _TIME,
                    "updated_by": {"type": ["integer", "null"]},
                },
            },
            "Webhook": {
                "type": "object",
                "properties": {
                    "subscription_id": {"type": "integer"},
                    "url": {"type": "string"},
                    "events": {"type": "array", "items": {"type": "string"}},
                    "description": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "created_at": _TIME,
                    "updated_at": _TIME,
                },
            },
            "Delivery": {
                "type": "object",
                "properties": {
                    "delivery_id": {"type": "integer"},
                    "event_id": {"type": "string"},
                    "event_type": {"type": "string"},
                    "status": {"enum": ["pending", "sending", "delivered", "failed"]},
                    "attempts": {"type": "integer"},
                    "last_http_status": {"type": ["integer", "null"]},
                    "last_error": {"type": ["string", "null"]},
                    "last_attempt_at": _TIME,
                    "next_attempt_at": _TIME,
                    "give_up_at": _TIME,
                    "delivered_at": _TIME,
                    "created_at": _TIME,
                },
            },
            "Device": {
                "type": "object",
                "properties": {
                    "calls": {"type": "boolean", "description": "false: no voice number"},
                    "device": {"type": ["string", "null"], "enum": ["phone", "browser", None]},
                    "phone": {"type": ["string", "null"]},
                    "browser_available": {"type": "boolean"},
                    "browser_problem": {"type": ["string", "null"]},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "merged_into": {
                                "type": "integer",
                                "description": "not_found for a customer merged into another: "
                                "the customer it became",
                            },
                        },
                    }
                },
            },
            "User": {
                "type": "object",
                "properties": {
                    "user_id": {"type": "integer"},
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "role": {"type": "string", "enum": ["admin", "supervisor", "agent"]},
                    "language": _LANGUAGE,
                    "must_change_password": {"type": "boolean"},
                    "totp_enabled": {"type": "boolean"},
                    "disabled": {"type": "boolean", "description": "admin views only"},
                },
            },
            "SignedIn": {
                "type": "object",
                "properties": {"user": _ref("User"), "csrf_token": {"type": "string"}},
            },
            "Message": {
                "type": "object",
                "properties": {
                    "message_id": {"type": "integer"},
                    "conversation_id": {"type": "integer"},
                    "direction": {"type": "string", "enum": ["in", "out"]},
                    "author_kind": {"type": "string", "enum": ["customer", "agent", "system"]},
                    "author_name": {"type": "string"},
                    "body": {"type": "string"},
                    "created_at": _TIME,
                },
            },
            "Step": {
                "type": "object",
                "properties": {
                    "step": {"type": "string"},
                    "agent_id": {"type": ["integer", "null"]},
                    "at": _TIME,
                },
            },
            "Interaction": {
                "type": "object",
                "properties": {
                    "interaction_id": {"type": "integer"},
                    "conversation_id": {"type": "integer"},
                    "customer_id": {"type": "integer"},
                    "channel": {"type": "string", "enum": _CHANNELS},
                    "queue": {"type": "string"},
                    "priority": {"type": "integer"},
                    "state": {"type": "string", "enum": _STATES},
                    "agent_id": {"type": ["integer", "null"]},
                    "agent_name": {"type": ["string", "null"]},
                    "closed_by": {"type": ["string", "null"]},
                    "disposition": {"type": ["string", "null"]},
                    "wrap_up_note": {"type": ["string", "null"]},
                    **{
                        f"{k}_at": _TIME
                        for k in (
                            "created",
                            "queued",
                            "offered",
                            "assigned",
                            "wrap_up",
                            "ended",
                            "abandoned",
                        )
                    },
                    "steps": {"type": "array", "items": _ref("Step")},
                    "messages": {"type": "array", "items": _ref("Message")},
                    "rating": {"oneOf": [_ref("Rating"), {"type": "null"}]},
                    "external_id": {
                        "type": ["string", "null"],
                        "description": "a task's id in the system that handed it over",
                    },
                    "notes": {
                        "type": "array",
                        "description": "private notes (GET /api/v1/interactions/{id} only)",
                        "items": _ref("Note"),
                    },
                    "sms": {
                        "type": "object",
                        "description": "an SMS interaction (GET /api/v1/interactions/{id} "
                        "only): both numbers, opt-out, and messages by message_id with their "
                        "delivery status",
                    },
                    "voice": {
                        "type": "object",
                        "description": "a call (GET /api/v1/interactions/{id} only): stage, "
                        "ring_s, talk_s, hold_s, recording_url, recording_s ...",
                    },
                },
            },
            "Note": {
                "type": "object",
                "description": "A private note: the customer never sees it",
                "properties": {
                    "note_id": {"type": "integer"},
                    "interaction_id": {"type": ["integer", "null"]},
                    "author_name": {
                        "type": "string",
                        "description": "the staff member, or the API key's name",
                    },
                    "body": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string", "enum": ["note", "transfer", "whisper"]},
                },
            },
            "Rating": {
                "type": "object",
                "description": "The customer's satisfaction rating (one per interaction)",
                "properties": {
                    "score": {"type": "integer", "minimum": 1, "maximum": 5},
                    "comment": {"type": "string"},
                    "channel": {"type": "string", "enum": _CHANNELS},
                    "agent_id": {"type": ["integer", "null"]},
                    "rated_at": _TIME,
                    "followup_interaction_id": {"type": ["integer", "null"]},
                },
            },
            "AuditEntry": {
                "type": "object",
                "properties": {
                    "entry_id": {"type": "integer"},
                    "at": _TIME,
                    "actor": {
                        "type": "object",
                        "properties": {
                            "kind": {
                                "type": "string",
                                "enum": ["user", "api", "system", "visitor"],
                            },
                            "actor_id": {"type": ["integer", "null"]},
                            "name": {"type": "string"},
                            "address": {"type": ["string", "null"]},
                        },
                    },
                    "action": {"type": "string"},
                    "target": {"type": ["object", "null"]},
                    "details": {"type": "object"},
                },
            },
            "Identity": {
                "type": "object",
                "required": ["kind", "value"],
                "properties": {
                    "identity_id": {"type": "integer", "readOnly": True},
                    "kind": {
                        "type": "string",
                        "pattern": _IDENTITY_KIND,
                        "description": "email, phone (stored as E.164), webchat (a visitor "
                        "id) or external:<system> (an id in another system)",
                    },
                    "value": {"type": "string", "maxLength": 320},
                    "created_at": {**_TIME, "readOnly": True},
                },
            },
            "Followup": {
                "type": "object",
                "properties": {
                    "followup_id": {"type": "integer"},
                    "customer_id": {"type": "integer"},
                    "conversation_id": {"type": "integer"},
                    "channel": {"type": "string", "enum": _CHANNELS},
                    "owner_id": {"type": "integer"},
                    "owner_name": {"type": "string"},
                    "created_by": {"type": "integer"},
                    "created_by_name": {"type": "string"},
                    "note": {"type": "string"},
                    "queue": {"type": "string"},
                    "due_at": _TIME,
                    "state": {"type": "string", "enum": ["scheduled", "opened", "cancelled"]},
                    "interaction_id": {
                        "type": ["integer", "null"],
                        "description": "the interaction it opened, or the contact under way "
                        "it became a note on (became_note)",
                    },
                    "became_note": {"type": "boolean"},
                    "created_at": _TIME,
                    "opened_at": _TIME,
                    "cancelled_at": _TIME,
                },
            },
            "CustomerProfile": {
                "type": "object",
                "properties": {
                    "customer_id": {"type": "integer"},
                    **_PROFILE_FIELDS,
                    "created_at": _TIME,
                    "updated_at": _TIME,
                    "deleted_at": _TIME,
                    "merged_into": {"type": ["integer", "null"]},
                    "erased_at": _TIME,
                    "identities": {"type": "array", "items": _ref("Identity")},
                },
            },
            "CustomerFound": {
                "allOf": [
                    _ref("CustomerProfile"),
                    {
                        "type": "object",
                        "properties": {
                            "last_contact_at": {
                                **_TIME,
                                "description": "when their latest interaction began, if any",
                            }
                        },
                    },
                ]
            },
            "Customer": {
                "allOf": [
                    _ref("CustomerProfile"),
                    {
                        "type": "object",
                        "properties": {
                            "notes": {"type": "array", "items": {"type": "object"}},
                            "interactions": {"type": "array", "items": _ref("Interaction")},
                            "custom_fields": {
                                "type": "array",
                                "description": "the custom fields declared in config "
                                "(customer_fields), for a form to edit them",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "type": {
                                            "type": "string",
                                            "enum": ["text", "number", "date", "choice"],
                                        },
                                        "choices": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                            },
                        },
                    },
                ]
            },
            "Merge": {
                "type": "object",
                "properties": {
                    "merge_id": {"type": "integer"},
                    "survivor_id": {"type": "integer"},
                    "merged_id": {"type": "integer"},
                    "moved": {
                        "type": "object",
                        "description": "ids of what moved: identities, conversations, "
                        "interactions, notes",
                        "additionalProperties": {"type": "array", "items": {"type": "integer"}},
                    },
                    "at": _TIME,
                    "by_user_id": {"type": ["integer", "null"]},
                    "unmerged_at": _TIME,
                },
            },
        },
    },
    "security": [{"session": []}],
    "paths": {
        "/healthz": {
            "get": {
                "summary": "Health: 200 when the database is reachable, 503 otherwise",
                "security": [],
                "responses": {
                    "200": _json({"type": "object"}, "Healthy"),
                    "503": _json({"type": "object"}, "Database unreachable"),
                },
            }
        },
        "/api/v1/session": {
            "post": {
                "summary": "Sign in; sets the hub_session cookie",
                "security": [],
                "requestBody": _body(
                    {
                        "email": {"type": "string"},
                        "password": {"type": "string"},
                        "code": {
                            "type": "string",
                            "description": "authenticator code, when the account has one "
                            "(401 totp_required without it)",
                        },
                    },
                    required=["email", "password"],
                ),
                "responses": {"200": _json(_ref("SignedIn"), "OK"), **_ERRORS},
            },
            "delete": {
                "summary": "Sign out",
                "security": [],
                "responses": {"204": {"description": "Signed out"}},
            },
        },
        "/api/v1/session/password": {
            "post": {
                "summary": "Change your own password; ends your other sessions, renews this one",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["current_password", "new_password"],
                                "properties": {
                                    "current_password": {"type": "string"},
                                    "new_password": {"type": "string", "minLength": 10},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json(_ref("SignedIn"), "Changed"), **_ERRORS},
            }
        },
        "/api/v1/session/totp": {
            "post": {
                "summary": "Start adding an authenticator app (supervisors, admins): its secret "
                "and otpauth URI; on after POST /api/v1/session/totp/confirm {code}",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "secret": {"type": "string"},
                                "otpauth_uri": {"type": "string"},
                            },
                        },
                        "Enrolment started",
                    ),
                    **_ERRORS,
                },
            },
            "delete": {
                "summary": "Turn the authenticator off, with a current {code}",
                "responses": {"200": _json({"type": "object"}, "Off"), **_ERRORS},
            },
        },
        "/api/v1/session/totp/confirm": {
            "post": {
                "summary": "Turn the authenticator on with a first {code} from it",
                "responses": {"200": _json({"type": "object"}, "On"), **_ERRORS},
            }
        },
        "/api/v1/me": {
            "get": {
                "summary": "The signed-in user and the session's CSRF token",
                "responses": {"200": _json(_ref("SignedIn"), "OK"), **_ERRORS},
            }
        },
        "/api/v1/me/language": {
            "put": {
                "summary": "Choose the console's language (null: follow the browser)",
                "requestBody": _body({"language": _LANGUAGE}, required=["language"]),
                "responses": {
                    "200": _USER,
                    **_ERRORS,
                },
            }
        },
        "/api/v1/users": {
            "get": {
                "summary": "Staff accounts (admins)",
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"users": {"items": _ref("User")}}},
                        "OK",
                    ),
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Add a staff account; its password is temporary unless "
                "temporary is false (admins)",
                "responses": {"201": _json(_ref("User"), "Created"), **_ERRORS},
            },
        },
        "/api/v1/users/{user_id}": {
            "get": {
                "summary": "One staff account (admins)",
                "responses": {"200": _json(_ref("User"), "OK"), **_ERRORS},
            },
            "patch": {
                "summary": "Change name, role, disabled or password (temporary unless "
                "temporary is false); role, password and disabling end the user's sessions "
                "(admins)",
                "responses": {"200": _json(_ref("User"), "OK"), **_ERRORS},
            },
        },
        "/api/v1/customers": {
            "get": {
                "summary": "Search live customers by name, company or any identity (q), or "
                "by one exact identity; by id, a page at a time (agents may search too)",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "email", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "phone",
                        "in": "query",
                        "description": "any format with its country code",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "external",
                        "in": "query",
                        "description": "<system>:<id>, like erp:C-1001",
                        "schema": {"type": "string"},
                    },
                    *_paging(maximum=200, default=50),
                ],
                "responses": {
                    "200": _page(
                        "customers", "CustomerFound", "One page; next_cursor fetches the next"
                    ),
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Create a customer with identities; 409 names an identity that "
                "belongs to someone else",
                "requestBody": _body(
                    {
                        **_PROFILE_FIELDS,
                        "identities": {"type": "array", "items": _ref("Identity")},
                    },
                    required=[],
                ),
                "responses": {
                    "201": _ONE_CUSTOMER,
                    "409": _json(_ref("Error"), "An identity belongs to another customer"),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/customers/{customer_id}": {
            "get": _customer_op(
                "A customer's profile, identities, notes and full timeline, and the "
                "declared custom fields (agents: the customers they work or worked with)",
                {"200": _json(_ref("Customer"), "The customer record")},
            ),
            "patch": _customer_op(
                "Change profile fields; a refusal names the field",
                {"200": _ONE_CUSTOMER},
                requestBody=_body(_PROFILE_FIELDS, required=[]),
            ),
        },
        "/api/v1/customers/{customer_id}/identities": {
            "post": _customer_op(
                "Add an identity; 409 when it belongs to a customer already",
                {"201": _ONE_CUSTOMER, "409": _json(_ref("Error"), "Taken")},
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Identity")}},
                },
            )
        },
        "/api/v1/customers/{customer_id}/identities/{identity_id}": {
            "delete": _customer_op(
                "Remove one of the customer's identities",
                {"200": _ONE_CUSTOMER},
                parameters=[
                    {
                        "name": "identity_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
            )
        },
        "/api/v1/customers/{customer_id}/merge": {
            "post": _customer_op(
                "Fold from_customer_id into this customer (identities, conversations, "
                "interactions and notes move in one transaction; it is soft-deleted with "
                "merged_into); audited. Staff who may act on from_customer_id (an agent: one "
                "they work or worked with); the survivor may be any live customer",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "customer": _ref("CustomerProfile"),
                                "merge": _ref("Merge"),
                            },
                        },
                        "Merged",
                    )
                },
                requestBody=_FROM,
            )
        },
        "/api/v1/customers/{customer_id}/unmerge": {
            "post": _customer_op(
                "Admins: undo the merge of from_customer_id; exactly what moved goes back",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "customer": _ref("CustomerProfile"),
                                "restored": _ref("CustomerProfile"),
                                "merge": _ref("Merge"),
                            },
                        },
                        "Unmerged",
                    )
                },
                requestBody=_FROM,
            )
        },
        "/api/v1/customers/{customer_id}/export": {
            "get": _customer_op(
                "Admins: everything held about the customer as JSON (profile, conversations, "
                "messages, interactions, steps, notes, calls, attachments' names, merges); "
                "audited",
                {"200": _json({"type": "object"}, "The customer's data")},
            )
        },
        "/api/v1/customers/{customer_id}/erase": {
            "post": _customer_op(
                "Admins: erase personal data for good (names, identities, message bodies, "
                "attachments, notes); interactions and steps stay for statistics; refused "
                "while an interaction is open; audited",
                {
                    "200": _json({"type": "object"}, "What was erased, by kind"),
                    "409": _json(_ref("Error"), "An interaction is still open"),
                },
                requestBody=_body(
                    {"confirm": {"type": "boolean", "const": True}}, required=["confirm"]
                ),
            )
        },
        "/api/v1/voice/device": {
            "get": {
                "summary": "Where the signed-in agent takes calls, and whether the browser can",
                "responses": {"200": _json(_ref("Device"), "The device"), **_ERRORS},
            },
            "put": {
                "summary": "Take calls on the phone or in the browser (kept per agent)",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "device": {"type": "string", "enum": ["phone", "browser"]}
                                },
                                "required": ["device"],
                            }
                        }
                    }
                },
                "responses": {
                    "200": _json(_ref("Device"), "The device"),
                    "503": _json(_ref("Error"), "The browser phone is not set up"),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/voice/token": {
            "get": {
                "summary": "An access token for the Twilio Voice JS SDK (browser agents only)",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "token": {"type": "string"},
                                "identity": {"type": "string"},
                                "ttl_s": {"type": "integer"},
                            },
                        },
                        "A token for Twilio.Device",
                    ),
                    "409": _json(_ref("Error"), "The agent takes calls on their phone"),
                    "503": _json(_ref("Error"), "The browser phone is not set up"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/customers/{customer_id}/call": {
            "post": {
                "summary": "Call the customer: the agent is rung first, then the customer",
                "parameters": [
                    {
                        "name": "customer_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"number": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {
                    "201": _json({"type": "object"}, "The call's work item (under work)"),
                    "409": _json(_ref("Error"), "The agent is on another call"),
                    "503": _json(_ref("Error"), "Phone calls are not set up"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/interactions": {
            "get": {
                "summary": "Interactions, newest first, filtered by customer, state, channel, "
                "queue, agent and the time they came in; agents see only their own",
                "parameters": [
                    {"name": "customer_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "queue", "in": "query", "schema": {"type": "string"}},
                    {"name": "agent_id", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "since",
                        "in": "query",
                        "description": "came in at or after (ISO 8601)",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {
                        "name": "until",
                        "in": "query",
                        "description": "came in before (ISO 8601)",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": _STATES}},
                    {
                        "name": "channel",
                        "in": "query",
                        "schema": {"type": "string", "enum": _CHANNELS},
                    },
                    *_paging(maximum=500, default=100, minimum=None),
                ],
                "responses": {
                    "200": _page(
                        "interactions",
                        "Interaction",
                        "Matching interactions; next_cursor fetches the next (older) page",
                    ),
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Hand the contact centre a task (channel api), routed to an agent "
                "like any contact; supervisors, admins and API keys with interactions:write. "
                "A retry with the same external_id answers 200 with the first one",
                "requestBody": _body(_TASK, required=["customer", "subject", "text"]),
                "responses": {
                    "201": _json(_ref("Interaction"), "Created; Location names it"),
                    "200": _json(_ref("Interaction"), "Already made with this external_id"),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/interactions/{interaction_id}": {
            "get": {
                "summary": "One interaction with its steps, messages and notes (agents: only "
                "their own; scope interactions:read)",
                "parameters": [
                    {
                        "name": "interaction_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": _json(_ref("Interaction"), "The interaction"),
                    "404": _json(_ref("Error"), "No such interaction"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/interactions/{interaction_id}/notes": {
            "get": {
                "summary": "An interaction's private notes, oldest first (agents: only their own; "
                "scope interactions:read)",
                "parameters": [_INTERACTION_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"notes": {"type": "array", "items": _ref("Note")}},
                        },
                        "The notes",
                    ),
                    "404": _json(_ref("Error"), "No such interaction"),
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Keep a private note on an interaction, by you or under the API key's "
                "name; the agent holding it sees it at once (agents: on one they hold; scope "
                "interactions:write)",
                "parameters": [_INTERACTION_ID],
                "requestBody": _body(
                    {"body": {"type": "string", "minLength": 1, "description": "at most 16 KiB"}},
                    required=["body"],
                ),
                "responses": {
                    "201": _json(
                        {"type": "object", "properties": {"note": _ref("Note")}}, "The note"
                    ),
                    "404": _json(_ref("Error"), "No such interaction"),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/reports/interactions.csv": {
            "get": {
                "summary": "Supervisors: the day's interactions as CSV (formula-safe cells)",
                "parameters": [
                    {
                        "name": "date",
                        "in": "query",
                        "description": "YYYY-MM-DD in reports.timezone; today by default",
                        "schema": {"type": "string", "format": "date"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "One row per interaction with a step that day or open",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/v1/admin/audit": {
            "get": {
                "summary": "The audit trail, newest first (admins only)",
                "parameters": [
                    *_AUDIT_FILTERS,
                    *_paging(maximum=500, default=100),
                ],
                "responses": {
                    "200": _page(
                        "entries",
                        "AuditEntry",
                        "One page of entries; next_cursor fetches the next (older) one",
                    ),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/reports/history": {
            "get": {
                "summary": (
                    "Supervisors: historical figures per interval and queue, agent or channel "
                    "(a limited supervisor's queues only), as JSON or CSV (formula-safe cells)"
                ),
                "parameters": [
                    {
                        "name": "from",
                        "in": "query",
                        "description": "First day, YYYY-MM-DD (reports.timezone); default today",
                        "schema": {"type": "string", "format": "date"},
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "description": "Last day, included; at most 92 days in all; default from",
                        "schema": {"type": "string", "format": "date"},
                    },
                    {
                        "name": "interval",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["15min", "hour", "day"],
                            "default": "hour",
                        },
                    },
                    {
                        "name": "group",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["queue", "agent", "channel"],
                            "default": "queue",
                        },
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": (
                            "intervals, rows (one per interval and group value where something "
                            "happened), totals per group value and the total; or the rows as CSV"
                        ),
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/v1/reports/today": {
            "get": {
                "summary": "Supervisors: today's figures per queue, agent and quarter hour",
                "responses": {"200": _json({"type": "object"}, "Today's figures"), **_ERRORS},
            }
        },
        "/api/v1/queues": {
            "get": {
                "summary": "Every queue (a limited supervisor: theirs) with its channels, "
                "priority, sla_s and wallboard thresholds, and the live figures of its wallboard "
                "tile: waiting, longest wait, today's offered / answered / abandoned, service "
                "level, ASA and agents available / busy / away (scope reports:read)",
                "responses": {"200": _json(_ref("Queues"), "The queues"), **_ERRORS},
            }
        },
        "/api/v1/queues/{name}/stats": {
            "get": {
                "summary": "One queue's live figures (scope reports:read)",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json({"type": "object"}, "The queue's figures"),
                    "404": _json(_ref("Error"), "No such queue"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/agents": {
            "get": {
                "summary": "Every agent's state and load (scope agents:read)",
                "responses": {"200": _json({"type": "object"}, "The agents"), **_ERRORS},
            }
        },
        "/api/v1/agents/{agent_id}": {
            "get": {
                "summary": "One agent's state and load (scope agents:read)",
                "parameters": [_AGENT_ID],
                "responses": {
                    "200": _json({"type": "object"}, "The agent"),
                    "404": _json(_ref("Error"), "No such agent"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/agents/{agent_id}/stats": {
            "get": {
                "summary": "An agent's figures over local days since..until (inclusive, default "
                "today), folded as the historical reports fold them: handled, aht_s, "
                "wrap_up_avg_s, occupancy, missed, transfers, csat_avg, csat_count; agents read "
                "their own (scope agents:read)",
                "parameters": [
                    _AGENT_ID,
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                    },
                    {
                        "name": "until",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                    },
                ],
                "responses": {"200": _json(_ref("AgentStats"), "The figures"), **_ERRORS},
            }
        },
        "/api/v1/agents/{agent_id}/satisfaction": {
            "get": {
                "summary": "An agent's satisfaction ratings on a day (default today): count, "
                "average and how many of each score; agents see their own",
                "parameters": [
                    {
                        "name": "agent_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
                ],
                "responses": {"200": _json({"type": "object"}, "The day's ratings"), **_ERRORS},
            }
        },
        "/api/v1/agents/{agent_id}/state": _action(
            "Supervisors: set an agent's state (stored as a step naming you)",
            "agent_id",
            {
                "type": "object",
                "required": ["state"],
                "properties": {
                    "state": {"type": "string", "enum": ["available", "away", "offline"]},
                    "reason": {"type": "string"},
                },
            },
        ),
        "/api/v1/agents/{agent_id}/logout": _action(
            "Supervisors: sign an agent out everywhere and set them offline", "agent_id", None
        ),
        "/api/v1/interactions/{interaction_id}/move": _action(
            "Supervisors: move a held interaction to a queue or an agent",
            "interaction_id",
            {
                "type": "object",
                "properties": {"queue": {"type": "string"}, "agent_id": {"type": "integer"}},
            },
        ),
        "/api/v1/admin/apikeys": {
            "get": {
                "summary": "Integrations' API keys (never the keys) and the known scopes (admins)",
                "responses": {"200": _json({"type": "object"}, "api_keys and scopes"), **_ERRORS},
            },
            "post": {
                "summary": "Create an API key; the answer holds the key, the only time (admins)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name", "scopes"],
                                "properties": {
                                    "name": {"type": "string", "maxLength": 100},
                                    "scopes": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": _json({"type": "object"}, "api_key and key"), **_ERRORS},
            },
        },
        "/api/v1/admin/apikeys/{key_id}": {
            "delete": {
                "summary": "Revoke an API key at once (admins)",
                "parameters": [
                    {
                        "name": "key_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": _json({"type": "object"}, "The revoked key"), **_ERRORS},
            }
        },
        "/api/v1/admin/audit.csv": {
            "get": {
                "summary": "Every matching audit entry as CSV, formula-safe (admins only)",
                "parameters": _AUDIT_FILTERS,
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {}}},
                    **_ERRORS,
                },
            }
        },
        **_webhook_paths(),
        **_kb_paths(),
        **_followup_paths(),
    },
}
