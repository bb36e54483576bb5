#!/usr/bin/env node
// Load generator for the support server (and the bare baseline relay), built on the official socket.io-client.
//
// Usage: node loadgen.js '<json options>'   (benchmarks/run_all.py builds the options; see README there)
//
// Every visitor and agent is its own WebSocket (forceNew), so the server sees V + A real connections.
// Output: one JSON object per line on stdout ({"type": "setup"|"step"|"idle"|"flood"|"error", ...}).
// Bounded: the whole run stops after `deadlineSeconds` whatever happens, and only ever talks to `url`
// (which run_all.py always sets to a loopback address).
"use strict";

const fs = require("fs");
const { io } = require("socket.io-client");

const opts = Object.assign({
  url: "http://127.0.0.1:8080",
  urls: null,                 // several nodes: agent j and visitor i connect to urls[j % n] / urls[i % n] (half each for 2)
  mode: "product",            // "product" | "baseline" (only changes nothing but labels; same protocol)
  visitors: 100,
  agentTokens: [],            // one auth token per agent (product: from POST /login; baseline: any strings)
  connectConcurrency: 100,    // connections being set up at once
  serverPid: 0,               // /proc/<pid> sampled for CPU and RSS
  serverPids: null,           // several server processes: their CPU and RSS are summed
  servicePids: [],            // PostgreSQL backends, redis-server: their CPU summed apart (service_cpu_pct)
  clkTck: 100,
  steps: [],                  // [{rate, seconds}] open loop, in order; or use `search`
  search: null,               // {start, factor, seconds, p99LimitMs, maxSteps}: step the rate up until it fails
  closedSeconds: 0,           // closed loop: every visitor sends its next message when the previous one is acked
  warmupSeconds: 1,           // messages sent in the first second of a step are not counted
  drainSeconds: 5,            // after a step, wait this long for late deliveries before calling them lost
  idle: false,                // only connect the visitors, measure RSS, hold `holdSeconds`, count drops
  holdSeconds: 0,
  flood: null,                // {floodVisitors, floodMessages, stormReconnects, newTokens, seconds, rate}
  deadlineSeconds: 300,
  textBytes: 40,
}, JSON.parse(process.argv[2] || "{}"));

const started = Date.now();
setTimeout(() => { out({ type: "error", error: "deadline", seconds: opts.deadlineSeconds }); process.exit(3); },
  opts.deadlineSeconds * 1000).unref();

function out(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }
function now() { return performance.now(); }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return +sorted[i].toFixed(2);
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99),
    max: s.length ? +s[s.length - 1].toFixed(2) : null };
}

const serverPids = opts.serverPids || (opts.serverPid ? [opts.serverPid] : []);
const nodeUrls = opts.urls && opts.urls.length ? opts.urls : [opts.url];

function pidSample(pids) {
  if (!pids.length) return null;
  try {
    let ticks = 0, rss = 0;
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);  // utime + stime (all threads)
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]);   // kB
    }
    return { t: now(), cpuSeconds: ticks / opts.clkTck, rssKb: rss };
  } catch (e) {
    return null;
  }
}
function procSample() { return pidSample(serverPids); }
function serviceSample() { return pidSample(opts.servicePids || []); }
function cpuBetween(a, b) {
  if (!a || !b) return null;
  return +((100 * (b.cpuSeconds - a.cpuSeconds)) / ((b.t - a.t) / 1000)).toFixed(1);
}

// -- clients --------------------------------------------------------------------------------------------

const sentAt = new Map();      // client_id -> send time (ms)
let deliveries = [];           // {cid, latency}
const errors = {};
function countError(kind) { errors[kind] = (errors[kind] || 0) + 1; }
const allSockets = [];

// Behind nginx's ip_hash a client's node follows its address: client i connects from sourceAddresses[i % n], which
// the harness chose so that the i-th lands on node i % nodes (benchmarks/cluster.py, Nginx.sources).
const sourceAddresses = opts.sourceAddresses || [];
function sourceOf(i) { return sourceAddresses.length ? sourceAddresses[i % sourceAddresses.length] : undefined; }

function connectSocket(namespace, auth, localAddress, node = 0) {
  const socket = io(nodeUrls[node % nodeUrls.length] + namespace, {
    transports: ["websocket"], forceNew: true, reconnection: false, auth, timeout: 20000,
    ...(localAddress ? { localAddress } : {}),
  });
  allSockets.push(socket);
  return socket;
}

function emitAck(socket, event, payload, timeoutMs = 20000) {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, ack) => resolve(err ? { ok: false, error: "ack_timeout" } : ack));
  });
}

function waitEvent(socket, event, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (data) => { clearTimeout(timer); resolve(data); });
    socket.once("connect_error", (err) => { clearTimeout(timer); reject(new Error("connect_error: " + (err && err.message))); });
  });
}

async function startAgent(token, i) {
  const socket = connectSocket("/agent", { token }, sourceOf(i), i);
  await waitEvent(socket, "session");
  socket.on("message", (message) => {
    if (message && message.author === "visitor" && message.client_id) {
      const t0 = sentAt.get(message.client_id);
      if (t0 !== undefined) {
        sentAt.delete(message.client_id);
        deliveries.push({ cid: message.client_id, latency: now() - t0, t: now() });
      }
    }
  });
  socket.on("disconnect", () => countError("agent_disconnect"));
  const ack = await emitAck(socket, "status", { status: "online" });
  if (!ack || !ack.ok) throw new Error("agent status failed: " + JSON.stringify(ack));
  return socket;
}

let visitorDisconnects = 0;
async function startVisitor(i, withChat) {
  const t0 = now();
  const socket = connectSocket("/visitor", { visitor_token: null, last_seq: null }, sourceOf(i), i);
  const session = await waitEvent(socket, "session");
  const connectMs = now() - t0;
  socket.on("disconnect", () => { visitorDisconnects += 1; });
  const visitor = { i, socket, session, connectMs, n: 0, joinedMs: null };
  if (withChat) {
    const joined = waitEvent(socket, "agent_joined", 30000);
    const first = await emitAck(socket, "message", { client_id: `v${i}-0`, text: "How do I return an item?" });
    if (!first || !first.ok) throw new Error("first message failed: " + JSON.stringify(first));
    const handoff = await emitAck(socket, "request_agent", {});
    if (!handoff || !handoff.ok) throw new Error("request_agent failed: " + JSON.stringify(handoff));
    await joined;
    visitor.joinedMs = now() - t0;
  }
  return visitor;
}

async function inBatches(count, concurrency, make) {
  const results = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      results[i] = await make(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

// -- sending ----------------------------------------------------------------------------------------------

const text = "x".repeat(Math.max(1, opts.textBytes - 12));
let ackLatencies = [];
let outstandingAcks = 0;

function send(visitor, counted) {
  visitor.n += 1;
  const cid = `v${visitor.i}-${visitor.n}`;
  const t0 = now();
  if (counted) sentAt.set(cid, t0);
  outstandingAcks += 1;
  return new Promise((resolve) => {
    visitor.socket.timeout(20000).emit("message", { client_id: cid, text: `${visitor.n} ${text}` }, (err, ack) => {
      outstandingAcks -= 1;
      if (err) countError("ack_timeout");
      else if (!ack || !ack.ok) countError("ack_" + (ack && ack.error));
      else if (counted) ackLatencies.push(now() - t0);
      resolve(ack);
    });
  });
}

async function drain(expected) {
  const until = now() + opts.drainSeconds * 1000;
  while (now() < until && (outstandingAcks > 0 || sentAt.size > 0)) await sleep(20);
}

async function openLoopStep(visitors, rate, seconds) {
  deliveries = []; ackLatencies = []; sentAt.clear();
  for (const k of Object.keys(errors)) delete errors[k];
  const cpuStart = process.cpuUsage();
  const p0 = procSample();
  const s0 = serviceSample();
  const t0 = now();
  const warmEnd = t0 + opts.warmupSeconds * 1000;
  let sent = 0, counted = 0, rr = 0;
  let pWarm = null, sWarm = null;
  const end = t0 + seconds * 1000;
  while (true) {
    const t = now();
    if (t >= end) break;
    if (pWarm === null && t >= warmEnd) { pWarm = procSample(); sWarm = serviceSample(); }
    const due = Math.floor((rate * (t - t0)) / 1000) - sent;
    for (let k = 0; k < due; k++) {
      const visitor = visitors[rr++ % visitors.length];
      const isCounted = t >= warmEnd;
      send(visitor, isCounted);
      sent += 1;
      if (isCounted) counted += 1;
    }
    await sleep(1);
  }
  const p1 = procSample();
  const s1 = serviceSample();
  const sendEnd = now();
  await drain();
  const lost = sentAt.size;
  const lat = summary(deliveries.map((d) => d.latency));
  const inWindow = deliveries.filter((d) => d.t <= sendEnd).length;
  const cpuGen = process.cpuUsage(cpuStart);
  return {
    rate, seconds, sent, counted, delivered: lat.n, lost,
    throughput: +(inWindow / ((sendEnd - warmEnd) / 1000)).toFixed(1),
    delivery_ms: lat, ack_ms: summary(ackLatencies), errors: { ...errors },
    server_cpu_pct: cpuBetween(pWarm || p0, p1), server_rss_kb: p1 && p1.rssKb,
    service_cpu_pct: cpuBetween(sWarm || s0, s1),
    loadgen_cpu_pct: +((100 * (cpuGen.user + cpuGen.system) / 1000) / (sendEnd - t0)).toFixed(1),
  };
}

async function closedLoop(visitors, seconds) {
  deliveries = []; ackLatencies = []; sentAt.clear();
  const p0 = procSample();
  const t0 = now();
  const end = t0 + seconds * 1000;
  let acked = 0;
  await Promise.all(visitors.map(async (visitor) => {
    while (now() < end) {
      const ack = await send(visitor, true);
      if (ack && ack.ok) acked += 1; else await sleep(50);
    }
  }));
  const p1 = procSample();
  await drain();
  return { closed: true, seconds, acked, throughput: +(acked / ((now() - t0) / 1000)).toFixed(1),
    delivery_ms: summary(deliveries.map((d) => d.latency)), ack_ms: summary(ackLatencies), lost: sentAt.size,
    errors: { ...errors }, server_cpu_pct: cpuBetween(p0, p1), server_rss_kb: p1 && p1.rssKb };
}


// -- floods from one address (flood option) ----------------------------------------------------------------
// Normal visitors chat at a gentle rate from 127.0.0.1 while one abuser on `flood.address` (127.0.0.2) sends
// thousands of messages without waiting, reconnects over and over, and asks for many new visitor tokens.
async function flood(visitors) {
  const f = Object.assign({ address: "127.0.0.2", messages: 3000, reconnects: 200, newTokens: 200, rate: 10,
    seconds: 6 }, opts.flood);
  const quiet = await openLoopStep(visitors, f.rate, f.seconds);
  out({ type: "flood_phase", phase: "normal", delivery_ms: quiet.delivery_ms, lost: quiet.lost, errors: quiet.errors });

  const abuse = { messages: {}, reconnects: {}, new_tokens: {} };
  const tally = (bucket, key) => { bucket[key] = (bucket[key] || 0) + 1; };
  const abuser = connectSocket("/visitor", { visitor_token: null, last_seq: null }, f.address);
  const abuserSession = await waitEvent(abuser, "session");
  const attacks = [
    (async () => {  // thousands of messages, none awaited before the next
      const acks = [];
      for (let n = 0; n < f.messages; n++) {
        acks.push(emitAck(abuser, "message", { client_id: `flood-${n}`, text: `flood ${n}` }, 30000)
          .then((a) => tally(abuse.messages, a && a.ok ? "ok" : (a && a.error) || "none")));
        if (n % 100 === 99) await sleep(1);
      }
      await Promise.all(acks);
    })(),
    (async () => {  // reconnect storm with one token
      for (let n = 0; n < f.reconnects; n++) {
        const s = connectSocket("/visitor", { visitor_token: abuserSession.visitor_token, last_seq: 0 }, f.address);
        try { await waitEvent(s, "session", 10000); tally(abuse.reconnects, "session"); }
        catch (e) { tally(abuse.reconnects, /rate_limited/.test(e.message) ? "rate_limited" : "refused"); }
        s.disconnect();
      }
    })(),
    (async () => {  // a new anonymous visitor token every time
      await inBatches(f.newTokens, 20, async () => {
        const s = connectSocket("/visitor", { visitor_token: null, last_seq: null }, f.address);
        try { await waitEvent(s, "session", 10000); tally(abuse.new_tokens, "session"); }
        catch (e) { tally(abuse.new_tokens, /rate_limited|too many/.test(e.message) ? "rate_limited" : e.message.slice(0, 60)); }
        s.disconnect();
      });
    })(),
  ];
  const during = await openLoopStep(visitors, f.rate, f.seconds);
  await Promise.all(attacks);
  out({ type: "flood_phase", phase: "during_flood", delivery_ms: during.delivery_ms, lost: during.lost,
    errors: during.errors, server_cpu_pct: during.server_cpu_pct });
  out({ type: "flood", normal_p99_ms: quiet.delivery_ms.p99, flood_p99_ms: during.delivery_ms.p99,
    normal_lost: quiet.lost + during.lost, abuse });
}

// -- runs -------------------------------------------------------------------------------------------------

async function main() {
  const before = procSample();
  if (opts.idle) {
    const visitors = await inBatches(opts.visitors, opts.connectConcurrency, (i) => startVisitor(i, false));
    await sleep(1000);
    const connected = procSample();
    out({ type: "idle", visitors: visitors.length, rss_before_kb: before && before.rssKb,
      rss_after_kb: connected && connected.rssKb,
      per_visitor_kb: before && connected ? +((connected.rssKb - before.rssKb) / visitors.length).toFixed(1) : null,
      connect_ms: summary(visitors.map((v) => v.connectMs)), setup_seconds: +((Date.now() - started) / 1000).toFixed(1) });
    if (opts.holdSeconds > 0) {
      const h0 = procSample();
      await sleep(opts.holdSeconds * 1000);
      const h1 = procSample();
      // Every visitor must still be connected (the client answers each server ping) and answer an event.
      const probes = await inBatches(visitors.length, 500, (i) => emitAck(visitors[i].socket, "typing", { typing: false }, 30000));
      const answered = probes.filter((a) => a && (a.ok || (a.error && a.error !== "ack_timeout"))).length;
      out({ type: "hold", seconds: opts.holdSeconds, still_connected: visitors.filter((v) => v.socket.connected).length,
        disconnects: visitorDisconnects, answered_event: answered, idle_cpu_pct: cpuBetween(h0, h1),
        rss_kb: h1 && h1.rssKb });
    }
    return;
  }

  const agents = await Promise.all(opts.agentTokens.map((token, i) => startAgent(token, i)));
  const setupStart = now();
  const visitors = await inBatches(opts.visitors, opts.connectConcurrency, (i) => startVisitor(i, true));
  const afterSetup = procSample();
  out({ type: "setup", mode: opts.mode, visitors: visitors.length, agents: agents.length,
    setup_seconds: +((now() - setupStart) / 1000).toFixed(1), connect_ms: summary(visitors.map((v) => v.connectMs)),
    joined_ms: summary(visitors.map((v) => v.joinedMs)), rss_kb: afterSetup && afterSetup.rssKb,
    rss_before_kb: before && before.rssKb });
  await sleep(500);

  for (const step of opts.steps) {
    out({ type: "step", ...(await openLoopStep(visitors, step.rate, step.seconds)) });
  }
  if (opts.search) {
    const s = Object.assign({ start: 200, factor: 1.25, seconds: 5, p99LimitMs: 50, maxSteps: 12, refine: true, retry: true }, opts.search);
    let rate = s.start, best = null, failed = null, refined = false;
    for (let k = 0; k < s.maxSteps; k++) {
      const passes = (r) => r.lost === 0 && Object.values(r.errors).reduce((a, b) => a + b, 0) === 0 &&
        r.delivery_ms.p99 !== null && r.delivery_ms.p99 < s.p99LimitMs && r.throughput >= 0.95 * r.rate;
      let result = await openLoopStep(visitors, Math.round(rate), s.seconds);
      result.pass = passes(result);
      out({ type: "step", ...result });
      if (!result.pass && s.retry) {  // the machine is shared: a failing rate gets one more try before it counts
        await sleep(500);
        result = await openLoopStep(visitors, Math.round(rate), s.seconds);
        result.pass = passes(result);
        result.retried = true;
        out({ type: "step", ...result });
      }
      if (result.pass) best = result; else failed = result.rate;
      await sleep(500);
      if (failed === null) { rate *= s.factor; continue; }          // still going up
      if (best === null) { rate /= 2; continue; }                   // even the first rate failed: step down
      if (!s.refine || refined) break;
      refined = true;                                               // one try between the last pass and the failure
      rate = (best.rate + failed) / 2;
      if (rate - best.rate < 0.05 * best.rate) break;
    }
    out({ type: "max", rate: best ? best.rate : 0, best, first_failed: failed });
  }
  if (opts.flood) await flood(visitors);
  if (opts.closedSeconds > 0) {
    out({ type: "step", ...(await closedLoop(visitors, opts.closedSeconds)) });
  }
}

main().then(() => {
  for (const s of allSockets) s.disconnect();
  setTimeout(() => process.exit(0), 200);
}, (err) => {
  out({ type: "error", error: String(err && err.stack || err) });
  for (const s of allSockets) s.disconnect();
  setTimeout(() => process.exit(2), 200);
});
