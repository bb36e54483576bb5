// Receipts on seq, both ways (docs/protocol.md, "Receipts"): we report the highest seq received (delivered) and the
// highest shown while this tab is visible with the chat in view (seen), at most once a second; the agent's reads
// come back as `receipt` events and show "Seen" under the visitor's last message they cover.
import { h } from "../../static/shared.js";
import { state } from "./state.js";
import { t } from "./strings.js";
import { isConnected, send } from "./transport.js";

const EVERY_MS = 1000;
const sent = { cid: null, delivered: 0, seen: 0 };
let timer = null;
let lastSentAt = 0;

/** The visitor can see the log right now: a visible tab, the panel open, the chat view in front. */
export function chatVisible() {
  return document.visibilityState === "visible" && state.open && state.view === "chat";
}

/** Something may have been delivered or seen (a message shown, the panel opened, the tab became visible). */
export function noteShown() {
  if (state.cid == null || !state.rows.size) return;
  if (chatVisible()) state.seenSeq = Math.max(state.seenSeq || 0, state.maxSeq);
  if (timer) return;
  timer = setTimeout(report, Math.max(0, lastSentAt + EVERY_MS - Date.now()));
}

async function report() {
  timer = null;
  const cid = state.cid;
  if (cid == null || !isConnected() || !state.ready) return;
  if (sent.cid !== cid) Object.assign(sent, { cid, delivered: 0, seen: 0 });
  const delivered = state.maxSeq;
  const seen = Math.min(state.seenSeq || 0, state.maxSeq);
  if (delivered <= sent.delivered && seen <= sent.seen) return;
  const payload = { conversation_id: cid, delivered_seq: delivered };
  if (seen > sent.seen) payload.seen_seq = seen;
  lastSentAt = Date.now();
  try {
    const ack = await send("receipt", payload, 10000);
    if (ack && ack.ok && sent.cid === cid) {
      sent.delivered = Math.max(sent.delivered, ack.delivered_seq);
      sent.seen = Math.max(sent.seen, ack.seen_seq);
    }
  } catch (e) { /* no ack: the next message, reconnect or visibility change reports again */ }
}

/** The agent has read the chat up to `seq` (a `receipt` event, or the session's receipts). */
export function onAgentRead(cid, seq) {
  if (cid !== state.cid || typeof seq !== "number") return;
  state.agentSeenSeq = Math.max(state.agentSeenSeq || 0, seq);
  renderSeen();
}

export function onReceipt(r) {
  if (r && r.reader === "agent") onAgentRead(r.conversation_id, r.seen_seq);
}

/** "Seen" under the visitor's last message the agent has read. */
export function renderSeen() {
  for (const el of state.rows.values()) { const mark = el.querySelector(".seen"); if (mark) mark.remove(); }
  let best = null;
  let bestSeq = 0;
  for (const [seq, el] of state.rows) {
    if (el.dataset.author === "visitor" && seq <= (state.agentSeenSeq || 0) && seq > bestSeq) { best = el; bestSeq = seq; }
  }
  if (best) best.append(h("div", { class: "meta seen", text: t("seen") }));
}

/** A new connection: what this socket sent is forgotten (the server keeps the maxima anyway). */
export function resetReceipts() {
  Object.assign(sent, { cid: null, delivered: 0, seen: 0 });
}
