// The visitor widget: the browser side of the /visitor namespace (docs/protocol.md, docs/widget.md). The entry
// point of the bundle (build.mjs): builds the widget, publishes window.ChatWidget (its one global), fetches the
// admin settings and starts.
//
// Modules (one job each): page (where we run), strings (texts per language), storage, state (what we know),
// transport (the socket), conversation (server events and the visitor's actions), outbox (delivery), typing,
// ui (the fixed elements), panel (open, close, views), theme, views/* (what each part of the panel shows).
// They call each other's functions freely; at import time they only define things, so load order never matters.
//
// Delivery: every message gets a client id and waits in an outbox (kept in localStorage) until its ack; on every
// (re)connect the server sends what we missed after `last_seq` and the outbox is sent again (the server drops
// duplicates). Messages are shown by `seq`, once. Network text is only ever set as text (textContent / text
// nodes); the single exception is an article body, which the server sanitises.
import { identify } from "./conversation.js";
import { fire, on } from "./events.js";
import { outbox, renderPending } from "./outbox.js";
import { SERVER } from "./page.js";
import { close, open } from "./panel.js";
import { state } from "./state.js";
import { sessionFlag, STORE_KEY, stored } from "./storage.js";
import { applyConfig } from "./theme.js";
import { flushQuality } from "./quality.js";
import { noteShown } from "./receipts.js";
import { connect, dropConnection, reconnectNow } from "./transport.js";
import { buildUi, ui } from "./ui.js";
import { render } from "./views/header.js";

function start(config) {
  if (config) Object.assign(state.config, config);
  applyConfig();
  state.started = true;
  render();
  renderPending();
  ui.launcher.hidden = false;
  const returning = stored().token || outbox().length;
  if (returning) connect();  // resume: history, unread replies, an outbox typed before a reload
  if (state.openWhenReady || sessionFlag("open")) open();
  fire("ready");
}

function mount() {
  const host = buildUi();
  window.addEventListener("online", () => { render(); reconnectNow(); });
  window.addEventListener("offline", () => {
    // The socket is dead either way; dropping it now means messages wait in the outbox instead of a dead pipe.
    dropConnection();
    render();
    renderPending();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { reconnectNow(); noteShown(); } });
  window.addEventListener("pagehide", () => flushQuality(true));
  window.addEventListener("storage", (e) => { if (e.key === STORE_KEY) renderPending(); });

  window.ChatWidget = Object.freeze({ version: "1", open, close, identify, on });

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
}

if (!window.ChatWidget) mount();  // the tag twice on a page: the first one runs
