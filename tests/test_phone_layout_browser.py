"""Defect 6 of issue 16: at 360 px the console and admin pages did not work (top bar off-screen, tables cut, the KB
search box shrunk to "Se"). In Chromium at 360x740: no page scrolls sideways, every navigation link is on screen
(or behind a visible menu button), tables scroll inside their own box, every form field is wide enough to use."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import screenshot_path, sign_in

PHONE = {"width": 360, "height": 740}
PAGES = ["/console", "/admin/agents", "/admin/agents/{fox}", "/admin/kb", "/admin/kb/track-order", "/admin/settings",
         "/admin/reports", "/account/password"]

CHECK = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`);
  const shown = (el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden";
  const nav = [...document.querySelectorAll(".topbar a, .topbar button")].filter(shown);
  const menu = document.querySelector(".topbar-menu");
  const menuShown = menu && shown(menu);
  for (const el of nav) {
    const r = el.getBoundingClientRect();
    if ((r.left < 0 || r.right > width + 1) && !menuShown) problems.push(`nav off screen: ${el.textContent.trim()}`);
  }
  for (const table of document.querySelectorAll("table")) {
    if (!shown(table)) continue;
    const r = table.getBoundingClientRect();
    let box = table, scrolls = false;
    for (; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box).overflowX;
      if ((o === "auto" || o === "scroll") && box.getBoundingClientRect().right <= width + 1) { scrolls = true; break; }
    }
    if (r.right > width + 1 && !scrolls) problems.push(`table cut: ${table.className || table.id}`);
  }
  for (const field of document.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=color]), select, textarea")) {
    if (!shown(field)) continue;
    const r = field.getBoundingClientRect();
    if (r.width < 120) problems.push(`field too narrow: ${field.name || field.id} ${Math.round(r.width)}px`);
    if (r.right > width + 1) problems.push(`field off screen: ${field.name || field.id}`);
  }
  return problems;
}"""


async def test_console_and_admin_pages_work_at_360_px(server, browser):
    fox = await server.create_agent("fox@example.com", "Fox Mulder")
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(server.url + "/login")
    await sign_in(page)
    await page.wait_for_url("**/console")
    found = []
    for path in PAGES:
        path = path.format(fox=fox["id"])
        await page.goto(server.url + path)
        await page.wait_for_load_state("networkidle")
        found += [f"{path}: {p}" for p in await page.evaluate(CHECK)]
        await page.screenshot(path=screenshot_path("phone" + path.replace("/", "-")))
    # Behind the menu button, every link can be reached.
    menu = page.locator(".topbar-menu")
    if await menu.is_visible():
        await menu.click()
        await expect(page.locator(".topbar-nav a", has_text="Reports")).to_be_visible()
        box = await page.locator(".topbar-nav a", has_text="Reports").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    await context.close()
    assert not found, "\n".join(found)
