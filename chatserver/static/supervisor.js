// The live supervisor view: the /agent socket's `supervisor` events (docs/protocol.md) drawn as four tables, the
// SLA countdowns ticking between events, and a beep plus a desktop notification for every chat that newly breaches.
import { $, clear, duration, h } from "./console-dom.js";
import { beep, notify, setupAlerts } from "./console-alerts.js";

const socket = io("/agent", { withCredentials: true });
let board = null;
let receivedAt = 0;
const breached = new Set();       // conversation ids already alerted on
let first = true;

function elapsed() {
  return (Date.now() - receivedAt) / 1000;
}

function row(cells, cls) {
  return h("tr", { class: cls || null }, cells.map((c) => h("td", {}, c)));
}

function chatLink(id) {
  return h("a", { href: `/admin/conversations/${id}`, target: "_blank", rel: "noopener" }, `#${id}`);
}

function render() {
  if (!board) return;
  const late = elapsed();
  const sla = board.sla_seconds;
  const breaches = board.breaches.map((b) => ({ ...b, waited: b.waited_seconds + late }));
  // Queued chats that crossed the target since the last event count as breaching now.
  for (const q of board.queue) {
    const waited = q.wait_seconds + late;
    if (waited > sla && !breaches.some((b) => b.conversation_id === q.conversation_id)) {
      breaches.push({ conversation_id: q.conversation_id, status: "queued", agent_name: null, waited, kind: "queue" });
    }
  }
  $("sv-breach-count").textContent = String(breaches.length);
  clear($("sv-breach-rows")).append(...breaches.map((b) => row([chatLink(b.conversation_id),
    b.kind === "queue" ? "in the queue" : "no first reply", b.agent_name || "–", duration(b.waited),
    duration(b.waited - sla)], "sv-breach")));
  $("sv-breach-empty").hidden = breaches.length > 0;

  $("sv-queue-count").textContent = String(board.queue.length);
  clear($("sv-queue-rows")).append(...board.queue.map((q) => {
    const left = q.sla_remaining_seconds - late;
    const countdown = h("span", { class: left > 0 ? "sv-countdown" : "sv-countdown sv-over" },
      left > 0 ? `${duration(left)} left` : `${duration(-left)} over`);
    return row([String(q.position), chatLink(q.conversation_id), q.department || "–", q.first_question || "–",
      duration(q.wait_seconds + late), countdown], left > 0 ? null : "sv-breach");
  }));
  $("sv-queue-empty").hidden = board.queue.length > 0;

  clear($("sv-agent-rows")).append(...board.agents.map((a) => row([a.name, a.role,
    h("span", { class: `sv-status sv-status-${a.status}` }, a.status), `${a.open_chats} of ${a.max_chats}`])));

  clear($("sv-visitor-rows")).append(...board.visitors.map((v) => row([chatLink(v.conversation_id), v.status,
    v.agent_name || "–", v.visitor_connected ? "connected" : h("span", { class: "sv-over" }, "disconnected"),
    v.unsent ? h("span", { class: "sv-over" }, `${v.unsent} unsent`) : "–"])));
  $("sv-visitor-empty").hidden = board.visitors.length > 0;

  alertNewBreaches(breaches);
}

function alertNewBreaches(breaches) {
  const fresh = breaches.filter((b) => !breached.has(b.conversation_id));
  for (const b of fresh) breached.add(b.conversation_id);
  if (first) { first = false; return; }      // those already breaching when the page opened are not news
  if (!fresh.length) return;
  beep();
  const b = fresh[0];
  notify(fresh.length > 1 ? `${fresh.length} chats over the target` : `Chat #${b.conversation_id} is over the target`,
    `${b.kind === "queue" ? "Waiting in the queue" : "Waiting for a first reply"} for ${duration(b.waited)}`,
    `breach-${b.conversation_id}`);
}

socket.on("supervisor", (next) => {
  board = next;
  receivedAt = Date.now();
  render();
});
socket.on("connect", () => { $("sv-connection").textContent = "Live"; });
socket.on("disconnect", () => { $("sv-connection").textContent = "Reconnecting…"; });
socket.on("connect_error", (err) => {
  const code = err && err.data && err.data.error;
  $("sv-connection").textContent = code === "unauthorized" ? "Logged out: sign in again" : "Reconnecting…";
});

setupAlerts();
setInterval(render, 1000);
