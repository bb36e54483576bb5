"""Defect 5 of issue 16: the reports page without a query string groups its tables by "handled by", and every CSV
and JSON link on it asks for exactly that (its CSV used to leave `group_by` out and held only the total row)."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit


async def test_every_report_link_carries_the_page_parameters(server, admin):
    await server.create_agent("dana@example.com", "Dana Scully")
    dana = await server.agent("dana@example.com")
    visitor = await server.visitor()
    assert (await visitor.call("message", {"client_id": "q1", "text": "Where is my parcel?"}))["ok"]
    assert (await visitor.call("request_agent", {}))["ok"]
    cid = (await dana.wait_for("assigned"))["conversation"]["id"]
    assert (await dana.call("message", {"conversation_id": cid, "client_id": "a1", "text": "On its way."}))["ok"]
    assert (await dana.call("close", {"conversation_id": cid}))["ok"]
    assert (await visitor.call("survey", {"conversation_id": cid, "csat": 5, "ces": 6}))["ok"]

    status, page, _ = await admin.get("/admin/reports")
    assert status == 200
    selected = re.search(r'<option value="(\w+)" selected>', page).group(1)
    start = re.search(r'name="from" value="([\d-]+)"', page).group(1)
    end = re.search(r'name="to" value="([\d-]+)"', page).group(1)
    expected = {"from": [start], "to": [end], "group_by": [selected]}
    links = [unescape(h) for h in re.findall(r'href="(/api/reports/[^"]+)"', page)]
    csv_links = [h for h in links if ".csv" in h]
    json_links = [h for h in links if ".csv" not in h]
    assert len(csv_links) >= 8 and len(json_links) >= 8, links
    for link in links:
        assert parse_qs(urlsplit(link).query) == expected, link

    # The satisfaction CSV the page links to has the page's rows (handled by), not only the total.
    link = next(h for h in csv_links if "/satisfaction.csv" in h)
    status, body, _ = await admin.get(link)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["group"] for row in rows] == ["agent", "total"], rows     # handled by an agent, and the total
