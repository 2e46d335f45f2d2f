// The knowledge base's management page (/console/kb, supervisors and admins): list and search
// articles (drafts too), write one with a live preview (the hub renders and sanitises the
// Markdown, POST /api/v1/kb/preview; shown in a sandboxed frame), save, publish or unpublish,
// and delete after a confirmation. Every title and tag is text (textContent); every change
// carries the CSRF token and a refusal is shown in the hub's own words.

import { $, el, fetchSession, goToLogin, send } from "/console/static/common.js";
import { loadLanguage, preferredLanguage, t, tr, translatePage } from "/console/static/i18n.js";

const PREVIEW_DELAY_MS = 400;
const PAGE = 25;

const me = await fetchSession().catch(() => null);
await loadLanguage(preferredLanguage((me && me.user && me.user.language) || null));
translatePage(document);

const ui = {
  searchForm: $("kbm-search-form"),
  query: $("kbm-query"),
  newButton: $("kbm-new"),
  status: $("kbm-status"),
  list: $("kbm-articles"),
  more: $("kbm-more"),
  heading: $("kbm-editor-title"),
  form: $("kbm-form"),
  title: $("kbm-title"),
  language: $("kbm-language"),
  tags: $("kbm-tags"),
  body: $("kbm-body"),
  published: $("kbm-published"),
  error: $("kbm-error"),
  save: $("kbm-save"),
  remove: $("kbm-delete"),
  confirmRemove: $("kbm-delete-confirm"),
  preview: $("kbm-preview"),
};

let editing = null; // the article being edited, or null for a new one
let cursor = null;
let previewTimer = null;

async function answer(response) {
  if (response.status === 401) {
    goToLogin(window.location.pathname);
    return null;
  }
  const data = response.status === 204 ? {} : await response.json().catch(() => null);
  if (!response.ok) {
    const reason = (data && data.error && data.error.message) || String(response.status);
    throw new Error(reason);
  }
  return data;
}

async function get(path) {
  return answer(await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }));
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

// ---------------------------------------------------------------------- the list

async function loadList({ more = false } = {}) {
  const params = new URLSearchParams({ q: ui.query.value.trim(), limit: String(PAGE) });
  if (more && cursor) params.set("cursor", cursor);
  let data;
  try {
    data = await get(`/api/v1/kb/articles?${params}`);
  } catch (error) {
    ui.status.textContent = t("kb.failed", { reason: error.message });
    return;
  }
  if (data === null) return;
  if (!more) ui.list.replaceChildren();
  for (const article of data.articles) ui.list.append(listItem(article));
  cursor = data.next_cursor;
  ui.more.hidden = !cursor;
  const count = ui.list.children.length;
  ui.status.textContent = count === 0 ? t("kb.none") : t("kb.found", { count });
}

function listItem(article) {
  const button = el("button", "kb-result");
  button.type = "button";
  button.dataset.articleId = String(article.article_id);
  const state = el("span", `kbm-state ${article.published ? "kbm-live" : "kbm-draft"}`);
  tr(state, article.published ? "kbm.state_published" : "kbm.state_draft");
  const facts = [article.language, ...article.tags].filter(Boolean).join(" · ");
  button.append(el("span", "kb-result-title", article.title), state, el("span", "kb-result-snippet", facts));
  button.addEventListener("click", () => edit(article.article_id));
  const item = el("li", "kb-result-item");
  item.append(button);
  return item;
}

ui.searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  loadList();
});
ui.more.addEventListener("click", () => loadList({ more: true }));

// ---------------------------------------------------------------------- the editor

function fill(article) {
  editing = article;
  tr(ui.heading, article ? "kbm.edit" : "kbm.new");
  ui.title.value = article ? article.title : "";
  ui.language.value = article ? article.language : "en";
  ui.tags.value = article ? article.tags.join(", ") : "";
  ui.body.value = article ? article.body_markdown : "";
  ui.published.checked = article ? article.published : false;
  ui.remove.hidden = !article;
  ui.confirmRemove.hidden = true;
  showError("");
  showPreview(article ? article.body_html : "");
}

async function edit(articleId) {
  try {
    const data = await get(`/api/v1/kb/articles/${encodeURIComponent(articleId)}`);
    if (data === null) return;
    fill(data.article);
    ui.title.focus();
  } catch (error) {
    showError(error.message);
  }
}

function fields() {
  return {
    title: ui.title.value,
    language: ui.language.value.trim() || "en",
    tags: ui.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean),
    body_markdown: ui.body.value,
    published: ui.published.checked,
  };
}

ui.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  ui.save.disabled = true;
  try {
    const path = editing ? `/api/v1/kb/articles/${editing.article_id}` : "/api/v1/kb/articles";
    const data = await answer(await send(path, { method: editing ? "PATCH" : "POST", json: fields() }));
    if (data === null) return;
    const created = !editing;
    fill(data.article);
    toast(t(created ? "kbm.created" : "kbm.saved", { title: data.article.title }));
    await loadList();
  } catch (error) {
    showError(t("kbm.not_saved", { reason: error.message }));
  } finally {
    ui.save.disabled = false;
  }
});

ui.newButton.addEventListener("click", () => {
  fill(null);
  ui.title.focus();
});

ui.remove.addEventListener("click", () => {
  ui.confirmRemove.hidden = false;
  ui.confirmRemove.focus();
});

ui.confirmRemove.addEventListener("click", async () => {
  if (!editing) return;
  try {
    const title = editing.title;
    if ((await answer(await send(`/api/v1/kb/articles/${editing.article_id}`, { method: "DELETE" }))) === null) return;
    fill(null);
    toast(t("kbm.deleted", { title }));
    await loadList();
  } catch (error) {
    showError(t("kbm.not_deleted", { reason: error.message }));
  }
});

// ---------------------------------------------------------------------- the preview

function showPreview(html) {
  const frame = document.createElement("iframe");
  frame.className = "kb-article-frame";
  frame.setAttribute("sandbox", ""); // no scripts, no links followed, opaque origin
  frame.title = t("kbm.preview");
  frame.srcdoc = html;
  ui.preview.replaceChildren(frame);
}

async function refreshPreview() {
  clearTimeout(previewTimer);
  if (!ui.body.value.trim()) {
    showPreview("");
    return;
  }
  try {
    const data = await answer(await send("/api/v1/kb/preview", { json: { body_markdown: ui.body.value } }));
    if (data !== null) showPreview(data.body_html);
  } catch (error) {
    showError(error.message);
  }
}

ui.body.addEventListener("input", () => {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(refreshPreview, PREVIEW_DELAY_MS);
});

function toast(text) {
  const node = el("div", "toast toast-info", text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
}

fill(null);
loadList();
