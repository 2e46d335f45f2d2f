// The chat box tells the hub when an agent's reply has arrived here (delivered) and when it
// has been on the visitor's screen (read): the `receipt` event of namespace /chat
// (docs/protocol.md). The agent's console shows "Delivered" / "Read" under the reply.
//
// Theory of operation:
// - every agent reply with an id is acknowledged as delivered once, as soon as it is shown;
// - it is read when at least half of it is in view (inside the chat box's scroll area and,
//   when embedded, the host page's viewport) while the page is visible; a reply that came
//   into view while the page was hidden is read when the page is shown again;
// - receipts are batched for a moment and sent while connected; a reply already marked in
//   the server's copy is never reported again (the hub ignores repeats anyway);
// - read implies delivered, so a reply read before its delivery was sent is only read.

const BATCH_MS = 200;
const MAX_IDS = 100; // the hub's limit per receipt

export class ReceiptReporter {
  /** ``send(status, ids, done)`` emits one receipt; ``done(retry)``: true when it went
   * unanswered and should be sent again (a refusal is not retried). */
  constructor(send, isConnected) {
    this.send = send;
    this.isConnected = isConnected;
    this.delivered = new Set(); // ids to report delivered
    this.read = new Set(); // ids to report read
    this.reportedDelivered = new Set();
    this.reportedRead = new Set();
    this.inView = new Set(); // in view while the page was hidden
    this.timer = null;
    this.observer = new IntersectionObserver((entries) => this.onView(entries), { threshold: 0.5 });
    document.addEventListener("visibilitychange", () => this.onVisibility());
  }

  /** An agent reply was rendered as ``li``. */
  track(li, message) {
    const id = message.message_id;
    if (typeof id !== "number") return;
    if (message.read_at) {
      this.reportedRead.add(id);
      this.reportedDelivered.add(id);
      return;
    }
    if (message.delivered_at) this.reportedDelivered.add(id);
    else if (!this.reportedDelivered.has(id)) this.delivered.add(id);
    li.dataset.receiptId = String(id);
    this.observer.observe(li);
    this.schedule();
  }

  /** Forget everything (a new visitor). */
  reset() {
    this.observer.disconnect();
    for (const set of [this.delivered, this.read, this.reportedDelivered, this.reportedRead, this.inView]) set.clear();
  }

  onView(entries) {
    for (const entry of entries) {
      const id = Number(entry.target.dataset.receiptId);
      if (!Number.isFinite(id)) continue;
      if (!entry.isIntersecting) {
        this.inView.delete(id);
        continue;
      }
      if (document.visibilityState === "visible") this.markRead(id, entry.target);
      else this.inView.add(id);
    }
    this.schedule();
  }

  onVisibility() {
    if (document.visibilityState !== "visible") return;
    for (const id of this.inView) this.markRead(id, null);
    this.inView.clear();
    this.schedule();
  }

  markRead(id, li) {
    if (li) this.observer.unobserve(li);
    if (this.reportedRead.has(id)) return;
    this.read.add(id);
    this.delivered.delete(id); // read implies delivered
  }

  /** Send what is waiting (soon, in one go); again after a reconnect. */
  schedule() {
    if (this.timer !== null || (!this.delivered.size && !this.read.size)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, BATCH_MS);
  }

  flush() {
    if (!this.isConnected()) return; // the "connect" handler calls flush again
    this.emit("read", this.read, this.reportedRead);
    this.emit("delivered", this.delivered, this.reportedDelivered);
  }

  emit(status, waiting, reported) {
    for (const id of waiting) if (reported.has(id)) waiting.delete(id);
    const ids = [...waiting].slice(0, MAX_IDS);
    for (const id of ids) {
      waiting.delete(id);
      reported.add(id);
      if (status === "read") this.reportedDelivered.add(id);
    }
    if (waiting.size) this.schedule(); // more than one receipt's worth
    if (!ids.length) return;
    this.send(status, ids, (retry) => {
      if (!retry) return;
      // Not answered (a timeout, the connection dropped): try these again later.
      for (const id of ids) {
        reported.delete(id);
        waiting.add(id);
      }
      this.schedule();
    });
  }
}
