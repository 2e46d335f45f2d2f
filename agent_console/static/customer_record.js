// One customer's whole story on the customer page: the profile, identities, every interaction
// on every channel (newest first) with its steps, messages and private notes, the notes and
// the follow-ups. Contract: the record of GET /api/v1/customers/{id} and the list of
// GET /api/v1/customers/{id}/followups (hub/representation.py). Everything the customer or a
// colleague wrote goes into textContent; nothing here is parsed as HTML, and an e-mail's HTML
// part is never shown (its plain text is the message body).

import { el, formatDateTime, parseTime, timeElement } from "/console/static/common.js";
import { label, t, tr } from "/console/static/i18n.js";
import { fieldLabel, tierLabel } from "/console/static/customer_form.js";
import { decorate as decorateReceipt } from "/console/static/receipts.js";
import { decorate as decorateSms, detailsFor as smsDetailsFor, safeUrl } from "/console/static/sms.js";
import { ratingElement } from "/console/static/rating.js";
import { channelBadge } from "/console/static/task.js";
import { outcomeElement } from "/console/static/wrapup.js";
import { formatSeconds } from "/console/static/wallboard_format.js";

// The task channel has its own icon (task.js); these mark the others at a glance (symbols
// every system font has, unlike emoji).
const CHANNEL_ICONS = { webchat: "⌨", email: "✉", sms: "✆", voice: "☎" };

/** Who an agent id is: their name from the agents list, else "#id". */
function agentName(agents, agentId) {
  if (agentId === null || agentId === undefined) return null;
  return agents.get(agentId) || `#${agentId}`;
}

function newestFirst(items, at) {
  return [...items].sort((a, b) => (parseTime(at(b)) || 0) - (parseTime(at(a)) || 0));
}

function when(iso, className) {
  return timeElement(iso, formatDateTime(iso), className);
}

/** Name, tier, company, language, owner, tags and custom fields. */
export function renderProfile(ui, data, agents) {
  ui.name.textContent = data.name || t("customer.anonymous");
  tierLabel(ui.tier, data.tier || "");
  ui.tier.hidden = !data.tier;
  const facts = [data.company, data.language].filter(Boolean);
  if (data.owner_id !== null && data.owner_id !== undefined) {
    facts.push(t("cust.owner", { name: agentName(agents, data.owner_id) }));
  }
  ui.facts.textContent = facts.join(" · ");
  ui.facts.hidden = facts.length === 0;
  const tags = Array.isArray(data.tags) ? data.tags : [];
  ui.tags.replaceChildren(...tags.map((tag) => el("li", "customer-tag", tag)));
  ui.tags.hidden = tags.length === 0;
  ui.custom.replaceChildren();
  for (const [name, value] of Object.entries(data.custom || {})) {
    ui.custom.append(el("dt", "customer-custom-name", fieldLabel(name)), el("dd", "customer-custom-value", value));
  }
  ui.custom.hidden = ui.custom.childElementCount === 0;
  ui.identities.replaceChildren();
  for (const identity of data.identities || []) {
    const li = el("li", "identity");
    li.append(el("span", "identity-kind", identity.kind || ""), el("span", "identity-value", identity.value || ""));
    ui.identities.append(li);
  }
  if (!ui.identities.childElementCount) ui.identities.append(tr(el("li", "empty-hint"), "customer.no_identities"));
}

function channelElement(channel) {
  const badge = channelBadge(channel);
  const icon = CHANNEL_ICONS[channel];
  if (icon) {
    const span = el("span", `channel-icon channel-icon-${channel}`, icon);
    span.setAttribute("aria-hidden", "true");
    badge.prepend(span, " ");
  }
  return badge;
}

/** Seconds from the contact's start to its end (ended or abandoned), or null while open. */
function durationS(interaction) {
  const start = parseTime(interaction.created_at || interaction.queued_at);
  const end = parseTime(interaction.ended_at || interaction.abandoned_at);
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

function summaryElement(interaction) {
  const summary = el("summary", "record-summary");
  const line1 = el("span", "history-line");
  line1.append(
    channelElement(interaction.channel),
    when(interaction.created_at || interaction.queued_at, "history-date"),
    el("span", "history-queue", interaction.queue || ""),
    el("span", `history-state state-${interaction.state}`, label("interaction_state", interaction.state || "")),
  );
  const line2 = el("span", "history-line history-sub");
  line2.append(
    interaction.agent_name
      ? el("span", "history-agent", interaction.agent_name)
      : tr(el("span", "history-agent"), "customer.no_agent"),
  );
  const seconds = durationS(interaction);
  if (seconds !== null) line2.append(el("span", "record-duration", t("cust.duration", { duration: formatSeconds(seconds) })));
  summary.append(line1, line2);
  const outcome = outcomeElement(interaction);
  if (outcome) summary.append(outcome);
  const rating = ratingElement(interaction);
  if (rating) summary.append(rating);
  return summary;
}

function stepsElement(interaction, agents) {
  const list = el("ol", "record-steps");
  for (const step of interaction.steps || []) {
    const li = el("li", "record-step");
    li.dataset.step = step.step || "";
    li.append(when(step.at, "record-step-time"), el("span", "record-step-name", label("step", step.step)));
    const who = agentName(agents, step.agent_id);
    if (who) li.append(el("span", "record-step-agent", who));
    list.append(li);
  }
  return list;
}

function messageElement(message, channel) {
  const kind = message.author_kind === "system" ? "message-system" : message.direction === "out" ? "message-out" : "message-in";
  const li = el("li", `message ${kind}`);
  if (message.message_id != null) li.dataset.messageId = String(message.message_id);
  li.dataset.direction = message.direction || "";
  const fallback = message.author_kind === "system" ? "author.system" : message.direction === "out" ? "author.agent" : "author.customer";
  const meta = el("div", "message-meta");
  meta.append(el("span", "message-author", message.author_name || t(fallback)), when(message.created_at, "message-time"));
  li.append(meta, el("div", "message-body", message.body ?? ""));
  if (channel === "webchat") decorateReceipt(li, message); // only a chat box says it read it
  return li;
}

/** "Private note", "Transfer note" or "Whisper", by the note's kind. */
function noteLabel(note) {
  const node = el("span", "note-label");
  if (note.kind === "transfer") return tr(node, "transfer.note");
  return tr(node, note.kind === "whisper" ? "cust.whisper" : "notes.label");
}

/** A private note written on the contact (a note, a transfer note, a whisper): never sent
 * to the customer, so it is drawn apart from the messages. */
function privateNoteElement(note) {
  const li = el("li", "message message-private");
  if (note.note_id != null) li.dataset.noteId = String(note.note_id);
  const meta = el("div", "message-meta");
  meta.append(
    noteLabel(note),
    el("span", "message-author", note.author_name || ""),
    when(note.created_at, "message-time"),
  );
  li.append(meta, el("div", "message-body", note.body ?? ""));
  return li;
}

function interactionElement(interaction, notes, agents) {
  const li = el("li", "record-interaction");
  li.dataset.interactionId = String(interaction.interaction_id);
  li.dataset.channel = interaction.channel || "";
  const details = el("details", "record-details");
  details.append(summaryElement(interaction));
  details.append(tr(el("h3", "section-title"), "cust.steps"), stepsElement(interaction, agents));
  const lines = [
    ...(interaction.messages || []).map((m) => ({ at: m.created_at, node: messageElement(m, interaction.channel) })),
    ...notes.map((n) => ({ at: n.created_at, node: privateNoteElement(n) })),
  ].sort((a, b) => (parseTime(a.at) || 0) - (parseTime(b.at) || 0));
  const list = el("ol", "messages record-messages");
  list.append(...lines.map((line) => line.node));
  if (lines.length === 0) list.append(tr(el("li", "empty-hint"), "customer.no_messages"));
  details.append(tr(el("h3", "section-title"), "cust.messages"), list);
  li.append(details);
  return li;
}

/** What only the e-mail thread holds (GET /api/v1/interactions/{id}/email): the subject of
 * each message and how far each reply got (queued, sent, failed). The body stays the plain
 * text already shown; the HTML part is never rendered here. */
export function addEmailDetails(item, thread) {
  const list = item.querySelector(".record-messages");
  if (!list || list.dataset.emailDetails) return;
  list.dataset.emailDetails = "1";
  if (thread.subject) list.before(el("p", "record-subject", thread.subject));
  const byId = new Map((thread.messages || []).map((m) => [String(m.message_id), m]));
  for (const li of list.querySelectorAll("li[data-message-id]")) {
    const mail = byId.get(li.dataset.messageId);
    if (!mail) continue;
    if (mail.subject && mail.subject !== thread.subject) li.querySelector(".message-meta").after(el("div", "message-subject", mail.subject));
    if (mail.direction === "out" && mail.status) {
      const status = el("div", `message-receipt email-status-${mail.status}`, label("email.status", mail.status));
      if (mail.status_detail) status.title = mail.status_detail;
      li.append(status);
    }
  }
}

/** What the channel adds (GET /api/v1/interactions/{id}): an SMS's delivery and media on
 * each message, a call's timings and its recording as a link (http(s) only). */
export function addChannelDetails(item, got) {
  const list = item.querySelector(".record-messages");
  if (!list || list.dataset.channelDetails) return;
  list.dataset.channelDetails = "1";
  if (got.sms) {
    for (const li of list.querySelectorAll("li[data-message-id]")) {
      const details = smsDetailsFor(got, li.dataset.messageId);
      if (details || li.dataset.direction === "out") decorateSms(li, { direction: li.dataset.direction }, details);
    }
  }
  const voice = got.voice;
  if (!voice) return;
  const call = el("div", "record-call");
  const timings = [
    ["cust.call_ring", voice.ring_s],
    ["cust.call_talk", voice.talk_s],
    ["cust.call_hold", voice.hold_s],
  ].filter(([, seconds]) => typeof seconds === "number");
  for (const [key, seconds] of timings) call.append(tr(el("span", "record-call-timing"), key, { duration: formatSeconds(seconds) }));
  const url = voice.recording_url ? safeUrl(voice.recording_url) : null;
  if (url) {
    const link = typeof voice.recording_s === "number"
      ? tr(el("a", "record-recording"), "voice.recording_length", { length: formatSeconds(voice.recording_s) })
      : tr(el("a", "record-recording"), "voice.recording");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    call.append(link);
  }
  if (call.childElementCount) list.before(call);
}

/** Every interaction, newest first, each with the private notes written on it. */
export function renderTimeline(list, data, agents) {
  const notesOf = new Map();
  for (const note of data.notes || []) {
    if (note.interaction_id == null) continue;
    if (!notesOf.has(note.interaction_id)) notesOf.set(note.interaction_id, []);
    notesOf.get(note.interaction_id).push(note);
  }
  const interactions = newestFirst(data.interactions || [], (i) => i.created_at || i.queued_at);
  list.replaceChildren(...interactions.map((i) => interactionElement(i, notesOf.get(i.interaction_id) || [], agents)));
  if (interactions.length === 0) list.append(tr(el("li", "empty-hint"), "customer.no_history"));
}

/** The customer's notes, newest first, each saying which contact it was written on. */
export function renderNotes(list, data) {
  const notes = newestFirst(data.notes || [], (n) => n.created_at);
  list.replaceChildren(
    ...notes.map((note) => {
      const li = el("li", "note");
      const meta = el("div", "note-meta");
      meta.append(
        noteLabel(note),
        el("span", "note-author", note.author_name || ""),
        when(note.created_at, "note-time"),
      );
      li.append(meta, el("div", "note-body", note.body ?? ""));
      return li;
    }),
  );
  if (notes.length === 0) list.append(tr(el("li", "empty-hint"), "cust.no_notes"));
}

/** Scheduled follow-ups (soonest first, as the hub sends them), then recent ones. */
export function renderFollowups(list, followups) {
  list.replaceChildren(
    ...followups.map((f) => {
      const li = el("li", `record-followup followup-${f.state}`);
      const line = el("div", "history-line");
      line.append(
        when(f.due_at, "followup-due"),
        el("span", "followup-state", label("followup_state", f.state)),
        channelElement(f.channel),
      );
      if (f.queue) line.append(el("span", "history-queue", f.queue));
      if (f.owner_name) line.append(el("span", "history-agent", t("followup.owner", { name: f.owner_name })));
      li.append(line, el("div", "note-body", f.note ?? ""));
      return li;
    }),
  );
  if (followups.length === 0) list.append(tr(el("li", "empty-hint"), "followup.none"));
}
