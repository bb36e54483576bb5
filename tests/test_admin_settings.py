"""Admin → Settings: the widget greeting and colour, allowed origins, business hours and surveys take effect without
a restart; invalid values are refused field by field with nothing saved; canned replies reach the console."""
from __future__ import annotations


from chatserver import keys
from chatserver.store import settings as settings_queries

from support.admin_client import field_error

GOOD = {"widget_greeting": "Hello from the shop!", "widget_colour": "#0a7d55",
        "allowed_origins": "https://shop.example.com\nhttps://www.example.com/", "business_hours": "Every day, 8-20",
        "survey_enabled": "on"}


async def test_saved_settings_apply_at_once(server, admin):
    status, _, headers = await admin.post_form("/admin/settings", GOOD)       # NPS and quality boxes left unticked
    assert status == 303 and headers["Location"] == "/admin/settings?done=saved"
    settings = server.app[keys.SETTINGS]
    assert settings.all() == {"widget_greeting": "Hello from the shop!", "widget_colour": "#0a7d55",
                              "allowed_origins": ["https://shop.example.com", "https://www.example.com"],
                              "business_hours": "Every day, 8-20", "survey_enabled": True,
                              "survey_nps_enabled": False, "kb_threshold": None, "smtp_url": "", "email_from": "",
                              "hours_timezone": "UTC", "hours_schedule": "", "hours_holidays": "",
                              "quality_enabled": False, "identity_secret": "", "retention_days": 0,
                              "attachment_retention_days": 0, "audit_retention_days": 0, "webhooks_allow_private": False}
    site_form = {name: value for name, value in settings.all().items()
                 if name not in ("smtp_url", "email_from", "hours_timezone", "hours_schedule", "hours_holidays")}
    assert await server.store.read(settings_queries.all_settings) == site_form   # stored, survives restarts
    _, page, _ = await admin.get("/admin/settings?done=saved")
    assert "Settings saved" in page and "https://shop.example.com\nhttps://www.example.com</textarea>" in page

    # The visitor side sees it on the next chat: the survey offer no longer asks the NPS question ...
    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "m1", "text": "hello"})
    closed = await visitor.call("close", {})
    assert closed["ok"]
    event = await visitor.wait_for("conversation_closed")
    assert event["survey"] == {"nps": False}
    # ... and switching the survey off is honoured for the next one.
    await admin.post_form("/admin/settings", {**GOOD, "survey_enabled": ""})
    assert server.app[keys.SETTINGS].get("survey_enabled") is False
    await visitor.call("message", {"client_id": "m2", "text": "hello again"})
    second = await visitor.call("close", {})
    event = await visitor.wait_for("conversation_closed", lambda e: e["conversation_id"] == second["conversation_id"])
    assert event["survey"] is None


async def test_invalid_settings_are_shown_inline_and_nothing_is_saved(server, admin):
    before = server.app[keys.SETTINGS].all()
    status, page, _ = await admin.post_form("/admin/settings", {**GOOD, "widget_colour": "blue",
                                                                "allowed_origins": "shop.example.com"})
    assert status == 400
    assert "#2457d6" in field_error(page, "widget_colour")
    assert "shop.example.com" in field_error(page, "allowed_origins")
    assert 'value="blue"' in page and "Hello from the shop!" in page          # the typed values are kept
    assert server.app[keys.SETTINGS].all() == before                           # not even the valid greeting
    assert await server.store.read(settings_queries.all_settings) == {}


async def test_settings_api_codes(admin, server):
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"widget_colour": "#12345"})
    assert (status, answer["error"]) == (400, "invalid_colour")
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"allowed_origins": ["https://a.example/path"]})
    assert (status, answer["error"]) == (400, "invalid_origin")
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"theme": "dark"})
    assert (status, answer["error"]) == (400, "unknown_setting")
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"widget_greeting": "x" * 501})
    assert (status, answer["error"]) == (400, "text_too_long")
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"survey_enabled": False, "widget_colour": "#abc"})
    assert status == 200 and answer["settings"]["survey_enabled"] is False and answer["settings"]["widget_colour"] == "#abc"
    status, answer = await admin.call("GET", "/api/admin/settings")
    assert answer["settings"] == server.app[keys.SETTINGS].all()


async def test_canned_replies_are_added_refused_when_duplicate_and_deleted(server, admin):
    status, _, headers = await admin.post_form("/admin/settings/canned-replies",
                                               {"shortcut": "/Refund-Time", "text": "Refunds take 3-5 working days."})
    assert status == 303
    replies = await server.store.read(settings_queries.canned_replies)
    assert [(r["shortcut"], r["text"]) for r in replies] == [("refund-time", "Refunds take 3-5 working days.")]
    # The console reads the same list.
    status, answer = await admin.call("GET", "/api/console/canned-replies")
    assert [r["shortcut"] for r in answer["canned_replies"]] == ["refund-time"]

    status, page, _ = await admin.post_form("/admin/settings/canned-replies", {"shortcut": "refund-time", "text": "x"})
    assert status == 409 and "exists" in field_error(page, "shortcut")
    status, page, _ = await admin.post_form("/admin/settings/canned-replies", {"shortcut": "no spaces", "text": " "})
    assert status == 400 and field_error(page, "shortcut") and field_error(page, "text")
    assert len(await server.store.read(settings_queries.canned_replies)) == 1

    status, _, _ = await admin.post_form(f"/admin/settings/canned-replies/{replies[0]['id']}/delete", {})
    assert status == 303
    assert await server.store.read(settings_queries.canned_replies) == []
    status, _, _ = await admin.post_form(f"/admin/settings/canned-replies/{replies[0]['id']}/delete", {})
    assert status == 404


async def test_canned_replies_api_codes(admin):
    status, answer = await admin.call("POST", "/api/admin/canned-replies", {"shortcut": "hi", "text": "Hello!"})
    assert status == 201 and answer["canned_reply"]["shortcut"] == "hi"
    status, answer = await admin.call("POST", "/api/admin/canned-replies", {"shortcut": "hi", "text": "Again"})
    assert (status, answer["error"]) == (409, "shortcut_exists")
    status, answer = await admin.call("POST", "/api/admin/canned-replies", {"shortcut": "long", "text": "x" * 2001})
    assert (status, answer["error"]) == (400, "text_too_long")
    status, answer = await admin.call("DELETE", "/api/admin/canned-replies/999")
    assert (status, answer["error"]) == (404, "not_found")
    status, answer = await admin.call("GET", "/api/admin/canned-replies")
    assert [r["text"] for r in answer["canned_replies"]] == ["Hello!"]
