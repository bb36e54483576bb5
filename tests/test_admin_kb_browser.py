"""The article editor in Chromium: an admin edits an article with a live preview, the bot's very next suggestion to
a real visitor socket uses the new text, and invalid front matter shows inline errors without touching the file."""
from __future__ import annotations

from support.admin_client import copy_kb
from support.browser import record_page_problems, screenshot_path, sign_in

QUESTION = "Can I leave my parcel with the lighthouse keeper?"
SLUG = "change-delivery-address"


async def test_admin_edits_an_article_and_the_bot_suggests_the_new_text(server_factory, tmp_path, browser):
    folder = copy_kb(tmp_path)
    server = await server_factory(kb_dir=folder)
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = record_page_problems(page)

    await page.goto(server.url + "/admin/kb")
    assert page.url.startswith(server.url + "/login")
    await sign_in(page)
    await page.wait_for_url("**/admin/kb")
    assert await page.locator("#articles-table tbody tr").count() == 37
    await page.screenshot(path=screenshot_path("admin-kb-list"), full_page=True)

    await page.fill("#kb-search", "delivery address")
    await page.click("form.ad-toolbar button[type=submit]")
    await page.wait_for_url("**q=delivery+address**")
    await page.click(f'tr[data-slug="{SLUG}"] a.ad-strong')
    await page.wait_for_url(f"**/admin/kb/{SLUG}")

    # "Try it" before the edit: no article has this question yet. (With sentence meaning the bot may already offer
    # this article on a nearby question, "Can you send my parcel to a different address?", but not on this one.)
    await page.fill("#try-question", QUESTION)
    await page.click("#try-form button")
    verdict = page.locator("#try-results .ad-try-verdict")
    await verdict.wait_for()
    assert QUESTION not in await page.locator("#try-results").inner_text()

    # Edit: one more example question and a sentence in the body; the preview follows as visitors will see it.
    questions = page.locator("#article-questions")
    await questions.fill(await questions.input_value() + "\n" + QUESTION)
    body = page.locator("#article-body")
    await body.fill(await body.input_value() + "\n\nNobody home? Leave it with the **lighthouse keeper** <b>x</b>.")
    strong = page.locator("#preview-body strong", has_text="lighthouse keeper")
    await strong.wait_for()
    assert await page.locator("#preview-body b").count() == 0          # raw HTML shows as text, as for visitors
    assert "<b>x</b>" in await page.locator("#preview-body").inner_text()
    await page.fill("#article-title", "Change the delivery address (or the lighthouse)")
    assert await page.locator("#preview-title").inner_text() == "Change the delivery address (or the lighthouse)"

    # "Try it" already answers with the unsaved edit, and saves nothing.
    await page.fill("#try-question", QUESTION)
    await page.click("#try-form button")
    await page.locator("#try-results .ad-try-source", has_text="unsaved changes").wait_for()
    assert await page.locator("#try-results .ad-try-card").first.locator("a").get_attribute("href") == \
        f"/admin/kb/{SLUG}"
    assert "lighthouse keeper" not in (folder / f"{SLUG}.md").read_text()

    await page.click("#save-article")
    await page.wait_for_url(f"**/admin/kb/{SLUG}?done=saved")
    assert "Saved" in await page.locator(".ad-notice").inner_text()
    assert "lighthouse keeper" in (folder / f"{SLUG}.md").read_text()

    await page.fill("#try-question", QUESTION)
    await page.click("#try-form button")
    first = page.locator("#try-results .ad-try-card").first
    await first.wait_for()
    assert await first.locator("a").get_attribute("href") == f"/admin/kb/{SLUG}"
    assert QUESTION in await first.locator(".ad-try-reason").inner_text()
    await page.screenshot(path=screenshot_path("admin-kb-editor"), full_page=True)

    # A real visitor asking right after the save gets the edited article, with its new title.
    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "q1", "text": QUESTION})
    offer = await visitor.wait_for("message", lambda m: m["author"] == "bot" and m["kind"] == "suggestions",
                                   timeout=10)
    card = offer["payload"]["articles"][0]
    assert (card["slug"], card["title"]) == (SLUG, "Change the delivery address (or the lighthouse)")

    # Invalid front matter: inline errors, and the file on disk stays byte for byte the same.
    before = (folder / f"{SLUG}.md").read_bytes()
    await page.fill("#article-title", "")
    await page.fill("#article-slug", "Not A Slug!")
    await page.click("#save-article")
    await page.wait_for_selector("#title-error")
    assert "Give the article a title" in await page.locator("#title-error").inner_text()
    assert await page.locator("#article-title").get_attribute("aria-invalid") == "true"
    assert "file was not changed" in await page.locator("#form-errors").inner_text()
    assert "lowercase letters" in await page.locator("#slug-error").inner_text()
    assert await page.locator("#article-slug").input_value() == "Not A Slug!"           # kept for fixing
    await page.screenshot(path=screenshot_path("admin-kb-invalid"), full_page=False)
    assert (folder / f"{SLUG}.md").read_bytes() == before

    # History: the save is listed with its author; delete asks first, and a dismissed dialog deletes nothing.
    await page.goto(server.url + f"/admin/kb/{SLUG}")
    assert await page.locator("#article-history li").count() == 2          # as found on disk, then the save
    assert "by admin@localhost" in await page.locator("#article-history li").first.inner_text()
    await page.screenshot(path=screenshot_path("admin-kb-history"), full_page=True)
    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.click("#delete-article")
    await page.wait_for_timeout(300)
    assert (folder / f"{SLUG}.md").exists() and page.url.endswith(f"/admin/kb/{SLUG}")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#delete-article")
    await page.wait_for_url("**/admin/kb?done=deleted")
    assert not (folder / f"{SLUG}.md").exists()
    assert await page.locator(f'#articles-table tr[data-slug="{SLUG}"]').count() == 0
    await page.locator("#deleted-articles").scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_path("admin-kb-deleted"), full_page=False)
    await page.click(f'#deleted-articles li[data-slug="{SLUG}"] a')
    await page.wait_for_url("**/admin/kb/new?version=*")
    assert await page.locator("#article-slug").input_value() == SLUG
    await page.click("#save-article")
    await page.wait_for_url(f"**/admin/kb/{SLUG}?done=saved")
    assert "lighthouse keeper" in (folder / f"{SLUG}.md").read_text()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    await page.close()
