// How long the customer has waited for a reply, and how that compares with the queue's reply
// target (hub/reply_targets.py): the colour and cue of a work item's waiting time. Pure: no
// DOM, no clock of its own (``now`` comes in), so it can be checked as a table.
//
// Theory of operation:
// - the customer is waiting when they wrote last: a customer message with no agent reply
//   after it (whispers and system lines are neither);
// - the wait runs from the first of their unanswered messages (a "hello?" sent later does not
//   restart the clock), and ends with the agent's next reply;
// - ok below NEAR_SHARE of the target, near from NEAR_SHARE up to the target, late beyond it;
//   without a target (calls) there is no level.

export const NEAR_SHARE = 0.75;
export const LEVELS = ["ok", "near", "late"];

/** "ok" | "near" | "late" for a wait of ``waitedMs`` against ``targetMs``; null without a target. */
export function slaLevel(waitedMs, targetMs) {
  if (typeof targetMs !== "number" || !(targetMs > 0)) return null;
  if (waitedMs > targetMs) return "late";
  if (waitedMs >= NEAR_SHARE * targetMs) return "near";
  return "ok";
}

function isCustomerLine(m) {
  return m.direction === "in" && m.author_kind !== "system" && !m.whisper;
}

function isReply(m) {
  return m.direction === "out" && m.author_kind !== "system" && !m.whisper;
}

/** Epoch ms of the customer's first unanswered message, or null when nobody waits for us. */
export function waitingSince(messages) {
  let since = null;
  for (const m of messages || []) {
    if (isReply(m)) since = null;
    else if (isCustomerLine(m) && since === null) {
      const at = Date.parse(m.created_at);
      if (!Number.isNaN(at)) since = at;
    }
  }
  return since;
}

/** The customer's wait at ``now`` (epoch ms): {sinceMs, waitedMs, targetMs, level}, or null
 * when they are not waiting for a reply. ``level`` is null without a target. */
export function replyWait(messages, targetS, now) {
  const since = waitingSince(messages);
  if (since === null) return null;
  const waitedMs = Math.max(0, now - since);
  const targetMs = typeof targetS === "number" && targetS > 0 ? targetS * 1000 : null;
  return { sinceMs: since, waitedMs, targetMs, level: slaLevel(waitedMs, targetMs) };
}
