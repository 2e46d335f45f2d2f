// Helpers shared by the console pages: DOM building (always textContent) and time display.

export const $ = (id) => document.getElementById(id);

/** createElement with class names and optional text (always textContent). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function pad2(n) {
  return String(n).padStart(2, "0");
}

export function parseTime(iso) {
  if (!iso) return NaN;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? NaN : t;
}

/** Milliseconds -> m:ss (minutes are not wrapped into hours). */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${pad2(total % 60)}`;
}

/** Show the Socket.IO connection state in the header badge. */
export function showConnection(node, status) {
  const labels = { connected: "connected", reconnecting: "reconnecting…", connecting: "connecting…" };
  node.textContent = labels[status] || status;
  node.className = `connection-status status-${status}`;
}
