// Number formats and the server-clock correction shared by the wallboard modules.

import { formatDuration, parseTime } from "/console/static/common.js";

/** Local clock minus server clock, from the last snapshot (ms). */
let skew = 0;

export function setServerTime(iso) {
  const at = parseTime(iso);
  skew = Number.isNaN(at) ? 0 : Date.now() - at;
  return at;
}

/** Milliseconds since an ISO server time, corrected for clock skew (NaN when unknown). */
export function elapsedSince(iso) {
  const t = parseTime(iso);
  return Number.isNaN(t) ? NaN : Date.now() - skew - t;
}

export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

export function formatCount(value) {
  const n = Number(value);
  return value === null || value === undefined || !Number.isFinite(n) ? "—" : String(n);
}

/** A 0..1 fraction as a whole percentage, or "—". */
export function formatPercent(fraction) {
  if (fraction === null || fraction === undefined) return "—";
  const n = Number(fraction);
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : "—";
}

/** Seconds as m:ss, or "—". */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const n = Number(seconds);
  return Number.isFinite(n) ? formatDuration(Math.round(n) * 1000) : "—";
}
