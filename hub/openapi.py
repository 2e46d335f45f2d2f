"""The OpenAPI 3 description of the REST API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from hub import __version__


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid input"),
    "401": _json(_ref("Error"), "Not signed in"),
    "403": _json(_ref("Error"), "Role not allowed"),
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_STATES = ["queued", "offered", "assigned", "wrap_up", "ended", "abandoned"]
_CHANNELS = ["webchat", "email", "sms", "voice"]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "contact-hub",
        "version": __version__,
        "description": "Customer records and interactions. Authenticate with the session "
        "cookie from POST /api/v1/session.",
    },
    "components": {
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
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
                },
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
                },
            },
            "Customer": {
                "type": "object",
                "properties": {
                    "customer_id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tier": {"type": "string"},
                    "created_at": _TIME,
                    "identities": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "kind": {"type": "string", "enum": ["email", "phone", "webchat"]},
                                "value": {"type": "string"},
                            },
                        },
                    },
                    "notes": {"type": "array", "items": {"type": "object"}},
                    "interactions": {"type": "array", "items": _ref("Interaction")},
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
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["email", "password"],
                                "properties": {
                                    "email": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json({"type": "object", "properties": {"user": _ref("User")}}, "OK"),
                    **_ERRORS,
                },
            },
            "delete": {
                "summary": "Sign out",
                "security": [],
                "responses": {"204": {"description": "Signed out"}},
            },
        },
        "/api/v1/me": {
            "get": {
                "summary": "The signed-in user",
                "responses": {
                    "200": _json({"type": "object", "properties": {"user": _ref("User")}}, "OK"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/customers/{customer_id}": {
            "get": {
                "summary": "A customer's profile, identities, notes and full timeline",
                "parameters": [
                    {
                        "name": "customer_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": _json(_ref("Customer"), "The customer record"),
                    "404": _json(_ref("Error"), "No such customer"),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/interactions": {
            "get": {
                "summary": "Interactions, newest first, filtered by customer, state and channel",
                "parameters": [
                    {"name": "customer_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": _STATES}},
                    {
                        "name": "channel",
                        "in": "query",
                        "schema": {"type": "string", "enum": _CHANNELS},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "maximum": 500, "default": 100},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "interactions": {"type": "array", "items": _ref("Interaction")}
                            },
                        },
                        "Matching interactions",
                    ),
                    **_ERRORS,
                },
            }
        },
    },
}
