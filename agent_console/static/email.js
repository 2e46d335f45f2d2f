// The email view of the agent console: the thread (subject, from, sanitised HTML in a
// sandboxed frame, attachments, quoted history, delivery status) and the reply form.
// A reply's delivery status arrives live ("message_details" events on /agent); the thread is
// fetched when shown, when a message is added and after a reconnect, never on a timer.
// Customer text is only ever set with textContent; HTML (already sanitised by the server)
// goes into an <iframe sandbox> with no scripts and an opaque origin.
// A supervisor's whisper is not part of the email thread the server returns (the customer
// never sees it): the console hands the view the whispers of its work item (those loaded on
// connect and those that arrived live), which it shows among the emails by time, marked.

import { $, el, parseTime, pad2, send } from "/console/static/common.js";
import { has, t } from "/console/static/i18n.js";
import { whisperAuthor } from "/console/static/whisper.js";

const RETRY_MS = 4000; // a thread that failed to load (network) is fetched again

function formatWhen(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return "";
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function formatSize(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} kB`;
  return `${n} B`;
}

function statusText(status) {
  return has(`email.status.${status}`) ? t(`email.status.${status}`) : status;
}

/** A supervisor's whisper: visibly not an email, rendered as text. */
function whisperElement(w) {
  const li = el("li", "email-message email-whisper");
  if (w.note_id != null) li.dataset.noteId = String(w.note_id);
  const head = el("div", "email-head");
  head.append(el("span", "email-from", whisperAuthor(w)), el("time", "email-date", formatWhen(w.created_at)));
  head.append(el("span", "email-badge", t("email.whisper")));
  li.append(head, el("div", "email-body", w.body ?? ""));
  return li;
}

export class EmailView {
  constructor({ onAuthLost, toast, whispers = () => [] }) {
    this.root = $("email-view");
    this.subject = $("email-subject");
    this.list = $("email-messages");
    this.form = $("email-reply-form");
    this.replySubject = $("email-reply-subject");
    this.replyTo = $("email-reply-to");
    this.body = $("email-reply-body");
    this.files = $("email-reply-files");
    this.quoted = $("email-reply-quoted");
    this.quotedText = $("email-reply-quoted-text");
    this.send = $("email-reply-send");
    this.error = $("email-reply-error");
    this.interactionId = null;
    this.assigned = false;
    this.seq = 0;
    this.timer = null;
    this.data = null;
    this.loading = false;
    this.onAuthLost = onAuthLost;
    this.toast = toast;
    this.whispers = whispers;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** Show the email view for a work item (an interaction on the email channel). */
  show(item) {
    const changed = this.interactionId !== item.interaction_id;
    this.interactionId = item.interaction_id;
    this.assigned = item.state === "assigned";
    this.root.hidden = false;
    this.body.disabled = !this.assigned;
    this.files.disabled = !this.assigned;
    this.replySubject.disabled = !this.assigned;
    this.send.disabled = !this.assigned;
    if (changed) {
      this.data = null;
      this.list.replaceChildren(el("li", "empty-hint", t("email.loading")));
      this.subject.textContent = "";
      this.body.value = "";
      this.files.value = "";
      this.replySubject.value = "";
      this.hideError();
    }
    this.refresh();
  }

  hide() {
    this.root.hidden = true;
    this.interactionId = null;
    this.data = null;
    clearTimeout(this.timer);
  }

  /** A reply's delivery status changed (stored before it was announced): redraw it. */
  applyStatus(interactionId, messageId, email) {
    if (interactionId !== this.interactionId) return;
    const m = this.data && (this.data.messages || []).find((x) => x.message_id === messageId);
    if (!m || this.loading) {
      // Not shown yet, or a fetch that may predate the change is under way: fetch afresh
      // (the newer fetch supersedes the older one).
      this.refresh();
      return;
    }
    m.status = email.status;
    m.status_detail = email.status_detail;
    const li = this.list.querySelector(`li[data-message-id="${Number(messageId)}"]`);
    if (li) li.replaceWith(this.messageElement(m));
  }

  async refresh() {
    const id = this.interactionId;
    if (id === null) return;
    const seq = ++this.seq;
    clearTimeout(this.timer);
    this.loading = true;
    try {
      await this.load(id, seq);
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  async load(id, seq) {
    let response;
    let data;
    try {
      response = await fetch(`/api/v1/interactions/${encodeURIComponent(id)}/email`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      data = response.ok ? await response.json() : null;
    } catch {
      if (seq === this.seq) this.timer = setTimeout(() => this.refresh(), RETRY_MS);
      return;
    }
    if (seq !== this.seq || id !== this.interactionId) return;
    if (response.status === 401) {
      this.onAuthLost();
      return;
    }
    if (!response.ok) {
      this.list.replaceChildren(el("li", "form-error", t("email.load_http", { status: response.status })));
      return;
    }
    this.data = data;
    this.render(data);
  }

  render(data) {
    this.subject.textContent = data.subject || t("email.no_subject");
    const entries = [
      ...(data.messages || []).map((m) => ({ at: parseTime(m.created_at), node: () => this.messageElement(m) })),
      ...this.whispers(this.interactionId).map((w) => ({ at: parseTime(w.created_at), node: () => whisperElement(w) })),
    ];
    entries.sort((a, b) => (a.at || 0) - (b.at || 0)); // stable: an email keeps its place on a tie
    this.list.replaceChildren(...entries.map((e) => e.node()));
    this.list.scrollTop = this.list.scrollHeight;
    const reply = data.reply;
    if (reply) {
      if (!this.replySubject.value) this.replySubject.value = reply.subject || "";
      this.replyTo.textContent = t("email.reply_to", {
        to: reply.to_name ? `${reply.to_name} <${reply.to}>` : reply.to,
        from: reply.from,
      });
      this.quotedText.textContent = reply.quoted || "";
      this.quoted.hidden = !reply.quoted;
    } else {
      this.replyTo.textContent = t("email.no_address");
      this.quoted.hidden = true;
    }
  }

  messageElement(m) {
    const li = el("li", `email-message ${m.direction === "out" ? "email-out" : "email-in"}`);
    li.dataset.messageId = String(m.message_id);
    const head = el("div", "email-head");
    const from = m.from_name ? `${m.from_name} <${m.from_address}>` : m.from_address || m.author_name || "";
    head.append(el("span", "email-from", from), el("time", "email-date", formatWhen(m.created_at)));
    if (m.automated) head.append(el("span", "email-badge email-automated", m.automated.replace("_", " ")));
    if (m.direction === "out" && m.status) {
      const badge = el("span", `email-badge email-status status-${m.status}`, statusText(m.status));
      if (m.status_detail) badge.title = m.status_detail;
      head.append(badge);
    }
    li.append(head);
    if (m.to && m.to.length) li.append(el("div", "email-to", t("email.to", { to: m.to.join(", ") })));
    if (m.subject) li.append(el("div", "email-subject-line", m.subject));
    if (m.direction === "out" && m.status === "failed" && m.status_detail) {
      li.append(el("p", "email-failure", t("email.not_delivered", { reason: m.status_detail })));
    } else if (m.direction === "out" && m.status === "queued" && m.status_detail) {
      li.append(el("p", "email-pending", m.status_detail));
    }
    li.append(el("div", "email-body", m.body_new || ""));
    if (m.body_quoted) {
      const details = el("details", "email-quoted");
      details.append(el("summary", "", t("email.show_quoted")), el("pre", "email-quoted-text", m.body_quoted));
      li.append(details);
    }
    if (m.html) {
      const details = el("details", "email-html");
      const frame = document.createElement("iframe");
      frame.className = "email-html-frame";
      frame.setAttribute("sandbox", ""); // no scripts, no forms, opaque origin
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.title = t("email.formatted");
      details.append(el("summary", "", t("email.show_formatted")), frame);
      details.addEventListener("toggle", () => {
        if (details.open && !frame.srcdoc) frame.srcdoc = m.html;
      }, { once: false });
      li.append(details);
    }
    if (m.attachments && m.attachments.length) {
      const list = el("ul", "email-attachments");
      for (const a of m.attachments) {
        const item = el("li", "email-attachment");
        const label = `${a.filename} (${formatSize(a.size)})`;
        if (a.kept) {
          const link = el("a", "email-attachment-link", label);
          link.href = a.url;
          link.setAttribute("download", a.filename);
          item.append(link);
        } else {
          item.append(el("span", "email-attachment-missing", t("email.attachment_too_large", { name: label })));
        }
        list.append(item);
      }
      li.append(list);
    }
    for (const w of m.warnings || []) li.append(el("p", "email-warning", w));
    return li;
  }

  hideError() {
    this.error.hidden = true;
    this.error.textContent = "";
  }

  async submit() {
    const id = this.interactionId;
    if (id === null || !this.assigned) return;
    if (!this.body.value.trim()) {
      this.error.textContent = t("email.write_first");
      this.error.hidden = false;
      return;
    }
    this.hideError();
    const form = new FormData();
    form.append("subject", this.replySubject.value);
    form.append("body", this.body.value);
    for (const file of this.files.files) form.append("attachment", file, file.name);
    this.send.disabled = true;
    let response;
    try {
      response = await send(`/api/v1/interactions/${encodeURIComponent(id)}/email/reply`, { body: form });
    } catch {
      response = null;
    }
    this.send.disabled = !this.assigned;
    if (response && response.ok) {
      this.body.value = "";
      this.files.value = "";
      this.toast(t("email.queued_toast"), "info");
      this.refresh();
      return;
    }
    let message = t("email.network_error");
    if (response) {
      try {
        const data = await response.json();
        message = (data.error && data.error.message) || `HTTP ${response.status}`;
      } catch {
        message = `HTTP ${response.status}`;
      }
    }
    this.error.textContent = t("email.not_sent", { reason: message });
    this.error.hidden = false;
  }
}
