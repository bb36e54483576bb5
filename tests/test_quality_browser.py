"""The quality record in Chromium, on cut and throttled networks: a visitor who goes offline twice produces a
record with two reconnects and roughly the right seconds offline; a throttled visitor's ack latencies are higher
than an unthrottled one's in the same test (CDP Network.emulateNetworkConditions, both on long-polling: the
emulation does not delay WebSocket frames); data-quality="off" sends nothing."""
from __future__ import annotations

import asyncio

from playwright.async_api import expect

from chatserver.store import quality as quality_queries

from support.server import FIXTURE_KB
from support.widget_host import host_page

WAIT = 15_000


async def record_when(server, cid, predicate, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await server.store.read(quality_queries.get_record, cid)
        if found and predicate(found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no matching quality record for {cid}: {found}")
        await asyncio.sleep(0.2)


async def open_chat(browser, url, agent, text, throttle=None, websocket=True):
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    if not websocket:
        # Chromium's network emulation delays HTTP requests but not WebSocket frames: without WebSockets (as behind
        # a proxy that refuses them) socket.io stays on long-polling, whose requests the emulation does delay.
        await context.route_web_socket("**/socket.io/**", lambda ws: asyncio.ensure_future(ws.close()))
    page = await context.new_page()
    if throttle:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", {"offline": False, **throttle})
    await page.goto(url)
    await page.locator(".launcher").click()
    await page.locator("textarea").fill(text)
    await page.keyboard.press("Enter")
    cid = (await agent.wait_for("assigned", lambda a: a["messages"][0]["text"] == text))["conversation"]["id"]
    await expect(page.locator(".log .row.me[data-seq]")).to_have_count(1, timeout=WAIT)
    return context, page, cid


async def send(page, text, count):
    await page.locator("textarea").fill(text)
    await page.keyboard.press("Enter")
    await expect(page.locator(".log .row.me[data-seq]")).to_have_count(count, timeout=WAIT * 2)


async def desk(server_factory, max_chats=3):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)
    await server.create_agent("sam@example.com", "Sam", max_chats=max_chats)
    return server, await server.agent("sam@example.com")


async def test_two_offline_periods_make_two_reconnects_and_the_seconds_offline(server_factory, host_site, browser):
    server, agent = await desk(server_factory)
    url = await host_site(host_page(server.url), allowed_on=server)
    context, page, cid = await open_chat(browser, url, agent, "Hello, my parcel is late")
    for seconds in (2.0, 3.0):
        await context.set_offline(True)
        await expect(page.locator(".conn")).to_contain_text("offline", timeout=WAIT)
        await asyncio.sleep(seconds)
        await context.set_offline(False)
        await expect(page.locator(".conn")).to_be_hidden(timeout=WAIT)
    reply = await agent.call("message", {"conversation_id": cid, "client_id": "r1", "text": "Sorry, checking now."})
    assert reply["ok"]
    await expect(page.locator(f".log [data-seq='{reply['seq']}']")).to_have_count(1, timeout=WAIT)
    await agent.call("close", {"conversation_id": cid})
    found = await record_when(server, cid, lambda r: r["reconnects"] == 2 and r["replies"] >= 1)
    assert 5.0 <= found["offline_seconds"] <= 10.0, found       # 2 s + 3 s offline, plus the reconnects
    assert found["server_disconnects"] >= 2
    assert found["acks"] == 1 and found["ack_p50_ms"] is not None
    assert found["delivery_p50_ms"] is not None and found["delivery_max_ms"] < 5000
    assert found["connect_ms"] is not None and found["clock_offset_ms"] is not None
    assert abs(found["clock_offset_ms"]) < 1000                  # one machine: the clocks agree
    await context.close()


async def test_a_throttled_visitors_acks_are_slower_than_an_unthrottled_ones(server_factory, host_site, browser):
    server, agent = await desk(server_factory)
    url = await host_site(host_page(server.url), allowed_on=server)
    # Both on long-polling (see open_chat), one of them throttled to a slow mobile line.
    fast_context, fast, fast_cid = await open_chat(browser, url, agent, "Fast line here", websocket=False)
    slow_context, slow, slow_cid = await open_chat(browser, url, agent, "Slow line here", websocket=False, throttle={
        "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000})
    for n in range(2, 5):
        await send(fast, f"fast {n}", n)
        await send(slow, f"slow {n}", n)
    for cid in (fast_cid, slow_cid):
        await agent.call("close", {"conversation_id": cid})
    fast_record = await record_when(server, fast_cid, lambda r: r["acks"] == 4)
    slow_record = await record_when(server, slow_cid, lambda r: r["acks"] == 4)
    print("ack p50/max ms: unthrottled", fast_record["ack_p50_ms"], fast_record["ack_max_ms"],
          "throttled", slow_record["ack_p50_ms"], slow_record["ack_max_ms"])
    assert slow_record["ack_p50_ms"] > fast_record["ack_p50_ms"] + 200, (fast_record, slow_record)
    assert slow_record["ack_max_ms"] > 400
    await fast_context.close()
    await slow_context.close()


async def test_data_quality_off_sends_nothing(server_factory, host_site, browser):
    server, agent = await desk(server_factory)
    url = await host_site(host_page(server.url, attrs='data-quality="off"'), allowed_on=server)
    context, page, cid = await open_chat(browser, url, agent, "Please do not measure me")
    await send(page, "Another one", 2)
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    await asyncio.sleep(4)                      # past the widget's 3 s pacing: a report would be here by now
    found = await server.store.read(quality_queries.get_record, cid)
    assert found is None or found["reports"] == 0, found       # the server's own disconnect counts may exist
    await context.close()
