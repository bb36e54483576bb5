"""Socket.IO room names, built in one place."""


def visitor(visitor_id: str) -> str:
    """Every socket of one visitor (several tabs)."""
    return f"visitor:{visitor_id}"


def agent(agent_id: int) -> str:
    """Every socket of one agent."""
    return f"agent:{agent_id}"


AGENTS = "agents"
"""All connected agents (queue updates)."""
