"""The admin's audit page ``/console/admin/audit``: the trail as a plain HTML table.

Rendered on the server with every value escaped (names, addresses and details are other
people's text), with filters as an ordinary GET form and no script at all, so it works under
the strict Content-Security-Policy and without JavaScript.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from hub.audit import AuditEntry, next_cursor, query_from
from hub.audit_api import PAGE_LIMIT, audit_page
from hub.auth import ADMINS
from hub.errors import InvalidInput
from hub.web import page

FILTERS = (
    ("since", "Since (UTC)", "2026-01-31T09:00"),
    ("until", "Until (UTC)", "2026-01-31T18:00"),
    ("actor", "Actor (id, name or e-mail)", "alice@example.com"),
    ("action", "Action (or family)", "signin"),
)


def _row(entry: AuditEntry) -> str:
    a = entry.actor
    who = a.name if a.actor_id is None else f"{a.name} (#{a.actor_id})"
    target = "" if entry.target_kind is None else f"{entry.target_kind} {entry.target_id}"
    details = json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True)
    cells = (
        entry.at.strftime("%Y-%m-%d %H:%M:%S"),
        a.kind.value,
        who,
        a.address or "",
        entry.action,
        target,
        "" if details == "{}" else details,
    )
    return "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"


def render(
    entries: list[AuditEntry],
    params: Mapping[str, str],
    *,
    cursor: str | None,
    error: str | None = None,
) -> str:
    """The whole page: the filter form, the entries newest first, links to the next page and
    to the CSV export of the same filters."""
    kept = {name: params.get(name, "") for name, _, _ in FILTERS if params.get(name)}
    fields = "".join(
        f'<div class="field"><label for="f-{name}">{escape(label)}</label>'
        f'<input id="f-{name}" name="{name}" value="{escape(params.get(name, ""))}" '
        f'placeholder="{escape(example)}"></div>'
        for name, label, example in FILTERS
    )
    rows = "".join(_row(e) for e in entries)
    older = (
        f'<a class="btn btn-secondary" href="?{escape(urlencode({**kept, "cursor": cursor}))}">'
        "Older entries</a>"
        if cursor
        else ""
    )
    csv_link = "/api/v1/admin/audit.csv" + (f"?{urlencode(kept)}" if kept else "")
    problem = f'<p class="form-error" role="alert">{escape(error)}</p>' if error else ""
    empty = "" if entries else '<p class="empty-hint">No entries match.</p>'
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Audit trail · contact-hub</title>
  <link rel="stylesheet" href="/console/static/console.css">
</head>
<body class="page-audit">
  <header class="topbar">
    <div class="topbar-brand">contact-hub <span class="topbar-sub">Audit trail</span></div>
    <div class="topbar-right">
      <a class="btn btn-ghost" href="/console/supervisor">Wallboard</a>
      <a class="btn btn-ghost" href="/console">Agent console</a>
    </div>
  </header>
  <main class="audit">
    <form class="audit-filters" method="get" action="/console/admin/audit">
      {fields}
      <button class="btn btn-primary" type="submit">Filter</button>
      <a class="btn btn-ghost" href="/console/admin/audit">Clear</a>
      <a class="btn btn-secondary" href="{escape(csv_link)}">Download CSV</a>
    </form>
    {problem}
    <table class="data-table audit-table">
      <caption>Newest first. Entries cannot be changed or deleted.</caption>
      <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Kind</th>
        <th scope="col">Actor</th><th scope="col">Address</th><th scope="col">Action</th>
        <th scope="col">Target</th><th scope="col">Details</th></tr></thead>
      <tbody>{rows}</tbody>
    </table>
    {empty}
    {older}
  </main>
</body>
</html>
"""


@page(ADMINS)
async def audit_trail_page(request: web.Request) -> web.Response:
    try:
        query = query_from(request.query, limit=PAGE_LIMIT)
    except InvalidInput as exc:
        html = render([], request.query, cursor=None, error=exc.message)
        return web.Response(text=html, content_type="text/html", status=400)
    entries = await audit_page(request, query)
    return web.Response(
        text=render(entries, request.query, cursor=next_cursor(entries, PAGE_LIMIT)),
        content_type="text/html",
        headers={"Cache-Control": "private, no-store"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/admin/audit", audit_trail_page)
