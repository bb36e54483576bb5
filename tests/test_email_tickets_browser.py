"""In Chromium: the after-hours widget says when the team is back in the visitor's own time zone (New York, while
the desk keeps UTC hours) and offers email; an ended chat offers the transcript by email, which arrives; the
Tickets view lists offline messages; the settings page shows email (password masked) and business hours.
Screenshots: screenshots/widget-after-hours.png, tickets.png, settings-email-hours.png."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path, sign_in
from support.smtp_server import SmtpServer
from support.widget_host import host_page

from test_business_hours_desk import closed_today_and_tomorrow  # noqa: E402  (the same hand-made closed days)

WAIT = 15_000
NEW_YORK = ZoneInfo("America/New_York")


async def test_after_hours_widget_in_the_visitors_time_then_transcript(server_factory, host_site, browser, tmp_path):
    mail = SmtpServer(tmp_path).start()
    try:
        server = await server_factory(smtp_url=mail.url(), email_from="support@shop.example")
        hours, opens = closed_today_and_tomorrow()
        await _settings(server).update(hours)
        url = await host_site(host_page(server.url), allowed_on=server)
        context = await browser.new_context(viewport={"width": 1024, "height": 768}, timezone_id="America/New_York",
                                            locale="en-US")
        page = await context.new_page()
        problems = record_page_problems(page)
        await page.goto(url)
        await page.locator(".launcher").click()
        await page.get_by_role("button", name="Talk to a person").click()
        card = page.locator(".qcard")
        await expect(card).to_contain_text("We're closed right now", timeout=WAIT)
        local = datetime.fromtimestamp(opens, timezone.utc).astimezone(NEW_YORK)
        back = card.locator(".back-at")
        await expect(back).to_contain_text(local.strftime("%A"))
        await expect(back).to_contain_text(f"{local.hour % 12 or 12}:{local.minute:02d}")   # 09:00 UTC in New York
        assert "(in " in await back.inner_text()
        await expect(card).to_contain_text("answer by email")
        await page.screenshot(path=screenshot_path("widget-after-hours"))

        # The bot still answers; the visitor ends the chat and asks for the transcript by email.
        await card.locator("input[type=email]").fill("eve@example.org")
        await card.get_by_role("button").click()
        await expect(card).to_contain_text("eve@example.org", timeout=WAIT)
        await page.get_by_role("button", name="End chat").click()
        await page.get_by_role("button", name="Skip").click()          # the survey first; then back to the chat
        offer = page.locator("form.transcript")
        await expect(offer).to_be_visible(timeout=WAIT)
        await expect(offer.locator("input[type=email]")).to_have_value("eve@example.org")
        await offer.get_by_role("button", name="Email me the transcript").click()
        await expect(page.locator(".log")).to_contain_text("The transcript is on its way to eve@example.org",
                                                          timeout=WAIT)
        [email] = await mail.wait_for(1)
        assert email.rcpt_tos == ["eve@example.org"] and "Transcript" in email.message["Subject"]
        assert problems == []
        await context.close()
    finally:
        mail.stop()


def _settings(server):
    from chatserver import keys

    return server.app[keys.SETTINGS]


async def test_tickets_view_and_settings_page(server_factory, browser):
    server = await server_factory(bot_enabled=False)
    await server.create_agent("dana@shop.example", "Dana")
    for n, (name, question) in enumerate([("Eve", "My parcel never arrived"),
                                          ("<b>Mallory</b>", "Refund for order <script>1</script>?")]):
        visitor = await server.visitor()
        await visitor.call("message", {"client_id": f"m{n}", "text": question})
        await visitor.call("contact", {"email": f"v{n}@example.org", "name": name})
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(server.url + "/login?next=/console/tickets")
    await sign_in(page, "dana@shop.example", "agent-password-1")
    await page.wait_for_url("**/console/tickets")
    problems = record_page_problems(page)       # from the Tickets page on (the login page has no icon)
    await page.reload()
    rows = page.locator("#tickets-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("Refund for order <script>1</script>?")   # shown as text
    await expect(page.locator("#tickets-table")).to_contain_text("<b>Mallory</b>")
    await page.screenshot(path=screenshot_path("tickets"), full_page=True)
    await page.get_by_role("link", name="Mine").click()
    await expect(page.locator("#tickets-table")).to_contain_text("No tickets here.")
    await page.close()

    await _settings(server).update({"smtp_url": "smtp://mailer:hunter2@mail.shop.example:587",
                                    "email_from": "support@shop.example", "hours_timezone": "Europe/Berlin",
                                    "hours_schedule": "Mon-Fri 09:00-12:00, 13:00-18:00\nSat 10:00-14:00",
                                    "hours_holidays": "2026-12-24 Christmas Eve\n2026-12-25 Christmas Day"})
    page = await browser.new_page(viewport={"width": 1360, "height": 900})
    await page.goto(server.url + "/login?next=/admin/settings")
    await sign_in(page)
    await page.wait_for_url("**/admin/settings")
    await expect(page.locator("#email-state")).to_contain_text("mail.shop.example:587 (STARTTLS when offered)")
    await expect(page.locator("input[name=smtp_url]")).to_have_value("smtp://mailer:********@mail.shop.example:587")
    assert "hunter2" not in await page.content()
    await expect(page.locator("#hours-state")).to_contain_text("Europe/Berlin")
    await page.screenshot(path=screenshot_path("settings-email-hours"), full_page=True)
    assert problems == []


async def test_console_buttons_set_pending_and_snooze(server_factory, browser):
    from chatserver.store import lifecycle as lifecycle_queries

    server = await server_factory(bot_enabled=False)
    await server.create_agent("dana@shop.example", "Dana")
    page = await browser.new_page(viewport={"width": 1360, "height": 900})
    await page.goto(server.url + "/login?next=/console")
    await sign_in(page, "dana@shop.example", "agent-password-1")
    await page.wait_for_url("**/console")
    problems = record_page_problems(page)
    await page.click('[data-status="online"]')
    visitor = await server.visitor()
    cid = (await visitor.call("message", {"client_id": "m1", "text": "Hello?"}))["conversation_id"]
    await expect(page.locator("#mark-pending")).to_be_visible(timeout=WAIT)
    await page.click("#mark-pending")
    await expect(page.locator("body")).to_contain_text(f"Chat #{cid} is pending", timeout=WAIT)
    assert (await server.store.read(lifecycle_queries.state_of, cid))["state"] == "pending"
    await page.click("#snooze-hour")
    await expect(page.locator("body")).to_contain_text(f"Chat #{cid} is snoozed until", timeout=WAIT)
    await visitor.call("message", {"client_id": "m2", "text": "Still there?"})
    await expect(page.locator("body")).to_contain_text(f"Chat #{cid} is open", timeout=WAIT)
    assert problems == []
