// Sign-in page for the agent console / supervisor wallboard.
// Contract: POST /api/v1/session {email, password, code?} -> 200 {user: {..., role,
// must_change_password}, csrf_token} | 401 (code "totp_required": ask for the authenticator
// code and send it as `code`) | 429 {error}. An account with a temporary password then changes it here:
// POST /api/v1/session/password {current_password, new_password} -> 200 {user, csrf_token} | 400.

import { fetchSession, rememberCsrfToken, send } from "/console/static/common.js";

import {
  fillLanguageSelect,
  loadLanguage,
  preferredLanguage,
  rememberLanguage,
  t,
  tr,
  translatePage,
} from "/console/static/i18n.js";

const form = document.getElementById("login-form");
const emailInput = document.getElementById("email");
const passwordInput = document.getElementById("password");
const submitButton = document.getElementById("login-submit");
const errorText = document.getElementById("login-error");
const languageSelect = document.getElementById("language-select");

// Before sign-in the language is this browser's last choice or its own language; the
// console switches to the account's saved choice after sign-in.
await loadLanguage(preferredLanguage(null));
translatePage(document);
fillLanguageSelect(languageSelect);
languageSelect.addEventListener("change", async () => {
  await loadLanguage(languageSelect.value);
  rememberLanguage(languageSelect.value);
  translatePage(document);
});
const totpField = document.getElementById("totp-field");
const totpInput = document.getElementById("totp-code");
const infoText = document.getElementById("login-info");
const subtitle = document.getElementById("login-subtitle");
const passwordForm = document.getElementById("password-form");
const currentField = document.getElementById("current-password-field");
const currentInput = document.getElementById("current-password");
const newInput = document.getElementById("new-password");
const repeatInput = document.getElementById("new-password-repeat");
const passwordError = document.getElementById("password-error");
const passwordSubmit = document.getElementById("password-submit");
const passwordCancel = document.getElementById("password-cancel");

// Why the console sent the user here (?ended=...): catalogue texts, never text from the URL.
const ENDED = new Set(["ended", "idle", "signed_out", "disabled", "role_changed", "password_changed"]);

/** Only same-origin absolute paths are accepted as redirect targets. */
function safeNext() {
  const next = new URLSearchParams(window.location.search).get("next");
  if (typeof next !== "string" || next.length === 0) return null;
  if (!next.startsWith("/")) return null;
  // "//host" and "/\host" are protocol-relative in browsers: reject both.
  if (next.startsWith("//") || next.startsWith("/\\")) return null;
  return next;
}

function defaultTarget(role) {
  return role === "supervisor" || role === "admin" ? "/console/supervisor" : "/console";
}

function show(node, message) {
  node.textContent = message;
  node.hidden = false;
}

function hide(node) {
  node.textContent = "";
  node.hidden = true;
}

/** The error's message and code from a JSON error answer ({} when there is none). */
async function readProblem(response) {
  try {
    const data = await response.json();
    if (data && data.error && typeof data.error.message === "string" && data.error.message) {
      return { message: data.error.message, code: data.error.code };
    }
  } catch {
    // not JSON; fall through
  }
  return {};
}

async function readError(response) {
  return (await readProblem(response)).message || null;
}

let signedInRole = "agent";

/** Ask for a new password; `current` is the temporary one just typed, if known. */
function askForNewPassword(current) {
  form.hidden = true;
  hide(infoText);
  tr(subtitle, "password.subtitle");
  passwordForm.hidden = false;
  if (current) {
    currentInput.value = current;
    currentField.hidden = true;
    newInput.focus();
  } else {
    currentField.hidden = false;
    currentInput.focus();
  }
}

function proceed(role) {
  window.location.assign(safeNext() || defaultTarget(role));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  hide(errorText);
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  if (!email || !password) {
    show(errorText, t("login.empty"));
    (email ? passwordInput : emailInput).focus();
    return;
  }
  const credentials = { email, password };
  if (!totpField.hidden) {
    const code = totpInput.value.trim();
    if (!/^[0-9]{6}$/.test(code)) {
      show(errorText, "Enter the 6-digit code from your authenticator app.");
      totpInput.focus();
      return;
    }
    credentials.code = code;
  }
  submitButton.disabled = true;
  tr(submitButton, "login.signing_in");
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(credentials),
    });
    if (response.ok) {
      let user = null;
      try {
        const data = await response.json();
        user = data && data.user;
        rememberCsrfToken(data && data.csrf_token);
      } catch {
        // keep defaults
      }
      signedInRole = (user && user.role) || "agent";
      if (user && user.must_change_password) {
        askForNewPassword(password);
        return;
      }
      proceed(signedInRole);
      return;
    }
    const { message, code } = await readProblem(response);
    if (code === "totp_required") {
      // The password was right: now the code from the authenticator app.
      totpField.hidden = false;
      show(errorText, message);
      totpInput.focus();
      return;
    }
    if (response.status === 401) {
      show(errorText, t("login.wrong"));
      if (!totpField.hidden) {
        totpInput.select();
        totpInput.focus();
        return;
      }
    } else if (response.status === 429) {
      const retry = Number(response.headers.get("Retry-After"));
      show(errorText, Number.isFinite(retry) && retry > 0
        ? t("login.rate_limited_for", { count: Math.ceil(retry / 60) })
        : t("login.rate_limited"));
    } else {
      show(errorText, message || t("login.failed", { status: response.status }));
    }
    passwordInput.select();
    passwordInput.focus();
  } catch {
    show(errorText, t("login.offline"));
  } finally {
    submitButton.disabled = false;
    tr(submitButton, "login.submit");
  }
});

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  hide(passwordError);
  const current = currentInput.value;
  const fresh = newInput.value;
  if (!current) {
    currentField.hidden = false;
    show(passwordError, t("password.current_missing"));
    currentInput.focus();
    return;
  }
  if (fresh.length < 10) {
    show(passwordError, t("password.too_short", { count: 10 }));
    newInput.focus();
    return;
  }
  if (fresh !== repeatInput.value) {
    show(passwordError, t("password.mismatch"));
    repeatInput.select();
    repeatInput.focus();
    return;
  }
  passwordSubmit.disabled = true;
  try {
    const response = await send("/api/v1/session/password", {
      json: { current_password: current, new_password: fresh },
    });
    if (response.ok) {
      const data = await response.json().catch(() => null);
      proceed((data && data.user && data.user.role) || signedInRole);
      return;
    }
    const message = await readError(response);
    if (response.status === 401) {
      // The session ended meanwhile: start again.
      passwordForm.hidden = true;
      form.hidden = false;
      show(errorText, message || t("ended.ended"));
      return;
    }
    if (message && message.startsWith("current_password")) currentField.hidden = false;
    show(passwordError, message || t("password.failed", { status: response.status }));
    newInput.select();
    newInput.focus();
  } catch {
    show(passwordError, t("login.offline"));
  } finally {
    passwordSubmit.disabled = false;
  }
});

passwordCancel.addEventListener("click", async () => {
  try {
    await send("/api/v1/session", { method: "DELETE" });
  } catch {
    // back to the sign-in form anyway
  }
  window.location.assign("/login");
});

// Arriving here: say why a session ended, and resume a pending password change.
const ended = new URLSearchParams(window.location.search).get("ended");
if (ended && ENDED.has(ended)) {
  tr(infoText, `ended.${ended}`);
  infoText.hidden = false;
}
fetchSession().then(
  (session) => {
    if (session.status === 200 && session.user && session.user.must_change_password) {
      signedInRole = session.user.role || "agent";
      askForNewPassword(null);
    }
  },
  () => {},
);
