// Supervisor wallboard. Contract: docs/protocol.md, namespace /supervisor.
// Modules: wallboard_tiles (queues), wallboard_agents (agents and their actions),
// wallboard_live (live view, whisper, move), wallboard_charts (today's charts),
// wallboard_calls (live calls: listen, whisper, stop).
// Every name and message is rendered with textContent only.

import { io } from "/static/vendor/socket.io.esm.min.js";
import {
  $,
  fetchSession,
  goToLogin,
  keepAlive,
  pad2,
  send,
  showConnection,
  socketAuth,
} from "/console/static/common.js";
import {
  followLanguageSelect,
  loadLanguage,
  preferredLanguage,
  t,
  tr,
  translatePage,
} from "/console/static/i18n.js";
import { setServerTime } from "/console/static/wallboard_format.js";
import { renderTiles, setQueueSettings, tickTiles } from "/console/static/wallboard_tiles.js";
import { renderAgents, setAgentDay, setAgentSettings, setupAgents, tickAgents } from "/console/static/wallboard_agents.js";
import { onWatchedMessage, refreshLive, rewatch, setLiveQueues, setupLive } from "/console/static/wallboard_live.js";
import { renderCharts } from "/console/static/wallboard_charts.js";
import { onCalls, renderCalls, setCallAgents, setupCalls, tickCalls } from "/console/static/wallboard_calls.js";

// The supervisor's saved language (or this browser's) before anything is drawn.
const me = await fetchSession().catch(() => null);
await loadLanguage(preferredLanguage((me && me.user && me.user.language) || null));
translatePage(document);

const ui = {
  language: $("language-select"),
  connection: $("connection-status"),
  logout: $("logout"),
  snapshotAt: $("snapshot-at"),
  error: $("supervisor-error"),
  csv: $("csv-export"),
};

let hasSnapshot = false;
let lastSnapshot = null;
let lastDay = null;

function setConnection(status) {
  showConnection(ui.connection, status);
  tr(ui.connection, `connection.${status}`);
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

const socket = io("/supervisor", { withCredentials: true, auth: socketAuth });
keepAlive(socket);

/** Emit a supervisor action and wait for its acknowledgement ({ok} or {error}). */
export function call(event, data) {
  return new Promise((resolve) => {
    socket.timeout(10000).emit(event, data, (err, ack) => {
      resolve(err ? { error: { code: "timeout", message: t("error.timeout") } } : ack);
    });
  });
}

function onHello(settings) {
  const queues = (settings && settings.queues) || {};
  setQueueSettings(queues);
  setAgentSettings(settings || {});
  setLiveQueues(Object.keys(queues).sort());
}

let lastHeld = "";
function onSnapshot(data) {
  if (!data) return;
  lastSnapshot = data;
  const at = setServerTime(data.at);
  hasSnapshot = true;
  const agents = Array.isArray(data.agents) ? data.agents : [];
  renderTiles(Array.isArray(data.queues) ? data.queues : []);
  renderAgents(agents);
  setCallAgents(agents);
  if (!Number.isNaN(at)) {
    const d = new Date(at);
    tr(ui.snapshotAt, "wb.updated", { time: `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}` });
  }
  const held = data.queues.map((q) => `${q.name}:${q.assigned}`).join(",");
  if (held !== lastHeld) {
    lastHeld = held;
    refreshLive();
  }
  ui.error.hidden = true;
}

function onDay(day) {
  if (!day) return;
  lastDay = day;
  setAgentDay(day.agents || {});
  renderCharts(day);
  if (day.start) ui.csv.href = `/api/v1/reports/interactions.csv?date=${encodeURIComponent(localDate(day))}`;
}

function localDate(day) {
  // The hub's day starts at its local midnight; the start instant names the day there.
  const start = new Date(Date.parse(day.start) + 12 * 3600 * 1000);
  return `${start.getUTCFullYear()}-${pad2(start.getUTCMonth() + 1)}-${pad2(start.getUTCDate())}`;
}

let checking = false;
async function checkSessionOrRetry() {
  if (checking) return;
  checking = true;
  let retry = true;
  try {
    const session = await fetchSession();
    if (session.status === 401 || (session.error && session.error.code === "password_change_required")) {
      goToLogin("/console/supervisor", session.status === 401 ? "ended" : null);
      return;
    }
    if (session.status === 200) {
      const role = session.user && session.user.role;
      if (role && role !== "supervisor" && role !== "admin") {
        showError(t("wb.needs_supervisor"));
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

socket.on("connect", () => {
  setConnection("connected");
  rewatch();
});
socket.on("disconnect", (reason) => {
  setConnection("reconnecting");
  if (reason === "io server disconnect") checkSessionOrRetry();
});
socket.on("connect_error", () => {
  setConnection("reconnecting");
  checkSessionOrRetry();
});
socket.on("hello", onHello);
socket.on("signed_out", (data) => goToLogin("/console/supervisor", (data && data.reason) || "ended"));
socket.on("snapshot", onSnapshot);
socket.on("day", onDay);
socket.on("watched_message", onWatchedMessage);
socket.on("calls", onCalls);

setupAgents({ call });
setupLive({ call });
setupCalls({ call, showError });

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  try {
    await send("/api/v1/session", { method: "DELETE" });
  } catch {
    // go to login anyway
  }
  socket.disconnect();
  window.location.assign("/login");
});

setInterval(() => {
  if (!hasSnapshot) return;
  tickTiles();
  tickAgents();
  tickCalls();
}, 250); // frequent ticks so the shown seconds do not lag; cells only change when the text does

// Language: the page's fixed strings at once, the live parts from the last data.
followLanguageSelect(ui.language, () => {
  if (lastSnapshot) onSnapshot(lastSnapshot);
  if (lastDay) onDay(lastDay);
  renderCalls();
}, showError);

setConnection("connecting");
$("queues-empty").hidden = true;
$("agents-empty").hidden = true;
