"""Routing decisions as pure functions over plain data: who gets a chat, where a visitor stands in the
queue, how long they will wait. No sockets, no database, no clock: callers pass `now`."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

DEFAULT_WAIT_PER_CHAT_SECONDS = 90.0

# A conversation's priority, most urgent first: the queue serves every waiting chat of a higher priority before
# any of a lower one, and first come, first served within one priority.
PRIORITIES = ("urgent", "high", "normal", "low")
DEFAULT_PRIORITY = "normal"


@dataclass
class AgentState:
    id: int
    name: str
    role: str = "agent"
    status: str = "away"          # "online" | "away"
    connected: bool = False
    open_chats: int = 0
    max_chats: int = 3
    idle_since: float = 0.0       # when the agent last got a chat (or came online)
    departments: list[str] = field(default_factory=list)
    disconnected_at: float | None = None

    @property
    def available(self) -> bool:
        return self.status == "online" and self.connected

    @property
    def has_capacity(self) -> bool:
        return self.open_chats < self.max_chats


@dataclass
class WaitingChat:
    conversation_id: int
    queued_at: float
    department: str | None = None
    priority: str = DEFAULT_PRIORITY


@dataclass
class Decision:
    conversation_id: int
    agent_id: int
    reason: str


def covers(agent: AgentState, department: str | None) -> bool:
    return not agent.departments or department is None or department in agent.departments


def priority_rank(priority: str | None) -> int:
    """0 for the most urgent; an unknown priority counts as normal."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else PRIORITIES.index(DEFAULT_PRIORITY)


def serving_key(chat: WaitingChat) -> tuple:
    """The queue's order: priority first, then the time the chat first queued (a requeued chat keeps it, so it
    goes before newer chats of its priority), then the id."""
    return (priority_rank(chat.priority), chat.queued_at, chat.conversation_id)


def choose_agent(agents: list[AgentState], department: str | None = None) -> tuple[AgentState | None, str]:
    """The online agent with the fewest open chats below capacity; ties go to the one idle longest.
    Agents who cover the chat's department are preferred; others are used only when none of those is free."""
    free = [a for a in agents if a.available and a.has_capacity]
    if not free:
        online = [a for a in agents if a.available]
        if not online:
            return None, "no agent is online"
        return None, f"all {len(online)} online agents are at capacity"
    specialists = [a for a in free if covers(a, department)]
    pool = specialists or free
    best = min(pool, key=lambda a: (a.open_chats, a.idle_since, a.id))
    why = [f"online, {best.open_chats} of {best.max_chats} chats"]
    if any(a.open_chats == best.open_chats and a is not best for a in pool):
        why.append("idle longest")
    elif len(pool) > 1:
        why.append("fewest open chats")
    if department and specialists and best.departments:
        why.append(f"covers {department}")
    elif department and not specialists:
        why.append(f"no free agent covers {department}")
    return best, f"assigned to {best.name}: " + ", ".join(why)


def plan_assignments(queue: list[WaitingChat], agents: list[AgentState], now: float) -> list[Decision]:
    """Assign waiting chats in queue order (`serving_key`) for as long as some agent has a free slot.

    Works on copies, so the caller can apply decisions one by one (and skip any that fail)."""
    agents = [AgentState(**{**a.__dict__, "departments": list(a.departments)}) for a in agents]
    decisions: list[Decision] = []
    for chat in sorted(queue, key=serving_key):
        agent, reason = choose_agent(agents, chat.department)
        if agent is None:
            break
        agent.open_chats += 1
        agent.idle_since = now
        decisions.append(Decision(chat.conversation_id, agent.id, reason))
    return decisions


def queue_order(queue: list[WaitingChat]) -> list[int]:
    """Conversation ids in the order they will be served: by priority, then first come, first served."""
    return [c.conversation_id for c in sorted(queue, key=serving_key)]


def estimate_wait_seconds(position: int, recent_waits: list[float], agents: list[AgentState]) -> int | None:
    """An honest estimate for the visitor at `position` (1-based). None when nobody is online to serve.

    Based on how long recent chats waited; without history, a conservative default per chat ahead,
    spread over the agents who are online."""
    online = [a for a in agents if a.available]
    if not online:
        return None
    free_slots = sum(max(0, a.max_chats - a.open_chats) for a in online)
    if position <= free_slots:
        return 0
    per_chat = statistics.median(recent_waits) if recent_waits else DEFAULT_WAIT_PER_CHAT_SECONDS
    per_chat = max(per_chat, 15.0)
    ahead = position - free_slots
    return int(round(per_chat * ahead / len(online)))


def agents_to_requeue(agents: list[AgentState], now: float, grace_seconds: float) -> list[int]:
    """Agents whose connection has been gone longer than the grace period: their chats go back to the queue."""
    return [a.id for a in agents
            if not a.connected and a.disconnected_at is not None and now - a.disconnected_at >= grace_seconds
            and a.open_chats > 0]
