// Agents table: state and time in state, load per channel, today's occupancy, handled and
// missed offers; a queue filter; and the supervisor's actions (set state, log out), each a
// role-checked /supervisor event whose error is shown in the row's place.

import { $, el, formatDuration } from "/console/static/common.js";
import { label, t } from "/console/static/i18n.js";
import { elapsedSince, formatCount, formatPercent, setText } from "/console/static/wallboard_format.js";

const rows = new Map();
const STATE_ORDER = { available: 0, away: 1, offline: 2 };
let lastAgents = [];
let today = {};
let queues = {};
let awayReasons = [];
let act = async () => ({ ok: true });

/** An action's error (or nothing), under the table until the next action. */
function onError(message) {
  const node = $("agents-error");
  node.textContent = message || "";
  node.hidden = !message;
}

export function setupAgents({ call }) {
  act = call;
  $("agent-queue-filter").addEventListener("change", () => renderAgents(lastAgents));
}

export function setAgentSettings(settings) {
  queues = settings.queues || {};
  awayReasons = settings.away_reasons || [];
  const filter = $("agent-queue-filter");
  const current = filter.value;
  filter.replaceChildren(option("wb.all_queues", ""));
  for (const name of Object.keys(queues).sort()) filter.append(new Option(name, name));
  filter.value = current in queues ? current : "";
}

export function setAgentDay(agents) {
  today = agents || {};
  renderAgents(lastAgents);
}

function formatLoad(load, capacity) {
  const channels = [...new Set([...Object.keys(capacity || {}), ...Object.keys(load || {})])].sort();
  const parts = channels
    .filter((ch) => Number((capacity || {})[ch] || 0) > 0 || Number((load || {})[ch] || 0) > 0)
    .map((ch) => `${ch} ${Number((load || {})[ch] || 0)}/${Number((capacity || {})[ch] || 0)}`);
  return parts.length ? parts.join(" · ") : "—";
}

function stateText(state, reason) {
  if (!state) return "";
  if (!reason || state === "available") return label("state_label", state);
  return t("wb.state_reason", { state: label("state_label", state), reason: label("reason", reason) });
}

/** An <option> whose text follows the page's language (translatePage). */
function option(key, value, params) {
  const node = new Option(t(key, params), value);
  node.dataset.i18n = key;
  if (params) node.dataset.i18nParams = JSON.stringify(params);
  return node;
}

function stateOptions(select) {
  select.append(option("wb.set_state", ""), option("state_label.available", "available"));
  select.append(option("state_label.away", "away"));
  for (const reason of awayReasons) {
    const names = { state: t("state_label.away"), reason: label("reason", reason) };
    select.append(option("wb.state_reason", `away:${reason}`, names));
  }
  select.append(option("state_label.offline", "offline"));
}

function row(id) {
  let tr = rows.get(id);
  if (tr) return tr;
  tr = document.createElement("tr");
  tr.dataset.agentId = id;
  const name = document.createElement("th");
  name.scope = "row";
  name.className = "a-name";
  const cell = (cls, num) => el("td", num ? `${cls} num` : cls);
  tr.refs = {
    name,
    state: cell("a-state"),
    since: cell("a-since", true),
    load: cell("a-load", true),
    occupancy: cell("a-occupancy", true),
    handled: cell("a-handled", true),
    missed: cell("a-missed", true),
    actions: cell("a-actions"),
  };
  const select = el("select", "a-set-state");
  select.dataset.i18nAriaLabel = "wb.set_state_label";
  select.setAttribute("aria-label", t("wb.set_state_label"));
  stateOptions(select);
  select.addEventListener("change", async () => {
    const [state, reason] = select.value.split(":");
    select.value = "";
    if (!state) return;
    const ack = await act("set_agent_state", { agent_id: Number(id), state, ...(reason ? { reason } : {}) });
    onError(ack && ack.error ? ack.error.message : "");
  });
  const logout = el("button", "btn btn-ghost a-logout", t("console.logout"));
  logout.dataset.i18n = "console.logout";
  logout.type = "button";
  logout.addEventListener("click", async () => {
    const who = tr.refs.name.textContent;
    if (!window.confirm(t("wb.log_out_confirm", { name: who }))) return;
    const ack = await act("log_out_agent", { agent_id: Number(id) });
    onError(ack && ack.error ? ack.error.message : "");
  });
  const box = el("div", "a-actions-box");
  box.append(select, logout);
  tr.refs.actions.append(box);
  tr.append(name, tr.refs.state, tr.refs.since, tr.refs.load, tr.refs.occupancy, tr.refs.handled, tr.refs.missed, tr.refs.actions);
  rows.set(id, tr);
  return tr;
}

function servesQueue(agent, queueName) {
  return (agent.queues || []).includes(queueName);
}

export function renderAgents(agents) {
  lastAgents = agents;
  const filter = $("agent-queue-filter").value;
  const body = $("agents-table").tBodies[0];
  const seen = new Set();
  const sorted = [...agents].sort((a, b) => {
    const s = (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3);
    return s !== 0 ? s : String(a.name).localeCompare(String(b.name));
  });
  for (const a of sorted) {
    if (filter && !servesQueue(a, filter)) continue;
    const id = String(a.agent_id);
    seen.add(id);
    const tr = row(id);
    const day = today[id] || {};
    tr.since = a.state_since || null;
    setText(tr.refs.name, a.name || `#${id}`);
    setText(tr.refs.state, stateText(a.state, a.reason));
    tr.refs.state.className = `a-state state-${a.state}`;
    setText(tr.refs.load, formatLoad(a.load, a.capacity));
    setText(tr.refs.occupancy, formatPercent(day.occupancy));
    setText(tr.refs.handled, formatCount(day.handled ?? 0));
    setText(tr.refs.missed, formatCount(day.missed ?? 0));
    tr.classList.toggle("is-offline", a.state === "offline");
    tr.querySelector(".a-logout").disabled = a.state === "offline";
    body.append(tr);
  }
  for (const [id, tr] of rows) {
    if (!seen.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  $("agents-empty").hidden = rows.size > 0;
  tickAgents();
}

export function tickAgents() {
  for (const tr of rows.values()) {
    const ms = elapsedSince(tr.since);
    setText(tr.refs.since, Number.isNaN(ms) ? "—" : formatDuration(ms));
  }
}

/** Agents who could take a moved interaction, for the live view's "Move to" list. */
export function agentChoices() {
  return lastAgents.filter((a) => a.state === "available").map((a) => ({ id: a.agent_id, name: a.name }));
}
