// The outbox: every message gets a client id and waits in localStorage (shared by the site's tabs, kept across
// reloads) until its ack. Sent one at a time, in order; the server drops a resend it already stored.
import { h, newClientId } from "../../static/shared.js";
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
const patchItem = (id, changes) => setOutbox(outbox().map((i) => (i.id === id ? Object.assign({}, i, changes) : i)));

export function renderPending() {
  const items = outbox();
  const ids = new Set(items.map((i) => i.id));
  for (const [id, row] of pendingRows) if (!ids.has(id)) { row.remove(); pendingRows.delete(id); }
  for (const item of items) {
    let row = pendingRows.get(item.id);
    if (!row) {
      row = h("div", { class: "row me gap", "data-client-id": item.id },
        richText(h("div", { class: "bubble" }, h("span", { class: "sr", text: t("you") + ": " })), item.text),
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
  renderPending();
}

function retry(id) {
  patchItem(id, { failed: false });
  renderPending();
  connect();
  flush();
}

export function submitMessage() {
  const text = ui.input.value.trim();
  if (!text) return;
  setOutbox(outbox().concat([{ id: newClientId("w"), text, at: Date.now() / 1000 }]));
  ui.input.value = "";
  autosize();
  renderPending();
  scrollDown(true);
  sendTyping(false);
  connect();
  flush();
}

/** Send the outbox in order, one message at a time, each until its ack (or a failure that needs the visitor). */
export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (isConnected() && state.ready) {
      const item = outbox().find((i) => !i.failed);
      if (!item) break;
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
