"""The bot's threshold on a running server: calibrated from the article folder in the background (shown by /healthz
and Admin → Knowledge base), re-calibrated after an edit saved in the editor, overridden and un-overridden in
Admin → Settings (CHAT_KB_THRESHOLD sets the same default), invalid values refused with `invalid_threshold`."""
from __future__ import annotations

import asyncio
import time

import aiohttp

from chatserver import keys
from chatserver.config import load_config

from support.admin_client import form_of


async def healthz(server) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/healthz") as resp:
            assert resp.status == 200
            return (await resp.json())["kb"]["threshold"]


async def calibrated(server, articles: int, timeout: float = 60) -> dict:
    """/healthz once a calibration of `articles` articles with sentence meaning is in (a generous bound)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = await healthz(server)
        calibration = shown.get("calibrated")
        if calibration and calibration["meaning"] and server.app[keys.KB].calibrator.result.articles == articles:
            return shown
        assert time.monotonic() < deadline, shown
        await asyncio.sleep(0.1)


async def test_the_threshold_is_calibrated_shown_recalibrated_and_overridden(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    shown = await calibrated(server, len(kb))
    result = kb.calibrator.result
    assert shown["source"] == "calibrated" and shown["value"] == result.threshold == kb.threshold
    assert shown["calibrated"]["reason"] == result.reason and shown["calibrated"]["questions"] == result.questions
    _, page, _ = await admin.get("/admin/kb")
    assert f'id="kb-threshold-value">{result.threshold:.3f}<' in page and "Chosen by the bot" in page
    assert result.reason.replace("'", "&#39;") in page

    # An article saved in the editor re-calibrates (one more article, its questions counted).
    article = kb.get("track-order")
    status, _, _ = await admin.post_form("/admin/kb/new", {**form_of(article, slug="pick-up", title="Collect in person",
                                                                     questions="Can I collect my order in person?\r\n"
                                                                               "Pick up my order at the shop"),
                                                           "published": "on"})
    assert status == 303
    shown = await calibrated(server, len(kb))
    assert kb.calibrator.result.questions == result.questions + 2

    # An admin fixes it: the bot uses it at once, /healthz and the KB page say so; emptied, calibration is back.
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"kb_threshold": "0.9"})
    assert status == 200 and answer["settings"]["kb_threshold"] == 0.9
    assert kb.threshold == 0.9 and (await healthz(server))["source"] == "override"
    assert kb.suggest("I am still waiting for my parcel") == []
    _, page, _ = await admin.get("/admin/kb")
    assert 'id="kb-threshold-value">0.900<' in page and "Fixed by an admin" in page
    _, page, _ = await admin.get("/admin/settings")
    assert 'name="kb_threshold" id="setting-kb_threshold" value="0.9"' in page
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"kb_threshold": ""})
    assert status == 200 and answer["settings"]["kb_threshold"] is None
    assert kb.threshold == kb.calibrator.result.threshold and (await healthz(server))["source"] == "calibrated"
    assert kb.suggest("I am still waiting for my parcel")


async def test_bad_thresholds_are_refused(admin, server):
    for bad in ("high", "0", "1.5", True, [0.3]):
        status, answer = await admin.call("PATCH", "/api/admin/settings", {"kb_threshold": bad})
        assert (status, answer["error"]) == (400, "invalid_threshold"), bad
    assert server.app[keys.SETTINGS].get("kb_threshold") is None


async def test_the_environment_sets_the_default_override(server_factory):
    config, _ = load_config([], {"CHAT_KB_THRESHOLD": "0.42"})
    assert config.kb_threshold == 0.42
    server = await server_factory(kb_threshold=0.42)
    assert server.app[keys.KB].threshold == 0.42 and (await healthz(server))["source"] == "override"
