// What the widget knows about the chat, in one object: every module reads and changes it here, then renders.
import { SERVER_DEFAULTS } from "./page.js";
import { stored } from "./storage.js";

export const state = {
  config: {                   // the admin settings (/widget/config.json), until then the built-in defaults
    greeting: SERVER_DEFAULTS.greeting, colour: SERVER_DEFAULTS.colour, business_hours: "",
    max_message_chars: 4000,
  },
  started: false,             // the settings arrived (or failed to) and the launcher is shown
  openWhenReady: false,       // ChatWidget.open() was called before that
  cid: stored().cid || null,  // the conversation shown (open, or just closed)
  floor: 0,                   // conversations up to this id are over: ignore late events for them
  status: null,               // null (no chat yet) | bot | queued | assigned | closed
  agentName: null,
  queue: null,
  agentsOnline: null,
  rows: new Map(),            // seq -> row element, for the conversation shown
  maxSeq: 0,
  seenSeq: 0,                 // highest seq shown while the chat was visible (receipts.js)
  agentSeenSeq: 0,            // highest seq the agent has read
  survey: null,               // {conversation_id, nps} while a survey is offered
  view: "chat",               // chat | article | survey | history
  open: false,
  unread: 0,
  ready: false,               // a session arrived on the current connection
  hadSession: false,
};

/** The conversation is with the bot, in the queue or with an agent (not over, not yet started). */
export function isLive() {
  return state.status === "bot" || state.status === "queued" || state.status === "assigned";
}
