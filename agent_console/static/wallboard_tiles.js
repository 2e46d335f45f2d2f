// Queue tiles: waiting, longest wait (ticking), today's service level against the queue's
// target, ASA, offered / answered / abandoned, agents available / busy / away. A tile turns
// amber or red when the queue's thresholds (config: queues[].wallboard) are crossed.

import { $, el, formatDuration } from "/console/static/common.js";
import { t as tx, tr } from "/console/static/i18n.js";
import { elapsedSince, formatCount, formatPercent, formatSeconds, setText } from "/console/static/wallboard_format.js";

const DEFAULTS = { longest_wait_warn_s: 60, longest_wait_alert_s: 180, service_level_warn: 0.8, service_level_alert: 0.6 };
const tiles = new Map();
let settings = {};

export function setQueueSettings(queues) {
  settings = queues || {};
}

function figure(tile, key) {
  const box = el("div", `wb-figure wb-${key}`);
  const value = el("span", `wb-value q-${key}`, "—");
  box.append(value, tr(el("span", "wb-label"), `wb.tile.${key}`));
  tile.refs[key] = value;
  return box;
}

function tile(name) {
  let t = tiles.get(name);
  if (t) return t;
  t = el("article", "wb-tile");
  t.dataset.queue = name;
  t.dataset.i18nAriaLabel = "wb.tile.queue";
  t.dataset.i18nParams = JSON.stringify({ name });
  t.setAttribute("aria-label", tx("wb.tile.queue", { name }));
  t.refs = {};
  const head = el("header", "wb-tile-head");
  head.append(el("h3", "wb-tile-name q-name", name), (t.refs.status = el("span", "wb-status", "")));
  const main = el("div", "wb-tile-main");
  main.append(figure(t, "waiting"), figure(t, "longest"), figure(t, "sl"));
  const sub = el("div", "wb-tile-sub");
  sub.append(
    figure(t, "asa"),
    figure(t, "offered"),
    figure(t, "answered"),
    figure(t, "abandoned"),
    figure(t, "assigned"),
  );
  const staff = el("div", "wb-tile-staff");
  staff.append(figure(t, "available"), figure(t, "busy"), figure(t, "away"));
  t.append(head, main, sub, staff);
  tiles.set(name, t);
  return t;
}

export function renderTiles(queues) {
  const box = $("queue-tiles");
  const seen = new Set();
  for (const q of [...queues].sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
    const name = String(q.name);
    seen.add(name);
    const t = tile(name);
    t.oldest = q.oldest_queued_at || null;
    t.sl = q.service_level_today;
    setText(t.refs.waiting, Number(q.waiting || 0));
    setText(t.refs.offered, formatCount(q.entered_today));
    setText(t.refs.answered, formatCount(q.answered_today));
    setText(t.refs.abandoned, formatCount(q.abandoned_today));
    setText(t.refs.assigned, Number(q.assigned || 0));
    setText(t.refs.sl, formatPercent(q.service_level_today));
    t.refs.sl.title = Number(q.sla_s) > 0 ? tx("wb.tile.sl_title", { seconds: Number(q.sla_s) }) : "";
    setText(t.refs.asa, formatSeconds(q.asa_today_s));
    // Counted by the hub (hub.representation.staffing), as GET /api/v1/queues shows them.
    const staff = q.staff || {};
    for (const key of ["available", "busy", "away"]) setText(t.refs[key], Number(staff[key] || 0));
    box.append(t);
  }
  for (const [name, t] of tiles) {
    if (!seen.has(name)) {
      t.remove();
      tiles.delete(name);
    }
  }
  $("queues-empty").hidden = tiles.size > 0;
  tickTiles();
}

function level(ms, sl, limits) {
  let wait = "ok";
  if (!Number.isNaN(ms)) {
    if (ms >= limits.longest_wait_alert_s * 1000) wait = "alert";
    else if (ms >= limits.longest_wait_warn_s * 1000) wait = "warning";
  }
  let service = "ok";
  if (sl !== null && sl !== undefined && Number.isFinite(Number(sl))) {
    if (Number(sl) < limits.service_level_alert) service = "alert";
    else if (Number(sl) < limits.service_level_warn) service = "warning";
  }
  return { wait, service };
}


export function tickTiles() {
  for (const [name, t] of tiles) {
    const limits = { ...DEFAULTS, ...(settings[name] || {}) };
    const ms = elapsedSince(t.oldest);
    setText(t.refs.longest, Number.isNaN(ms) ? "—" : formatDuration(ms));
    const { wait, service } = level(ms, t.sl, limits);
    const worst = [wait, service].includes("alert") ? "alert" : [wait, service].includes("warning") ? "warning" : "ok";
    t.classList.toggle("is-warning", worst === "warning");
    t.classList.toggle("is-alert", worst === "alert");
    t.refs.longest.classList.toggle("is-warning", wait === "warning");
    t.refs.longest.classList.toggle("is-alert", wait === "alert");
    t.refs.sl.classList.toggle("is-warning", service === "warning");
    t.refs.sl.classList.toggle("is-alert", service === "alert");
    setText(t.refs.status, worst === "ok" ? "" : tx(`wb.tile.${worst}`));
  }
}
