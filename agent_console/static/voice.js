// Phone calls in the agent console: the call's state, a timer, hold/resume, mute, hang-up and a
// warm transfer (consult a colleague, then complete or cancel).
// Contract: the work item's "voice" object (stage, answered_at, held, muted, hung_up_by, talk_s,
// recording_url, consult_stage, consult_name, callback_retrying ...), the "call_control" and
// "call_consult" events of namespace /agent, whose acks carry the call's new "voice" object, and
// GET /api/v1/agents for the colleagues. Everything is rendered with textContent only.

import { formatDuration, parseTime } from "/console/static/common.js";
import { has, t, tr } from "/console/static/i18n.js";

/** A catalogue entry named after a server value (a stage, who hung up), or null. */
function known(group, value, params) {
  const key = `${group}.${value}`;
  return value && has(key) ? t(key, params) : null;
}

function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export class CallPanel {
  /** ui: {panel, state, timer, hold, mute, hangup, error, recording}; request(event, data). */
  constructor(ui, request) {
    this.ui = ui;
    this.request = request;
    this.item = null;
    this.pending = false;
    ui.hold.addEventListener("click", () => this.act(this.voice().held ? "resume" : "hold"));
    ui.mute.addEventListener("click", () => this.act(this.voice().muted ? "unmute" : "mute"));
    ui.hangup.addEventListener("click", () => this.act("hangup"));
    ui.consult.addEventListener("click", () => {
      const colleague = Number(ui.consultTarget.value);
      if (colleague) this.act("start", { event: "call_consult", agent_id: colleague });
    });
    ui.consultTarget.addEventListener("change", () => this.render(this.item));
    ui.consultComplete.addEventListener("click", () => this.act("complete", { event: "call_consult" }));
    ui.consultCancel.addEventListener("click", () => this.act("cancel", { event: "call_consult" }));
    this.colleaguesFor = null; // the interaction the colleague list was loaded for
  }

  /** Fill the consult list with the other agents (their state shown), once per call. */
  async loadColleagues(item) {
    if (this.colleaguesFor === item.interaction_id) return;
    this.colleaguesFor = item.interaction_id;
    const select = this.ui.consultTarget;
    const placeholder = document.createElement("option");
    placeholder.value = "";
    placeholder.textContent = t("voice.choose_colleague");
    select.replaceChildren(placeholder);
    let agents = [];
    try {
      const response = await fetch("/api/v1/agents", { credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = response.ok ? await response.json() : null;
      agents = data && Array.isArray(data.agents) ? data.agents : [];
    } catch {
      agents = [];
    }
    const me = this.voice().agent_id;
    for (const agent of agents.filter((a) => a && a.agent_id != null && a.agent_id !== me)) {
      const option = document.createElement("option");
      option.value = String(agent.agent_id);
      option.textContent = t("voice.colleague_option", {
        name: agent.name || `#${agent.agent_id}`,
        state: known("state_label", agent.state) || agent.state || "?",
      });
      option.disabled = agent.state !== "available";
      select.append(option);
    }
    if (this.item) this.render(this.item);
  }

  voice() {
    return (this.item && this.item.voice) || {};
  }

  /** Show the call of a work item (true), or hide the panel for anything else (false). */
  render(item) {
    this.item = item && item.channel === "voice" && item.voice ? item : null;
    const { ui } = this;
    ui.panel.hidden = this.item === null;
    if (this.item === null) return false;
    const voice = this.voice();
    const live = voice.stage === "connected" && item.state === "assigned";
    let text = known("voice.stage", voice.stage) || String(voice.stage || "");
    if (voice.stage === "connected" && !voice.answered_at) text = t("voice.calling_customer");
    if (live && voice.held) text += t("voice.on_hold_suffix");
    if (live && voice.muted) text += t("voice.muted_suffix");
    const hungUp = voice.stage === "ended" ? known("voice.hung_up_by", voice.hung_up_by) : null;
    if (hungUp) text += ` (${hungUp})`;
    if (live && voice.callback_retrying) text += t("voice.retrying_suffix", { attempt: Number(voice.callback_attempts) + 1 });
    ui.state.textContent = text;
    ui.state.dataset.stage = String(voice.stage || "");
    for (const button of [ui.hold, ui.mute, ui.hangup]) {
      button.hidden = !live;
      button.disabled = this.pending;
    }
    const consulting = live && Boolean(voice.consult_stage);
    ui.consultPanel.hidden = !live;
    ui.consultTarget.hidden = consulting;
    ui.consult.hidden = consulting;
    ui.consult.disabled = this.pending || ui.consultTarget.value === "";
    ui.consultComplete.hidden = !consulting;
    ui.consultComplete.disabled = this.pending || voice.consult_stage !== "talking";
    ui.consultCancel.hidden = !consulting;
    ui.consultCancel.disabled = this.pending;
    const consultKey = voice.consult_stage === "talking" ? "voice.consult_talking" : "voice.consult_ringing";
    ui.consultState.textContent = consulting
      ? t(consultKey, { name: voice.consult_name || t("voice.a_colleague") })
      : "";
    if (live && !consulting) this.loadColleagues(item);
    tr(ui.hold, voice.held ? "voice.resume" : "voice.hold");
    ui.hold.setAttribute("aria-pressed", String(Boolean(voice.held)));
    tr(ui.mute, voice.muted ? "voice.unmute" : "voice.mute");
    ui.mute.setAttribute("aria-pressed", String(Boolean(voice.muted)));
    const url = voice.recording_url ? safeUrl(voice.recording_url) : null;
    ui.recording.hidden = url === null;
    if (url !== null) {
      ui.recording.href = url;
      ui.recording.textContent = voice.recording_s != null
        ? t("voice.recording_length", { length: formatDuration(voice.recording_s * 1000) })
        : t("voice.recording");
    }
    this.tick();
    return true;
  }

  /** The call timer: talk time so far, or in all once ended. */
  tick() {
    if (this.item === null) return;
    const voice = this.voice();
    const { timer } = this.ui;
    if (voice.stage === "ended" && voice.talk_s != null) {
      timer.textContent = formatDuration(voice.talk_s * 1000);
    } else if (voice.stage === "connected") {
      const since = parseTime(voice.answered_at);
      timer.textContent = Number.isNaN(since) ? "" : formatDuration(Date.now() - since);
    } else {
      timer.textContent = "";
    }
    timer.hidden = timer.textContent === "";
  }

  async act(action, { event = "call_control", ...extra } = {}) {
    const item = this.item;
    if (item === null || this.pending) return;
    this.pending = true;
    this.ui.error.hidden = true;
    this.render(item);
    const ack = await this.request(event, { interaction_id: item.interaction_id, action, ...extra });
    this.pending = false;
    if (ack && ack.ok && ack.voice) {
      item.voice = { ...item.voice, ...ack.voice };
    } else {
      this.ui.error.textContent = (ack && ack.error && ack.error.message) || t("voice.not_changed");
      this.ui.error.hidden = false;
    }
    if (this.item === item) this.render(item);
  }
}
