// Wallboard: live calls with Listen / Whisper / Stop (namespace /supervisor: `calls`, and
// `call_monitor` {interaction_id, mode: listen|whisper|stop} whose ack carries the call).
// Names and numbers are rendered with textContent only.

import { $, el, formatDuration } from "/console/static/common.js";
import { has, t } from "/console/static/i18n.js";
import { elapsedSince, setText } from "/console/static/wallboard_format.js";

const agentNames = new Map(); // agent_id -> name, from the snapshots
let liveCalls = [];
let deps = { call: null, showError: () => {} };
let ui = null;

export function setupCalls({ call, showError }) {
  deps = { call, showError };
  ui = { body: $("calls-table").tBodies[0], empty: $("calls-empty") };
  ui.empty.hidden = true;
}

function button(key, className, onClick) {
  const b = el("button", `btn ${className}`, t(key));
  b.dataset.i18n = key;
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

async function monitor(call, mode, buttons) {
  for (const b of buttons) b.disabled = true;
  const ack = await deps.call("call_monitor", { interaction_id: call.interaction_id, mode });
  for (const b of buttons) b.disabled = false;
  if (!ack || !ack.ok) {
    deps.showError((ack && ack.error && ack.error.message) || t("wb.call_not_joined"));
    return;
  }
  liveCalls = liveCalls.map((c) => (c.interaction_id === call.interaction_id ? { ...c, ...ack.voice } : c));
  renderCalls();
}

/** "Carol listening": who monitors the call and how, or a dash. */
function monitorText(call) {
  if (!call.monitor_mode) return "—";
  const name = call.monitor_name || t("wb.a_supervisor");
  const key = `wb.monitor.${call.monitor_mode}`;
  return has(key) ? t(key, { name }) : `${name} ${call.monitor_mode}`;
}

export function renderCalls() {
  ui.body.replaceChildren();
  for (const call of liveCalls) {
    const row = document.createElement("tr");
    row.dataset.interactionId = String(call.interaction_id);
    row.dataset.agentId = String(call.agent_id);
    const agent = el("th", "c-agent", agentNames.get(String(call.agent_id)) || `#${call.agent_id}`);
    agent.scope = "row";
    const customer = el("td", "c-customer", String(call.customer_number || ""));
    const talking = el("td", "c-talking num");
    talking.dataset.since = call.answered_at || "";
    const watcher = el("td", "c-monitor", monitorText(call));
    const actions = el("td", "c-actions");
    const buttons = [];
    const listen = button("wb.listen", "btn-secondary call-listen", () => monitor(call, "listen", buttons));
    const whisper = button("wb.whisper", "btn-secondary call-whisper", () => monitor(call, "whisper", buttons));
    const stop = button("wb.stop", "btn-ghost call-stop", () => monitor(call, "stop", buttons));
    listen.hidden = call.monitor_mode === "listen";
    whisper.hidden = call.monitor_mode === "whisper";
    stop.hidden = !call.monitor_mode;
    buttons.push(listen, whisper, stop);
    actions.append(listen, whisper, stop);
    row.append(agent, customer, talking, watcher, actions);
    ui.body.append(row);
  }
  ui.empty.hidden = liveCalls.length > 0;
  tickCalls();
}

export function tickCalls() {
  if (!ui) return;
  for (const td of ui.body.querySelectorAll(".c-talking")) {
    const ms = elapsedSince(td.dataset.since);
    setText(td, Number.isNaN(ms) ? "—" : formatDuration(ms));
  }
}

export function onCalls(data) {
  liveCalls = data && Array.isArray(data.calls) ? data.calls : [];
  renderCalls();
}

/** Agents' names from a snapshot, so a call's row names its agent. */
export function setCallAgents(agents) {
  for (const a of agents) agentNames.set(String(a.agent_id), a.name || `#${a.agent_id}`);
  for (const row of ui.body.rows) {
    const name = agentNames.get(row.dataset.agentId || "");
    if (name) setText(row.cells[0], name);
  }
}
