// The conversation shown: the server's events applied to the state and the log (each message once, in seq order,
// late events of finished conversations ignored), and the visitor's actions on it (ask for a person, end it,
// start a new one, leave contact details).
import { fire } from "./events.js";
import { flush, forgetPending, renderPending } from "./outbox.js";
import { scrollDown, showView } from "./panel.js";
import { state } from "./state.js";
import { persist, stored } from "./storage.js";
import { t } from "./strings.js";
import { call, reconnectWithIdentity } from "./transport.js";
import { flushQuality, replyShown, sessionStarted } from "./quality.js";
import { noteShown, onAgentRead, renderSeen, resetReceipts } from "./receipts.js";
import { showTyping } from "./typing.js";
import { ui } from "./ui.js";
import { renderBadge, render } from "./views/header.js";
import { messageRow, systemLine } from "./views/messages.js";
import { transcriptOffer } from "./views/transcript.js";
import { showSurvey } from "./views/survey.js";

/** Show conversation `cid` (null: none) from an empty log. The one place the shown conversation changes. */
function resetConversation(cid) {
  state.cid = cid;
  state.rows.clear();
  state.maxSeq = 0;
  state.seenSeq = 0;
  state.agentSeenSeq = 0;
  ui.log.textContent = "";
  state.agentName = null;
  state.queue = null;
  persist({ cid });
}

/** Start showing conversation `cid` (a new or another tab's conversation). */
function showConversation(cid) {
  if (!stored().past) persist({ past: true });
  resetConversation(cid);
  if (state.status === "closed" || state.status == null) state.status = "bot";
}

function lastRowBefore(seq) {
  let best = null;
  let bestSeq = -1;
  for (const [s, el] of state.rows) if (s < seq && s > bestSeq) { best = el; bestSeq = s; }
  return best;
}

function firstRowAfter(seq) {
  let best = null;
  let bestSeq = Infinity;
  for (const [s, el] of state.rows) if (s > seq && s < bestSeq) { best = el; bestSeq = s; }
  return best;
}

/** Show one stored message, once, in seq order. `live` messages may count as unread. */
export function addMessage(m, live) {
  if (!m || typeof m.seq !== "number" || typeof m.conversation_id !== "number") return;
  if (m.conversation_id !== state.cid) {
    if (m.conversation_id <= state.floor || (state.cid != null && m.conversation_id < state.cid)) return;
    showConversation(m.conversation_id);
  }
  if (m.client_id) forgetPending(m.client_id);
  if (state.rows.has(m.seq)) return;
  const row = messageRow(m, lastRowBefore(m.seq), true);
  row.dataset.seq = m.seq;
  row.dataset.author = m.author;
  ui.log.insertBefore(row, firstRowAfter(m.seq));
  state.rows.set(m.seq, row);
  state.maxSeq = Math.max(state.maxSeq, m.seq);
  if (m.author === "visitor" && m.seq <= state.agentSeenSeq) renderSeen();
  noteShown();
  if (m.author === "agent") {
    showTyping(false);
    // Who holds the chat comes from the session snapshot and `agent_joined`, never from who wrote last (after a
    // transfer the last agent message may be the previous agent's).
    if (state.status !== "assigned") {
      state.status = "assigned";
      state.agentName = state.agentName || m.agent_name;
      render();
    }
  }
  if (live && m.author !== "visitor" && m.author !== "system") replyShown(m);
  if (live && m.author !== "visitor") {
    if (!state.open) { state.unread += 1; renderBadge(); fire("unread", state.unread); }
    fire("message", { author: m.author, text: m.text, agent_name: m.agent_name || null, kind: m.kind });
  }
}

/** Whether an event names the conversation shown; an event naming a newer one (e.g. created by a request
 * before any message) makes it the one shown. */
function isCurrent(cid) {
  if (typeof cid !== "number") return false;
  if (cid !== state.cid && cid > state.floor && (state.cid == null || cid > state.cid)) showConversation(cid);
  return cid === state.cid;
}

// -- the server's events ------------------------------------------------------------------------------------

export async function onSession(session) {
  const previous = stored().visitor_id;
  if (previous && previous !== session.visitor_id) {
    // Another visitor now (a verified identity named its customer's visitor): nothing of the last one stays.
    resetConversation(null);
    state.status = null;
    state.floor = 0;
    state.hadSession = false;
  }
  persist({ token: session.visitor_token, visitor_id: session.visitor_id });
  // A conversation at or below the floor was closed (this socket may have heard so before the snapshot came):
  // conversations never reopen, so such a snapshot is stale.
  const conversation = session.conversation && session.conversation.id > state.floor ? session.conversation : null;
  if (conversation) {
    if (conversation.id !== state.cid || state.status === "closed") showConversation(conversation.id);
    state.status = conversation.status;
    state.agentName = conversation.agent_name || (conversation.status === "assigned" ? state.agentName : null);
    state.queue = session.queue;
  } else if (state.cid != null) {
    // The conversation ended while we were away.
    state.floor = Math.max(state.floor, state.cid);
    if (state.rows.size && state.status !== "closed") { systemLine(t("ended")); state.status = "closed"; }
    if (!state.rows.size) { resetConversation(null); state.status = null; }
  }
  state.agentsOnline = session.agents_online;
  resetReceipts();
  ui.log.setAttribute("aria-busy", "true");
  for (const m of session.messages || []) addMessage(m, state.hadSession);
  ui.log.setAttribute("aria-busy", "false");
  if (session.survey && !conversation) state.survey = session.survey;
  if (conversation && session.receipts) onAgentRead(conversation.id, session.receipts.agent_seen_seq);
  state.ready = true;
  state.hadSession = true;
  sessionStarted();
  render();
  renderPending();
  scrollDown(true);
  if ((session.messages || []).length >= 1000) catchUp();
  if (state.survey && state.open && state.view === "chat") showSurvey();
  sendContact();
  flush();
  noteShown();
}

/** A session brings at most 1,000 messages: fetch the rest with `sync`. */
async function catchUp() {
  for (let more = true; more && state.cid != null;) {
    const ack = await call("sync", { after_seq: state.maxSeq, conversation_id: state.cid });
    if (!ack.ok) return;
    ack.messages.forEach((m) => addMessage(m, false));
    more = ack.more;
  }
}

export function onMessage(m) {
  addMessage(m, true);
  scrollDown(false);
}

export function onTyping(e) {
  if (e && e.conversation_id === state.cid) showTyping(!!e.typing, e.agent_name);
}

export function onQueue(q) {
  if (!q || !isCurrent(q.conversation_id)) return;
  if (state.status !== "assigned") state.status = "queued";
  state.queue = q;
  state.agentsOnline = q.agents_online;
  render();
  scrollDown(false);
}

export function onAgentJoined(e) {
  if (!e || !isCurrent(e.conversation_id)) return;
  state.status = "assigned";
  state.agentName = e.agent_name;
  state.queue = null;
  render();
  scrollDown(false);
  fire("agent_joined", { agent_name: e.agent_name });
}

export function onClosed(e) {
  if (!e || e.conversation_id !== state.cid) return;
  state.status = "closed";
  state.floor = Math.max(state.floor, e.conversation_id);
  state.queue = null;
  showTyping(false);
  if (state.config && state.config.email) transcriptOffer(e.conversation_id);
  if (e.survey) state.survey = { conversation_id: e.conversation_id, nps: !!e.survey.nps };
  render();
  scrollDown(false);
  if (state.survey && state.open) showSurvey();
  else if (!state.open && state.survey) { state.unread += 1; renderBadge(); fire("unread", state.unread); }
  flushQuality(false);
  fire("conversation_closed", { resolution: e.resolution, closed_by: e.closed_by });
}

// -- the visitor's actions ------------------------------------------------------------------------------------

export async function requestAgent() {
  ui.talk.disabled = true;
  const ack = await call("request_agent", {});
  ui.talk.disabled = false;
  if (!ack.ok) return;
  if (!isCurrent(ack.conversation_id)) return;
  if (state.status !== "assigned") state.status = ack.status;
  if (ack.queue) state.queue = ack.queue;
  if (ack.hours && state.config) state.config.hours = ack.hours;   // closed now: the card offers email instead
  state.agentsOnline = ack.agents_online;
  render();
  scrollDown(true);
}

/** End the chat; with a person in it, only once the visitor confirmed (`confirmed`). */
export async function endChat(confirmed) {
  if (state.status === "closed" || state.status == null) return;
  if (state.status === "assigned" && confirmed !== true) {
    ui.confirmText.textContent = t("endConfirm", { name: state.agentName || t("title") });
    ui.confirm.hidden = false;
    ui.confirmNo.focus();
    return;
  }
  ui.confirm.hidden = true;
  await call("close", {});
}

export function cancelEnd() {
  ui.confirm.hidden = true;
  ui.end.focus();
}

export function newChat() {
  resetConversation(null);
  state.status = null;
  showView("chat");
  render();
  ui.input.focus();
}

/** ChatWidget.identify(): remember the signed-in customer's details and send them once connected. With `id` and
 * the host server's `signature` (docs/widget.md, "Verified identity") the identity goes with every connect, and
 * the server makes that customer the same visitor on every browser: the socket reconnects to apply it now. */
export function identify(person) {
  const id = person && typeof person.id === "string" ? person.id.trim() : "";
  const signature = person && typeof person.signature === "string" ? person.signature.trim() : "";
  if (id && signature) {
    const identity = { id, signature,
      name: typeof person.name === "string" ? person.name.trim() : undefined,
      email: typeof person.email === "string" ? person.email.trim() : undefined };
    const known = stored().identity;
    if (!known || known.id !== id || known.signature !== signature || known.email !== identity.email ||
        known.name !== identity.name) {
      persist({ identity });
      reconnectWithIdentity();
    }
  }
  const email = person && typeof person.email === "string" ? person.email.trim() : "";
  if (!email) return;
  const name = person && typeof person.name === "string" ? person.name.trim() : "";
  const known = stored().contact;
  if (known && known.sent && known.email === email && (known.name || "") === name) return;
  persist({ contact: { email, name, sent: false } });
  sendContact();
}

function sendContact() {
  const contact = stored().contact;
  if (!contact || contact.sent || !contact.email || !state.ready) return;  // ready: a session on a live socket
  call("contact", { email: contact.email, name: contact.name || undefined }).then((ack) => {
    if (ack.ok) persist({ contact: { email: ack.email, name: ack.name, sent: true } });
    else if (ack.error !== "timeout") { console.warn("ChatWidget.identify:", ack.message); persist({ contact: null }); }
  });
}
