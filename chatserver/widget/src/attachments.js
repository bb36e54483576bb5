// Files both ways: the visitor attaches by the paperclip button, by pasting or by dropping files on the panel;
// each file waits in the outbox like a message (same client id on every retry, so a cut upload sent again is
// stored once) and goes up over HTTP with the visitor's token. Files in the chat are fetched with that token
// (never a cookie, never a token in a URL) and shown from a blob: images as a thumbnail, other files as a link
// that downloads them. The server decides what is allowed, from the bytes; the checks here only save a trip.
import { h, newClientId } from "../../static/shared.js";
import { SERVER } from "./page.js";
import { state } from "./state.js";
import { stored } from "./storage.js";
import { t } from "./strings.js";

const REFUSALS = new Set(["attachment_type_not_allowed", "attachment_too_large", "attachment_unreadable",
  "attachment_empty"]);
const blobs = new Map();        // outbox client id -> the File (files cannot live in localStorage)
const urls = new Map();         // "id" or "id/thumbnail" -> object URL already fetched

export function fileFor(clientId) {
  return blobs.get(clientId) || null;
}

export function forgetFile(clientId) {
  blobs.delete(clientId);
}

/** Outbox items for these files (too large ones are refused here, with the reason). */
export function fileItems(files) {
  const limit = state.config.attachment_max_bytes || 10 * 1024 * 1024;
  return Array.from(files || []).map((file) => {
    const item = { id: newClientId("f"), kind: "file", name: file.name || "file", size: file.size, at: Date.now() / 1000,
      text: file.name || "file" };
    if (file.size > limit) item.failed = t("fileTooLarge", { mb: Math.round(limit / 1048576) });
    else blobs.set(item.id, file);
    return item;
  });
}

/** Upload one outbox file. Resolves to {ok, ...ack} or {ok: false, error, message, retry} (retry: the network
 *  failed or the server was busy: send it again later, with the same client id). */
export async function upload(item) {
  const file = blobs.get(item.id);
  if (!file) return { ok: false, error: "file_lost", message: t("fileLost") };
  let response;
  try {
    response = await fetch(SERVER + "/widget/attachments", {
      method: "POST", credentials: "omit", body: file,
      headers: { Authorization: "Bearer " + (stored().token || ""), "X-Client-Id": item.id,
        "X-File-Name": encodeURIComponent(item.name), "Content-Type": "application/octet-stream" },
    });
  } catch (e) {
    return { ok: false, error: "network", retry: true };
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (response.ok && body && body.ok) return body;
  const busy = response.status === 429 || response.status >= 500;
  const code = (body && body.error) || "http_" + response.status;
  return { ok: false, error: code, retry: busy,
    message: REFUSALS.has(code) ? t("fileRefused:" + code) : (body && body.message) || t("error") };
}

async function objectUrl(attachment, thumbnail) {
  const key = attachment.id + (thumbnail ? "/thumbnail" : "");
  if (urls.has(key)) return urls.get(key);
  const response = await fetch(SERVER + "/widget/attachments/" + key, {
    credentials: "omit", headers: { Authorization: "Bearer " + (stored().token || "") },
  });
  if (!response.ok) throw new Error(String(response.status));
  const url = URL.createObjectURL(await response.blob());
  urls.set(key, url);
  return url;
}

function sizeText(bytes) {
  return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
}

/** What an attachment message shows inside its bubble: a thumbnail for images, a download link for the rest. */
export function attachmentView(attachment) {
  const name = attachment.name || "file";
  if (attachment.removed) return h("span", { class: "file removed", text: name + " · " + t("fileRemoved") });
  const link = h("a", { class: "file", href: "#", rel: "noopener", text: name + " · " + sizeText(attachment.size || 0),
    "aria-label": t("download", { name }) });
  link.addEventListener("click", async (e) => {
    e.preventDefault();
    try {
      const save = h("a", { href: await objectUrl(attachment, false), download: name });
      save.click();
    } catch (err) { link.textContent = t("fileMissing"); }
  });
  if (!attachment.thumbnail) return link;
  const img = h("img", { class: "thumb", alt: name, width: String(Math.min(240, attachment.width || 240)) });
  objectUrl(attachment, true).then((url) => { img.src = url; }, () => { img.alt = t("fileMissing"); });
  return h("div", { class: "attachment" }, img, link);
}
