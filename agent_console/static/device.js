// The browser phone and click-to-call in the agent console.
// Contract: GET/PUT /api/v1/voice/device ({device: "phone"|"browser", phone, browser_available,
// browser_problem}), GET /api/v1/voice/token ({token, identity, ttl_s}) and
// POST /api/v1/customers/{id}/call ({number}) whose 201 answer is {work: <work item>}.
// With the browser chosen, the Twilio Voice JS SDK (vendored, a classic script: no inline code)
// registers a Twilio.Device; the hub rings it for the agent's leg of a call, and the console
// shows an Answer button. The token is renewed before it expires (tokenWillExpire).

import { el, send } from "/console/static/common.js";
import { t, tr } from "/console/static/i18n.js";

const SDK_URL = "/static/vendor/twilio.min.js";
// After the agent clicks Call, the hub rings them first: that call is answered at once.
const CLICK_TO_CALL_ANSWER_MS = 60000;

async function fetchJson(url, options = {}) {
  let response;
  try {
    const method = options.method || "GET";
    response = method === "GET"
      ? await fetch(url, { credentials: "same-origin", cache: options.cache, headers: { Accept: "application/json" } })
      : await send(url, { method, body: options.body, headers: options.body ? { "Content-Type": "application/json" } : {} });
  } catch {
    return { ok: false, status: 0, data: { error: { message: t("device.network_error") } } };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

function errorText(result, fallback) {
  return (result.data && result.data.error && result.data.error.message) || fallback;
}

let sdkLoading = null;

/** Load the vendored SDK once (a same-origin script element: allowed by script-src 'self'). */
function loadSdk() {
  if (window.Twilio && window.Twilio.Device) return Promise.resolve(window.Twilio);
  if (sdkLoading) return sdkLoading;
  sdkLoading = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SDK_URL;
    script.async = true;
    script.onload = () => (window.Twilio && window.Twilio.Device ? resolve(window.Twilio) : reject(new Error("no Twilio.Device")));
    script.onerror = () => reject(new Error(t("device.sdk_not_loaded")));
    document.head.append(script);
  }).catch((error) => {
    sdkLoading = null;
    throw error;
  });
  return sdkLoading;
}

export class BrowserPhone {
  /** ui: {picker, status, incoming, incomingText, answer, reject}; onAuthLost(). */
  constructor(ui, { onAuthLost }) {
    this.ui = ui;
    this.onAuthLost = onAuthLost;
    this.device = null;
    this.call = null;
    this.choice = null;
    this.answerUntil = 0;
    ui.picker.addEventListener("change", () => this.choose(ui.picker.value));
    ui.answer.addEventListener("click", () => this.answer());
    ui.reject.addEventListener("click", () => this.reject());
  }

  /** Whether this hub has phone calls for this agent (the chooser is shown). */
  callsEnabled() {
    return this.choice !== null;
  }

  setStatus(text, kind = "info") {
    this.ui.status.textContent = text;
    this.ui.status.dataset.kind = kind;
    this.ui.status.hidden = text === "";
  }

  /** Read the agent's device from the hub; hide the chooser when calls are not set up. */
  async start() {
    const result = await fetchJson("/api/v1/voice/device");
    if (result.status === 401) {
      this.onAuthLost();
      return;
    }
    if (!result.ok || !result.data || !result.data.calls) {
      this.ui.container.hidden = true; // no phone on this hub, or a role that takes no calls
      return;
    }
    this.ui.container.hidden = false;
    await this.apply(result.data);
  }

  async apply(info) {
    this.choice = info;
    const browserOption = this.ui.picker.querySelector('option[value="browser"]');
    browserOption.disabled = !info.browser_available;
    browserOption.title = info.browser_problem || "";
    this.ui.picker.value = info.device;
    if (info.device === "browser") {
      await this.register();
    } else {
      this.unregister();
      this.setStatus(info.phone ? "" : t("device.no_phone"), info.phone ? "info" : "warning");
    }
  }

  async choose(device) {
    this.ui.picker.disabled = true;
    const result = await fetchJson("/api/v1/voice/device", { method: "PUT", body: JSON.stringify({ device }) });
    this.ui.picker.disabled = false;
    if (result.status === 401) {
      this.onAuthLost();
      return;
    }
    if (!result.ok) {
      this.setStatus(errorText(result, t("device.not_changed")), "error");
      if (this.choice) this.ui.picker.value = this.choice.device;
      return;
    }
    await this.apply(result.data);
  }

  async token() {
    const result = await fetchJson("/api/v1/voice/token", { cache: "no-store" });
    if (result.status === 401) this.onAuthLost();
    if (!result.ok || !result.data || typeof result.data.token !== "string") {
      throw new Error(errorText(result, t("device.no_token")));
    }
    return result.data.token;
  }

  async register() {
    if (this.device) return;
    this.setStatus(t("device.connecting"));
    try {
      const Twilio = await loadSdk();
      const device = new Twilio.Device(await this.token(), { closeProtection: true });
      this.device = device;
      device.on("registered", () => this.setStatus(t("device.ready"), "ok"));
      device.on("unregistered", () => { if (this.device === device) this.setStatus(t("device.offline"), "warning"); });
      device.on("error", (error) => this.setStatus(t("device.error", { reason: (error && error.message) || "?" }), "error"));
      device.on("tokenWillExpire", () => this.renew(device));
      device.on("incoming", (call) => this.incoming(call));
      await device.register();
    } catch (error) {
      this.unregister();
      this.setStatus(t("device.unavailable", { reason: error.message }), "error");
    }
  }

  async renew(device) {
    try {
      device.updateToken(await this.token());
    } catch (error) {
      this.setStatus(t("device.error", { reason: error.message }), "error");
    }
  }

  unregister() {
    if (this.device) {
      const device = this.device;
      this.device = null;
      device.destroy();
    }
    this.clearIncoming();
  }

  /** The click-to-call the agent just placed rings their browser first: answer it at once. */
  expectCall() {
    this.answerUntil = Date.now() + CLICK_TO_CALL_ANSWER_MS;
  }

  incoming(call) {
    this.call = call;
    const done = () => { if (this.call === call) this.clearIncoming(); };
    call.on("cancel", done);
    call.on("disconnect", done);
    call.on("reject", done);
    if (Date.now() < this.answerUntil) {
      this.answerUntil = 0;
      this.answer();
      return;
    }
    const from = (call.parameters && call.parameters.From) || "";
    if (from) tr(this.ui.incomingText, "device.incoming_from", { from });
    else tr(this.ui.incomingText, "device.incoming");
    this.ui.incoming.hidden = false;
    this.ui.answer.focus();
  }

  answer() {
    if (!this.call) return;
    this.call.accept();
    this.ui.incoming.hidden = true;
  }

  reject() {
    if (!this.call) return;
    this.call.reject();
    this.clearIncoming();
  }

  clearIncoming() {
    this.call = null;
    this.ui.incoming.hidden = true;
  }
}

/** A "Call" button for a customer's phone number; onPlaced(work item) when the hub took it. */
export function callButton(customerId, number, { phone, onPlaced, onError }) {
  const button = tr(el("button", "btn btn-secondary identity-call"), "device.call");
  button.type = "button";
  button.dataset.i18nAriaLabel = "device.call_number";
  button.dataset.i18nParams = JSON.stringify({ number });
  button.setAttribute("aria-label", t("device.call_number", { number }));
  button.addEventListener("click", async () => {
    button.disabled = true;
    phone.expectCall();
    const result = await fetchJson(`/api/v1/customers/${encodeURIComponent(customerId)}/call`, {
      method: "POST",
      body: JSON.stringify({ number }),
    });
    button.disabled = false;
    if (result.ok && result.data && result.data.work) {
      onPlaced(result.data.work);
    } else {
      phone.answerUntil = 0;
      onError(errorText(result, t("device.not_placed")));
    }
  });
  return button;
}
