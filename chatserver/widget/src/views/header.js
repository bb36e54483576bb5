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
  ui.title.textContent = name || t("title");
  ui.avatar.textContent = "";
  if (name) ui.avatar.textContent = name.trim().charAt(0).toUpperCase();
  else ui.avatar.append(icon("desk"));
  ui.avatar.classList.toggle("away", status === "queued" && !state.agentsOnline);
  ui.avatar.classList.toggle("off", status === "closed");
  ui.sub.textContent = status === "closed" ? t("subClosed") : status === "queued" ? t("subQueue")
    : name ? t("subAgent") : t("subBot");
  ui.end.hidden = !isLive();
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
