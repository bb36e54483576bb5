"""`RedisLiveState`: the live state shared by every node of a cluster (CHAT_REDIS_URL), in Redis.

Same interface and meaning as `InProcessLiveState` (live.py); what differs is that several processes read and change
it at once, so each change is one Lua script (Redis runs a script alone, start to end) and every read that must be
consistent is one script or one MULTI. Nothing here is a protocol of our own:

- `routing()` is a redis-py `Lock` (SET NX PX with a random token, released by a compare-and-delete script), held
  by one node at a time across the cluster and renewed while held, so a long routing decision keeps it and a dead
  node loses it after ROUTING_LEASE_SECONDS. Inside, a node-local asyncio.Lock queues this node's own coroutines.
- An agent's open chats are the size of their set of held chats, never a counter that could drift.
- Queue order, positions and wait estimates are the pure functions of chatserver/routing.py over one snapshot, so
  every node computes the same answer.
- Presence: each node counts its own sockets per agent and writes the count under its node id; the node's key
  `node:<id>` expires NODE_TTL_SECONDS after its last heartbeat (every NODE_TTL_SECONDS / 4). An agent is connected
  while some live node counts a socket of theirs. A node that dies stops refreshing: its agents are seen offline
  once its key expires, and the grace sweep (on whichever node leads it) then starts their grace period.
- Rate limits are sliding-window logs in sorted sets (one script: trim, count, add), shared by every node.
- Timed jobs run on the node holding the leader key (SET NX PX, renewed by its holder each tick).
- `load` sets the `loaded` mark. Without it (Redis restarted empty) `routing()` and `allow()` refuse with
  `StorageError` until the timed jobs' leader has rebuilt the state from the database (desk/timed_jobs.py).

Keys (all under `<CHAT_REDIS_PREFIX>:live:`): `agents` (set of ids), `agent:<id>` (hash), `presence:<id>` (hash node
-> sockets), `node:<node>`, `held:<id>` (set of conversation ids), `holder`, `visitor`, `waiting` (JSON
[queued_at, department, priority]), `summary` (JSON), `queue_sent` (hashes by conversation id), `recent_waits` (list, newest
first), `loaded`, `leader`, `lock:routing`, `lock:queue_view`, `limit:<name>:<key>` (sorted set), `visitors:<node>` (set of the visitor ids with a socket on that node, expiring
with the node). The scripts build
key names from that prefix, so a single Redis (or a Sentinel-managed primary) is supported, not Redis Cluster.

Redis errors become `StorageError` (an error ack, `storage_error`): the operation may be retried. The scripts are
in live_redis_scripts.py.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import AsyncIterator

import orjson
from redis.exceptions import LockError, RedisError

from ..errors import StorageError
from ..routing import AgentState, WaitingChat, agents_to_requeue, estimate_wait_seconds, queue_order
from .live import RECENT_WAITS, LiveState
from .live_redis_scripts import ALLOW_SCRIPT, LUA_LIBRARY, SCRIPTS

log = logging.getLogger(__name__)

NODE_TTL_SECONDS = 10.0          # a node not heard from for this long is dead; heartbeat every quarter of it
LEADER_TTL_SECONDS = 5.0         # the timed jobs move to another node this long after their leader died
ROUTING_LEASE_SECONDS = 10.0     # the routing lock's lease, renewed every third of it while held
ROUTING_WAIT_SECONDS = 30.0      # how long an operation waits for the routing lock before failing
LOCK_POLL_SECONDS = 0.005        # redis-py's Lock polls while another node holds it


def _not_loaded() -> StorageError:
    return StorageError("the help desk's shared state is being rebuilt from the database; try again in a moment")


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _agent_state(row: list) -> AgentState:
    aid, name, role, status, max_chats, idle_since, departments, disconnected_at, connected, open_chats = row
    return AgentState(id=int(aid), name=name, role=role, status=status, connected=bool(connected),
                      open_chats=int(open_chats), max_chats=int(max_chats), idle_since=float(idle_since),
                      departments=orjson.loads(departments), disconnected_at=float(disconnected_at)
                      if disconnected_at else None)


def _waiting(entries: dict) -> dict[int, WaitingChat]:
    chats = {}
    for cid, value in entries.items():
        queued_at, department, *rest = orjson.loads(value)     # [queued_at, department, priority]
        chats[int(cid)] = WaitingChat(int(cid), queued_at, department, rest[0] if rest else "normal")
    return chats


class RedisLiveState(LiveState):
    def __init__(self, redis, prefix: str, node_id: str, limits: dict[str, tuple[int, float]], *,
                 node_ttl_seconds: float = NODE_TTL_SECONDS, leader_ttl_seconds: float = LEADER_TTL_SECONDS,
                 routing_lease_seconds: float = ROUTING_LEASE_SECONDS):
        """`prefix` is the cluster's key prefix for the live state (RedisNames.key("live")); `node_id` names this
        process, new at every start."""
        self.redis = redis
        self._base = prefix
        self.node_id = node_id
        self.node_ttl_seconds = node_ttl_seconds
        self.leader_ttl_seconds = leader_ttl_seconds
        self.routing_lease_seconds = routing_lease_seconds
        self._limits = dict(limits)
        self._scripts = {name: redis.register_script(LUA_LIBRARY + body) for name, body in SCRIPTS.items()}
        self._allow = redis.register_script(ALLOW_SCRIPT)
        self._local_sids: dict[int, set[str]] = {}      # this node's agent sockets
        self._visitor_sids: dict[str, set[str]] = {}    # this node's visitor sockets (set `visitors:<node>`)
        self._presence_lock = asyncio.Lock()             # a heartbeat never writes a count older than a change
        self._local_routing = asyncio.Lock()
        self._local_queue_view = asyncio.Lock()
        self._heartbeat: asyncio.Task | None = None

    def _key(self, *parts: object) -> str:
        return ":".join([self._base, *(str(part) for part in parts)])

    # -- talking to Redis: every failure becomes a StorageError ----------------------------------------

    async def _run(self, script: str, *args):
        try:
            return await self._scripts[script](args=[self._base, *args])
        except RedisError as exc:
            raise self._unreachable(exc) from exc

    async def _command(self, method, *args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except RedisError as exc:
            raise self._unreachable(exc) from exc

    async def _snapshot(self, *reads) -> list:
        """Several reads in one MULTI/EXEC: one consistent moment. Each read is (script name, args) or a callable
        queuing a command on the pipeline."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for read in reads:
                    if isinstance(read, tuple):
                        await self._scripts[read[0]](args=[self._base, *read[1]], client=pipe)
                    else:
                        read(pipe)
                return await pipe.execute()
        except RedisError as exc:
            raise self._unreachable(exc) from exc

    @staticmethod
    def _unreachable(exc: Exception) -> StorageError:
        log.warning("the shared live state (Redis) failed: %s", exc)
        return StorageError("the help desk's shared state (Redis) cannot be reached; try again")

    @contextlib.asynccontextmanager
    async def _cluster_lock(self, name: str, local: asyncio.Lock, lease: float, wait: float) -> AsyncIterator[None]:
        """A redis-py Lock held by one node at a time, renewed every third of its lease while held."""
        async with local:
            lock = self.redis.lock(self._key("lock", name), timeout=lease, sleep=LOCK_POLL_SECONDS,
                                   blocking_timeout=wait, thread_local=False)
            if not await self._command(lock.acquire):
                raise StorageError(f"the help desk is busy (no {name} lock within {wait:g} s); try again")
            keeper = asyncio.get_running_loop().create_task(self._renew(lock, lease))
            try:
                yield
            finally:
                keeper.cancel()
                await asyncio.gather(keeper, return_exceptions=True)
                try:
                    await lock.release()
                except (LockError, RedisError) as exc:   # it expired meanwhile (Redis unreachable for a lease)
                    log.warning("the %s lock was lost before its release: %s", name, exc)

    @staticmethod
    async def _renew(lock, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await lock.reacquire()
            except (LockError, RedisError) as exc:
                log.error("could not renew the lock %s: %s", lock.name, exc)

    def _routing_lock(self) -> contextlib.AbstractAsyncContextManager:
        return self._cluster_lock("routing", self._local_routing, self.routing_lease_seconds, ROUTING_WAIT_SECONDS)

    @contextlib.asynccontextmanager
    async def routing(self) -> AsyncIterator[None]:
        """The cluster's routing lock; refused while the state is not loaded (Redis lost it and the leader has not
        rebuilt it yet), so no decision is planned on an empty queue and agent list."""
        async with self._routing_lock():
            if not await self._command(self.redis.exists, self._key("loaded")):
                raise _not_loaded()
            yield

    # -- the node's part --------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._beat()
        self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeats())

    async def close(self) -> None:
        """Stop the heartbeat and leave: this node's agents are offline at once, unless connected elsewhere."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        try:
            async with self._presence_lock:
                await self._scripts["leave"](args=[self._base, self.node_id, time.time()])
                await self.redis.delete(self._key("visitors", self.node_id))
        except RedisError as exc:
            log.warning("could not leave the cluster cleanly (its key expires by itself): %s", exc)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.node_ttl_seconds / 4)
            try:
                await self._beat()
            except Exception as exc:
                log.warning("live-state heartbeat failed: %s", exc)

    async def _beat(self) -> None:
        async with self._presence_lock:
            mine = [value for aid, sids in self._local_sids.items() if sids for value in (aid, len(sids))]
            await self._run("heartbeat", self.node_id, _ms(self.node_ttl_seconds), time.time(), *mine)
            # This node's visitors: the set lives as long as the node's key, so a dead node's visitors drop out.
            await self._command(self.redis.pexpire, self._key("visitors", self.node_id), _ms(self.node_ttl_seconds))

    # -- visitors' sockets --------------------------------------------------------------------------------

    async def visitor_connected(self, visitor_id: str, sid: str) -> None:
        sids = self._visitor_sids.setdefault(visitor_id, set())
        sids.add(sid)
        if len(sids) == 1:
            key = self._key("visitors", self.node_id)
            await self._command(self.redis.sadd, key, visitor_id)
            await self._command(self.redis.pexpire, key, _ms(self.node_ttl_seconds))

    async def visitor_disconnected(self, visitor_id: str, sid: str) -> None:
        sids = self._visitor_sids.get(visitor_id, set())
        sids.discard(sid)
        if not sids:
            self._visitor_sids.pop(visitor_id, None)
            await self._command(self.redis.srem, self._key("visitors", self.node_id), visitor_id)

    async def visitors_connected(self, visitor_ids: list[str]) -> set[str]:
        """Those of `visitor_ids` connected to any live node (one SMISMEMBER per node's set)."""
        if not visitor_ids:
            return set()
        ids = list(visitor_ids)
        found: set[str] = set()
        try:
            async for key in self.redis.scan_iter(match=self._key("visitors", "*"), count=100):
                flags = await self.redis.smismember(key, ids)
                found.update(v for v, flag in zip(ids, flags) if flag)
        except RedisError as exc:
            raise self._unreachable(exc) from exc
        return found

    async def visitor_online(self, visitor_id: str) -> bool:
        """Connected to any live node (a node's set expires with the node)."""
        return visitor_id in await self.visitors_connected([visitor_id])

    async def leads_timed_jobs(self, now: float) -> bool:
        return bool(await self._run("lead", self.node_id, _ms(self.leader_ttl_seconds)))

    async def needs_load(self) -> bool:
        """True once the `loaded` mark is gone: Redis restarted without its data (or was flushed)."""
        return not await self._command(self.redis.exists, self._key("loaded"))

    # -- start ------------------------------------------------------------------------------------------

    async def load(self, agents: list[dict], open_conversations: list[dict], recent_waits: list[float],
                   now: float) -> None:
        """On an empty cluster state (first node, or Redis lost its data), rebuild it from the database. When other
        nodes already keep it, their state is newer than this node's read: only what it lacks is added."""
        async with self._routing_lock():
            fresh = not await self._command(self.redis.exists, self._key("loaded"))
            if fresh:
                await self._clear_conversations()
                current = {str(agent["id"]) for agent in agents}
                for stale in set(await self._command(self.redis.smembers, self._key("agents"))) - current:
                    await self._run("forget", stale)
            for agent in agents:
                await self.remember_agent(agent, now)
            for conversation in open_conversations:
                await self._run("track", *self._track_args(conversation), "0" if fresh else "1")
            holders = {c["agent_id"] for c in open_conversations if c["status"] == "assigned" and c["agent_id"]}
            for agent_id in holders:
                await self._run("mark_gone_if_offline", agent_id, now)
            if fresh:
                await self.set_recent_waits(recent_waits)
                await self._command(self.redis.set, self._key("loaded"), repr(now))

    async def _clear_conversations(self) -> None:
        try:
            held = [key async for key in self.redis.scan_iter(match=self._key("held", "*"), count=500)]
        except RedisError as exc:
            raise self._unreachable(exc) from exc
        names = ("holder", "visitor", "waiting", "summary", "queue_sent", "recent_waits")
        await self._command(self.redis.delete, *(self._key(name) for name in names), *held)

    # -- agents -----------------------------------------------------------------------------------------

    @staticmethod
    def _agent_args(agent: dict) -> list:
        return [agent["id"], agent["name"], agent["role"], agent["max_chats"], orjson.dumps(list(agent["departments"]))]

    async def remember_agent(self, agent: dict, now: float) -> AgentState:
        return _agent_state(await self._run("remember", *self._agent_args(agent), now))

    async def agent_connected(self, agent: dict, sid: str, now: float) -> None:
        async with self._presence_lock:
            sids = self._local_sids.setdefault(agent["id"], set())
            sids.add(sid)
            try:
                await self._run("connect", *self._agent_args(agent), now, self.node_id, len(sids),
                                _ms(self.node_ttl_seconds))
            except StorageError:        # the connect is refused: this socket must not count at the next heartbeat
                sids.discard(sid)
                if not sids:
                    self._local_sids.pop(agent["id"], None)
                raise

    async def agent_disconnected(self, agent_id: int, sid: str, now: float) -> None:
        async with self._presence_lock:
            sids = self._local_sids.get(agent_id, set())
            sids.discard(sid)
            if not sids:
                self._local_sids.pop(agent_id, None)
            await self._run("disconnect", agent_id, self.node_id, len(sids), now)

    async def set_status(self, agent_id: int, status: str, now: float) -> bool:
        changed = await self._run("set_status", agent_id, status, now)
        if changed == -1:
            raise KeyError(agent_id)
        return bool(changed)

    async def forget_agent(self, agent_id: int) -> list[int]:
        async with self._presence_lock:
            self._local_sids.pop(agent_id, None)
            held = await self._run("forget", agent_id)
        return sorted(int(cid) for cid in held)

    async def agent(self, agent_id: int) -> AgentState | None:
        row = await self._run("agents", agent_id)
        return _agent_state(row) if row else None

    async def agents(self) -> list[AgentState]:
        return sorted((_agent_state(row) for row in await self._run("agents")), key=lambda a: a.id)

    async def agents_online(self) -> int:
        return sum(1 for a in await self.agents() if a.available)

    async def agents_gone(self, now: float, grace_seconds: float) -> list[int]:
        """First notices agents of dead nodes (their grace period starts now), then who is gone past it."""
        await self._run("reap", now)
        return agents_to_requeue(await self.agents(), now, grace_seconds)

    # -- conversations ----------------------------------------------------------------------------------

    @staticmethod
    def _track_args(conversation: dict) -> list:
        waiting = orjson.dumps([conversation["queued_at"] or conversation["created_at"], conversation["department"],
                                conversation.get("priority") or "normal"]) \
            if conversation["status"] == "queued" else ""
        return [conversation["id"], conversation["visitor_id"], conversation["status"], waiting,
                conversation.get("agent_id") or ""]

    async def track(self, conversation: dict) -> None:
        await self._run("track", *self._track_args(conversation), "0")

    async def holder(self, conversation_id: int) -> int | None:
        holder = await self._command(self.redis.hget, self._key("holder"), conversation_id)
        return int(holder) if holder is not None else None

    async def visitor_of(self, conversation_id: int) -> str | None:
        return await self._command(self.redis.hget, self._key("visitor"), conversation_id)

    async def held_by(self, agent_id: int) -> list[int]:
        return sorted(int(cid) for cid in await self._command(self.redis.smembers, self._key("held", agent_id)))

    async def assigned(self, conversation: dict, now: float) -> int | None:
        previous = await self._run("assigned", conversation["id"], conversation["agent_id"],
                                   conversation["visitor_id"], now, RECENT_WAITS)
        return int(previous) if previous is not None else None

    async def released(self, conversation: dict, now: float) -> int | None:
        holder = await self._run("released", *self._track_args(conversation), now)
        return int(holder) if holder is not None else None

    # -- the queue --------------------------------------------------------------------------------------

    async def waiting(self) -> list[WaitingChat]:
        chats = _waiting(await self._command(self.redis.hgetall, self._key("waiting")))
        return [chats[cid] for cid in queue_order(list(chats.values()))]

    async def is_waiting(self, conversation_id: int) -> bool:
        return bool(await self._command(self.redis.hexists, self._key("waiting"), conversation_id))

    async def set_summary(self, conversation_id: int, summary: dict) -> None:
        await self._run("set_summary", conversation_id, orjson.dumps(summary))

    async def queue_board(self, now: float) -> list[dict]:
        waiting, summaries = await self._snapshot(lambda p: p.hgetall(self._key("waiting")),
                                                  lambda p: p.hgetall(self._key("summary")))
        chats = _waiting(waiting)
        board = []
        for position, cid in enumerate(queue_order(list(chats.values())), start=1):
            chat = chats[cid]
            summary = orjson.loads(summaries[str(cid)]) if str(cid) in summaries else {}
            board.append({"conversation_id": cid, "position": position, "queued_at": chat.queued_at,
                          "wait_seconds": int(now - chat.queued_at), "department": chat.department,
                          "priority": chat.priority,
                          "first_question": summary.get("first_question"),
                          "suggestions": summary.get("suggestions", []), "feedback": summary.get("feedback", [])})
        return board

    async def _queue_view(self) -> tuple[list[int], list[AgentState], list[float]]:
        """(queue order, agents, recent waits), all from one moment."""
        rows, waiting, recent = await self._snapshot(("agents", []), lambda p: p.hgetall(self._key("waiting")),
                                                     lambda p: p.lrange(self._key("recent_waits"), 0, -1))
        return (queue_order(list(_waiting(waiting).values())), [_agent_state(row) for row in rows],
                [float(w) for w in recent])

    @staticmethod
    def _visitor_queue_state(cid: int, order: list[int], agents: list[AgentState], recent: list[float]) -> dict:
        position = order.index(cid) + 1
        return {"conversation_id": cid, "position": position, "queue_length": len(order),
                "estimated_wait_seconds": estimate_wait_seconds(position, recent, agents),
                "agents_online": sum(1 for a in agents if a.available)}

    async def visitor_queue_state(self, conversation_id: int) -> dict | None:
        order, agents, recent = await self._queue_view()
        if conversation_id not in order:
            return None
        return self._visitor_queue_state(conversation_id, order, agents, recent)

    async def queue_changes(self) -> list[tuple[str, dict]]:
        """As InProcessLiveState's, with "what was last sent" kept in Redis: whichever node computes next compares
        with what any node sent. One node at a time (a lock), so the last computed is the newest state."""
        async with self._cluster_lock("queue_view", self._local_queue_view, 5.0, ROUTING_WAIT_SECONDS):
            order, agents, recent = await self._queue_view()
            sent = await self._command(self.redis.hgetall, self._key("queue_sent"))
            states, keys = {}, {}
            for cid in order:
                state = self._visitor_queue_state(cid, order, agents, recent)
                key = orjson.dumps([state["position"], state["estimated_wait_seconds"], state["agents_online"]])
                if sent.get(str(cid)) != key.decode():
                    states[cid], keys[cid] = state, key
            waiting = set(order)
            stale = [cid for cid in sent if int(cid) not in waiting]
            visitors = await self._command(self.redis.hmget, self._key("visitor"), list(states)) if states else []
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    if keys:
                        pipe.hset(self._key("queue_sent"), mapping=keys)
                    if stale:
                        pipe.hdel(self._key("queue_sent"), *stale)
                    await pipe.execute()
            except RedisError as exc:
                raise self._unreachable(exc) from exc
        return [(visitor_id, state) for visitor_id, state in zip(visitors, states.values()) if visitor_id]

    async def where(self, conversation_id: int) -> dict | None:
        found = await self._run("where", conversation_id)
        if not found:
            return None
        if found[0] == "assigned":
            return {"status": "assigned", "agent_name": found[1] if len(found) > 1 else None}
        return {"status": "queued", "agent_name": None}

    async def set_recent_waits(self, waits: list[float]) -> None:
        key = self._key("recent_waits")
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if waits:
                    pipe.rpush(key, *[repr(float(w)) for w in list(waits)[:RECENT_WAITS]])
                await pipe.execute()
        except RedisError as exc:
            raise self._unreachable(exc) from exc

    # -- rate limits ------------------------------------------------------------------------------------

    async def allow(self, limit: str, key: str, now: float) -> bool:
        count, window = self._limits[limit]
        try:
            allowed = await self._allow(keys=[self._key("limit", limit, key), self._key("loaded")],
                                        args=[repr(now - window), repr(now), count, f"{now!r}:{os.urandom(6).hex()}",
                                              _ms(window)])
        except RedisError as exc:
            raise self._unreachable(exc) from exc
        if allowed == -1:
            raise _not_loaded()
        return bool(allowed)

    async def reset_limit(self, limit: str, key: str) -> None:
        await self._command(self.redis.delete, self._key("limit", limit, key))

