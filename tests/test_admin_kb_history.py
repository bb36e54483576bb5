"""Admin → Knowledge base history and deletion over HTTP: every save is kept with who made it (and the on-disk text
it replaced), an earlier version opens in the editor and is restored by saving it; deleting removes the file, the
bot stops suggesting the article at once, and the deleted text can be brought back."""
from __future__ import annotations

import re

from chatserver import keys
from triage import parse_article

from support.admin_client import AdminClient, form_of, snapshot
from support.server import ADMIN_EMAIL

QUESTION = "How do I follow where my parcel is?"


def history_ids(page: str) -> list[int]:
    return [int(v) for v in re.findall(r'<li data-version="(\d+)">', page)]


async def test_each_save_is_kept_and_an_earlier_version_can_be_restored(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    original_text = (folder / "track-order.md").read_text()
    article = kb.get("track-order")
    _, page, _ = await admin.get("/admin/kb/track-order")
    assert history_ids(page) == [] and "No saves from these pages yet" in page

    await admin.post_form("/admin/kb/track-order", form_of(article, title="Track an order (v2)"))
    await admin.post_form("/admin/kb/track-order", form_of(kb.get("track-order"), title="Track an order (v3)"))
    _, page, _ = await admin.get("/admin/kb/track-order")
    newest, second, found = history_ids(page)
    assert newest > second > found
    assert page.count(f"by {ADMIN_EMAIL}") == 2 and "as found in the article folder" in page

    # The first version is the file as it was before any admin save; opening it changes nothing yet.
    status, page, _ = await admin.get(f"/admin/kb/track-order?version={found}")
    assert status == 200 and 'id="version-notice"' in page
    assert f'value="{article.title}"' in page
    assert kb.get("track-order").title == "Track an order (v3)"
    status, _, _ = await admin.post_form("/admin/kb/track-order", form_of(article))     # save it: restored
    assert status == 303
    assert parse_article((folder / "track-order.md").read_text(), "x.md").title == article.title
    assert kb.get("track-order").title == article.title
    assert parse_article(original_text, "x.md").body == kb.get("track-order").body

    # Versions are looked up by number only; one of another article is not shown under this one.
    _, other_page, _ = await admin.get("/admin/kb/gift-cards")
    assert (await admin.get("/admin/kb/gift-cards?version=abc"))[0] == 400
    assert (await admin.get("/admin/kb/gift-cards?version=999999"))[0] == 404
    assert (await admin.get(f"/admin/kb/gift-cards?version={found}"))[0] == 404
    assert history_ids(other_page) == []


async def test_deleting_removes_the_file_the_bot_forgets_it_and_it_can_be_restored(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    article = kb.get("track-order")
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    assert "track-order" in [s["slug"] for s in answer["suggestions"]]

    # Without the CSRF token nothing happens.
    before = snapshot(folder)
    status, _, _ = await admin.post_form("/admin/kb/track-order/delete", {}, with_csrf=False)
    assert status == 403 and snapshot(folder) == before

    status, _, headers = await admin.post_form("/admin/kb/track-order/delete", {})
    assert status == 303 and headers["Location"] == "/admin/kb?done=deleted"
    assert not (folder / "track-order.md").exists() and kb.get("track-order") is None
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    assert "track-order" not in [s["slug"] for s in answer["suggestions"]]
    assert (await admin.get("/admin/kb/track-order"))[0] == 404
    async with admin.http.get(server.url + "/kb/track-order") as resp:
        assert resp.status == 404

    _, page, _ = await admin.get("/admin/kb?done=deleted")
    assert "Article deleted." in page
    restore = re.search(r'<li data-slug="track-order">.*?href="(/admin/kb/new\?version=\d+)"', page, re.S)
    assert restore, page
    status, page, _ = await admin.get(restore.group(1))
    assert status == 200 and f'value="{article.title}"' in page and 'value="track-order"' in page

    status, _, headers = await admin.post_form("/admin/kb/new", form_of(article))
    assert status == 303 and headers["Location"] == "/admin/kb/track-order?done=saved"
    assert kb.get("track-order").questions == article.questions
    _, page, _ = await admin.get("/admin/kb")
    assert 'id="deleted-articles"' not in page
    _, page, _ = await admin.get("/admin/kb/track-order")
    assert "deleted by" in page and "created by" in page


async def test_only_admins_delete(kb_desk):
    server, admin, folder = kb_desk
    await server.create_agent("sam@example.com", "Sam")
    agent = await AdminClient.login(server, "sam@example.com", "agent-password-1")
    try:
        _, page, _ = await agent.get("/console")
        token = re.search(r'name="csrf-token" content="([^"]*)"', page)
        fields = {"csrf_token": token.group(1)} if token else {}
        status, _, _ = await agent.post_form("/admin/kb/track-order/delete", fields, with_csrf=False)
        assert status == 403
        assert (folder / "track-order.md").exists() and server.app[keys.KB].get("track-order") is not None
    finally:
        await agent.close()
