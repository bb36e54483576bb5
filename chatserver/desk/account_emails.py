"""Emails about agents' own accounts: the reset link an agent asks for with "Forgot your password?", and the
invitation of a new agent with a link to choose their password. Both reuse the admin's reset links (one-time,
24 hours, only a hash stored: store/agents.py) and are queued through the outbox in the transaction that creates
the link. The email's bytes hold the link until the SMTP server accepts them, then they are dropped
(outbox.SECRET_KINDS)."""
from __future__ import annotations

import time

from ..errors import Conflict, RateLimited
from ..mail import strings
from ..mail.compose import Draft, Link, Paragraph, to_bytes
from ..store import agents as agent_queries
from ..store import outbox as outbox_queries
from . import outbox

RESET_KIND = "password_reset"
INVITATION_KIND = "agent_invitation"
# Live-state limits (app.py): reset emails per address typed, and per client address (or IPv6 /64), an hour each.
PER_ACCOUNT_LIMIT = "password_reset_accounts"
PER_CLIENT_LIMIT = "password_reset_clients"
LIMITS = {PER_ACCOUNT_LIMIT: (3, 3600.0), PER_CLIENT_LIMIT: (10, 3600.0)}


class ResetThrottled(RateLimited):
    """Too many reset emails asked for from this address or for this account; counted before the account is
    looked up, so it says nothing about whether the account exists."""


def email_on(desk) -> bool:
    return outbox.email_settings(desk)[0] is not None


def _queue_link(db, desk, agent: dict, kind: str, now: float, admin: dict | None = None) -> dict:
    token = agent_queries.create_reset_link(db, agent["id"], now)
    site = desk.config.base_url
    link = f"{site}/account/reset/{token}"
    if kind == INVITATION_KIND:
        subject = strings.text("en", "invite_subject", site=site)
        blocks = [Paragraph(strings.text("en", "invite_intro", admin=(admin or {}).get("name") or "An admin",
                                         email=agent["email"], site=site)),
                  Paragraph(strings.text("en", "invite_how")), Link(strings.text("en", "invite_link"), link)]
    else:
        subject = strings.text("en", "reset_subject", site=site)
        blocks = [Paragraph(strings.text("en", "reset_intro", email=agent["email"], site=site)),
                  Paragraph(strings.text("en", "reset_how")), Link(strings.text("en", "reset_link"), link)]
    draft = Draft(message_id=outbox.new_message_id(desk, kind), sender=desk.settings.get("email_from"),
                  sender_name=strings.text("en", "sender_name"), recipient=agent["email"], subject=subject,
                  language="en", blocks=blocks, created_at=now)
    email, _ = outbox_queries.queue_email(db, draft.message_id, kind, agent["email"], now, subject=subject,
                                          raw=to_bytes(draft).decode("ascii"),
                                          created_by=admin["id"] if admin else None)
    return email


def queue_invitation(db, desk, agent: dict, admin: dict | None, now: float) -> dict:
    """Inside the write that creates the agent: a reset link and the invitation email carrying it."""
    return _queue_link(db, desk, agent, INVITATION_KIND, now, admin)


def _reset_if_agent(db, desk, email: str, now: float) -> None:
    found = agent_queries.password_hash_for(db, email)
    if found is None or found[2]:       # unknown or disabled: nothing is sent, and the answer is the same
        return
    _queue_link(db, desk, agent_queries.get_agent(db, found[0]), RESET_KIND, now)


async def email_reset_link(desk, typed: object, client_key: str) -> None:
    """"Forgot your password?": when the address `typed` is an enabled agent's login, a new reset link
    (replacing earlier ones) is emailed to it. Returns nothing either way, so the answer cannot tell whether the
    account exists. Refuses when email is off (`email_off`), the address is not one (`invalid_email`) or a limit
    is reached (`rate_limited`); `client_key` names the client's address for its limit."""
    from .agents import login_email     # agents imports this module (invitations)
    if not email_on(desk):
        raise Conflict("email is off on this server: ask an admin of this desk for a reset link", code="email_off")
    email = login_email(typed)
    now = time.time()
    if not (await desk.live.allow(PER_CLIENT_LIMIT, client_key, now)
            and await desk.live.allow(PER_ACCOUNT_LIMIT, email, now)):
        raise ResetThrottled("Too many reset emails were asked for. Wait an hour, or ask an admin for a reset link.")
    await desk.store.write(_reset_if_agent, desk, email, now)


outbox.SECRET_KINDS.update({RESET_KIND, INVITATION_KIND})
