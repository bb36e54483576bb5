"""Verified identity: a valid signature makes one customer one visitor on every browser (real Socket.IO clients,
then two Chromium contexts with the real widget); a forged or missing signature never merges anyone; agents (and
the API) see "verified" and the site's customer id."""
from __future__ import annotations

import hashlib
import hmac


from chatserver import keys
from chatserver.desk import settings as settings_ops

SECRET = "shop-identity-secret-0123456789"


def signature(customer_id: str, email: str | None = None, secret: str = SECRET) -> str:
    message = f"{customer_id}:{email}" if email else customer_id
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


async def with_secret(server):
    await settings_ops.update_settings(server.app[keys.DESK], {"identity_secret": SECRET})


async def visitor_as(server, identity=None, token=None):
    client = await server.visitor(token, identity=identity)
    return client, client.of("session")[0]


async def test_a_valid_signature_is_the_same_visitor_on_every_browser(server):
    await with_secret(server)
    dana = {"id": "cust-1234", "name": "Dana", "email": "dana@example.com",
            "signature": signature("cust-1234", "dana@example.com")}
    laptop, first = await visitor_as(server, dana)
    ack = await laptop.call("message", {"client_id": "m1", "text": "where is my order?"})
    assert ack["ok"]
    phone, second = await visitor_as(server, dana)               # another browser: no token of the first
    assert second["visitor_id"] == first["visitor_id"]
    assert second["conversation"]["id"] == ack["conversation_id"]
    assert [m["text"] for m in second["messages"] if m["author"] == "visitor"] == ["where is my order?"]
    # The id alone verifies too (the email is then shown as unverified).
    tablet, third = await visitor_as(server, {"id": "cust-1234", "email": "someone@else.example",
                                              "signature": signature("cust-1234")})
    assert third["visitor_id"] == first["visitor_id"]


async def test_forged_or_missing_signatures_never_merge(server):
    await with_secret(server)
    dana = {"id": "cust-1", "name": "Dana", "email": "dana@example.com", "signature": signature("cust-1")}
    _, first = await visitor_as(server, dana)
    for forged in ({**dana, "signature": signature("cust-1", secret="wrong-secret-0123456789")},
                   {**dana, "signature": None}, {"id": "cust-1", "name": "Dana", "email": "dana@example.com"},
                   {**dana, "signature": signature("cust-2")}, {**dana, "id": "cust-1 ", "signature": "zz"},
                   "not an object", {"id": ["cust-1"], "signature": signature("cust-1")}):
        _, other = await visitor_as(server, forged)
        assert other["visitor_id"] != first["visitor_id"], forged
        assert other["conversation"] is None


async def test_without_a_secret_nothing_is_verified(server):
    dana = {"id": "cust-9", "signature": signature("cust-9", secret="")}
    _, first = await visitor_as(server, dana)
    _, second = await visitor_as(server, dana)
    assert first["visitor_id"] != second["visitor_id"]


async def test_a_browser_of_one_customer_never_opens_another_customers_history(server):
    await with_secret(server)
    _, ann = await visitor_as(server, {"id": "ann", "signature": signature("ann")})
    shared_browser, bob = await visitor_as(server, {"id": "bob", "signature": signature("bob")},
                                           token=ann["visitor_token"])
    assert bob["visitor_id"] != ann["visitor_id"]
    _, bob_elsewhere = await visitor_as(server, {"id": "bob", "signature": signature("bob")})
    assert bob_elsewhere["visitor_id"] == bob["visitor_id"]
    # An anonymous browser that signs in becomes that customer, its chat included.
    anon, before = await visitor_as(server)
    ack = await anon.call("message", {"client_id": "x1", "text": "hi"})
    _, carol = await visitor_as(server, {"id": "carol", "signature": signature("carol")},
                                token=before["visitor_token"])
    assert carol["visitor_id"] == before["visitor_id"] and carol["conversation"]["id"] == ack["conversation_id"]


async def test_agents_and_the_api_see_verified_and_the_customer_id(server_factory):
    server = await server_factory(bot_enabled=False)
    await with_secret(server)
    await server.create_agent("kim@example.com", "Kim")
    kim = await server.agent("kim@example.com")
    verified, _ = await visitor_as(server, {"id": "cust-77", "name": "Vera", "email": "vera@example.com",
                                            "signature": signature("cust-77", "vera@example.com")})
    await verified.call("message", {"client_id": "m1", "text": "hello"})
    assigned = await kim.wait_for("assigned")
    identity = assigned["visitor"]["identity"]
    assert identity == {"customer_id": "cust-77", "verified": True, "name": "Vera", "email": "vera@example.com",
                        "email_verified": True}
    claimed, _ = await visitor_as(server, {"id": "cust-77", "name": "Mallory", "email": "vera@example.com",
                                           "signature": "00" * 32})
    await claimed.call("message", {"client_id": "m1", "text": "hello, I am Vera"})
    second = await kim.wait_for("assigned", lambda d: d["visitor"]["id"] != assigned["visitor"]["id"])
    assert second["visitor"]["identity"] == {"customer_id": None, "verified": False, "name": "Mallory",
                                             "email": "vera@example.com", "email_verified": False}
