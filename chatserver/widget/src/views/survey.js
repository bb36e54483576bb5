// The survey at the end of a chat: CSAT 1-5, CES 1-7, NPS 0-10 when the admin has it on, and a comment, all
// optional; "Skip" dismisses it.
import { h } from "../../../static/shared.js";
import { fire } from "../events.js";
import { icon } from "../icons.js";
import { backToChat, showView, viewBar } from "../panel.js";
import { state } from "../state.js";
import { t } from "../strings.js";
import { call } from "../transport.js";
import { ui } from "../ui.js";

function scale(name, from, to, low, high) {
  const count = to - from + 1;
  const options = [];
  for (let n = from; n <= to; n++) {
    const label = n === from ? n + ", " + t(low) : n === to ? n + ", " + t(high) : String(n);
    options.push(h("label", {}, h("input", { type: "radio", name, value: String(n), "aria-label": label }),
      h("span", { "aria-hidden": "true", text: String(n) })));
  }
  return h("fieldset", { "data-question": name },
    h("legend", { text: t(name) }),
    h("div", { class: "scale n" + count }, options),
    h("div", { class: "ends", "aria-hidden": "true" }, h("span", { text: t(low) }), h("span", { text: t(high) })));
}

export function showSurvey() {
  const offer = state.survey;
  if (!offer) return;
  const view = ui.surveyView;
  view.textContent = "";
  const comment = h("textarea", { class: "field", name: "comment", maxlength: "2000", rows: "3", "aria-label": t("comment") });
  const error = h("p", { class: "err", role: "alert", hidden: true });
  const form = h("form", { class: "scroll", onsubmit: (e) => { e.preventDefault(); submitSurvey(form, false); } },
    h("h2", { tabindex: "-1", text: t("surveyTitle") }),
    h("p", { class: "lead", text: t("surveyLead") }),
    scale("csat", 1, 5, "csatLow", "csatHigh"),
    scale("ces", 1, 7, "cesLow", "cesHigh"),
    offer.nps ? scale("nps", 0, 10, "npsLow", "npsHigh") : null,
    h("fieldset", {}, h("legend", { text: t("comment") }), comment),
    error);
  view.append(viewBar(null), form, h("div", { class: "vfoot" }, h("div", { class: "actions" },
    h("button", { class: "btn ghost", type: "button", text: t("skip"), onclick: () => submitSurvey(form, true) }),
    h("button", { class: "btn", type: "button", text: t("submit"), onclick: () => submitSurvey(form, false) }))));
  view.querySelector(".vbar .hbtn").onclick = () => submitSurvey(form, true);
  showView("survey");
  form.querySelector("h2").focus();
}

async function submitSurvey(form, skip) {
  const offer = state.survey;
  if (!offer) return backToChat();
  const answers = { conversation_id: offer.conversation_id };
  if (!skip) {
    for (const name of ["csat", "ces", "nps"]) {
      const picked = form.querySelector('input[name="' + name + '"]:checked');
      if (picked) answers[name] = Number(picked.value);
    }
    const comment = form.querySelector("textarea").value.trim();
    if (comment) answers.comment = comment;
  }
  const answered = Object.keys(answers).length > 1;
  for (const b of ui.surveyView.querySelectorAll(".vfoot button")) b.disabled = true;
  const ack = await call("survey", answers);
  for (const b of ui.surveyView.querySelectorAll(".vfoot button")) b.disabled = false;
  if (!ack.ok && ack.error === "timeout") {
    const error = form.querySelector(".err");
    error.hidden = false;
    error.textContent = t("error");
    return;
  }
  state.survey = null;  // answered, dismissed, or no longer answerable (expired, already answered)
  if (!answered) return backToChat();
  ui.surveyView.textContent = "";
  ui.surveyView.append(viewBar(null), h("div", { class: "scroll done", role: "status" },
    icon("check"), h("h2", { text: t("thanks") }), h("p", { text: t("thanksLead") }),
    h("button", { class: "btn", type: "button", text: t("back"), onclick: backToChat })));
  ui.surveyView.querySelector(".done .btn").focus();
  fire("survey", { answers });
}
