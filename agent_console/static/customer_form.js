// The customer panel's edit form: name, company, tier, language, tags and the custom fields
// declared in config (the record's custom_fields: text, number, date or choice) of the
// customer shown, saved with PATCH /api/v1/customers/{id} (only the fields that changed; an
// emptied custom field is cleared with null). The hub
// answers a refusal with {"error": {"code", "message"}} naming the field; it is shown inline.
// Values are put in inputs and read back as text: nothing here is parsed as HTML.

import { el, send } from "/console/static/common.js";
import { t, tr } from "/console/static/i18n.js";

export const TIERS = ["important", "normal", "potential"];

/** "vip, late payer,,vip" -> ["vip", "late payer"]: trimmed, no empties, each once. */
export function parseTags(text) {
  const tags = [];
  for (const part of String(text || "").split(/[,，]/)) {
    const tag = part.trim();
    if (tag && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** The message of a hub JSON error, or null. */
export async function errorOf(response) {
  try {
    const data = await response.json();
    return (data && data.error && (data.error.message || data.error.code)) || null;
  } catch {
    return null;
  }
}

/**
 * Send a change from a panel: the hub's JSON answer, or null once the failure is dealt with
 * (``failed(reason)`` hears the network's or the hub's reason; ``onAuthLost`` a signed-out
 * session).
 */
export async function sendChange(path, init, { failed, onAuthLost }) {
  let response;
  try {
    response = await send(path, init);
  } catch {
    failed(t("customer.network"));
    return null;
  }
  if (response.status === 401) {
    onAuthLost();
    return null;
  }
  if (!response.ok) {
    failed((await errorOf(response)) || t("customer.http", { status: response.status }));
    return null;
  }
  return response.status === 204 ? {} : response.json();
}

/** A declared field's name as a label: "contract_end" -> "contract end" (config text). */
export function fieldLabel(name) {
  return String(name).replace(/_/g, " ");
}

/** The input for a declared custom field, holding ``value``. */
function customInput(field, id, value) {
  let input;
  if (field.type === "choice") {
    input = el("select");
    const none = tr(el("option"), "customer.custom_none");
    none.value = "";
    input.append(none);
    for (const choice of field.choices || []) {
      const option = el("option", "", choice);
      option.value = choice;
      input.append(option);
    }
  } else {
    input = el("input");
    input.type = field.type === "number" ? "number" : field.type === "date" ? "date" : "text";
    if (field.type === "number") input.step = "any";
    if (field.type === "text") input.maxLength = 2000;
    input.autocomplete = "off";
  }
  input.id = id;
  input.dataset.field = field.name;
  input.dataset.type = field.type;
  input.value = value === undefined || value === null ? "" : String(value);
  return input;
}

/** What a custom input holds, as the API takes it: null when empty. */
function customValue(input) {
  const raw = input.value.trim();
  if (raw === "") return null;
  if (input.dataset.type === "number") {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw; // the hub names the field if it is not a number
  }
  return raw;
}

export class CustomerForm {
  /** The form in a page that uses the standard ids (``customer-edit``, ``customer-form-*``). */
  static onPage(hooks) {
    const $ = (id) => document.getElementById(id);
    return new CustomerForm(
      {
        toggle: $("customer-edit"),
        form: $("customer-form"),
        name: $("customer-form-name"),
        company: $("customer-form-company"),
        tier: $("customer-form-tier"),
        language: $("customer-form-language"),
        tags: $("customer-form-tags"),
        custom: $("customer-form-custom"),
        error: $("customer-form-error"),
        save: $("customer-form-save"),
        cancel: $("customer-form-cancel"),
      },
      hooks,
    );
  }

  /**
   * @param ui {toggle, form, name, company, tier, language, tags, custom, error, save, cancel}
   * @param hooks {onSaved(profile), onAuthLost()}
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.customer = null;
    this.saving = false;
    ui.toggle.addEventListener("click", () => (ui.form.hidden ? this.open() : this.close()));
    ui.cancel.addEventListener("click", () => this.close());
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    ui.form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    });
  }

  /** The customer the panel shows (the record from GET /api/v1/customers/{id}), or null. */
  show(customer) {
    const other = !customer || !this.customer || customer.customer_id !== this.customer.customer_id;
    this.customer = customer;
    this.ui.toggle.hidden = !customer;
    if (other) this.close({ restoreFocus: false });
  }

  open() {
    const c = this.customer;
    if (!c) return;
    const { ui } = this;
    ui.name.value = c.name || "";
    ui.company.value = c.company || "";
    ui.tier.value = TIERS.includes(c.tier) ? c.tier : "normal";
    ui.language.value = c.language || "";
    ui.tags.value = (Array.isArray(c.tags) ? c.tags : []).join(", ");
    const custom = c.custom || {};
    ui.custom.replaceChildren();
    (c.custom_fields || []).forEach((field, n) => {
      const id = `customer-form-custom-${n}`;
      const labelNode = el("label", "", fieldLabel(field.name));
      labelNode.htmlFor = id;
      ui.custom.append(labelNode, customInput(field, id, custom[field.name]));
    });
    ui.custom.hidden = ui.custom.childElementCount === 0;
    this.hideError();
    ui.form.hidden = false;
    ui.toggle.setAttribute("aria-expanded", "true");
    ui.name.focus();
  }

  close({ restoreFocus = true } = {}) {
    const { ui } = this;
    const wasOpen = !ui.form.hidden;
    ui.form.hidden = true;
    ui.toggle.setAttribute("aria-expanded", "false");
    this.hideError();
    if (wasOpen && restoreFocus && !ui.toggle.hidden) ui.toggle.focus();
  }

  /** The fields the agent changed, as the PATCH body. */
  changes() {
    const c = this.customer;
    const { ui } = this;
    const body = {};
    const name = ui.name.value.trim();
    if (name !== (c.name || "")) body.name = name;
    const company = ui.company.value.trim();
    if (company !== (c.company || "")) body.company = company;
    if (ui.tier.value !== c.tier) body.tier = ui.tier.value;
    const language = ui.language.value.trim() || null;
    if (language !== (c.language || null)) body.language = language;
    const tags = parseTags(ui.tags.value);
    if (JSON.stringify(tags) !== JSON.stringify(c.tags || [])) body.tags = tags;
    const custom = {};
    for (const input of ui.custom.querySelectorAll("[data-field]")) {
      const name = input.dataset.field;
      const value = customValue(input);
      const current = c.custom && c.custom[name] !== undefined ? c.custom[name] : null;
      if (value !== current) custom[name] = value;
    }
    if (Object.keys(custom).length > 0) body.custom = custom;
    return body;
  }

  async save() {
    if (this.saving || !this.customer) return;
    const body = this.changes();
    if (Object.keys(body).length === 0) {
      this.close();
      return;
    }
    const customerId = this.customer.customer_id;
    this.saving = true;
    this.ui.save.disabled = true;
    this.hideError();
    let data;
    try {
      data = await sendChange(
        `/api/v1/customers/${encodeURIComponent(customerId)}`,
        { method: "PATCH", json: body },
        {
          failed: (reason) => this.showError(t("customer.not_saved", { reason })),
          onAuthLost: () => this.hooks.onAuthLost(),
        },
      );
    } finally {
      this.saving = false;
      this.ui.save.disabled = false;
    }
    if (!data) return;
    if (!this.customer || this.customer.customer_id !== customerId) return;
    this.customer = { ...this.customer, ...data.customer };
    this.close();
    this.hooks.onSaved(data.customer);
  }

  showError(message) {
    this.ui.error.textContent = message;
    this.ui.error.hidden = false;
    this.ui.name.setAttribute("aria-describedby", this.ui.error.id);
  }

  hideError() {
    this.ui.error.textContent = "";
    this.ui.error.hidden = true;
    this.ui.name.removeAttribute("aria-describedby");
  }
}

/** A tier's label for the panel and offers ("important" -> the catalogue's word). */
export function tierLabel(node, tier) {
  if (TIERS.includes(tier)) return tr(node, `tier.${tier}`);
  delete node.dataset.i18n;
  node.textContent = tier || "";
  return node;
}
