// The outbox: every message gets a client id and waits in localStorage (shared by the site's tabs, kept across
// reloads) until its ack. Sent one at a time, in order; the server drops a resend it already stored.
import { h, lengthNote, newClientId } from "../../static/shared.js";
import { fileItems, forgetFile, upload } from "./attachments.js";
import { addMessage } from "./conversation.js";
import { autosize, scrollDown } from "./panel.js";
import { ACK_MS } from "./page.js";
import { acked, notSent, outboxChanged } from "./quality.js";
import { state } from "./state.js";
import { persist, stored } from "./storage.js";
import { t } from "./strings.js";
import { connect, isConnected, send } from "./transport.js";
import { sendTyping } from "./typing.js";
import { ui } from "./ui.js";
import { richText } from "./views/messages.js";

const BUSY_RETRIES = 2;            // automatic retries after rate_limited / storage_error
const busyRetries = new Map();     // client id -> automatic retries used
const pendingRows = new Map();     // client id -> its row under the log
const attempts = new Map();        // client id -> sends so far (this page)
let flushing = false;

export const outbox = () => stored().outbox || [];
const setOutbox = (items) => { persist({ outbox: items }); outboxChanged(); };
// Files wait in this tab only (their bytes cannot go to localStorage, and another tab could not send them): a file
// still unsent when the page goes away is gone, and the visitor attaches it again.
let fileOutbox = [];
/** Everything waiting, messages and this tab's files, in the order they were given. */
const waiting = () => outbox().concat(fileOutbox).sort((a, b) => a.at - b.at);
const patchItem = (id, changes) => {
  const patch = (i) => (i.id === id ? Object.assign({}, i, changes) : i);
  if (fileOutbox.some((i) => i.id === id)) fileOutbox = fileOutbox.map(patch);
  else setOutbox(outbox().map(patch));
};

export function renderPending() {
  const items = waiting();
  const ids = new Set(items.map((i) => i.id));
  for (const [id, row] of pendingRows) if (!ids.has(id)) { row.remove(); pendingRows.delete(id); }
  for (const item of items) {
    let row = pendingRows.get(item.id);
    if (!row) {
      row = h("div", { class: "row me gap", "data-client-id": item.id },
        h("div", { class: item.kind === "file" ? "bubble file-pending" : "bubble" }, h("span", { class: "sr", text: t("you") + ": " }),
          richText(h("div", { class: "txt", dir: "auto" }), item.text)),
        h("div", { class: "meta" }));
      pendingRows.set(item.id, row);
    }
    ui.pending.append(row);  // keeps outbox order
    const meta = row.lastChild;
    meta.textContent = "";
    row.classList.toggle("failed", !!item.failed);
    if (item.failed) {
      meta.append(t("failed") + (typeof item.failed === "string" ? ": " + item.failed : "") + " · ",
        h("button", { class: "link", type: "button", text: t("retry"), onclick: () => retry(item.id) }));
    } else {
      meta.textContent = state.ready ? t("sending") : t("waiting");
    }
  }
}

/** The stored copy of an outbox message arrived: it leaves the outbox. */
export function forgetPending(clientId) {
  if (outbox().some((i) => i.id === clientId)) setOutbox(outbox().filter((i) => i.id !== clientId));
  if (fileOutbox.some((i) => i.id === clientId)) { fileOutbox = fileOutbox.filter((i) => i.id !== clientId); forgetFile(clientId); }
  renderPending();
}

function retry(id) {
  patchItem(id, { failed: false });
  renderPending();
  connect();
  flush();
}

/** The counter near the length limit; false when the text is too long to send (it is refused, never cut). */
export function renderCount() {
  const note = lengthNote(ui.input.value, state.config.max_message_chars || 4000,
    { count: (n, max) => t("count", { n, max }), over: (n) => t("tooLong", { n }) });
  ui.count.hidden = !note.show;
  ui.count.textContent = note.show ? note.text : "";
  ui.count.classList.toggle("over", note.over);
  ui.send.setAttribute("aria-disabled", String(note.over));
  return !note.over;
}

export function submitMessage() {
  const text = ui.input.value.trim();
  if (!text) return;
  if (!renderCount()) { ui.input.focus(); return; }
  setOutbox(outbox().concat([{ id: newClientId("w"), text, at: Date.now() / 1000 }]));
  ui.input.value = "";
  renderCount();
  autosize();
  renderPending();
  scrollDown(true);
  sendTyping(false);
  connect();
  flush();
}

/** Files chosen, pasted or dropped: each waits in the outbox (in order with the messages) until it is stored. */
export function submitFiles(files) {
  const items = fileItems(files);
  if (!items.length) return;
  fileOutbox = fileOutbox.concat(items);
  renderPending();
  scrollDown(true);
  connect();
  flush();
}

/** Send the outbox in order, one message at a time, each until its ack (or a failure that needs the visitor). */
export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (isConnected() && state.ready) {
      const item = waiting().find((i) => !i.failed);
      if (!item) break;
      if (item.kind === "file") {
        const stored = await upload(item);
        if (stored.ok) {
          forgetFile(item.id);
          addMessage({
            id: stored.id, seq: stored.seq, conversation_id: stored.conversation_id, author: "visitor",
            kind: "attachment", text: item.name, created_at: stored.created_at, client_id: item.id,
            payload: { attachment: stored.attachment },
          }, false);
          scrollDown(false);
          continue;
        }
        if (stored.retry && (busyRetries.get(item.id) || 0) < 20) {
          // The network (or a busy server) cut the upload: send the same file again with the same client id,
          // which the server stores once however many tries reach it.
          busyRetries.set(item.id, (busyRetries.get(item.id) || 0) + 1);
          setTimeout(flush, 2000);
          break;
        }
        busyRetries.delete(item.id);
        patchItem(item.id, { failed: stored.message || true });
        renderPending();
        continue;
      }
      let ack;
      const startedAt = performance.now();
      const wallStartedAt = Date.now();
      attempts.set(item.id, (attempts.get(item.id) || 0) + 1);
      try {
        ack = await send("message", { client_id: item.id, text: item.text }, ACK_MS);
      } catch (e) {
        // No ack in time, or the connection dropped: the next connect (or this retry) sends it again.
        setTimeout(flush, 2000);
        break;
      }
      if (ack && ack.ok) {
        acked(ack, startedAt, wallStartedAt, attempts.get(item.id));
        attempts.delete(item.id);
        addMessage({
          id: ack.id, seq: ack.seq, conversation_id: ack.conversation_id, author: "visitor", kind: "text",
          text: item.text, created_at: ack.created_at, client_id: item.id,
        }, false);
        scrollDown(false);
      } else if (ack && (ack.error === "rate_limited" || ack.error === "storage_error")
                 && (busyRetries.get(item.id) || 0) < BUSY_RETRIES) {
        busyRetries.set(item.id, (busyRetries.get(item.id) || 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } else {
        busyRetries.delete(item.id);
        // A busy server needs no explanation; a refusal of the text itself (too long...) does.
        const busy = !ack || ack.error === "rate_limited" || ack.error === "storage_error";
        patchItem(item.id, { failed: (!busy && ack.message) || true });
        notSent();
        renderPending();
      }
    }
  } finally {
    flushing = false;
  }
}
