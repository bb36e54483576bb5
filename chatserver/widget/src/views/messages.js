// Messages as rows: bubbles with links made clickable, the bot's article cards, the resolved prompt's buttons.
// Network text only ever becomes text nodes here.
import { clockTime, h } from "../../../static/shared.js";
import { endChat } from "../conversation.js";
import { botLine, LANG, t } from "../strings.js";
import { ui } from "../ui.js";
import { attachmentView } from "../attachments.js";
import { openArticle } from "./article.js";

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
  if (m.author === "system") return h("div", { class: "sys", text: m.text });
  const mine = m.author === "visitor";
  const row = h("div", { class: mine ? "row me" : "row them" });
  const sameAuthor = previous && previous.dataset.author === m.author && previous.dataset.agent === String(m.agent_id || "");
  if (!sameAuthor) row.classList.add("gap");
  if (!mine && !sameAuthor) row.append(h("div", { class: "name", "aria-hidden": "true", text: authorName(m) }));
  row.dataset.author = m.author;
  row.dataset.agent = String(m.agent_id || "");
  const payload = m.payload || {};
  const bubble = h("div", { class: "bubble" }, h("span", { class: "sr", text: authorName(m) + ": " }));
  // The bot's own lines in the widget's language: the server stores them in English and names each with
  // `payload.say`; unknown names (and English) show the stored text.
  if (m.kind === "attachment" && payload.attachment) bubble.append(attachmentView(payload.attachment));
  else row.append(richText(bubble, (m.author === "bot" && botLine(payload.say)) || m.text || ""));
  if (m.kind === "attachment") row.append(bubble);
  if (m.kind === "suggestions" && Array.isArray(payload.articles)) {
    row.append(h("div", { class: "cards" }, payload.articles.map(articleCard)));
  } else if (m.kind === "article" && payload.slug) {
    row.append(h("div", { class: "cards" }, articleCard(payload)));
  } else if (m.kind === "resolved_prompt" && live) {
    row.append(h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("end"), onclick: endChat }),
      h("button", { class: "btn ghost", type: "button", text: t("askMore"), onclick: () => ui.input.focus() })));
  }
  if (!live) row.append(h("div", { class: "meta", text: clockTime(m.created_at, LANG) }));
  else if (mine) row.append(h("div", { class: "meta", text: clockTime(m.created_at, LANG) + " · " + t("sent") }));
  return row;
}

/** A line of the chat that is not a message ("Dana joined the chat", "This chat has ended"). */
export function systemLine(text) {
  ui.log.append(h("div", { class: "sys", text }));
}
