// Delivered / read under the agent's chat replies. Contract: a Message may carry
// ``delivered_at`` and ``read_at`` (both once the visitor's chat box acknowledged it), and
// the "message_details" event of namespace /agent brings ``chat: {delivered_at, read_at}``
// when that changes (docs/protocol.md).

import { el } from "/console/static/common.js";
import { t } from "/console/static/i18n.js";

/** Whether ``message`` is an agent's chat reply (the ones a chat box acknowledges). */
export function hasReceipt(message) {
  return message.direction === "out" && message.author_kind === "agent" && message.message_id != null;
}

/** "sent" | "delivered" | "read". */
export function receiptState(message) {
  if (message.read_at) return "read";
  if (message.delivered_at) return "delivered";
  return "sent";
}

// Spelt out, so that the catalogue check (tests/unit/test_catalogues.py) sees every key.
const TEXT = {
  sent: () => t("receipt.sent"),
  delivered: () => t("receipt.delivered"),
  read: () => t("receipt.read"),
};

/** Record a change from a "message_details" event on the message itself. */
export function remember(message, chat) {
  if (chat.delivered_at) message.delivered_at = chat.delivered_at;
  if (chat.read_at) message.read_at = chat.read_at;
}

function when(iso) {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? "" : new Date(at).toLocaleString();
}

/** Add (or refresh) the receipt line under a rendered reply. */
export function decorate(li, message) {
  for (const old of li.querySelectorAll(".message-receipt")) old.remove();
  if (!hasReceipt(message)) return;
  const state = receiptState(message);
  const node = el("div", `message-receipt receipt-${state}`, TEXT[state]());
  node.dataset.receipt = state;
  const titles = [];
  if (message.delivered_at) titles.push(t("receipt.delivered_at", { time: when(message.delivered_at) }));
  if (message.read_at) titles.push(t("receipt.read_at", { time: when(message.read_at) }));
  if (titles.length) node.title = titles.join("\n");
  li.append(node);
}
