// Linking the selected conversation to another customer from the customer panel: search
// (GET /api/v1/customers?q=, by name, company, email, phone or any identity), pick one, and
// after a confirmation that says what happens, merge the customer shown into the one picked
// (POST /api/v1/customers/{picked}/merge {from_customer_id}). The picked customer survives
// with the shown one's identities, conversations, interactions and notes; an administrator
// can undo it. Results are customer text: always textContent.

import { el } from "/console/static/common.js";
import { t, tr } from "/console/static/i18n.js";
import { errorOf, sendChange } from "/console/static/customer_form.js";

const RESULTS = 20;

/** A customer's name as a result line shows it (their first identity when they gave none). */
function displayName(customer) {
  const first = Array.isArray(customer.identities) && customer.identities[0];
  return customer.name || (first && first.value) || t("customer.anonymous");
}

export class CustomerLink {
  /**
   * @param ui {section, form, query, search, status, results, confirm, confirmText, confirmYes, confirmNo, error}
   * @param hooks {onLinked(survivor, mergedId), onAuthLost()}
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.current = null; // {customer_id, name}: the customer the conversation belongs to now
    this.chosen = null;
    this.seq = 0;
    this.busy = false;
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    ui.confirmYes.addEventListener("click", () => this.link());
    ui.confirmNo.addEventListener("click", () => this.cancelConfirm());
    ui.confirm.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.cancelConfirm();
      }
    });
  }

  /** Offer the search for the customer of a conversation the agent works on; null hides it. */
  show(customer) {
    const other = !customer || !this.current || customer.customer_id !== this.current.customer_id;
    this.current = customer ? { customer_id: customer.customer_id, name: customer.name || "" } : null;
    this.ui.section.hidden = !customer;
    if (other) this.reset();
  }

  /** The customer shown was edited: the confirmation names them as they are now. */
  renamed(customer) {
    if (this.current && customer.customer_id === this.current.customer_id) this.current.name = customer.name || "";
  }

  reset() {
    this.seq += 1;
    this.chosen = null;
    this.ui.query.value = "";
    this.ui.results.replaceChildren();
    this.ui.confirm.hidden = true;
    this.setStatus("");
    this.hideError();
  }

  async search() {
    const q = this.ui.query.value.trim();
    if (!q || !this.current) return;
    const seq = ++this.seq;
    this.cancelConfirm({ restoreFocus: false });
    this.hideError();
    this.ui.results.replaceChildren();
    this.setStatus(t("link.searching"));
    const params = new URLSearchParams({ q, limit: String(RESULTS) });
    let response;
    try {
      response = await fetch(`/api/v1/customers?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      if (seq === this.seq) this.failed(t("link.search_failed", { reason: t("customer.network") }));
      return;
    }
    if (seq !== this.seq) return;
    if (response.status === 401) {
      this.hooks.onAuthLost();
      return;
    }
    if (!response.ok) {
      const reason = (await errorOf(response)) || t("customer.http", { status: response.status });
      if (seq === this.seq) this.failed(t("link.search_failed", { reason }));
      return;
    }
    const data = await response.json();
    if (seq !== this.seq || !this.current) return;
    const found = (data.customers || []).filter((c) => c.customer_id !== this.current.customer_id);
    this.setStatus(found.length === 0 ? t("link.none") : t("link.found", { count: found.length }));
    this.ui.results.replaceChildren(...found.map((c) => this.resultElement(c)));
  }

  resultElement(customer) {
    const li = el("li", "link-result");
    li.dataset.customerId = String(customer.customer_id);
    const who = el("div", "link-result-who");
    who.append(el("span", "link-result-name", displayName(customer)));
    if (customer.company) who.append(el("span", "link-result-company", customer.company));
    const idents = (customer.identities || []).map((i) => i.value).filter(Boolean);
    const details = el("div", "link-result-identities", idents.join(" · "));
    const button = tr(el("button", "btn btn-secondary link-result-button"), "link.link_to", { name: displayName(customer) });
    button.type = "button";
    button.addEventListener("click", () => this.askConfirm(customer, button));
    li.append(who, details, button);
    return li;
  }

  askConfirm(customer, button) {
    this.chosen = { customer, button };
    this.hideError();
    tr(this.ui.confirmText, "link.confirm", {
      current: this.current.name || t("customer.anonymous"),
      name: displayName(customer),
    });
    this.ui.confirm.hidden = false;
    this.ui.confirmYes.focus();
  }

  cancelConfirm({ restoreFocus = true } = {}) {
    const wasOpen = !this.ui.confirm.hidden;
    this.ui.confirm.hidden = true;
    const chosen = this.chosen;
    this.chosen = null;
    if (wasOpen && restoreFocus && chosen && chosen.button.isConnected) chosen.button.focus();
  }

  async link() {
    if (this.busy || !this.chosen || !this.current) return;
    const survivor = this.chosen.customer;
    const mergedId = this.current.customer_id;
    this.busy = true;
    this.ui.confirmYes.disabled = true;
    this.hideError();
    let data;
    try {
      data = await sendChange(
        `/api/v1/customers/${encodeURIComponent(survivor.customer_id)}/merge`,
        { json: { from_customer_id: mergedId } },
        {
          failed: (reason) => this.showError(t("link.failed", { reason })),
          onAuthLost: () => this.hooks.onAuthLost(),
        },
      );
    } finally {
      this.busy = false;
      this.ui.confirmYes.disabled = false;
    }
    if (!data) return;
    this.reset();
    this.hooks.onLinked(data.customer, mergedId);
  }

  failed(message) {
    this.setStatus("");
    this.showError(message);
  }

  setStatus(text) {
    this.ui.status.textContent = text;
    this.ui.status.hidden = !text;
  }

  showError(message) {
    this.ui.error.textContent = message;
    this.ui.error.hidden = false;
  }

  hideError() {
    this.ui.error.textContent = "";
    this.ui.error.hidden = true;
  }
}
