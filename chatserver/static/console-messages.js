// One element per message: visitor, bot, agent, system and private notes look clearly different.
// Text is always set as text; links are built from the article slug, never taken from the payload.
import { clockTime, h, percent } from "./console-dom.js";
import { attachmentElement } from "./console-files.js";

const BOT_KINDS = {
  suggestions: "suggested articles",
  no_match: "found no article",
  offer_agent: "offered a person",
  resolved_prompt: "asked if that solved it",
  handoff: "handed over to a person",
};

const HANDOFF_REASONS = {
  visitor_asked: "the visitor asked for a person",
  not_helpful: "the suggested articles did not help",
  no_match: "the bot found no article",
};

export function articleHref(slug) {
  return `/kb/${encodeURIComponent(slug || "")}`;
}

function articleCard(card) {
  const explanation = card.explanation || {};
  return h("li", { class: "cs-card" },
    h("div", { class: "cs-card-head" },
      h("a", { href: articleHref(card.slug), target: "_blank", rel: "noopener", class: "cs-card-title" }, card.title || card.slug),
      typeof card.score === "number" ? h("span", { class: "cs-score", title: "match score" }, percent(card.score)) : null),
    explanation.reason ? h("p", { class: "cs-card-why" }, explanation.reason) : null);
}

function meta(author, message, extra) {
  return h("div", { class: "cs-msg-meta" },
    h("span", { class: "cs-msg-author" }, author),
    extra ? h("span", { class: "cs-msg-kind" }, extra) : null,
    h("time", { datetime: new Date((message.created_at || Date.now() / 1000) * 1000).toISOString() },
      clockTime(message.created_at || Date.now() / 1000)));
}

/**
 * The element for a stored message (message.seq set) or a pending one of ours (status "sending"/"failed").
 * myAgentId tells "You" from a colleague.
 */
export function messageElement(message, myAgentId, visitorLabel = "Visitor") {
  const dataset = message.seq ? { seq: message.seq } : { clientId: message.client_id };
  // Who wrote it and when, so consecutive messages of one author are grouped (console-view.js groupWith).
  dataset.who = `${message.author}:${message.agent_id || ""}:${message.private ? "note" : ""}`;
  dataset.at = String(message.created_at || Date.now() / 1000);
  const payload = message.payload || {};

  if (message.author === "system") {
    return h("li", { class: "cs-msg cs-msg-system", dataset },
      h("span", { class: "cs-system-text", dir: "auto" }, message.text), " ", h("time", {}, clockTime(message.created_at)));
  }

  if (message.author === "visitor" && message.kind === "feedback") {
    // The visitor's answer about an article ("Not what I need: it is out of date"): a line, not a question.
    return h("li", { class: "cs-msg cs-msg-system cs-msg-feedback", dataset },
      h("span", { class: "cs-system-text" }, `${visitorLabel}: `, h("span", { dir: "auto" }, message.text)), " ", h("time", {}, clockTime(message.created_at)));
  }

  if (message.author === "visitor" && message.kind === "email" && payload.email) {
    // An answer by email (docs/email.md): the visitor's words, and the whole email as it came, for agents.
    return h("li", { class: "cs-msg cs-msg-visitor cs-msg-email", dataset },
      meta(visitorLabel, message, `by email from ${payload.email.from || "?"}`),
      h("div", { class: "cs-bubble" }, message.text),
      h("details", { class: "cs-email-original" },
        h("summary", {}, "Original email"),
        h("pre", {}, payload.email.original || "")));
  }

  if (message.author === "visitor") {
    return h("li", { class: "cs-msg cs-msg-visitor", dataset },
      meta(visitorLabel, message, message.kind === "attachment" ? "sent a file" : null),
      h("div", { class: "cs-bubble", dir: "auto" }, message.kind === "attachment" && payload.attachment
        ? attachmentElement(payload.attachment) : message.text));
  }

  if (message.author === "bot") {
    const body = [h("p", { class: "cs-bubble-text", dir: "auto" }, message.text)];
    if (message.kind === "suggestions" && Array.isArray(payload.articles)) {
      body.push(h("ul", { class: "cs-cards" }, payload.articles.map(articleCard)));
    }
    if (message.kind === "handoff" && payload.reason) {
      body.push(h("p", { class: "cs-card-why" }, `Why: ${HANDOFF_REASONS[payload.reason] || payload.reason}`));
    }
    return h("li", { class: `cs-msg cs-msg-bot cs-kind-${message.kind}`, dataset },
      meta("Bot", message, BOT_KINDS[message.kind]), h("div", { class: "cs-bubble" }, body));
  }

  // Agent messages: replies, articles and private notes.
  const mine = message.agent_id === myAgentId || message.status;
  const who = mine ? "You" : (message.agent_name || "Agent");
  let element;
  if (message.private || message.kind === "note") {
    element = h("li", { class: "cs-msg cs-msg-note", dataset },
      meta(who, message, "private note · the visitor never sees this"),
      h("div", { class: "cs-bubble", dir: "auto" }, message.text));
  } else if (message.kind === "article") {
    element = h("li", { class: "cs-msg cs-msg-agent cs-msg-article", dataset },
      meta(who, message, "sent an article"),
      h("div", { class: "cs-bubble" },
        h("a", { href: articleHref(payload.slug), target: "_blank", rel: "noopener", class: "cs-card-title" },
          payload.title || message.text),
        payload.excerpt ? h("p", { class: "cs-card-why" }, payload.excerpt) : null));
  } else if (message.kind === "attachment" && payload.attachment) {
    element = h("li", { class: "cs-msg cs-msg-agent", dataset },
      meta(who, message, "sent a file"), h("div", { class: "cs-bubble" }, attachmentElement(payload.attachment)));
  } else {
    element = h("li", { class: "cs-msg cs-msg-agent", dataset },
      meta(who, message), h("div", { class: "cs-bubble", dir: "auto" }, message.text));
  }
  if (mine) element.append(statusElement(message));
  return element;
}

/** "Sending…", "Sent" (stored on the server) or "Not sent" with a retry button. */
export function statusElement(message) {
  const status = message.status || "sent";
  const label = { sending: "Sending…", sent: "Sent", failed: `Not sent: ${message.error || "no answer"}` }[status];
  return h("div", { class: `cs-msg-status cs-status-${status}`, role: status === "failed" ? "alert" : null },
    label, status === "failed" ? h("button", { type: "button", class: "cs-retry", dataset: { retry: message.client_id } }, "Retry") : null);
}
