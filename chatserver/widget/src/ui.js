// The widget's fixed elements: a host element with an open shadow root (the page's CSS and selectors cannot reach
// inside), the launcher and the panel with its four views (chat, article, survey, previous chats). buildUi()
// makes them once at start; every other module reaches them through `ui`.
import { h } from "../../static/shared.js";
import { cancelEnd, endChat, newChat, requestAgent } from "./conversation.js";
import { icon } from "./icons.js";
import { renderCount, submitFiles, submitMessage } from "./outbox.js";
import { close, toggle } from "./panel.js";
import { state } from "./state.js";
import { DIR, LANG, t } from "./strings.js";
import { onInput } from "./typing.js";
import { openHistory } from "./views/history.js";
import WIDGET_CSS from "./widget.css";

export const ui = {};
const PHONE = window.matchMedia("(max-width: 480px)");

/** Build the shadow root and everything in it; returns the host element, not yet in the page. */
export function buildUi() {
  const host = h("div", { "data-chat-widget": "" });
  const root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    // Constructed sheets are not inline styles: a host page's strict style-src CSP does not block them.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h("style", { text: WIDGET_CSS }));
  }
  ui.host = host;
  ui.root = root;

  ui.badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  ui.launcher = h("button", {
    class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "cw-panel", hidden: true,
    onclick: toggle,
  }, icon("chat", "i-chat"), icon("down", "i-close"), ui.badge);

  ui.avatar = h("div", { class: "av", "aria-hidden": "true" });
  ui.title = h("h2", { class: "title" });
  ui.sub = h("p", { class: "sub" });
  ui.end = h("button", { class: "hbtn", type: "button", text: t("end"), hidden: true, onclick: () => endChat() });
  ui.close = h("button", { class: "hbtn", type: "button", "aria-label": t("close"), onclick: () => close() }, icon("x"));
  ui.conn = h("div", { class: "conn", role: "status", hidden: true });
  // "End chat" while a person is in the chat asks first (the button sits right next to the close button).
  ui.confirmText = h("p");
  ui.confirmYes = h("button", { class: "btn", type: "button", text: t("endYes"), onclick: () => endChat(true) });
  ui.confirmNo = h("button", { class: "btn ghost", type: "button", text: t("endNo"), onclick: () => cancelEnd() });
  ui.confirm = h("div", { class: "confirm", role: "group", "aria-label": t("end"), hidden: true },
    ui.confirmText, h("div", { class: "actions" }, ui.confirmYes, ui.confirmNo));

  ui.greetingText = h("span", { dir: "auto" });
  ui.greetingNote = h("span", { class: "gnote" });  // whether a person is there: only what the server said
  ui.greeting = h("div", { class: "row them" }, h("div", { class: "name", text: t("assistant") }),
    h("div", { class: "bubble" }, ui.greetingText, ui.greetingNote));
  ui.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("messages") });
  ui.pending = h("div", { class: "outbox" });
  ui.queue = h("div", { class: "qcard", role: "status", hidden: true });
  ui.typingText = h("span");
  ui.typing = h("div", { class: "typing", hidden: true },
    h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), ui.typingText);
  ui.body = h("div", { class: "body" }, ui.greeting, ui.log, ui.pending, ui.queue, ui.typing);

  ui.talk = h("button", { class: "talk", type: "button", onclick: requestAgent }, icon("person"), t("talk"));
  ui.input = h("textarea", {
    rows: "1", placeholder: t("placeholder"), "aria-label": t("message"), enterkeyhint: "send",
    "aria-describedby": "cw-count", oninput: () => { onInput(); renderCount(); }, onkeydown: (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitMessage(); }
    },
  });
  ui.send = h("button", { class: "send", type: "submit", "aria-label": t("send") }, icon("send"));
  ui.fileInput = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1",
    accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf",
    onchange: () => { submitFiles(ui.fileInput.files); ui.fileInput.value = ""; } });
  ui.attach = h("button", { class: "attach", type: "button", "aria-label": t("attach"), title: t("attach"),
    onclick: () => {
      // The admin's list (CHAT_ATTACHMENT_TYPES, from /widget/config.json) narrows the file picker; the server checks.
      const types = state.config.attachment_types;
      if (Array.isArray(types) && types.length) ui.fileInput.accept = types.join(",");
      ui.fileInput.click();
    } }, icon("clip"));
  ui.input.addEventListener("paste", (e) => {
    const files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); submitFiles(files); }
  });
  ui.composer = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); submitMessage(); } },
    ui.attach, ui.fileInput, ui.input, ui.send);
  ui.newChat = h("button", { class: "btn", type: "button", text: t("newChat"), hidden: true, onclick: newChat });
  ui.pastLink = h("button", { class: "link past", type: "button", text: t("past"), hidden: true, onclick: () => openHistory() });
  ui.count = h("p", { class: "count", id: "cw-count", "aria-live": "polite", hidden: true });
  ui.foot = h("div", { class: "foot" }, ui.talk, ui.composer, ui.count, ui.newChat, ui.pastLink);
  ui.chat = h("div", { class: "view" }, ui.body, ui.foot);

  ui.article = h("div", { class: "view", hidden: true });
  ui.surveyView = h("div", { class: "view survey", hidden: true });
  ui.history = h("div", { class: "view", hidden: true });

  ui.panel = h("section", {
    class: "panel", id: "cw-panel", role: "dialog", "aria-label": t("dialog"), "aria-modal": "false",
    tabindex: "-1", hidden: true,
    onkeydown: (e) => {
      if (e.key === "Escape") { e.stopPropagation(); close(); }
      if (e.key === "Tab" && PHONE.matches) wrapFocus(e);
    },
  }, h("div", { class: "head" }, ui.avatar, h("div", { class: "who" }, ui.title, ui.sub), ui.end, ui.close),
  ui.conn, ui.confirm, ui.chat, ui.article, ui.surveyView, ui.history);

  ui.panel.append(h("div", { class: "dropzone", "aria-hidden": "true", text: t("dropFiles") }));
  let dragDepth = 0;
  const dragging = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  ui.panel.addEventListener("dragenter", (e) => { if (dragging(e)) { dragDepth += 1; ui.panel.classList.add("dragover"); } });
  ui.panel.addEventListener("dragleave", () => { dragDepth = Math.max(0, dragDepth - 1); if (!dragDepth) ui.panel.classList.remove("dragover"); });
  ui.panel.addEventListener("dragover", (e) => { if (dragging(e)) e.preventDefault(); });
  ui.panel.addEventListener("drop", (e) => {
    dragDepth = 0;
    ui.panel.classList.remove("dragover");
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) { e.preventDefault(); submitFiles(e.dataTransfer.files); }
  });
  // The widget's direction and language are its own, whatever the host page's <html dir> says.
  ui.frame = h("div", { class: "cw", dir: DIR, lang: LANG }, ui.panel, ui.launcher);
  root.append(ui.frame);
  return host;
}

/** On a phone the panel covers the page: Tab cycles inside it instead of reaching the hidden page. */
function wrapFocus(e) {
  const focusable = Array.from(ui.panel.querySelectorAll("button, textarea, input, a[href]"))
    .filter((el) => !el.disabled && el.getClientRects().length);
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const current = ui.root.activeElement;
  if (e.shiftKey && (current === first || current === ui.panel)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && current === last) { e.preventDefault(); first.focus(); }
}
