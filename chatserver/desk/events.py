"""What the help desk tells people, as plain data. Operations return these after their commit; the notifier
(chatserver/notifier.py) decides who hears each one and how. Nothing here knows about sockets or rooms.

A `Notifier` is anything with `publish(events)` plus the per-socket calls the edges need at connect. The
`RecordingNotifier` keeps what it was given: the domain's tests use it instead of a Socket.IO server.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A stored message: the visitor's tabs hear it (never a private note), and so does the agent holding the chat.
    The sending socket already has its ack, so it is skipped."""
    message: dict
    visitor_id: str
    agent_id: int | None
    sender_sid: str | None = None


@dataclass(frozen=True, slots=True)
class AgentJoined:
    conversation_id: int
    visitor_id: str
    agent_name: str


@dataclass(frozen=True, slots=True)
class ChatAssigned:
    """The agent's console gets the whole conversation (snapshot) and why it came to them."""
    agent_id: int
    snapshot: dict
    reason: str


@dataclass(frozen=True, slots=True)
class ChatUnassigned:
    agent_id: int
    conversation_id: int
    reason: str
    to_agent_name: str | None = None
    by_agent_id: int | None = None
    by_agent_name: str | None = None


@dataclass(frozen=True, slots=True)
class ChatClosed:
    conversation_id: int
    visitor_id: str
    agent_id: int | None
    closed_by: str
    resolution: str
    survey: dict | None


@dataclass(frozen=True, slots=True)
class LifecycleChanged:
    """A conversation became open, pending or snoozed (desk/lifecycle.py): its agent's consoles hear it."""
    conversation_id: int
    agent_id: int | None
    state: str
    snoozed_until: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class ConversationUpdated:
    """A conversation's labels or priority changed: the consoles of the agent holding it hear the new values."""
    conversation_id: int
    agent_id: int | None
    changes: dict


@dataclass(frozen=True, slots=True)
class AgentStatusChanged:
    agent_id: int
    status: dict


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """One waiting visitor's place in the queue (sent only when it changed)."""
    visitor_id: str
    state: dict


@dataclass(frozen=True, slots=True)
class QueueBoard:
    """The whole queue, for every connected agent."""
    conversations: list
    agents_online: int


@dataclass(frozen=True, slots=True)
class Typing:
    """Typing indicators go to the other side only: a visitor's to the agent holding the chat, an agent's to the
    visitor."""
    conversation_id: int
    author: str                 # "visitor" | "agent"
    typing: bool
    visitor_id: str | None = None
    agent_id: int | None = None
    agent_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptUpdated:
    """A reader's delivered/seen seq moved forward: a visitor's reaches the agent the chat is with, an agent's
    reaches the visitor's tabs. `receipt` is the conversation's current receipts (store/receipts.py)."""
    conversation_id: int
    reader: str                 # "visitor" | "agent"
    visitor_id: str
    agent_id: int | None
    receipt: dict


@dataclass(frozen=True, slots=True)
class SupervisorBoard:
    """The live supervisor view (desk/supervisor.py), for every connected admin and supervisor."""
    board: dict


@dataclass(frozen=True, slots=True)
class AgentSignedOut:
    """End sockets of an agent: every one (disabled), or those opened with one login session (logout, password
    change or reset). A changed role needs no event: sockets read the agent's role from the live state."""
    agent_id: int
    session_hash: str | None = None
    keep_session_hash: str | None = None      # a password change keeps the session it was made in


class Notifier:
    """The interface every notifier fills (chatserver/notifier.py for Socket.IO; RecordingNotifier below)."""

    async def publish(self, events: list) -> None:
        raise NotImplementedError

    async def join_visitor(self, sid: str, visitor_id: str) -> None:
        raise NotImplementedError

    async def join_agent(self, sid: str, agent_id: int, session_hash: str | None = None) -> None:
        raise NotImplementedError

    async def send_session(self, audience: str, sid: str, session: dict) -> None:
        raise NotImplementedError

    async def join_supervisors(self, sid: str) -> None:
        raise NotImplementedError

    async def send_supervisor_board(self, sid: str, board: dict) -> None:
        raise NotImplementedError


@dataclass
class RecordingNotifier(Notifier):
    """Keeps every event it is given, in order (a real notifier for the domain's tests, not a mock)."""
    events: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    members: list = field(default_factory=list)

    async def publish(self, events: list) -> None:
        self.events.extend(events)

    async def join_visitor(self, sid: str, visitor_id: str) -> None:
        self.members.append(("visitor", sid, visitor_id))

    async def join_agent(self, sid: str, agent_id: int, session_hash: str | None = None) -> None:
        self.members.append(("agent", sid, agent_id, session_hash))

    async def send_session(self, audience: str, sid: str, session: dict) -> None:
        self.sessions.append((audience, sid, session))

    async def join_supervisors(self, sid: str) -> None:
        self.members.append(("supervisors", sid))

    async def send_supervisor_board(self, sid: str, board: dict) -> None:
        self.sessions.append(("supervisor", sid, board))

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]
