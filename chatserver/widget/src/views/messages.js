// Messages as rows: bubbles with links made clickable, the bot's article cards, the resolved prompt's buttons.
// Network text only ever becomes text nodes here.
import { clockTime, h } from "../../../static/shared.js";
import { endChat, requestAgent } from "../conversation.js";
import { botLine, LANG, t } from "../strings.js";
import { ui } from "../ui.js";
import { attachmentView } from "../attachments.js";
import { openArticle, REASONS } from "./article.js";

/** Plain text with http(s) links made clickable; every piece is a text node. */
export function richText(el, text) {
  const re = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    el.append(text.slice(last, m.index),
      h("a", { href: m[0], target: "_blank", rel: "noopener noreferrer nofollow", text: m[0] }));
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
  return el;
}

/** The visitor's answer about an article, in the widget's language ("Not what I need: my case is different"). */
function feedbackText(m) {
  const p = m.payload;
  if (m.author !== "visitor" || m.kind !== "feedback" || !p) return null;
  if (p.say === "helpful") return t("yes") + " (“" + (p.title || "") + "”)";
  const reason = REASONS.find(([, text]) => text === p.reason);
  return t("no") + (reason ? ": " + t(reason[0]) : "") + " (“" + (p.title || "") + "”)";
}

function authorName(m) {
  if (m.author === "agent") return m.agent_name || t("title");
  if (m.author === "bot") return t("assistant");
  return t("you");
}

function articleCard(card) {
  const matched = card.explanation && card.explanation.matched_question;
  return h("button", { class: "card", type: "button", "data-slug": card.slug, onclick: () => openArticle(card.slug) },
    h("b", { text: card.title }),
    card.excerpt ? h("span", { text: card.excerpt }) : null,
    h("small", { text: matched ? t("matches", { q: matched }) : t("read") }));
}

/** One message as a row; `previous` is the row shown before it (same author: no repeated name). A `live` row can
 * act (the resolved prompt's buttons) and says "Sent"; a row of an earlier chat's transcript only shows. */
export function messageRow(m, previous, live) {
  if (m.author === "system") return h("div", { class: "sys", dir: "auto", text: systemText(m) });
  const mine = m.author === "visitor";
  const row = h("div", { class: mine ? "row me" : "row them" });
  const sameAuthor = previous && previous.dataset.author === m.author && previous.dataset.agent === String(m.agent_id || "");
  if (!sameAuthor) row.classList.add("gap");
  if (!mine && !sameAuthor) row.append(h("div", { class: "name", "aria-hidden": "true", text: authorName(m) }));
  row.dataset.author = m.author;
  row.dataset.agent = String(m.agent_id || "");
  const payload = m.payload || {};
  // The text has an element of its own with dir="auto" (Hebrew or Arabic reads right to left, punctuation on the
  // right side); the hidden "You:" before it must not decide the direction.
  const text = h("div", { class: "txt", dir: "auto" });
  const bubble = h("div", { class: "bubble" }, h("span", { class: "sr", text: authorName(m) + ": " }), text);
  // The bot's own lines in the widget's language: the server stores them in English and names each with
  // `payload.say`; unknown names (and English) show the stored text.
  if (m.kind === "attachment" && payload.attachment) bubble.append(attachmentView(payload.attachment));
  else richText(text, (m.author === "bot" && botLine(payload.say)) || feedbackText(m) || m.text || "");
  row.append(bubble);
  if (m.kind === "suggestions" && Array.isArray(payload.articles)) {
    row.append(h("div", { class: "cards" }, payload.articles.map(articleCard)));
  } else if (m.kind === "article" && payload.slug) {
    row.append(h("div", { class: "cards" }, articleCard(payload)));
  } else if (m.kind === "resolved_prompt" && live) {
    row.append(h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("end"), onclick: endChat }),
      h("button", { class: "btn ghost", type: "button", text: t("askMore"), onclick: () => ui.input.focus() })));
  } else if ((m.kind === "no_match" || m.kind === "offer_agent") && payload.offer_agent && live) {
    // The bot asked "Would you like to talk to a person?": answer it in one tap.
    const actions = h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("yesPerson"), onclick: () => { actions.remove(); requestAgent(); } }),
      h("button", { class: "btn ghost", type: "button", text: t("noThanks"), onclick: () => { actions.remove(); ui.input.focus(); } }));
    row.append(actions);
  }
  if (!live) row.append(h("div", { class: "meta", text: clockTime(m.created_at, LANG) }));
  else if (mine) row.append(h("div", { class: "meta", text: clockTime(m.created_at, LANG) + " · " + t("sent") }));
  return row;
}

/** A stored system line in the widget's language: the server names each with `payload.say` (and the names it
 * needs); unknown names show the stored English text. */
function systemText(m) {
  const payload = m.payload || {};
  const known = { joined: "joined", transferred: "transferred", ended: "ended" }[payload.say];
  return known ? t(known, { name: payload.name || "" }) : m.text || "";
}

/** A line of the chat that is not a message ("Dana joined the chat", "This chat has ended"). */
export function systemLine(text) {
  ui.log.append(h("div", { class: "sys", text }));
}
