// The knowledge base beside the composer: search published articles (GET /api/v1/kb/articles),
// read one (its sanitised HTML in a sandboxed frame: no scripts, opaque origin, as email
// HTML is shown) and insert its plain text into the reply being written. Alt+K opens the
// panel and puts the focus in its search box from anywhere, the composer included; Escape
// closes it and gives the focus back. Titles and snippets are text (textContent).

import { el } from "/console/static/common.js";
import { t } from "/console/static/i18n.js";

const SEARCH_DELAY_MS = 250;

/** Text inserted at the caret of `field` (replacing any selection), caret after it. */
export function insertAtCaret(field, text) {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  const before = field.value.slice(0, start);
  const after = field.value.slice(end);
  const gapBefore = before && !/\s$/.test(before) ? "\n\n" : "";
  const gapAfter = after && !/^\s/.test(after) ? "\n\n" : "";
  field.value = before + gapBefore + text + gapAfter + after;
  const caret = (before + gapBefore + text).length;
  field.setSelectionRange(caret, caret);
}

export class KnowledgePanel {
  /**
   * @param ui {panel, toggle, form, query, status, results, reader, title, body, insert, back}
   * @param hooks {target: () => textarea or null (the reply being written, when one may be),
   *   changed: (textarea) => void after an insertion, onAuthLost: () => void}
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.timer = null;
    this.article = null;
    this.returnFocus = null;
    this.asked = 0; // the latest search, so an older answer never overwrites a newer one
    ui.toggle.addEventListener("click", () => (ui.panel.hidden ? this.open() : this.close()));
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    ui.query.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
    });
    ui.insert.addEventListener("click", () => this.insert());
    ui.back.addEventListener("click", () => this.showResults());
    ui.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyK") {
        event.preventDefault();
        this.open();
      }
    });
  }

  open() {
    const active = document.activeElement;
    if (!(active instanceof Node && this.ui.panel.contains(active))) this.returnFocus = active;
    this.ui.panel.hidden = false;
    this.ui.toggle.setAttribute("aria-expanded", "true");
    this.showResults();
    this.ui.query.focus();
    this.ui.query.select();
  }

  close() {
    this.ui.panel.hidden = true;
    this.ui.toggle.setAttribute("aria-expanded", "false");
    const back = this.hooks.target() || this.returnFocus;
    if (back instanceof HTMLElement) back.focus();
  }

  async search() {
    clearTimeout(this.timer);
    const asked = ++this.asked;
    const params = new URLSearchParams({ q: this.ui.query.value.trim(), limit: "8" });
    const data = await this.fetchJson(`/api/v1/kb/articles?${params}`);
    if (asked !== this.asked || data === null) return;
    this.renderResults(data.articles || []);
  }

  async fetchJson(path) {
    let response;
    try {
      response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch {
      this.say(t("kb.offline"));
      return null;
    }
    if (response.status === 401) {
      this.hooks.onAuthLost();
      return null;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      this.say(t("kb.failed", { reason: (data && data.error && data.error.message) || response.status }));
      return null;
    }
    return data;
  }

  say(text) {
    this.ui.status.textContent = text;
    this.ui.status.hidden = !text;
  }

  renderResults(articles) {
    const { results } = this.ui;
    results.replaceChildren();
    this.say(articles.length === 0 ? t("kb.none") : t("kb.found", { count: articles.length }));
    for (const article of articles) {
      const button = el("button", "kb-result");
      button.type = "button";
      button.append(el("span", "kb-result-title", article.title), el("span", "kb-result-snippet", article.snippet));
      button.addEventListener("click", () => this.read(article.article_id));
      const item = el("li", "kb-result-item");
      item.append(button);
      results.append(item);
    }
  }

  async read(articleId) {
    const data = await this.fetchJson(`/api/v1/kb/articles/${encodeURIComponent(articleId)}`);
    if (data === null) return;
    this.article = data.article;
    const { reader, title, body, insert } = this.ui;
    title.textContent = this.article.title;
    const frame = document.createElement("iframe");
    frame.className = "kb-article-frame";
    frame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox"); // links open in a tab; no scripts
    frame.title = this.article.title;
    frame.srcdoc = this.article.body_html;
    body.replaceChildren(frame);
    insert.disabled = !this.hooks.target();
    insert.title = insert.disabled ? t("kb.insert_unavailable") : "";
    this.ui.results.hidden = true;
    reader.hidden = false;
    (insert.disabled ? this.ui.back : insert).focus();
  }

  showResults() {
    this.ui.reader.hidden = true;
    this.ui.results.hidden = false;
    this.article = null;
  }

  insert() {
    const field = this.hooks.target();
    if (!field || !this.article) return;
    insertAtCaret(field, this.article.body_text);
    this.ui.panel.hidden = true;
    this.ui.toggle.setAttribute("aria-expanded", "false");
    field.focus();
    this.hooks.changed(field);
  }
}
