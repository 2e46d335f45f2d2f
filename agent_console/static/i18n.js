// Message catalogues for the console pages (agent console, sign-in, wallboard).
//
// API (everything a page needs):
//   await loadLanguage(code)   load /console/static/i18n/<code>.json ("en" when unknown or
//                              unavailable), set <html lang>; English fills any missing key.
//   t(key, params)             the string for key with {name} placeholders filled from params.
//                              A catalogue value may be plural forms {"one": ..., "other": ...},
//                              chosen by params.count with Intl.PluralRules (Chinese: "other").
//                              An unknown key returns the key itself, so a gap is visible.
//   has(key)                   whether the catalogue (or English) has the key.
//   translatePage(root)        fill every element under root carrying data-i18n (its text),
//                              data-i18n-placeholder, data-i18n-title or data-i18n-aria-label;
//                              data-i18n-params holds JSON params. Safe to call again after a
//                              switch: dynamic nodes made with tr() are re-translated too.
//   tr(node, key, params)      set node's text to t(key, params) and remember the key, so a
//                              later translatePage() switches it live.
//   preferredLanguage(saved)   saved (the user's choice on the server) or the last choice in
//                              this browser, else the browser's language, else "en".
//   rememberLanguage(code)     remember the choice in this browser only (before sign-in).
//   saveLanguage(code)         remember the choice here and, when signed in, on the server
//                              (PUT /api/v1/me/language); resolves to true when stored.
//   currentLanguage(), LANGUAGES ([{code, name}] in their own script).
//
// Values are always plain text: callers put them in textContent, never innerHTML, so a
// customer's name passed as a parameter stays text. Customer text is never translated.

import { send } from "/console/static/common.js";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "zh-CN", name: "中文" },
];

const STORAGE_KEY = "hub.language";
const FALLBACK = "en";
let current = FALLBACK;
let catalogue = {};
let english = {};

async function fetchCatalogue(code) {
  const response = await fetch(`/console/static/i18n/${encodeURIComponent(code)}.json`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`catalogue ${code}: HTTP ${response.status}`);
  return response.json();
}

function known(code) {
  return LANGUAGES.some((l) => l.code === code);
}

export async function loadLanguage(code) {
  const wanted = known(code) ? code : FALLBACK;
  try {
    if (Object.keys(english).length === 0) english = await fetchCatalogue(FALLBACK);
    catalogue = wanted === FALLBACK ? english : await fetchCatalogue(wanted);
    current = wanted;
  } catch {
    catalogue = english;
    current = FALLBACK;
  }
  document.documentElement.lang = current;
  return current;
}

export function currentLanguage() {
  return current;
}

export function has(key) {
  return Object.hasOwn(catalogue, key) || Object.hasOwn(english, key);
}

let plurals = null;
function pluralForm(count) {
  if (!plurals || plurals.resolvedOptions().locale.split("-")[0] !== current.split("-")[0]) {
    plurals = new Intl.PluralRules(current);
  }
  return plurals.select(count);
}

export function t(key, params = {}) {
  let value = Object.hasOwn(catalogue, key) ? catalogue[key] : english[key];
  if (value === undefined) return key;
  if (value !== null && typeof value === "object") {
    const count = Number(params.count);
    value = value[pluralForm(Number.isFinite(count) ? count : 0)] ?? value.other ?? key;
  }
  return String(value).replace(/\{([a-zA-Z0-9_.]+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) && params[name] !== null && params[name] !== undefined
      ? String(params[name])
      : whole,
  );
}

/** A server identifier (a channel, state or reason) as people read it: its catalogue entry
 * ``group.value`` if there is one, else the identifier with spaces for underscores. */
export function label(group, value) {
  const key = `${group}.${value}`;
  return has(key) ? t(key) : String(value ?? "").replace(/_/g, " ");
}

export function tr(node, key, params) {
  node.dataset.i18n = key;
  if (params && Object.keys(params).length > 0) node.dataset.i18nParams = JSON.stringify(params);
  else delete node.dataset.i18nParams;
  node.textContent = t(key, params || {});
  return node;
}

const ATTRIBUTES = [
  ["i18nPlaceholder", "placeholder"],
  ["i18nTitle", "title"],
  ["i18nAriaLabel", "aria-label"],
];

function paramsOf(node) {
  try {
    return node.dataset.i18nParams ? JSON.parse(node.dataset.i18nParams) : {};
  } catch {
    return {};
  }
}

export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n, paramsOf(node));
  }
  for (const [data, attribute] of ATTRIBUTES) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const node of root.querySelectorAll(selector)) {
      node.setAttribute(attribute, t(node.dataset[data], paramsOf(node)));
    }
  }
  if (root === document && document.body && document.body.dataset.i18nTitle) {
    document.title = t(document.body.dataset.i18nTitle);
  }
}

function remembered() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function preferredLanguage(saved) {
  if (known(saved)) return saved;
  const local = remembered();
  if (known(local)) return local;
  for (const lang of navigator.languages || [navigator.language]) {
    if (!lang) continue;
    if (known(lang)) return lang;
    if (lang.toLowerCase().startsWith("zh")) return "zh-CN";
    if (lang.toLowerCase().startsWith("en")) return "en";
  }
  return FALLBACK;
}

/** Fill a language picker with every language, the one in use chosen. */
export function fillLanguageSelect(select) {
  if (select.options.length !== LANGUAGES.length) {
    select.replaceChildren(...LANGUAGES.map((l) => {
      const option = new Option(l.name, l.code);
      option.lang = l.code;
      return option;
    }));
  }
  select.value = currentLanguage();
}

/** A staff page's picker: switch the page, redraw its live parts, keep the choice on the
 * account (``onNotSaved`` hears a message when the server did not take it). */
export function followLanguageSelect(select, redraw, onNotSaved) {
  fillLanguageSelect(select);
  select.addEventListener("change", async () => {
    await loadLanguage(select.value);
    translatePage(document);
    redraw();
    if (!(await saveLanguage(select.value))) onNotSaved(t("language.not_saved"));
  });
}

/** Remember the choice in this browser only (the sign-in page, before there is a user). */
export function rememberLanguage(code) {
  try {
    window.localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // private mode: the server keeps it
  }
}

export async function saveLanguage(code) {
  rememberLanguage(code);
  try {
    const response = await send("/api/v1/me/language", { method: "PUT", json: { language: code } });
    return response.ok;
  } catch {
    return false;
  }
}
