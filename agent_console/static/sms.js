// SMS in the agent console: delivery status on each reply, MMS media as links, the customer's
// opt-out, and the 1,600-character limit in the composer. Contract: the work item's "sms"
// object and the "message_details" / "opt_out" events of namespace /agent.
// Everything from the customer or from Twilio is rendered with textContent only.

import { el } from "/console/static/common.js";
import { has, t } from "/console/static/i18n.js";

/** Twilio's message status as the agent reads it ("accepted" and "scheduled" are queued). */
function statusText(status) {
  const shown = status === "accepted" || status === "scheduled" ? "queued" : status;
  return has(`sms.status.${shown}`) ? t(`sms.status.${shown}`) : status;
}
const FAILED = new Set(["undelivered", "failed", "canceled"]);
const DEFAULT_MAX_CHARS = 1600;

/** Only http(s) links; anything else is shown as text, never as a link. */
export function safeUrl(url) {
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
  node.textContent = statusText(status);
  if (FAILED.has(status)) {
    const reason = details.error || (details.error_code ? t("sms.twilio_error", { code: details.error_code }) : "");
    if (reason) node.textContent += ` · ${reason}`;
    node.setAttribute("role", "alert");
  }
  return node;
}

function mediaElement(media) {
  const list = el("ul", "sms-media");
  media.forEach((m, i) => {
    const li = el("li", "sms-media-item");
    const label = t(m.content_type ? "sms.attachment_type" : "sms.attachment", { n: i + 1, type: m.content_type });
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
    const key = `sms.keyword.${details.keyword}`;
    li.append(withPart(el("div", "sms-keyword", t(has(key) ? key : "sms.keyword.other"))));
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
      ? t("sms.opted_out_notice", { who: sms.customer_number || t("sms.this_customer") })
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
    counter.title = over ? t("sms.too_long", { max: max.toLocaleString("en") }) : "";
    return over;
  }
}
