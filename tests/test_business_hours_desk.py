"""Business hours in the running desk: Settings validate and seed holidays; outside hours the widget's config and
`request_agent` say so with the next opening, the bot still answers, the chat waits as a ticket; the speed report
counts first response and SLA in business time with the calendar time beside (hand-computed, across a DST change), a
chat still waiting up to the desk's frozen clock included; `request_agent` on that clock across the change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import aiohttp

from chatserver import keys

from support.admin_client import AdminClient, field_error
from support.api_tokens import make_token

BERLIN = ZoneInfo("Europe/Berlin")


def closed_today_and_tomorrow() -> tuple[dict, float]:
    """Hours (UTC) closed today and tomorrow by two holidays: the next opening is the day after, 09:00 UTC."""
    today = datetime.now(timezone.utc).date()
    holidays = f"{today.isoformat()} Inventory day\n{(today + timedelta(days=1)).isoformat()} Staff outing"
    opens = datetime.combine(today + timedelta(days=2), datetime.min.time().replace(hour=9), timezone.utc)
    return ({"hours_timezone": "UTC", "hours_schedule": "Mon-Sun 09:00-17:00", "hours_holidays": holidays},
            opens.timestamp())


async def test_outside_hours_the_bot_answers_and_asking_for_a_person_offers_email(server, admin):
    settings, opens = closed_today_and_tomorrow()
    status, answer = await admin.call("PATCH", "/api/admin/settings", settings)
    assert status == 200, answer
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/widget/config.json") as resp:
            config = (await resp.json())["config"]
    assert config["hours"] == {"open": False, "next_open_at": opens, "timezone": "UTC"}

    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "b1", "text": "where is my order? it has not arrived"})
    suggestions = await visitor.wait_for("message", lambda m: m["author"] == "bot" and m["kind"] == "suggestions")
    assert suggestions["payload"]["articles"][0]["slug"] == "track-order"      # the bot still answers
    asked = await visitor.call("request_agent", {})
    assert asked["ok"] and asked["hours"]["open"] is False and asked["hours"]["next_open_at"] == opens
    assert asked["status"] == "queued" and asked["conversation_id"] == ack["conversation_id"]
    _, page, _ = await admin.get("/admin/settings")
    assert "Closed now; opens" in page

    # Inside hours nothing changes: no schedule, always open.
    await admin.call("PATCH", "/api/admin/settings", {"hours_schedule": "", "hours_holidays": ""})
    other = await server.visitor()
    assert (await other.call("request_agent", {}))["hours"]["open"] is True


async def test_hours_settings_are_validated_and_holidays_seeded_by_country(server, admin):
    status, page, _ = await admin.post_form("/admin/settings/hours", {
        "hours_timezone": "Mars/Olympus", "hours_schedule": "Mon-Fri 9-5", "hours_holidays": "Christmas"})
    assert status == 400
    assert "unknown time zone" in field_error(page, "hours_timezone")
    assert "line 1" in field_error(page, "hours_schedule") and "line 1" in field_error(page, "hours_holidays")
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"hours_schedule": "Mon 10:00-09:00"})
    assert (status, answer["error"]) == (400, "invalid_hours")
    status, _, _ = await admin.post_form("/admin/settings/hours", {
        "hours_timezone": "Europe/Berlin", "hours_schedule": "Mon-Fri 09:00-12:00, 13:00-18:00",
        "hours_holidays": "2026-12-24 Heiligabend"})
    assert status == 303
    status, _, _ = await admin.post_form("/admin/settings/hours/holidays", {"country": "DE", "year": "2026"})
    assert status == 303
    _, state = await admin.call("GET", "/api/admin/settings")
    lines = state["settings"]["hours_holidays"].splitlines()
    assert "2026-12-24 Heiligabend" in lines and "2026-04-03 Good Friday" in lines and len(lines) >= 10, lines
    status, page, _ = await admin.post_form("/admin/settings/hours/holidays", {"country": "XX", "year": "2026"})
    assert status == 400 and "no holiday calendar" in field_error(page, "country")


def _seed_weekend_chat(db, opened: float, answered: float) -> None:
    db.execute("INSERT INTO visitors (id, created_at, last_seen_at) VALUES ('weekend', ?, ?)", [opened, opened])
    agent = db.execute("SELECT id FROM agents ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("INSERT INTO conversations (visitor_id, status, agent_id, created_at, first_visitor_message_at, "
               "queued_at, assigned_at, first_assigned_at, first_agent_response_at, closed_at, closed_by, resolution) "
               "VALUES ('weekend', 'closed', ?, ?, ?, ?, ?, ?, ?, ?, 'agent', 'resolved')",
               [agent, opened, opened, opened, answered - 60, answered - 60, answered, answered + 600])


async def test_speed_report_counts_business_time_with_calendar_time_beside(server, admin):
    # Opened Saturday 28 March 2026 10:00 in Berlin, answered Monday 30 March 09:05 (the clocks went forward on
    # Sunday): 5 minutes of business time, 46 h 5 min of calendar time.
    opened = datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN).timestamp()
    answered = datetime(2026, 3, 30, 9, 5, tzinfo=BERLIN).timestamp()
    await server.store.write(_seed_weekend_chat, opened, answered)
    await admin.call("PATCH", "/api/admin/settings", {"hours_timezone": "Europe/Berlin",
                                                     "hours_schedule": "Mon-Fri 09:00-12:00, 13:00-18:00"})
    _, report = await admin.call("GET", "/api/reports/speed?from=2026-03-28&to=2026-03-30")
    figures = report["total"]
    assert figures["first_response_median"] == 300
    assert figures["first_response_calendar_median"] == 46 * 3600 + 5 * 60
    assert figures["sla_met"] == 0 and figures["sla_breaches"] == 1            # 300 s > the 60 s SLA
    _, breaches = await admin.call("GET", "/api/reports/breaches?from=2026-03-28&to=2026-03-30")
    [row] = breaches["breaches"]
    assert row["waited_seconds"] == 300 and row["waited_calendar_seconds"] == 46 * 3600 + 5 * 60
    # Around the clock (no schedule) business time is calendar time.
    await admin.call("PATCH", "/api/admin/settings", {"hours_schedule": ""})
    _, report = await admin.call("GET", "/api/reports/speed?from=2026-03-28&to=2026-03-30")
    figures = report["total"]
    assert figures["first_response_median"] == figures["first_response_calendar_median"] == 46 * 3600 + 5 * 60


async def test_request_agent_on_a_frozen_clock_across_the_spring_dst_change(server_factory):
    """The desk decides open/closed on its own clock (create_app's `clock`), not the machine's."""
    at = [datetime(2026, 3, 30, 6, 30, tzinfo=timezone.utc).timestamp()]
    server = await server_factory(clock=lambda: at[0])
    await server.app[keys.SETTINGS].update({"hours_timezone": "Europe/Berlin", "hours_schedule": "Mon-Fri 09:00-18:00",
                                            "hours_holidays": ""})
    # Monday 30 March 2026 06:30 UTC is 08:30 CEST (summer time since Sunday 01:00 UTC): closed, opens 09:00 CEST =
    # 07:00 UTC. A desk still on CET would have said 07:30 and "opens 08:00 UTC".
    visitor = await server.visitor()
    closed = await visitor.call("request_agent", {})
    assert closed["hours"] == {"open": False, "timezone": "Europe/Berlin",
                               "next_open_at": datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc).timestamp()}
    # 07:00 UTC on the dot: 09:00 CEST, open.
    at[0] = datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc).timestamp()
    other = await server.visitor()
    opened = await other.call("request_agent", {})
    assert opened["hours"]["open"] is True, opened


def _seed_waiting_chat(db, queued: float) -> None:
    db.execute("INSERT INTO visitors (id, created_at, last_seen_at) VALUES ('waiting', ?, ?)", [queued, queued])
    db.execute("INSERT INTO conversations (visitor_id, status, created_at, first_visitor_message_at, queued_at) "
               "VALUES ('waiting', 'queued', ?, ?, ?)", [queued, queued, queued])


async def test_a_chat_still_waiting_breaches_in_business_time_up_to_the_desks_clock(server_factory):
    # Queued Friday 27 March 2026 17:30 CET (16:30 UTC), still unanswered on Monday 30 March 09:10 CEST (07:10 UTC;
    # the clocks went forward on Sunday), the desk's frozen now. Business time: 30 minutes on Friday (to 18:00)
    # and 10 on Monday (from 09:00) = 2400 s. Calendar time: Friday 16:30 UTC to Monday 07:10 UTC = 62 h 40 min =
    # 225600 s (Berlin's wall clock says 63 h 40 min).
    queued = datetime(2026, 3, 27, 16, 30, tzinfo=timezone.utc).timestamp()
    now = datetime(2026, 3, 30, 7, 10, tzinfo=timezone.utc).timestamp()
    server = await server_factory(clock=lambda: now)
    await server.store.write(_seed_waiting_chat, queued)
    admin = await AdminClient.login(server)
    try:
        await admin.call("PATCH", "/api/admin/settings", {"hours_timezone": "Europe/Berlin",
                                                         "hours_schedule": "Mon-Fri 09:00-18:00"})
        _, breaches = await admin.call("GET", "/api/reports/breaches?from=2026-03-27&to=2026-03-30")
        [row] = breaches["breaches"]
        assert (row["waited_seconds"], row["waited_calendar_seconds"]) == (2400, 225600), row
        status, page, _ = await admin.get("/admin/reports?from=2026-03-27&to=2026-03-30")
        assert status == 200 and "<td>40 min 00 s</td><td>no answer</td>" in page     # the page's breach list
        token = await make_token(admin, "bi", "read")                                # and the REST API
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(server.url + "/api/v1/reports/breaches?from=2026-03-27&to=2026-03-30") as resp:
                [row] = (await resp.json())["breaches"]
        assert (row["waited_seconds"], row["waited_calendar_seconds"]) == (2400, 225600), row
    finally:
        await admin.close()
