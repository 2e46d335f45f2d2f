// Follow-ups: an agent's reminder to contact a customer again at a set time.
//
// In the customer panel, CustomerFollowups schedules one on the customer shown
// (POST /api/v1/customers/{id}/followups {due_at, note, queue?, interaction_id?}, the
// interaction the panel was opened from when there is one) and lists theirs
// (GET /api/v1/customers/{id}/followups) with Cancel on the scheduled ones
// (DELETE /api/v1/followups/{id}). MyFollowups shows the agent's own upcoming ones
// (GET /api/v1/followups?state=scheduled) as a count and a list. When one is due the hub
// offers it like any contact, its note as the first (system) message. Notes and names are
// user text: always textContent.

import { el, parseTime } from "/console/static/common.js";
import { t, tr } from "/console/static/i18n.js";
import { sendChange } from "/console/static/customer_form.js";

const REFRESH_MS = 60000;

function when(iso) {
  const at = parseTime(iso);
  return Number.isNaN(at) ? "" : new Date(at).toLocaleString();
}

async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return { response, data: response.ok ? await response.json() : null };
}

/** One follow-up as a list line: when, the note, who owns it, and its state. */
function followupLine(f, { withCustomer = false } = {}) {
  const li = el("li", "followup");
  li.dataset.followupId = String(f.followup_id);
  li.dataset.state = f.state;
  const head = el("div", "followup-head");
  const due = el("time", "followup-due", when(f.due_at));
  due.dateTime = f.due_at || "";
  head.append(due);
  if (f.state !== "scheduled") head.append(tr(el("span", "followup-state"), `followup.state_${f.state}`));
  if (withCustomer) head.append(tr(el("span", "followup-customer"), "followup.customer", { id: f.customer_id }));
  li.append(head, el("p", "followup-note", f.note || ""));
  li.append(tr(el("p", "followup-owner"), "followup.owner", { name: f.owner_name || "" }));
  return li;
}

export class CustomerFollowups {
  /**
   * @param ui {section, form, due, note, queue, error, save, list, empty}
   * @param hooks {onChanged(), onAuthLost(), toast(message)}
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.customerId = null;
    this.interactionId = null;
    this.seq = 0;
    this.busy = false;
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.schedule();
    });
  }

  /** Offer the form and the list for this customer (null hides them); `interactionId`: the
   *  conversation the panel was opened from, which the follow-up continues. */
  show(customer, interactionId, queues) {
    const other = !customer || customer.customer_id !== this.customerId;
    this.customerId = customer ? customer.customer_id : null;
    this.interactionId = interactionId ?? null;
    this.ui.section.hidden = !customer;
    if (!customer) return;
    if (other) {
      this.ui.form.reset();
      this.hideError();
    }
    this.fillQueues(queues || []);
    this.load();
  }

  fillQueues(queues) {
    const chosen = this.ui.queue.value;
    const keep = tr(el("option"), "followup.queue_default");
    keep.value = "";
    this.ui.queue.replaceChildren(keep, ...queues.map((name) => {
      const option = el("option", "", name);
      option.value = name;
      return option;
    }));
    if (queues.includes(chosen)) this.ui.queue.value = chosen;
  }

  async load() {
    const customerId = this.customerId;
    if (customerId === null) return;
    const seq = ++this.seq;
    let got;
    try {
      got = await getJson(`/api/v1/customers/${encodeURIComponent(customerId)}/followups`);
    } catch {
      return; // the list stays as it was; the next load tries again
    }
    if (seq !== this.seq) return;
    if (got.response.status === 401) {
      this.hooks.onAuthLost();
      return;
    }
    if (!got.data) return;
    const items = got.data.followups || [];
    this.ui.list.replaceChildren(...items.map((f) => this.line(f)));
    this.ui.empty.hidden = items.length > 0;
  }

  line(f) {
    const li = followupLine(f);
    if (f.state === "scheduled") {
      const cancel = tr(el("button", "btn btn-ghost btn-small followup-cancel"), "followup.cancel");
      cancel.type = "button";
      cancel.addEventListener("click", () => this.cancel(f, cancel));
      li.append(cancel);
    }
    return li;
  }

  async schedule() {
    if (this.busy || this.customerId === null) return;
    this.hideError();
    const raw = this.ui.due.value;
    const at = raw ? new Date(raw) : null; // a datetime-local value is the agent's local time
    if (!at || Number.isNaN(at.getTime())) {
      this.showError(t("followup.due_missing"));
      this.ui.due.focus();
      return;
    }
    const note = this.ui.note.value.trim();
    if (!note) {
      this.showError(t("followup.note_missing"));
      this.ui.note.focus();
      return;
    }
    const json = { due_at: at.toISOString(), note };
    if (this.ui.queue.value) json.queue = this.ui.queue.value;
    if (this.interactionId !== null) json.interaction_id = this.interactionId;
    this.busy = true;
    this.ui.save.disabled = true;
    let data;
    try {
      data = await sendChange(
        `/api/v1/customers/${encodeURIComponent(this.customerId)}/followups`,
        { json },
        {
          failed: (reason) => this.showError(t("followup.not_scheduled", { reason })),
          onAuthLost: () => this.hooks.onAuthLost(),
        },
      );
    } finally {
      this.busy = false;
      this.ui.save.disabled = false;
    }
    if (!data) return;
    this.ui.form.reset();
    this.hooks.toast(t("followup.scheduled", { when: when(data.followup.due_at) }));
    this.load();
    this.hooks.onChanged();
  }

  async cancel(f, button) {
    button.disabled = true;
    let refused = false;
    const data = await sendChange(
      `/api/v1/followups/${encodeURIComponent(f.followup_id)}`,
      { method: "DELETE" },
      {
        failed: (reason) => {
          refused = true;
          button.disabled = false;
          this.showError(t("followup.not_cancelled", { reason }));
        },
        onAuthLost: () => this.hooks.onAuthLost(),
      },
    );
    if (refused) this.load(); // it may have opened or gone meanwhile
    if (!data) return;
    this.load();
    this.hooks.onChanged();
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

export class MyFollowups {
  /** @param ui {toggle, count, panel, list, empty}  @param hooks {onAuthLost()} */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.seq = 0;
    ui.toggle.addEventListener("click", () => {
      const open = ui.panel.hidden;
      ui.panel.hidden = !open;
      ui.toggle.setAttribute("aria-expanded", String(open));
      if (open) this.load();
    });
    setInterval(() => this.load(), REFRESH_MS);
  }

  /** The agent's scheduled follow-ups, soonest first. */
  async load() {
    const seq = ++this.seq;
    let got;
    try {
      got = await getJson("/api/v1/followups?state=scheduled&limit=200");
    } catch {
      return;
    }
    if (seq !== this.seq) return;
    if (got.response.status === 401) {
      this.hooks.onAuthLost();
      return;
    }
    if (!got.data) return;
    const items = [...(got.data.followups || [])].sort((a, b) => parseTime(a.due_at) - parseTime(b.due_at));
    this.ui.count.textContent = String(items.length);
    this.ui.count.hidden = items.length === 0;
    this.ui.list.replaceChildren(...items.map((f) => followupLine(f, { withCustomer: true })));
    this.ui.empty.hidden = items.length > 0;
  }
}
