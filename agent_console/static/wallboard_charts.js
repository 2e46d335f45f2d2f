// Today's charts (uPlot, vendored): contacts per 15 minutes by channel, service level per
// quarter hour, and the number waiting over the last hour. Drawn from the server's "day".

import { currentLanguage, label, t } from "/console/static/i18n.js";

const COLOURS = { webchat: "#2563eb", email: "#7c3aed", sms: "#0891b2", voice: "#d97706", api: "#059669" };
const charts = {};

function width(node) {
  return Math.max(280, Math.floor(node.clientWidth || 420));
}

function draw(id, opts, data) {
  const node = document.getElementById(id);
  const uPlot = window.uPlot;
  if (!node || !uPlot) return;
  const existing = charts[id];
  // A chart's labels are drawn once: a new language (or another set of channels) redraws it.
  if (existing && existing.series.length === opts.series.length && existing.language === currentLanguage()) {
    existing.setData(data);
    return;
  }
  if (existing) existing.destroy();
  charts[id] = new uPlot({ width: width(node), height: 160, ...opts }, data, node);
  charts[id].language = currentLanguage();
}

function seconds(iso) {
  return Math.floor(Date.parse(iso) / 1000);
}

export function renderCharts(day) {
  if (!day || !Array.isArray(day.buckets)) return;
  const times = day.buckets.map((b) => seconds(b.start));
  const channels = [...new Set(day.buckets.flatMap((b) => Object.keys(b.contacts || {})))].sort();
  if (channels.length === 0) channels.push("webchat");
  const bars = window.uPlot && window.uPlot.paths && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.8] }) : undefined;
  draw(
    "chart-contacts",
    {
      series: [{}, ...channels.map((ch) => ({ label: label("channel", ch), stroke: COLOURS[ch] || "#475569", fill: `${COLOURS[ch] || "#475569"}55`, paths: bars }))],
      axes: [{}, { label: t("wb.chart.contacts") }],
    },
    [times, ...channels.map((ch) => day.buckets.map((b) => Number((b.contacts || {})[ch] || 0)))],
  );
  draw(
    "chart-sl",
    {
      series: [{}, { label: t("wb.chart.service_level"), stroke: "#16a34a", spanGaps: true, points: { show: true, size: 6 } }],
      scales: { y: { range: [0, 100] } },
      axes: [{}, { label: "%" }],
    },
    [times, day.buckets.map((b) => (b.service_level === null || b.service_level === undefined ? null : Math.round(b.service_level * 100)))],
  );
  const waiting = Array.isArray(day.waiting) ? day.waiting : [];
  draw(
    "chart-waiting",
    {
      series: [{}, { label: t("wb.tile.waiting"), stroke: "#dc2626", fill: "#dc262622" }],
      axes: [{}, { label: t("wb.chart.contacts") }],
    },
    [waiting.map((p) => seconds(p.at)), waiting.map((p) => Number(p.waiting || 0))],
  );
}
