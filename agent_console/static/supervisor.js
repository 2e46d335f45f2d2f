// Supervisor wallboard. Contract: docs/protocol.md, namespace /supervisor (`snapshot`).
// All names are rendered with textContent only.

import { io } from "/static/vendor/socket.io.esm.min.js";
import { $, formatDuration, pad2, parseTime, showConnection } from "/console/static/common.js";

const ui = {
  queuesBody: $("queues-table").tBodies[0],
  agentsBody: $("agents-table").tBodies[0],
  queuesEmpty: $("queues-empty"),
  agentsEmpty: $("agents-empty"),
  connection: $("connection-status"),
  logout: $("logout"),
  snapshotAt: $("snapshot-at"),
  error: $("supervisor-error"),
};

/** Local clock minus server clock, estimated from snapshot.at (ms). */
let skew = 0;
let hasSnapshot = false;

/** Milliseconds elapsed since an ISO server time, corrected for clock skew. */
function elapsedSince(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return NaN;
  return Date.now() - skew - t;
}

function cell(className, numeric) {
  const td = document.createElement("td");
  td.className = numeric ? `${className} num` : className;
  return td;
}

function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

function formatLoad(load, capacity) {
  const channels = [...new Set([...Object.keys(capacity || {}), ...Object.keys(load || {})])].sort();
  if (channels.length === 0) return "0/0";
  const parts = channels.map((ch) => `${Number((load || {})[ch] || 0)}/${Number((capacity || {})[ch] || 0)}`);
  if (channels.length === 1) return parts[0];
  return channels.map((ch, i) => `${ch} ${parts[i]}`).join(" · ");
}

function isFull(load, capacity) {
  const channels = Object.keys(capacity || {});
  return channels.length > 0 && channels.every((ch) => Number((load || {})[ch] || 0) >= Number(capacity[ch] || 0));
}

/** Count, or "—" when the server sent nothing usable. */
function formatCount(value) {
  const n = Number(value);
  return value === null || value === undefined || !Number.isFinite(n) ? "—" : String(n);
}

/** Service level (a 0..1 fraction) as a whole percentage, or "—". */
function formatPercent(fraction) {
  if (fraction === null || fraction === undefined) return "—";
  const n = Number(fraction);
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : "—";
}

/** Seconds as m:ss, or "—". */
function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const n = Number(seconds);
  return Number.isFinite(n) ? formatDuration(Math.round(n) * 1000) : "—";
}

/** "away (lunch)"; "missed_offers" reads "missed offers". */
function stateText(state, reason) {
  const s = state || "";
  if (!reason || state === "available") return s;
  return `${s} (${String(reason).replace(/_/g, " ")})`;
}

// ---- Queues -----------------------------------------------------------------------

const queueRows = new Map();

function queueRow(name) {
  let row = queueRows.get(name);
  if (row) return row;
  row = document.createElement("tr");
  row.dataset.queue = name;
  const th = document.createElement("th");
  th.scope = "row";
  th.className = "q-name";
  th.textContent = name;
  row.refs = {
    waiting: cell("q-waiting", true),
    longest: cell("q-longest", true),
    offered: cell("q-offered", true),
    assigned: cell("q-assigned", true),
    answered: cell("q-answered", true),
    abandoned: cell("q-abandoned", true),
    sl: cell("q-sl", true),
    asa: cell("q-asa", true),
  };
  row.append(th, row.refs.waiting, row.refs.longest, row.refs.offered, row.refs.assigned,
    row.refs.answered, row.refs.abandoned, row.refs.sl, row.refs.asa);
  queueRows.set(name, row);
  return row;
}

function renderQueues(queues) {
  const seen = new Set();
  const sorted = [...queues].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  for (const q of sorted) {
    const name = String(q.name);
    seen.add(name);
    const row = queueRow(name);
    row.oldest = q.oldest_queued_at || null;
    setText(row.refs.waiting, Number(q.waiting || 0));
    row.refs.waiting.classList.toggle("is-busy", Number(q.waiting || 0) > 0);
    setText(row.refs.offered, Number(q.offered || 0));
    setText(row.refs.assigned, Number(q.assigned || 0));
    setText(row.refs.answered, formatCount(q.answered_today));
    setText(row.refs.abandoned, formatCount(q.abandoned_today));
    setText(row.refs.sl, formatPercent(q.service_level_today));
    row.refs.sl.title = Number(q.sla_s) > 0 ? `Answered within ${Number(q.sla_s)} s` : "";
    setText(row.refs.asa, formatSeconds(q.asa_today_s));
    ui.queuesBody.append(row); // (re)append keeps sorted order
  }
  for (const [name, row] of queueRows) {
    if (!seen.has(name)) {
      row.remove();
      queueRows.delete(name);
    }
  }
  ui.queuesEmpty.hidden = queueRows.size > 0;
  tickQueues();
}

function tickQueues() {
  for (const row of queueRows.values()) {
    const ms = elapsedSince(row.oldest);
    const longest = row.refs.longest;
    if (Number.isNaN(ms)) {
      setText(longest, "—");
      longest.classList.remove("is-warning", "is-critical");
    } else {
      setText(longest, formatDuration(ms));
      longest.classList.toggle("is-warning", ms >= 60000 && ms < 180000);
      longest.classList.toggle("is-critical", ms >= 180000);
    }
  }
}

// ---- Agents -----------------------------------------------------------------------

const agentRows = new Map();

function agentRow(id) {
  let row = agentRows.get(id);
  if (row) return row;
  row = document.createElement("tr");
  row.dataset.agentId = id;
  const name = document.createElement("th");
  name.scope = "row";
  name.className = "a-name";
  row.refs = {
    name,
    state: cell("a-state", false),
    load: cell("a-load", true),
    since: cell("a-since", true),
  };
  row.append(name, row.refs.state, row.refs.load, row.refs.since);
  agentRows.set(id, row);
  return row;
}

const STATE_ORDER = { available: 0, away: 1, offline: 2 };

function renderAgents(agents) {
  const seen = new Set();
  const sorted = [...agents].sort((a, b) => {
    const s = (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3);
    return s !== 0 ? s : String(a.name).localeCompare(String(b.name));
  });
  for (const a of sorted) {
    const id = String(a.agent_id);
    seen.add(id);
    const row = agentRow(id);
    row.since = a.state_since || null;
    setText(row.refs.name, a.name || `Agent ${id}`);
    setText(row.refs.state, stateText(a.state, a.reason));
    row.refs.state.className = `a-state state-${a.state}`;
    setText(row.refs.load, formatLoad(a.load, a.capacity));
    row.refs.load.classList.toggle("is-full", isFull(a.load, a.capacity));
    row.classList.toggle("is-offline", a.state === "offline");
    ui.agentsBody.append(row);
  }
  for (const [id, row] of agentRows) {
    if (!seen.has(id)) {
      row.remove();
      agentRows.delete(id);
    }
  }
  ui.agentsEmpty.hidden = agentRows.size > 0;
  tickAgents();
}

function tickAgents() {
  for (const row of agentRows.values()) {
    const ms = elapsedSince(row.since);
    setText(row.refs.since, Number.isNaN(ms) ? "—" : formatDuration(ms));
  }
}

// ---- Snapshot ------------------------------------------------------------------------

function onSnapshot(data) {
  if (!data) return;
  const at = parseTime(data.at);
  skew = Number.isNaN(at) ? 0 : Date.now() - at;
  hasSnapshot = true;
  renderQueues(Array.isArray(data.queues) ? data.queues : []);
  renderAgents(Array.isArray(data.agents) ? data.agents : []);
  if (!Number.isNaN(at)) {
    const d = new Date(at);
    ui.snapshotAt.textContent = `Updated ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }
  ui.error.hidden = true;
}

// ---- Connection ------------------------------------------------------------------------

function setConnection(status) {
  showConnection(ui.connection, status);
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

const socket = io("/supervisor", { withCredentials: true });

let checking = false;
async function checkSessionOrRetry() {
  if (checking) return;
  checking = true;
  let retry = true;
  try {
    const response = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent("/console/supervisor"));
      return;
    }
    if (response.ok) {
      const data = await response.json().catch(() => null);
      const role = data && data.user && data.user.role;
      if (role && role !== "supervisor" && role !== "admin") {
        showError("The wallboard needs a supervisor or admin account.");
        retry = false;
      }
    }
  } catch {
    // network problem: keep retrying
  } finally {
    checking = false;
  }
  if (!retry) {
    socket.disconnect();
    setConnection("disconnected");
    return;
  }
  setConnection("reconnecting");
  if (!socket.active) setTimeout(() => { if (!socket.connected) socket.connect(); }, 3000);
}

socket.on("connect", () => setConnection("connected"));
socket.on("disconnect", (reason) => {
  setConnection("reconnecting");
  if (reason === "io server disconnect") checkSessionOrRetry();
});
socket.on("connect_error", () => {
  setConnection("reconnecting");
  checkSessionOrRetry();
});
socket.on("snapshot", onSnapshot);

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  try {
    await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin" });
  } catch {
    // go to login anyway
  }
  socket.disconnect();
  window.location.assign("/login");
});

setInterval(() => {
  if (!hasSnapshot) return;
  tickQueues();
  tickAgents();
}, 250); // frequent ticks so the shown seconds do not lag; cells only change when the text does

setConnection("connecting");
ui.queuesEmpty.hidden = true;
ui.agentsEmpty.hidden = true;
