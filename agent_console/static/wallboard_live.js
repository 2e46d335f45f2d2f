// Conversations now: every interaction an agent holds; open one for a read-only live view of
// its thread, whisper to the agent (a note the customer never sees), or move it to another
// queue or agent. Customer text is rendered with textContent only.

import { $, el, pad2, parseTime } from "/console/static/common.js";
import { label, t } from "/console/static/i18n.js";
import { agentChoices } from "/console/static/wallboard_agents.js";

let call = async () => ({ ok: true });
let queueNames = [];
let watching = null;

function clock(iso) {
  const at = parseTime(iso);
  if (Number.isNaN(at)) return "";
  const d = new Date(at);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function showLiveError(message) {
  const node = $("live-error");
  node.textContent = message || "";
  node.hidden = !message;
}

export function setupLive(options) {
  call = options.call;
  $("live-refresh").addEventListener("click", refreshLive);
  $("live-close").addEventListener("click", closeView);
  $("whisper-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("whisper-body").value.trim();
    if (!body || watching === null) return;
    const ack = await call("whisper", { interaction_id: watching, body });
    if (ack && ack.error) return showLiveError(ack.error.message);
    showLiveError("");
    $("whisper-body").value = "";
    appendLine({ author_kind: "whisper", author_name: t("wb.you_whispered"), body, created_at: new Date().toISOString() });
  });
  $("move-send").addEventListener("click", async () => {
    const target = $("move-target").value;
    if (!target || watching === null) return;
    const [kind, value] = target.split(":");
    const data = kind === "agent" ? { agent_id: Number(value) } : { queue: value };
    const ack = await call("move_interaction", { interaction_id: watching, ...data });
    if (ack && ack.error) return showLiveError(ack.error.message);
    showLiveError("");
    refreshLive();
  });
}

export function setLiveQueues(names) {
  queueNames = names;
}

export async function refreshLive() {
  const ack = await call("current_interactions", {});
  if (!ack || !ack.ok) return;
  const list = $("live-list");
  list.replaceChildren();
  for (const i of ack.interactions) {
    const li = el("li", "wb-live-item");
    li.dataset.interactionId = String(i.interaction_id);
    const button = el("button", "btn btn-ghost wb-watch", `#${i.interaction_id} · ${label("channel", i.channel)} · ${i.queue} · ${i.agent_name || "?"}`);
    button.type = "button";
    button.addEventListener("click", () => openView(i.interaction_id));
    li.append(button);
    list.append(li);
  }
  $("live-empty").hidden = ack.interactions.length > 0;
}

function appendLine(m) {
  const li = el("li", `wb-line wb-line-${m.author_kind === "whisper" ? "whisper" : m.direction === "in" ? "in" : m.author_kind === "system" ? "system" : "out"}`);
  const meta = el("div", "wb-line-meta");
  meta.append(el("span", "wb-line-author", m.author_name || t(m.direction === "in" ? "author.customer" : "author.agent")), el("time", "wb-line-time", clock(m.created_at)));
  li.append(meta, el("div", "wb-line-body", m.body ?? ""));
  const list = $("live-messages");
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function fillMoveTargets(current) {
  const select = $("move-target");
  select.replaceChildren(new Option(t("wb.choose"), ""));
  for (const q of queueNames) if (q !== current.queue) select.append(new Option(t("wb.move_queue", { name: q }), `queue:${q}`));
  for (const a of agentChoices()) if (a.id !== current.agent_id) select.append(new Option(t("wb.move_agent", { name: a.name }), `agent:${a.id}`));
}

async function openView(interactionId) {
  const ack = await call("watch", { interaction_id: interactionId });
  if (!ack || ack.error) return showLiveError(ack && ack.error ? ack.error.message : t("wb.not_available"));
  const thread = ack.thread;
  watching = thread.interaction_id;
  $("live-view").hidden = false;
  const who = (thread.customer && (thread.customer.name || thread.customer.contact)) || t("wb.customer_number", { id: thread.customer_id });
  $("live-view-title").textContent = t("wb.live_title", {
    id: thread.interaction_id,
    channel: label("channel", thread.channel),
    name: who,
  });
  $("live-messages").replaceChildren();
  for (const m of thread.messages || []) appendLine(m);
  fillMoveTargets(thread);
  showLiveError("");
}

function closeView() {
  watching = null;
  $("live-view").hidden = true;
  call("unwatch", {});
}

export function onWatchedMessage(data) {
  if (!data || data.interaction_id !== watching || !data.message) return;
  appendLine(data.message);
}

/** After a reconnect the server forgot the watch: ask again. */
export function rewatch() {
  if (watching !== null) openView(watching);
}
