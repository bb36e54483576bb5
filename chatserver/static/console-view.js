// Keeping the screen in step with the state: the toolbar, the lists, the open conversation, unread counts and
// the alerts for new chats and messages. User actions are wired in through setViewActions.
import { $, clear, clockTime, hue, initials, isNearBottom, visitorName } from "./console-dom.js";
import { beep, notify, setUnreadTitle } from "./console-alerts.js";
import { messageElement } from "./console-messages.js";
import { renderSeen, reportSeen } from "./console-receipts.js";
import { renderBotSuggestions, renderConversationList, renderKbResults, renderQueue, renderRoutingLog,
  renderVisitor } from "./console-panels.js";
import { focusComposer, setComposerConversation } from "./console-composer.js";
import { renderTags } from "./console-tags.js";
import { state } from "./console-state.js";

const TYPING_SHOWN_MS = 8000;   // hide "typing…" if the visitor's "stopped" never arrives
const actions = { claim: () => {}, sendArticle: () => {}, showEarlierConversation: () => {} };

export function setViewActions(handlers) {
  Object.assign(actions, handlers);
}

let toastTimer = null;
export function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// -- unread counts and alerts -------------------------------------------------------------------------------

export function viewing(conversation) {
  return conversation.id === state.activeId && document.visibilityState === "visible";
}

export function updateTitle() {
  let unread = 0;
  for (const conversation of state.conversations.values()) unread += conversation.unread;
  setUnreadTitle(unread);
}

export function alertAssignment(conversation, why) {
  const first = [...conversation.messages.values()].find((m) => m.author === "visitor");
  if (!viewing(conversation)) conversation.unread = Math.max(conversation.unread, 1);
  beep();
  notify("New chat assigned", `${visitorName(conversation)}: ${first ? first.text : why}`, `conversation-${conversation.id}`,
    () => openConversation(conversation.id));
}

/** Show new messages; count and announce the visitor's when the agent is not looking at that chat. */
export function afterNewMessages(conversation, added) {
  const fromVisitor = added.filter((m) => m.author === "visitor");
  if (fromVisitor.length) setTyping(conversation, false);
  if (fromVisitor.length && !conversation.ended && !viewing(conversation)) {
    conversation.unread += fromVisitor.length;
    const last = fromVisitor[fromVisitor.length - 1];
    beep();
    notify(`New message from ${visitorName(conversation)}`, last.text, `conversation-${conversation.id}`,
      () => openConversation(conversation.id));
  }
  if (conversation.id === state.activeId) {
    const list = $("messages");
    const stick = isNearBottom(list);
    for (const message of added) {
      if (message.client_id) pendingElement(message.client_id)?.remove();
      insertMessage(message, conversation);
    }
    if (added.some((m) => m.kind === "suggestions")) renderBotSuggestions(conversation);
    if (stick) list.scrollTop = list.scrollHeight;
    renderSeen(conversation);
    reportSeen(conversation);
  }
  renderConversations();
  updateTitle();
}

export function setTyping(conversation, typing) {
  clearTimeout(conversation.typingTimer);
  conversation.typing = typing;
  if (typing) conversation.typingTimer = setTimeout(() => setTyping(conversation, false), TYPING_SHOWN_MS);
  if (conversation.id === state.activeId) {
    $("typing-text").textContent = `${visitorName(conversation)} is typing…`;
    $("typing").hidden = !typing;
  }
  renderConversations();
}

/** The chat is no longer ours to answer (closed, transferred, requeued): read-only, out of the counts. */
export function endConversation(conversation, ended) {
  conversation.ended = ended;
  conversation.typing = false;
  conversation.unread = 0;
  for (const pending of conversation.pending.values()) {
    pending.status = "failed";
    pending.error = "the chat is no longer yours";
  }
  renderLists();
  if (conversation.id === state.activeId) renderPane();
}

// -- messages -------------------------------------------------------------------------------------------------

function pendingElement(clientId) {
  return document.querySelector(`#messages [data-client-id="${CSS.escape(clientId)}"]`);
}

const GROUP_SECONDS = 300;

/** A message right after another of the same author (within 5 min) shows no name and time of its own; they stay
 * in the element for screen readers and as the bubble's title. */
function groupWith(element) {
  if (!element || !element.dataset.who) return;
  const previous = element.previousElementSibling;
  const continued = Boolean(previous && previous.dataset.who === element.dataset.who
    && !element.dataset.who.startsWith("system") && Number(element.dataset.at) - Number(previous.dataset.at) < GROUP_SECONDS);
  element.classList.toggle("cs-msg-cont", continued);
  const time = element.querySelector(".cs-msg-meta time");
  const bubble = element.querySelector(".cs-bubble");
  if (bubble && time) bubble.title = continued ? time.textContent : "";
}

function insertMessage(message, conversation) {
  const list = $("messages");
  const element = messageElement(message, state.me.id, visitorName(conversation));
  if (!message.seq) list.append(element);
  else {
    const after = [...list.children].find((el) => !el.dataset.seq || Number(el.dataset.seq) > message.seq);
    list.insertBefore(element, after || null);
  }
  groupWith(element);
  groupWith(element.nextElementSibling);
}

/** One of our messages on its way (or failed): shown at the bottom with its status. */
export function showPending(conversation, pending) {
  if (conversation.id !== state.activeId) return;
  const existing = pendingElement(pending.client_id);
  const element = messageElement(pending, state.me.id);
  if (existing) { existing.replaceWith(element); groupWith(element); groupWith(element.nextElementSibling); }
  else { insertMessage(pending, conversation); $("messages").scrollTop = $("messages").scrollHeight; }
}

// -- panels ---------------------------------------------------------------------------------------------------

function renderToolbar() {
  const status = state.status;
  if (!status) return;
  for (const button of document.querySelectorAll(".cs-status-btn")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === status.status));
  }
  $("capacity").textContent = `${status.open_chats} of ${status.max_chats} chats`;
  $("capacity").classList.toggle("cs-capacity-full", status.open_chats >= status.max_chats);
  const online = state.queue.agentsOnline;
  $("agents-online").textContent = `${online} agent${online === 1 ? "" : "s"} online`;
}

/** The toolbar and the queue (status, load or queue changed). */
export function renderPresence() {
  renderToolbar();
  const canClaim = Boolean(state.status) && state.status.open_chats < state.status.max_chats;
  renderQueue(state.queue, { canClaim, onClaim: actions.claim });
}

function renderConversations() {
  renderConversationList(state.conversations, state.activeId, openConversation, state.me.id);
}

/** Everything but the conversation pane (which is re-rendered only when the open chat changes). */
export function renderLists() {
  renderPresence();
  renderConversations();
  updateTitle();
}

export function renderKbPanel() {
  const conversation = state.conversations.get(state.activeId);
  // Results belong to the conversation they were searched for: another one starts with an empty search.
  if (state.kbFor !== state.activeId) {
    state.kbResults = [];
    state.kbFor = state.activeId;
    $("kb-query").value = "";
    $("kb-status").hidden = true;
  }
  renderKbResults(state.kbResults, { canSend: Boolean(conversation && !conversation.ended), onSend: actions.sendArticle });
}

let closeTimer = null;
/** Closing takes two clicks: "Close chat", then "Confirm close" within 4 s. Returns true on the second. */
export function confirmClose() {
  const button = $("close-chat");
  if (button.classList.contains("cs-armed")) { disarmClose(); return true; }
  button.classList.add("cs-armed");
  button.textContent = "Confirm close";
  closeTimer = setTimeout(disarmClose, 4000);
  return false;
}

function disarmClose() {
  clearTimeout(closeTimer);
  $("close-chat").textContent = "Close chat";
  $("close-chat").classList.remove("cs-armed");
}

export function renderPane() {
  const conversation = state.conversations.get(state.activeId) || null;
  $("pane-empty").hidden = Boolean(conversation);
  $("pane").hidden = !conversation;
  renderVisitor(conversation, actions.showEarlierConversation);
  renderBotSuggestions(conversation);
  renderRoutingLog(conversation);
  renderKbPanel();
  setComposerConversation(conversation);
  renderTags(conversation);
  if (!conversation) return;
  const name = visitorName(conversation);
  $("pane-avatar").textContent = initials(name);
  $("pane-avatar").className = `cs-avatar cs-avatar-large ${hue(conversation.id)}`;
  $("pane-title").textContent = name;
  const c = conversation.conversation;
  $("pane-subtitle").textContent = [`#${conversation.id}`, c.department, c.created_at && `started ${clockTime(c.created_at)}`]
    .filter(Boolean).join(" · ");
  $("pane-ended").hidden = !conversation.ended;
  $("pane-ended").textContent = conversation.ended ? conversation.ended.text : "";
  $("transfer-open").disabled = Boolean(conversation.ended);
  $("close-chat").hidden = Boolean(conversation.ended);
  $("mark-pending").hidden = $("snooze-hour").hidden = Boolean(conversation.ended);
  $("dismiss-chat").hidden = !conversation.ended;
  disarmClose();
  const list = clear($("messages"));
  for (const message of [...conversation.messages.values()].sort((a, b) => a.seq - b.seq)) insertMessage(message, conversation);
  for (const pending of conversation.pending.values()) insertMessage(pending, conversation);
  list.scrollTop = list.scrollHeight;
  $("typing-text").textContent = `${name} is typing…`;
  $("typing").hidden = !conversation.typing;
  renderSeen(conversation);
  reportSeen(conversation);
}

export function renderAll() {
  renderLists();
  renderPane();
}

export function openConversation(id) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  state.activeId = id;
  if (document.visibilityState === "visible") conversation.unread = 0;
  renderConversations();
  renderPane();
  updateTitle();
  focusComposer();
}

/** Keep the newest message in view when the list changes size (banner, typing line, window) if it was. */
export function keepMessagesAtBottom() {
  const list = $("messages");
  let atBottom = true;
  list.addEventListener("scroll", () => { atBottom = isNearBottom(list, 24); });
  new ResizeObserver(() => { if (atBottom) list.scrollTop = list.scrollHeight; }).observe(list);
}

/** Back in the tab: what is on screen counts as read. */
export function markActiveRead() {
  const conversation = state.conversations.get(state.activeId);
  reportSeen(conversation);
  if (document.visibilityState === "visible" && conversation && conversation.unread) {
    conversation.unread = 0;
    renderConversations();
    updateTitle();
  }
}
