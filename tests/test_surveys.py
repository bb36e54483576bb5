"""Post-chat surveys over real sockets: who may answer, what is accepted, corrections, the pending survey."""
from __future__ import annotations

import pytest

from chatserver import keys
from chatserver.store import surveys as survey_queries

from support.server import FIXTURE_KB


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB)


async def closed_chat(server, visitor=None, text="Where is my order?"):
    """A visitor who wrote to the bot and then ended the chat; returns (visitor, conversation_id)."""
    visitor = visitor or await server.visitor()
    ack = await visitor.call("message", {"client_id": f"m-{len(visitor.events)}", "text": text})
    assert ack["ok"], ack
    cid = ack["conversation_id"]
    ack = await visitor.call("close", {})
    assert ack["ok"], ack
    await visitor.wait_for("conversation_closed", lambda c: c["conversation_id"] == cid)
    return visitor, cid


def shift_times(conversation_id: int, seconds: float):
    """Seed helper: move a conversation's closing and its survey `seconds` into the past."""
    def shift(db):
        db.execute("UPDATE conversations SET closed_at = closed_at - ? WHERE id = ?", [seconds, conversation_id])
        db.execute("UPDATE surveys SET created_at = created_at - ?, updated_at = updated_at - ? "
                   "WHERE conversation_id = ?", [seconds, seconds, conversation_id])
    return shift


async def test_agent_closes_visitor_answers_full_survey(server):
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "I want to talk to a person please"})
    cid = ack["conversation_id"]
    await visitor.call("request_agent", {})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    closed = await visitor.wait_for("conversation_closed")
    assert closed["survey"] == {"nps": True}
    agent_closed = await agent.wait_for("conversation_closed")
    assert agent_closed["conversation_id"] == cid

    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 5, "ces": 6, "nps": 9,
                                        "comment": "  Quick and friendly  "})
    assert ack["ok"], ack
    assert ack["conversation_id"] == cid and ack["corrected"] is False
    survey = ack["survey"]
    assert (survey["csat"], survey["ces"], survey["nps"], survey["comment"]) == (5, 6, 9, "Quick and friendly")
    stored = await server.store.read(survey_queries.get_survey, cid)
    assert stored["visitor_id"] == visitor.of("session")[0]["visitor_id"]
    assert (stored["csat"], stored["ces"], stored["nps"]) == (5, 6, 9)

    # Agents have no survey event at all: they cannot answer for the visitor.
    refused = await agent.call("survey", {"conversation_id": cid, "csat": 1})
    assert refused["ok"] is False and refused["error"] == "unknown_event"
    assert (await server.store.read(survey_queries.get_survey, cid))["csat"] == 5


async def test_another_visitor_cannot_answer(server):
    owner, cid = await closed_chat(server)
    stranger = await server.visitor()
    ack = await stranger.call("survey", {"conversation_id": cid, "csat": 1})
    assert ack == {"ok": False, "error": "not_found", "message": "no such conversation"}
    ack = await stranger.call("survey", {"conversation_id": cid + 1000, "csat": 1})
    assert ack["error"] == "not_found"
    assert await server.store.read(survey_queries.get_survey, cid) is None
    # The owner still can.
    assert (await owner.call("survey", {"conversation_id": cid, "csat": 4}))["ok"]


@pytest.mark.parametrize("payload, error", [
    ({"csat": 0}, "out_of_range"),
    ({"csat": 6}, "out_of_range"),
    ({"ces": 0}, "out_of_range"),
    ({"ces": 8}, "out_of_range"),
    ({"nps": -1}, "out_of_range"),
    ({"nps": 11}, "out_of_range"),
    ({"csat": "5"}, "invalid_payload"),
    ({"csat": 4.5}, "invalid_payload"),
    ({"csat": True}, "invalid_payload"),
    ({"comment": 42}, "invalid_payload"),
    ({"comment": "x" * 2001}, "text_too_long"),
    ({"comment": "bad\x00byte"}, "invalid_payload"),
])
async def test_malformed_or_out_of_range_answers_are_refused(server, payload, error):
    visitor, cid = await closed_chat(server)
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 3, **payload})
    assert ack["ok"] is False and ack["error"] == error, ack
    assert ack["message"]
    assert await server.store.read(survey_queries.get_survey, cid) is None


@pytest.mark.parametrize("payload", [None, "5", [1, 2], {}, {"conversation_id": "1"}, {"conversation_id": 0}])
async def test_payload_without_a_valid_conversation_id_is_refused(server, payload):
    visitor, _ = await closed_chat(server)
    ack = await visitor.call("survey", payload)
    assert ack["ok"] is False and ack["error"] in ("invalid_payload", "out_of_range"), ack


async def test_open_conversation_cannot_be_surveyed(server):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "Hello"})
    ack = await visitor.call("survey", {"conversation_id": ack["conversation_id"], "csat": 5})
    assert ack["ok"] is False and ack["error"] == "survey_unavailable"


async def test_partial_survey_then_correction_within_the_window_then_refused(server):
    visitor, cid = await closed_chat(server)
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 2, "nps": None})
    assert ack["ok"] and ack["survey"]["csat"] == 2 and ack["survey"]["ces"] is None and ack["survey"]["nps"] is None

    # A second submission soon after corrects the fields it carries and keeps the others.
    ack = await visitor.call("survey", {"conversation_id": cid, "ces": 6, "comment": "Actually it was fine"})
    assert ack["ok"] and ack["corrected"] is True
    assert (ack["survey"]["csat"], ack["survey"]["ces"], ack["survey"]["comment"]) == (2, 6, "Actually it was fine")
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 4})
    assert ack["ok"] and ack["survey"]["csat"] == 4 and ack["survey"]["ces"] == 6

    # Eleven minutes later the survey is settled.
    await server.store.write(shift_times(cid, 11 * 60))
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 1})
    assert ack["ok"] is False and ack["error"] == "survey_already_answered"
    assert (await server.store.read(survey_queries.get_survey, cid))["csat"] == 4


async def test_pending_survey_on_the_next_visit_then_gone_once_answered(server):
    visitor, cid = await closed_chat(server)
    token = visitor.of("session")[0]["visitor_token"]
    await visitor.disconnect()

    again = await server.visitor(token)
    assert again.of("session")[0]["survey"] == {"conversation_id": cid, "nps": True}
    stranger = await server.visitor()
    assert "survey" not in stranger.of("session")[0]

    assert (await again.call("survey", {"conversation_id": cid, "csat": 5, "ces": 7}))["ok"]
    await again.disconnect()
    third = await server.visitor(token)
    assert "survey" not in third.of("session")[0]


async def test_dismissed_survey_is_no_longer_pending(server):
    visitor, cid = await closed_chat(server)
    token = visitor.of("session")[0]["visitor_token"]
    ack = await visitor.call("survey", {"conversation_id": cid})
    assert ack["ok"] and ack["survey"]["csat"] is None
    await visitor.disconnect()
    assert "survey" not in (await server.visitor(token)).of("session")[0]


async def test_survey_expires_after_seven_days(server):
    visitor, cid = await closed_chat(server)
    token = visitor.of("session")[0]["visitor_token"]
    await server.store.write(shift_times(cid, 8 * 24 * 3600))
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 5})
    assert ack["ok"] is False and ack["error"] == "survey_expired"
    await visitor.disconnect()
    assert "survey" not in (await server.visitor(token)).of("session")[0]


async def test_no_pending_survey_while_a_new_chat_is_open(server):
    visitor, cid = await closed_chat(server)
    token = visitor.of("session")[0]["visitor_token"]
    await visitor.call("message", {"client_id": "again-1", "text": "One more question"})
    await visitor.disconnect()
    session = (await server.visitor(token)).of("session")[0]
    assert session["conversation"] is not None and "survey" not in session


async def test_nps_switched_off_and_surveys_switched_off(server):
    settings = server.app[keys.SETTINGS]
    await settings.update({"survey_nps_enabled": False})
    visitor, cid = await closed_chat(server)
    assert visitor.of("conversation_closed")[-1]["survey"] == {"nps": False}
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 4, "nps": 10})
    assert ack["ok"] and ack["survey"]["nps"] is None and ack["survey"]["csat"] == 4

    await settings.update({"survey_enabled": False})
    visitor, cid = await closed_chat(server)
    assert visitor.of("conversation_closed")[-1]["survey"] is None
    ack = await visitor.call("survey", {"conversation_id": cid, "csat": 4})
    assert ack["ok"] is False and ack["error"] == "survey_unavailable"
    token = visitor.of("session")[0]["visitor_token"]
    await visitor.disconnect()
    assert "survey" not in (await server.visitor(token)).of("session")[0]
