// "Email me the transcript" under an ended chat: the `transcript` event (docs/protocol.md), to the address the
// visitor typed (prefilled with the one they left).
import { h } from "../../../static/shared.js";
import { stored } from "../storage.js";
import { t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";

export function transcriptOffer(conversationId) {
  const known = stored().contact;
  const email = h("input", { class: "field", type: "email", required: true, autocomplete: "email",
    "aria-label": t("email"), placeholder: t("email") });
  if (known && known.email) email.value = known.email;
  const note = h("p", { class: "err", role: "status", hidden: true });
  const button = h("button", { class: "btn", type: "submit", text: t("transcriptSend") });
  const form = h("form", {
    class: "form transcript", onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      const ack = await call("transcript", { conversation_id: conversationId, email: email.value.trim() });
      button.disabled = false;
      note.hidden = false;
      if (ack && ack.ok) {
        form.replaceChildren(h("p", { class: "sys", text: t("transcriptDone", { e: ack.recipient }) }));
      } else {
        note.textContent = (ack && ack.message) || t("error");
      }
    },
  }, h("p", { class: "lead", text: t("transcriptAsk") }), email, note, button);
  ui.log.append(form);
}
