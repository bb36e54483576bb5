/* The visitor widget: the browser side of the /visitor namespace (docs/protocol.md, docs/widget.md).
 *
 * chatserver/views/widget.py serves it as /widget.js, wrapped with the vendored socket.io client:
 *   (function () { var WIDGET_SCRIPT = document.currentScript, io = <socket.io-client>,
 *                  WIDGET_CSS = "...", WIDGET_DEFAULTS = {...}; <this file> })();
 * so the one global it creates is window.ChatWidget.
 *
 * Delivery: every message gets a client id and waits in an outbox (kept in localStorage) until its ack; on every
 * (re)connect the server sends what we missed after `last_seq` and the outbox is sent again (the server drops
 * duplicates). Messages are shown by `seq`, once. Network text is only ever set as text (textContent / append of
 * strings); the single exception is an article body, which the server sanitises. */

const STRINGS = {
  en: {
    title: "Support", dialog: "Support chat", open: "Open chat", close: "Close chat", unread: "{n} unread",
    subBot: "Our assistant answers right away", subQueue: "Waiting for a person", subAgent: "Here to help",
    subClosed: "Chat ended", offline: "You are offline. Messages will be sent when you are back.",
    reconnecting: "Connecting…", messages: "Messages", placeholder: "Write a message…", message: "Message", send: "Send",
    talk: "Talk to a person", end: "End chat", newChat: "Start a new chat", back: "Back to chat",
    newTab: "Open in new tab", read: "Read article", matches: "Matches “{q}”", helpfulQ: "Did this answer your question?",
    yes: "This solved my question", no: "Not what I need", articleError: "The article could not be loaded.",
    askMore: "Ask something else", you: "You", assistant: "Assistant", sending: "Sending…", waiting: "Waiting for connection…",
    sent: "Sent", failed: "Not sent", retry: "Retry", position: "You are number {n} in line",
    waitAbout: "Estimated wait: about {n} min", waitSoon: "A person will be with you in a moment",
    waitShort: "Estimated wait: less than a minute", keepWriting: "You can keep writing while you wait.",
    nobody: "No one is online right now", hours: "Our hours: {h}.", leaveEmail: "Leave your email and we will reply as soon as we are back.",
    email: "Email address", name: "Name (optional)", sendEmail: "Send", contactDone: "Thanks! We will reply to {e}.",
    joined: "{name} joined the chat", typing: "{name} is typing…", ended: "This chat has ended",
    surveyTitle: "How did we do?", surveyLead: "A few quick questions. Every answer is optional.",
    csat: "How satisfied are you with this chat?", csatLow: "Very unsatisfied", csatHigh: "Very satisfied",
    ces: "The company made it easy for me to handle my issue.", cesLow: "Strongly disagree", cesHigh: "Strongly agree",
    nps: "How likely are you to recommend us to a friend or colleague?", npsLow: "Not likely", npsHigh: "Very likely",
    comment: "Anything else you would like to tell us?", submit: "Send feedback", skip: "Skip",
    thanks: "Thank you!", thanksLead: "Your feedback helps us improve.", error: "Something went wrong. Please try again.",
    past: "Previous chats", pastEmpty: "No previous chats yet.", older: "Show older", ongoing: "Ongoing", chatOn: "Chat of {d}",
  },
  de: {
    title: "Support", dialog: "Support-Chat", open: "Chat öffnen", close: "Chat schließen", unread: "{n} ungelesen",
    subBot: "Unser Assistent antwortet sofort", subQueue: "Warten auf einen Mitarbeiter", subAgent: "Hilft Ihnen gern",
    subClosed: "Chat beendet", offline: "Sie sind offline. Nachrichten werden gesendet, sobald Sie wieder online sind.",
    reconnecting: "Verbinde…", messages: "Nachrichten", placeholder: "Nachricht schreiben…", message: "Nachricht", send: "Senden",
    talk: "Mit einem Menschen sprechen", end: "Chat beenden", newChat: "Neuen Chat starten", back: "Zurück zum Chat",
    newTab: "In neuem Tab öffnen", read: "Artikel lesen", matches: "Passt zu „{q}“", helpfulQ: "Hat das Ihre Frage beantwortet?",
    yes: "Das hat mir geholfen", no: "Nicht das Richtige", articleError: "Der Artikel konnte nicht geladen werden.",
    askMore: "Etwas anderes fragen", you: "Sie", assistant: "Assistent", sending: "Wird gesendet…", waiting: "Warte auf Verbindung…",
    sent: "Gesendet", failed: "Nicht gesendet", retry: "Erneut senden", position: "Sie sind Nummer {n} in der Warteschlange",
    waitAbout: "Geschätzte Wartezeit: etwa {n} Min.", waitSoon: "Gleich ist jemand für Sie da",
    waitShort: "Geschätzte Wartezeit: unter einer Minute", keepWriting: "Sie können weiterschreiben, während Sie warten.",
    nobody: "Gerade ist niemand online", hours: "Unsere Zeiten: {h}.", leaveEmail: "Hinterlassen Sie Ihre E-Mail-Adresse, wir antworten so bald wie möglich.",
    email: "E-Mail-Adresse", name: "Name (optional)", sendEmail: "Senden", contactDone: "Danke! Wir antworten an {e}.",
    joined: "{name} ist dem Chat beigetreten", typing: "{name} schreibt…", ended: "Dieser Chat ist beendet",
    surveyTitle: "Wie war es?", surveyLead: "Ein paar kurze Fragen. Alle Antworten sind freiwillig.",
    csat: "Wie zufrieden sind Sie mit diesem Chat?", csatLow: "Sehr unzufrieden", csatHigh: "Sehr zufrieden",
    ces: "Das Unternehmen hat es mir leicht gemacht, mein Anliegen zu klären.", cesLow: "Stimme gar nicht zu", cesHigh: "Stimme voll zu",
    nps: "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?", npsLow: "Unwahrscheinlich", npsHigh: "Sehr wahrscheinlich",
    comment: "Möchten Sie uns noch etwas sagen?", submit: "Feedback senden", skip: "Überspringen",
    thanks: "Vielen Dank!", thanksLead: "Ihr Feedback hilft uns, besser zu werden.", error: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
    past: "Frühere Chats", pastEmpty: "Noch keine früheren Chats.", older: "Ältere anzeigen", ongoing: "Läuft", chatOn: "Chat vom {d}",
    bot: {
      suggestions: "Diese Artikel könnten Ihre Frage beantworten:",
      more_suggestions: "Das tut uns leid. Vielleicht hilft einer dieser Artikel, oder sprechen Sie mit einem Menschen:",
      no_match: "Ich habe keinen Artikel gefunden, der das beantwortet. Möchten Sie mit einem Menschen sprechen?",
      handoff: "Wir verbinden Sie mit einem Mitarbeiter. Sie können weiterschreiben, während Sie warten.",
      resolved_prompt: "Schön, dass das geholfen hat! Kann ich sonst noch etwas für Sie tun?",
      not_helpful: "Schade, dass das nicht geholfen hat. Möchten Sie mit einem Menschen sprechen?",
    },
  },
  fr: {
    title: "Assistance", dialog: "Chat d’assistance", open: "Ouvrir le chat", close: "Fermer le chat", unread: "{n} non lus",
    subBot: "Notre assistant répond tout de suite", subQueue: "En attente d’un conseiller", subAgent: "À votre écoute",
    subClosed: "Chat terminé", offline: "Vous êtes hors ligne. Les messages partiront dès votre retour.",
    reconnecting: "Connexion…", messages: "Messages", placeholder: "Écrivez un message…", message: "Message", send: "Envoyer",
    talk: "Parler à une personne", end: "Terminer", newChat: "Nouvelle conversation", back: "Retour au chat",
    newTab: "Ouvrir dans un onglet", read: "Lire l’article", matches: "Correspond à « {q} »", helpfulQ: "Cela répond-il à votre question ?",
    yes: "Cela a résolu ma question", no: "Ce n’est pas ce qu’il me faut", articleError: "L’article n’a pas pu être chargé.",
    askMore: "Poser une autre question", you: "Vous", assistant: "Assistant", sending: "Envoi…", waiting: "En attente de connexion…",
    sent: "Envoyé", failed: "Non envoyé", retry: "Réessayer", position: "Vous êtes numéro {n} dans la file",
    waitAbout: "Attente estimée : environ {n} min", waitSoon: "Une personne arrive dans un instant",
    waitShort: "Attente estimée : moins d’une minute", keepWriting: "Vous pouvez continuer à écrire en attendant.",
    nobody: "Personne n’est en ligne pour le moment", hours: "Nos horaires : {h}.", leaveEmail: "Laissez votre e-mail, nous vous répondrons dès notre retour.",
    email: "Adresse e-mail", name: "Nom (facultatif)", sendEmail: "Envoyer", contactDone: "Merci ! Nous répondrons à {e}.",
    joined: "{name} a rejoint le chat", typing: "{name} écrit…", ended: "Cette conversation est terminée",
    surveyTitle: "Votre avis", surveyLead: "Quelques questions rapides, toutes facultatives.",
    csat: "Êtes-vous satisfait de cette conversation ?", csatLow: "Pas du tout", csatHigh: "Très satisfait",
    ces: "L’entreprise m’a facilité le traitement de ma demande.", cesLow: "Pas du tout d’accord", cesHigh: "Tout à fait d’accord",
    nps: "Quelle est la probabilité que vous nous recommandiez ?", npsLow: "Peu probable", npsHigh: "Très probable",
    comment: "Autre chose à nous dire ?", submit: "Envoyer", skip: "Passer",
    thanks: "Merci !", thanksLead: "Votre avis nous aide à progresser.", error: "Une erreur est survenue. Veuillez réessayer.",
    past: "Conversations précédentes", pastEmpty: "Aucune conversation précédente.", older: "Afficher les plus anciennes", ongoing: "En cours", chatOn: "Conversation du {d}",
    bot: {
      suggestions: "Ces articles pourraient répondre à votre question :",
      more_suggestions: "Désolé. L’un de ces articles vous aidera peut-être, ou parlez à un conseiller :",
      no_match: "Je n’ai pas trouvé d’article qui réponde à cela. Voulez-vous parler à un conseiller ?",
      handoff: "Nous vous mettons en relation avec un conseiller. Vous pouvez continuer à écrire en attendant.",
      resolved_prompt: "Ravi d’avoir pu vous aider ! Puis-je faire autre chose pour vous ?",
      not_helpful: "Désolé que cela n’ait pas aidé. Voulez-vous parler à un conseiller ?",
    },
  },
  es: {
    title: "Soporte", dialog: "Chat de soporte", open: "Abrir chat", close: "Cerrar chat", unread: "{n} sin leer",
    subBot: "Nuestro asistente responde al instante", subQueue: "Esperando a una persona", subAgent: "Aquí para ayudarte",
    subClosed: "Chat finalizado", offline: "Estás sin conexión. Los mensajes se enviarán cuando vuelvas.",
    reconnecting: "Conectando…", messages: "Mensajes", placeholder: "Escribe un mensaje…", message: "Mensaje", send: "Enviar",
    talk: "Hablar con una persona", end: "Finalizar", newChat: "Nuevo chat", back: "Volver al chat",
    newTab: "Abrir en otra pestaña", read: "Leer artículo", matches: "Coincide con «{q}»", helpfulQ: "¿Responde a tu pregunta?",
    yes: "Esto resolvió mi duda", no: "No es lo que necesito", articleError: "No se pudo cargar el artículo.",
    askMore: "Preguntar otra cosa", you: "Tú", assistant: "Asistente", sending: "Enviando…", waiting: "Esperando conexión…",
    sent: "Enviado", failed: "No enviado", retry: "Reintentar", position: "Eres el número {n} en la cola",
    waitAbout: "Espera estimada: unos {n} min", waitSoon: "Una persona te atenderá enseguida",
    waitShort: "Espera estimada: menos de un minuto", keepWriting: "Puedes seguir escribiendo mientras esperas.",
    nobody: "No hay nadie conectado ahora", hours: "Nuestro horario: {h}.", leaveEmail: "Déjanos tu correo y te responderemos en cuanto volvamos.",
    email: "Correo electrónico", name: "Nombre (opcional)", sendEmail: "Enviar", contactDone: "¡Gracias! Responderemos a {e}.",
    joined: "{name} se ha unido al chat", typing: "{name} está escribiendo…", ended: "Este chat ha terminado",
    surveyTitle: "¿Qué tal lo hicimos?", surveyLead: "Unas preguntas rápidas, todas opcionales.",
    csat: "¿Qué tan satisfecho estás con este chat?", csatLow: "Muy insatisfecho", csatHigh: "Muy satisfecho",
    ces: "La empresa me facilitó resolver mi asunto.", cesLow: "Muy en desacuerdo", cesHigh: "Muy de acuerdo",
    nps: "¿Qué probabilidad hay de que nos recomiendes?", npsLow: "Poco probable", npsHigh: "Muy probable",
    comment: "¿Algo más que quieras contarnos?", submit: "Enviar opinión", skip: "Omitir",
    thanks: "¡Gracias!", thanksLead: "Tu opinión nos ayuda a mejorar.", error: "Algo salió mal. Inténtalo de nuevo.",
    past: "Chats anteriores", pastEmpty: "Aún no hay chats anteriores.", older: "Ver anteriores", ongoing: "En curso", chatOn: "Chat del {d}",
    bot: {
      suggestions: "Estos artículos pueden responder a tu pregunta:",
      more_suggestions: "Lo sentimos. Quizá te ayude uno de estos, o habla con una persona:",
      no_match: "No encontré ningún artículo que responda a esto. ¿Quieres hablar con una persona?",
      handoff: "Te estamos poniendo en contacto con una persona. Puedes seguir escribiendo mientras esperas.",
      resolved_prompt: "¡Me alegro de que te haya servido! ¿Puedo ayudarte en algo más?",
      not_helpful: "Siento que no te haya servido. ¿Quieres hablar con una persona?",
    },
  },
};

const ICONS = {
  chat: '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-3.9-.9L3 20.5l1.5-4.6A8.1 8.1 0 0 1 3 11.5 8.5 8.5 0 0 1 12 3a8.5 8.5 0 0 1 9 8.5z"/>',
  down: '<path d="m6 9 6 6 6-6"/>',
  x: '<path d="M18 6 6 18M6 6l12 12"/>',
  send: '<path d="M5 12h14M13 6l6 6-6 6"/>',
  back: '<path d="M19 12H5M11 18l-6-6 6-6"/>',
  person: '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
  desk: '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-3.9-.9L3 20.5l1.5-4.6A8.1 8.1 0 0 1 3 11.5 8.5 8.5 0 0 1 12 3a8.5 8.5 0 0 1 9 8.5z"/><path stroke-width="2.6" d="M8 11.5h.01M12 11.5h.01M16 11.5h.01"/>',
  check: '<circle cx="12" cy="12" r="10"/><path d="m8 12 3 3 5-6"/>',
};

const scriptEl = WIDGET_SCRIPT
  || Array.from(document.scripts).reverse().find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
const SERVER = scriptEl ? new URL(scriptEl.src, location.href).origin : WIDGET_DEFAULTS.base_url;
const ATTRS = (scriptEl && scriptEl.dataset) || {};
const LANG = pickLanguage(ATTRS.language || document.documentElement.lang || navigator.language);
const ACK_MS = 10000;
const TYPING_EVERY_MS = 2000;   // docs/protocol.md: visitor typing at most every 2 s
const STORE_KEY = "chat-widget:" + SERVER;
const COLOUR_RE = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function pickLanguage(tag) {
  const base = String(tag || "en").toLowerCase().split(/[-_]/)[0];
  return STRINGS[base] ? base : "en";
}

function t(key, vars) {
  const text = STRINGS[LANG][key] || STRINGS.en[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars && vars[name] != null ? vars[name] : ""));
}

// -- storage: the token, the current conversation and the outbox survive reloads and are shared by tabs --------

const storage = (() => {
  try {
    localStorage.setItem(STORE_KEY + ":probe", "1");
    localStorage.removeItem(STORE_KEY + ":probe");
    return localStorage;
  } catch (e) {
    return null;  // storage blocked (private mode, sandboxed frame): keep everything in memory
  }
})();
let memoryStore = {};

function stored() {
  if (!storage) return memoryStore;
  try {
    return JSON.parse(storage.getItem(STORE_KEY)) || {};
  } catch (e) {
    return {};
  }
}

function persist(changes) {
  const next = Object.assign(stored(), changes);
  if (!storage) memoryStore = next;
  else try { storage.setItem(STORE_KEY, JSON.stringify(next)); } catch (e) { /* quota: keep going */ }
  return next;
}

const outbox = () => stored().outbox || [];
const setOutbox = (items) => persist({ outbox: items });
const patchItem = (id, changes) => setOutbox(outbox().map((i) => (i.id === id ? Object.assign({}, i, changes) : i)));

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sessionFlag(name, value) {
  try {
    if (value === undefined) return sessionStorage.getItem(STORE_KEY + ":" + name) === "1";
    sessionStorage.setItem(STORE_KEY + ":" + name, value ? "1" : "0");
  } catch (e) { /* no session storage: the panel just starts closed */ }
  return false;
}

// -- DOM helpers ------------------------------------------------------------------------------------------

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const key in props || {}) {
    const value = props[key];
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null && child !== false) el.append(child);
  return el;
}

function icon(name, cls) {
  const holder = document.createElement("span");
  holder.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true">' + ICONS[name] + "</svg>";  // constant markup
  const svg = holder.firstChild;
  if (cls) svg.setAttribute("class", cls);
  return svg;
}

/** Plain text with http(s) links made clickable; every piece is a text node. */
function richText(el, text) {
  const re = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    el.append(text.slice(last, m.index),
      h("a", { href: m[0], target: "_blank", rel: "noopener noreferrer nofollow", text: m[0] }));
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
  return el;
}

function clock(seconds) {
  try {
    return new Date(seconds * 1000).toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
  } catch (e) {
    return "";
  }
}

function luminance(hex) {
  let digits = hex.slice(1);
  if (digits.length === 3) digits = digits.replace(/./g, "$&$&");
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(digits.substr(i, 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// -- state ------------------------------------------------------------------------------------------------

const S = {
  config: {
    greeting: WIDGET_DEFAULTS.greeting, colour: WIDGET_DEFAULTS.colour, business_hours: "",
    max_message_chars: 4000,
  },
  cid: stored().cid || null,  // the conversation shown (open, or just closed)
  floor: 0,                   // conversations up to this id are over: ignore late events for them
  status: null,               // null (no chat yet) | bot | queued | assigned | closed
  agentName: null,
  queue: null,
  agentsOnline: null,
  rows: new Map(),            // seq -> row element, for the conversation shown
  maxSeq: 0,
  survey: null,               // {conversation_id, nps} while a survey is offered
  view: "chat",
  open: false,
  unread: 0,
  ready: false,               // a session arrived on the current connection
  hadSession: false,
};
const listeners = {};
let socket = null;

function fire(name, detail) {
  for (const fn of (listeners[name] || []).slice()) {
    try { fn(detail); } catch (e) { console.error(e); }
  }
}

// -- the UI -----------------------------------------------------------------------------------------------

const host = h("div", { "data-chat-widget": "" });
const root = host.attachShadow({ mode: "open" });
if (root.adoptedStyleSheets && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
  // Constructed sheets are not inline styles: a host page's strict style-src CSP does not block them.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(WIDGET_CSS);
  root.adoptedStyleSheets = [sheet];
} else {
  root.append(h("style", { text: WIDGET_CSS }));
}

const ui = {};
ui.badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
ui.launcher = h("button", {
  class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "cw-panel", hidden: true,
  onclick: () => (S.open ? close() : open()),
}, icon("chat", "i-chat"), icon("down", "i-close"), ui.badge);

ui.avatar = h("div", { class: "av", "aria-hidden": "true" });
ui.title = h("h2", { class: "title" });
ui.sub = h("p", { class: "sub" });
ui.end = h("button", { class: "hbtn", type: "button", text: t("end"), hidden: true, onclick: endChat });
ui.close = h("button", { class: "hbtn", type: "button", "aria-label": t("close"), onclick: () => close() }, icon("x"));
ui.conn = h("div", { class: "conn", role: "status", hidden: true });

ui.greeting = h("div", { class: "row them" }, h("div", { class: "name", text: t("assistant") }), h("div", { class: "bubble" }));
ui.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("messages") });
ui.pending = h("div", { class: "outbox" });
ui.queue = h("div", { class: "qcard", role: "status", hidden: true });
ui.typingText = h("span");
ui.typing = h("div", { class: "typing", hidden: true },
  h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), ui.typingText);
ui.body = h("div", { class: "body" }, ui.greeting, ui.log, ui.pending, ui.queue, ui.typing);

ui.talk = h("button", { class: "talk", type: "button", onclick: requestAgent }, icon("person"), t("talk"));
ui.input = h("textarea", {
  rows: "1", placeholder: t("placeholder"), "aria-label": t("message"), enterkeyhint: "send",
  oninput: onInput, onkeydown: (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitMessage(); }
  },
});
ui.send = h("button", { class: "send", type: "submit", "aria-label": t("send") }, icon("send"));
ui.composer = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); submitMessage(); } }, ui.input, ui.send);
ui.newChat = h("button", { class: "btn", type: "button", text: t("newChat"), hidden: true, onclick: newChat });
ui.pastLink = h("button", { class: "link past", type: "button", text: t("past"), hidden: true, onclick: () => openHistory() });
ui.foot = h("div", { class: "foot" }, ui.talk, ui.composer, ui.newChat, ui.pastLink);
ui.chat = h("div", { class: "view" }, ui.body, ui.foot);

ui.article = h("div", { class: "view", hidden: true });
ui.surveyView = h("div", { class: "view survey", hidden: true });
ui.history = h("div", { class: "view", hidden: true });

ui.panel = h("section", {
  class: "panel", id: "cw-panel", role: "dialog", "aria-label": t("dialog"), "aria-modal": "false",
  tabindex: "-1", hidden: true,
  onkeydown: (e) => {
    if (e.key === "Escape") { e.stopPropagation(); close(); }
    if (e.key === "Tab" && PHONE.matches) wrapFocus(e);
  },
}, h("div", { class: "head" }, ui.avatar, h("div", { class: "who" }, ui.title, ui.sub), ui.end, ui.close),
ui.conn, ui.chat, ui.article, ui.surveyView, ui.history);

ui.frame = h("div", { class: "cw" }, ui.panel, ui.launcher);
root.append(ui.frame);

const PHONE = window.matchMedia("(max-width: 480px)");

/** On a phone the panel covers the page: Tab cycles inside it instead of reaching the hidden page. */
function wrapFocus(e) {
  const focusable = Array.from(ui.panel.querySelectorAll("button, textarea, input, a[href]"))
    .filter((el) => !el.disabled && el.getClientRects().length);
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const current = root.activeElement;
  if (e.shiftKey && (current === first || current === ui.panel)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && current === last) { e.preventDefault(); first.focus(); }
}

function applyConfig() {
  const c = S.config;
  const colour = COLOUR_RE.test(ATTRS.colour || ATTRS.color || "") ? (ATTRS.colour || ATTRS.color)
    : (COLOUR_RE.test(c.colour || "") ? c.colour : WIDGET_DEFAULTS.colour);
  const lum = luminance(colour);
  const style = ui.frame.style;
  style.setProperty("--accent", colour);
  style.setProperty("--on-accent", lum > 0.45 ? "#101828" : "#fff");
  style.setProperty("--accent-ink", lum > 0.3 ? "#1d2939" : colour);
  style.setProperty("--tint", lum > 0.45 ? "rgba(16,24,40,.08)" : "rgba(255,255,255,.18)");
  ui.frame.classList.toggle("left", ATTRS.position === "left");
  ui.greeting.lastChild.textContent = ATTRS.greeting || c.greeting || "";
  ui.input.maxLength = c.max_message_chars || 4000;
}

function render() {
  const status = S.status;
  const name = status === "assigned" && S.agentName;
  ui.title.textContent = name || t("title");
  ui.avatar.textContent = "";
  if (name) ui.avatar.textContent = name.trim().charAt(0).toUpperCase();
  else ui.avatar.append(icon("desk"));
  ui.avatar.classList.toggle("away", status === "queued" && !S.agentsOnline);
  ui.avatar.classList.toggle("off", status === "closed");
  ui.sub.textContent = status === "closed" ? t("subClosed") : status === "queued" ? t("subQueue")
    : name ? t("subAgent") : t("subBot");
  const live = status === "bot" || status === "queued" || status === "assigned";
  ui.end.hidden = !live;
  ui.talk.hidden = !(status == null || status === "bot");
  ui.composer.hidden = status === "closed";
  ui.newChat.hidden = status !== "closed";
  ui.pastLink.hidden = !(stored().past && (status == null || status === "closed"));
  renderConnection();
  renderQueue();
  renderBadge();
}

function renderConnection() {
  const offline = navigator.onLine === false;
  const connecting = !offline && socket && !S.ready && S.hadSession;
  ui.conn.hidden = !(offline || connecting);
  ui.conn.textContent = offline ? t("offline") : t("reconnecting");
}

function renderBadge() {
  ui.badge.hidden = !S.unread;
  ui.badge.textContent = S.unread > 9 ? "9+" : String(S.unread);
  ui.launcher.setAttribute("aria-label", (S.open ? t("close") : t("open")) + (S.unread ? ", " + t("unread", { n: S.unread }) : ""));
}

let queueShown = "";

function renderQueue() {
  const q = S.queue;
  const card = ui.queue;
  card.hidden = !(S.status === "queued" && q);
  const nobody = !card.hidden && (!q.agents_online || q.estimated_wait_seconds == null);
  const contact = stored().contact;
  // Rebuild only on a change a visitor should see: never under the fingers of someone typing their email.
  const shown = card.hidden ? "" : JSON.stringify(nobody ? [S.config.business_hours, contact && contact.sent]
    : [q.position, q.estimated_wait_seconds]);
  if (shown === queueShown) return;
  queueShown = shown;
  card.textContent = "";
  if (card.hidden) return;
  if (nobody) {
    card.append(h("h3", { text: t("nobody") }));
    if (S.config.business_hours) card.append(h("p", { text: t("hours", { h: S.config.business_hours }) }));
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

// -- messages ---------------------------------------------------------------------------------------------

function authorName(m) {
  if (m.author === "agent") return m.agent_name || t("title");
  if (m.author === "bot") return t("assistant");
  return t("you");
}

function articleCard(card) {
  const matched = card.explanation && card.explanation.matched_question;
  return h("button", { class: "card", type: "button", "data-slug": card.slug, onclick: () => openArticle(card.slug) },
    h("b", { text: card.title }),
    card.excerpt ? h("span", { text: card.excerpt }) : null,
    h("small", { text: matched ? t("matches", { q: matched }) : t("read") }));
}

/** One message as a row; `previous` is the row shown before it (same author: no repeated name). A `live` row can
 * act (the resolved prompt's buttons) and says "Sent"; a row of an earlier chat's transcript only shows. */
function messageRow(m, previous, live) {
  if (m.author === "system") return h("div", { class: "sys", text: m.text });
  const mine = m.author === "visitor";
  const row = h("div", { class: mine ? "row me" : "row them" });
  const sameAuthor = previous && previous.dataset.author === m.author && previous.dataset.agent === String(m.agent_id || "");
  if (!sameAuthor) row.classList.add("gap");
  if (!mine && !sameAuthor) row.append(h("div", { class: "name", "aria-hidden": "true", text: authorName(m) }));
  row.dataset.author = m.author;
  row.dataset.agent = String(m.agent_id || "");
  const payload = m.payload || {};
  const bubble = h("div", { class: "bubble" }, h("span", { class: "sr", text: authorName(m) + ": " }));
  row.append(richText(bubble, botLine(m, payload) || m.text || ""));
  if (m.kind === "suggestions" && Array.isArray(payload.articles)) {
    row.append(h("div", { class: "cards" }, payload.articles.map(articleCard)));
  } else if (m.kind === "article" && payload.slug) {
    row.append(h("div", { class: "cards" }, articleCard(payload)));
  } else if (m.kind === "resolved_prompt" && live) {
    row.append(h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("end"), onclick: endChat }),
      h("button", { class: "btn ghost", type: "button", text: t("askMore"), onclick: () => ui.input.focus() })));
  }
  if (!live) row.append(h("div", { class: "meta", text: clock(m.created_at) }));
  else if (mine) row.append(h("div", { class: "meta", text: clock(m.created_at) + " · " + t("sent") }));
  return row;
}

/** The bot's own lines in the widget's language: the server stores them in English and names each with
 * `payload.say`; unknown names (and English) show the stored text. */
function botLine(m, payload) {
  const lines = STRINGS[LANG].bot;
  return m.author === "bot" && lines && typeof payload.say === "string" && Object.prototype.hasOwnProperty.call(lines, payload.say)
    ? lines[payload.say] : null;
}

function lastRowBefore(seq) {
  let best = null;
  let bestSeq = -1;
  for (const [s, el] of S.rows) if (s < seq && s > bestSeq) { best = el; bestSeq = s; }
  return best;
}

function firstRowAfter(seq) {
  let best = null;
  let bestSeq = Infinity;
  for (const [s, el] of S.rows) if (s > seq && s < bestSeq) { best = el; bestSeq = s; }
  return best;
}

/** Start showing conversation `cid` (a new or another tab's conversation): the log starts empty. */
function showConversation(cid) {
  S.cid = cid;
  if (!stored().past) persist({ past: true });
  S.rows.clear();
  S.maxSeq = 0;
  ui.log.textContent = "";
  S.agentName = null;
  S.queue = null;
  if (S.status === "closed" || S.status == null) S.status = "bot";
  persist({ cid });
}

/** Show one stored message, once, in seq order. `live` messages may count as unread. */
function addMessage(m, live) {
  if (!m || typeof m.seq !== "number" || typeof m.conversation_id !== "number") return;
  if (m.conversation_id !== S.cid) {
    if (m.conversation_id <= S.floor || (S.cid != null && m.conversation_id < S.cid)) return;
    showConversation(m.conversation_id);
  }
  if (m.client_id) forgetPending(m.client_id);
  if (S.rows.has(m.seq)) return;
  const row = messageRow(m, lastRowBefore(m.seq), true);
  row.dataset.seq = m.seq;
  row.dataset.author = m.author;
  ui.log.insertBefore(row, firstRowAfter(m.seq));
  S.rows.set(m.seq, row);
  S.maxSeq = Math.max(S.maxSeq, m.seq);
  if (m.author === "agent") {
    showTyping(false);
    if (S.status !== "assigned" || S.agentName !== m.agent_name) {
      S.status = "assigned";
      S.agentName = m.agent_name || S.agentName;
      render();
    }
  }
  if (live && m.author !== "visitor") {
    if (!S.open) { S.unread += 1; renderBadge(); fire("unread", S.unread); }
    fire("message", { author: m.author, text: m.text, agent_name: m.agent_name || null, kind: m.kind });
  }
}

/** Whether an event names the conversation shown; an event naming a newer one (e.g. created by a request
 * before any message) makes it the one shown. */
function isCurrent(cid) {
  if (typeof cid !== "number") return false;
  if (cid !== S.cid && cid > S.floor && (S.cid == null || cid > S.cid)) showConversation(cid);
  return cid === S.cid;
}

function systemLine(text) {
  ui.log.append(h("div", { class: "sys", text }));
}

// -- the outbox -------------------------------------------------------------------------------------------

const pendingRows = new Map();

function renderPending() {
  const items = outbox();
  const ids = new Set(items.map((i) => i.id));
  for (const [id, row] of pendingRows) if (!ids.has(id)) { row.remove(); pendingRows.delete(id); }
  for (const item of items) {
    let row = pendingRows.get(item.id);
    if (!row) {
      row = h("div", { class: "row me gap", "data-client-id": item.id },
        richText(h("div", { class: "bubble" }, h("span", { class: "sr", text: t("you") + ": " })), item.text),
        h("div", { class: "meta" }));
      pendingRows.set(item.id, row);
    }
    ui.pending.append(row);  // keeps outbox order
    const meta = row.lastChild;
    meta.textContent = "";
    row.classList.toggle("failed", !!item.failed);
    if (item.failed) {
      meta.append(t("failed") + (typeof item.failed === "string" ? ": " + item.failed : "") + " · ",
        h("button", { class: "link", type: "button", text: t("retry"), onclick: () => retry(item.id) }));
    } else {
      meta.textContent = S.ready ? t("sending") : t("waiting");
    }
  }
}

function forgetPending(clientId) {
  if (outbox().some((i) => i.id === clientId)) setOutbox(outbox().filter((i) => i.id !== clientId));
  renderPending();
}

function retry(id) {
  patchItem(id, { failed: false });
  renderPending();
  connect();
  flush();
}

function submitMessage() {
  const text = ui.input.value.trim();
  if (!text) return;
  setOutbox(outbox().concat([{ id: newClientId(), text, at: Date.now() / 1000 }]));
  ui.input.value = "";
  autosize();
  renderPending();
  scrollDown(true);
  sendTyping(false);
  connect();
  flush();
}

let flushing = false;
const busyRetries = new Map();  // client id -> automatic retries used after rate_limited / storage_error
const BUSY_RETRIES = 2;

/** Send the outbox in order, one message at a time, each until its ack (or a failure that needs the visitor). */
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (socket && socket.connected && S.ready) {
      const item = outbox().find((i) => !i.failed);
      if (!item) break;
      let ack;
      try {
        ack = await socket.timeout(ACK_MS).emitWithAck("message", { client_id: item.id, text: item.text });
      } catch (e) {
        // No ack in time, or the connection dropped: the next connect (or this retry) sends it again.
        setTimeout(flush, 2000);
        break;
      }
      if (ack && ack.ok) {
        addMessage({
          id: ack.id, seq: ack.seq, conversation_id: ack.conversation_id, author: "visitor", kind: "text",
          text: item.text, created_at: ack.created_at, client_id: item.id,
        }, false);
        scrollDown(false);
      } else if (ack && (ack.error === "rate_limited" || ack.error === "storage_error")
                 && (busyRetries.get(item.id) || 0) < BUSY_RETRIES) {
        busyRetries.set(item.id, (busyRetries.get(item.id) || 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } else {
        busyRetries.delete(item.id);
        // A busy server needs no explanation; a refusal of the text itself (too long...) does.
        const busy = !ack || ack.error === "rate_limited" || ack.error === "storage_error";
        patchItem(item.id, { failed: (!busy && ack.message) || true });
        renderPending();
      }
    }
  } finally {
    flushing = false;
  }
}

// -- typing -----------------------------------------------------------------------------------------------

let typingAt = 0;
let typingOn = false;
let typingTimer = null;
let idleTimer = null;

function sendTyping(on) {
  clearTimeout(typingTimer);
  if (!on) clearTimeout(idleTimer);
  if (on === typingOn && !on) return;
  const wait = typingAt + TYPING_EVERY_MS - Date.now();
  if (wait > 0) { typingTimer = setTimeout(() => sendTyping(on), wait); return; }
  if (!socket || !socket.connected || S.status !== "assigned") { typingOn = false; return; }
  typingAt = Date.now();
  typingOn = on;
  socket.volatile.emit("typing", { typing: on });  // a stale typing flag is not worth resending
}

function onInput() {
  autosize();
  if (S.status !== "assigned" || !ui.input.value.trim()) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => sendTyping(false), 3000);
  if (!typingOn || Date.now() - typingAt > 4000) sendTyping(true);
}

let agentTypingTimer = null;

function showTyping(on, name) {
  clearTimeout(agentTypingTimer);
  ui.typing.hidden = !on;
  if (on) {
    ui.typingText.textContent = t("typing", { name: name || S.agentName || t("title") });
    agentTypingTimer = setTimeout(() => showTyping(false), 8000);
    scrollDown(false);
  }
}

// -- the connection ---------------------------------------------------------------------------------------

function connect() {
  if (socket) {
    // Only a socket that is neither connected nor connecting: connect() on one whose namespace CONNECT is still
    // unanswered sends a second CONNECT, and the server drops the whole connection.
    if (!socket.active && navigator.onLine !== false) socket.connect();
    return;
  }
  socket = io(SERVER + "/visitor", {
    // A function, so every reconnect sends the latest token and last_seq.
    auth: (cb) => cb({
      visitor_token: stored().token || null,
      last_seq: S.rows.size ? S.maxSeq : null,
      conversation_id: S.cid,
      page_url: location.href.slice(0, 1000),
    }),
    reconnectionDelayMax: 5000,
  });
  socket.on("connect", render);
  socket.on("disconnect", (reason) => {
    S.ready = false;
    render();
    renderPending();
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 3000);
  });
  socket.on("connect_error", (err) => {
    if (!socket.active) setTimeout(() => socket.connect(), err && err.data && err.data.error === "rate_limited" ? 30000 : 5000);
  });
  socket.on("session", onSession);
  socket.on("message", (m) => { addMessage(m, true); scrollDown(false); });
  socket.on("typing", (e) => { if (e && e.conversation_id === S.cid) showTyping(!!e.typing, e.agent_name); });
  socket.on("queue", onQueue);
  socket.on("agent_joined", (e) => {
    if (!e || !isCurrent(e.conversation_id)) return;
    S.status = "assigned";
    S.agentName = e.agent_name;
    S.queue = null;
    systemLine(t("joined", { name: e.agent_name }));
    render();
    scrollDown(false);
    fire("agent_joined", { agent_name: e.agent_name });
  });
  socket.on("conversation_closed", onClosed);
}

/** Reconnect now instead of waiting for the back-off timer (the network just came back, or the tab woke up). */
function reconnectNow() {
  if (!socket || socket.connected || navigator.onLine === false) return;
  socket.disconnect();
  socket.connect();
}

function call(event, payload, timeout) {
  connect();
  return socket.timeout(timeout || ACK_MS).emitWithAck(event, payload)
    .catch(() => ({ ok: false, error: "timeout", message: t("error") }));
}

async function onSession(session) {
  persist({ token: session.visitor_token });
  // A conversation at or below the floor was closed (this socket may have heard so before the snapshot came):
  // conversations never reopen, so such a snapshot is stale.
  const conversation = session.conversation && session.conversation.id > S.floor ? session.conversation : null;
  if (conversation) {
    if (conversation.id !== S.cid || S.status === "closed") showConversation(conversation.id);
    S.status = conversation.status;
    S.agentName = conversation.agent_name || (conversation.status === "assigned" ? S.agentName : null);
    S.queue = session.queue;
  } else if (S.cid != null) {
    // The conversation ended while we were away.
    S.floor = Math.max(S.floor, S.cid);
    if (S.rows.size && S.status !== "closed") { systemLine(t("ended")); S.status = "closed"; }
    if (!S.rows.size) { S.cid = null; S.status = null; persist({ cid: null }); }
  }
  S.agentsOnline = session.agents_online;
  ui.log.setAttribute("aria-busy", "true");
  for (const m of session.messages || []) addMessage(m, S.hadSession);
  ui.log.setAttribute("aria-busy", "false");
  if (session.survey && !conversation) S.survey = session.survey;
  S.ready = true;
  S.hadSession = true;
  render();
  renderPending();
  scrollDown(true);
  if ((session.messages || []).length >= 1000) catchUp();
  if (S.survey && S.open && S.view === "chat") showSurvey();
  sendContact();
  flush();
}

async function catchUp() {
  for (let more = true; more && S.cid != null;) {
    const ack = await call("sync", { after_seq: S.maxSeq, conversation_id: S.cid });
    if (!ack.ok) return;
    ack.messages.forEach((m) => addMessage(m, false));
    more = ack.more;
  }
}

function onQueue(q) {
  if (!q || !isCurrent(q.conversation_id)) return;
  if (S.status !== "assigned") S.status = "queued";
  S.queue = q;
  S.agentsOnline = q.agents_online;
  render();
  scrollDown(false);
}

function onClosed(e) {
  if (!e || e.conversation_id !== S.cid) return;
  S.status = "closed";
  S.floor = Math.max(S.floor, e.conversation_id);
  S.queue = null;
  showTyping(false);
  systemLine(t("ended"));
  if (e.survey) S.survey = { conversation_id: e.conversation_id, nps: !!e.survey.nps };
  render();
  scrollDown(false);
  if (S.survey && S.open) showSurvey();
  else if (!S.open && S.survey) { S.unread += 1; renderBadge(); fire("unread", S.unread); }
  fire("conversation_closed", { resolution: e.resolution, closed_by: e.closed_by });
}

async function requestAgent() {
  ui.talk.disabled = true;
  const ack = await call("request_agent", {});
  ui.talk.disabled = false;
  if (!ack.ok) return;
  if (!isCurrent(ack.conversation_id)) return;
  if (S.status !== "assigned") S.status = ack.status;
  if (ack.queue) S.queue = ack.queue;
  S.agentsOnline = ack.agents_online;
  render();
  scrollDown(true);
}

async function endChat() {
  if (S.status === "closed" || S.status == null) return;
  await call("close", {});
}

function newChat() {
  S.cid = null;
  S.status = null;
  S.agentName = null;
  S.queue = null;
  S.rows.clear();
  S.maxSeq = 0;
  ui.log.textContent = "";
  persist({ cid: null });
  showView("chat");
  render();
  ui.input.focus();
}

function sendContact() {
  const contact = stored().contact;
  if (!contact || contact.sent || !contact.email || !socket || !S.ready) return;
  call("contact", { email: contact.email, name: contact.name || undefined }).then((ack) => {
    if (ack.ok) persist({ contact: { email: ack.email, name: ack.name, sent: true } });
    else if (ack.error !== "timeout") { console.warn("ChatWidget.identify:", ack.message); persist({ contact: null }); }
  });
}

// -- article view -----------------------------------------------------------------------------------------

function showView(name) {
  S.view = name;
  ui.chat.hidden = name !== "chat";
  ui.article.hidden = name !== "article";
  ui.surveyView.hidden = name !== "survey";
  ui.history.hidden = name !== "history";
}

function viewBar(extra) {
  return h("div", { class: "vbar" },
    h("button", { class: "hbtn", type: "button", "aria-label": t("back"), onclick: backToChat }, icon("back")), extra);
}

function backToChat() {
  showView("chat");
  scrollDown(true);
  ui.input.focus();
}

async function openArticle(slug) {
  const view = ui.article;
  view.textContent = "";
  const title = h("h2", { tabindex: "-1" });
  const body = h("div", { class: "kb" }, h("div", { class: "loading" }, h("span", { class: "spin" })));
  const feedback = h("div", { class: "vfoot", hidden: true },
    h("p", { text: t("helpfulQ") }),
    h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", text: t("yes"), onclick: () => articleFeedback(slug, true) }),
      h("button", { class: "btn ghost", type: "button", text: t("no"), onclick: () => articleFeedback(slug, false) })));
  view.append(
    viewBar(h("a", { href: SERVER + "/kb/" + encodeURIComponent(slug), target: "_blank", rel: "noopener", text: t("newTab") })),
    h("div", { class: "scroll" }, title, body), feedback);
  showView("article");
  view.querySelector(".hbtn").focus();
  const ack = await call("article", { slug });
  if (S.view !== "article" || !view.contains(title)) return;
  if (!ack.ok) {
    body.textContent = (ack.error === "article_not_found" && ack.message) || t("articleError");
    return;
  }
  title.textContent = ack.article.title;
  // The one place network HTML is used: article bodies are sanitised by the server (docs/protocol.md).
  body.innerHTML = ack.article.html;
  for (const a of body.querySelectorAll("a[href]")) {
    const url = new URL(a.getAttribute("href"), SERVER);
    const kb = url.origin === SERVER && /^\/kb\/([a-z0-9][a-z0-9-]*)$/.exec(url.pathname);
    if (kb) a.addEventListener("click", (e) => { e.preventDefault(); openArticle(kb[1]); });
    a.href = url.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  for (const img of body.querySelectorAll("img[src]")) img.src = new URL(img.getAttribute("src"), SERVER).href;
  feedback.hidden = !(S.status === "bot" || S.status === "queued" || S.status === "assigned");
  title.focus();
}

async function articleFeedback(slug, helpful) {
  for (const b of ui.article.querySelectorAll(".vfoot button")) b.disabled = true;
  await call("article_feedback", { slug, helpful });
  backToChat();
}

// -- previous chats ---------------------------------------------------------------------------------------

function day(seconds) {
  try {
    return new Date(seconds * 1000).toLocaleDateString(LANG, { day: "numeric", month: "short", year: "numeric" });
  } catch (e) {
    return "";
  }
}

/** The visitor's own conversations, newest first (the `conversations` event), 20 at a time. */
async function openHistory() {
  const view = ui.history;
  view.textContent = "";
  const list = h("ul", { class: "past-list" });
  const more = h("button", { class: "btn ghost", type: "button", text: t("older"), hidden: true });
  const note = h("p", { class: "lead" }, h("span", { class: "spin" }));
  view.append(viewBar(h("h2", { class: "vtitle", tabindex: "-1", text: t("past") })),
    h("div", { class: "scroll" }, list, note, more));
  showView("history");
  view.querySelector(".vtitle").focus();
  let before;
  const page = async () => {
    more.disabled = true;
    const ack = await call("conversations", before ? { before_id: before } : {});
    more.disabled = false;
    if (S.view !== "history" || !view.contains(list)) return;
    if (!ack.ok) { note.textContent = t("error"); return; }
    for (const c of ack.conversations) {
      const open = c.status !== "closed";
      list.append(h("li", {}, h("button", { class: "card", type: "button", "data-conversation": String(c.id),
        onclick: () => (open && c.id === S.cid ? backToChat() : openTranscript(c)) },
      h("b", { text: c.preview || t("chatOn", { d: day(c.created_at) }) }),
      h("small", { text: [day(c.created_at), c.agent_name, open ? t("ongoing") : null].filter(Boolean).join(" · ") }))));
      before = c.id;
    }
    note.textContent = list.childElementCount ? "" : t("pastEmpty");
    more.hidden = !ack.more;
  };
  more.onclick = page;
  await page();
}

/** One earlier conversation, read-only: every message, fetched with `sync` from the start. */
async function openTranscript(c) {
  const view = ui.history;
  view.textContent = "";
  const log = h("div", { class: "log" }, h("div", { class: "loading" }, h("span", { class: "spin" })));
  const bar = viewBar(h("h2", { class: "vtitle", tabindex: "-1", text: t("chatOn", { d: day(c.created_at) }) }));
  bar.querySelector(".hbtn").onclick = () => openHistory();
  view.append(bar, h("div", { class: "scroll" }, log));
  view.querySelector(".vtitle").focus();
  const messages = [];
  for (let after = 0, more = true; more;) {
    const ack = await call("sync", { conversation_id: c.id, after_seq: after });
    if (S.view !== "history" || !view.contains(log)) return;
    if (!ack.ok) { log.textContent = t("error"); return; }
    messages.push(...ack.messages);
    after = ack.messages.length ? ack.messages[ack.messages.length - 1].seq : after;
    more = ack.more && ack.messages.length > 0;
  }
  log.textContent = "";
  for (const m of messages) log.append(messageRow(m, log.lastElementChild, false));
}

// -- survey view ------------------------------------------------------------------------------------------

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

function showSurvey() {
  const offer = S.survey;
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
  const offer = S.survey;
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
  S.survey = null;  // answered, dismissed, or no longer answerable (expired, already answered)
  if (!answered) return backToChat();
  ui.surveyView.textContent = "";
  ui.surveyView.append(viewBar(null), h("div", { class: "scroll done", role: "status" },
    icon("check"), h("h2", { text: t("thanks") }), h("p", { text: t("thanksLead") }),
    h("button", { class: "btn", type: "button", text: t("back"), onclick: backToChat })));
  ui.surveyView.querySelector(".done .btn").focus();
  fire("survey", { answers });
}

// -- open, close, scrolling -------------------------------------------------------------------------------

function scrollDown(force) {
  const body = ui.body;
  const nearBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 120;
  if (force || nearBottom) requestAnimationFrame(() => { body.scrollTop = body.scrollHeight; });
}

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 128) + "px";
}

function open() {
  if (!started) { openWhenReady = true; return; }
  S.open = true;
  sessionFlag("open", true);
  ui.panel.hidden = false;
  ui.frame.classList.add("open");
  ui.launcher.setAttribute("aria-expanded", "true");
  S.unread = 0;
  renderBadge();
  connect();
  if (S.survey && S.view === "chat" && S.status !== "bot" && S.status !== "queued" && S.status !== "assigned") showSurvey();
  else if (S.view === "chat") { scrollDown(true); ui.input.focus({ preventScroll: true }); }
  fire("open");
}

function close() {
  if (!S.open) return;
  const hadFocus = !!root.activeElement;
  S.open = false;
  sessionFlag("open", false);
  ui.panel.hidden = true;
  ui.frame.classList.remove("open");
  ui.launcher.setAttribute("aria-expanded", "false");
  renderBadge();
  if (hadFocus) ui.launcher.focus();
  fire("close");
}

function identify(person) {
  const email = person && typeof person.email === "string" ? person.email.trim() : "";
  if (!email) return;
  const name = person && typeof person.name === "string" ? person.name.trim() : "";
  const known = stored().contact;
  if (known && known.sent && known.email === email && (known.name || "") === name) return;
  persist({ contact: { email, name, sent: false } });
  sendContact();
}

// -- start ------------------------------------------------------------------------------------------------

let started = false;
let openWhenReady = false;

function start(config) {
  if (config) Object.assign(S.config, config);
  applyConfig();
  started = true;
  render();
  renderPending();
  ui.launcher.hidden = false;
  const returning = stored().token || outbox().length;
  if (returning) connect();  // resume: history, unread replies, an outbox typed before a reload
  if (openWhenReady || sessionFlag("open")) open();
  fire("ready");
}

window.addEventListener("online", () => { renderConnection(); reconnectNow(); });
window.addEventListener("offline", () => {
  // The socket is dead either way; dropping it now means messages wait in the outbox instead of a dead pipe.
  if (socket && socket.connected) socket.disconnect();
  render();
  renderPending();
});
document.addEventListener("visibilitychange", () => { if (!document.hidden) reconnectNow(); });
window.addEventListener("storage", (e) => { if (e.key === STORE_KEY) renderPending(); });

window.ChatWidget = Object.freeze({
  version: "1",
  open,
  close,
  identify,
  on(name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
    return () => { listeners[name] = listeners[name].filter((f) => f !== fn); };
  },
});

(document.body || document.documentElement).append(host);
const controller = typeof AbortController === "function" ? new AbortController() : null;
const configTimer = setTimeout(() => controller && controller.abort(), 4000);
fetch(SERVER + "/widget/config.json", { credentials: "omit", signal: controller && controller.signal })
  .then((r) => r.json().then((body) => ({ status: r.status, body })))
  .then(({ status, body }) => {
    clearTimeout(configTimer);
    if (status === 403 && body && body.error === "forbidden_origin") {
      console.warn("ChatWidget: " + body.message);
      host.remove();
      return;
    }
    start(body && body.ok ? body.config : null);
  })
  .catch(() => { clearTimeout(configTimer); start(null); });  // offline or blocked: run on the built-in defaults
window.dispatchEvent(new CustomEvent("chatwidget:ready"));
