"""Business hours on a frozen clock, in Chromium: the desk keeps Berlin hours and both its clock (create_app's
`clock`, desk/context.py) and the browser's (Playwright's clock, the context's time zone) are frozen at chosen
instants. Visitors in Berlin and New York, across the European change to summer time (New York changed three weeks
earlier) and over a holiday: the widget's "We're back ... (in N hours)" matches strings computed by hand below, the
bot still answers, asking for a person after hours offers email rather than the queue; inside hours the same
visitor waits in the queue."""
from __future__ import annotations

from datetime import datetime, timezone

import aiohttp
from playwright.async_api import expect

from chatserver import keys

from support.browser import record_page_problems
from support.widget_host import QUESTION, host_page

WAIT = 15_000
UTC = timezone.utc
HOURS = {"hours_timezone": "Europe/Berlin", "hours_schedule": "Mon-Fri 09:00-18:00\nSat 10:00-14:00",
         "hours_holidays": "2026-04-03 Good Friday"}

# Saturday 2026-03-28 19:00 UTC: 20:00 CET in Berlin (closed since 14:00), 15:00 EDT in New York (the US moved to
# summer time on 8 March, so New York is UTC-4 and only 5 hours behind Berlin this week). Sunday is closed; in the
# night Europe moves to summer time (Sunday 29 March, 01:00 UTC). The desk opens Monday 2026-03-30 09:00 CEST =
# 07:00 UTC. From 19:00 UTC Saturday to 07:00 UTC Monday: 36 hours (Berlin's wall clock, 20:00 to 09:00 two days
# on, shows 37: the hour lost to the change is not waited). In New York 07:00 UTC is 03:00 EDT.
DST_WEEKEND = datetime(2026, 3, 28, 19, 0, tzinfo=UTC)
DST_OPENS = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
# Thursday 2026-04-02 17:00 UTC: 19:00 CEST in Berlin (closed since 18:00), 13:00 EDT in New York. Friday 3 April
# is Good Friday, a holiday: closed all day. The desk opens Saturday 2026-04-04 10:00 CEST = 08:00 UTC: 24 hours
# to Friday 17:00 UTC and 15 more, 39 hours on (without the holiday: Friday 09:00 CEST = 07:00 UTC, 14 hours on).
# In New York 08:00 UTC is 04:00 EDT.
BEFORE_HOLIDAY = datetime(2026, 4, 2, 17, 0, tzinfo=UTC)
HOLIDAY_OPENS = datetime(2026, 4, 4, 8, 0, tzinfo=UTC)
# Monday 2026-03-30 07:30 UTC: 09:30 CEST, open (a desk that ignored the change to summer time would think it
# 08:30 CET and closed).
MONDAY_OPEN = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)

AFTER_HOURS = [
    (DST_WEEKEND, "Europe/Berlin", DST_OPENS, "We're back Monday 9:00 AM (in 36 hours)."),
    (DST_WEEKEND, "America/New_York", DST_OPENS, "We're back Monday 3:00 AM (in 36 hours)."),
    (BEFORE_HOLIDAY, "Europe/Berlin", HOLIDAY_OPENS, "We're back Saturday 10:00 AM (in 39 hours)."),
    (BEFORE_HOLIDAY, "America/New_York", HOLIDAY_OPENS, "We're back Saturday 4:00 AM (in 39 hours)."),
]


class FrozenClock:
    """The desk's clock, standing still at `at` until a test moves it."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


async def _visitor_page(browser, url: str, zone: str, at: datetime):
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, timezone_id=zone, locale="en-US")
    await context.clock.set_fixed_time(at)        # Date.now() in the page; timers keep running
    page = await context.new_page()
    problems = record_page_problems(page)
    await page.goto(url)
    await page.locator(".launcher").click()
    # The bot answers the question from the knowledge base, open or closed.
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".cards .card").first).to_contain_text("Track your order", timeout=WAIT)
    await page.get_by_role("button", name="Talk to a person", exact=True).click()
    return context, page, problems


async def test_after_hours_text_in_two_time_zones_across_dst_and_a_holiday(server_factory, host_site, browser):
    clock = FrozenClock(MONDAY_OPEN)
    server = await server_factory(clock=clock)
    await server.app[keys.SETTINGS].update(HOURS)
    url = await host_site(host_page(server.url), allowed_on=server)
    # Dana is online but busy with another chat (her one slot), so a visitor asking for a person would wait in line.
    await server.create_agent("dana@example.com", "Dana Scully", max_chats=1)
    dana = await server.agent("dana@example.com")
    other = await server.visitor()
    assert (await other.call("request_agent", {}))["hours"]["open"] is True
    await dana.wait_for("assigned")

    # Inside hours (Monday 09:30 CEST, just after the change to summer time) nothing changes: the queue.
    context, page, problems = await _visitor_page(browser, url, "Europe/Berlin", MONDAY_OPEN)
    card = page.locator(".qcard")
    await expect(card).to_contain_text("You are number 1 in line", timeout=WAIT)
    await expect(card).not_to_contain_text("closed")
    assert problems == []
    await context.close()

    for at, zone, opens, text in AFTER_HOURS:
        clock.at = at
        context, page, problems = await _visitor_page(browser, url, zone, at)
        card = page.locator(".qcard")
        await expect(card).to_contain_text("We're closed right now", timeout=WAIT)
        await expect(card.locator(".back-at")).to_have_text(text)
        # Email instead of the queue, though Dana is online: no place in line, a form for an address.
        await expect(card).to_contain_text("we will answer by email as soon as we are back")
        await expect(card.locator("input[type=email]")).to_be_visible()
        await expect(card).not_to_contain_text("in line")
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/widget/config.json") as resp:
                config = (await resp.json())["config"]["hours"]
        assert config == {"open": False, "next_open_at": opens.timestamp(), "timezone": "Europe/Berlin"}, (at, zone)
        assert problems == [], (at, zone)
        await context.close()
