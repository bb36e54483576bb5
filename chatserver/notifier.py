"""The one place that talks to people over Socket.IO: it maps each domain event (chatserver/desk/events.py) to
rooms, event names and payloads, and owns every room name. Operations hand it events after their commit, so
nobody hears of a message that was not stored. With several server processes, this is where a message broker
(python-socketio's Redis manager) carries emits to the other nodes.

Rooms: `visitor:<id>` (every tab of one visitor), `agent:<id>` (every console of one agent), `login:<hash>`
(the agent sockets opened with one login session), `agents` (every connected agent: the queue board),
`supervisors` (the consoles of admins and supervisors: the supervisor view).
"""
from __future__ import annotations

import socketio

from .desk.events import (AgentJoined, AgentSignedOut, AgentStatusChanged, ChatAssigned, ChatClosed, ChatUnassigned,
                          ConversationUpdated, LifecycleChanged, MessageAdded, Notifier, QueueBoard, QueuePosition,
                          ReceiptUpdated, SupervisorBoard, Typing)

VISITORS = "/visitor"
AGENTS_NS = "/agent"
ALL_AGENTS = "agents"
SUPERVISORS = "supervisors"


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def login_room(session_hash: str) -> str:
    return f"login:{session_hash}"


class SocketNotifier(Notifier):
    def __init__(self, sio: socketio.AsyncServer, relay=None):
        self.sio = sio
        # A cluster node's NodeRelay (chatserver/cluster/relay.py): what only each node can do for its own sockets.
        self.relay = relay
        # One process (no relay): every socket of a room is here, so an emit nobody else would receive can be
        # skipped before python-socketio does any work for it (the sender is usually a visitor's only tab).
        self._all_sockets_local = relay is None
        self._senders = {
            MessageAdded: self._message, AgentJoined: self._agent_joined, ChatAssigned: self._assigned,
            ChatUnassigned: self._unassigned, ChatClosed: self._closed, AgentStatusChanged: self._status,
            QueuePosition: self._queue_position, QueueBoard: self._queue_board, Typing: self._typing,
            AgentSignedOut: self._signed_out, LifecycleChanged: self._lifecycle,
            ConversationUpdated: self._conversation_updated, ReceiptUpdated: self._receipt,
            SupervisorBoard: self._board,
        }

    async def publish(self, events: list) -> None:
        for event in events:
            await self._senders[type(event)](event)

    async def join_visitor(self, sid: str, visitor_id: str) -> None:
        await self.sio.enter_room(sid, visitor_room(visitor_id), namespace=VISITORS)

    async def join_agent(self, sid: str, agent_id: int, session_hash: str | None = None) -> None:
        await self.sio.enter_room(sid, agent_room(agent_id), namespace=AGENTS_NS)
        await self.sio.enter_room(sid, ALL_AGENTS, namespace=AGENTS_NS)
        if session_hash:
            await self.sio.enter_room(sid, login_room(session_hash), namespace=AGENTS_NS)

    async def join_supervisors(self, sid: str) -> None:
        await self.sio.enter_room(sid, SUPERVISORS, namespace=AGENTS_NS)

    async def send_supervisor_board(self, sid: str, board: dict) -> None:
        await self.sio.emit("supervisor", board, to=sid, namespace=AGENTS_NS)

    async def send_session(self, audience: str, sid: str, session: dict) -> None:
        await self.sio.emit("session", session, to=sid, namespace=VISITORS if audience == "visitor" else AGENTS_NS)

    # -- one sender per event --------------------------------------------------------------------------

    def _reaches_others(self, namespace: str, room: str, sender_sid: str | None) -> bool:
        if not self._all_sockets_local or sender_sid is None:
            return True
        return any(sid != sender_sid for sid, _ in self.sio.manager.get_participants(namespace, room))

    async def _message(self, event: MessageAdded) -> None:
        room = visitor_room(event.visitor_id)
        if not event.message.get("private") and self._reaches_others(VISITORS, room, event.sender_sid):
            await self.sio.emit("message", event.message, to=room, namespace=VISITORS, skip_sid=event.sender_sid)
        if event.agent_id is not None:
            await self.sio.emit("message", event.message, to=agent_room(event.agent_id), namespace=AGENTS_NS,
                                skip_sid=event.sender_sid)

    async def _agent_joined(self, event: AgentJoined) -> None:
        await self.sio.emit("agent_joined", {"conversation_id": event.conversation_id, "agent_name": event.agent_name},
                            to=visitor_room(event.visitor_id), namespace=VISITORS)

    async def _assigned(self, event: ChatAssigned) -> None:
        await self.sio.emit("assigned", {**event.snapshot, "reason": event.reason}, to=agent_room(event.agent_id),
                            namespace=AGENTS_NS)

    async def _unassigned(self, event: ChatUnassigned) -> None:
        await self.sio.emit("unassigned", {"conversation_id": event.conversation_id, "reason": event.reason,
                                           "to_agent_name": event.to_agent_name, "by_agent_id": event.by_agent_id,
                                           "by_agent_name": event.by_agent_name},
                            to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _closed(self, event: ChatClosed) -> None:
        closed = {"conversation_id": event.conversation_id, "closed_by": event.closed_by,
                  "resolution": event.resolution, "survey": event.survey}
        await self.sio.emit("conversation_closed", closed, to=visitor_room(event.visitor_id), namespace=VISITORS)
        if event.agent_id is not None:
            await self.sio.emit("conversation_closed", closed, to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _lifecycle(self, event: LifecycleChanged) -> None:
        if event.agent_id is not None:
            await self.sio.emit("conversation_state", {"conversation_id": event.conversation_id, "state": event.state,
                                                       "snoozed_until": event.snoozed_until, "reason": event.reason},
                                to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _conversation_updated(self, event: ConversationUpdated) -> None:
        if event.agent_id is not None:
            await self.sio.emit("conversation_updated", {"conversation_id": event.conversation_id, **event.changes},
                                to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _status(self, event: AgentStatusChanged) -> None:
        await self.sio.emit("status", event.status, to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _queue_position(self, event: QueuePosition) -> None:
        await self.sio.emit("queue", event.state, to=visitor_room(event.visitor_id), namespace=VISITORS)

    async def _queue_board(self, event: QueueBoard) -> None:
        await self.sio.emit("queue", {"conversations": event.conversations, "agents_online": event.agents_online},
                            to=ALL_AGENTS, namespace=AGENTS_NS)

    async def _typing(self, event: Typing) -> None:
        if event.author == "agent":
            await self.sio.emit("typing", {"conversation_id": event.conversation_id, "author": "agent",
                                           "agent_name": event.agent_name, "typing": event.typing},
                                to=visitor_room(event.visitor_id), namespace=VISITORS)
        else:
            await self.sio.emit("typing", {"conversation_id": event.conversation_id, "author": "visitor",
                                           "typing": event.typing}, to=agent_room(event.agent_id), namespace=AGENTS_NS)

    async def _board(self, event: SupervisorBoard) -> None:
        await self.sio.emit("supervisor", event.board, to=SUPERVISORS, namespace=AGENTS_NS)

    async def _receipt(self, event: ReceiptUpdated) -> None:
        receipt = event.receipt
        if event.reader == "visitor":
            if event.agent_id is not None:
                await self.sio.emit("receipt", {"conversation_id": event.conversation_id, "reader": "visitor",
                                                "delivered_seq": receipt["delivered_seq"],
                                                "seen_seq": receipt["seen_seq"], "seen_at": receipt["seen_at"]},
                                    to=agent_room(event.agent_id), namespace=AGENTS_NS)
        else:
            await self.sio.emit("receipt", {"conversation_id": event.conversation_id, "reader": "agent",
                                            "seen_seq": receipt["agent_seen_seq"], "seen_at": receipt["agent_seen_at"]},
                                to=visitor_room(event.visitor_id), namespace=VISITORS)

    async def _signed_out(self, event: AgentSignedOut) -> None:
        await self._sign_out_here(event)
        if self.relay is not None:   # a room's members are known to their own node only: the others do theirs
            await self.relay.publish("agent_signed_out", {"agent_id": event.agent_id,
                                                          "session_hash": event.session_hash,
                                                          "keep_session_hash": event.keep_session_hash})

    async def relayed(self, kind: str, payload: dict) -> None:
        """A notice from another node (NodeRelay.listen)."""
        if kind == "agent_signed_out":
            await self._sign_out_here(AgentSignedOut(**payload))

    async def _sign_out_here(self, event: AgentSignedOut) -> None:
        room = login_room(event.session_hash) if event.session_hash else agent_room(event.agent_id)
        sids = [sid for sid, _ in self.sio.manager.get_participants(AGENTS_NS, room)]
        if event.keep_session_hash:
            kept = {sid for sid, _ in self.sio.manager.get_participants(AGENTS_NS, login_room(event.keep_session_hash))}
            sids = [sid for sid in sids if sid not in kept]
        for sid in sids:
            await self.sio.disconnect(sid, namespace=AGENTS_NS)
