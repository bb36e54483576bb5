"""Timed jobs, run once across a cluster: every node ticks each second, and only the one the live state names
leader does the work. Today: the email outbox's delivery run, the end of snoozes, the notices of new tickets, the
grace sweep (requeue the chats of agents gone too long), the supervisor board, the daily retention job
(desk/privacy.py), and rebuilding the shared
live state from the database when it was lost (Redis restarted without its data)."""
from __future__ import annotations

import logging
import time

from . import assignment, lifecycle, outbox, privacy, supervisor, ticket_notices
from .events import AgentStatusChanged

log = logging.getLogger(__name__)


async def tick(desk) -> bool:
    """Run the timed jobs if this node leads them now; whether it did."""
    if not await desk.live.leads_timed_jobs(time.time()):
        return False
    if await desk.live.needs_load():
        log.warning("the shared live state was empty (Redis lost its data): rebuilding it from the database")
        await assignment.load(desk)
        # Statuses were lost with the state: every agent starts away, as after a restart. Their consoles hear it.
        await desk.notifier.publish([AgentStatusChanged(agent.id, await assignment.agent_status(desk, agent.id))
                                     for agent in await desk.live.agents()])
    await assignment.sweep(desk)
    await lifecycle.wake_snoozed(desk)
    await ticket_notices.scan(desk)
    outbox.start_delivery(desk)     # in the background: a slow SMTP server never holds up the sweep
    await supervisor.publish(desk, time.time())
    await privacy.apply_retention(desk)       # once a day (it checks the last run in the database)
    return True
