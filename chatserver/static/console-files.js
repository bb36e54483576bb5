// Files in the console: the agent attaches by the paperclip button, by pasting into the reply box or by dropping
// files on the conversation; each upload keeps one client id however often it is retried (a cut connection is
// retried, and the server stores the file once). Attachments in the history show as a thumbnail (images) and a
// download link, both served by this server only to agents who may read the conversation.
import { $, h, newClientId } from "./console-dom.js";
import { mergeMessages, state } from "./console-state.js";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const RETRIES = 5;
let after = { added: () => {}, error: () => {} };

function sizeText(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The part of a message element that shows its attachment. */
export function attachmentElement(attachment) {
  if (attachment.removed) {
    return h("div", { class: "cs-attachment" },
      h("span", { class: "cs-file cs-file-removed" }, `${attachment.name || "file"} · file removed`));
  }
  const url = `/attachments/${encodeURIComponent(attachment.id)}`;
  const link = h("a", { href: url, class: "cs-file", download: attachment.name || "file", rel: "noopener" },
    `${attachment.name || "file"} · ${sizeText(attachment.size || 0)}`);
  if (!attachment.thumbnail) return h("div", { class: "cs-attachment" }, link);
  return h("div", { class: "cs-attachment" },
    h("a", { href: url, target: "_blank", rel: "noopener" },
      h("img", { class: "cs-thumb", src: `${url}/thumbnail`, alt: attachment.name || "image", loading: "lazy" })),
    link);
}

async function uploadOnce(conversationId, clientId, file) {
  try {
    const response = await fetch(`/api/console/conversations/${conversationId}/attachments`, {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "X-CSRF-Token": csrf, "X-Client-Id": clientId, "X-File-Name": encodeURIComponent(file.name || "file"),
        "Content-Type": "application/octet-stream", Accept: "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (response.ok && body && body.ok) return { ok: true, body };
    return { ok: false, retry: response.status === 429 || response.status >= 500, message: (body && body.message) || `the server answered ${response.status}` };
  } catch (err) {
    return { ok: false, retry: true, message: "the connection was cut" };
  }
}

export async function sendFiles(files) {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation || conversation.ended) return;
  for (const file of Array.from(files || [])) {
    const clientId = newClientId("f");
    let result = null;
    for (let attempt = 0; attempt <= RETRIES; attempt += 1) {
      result = await uploadOnce(conversation.id, clientId, file);
      if (result.ok || !result.retry) break;
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
    if (!result.ok) { after.error(`Could not send ${file.name || "the file"}: ${result.message}`); continue; }
    const ack = result.body;
    const message = { id: ack.id, seq: ack.seq, conversation_id: ack.conversation_id, author: "agent", kind: "attachment",
      text: ack.attachment.name, created_at: ack.created_at, client_id: clientId, agent_id: state.me.id,
      agent_name: state.me.name, payload: { attachment: ack.attachment } };
    const added = mergeMessages(conversation, [message]);
    if (added.length) after.added(conversation, added);
  }
}

export function setupFiles(hooks) {
  after = hooks;
  $("attach-file").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", () => { sendFiles($("attach-input").files); $("attach-input").value = ""; });
  $("reply-text").addEventListener("paste", (event) => {
    const files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) { event.preventDefault(); sendFiles(files); }
  });
  const pane = $("pane");
  pane.addEventListener("dragover", (event) => {
    if (event.dataTransfer && [...event.dataTransfer.types].includes("Files")) { event.preventDefault(); pane.classList.add("cs-dragover"); }
  });
  pane.addEventListener("dragleave", (event) => { if (!pane.contains(event.relatedTarget)) pane.classList.remove("cs-dragover"); });
  pane.addEventListener("drop", (event) => {
    pane.classList.remove("cs-dragover");
    if (event.dataTransfer && event.dataTransfer.files.length) { event.preventDefault(); sendFiles(event.dataTransfer.files); }
  });
}
