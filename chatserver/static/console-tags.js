// Labels and priority of the open conversation, and the note of the transfer that brought it: a priority menu and the label chips, with a list of every label
// (Admin → Settings keeps it) to tick. Changes go out as `priority` / `labels`; other consoles of the agent
// holding the chat hear `conversation_updated`.
import { $, clear, h } from "./console-dom.js";
import { act, getJson, state } from "./console-state.js";

const PRIORITIES = ["urgent", "high", "normal", "low"];
const labelList = { items: [], fetchedAt: 0 };

async function allLabels() {
  if (Date.now() - labelList.fetchedAt > 60000) {
    try {
      labelList.items = (await getJson("/api/console/labels")).labels;
      labelList.fetchedAt = Date.now();
    } catch (err) { /* keep the last list; the menu says when there is none */ }
  }
  return labelList.items;
}

function chip(label) {
  const el = h("span", { class: "cs-label-chip" }, label.name);
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(label.colour || "")) el.style.setProperty("--chip", label.colour);
  return el;
}

function showError(text) {
  $("tags-error").hidden = !text;
  $("tags-error").textContent = text || "";
}

/** The note left for us by the transfer that gave us this chat (kept in the snapshot, so it survives a reload). */
function renderTransferNote(conversation) {
  const note = conversation && conversation.transferNote;
  const mine = note && conversation.conversation && conversation.conversation.agent_id === state.me.id;
  $("pane-transfer-note").hidden = !mine;
  if (!mine) return;
  $("transfer-note-from").textContent = `Note from ${note.by_agent_name || "the agent who transferred it"}:`;
  $("transfer-note-text").textContent = note.text;
}

/** The tags bar of the open conversation (or nothing when none is open), and the transfer note above it. */
export function renderTags(conversation) {
  renderTransferNote(conversation);
  $("pane-tags").hidden = !conversation;
  if (!conversation) return;
  const c = conversation.conversation || {};
  const select = $("priority-select");
  select.value = c.priority || "normal";
  select.disabled = c.status === "closed" || Boolean(conversation.ended && c.status !== "queued");
  const chips = clear($("label-chips"));
  const labels = conversation.labels || [];
  if (!labels.length) chips.append(h("span", { class: "cs-muted" }, "No labels"));
  for (const label of labels) chips.append(chip(label));
  showError("");
}

async function fillLabelMenu() {
  const conversation = state.conversations.get(state.activeId);
  const list = clear($("label-options"));
  const items = await allLabels();
  if (!items.length) { list.append(h("li", { class: "cs-muted" }, "No labels yet: an admin adds them in Settings.")); return; }
  const chosen = new Set((conversation && conversation.labels || []).map((l) => l.id));
  for (const label of items) {
    list.append(h("li", {}, h("label", { class: "cs-label-option" },
      h("input", { type: "checkbox", value: String(label.id), checked: chosen.has(label.id) }), chip(label))));
  }
}

async function saveLabels() {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const ids = [...document.querySelectorAll("#label-options input:checked")].map((el) => Number(el.value));
  const ack = await act("labels", { conversation_id: conversation.id, label_ids: ids });
  if (!ack.ok) { showError(`Could not save the labels: ${ack.message}`); return; }
  conversation.labels = ack.labels;
  $("label-menu").open = false;
  renderTags(conversation);
}

async function savePriority() {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const priority = $("priority-select").value;
  const ack = await act("priority", { conversation_id: conversation.id, priority });
  if (!ack.ok) { showError(`Could not change the priority: ${ack.message}`); renderTags(conversation); return; }
  conversation.conversation = { ...conversation.conversation, priority: ack.priority };
}

/** Another console changed a chat we hold. */
export function applyUpdate(event) {
  const conversation = state.conversations.get(event.conversation_id);
  if (!conversation) return;
  if (event.labels) conversation.labels = event.labels;
  if (event.priority) conversation.conversation = { ...conversation.conversation, priority: event.priority };
  if (conversation.id === state.activeId) renderTags(conversation);
}

export function setupTags() {
  const select = $("priority-select");
  for (const p of PRIORITIES) select.append(h("option", { value: p }, p[0].toUpperCase() + p.slice(1)));
  select.addEventListener("change", savePriority);
  $("label-menu").addEventListener("toggle", () => { if ($("label-menu").open) fillLabelMenu(); });
  $("label-save").addEventListener("click", saveLabels);
}
