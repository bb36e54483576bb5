// Helpers the agent console and the visitor widget share: building elements, client ids, dates and times.
// One copy: the console loads this file as a native module (/static/shared.js); the widget's sources import it and
// esbuild bundles it into /widget.js (chatserver/widget/build.mjs), so a change here needs `npm run build` there
// (tests/test_widget_build.py fails until the committed bundle matches). Plain browser JavaScript, no imports.

/** Build an element: h("li", {class: "x", dataset: {cid: 3}, onclick: fn, text: "..."}, "text", node, [more]).
 *  Every piece of network text goes through text nodes or textContent: nothing here parses HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A unique id for a message's client_id (what makes a resend safe): the prefix, "-", 24 random hex digits.
 *  crypto.getRandomValues, unlike randomUUID, also works on plain-http pages that embed the widget. */
export function newClientId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const formats = new Map();

/** Epoch seconds as text in `locale` (undefined: the browser's), "" for a missing time. */
function formatTime(epochSeconds, locale, options) {
  if (!epochSeconds) return "";
  const key = JSON.stringify([locale || null, options]);
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    formats.set(key, format);
  }
  return format.format(new Date(epochSeconds * 1000));
}

/** "14:05" or "2:05 PM". */
export function clockTime(epochSeconds, locale) {
  return formatTime(epochSeconds, locale, { hour: "2-digit", minute: "2-digit" });
}

/** "1 Dec 2025", "1. Dez. 2025": the day of a conversation. */
export function calendarDay(epochSeconds, locale) {
  return formatTime(epochSeconds, locale, { day: "numeric", month: "short", year: "numeric" });
}

/** "Dec 1, 2025, 2:05 PM": a moment in a list of events. */
export function dateTime(epochSeconds, locale) {
  return formatTime(epochSeconds, locale, { dateStyle: "medium", timeStyle: "short" });
}

/** A message's length as the server counts it: characters (code points) after trimming. */
export function messageLength(text) {
  return [...String(text || "").trim()].length;
}

/** The words under a message box near the length limit: "3,950 / 4,000", or how much to cut beyond it (the box
 * never cuts a paste short by itself). `words` gives the sentences: {count(n, max), over(n)}. */
export function lengthNote(text, max, words) {
  const n = messageLength(text);
  return { show: n >= max * 0.9, over: n > max, text: n > max ? words.over(n - max) : words.count(n, max) };
}
