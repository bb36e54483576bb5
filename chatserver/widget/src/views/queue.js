// The queue card: position and estimated wait, or, with nobody online, the business hours and a form to leave an
// email address (the `contact` event).
import { h } from "../../../static/shared.js";
import { state } from "../state.js";
import { persist, stored } from "../storage.js";
import { LANG, t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";

let shownKey = "";  // what the card shows now, so it is rebuilt only when that changes

/** "Monday 9:00 AM (in 14 hours)": when the team is back, in the visitor's own time zone and language. */
export function backAt(nextOpenAt, now = Date.now()) {
  const when = new Date(nextOpenAt * 1000);
  const day = new Intl.DateTimeFormat(LANG, { weekday: "long", hour: "numeric", minute: "2-digit" }).format(when);
  const hours = (nextOpenAt * 1000 - now) / 3600000;
  const rel = new Intl.RelativeTimeFormat(LANG, { numeric: "auto" });
  const inText = hours < 1 ? rel.format(Math.max(1, Math.round(hours * 60)), "minute")
    : hours < 48 ? rel.format(Math.round(hours), "hour") : rel.format(Math.round(hours / 24), "day");
  return t("backAt", { when: day, in: inText });
}

function renderClosed(card, hours, contact) {
  card.append(h("h3", { text: t("closedNow") }));
  if (hours.next_open_at) card.append(h("p", { class: "back-at", text: backAt(hours.next_open_at) }));
  if (contact && contact.sent) card.append(h("p", { text: t("contactDone", { e: contact.email }) }));
  else card.append(h("p", { text: t("leaveEmailClosed") }), contactForm());
}

export function renderQueue() {
  const q = state.queue;
  const card = ui.queue;
  card.hidden = !(state.status === "queued" && q);
  const hours = state.config.hours;
  const closed = !card.hidden && !!hours && hours.open === false;
  const nobody = !card.hidden && (closed || !q.agents_online || q.estimated_wait_seconds == null);
  const contact = stored().contact;
  // Rebuild only on a change a visitor should see: never under the fingers of someone typing their email.
  const key = card.hidden ? "" : JSON.stringify(nobody ? [state.config.business_hours, closed && hours.next_open_at,
    contact && contact.sent] : [q.position, q.estimated_wait_seconds]);
  if (key === shownKey) return;
  shownKey = key;
  card.textContent = "";
  if (card.hidden) return;
  if (closed) { renderClosed(card, hours, contact); return; }
  if (nobody) {
    card.append(h("h3", { text: t("nobody") }));
    if (state.config.business_hours) card.append(h("p", { text: t("hours", { h: state.config.business_hours }) }));
    if (contact && contact.sent) {
      card.append(h("p", { text: t("contactDone", { e: contact.email }) }));
    } else {
      card.append(h("p", { text: t("leaveEmail") }), contactForm());
    }
    return;
  }
  const wait = q.estimated_wait_seconds;
  card.append(
    h("h3", { text: t("position", { n: q.position }) }),
    h("p", { text: !wait ? t("waitSoon") : wait < 60 ? t("waitShort") : t("waitAbout", { n: Math.round(wait / 60) }) }),
    h("p", { text: t("keepWriting") }),
    h("div", { class: "qbar", "aria-hidden": "true" }, h("i")));
}

function contactForm() {
  const email = h("input", { class: "field", type: "email", required: true, autocomplete: "email", "aria-label": t("email"), placeholder: t("email") });
  const name = h("input", { class: "field", type: "text", autocomplete: "name", "aria-label": t("name"), placeholder: t("name") });
  const error = h("p", { class: "err", role: "alert", hidden: true });
  const known = stored().contact;
  if (known) { email.value = known.email || ""; name.value = known.name || ""; }
  return h("form", {
    class: "form contact", onsubmit: async (e) => {
      e.preventDefault();
      const ack = await call("contact", { email: email.value.trim(), name: name.value.trim() || undefined });
      if (ack && ack.ok) {
        persist({ contact: { email: ack.email, name: ack.name, sent: true } });
        renderQueue();
      } else {
        error.hidden = false;
        error.textContent = (ack && ack.message) || t("error");
      }
    },
  }, email, name, error, h("button", { class: "btn", type: "submit", text: t("sendEmail") }));
}
