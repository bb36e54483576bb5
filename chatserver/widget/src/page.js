// Where the widget runs: the script tag that loaded it (hence the chat server's origin and the tag's data-
// attributes) and the defaults the server built in. WIDGET_DEFAULTS is not a global: chatserver/views/widget.py
// serves the bundle inside `(function (WIDGET_DEFAULTS) { ... })({base_url, greeting, colour})`.
/* global WIDGET_DEFAULTS */

// Read while the script runs for the first time: document.currentScript is null afterwards.
const scriptEl = document.currentScript
  || Array.from(document.scripts).reverse().find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));

export const SERVER_DEFAULTS = WIDGET_DEFAULTS;
export const SERVER = scriptEl ? new URL(scriptEl.src, location.href).origin : SERVER_DEFAULTS.base_url;
export const ATTRS = (scriptEl && scriptEl.dataset) || {};
export const ACK_MS = 10000;
export const TYPING_EVERY_MS = 2000;   // docs/protocol.md: visitor typing at most every 2 s
