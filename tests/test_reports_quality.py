"""The quality-of-experience report (GET /api/reports/quality, JSON and CSV) on the seeded desk of known
conversations (tests/support/reports_seed.py) plus known quality records, estimates, bot answers, a transfer and
an email hand-off. Every expected number is worked out by hand in the comments."""
from __future__ import annotations

import csv
import io
import statistics

import aiohttp
import pytest
from playwright.async_api import expect

from chatserver.store import conversations as conv_queries
from chatserver.store import quality as quality_queries
from chatserver.store import receipts as receipt_queries

from support.browser import record_page_problems, screenshot_path, sign_in
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.reports_seed import FROM, KNOWN_CHATS, TO, seed_known_desk

# Widget reports per seeded chat number: (reconnects, offline s, ack ms list, not sent, delivery ms list).
WIDGET = {1: (0, 0, [40], 0, [500]), 2: (0, 0, [100, 200, 300], 0, [1000, 2000]),
          3: (2, 12.5, [500, 2500], 0, [800]), 4: (0, 0, [50], 0, []), 5: (1, 3.0, [80, 120], 1, [400])}
# First wait estimate shown, per chat (queue waits of the seed: #2 30 s, #3 120, #4 10, #5 60, #8 30).
ESTIMATES = {2: 20.0, 3: 40.0, 4: 10.0, 5: 90.0, 8: 60.0}


def seed_quality(db, ids: list[int]) -> None:
    for number, (reconnects, offline, acks, not_sent, deliveries) in WIDGET.items():
        cid, start = ids[number - 1], KNOWN_CHATS[number - 1].start
        quality_queries.save_widget_report(db, cid, {
            "connect_ms": 100.0, "reconnects": reconnects, "offline_seconds": offline, "acks": len(acks),
            "ack_p50_ms": statistics.median(acks),
            "ack_p95_ms": max(acks), "ack_max_ms": max(acks), "resends": 0, "not_sent": not_sent,
            "delivery_p50_ms": None, "delivery_p95_ms": max(deliveries, default=None),
            "delivery_max_ms": max(deliveries, default=None), "clock_offset_ms": 0.0, "hidden_replies": 0,
            "replies": len(deliveries)}, start + 30)
    quality_queries.note_estimates(db, [(ids[n - 1], e) for n, e in ESTIMATES.items()], 0)
    conv_queries.add_bot_message(db, ids[0], "Here is an article", KNOWN_CHATS[0].start + 2)   # bot answers in 2 s
    conv_queries.add_bot_message(db, ids[8], "Here is an article", KNOWN_CHATS[8].start + 4)   # and in 4 s
    conv_queries.add_event(db, ids[2], "transferred", "agent", None, "to Ana", KNOWN_CHATS[2].start + 200)
    conv_queries.add_event(db, ids[6], "contact", "visitor", None, "left an email", KNOWN_CHATS[6].start + 100)
    receipt_queries.advance(db, ids[1], "visitor", None, {"delivered": 2, "seen": 2}, KNOWN_CHATS[1].start + 101)


@pytest.fixture
async def desk(server):
    ana = await server.create_agent("ana@example.com", "Ana", departments=["billing"])
    ben = await server.create_agent("ben@example.com", "Ben")
    ids = await server.store.write(seed_known_desk, ana["id"], ben["id"])
    await server.store.write(seed_quality, ids)
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        yield server, http, ids


async def get(desk, path, **params):
    server, http, _ = desk
    async with http.get(f"{server.url}{path}", params={"from": FROM, "to": TO, **params}) as resp:
        assert resp.status == 200, await resp.text()
        return resp.content_type, await resp.text()


async def quality_json(desk):
    server, http, _ = desk
    async with http.get(f"{server.url}/api/reports/quality", params={"from": FROM, "to": TO}) as resp:
        assert resp.status == 200
        return await resp.json()


async def test_summary_degraded_share_paths_and_endings(desk):
    _, _, ids = desk
    report = await quality_json(desk)
    assert (report["report"], report["from"], report["to"]) == ("quality", FROM, TO)
    # 9 chats; widget reports for #1-#5; judged = those plus #8 (an estimate and a wait).
    assert (report["conversations"], report["measured"], report["judged"]) == (9, 5, 6)
    # Degraded: #3 (reconnected, 2.5 s ack, 120 s wait > 2 x 40 s) and #5 (reconnected, a message not sent): 2 of 6.
    assert (report["degraded"], report["degraded_pct"]) == (2, 33.3)
    assert report["degraded_by_rule"] == {"reconnected": 2, "slow_ack": 1, "not_sent": 1, "slow_delivery": 0,
                                          "queue_over_estimate": 1}
    worst = report["degraded_conversations"]
    assert [(r["conversation_id"], r["reasons"]) for r in worst] == [
        (ids[2], ["reconnected", "slow_ack", "queue_over_estimate"]), (ids[4], ["reconnected", "not_sent"])]
    # Paths: #1, #6, #9 stayed with the bot; #2-#5 and #8 had a person without the bot; #7 left an email.
    assert report["paths"] == {"bot_only": 3, "bot_queue": 0, "bot_queue_agent": 0, "straight_to_agent": 5,
                               "queue_only": 0, "email": 1}
    # Ended: deflected #1 and #9 by the bot; #2-#5, #8 closed by an agent; #6 and #7 the visitor left.
    assert report["endings"] == {"bot": 2, "agent": 5, "visitor_left": 2, "timeout": 0, "open": 0}


async def test_distributions_median_p90_and_worst(desk):
    _, _, ids = desk
    d = {row["measure"]: row for row in (await quality_json(desk))["distributions"]}
    # Max ack per measured chat: 40, 300, 2500, 50, 120 -> sorted 40 50 120 300 2500; p90 = 5th of 5.
    assert (d["ack_max_ms"]["count"], d["ack_max_ms"]["median"], d["ack_max_ms"]["p90"], d["ack_max_ms"]["worst"],
            d["ack_max_ms"]["worst_conversation_id"]) == (5, 120, 2500, 2500, ids[2])
    # Reconnects 0 0 2 0 1 -> median 0, p90 2.
    assert (d["reconnects"]["median"], d["reconnects"]["p90"], d["reconnects"]["worst"]) == (0, 2, 2)
    # Queue waits 30 120 10 60 30 -> sorted 10 30 30 60 120.
    assert (d["queue_seconds"]["count"], d["queue_seconds"]["median"], d["queue_seconds"]["p90"]) == (5, 30, 120)
    # Each agent reply's wait from the visitor's question: 100, 250, 35, 80, 60 -> 35 60 80 100 250.
    assert (d["agent_response_seconds"]["count"], d["agent_response_seconds"]["median"],
            d["agent_response_seconds"]["p90"], d["agent_response_seconds"]["worst"]) == (5, 80, 250, 250)
    # The bot's first answers: 2 s (#1) and 4 s (#9): median 3.
    assert (d["bot_first_answer_seconds"]["count"], d["bot_first_answer_seconds"]["median"],
            d["bot_first_answer_seconds"]["worst_conversation_id"]) == (2, 3.0, ids[8])
    # Transfers: one (#3) in nine chats: median 0, p90 = 9th of 9 = 1.
    assert (d["transfers"]["count"], d["transfers"]["median"], d["transfers"]["p90"]) == (9, 0, 1)
    # Receipts: #2's reply (seq 2, at +100 s) was seen at +101 s; nobody's message was read by an agent.
    assert (d["reply_seen_seconds"]["count"], d["reply_seen_seconds"]["median"],
            d["reply_seen_seconds"]["worst_conversation_id"]) == (1, 1.0, ids[1])
    assert (d["agent_read_seconds"]["count"], d["agent_read_seconds"]["median"]) == (0, None)
    # Offline seconds 0 0 12.5 0 3 -> median 0, worst 12.5.
    assert (d["offline_seconds"]["median"], d["offline_seconds"]["worst"]) == (0, 12.5)


async def test_satisfaction_split_by_each_experience_with_counts(desk):
    splits = {(g["split"], g["group"]): g for g in (await quality_json(desk))["splits"]}
    # Without reconnects #1, #2, #4: CSAT 5 4 5, CES 7 5 6, NPS 10 8 9 -> 2 promoters, 1 passive.
    calm = splits[("reconnects", "no reconnects")]
    assert (calm["conversations"], calm["csat_count"], calm["csat_pct"], calm["csat_mean"], calm["ces_mean"],
            calm["nps"]) == (3, 3, 100.0, 4.67, 6.0, 66.7)
    # Reconnected #3, #5: CSAT 2 3, CES 3 (#5 skipped it), NPS 3 7 -> 1 detractor, 1 passive.
    rough = splits[("reconnects", "reconnected")]
    assert (rough["conversations"], rough["csat_count"], rough["csat_pct"], rough["csat_mean"], rough["ces_count"],
            rough["nps"]) == (2, 2, 0.0, 2.5, 1, -50.0)
    # Within the estimate #4 (10 <= 10), #5 (60 <= 90), #8 (30 <= 60): CSAT 5 3 4, NPS 9 7 10.
    within = splits[("queue_estimate", "within estimate")]
    assert (within["conversations"], within["csat_pct"], within["csat_mean"], within["nps"]) == (3, 66.7, 4.0, 66.7)
    beyond = splits[("queue_estimate", "beyond estimate")]      # #2 (30 > 20), #3 (120 > 40): CSAT 4 2, NPS 8 3
    assert (beyond["conversations"], beyond["csat_pct"], beyond["csat_mean"], beyond["nps"]) == (2, 50.0, 3.0, -50.0)
    # By path: the bot alone #1, #6 (dismissed), #9: two answers, CSAT 5 5, NPS 10 6.
    bot_only = splits[("path", "bot_only")]
    assert (bot_only["conversations"], bot_only["responses"], bot_only["csat_pct"], bot_only["nps"]) == (3, 2, 100.0, 0.0)
    email = splits[("path", "email")]                            # small groups show as small, not hidden
    assert (email["conversations"], email["csat_count"], email["csat_pct"]) == (1, 0, None)
    assert splits[("path", "bot_queue")]["conversations"] == 0
    # Agent response bands (the chat's median reply wait): 35, 60, 80, 100 s are 30 s-2 min; 250 s is over.
    assert splits[("agent_response", "30 s to 2 min")]["conversations"] == 4
    assert splits[("agent_response", "over 2 min")]["csat_mean"] == 2.0
    assert splits[("agent_response", "no agent reply")]["conversations"] == 4
    assert splits[("degraded", "degraded")]["csat_mean"] == 2.5


async def test_wait_estimate_accuracy_over_time(desk):
    accuracy = (await quality_json(desk))["estimate_accuracy"]
    # |wait - estimate|: #2 10, #3 80, #4 0, #5 30, #8 30 -> 0 10 30 30 80, median 30.
    assert (accuracy["chats"], accuracy["median_abs_error"]) == (5, 30)
    by_day = {d["date"]: d for d in accuracy["by_day"]}
    # Monday #2-#5: errors 0 10 30 80 -> median 20; estimates 10 20 40 90 -> 30; waits 10 30 60 120 -> 45.
    assert (by_day[FROM]["chats"], by_day[FROM]["median_abs_error"], by_day[FROM]["estimate_median"],
            by_day[FROM]["wait_median"]) == (4, 20, 30, 45)
    assert (by_day[TO]["chats"], by_day[TO]["median_abs_error"]) == (1, 30)


async def test_the_csv_has_the_same_figures(desk):
    content_type, text = await get(desk, "/api/reports/quality.csv")
    assert content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    summary = {r["key"]: r["count"] for r in rows if r["section"] == "summary"}
    assert (summary["conversations"], summary["judged"], summary["degraded"], summary["degraded_pct"]) == (
        "9", "6", "2", "33.3")
    ack = next(r for r in rows if r["section"] == "distribution" and r["key"] == "ack_max_ms")
    assert (ack["count"], float(ack["median"]), float(ack["p90"]), float(ack["worst"])) == ("5", 120, 2500, 2500)
    rough = next(r for r in rows if r["section"] == "split" and r["group"] == "reconnected")
    assert (rough["conversations"], rough["csat_pct"], rough["csat_mean"], rough["nps"]) == ("2", "0.0", "2.5", "-50.0")
    total = next(r for r in rows if r["section"] == "estimate" and r["key"] == "total")
    assert (total["count"], float(total["median_abs_error"])) == ("5", 30)
    monday = next(r for r in rows if r["section"] == "estimate" and r["key"] == FROM)
    assert float(monday["median_abs_error"]) == 20
    assert [r["reasons"] for r in rows if r["section"] == "degraded"] == ["reconnected slow_ack queue_over_estimate",
                                                                          "reconnected not_sent"]


async def test_the_page_links_each_degraded_conversation_to_its_timeline(desk, browser):
    server, _, ids = desk
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems = record_page_problems(page)
    await page.goto(f"{server.url}/admin/reports?from={FROM}&to={TO}")
    await sign_in(page)
    await page.wait_for_url("**/admin/reports**")
    await page.goto(f"{server.url}/admin/reports?from={FROM}&to={TO}")
    section = page.locator("#quality")
    await expect(section.locator("#quality-degraded")).to_have_text("33.3%")
    assert await section.locator("svg.chart").count() == 7
    assert await section.locator("svg.chart rect").count() >= 10
    await section.scroll_into_view_if_needed()
    await section.screenshot(path=screenshot_path("reports-quality"))
    await section.locator("#quality-degraded-list a", has_text=f"#{ids[2]}").click()
    await page.wait_for_url(f"**/admin/conversations/{ids[2]}")
    experience = page.locator("#experience")
    await expect(experience).to_contain_text("reconnected at least once")
    await expect(experience).to_contain_text("more than twice the estimate")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("Do you ship to Mars?")
    await expect(timeline).to_contain_text("transferred: to Ana")
    await expect(timeline).to_contain_text("CSAT 2")
    await page.screenshot(path=screenshot_path("conversation-quality"), full_page=True)
    # The receipts show on the timeline of the conversation that has them.
    await page.goto(f"{server.url}/admin/conversations/{ids[1]}")
    await expect(page.locator("#timeline")).to_contain_text("seen up to #2")
    assert [p for p in problems if "404 (Not Found)" not in p] == []      # (the browser's favicon request)


async def test_the_conversation_page_is_for_admins_and_existing_conversations(desk):
    server, http, ids = desk
    async with http.get(f"{server.url}/admin/conversations/999999") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{server.url}/admin/conversations/{ids[0]}", allow_redirects=False) as resp:
            assert resp.status in (302, 303, 401)
    token = await server.login("ana@example.com", "agent-password-1")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as agent:
        async with agent.get(f"{server.url}/admin/conversations/{ids[0]}") as resp:
            assert resp.status == 403
