// Typing, both ways: the visitor's `typing` while an agent has the chat (at most every 2 s, `false` after 3 s
// idle, volatile), and the agent's "Dana is typing…" line (hidden after 8 s without news).
import { autosize, scrollDown } from "./panel.js";
import { TYPING_EVERY_MS } from "./page.js";
import { state } from "./state.js";
import { t } from "./strings.js";
import { emitVolatile, isConnected } from "./transport.js";
import { ui } from "./ui.js";

const visitorTyping = { sentAt: 0, on: false, resendTimer: null, idleTimer: null };
let agentTypingTimer = null;

export function sendTyping(on) {
  const typing = visitorTyping;
  clearTimeout(typing.resendTimer);
  if (!on) clearTimeout(typing.idleTimer);
  if (on === typing.on && !on) return;
  const wait = typing.sentAt + TYPING_EVERY_MS - Date.now();
  if (wait > 0) { typing.resendTimer = setTimeout(() => sendTyping(on), wait); return; }
  if (!isConnected() || state.status !== "assigned") { typing.on = false; return; }
  typing.sentAt = Date.now();
  typing.on = on;
  emitVolatile("typing", { typing: on });  // a stale typing flag is not worth resending
}

export function onInput() {
  autosize();
  if (state.status !== "assigned" || !ui.input.value.trim()) return;
  clearTimeout(visitorTyping.idleTimer);
  visitorTyping.idleTimer = setTimeout(() => sendTyping(false), 3000);
  if (!visitorTyping.on || Date.now() - visitorTyping.sentAt > 4000) sendTyping(true);
}

export function showTyping(on, name) {
  clearTimeout(agentTypingTimer);
  ui.typing.hidden = !on;
  if (on) {
    ui.typingText.textContent = t("typing", { name: name || state.agentName || t("title") });
    agentTypingTimer = setTimeout(() => showTyping(false), 8000);
    scrollDown(false);
  }
}
