// The panel: open and close (focus goes in and back to the launcher), which view shows, scrolling, the composer's
// height, the bar on top of the article, survey and previous-chats views.
import { h } from "../../static/shared.js";
import { fire } from "./events.js";
import { icon } from "./icons.js";
import { noteShown } from "./receipts.js";
import { isLive, state } from "./state.js";
import { sessionFlag } from "./storage.js";
import { t } from "./strings.js";
import { connect } from "./transport.js";
import { ui } from "./ui.js";
import { renderBadge } from "./views/header.js";
import { showSurvey } from "./views/survey.js";

export function open() {
  if (!state.started) { state.openWhenReady = true; return; }
  state.open = true;
  sessionFlag("open", true);
  ui.panel.hidden = false;
  ui.frame.classList.add("open");
  ui.launcher.setAttribute("aria-expanded", "true");
  state.unread = 0;
  renderBadge();
  connect();
  if (state.survey && state.view === "chat" && !isLive()) showSurvey();
  else if (state.view === "chat") { scrollDown(true); ui.input.focus({ preventScroll: true }); }
  noteShown();
  fire("open");
}

export function close() {
  if (!state.open) return;
  const hadFocus = !!ui.root.activeElement;
  state.open = false;
  sessionFlag("open", false);
  ui.panel.hidden = true;
  ui.frame.classList.remove("open");
  ui.launcher.setAttribute("aria-expanded", "false");
  renderBadge();
  if (hadFocus) ui.launcher.focus();
  fire("close");
}

export function toggle() {
  if (state.open) close();
  else open();
}

export function showView(name) {
  state.view = name;
  ui.chat.hidden = name !== "chat";
  ui.article.hidden = name !== "article";
  ui.surveyView.hidden = name !== "survey";
  ui.history.hidden = name !== "history";
  noteShown();
}

/** The bar of a view other than the chat: a back button, then `extra` (a title or a link). */
export function viewBar(extra) {
  return h("div", { class: "vbar" },
    h("button", { class: "hbtn", type: "button", "aria-label": t("back"), onclick: backToChat }, icon("back")), extra);
}

export function backToChat() {
  showView("chat");
  scrollDown(true);
  ui.input.focus();
}

export function scrollDown(force) {
  const body = ui.body;
  const nearBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 120;
  if (force || nearBottom) requestAnimationFrame(() => { body.scrollTop = body.scrollHeight; });
}

export function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 128) + "px";
}
