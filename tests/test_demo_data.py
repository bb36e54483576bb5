"""`python run.py --demo-data` fills a fresh data dir; the reports then show real figures."""
from __future__ import annotations

import asyncio
import aiohttp

from chatserver import Config
from chatserver.demo_data import fill_demo_data
from chatserver.store import create_store
from chatserver.store import reports as report_queries

from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, on_test_database


async def test_demo_data_fills_a_fresh_dir_and_the_reports_have_figures(server_factory, tmp_path):
    config = on_test_database(Config(data_dir=tmp_path / "demo", kb_dir=ROOT / "kb_articles",
                                     admin_password=ADMIN_PASSWORD))
    summary = await asyncio.to_thread(fill_demo_data, config)
    assert summary["skipped"] is False and 200 <= summary["conversations"] <= 400 and summary["surveys"] > 50

    # A second run leaves the data alone.
    assert (await asyncio.to_thread(fill_demo_data, config))["skipped"] is True
    store = create_store(config)
    await store.start()
    try:
        assert await store.read(report_queries.count_conversations) == summary["conversations"]
    finally:
        await store.close()

    server = await server_factory(data_dir=config.data_dir, kb_dir=config.kb_dir)
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async def report(name, **params):
            async with http.get(f"{server.url}/api/reports/{name}", params=params) as resp:
                assert resp.status == 200
                return await resp.json()

        satisfaction = (await report("satisfaction", group_by="day"))["total"]
        assert satisfaction["responses"] > 50 and satisfaction["promoters"] and satisfaction["detractors"]
        assert 0 < satisfaction["csat_pct"] < 100 and satisfaction["nps"] is not None
        speed = (await report("speed"))["total"]
        assert speed["first_response_median"] is not None and speed["sla_met"] > 0 and speed["sla_breaches"] > 0
        bot = (await report("bot"))["total"]
        assert bot["deflected"] > 0 and bot["no_match"] > 0 and bot["not_helpful"] > 0 and bot["visitor_asked"] > 0
        articles = (await report("articles"))["articles"]
        assert articles and any(a["flagged"] for a in articles) and any(a["helpful"] for a in articles)
        assert len((await report("gaps"))["gaps"]) >= 3
        load = await report("load")
        assert load["peak_agents_online"] >= 2 and sum(r["conversations"] for r in load["by_hour"]) > 200
        assert (await report("comments"))["comments"]
        async with http.get(f"{server.url}/admin/reports") as resp:
            assert resp.status == 200 and (await resp.text()).count("<svg") >= 5
