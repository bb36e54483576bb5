// What survives reloads and is shared by the tabs of one site: the visitor token, the conversation shown, the
// contact details and the outbox, in localStorage under "chat-widget:<server origin>" (in memory when storage is
// blocked); and per-tab flags (the panel is open) in sessionStorage.
import { SERVER } from "./page.js";

export const STORE_KEY = "chat-widget:" + SERVER;

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

export function stored() {
  if (!storage) return memoryStore;
  try {
    return JSON.parse(storage.getItem(STORE_KEY)) || {};
  } catch (e) {
    return {};
  }
}

export function persist(changes) {
  const next = Object.assign(stored(), changes);
  if (!storage) memoryStore = next;
  else try { storage.setItem(STORE_KEY, JSON.stringify(next)); } catch (e) { /* quota: keep going */ }
  return next;
}

export function sessionFlag(name, value) {
  try {
    if (value === undefined) return sessionStorage.getItem(STORE_KEY + ":" + name) === "1";
    sessionStorage.setItem(STORE_KEY + ":" + name, value ? "1" : "0");
  } catch (e) { /* no session storage: the panel just starts closed */ }
  return false;
}
