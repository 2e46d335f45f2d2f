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

/** Local YYYY-MM-DD HH:MM. */
export function formatDateTime(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return "";
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** A <time> with the ISO instant as its datetime and the full local time as its tooltip. */
export function timeElement(iso, text, className) {
  const t = el("time", className, text);
  if (iso) t.dateTime = iso;
  const parsed = parseTime(iso);
  if (!Number.isNaN(parsed)) t.title = new Date(parsed).toLocaleString();
  return t;
}

/** Show the Socket.IO connection state in the header badge. */
export function showConnection(node, status) {
  const labels = { connected: "connected", reconnecting: "reconnecting…", connecting: "connecting…" };
  node.textContent = labels[status] || status;
  node.className = `connection-status status-${status}`;
}

// Session: the CSRF token every state-changing request and socket connection carries
// (hub/csrf.py), the keep-alive that stops an open console's session from idling, and the
// way back to the sign-in page with the reason the session ended.

let csrfToken = null;

/** GET /api/v1/me -> {status, user, error}; remembers the session's CSRF token. */
export async function fetchSession() {
  const response = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok && data && typeof data.csrf_token === "string") csrfToken = data.csrf_token;
  return { status: response.status, user: (data && data.user) || null, error: (data && data.error) || null };
}

export function rememberCsrfToken(token) {
  if (typeof token === "string" && token) csrfToken = token;
}

/** A state-changing request to the hub (POST, PATCH, DELETE…) with the CSRF token. */
export async function send(path, { method = "POST", json, body, headers = {} } = {}) {
  if (!csrfToken) {
    try {
      await fetchSession();
    } catch {
      // offline: the request below fails the same way
    }
  }
  const all = { Accept: "application/json", ...headers };
  if (csrfToken) all["X-CSRF-Token"] = csrfToken;
  if (json !== undefined) {
    all["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  return fetch(path, { method, credentials: "same-origin", headers: all, body });
}

/** Socket.IO `auth`: the session's CSRF token, fetched afresh at every (re)connection. */
export function socketAuth(callback) {
  fetchSession().then(
    () => callback({ csrf_token: csrfToken }),
    () => callback({}),
  );
}

/** Tell the hub once a minute that this open page is in use (the session's idle timeout). */
export function keepAlive(socket) {
  setInterval(() => {
    if (socket.connected) socket.emit("keep_alive", {}, () => {});
  }, 60000);
}

/** To the sign-in page, back to `next` afterwards; `ended` says why the session ended. */
export function goToLogin(next, ended) {
  const params = new URLSearchParams({ next });
  if (ended) params.set("ended", ended);
  window.location.assign("/login?" + params.toString());
}
