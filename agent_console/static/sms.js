// SMS in the agent console: delivery status on each reply, MMS media as links, the customer's
// opt-out, and the 1,600-character limit in the composer. Contract: the work item's "sms"
// object and the "message_details" / "opt_out" events of namespace /agent.
// Everything from the customer or from Twilio is rendered with textContent only.

import { el } from "/console/static/common.js";

const STATUS_TEXT = {
  pending: "sending…",
  accepted: "queued",
  scheduled: "queued",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  read: "read",
  undelivered: "not delivered",
  failed: "failed",
  canceled: "canceled",
};
const FAILED = new Set(["undelivered", "failed", "canceled"]);
const DEFAULT_MAX_CHARS = 1600;

/** Only http(s) links; anything else is shown as text, never as a link. */
function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The SMS facts of one message, or null. */
export function detailsFor(item, messageId) {
  if (!item || !item.sms || !item.sms.messages || messageId == null) return null;
  return item.sms.messages[String(messageId)] || null;
}

/** A texter we know only by number is shown by their number. */
export function numberAsName(item) {
  if (item.channel !== "sms" || !item.sms || !item.sms.customer_number) return;
  if (item.customer && !item.customer.name) item.customer = { ...item.customer, name: item.sms.customer_number };
}

/** Record new facts about a message on the work item (from a "message_details" event). */
export function remember(item, messageId, details) {
  if (!item.sms) item.sms = { messages: {} };
  if (!item.sms.messages) item.sms.messages = {};
  const key = String(messageId);
  item.sms.messages[key] = { ...(item.sms.messages[key] || {}), ...details };
  return item.sms.messages[key];
}

function statusElement(details) {
  const status = details.status || "pending";
  const node = el("div", `sms-status sms-status-${FAILED.has(status) ? "failed" : status}`);
  node.dataset.status = status;
  node.textContent = STATUS_TEXT[status] || status;
  if (FAILED.has(status)) {
    const reason = details.error || (details.error_code ? `Twilio error ${details.error_code}` : "");
    if (reason) node.textContent += ` · ${reason}`;
    node.setAttribute("role", "alert");
  }
  return node;
}

function mediaElement(media) {
  const list = el("ul", "sms-media");
  media.forEach((m, i) => {
    const li = el("li", "sms-media-item");
    const label = `Attachment ${i + 1}${m.content_type ? ` (${m.content_type})` : ""}`;
    const href = safeUrl(m.url);
    if (href) {
      const a = el("a", "sms-media-link", label);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      li.append(a);
    } else {
      li.append(el("span", "sms-media-link", label));
    }
    list.append(li);
  });
  return list;
}

/** Add (or refresh) the SMS parts of a rendered message: media, keyword, delivery status. */
export function decorate(li, message, details) {
  for (const old of li.querySelectorAll(".sms-part")) old.remove();
  if (!details) {
    if (message.direction === "out") li.append(withPart(statusElement({ status: "pending" })));
    return;
  }
  if (Array.isArray(details.media) && details.media.length) li.append(withPart(mediaElement(details.media)));
  if (details.keyword) {
    const text = { stop: "opt-out keyword", start: "opt-in keyword", help: "help keyword" }[details.keyword];
    li.append(withPart(el("div", "sms-keyword", text || "keyword")));
  }
  if (message.direction === "out") li.append(withPart(statusElement(details)));
}

function withPart(node) {
  node.classList.add("sms-part");
  return node;
}

/**
 * The SMS state around the composer: the opt-out notice and the character counter.
 * ``refs`` are the page's elements: optOut (notice), counter, composer, send.
 */
export class SmsComposer {
  constructor(refs) {
    this.refs = refs;
    this.item = null;
  }

  /** Show the SMS state of ``item`` (null or a non-SMS item hides it). Returns true when
   * replies are blocked (the customer opted out). */
  render(item) {
    const { optOut, counter } = this.refs;
    this.item = item && item.channel === "sms" ? item : null;
    if (!this.item) {
      optOut.hidden = true;
      counter.hidden = true;
      return false;
    }
    const sms = this.item.sms || {};
    const blocked = Boolean(sms.opted_out);
    optOut.hidden = !blocked;
    optOut.textContent = blocked
      ? `${sms.customer_number || "This customer"} opted out of text messages (texted STOP). ` +
        "Replies cannot be sent until they text START."
      : "";
    counter.hidden = false;
    this.count();
    return blocked;
  }

  get maxChars() {
    return (this.item && this.item.sms && this.item.sms.max_chars) || DEFAULT_MAX_CHARS;
  }

  /** Update the counter; true when the draft is over the limit. */
  count() {
    const { counter, composer } = this.refs;
    if (!this.item) return false;
    const length = composer.value.trim().length;
    const max = this.maxChars;
    counter.textContent = `${length.toLocaleString("en")} / ${max.toLocaleString("en")}`;
    const over = length > max;
    counter.classList.toggle("is-over", over);
    counter.title = over ? `An SMS reply may have at most ${max.toLocaleString("en")} characters` : "";
    return over;
  }
}
