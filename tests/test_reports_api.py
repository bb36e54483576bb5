"""Report figures through GET /api/reports/<name> (JSON and CSV) on a seeded desk of known conversations.
Every expected number is worked out by hand from tests/reports_seed.py."""
from __future__ import annotations

import csv
import io

import aiohttp
import pytest

from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.reports_seed import FROM, TO, seed_known_desk


@pytest.fixture
async def desk(server):
    ana = await server.create_agent("ana@example.com", "Ana", departments=["billing"])
    ben = await server.create_agent("ben@example.com", "Ben")
    await server.store.write(seed_known_desk, ana["id"], ben["id"])
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        yield server, http


async def get_json(desk, name, status=200, **params):
    server, http = desk
    query = {"from": FROM, "to": TO, **params}
    async with http.get(f"{server.url}/api/reports/{name}", params=query) as resp:
        body = await resp.json()
        assert resp.status == status, body
        return body


async def get_csv(desk, name, **params):
    server, http = desk
    async with http.get(f"{server.url}/api/reports/{name}.csv", params={"from": FROM, "to": TO, **params}) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/csv"
        assert f'filename="{name}-{FROM}-{TO}.csv"' in resp.headers["Content-Disposition"]
        return list(csv.DictReader(io.StringIO(await resp.text())))


async def test_satisfaction_nps_csat_ces_and_response_rate(desk):
    report = await get_json(desk, "satisfaction")
    assert (report["from"], report["to"], report["group_by"]) == (FROM, TO, None)
    total = report["total"]
    # 9 closed chats; 7 answered, 1 dismissed, 1 never answered.
    assert (total["closed"], total["responses"], total["dismissed"], total["response_rate"]) == (9, 7, 1, 77.8)
    # CSAT 5,4,2,5,3,4,5: five of seven are 4-5; mean 28/7.
    assert (total["csat_count"], total["csat_satisfied"], total["csat_pct"], total["csat_mean"]) == (7, 5, 71.4, 4.0)
    # CES 7,5,3,6,6: four agree (5-7); mean 27/5.
    assert (total["ces_count"], total["ces_agree"], total["ces_agree_pct"], total["ces_mean"]) == (5, 4, 80.0, 5.4)
    # NPS 10,8,3,9,7,10,6: promoters 10,9,10; passives 8,7; detractors 3,6 -> (3 - 2) / 7.
    assert (total["nps_count"], total["promoters"], total["passives"], total["detractors"]) == (7, 3, 2, 2)
    assert total["nps"] == 14.3
    assert report["groups"] == []


async def test_satisfaction_grouped_by_handled_by_agent_and_day(desk):
    by_handler = {g["group"]: g for g in (await get_json(desk, "satisfaction", group_by="handled_by"))["groups"]}
    assert sorted(by_handler) == ["agent", "bot", "queue"]
    # Agent chats: NPS 8, 3, 9, 7, 10 -> (2 promoters - 1 detractor) / 5.
    assert (by_handler["agent"]["closed"], by_handler["agent"]["csat_pct"], by_handler["agent"]["nps"]) == (5, 60.0, 20.0)
    assert (by_handler["bot"]["closed"], by_handler["bot"]["responses"], by_handler["bot"]["csat_pct"]) == (3, 2, 100.0)
    assert (by_handler["bot"]["promoters"], by_handler["bot"]["detractors"], by_handler["bot"]["nps"]) == (1, 1, 0.0)
    assert (by_handler["queue"]["closed"], by_handler["queue"]["responses"], by_handler["queue"]["csat_pct"]) == (1, 0, None)

    by_agent = {g["group"]: g for g in (await get_json(desk, "satisfaction", group_by="agent"))["groups"]}
    assert sorted(by_agent) == ["(no agent)", "Ana", "Ben"]
    assert (by_agent["Ana"]["csat_count"], by_agent["Ana"]["csat_mean"]) == (3, 4.33)   # 4, 5, 4
    assert (by_agent["Ben"]["csat_pct"], by_agent["Ben"]["nps"]) == (0.0, -50.0)         # csat 2, 3; nps 3, 7

    by_day = (await get_json(desk, "satisfaction", group_by="day"))["groups"]
    assert [g["group"] for g in by_day] == [FROM, TO]
    assert [g["closed"] for g in by_day] == [5, 4]
    assert [g["csat_count"] for g in by_day] == [5, 2]


async def test_speed_medians_p90_and_sla(desk):
    report = await get_json(desk, "speed")
    total = report["total"]
    assert report["sla_seconds"] == 60
    # Queue 10, 30, 30, 60, 120 -> median 30, p90 (nearest rank 5 of 5) 120.
    assert (total["queue_median"], total["queue_p90"]) == (30, 120)
    # First response 30, 40, 45, 70, 220.
    assert (total["first_response_median"], total["first_response_p90"]) == (45, 220)
    # After assignment 10, 10, 15, 20, 100.
    assert (total["first_response_after_assignment_median"], total["first_response_after_assignment_p90"]) == (15, 100)
    # Resolution of resolved/deflected chats: 60, 120, 300, 400, 500, 600, 900.
    assert (total["resolution_median"], total["resolution_p90"]) == (400, 900)
    # Met: 30, 40, 45. Breached: 220, 70 and the visitor who left after 180 s without an answer.
    assert (total["sla_met"], total["sla_breaches"], total["sla_pct"]) == (3, 3, 50.0)
    assert [(b["waited_seconds"], b["answered"], b["agent"]) for b in report["breaches"]] == [
        (220, True, "Ben"), (180, False, None), (70, True, "Ben")]

    by_agent = {g["group"]: g for g in (await get_json(desk, "speed", group_by="agent"))["groups"]}
    assert (by_agent["Ana"]["first_response_median"], by_agent["Ana"]["sla_pct"]) == (40, 100.0)
    assert (by_agent["Ben"]["queue_median"], by_agent["Ben"]["sla_breaches"]) == (90, 2)

    breaches = await get_json(desk, "breaches")
    assert [b["waited_seconds"] for b in breaches["breaches"]] == [220, 180, 70]


async def test_sla_target_comes_from_the_config(server_factory):
    server = await server_factory(sla_seconds=100)
    ana = await server.create_agent("ana@example.com", "Ana")
    ben = await server.create_agent("ben@example.com", "Ben")
    await server.store.write(seed_known_desk, ana["id"], ben["id"])
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        total = (await get_json((server, http), "speed"))["total"]
    # With 100 s: 30, 40, 45, 70 met; 220 and the 180 s no-answer breached.
    assert (total["sla_met"], total["sla_breaches"], total["sla_pct"]) == (4, 2, 66.7)


async def test_bot_deflection_handoff_reasons_and_article_funnel(desk):
    total = (await get_json(desk, "bot"))["total"]
    assert (total["conversations"], total["deflected"], total["deflection_rate"]) == (9, 2, 22.2)
    assert (total["handed_off"], total["visitor_asked"], total["not_helpful"], total["no_match"]) == (6, 2, 1, 3)
    assert total["abandoned"] == 2

    articles = {a["slug"]: a for a in (await get_json(desk, "articles"))["articles"]}
    track = articles["track-order"]
    assert (track["suggested"], track["opened"], track["helpful"], track["not_helpful"], track["escalated"]) == \
        (2, 2, 1, 1, 1)
    assert track["not_helpful_reasons"] == [{"reason": "outdated info", "count": 1}]
    assert (track["helpful_pct"], track["csat_pct"], track["escalated_csat_pct"]) == (50.0, 100.0, 100.0)
    refund = articles["refund-status"]
    assert (refund["suggested"], refund["opened"], refund["helpful"], refund["escalated"]) == (3, 0, 1, 0)
    assert (refund["csat_count"], refund["flagged"]) == (2, False)


async def test_gap_list_groups_similar_questions(desk):
    gaps = (await get_json(desk, "gaps"))["gaps"]
    assert [(g["question"], g["count"]) for g in gaps] == [("Do you ship to Mars?", 2), ("Can I pay with bitcoin?", 1)]
    assert gaps[0]["examples"] == ["do you ship to mars"]
    assert (gaps[0]["first_asked"], gaps[0]["last_asked"]) == (FROM, FROM)


async def test_load_by_hour_weekday_concurrency_and_agents_online(desk):
    report = await get_json(desk, "load")
    hours = {r["hour"]: r["conversations"] for r in report["by_hour"] if r["conversations"]}
    assert hours == {9: 1, 10: 3, 11: 3, 12: 1, 13: 1}
    assert {r["weekday"]: r["conversations"] for r in report["by_weekday"] if r["conversations"]} == {"Mon": 5, "Tue": 4}
    monday, tuesday = report["by_day"]
    # Chats 3 (11:00-11:15) and 4 (11:10-11:15) overlap on Monday.
    assert (monday["peak_concurrent_chats"], tuesday["peak_concurrent_chats"]) == (2, 1)
    assert (monday["peak_agents_online"], tuesday["peak_agents_online"]) == (2, 1)
    # Monday: Ben 00:00-01:00 (online since Sunday) + 10:30-12:30, Ana 09:00-17:00. Tuesday: Ana 09:00-24:00.
    assert (monday["agent_hours_online"], tuesday["agent_hours_online"]) == (11.0, 15.0)
    assert (report["peak_concurrent_chats"], report["peak_agents_online"]) == (2, 2)


async def test_csv_downloads_carry_the_same_figures(desk):
    rows = await get_csv(desk, "satisfaction", group_by="handled_by")
    assert [r["group"] for r in rows] == ["agent", "bot", "queue", "total"]
    total = rows[-1]
    assert (total["nps"], total["promoters"], total["passives"], total["detractors"]) == ("14.3", "3", "2", "2")
    assert (total["csat_pct"], total["ces_mean"], total["response_rate"]) == ("71.4", "5.4", "77.8")
    assert rows[2]["csat_pct"] == ""          # no answers: empty, never 0

    speed = await get_csv(desk, "speed")
    assert (speed[-1]["first_response_median"], speed[-1]["first_response_p90"], speed[-1]["sla_breaches"]) == \
        ("45.0", "220.0", "3")
    breaches = await get_csv(desk, "breaches")
    assert [r["waited_seconds"] for r in breaches] == ["220.0", "180.0", "70.0"]
    articles = {r["slug"]: r for r in await get_csv(desk, "articles")}
    assert articles["track-order"]["not_helpful_reasons"] == "outdated info (1)"
    gaps = await get_csv(desk, "gaps")
    assert (gaps[0]["question"], gaps[0]["count"]) == ("Do you ship to Mars?", "2")
    load = await get_csv(desk, "load")
    assert {r["key"]: r["conversations"] for r in load if r["section"] == "weekday"}["Mon"] == "5"

    comments = await get_csv(desk, "comments")
    texts = [r["comment"] for r in comments]
    assert "<script>alert('x')</script> far too slow" in texts
    assert "'=1+1 thanks" in texts            # a spreadsheet must not run it as a formula


@pytest.mark.parametrize("params, status, error", [
    ({"from": "2025-13-01"}, 400, "invalid_date"),
    ({"from": "yesterday"}, 400, "invalid_date"),
    ({"to": "2025-3-4"}, 400, "invalid_date"),
    ({"from": "2025-03-05", "to": "2025-03-04"}, 400, "invalid_range"),
    ({"from": "2020-01-01", "to": "2025-03-04"}, 400, "invalid_range"),
    ({"group_by": "week"}, 400, "invalid_group_by"),
])
async def test_bad_parameters_answer_400_with_a_code(desk, params, status, error):
    body = await get_json(desk, "satisfaction", status=status, **params)
    assert body["ok"] is False and body["error"] == error and body["message"]


async def test_unknown_report_and_access_control(desk):
    server, http = desk
    body = await get_json(desk, "happiness", status=404)
    assert body["error"] == "unknown_report"
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{server.url}/api/reports/satisfaction") as resp:
            assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
        async with anonymous.get(f"{server.url}/api/reports/satisfaction.csv") as resp:
            assert resp.status == 401
        async with anonymous.get(f"{server.url}/admin/reports", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    token = await server.login("ana@example.com", "agent-password-1")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as agent_http:
        async with agent_http.get(f"{server.url}/api/reports/satisfaction") as resp:
            assert resp.status == 403 and (await resp.json())["error"] == "forbidden"
        async with agent_http.get(f"{server.url}/admin/reports") as resp:
            assert resp.status == 403


async def test_default_range_is_the_last_30_days(desk):
    server, http = desk
    async with http.get(f"{server.url}/api/reports/satisfaction") as resp:
        report = await resp.json()
    assert resp.status == 200
    # The seeded desk is in March 2025, long before the default range.
    assert report["total"]["closed"] == 0 and report["total"]["nps"] is None
