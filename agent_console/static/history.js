// Historical reports (supervisors): a date range, an interval and a grouping, read from
// GET /api/v1/reports/history; a table of the rows with totals, two charts (vendored uPlot)
// and the same request as CSV. Every name is rendered with textContent only.

import { $, el, fetchSession, goToLogin, send } from "/console/static/common.js";
import {
  followLanguageSelect,
  label,
  loadLanguage,
  preferredLanguage,
  t,
  translatePage,
} from "/console/static/i18n.js";
import { formatCount, formatPercent, formatSeconds } from "/console/static/wallboard_format.js";

const me = await fetchSession().catch(() => null);
if (!me || me.status === 401) goToLogin("/console/supervisor/history", "ended");
await loadLanguage(preferredLanguage((me && me.user && me.user.language) || null));
translatePage(document);

const ui = {
  form: $("history-form"),
  from: $("history-from"),
  to: $("history-to"),
  interval: $("history-interval"),
  group: $("history-group"),
  show: $("history-show"),
  csv: $("history-csv"),
  error: $("history-error"),
  rows: $("history-rows"),
  totals: $("history-totals"),
  empty: $("history-empty"),
  range: $("history-range"),
  groupCol: $("history-group-col"),
  language: $("language-select"),
  logout: $("logout"),
};
const charts = {};
let last = null;

// Without dates the hub answers for its own today (reports.timezone), which then fills them.
function query(format) {
  const params = new URLSearchParams({ interval: ui.interval.value, group: ui.group.value });
  if (ui.from.value) params.set("from", ui.from.value);
  if (ui.to.value || ui.from.value) params.set("to", ui.to.value || ui.from.value);
  if (format) params.set("format", format);
  return `/api/v1/reports/history?${params.toString()}`;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

// The interval as the hub's time zone reads it: the server sends local ISO times.
function intervalText(iso, interval) {
  const [day, time] = iso.split("T");
  return interval === "day" ? day : `${day} ${time.slice(0, 5)}`;
}

function whoText(row, group) {
  if (group === "agent") {
    if (row.agent_id === null || row.agent_id === undefined) return t("hist.no_agent");
    return row.agent_name || `#${row.agent_id}`;
  }
  if (group === "channel") return label("channel", row.channel);
  return row.queue;
}

function figureCells(f) {
  return [
    formatCount(f.offered),
    formatCount(f.answered),
    formatCount(f.abandoned),
    formatPercent(f.service_level),
    formatSeconds(f.asa_s),
    formatCount(f.missed),
    formatCount(f.handled),
    formatSeconds(f.aht_s),
    formatSeconds(f.wrap_up_avg_s),
    formatCount(f.transfers),
    formatPercent(f.fcr),
    f.csat_avg === null || f.csat_avg === undefined ? "—" : Number(f.csat_avg).toFixed(2),
  ].map((text) => el("td", "num", text));
}

function tableRow(first, second, figures, header) {
  const tr = el("tr", header ? "history-total" : "");
  const lead = el(header ? "th" : "td", "", first);
  if (header) lead.scope = "row";
  tr.append(lead, el("td", "", second), ...figureCells(figures));
  return tr;
}

function renderTable(data) {
  const group = data.group;
  ui.groupCol.dataset.i18n = `hist.group_${group}`;
  ui.groupCol.textContent = t(`hist.group_${group}`);
  ui.rows.replaceChildren(
    ...data.rows.map((r) => tableRow(intervalText(r.start, data.interval), whoText(r, group), r)),
  );
  const total = t("hist.total");
  ui.totals.replaceChildren(
    ...data.totals.map((r) => tableRow(total, whoText(r, group), r, true)),
    tableRow(total, t("hist.all"), data.total, true),
  );
  ui.empty.hidden = data.rows.length > 0;
  ui.range.textContent = t("hist.range", { from: data.from, to: data.to, timezone: data.timezone });
}

function draw(id, opts, series) {
  const node = $(id);
  const uPlot = window.uPlot;
  if (!node || !uPlot) return;
  if (charts[id]) charts[id].destroy();
  const width = Math.max(280, Math.floor(node.clientWidth || 560));
  charts[id] = new uPlot({ width, height: 200, ...opts }, series, node);
}

// One point per interval of the range, summed over the grouped rows.
function renderCharts(data) {
  const index = new Map(data.intervals.map((iso, i) => [Date.parse(iso), i]));
  const zeros = () => data.intervals.map(() => 0);
  const offered = zeros();
  const answered = zeros();
  const abandoned = zeros();
  const settled = zeros();
  const within = zeros();
  for (const r of data.rows) {
    const i = index.get(Date.parse(r.start));
    if (i === undefined) continue;
    offered[i] += r.offered;
    answered[i] += r.answered;
    abandoned[i] += r.abandoned;
    if (r.service_level !== null) {
      settled[i] += r.answered + r.abandoned;
      within[i] += r.service_level * (r.answered + r.abandoned);
    }
  }
  const times = data.intervals.map((iso) => Math.floor(Date.parse(iso) / 1000));
  draw(
    "history-chart-contacts",
    {
      series: [
        {},
        { label: t("hist.col_offered"), stroke: "#2563eb" },
        { label: t("hist.col_answered"), stroke: "#16a34a" },
        { label: t("hist.col_abandoned"), stroke: "#dc2626" },
      ],
      axes: [{}, { label: t("wb.chart.contacts") }],
    },
    [times, offered, answered, abandoned],
  );
  draw(
    "history-chart-sl",
    {
      series: [{}, { label: t("hist.col_sl"), stroke: "#16a34a", spanGaps: true, points: { show: true, size: 6 } }],
      scales: { y: { range: [0, 100] } },
      axes: [{}, { label: "%" }],
    },
    [times, settled.map((n, i) => (n ? Math.round((within[i] / n) * 100) : null))],
  );
}

function render(data) {
  last = data;
  if (!ui.from.value) ui.from.value = data.from;
  if (!ui.to.value) ui.to.value = data.to;
  ui.csv.href = query("csv");
  renderTable(data);
  renderCharts(data);
}

async function load() {
  showError("");
  ui.show.disabled = true;
  ui.csv.href = query("csv");
  try {
    const response = await send(query(), { method: "GET" });
    if (response.status === 401) {
      goToLogin("/console/supervisor/history", "ended");
      return;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      showError(t("hist.failed", { reason: (data && data.error && data.error.message) || response.status }));
      return;
    }
    render(data);
  } catch {
    showError(t("hist.failed", { reason: t("error.timeout") }));
  } finally {
    ui.show.disabled = false;
  }
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
for (const input of [ui.from, ui.to, ui.interval, ui.group]) {
  input.addEventListener("change", () => {
    ui.csv.href = query("csv");
  });
}

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  try {
    await send("/api/v1/session", { method: "DELETE" });
  } catch {
    // go to login anyway
  }
  window.location.assign("/login");
});

followLanguageSelect(ui.language, () => {
  if (last) render(last);
}, showError);

load();
