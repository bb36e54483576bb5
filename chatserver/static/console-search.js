// Finding conversations: the Mine / Unassigned / All lists and the search box with its filters (status, agent,
// label, dates, rating), over the `search` event. A chat you hold opens in the pane; any other opens read-only.
import { $, clear, dateTime, h } from "./console-dom.js";
import { act, getJson, state } from "./console-state.js";

const STATUS_TEXT = { bot: "with the bot", queued: "waiting", assigned: "with an agent", closed: "closed" };
const finder = { view: "mine", more: false, lastId: null, busy: false, filtersLoaded: false };
let openers = { openHeld: () => {}, openReadOnly: () => {} };

function criteria() {
  const payload = { view: finder.view };
  const query = $("find-query").value.trim();
  if (query) payload.query = query;
  for (const [id, name, numeric] of [["find-status", "status"], ["find-agent", "agent_id", true],
    ["find-label", "label_id", true], ["find-from", "from"], ["find-to", "to"], ["find-rating", "rating", true]]) {
    const value = $(id).value;
    if (value) payload[name] = numeric ? Number(value) : value;
  }
  return payload;
}

function resultItem(conversation) {
  const who = conversation.visitor_name || conversation.visitor_email || `Visitor #${conversation.id}`;
  const held = state.conversations.has(conversation.id) && !state.conversations.get(conversation.id).ended;
  const facts = [`#${conversation.id}`, STATUS_TEXT[conversation.status] || conversation.status,
    conversation.agent_name, dateTime(conversation.created_at),
    conversation.rating ? `rated ${conversation.rating}/5` : null,
    conversation.priority && conversation.priority !== "normal" ? conversation.priority : null].filter(Boolean);
  return h("li", {}, h("button", { type: "button", class: "cs-find-item", dataset: { cid: conversation.id },
    onclick: () => (held ? openers.openHeld(conversation.id) : openers.openReadOnly(conversation.id)) },
  h("span", { class: "cs-find-top" }, h("span", { class: "cs-conv-name" }, who), h("span", { class: "cs-find-facts" }, facts.join(" · "))),
  h("span", { class: "cs-find-text", dir: "auto" }, conversation.match ? conversation.match.excerpt : conversation.preview || "(no question)"),
  conversation.labels && conversation.labels.length
    ? h("span", { class: "cs-find-labels" }, conversation.labels.map((name) => h("span", { class: "cs-chip cs-chip-soft" }, name))) : null));
}

async function run({ append = false } = {}) {
  if (finder.busy) return;
  finder.busy = true;
  const payload = criteria();
  if (append && finder.lastId) payload.before_id = finder.lastId;
  const ack = await act("search", payload);
  finder.busy = false;
  const list = $("find-results");
  if (!append) clear(list);
  $("find-error").hidden = ack.ok;
  if (!ack.ok) { $("find-error").textContent = ack.message; $("find-more").hidden = true; return; }
  for (const conversation of ack.conversations) list.append(resultItem(conversation));
  if (!list.children.length) list.append(h("li", { class: "cs-empty" }, payload.query ? "No conversation holds those words." : "No conversations here."));
  finder.more = ack.more;
  finder.lastId = ack.conversations.length ? ack.conversations[ack.conversations.length - 1].id : finder.lastId;
  $("find-more").hidden = !ack.more;
}

async function loadFilters() {
  if (finder.filtersLoaded) return;
  finder.filtersLoaded = true;
  try {
    const [agents, labels] = await Promise.all([getJson("/api/console/agents"), getJson("/api/console/labels")]);
    for (const agent of agents.agents) $("find-agent").append(h("option", { value: String(agent.id) }, agent.name));
    for (const label of labels.labels) $("find-label").append(h("option", { value: String(label.id) }, label.name));
  } catch (err) { finder.filtersLoaded = false; }
}

function selectView(view) {
  finder.view = view;
  for (const button of document.querySelectorAll(".cs-find-view")) button.setAttribute("aria-pressed", String(button.dataset.view === view));
  finder.lastId = null;
  run();
}

export function setupSearch(handlers) {
  openers = handlers;
  for (const button of document.querySelectorAll(".cs-find-view")) button.addEventListener("click", () => selectView(button.dataset.view));
  $("find-form").addEventListener("submit", (event) => { event.preventDefault(); finder.lastId = null; run(); });
  $("find-filters").addEventListener("toggle", () => { if ($("find-filters").open) loadFilters(); });
  $("find-more").addEventListener("click", () => run({ append: true }));
  $("find-reset").addEventListener("click", () => { $("find-form").reset(); finder.lastId = null; run(); });
}

let refreshTimer = null;
/** Run the current list again (after a (re)connect, an assignment, a close), at most twice a second. */
export function refreshSearch() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { finder.lastId = null; run(); }, 500);
}
