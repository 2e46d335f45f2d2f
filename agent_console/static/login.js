// Login page for the agent console / supervisor wallboard.
// Contract: POST /api/v1/session {email, password} -> 200 {user: {..., role}} | 401 {error}.

const form = document.getElementById("login-form");
const emailInput = document.getElementById("email");
const passwordInput = document.getElementById("password");
const submitButton = document.getElementById("login-submit");
const errorText = document.getElementById("login-error");

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

function showError(message) {
  errorText.textContent = message;
  errorText.hidden = false;
}

function clearError() {
  errorText.textContent = "";
  errorText.hidden = true;
}

async function readError(response) {
  try {
    const data = await response.json();
    if (data && data.error && typeof data.error.message === "string" && data.error.message) {
      return data.error.message;
    }
  } catch {
    // not JSON; fall through
  }
  return null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  if (!email || !password) {
    showError("Please enter your email and password.");
    (email ? passwordInput : emailInput).focus();
    return;
  }
  submitButton.disabled = true;
  submitButton.textContent = "Signing in…";
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (response.ok) {
      let role = "agent";
      try {
        const data = await response.json();
        if (data && data.user && data.user.role) role = data.user.role;
      } catch {
        // keep default role
      }
      window.location.assign(safeNext() || defaultTarget(role));
      return;
    }
    const message = await readError(response);
    if (response.status === 401) {
      showError(message || "Incorrect email or password.");
    } else if (response.status === 429) {
      showError(message || "Too many attempts. Please wait a moment and try again.");
    } else {
      showError(message || `Sign-in failed (HTTP ${response.status}).`);
    }
    passwordInput.select();
    passwordInput.focus();
  } catch {
    showError("Cannot reach the server. Check your connection and try again.");
  } finally {
    submitButton.disabled = false;
    submitButton.textContent = "Sign in";
  }
});
