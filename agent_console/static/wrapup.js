// Wrap-up in the agent console: the disposition picker and the wrap-up note shown while an
// interaction is in wrap-up, saved as the agent chooses (save_wrap_up) so that the wrap-up
// timer running out keeps them, and the outcome line on the customer's past interactions.
// Contract: work items carry wrap_up {dispositions, required, disposition, note}.

import { el } from "/console/static/common.js";
import { has, t, tr } from "/console/static/i18n.js";

/** A disposition code as agents read it: a catalogue label when there is one. */
export function dispositionLabel(code) {
  const key = `disposition.${code}`;
  return has(key) ? t(key) : String(code).replace(/_/g, " ");
}

/** "Outcome: resolved · note" for a past interaction, or null when it has none. */
export function outcomeElement(interaction) {
  if (!interaction || (!interaction.disposition && !interaction.wrap_up_note)) return null;
  const line = el("span", "history-line history-outcome");
  if (interaction.disposition) {
    line.append(tr(el("span", "history-outcome-label"), "wrapup.outcome"));
    line.append(el("span", "history-disposition", dispositionLabel(interaction.disposition)));
  }
  if (interaction.wrap_up_note) line.append(el("span", "history-wrap-up-note", interaction.wrap_up_note));
  return line;
}

export class WrapUpPanel {
  /**
   * @param ui {form, disposition, note, error, status}
   * @param request (event, data) => Promise<ack>
   */
  constructor(ui, request) {
    this.ui = ui;
    this.request = request;
    this.item = null;
    this.saving = Promise.resolve();
    ui.form.addEventListener("submit", (event) => event.preventDefault());
    ui.disposition.addEventListener("change", () => this.save());
    ui.note.addEventListener("change", () => this.save());
  }

  /** Show the panel for a work item in wrap-up; hide it otherwise. */
  render(item) {
    const show = Boolean(item && item.state === "wrap_up" && item.wrap_up);
    this.ui.form.hidden = !show;
    if (!show) {
      this.item = null;
      return;
    }
    const same = this.item && this.item.interaction_id === item.interaction_id;
    this.item = item;
    const { dispositions, required, disposition, note } = item.wrap_up;
    const select = this.ui.disposition;
    const chosen = same ? select.value : disposition || "";
    select.replaceChildren();
    const placeholder = tr(el("option"), required ? "wrapup.choose_required" : "wrapup.choose");
    placeholder.value = "";
    select.append(placeholder);
    for (const code of dispositions || []) {
      const option = el("option", "", dispositionLabel(code));
      option.value = code;
      select.append(option);
    }
    select.value = (dispositions || []).includes(chosen) ? chosen : "";
    select.required = Boolean(required);
    select.disabled = (dispositions || []).length === 0;
    if (!same) {
      this.ui.note.value = note || "";
      this.hideError();
    }
  }

  /** What "ready" sends with it. */
  values() {
    return { disposition: this.ui.disposition.value || null, note: this.ui.note.value };
  }

  async save() {
    const item = this.item;
    if (!item) return;
    this.hideError();
    const sent = { interaction_id: item.interaction_id, ...this.values() };
    this.saving = this.request("save_wrap_up", sent);
    const ack = await this.saving;
    if (ack && ack.ok && ack.wrap_up) {
      item.wrap_up = ack.wrap_up;
      if (this.item === item) tr(this.ui.status, "wrapup.saved");
    } else if (this.item === item) {
      this.showError(t("wrapup.not_saved", { reason: (ack && ack.error && ack.error.message) || "" }));
    }
  }

  /** Let a save in flight land before "ready" goes out. */
  async settled() {
    await this.saving;
  }

  /** Show a refusal: the server's words, or a catalogue key (then it follows a switch). */
  showError(message, key = null) {
    this.ui.status.textContent = "";
    delete this.ui.status.dataset.i18n;
    if (key) tr(this.ui.error, key);
    else {
      delete this.ui.error.dataset.i18n;
      this.ui.error.textContent = message;
    }
    this.ui.error.hidden = false;
    this.ui.disposition.setAttribute("aria-invalid", "true");
  }

  hideError() {
    delete this.ui.error.dataset.i18n;
    this.ui.error.textContent = "";
    this.ui.error.hidden = true;
    this.ui.status.textContent = "";
    delete this.ui.status.dataset.i18n;
    this.ui.disposition.removeAttribute("aria-invalid");
  }

  focus() {
    this.ui.disposition.focus();
  }
}
