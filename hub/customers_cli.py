"""``contact-hub customers import FILE [--dry-run] [--skip-invalid]`` and ``contact-hub
customers export``: bulk loads from other systems, and a CSV of every live customer.

An import checks every line first and prints a report: errors by line, and each row that
matches an existing customer on an identity (that customer is updated, not duplicated).
Nothing is written on a dry run, or when any line is wrong unless ``--skip-invalid``.

An import runs outside the hub, so it records the webhook deliveries of what it wrote itself
(``customer.created`` / ``customer.updated``, one per customer) through the recorder the hub
uses, into the same durable table; the hub's sender posts them within its idle wait.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from hub.audit import Actor
from hub.audit import AuditAction as Did
from hub.audit_trail import Audit
from hub.cli_output import write_output
from hub.config import Settings
from hub.customers_csv import (
    ImportOutcome,
    ImportRow,
    LineError,
    customer_lines,
    header_line,
    read_import,
)
from hub.errors import InvalidInput
from hub.events import CustomerChanged
from hub.storage.audit import SqlAuditStore
from hub.storage.customers import SqlCustomerStore
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from hub.storage.webhooks import SqlWebhookStore
from hub.webhook_outbox import WebhookRecorder

EXPORT_BATCH = 500
MAX_FILE_BYTES = 50 * 1024 * 1024

SettingsOf = Callable[[argparse.Namespace], Settings]
ActorOf = Callable[[str], Actor]
Now = Callable[[], Any]


async def announce_import(
    store: SqlStore, settings: Settings, outcomes: list[ImportOutcome], now: Now
) -> None:
    """Record (after the import committed) the webhook deliveries of each customer written:
    the same ``CustomerChanged`` events and recorder as in the hub."""
    customers = SqlCustomerStore(store)
    recorder = WebhookRecorder(
        store=SqlWebhookStore(store),
        clock=now,
        give_up_after_s=settings.webhooks.give_up_after_s,
        recorded=lambda: None,  # the hub's sender finds them on its next look
    )
    for o in outcomes:
        if o.customer_id is None or o.action not in ("created", "updated"):
            continue
        profile = await customers.profile(o.customer_id)
        change = "created" if o.action == "created" else "imported"
        await recorder.handle_event(CustomerChanged(o.action, profile, change))


def report(
    errors: list[LineError], outcomes: list[ImportOutcome], *, written: bool, out: TextIO
) -> None:
    """Errors and matches by line, then the totals."""
    lines = [(e.line, f"line {e.line}: error: {e.message}") for e in errors]
    for o in outcomes:
        if o.action == "error":
            lines.append((o.line, f"line {o.line}: error: {o.detail}"))
        elif o.action == "updated":
            lines.append(
                (o.line, f"line {o.line}: duplicate of customer {o.customer_id} ({o.detail})")
            )
    for _, text in sorted(lines):
        print(text, file=out)
    created = sum(o.action == "created" for o in outcomes)
    updated = sum(o.action == "updated" for o in outcomes)
    failed = len(errors) + sum(o.action == "error" for o in outcomes)
    verb = "imported" if written else "would import (nothing written)"
    print(f"{verb}: {created} new, {updated} updated, {failed} with errors", file=out)


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{path}: no such file")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it")
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None


def cmd_import(args: argparse.Namespace, settings: Settings, actor: Actor, now: Now) -> int:
    specs = settings.custom_fields()
    plan = read_import(_read(args.file), specs)
    rows: list[ImportRow] = plan.rows
    write = not args.dry_run and (args.skip_invalid or not plan.errors)

    async def run() -> tuple[list[ImportOutcome], bool]:
        store = SqlStore(make_engine(settings.database.url))
        try:
            await upgrade(store.engine)
            owners = {u.email: u.user_id for u in await store.users() if not u.disabled}
            outcomes, written = await SqlCustomerStore(store).import_customers(
                rows, owners=owners, now=now(), write=write
            )
            if not written and write and args.skip_invalid:
                # Rows refused against the database: import the others.
                good = {o.line for o in outcomes if o.action != "error"}
                outcomes2, written = await SqlCustomerStore(store).import_customers(
                    [r for r in rows if r.line in good], owners=owners, now=now(), write=True
                )
                outcomes = [o for o in outcomes if o.action == "error"] + outcomes2
            if written:
                await announce_import(store, settings, outcomes, now)
                audit = Audit(SqlAuditStore(store), now)
                audit.record(
                    actor,
                    Did.CUSTOMERS_IMPORTED,
                    details={
                        "file": Path(args.file).name,
                        "created": sum(o.action == "created" for o in outcomes),
                        "updated": sum(o.action == "updated" for o in outcomes),
                        "skipped": len(plan.errors) + sum(o.action == "error" for o in outcomes),
                    },
                )
                await audit.stop()
            return outcomes, written
        finally:
            await store.close()

    outcomes, written = asyncio.run(run())
    report(plan.errors, sorted(outcomes, key=lambda o: o.line), written=written, out=sys.stdout)
    failed = plan.errors or any(o.action == "error" for o in outcomes)
    if failed and not args.skip_invalid:
        if not args.dry_run:
            print("nothing was written; fix the lines above or use --skip-invalid", file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings, actor: Actor, now: Now) -> int:
    specs = settings.custom_fields()

    async def export(out: TextIO) -> int:
        store = SqlStore(make_engine(settings.database.url))
        rows = 0
        try:
            await upgrade(store.engine)
            customers = SqlCustomerStore(store)
            owners = {u.user_id: u.email for u in await store.users()}
            after: int | None = None
            out.write(header_line(specs))
            while True:
                page = await customers.all_live(after_id=after, limit=EXPORT_BATCH)
                out.writelines(customer_lines(page, specs, owners))
                rows += len(page)
                if len(page) < EXPORT_BATCH:
                    break
                after = page[-1].customer_id
            out.flush()
            audit = Audit(SqlAuditStore(store), now)
            audit.record(actor, Did.CUSTOMERS_EXPORTED, details={"format": "csv", "rows": rows})
            await audit.stop()
        finally:
            await store.close()
        return rows

    rows = write_output(args.output, export)
    print(f"exported {rows} customers", file=sys.stderr)
    return 0


def add_parser(sub: Any, settings_of: SettingsOf, actor_of: ActorOf, now: Now) -> None:
    """Register ``customers import`` and ``customers export`` on ``sub``."""
    customers = sub.add_parser("customers", help="customer records in bulk (CSV)")
    customers_sub = customers.add_subparsers(dest="customers_command", required=True)

    def run(command: Callable[..., int], name: str) -> Callable[[argparse.Namespace], int]:
        return lambda args: command(args, settings_of(args), actor_of(f"customers {name}"), now)

    imp = customers_sub.add_parser(
        "import",
        help="create or update customers from a CSV file (matched on identities)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    imp.add_argument("file", help="the CSV file; the first line names the columns")
    imp.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the good lines even if some are wrong"
    )
    imp.set_defaults(func=run(cmd_import, "import"))
    exp = customers_sub.add_parser("export", help="every live customer as CSV")
    exp.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    exp.add_argument("--output", "-o", help="file to write (default: standard output)")
    exp.set_defaults(func=run(cmd_export, "export"))
