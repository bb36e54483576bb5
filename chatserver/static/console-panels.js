// The lists and side panels: the queue, my conversations, visitor details, the bot's suggestions with the
// visitor's feedback, the routing log, knowledge-base results and the transfer list.
import { $, ago, browserSummary, clear, clockTime, dateTime, duration, h, hue, initials, percent, visitorName } from "./console-dom.js";
import { articleHref } from "./console-messages.js";

const FEEDBACK = { opened: "opened it", helpful: "found it helpful", not_helpful: "said it did not help", sent_by_agent: "sent by an agent" };

// -- queue --------------------------------------------------------------------------------------------------

export function renderQueue(queue, { canClaim, onClaim }) {
  const list = clear($("queue-list"));
  $("queue-count").textContent = String(queue.items.length);
  $("queue-empty").hidden = queue.items.length > 0;
  for (const item of queue.items) {
    const suggestions = item.suggestions || [];
    const feedback = item.feedback || [];
    // Compact (about 90 px): one line of facts with the Claim button, the question on up to two lines, what the
    // bot tried on one line (the whole of it in the tooltip), so several waiting chats and "My conversations" fit.
    const question = item.first_question || "(asked for a person before writing)";
    const tried = [
      suggestions.length ? `Bot suggested ${suggestions.map((s) => `${s.slug} ${percent(s.score)}`).join(", ")}` : "",
      ...feedback.map((f) => `${f.slug}: ${FEEDBACK[f.type] || f.type}${f.reason ? ` (“${f.reason}”)` : ""}`),
    ].filter(Boolean).join(" · ");
    list.append(h("li", { class: "cs-queue-item", dataset: { cid: item.conversation_id } },
      h("div", { class: "cs-row" },
        h("span", { class: "cs-wait", dataset: { waited: item.wait_seconds, at: queue.receivedAt } },
          `Waiting ${duration(item.wait_seconds)}`),
        item.department ? h("span", { class: "cs-chip" }, item.department) : h("span", { class: "cs-chip cs-chip-muted" }, "no department"),
        item.priority && item.priority !== "normal" ? h("span", { class: `cs-chip cs-priority cs-priority-${item.priority}` }, item.priority) : null,
        h("span", { class: "cs-position" }, `#${item.position}`),
        h("button", { type: "button", class: "cs-btn cs-btn-primary cs-btn-small cs-claim", disabled: !canClaim,
          title: canClaim ? null : "All your chat slots are taken", onclick: () => onClaim(item.conversation_id) }, "Claim")),
      h("p", { class: "cs-question", dir: "auto", title: question }, question),
      tried ? h("p", { class: "cs-bot-line", title: tried }, tried) : null));
  }
}

/** Advance the "Waiting m:ss" counters without re-rendering the queue. */
export function tickQueue() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".cs-wait")) {
    const waited = Number(el.dataset.waited) + (now - Number(el.dataset.at)) / 1000;
    el.textContent = `Waiting ${duration(waited)}`;
  }
}

// -- my conversations ---------------------------------------------------------------------------------------

function lastMessage(conversation) {
  let last = null;
  for (const message of conversation.messages.values()) {
    if (!last || message.seq > last.seq) last = message;
  }
  return last;
}

/** "You: …" with the text in an element of its own direction (dir="auto"): the label never decides it. */
function preview(message, myAgentId) {
  if (!message) return "";
  const agent = message.agent_id === myAgentId ? "You: " : `${message.agent_name || "Agent"}: `;
  const who = message.private ? "Note: " : { bot: "Bot: ", agent }[message.author] || "";
  return [who, h("span", { class: "cs-preview-text", dir: "auto" }, message.text)];
}

export function renderConversationList(conversations, activeId, onOpen, myAgentId) {
  const list = clear($("conversation-list"));
  const items = [...conversations.values()].sort((a, b) => (a.ended ? 1 : 0) - (b.ended ? 1 : 0) || b.lastActivity - a.lastActivity);
  $("mine-count").textContent = String(items.filter((c) => !c.ended).length);
  $("mine-empty").hidden = items.length > 0;
  for (const conversation of items) {
    const name = visitorName(conversation);
    const last = lastMessage(conversation);
    list.append(h("li", {},
      h("button", { type: "button", class: `cs-conv${conversation.ended ? " cs-conv-ended" : ""}${conversation.unread ? " cs-conv-unread" : ""}`,
        "aria-current": conversation.id === activeId ? "true" : null, dataset: { cid: conversation.id },
        onclick: () => onOpen(conversation.id) },
        h("span", { class: `cs-avatar ${hue(conversation.id)}`, "aria-hidden": "true" }, initials(name)),
        h("span", { class: "cs-conv-body" },
          h("span", { class: "cs-conv-top" },
            h("span", { class: "cs-conv-name" }, name),
            h("time", { class: "cs-conv-time" }, last ? clockTime(last.created_at) : "")),
          h("span", { class: "cs-conv-preview" },
            conversation.typing ? h("em", {}, "typing…") : preview(last, myAgentId))),
        conversation.ended ? h("span", { class: "cs-chip cs-chip-muted" }, conversation.ended.label) : null,
        conversation.unread ? h("span", { class: "cs-unread", "aria-label": `${conversation.unread} unread` }, String(conversation.unread)) : null)));
  }
}

// -- the side panels of the open conversation -----------------------------------------------------------------

export function renderVisitor(conversation, onPrevious) {
  const details = clear($("visitor-details"));
  const previous = clear($("visitor-previous"));
  const visitor = conversation ? conversation.visitor : null;
  $("visitor-empty").hidden = Boolean(visitor);
  details.hidden = !visitor;
  $("visitor-history").hidden = true;
  if (!visitor) return;
  const row = (label, value, title) => [h("dt", {}, label), h("dd", { title: title || null }, value || "–")];
  // The host site's identity: "verified" only with a valid signature (docs/widget.md); a claim is shown as such.
  const identity = visitor.identity;
  const claim = (value, verified) => value ? [value, " ", h("span", {
    class: verified ? "cs-chip cs-verified" : "cs-chip cs-chip-muted cs-unverified" }, verified ? "verified" : "unverified")] : null;
  const identityRows = identity ? [
    ...(identity.verified ? row("Customer", h("span", {}, identity.customer_id, " ",
      h("span", { class: "cs-chip cs-verified" }, "verified"))) : []),
    ...row("Name", identity.name ? h("span", {}, ...claim(identity.name, identity.verified)) : visitor.name),
    ...row("Email", identity.email ? h("span", {}, ...claim(identity.email, identity.email_verified)) : visitor.email),
  ] : [...row("Name", visitor.name), ...row("Email", visitor.email)];
  details.append(
    ...identityRows,
    ...row("Page", visitor.page_url || conversation.conversation.page_url, visitor.page_url),
    ...row("Browser", browserSummary(visitor.user_agent), visitor.user_agent),
    ...row("First seen", visitor.created_at ? `${dateTime(visitor.created_at)} (${ago(visitor.created_at)})` : ""));
  const earlier = (visitor.conversations || []).filter((c) => c.id !== conversation.id);
  $("visitor-history").hidden = earlier.length === 0;
  for (const item of earlier) {
    previous.append(h("li", {},
      h("button", { type: "button", class: "cs-link", onclick: () => onPrevious(item.id) }, `#${item.id}`),
      ` ${dateTime(item.created_at)} · ${item.resolution || item.status}`));
  }
}

/** The bot's suggestions (with score and why) joined with what the visitor did with each article. */
export function renderBotSuggestions(conversation) {
  const list = clear($("bot-suggestions"));
  const cards = new Map();
  const order = [];
  if (conversation) {
    for (const message of conversation.messages.values()) {
      for (const card of (message.kind === "suggestions" && message.payload && message.payload.articles) || []) {
        if (!cards.has(card.slug)) cards.set(card.slug, card);
      }
    }
    for (const event of conversation.articleEvents) {
      if (event.type === "suggested" && !order.includes(event.slug)) order.push(event.slug);
    }
    for (const slug of cards.keys()) if (!order.includes(slug)) order.push(slug);
  }
  $("bot-empty").hidden = order.length > 0;
  for (const slug of order) {
    const card = cards.get(slug) || { slug };
    const events = conversation.articleEvents.filter((e) => e.slug === slug);
    const suggested = events.find((e) => e.type === "suggested");
    const score = card.score ?? (suggested && suggested.score);
    const reactions = events.filter((e) => e.type !== "suggested");
    list.append(h("li", { class: "cs-suggestion" },
      h("div", { class: "cs-card-head" },
        h("a", { href: articleHref(slug), target: "_blank", rel: "noopener", class: "cs-card-title" }, card.title || slug),
        typeof score === "number" ? h("span", { class: "cs-score", title: "match score" }, percent(score)) : null),
      card.explanation && card.explanation.reason ? h("p", { class: "cs-card-why" }, card.explanation.reason) : null,
      reactions.length ? h("ul", { class: "cs-reactions" }, reactions.map((e) =>
        h("li", { class: `cs-feedback cs-feedback-${e.type}` },
          `Visitor ${FEEDBACK[e.type] || e.type}`, e.reason ? `: “${e.reason}”` : "", " ",
          h("time", {}, clockTime(e.created_at))))) : h("p", { class: "cs-muted cs-small" }, "No reaction from the visitor")));
  }
}

export function renderRoutingLog(conversation) {
  const list = clear($("routing-log"));
  for (const event of (conversation && conversation.events) || []) {
    list.append(h("li", {}, h("time", {}, clockTime(event.created_at)), " ", h("strong", {}, event.type), " ", event.reason || ""));
  }
}

export function renderKbResults(results, { canSend, onSend }) {
  const list = clear($("kb-results"));
  for (const card of results) {
    list.append(h("li", { class: "cs-kb-result" },
      h("div", { class: "cs-card-head" },
        h("a", { href: articleHref(card.slug), target: "_blank", rel: "noopener", class: "cs-card-title" }, card.title || card.slug),
        h("span", { class: "cs-score", title: "match score" }, percent(card.score))),
      card.department ? h("span", { class: "cs-chip" }, card.department) : null,
      card.excerpt ? h("p", { class: "cs-card-why" }, card.excerpt) : null,
      h("button", { type: "button", class: "cs-btn cs-btn-secondary cs-btn-small", disabled: !canSend,
        title: canSend ? null : "Open one of your conversations first", onclick: (event) => onSend(card, event.currentTarget) },
      "Send article")));
  }
}

export function renderTransferList(agents) {
  const list = clear($("transfer-agents"));
  let first = true;
  for (const agent of agents) {
    if (agent.me) continue;
    const load = `${agent.open_chats} of ${agent.max_chats} chats`;
    const status = agent.status === "online" ? (agent.available ? "online" : "online, full") : agent.status;
    const input = h("input", { type: "radio", name: "agent", value: agent.id, disabled: !agent.available,
      checked: agent.available && first });
    if (agent.available) first = false;
    list.append(h("li", {}, h("label", { class: `cs-transfer-agent${agent.available ? "" : " cs-disabled"}` },
      input,
      h("span", { class: `cs-dot cs-dot-${agent.status}` }),
      h("span", { class: "cs-transfer-name" }, agent.name),
      h("span", { class: "cs-muted" }, `${status} · ${load}`))));
  }
  if (!list.children.length) list.append(h("li", { class: "cs-empty" }, "There are no other agents."));
}
