// The customer page for staff: /console/customers searches (one box: a name, a company, an
// e-mail address or a phone number however it is written), /console/customers/{id} shows one
// customer's whole story (customer_record.js). The hub's access rules decide what an agent
// may read; a refusal is said in words, never a blank page. Customer text is textContent only.

import { $, el, fetchSession, formatDateTime, goToLogin, send } from "/console/static/common.js";
import { CustomerForm, tierLabel } from "/console/static/customer_form.js";
import {
  addChannelDetails,
  addEmailDetails,
  renderFollowups,
  renderNotes,
  renderProfile,
  renderTimeline,
} from "/console/static/customer_record.js";
import { followLanguageSelect, loadLanguage, preferredLanguage, t, tr, translatePage } from "/console/static/i18n.js";

const SUPERVISING = ["supervisor", "admin"];
const PAGE_SIZE = 25;

const here = window.location.pathname + window.location.search;
const me = await fetchSession().catch(() => null);
if (!me || me.status === 401) goToLogin(here, "ended");
await loadLanguage(preferredLanguage((me && me.user && me.user.language) || null));
translatePage(document);

const role = (me && me.user && me.user.role) || "agent";
const ui = {
  error: $("page-error"),
  searchSection: $("search-section"),
  searchForm: $("search-form"),
  query: $("search-query"),
  searchStatus: $("search-status"),
  results: $("search-results"),
  more: $("search-more"),
  recordSection: $("record-section"),
  recordStatus: $("record-status"),
  record: $("record"),
  profile: {
    name: $("record-name"),
    tier: $("record-tier"),
    facts: $("record-facts"),
    tags: $("record-tags"),
    custom: $("record-custom"),
    identities: $("record-identities"),
  },
  timeline: $("record-timeline"),
  notes: $("record-notes"),
  followups: $("record-followups"),
  wallboard: $("wallboard-link"),
  language: $("language-select"),
  logout: $("logout"),
};
ui.wallboard.hidden = !SUPERVISING.includes(role);

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

/** GET a hub path as JSON: {status, data}; a lost session goes to the sign-in page. */
async function getJson(path) {
  const response = await send(path, { method: "GET" });
  if (response.status === 401) {
    goToLogin(here, "ended");
    return { status: 401, data: null };
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = (body && body.error) || {};
    return { status: response.status, data: null, reason: error.message || error.code || null, error };
  }
  return { status: response.status, data: await response.json() };
}

// ---------------------------------------------------------------------- search

/** A phone number as the hub stores it contains the digits a person types, once the
 * national or international prefix (leading zeros) is dropped: "(415) 555-0123" and
 * "+1 415 555 0123" both find "+14155550123". Anything else is searched as typed. */
export function searchText(text) {
  const trimmed = text.trim();
  const digits = trimmed.replace(/\D/g, "");
  if (/^[+\d\s().\-/]+$/.test(trimmed) && digits.length >= 6) return digits.replace(/^0+/, "");
  return trimmed;
}

const search = { query: "", cursor: null, seq: 0 };

function resultElement(customer) {
  const li = el("li", "customer-result");
  const link = el("a", "customer-result-link");
  link.href = `/console/customers/${encodeURIComponent(customer.customer_id)}`;
  const head = el("span", "customer-result-head");
  const name = el("span", "customer-result-name");
  if (customer.name) name.textContent = customer.name;
  else tr(name, "customer.anonymous");
  head.append(name);
  if (customer.tier) head.append(tierLabel(el("span", "tier-badge"), customer.tier));
  if (customer.company) head.append(el("span", "customer-result-company", customer.company));
  const identities = (customer.identities || []).filter((i) => i.kind !== "webchat").map((i) => i.value);
  const sub = el("span", "customer-result-sub");
  sub.append(el("span", "customer-result-identities", identities.join(" · ")));
  if (customer.last_contact_at) {
    const when = formatDateTime(customer.last_contact_at);
    sub.append(tr(el("span", "customer-result-last"), "cust.last_contact", { when })); // follows a language switch
  }
  link.append(head, sub);
  li.append(link);
  return li;
}

async function runSearch({ more = false } = {}) {
  const seq = ++search.seq;
  if (!more) {
    search.query = searchText(ui.query.value);
    search.cursor = null;
    ui.results.replaceChildren();
    const url = new URL(window.location.href);
    if (ui.query.value.trim()) url.searchParams.set("q", ui.query.value.trim());
    else url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
  }
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (search.query) params.set("q", search.query);
  if (search.cursor) params.set("cursor", search.cursor);
  tr(ui.searchStatus, "cust.searching");
  ui.more.hidden = true;
  let answer;
  try {
    answer = await getJson(`/api/v1/customers?${params.toString()}`);
  } catch {
    if (seq === search.seq) tr(ui.searchStatus, "cust.search_failed", { reason: t("customer.network") });
    return;
  }
  if (seq !== search.seq || answer.status === 401) return;
  if (!answer.data) {
    tr(ui.searchStatus, "cust.search_failed", { reason: answer.reason || t("customer.http", { status: answer.status }) });
    return;
  }
  ui.results.append(...answer.data.customers.map(resultElement));
  search.cursor = answer.data.next_cursor;
  ui.more.hidden = !search.cursor;
  const count = ui.results.childElementCount;
  tr(ui.searchStatus, count ? "cust.found" : "cust.none_found", { count });
}

function resultLinks() {
  return [...ui.results.querySelectorAll(".customer-result-link")];
}

function onResultsKey(event) {
  const links = resultLinks();
  const at = links.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && links.length) {
    event.preventDefault();
    links[Math.min(at + 1, links.length - 1)].focus();
  } else if (event.key === "ArrowUp" && at >= 0) {
    event.preventDefault();
    if (at === 0) ui.query.focus();
    else links[at - 1].focus();
  } else if (event.key === "Escape" && at >= 0) {
    event.preventDefault();
    ui.query.focus();
  }
}

function startSearch() {
  ui.searchSection.hidden = false;
  ui.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    runSearch();
  });
  ui.more.addEventListener("click", () => runSearch({ more: true }));
  ui.query.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") onResultsKey(event);
  });
  ui.results.addEventListener("keydown", onResultsKey);
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      ui.query.focus();
      ui.query.select();
    }
  });
  const q = new URLSearchParams(window.location.search).get("q");
  if (q) {
    ui.query.value = q;
    runSearch();
  }
  ui.query.focus();
}

// ---------------------------------------------------------------------- one customer

const view = { record: null, followups: [], agents: new Map() };

function showRecordStatus(key, params) {
  ui.record.hidden = true;
  ui.recordStatus.hidden = false;
  tr(ui.recordStatus, key, params);
}

/** A record merged into another: where it went, as a link (the record itself is gone). */
function showMerged(survivorId) {
  ui.record.hidden = true;
  ui.recordStatus.hidden = false;
  delete ui.recordStatus.dataset.i18n;
  const link = tr(el("a", "record-survivor"), "cust.survivor", { id: survivorId });
  link.href = `/console/customers/${encodeURIComponent(survivorId)}`;
  ui.recordStatus.replaceChildren(tr(el("span"), "cust.merged"), " ", link);
}

function renderRecord() {
  const data = view.record;
  if (!data) return;
  renderProfile(ui.profile, data, view.agents);
  renderTimeline(ui.timeline, data, view.agents);
  renderNotes(ui.notes, data);
  renderFollowups(ui.followups, view.followups);
  document.title = `${data.name || t("customer.anonymous")} · ${t("cust.page_title")}`;
}

/** Names for owner and step agent ids; the record is readable without them. */
async function loadAgents() {
  try {
    const answer = await getJson("/api/v1/agents");
    for (const agent of (answer.data && answer.data.agents) || []) view.agents.set(agent.agent_id, agent.name);
  } catch {
    // ids are shown instead of names
  }
}

async function loadRecord(customerId) {
  ui.recordSection.hidden = false;
  if (!/^[1-9]\d{0,17}$/.test(customerId)) {
    showRecordStatus("cust.not_found", { reason: customerId });
    return;
  }
  showRecordStatus("customer.loading");
  let answer;
  try {
    [answer] = await Promise.all([getJson(`/api/v1/customers/${customerId}`), loadAgents()]);
  } catch {
    showRecordStatus("customer.load_network");
    return;
  }
  if (answer.status === 401) return;
  if (answer.status === 403) {
    showRecordStatus("cust.forbidden");
    return;
  }
  if (answer.status === 404 && Number.isInteger(answer.error.merged_into)) {
    showMerged(answer.error.merged_into);
    return;
  }
  if (answer.status === 404) {
    showRecordStatus("cust.not_found", { reason: answer.reason || customerId });
    return;
  }
  if (!answer.data) {
    showRecordStatus("customer.load_http", { status: answer.status });
    return;
  }
  view.record = answer.data;
  try {
    const followups = await getJson(`/api/v1/customers/${customerId}/followups`);
    view.followups = (followups.data && followups.data.followups) || [];
  } catch {
    view.followups = [];
  }
  ui.recordStatus.hidden = true;
  ui.record.hidden = false;
  renderRecord();
  if (SUPERVISING.includes(role)) customerForm.show(view.record);
}

/** An interaction opened in the timeline: what its channel adds, read once (an e-mail's
 * thread: subjects and delivery; an SMS's delivery; a call's timings and recording). A
 * refusal (an agent opening a colleague's contact) leaves the messages as they are. */
const CHANNEL_PARTS = {
  email: { path: (id) => `/api/v1/interactions/${id}/email`, add: addEmailDetails },
  sms: { path: (id) => `/api/v1/interactions/${id}`, add: addChannelDetails },
  voice: { path: (id) => `/api/v1/interactions/${id}`, add: addChannelDetails },
};
const channelParts = new Map();
async function onInteractionOpened(event) {
  const item = event.target.closest && event.target.closest(".record-interaction");
  const part = item && CHANNEL_PARTS[item.dataset.channel];
  if (!part || !event.target.open) return;
  const id = encodeURIComponent(item.dataset.interactionId);
  if (!channelParts.has(id)) channelParts.set(id, getJson(part.path(id)).then((a) => a.data, () => null));
  const data = await channelParts.get(id);
  if (data) part.add(item, data);
}
ui.timeline.addEventListener("toggle", onInteractionOpened, true); // toggle does not bubble

// Supervisors and admins edit here with the console's form; agents edit from the console.
const customerForm = CustomerForm.onPage(
  {
    onSaved: (profile) => {
      view.record = { ...view.record, ...profile };
      renderRecord();
    },
    onAuthLost: () => goToLogin(here, "ended"),
  },
);

// ---------------------------------------------------------------------- the page

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  try {
    await send("/api/v1/session", { method: "DELETE" });
  } catch {
    // go to login anyway
  }
  window.location.assign("/login");
});

followLanguageSelect(ui.language, renderRecord, showError);

const match = window.location.pathname.match(/^\/console\/customers\/([^/]+)\/?$/);
if (match) loadRecord(decodeURIComponent(match[1]));
else startSearch();
