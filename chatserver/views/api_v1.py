"""The versioned REST API, /api/v1 (docs/api.md): API tokens in the Authorization header (never a cookie), the
same domain operations as the console and the admin pages, errors in the one shape of views/errors.py.

Every route comes from OPERATIONS, which also builds the OpenAPI document (api_v1_spec.py), so the two cannot drift.
Each call: refuse another site's browser page (any method: a token never rides along by itself, and nothing here
answers CORS), authenticate the token (desk/api_tokens.py: looked up each call, rate-limited per token), check its
scope, parse the input, call one operation, shape the answer. Tokens are never logged: only the header carries them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from aiohttp import web

from triage import Article

from .. import keys, validation
from ..desk import agents as agent_ops
from ..desk import api_tokens, articles, assignment, audit, conversations, privacy, surveys, visitors
from ..desk.articles import ArticleForm
from ..errors import ChatError, Forbidden, InvalidPayload, NotFound
from ..reports import catalogue, parameters
from ..desk.audit import Actor
from ..security import client_address
from ..security.cross_site import is_cross_site
from ..store import agents as agent_queries
from .admin_common import json_object
from .reports import build_report
from . import api_v1_spec as spec
from .api_v1_spec import ID, MAX_ID, Operation, Parameter, nullable, ok_object, ref
from .errors import error_response

PREFIX = "/api/v1"
SPEC = web.AppKey("api_v1_spec", dict)


@dataclass
class Call:
    """One authenticated API call: the token, the admin it acts as, the JSON body (POST/PUT/PATCH)."""
    request: web.Request
    token: dict
    agent: dict
    body: dict

    @property
    def desk(self):
        return self.request.app[keys.DESK]

    @property
    def actor(self) -> Actor:
        return Actor.of(self.agent, "api", client_address.of_request(self.request), self.token)

    def path_id(self, name: str) -> int:
        raw = self.request.match_info[name]
        if not raw.isdigit() or len(raw) > 16 or not 1 <= int(raw) <= MAX_ID:
            raise NotFound(f"no such {name.removesuffix('_id')}")
        return int(raw)


# -- conversations ---------------------------------------------------------------------------------------------

async def list_conversations(call: Call) -> dict:
    filters = conversations.clean_list_filters(dict(call.request.query))
    return await conversations.list_conversations(call.desk, call.agent, filters)


async def read_conversation(call: Call) -> dict:
    return await conversations.conversation_for_agent(call.desk, call.agent, call.path_id("conversation_id"))


async def post_message(call: Call) -> dict:
    conversation_id = call.path_id("conversation_id")
    text = validation.text(call.body, "text", call.desk.config.max_message_chars)
    private = validation.boolean(call.body, "private", required=False) or False
    client_id = validation.client_id(call.body) if call.body.get("client_id") is not None else None
    return await conversations.send_agent_message(call.desk, call.agent, conversation_id, client_id, text, None,
                                                  private=private)


async def close_conversation(call: Call) -> dict:
    return await conversations.close_by_agent(call.desk, call.agent, call.path_id("conversation_id"))


async def assign_conversation(call: Call) -> dict:
    target = validation.integer(call.body, "agent_id", 1, MAX_ID)
    conversation = await assignment.assign(call.desk, call.agent, call.path_id("conversation_id"), target)
    return {"ok": True, "conversation": conversation}


# -- visitors, agents, surveys, reports ----------------------------------------------------------------------------

async def read_visitor(call: Call) -> dict:
    visitor_id = call.request.match_info["visitor_id"]
    if not visitor_id.isalnum() or len(visitor_id) > 64:
        raise NotFound("no such visitor", code="visitor_not_found")
    return {"ok": True, "visitor": await visitors.visitor_for_admin(call.desk, visitor_id)}


async def export_visitor(call: Call) -> dict:
    return await privacy.export_visitor(call.desk, call.request.match_info["visitor_id"], call.actor)


async def erase_visitor(call: Call) -> dict:
    return await privacy.erase_visitor(call.desk, call.request.match_info["visitor_id"], call.actor)


async def list_agents(call: Call) -> dict:
    agents = await call.desk.store.read(agent_queries.list_agents)
    return {"ok": True, "agents": await agent_ops.with_presence(call.desk, agents)}


async def create_agent(call: Call) -> dict:
    agent, generated, invitation = await agent_ops.create_agent(call.desk, call.body, call.actor, call.agent)
    return {"ok": True, "agent": agent, **({"password": generated} if generated else {}),
            **({"invitation": {"message_id": invitation["message_id"], "recipient": invitation["recipient"]}}
               if invitation else {})}


async def update_agent(call: Call) -> dict:
    return {"ok": True, "agent": await agent_ops.update_agent(call.desk, call.agent, call.path_id("agent_id"),
                                                              call.body, call.actor)}


def _page(call: Call) -> tuple[int | None, int]:
    query = conversations.clean_list_filters({k: v for k, v in call.request.query.items() if k in ("cursor", "limit")})
    return query.get("cursor"), query.get("limit", 25)


async def list_surveys(call: Call) -> dict:
    cursor, limit = _page(call)
    return await surveys.list_surveys(call.desk, cursor, limit)


async def read_report(call: Call) -> dict:
    name = call.request.match_info["name"]
    catalogue.require_report(name)
    params = parameters.parse_params(call.request.query, datetime.now(timezone.utc).date())
    return await build_report(call.request.app, name, params)       # the same figures as the reports pages


async def read_audit_log(call: Call) -> dict:
    query = call.request.query
    filters = audit.clean_filters({k: query.get(k) for k in ("actor", "action", "since", "until", "cursor")})
    _, limit = _page(call)
    return await audit.read_log(call.desk, filters, limit)


# -- articles (through the editor's path: desk/articles.py) ---------------------------------------------------------

def article_json(article: Article) -> dict:
    return {"slug": article.slug, "title": article.title, "department": article.department, "tags": article.tags,
            "questions": article.questions, "published": article.published, "body": article.body}


def _article(call: Call) -> Article:
    article = call.desk.kb.get(call.request.match_info["slug"][:200])
    if article is None:
        raise NotFound("no such article", code="article_not_found")
    return article


def _draft(body: dict) -> ArticleForm:
    def strings(name: str) -> list[str]:
        value = body.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidPayload(f"'{name}' must be a list of strings")
        return value

    for name in ("title", "slug", "body", "department"):
        if not isinstance(body.get(name, ""), str):
            raise InvalidPayload(f"'{name}' must be a string")
    published = body.get("published", True)
    if not isinstance(published, bool):
        raise InvalidPayload("'published' must be true or false")
    if any("," in tag for tag in strings("tags")) or any("\n" in q or "\r" in q for q in strings("questions")):
        raise InvalidPayload("tags hold no commas and questions no line breaks")
    return ArticleForm(title=body.get("title", "").strip(), slug=body.get("slug", "").strip(),
                       department=body.get("department", "").strip(), tags=", ".join(strings("tags")),
                       questions="\n".join(strings("questions")), published=published,
                       body=body.get("body", "").replace("\r\n", "\n").replace("\r", "\n"))


async def list_articles(call: Call) -> dict:
    found = sorted(list(call.desk.kb.articles.values()), key=lambda a: a.slug)
    return {"ok": True, "articles": [article_json(a) for a in found]}


async def read_article(call: Call) -> dict:
    return {"ok": True, "article": article_json(_article(call))}


async def create_article(call: Call) -> dict:
    saved = await articles.save_article(call.desk, call.agent["email"], _draft(call.body), None, actor=call.actor)
    return {"ok": True, "article": article_json(saved)}


async def update_article(call: Call) -> dict:
    original = _article(call)
    saved = await articles.save_article(call.desk, call.agent["email"], _draft(call.body), original, actor=call.actor)
    return {"ok": True, "article": article_json(saved)}


async def delete_article(call: Call) -> dict:
    await articles.delete_article(call.desk, call.agent["email"], _article(call), call.actor)
    return {"ok": True}


# -- the table: routes and the OpenAPI document ------------------------------------------------------------------

CONVERSATION_ID = Parameter("conversation_id", "path", {**ID, "maximum": MAX_ID})
AGENT_ID = Parameter("agent_id", "path", {**ID, "maximum": MAX_ID})
VISITOR_ID = Parameter("visitor_id", "path", {"type": "string", "pattern": "^[A-Za-z0-9]{1,64}$"})
SLUG = Parameter("slug", "path", {"type": "string", "pattern": "^[a-z0-9-]{1,120}$"})
PAGE = (Parameter("cursor", "query", {"type": "string", "pattern": "^[0-9]{1,15}$"}, "from the previous page"),
        Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}, "per page (25)"))
MESSAGE_ACK = ok_object({"id": ID, "seq": {"type": "integer"}, "conversation_id": ID, "created_at": spec.TIME,
                         "duplicate": {"type": "boolean"}}, ["id", "seq", "conversation_id", "duplicate"])
DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

OPERATIONS: list[Operation] = [
    Operation("GET", "/conversations", "listConversations", "Conversations, newest first, a page at a time", "read",
              list_conversations, "conversations", parameters=(
                  Parameter("status", "query", {"enum": list(conversations.LIST_STATUSES)}),
                  Parameter("agent_id", "query", {**ID, "maximum": 10**15 - 1}, "assigned to (or last with) them"),
                  Parameter("visitor_id", "query", {"type": "string", "pattern": "^[A-Za-z0-9]{1,64}$"}),
                  Parameter("created_after", "query", {"type": "number", "minimum": 0, "maximum": 1e10},
                            "Unix time, inclusive"),
                  Parameter("created_before", "query", {"type": "number", "minimum": 0, "maximum": 1e10},
                            "Unix time, exclusive"),
                  *PAGE),
              answer=ok_object({"conversations": {"type": "array", "items": ref("Conversation")},
                                "next_cursor": spec.CURSOR}, ["conversations", "next_cursor"]), errors=(400, 401, 403, 429, 503)),
    Operation("GET", "/conversations/{conversation_id}", "readConversation",
              "One conversation with its messages (notes included), events, the bot's article events and the visitor",
              "read", read_conversation, "conversations", parameters=(CONVERSATION_ID,),
              answer=ok_object({"conversation": ref("Conversation"),
                                "messages": {"type": "array", "items": ref("Message")},
                                "events": {"type": "array", "items": ref("ConversationEvent")},
                                "article_events": {"type": "array", "items": ref("ArticleEvent")},
                                "visitor": {"anyOf": [ref("Visitor"), {"type": "null"}]}},
                               ["conversation", "messages", "events"]), errors=(401, 403, 404, 429, 503)),
    Operation("POST", "/conversations/{conversation_id}/messages", "postMessage",
              "Write as the token's admin: a reply (only in a chat assigned to them, as in the console) or a private "
              "note (anywhere)", "write", post_message, "conversations", parameters=(CONVERSATION_ID,),
              body="NewMessage", answer=MESSAGE_ACK, status=201, audit="api.message_posted"),
    Operation("POST", "/conversations/{conversation_id}/close", "closeConversation", "Close an open conversation",
              "write", close_conversation, "conversations", parameters=(CONVERSATION_ID,),
              answer=ok_object({"conversation_id": ID, "already_closed": {"type": "boolean"}}, ["conversation_id"]),
              audit="api.conversation_closed"),
    Operation("POST", "/conversations/{conversation_id}/assign", "assignConversation",
              "Give a waiting chat to an agent, or transfer an assigned one (the agent must be online with a free slot)",
              "write", assign_conversation, "conversations", parameters=(CONVERSATION_ID,), body="Assignment",
              answer=ok_object({"conversation": ref("Conversation")}, ["conversation"]),
              audit="api.conversation_assigned"),
    Operation("GET", "/visitors/{visitor_id}", "readVisitor", "A visitor's details and recent conversations", "read",
              read_visitor, "visitors",
              parameters=(VISITOR_ID,),
              answer=ok_object({"visitor": ref("Visitor")}, ["visitor"]), errors=(401, 403, 404, 429, 503)),
    Operation("GET", "/visitors/{visitor_id}/export", "exportVisitor",
              "Everything kept about one visitor, part by part (docs/privacy.md); audited", "admin", export_visitor,
              "visitors", parameters=(VISITOR_ID,),
              answer=ok_object({"visitor_id": {"type": "string"}, "exported_at": spec.TIME,
                                "data": {"type": "object", "description": "one key per part of the registry"}},
                               ["visitor_id", "data"]), errors=(401, 403, 404, 429, 503)),
    Operation("POST", "/visitors/{visitor_id}/erase", "eraseVisitor",
              "Erase one visitor's messages, contact details, identity and comments (the reports keep the counts); "
              "audited without content", "admin", erase_visitor, "visitors", parameters=(VISITOR_ID,),
              answer=ok_object({"visitor_id": {"type": "string"},
                                "erased": {"type": "object", "additionalProperties": {"type": "integer"},
                                           "description": "rows changed per part"}}, ["visitor_id", "erased"]),
              errors=(401, 403, 404, 429, 503)),
    Operation("GET", "/agents", "listAgents", "Every agent with live status and open chats", "read", list_agents,
              "agents", answer=ok_object({"agents": {"type": "array", "items": ref("Agent")}}, ["agents"]),
              errors=(401, 403, 429, 503)),
    Operation("POST", "/agents", "createAgent", "Invite an agent (as Admin → Agents)", "admin", create_agent, "agents",
              body="NewAgent", status=201,
              answer=ok_object({"agent": ref("Agent"), "password": {"type": "string"}}, ["agent"])),
    Operation("PATCH", "/agents/{agent_id}", "updateAgent", "Change an agent's name, role, capacity, departments, "
              "or disable them (as Admin → Agents)", "admin", update_agent, "agents", parameters=(AGENT_ID,),
              body="AgentChanges", answer=ok_object({"agent": ref("Agent")}, ["agent"])),
    Operation("GET", "/articles", "listArticles", "Every article of the knowledge base, drafts included", "read",
              list_articles, "articles", answer=ok_object({"articles": {"type": "array", "items": ref("Article")}},
                                                          ["articles"]), errors=(401, 403, 429)),
    Operation("GET", "/articles/{slug}", "readArticle", "One article", "read", read_article, "articles",
              parameters=(SLUG,), answer=ok_object({"article": ref("Article")}, ["article"]),
              errors=(401, 403, 404, 429)),
    Operation("POST", "/articles", "createArticle", "Create an article (the editor's checks and history)", "write",
              create_article, "articles", body="ArticleFields", status=201,
              answer=ok_object({"article": ref("Article")}, ["article"])),
    Operation("PUT", "/articles/{slug}", "updateArticle", "Save an article (a new slug renames it)", "write",
              update_article, "articles", parameters=(SLUG,), body="ArticleFields",
              answer=ok_object({"article": ref("Article")}, ["article"])),
    Operation("DELETE", "/articles/{slug}", "deleteArticle", "Delete an article (kept in its history)", "write",
              delete_article, "articles", parameters=(SLUG,), answer=ok_object({}, [])),
    Operation("GET", "/surveys", "listSurveys", "Answered post-chat surveys, newest first", "read", list_surveys,
              "surveys", parameters=PAGE,
              answer=ok_object({"surveys": {"type": "array", "items": ref("Survey")}, "next_cursor": spec.CURSOR},
                               ["surveys", "next_cursor"]), errors=(400, 401, 403, 429, 503)),
    Operation("GET", "/audit", "readAuditLog", "The audit log of admin actions, newest first", "admin",
              read_audit_log, "audit", parameters=(
                  Parameter("actor", "query", {"type": "string", "pattern": "^[0-9]{1,15}$"}, "an agent id"),
                  Parameter("action", "query", {"type": "string", "pattern": "^[A-Za-z0-9._]{1,60}$"},
                            "an action (agent.updated) or a prefix ending in '.' (agent.)"),
                  Parameter("since", "query", {"type": "number", "minimum": 0, "maximum": 1e10}, "Unix time"),
                  Parameter("until", "query", {"type": "number", "minimum": 0, "maximum": 1e10}, "Unix time"),
                  *PAGE),
              answer=ok_object({"entries": {"type": "array", "items": ref("AuditEntry")},
                                "next_cursor": spec.CURSOR}, ["entries", "next_cursor"]),
              errors=(400, 401, 403, 429, 503)),
    Operation("GET", "/reports/{name}", "readReport", "One report's figures (docs/reports.md)", "read", read_report,
              "reports", parameters=(Parameter("name", "path", {"enum": list(catalogue.REPORTS)}),
                                     Parameter("from", "query", DATE, "first day, UTC"),
                                     Parameter("to", "query", DATE, "last day, UTC, inclusive"),
                                     Parameter("group_by", "query", {"enum": list(parameters.GROUP_BY)})),
              answer=ok_object({"report": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
                                "group_by": nullable("string"), "timezone": {"type": "string"}},
                               ["report", "from", "to"]), errors=(400, 401, 403, 404, 429, 503)),
]


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[SPEC], dumps=spec.dumps)


def endpoint(op: Operation):
    async def handle(request: web.Request) -> web.Response:
        desk = request.app[keys.DESK]
        token, agent = await api_tokens.authenticate(desk, _bearer(request))
        api_tokens.require_scope(token, op.scope)
        body: dict = {}
        if op.body is not None:
            body = await json_object(request)
        call = Call(request, token, agent, body)
        answer = await op.handler(call)
        if op.audit is not None:    # the agent-level operations keep no admin audit entry themselves
            target = request.match_info.get("conversation_id")
            await audit.append_now(desk, call.actor, op.audit, "conversation", target,
                                   {"agent_id": [None, body.get("agent_id")]} if "agent_id" in body else None)
        elif request.method == "GET":     # every call is audited: the writes by their operations, reads here
            await audit.append_now(desk, call.actor, "api.read", "api", request.path,
                                   {"query": [None, sorted(request.query)]} if request.query else None)
        return web.json_response(answer, status=op.status, headers={"Cache-Control": "no-store"})
    handle.__name__ = op.operation_id
    return handle


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() or None if header.startswith("Bearer ") else None


@web.middleware
async def api_edge(request: web.Request, handler):
    """For /api/v1 only: another site's page is refused whatever the method, and aiohttp's own 404/405/413 answers
    come in the one error shape."""
    if not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    if is_cross_site(request):
        return error_response(Forbidden("this request came from another site's page and was refused",
                                        code="cross_site_request"), headers={"Cache-Control": "no-store"})
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Cache-Control": "no-store", **({"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {})}
        return error_response(_http_error(exc), headers=headers)


def _http_error(exc: web.HTTPException) -> ChatError:
    """aiohttp's own refusals (no such route, wrong method, body too large) as domain errors with codes."""
    if exc.status == 404:
        return NotFound("no such endpoint (docs/api.md)", code="not_found")
    error = ChatError(exc.reason, code="method_not_allowed" if exc.status == 405 else "payload_too_large"
                      if exc.status == 413 else "invalid_payload")
    error.http_status = exc.status
    return error

def setup(app: web.Application) -> None:
    app[SPEC] = spec.document(OPERATIONS)
    app.middlewares.append(api_edge)
    app.router.add_get(PREFIX + "/openapi.json", openapi_document)
    for op in OPERATIONS:
        app.router.add_route(op.method, PREFIX + op.path, endpoint(op))
