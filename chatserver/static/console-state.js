// The console's state and its line to the server: one /agent socket, authenticated by the HttpOnly session cookie.
// Conversations are merged from snapshots and messages by seq, so resyncing never duplicates anything.

const ACK_TIMEOUT_MS = 10000;
const main = document.querySelector(".cs-main");

export const state = {
  me: { id: Number(main.dataset.agentId), name: "" },
  status: null,
  sessions: 0,                  // `session` events seen: more than one means we reconnected
  queue: { items: [], receivedAt: Date.now(), agentsOnline: 0 },
  conversations: new Map(),     // conversation id -> conversation state (see conversationState)
  orphans: new Map(),           // messages that arrived before their conversation's snapshot
  activeId: null,
  openWhenAssigned: null,       // a claimed chat opens when its `assigned` arrives
  kbResults: [],
  kbFor: null,                 // the conversation the KB results were searched for
  canned: { items: [], fetchedAt: 0 },
};

export const socket = io("/agent", { withCredentials: true });

/** Emit with an ack; resolves to the ack, or to {ok: false, error: "timeout"} when no answer came. */
export function request(event, payload) {
  return new Promise((resolve) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
      resolve(err ? { ok: false, error: "timeout", message: "no answer from the server" }
        : ack || { ok: false, error: "internal_error", message: "empty answer" });
    });
  });
}

/** Actions other than sending messages are refused at once while offline instead of running later. */
export async function act(event, payload) {
  if (!socket.connected) return { ok: false, error: "offline", message: "You are offline. Try again when the connection is back." };
  return request(event, payload);
}

/** GET one of the console's JSON lists; a 401 means the login is gone (console.js shows it). */
export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    window.dispatchEvent(new Event("console:session-ended"));
    throw new Error("you are logged out");
  }
  const body = await response.json();
  if (!body.ok) throw new Error(body.message || body.error);
  return body;
}

function conversationState(id) {
  return { id, conversation: {}, visitor: null, articleEvents: [], events: [], messages: new Map(), pending: new Map(),
    unread: 0, typing: false, typingTimer: null, ended: null, draft: null, lastActivity: 0, closingByMe: false };
}

/** Add messages not seen yet (dedupe by seq; a stored copy of one of our pending messages replaces it).
 *  Returns the new ones in seq order. */
export function mergeMessages(conversation, messages) {
  const added = [];
  for (const message of messages || []) {
    if (conversation.messages.has(message.seq)) continue;
    conversation.messages.set(message.seq, message);
    conversation.pending.delete(message.client_id);
    conversation.lastActivity = Math.max(conversation.lastActivity, message.created_at || 0);
    added.push(message);
  }
  return added.sort((a, b) => a.seq - b.seq);
}

/** The highest seq up to which we hold every message (notes take seqs too): sync resumes from there. */
export function contiguousSeq(conversation) {
  let seq = 0;
  while (conversation.messages.has(seq + 1)) seq += 1;
  return seq;
}

/** Take in a Snapshot (session, assigned, conversation ack): returns the state, whether it is new, new messages. */
export function upsertSnapshot(snapshot) {
  const id = snapshot.conversation.id;
  const isNew = !state.conversations.has(id);
  const conversation = state.conversations.get(id) || conversationState(id);
  state.conversations.set(id, conversation);
  conversation.conversation = snapshot.conversation;
  conversation.visitor = snapshot.visitor;
  conversation.articleEvents = snapshot.article_events || [];
  conversation.events = snapshot.events || [];
  conversation.labels = snapshot.labels || [];
  conversation.transferNote = snapshot.transfer_note || null;
  if (snapshot.receipts) {
    const known = conversation.receipts || {};
    conversation.receipts = { ...snapshot.receipts, seen_seq: Math.max(known.seen_seq || 0, snapshot.receipts.seen_seq || 0) };
  }
  conversation.lastActivity = Math.max(conversation.lastActivity, snapshot.conversation.created_at || 0);
  const added = mergeMessages(conversation, [...(snapshot.messages || []), ...(state.orphans.get(id) || [])]);
  state.orphans.delete(id);
  return { conversation, isNew, added };
}
