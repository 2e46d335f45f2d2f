// Tasks from other systems (channel "api": an ERP's "call this customer about order 1234", a
// CRM task). Contract: the offer and the work item carry channel "api" and "subject"; the
// task's text is the thread's first message (author_kind "system", author_name: the API key
// or the person who handed it over); the work item's "notes" are the private notes written on
// it. There is no customer transport, so the composer writes private notes (add_note) and
// never sends, nor signals typing. Every text here is set with textContent only.

import { el } from "/console/static/common.js";
import { label, t, tr } from "/console/static/i18n.js";

export const TASK_CHANNEL = "api";
// A ballot box with a check: in common text fonts (DejaVu), not an emoji only.
const TASK_ICON = "\u2611";

export function isTask(item) {
  return Boolean(item) && item.channel === TASK_CHANNEL;
}

/** The task icon, hidden from screen readers (the badge's words say "task"). */
export function taskIcon() {
  const icon = el("span", "channel-icon channel-icon-task", TASK_ICON);
  icon.setAttribute("aria-hidden", "true");
  return icon;
}

/** A channel's name as a badge, after the task icon for a task (history, customer page). */
export function channelBadge(channel) {
  const badge = el("span", "channel-badge", channel ? label("channel", channel) : "?");
  if (isTask({ channel })) badge.prepend(taskIcon(), " ");
  return badge;
}

/** The task's subject as the thread's heading line. */
export function subjectElement(item, className) {
  return el("span", className, item.subject || "");
}

/** A private note in a task's thread, marked private, with its author and time. */
export function noteElement(note, timeElement, formatClock) {
  const li = el("li", "message message-note");
  if (note.note_id != null) li.dataset.noteId = String(note.note_id);
  const meta = el("div", "message-meta");
  meta.append(tr(el("span", "message-author"), "task.note_by", { name: note.author_name || "" }));
  meta.append(timeElement(note.created_at, formatClock(note.created_at), "message-time"));
  li.append(meta, el("div", "message-body", note.body ?? ""));
  return li;
}

/**
 * The composer of a task: notes only. ``refs`` are the page's elements: composer, send.
 * ``render(item)`` switches the composer for a task (true) or back (false).
 */
export class TaskComposer {
  constructor(refs) {
    this.refs = refs;
    this.item = null;
  }

  render(item) {
    const { composer, send, form } = this.refs;
    this.item = isTask(item) ? item : null;
    form.classList.toggle("is-task-note", Boolean(this.item));
    if (!this.item) {
      if (send.dataset.i18n === "task.add_note") tr(send, "composer.send");
      return false;
    }
    tr(send, "task.add_note");
    if (item.state !== "wrap_up") {
      composer.dataset.i18nPlaceholder = "task.placeholder";
      composer.placeholder = t("task.placeholder");
    }
    return true;
  }
}
