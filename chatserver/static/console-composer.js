// The reply box: Enter sends, Shift+Enter adds a line, "/" opens the canned replies, replies (not notes) tell
// the visitor that the agent is typing. Drafts are kept per conversation.
import { $, clear, h } from "./console-dom.js";
import { lengthNote } from "./shared.js";

const TYPING_EVERY_MS = 2000;   // the protocol asks for at most one typing event per 2 s
const TYPING_IDLE_MS = 3000;

let hooks = null;
let current = null;             // the conversation state the box writes to
let canned = { open: false, items: [], index: 0, start: 0, end: 0 };
let typing = { conversationId: null, sentAt: 0, timer: null };

const textarea = () => $("reply-text");

export function composerMode() {
  return document.querySelector("#composer input[name=mode]:checked").value;
}

function setMode(mode) {
  document.querySelector(`#composer input[name=mode][value=${mode}]`).checked = true;
  $("composer").classList.toggle("cs-composer-note", mode === "note");
  textarea().placeholder = mode === "note"
    ? "Write a private note (only agents see it)…"
    : "Write a reply…  (/ for canned replies)";
  $("send").textContent = mode === "note" ? "Add note" : "Send";
}

// -- typing -------------------------------------------------------------------------------------------------

function stopTyping() {
  clearTimeout(typing.timer);
  if (typing.conversationId !== null) hooks.onTyping(typing.conversationId, false);
  typing = { conversationId: null, sentAt: 0, timer: null };
}

function noteTyping() {
  if (!current || composerMode() !== "reply" || !textarea().value.trim()) {
    if (typing.conversationId !== null) stopTyping();
    return;
  }
  const now = Date.now();
  if (typing.conversationId !== current.id || now - typing.sentAt > TYPING_EVERY_MS) {
    if (typing.conversationId !== null && typing.conversationId !== current.id) stopTyping();
    typing.conversationId = current.id;
    typing.sentAt = now;
    hooks.onTyping(current.id, true);
  }
  clearTimeout(typing.timer);
  typing.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

// -- canned replies -----------------------------------------------------------------------------------------

function closeCanned() {
  canned.open = false;
  $("canned-popup").hidden = true;
  textarea().removeAttribute("aria-activedescendant");
}

function renderCanned() {
  const popup = clear($("canned-popup"));
  if (!canned.items.length) {
    popup.append(h("li", { class: "cs-canned-empty" }, "No canned reply matches. Admins add them in Settings."));
  }
  canned.items.forEach((reply, i) => {
    popup.append(h("li", { id: `canned-${i}`, role: "option", class: "cs-canned-item", "aria-selected": String(i === canned.index),
      onmousedown: (event) => { event.preventDefault(); insertCanned(i); } },
    h("span", { class: "cs-canned-shortcut" }, `/${reply.shortcut}`), h("span", { class: "cs-canned-text" }, reply.text)));
  });
  popup.hidden = false;
  if (canned.items.length) {
    textarea().setAttribute("aria-activedescendant", `canned-${canned.index}`);
    const active = $(`canned-${canned.index}`);
    if (active) active.scrollIntoView({ block: "nearest" });
  }
}

async function updateCanned() {
  const box = textarea();
  const before = box.value.slice(0, box.selectionStart);
  const match = before.match(/(^|\s)\/([^\s/]*)$/);
  if (!match || box.selectionStart !== box.selectionEnd) { closeCanned(); return; }
  const query = match[2].toLowerCase();
  const start = before.length - match[2].length - 1;
  const all = await hooks.cannedReplies();
  if (textarea().value.slice(0, textarea().selectionStart) !== before) return;  // typed on meanwhile
  const scored = all
    .map((reply) => {
      const shortcut = reply.shortcut.toLowerCase();
      const rank = shortcut.startsWith(query) ? 0 : shortcut.includes(query) ? 1 : reply.text.toLowerCase().includes(query) ? 2 : 3;
      return { reply, rank };
    })
    .filter((entry) => entry.rank < 3)
    .sort((a, b) => a.rank - b.rank || a.reply.shortcut.localeCompare(b.reply.shortcut))
    .slice(0, 8)
    .map((entry) => entry.reply);
  canned = { open: true, items: scored, index: 0, start, end: box.selectionStart };
  renderCanned();
}

function insertCanned(i) {
  const reply = canned.items[i];
  if (!reply) return;
  const box = textarea();
  box.value = box.value.slice(0, canned.start) + reply.text + box.value.slice(canned.end);
  const caret = canned.start + reply.text.length;
  box.setSelectionRange(caret, caret);
  closeCanned();
  box.focus();
  saveDraft();
  noteTyping();
}

// -- drafts and sending -------------------------------------------------------------------------------------

function saveDraft() {
  if (current) current.draft = { text: textarea().value, mode: composerMode() };
}

/** The counter near the length limit; false when the reply is too long to send (refused, never cut). */
function renderCount() {
  const max = Number(document.querySelector("main[data-max-chars]").dataset.maxChars) || 4000;
  const note = lengthNote(textarea().value, max, {
    count: (n, limit) => `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`,
    over: (n) => `Too long by ${n.toLocaleString("en")} characters: shorten it or send it in parts.`,
  });
  const count = $("reply-count");
  count.hidden = !note.show;
  count.textContent = note.show ? note.text : "";
  count.classList.toggle("cs-count-over", note.over);
  return !note.over;
}

function send() {
  const text = textarea().value.trim();
  if (!current || !text || current.ended) return;
  if (!renderCount()) return;
  hooks.onSend(current, text, composerMode());
  textarea().value = "";
  renderCount();
  saveDraft();
  stopTyping();
  closeCanned();
}

export function showComposerError(message) {
  const error = $("composer-error");
  error.hidden = !message;
  error.textContent = message || "";
}

/** Point the box at another conversation (or none), keeping each one's unsent draft. */
export function setComposerConversation(conversation) {
  const disabled = !conversation || Boolean(conversation.ended);
  if (conversation && conversation === current) {
    // Same chat re-rendered (e.g. it was just closed): keep the text, caret and popup as they are.
    setDisabled(disabled);
    if (disabled) { stopTyping(); closeCanned(); }
    return;
  }
  if (current) {
    saveDraft();
    stopTyping();
  }
  current = conversation;
  closeCanned();
  showComposerError("");
  const draft = (conversation && conversation.draft) || { text: "", mode: "reply" };
  textarea().value = draft.text;
  renderCount();
  setMode(draft.mode);
  setDisabled(disabled);
}

function setDisabled(disabled) {
  textarea().disabled = disabled;
  $("send").disabled = disabled;
  for (const radio of document.querySelectorAll("#composer input[name=mode]")) radio.disabled = disabled;
}

export function focusComposer() {
  if (!textarea().disabled) textarea().focus();
}

export function setupComposer(callbacks) {
  hooks = callbacks;
  const box = textarea();
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", "canned-popup");
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); box.focus(); });
  box.addEventListener("keydown", (event) => {
    if (canned.open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const n = canned.items.length || 1;
        canned.index = (canned.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        renderCanned();
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && canned.items.length && !event.shiftKey) {
        event.preventDefault();
        insertCanned(canned.index);
        return;
      }
      if (event.key === "Escape") { event.preventDefault(); closeCanned(); return; }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  box.addEventListener("input", () => { saveDraft(); noteTyping(); updateCanned(); renderCount(); });
  box.addEventListener("click", () => updateCanned());
  box.addEventListener("blur", () => setTimeout(closeCanned, 150));
  for (const radio of document.querySelectorAll("#composer input[name=mode]")) {
    radio.addEventListener("change", () => { setMode(composerMode()); saveDraft(); noteTyping(); box.focus(); });
  }
  setComposerConversation(null);
}
