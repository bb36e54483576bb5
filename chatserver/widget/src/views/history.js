// Previous chats: the visitor's own conversations, newest first (the `conversations` event, 20 at a time), a search
// of their words (the `search` event), and one of them read-only (fetched with `sync` from the start).
import { calendarDay, h } from "../../../static/shared.js";
import { backToChat, showView, viewBar } from "../panel.js";
import { state } from "../state.js";
import { LANG, t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";
import { messageRow } from "./messages.js";

const day = (seconds) => calendarDay(seconds, LANG);

export async function openHistory() {
  const view = ui.history;
  view.textContent = "";
  const list = h("ul", { class: "past-list" });
  const more = h("button", { class: "btn ghost", type: "button", text: t("older"), hidden: true });
  const note = h("p", { class: "lead" }, h("span", { class: "spin" }));
  const query = h("input", { type: "search", class: "field", maxlength: "200", "aria-label": t("searchPast"),
    placeholder: t("searchPast") });
  const search = h("form", { class: "past-search", role: "search" }, query,
    h("button", { class: "btn ghost", type: "submit", text: t("searchButton") }));
  view.append(viewBar(h("h2", { class: "vtitle", tabindex: "-1", text: t("past") })),
    h("div", { class: "scroll" }, search, list, note, more));
  showView("history");
  view.querySelector(".vtitle").focus();
  let before;
  let words = "";
  search.onsubmit = (e) => {
    e.preventDefault();
    words = query.value.trim();
    before = undefined;
    list.textContent = "";
    page();
  };
  const page = async () => {
    more.disabled = true;
    // With words: the `search` event (only this visitor's own chats, never agents' notes); without: the list.
    const payload = before ? { before_id: before } : {};
    const ack = words ? await call("search", Object.assign({ query: words }, payload))
      : await call("conversations", payload);
    more.disabled = false;
    if (state.view !== "history" || !view.contains(list)) return;
    if (!ack.ok) { note.textContent = t("error"); return; }
    for (const c of ack.conversations) {
      const open = c.status !== "closed";
      list.append(h("li", {}, h("button", { class: "card", type: "button", "data-conversation": String(c.id),
        onclick: () => (open && c.id === state.cid ? backToChat() : openTranscript(c)) },
      h("b", { dir: "auto", text: c.preview || t("chatOn", { d: day(c.created_at) }) }),
      h("small", { text: [day(c.created_at), c.agent_name, open ? t("ongoing") : null].filter(Boolean).join(" · ") }),
      c.match ? h("span", { class: "match", dir: "auto", text: c.match.excerpt }) : null)));
      before = c.id;
    }
    note.textContent = list.childElementCount ? "" : t(words ? "pastNoMatch" : "pastEmpty");
    more.hidden = !ack.more;
  };
  more.onclick = page;
  await page();
}

async function openTranscript(c) {
  const view = ui.history;
  view.textContent = "";
  const log = h("div", { class: "log" }, h("div", { class: "loading" }, h("span", { class: "spin" })));
  const bar = viewBar(h("h2", { class: "vtitle", tabindex: "-1", text: t("chatOn", { d: day(c.created_at) }) }));
  bar.querySelector(".hbtn").onclick = () => openHistory();
  view.append(bar, h("div", { class: "scroll" }, log));
  view.querySelector(".vtitle").focus();
  const messages = [];
  for (let after = 0, more = true; more;) {
    const ack = await call("sync", { conversation_id: c.id, after_seq: after });
    if (state.view !== "history" || !view.contains(log)) return;
    if (!ack.ok) { log.textContent = t("error"); return; }
    messages.push(...ack.messages);
    after = ack.messages.length ? ack.messages[ack.messages.length - 1].seq : after;
    more = ack.more && ack.messages.length > 0;
  }
  log.textContent = "";
  for (const m of messages) log.append(messageRow(m, log.lastElementChild, false));
}
