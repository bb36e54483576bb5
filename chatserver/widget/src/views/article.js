// An article read inside the widget, with "This solved my question" / "Not what I need" (`article_feedback`).
import { h } from "../../../static/shared.js";
import { backToChat, showView, viewBar } from "../panel.js";
import { SERVER } from "../page.js";
import { isLive, state } from "../state.js";
import { t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";

// The reasons offered for "Not what I need": [string key, the reason sent (English, as the reports show it)].
export const REASONS = [
  ["whyNotAnswer", "it does not answer my question"],
  ["whyUnclear", "it is hard to understand"],
  ["whyDifferent", "my case is different"],
  ["whyOutdated", "it is out of date"],
];

export async function openArticle(slug) {
  const view = ui.article;
  view.textContent = "";
  const title = h("h2", { tabindex: "-1" });
  const body = h("div", { class: "kb" }, h("div", { class: "loading" }, h("span", { class: "spin" })));
  const feedback = h("div", { class: "vfoot", hidden: true },
    h("p", { text: t("helpfulQ") }),
    h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("yes"), onclick: () => articleFeedback(slug, true) }),
      h("button", { class: "btn ghost", type: "button", text: t("no"), onclick: () => askWhy(slug, feedback) })));
  view.append(
    viewBar(h("a", { href: SERVER + "/kb/" + encodeURIComponent(slug), target: "_blank", rel: "noopener", text: t("newTab") })),
    h("div", { class: "scroll" }, title, body), feedback);
  showView("article");
  view.querySelector(".hbtn").focus();
  const ack = await call("article", { slug });
  if (state.view !== "article" || !view.contains(title)) return;
  if (!ack.ok) {
    body.textContent = (ack.error === "article_not_found" && ack.message) || t("articleError");
    return;
  }
  title.textContent = ack.article.title;
  // The one place network HTML is used: article bodies are sanitised by the server (docs/protocol.md).
  body.innerHTML = ack.article.html;
  for (const a of body.querySelectorAll("a[href]")) {
    const url = new URL(a.getAttribute("href"), SERVER);
    const kb = url.origin === SERVER && /^\/kb\/([a-z0-9][a-z0-9-]*)$/.exec(url.pathname);
    if (kb) a.addEventListener("click", (e) => { e.preventDefault(); openArticle(kb[1]); });
    a.href = url.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  for (const img of body.querySelectorAll("img[src]")) img.src = new URL(img.getAttribute("src"), SERVER).href;
  feedback.hidden = !isLive();
  title.focus();
}

/** "Not what I need": why, in one tap (or skip). The reason is sent in English so the reports group it. */
function askWhy(slug, feedback) {
  feedback.textContent = "";
  feedback.append(h("p", { id: "cw-why", text: t("whyQ") }),
    h("div", { class: "actions", role: "group", "aria-labelledby": "cw-why" },
      REASONS.map(([key, reason]) => h("button", { class: "btn ghost", type: "button", text: t(key),
        onclick: () => articleFeedback(slug, false, reason) })),
      h("button", { class: "link", type: "button", text: t("skip"), onclick: () => articleFeedback(slug, false) })));
  feedback.querySelector("button").focus();
}

async function articleFeedback(slug, helpful, reason) {
  for (const b of ui.article.querySelectorAll(".vfoot button")) b.disabled = true;
  await call("article_feedback", reason ? { slug, helpful, reason } : { slug, helpful });
  backToChat();
}
