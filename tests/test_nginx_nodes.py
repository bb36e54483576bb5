"""Three real node processes behind the repo's deploy/nginx.conf, on one PostgreSQL database and one Redis prefix,
driven by real Socket.IO clients that all go through nginx. Which node a client is on is chosen by the address it
connects from (nginx's ip_hash; tests/support/nginx_nodes.py) and checked in nginx's access log."""
from __future__ import annotations

import asyncio
import time

import pytest

from support.nginx_nodes import node_cluster  # noqa: F401 (a fixture)
from support.postgres import on_postgres
from test_cluster_redis_restart import private_redis  # noqa: F401 (a fixture: a redis-server of the test's own)

# These always run on PostgreSQL and Redis: the suite's PostgreSQL pass (.ci/run) would only repeat them.
pytestmark = pytest.mark.skipif(on_postgres(), reason="already run by the first pass: these nodes always use "
                                                       "PostgreSQL, whatever CHAT_TEST_DATABASE_URL says")


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def test_a_visitor_and_agents_on_three_nodes_go_through_a_whole_chat(node_cluster):
    cluster = await node_cluster(3)
    a, b, c = cluster.nodes
    dana = await cluster.create_agent("dana@example.com", "Dana")
    sam = await cluster.create_agent("sam@example.com", "Sam")
    on_a, on_b, on_c = [await cluster.source_for(node) for node in (a, b, c)]

    visitor = await cluster.visitor(on_a)
    assert cluster.node_of(on_a) == cluster.address(a)
    ack = await visitor.call("message", {"client_id": "v1", "text": "where is my parcel, I want to track my order"})
    assert ack["ok"], ack
    cid = ack["conversation_id"]
    await visitor.wait_for("message", bot_says("suggestions"))                     # the bot, on node a
    handoff = await visitor.call("request_agent", {})
    assert handoff["ok"] and handoff["status"] == "queued", handoff
    place = await visitor.wait_for("queue", lambda q: q.get("conversation_id") == cid)
    assert place["position"] == 1 and place["agents_online"] == 0

    console = await cluster.agent(on_b, "dana@example.com", online=False)      # node b, away
    assert cluster.node_of(on_b) == cluster.address(b)
    board = await console.wait_for("queue", lambda q: any(x["conversation_id"] == cid for x in q["conversations"]))
    assert board["conversations"][0]["conversation_id"] == cid
    assert (await console.call("status", {"status": "online"}))["ok"]         # node b assigns it to her
    assigned = await console.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)
    assert any(m["author"] == "bot" for m in assigned["messages"])
    assert (await visitor.wait_for("agent_joined"))["agent_name"] == "Dana"

    reply = await console.call("message", {"conversation_id": cid, "client_id": "d1", "text": "on its way"})
    assert reply["ok"], reply
    assert (await visitor.wait_for("message", lambda m: m["text"] == "on its way"))["author"] == "agent"
    sent = await visitor.call("message", {"client_id": "v2", "text": "thanks, and the invoice?"})
    assert sent["ok"], sent
    assert (await console.wait_for("message", lambda m: m.get("client_id") == "v2"))["seq"] == sent["seq"]
    assert (await console.call("typing", {"conversation_id": cid, "typing": True}))["ok"]
    await visitor.wait_for("typing", lambda t: t["author"] == "agent" and t["typing"])
    await visitor.emit("typing", {"typing": True})
    await console.wait_for("typing", lambda t: t["author"] == "visitor" and t["typing"])

    other = await cluster.agent(on_c, "sam@example.com")                        # node c
    assert cluster.node_of(on_c) == cluster.address(c)
    moved = await console.call("transfer", {"conversation_id": cid, "agent_id": sam["id"]})
    assert moved["ok"], moved
    await console.wait_for("unassigned", lambda x: x["conversation_id"] == cid)
    taken = await other.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)
    assert [m["client_id"] for m in taken["messages"] if m["author"] == "visitor"][-1] == "v2"
    await visitor.wait_for("agent_joined", lambda j: j["agent_name"] == "Sam")
    reply = await other.call("message", {"conversation_id": cid, "client_id": "s1", "text": "Sam here, invoice fixed"})
    assert reply["ok"], reply
    await visitor.wait_for("message", lambda m: m["text"] == "Sam here, invoice fixed")

    assert (await other.call("close", {"conversation_id": cid}))["ok"]
    closed = await visitor.wait_for("conversation_closed")
    assert closed["closed_by"] == "agent" and closed["survey"] is not None, closed
    survey = await visitor.call("survey", {"conversation_id": cid, "csat": 5, "comment": "quick"})
    assert survey["ok"] and survey["survey"]["csat"] == 5, survey
    assert dana["id"] != sam["id"]


ROUNDS = 120         # each round: 8 chats queued, 3 agents on 3 nodes with 2 slots each race for them


async def test_agents_on_three_nodes_race_for_more_queued_chats_than_they_can_take(node_cluster):
    """Every round, 8 visitors queue a chat while 3 agents (one per node, 2 slots each) are away; then all three go
    online at once (each node's automatic assignment) while each also claims all 8 chats. Afterwards every chat has
    at most one assignment (its events, its claim acks), no agent holds more than 2, and exactly 6 are taken."""
    from chatserver.store import conversations as conv_queries

    cluster = await node_cluster(3, CHAT_BOT_ENABLED="false", CHAT_NEW_VISITORS_PER_MINUTE_PER_IP="100000")
    sources = [await cluster.source_for(node) for node in cluster.nodes]
    agents = [await cluster.create_agent(f"agent{i}@example.com", f"Agent {i}", max_chats=2) for i in range(3)]
    consoles = [await cluster.agent(sources[i], agents[i]["email"], online=False) for i in range(3)]
    visitors = [await cluster.visitor(sources[i % 3]) for i in range(8)]
    store = await cluster.store()
    started = time.monotonic()
    claims_won = 0
    for round_ in range(ROUNDS):
        acks = await asyncio.gather(*(v.call("message", {"client_id": f"r{round_}", "text": f"help {round_}"})
                                      for v in visitors))
        assert all(ack["ok"] for ack in acks), acks
        cids = [ack["conversation_id"] for ack in acks]

        async def go_online_and_claim(console, index):
            # Going online (the node's automatic assignment) is sent at a different place among the claims each
            # round and for each agent, so manual claims and automatic assignment really overlap.
            calls = [console.call("claim", {"conversation_id": cid}) for cid in cids]
            calls.insert((round_ + 3 * index) % 9, console.call("status", {"status": "online"}))
            answers = await asyncio.gather(*calls)
            status = answers.pop((round_ + 3 * index) % 9)
            return [status, *answers]

        results = await asyncio.gather(*(go_online_and_claim(console, i) for i, console in enumerate(consoles)))
        winners: dict[int, list[int]] = {}
        for agent, (status, *claims) in zip(agents, results):
            assert status["ok"], status
            for cid, claim in zip(cids, claims):
                if claim["ok"]:
                    winners.setdefault(cid, []).append(agent["id"])
                else:
                    assert claim["error"] in ("not_in_queue", "at_capacity"), claim
        claims_won += sum(len(w) for w in winners.values())
        held: dict[int, list[int]] = {}
        for cid in cids:
            conversation = await store.read(conv_queries.get_conversation, cid)
            assignments = [e for e in await store.read(conv_queries.conversation_events, cid) if e["type"] == "assigned"]
            assert len(assignments) <= 1, (round_, cid, assignments)
            if conversation["status"] == "assigned":
                assert len(assignments) == 1
                held.setdefault(conversation["agent_id"], []).append(cid)
                assert winners.get(cid, [conversation["agent_id"]]) == [conversation["agent_id"]], (round_, cid, winners)
            else:
                assert conversation["status"] == "queued" and cid not in winners, (round_, conversation, winners)
        assert all(len(taken) <= 2 for taken in held.values()), (round_, held)
        assert sum(len(taken) for taken in held.values()) == 6, (round_, held)

        await asyncio.gather(*(console.call("status", {"status": "away"}) for console in consoles))
        for agent, console in zip(agents, consoles):
            for cid in held.get(agent["id"], []):
                assert (await console.call("close", {"conversation_id": cid}))["ok"]
        for visitor, cid in zip(visitors, cids):
            if cid not in sum(held.values(), []):
                assert (await visitor.call("close", {}))["ok"]
    elapsed = time.monotonic() - started
    print(f"\n{ROUNDS} rounds of 8 chats for 3x2 slots on 3 nodes in {elapsed:.1f} s "
          f"({elapsed / ROUNDS * 1000:.0f} ms a round); {claims_won} of {ROUNDS * 6} assignments were manual claims")


GRACE_SECONDS = 3.0


async def _send_until_cut_off(client, cid_of, prefix: str, acked: dict, unacked: list, stop: asyncio.Event,
                              conversation_id=None):
    """Acked messages one after another until the socket breaks or `stop` is set: acked[client_id] = (cid, seq);
    the one in flight when the socket broke goes to `unacked` (it may or may not be stored)."""
    n = 0
    while not stop.is_set():
        client_id = f"{prefix}-{n}"
        payload = {"client_id": client_id, "text": f"burst {client_id}"}
        if conversation_id is not None:
            payload["conversation_id"] = conversation_id
        try:
            ack = await client.call("message", payload, timeout=3)
        except Exception:       # the node died under the call: TimeoutError, or the namespace is gone
            unacked.append((client_id, payload))
            return
        assert ack["ok"], ack
        acked[client_id] = (ack["conversation_id"], ack["seq"])
        n += 1
        await asyncio.sleep(0.01)


async def test_kill_9_of_a_node_during_a_burst_loses_no_acked_message_and_its_clients_resume_elsewhere(node_cluster):
    """Visitors and an agent on node a, more on node b, all sending acked messages; node a is killed with SIGKILL.
    Its clients reconnect through nginx (same address: ip_hash moves them to a live node), resume with `last_seq`
    and resend what was unacked with the same client_id. Every acked message is stored once, in order, with the seq
    its ack gave; the agent of node a, back within the grace period, still holds its chats after the dead node's
    presence and the grace period have both run out."""
    from chatserver.store import conversations as conv_queries

    cluster = await node_cluster(3, CHAT_BOT_ENABLED="false", CHAT_AGENT_GRACE_SECONDS=GRACE_SECONDS)
    a, b, _ = cluster.nodes
    on_a, on_b = await cluster.source_for(a), await cluster.source_for(b)
    xavier = await cluster.create_agent("xavier@example.com", "Xavier", max_chats=3)
    await cluster.create_agent("yara@example.com", "Yara", max_chats=3)
    agent_a = await cluster.agent(on_a, "xavier@example.com")
    visitors_a = [await cluster.visitor(on_a) for _ in range(3)]
    cids_a = []
    for i, visitor in enumerate(visitors_a):
        ack = await visitor.call("message", {"client_id": f"first-a{i}", "text": "hello"})
        cids_a.append(ack["conversation_id"])
        await agent_a.wait_for("assigned", lambda x, cid=ack["conversation_id"]: x["conversation"]["id"] == cid)
    agent_b = await cluster.agent(on_b, "yara@example.com")
    visitors_b = [await cluster.visitor(on_b) for _ in range(2)]
    for i, visitor in enumerate(visitors_b):
        ack = await visitor.call("message", {"client_id": f"first-b{i}", "text": "hello"})
        await agent_b.wait_for("assigned", lambda x, cid=ack["conversation_id"]: x["conversation"]["id"] == cid)
    tokens = [v.of("session")[0]["visitor_token"] for v in visitors_a]

    acked: dict[str, tuple[int, int]] = {}
    unacked: list = []
    stop = asyncio.Event()
    senders = [asyncio.ensure_future(_send_until_cut_off(v, None, f"va{i}", acked, unacked, stop))
               for i, v in enumerate(visitors_a)]
    senders += [asyncio.ensure_future(_send_until_cut_off(v, None, f"vb{i}", acked, unacked, stop))
                for i, v in enumerate(visitors_b)]
    senders += [asyncio.ensure_future(_send_until_cut_off(agent_a, None, f"xa{i}", acked, unacked, stop,
                                                          conversation_id=cid)) for i, cid in enumerate(cids_a)]
    await asyncio.sleep(1.0)
    # A message that reached node a and was stored, but whose ack the client never saw (as when the node dies
    # between COMMIT and the ack frame): sent without asking for an ack, so the client holds it as unacked.
    store = await cluster.store()
    lost_acks = []
    for i, (visitor, cid) in enumerate(zip(visitors_a, cids_a)):
        payload = {"client_id": f"va{i}-lost-ack", "text": "stored, ack lost"}
        await visitor.emit("message", payload)
        lost_acks.append((payload["client_id"], payload, cid))
    for client_id, _, cid in lost_acks:
        for _ in range(200):
            stored = await store.read(conv_queries.messages_after, cid, 0, True)
            if any(m.get("client_id") == client_id for m in stored):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"{client_id} never reached node a's store")
    unacked.extend((client_id, payload) for client_id, payload, _ in lost_acks)
    before_kill = len(acked)
    a.kill9()
    killed_at = time.monotonic()
    await asyncio.sleep(0.5)      # node b's visitors keep sending meanwhile
    stop.set()
    await asyncio.gather(*senders)
    assert before_kill > 20, before_kill

    # Back through nginx from the same addresses, as the widget and the console do.
    reconnecting = time.monotonic()
    cut_off_for = reconnecting - killed_at      # until the clients gave up on their calls (3 s ack timeout)
    agent_back = await cluster.agent(on_a, "xavier@example.com", online=False)
    agent_took = time.monotonic() - reconnecting
    assert cluster.node_of(on_a) != cluster.address(a)
    session = agent_back.of("session")[0]
    assert session["status"]["status"] == "online", session["status"]   # kept from before: within the grace period
    assert {c["conversation"]["id"] for c in session["conversations"]} >= set(cids_a), session["conversations"]
    resumed = []
    for token, visitor, cid in zip(tokens, visitors_a, cids_a):
        seen = [m["seq"] for m in visitor.of("message") if m.get("conversation_id", cid) == cid]
        last_seq = max(seen, default=0)
        back = await cluster.visitor(on_a, token=token, last_seq=last_seq)
        again = back.of("session")[0]
        assert again["conversation"]["id"] == cid and again["conversation"]["status"] == "assigned"
        assert all(m["seq"] > last_seq for m in again["messages"])
        resumed.append(back)
    visitors_took = time.monotonic() - reconnecting - agent_took
    for client_id, payload in unacked:      # resent with the same client_id: stored once whatever happened
        sender = agent_back if client_id.startswith("xa") else resumed[int(client_id[2])] \
            if client_id.startswith("va") else visitors_b[int(client_id[2])]
        ack = await sender.call("message", payload)
        assert ack["ok"], ack
        if client_id.endswith("-lost-ack"):     # stored by the dead node: the live one answers with that row
            assert ack["duplicate"] is True, (client_id, ack)
        acked.setdefault(client_id, (ack["conversation_id"], ack["seq"]))
        assert acked[client_id] == (ack["conversation_id"], ack["seq"]), (client_id, ack)

    for cid in {cid for cid, _ in acked.values()}:
        stored = await store.read(conv_queries.messages_after, cid, 0, True)
        assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1)), cid     # gapless, in order
        by_client = [m["client_id"] for m in stored if m.get("client_id")]
        assert len(by_client) == len(set(by_client)), cid                            # each stored once
        seq_of = {m["client_id"]: m["seq"] for m in stored if m.get("client_id")}
        for client_id, (acked_cid, seq) in acked.items():
            if acked_cid == cid:
                assert seq_of.get(client_id) == seq, (client_id, seq, seq_of.get(client_id))
    print(f"\n{len(acked)} acked messages ({before_kill} before the kill), {len(unacked)} unacked and resent; "
          f"calls cut off for {cut_off_for:.2f} s after kill -9; then through nginx to a live node: the agent's "
          f"login and session in {agent_took * 1000:.0f} ms, 3 visitors' resumed sessions in "
          f"{visitors_took * 1000:.0f} ms (one after another)")

    # The dead node's presence runs out (NODE_TTL_SECONDS, 10 s) and the grace period after it: the agent, back on
    # another node, keeps every chat.
    await asyncio.sleep(10 + GRACE_SECONDS + 2 - (time.monotonic() - killed_at))
    for cid in cids_a:
        conversation = await store.read(conv_queries.get_conversation, cid)
        assert conversation["status"] == "assigned" and conversation["agent_id"] == xavier["id"], conversation
    assert not agent_back.of("unassigned")


async def test_long_polling_clients_stay_on_their_node_and_limits_count_each_visitor_not_the_proxy(node_cluster):
    """Without stickiness, Engine.IO's polling requests of one session would reach other nodes ("Invalid session");
    without X-Forwarded-For (from a trusted proxy) every visitor would be 127.0.0.1, the nginx, and one visitor per
    minute per address would mean one visitor in all."""
    import aiohttp
    import socketio
    from support.server import Recorder

    # A short ping interval: a polling client's disconnect waits for its pending long poll to return.
    cluster = await node_cluster(3, CHAT_BOT_ENABLED="false", CHAT_NEW_VISITORS_PER_MINUTE_PER_IP="1",
                                 CHAT_PING_INTERVAL_SECONDS="1", CHAT_PING_TIMEOUT_SECONDS="2")
    for n, node in enumerate(cluster.nodes):
        source = await cluster.source_for(node)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))
        visitor = Recorder("/visitor", http_session=http)
        visitor.http = http
        cluster.clients.append(visitor)
        await visitor.sio.connect(cluster.nginx.url, namespaces=["/visitor"], transports=["polling"],
                                  auth={"visitor_token": None}, wait_timeout=5)
        await visitor.wait_for("session")
        for i in range(5):      # each call is a POST and an answer on a long poll, through nginx
            ack = await visitor.call("message", {"client_id": f"p{i}", "text": f"polling {i}"})
            assert ack["ok"] and ack["seq"] == i + 1, ack
        assert visitor.sio.transport() == "polling" and visitor.sio.connected
        assert cluster.node_of(source) == cluster.address(node)
    # A second new visitor from an address already used this minute is refused: the limit sees the visitor.
    again = Recorder("/visitor", http_session=aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(await cluster.source_for(cluster.nodes[0]), 0))))
    again.http = again.sio.eio.http
    cluster.clients.append(again)
    try:
        await again.connect(cluster.nginx.url, auth={"visitor_token": None})
        refused = None
    except Exception as exc:        # socketio.exceptions.ConnectionError carrying the refusal
        refused = exc
    assert isinstance(refused, socketio.exceptions.ConnectionError), refused


async def test_redis_restarted_under_light_traffic_loses_no_acked_message_and_the_nodes_recover(private_redis,
                                                                                                   node_cluster):
    # private_redis first: it is torn down after the cluster, which deletes its prefix's keys there.
    """A private redis-server (the machine's is never touched) is killed and started again empty while a visitor
    on node a sends a message every 50 ms to an agent on node b. Every acked message is stored once with its seq;
    the others got error acks (storage_error) and were not stored; after Redis is back the same nodes, never
    restarted, ack again and carry messages across nodes again; the error-acked ones resent are stored once."""
    from chatserver.store import conversations as conv_queries

    cluster = await node_cluster(2, redis_url=private_redis.url, CHAT_BOT_ENABLED="false")
    a, b = cluster.nodes
    on_a, on_b = await cluster.source_for(a), await cluster.source_for(b)
    await cluster.create_agent("dana@example.com", "Dana")
    console = await cluster.agent(on_b, "dana@example.com")
    visitor = await cluster.visitor(on_a)
    first = await visitor.call("message", {"client_id": "first", "text": "hello"})
    cid = first["conversation_id"]
    await console.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)

    acked = {"first": first["seq"]}
    refused: list[str] = []
    stop = asyncio.Event()

    async def light_traffic():
        n = 0
        while not stop.is_set():
            client_id = f"t{n}"
            ack = await visitor.call("message", {"client_id": client_id, "text": f"light {n}"}, timeout=10)
            if ack["ok"]:
                acked[client_id] = ack["seq"]
            else:
                assert ack["error"] == "storage_error", ack
                refused.append(client_id)
            n += 1
            await asyncio.sleep(0.05)

    traffic = asyncio.ensure_future(light_traffic())
    await asyncio.sleep(0.5)
    private_redis.stop()
    down_at = time.monotonic()
    await asyncio.sleep(1.5)
    acked_before_back = len(acked)
    private_redis.start()                      # same port, empty: no persistence
    back_at = time.monotonic()
    recovered = None
    while time.monotonic() - back_at < 20:
        await asyncio.sleep(0.1)
        latest = max(acked, key=lambda c: acked[c])
        if len(acked) > acked_before_back and latest.startswith("t") and latest not in ("first",):
            if any(m.get("client_id") == latest for m in console.of("message")):
                recovered = time.monotonic() - back_at     # acked again AND heard on the other node
                break
    stop.set()
    await traffic
    assert recovered is not None, (len(acked), refused, a.log_tail(), b.log_tail())
    assert refused, "no message was sent while Redis was down: the test did not test the outage"
    for client_id in refused:                  # the widget resends what got an error ack
        ack = await visitor.call("message", {"client_id": client_id, "text": "resent"})
        assert ack["ok"], ack
        acked[client_id] = ack["seq"]

    store = await cluster.store()
    stored = await store.read(conv_queries.messages_after, cid, 0, True)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    by_client = [m["client_id"] for m in stored if m["author"] == "visitor"]
    assert sorted(by_client) == sorted(acked), (set(by_client) ^ set(acked))
    assert {m["client_id"]: m["seq"] for m in stored if m["author"] == "visitor"} == acked
    print(f"\nRedis down {back_at - down_at:.1f} s: {len(refused)} messages got storage_error and were resent, "
          f"{len(acked) - len(refused)} acked; nodes acking and relaying again {recovered:.2f} s after Redis was back")
