// The visitor's experience of each conversation, measured here and sent in small `quality` reports
// (docs/quality.md, docs/protocol.md): time to connect, reconnects and time disconnected while a chat was open,
// send-to-ack latency, resends and messages not sent, delivery latency of replies (server commit to display,
// corrected by the clock offset estimated from message round trips), replies that arrived in a hidden tab.
// Off with data-quality="off" on the script tag, or when the admin turned measurement off.
import { outbox } from "./outbox.js";
import { ATTRS } from "./page.js";
import { isLive, state } from "./state.js";
import { persist, stored } from "./storage.js";
import { emitVolatile, isConnected, send } from "./transport.js";

const MAX_SAMPLES = 200;          // the server takes at most this many latencies per list
const EVERY_MS = 10000;           // at most one report every 10 s (the server allows 6 a minute)
const SOON_MS = 3000;
let record = null;                // the conversation's figures so far (kept in localStorage across reloads)
let connectStartedAt = null;      // performance.now() when this page first connected
let firstConnectMs = null;
let disconnectedAt = null;        // Date.now() when the socket dropped during a live chat
let offset = null;                // {ms: server clock - our clock, rtt}: from the round trip with the smallest rtt
let timer = null;
let lastSentAt = 0;
let dirty = false;

function on() {
  return ATTRS.quality !== "off" && state.config.quality !== false;
}

function recordFor(cid) {
  if (typeof cid !== "number") return null;
  if (record && record.conversation_id === cid) return record;
  const saved = stored().quality;
  record = saved && saved.conversation_id === cid ? saved : {
    conversation_id: cid, connect_ms: firstConnectMs, reconnects: 0, offline_seconds: 0, ack_ms: [], resends: 0,
    not_sent: 0, delivery_ms: [], clock_offset_ms: null, hidden_replies: 0, replies: 0, unsent: 0,
  };
  return record;
}

function push(list, value) {
  list.push(Math.round(Math.max(0, Math.min(value, 600000))));
  if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
}

function changed() {
  dirty = true;
  if (record) persist({ quality: record });
  schedule(SOON_MS);
}

function schedule(delay) {
  if (timer) return;
  timer = setTimeout(report, Math.max(delay, lastSentAt + EVERY_MS - Date.now()));
}

async function report() {
  timer = null;
  if (!on() || !record || !dirty) return;
  record.unsent = Math.min(outbox().length, 10000);
  if (!isConnected() || !state.ready) { schedule(SOON_MS); return; }
  dirty = false;
  lastSentAt = Date.now();
  try {
    const ack = await send("quality", Object.assign({}, record), 10000);
    if (!ack || !ack.ok) { if (ack && ack.error === "quality_disabled") state.config.quality = false; else dirty = true; }
  } catch (e) {
    dirty = true;
  }
  if (dirty) schedule(SOON_MS);
}

// -- what the other modules tell us ------------------------------------------------------------------------

export function connecting() {
  if (connectStartedAt == null) connectStartedAt = performance.now();
}

/** A `session` arrived: the first one times the connect; one after a drop in a live chat is a reconnect. */
export function sessionStarted() {
  if (firstConnectMs == null && connectStartedAt != null) firstConnectMs = Math.round(performance.now() - connectStartedAt);
  if (!on()) return;
  const r = recordFor(state.cid);
  if (!r) { disconnectedAt = null; return; }
  if (r.connect_ms == null && firstConnectMs != null) { r.connect_ms = firstConnectMs; changed(); }
  if (disconnectedAt != null) {
    r.reconnects += 1;
    r.offline_seconds = Math.round((r.offline_seconds + (Date.now() - disconnectedAt) / 1000) * 10) / 10;
    disconnectedAt = null;
    changed();
  }
}

export function disconnected() {
  if (on() && state.cid != null && isLive() && disconnectedAt == null) disconnectedAt = Date.now();
}

/** A message's ack: `startedAt`/`wallStartedAt` are performance.now() and Date.now() at the emit. */
export function acked(ack, startedAt, wallStartedAt, attempts) {
  if (!on() || !ack || typeof ack.conversation_id !== "number") return;
  const rtt = performance.now() - startedAt;
  if (typeof ack.created_at === "number" && (!offset || rtt < offset.rtt)) {
    // The commit happened somewhere in the round trip: its middle is the best guess (NTP's reasoning).
    offset = { ms: ack.created_at * 1000 - (wallStartedAt + rtt / 2), rtt };
  }
  const r = recordFor(ack.conversation_id);
  push(r.ack_ms, rtt);
  if (attempts > 1 || ack.duplicate) r.resends += 1;
  if (offset) r.clock_offset_ms = Math.round(offset.ms);
  changed();
}

/** The outbox changed (a message queued, sent or refused): the supervisor view hears of stuck messages. */
export function outboxChanged() {
  if (on() && recordFor(state.cid)) changed();
}

export function notSent() {
  if (!on()) return;
  const r = recordFor(state.cid);
  if (r) { r.not_sent += 1; changed(); }
}

/** A reply from the bot or an agent was shown. */
export function replyShown(m) {
  if (!on() || typeof m.created_at !== "number") return;
  const r = recordFor(m.conversation_id);
  if (!r) return;
  r.replies += 1;
  if (document.visibilityState === "hidden") r.hidden_replies += 1;
  push(r.delivery_ms, Date.now() + (offset ? offset.ms : 0) - m.created_at * 1000);
  changed();
}

/** The chat ended (or the page goes away): report now. */
export function flushQuality(leaving) {
  if (!on() || !record || !dirty) return;
  if (leaving) { if (isConnected()) { emitVolatile("quality", Object.assign({}, record)); dirty = false; } return; }
  clearTimeout(timer);
  timer = null;
  schedule(0);
}
