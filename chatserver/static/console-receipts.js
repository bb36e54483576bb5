// Receipts on seq (docs/protocol.md, "Receipts"): the chat on screen in a visible tab counts as read by the agent it
// is with (reported once per new seq); the visitor's reads show "Seen" under our last reply they cover.
import { h } from "./console-dom.js";
import { contiguousSeq, request, state } from "./console-state.js";

/** Report what the agent has on screen now, if this is their chat and the tab is visible. */
export function reportSeen(conversation) {
  if (!conversation || conversation.id !== state.activeId || document.visibilityState !== "visible") return;
  if (conversation.conversation.agent_id !== state.me.id) return;
  const seq = contiguousSeq(conversation);
  if (!seq || seq <= (conversation.reportedSeen || 0)) return;
  conversation.reportedSeen = seq;
  request("receipt", { conversation_id: conversation.id, seen_seq: seq }).then((ack) => {
    if (!ack.ok && conversation.reportedSeen === seq) conversation.reportedSeen = 0;   // try again next time
  });
}

/** A `receipt` from the visitor's side (or a snapshot's receipts). */
export function takeReceipt(conversation, receipt) {
  if (!conversation || !receipt) return;
  const known = conversation.receipts || {};
  conversation.receipts = { ...known, ...receipt,
    seen_seq: Math.max(known.seen_seq || 0, receipt.seen_seq || 0),
    delivered_seq: Math.max(known.delivered_seq || 0, receipt.delivered_seq || 0) };
  if (conversation.id === state.activeId) renderSeen(conversation);
}

/** "Seen" under the last agent reply at or below the visitor's seen seq. */
export function renderSeen(conversation) {
  document.querySelectorAll("#messages .cs-seen").forEach((el) => el.remove());
  const seen = (conversation && conversation.receipts && conversation.receipts.seen_seq) || 0;
  if (!seen) return;
  let best = null;
  for (const message of conversation.messages.values()) {
    if (message.author === "agent" && !message.private && message.seq <= seen && (!best || message.seq > best.seq)) best = message;
  }
  const element = best && document.querySelector(`#messages [data-seq="${best.seq}"]`);
  if (element) element.append(h("div", { class: "cs-seen", title: "the visitor has seen this reply" }, "Seen"));
}
