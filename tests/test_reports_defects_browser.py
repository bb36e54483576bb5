"""Defect 13 of issue 16 in Chromium, on a reports page full of demo data: the nav bar is the admin pages' (with Log
out), chart titles show above the charts (not only in tooltips), labels are readable and both scales of a chart
with two say what they count, articles are listed by title, and the SLA card says what its median and its share
count."""
from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from chatserver import Config
from chatserver.demo_data import fill_demo_data

from support.browser import screenshot_path, sign_in
from support.server import ADMIN_PASSWORD, ROOT, on_test_database


async def test_reports_page_reads_like_the_other_admin_pages(server_factory, tmp_path, browser):
    data_dir = tmp_path / "desk"
    await asyncio.to_thread(fill_demo_data, on_test_database(Config(data_dir=data_dir, kb_dir=ROOT / "kb_articles",
                                                                    admin_password=ADMIN_PASSWORD)))
    server = await server_factory(data_dir=data_dir, kb_dir=ROOT / "kb_articles")
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(server.url + "/admin/agents")
    await sign_in(page)
    await page.wait_for_url("**/admin/agents")
    admin_nav = await page.locator(".topbar-nav a").all_text_contents()
    await page.goto(server.url + "/admin/reports")
    assert await page.locator(".topbar-nav a").all_text_contents() == admin_nav
    await expect(page.locator(".topbar-nav a[aria-current=page]")).to_have_text("Reports")
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    await expect(page.locator("h1")).to_have_text("Reports")

    captions = page.locator(".chart-caption")
    assert await captions.count() == await page.locator("svg.chart").count() >= 6
    assert await captions.first.is_visible()
    sizes = await page.locator("svg.chart .chart-tick").evaluate_all(
        "els => els.map(el => parseFloat(getComputedStyle(el).fontSize))")
    assert sizes and min(sizes) >= 12, sorted(set(sizes))
    assert await page.locator("svg.chart .chart-axis-label").count() >= 2       # the load chart's two scales

    articles = page.locator("#bot .rp-table").first.locator("tbody th a")
    names = await articles.all_text_contents()
    assert names and not [n for n in names if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n)], names   # titles, not slugs

    sla = page.locator(".kpi").nth(4).locator(".kpi-sub")
    await expect(sla).to_contain_text("median of the answered chats")
    await expect(sla).to_contain_text("of all chats answered within 60 s, unanswered ones counted as missed")
    await page.screenshot(path=screenshot_path("reports-desktop"), full_page=True)

    # Conversation numbers are links: the console opens that conversation to read.
    link = page.locator("#speed .rp-table.compact tbody a, #comments footer a").first
    number = (await link.text_content()).strip()
    await link.click()
    await page.wait_for_url("**/console#conversation-*")
    await expect(page.locator("#history-heading")).to_have_text(f"Conversation {number}", timeout=10_000)
    await expect(page.locator("#history-messages li").first).to_be_visible()
    await page.close()
