"""The live supervisor view (docs/console.md, "Supervisor view"): the queue against the SLA target, chats breaching
it now, agents with their load, and conversations whose visitor is disconnected or has unsent messages. Admins and
supervisors hear it as `supervisor` events: one when their socket connects, then every couple of seconds from the
timed jobs (one node of a cluster) while any of them is connected. Nothing in it names a visitor or their token."""
from __future__ import annotations

import time

from ..store import agents as agent_queries
from ..store import conversations as conv_queries
from . import access
from .events import SupervisorBoard

EVERY_SECONDS = 2.0


def _board_rows(db) -> dict:
    conversations = conv_queries.open_conversations(db)
    ids = [c["id"] for c in conversations]
    unsent = {}
    if ids:
        marks = ", ".join("?" for _ in ids)
        unsent = dict(db.execute(f"SELECT conversation_id, unsent FROM quality_records WHERE conversation_id IN ({marks}) "
                                 "AND unsent > 0", ids).fetchall())
    return {"conversations": conversations, "unsent": unsent,
            "agents": [a for a in agent_queries.list_agents(db) if not a["disabled"]]}


def _waiting_since(c: dict) -> float | None:
    """When the visitor started waiting for a person (as the reports count it): None while the bot has the chat or
    once an agent answered."""
    if c["status"] == "bot" or c["first_agent_response_at"] is not None:
        return None
    starts = [t for t in (c["first_visitor_message_at"], c["queued_at"]) if t is not None]
    return max(starts) if starts else c["created_at"]


async def board(desk, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    sla = float(desk.config.sla_seconds)
    rows = await desk.store.read(_board_rows)
    queue = [{"conversation_id": q["conversation_id"], "position": q["position"], "queued_at": q["queued_at"],
              "wait_seconds": round(now - q["queued_at"], 1), "sla_remaining_seconds": round(sla - (now - q["queued_at"]), 1),
              "department": q.get("department"), "first_question": q.get("first_question")}
             for q in await desk.live.queue_board(now)]
    breaches, watch = [], []
    connected = await desk.live.visitors_connected(sorted({c["visitor_id"] for c in rows["conversations"]}))
    for c in rows["conversations"]:
        since = _waiting_since(c)
        if since is not None and now - since > sla:
            breaches.append({"conversation_id": c["id"], "status": c["status"], "agent_name": c["agent_name"],
                             "waiting_since": since, "waited_seconds": round(now - since, 1),
                             "kind": "queue" if c["status"] == "queued" else "first_response"})
        online = c["visitor_id"] in connected
        unsent = int(rows["unsent"].get(c["id"], 0))
        if c["status"] in ("queued", "assigned") and (not online or unsent):      # the chats people wait in
            watch.append({"conversation_id": c["id"], "status": c["status"], "agent_name": c["agent_name"],
                          "visitor_connected": online, "unsent": unsent})
    agents = []
    for agent in rows["agents"]:
        state = await desk.live.agent(agent["id"])
        on = bool(state and state.connected)
        agents.append({"agent_id": agent["id"], "name": agent["name"], "role": agent["role"],
                       "status": state.status if on else "offline", "open_chats": state.open_chats if state else 0,
                       "max_chats": state.max_chats if state else agent["max_chats"]})
    breaches.sort(key=lambda b: -b["waited_seconds"])
    return {"at": now, "sla_seconds": sla, "queue": queue, "breaches": breaches, "agents": agents,
            "visitors": watch}


async def watchers_connected(desk) -> bool:
    return any(a.connected and a.role in access.SUPERVISING_ROLES for a in await desk.live.agents())


async def publish(desk, now: float) -> bool:
    """The board for every connected admin and supervisor, at most every EVERY_SECONDS (from the timed jobs)."""
    if now - desk.supervisor_board_at < EVERY_SECONDS or not await watchers_connected(desk):
        return False
    desk.supervisor_board_at = now
    await desk.notifier.publish([SupervisorBoard(await board(desk, now))])
    return True


async def watcher_connected(desk, agent: dict, sid: str) -> None:
    """An admin's or supervisor's console connected: it joins the board's room and gets the board at once."""
    if agent.get("role") in access.SUPERVISING_ROLES:
        await desk.notifier.join_supervisors(sid)
        await desk.notifier.send_supervisor_board(sid, await board(desk))
