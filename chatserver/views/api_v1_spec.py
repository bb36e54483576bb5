"""The OpenAPI 3.1 document of /api/v1, built from the operation table of views/api_v1.py (the routes are
registered from the same table, so the document and the server cannot drift), and its Markdown rendering in
docs/api.md (`python -m chatserver.views.api_docs`; tests/test_api_v1.py checks they agree).
The schemas below are what the handlers answer; schemathesis checks every answer against them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

VERSION = "1.0.0"
MAX_ID = 2**53 - 1          # ids in paths are at most this (JSON-safe); larger ones answer not_found


def nullable(kind: str | list, **extra) -> dict:
    kinds = kind if isinstance(kind, list) else [kind]
    return {"type": [*kinds, "null"], **extra}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def ok_object(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": {"ok": {"const": True}, **properties}, "required": ["ok", *required]}


ID = {"type": "integer", "minimum": 1}
TIME = {"type": "number", "description": "Unix time in seconds"}
CURSOR = nullable("string", description="pass as `cursor` for the next page; null on the last page")

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "description": "Every error: a stable `code` (docs/protocol.md, Error codes) and a readable message.",
        "properties": {"ok": {"const": False}, "error": {"type": "string", "pattern": "^[a-z_]+$"},
                       "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "per-field messages, when several fields were wrong"}},
        "required": ["ok", "error", "message"],
    },
    "Conversation": {
        "type": "object",
        "properties": {
            "id": ID, "visitor_id": {"type": "string"},
            "status": {"enum": ["bot", "queued", "assigned", "closed"]},
            "department": nullable("string"), "agent_id": nullable("integer"), "agent_name": nullable("string"),
            "last_seq": {"type": "integer"}, "created_at": TIME,
            "first_visitor_message_at": nullable("number"), "queued_at": nullable("number"),
            "assigned_at": nullable("number"), "first_assigned_at": nullable("number"),
            "first_agent_response_at": nullable("number"), "closed_at": nullable("number"),
            "closed_by": nullable("string"), "resolution": nullable("string"), "handoff_reason": nullable("string"),
            "page_url": nullable("string"),
        },
        "required": ["id", "visitor_id", "status", "created_at"],
    },
    "Message": {
        "type": "object",
        "properties": {
            "id": ID, "conversation_id": ID, "seq": {"type": "integer", "minimum": 1},
            "author": {"enum": ["visitor", "agent", "bot", "system"]}, "kind": {"type": "string"},
            "text": {"type": "string"}, "created_at": TIME, "client_id": {"type": "string"},
            "agent_id": {"type": "integer"}, "agent_name": nullable("string"),
            "private": {"type": "boolean", "description": "a note only agents see"},
            "payload": {"description": "structured content of bot messages (article cards, choices)"},
        },
        "required": ["id", "conversation_id", "seq", "author", "kind", "text", "created_at"],
    },
    "ConversationEvent": {
        "type": "object",
        "properties": {"id": ID, "conversation_id": ID, "type": {"type": "string"},
                       "actor_type": {"type": "string"}, "actor_id": nullable("string"),
                       "reason": nullable("string"), "details": nullable("object"), "created_at": TIME},
        "required": ["id", "type", "actor_type", "created_at"],
    },
    "ArticleEvent": {
        "type": "object",
        "properties": {"slug": {"type": "string"}, "type": {"type": "string"}, "rank": nullable("integer"),
                       "score": nullable("number"), "reason": nullable("string"), "created_at": TIME},
        "required": ["slug", "type", "created_at"],
    },
    "VisitorConversation": {
        "type": "object",
        "properties": {"id": ID, "status": {"type": "string"}, "created_at": TIME, "closed_at": nullable("number"),
                       "resolution": nullable("string"), "agent_name": nullable("string"),
                       "first_question": nullable("string"), "message_count": {"type": "integer"}},
        "required": ["id", "status", "created_at"],
    },
    "Visitor": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "created_at": TIME, "last_seen_at": TIME,
                       "name": nullable("string"), "email": nullable("string"), "page_url": nullable("string"),
                       "user_agent": nullable("string"),
                       "identity": {"anyOf": [{"type": "null"}, {
                           "type": "object", "description": "the host site's identity; customer_id only when verified",
                           "properties": {"customer_id": nullable("string"), "verified": {"type": "boolean"},
                                          "name": nullable("string"), "email": nullable("string"),
                                          "email_verified": {"type": "boolean"}}}]},
                       "conversations": {"type": "array", "items": ref("VisitorConversation")}},
        "required": ["id", "created_at", "conversations"],
    },
    "Agent": {
        "type": "object",
        "properties": {"id": ID, "email": {"type": "string"}, "name": {"type": "string"},
                       "role": {"enum": ["agent", "admin"]}, "max_chats": {"type": "integer"},
                       "departments": {"type": "array", "items": {"type": "string"}},
                       "disabled": {"type": "boolean"}, "created_at": TIME,
                       "status": {"type": "string", "description": "online, away or offline (lists only)"},
                       "open_chats": {"type": "integer"}},
        "required": ["id", "email", "name", "role", "max_chats", "departments", "disabled", "created_at"],
    },
    "Article": {
        "type": "object",
        "properties": {"slug": {"type": "string"}, "title": {"type": "string"}, "department": nullable("string"),
                       "tags": {"type": "array", "items": {"type": "string"}},
                       "questions": {"type": "array", "items": {"type": "string"}},
                       "published": {"type": "boolean"}, "body": {"type": "string"}},
        "required": ["slug", "title", "published", "tags", "questions"],
    },
    "Survey": {
        "type": "object",
        "properties": {"conversation_id": ID, "visitor_id": {"type": "string"}, "csat": nullable("integer"),
                       "ces": nullable("integer"), "nps": nullable("integer"), "comment": nullable("string"),
                       "created_at": TIME, "updated_at": TIME},
        "required": ["conversation_id", "visitor_id", "created_at"],
    },
    "AuditEntry": {
        "type": "object",
        "properties": {"id": ID, "created_at": TIME, "actor_agent_id": nullable("integer"),
                       "actor_name": {"type": "string"},
                       "via": {"enum": ["page", "admin_api", "api", "login", "system"]},
                       "token_id": nullable("integer"), "address": nullable("string"), "action": {"type": "string"},
                       "target_type": nullable("string"), "target_id": nullable("string"),
                       "changes": nullable("object", description="{field: [before, after]}")},
        "required": ["id", "created_at", "actor_name", "via", "action"],
    },
    "NewMessage": {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000},
                       "private": {"type": "boolean", "default": False,
                                   "description": "a note only agents see (admins may add one anywhere)"},
                       "client_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                                     "description": "your id of this message: a resend is stored once"}},
        "required": ["text"],
    },
    "Assignment": {
        "type": "object", "properties": {"agent_id": {**ID, "maximum": MAX_ID}}, "required": ["agent_id"],
    },
    "NewAgent": {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email", "maxLength": 320},
                       "name": {"type": "string", "minLength": 1, "maxLength": 80},
                       "role": {"enum": ["agent", "admin"]},
                       "max_chats": {"type": "integer", "minimum": 1, "maximum": 50},
                       "departments": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
                       "password": {"type": "string", "minLength": 10, "maxLength": 200,
                                    "description": "omit to have one generated (answered once as `password`); with email on, "
                                                   "an invitation email is sent instead (answered as `invitation`)"}},
        "required": ["email", "name", "role", "max_chats", "departments"],
    },
    "AgentChanges": {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 80},
                       "role": {"enum": ["agent", "admin"]},
                       "max_chats": {"type": "integer", "minimum": 1, "maximum": 50},
                       "departments": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
                       "disabled": {"type": "boolean"}},
        "additionalProperties": False,
    },
    "ArticleFields": {
        "type": "object",
        "description": "The editor's fields; saved through the editor's own path (validated by the article loader).",
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                       "slug": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120},
                       "department": {"type": "string", "maxLength": 40},
                       "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 30},
                       "questions": {"type": "array", "items": {"type": "string", "maxLength": 300},
                                     "maxItems": 100},
                       "published": {"type": "boolean"},
                       "body": {"type": "string", "maxLength": 100000}},
        "required": ["title", "slug", "body"],
    },
}


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str                  # "path" | "query"
    schema: dict
    description: str = ""
    required: bool = False

    def document(self) -> dict:
        return {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                "schema": self.schema, **({"description": self.description} if self.description else {})}


@dataclass(frozen=True)
class Operation:
    """One endpoint of /api/v1: the route, the scope it needs, and what it takes and answers."""
    method: str
    path: str                   # below /api/v1
    operation_id: str
    summary: str
    scope: str | None           # None: no token needed (the document itself)
    handler: Callable
    tag: str
    parameters: tuple[Parameter, ...] = ()
    body: str | None = None     # a schema name in SCHEMAS
    answer: dict = field(default_factory=dict)
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 429, 503)
    # For calls whose operation keeps no audit entry of its own (an agent's actions): the entry written after it.
    audit: str | None = None


ERROR_MEANINGS = {400: "invalid input", 401: "no valid token", 403: "the token's scope is not enough, or refused",
                  404: "no such resource", 409: "not possible in its current state", 413: "body too large",
                  429: "this token's rate limit", 503: "the database is unavailable; retry"}
INTRO = ("The help desk's REST API: the same operations as the agent console and the admin pages, for scripts and "
         "other systems. Authenticate with an API token made under Admin → API tokens: `Authorization: Bearer "
         "cst_...`. Every error has one shape (`Error`).")


def document(operations: list[Operation]) -> dict:
    """The OpenAPI 3.1 document of these operations."""
    paths: dict = {}
    for op in operations:
        responses: dict = {str(op.status): {"description": "done", "content": {"application/json": {
            "schema": op.answer}}}}
        for status in op.errors:
            responses[str(status)] = {"description": ERROR_MEANINGS[status],
                                      "content": {"application/json": {"schema": ref("Error")}}}
        entry = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
                 "parameters": [p.document() for p in op.parameters], "responses": responses}
        if op.scope is None:
            entry["security"] = []
        else:
            entry["description"] = f"Needs a token with the `{op.scope}` scope (or a wider one)."
            entry["x-scope"] = op.scope
        if op.body:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(op.body)}}}
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Support chat API", "version": VERSION, "description": INTRO},
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "an API token, cst_..."}}},
    }


def _schema_summary(schema: dict) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array":
        return f"array of {_schema_summary(schema.get('items', {}))}"
    if kind == "object" and "properties" in schema:
        return "`{" + ", ".join(schema["properties"]) + "}`"
    limits = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "minLength", "maxLength", "pattern") if k in schema]
    return kind + (f" ({', '.join(limits)})" if limits else "")


def markdown(spec: dict) -> str:
    """The reference part of docs/api.md, rendered from the document (the same text every time)."""
    lines = ["## Reference", "",
             "Generated from `/api/v1/openapi.json` (`python -m chatserver.views.api_docs`); do not edit by hand.",
             ""]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            lines += [f"### `{method.upper()} /api/v1{path}`", "", op["summary"] + ".", ""]
            lines.append(f"Scope: `{op['x-scope']}`." if "x-scope" in op else "No token needed.")
            lines.append("")
            if op["parameters"]:
                lines += ["| parameter | in | type | meaning |", "|---|---|---|---|"]
                for p in op["parameters"]:
                    lines.append(f"| `{p['name']}` | {p['in']} | {_schema_summary(p['schema'])} | "
                                 f"{p.get('description', '')} |")
                lines.append("")
            if "requestBody" in op:
                body = op["requestBody"]["content"]["application/json"]["schema"]
                lines += [f"Body: {_schema_summary(body)}.", ""]
            codes = sorted(op["responses"])
            ok = [c for c in codes if c.startswith("2")]
            answer = op["responses"][ok[0]]["content"]["application/json"]["schema"]
            lines += [f"Answers {ok[0]}: {_schema_summary(answer)}; errors " +
                      ", ".join(c for c in codes if not c.startswith("2")) + ".", ""]
    lines += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += [f"### `{name}`", ""]
        if "description" in schema:
            lines += [schema["description"], ""]
        required = set(schema.get("required", []))
        lines += ["| field | type | |", "|---|---|---|"]
        for prop, sub in schema.get("properties", {}).items():
            note = "required" if prop in required else ""
            if "description" in sub:
                note = f"{note}; {sub['description']}" if note else sub["description"]
            lines.append(f"| `{prop}` | {_schema_summary(sub)} | {note} |")
        lines.append("")
    return "\n".join(lines)


def dumps(spec: dict) -> str:
    return json.dumps(spec, indent=1, sort_keys=False)

