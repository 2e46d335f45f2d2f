// Phone calls in the agent console: the call's state, a timer, hold/resume, mute and hang-up.
// Contract: the work item's "voice" object (stage, answered_at, held, muted, hung_up_by, talk_s,
// recording_url ...) and the "call_control" event of namespace /agent, whose ack carries the
// call's new "voice" object. Everything from Twilio is rendered with textContent only.

import { formatDuration, parseTime } from "/console/static/common.js";

const STAGE_TEXT = {
  ringing: "Ringing your phone…",
  callback_ringing: "Ringing your phone (then the customer, a callback)…",
  connected: "On the call",
  ended: "Call ended",
  voicemail_left: "Voicemail",
};
const HUNG_UP_BY = { customer: "the customer hung up", agent: "you hung up" };

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
    let text = STAGE_TEXT[voice.stage] || String(voice.stage || "");
    if (live && voice.held) text += " · customer on hold";
    if (live && voice.muted) text += " · you are muted";
    if (voice.stage === "ended" && HUNG_UP_BY[voice.hung_up_by]) text += ` (${HUNG_UP_BY[voice.hung_up_by]})`;
    ui.state.textContent = text;
    ui.state.dataset.stage = String(voice.stage || "");
    for (const button of [ui.hold, ui.mute, ui.hangup]) {
      button.hidden = !live;
      button.disabled = this.pending;
    }
    ui.hold.textContent = voice.held ? "Resume" : "Hold";
    ui.hold.setAttribute("aria-pressed", String(Boolean(voice.held)));
    ui.mute.textContent = voice.muted ? "Unmute" : "Mute";
    ui.mute.setAttribute("aria-pressed", String(Boolean(voice.muted)));
    const url = voice.recording_url ? safeUrl(voice.recording_url) : null;
    ui.recording.hidden = url === null;
    if (url !== null) {
      ui.recording.href = url;
      ui.recording.textContent = voice.recording_s != null ? `Recording (${formatDuration(voice.recording_s * 1000)})` : "Recording";
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

  async act(action) {
    const item = this.item;
    if (item === null || this.pending) return;
    this.pending = true;
    this.ui.error.hidden = true;
    this.render(item);
    const ack = await this.request("call_control", { interaction_id: item.interaction_id, action });
    this.pending = false;
    if (ack && ack.ok && ack.voice) {
      item.voice = { ...item.voice, ...ack.voice };
    } else {
      this.ui.error.textContent = (ack && ack.error && ack.error.message) || "The call could not be changed.";
      this.ui.error.hidden = false;
    }
    if (this.item === item) this.render(item);
  }
}
