// Canned responses in the composer: typing "/" (at the start or after a space) opens a list
// of the configured answers, filtered as the agent types ("/ref" finds /refund); arrows move,
// Enter or Tab inserts, Escape closes. The inserted text has {customer.name}, {agent.name}
// and {agent.first_name} filled; any other {placeholder} (or one with no value) stays as
// written so the agent sees it. Everything is inserted as text into the textarea.
// Contract: hello.canned_responses = [{shortcut, title, text, channels: [], language}].

import { el } from "/console/static/common.js";
import { currentLanguage, t, tr } from "/console/static/i18n.js";

const TRIGGER = /(^|\s)\/([a-z0-9_-]*)$/;
const MAX_SHOWN = 8;

/** Fill the known placeholders from values; leave unknown or empty ones visible. */
export function fillPlaceholders(text, values) {
  return String(text).replace(/\{([a-z_]+(?:\.[a-z_]+)?)\}/g, (whole, name) => {
    const value = values[name];
    return typeof value === "string" && value.trim() !== "" ? value : whole;
  });
}

/** The responses for a channel and language: a language's own version before the general. */
export function responsesFor(all, channel, language) {
  const usable = (all || []).filter(
    (r) =>
      r && typeof r.shortcut === "string" && typeof r.text === "string" &&
      (!Array.isArray(r.channels) || r.channels.length === 0 || r.channels.includes(channel)) &&
      (!r.language || r.language === language),
  );
  const chosen = new Map();
  for (const r of usable) {
    const previous = chosen.get(r.shortcut);
    if (!previous || (!previous.language && r.language)) chosen.set(r.shortcut, r);
  }
  return [...chosen.values()];
}

export class CannedPicker {
  /**
   * @param ui {composer, list}: the textarea and an empty <ul> placed above it
   * @param context () => ({channel, customer, agent}) for the selected work item
   * @param changed () => void, called after an insertion (drafts, typing, counters)
   * @param ownKeys listen to the textarea's keys itself; false when the page's own keydown
   *   handler calls handleKey first (the chat composer, where Enter also sends)
   */
  constructor(ui, context, changed, { ownKeys = false } = {}) {
    this.ui = ui;
    this.context = context;
    this.changed = changed;
    this.responses = [];
    this.matches = [];
    this.active = 0;
    this.token = null; // {start, end} of "/query" in the composer
    ui.list.id = ui.list.id || "canned-list";
    ui.list.setAttribute("role", "listbox");
    ui.list.hidden = true;
    ui.composer.setAttribute("aria-controls", ui.list.id);
    ui.composer.setAttribute("aria-autocomplete", "list");
    ui.composer.addEventListener("input", () => this.update());
    ui.composer.addEventListener("click", () => this.update());
    // Closed when the keyboard went elsewhere, not when the focus only passed by (a redraw
    // that moved it and gave it back): the agent's next Enter still picks from the list.
    ui.composer.addEventListener("blur", () =>
      setTimeout(() => {
        if (document.activeElement !== ui.composer) this.close();
      }, 150));
    if (ownKeys) ui.composer.addEventListener("keydown", (event) => this.handleKey(event));
  }

  setResponses(responses) {
    this.responses = Array.isArray(responses) ? responses : [];
  }

  isOpen() {
    return !this.ui.list.hidden;
  }

  update() {
    const { composer } = this.ui;
    const caret = composer.selectionStart;
    const before = composer.value.slice(0, caret);
    const found = TRIGGER.exec(before);
    const ctx = this.context();
    if (!found || !ctx || composer.disabled) {
      this.close();
      return;
    }
    const query = found[2];
    this.token = { start: caret - query.length - 1, end: caret };
    const available = responsesFor(this.responses, ctx.channel, currentLanguage());
    const starts = available.filter((r) => r.shortcut.startsWith(query));
    const contains = available.filter(
      (r) => !r.shortcut.startsWith(query) &&
        (r.shortcut.includes(query) || String(r.title || "").toLowerCase().includes(query)),
    );
    this.matches = [...starts, ...contains].slice(0, MAX_SHOWN);
    this.active = 0;
    this.render();
  }

  render() {
    const { list, composer } = this.ui;
    list.replaceChildren();
    if (this.matches.length === 0) {
      list.append(tr(el("li", "canned-empty"), "canned.none"));
    }
    this.matches.forEach((r, index) => {
      const option = el("li", "canned-option");
      option.id = `canned-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === this.active));
      option.append(
        el("span", "canned-shortcut", `/${r.shortcut}`),
        el("span", "canned-title", r.title || ""),
        el("span", "canned-preview", r.text),
      );
      // mousedown, not click: the composer must keep the focus.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.insert(r);
      });
      list.append(option);
    });
    list.hidden = false;
    list.setAttribute("aria-label", t("canned.label"));
    composer.setAttribute("aria-expanded", "true");
    if (this.matches.length > 0) composer.setAttribute("aria-activedescendant", `canned-option-${this.active}`);
    else composer.removeAttribute("aria-activedescendant");
  }

  close() {
    this.ui.list.hidden = true;
    this.ui.list.replaceChildren();
    this.matches = [];
    this.token = null;
    this.ui.composer.setAttribute("aria-expanded", "false");
    this.ui.composer.removeAttribute("aria-activedescendant");
  }

  /** The composer's keydown hook: true when the picker used the key. */
  handleKey(event) {
    if (!this.isOpen() || event.isComposing) return false;
    const count = this.matches.length;
    if (event.key === "Escape") {
      this.close();
    } else if (event.key === "ArrowDown" && count > 0) {
      this.active = (this.active + 1) % count;
      this.render();
    } else if (event.key === "ArrowUp" && count > 0) {
      this.active = (this.active - 1 + count) % count;
      this.render();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && count > 0) {
      this.insert(this.matches[this.active]);
    } else {
      return false;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    return true;
  }

  insert(response) {
    const ctx = this.context();
    if (!ctx || !this.token) return;
    const agentName = (ctx.agent && ctx.agent.name) || "";
    const text = fillPlaceholders(response.text, {
      "customer.name": (ctx.customer && ctx.customer.name) || "",
      "agent.name": agentName,
      "agent.first_name": agentName.trim().split(/\s+/)[0] || "",
    });
    const { composer } = this.ui;
    const { start, end } = this.token;
    composer.value = composer.value.slice(0, start) + text + composer.value.slice(end);
    const caret = start + text.length;
    composer.setSelectionRange(caret, caret);
    this.close();
    composer.focus();
    this.changed();
  }
}
