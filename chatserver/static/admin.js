// Admin pages: confirmations, the article editor's live preview and "try it", the colour picker.
// Runs under the strict CSP (no inline script or style). Untrusted text goes in with textContent; the only HTML
// inserted is the article preview, which the server renders and sanitises exactly as for visitors.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (err) {
      answer = null;
    }
    if (!answer || typeof answer !== "object") {
      return { ok: false, error: "internal_error", message: `The server answered ${response.status}.` };
    }
    return answer;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function debounce(fn, ms) {
    let timer = null;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // -- confirmations for destructive buttons ------------------------------------------------------------------
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // -- the article editor --------------------------------------------------------------------------------------
  const articleForm = document.getElementById("article-form");
  if (articleForm) setUpEditor(articleForm);

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120);
  }

  function setUpEditor(form) {
    const title = document.getElementById("article-title");
    const slug = document.getElementById("article-slug");
    const body = document.getElementById("article-body");
    const previewTitle = document.getElementById("preview-title");
    const previewBody = document.getElementById("preview-body");
    const previewState = document.getElementById("preview-state");
    let dirty = false;
    let slugTouched = !form.hasAttribute("data-new-article") || slug.value !== "";
    let previewSeq = 0;

    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (dirty) event.preventDefault();
    });

    slug.addEventListener("input", () => { slugTouched = slug.value !== ""; });
    title.addEventListener("input", () => {
      previewTitle.textContent = title.value;
      if (!slugTouched) slug.value = slugify(title.value);
    });

    const refreshPreview = debounce(async () => {
      const seq = ++previewSeq;
      previewState.textContent = "Updating preview…";
      let answer;
      try {
        answer = await postJSON("/admin/kb/preview", { body: body.value });
      } catch (err) {
        answer = { ok: false, message: "The server cannot be reached." };
      }
      if (seq !== previewSeq) return;           // a newer edit is already on its way
      if (answer.ok) {
        // Sanitised on the server by the same renderer visitors get (markdown-it without raw HTML, then nh3).
        previewBody.innerHTML = answer.html;
        previewState.textContent = "";
      } else {
        previewState.textContent = `Preview not updated: ${answer.message || answer.error}`;
      }
    }, 250);
    body.addEventListener("input", refreshPreview);

    const tryForm = document.getElementById("try-form");
    const tryResults = document.getElementById("try-results");
    tryForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const question = document.getElementById("try-question").value.trim();
      if (!question) return;
      tryResults.replaceChildren(el("p", "ad-hint", "Asking the bot…"));
      let answer;
      try {
        answer = await postJSON("/admin/kb/try", { question, draft: draftFields(form) });
      } catch (err) {
        answer = { ok: false, message: "The server cannot be reached." };
      }
      tryResults.replaceChildren(...renderTry(answer));
    });
  }

  // The editor's unsaved fields: "try it" answers as if they were saved.
  function draftFields(form) {
    const fields = { original: form.dataset.original || "" };
    for (const name of ["title", "slug", "department", "tags", "questions", "body"]) {
      const input = form.elements.namedItem(name);
      fields[name] = input ? input.value : "";
    }
    const published = form.elements.namedItem("published");
    fields.published = Boolean(published && published.checked);
    return fields;
  }

  function renderTry(answer) {
    if (!answer.ok) return [el("p", "ad-field-error", answer.message || answer.error)];
    const nodes = [];
    if (answer.with_draft) nodes.push(el("p", "ad-hint ad-try-source", "With your unsaved changes, as if saved:"));
    else if (answer.draft_not_used) nodes.push(el("p", "ad-hint ad-try-source", `From the saved articles (${answer.draft_not_used}):`));
    if (answer.suggestions.length) {
      nodes.push(el("p", "ad-try-verdict", `The bot would suggest ${answer.suggestions.length === 1 ? "this article" : `these ${answer.suggestions.length} articles`}:`));
      const list = el("ol", "ad-try-list");
      for (const card of answer.suggestions) list.append(renderCard(card, null));
      nodes.push(list);
    } else {
      nodes.push(el("p", "ad-try-verdict", "The bot would suggest nothing and offer a person instead."));
      if (answer.closest.length) {
        nodes.push(el("p", "ad-hint", "Closest articles, and why they were not suggested:"));
        const list = el("ol", "ad-try-list");
        for (const card of answer.closest) list.append(renderCard(card, card.why_not));
        nodes.push(list);
      }
    }
    return nodes;
  }

  function renderCard(card, whyNot) {
    const item = el("li", "ad-try-card");
    const head = el("div", "ad-try-head");
    const link = el("a", "ad-strong", card.title);
    link.href = `/admin/kb/${encodeURIComponent(card.slug)}`;
    head.append(link, el("span", "ad-score", `score ${card.score.toFixed(2)}`));
    item.append(head);
    const explanation = card.explanation || {};
    item.append(el("p", "ad-try-reason", explanation.reason || ""));
    if (whyNot) item.append(el("p", "ad-try-why-not", whyNot));
    return item;
  }

  // -- settings: colour picker beside the text field -----------------------------------------------------------
  for (const picker of document.querySelectorAll("input[data-colour-for]")) {
    const text = document.getElementById(`setting-${picker.dataset.colourFor}`);
    const expand = (value) => (/^#[0-9a-f]{3}$/i.test(value) ? "#" + [...value.slice(1)].map((c) => c + c).join("") : value);
    const sync = () => {
      if (/^#[0-9a-f]{6}$/i.test(expand(text.value.trim()))) picker.value = expand(text.value.trim()).toLowerCase();
    };
    sync();
    picker.addEventListener("input", () => { text.value = picker.value; });
    text.addEventListener("input", sync);
  }

  // -- settings: each label chip in its colour (set through the CSSOM: the CSP allows no style attributes) ------
  for (const chip of document.querySelectorAll(".ad-label-chip[data-colour]")) {
    if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(chip.dataset.colour)) chip.style.setProperty("--chip", chip.dataset.colour);
  }
})();
