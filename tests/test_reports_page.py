"""The reports page in Chromium: charts render under the strict CSP, untrusted survey comments show as text."""
from __future__ import annotations

import asyncio

from chatserver import Config
from chatserver.demo_data import fill_demo_data

from support.browser import record_page_problems, screenshot_path, sign_in
from support.server import ADMIN_PASSWORD, ROOT, on_test_database

HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> Slow reply"


async def test_reports_page_renders_charts_and_escapes_comments(server_factory, tmp_path, browser):
    data_dir = tmp_path / "desk"
    await asyncio.to_thread(fill_demo_data, on_test_database(Config(data_dir=data_dir, kb_dir=ROOT / "kb_articles",
                                                                    admin_password=ADMIN_PASSWORD)))
    server = await server_factory(data_dir=data_dir, kb_dir=ROOT / "kb_articles")

    # A visitor leaves a hostile comment through the real survey event.
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "Where is my order?"})
    await visitor.call("close", {})
    survey = await visitor.call("survey", {"conversation_id": ack["conversation_id"], "csat": 2, "ces": 3, "nps": 4,
                                           "comment": HOSTILE})
    assert survey["ok"], survey

    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems = record_page_problems(page)
    await page.goto(server.url + "/admin/reports")
    assert page.url.startswith(server.url + "/login")
    await sign_in(page)
    await page.wait_for_url("**/admin/reports")

    assert await page.locator("svg.chart").count() >= 6
    assert await page.locator("svg.chart polyline").count() >= 3      # trend lines drawn
    assert await page.locator("#bot svg rect").count() >= 5            # funnel bars
    assert await page.locator("section[aria-label='Key figures'] .kpi").count() == 6
    nps = await page.locator(".kpi").nth(2).locator(".kpi-value").inner_text()
    assert nps not in ("", "–")

    comment = page.locator(".comment p").first
    assert await comment.inner_text() == HOSTILE                       # shown as text, not markup
    assert await page.locator(".comment img, .comment script").count() == 0
    assert await page.title() == "Reports · Support"
    # The stylesheet applied (no inline styles needed under the CSP).
    background = await page.evaluate("getComputedStyle(document.querySelector('.kpi')).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    assert not [p for p in problems if "Content Security Policy" in p or "pwned" in p], problems

    # Apply a group and range through the form.
    await page.select_option("select[name=group_by]", "agent")
    await page.click("form.rp-range button[type=submit]")
    await page.wait_for_url("**group_by=agent**")
    assert await page.locator("#satisfaction tbody tr").count() >= 3
    await page.goto(server.url + "/admin/reports")
    await page.screenshot(path=screenshot_path("reports"), full_page=True)
    await page.close()
