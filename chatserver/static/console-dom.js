// Small DOM and formatting helpers for the agent console; those the widget needs too (h, client ids, dates) live in
// shared.js. Every piece of network text goes through text nodes (h() children, textContent): the console never
// parses HTML it did not write itself.

export { clockTime, dateTime, h, newClientId } from "./shared.js";

export const $ = (id) => document.getElementById(id);

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** "0:42", "3:05", "1:02:03": how long someone has waited. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), rest = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(minutes)}:${pad(rest)}` : `${minutes}:${pad(rest)}`;
}

export function ago(epochSeconds, now = Date.now() / 1000) {
  const s = Math.max(0, now - epochSeconds);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function percent(score) {
  return typeof score === "number" ? `${Math.round(score * 100)}%` : "";
}

/** "Chrome 120 on Windows" from a user-agent string (the full string stays available as a tooltip). */
export function browserSummary(userAgent) {
  if (!userAgent) return "unknown";
  const browsers = [[/Edg\/(\d+)/, "Edge"], [/OPR\/(\d+)/, "Opera"], [/Firefox\/(\d+)/, "Firefox"],
    [/Chrom(?:e|ium)\/(\d+)/, "Chrome"], [/Version\/(\d+)[.\d]* .*Safari\//, "Safari"]];
  const systems = [[/Windows/, "Windows"], [/Android/, "Android"], [/iPhone|iPad|iOS/, "iOS"],
    [/Mac OS X|Macintosh/, "macOS"], [/CrOS/, "ChromeOS"], [/Linux/, "Linux"]];
  let browser = "";
  for (const [pattern, name] of browsers) {
    const m = userAgent.match(pattern);
    if (m) { browser = `${name} ${m[1]}`; break; }
  }
  const system = (systems.find(([pattern]) => pattern.test(userAgent)) || [null, ""])[1];
  if (!browser && !system) return userAgent.slice(0, 60);
  return [browser || "a browser", system && `on ${system}`].filter(Boolean).join(" ");
}

/** What to call the visitor of a conversation. */
export function visitorName(conversationState) {
  const visitor = conversationState.visitor || {};
  return visitor.name || visitor.email || `Visitor #${conversationState.id}`;
}

export function initials(name) {
  const parts = String(name).replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  // "Visitor #17": the number tells visitors apart ("V1" was #10, #11 and #17 alike).
  const last = parts[parts.length - 1];
  if (parts.length > 1 && /^\d+$/.test(last)) return last.length > 3 ? "#" + last.slice(-2) : last;
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

/** A stable colour class (0-5) per conversation, so avatars are easy to tell apart. */
export function hue(id) {
  return `cs-hue-${Math.abs(Number(id) || 0) % 6}`;
}

export function isNearBottom(el, slack = 80) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < slack;
}
