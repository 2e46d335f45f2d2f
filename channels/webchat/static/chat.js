// contact-hub customer chat box.
//
// Plain ES module, no build step. Talks to the `/chat` Socket.IO namespace as described in
// docs/protocol.md. Everything that comes from the server or the visitor is rendered with
// textContent, never as HTML.

import { io } from "/static/vendor/socket.io.esm.min.js";
import { ReceiptReporter } from "/chat/static/receipts.js";
import { SuggestionsPanel } from "/chat/static/suggestions.js";
import { SurveyCard } from "/chat/static/survey.js";

const TOKEN_KEY = "hub_visitor_token";
const PROFILE_KEY = "hub_profile_given"; // localStorage: the pre-chat form was submitted once
const SKIP_KEY = "hub_prechat_skipped"; // sessionStorage: the pre-chat form was skipped
const TYPING_IDLE_MS = 3000; // send typing:false after this much idle time
const TYPING_SAFETY_MS = 15000; // hide the agent's indicator if we never hear "false"
const ACK_TIMEOUT_MS = 15000;
const MAX_BODY_BYTES = 8192;
const MAX_INPUT_ROWS = 6;

// Conversation states the server might report in `session.state` (the protocol does not
// enumerate them, so be liberal in what we accept).
const CLOSED_STATES = new Set(["closed", "ended", "abandoned", "resolved", "wrap_up", "wrapup", "done"]);
const WAITING_STATES = new Set(["queued", "waiting", "offered", "new", "routing", "pending", "open"]);

// ---------------------------------------------------------------------------------------------
// Small helpers

function makeStore(kind) {
  let storage = null;
  try {
    storage = window[kind];
    const probe = "__hub_probe__";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
  } catch {
    storage = null; // blocked (e.g. third-party iframe with strict privacy settings)
  }
  const memory = new Map();
  return {
    get(key) {
      if (storage) {
        try { return storage.getItem(key); } catch { /* fall through */ }
      }
      return memory.has(key) ? memory.get(key) : null;
    },
    set(key, value) {
      memory.set(key, value);
      if (storage) {
        try { storage.setItem(key, value); } catch { /* quota or blocked: memory only */ }
      }
    },
  };
}

const local = makeStore("localStorage");
const session = makeStore("sessionStorage");

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

function parseTime(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function formatTime(date) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  return `${date.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

const ERROR_TEXT = {
  invalid_input: "That doesn't look right. Please check and try again.",
  not_found: "We couldn't find your conversation. Please try again.",
  conflict: "Something changed in the meantime. Please try again.",
  unauthorised: "Your session has expired. Please reload the page.",
  forbidden: "You are not allowed to do that.",
};

function ackErrorText(ack, fallback) {
  const err = ack && ack.error;
  if (err) {
    if (typeof err.message === "string" && err.message.trim()) return err.message;
    if (err.code && ERROR_TEXT[err.code]) return ERROR_TEXT[err.code];
  }
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Elements

const ui = {
  root: document.documentElement,
  connection: $("chat-connection"),
  connectionText: $("chat-connection-text"),
  end: $("chat-end"),
  minimise: $("chat-minimise"),
  status: $("chat-status"),
  prechat: $("prechat"),
  prechatForm: $("prechat-form"),
  prechatName: $("prechat-name"),
  prechatEmail: $("prechat-email"),
  prechatStart: $("prechat-start"),
  prechatSkip: $("prechat-skip"),
  prechatError: $("prechat-error"),
  main: $("chat-main"),
  messages: $("chat-messages"),
  empty: $("chat-empty"),
  typing: $("chat-typing"),
  composer: $("chat-composer"),
  input: $("chat-input"),
  send: $("chat-send"),
  error: $("chat-error"),
};

// ---------------------------------------------------------------------------------------------
// Embedded mode (inside the widget's iframe)

const params = new URLSearchParams(window.location.search);
const embedded = params.get("embed") === "1";

function minimise() {
  if (window.parent && window.parent !== window) {
    // The host page's origin is not known to us; the message carries no data.
    window.parent.postMessage({ type: "contact-hub:minimise" }, "*");
  }
}

if (embedded) {
  ui.root.classList.add("is-embedded");
  ui.minimise.hidden = false;
  ui.minimise.addEventListener("click", minimise);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) minimise();
  });
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  visitorId: null,
  conversationId: null,
  phase: "idle", // idle | waiting | chatting | closed
  position: null,
  agentName: null,
  haveSession: false,
  prechatDone: false, // decided for this page (shown and dismissed, or not needed)
  connected: false,
};

const rendered = new Map(); // message_id -> <li>
const pending = new Set(); // {li, body, settled}

function isStale(conversationId) {
  return (
    conversationId !== null &&
    conversationId !== undefined &&
    state.conversationId !== null &&
    typeof conversationId === "number" &&
    typeof state.conversationId === "number" &&
    conversationId < state.conversationId
  );
}

function hasOpenConversation() {
  return state.conversationId !== null && (state.phase === "waiting" || state.phase === "chatting");
}

// ---------------------------------------------------------------------------------------------
// Rendering

function isNearBottom() {
  const m = ui.main;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scrollToBottom() {
  ui.main.scrollTop = ui.main.scrollHeight;
}

function kindOf(message) {
  const kind = message.author_kind;
  if (kind === "customer" || kind === "agent" || kind === "system") return kind;
  return message.direction === "in" ? "customer" : "agent";
}

function buildMessage(message, isPending) {
  const kind = kindOf(message);
  const li = el("li", `chat-message from-${kind}`);
  if (!isPending && message.message_id !== undefined && message.message_id !== null) {
    li.dataset.messageId = String(message.message_id);
  }

  const meta = el("div", "chat-meta");
  let author = message.author_name;
  if (kind === "customer") author = "You";
  else if (!author) author = kind === "agent" ? "Agent" : "";
  if (author) meta.append(el("span", "chat-author", author));

  if (isPending) {
    meta.append(el("span", "chat-sending", "sending…"));
  } else {
    const date = parseTime(message.created_at);
    if (date) {
      const time = el("time", "chat-time", formatTime(date));
      time.dateTime = message.created_at;
      time.title = date.toLocaleString();
      meta.append(time);
    }
  }

  const body = el("div", "chat-body", message.body ?? "");
  li.append(meta, body);
  if (isPending) {
    li.classList.add("is-pending");
    li.setAttribute("aria-busy", "true");
  }
  return li;
}

function numericId(li) {
  const n = Number(li.dataset.messageId);
  return Number.isFinite(n) ? n : null;
}

function insertInOrder(li, messageId) {
  const id = Number(messageId);
  const confirmed = ui.messages.querySelectorAll(".chat-message[data-message-id]");
  if (Number.isFinite(id)) {
    for (const other of confirmed) {
      const otherId = numericId(other);
      if (otherId !== null && otherId > id) {
        ui.messages.insertBefore(li, other);
        return;
      }
    }
  }
  const firstPending = ui.messages.querySelector(".chat-message.is-pending");
  if (firstPending) ui.messages.insertBefore(li, firstPending);
  else ui.messages.append(li);
}

// Adds a confirmed message unless it is already shown. Returns true if it was new.
function addMessage(message) {
  if (!message || typeof message !== "object") return false;
  const key = message.message_id;
  if (key !== undefined && key !== null && rendered.has(String(key))) return false;
  const li = buildMessage(message, false);
  if (key !== undefined && key !== null) rendered.set(String(key), li);
  insertInOrder(li, key);
  updateEmpty();
  if (kindOf(message) === "agent") receipts.track(li, message);
  return true;
}

function clearMessages() {
  receipts.reset();
  ui.messages.replaceChildren();
  rendered.clear();
  for (const p of pending) p.settled = true;
  pending.clear();
  updateEmpty();
}

function updateEmpty() {
  ui.empty.hidden = ui.messages.childElementCount > 0;
}

function setStatus(text) {
  if (ui.status.textContent !== text) ui.status.textContent = text;
  ui.status.hidden = !text;
  ui.status.dataset.phase = state.phase;
}

/** " (about 3 minutes)" from seconds; empty when there is no estimate yet. */
function estimateText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 60) return " (less than a minute)";
  const minutes = Math.round(seconds / 60);
  return ` (about ${minutes} minute${minutes === 1 ? "" : "s"})`;
}

function render() {
  switch (state.phase) {
    case "waiting":
      if (state.position !== null && state.position !== undefined) {
        setStatus(
          `Waiting for an agent — you are number ${state.position} in the queue${estimateText(state.estimate)}`,
        );
      } else {
        setStatus("Waiting for an agent…");
      }
      break;
    case "chatting":
      setStatus(`You are chatting with ${state.agentName || "an agent"}`);
      break;
    case "closed":
      setStatus("This conversation is closed. Write again to start a new one.");
      break;
    default:
      setStatus("");
  }
  ui.end.disabled = !hasOpenConversation();
  if (state.phase !== "chatting") hideTyping();
}

// ---------------------------------------------------------------------------------------------
// Agent typing indicator

let agentTypingTimer = null;

function showTyping(name) {
  ui.typing.textContent = `${name || "The agent"} is typing…`;
  const wasHidden = ui.typing.hidden;
  const stick = isNearBottom();
  ui.typing.hidden = false;
  if (wasHidden && stick) scrollToBottom();
  clearTimeout(agentTypingTimer);
  agentTypingTimer = setTimeout(hideTyping, TYPING_SAFETY_MS);
}

function hideTyping() {
  clearTimeout(agentTypingTimer);
  agentTypingTimer = null;
  ui.typing.hidden = true;
  ui.typing.textContent = "";
}

// ---------------------------------------------------------------------------------------------
// Connection status

function setConnection(kind, text) {
  ui.connection.dataset.state = kind;
  ui.connectionText.textContent = text;
  ui.root.dataset.connection = kind;
}

// ---------------------------------------------------------------------------------------------
// Errors under the composer / in the pre-chat form

function showError(node, text) {
  node.textContent = text;
  node.hidden = !text;
}

// ---------------------------------------------------------------------------------------------
// Socket

// The site and language are routing hints (rules can send Spanish speakers or one shop's
// visitors to the right people); the widget passes the host page's site.
const socket = io("/chat", {
  auth: {
    token: local.get(TOKEN_KEY),
    site: params.get("site") || window.location.host,
    language: navigator.language || "",
  },
});

// Emits with an ack and a timeout; `done(ack)` gets `{error: {...}}` on timeout.
function request(event, data, done) {
  socket.timeout(ACK_TIMEOUT_MS).emit(event, data, (err, ack) => {
    if (err) {
      done({ error: { code: "timeout", message: "" }, timedOut: true });
      return;
    }
    done(ack || {});
  });
}

// Delivered / read for the agent's replies (receipts.js).
const receipts = new ReceiptReporter(
  (status, ids, done) => {
    request("receipt", { message_ids: ids, status }, (ack) => done(Boolean(ack.timedOut)));
  },
  () => socket.connected,
);

// Knowledge base articles offered before an agent is needed (suggestions.js).
const suggestions = new SuggestionsPanel($("chat-suggestions"), (articleId, helpful, done) => {
  request("suggestion_answer", { article_id: articleId, helpful }, done);
});

socket.on("suggestions", (data) => {
  if (!data || isStale(data.conversation_id)) return;
  const stick = isNearBottom();
  suggestions.show(data);
  if (stick) scrollToBottom();
});

// The rating card shown when a chat ends (survey.js); a new conversation puts it away.
const survey = new SurveyCard(ui.composer, request, ackErrorText);
socket.on("survey", (data) => survey.show(data));

let reconnectDelay = 1000;

socket.on("connect", () => {
  state.connected = true;
  setConnection("online", "Online");
  reconnectDelay = 1000;
  receipts.schedule();
});

socket.on("disconnect", (reason) => {
  state.connected = false;
  stopOwnTyping(false);
  hideTyping();
  setConnection("reconnecting", "Reconnecting…");
  if (reason === "io server disconnect") {
    // The server dropped us; Socket.IO will not retry on its own in that case.
    setTimeout(() => {
      if (!socket.connected) socket.connect();
    }, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 30000);
  }
});

socket.on("connect_error", () => {
  state.connected = false;
  setConnection(navigator.onLine === false ? "offline" : "reconnecting",
    navigator.onLine === false ? "Offline — waiting for the network…" : "Reconnecting…");
});

window.addEventListener("offline", () => {
  if (!socket.connected) setConnection("offline", "Offline — waiting for the network…");
});

function phaseFromSession(data) {
  if (data.conversation_id === null || data.conversation_id === undefined) {
    return state.phase === "closed" ? "closed" : "idle";
  }
  const st = typeof data.state === "string" ? data.state.toLowerCase() : "";
  if (CLOSED_STATES.has(st)) return "closed";
  if (data.agent_name && !WAITING_STATES.has(st)) return "chatting";
  return "waiting";
}

socket.on("session", (data) => {
  if (!data || typeof data !== "object") return;
  if (data.token) {
    local.set(TOKEN_KEY, data.token);
    socket.auth = { ...(socket.auth || {}), token: data.token }; // reconnect as the same visitor
  }
  if (state.visitorId !== null && data.visitor_id !== state.visitorId) {
    // The server started a new visitor (token expired or forged): the old history is not ours.
    clearMessages();
    survey.hide();
    state.phase = "idle";
  }
  state.visitorId = data.visitor_id ?? null;

  const stickToBottom = !state.haveSession || isNearBottom();
  const messages = Array.isArray(data.messages) ? data.messages : [];
  const newCustomerBodies = [];
  for (const message of messages) {
    if (addMessage(message) && kindOf(message) === "customer") newCustomerBodies.push(message.body);
  }
  // A message sent just before a disconnect may have been stored although its ack was lost:
  // if it came back in the session, settle the "sending…" bubble instead of reporting an error.
  for (const p of [...pending]) {
    const idx = newCustomerBodies.indexOf(p.body);
    if (idx !== -1) {
      newCustomerBodies.splice(idx, 1);
      settlePending(p);
    }
  }

  const phase = phaseFromSession(data);
  if (data.conversation_id !== null && data.conversation_id !== undefined) {
    state.conversationId = data.conversation_id;
  } else if (phase !== "closed") {
    state.conversationId = null;
  }
  state.phase = phase;
  state.agentName = phase === "chatting" ? data.agent_name : null;
  state.position = phase === "waiting" ? (data.position ?? null) : null;
  state.haveSession = true;

  render();
  decidePrechat(data);
  if (stickToBottom) scrollToBottom();
});

socket.on("queue_position", (data) => {
  if (!data || isStale(data.conversation_id)) return;
  suggestions.hide();
  if (data.conversation_id !== undefined && data.conversation_id !== null) {
    state.conversationId = data.conversation_id;
  }
  state.phase = "waiting";
  survey.hide();
  state.position = data.position ?? null;
  state.estimate = data.estimated_wait_s ?? null;
  state.agentName = null;
  render();
});

socket.on("agent_joined", (data) => {
  if (!data || isStale(data.conversation_id)) return;
  suggestions.hide();
  if (data.conversation_id !== undefined && data.conversation_id !== null) {
    state.conversationId = data.conversation_id;
  }
  state.phase = "chatting";
  state.position = null;
  state.agentName = data.agent_name || null;
  render();
});

socket.on("message", (data) => {
  if (!data || !data.message) return;
  const stick = isNearBottom();
  const message = data.message;
  if (addMessage(message) && stick) scrollToBottom();
  if (kindOf(message) === "agent") {
    hideTyping();
    if (!isStale(data.conversation_id) && state.phase === "waiting" && message.author_name) {
      // The agent answered before we heard agent_joined.
      state.phase = "chatting";
      state.agentName = message.author_name;
      state.position = null;
      render();
    }
  }
});

socket.on("typing", (data) => {
  if (!data || isStale(data.conversation_id)) return;
  if (data.typing) showTyping(data.agent_name || state.agentName);
  else hideTyping();
});

socket.on("conversation_closed", (data) => {
  if (!data || isStale(data.conversation_id)) return;
  if (data.conversation_id !== undefined && data.conversation_id !== null) {
    state.conversationId = data.conversation_id;
  }
  if (data.by === "self_served") suggestions.thanks();
  else suggestions.hide();
  markClosed();
});

function markClosed() {
  stopOwnTyping(false);
  state.phase = "closed";
  state.position = null;
  state.agentName = null;
  render();
}

// ---------------------------------------------------------------------------------------------
// Pre-chat form

function decidePrechat(data) {
  if (state.prechatDone) return;
  const needed =
    (data.conversation_id === null || data.conversation_id === undefined) &&
    rendered.size === 0 &&
    local.get(PROFILE_KEY) !== "1" &&
    session.get(SKIP_KEY) !== "1";
  if (needed) {
    showPrechat();
  } else {
    state.prechatDone = true;
    hidePrechat(false);
  }
}

function showPrechat() {
  ui.root.classList.add("show-prechat");
  ui.prechat.hidden = false;
  ui.main.hidden = true;
  ui.composer.hidden = true;
  if (!embedded || document.hasFocus()) ui.prechatName.focus();
}

function hidePrechat(focusInput) {
  ui.root.classList.remove("show-prechat");
  ui.prechat.hidden = true;
  ui.main.hidden = false;
  ui.composer.hidden = false;
  if (focusInput) {
    ui.input.focus();
    scrollToBottom();
  }
}

ui.prechatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (ui.prechatStart.disabled) return;
  const name = ui.prechatName.value.trim();
  const email = ui.prechatEmail.value.trim();
  showError(ui.prechatError, "");
  if (!name && !email) {
    // Nothing to tell the server: same as skipping.
    skipPrechat();
    return;
  }
  if (email && ui.prechatEmail.validity && ui.prechatEmail.validity.typeMismatch) {
    showError(ui.prechatError, "Please enter a valid email address.");
    ui.prechatEmail.focus();
    return;
  }
  if (!socket.connected) {
    showError(ui.prechatError, "You are offline. We will reconnect automatically — please try again in a moment.");
    return;
  }
  const profile = {};
  if (name) profile.name = name;
  if (email) profile.email = email;
  ui.prechatStart.disabled = true;
  ui.prechatForm.setAttribute("aria-busy", "true");
  request("profile", profile, (ack) => {
    ui.prechatStart.disabled = false;
    ui.prechatForm.removeAttribute("aria-busy");
    if (ack && ack.ok) {
      local.set(PROFILE_KEY, "1");
      state.prechatDone = true;
      hidePrechat(true);
    } else {
      showError(ui.prechatError, ack.timedOut
        ? "We couldn't reach the server. Please try again."
        : ackErrorText(ack, "We couldn't save your details. Please try again."));
    }
  });
});

function skipPrechat() {
  session.set(SKIP_KEY, "1");
  state.prechatDone = true;
  showError(ui.prechatError, "");
  hidePrechat(true);
}

ui.prechatSkip.addEventListener("click", (event) => {
  event.preventDefault();
  skipPrechat();
});

// ---------------------------------------------------------------------------------------------
// Own typing notifications

let ownTyping = false;
let ownTypingTimer = null;

function emitTyping(typing) {
  if (!socket.connected) return;
  socket.emit("typing", { typing }, () => {});
}

function stopOwnTyping(emit = true) {
  clearTimeout(ownTypingTimer);
  ownTypingTimer = null;
  if (ownTyping) {
    ownTyping = false;
    if (emit) emitTyping(false);
  }
}

function noteOwnTyping() {
  if (!ui.input.value.trim() || !hasOpenConversation()) {
    stopOwnTyping();
    return;
  }
  if (!ownTyping) {
    ownTyping = true;
    emitTyping(true);
  }
  clearTimeout(ownTypingTimer);
  ownTypingTimer = setTimeout(() => stopOwnTyping(), TYPING_IDLE_MS);
}

// ---------------------------------------------------------------------------------------------
// Composer

function resizeInput() {
  const lines = ui.input.value.split("\n").length;
  ui.input.rows = Math.max(1, Math.min(MAX_INPUT_ROWS, lines));
}

function restoreText(body) {
  const current = ui.input.value;
  ui.input.value = current.trim() ? `${body}\n${current}` : body;
  resizeInput();
}

function settlePending(p) {
  p.settled = true;
  pending.delete(p);
  p.li.remove();
  updateEmpty();
}

function sendMessage() {
  const body = ui.input.value.trim();
  if (!body) {
    ui.input.focus();
    return;
  }
  if (utf8Length(body) > MAX_BODY_BYTES) {
    showError(ui.error, "Your message is too long. Please shorten it or split it into several messages.");
    return;
  }
  if (!socket.connected) {
    showError(ui.error, "You are offline. We will reconnect automatically — please try again in a moment.");
    return;
  }
  showError(ui.error, "");
  stopOwnTyping();

  const li = buildMessage({ author_kind: "customer", body }, true);
  const entry = { li, body, settled: false };
  pending.add(entry);
  ui.messages.append(li);
  updateEmpty();
  scrollToBottom();

  ui.input.value = "";
  resizeInput();
  ui.input.focus();

  request("message", { body }, (ack) => {
    if (entry.settled) return;
    if (ack && ack.ok && ack.message) {
      settlePending(entry);
      addMessage(ack.message);
      const cid = ack.conversation_id ?? ack.message.conversation_id ?? null;
      if (cid !== null && cid !== state.conversationId && !isStale(cid)) {
        // A new conversation was started by this message.
        state.conversationId = cid;
        state.phase = "waiting";
        state.position = null;
        state.agentName = null;
      } else if (state.phase === "idle" || state.phase === "closed") {
        state.phase = "waiting";
        state.position = null;
      }
      render();
      scrollToBottom();
    } else {
      settlePending(entry);
      restoreText(body);
      showError(ui.error, ack.timedOut
        ? "We couldn't confirm that your message was sent. Please try again."
        : ackErrorText(ack, "Your message could not be sent. Please try again."));
    }
  });
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    sendMessage();
  }
});

ui.input.addEventListener("input", () => {
  resizeInput();
  if (!ui.error.hidden && ui.input.value.trim()) showError(ui.error, "");
  noteOwnTyping();
});

ui.input.addEventListener("blur", () => stopOwnTyping());

ui.end.addEventListener("click", () => {
  if (!hasOpenConversation() || ui.end.disabled) return;
  if (!socket.connected) {
    showError(ui.error, "You are offline. We will reconnect automatically — please try again in a moment.");
    return;
  }
  ui.end.disabled = true;
  request("close", {}, (ack) => {
    if (ack && ack.ok) {
      showError(ui.error, "");
      markClosed();
    } else {
      render();
      showError(ui.error, ack.timedOut
        ? "We couldn't reach the server. Please try again."
        : ackErrorText(ack, "We couldn't end the chat. Please try again."));
    }
  });
});

window.addEventListener("pagehide", () => stopOwnTyping());

// Initial state before the first `session` arrives.
setConnection("connecting", "Connecting…");
render();
updateEmpty();
