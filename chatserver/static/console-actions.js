// What the agent does: change status, claim, reply / note / send an article (with safe resends), transfer,
// close, search the knowledge base, look at an earlier conversation, fetch the canned replies.
import { $, clear, h, newClientId } from "./console-dom.js";
import { messageElement } from "./console-messages.js";
import { renderTransferList } from "./console-panels.js";
import { act, getJson, mergeMessages, request, state } from "./console-state.js";
import { afterNewMessages, confirmClose, endConversation, renderAll, renderKbPanel, renderPresence, showPending,
  toast } from "./console-view.js";

export async function setStatus(status) {
  const ack = await act("status", { status });
  if (!ack.ok) { toast(`Could not change your status: ${ack.message}`); return; }
  state.status = ack;
  renderPresence();
}

export async function claim(conversationId) {
  state.openWhenAssigned = conversationId;
  const ack = await act("claim", { conversation_id: conversationId });
  if (!ack.ok) {
    state.openWhenAssigned = null;
    toast(ack.error === "not_in_queue" ? "Someone else took that chat." : `Could not claim the chat: ${ack.message}`);
  }
}

function pendingMessage(conversation, kind, text, payload) {
  const pending = { client_id: newClientId(kind[0]), conversation_id: conversation.id, author: "agent", kind, text,
    private: kind === "note", agent_id: state.me.id, agent_name: state.me.name, created_at: Date.now() / 1000,
    status: "sending", payload };
  conversation.pending.set(pending.client_id, pending);
  return pending;
}

export function sendMessage(conversation, text, mode) {
  deliver(conversation, pendingMessage(conversation, mode === "note" ? "note" : "text", text));
}

export function sendArticle(card, button) {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation || conversation.ended) return;
  const pending = pendingMessage(conversation, "article", card.title,
    { slug: card.slug, title: card.title, excerpt: card.excerpt });
  if (button) { button.disabled = true; button.textContent = "Sent"; }
  deliver(conversation, pending);
}

/** Send one of our pending messages; its client_id makes a resend safe (the server answers duplicate: true). */
export async function deliver(conversation, pending) {
  pending.status = "sending";
  showPending(conversation, pending);
  const event = { note: "note", article: "send_article" }[pending.kind] || "message";
  const payload = { conversation_id: conversation.id, client_id: pending.client_id };
  if (pending.kind === "article") payload.slug = pending.payload.slug;
  else payload.text = pending.text;
  const ack = await request(event, payload);
  if (!conversation.pending.has(pending.client_id)) return;  // a sync brought the stored copy first
  if (ack.ok) {
    const stored = { ...pending, id: ack.id, seq: ack.seq, created_at: ack.created_at };
    delete stored.status;
    const added = mergeMessages(conversation, [stored]);
    if (added.length) afterNewMessages(conversation, added);
    return;
  }
  pending.status = "failed";
  pending.error = ack.error === "timeout" ? "waiting for the connection (sent again when it is back)" : ack.message;
  showPending(conversation, pending);
}

/** After a reconnect: send again whatever did not get its ack. */
export function retryPending() {
  for (const conversation of state.conversations.values()) {
    if (conversation.ended) continue;
    for (const pending of conversation.pending.values()) {
      if (pending.status === "failed") deliver(conversation, pending);
    }
  }
}

export function retry(clientId) {
  const conversation = state.conversations.get(state.activeId);
  if (conversation && !conversation.ended && conversation.pending.has(clientId)) {
    deliver(conversation, conversation.pending.get(clientId));
  }
}

export async function closeActive() {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation || !confirmClose()) return;
  conversation.closingByMe = true;
  const ack = await act("close", { conversation_id: conversation.id });
  if (!ack.ok) { conversation.closingByMe = false; toast(`Could not close the chat: ${ack.message}`); return; }
  if (!conversation.ended) endConversation(conversation, { label: "Closed", text: "Chat closed by you." });
}

/** The lifecycle (docs/protocol.md, "Lifecycle"): pending, or snoozed for an hour; the answer is a toast. */
export async function setLifecycle(state_) {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const ack = state_ === "pending"
    ? await act("set_pending", { conversation_id: conversation.id })
    : await act("snooze", { conversation_id: conversation.id, until: Math.floor(Date.now() / 1000) + 3600 });
  if (!ack.ok) toast(`Could not change it: ${ack.message}`);
}

/** Email the active conversation's transcript to the visitor (docs/email.md). */
export async function emailTranscript() {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const ack = await act("send_transcript", { conversation_id: conversation.id });
  toast(ack.ok ? `Transcript queued for ${ack.recipient}.` : `Could not email the transcript: ${ack.message}`);
}

export function dismissActive() {
  state.conversations.delete(state.activeId);
  const next = [...state.conversations.values()].find((c) => !c.ended);
  state.activeId = next ? next.id : null;
  renderAll();
}

export async function openTransfer() {
  $("transfer-error").hidden = true;
  clear($("transfer-agents")).append(h("li", { class: "cs-empty" }, "Loading agents…"));
  $("transfer-dialog").showModal();
  try {
    renderTransferList((await getJson("/api/console/agents")).agents);
  } catch (err) {
    clear($("transfer-agents")).append(h("li", { class: "cs-empty" }, `Could not load the agents: ${err.message}`));
  }
}

export async function confirmTransfer(event) {
  event.preventDefault();
  const chosen = document.querySelector("#transfer-agents input[name=agent]:checked");
  const error = $("transfer-error");
  if (!chosen) { error.hidden = false; error.textContent = "Choose an agent who is online and has a free slot."; return; }
  const payload = { conversation_id: state.activeId, agent_id: Number(chosen.value) };
  const note = $("transfer-note").value.trim();
  if (note) payload.note = note;
  const ack = await act("transfer", payload);
  if (!ack.ok) { error.hidden = false; error.textContent = ack.message; return; }
  $("transfer-note").value = "";
  $("transfer-dialog").close();
}

export async function searchKb(event) {
  event.preventDefault();
  const query = $("kb-query").value.trim();
  const status = $("kb-status");
  if (!query) return;
  status.hidden = false;
  status.textContent = "Searching…";
  const searchedFor = state.activeId;
  const ack = await act("kb_search", { query });
  if (state.activeId !== searchedFor) return;          // the agent moved on to another conversation meanwhile
  if (!ack.ok) { status.textContent = ack.message; return; }
  state.kbResults = ack.results;
  state.kbFor = searchedFor;
  status.hidden = ack.results.length > 0;
  status.textContent = ack.results.length ? "" : "No article matches.";
  renderKbPanel();
}

export async function showEarlierConversation(id) {
  const list = clear($("history-messages"));
  $("history-heading").textContent = `Conversation #${id}`;
  $("history-dialog").showModal();
  const ack = await act("conversation", { conversation_id: id });
  if (!ack.ok) { list.append(h("li", { class: "cs-empty" }, ack.message)); return; }
  for (const message of ack.messages) list.append(messageElement(message, state.me.id));
  if (!ack.messages.length) list.append(h("li", { class: "cs-empty" }, "No messages."));
}

/** The canned replies, fetched again when older than 30 s (admins may have edited them). */
export async function cannedReplies() {
  if (Date.now() - state.canned.fetchedAt > 30000) {
    try {
      state.canned = { items: (await getJson("/api/console/canned-replies")).canned_replies, fetchedAt: Date.now() };
    } catch (err) {
      // Keep what we had; the popup says when there is nothing.
    }
  }
  return state.canned.items;
}
