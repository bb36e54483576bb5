// The parts of the panel that follow the chat's state: header (who answers), which buttons show, the connection
// line and the launcher's unread badge.
import { icon } from "../icons.js";
import { isLive, state } from "../state.js";
import { stored } from "../storage.js";
import { t } from "../strings.js";
import { ui } from "../ui.js";
import { renderQueue } from "./queue.js";

export function render() {
  const status = state.status;
  const name = status === "assigned" && state.agentName;
  // A survey still waiting (after a reload the ended conversation is no longer "shown") is an ended chat too.
  const ended = status === "closed" || (status == null && !!state.survey);
  const nobody = state.agentsOnline === 0 && !name;    // null: not known yet, say nothing
  ui.title.textContent = name || t("title");
  ui.avatar.textContent = "";
  if (name) ui.avatar.textContent = name.trim().charAt(0).toUpperCase();
  else ui.avatar.append(icon("desk"));
  // The dot: green only while someone can answer (the bot counts) and this browser is online.
  ui.avatar.classList.toggle("off", ended || navigator.onLine === false);
  ui.avatar.classList.toggle("away", !ended && nobody && navigator.onLine !== false);
  ui.sub.textContent = ended ? t("subClosed") : status === "queued" ? (nobody ? t("subNobody") : t("subQueue"))
    : name ? t("subAgent") : t("subBot");
  ui.greetingNote.textContent = state.agentsOnline == null ? ""
    : " " + (state.agentsOnline ? t("greetPerson") : t("greetNobody"));
  ui.end.hidden = !isLive();
  if (status !== "assigned") ui.confirm.hidden = true;
  ui.talk.hidden = !(status == null || status === "bot");
  ui.composer.hidden = status === "closed";
  ui.newChat.hidden = status !== "closed";
  ui.pastLink.hidden = !(stored().past && (status == null || status === "closed"));
  renderConnection();
  renderQueue();
  renderBadge();
}

export function renderConnection() {
  const offline = navigator.onLine === false;
  // A session came before (so a socket exists) and the current connection has none yet.
  const connecting = !offline && !state.ready && state.hadSession;
  ui.conn.hidden = !(offline || connecting);
  ui.conn.textContent = offline ? t("offline") : t("reconnecting");
}

export function renderBadge() {
  ui.badge.hidden = !state.unread;
  ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
  ui.launcher.setAttribute("aria-label", (state.open ? t("close") : t("open"))
    + (state.unread ? ", " + t("unread", { n: state.unread }) : ""));
}
