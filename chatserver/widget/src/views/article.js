// An article read inside the widget, with "This solved my question" / "Not what I need" (`article_feedback`).
import { h } from "../../../static/shared.js";
import { backToChat, showView, viewBar } from "../panel.js";
import { SERVER } from "../page.js";
import { isLive, state } from "../state.js";
import { t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";

export async function openArticle(slug) {
  const view = ui.article;
  view.textContent = "";
  const title = h("h2", { tabindex: "-1" });
  const body = h("div", { class: "kb" }, h("div", { class: "loading" }, h("span", { class: "spin" })));
  const feedback = h("div", { class: "vfoot", hidden: true },
    h("p", { text: t("helpfulQ") }),
    h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("yes"), onclick: () => articleFeedback(slug, true) }),
      h("button", { class: "btn ghost", type: "button", text: t("no"), onclick: () => articleFeedback(slug, false) })));
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

async function articleFeedback(slug, helpful) {
  for (const b of ui.article.querySelectorAll(".vfoot button")) b.disabled = true;
  await call("article_feedback", { slug, helpful });
  backToChat();
}
