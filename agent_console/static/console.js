// Agent console for contact-hub. Contract: docs/protocol.md (namespace /agent + REST).
// All customer-provided text is rendered with textContent only.

import { io } from "/static/vendor/socket.io.esm.min.js";
import { playChime, unlockAudio } from "/console/static/chime.js";
import {
  $,
  el,
  fetchSession,
  formatDateTime,
  formatDuration,
  goToLogin as toLogin,
  keepAlive,
  pad2,
  parseTime,
  send,
  showConnection,
  socketAuth,
  timeElement,
} from "/console/static/common.js";
import { EmailView } from "/console/static/email.js";
import {
  SmsComposer,
  decorate as decorateSms,
  detailsFor as smsDetailsFor,
  numberAsName as smsNumberAsName,
  remember as rememberSms,
} from "/console/static/sms.js";
import { CallPanel } from "/console/static/voice.js";
import {
  TaskComposer,
  channelBadge,
  isTask,
  noteElement as taskNoteElement,
  subjectElement,
  taskIcon,
} from "/console/static/task.js";
import { CannedPicker } from "/console/static/canned.js";
import { KnowledgePanel } from "/console/static/kb.js";
import {
  currentLanguage,
  fillLanguageSelect,
  has,
  label,
  loadLanguage,
  preferredLanguage,
  saveLanguage,
  t,
  tr,
  translatePage,
} from "/console/static/i18n.js";
import { WrapUpPanel, outcomeElement } from "/console/static/wrapup.js";
import { ratingElement } from "/console/static/rating.js";
import { BrowserPhone, callButton } from "/console/static/device.js";
import { ThreadPages } from "/console/static/thread_pages.js";
import { lineKey, whisperAuthor } from "/console/static/whisper.js";
import { replyWait } from "/console/static/reply_sla.js";
import {
  decorate as decorateReceipt,
  hasReceipt,
  remember as rememberReceipt,
} from "/console/static/receipts.js";
import { CustomerForm, fieldLabel, tierLabel } from "/console/static/customer_form.js";
import { CustomerLink } from "/console/static/customer_link.js";
import { CustomerFollowups, MyFollowups } from "/console/static/followups.js";

// The catalogue first, so that nothing is drawn in the wrong language; the user's saved
// choice (in hello) may switch it once more.
await loadLanguage(preferredLanguage(null));

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/** Local HH:MM. */
function formatClock(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return "";
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The channel of a work item: its name, after an icon for a task. */
function renderChannel(node, channel) {
  node.textContent = channel ? label("channel", channel) : "?";
  if (isTask({ channel })) node.prepend(taskIcon(), " ");
}

/** The first words of a task's text, for its work item. */
function firstWords(item) {
  const first = (item.messages || []).find((m) => !m.whisper);
  const text = first ? String(first.body || "").replace(/\s+/g, " ").trim() : "";
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function customerName(customer) {
  return (customer && (customer.name || customer.contact)) || t("customer.anonymous");
}

function isTextField(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target.getAttribute("type") || "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"].includes(type);
  }
  return false;
}

function errorMessage(ack, fallback) {
  if (ack && ack.error) return ack.error.message || ack.error.code || fallback;
  return fallback;
}

/** "missed_offers" -> "missed offers" (away reasons are short identifiers). */
function reasonText(reason) {
  return label("reason", reason);
}

function withdrawReason(reason) {
  return reason && has(`withdrawn.${reason}`) ? t(`withdrawn.${reason}`) : (reason || t("withdrawn.other"));
}

// ---------------------------------------------------------------------------
// Elements
// ---------------------------------------------------------------------------

const ui = {
  agentName: $("agent-name"),
  stateSelect: $("state-select"),
  stateLabel: $("state-label"),
  agentLoad: $("agent-load"),
  logout: $("logout"),
  connection: $("connection-status"),
  offers: $("offers"),
  offersEmpty: $("offers-empty"),
  workList: $("work-list"),
  workEmpty: $("work-empty"),
  thread: $("thread"),
  threadTitle: $("thread-title"),
  threadMeta: $("thread-meta"),
  wrapUpStatus: $("wrap-up-status"),
  endWrapUp: $("end-wrap-up"),
  closeConversation: $("close-conversation"),
  transfer: $("transfer"),
  transferPanel: $("transfer-panel"),
  transferTarget: $("transfer-target"),
  transferSubmit: $("transfer-submit"),
  transferCancel: $("transfer-cancel"),
  transferStatus: $("transfer-status"),
  transferError: $("transfer-error"),
  stateBanner: $("state-banner"),
  stateBannerText: $("state-banner-text"),
  stateBannerDismiss: $("state-banner-dismiss"),
  messages: $("messages"),
  typingIndicator: $("typing-indicator"),
  composerForm: $("composer-form"),
  composer: $("composer"),
  composerError: $("composer-error"),
  send: $("send"),
  smsOptOut: $("sms-opt-out"),
  smsCounter: $("sms-counter"),
  customerStatus: $("customer-status"),
  customerDetails: $("customer-details"),
  customerName: $("customer-name"),
  customerFullRecord: $("customer-full-record"),
  customerTier: $("customer-tier"),
  customerFacts: $("customer-facts"),
  customerTags: $("customer-tags"),
  customerCustom: $("customer-custom"),
  customerContext: $("customer-context"),
  customerIdentities: $("customer-identities"),
  customerNotes: $("customer-notes"),
  customerHistory: $("customer-history"),
  noteForm: $("note-form"),
  noteBody: $("note-body"),
  noteError: $("note-error"),
  addNote: $("add-note"),
  toasts: $("toasts"),
  language: $("language-select"),
  transferNote: $("transfer-note"),
  help: $("help-overlay"),
  helpButton: $("help-button"),
  helpClose: $("help-close"),
};

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const store = {
  agent: null,
  state: null,
  /** away reason (one of awayReasons, "missed_offers", "disconnected") or null */
  reason: null,
  stateSince: Date.now(),
  /** from hello */
  awayReasons: [],
  queues: [],
  load: {},
  capacity: {},
  /** interaction_id -> {offer, deadline, el, countdownEl, pending} (insertion order = oldest first) */
  offers: new Map(),
  /** interaction_id -> {item, unread, el, typing, typingTimer, knownIds:Set} */
  work: new Map(),
  /** interaction_id -> draft text; survives reconnects and selection changes */
  drafts: new Map(),
  selectedId: null,
  /** what the customer panel currently shows */
  panel: { customerId: null, interactionId: null, requestSeq: 0 },
  /** our own typing signal */
  typing: { interactionId: null, idleTimer: null },
  helloCount: 0,
  /** the inline transfer panel: which interaction it is open for, and request bookkeeping */
  transfer: { interactionId: null, loadSeq: 0, pending: false },
};

const baseTitle = document.title;

// The email view (subject, HTML, attachments, reply form) replaces the chat box for emails.
const emailView = new EmailView({
  onAuthLost: () => goToLogin(),
  toast: (m, k) => toast(m, k),
  whispers: (id) => (store.work.get(id)?.item.messages || []).filter((m) => m.whisper),
});
// SMS: delivery status per reply, media links, the opt-out notice and the 1,600-character counter.
const callPanel = new CallPanel(
  {
    panel: $("call-panel"),
    state: $("call-state"),
    timer: $("call-timer"),
    hold: $("call-hold"),
    mute: $("call-mute"),
    hangup: $("call-hangup"),
    error: $("call-error"),
    recording: $("call-recording"),
    consultPanel: $("call-consult-panel"),
    consultTarget: $("call-consult-target"),
    consult: $("call-consult"),
    consultState: $("call-consult-state"),
    consultComplete: $("call-consult-complete"),
    consultCancel: $("call-consult-cancel"),
  },
  (event, data) => request(event, data),
);
const wrapUpPanel = new WrapUpPanel(
  {
    form: $("wrap-up-panel"),
    disposition: $("wrap-up-disposition"),
    note: $("wrap-up-note"),
    error: $("wrap-up-error"),
    status: $("wrap-up-saved"),
  },
  (event, data) => request(event, data),
);
// The customer panel: edit the record shown, or link the conversation to another customer.
const customerForm = CustomerForm.onPage(
  { onSaved: (profile) => onCustomerSaved(profile), onAuthLost: () => goToLogin() },
);
const customerLink = new CustomerLink(
  {
    section: $("customer-link"),
    form: $("link-form"),
    query: $("link-query"),
    search: $("link-search"),
    status: $("link-status"),
    results: $("link-results"),
    confirm: $("link-confirm"),
    confirmText: $("link-confirm-text"),
    confirmYes: $("link-confirm-yes"),
    confirmNo: $("link-confirm-no"),
    error: $("link-error"),
  },
  { onLinked: (survivor, mergedId) => onCustomerLinked(survivor, mergedId), onAuthLost: () => goToLogin() },
);
// Follow-ups: scheduled from the customer panel; the agent's own upcoming ones in the top bar.
const myFollowups = new MyFollowups(
  {
    toggle: $("my-followups-toggle"),
    count: $("my-followups-count"),
    panel: $("my-followups"),
    list: $("my-followups-list"),
    empty: $("my-followups-empty"),
  },
  { onAuthLost: () => goToLogin() },
);
const customerFollowups = new CustomerFollowups(
  {
    section: $("customer-followups"),
    form: $("followup-form"),
    due: $("followup-due"),
    note: $("followup-note"),
    queue: $("followup-queue"),
    error: $("followup-error"),
    save: $("followup-save"),
    list: $("followup-list"),
    empty: $("followup-empty"),
  },
  {
    onChanged: () => myFollowups.load(),
    onAuthLost: () => goToLogin(),
    toast: (message) => toast(message),
  },
);
/** What a canned response is filled from: the selected conversation, while it is in progress. */
function cannedContext() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  if (!entry || entry.item.state !== "assigned") return null;
  return { channel: entry.item.channel, customer: entry.item.customer, agent: store.agent };
}
const cannedPicker = new CannedPicker(
  { composer: $("composer"), list: $("canned-list") },
  cannedContext,
  () => ui.composer.dispatchEvent(new Event("input")),
);
// Where the agent takes calls (phone or browser), the browser phone, and click-to-call.
const browserPhone = new BrowserPhone(
  {
    container: $("device-chooser"),
    picker: $("device-select"),
    status: $("device-status"),
    incoming: $("incoming-call"),
    incomingText: $("incoming-call-text"),
    answer: $("incoming-answer"),
    reject: $("incoming-reject"),
  },
  { onAuthLost: () => goToLogin() },
);
const emailCannedPicker = new CannedPicker(
  { composer: $("email-reply-body"), list: $("email-canned-list") },
  cannedContext,
  () => {},
  { ownKeys: true },
);
// The knowledge base beside the composer: its articles go into the reply being written.
new KnowledgePanel(
  {
    panel: $("kb-panel"),
    toggle: $("kb-toggle"),
    form: $("kb-form"),
    query: $("kb-query"),
    status: $("kb-status"),
    results: $("kb-results"),
    reader: $("kb-reader"),
    title: $("kb-article-title"),
    body: $("kb-article-body"),
    insert: $("kb-insert"),
    back: $("kb-back"),
  },
  {
    target: () => {
      if (cannedContext() === null) return null;
      const email = $("email-reply-body");
      if (!$("email-view").hidden && !email.disabled) return email;
      return ui.composer.disabled ? null : ui.composer;
    },
    changed: (field) => field.dispatchEvent(new Event("input")),
    onAuthLost: () => goToLogin(),
  },
);
// Long threads are drawn a page at a time, newest first.
const threadPages = new ThreadPages(ui.messages);
const smsComposer = new SmsComposer({ optOut: ui.smsOptOut, counter: ui.smsCounter, composer: ui.composer, send: ui.send });
const taskComposer = new TaskComposer({ form: ui.composerForm, composer: ui.composer, send: ui.send });

// ---------------------------------------------------------------------------
// Toasts
// ---------------------------------------------------------------------------

function toast(message, kind = "info") {
  const node = el("div", `toast toast-${kind}`, message);
  ui.toasts.append(node);
  setTimeout(() => node.classList.add("toast-leaving"), 4500);
  setTimeout(() => node.remove(), 5000);
}

// ---------------------------------------------------------------------------
// Socket
// ---------------------------------------------------------------------------

const socket = io("/agent", { withCredentials: true, auth: socketAuth });
keepAlive(socket);

/** Emit with an acknowledgement; resolves with the ack or a synthetic error. */
function request(event, data, timeoutMs = 10000) {
  return new Promise((resolve) => {
    if (!socket.connected) {
      resolve({ error: { code: "disconnected", message: t("error.disconnected") } });
      return;
    }
    socket.timeout(timeoutMs).emit(event, data, (err, ack) => {
      if (err) resolve({ error: { code: "timeout", message: t("error.timeout") } });
      else resolve(ack || { error: { code: "invalid_response", message: t("error.empty") } });
    });
  });
}

function setConnection(status) {
  showConnection(ui.connection, status);
  ui.connection.dataset.i18n = `connection.${status}`;
  ui.connection.textContent = t(`connection.${status}`);
}

function goToLogin(ended) {
  toLogin("/console", ended);
}

/** Decide whether a connection problem is an expired session or a network problem. */
let checkingSession = false;
async function checkSessionOrRetry() {
  if (checkingSession) return;
  checkingSession = true;
  try {
    const session = await fetchSession();
    if (session.status === 401 || session.status === 403) {
      goToLogin(session.status === 401 ? "ended" : null);
      return;
    }
  } catch {
    // Network down: keep trying below.
  } finally {
    checkingSession = false;
  }
  setConnection("reconnecting");
  // When the server refused the handshake the client does not retry by itself.
  if (!socket.active) setTimeout(() => { if (!socket.connected) socket.connect(); }, 3000);
}

socket.on("connect", () => setConnection("connected"));

socket.on("disconnect", (reason) => {
  setConnection("reconnecting");
  stopOwnTyping(false);
  if (reason === "io server disconnect") checkSessionOrRetry();
});

socket.on("connect_error", () => {
  setConnection("reconnecting");
  checkSessionOrRetry();
});

// The session ended (signed out elsewhere, idle, disabled, role or password changed).
socket.on("signed_out", (data) => goToLogin((data && data.reason) || "ended"));
socket.on("hello", (data) => onHello(data || {}));
socket.on("state", (data) => onState(data || {}));
socket.on("offer", (offer) => { if (offer) addOffer(offer, true); });
socket.on("offer_withdrawn", (data) => onOfferWithdrawn(data || {}));
socket.on("assigned", (item) => { if (item) onAssigned(item, false); });
socket.on("message", (data) => onMessage(data || {}));
socket.on("typing", (data) => onCustomerTyping(data || {}));
socket.on("interaction_updated", (data) => onInteractionUpdated(data || {}));
// A customer rated one of our interactions: the open customer panel shows it.
socket.on("interaction_rated", (data) => {
  if (data && store.panel.customerId !== null && data.customer_id === store.panel.customerId) {
    loadCustomer(store.panel.customerId, store.panel.interactionId, ui.customerContext.textContent);
  }
});
socket.on("message_details", (data) => onMessageDetails(data || {}));
socket.on("customer_changed", (data) => onCustomerChanged(data || {}));
// A note kept by another system (POST /api/v1/interactions/{id}/notes): shown like our own.
socket.on("note_added", (data) => {
  if (data && data.note && store.work.has(data.interaction_id)) showNote(data.interaction_id, data.note);
});
socket.on("opt_out", (data) => onOptOut(data || {}));

// ---------------------------------------------------------------------------
// Agent header: name, state, load
// ---------------------------------------------------------------------------

function onHello(data) {
  store.helloCount += 1;
  store.agent = data.agent || store.agent;
  ui.agentName.textContent = (store.agent && store.agent.name) || t("author.agent");
  if (store.helloCount === 1) useLanguage(preferredLanguage(store.agent && store.agent.language));
  if (Array.isArray(data.canned_responses)) {
    cannedPicker.setResponses(data.canned_responses);
    emailCannedPicker.setResponses(data.canned_responses);
  }
  const role = store.agent && store.agent.role;
  if ((role === "supervisor" || role === "admin") && !$("wallboard-link")) {
    const link = tr(el("a", "btn btn-ghost"), "console.wallboard");
    link.id = "wallboard-link";
    link.href = "/console/supervisor";
    ui.connection.before(link);
  }
  if (Array.isArray(data.away_reasons)) {
    store.awayReasons = data.away_reasons.filter((r) => typeof r === "string" && r.length > 0);
    renderAwayOptions();
  }
  if (Array.isArray(data.queues)) {
    store.queues = data.queues.filter((q) => typeof q === "string" && q.length > 0);
  }
  myFollowups.load();
  applyState(data.state, data.reason ?? null, data.load, data.capacity, data.state_since);
  ui.stateSelect.disabled = false;

  // Offers: rebuild, keeping local countdowns of offers we already show.
  const incomingOffers = Array.isArray(data.offers) ? data.offers : [];
  const keepOffers = new Set(incomingOffers.map((o) => o.interaction_id));
  for (const id of [...store.offers.keys()]) {
    if (!keepOffers.has(id)) removeOffer(id);
  }
  for (const offer of incomingOffers) addOffer(offer, false);

  // Work: rebuild, keeping drafts, unread counters and selection.
  const incomingWork = Array.isArray(data.work) ? data.work : [];
  const keepWork = new Set(incomingWork.map((w) => w.interaction_id));
  for (const id of [...store.work.keys()]) {
    if (!keepWork.has(id)) removeWork(id, { silent: true });
  }
  for (const item of incomingWork) upsertWork(item, { countUnread: store.helloCount > 1 });

  if (store.selectedId !== null && !store.work.has(store.selectedId)) store.selectedId = null;
  if (store.selectedId === null && store.work.size > 0 && store.helloCount === 1) {
    select(store.work.keys().next().value);
  } else {
    renderThread();
  }
  renderEmptyStates();
}

function onState(data) {
  applyState(data.state, data.reason ?? null, data.load, data.capacity, data.state_since);
}

/** One "away:<reason>" option per configured away reason, right after the plain "away" option. */
function renderAwayOptions() {
  for (const option of [...ui.stateSelect.options]) {
    if (option.value.startsWith("away:")) option.remove();
  }
  const plainAway = [...ui.stateSelect.options].find((o) => o.value === "away");
  let anchor = plainAway || null;
  for (const reason of store.awayReasons) {
    const option = tr(el("option"), "state.away_reason", { reason: reasonText(reason) });
    option.value = `away:${reason}`;
    if (anchor) anchor.after(option);
    else ui.stateSelect.append(option);
    anchor = option;
  }
}

/** The #state-select value that represents a state and reason. */
function stateSelectValue(state, reason) {
  if (state === "away" && reason && store.awayReasons.includes(reason)) return `away:${reason}`;
  return state;
}

function showStateBanner(message) {
  ui.stateBannerText.textContent = message;
  ui.stateBanner.hidden = false;
}

function hideStateBanner() {
  ui.stateBanner.hidden = true;
  ui.stateBannerText.textContent = "";
}

ui.stateBannerDismiss.addEventListener("click", () => hideStateBanner());

function applyState(state, reason, load, capacity, since) {
  const sinceMs = since ? Date.parse(since) : NaN;
  const previousReason = store.reason;
  if (state && state !== store.state) {
    store.state = state;
    store.stateSince = Number.isNaN(sinceMs) ? Date.now() : Math.min(sinceMs, Date.now());
  } else if (!Number.isNaN(sinceMs)) {
    store.stateSince = Math.min(sinceMs, Date.now());
  }
  if (state) store.reason = state === "available" ? null : (reason ?? null);
  if (load) store.load = load;
  if (capacity) store.capacity = capacity;
  if (store.state) ui.stateSelect.value = stateSelectValue(store.state, store.reason);
  document.body.dataset.agentState = store.state || "";

  if (store.state === "away" && store.reason === "missed_offers") {
    // Announce it once per occurrence (state events also arrive for load changes).
    if (previousReason !== "missed_offers") {
      showStateBanner(t("state.missed_offers"));
      toast(t("state.missed_offers"), "warning");
    }
  } else if (state) {
    hideStateBanner();
  }
  renderStateLabel();
  renderLoad();
}

function renderStateLabel() {
  if (!store.state) {
    ui.stateLabel.textContent = "—";
    return;
  }
  const stateName = label("state_label", store.state);
  const name = store.reason ? `${stateName} (${reasonText(store.reason)})` : stateName;
  const text = `${name} · ${formatDuration(Date.now() - store.stateSince)}`;
  if (ui.stateLabel.textContent !== text) ui.stateLabel.textContent = text;
  ui.stateLabel.className = `state-label state-${store.state}`;
}

function renderLoad() {
  const channels = new Set([...Object.keys(store.capacity || {}), ...Object.keys(store.load || {})]);
  if (channels.size === 0) {
    ui.agentLoad.textContent = "—";
    return;
  }
  ui.agentLoad.textContent = [...channels]
    .sort()
    .map((ch) => `${ch} ${Number(store.load[ch] || 0)}/${Number(store.capacity[ch] || 0)}`)
    .join(" · ");
}

ui.stateSelect.addEventListener("change", async () => {
  const value = ui.stateSelect.value;
  const [wanted, ...rest] = value.split(":");
  const reason = rest.length > 0 ? rest.join(":") : null;
  const payload = reason ? { state: wanted, reason } : { state: wanted };
  ui.stateSelect.disabled = true;
  const ack = await request("set_state", payload);
  ui.stateSelect.disabled = false;
  if (ack && ack.ok) {
    applyState(ack.state || wanted, ack.state ? (ack.reason ?? null) : reason, ack.load, ack.capacity, ack.state_since);
  } else {
    if (store.state) ui.stateSelect.value = stateSelectValue(store.state, store.reason);
    toast(t("state.not_changed", { reason: errorMessage(ack, t("error.unknown")) }), "error");
  }
});

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  stopOwnTyping(true);
  try {
    await send("/api/v1/session", { method: "DELETE" });
  } catch {
    // go to login anyway
  }
  socket.disconnect();
  window.location.assign("/login");
});

// ---------------------------------------------------------------------------
// Offers
// ---------------------------------------------------------------------------

function addOffer(offer, isNew) {
  const id = offer.interaction_id;
  if (id === undefined || id === null) return;
  if (store.work.has(id)) return; // already ours
  const existing = store.offers.get(id);
  if (existing) {
    existing.offer = offer;
    return;
  }
  const timeout = Number(offer.timeout_s);
  const deadline = Date.now() + (Number.isFinite(timeout) && timeout > 0 ? timeout : 30) * 1000;

  const card = el("article", "offer-card");
  card.dataset.interactionId = String(id);
  card.setAttribute("aria-label", t("offer.from", { name: customerName(offer.customer) }));
  card.tabIndex = -1;

  const head = el("div", "offer-head");
  head.append(el("span", "offer-customer", customerName(offer.customer)));
  const tier = offer.customer && offer.customer.tier;
  if (tier) head.append(tierLabel(el("span", "tier-badge offer-tier"), tier));
  card.append(head);

  const queueLine = el("div", "offer-queue");
  queueLine.append(channelBadge(offer.channel), el("span", "offer-queue-name", offer.queue || ""));
  card.append(queueLine);

  if (offer.subject) card.append(el("p", "offer-subject", offer.subject));
  card.append(el("p", "offer-preview", offer.preview || ""));
  const note = offer.transfer_note;
  if (note && typeof note.body === "string") {
    const box = el("div", "offer-transfer-note");
    box.append(
      tr(el("span", "transfer-note-label"), "transfer.note_from", { name: note.author_name || "" }),
      el("span", "transfer-note-body", note.body),
    );
    card.append(box);
  }

  const footer = el("div", "offer-footer");
  const timer = el("span", "offer-timer");
  const countdown = el("span", "offer-countdown", String(Math.ceil((deadline - Date.now()) / 1000)));
  countdown.dataset.i18nAriaLabel = "offer.seconds_left";
  countdown.setAttribute("aria-label", t("offer.seconds_left"));
  timer.append(countdown, tr(el("span", "offer-timer-unit"), "offer.s_left"));
  const accept = tr(el("button", "btn btn-primary offer-accept"), "offer.accept");
  accept.type = "button";
  accept.dataset.i18nTitle = "offer.accept_key";
  accept.title = t("offer.accept_key");
  const decline = tr(el("button", "btn btn-secondary offer-decline"), "offer.decline");
  decline.type = "button";
  decline.dataset.i18nTitle = "offer.decline_key";
  decline.title = t("offer.decline_key");
  accept.addEventListener("click", () => acceptOffer(id));
  decline.addEventListener("click", () => declineOffer(id));
  const buttons = el("div", "offer-buttons");
  buttons.append(accept, decline);
  footer.append(timer, buttons);
  card.append(footer);

  // Clicking the card body (not a button) previews the customer.
  card.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("button")) return;
    if (offer.customer && offer.customer.customer_id != null) {
      loadCustomer(offer.customer.customer_id, null, t("customer.context_offer", { queue: offer.queue || offer.channel || "" }));
    }
  });

  ui.offers.append(card);
  store.offers.set(id, { offer, deadline, el: card, countdownEl: countdown, pending: false });
  renderEmptyStates();
  updateTitle();

  if (isNew) {
    playChime();
    notifyDesktop(offer);
  }
  // Screen pop: show the offered customer unless the agent is working on a conversation.
  if (store.selectedId === null && offer.customer && offer.customer.customer_id != null) {
    loadCustomer(offer.customer.customer_id, null, t("customer.context_offer", { queue: offer.queue || offer.channel || "" }));
  }
}

function removeOffer(id) {
  const entry = store.offers.get(id);
  if (!entry) return null;
  entry.el.remove();
  store.offers.delete(id);
  renderEmptyStates();
  updateTitle();
  // Restore the panel if it showed this offer's customer and nothing is selected.
  if (store.selectedId === null && store.panel.interactionId === null &&
      entry.offer.customer && store.panel.customerId === entry.offer.customer.customer_id) {
    const next = store.offers.values().next().value;
    if (next && next.offer.customer) {
      loadCustomer(next.offer.customer.customer_id, null, t("customer.context_offer", { queue: next.offer.queue || "" }));
    } else {
      clearCustomer();
    }
  }
  return entry;
}

function setOfferPending(entry, pending) {
  entry.pending = pending;
  entry.el.classList.toggle("offer-pending", pending);
  for (const button of entry.el.querySelectorAll("button")) button.disabled = pending;
}

async function acceptOffer(id) {
  const entry = store.offers.get(id);
  if (!entry || entry.pending) return;
  setOfferPending(entry, true);
  const ack = await request("accept", { interaction_id: id });
  if (ack && ack.ok) {
    removeOffer(id);
    if (ack.work) onAssigned(ack.work, true);
    else select(id);
    focusReply();
    return;
  }
  const code = ack && ack.error && ack.error.code;
  if (code === "conflict" || code === "not_found") {
    removeOffer(id);
    toast(t("offer.gone", { reason: errorMessage(ack, t("offer.gone_default")) }), "warning");
  } else {
    if (store.offers.has(id)) setOfferPending(entry, false);
    toast(t("offer.not_accepted", { reason: errorMessage(ack, t("error.unknown")) }), "error");
  }
}

async function declineOffer(id) {
  const entry = store.offers.get(id);
  if (!entry || entry.pending) return;
  setOfferPending(entry, true);
  const ack = await request("decline", { interaction_id: id });
  if (ack && ack.ok) {
    removeOffer(id);
    return;
  }
  const code = ack && ack.error && ack.error.code;
  if (code === "conflict" || code === "not_found") {
    removeOffer(id);
  } else {
    if (store.offers.has(id)) setOfferPending(entry, false);
    toast(t("offer.not_declined", { reason: errorMessage(ack, t("error.unknown")) }), "error");
  }
}

function onOfferWithdrawn(data) {
  // A call accepted while the phone rang is shown as work until it is answered.
  const work = store.work.get(data.interaction_id);
  if (work && work.item.state === "offered") {
    removeWork(data.interaction_id, { silent: true });
    const reason = withdrawReason(data.reason);
    toast(t("offer.call_not_connected", { name: customerName(work.item.customer), reason }), "warning");
  }
  const entry = removeOffer(data.interaction_id);
  if (!entry) return;
  const reason = withdrawReason(data.reason);
  toast(t("offer.withdrawn", { name: customerName(entry.offer.customer), reason }), "warning");
}

function oldestOffer() {
  for (const [id, entry] of store.offers) {
    if (!entry.pending && entry.el.isConnected) return id;
  }
  return null;
}

function tickOffers() {
  const now = Date.now();
  for (const [id, entry] of store.offers) {
    const left = Math.max(0, Math.ceil((entry.deadline - now) / 1000));
    const text = String(left);
    if (entry.countdownEl.textContent !== text) entry.countdownEl.textContent = text;
    entry.el.classList.toggle("offer-urgent", left <= 5);
    // The server withdraws expired offers; drop stale cards if that message never comes.
    if (now - entry.deadline > 5000 && !entry.pending) removeOffer(id);
  }
}

// Desktop notifications ------------------------------------------------------

function notifyDesktop(offer) {
  try {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const n = new Notification(t("offer.notification", { channel: offer.channel ? label("channel", offer.channel) : "" }).replace(/\s+/g, " "), {
      body: `${customerName(offer.customer)} · ${offer.queue || ""}\n${offer.preview || ""}`,
      tag: `offer-${offer.interaction_id}`,
    });
    n.addEventListener("click", () => {
      window.focus();
      n.close();
    });
  } catch {
    // ignore
  }
}

let askedPermission = false;
document.addEventListener("click", () => {
  unlockAudio();
  if (askedPermission) return;
  askedPermission = true;
  try {
    if ("Notification" in window && Notification.permission === "default") {
      const result = Notification.requestPermission();
      if (result && typeof result.catch === "function") result.catch(() => {});
    }
  } catch {
    // ignore
  }
}, { capture: true });

// Keyboard shortcuts: a = accept, d = decline (oldest offer) --------------------

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (isTextField(event.target)) return;
  const key = event.key.toLowerCase();
  if ((key !== "a" && key !== "d") || !ui.help.hidden) return;
  const id = oldestOffer();
  if (id === null) return;
  event.preventDefault();
  if (key === "a") acceptOffer(id);
  else declineOffer(id);
});

// ---------------------------------------------------------------------------
// Work list
// ---------------------------------------------------------------------------

function onAssigned(item, selectIt) {
  removeOffer(item.interaction_id);
  const isNew = !store.work.has(item.interaction_id);
  upsertWork(item, { countUnread: false });
  if (selectIt || (isNew && store.selectedId === null)) select(item.interaction_id);
  else if (store.selectedId === item.interaction_id) renderThread();
  renderEmptyStates();
}

function upsertWork(item, { countUnread }) {
  const id = item.interaction_id;
  let entry = store.work.get(id);
  if (!entry) {
    entry = {
      item,
      unread: 0,
      el: null,
      typing: false,
      typingTimer: null,
      knownIds: new Set(),
      // receipts that arrived before the reply itself (message_id -> chat receipt)
      earlyReceipts: new Map(),
    };
    store.work.set(id, entry);
    entry.el = buildWorkItem(id);
    ui.workList.append(entry.el);
    for (const m of item.messages || []) entry.knownIds.add(lineKey(m));
  } else {
    const previous = entry.item;
    const merged = { ...previous, ...item };
    if (!Array.isArray(item.messages)) merged.messages = previous.messages || [];
    entry.item = merged;
    for (const m of merged.messages || []) {
      if (!entry.knownIds.has(lineKey(m))) {
        entry.knownIds.add(lineKey(m));
        if (countUnread && m.direction === "in" && id !== store.selectedId) entry.unread += 1;
      }
    }
  }
  if (!Array.isArray(entry.item.messages)) entry.item.messages = [];
  smsNumberAsName(entry.item);
  renderWorkItem(id);
  return entry;
}

function buildWorkItem(id) {
  const li = el("li", "work-row");
  const button = el("button", "work-item");
  button.type = "button";
  button.dataset.interactionId = String(id);
  button.addEventListener("click", () => select(id));
  const top = el("span", "work-top");
  const name = el("span", "work-customer");
  const unread = el("span", "work-unread");
  unread.hidden = true;
  top.append(name, unread);
  const bottom = el("span", "work-bottom");
  const channel = el("span", "channel-badge work-channel");
  const queue = el("span", "work-queue");
  const state = el("span", "work-state");
  bottom.append(channel, queue, state);
  const subject = el("span", "work-subject");
  const preview = el("span", "work-preview");
  subject.hidden = true;
  preview.hidden = true;
  const wait = el("span", "work-wait");
  const waitIcon = el("span", "work-wait-icon");
  waitIcon.setAttribute("aria-hidden", "true");
  const waitText = el("span", "work-wait-text");
  wait.append(waitIcon, waitText);
  wait.hidden = true;
  button.append(top, subject, preview, bottom, wait);
  li.append(button);
  li.refs = { button, name, unread, channel, queue, state, subject, preview, wait, waitIcon, waitText };
  return li;
}

// A clock face, an hourglass, a warning sign: in common text fonts (DejaVu), not emoji only.
const WAIT_ICONS = { ok: "\u25F7", near: "\u231B", late: "\u26A0" };
const WAIT_TEXT = {
  ok: (v) => [t("work.wait.ok", v), t("work.wait.label", v)],
  near: (v) => [t("work.wait.near", v), t("work.wait.label_near", v)],
  late: (v) => [t("work.wait.late", v), t("work.wait.label_late", v)],
};

/** The customer's wait for a reply, coloured against the queue's reply target (with an icon
 * and words as well: never colour alone). Hidden unless the customer wrote last. */
function renderWait(entry) {
  const { item } = entry;
  const r = entry.el.refs;
  const wait = item.state === "assigned" ? replyWait(item.messages, item.reply_target_s, Date.now()) : null;
  if (!wait) {
    r.wait.hidden = true;
    r.wait.removeAttribute("data-level");
    return;
  }
  const level = wait.level || "ok";
  const time = formatDuration(wait.waitedMs);
  r.wait.hidden = false;
  r.wait.dataset.level = level;
  r.wait.className = `work-wait sla-${level}`;
  r.waitIcon.textContent = WAIT_ICONS[level];
  const target = wait.targetMs === null ? "" : formatDuration(wait.targetMs);
  const [text, label] = WAIT_TEXT[level]({ time, target });
  r.waitText.textContent = text;
  r.wait.title = label;
  r.wait.setAttribute("aria-label", label);
}

function workStateText(item) {
  if (item.state === "wrap_up") {
    const until = parseTime(item.wrap_up_until);
    if (Number.isNaN(until)) return t("work.wrap_up");
    return t("work.wrap_up_left", { time: formatDuration(until - Date.now()) });
  }
  return label("interaction_state", item.state || "");
}

function renderWorkItem(id) {
  const entry = store.work.get(id);
  if (!entry) return;
  const { item } = entry;
  const r = entry.el.refs;
  r.name.textContent = customerName(item.customer);
  renderChannel(r.channel, item.channel);
  // A task says what it is about: its subject and the first words of its text.
  const task = isTask(item);
  r.subject.hidden = !task || !item.subject;
  r.subject.textContent = task ? item.subject || "" : "";
  const words = task ? firstWords(item) : "";
  r.preview.hidden = !words;
  r.preview.textContent = words;
  r.queue.textContent = item.queue || "";
  r.state.textContent = workStateText(item);
  r.state.className = `work-state state-${item.state}`;
  r.unread.textContent = String(entry.unread);
  r.unread.hidden = entry.unread === 0;
  r.unread.setAttribute("aria-label", t("work.unread", { count: entry.unread }));
  renderWait(entry);
  r.button.classList.toggle("is-selected", id === store.selectedId);
  r.button.classList.toggle("is-wrap-up", item.state === "wrap_up");
  if (id === store.selectedId) r.button.setAttribute("aria-current", "true");
  else r.button.removeAttribute("aria-current");
}

function removeWork(id, { silent } = {}) {
  const entry = store.work.get(id);
  if (!entry) return;
  clearTimeout(entry.typingTimer);
  if (store.transfer.interactionId === id) closeTransferPanel({ restoreFocus: false });
  entry.el.remove();
  store.work.delete(id);
  store.drafts.delete(id);
  if (store.typing.interactionId === id) stopOwnTyping(false);
  if (store.selectedId === id) {
    store.selectedId = null;
    const next = store.work.keys().next().value;
    if (next !== undefined && !silent) select(next);
    else {
      renderThread();
      clearCustomer();
    }
  }
  renderEmptyStates();
}

function select(id) {
  if (!store.work.has(id)) return;
  const previous = store.selectedId;
  if (previous !== null && previous !== id) {
    store.drafts.set(previous, ui.composer.value);
    stopOwnTyping(true);
  }
  if (store.transfer.interactionId !== null && store.transfer.interactionId !== id) {
    closeTransferPanel({ restoreFocus: false });
  }
  store.selectedId = id;
  const entry = store.work.get(id);
  entry.unread = 0;
  for (const other of store.work.keys()) renderWorkItem(other);
  ui.composer.value = store.drafts.get(id) || "";
  hideComposerError();
  hideNoteError();
  renderThread();
  const customer = entry.item.customer;
  if (customer && customer.customer_id != null) {
    if (store.panel.customerId !== customer.customer_id || store.panel.interactionId !== id) {
      loadCustomer(customer.customer_id, id, t("customer.context_conversation", { queue: entry.item.queue || entry.item.channel || "" }));
    } else {
      updateNoteForm();
    }
  } else {
    clearCustomer(t("customer.no_record"));
  }
}

/** Put the keyboard where the agent works next: the reply box of the selected conversation,
 * or (nothing left to answer) the offers, where a / d take the next one. */
function focusReply() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  const box = entry && entry.item.channel === "email" ? $("email-reply-body") : ui.composer;
  if (entry && !box.disabled && !box.closest("[hidden]")) box.focus();
  else if (!entry) ui.offers.focus();
}

function tickWork() {
  for (const [id, entry] of store.work) {
    if (entry.item.state === "wrap_up") renderWorkItem(id);
    else renderWait(entry);
  }
  callPanel.tick();
}

// ---------------------------------------------------------------------------
// Thread
// ---------------------------------------------------------------------------

function messageElement(message) {
  const li = el("li", "message");
  const kind = message.author_kind === "system"
    ? "message-system"
    : message.direction === "out" ? "message-out" : "message-in";
  li.classList.add(kind);
  if (message.message_id != null) li.dataset.messageId = String(message.message_id);
  if (message.whisper && message.note_id != null) li.dataset.noteId = String(message.note_id);
  const meta = el("div", "message-meta");
  const fallbackAuthor = t(message.author_kind === "system" ? "author.system" : message.direction === "out" ? "author.agent" : "author.customer");
  const author = message.whisper ? whisperAuthor(message) : message.author_name || fallbackAuthor;
  meta.append(el("span", "message-author", author));
  meta.append(timeElement(message.created_at, formatClock(message.created_at), "message-time"));
  li.append(meta, el("div", "message-body", message.body ?? ""));
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  if (entry && entry.item.channel === "sms") decorateSms(li, message, smsDetailsFor(entry.item, message.message_id));
  if (entry && entry.item.channel === "webchat" && !message.whisper) decorateReceipt(li, message);
  // A task's text is the work itself, not a notice: shown as the customer's side would be.
  if (entry && isTask(entry.item) && !message.whisper) li.classList.add("message-task");
  return li;
}

function isNearBottom(node) {
  return node.scrollHeight - node.scrollTop - node.clientHeight < 80;
}

function scrollToBottom(node) {
  node.scrollTop = node.scrollHeight;
}

function renderThread() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  threadPages.show([]);
  ui.threadMeta.replaceChildren();
  if (!entry) {
    emailView.hide();
    ui.messages.hidden = false;
    ui.composerForm.hidden = false;
    ui.thread.classList.add("is-empty");
    tr(ui.threadTitle, "thread.none");
    ui.threadMeta.append(tr(el("span", "empty-hint"), store.work.size ? "thread.pick" : "thread.accept_to_start"));
    ui.typingIndicator.hidden = true;
    ui.composer.disabled = true;
    ui.send.disabled = true;
    ui.closeConversation.disabled = true;
    ui.closeConversation.hidden = false;
    ui.transfer.disabled = true;
    ui.transfer.hidden = false;
    if (store.transfer.interactionId !== null) closeTransferPanel({ restoreFocus: false });
    ui.endWrapUp.hidden = true;
    ui.wrapUpStatus.hidden = true;
    wrapUpPanel.render(null);
    cannedPicker.close();
    smsComposer.render(null);
    taskComposer.render(null);
    callPanel.render(null);
    updateNoteForm();
    return;
  }
  const { item } = entry;
  ui.thread.classList.remove("is-empty");
  delete ui.threadTitle.dataset.i18n;
  ui.threadTitle.textContent = customerName(item.customer);
  ui.threadMeta.append(channelBadge(item.channel), el("span", "thread-queue", item.queue || ""));
  if (isTask(item) && item.subject) ui.threadMeta.append(subjectElement(item, "thread-subject"));
  if (item.assigned_at) {
    ui.threadMeta.append(tr(el("span", "thread-since"), "thread.since", { time: formatClock(item.assigned_at) }));
  }
  const isEmail = item.channel === "email";
  const isCall = callPanel.render(item);
  ui.messages.hidden = isEmail;
  ui.composerForm.hidden = isEmail || isCall;
  if (isEmail) emailView.show(item);
  else emailView.hide();
  // Transfer notes sit in the thread where they were written, marked private.
  const entries = [
    ...(item.messages || []).map((m) => ({ at: parseTime(m.created_at), node: () => messageElement(m) })),
    ...(Array.isArray(item.transfer_notes) ? item.transfer_notes : []).map((n) => ({
      at: parseTime(n.created_at),
      node: () => transferNoteElement(n),
    })),
    // A task's private notes are its thread's replies.
    ...(isTask(item) && Array.isArray(item.notes) ? item.notes : []).map((n) => ({
      at: parseTime(n.created_at),
      node: () => taskNoteElement(n, timeElement, formatClock),
    })),
  ];
  entries.sort((a, b) => (a.at || 0) - (b.at || 0));
  threadPages.show(entries.map((e) => e.node));
  scrollToBottom(ui.messages);
  renderThreadState();
  renderTyping();
}

function renderThreadState() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  if (!entry) return;
  if (entry.item.channel === "email") emailView.show(entry.item);
  const wrapUp = entry.item.state === "wrap_up";
  ui.composer.disabled = wrapUp;
  ui.send.disabled = wrapUp;
  ui.composer.dataset.i18nPlaceholder = wrapUp ? "composer.closed" : "composer.placeholder";
  ui.composer.placeholder = t(ui.composer.dataset.i18nPlaceholder);
  if (wrapUp) cannedPicker.close();
  taskComposer.render(entry.item);
  if (smsComposer.render(entry.item) && !wrapUp) {
    ui.composer.disabled = true;
    ui.send.disabled = true;
    ui.composer.dataset.i18nPlaceholder = "composer.opted_out";
    ui.composer.placeholder = t("composer.opted_out");
  }
  ui.closeConversation.hidden = wrapUp;
  ui.closeConversation.disabled = wrapUp;
  const assigned = entry.item.state === "assigned";
  ui.transfer.hidden = wrapUp;
  ui.transfer.disabled = !assigned || store.transfer.pending;
  if (!assigned && store.transfer.interactionId === store.selectedId) closeTransferPanel({ restoreFocus: false });
  ui.endWrapUp.hidden = !wrapUp;
  ui.wrapUpStatus.hidden = !wrapUp;
  if (wrapUp) renderWrapUpStatus(entry.item);
  wrapUpPanel.render(entry.item);
  updateNoteForm();
}

function renderWrapUpStatus(item) {
  const until = parseTime(item.wrap_up_until);
  ui.wrapUpStatus.textContent = Number.isNaN(until)
    ? t("wrapup.status")
    : t("wrapup.status_left", { time: formatDuration(until - Date.now()) });
}

function transferNoteElement(note) {
  const li = el("li", "message message-transfer-note");
  if (note.note_id != null) li.dataset.noteId = String(note.note_id);
  const meta = el("div", "message-meta");
  meta.append(tr(el("span", "message-author"), "transfer.note_from", { name: note.author_name || "" }));
  meta.append(timeElement(note.created_at, formatClock(note.created_at), "message-time"));
  li.append(meta, el("div", "message-body", note.body ?? ""));
  return li;
}

function appendMessageToThread(message) {
  const stick = isNearBottom(ui.messages);
  ui.messages.append(messageElement(message));
  if (stick || message.direction === "out") scrollToBottom(ui.messages);
}

function addMessage(interactionId, message) {
  const entry = store.work.get(interactionId);
  if (!entry || !message) return false;
  const key = lineKey(message);
  if (key != null && entry.knownIds.has(key)) return false;
  if (key != null) entry.knownIds.add(key);
  const early = entry.earlyReceipts.get(message.message_id);
  if (early) {
    rememberReceipt(message, early);
    entry.earlyReceipts.delete(message.message_id);
  }
  entry.item.messages.push(message);
  if (interactionId === store.selectedId) {
    appendMessageToThread(message);
  } else if (message.direction === "in") {
    entry.unread += 1;
  }
  renderWorkItem(interactionId); // the customer's wait starts or ends
  return true;
}

function onMessage(data) {
  let id = data.interaction_id;
  if ((id === undefined || id === null) && data.conversation_id != null) {
    for (const [wid, entry] of store.work) {
      if (entry.item.conversation_id === data.conversation_id) id = wid;
    }
  }
  const added = addMessage(id, data.message);
  const work = store.work.get(id);
  if (added && id === store.selectedId && work && work.item.channel === "email") emailView.refresh();
  if (added && data.message && data.message.direction === "in") {
    setCustomerTyping(id, false);
    if (id !== store.selectedId || document.hidden) playChime();
  }
}

// SMS delivery status and opt-outs ------------------------------------------------

function onMessageDetails(data) {
  if (data.email) {
    emailView.applyStatus(data.interaction_id, data.message_id, data.email);
    return;
  }
  if (data.chat) {
    onReceipt(data.interaction_id, data.message_id, data.chat);
    return;
  }
  const entry = store.work.get(data.interaction_id);
  if (!entry || data.message_id == null || !data.sms) return;
  const details = rememberSms(entry.item, data.message_id, data.sms);
  if (data.interaction_id !== store.selectedId) return;
  const li = ui.messages.querySelector(`li[data-message-id="${Number(data.message_id)}"]`);
  const message = (entry.item.messages || []).find((m) => m.message_id === data.message_id);
  if (li && message) decorateSms(li, message, details);
}

/** The visitor's chat box received or showed a reply: "Delivered" / "Read" under it. */
function onReceipt(interactionId, messageId, chat) {
  const entry = store.work.get(interactionId);
  if (!entry || messageId == null) return;
  const message = (entry.item.messages || []).find((m) => m.message_id === messageId);
  if (!message) {
    entry.earlyReceipts.set(messageId, chat); // the reply itself is still on its way
    return;
  }
  rememberReceipt(message, chat);
  if (interactionId !== store.selectedId || !hasReceipt(message)) return;
  const li = ui.messages.querySelector(`li[data-message-id="${Number(messageId)}"]`);
  if (li) decorateReceipt(li, message);
}

function onOptOut(data) {
  const entry = store.work.get(data.interaction_id);
  if (!entry) return;
  entry.item.sms = { ...(entry.item.sms || {}), opted_out: Boolean(data.opted_out) };
  if (data.interaction_id === store.selectedId) renderThreadState();
  toast(
    t(data.opted_out ? "sms.opted_out_toast" : "sms.opted_in_toast", {
      who: data.address || t("sms.the_customer"),
    }),
    data.opted_out ? "error" : "info",
  );
}

// Customer typing ---------------------------------------------------------------

function onCustomerTyping(data) {
  setCustomerTyping(data.interaction_id, Boolean(data.typing));
}

function setCustomerTyping(id, typing) {
  const entry = store.work.get(id);
  if (!entry) return;
  clearTimeout(entry.typingTimer);
  entry.typing = typing;
  // Safety net in case the "stopped typing" event is lost.
  if (typing) entry.typingTimer = setTimeout(() => setCustomerTyping(id, false), 15000);
  if (id === store.selectedId) renderTyping();
}

function renderTyping() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  if (entry && entry.typing && entry.item.state !== "wrap_up") {
    ui.typingIndicator.textContent = t("thread.typing", { name: customerName(entry.item.customer) });
    ui.typingIndicator.hidden = false;
  } else {
    ui.typingIndicator.textContent = "";
    ui.typingIndicator.hidden = true;
  }
}

// Our typing signal -----------------------------------------------------------

function startOwnTyping() {
  const id = store.selectedId;
  if (id === null) return;
  const entry = store.work.get(id);
  if (!entry || entry.item.state !== "assigned") return;
  if (store.typing.interactionId !== id) {
    stopOwnTyping(true);
    store.typing.interactionId = id;
    if (socket.connected) socket.emit("typing", { interaction_id: id, typing: true }, () => {});
  }
  clearTimeout(store.typing.idleTimer);
  store.typing.idleTimer = setTimeout(() => stopOwnTyping(true), 3000);
}

function stopOwnTyping(emit) {
  clearTimeout(store.typing.idleTimer);
  store.typing.idleTimer = null;
  const id = store.typing.interactionId;
  store.typing.interactionId = null;
  if (emit && id !== null && socket.connected && store.work.has(id)) {
    socket.emit("typing", { interaction_id: id, typing: false }, () => {});
  }
}

// Composer ------------------------------------------------------------------------

function showComposerError(message) {
  ui.composerError.textContent = message;
  ui.composerError.hidden = false;
}

function hideComposerError() {
  ui.composerError.textContent = "";
  ui.composerError.hidden = true;
}

ui.composer.addEventListener("input", () => {
  if (store.selectedId === null) return;
  store.drafts.set(store.selectedId, ui.composer.value);
  smsComposer.count();
  const entry = store.work.get(store.selectedId);
  if (entry && isTask(entry.item)) return; // a note: no one to see us typing
  if (ui.composer.value.length > 0) startOwnTyping();
  else stopOwnTyping(true);
});

ui.composer.addEventListener("keydown", (event) => {
  if (cannedPicker.handleKey(event)) return;
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.ctrlKey && !event.altKey && !event.metaKey) {
    event.preventDefault();
    sendMessage();
  }
});

ui.composerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});

let sending = false;
async function sendMessage() {
  const id = store.selectedId;
  if (id === null || sending) return;
  const entry = store.work.get(id);
  if (!entry || entry.item.state !== "assigned") return;
  const body = ui.composer.value;
  if (body.trim().length === 0) return;
  hideComposerError();
  stopOwnTyping(true);
  if (isTask(entry.item)) {
    await addTaskNote(id, entry, body);
    return;
  }
  sending = true;
  ui.send.disabled = true;
  const ack = await request("send_message", { interaction_id: id, body });
  sending = false;
  if (store.selectedId === id) renderThreadState();
  else ui.send.disabled = ui.composer.disabled;
  if (ack && ack.ok) {
    if (ack.message) addMessage(id, ack.message);
    // Clear the draft only if it was not edited while the message was in flight.
    if (store.selectedId === id && ui.composer.value === body) ui.composer.value = "";
    if ((store.drafts.get(id) || "") === body) store.drafts.delete(id);
    if (store.selectedId === id) ui.composer.focus();
  } else {
    const message = t("composer.not_sent", { reason: errorMessage(ack, t("error.unknown")) });
    if (store.selectedId === id) showComposerError(message);
    else toast(message, "error");
  }
}

/** A private note kept on one of our interactions (by us, or by another system over REST):
 * in a task's thread, and in the customer panel's notes when that shows this interaction. */
function showNote(id, note) {
  const entry = store.work.get(id);
  if (entry && isTask(entry.item)) {
    entry.item.notes = [...(Array.isArray(entry.item.notes) ? entry.item.notes : []), note];
    if (store.selectedId === id) {
      ui.messages.append(taskNoteElement(note, timeElement, formatClock));
      scrollToBottom(ui.messages);
    }
  }
  if (store.panel.interactionId === id) ui.customerNotes.prepend(noteElement(note));
}

/** A task has no customer to reply to: the composer keeps a private note on it, shown in
 * its thread (and in the customer panel's notes when that shows this task). */
async function addTaskNote(id, entry, body) {
  sending = true;
  ui.send.disabled = true;
  const ack = await request("add_note", { interaction_id: id, body });
  sending = false;
  if (store.selectedId === id) renderThreadState();
  if (ack && ack.ok && ack.note) {
    showNote(id, ack.note);
    if (store.selectedId === id) {
      if (ui.composer.value === body) ui.composer.value = "";
      ui.composer.focus();
    }
    if ((store.drafts.get(id) || "") === body) store.drafts.delete(id);
  } else {
    const message = t("notes.not_saved", { reason: errorMessage(ack, t("error.unknown")) });
    if (store.selectedId === id) showComposerError(message);
    else toast(message, "error");
  }
}

// Close / wrap-up -------------------------------------------------------------

ui.closeConversation.addEventListener("click", async () => {
  const id = store.selectedId;
  if (id === null) return;
  ui.closeConversation.disabled = true;
  stopOwnTyping(true);
  const ack = await request("close", { interaction_id: id });
  if (ack && ack.ok) {
    if (ack.work) upsertWork(ack.work, { countUnread: false });
    if (store.selectedId === id) {
      renderThreadState();
      renderTyping();
      if (!ui.endWrapUp.hidden) ui.endWrapUp.focus();
    }
  } else {
    ui.closeConversation.disabled = false;
    toast(t("thread.not_closed", { reason: errorMessage(ack, t("error.unknown")) }), "error");
  }
});

ui.endWrapUp.addEventListener("click", async () => {
  const id = store.selectedId;
  if (id === null) return;
  ui.endWrapUp.disabled = true;
  await wrapUpPanel.settled();
  const ack = await request("end_wrap_up", { interaction_id: id, ...wrapUpPanel.values() });
  ui.endWrapUp.disabled = false;
  if (ack && ack.ok) {
    removeWork(id);
    focusReply();
  } else if (ack && ack.error && ack.error.code === "not_found") {
    removeWork(id);
    focusReply();
  } else if (ack && ack.error && ack.error.code === "invalid_input" && store.selectedId === id) {
    // A required disposition is missing (or a choice was refused): say so beside the picker.
    const entry = store.work.get(id);
    const missing = entry && entry.item.wrap_up && entry.item.wrap_up.required && !wrapUpPanel.values().disposition;
    if (missing) wrapUpPanel.showError(null, "wrapup.required");
    else wrapUpPanel.showError(errorMessage(ack, t("error.unknown")));
    wrapUpPanel.focus();
  } else {
    toast(t("wrapup.not_ended", { reason: errorMessage(ack, t("error.unknown")) }), "error");
  }
});

function onInteractionUpdated(data) {
  const id = data.interaction_id;
  if (id === undefined || id === null) return;
  if (data.state === "ended") {
    removeOffer(id);
    if (store.work.has(id)) removeWork(id);
    return;
  }
  if (data.state === "transferred") {
    removeOffer(id);
    const entry = store.work.get(id);
    if (entry) {
      removeWork(id);
      toast(t("transfer.done", { name: customerName(entry.item.customer) }), "info");
    }
    return;
  }
  if (!store.work.has(id)) {
    // Only WorkItems we hold are relevant; a full WorkItem for an unknown id is adopted.
    if (data.customer === undefined) return;
    removeOffer(id);
  }
  const wasState = store.work.has(id) ? store.work.get(id).item.state : null;
  upsertWork(data, { countUnread: true });
  if (store.selectedId === id) {
    if (Array.isArray(data.messages)) renderThread();
    else {
      renderThreadState();
      renderTyping();
    }
  } else if (store.selectedId === null) {
    select(id);
  }
  if (wasState === "assigned" && data.state === "wrap_up" && id !== store.selectedId) {
    toast(t("thread.closed_toast", { name: customerName(data.customer) }), "info");
  }
  renderEmptyStates();
}

// Transfer ------------------------------------------------------------------------

function showTransferError(message) {
  ui.transferError.textContent = message;
  ui.transferError.hidden = false;
}

function hideTransferError() {
  ui.transferError.textContent = "";
  ui.transferError.hidden = true;
}

function showTransferStatus(message) {
  ui.transferStatus.textContent = message || "";
  ui.transferStatus.hidden = !message;
}

function setTransferPending(pending) {
  store.transfer.pending = pending;
  ui.transferSubmit.disabled = pending || ui.transferTarget.value === "";
  ui.transferTarget.disabled = pending;
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  ui.transfer.disabled = pending || !entry || entry.item.state !== "assigned";
}

/** Fill #transfer-target: queues from hello, then the given agents (null: still loading). */
function renderTransferTargets(agents, agentsNote) {
  const previous = ui.transferTarget.value;
  ui.transferTarget.replaceChildren();
  const placeholder = el("option", "", t("transfer.choose"));
  placeholder.value = "";
  ui.transferTarget.append(placeholder);

  const queues = el("optgroup");
  queues.label = t("transfer.queues");
  for (const name of store.queues) {
    const option = el("option", "", t("transfer.queue_option", { name }));
    option.value = `queue:${name}`;
    queues.append(option);
  }
  if (queues.children.length > 0) ui.transferTarget.append(queues);

  const group = el("optgroup");
  group.label = t("transfer.agents");
  const myId = store.agent && store.agent.agent_id;
  const sorted = [...(agents || [])]
    .filter((a) => a && a.agent_id != null && a.agent_id !== myId)
    .sort((a, b) => String(a.name || "").localeCompare(String(b.name || "")));
  for (const agent of sorted) {
    const state = agent.reason && agent.state !== "available"
      ? `${label("state_label", agent.state)} · ${reasonText(agent.reason)}`
      : label("state_label", agent.state || "unknown");
    const agentName = agent.name || `#${agent.agent_id}`;
    const option = el("option", "", t("transfer.agent_option", { name: agentName, state }));
    option.value = `agent:${agent.agent_id}`;
    option.dataset.name = agentName;
    group.append(option);
  }
  if (agentsNote) {
    const note = el("option", "", agentsNote);
    note.value = "";
    note.disabled = true;
    group.append(note);
  }
  if (group.children.length > 0) ui.transferTarget.append(group);

  const values = [...ui.transferTarget.options].map((o) => o.value);
  ui.transferTarget.value = values.includes(previous) ? previous : "";
  ui.transferSubmit.disabled = store.transfer.pending || ui.transferTarget.value === "";
}

async function loadTransferAgents() {
  const seq = ++store.transfer.loadSeq;
  renderTransferTargets([], t("transfer.loading"));
  let response;
  try {
    response = await fetch("/api/v1/agents", { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    if (seq === store.transfer.loadSeq) renderTransferTargets([], t("transfer.load_network"));
    return;
  }
  if (seq !== store.transfer.loadSeq) return;
  if (response.status === 401) {
    goToLogin();
    return;
  }
  if (!response.ok) {
    renderTransferTargets([], t("transfer.load_http", { status: response.status }));
    return;
  }
  let data;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (seq !== store.transfer.loadSeq) return;
  const agents = data && Array.isArray(data.agents) ? data.agents : null;
  if (!agents) {
    renderTransferTargets([], t("transfer.load_bad"));
    return;
  }
  const others = agents.filter((a) => a && a.agent_id !== (store.agent && store.agent.agent_id));
  renderTransferTargets(agents, others.length === 0 ? t("transfer.no_agents") : null);
}

function openTransferPanel() {
  const id = store.selectedId;
  const entry = id !== null ? store.work.get(id) : null;
  if (!entry || entry.item.state !== "assigned") return;
  store.transfer.interactionId = id;
  hideTransferError();
  showTransferStatus("");
  ui.transferTarget.value = "";
  ui.transferNote.value = "";
  ui.transferPanel.hidden = false;
  ui.transfer.setAttribute("aria-expanded", "true");
  setTransferPending(false);
  loadTransferAgents();
  ui.transferTarget.focus();
}

function closeTransferPanel({ restoreFocus } = { restoreFocus: true }) {
  store.transfer.interactionId = null;
  store.transfer.loadSeq += 1; // drop a pending agent list
  ui.transferPanel.hidden = true;
  ui.transfer.setAttribute("aria-expanded", "false");
  hideTransferError();
  showTransferStatus("");
  setTransferPending(false);
  if (restoreFocus && !ui.transfer.disabled && !ui.transfer.hidden) ui.transfer.focus();
}

ui.transfer.addEventListener("click", () => {
  if (!ui.transferPanel.hidden && store.transfer.interactionId === store.selectedId) {
    closeTransferPanel();
  } else {
    openTransferPanel();
  }
});

ui.transferCancel.addEventListener("click", () => closeTransferPanel());

ui.transferPanel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    closeTransferPanel();
  }
});

ui.transferTarget.addEventListener("change", () => {
  hideTransferError();
  ui.transferSubmit.disabled = store.transfer.pending || ui.transferTarget.value === "";
});

ui.transferPanel.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = store.transfer.interactionId;
  if (id === null || store.transfer.pending || !store.work.has(id)) return;
  const value = ui.transferTarget.value;
  let payload;
  let targetText;
  if (value.startsWith("queue:")) {
    payload = { interaction_id: id, queue: value.slice("queue:".length) };
    targetText = t("transfer.target_queue", { name: payload.queue });
  } else if (value.startsWith("agent:")) {
    const agentId = Number(value.slice("agent:".length));
    if (!Number.isInteger(agentId)) return;
    payload = { interaction_id: id, agent_id: agentId };
    const option = ui.transferTarget.selectedOptions[0];
    targetText = option && option.dataset.name ? option.dataset.name : t("transfer.the_agent");
  } else {
    showTransferError(t("transfer.choose_error"));
    ui.transferTarget.focus();
    return;
  }
  if (ui.transferNote.value.trim()) payload.note = ui.transferNote.value;
  hideTransferError();
  stopOwnTyping(true);
  setTransferPending(true);
  showTransferStatus(t("transfer.pending", { target: targetText }));
  const ack = await request("transfer", payload);
  if (store.transfer.interactionId !== id) {
    // The panel was closed meanwhile (e.g. the interaction already left on "transferred").
    if (!(ack && ack.ok)) toast(t("transfer.failed", { reason: errorMessage(ack, t("error.unknown")) }), "error");
    store.transfer.pending = false;
    if (store.selectedId !== null) renderThreadState();
    return;
  }
  setTransferPending(false);
  if (ack && ack.ok) {
    // The item leaves the list when interaction_updated {state: "transferred"} arrives.
    closeTransferPanel({ restoreFocus: false });
  } else {
    showTransferStatus("");
    showTransferError(t("transfer.failed", { reason: errorMessage(ack, t("error.unknown")) }));
    ui.transferTarget.focus();
  }
});

// ---------------------------------------------------------------------------
// Customer panel (screen pop)
// ---------------------------------------------------------------------------

function clearCustomer(message) {
  store.panel.customerId = null;
  store.panel.interactionId = null;
  store.panel.requestSeq += 1;
  ui.customerDetails.hidden = true;
  ui.customerStatus.hidden = false;
  customerForm.show(null);
  customerLink.show(null);
  customerFollowups.show(null);
  if (message) {
    delete ui.customerStatus.dataset.i18n;
    ui.customerStatus.textContent = message;
  } else {
    tr(ui.customerStatus, "customer.select");
  }
  updateNoteForm();
}

async function loadCustomer(customerId, interactionId, contextText) {
  const seq = ++store.panel.requestSeq;
  const sameCustomer = store.panel.customerId === customerId;
  store.panel.customerId = customerId;
  store.panel.interactionId = interactionId;
  ui.customerContext.textContent = contextText || "";
  updateNoteForm();
  if (!sameCustomer) {
    ui.customerDetails.hidden = true;
    ui.customerStatus.hidden = false;
    tr(ui.customerStatus, "customer.loading");
  }
  let response;
  try {
    response = await fetch(`/api/v1/customers/${encodeURIComponent(customerId)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
  } catch {
    if (seq === store.panel.requestSeq) showCustomerError(t("customer.load_network"));
    return;
  }
  if (seq !== store.panel.requestSeq) return;
  if (response.status === 401) {
    goToLogin();
    return;
  }
  if (!response.ok) {
    showCustomerError(response.status === 404 ? t("customer.not_found") : t("customer.load_http", { status: response.status }));
    return;
  }
  let data;
  try {
    data = await response.json();
  } catch {
    showCustomerError(t("customer.load_bad"));
    return;
  }
  if (seq !== store.panel.requestSeq) return;
  renderCustomer(data, interactionId);
}

function showCustomerError(message) {
  customerForm.show(null);
  customerLink.show(null);
  customerFollowups.show(null);
  ui.customerDetails.hidden = true;
  ui.customerStatus.hidden = false;
  delete ui.customerStatus.dataset.i18n;
  ui.customerStatus.textContent = message;
}

function renderCustomer(data, currentInteractionId) {
  ui.customerStatus.hidden = true;
  ui.customerDetails.hidden = false;
  renderProfile(data);
  customerForm.show(data);
  // Linking moves the conversation: only for one the agent works on, not an offer's preview.
  customerLink.show(currentInteractionId !== null && store.work.has(currentInteractionId) ? data : null);
  // A follow-up continues the conversation the panel was opened from (else the latest).
  customerFollowups.show(data, currentInteractionId, store.queues);

  ui.customerIdentities.replaceChildren();
  const identities = Array.isArray(data.identities) ? data.identities : [];
  for (const identity of identities) {
    const li = el("li", "identity");
    li.append(el("span", "identity-kind", identity.kind || ""), el("span", "identity-value", identity.value || ""));
    if (identity.kind === "phone" && browserPhone.callsEnabled()) {
      li.append(callButton(data.customer_id, identity.value, {
        phone: browserPhone,
        onPlaced: (item) => onAssigned(item, true),
        onError: (message) => toast(t("device.not_placed_toast", { reason: message }), "error"),
      }));
    }
    ui.customerIdentities.append(li);
  }
  if (identities.length === 0) ui.customerIdentities.append(tr(el("li", "empty-hint"), "customer.no_identities"));

  ui.customerNotes.replaceChildren();
  const notes = Array.isArray(data.notes) ? [...data.notes] : [];
  notes.sort((a, b) => (parseTime(b.created_at) || 0) - (parseTime(a.created_at) || 0));
  for (const note of notes) ui.customerNotes.append(noteElement(note));

  ui.customerHistory.replaceChildren();
  const interactions = Array.isArray(data.interactions) ? data.interactions : [];
  for (const interaction of interactions) {
    ui.customerHistory.append(historyElement(interaction, interaction.interaction_id === currentInteractionId));
  }
  if (interactions.length === 0) ui.customerHistory.append(tr(el("li", "empty-hint"), "customer.no_history"));
  updateNoteForm();
}

/** Name, tier, company, language, tags and custom fields: what the edit form changes. */
function renderProfile(data) {
  ui.customerName.textContent = data.name || t("customer.anonymous");
  ui.customerFullRecord.href = `/console/customers/${encodeURIComponent(data.customer_id)}`;
  tierLabel(ui.customerTier, data.tier || "");
  ui.customerTier.hidden = !data.tier;
  const facts = [data.company, data.language].filter(Boolean);
  ui.customerFacts.textContent = facts.join(" · ");
  ui.customerFacts.hidden = facts.length === 0;
  const tags = Array.isArray(data.tags) ? data.tags : [];
  ui.customerTags.replaceChildren(...tags.map((tag) => el("li", "customer-tag", tag)));
  ui.customerTags.hidden = tags.length === 0;
  const custom = data.custom || {};
  ui.customerCustom.replaceChildren();
  for (const [name, value] of Object.entries(custom)) {
    ui.customerCustom.append(el("dt", "customer-custom-name", fieldLabel(name)), el("dd", "customer-custom-value", value));
  }
  ui.customerCustom.hidden = ui.customerCustom.childElementCount === 0;
}

/** Every offer and work item of ``customerId`` now names ``brief`` (the record as saved). */
function renameCustomer(customerId, brief) {
  for (const [id, entry] of store.work) {
    const customer = entry.item.customer;
    if (!customer || customer.customer_id !== customerId) continue;
    entry.item.customer = { ...customer, ...brief };
    renderWorkItem(id);
  }
  for (const entry of store.offers.values()) {
    const customer = entry.offer.customer;
    if (!customer || customer.customer_id !== customerId) continue;
    entry.offer.customer = { ...customer, ...brief };
    const name = customerName(entry.offer.customer);
    entry.el.setAttribute("aria-label", t("offer.from", { name }));
    const shown = entry.el.querySelector(".offer-customer");
    if (shown) shown.textContent = name;
    const tier = entry.el.querySelector(".offer-tier");
    if (tier) tierLabel(tier, entry.offer.customer.tier || "");
  }
  if (store.selectedId !== null) {
    const entry = store.work.get(store.selectedId);
    if (entry) ui.threadTitle.textContent = customerName(entry.item.customer);
  }
}

function onCustomerSaved(profile) {
  if (store.panel.customerId !== profile.customer_id) return;
  renderProfile(profile);
  customerLink.renamed(profile);
  renameCustomer(profile.customer_id, { name: profile.name, tier: profile.tier });
  toast(t("customer.saved", { name: profile.name || t("customer.anonymous") }), "info");
}

/** Whether this console shows ``customerId`` anywhere: the panel, a work item or an offer. */
function showsCustomer(customerId) {
  if (customerId === null || customerId === undefined) return false;
  if (store.panel.customerId === customerId) return true;
  const items = [...store.work.values()].map((e) => e.item.customer);
  const offers = [...store.offers.values()].map((e) => e.offer.customer);
  return [...items, ...offers].some((c) => c && c.customer_id === customerId);
}

/** A customer's record changed elsewhere (another tab, a colleague, the API): what this
 * console shows of it is read again, through the API, and the names follow. A merge moves
 * what showed the merged customer to the one that stayed. */
async function onCustomerChanged({ customer_id: customerId, merged_customer_id: mergedId }) {
  if (!showsCustomer(customerId) && !showsCustomer(mergedId)) return;
  let response;
  try {
    response = await fetch(`/api/v1/customers/${encodeURIComponent(customerId)}`, {
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    return; // offline for a moment: the next load shows it
  }
  if (!response.ok) return; // not one this agent may read: keep what is shown
  const record = await response.json();
  const brief = { customer_id: record.customer_id, name: record.name, tier: record.tier };
  if (mergedId !== null && mergedId !== undefined) renameCustomer(mergedId, brief);
  renameCustomer(customerId, brief);
  const panelId = store.panel.customerId;
  if (panelId === customerId || (mergedId != null && panelId === mergedId)) {
    loadCustomer(customerId, store.panel.interactionId, ui.customerContext.textContent);
  }
}

/** The conversation now belongs to ``survivor``: so do the others of the customer merged. */
function onCustomerLinked(survivor, mergedId) {
  renameCustomer(mergedId, { customer_id: survivor.customer_id, name: survivor.name, tier: survivor.tier });
  toast(t("link.done", { name: survivor.name || t("customer.anonymous") }), "info");
  const interactionId = store.panel.interactionId;
  const entry = interactionId !== null ? store.work.get(interactionId) : null;
  loadCustomer(survivor.customer_id, interactionId, entry
    ? t("customer.context_conversation", { queue: entry.item.queue || entry.item.channel || "" })
    : ui.customerContext.textContent);
}

function noteElement(note) {
  const li = el("li", "note");
  if (note.note_id != null) li.dataset.noteId = String(note.note_id);
  const meta = el("div", "note-meta");
  meta.append(tr(el("span", "note-label"), note.kind === "transfer" ? "transfer.note" : "notes.label"));
  meta.append(el("span", "note-author", note.author_name || ""));
  meta.append(timeElement(note.created_at, formatDateTime(note.created_at), "note-time"));
  li.append(meta, el("div", "note-body", note.body ?? ""));
  return li;
}

function historyElement(interaction, isCurrent) {
  const li = el("li", "history-item");
  if (interaction.interaction_id != null) li.dataset.interactionId = String(interaction.interaction_id);
  if (isCurrent) li.classList.add("is-current");
  const details = el("details", "history-details");
  const summary = el("summary", "history-summary");
  const line1 = el("span", "history-line");
  line1.append(channelBadge(interaction.channel), el("span", "history-queue", interaction.queue || ""),
    el("span", `history-state state-${interaction.state}`, label("interaction_state", interaction.state || "")));
  if (isCurrent) line1.append(tr(el("span", "history-current"), "customer.current"));
  const when = interaction.created_at || interaction.queued_at;
  const line2 = el("span", "history-line history-sub");
  line2.append(timeElement(when, formatDateTime(when), "history-date"),
    interaction.agent_name ? el("span", "history-agent", interaction.agent_name) : tr(el("span", "history-agent"), "customer.no_agent"));
  summary.append(line1, line2);
  const outcome = outcomeElement(interaction);
  if (outcome) summary.append(outcome);
  const rating = ratingElement(interaction);
  if (rating) summary.append(rating);
  details.append(summary);
  const messages = Array.isArray(interaction.messages) ? interaction.messages : [];
  const list = el("ol", "messages history-messages");
  for (const m of messages) list.append(messageElement(m));
  if (messages.length === 0) list.append(tr(el("li", "empty-hint"), "customer.no_messages"));
  details.append(list);
  li.append(details);
  return li;
}

function updateNoteForm() {
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  const enabled = Boolean(entry) && store.panel.interactionId === store.selectedId;
  ui.noteBody.disabled = !enabled;
  ui.addNote.disabled = !enabled;
  ui.noteBody.dataset.i18nPlaceholder = enabled ? "notes.placeholder" : "notes.select";
  ui.noteBody.placeholder = t(ui.noteBody.dataset.i18nPlaceholder);
}

function hideNoteError() {
  ui.noteError.textContent = "";
  ui.noteError.hidden = true;
}

ui.noteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = store.selectedId;
  const body = ui.noteBody.value;
  if (id === null || body.trim().length === 0) return;
  hideNoteError();
  ui.addNote.disabled = true;
  const ack = await request("add_note", { interaction_id: id, body });
  updateNoteForm();
  if (ack && ack.ok) {
    if (ui.noteBody.value === body) ui.noteBody.value = "";
    if (ack.note && store.panel.interactionId === id) {
      ui.customerNotes.prepend(noteElement(ack.note));
    }
  } else {
    ui.noteError.textContent = t("notes.not_saved", { reason: errorMessage(ack, t("error.unknown")) });
    ui.noteError.hidden = false;
  }
});

ui.noteBody.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    ui.noteForm.requestSubmit();
  }
});

// ---------------------------------------------------------------------------
// Language
// ---------------------------------------------------------------------------

/** Switch every string on the page to ``code``; customer text is left as it is. */
async function useLanguage(code) {
  if (code !== currentLanguage()) await loadLanguage(code);
  translatePage(document);
  fillLanguageSelect(ui.language);
  renderAwayOptions();
  if (store.state) ui.stateSelect.value = stateSelectValue(store.state, store.reason);
  for (const id of store.work.keys()) renderWorkItem(id);
  renderThread();
  if (emailView.data && !emailView.root.hidden) emailView.render(emailView.data);
  renderStateLabel();
  if (store.panel.customerId !== null) {
    const entry = store.panel.interactionId !== null ? store.work.get(store.panel.interactionId) : null;
    loadCustomer(store.panel.customerId, store.panel.interactionId, entry
      ? t("customer.context_conversation", { queue: entry.item.queue || entry.item.channel || "" })
      : ui.customerContext.textContent);
  }
}

ui.language.addEventListener("change", async () => {
  const code = ui.language.value;
  await useLanguage(code);
  if (!(await saveLanguage(code))) toast(t("language.not_saved"), "warning");
});

// Help overlay: "?" anywhere outside a text field ----------------------------------

let helpReturnFocus = null;

function openHelp() {
  helpReturnFocus = document.activeElement;
  ui.help.hidden = false;
  ui.helpButton.setAttribute("aria-expanded", "true");
  ui.helpClose.focus();
}

function closeHelp() {
  ui.help.hidden = true;
  ui.helpButton.setAttribute("aria-expanded", "false");
  if (helpReturnFocus instanceof HTMLElement) helpReturnFocus.focus();
}

ui.helpButton.addEventListener("click", () => (ui.help.hidden ? openHelp() : closeHelp()));
ui.helpClose.addEventListener("click", () => closeHelp());
ui.help.addEventListener("click", (event) => { if (event.target === ui.help) closeHelp(); });
document.addEventListener("keydown", (event) => {
  if (!ui.help.hidden && (event.key === "Escape" || event.key === "Tab")) {
    event.preventDefault(); // the dialog holds the focus on its one button until closed
    if (event.key === "Escape") closeHelp();
    return;
  }
  if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
  event.preventDefault();
  openHelp();
});

// ---------------------------------------------------------------------------
// Misc rendering
// ---------------------------------------------------------------------------

function renderEmptyStates() {
  ui.offersEmpty.hidden = store.offers.size > 0;
  ui.offers.classList.toggle("has-offers", store.offers.size > 0);
  ui.workEmpty.hidden = store.work.size > 0;
}

function updateTitle() {
  document.title = store.offers.size > 0 ? `(${store.offers.size}) ${baseTitle}` : baseTitle;
}

// Offers tick often so the seconds shown never lag behind the real deadline.
setInterval(tickOffers, 250);

setInterval(() => {
  tickWork();
  renderStateLabel();
  const entry = store.selectedId !== null ? store.work.get(store.selectedId) : null;
  if (entry && entry.item.state === "wrap_up") renderWrapUpStatus(entry.item);
}, 1000);

translatePage(document);
fillLanguageSelect(ui.language);
renderEmptyStates();
renderThread();
clearCustomer();
setConnection("connecting");
browserPhone.start().then(() => {
  // Calls are set up: the customer already shown gets its Call buttons.
  if (store.panel.customerId !== null && !ui.customerDetails.hidden) {
    loadCustomer(store.panel.customerId, store.panel.interactionId, ui.customerContext.textContent);
  }
});
