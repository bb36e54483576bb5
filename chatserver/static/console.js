// The agent console's entry point: socket events, the resync after every (re)connect, the connection banner,
// and the wiring of the page. A fresh `session` after a reconnect plus `sync` per conversation bring back the
// queue, the assignments and every missed message, without a reload and without duplicates (seq dedupe).
import { $, h } from "./console-dom.js";
import { setupAlerts } from "./console-alerts.js";
import { tickQueue } from "./console-panels.js";
import { setupComposer, showComposerError } from "./console-composer.js";
import { contiguousSeq, mergeMessages, request, socket, state, upsertSnapshot } from "./console-state.js";
import { afterNewMessages, alertAssignment, endConversation, keepMessagesAtBottom, markActiveRead, openConversation, renderAll,
  renderLists, renderPane, renderPresence, setTyping, setViewActions, toast, viewing } from "./console-view.js";
import * as actions from "./console-actions.js";
import { applyUpdate, setupTags } from "./console-tags.js";
import { refreshSearch, setupSearch } from "./console-search.js";
import { setupFiles } from "./console-files.js";
import { takeReceipt } from "./console-receipts.js";

// -- resync -------------------------------------------------------------------------------------------------

async function syncConversation(conversation) {
  for (let rounds = 0; rounds < 50; rounds += 1) {
    const ack = await request("sync", { conversation_id: conversation.id, after_seq: contiguousSeq(conversation) });
    if (!ack.ok) return;
    const added = mergeMessages(conversation, ack.messages);
    if (added.length) afterNewMessages(conversation, added);
    if (!ack.more) return;
  }
}

/** A chat we held is missing from a fresh session: find out whether it was closed, transferred or requeued. */
async function learnWhatHappened(conversation) {
  const ack = await request("conversation", { conversation_id: conversation.id });
  if (!ack.ok) return;
  const { added } = upsertSnapshot(ack);
  if (added.length) afterNewMessages(conversation, added);
  const { status, agent_id: agentId, agent_name: agentName } = ack.conversation;
  if (status === "assigned" && agentId === state.me.id) return;
  endConversation(conversation, status === "closed"
    ? { label: "Closed", text: "This chat was closed while you were disconnected." }
    : status === "queued"
      ? { label: "Requeued", text: "This chat went back to the queue while you were disconnected." }
      : { label: "Transferred", text: `This chat is now with ${agentName || "another agent"}.` });
}

// -- socket events ------------------------------------------------------------------------------------------

socket.on("session", (session) => {
  const reconnected = state.sessions > 0;
  state.sessions += 1;
  state.me = session.agent;
  state.status = session.status;
  state.queue = { items: session.queue.conversations, receivedAt: Date.now(), agentsOnline: session.queue.agents_online };
  const held = new Set();
  for (const snapshot of session.conversations) {
    held.add(snapshot.conversation.id);
    const { conversation, isNew, added } = upsertSnapshot(snapshot);
    conversation.ended = null;
    if (isNew && reconnected) alertAssignment(conversation, "assigned while you were disconnected");
    else if (!isNew && added.length) afterNewMessages(conversation, added);
  }
  for (const conversation of state.conversations.values()) {
    if (!held.has(conversation.id) && !conversation.ended) learnWhatHappened(conversation);
  }
  if (state.activeId === null && session.conversations.length) state.activeId = session.conversations[0].conversation.id;
  showConnection(null);
  renderAll();
  for (const id of held) syncConversation(state.conversations.get(id));
  refreshSearch();
  actions.retryPending();
  // Back after a drop while online: say so again, so chats that queued up meanwhile are routed to us now.
  if (reconnected && session.status.status === "online") actions.setStatus("online");
  if (!reconnected) openLinkedConversation();
});

/** /console#conversation-42 (the reports link conversation numbers here) opens that conversation to read. */
function openLinkedConversation() {
  const linked = /^#conversation-(\d{1,12})$/.exec(window.location.hash);
  if (linked) actions.showEarlierConversation(Number(linked[1]));
}

socket.on("queue", (queue) => {
  state.queue = { items: queue.conversations, receivedAt: Date.now(), agentsOnline: queue.agents_online };
  renderPresence();
});

socket.on("status", (status) => {
  state.status = status;
  renderPresence();
});

socket.on("assigned", (snapshot) => {
  const { conversation } = upsertSnapshot(snapshot);
  const wasEnded = Boolean(conversation.ended);
  conversation.ended = null;
  // Open it unless the agent is busy in another live chat (a claim always opens what was claimed).
  const active = state.conversations.get(state.activeId);
  const open = state.openWhenAssigned === conversation.id || !active || Boolean(active.ended);
  if (open) state.activeId = conversation.id;
  state.openWhenAssigned = null;
  alertAssignment(conversation, snapshot.reason);
  if (viewing(conversation)) conversation.unread = 0;
  renderLists();
  if (open || (wasEnded && conversation.id === state.activeId)) renderPane();
  syncConversation(conversation);
  refreshSearch();
});

socket.on("unassigned", (event) => {
  const conversation = state.conversations.get(event.conversation_id);
  if (!conversation) return;
  // One plain sentence: who moved it, to whom ("You transferred this chat to Admin.").
  const by = event.by_agent_id === state.me.id ? "You" : event.by_agent_name || "Another agent";
  endConversation(conversation, { label: "Transferred",
    text: `${by} transferred this chat to ${event.to_agent_name || "another agent"}.` });
});

socket.on("conversation_closed", (event) => {
  const conversation = state.conversations.get(event.conversation_id);
  if (!conversation) return;
  const by = conversation.closingByMe ? "you"
    : { visitor: "the visitor", agent: "an agent", system: "the system" }[event.closed_by] || event.closed_by;
  endConversation(conversation, { label: "Closed", text: `Chat closed by ${by}.` });
  syncConversation(conversation);
  refreshSearch();
});

socket.on("conversation_state", (event) => {
  const conversation = state.conversations.get(event.conversation_id);
  if (!conversation) return;
  conversation.lifecycle = event.state;
  const until = event.snoozed_until ? ` until ${new Date(event.snoozed_until * 1000).toLocaleTimeString()}` : "";
  toast(`Chat #${event.conversation_id} is ${event.state}${until} (${event.reason}).`);
});

socket.on("message", (message) => {
  const conversation = state.conversations.get(message.conversation_id);
  if (!conversation) {
    // Its `assigned` snapshot is on the way: keep the message until it arrives.
    const waiting = state.orphans.get(message.conversation_id) || [];
    state.orphans.set(message.conversation_id, [...waiting, message].slice(-200));
    return;
  }
  const added = mergeMessages(conversation, [message]);
  if (added.length) afterNewMessages(conversation, added);
});

socket.on("conversation_updated", applyUpdate);
socket.on("receipt", (receipt) => {
  if (receipt.reader === "visitor") takeReceipt(state.conversations.get(receipt.conversation_id), receipt);
});

socket.on("typing", (event) => {
  const conversation = state.conversations.get(event.conversation_id);
  if (conversation && event.author === "visitor") setTyping(conversation, Boolean(event.typing));
});

// -- connection ---------------------------------------------------------------------------------------------

const OFFLINE = "You are offline. The console reconnects and catches up when the network is back.";

function showConnection(text, { canRetry = true } = {}) {
  $("connection-banner").hidden = !text;
  $("connection-text").textContent = text || "";
  $("reconnect-now").hidden = !canRetry;
  document.body.classList.toggle("cs-disconnected", Boolean(text));
}

function sessionEnded() {
  showConnection("Your session has ended. Log in again to keep receiving chats.", { canRetry: false });
  const banner = $("connection-banner");
  if (!banner.querySelector("a")) banner.append(h("a", { href: "/login?next=/console", class: "cs-banner-action" }, "Log in"));
}

function reconnectNow() {
  if (socket.connected) return;
  socket.disconnect();  // drop any pending back-off timer, then try at once
  socket.connect();
}

socket.on("disconnect", (reason) => {
  showConnection(navigator.onLine === false ? OFFLINE
    : "Connection lost. Reconnecting… Nothing is missed: the console catches up when it is back.");
  if (reason === "io server disconnect") setTimeout(reconnectNow, 2000);  // socket.io does not retry these itself
});

/** The documented code of a refused connect: in `data`, or inside the message as python-socketio sends it
 *  today ("{'error': 'unauthorized', ...}"). */
function refusalCode(err) {
  if (err && err.data && typeof err.data.error === "string") return err.data.error;
  const match = err && typeof err.message === "string" && err.message.match(/['"]error['"]: ['"]([a-z_]+)['"]/);
  return match ? match[1] : null;
}

socket.on("connect_error", (err) => {
  if (refusalCode(err) === "unauthorized") { sessionEnded(); return; }
  showConnection("Cannot reach the server. Retrying…");
  if (!socket.active) setTimeout(reconnectNow, 3000);
});

// The browser knows the network is gone: say so now rather than when the heartbeat times out; back at once.
window.addEventListener("offline", () => { socket.disconnect(); showConnection(OFFLINE); });
window.addEventListener("online", reconnectNow);
window.addEventListener("console:session-ended", sessionEnded);
$("reconnect-now").addEventListener("click", reconnectNow);
document.addEventListener("visibilitychange", markActiveRead);

// -- wiring -------------------------------------------------------------------------------------------------

setViewActions({ claim: actions.claim, sendArticle: actions.sendArticle,
  showEarlierConversation: actions.showEarlierConversation });
for (const button of document.querySelectorAll(".cs-status-btn")) {
  button.addEventListener("click", () => actions.setStatus(button.dataset.status));
}
$("close-chat").addEventListener("click", actions.closeActive);
$("email-transcript").addEventListener("click", actions.emailTranscript);
$("mark-pending").addEventListener("click", () => actions.setLifecycle("pending"));
$("snooze-hour").addEventListener("click", () => actions.setLifecycle("snoozed"));
$("dismiss-chat").addEventListener("click", actions.dismissActive);
$("transfer-open").addEventListener("click", actions.openTransfer);
$("transfer-form").addEventListener("submit", actions.confirmTransfer);
$("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
$("history-close").addEventListener("click", () => $("history-dialog").close());
$("kb-form").addEventListener("submit", actions.searchKb);
$("messages").addEventListener("click", (event) => {
  const button = event.target.closest("[data-retry]");
  if (button) actions.retry(button.dataset.retry);
});

setupAlerts();
setupTags();
setupFiles({ added: afterNewMessages, error: showComposerError });
setupSearch({ openHeld: openConversation, openReadOnly: actions.showEarlierConversation });
keepMessagesAtBottom();
setupComposer({
  onSend: (conversation, text, mode) => { showComposerError(""); actions.sendMessage(conversation, text, mode); },
  onTyping: (conversationId, typing) => {
    if (socket.connected) socket.emit("typing", { conversation_id: conversationId, typing });
  },
  cannedReplies: actions.cannedReplies,
});
setInterval(tickQueue, 1000);
renderAll();
