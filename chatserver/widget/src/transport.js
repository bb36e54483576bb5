// The one socket to the /visitor namespace (docs/protocol.md): created on first need, its `auth` re-read on every
// (re)connect, the server's events handed to conversation.js.
import { io } from "socket.io-client";
import { onAgentJoined, onClosed, onMessage, onQueue, onSession, onTyping } from "./conversation.js";
import { renderPending } from "./outbox.js";
import { connecting, disconnected } from "./quality.js";
import { onReceipt } from "./receipts.js";
import { ACK_MS, SERVER } from "./page.js";
import { state } from "./state.js";
import { stored } from "./storage.js";
import { LANG, t } from "./strings.js";
import { render } from "./views/header.js";

let socket = null;

export function connect() {
  if (socket) {
    // Only a socket that is neither connected nor connecting: connect() on one whose namespace CONNECT is still
    // unanswered sends a second CONNECT, and the server drops the whole connection.
    if (!socket.active && navigator.onLine !== false) socket.connect();
    return;
  }
  connecting();
  socket = io(SERVER + "/visitor", {
    // A function, so every reconnect sends the latest token and last_seq.
    auth: (cb) => cb({
      visitor_token: stored().token || null,
      last_seq: state.rows.size ? state.maxSeq : null,
      conversation_id: state.cid,
      page_url: location.href.slice(0, 1000),
      language: LANG, // the visitor's emails are written in it
      identity: stored().identity || null,
    }),
    reconnectionDelayMax: 5000,
  });
  socket.on("connect", render);
  socket.on("disconnect", (reason) => {
    disconnected();
    state.ready = false;
    render();
    renderPending();
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 3000);
  });
  socket.on("connect_error", (err) => {
    if (!socket.active) setTimeout(() => socket.connect(), err && err.data && err.data.error === "rate_limited" ? 30000 : 5000);
  });
  socket.on("session", onSession);
  socket.on("message", onMessage);
  socket.on("typing", onTyping);
  socket.on("queue", onQueue);
  socket.on("agent_joined", onAgentJoined);
  socket.on("conversation_closed", onClosed);
  socket.on("receipt", onReceipt);
}

export function isConnected() {
  return !!socket && socket.connected;
}

/** Reconnect now instead of waiting for the back-off timer (the network just came back, or the tab woke up). */
export function reconnectNow() {
  if (!socket || socket.connected || navigator.onLine === false) return;
  socket.disconnect();
  socket.connect();
}

/** The identity changed (ChatWidget.identify): connect again so the server sees it in `auth` at once. */
export function reconnectWithIdentity() {
  if (!socket) return;                      // not connected yet: the first connect sends it
  socket.disconnect();
  if (navigator.onLine !== false) socket.connect();
}

/** The network is gone: drop the socket now, so messages wait in the outbox instead of a dead pipe. */
export function dropConnection() {
  if (isConnected()) socket.disconnect();
}

/** Emit and wait for the ack; rejects when none comes in time (or the connection drops). */
export function send(event, payload, timeout) {
  return socket.timeout(timeout).emitWithAck(event, payload);
}

/** Emit and wait for the ack, connecting first if needed; no ack in time resolves to a `timeout` error. */
export function call(event, payload, timeout) {
  connect();
  return send(event, payload, timeout || ACK_MS)
    .catch(() => ({ ok: false, error: "timeout", message: t("error") }));
}

/** Emit without buffering: dropped if the socket is not connected. */
export function emitVolatile(event, payload) {
  socket.volatile.emit(event, payload);
}
