"""Customers as CSV (pure): the columns, reading an import file into checked rows with
errors by line, and writing the export.

One row per customer. Columns: ``name``, ``company``, ``tier``, ``language``, ``tags``,
``owner_email``, the identities ``email``, ``phone``, ``webchat`` and ``external``
(``<system>:<id>``), and ``custom.<name>`` for each field declared in ``customer_fields``.
Cells that hold several values (tags, identities) separate them with ``;``. An empty cell
sets nothing. Exported cells that a spreadsheet would run as a formula get a leading ``'``,
which an import takes off again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.audit import FORMULA_STARTS, csv_safe
from hub.customers import (
    EXTERNAL_PREFIX,
    CustomField,
    FieldType,
    Profile,
    identity,
    identity_kind_json,
    profile_changes,
)
from hub.errors import InvalidInput
from hub.model import Identity

IDENTITY_COLUMNS = ("email", "phone", "webchat", "external")
PROFILE_COLUMNS = ("name", "company", "tier", "language", "tags", "owner_email")
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One checked line: the profile fields it sets and the identities it names."""

    line: int
    values: dict[str, Any]
    identities: tuple[Identity, ...]
    owner_email: str | None = None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did (or, on a dry run, would do) with one line."""

    line: int
    action: str  # created, updated, error
    customer_id: int | None
    detail: str  # updated: what it matched on; error: why


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass
class ImportPlan:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def columns(specs: Sequence[CustomField]) -> list[str]:
    return [*PROFILE_COLUMNS, *IDENTITY_COLUMNS, *(f"custom.{s.name}" for s in specs)]


def _cell(raw: str | None) -> str:
    text = (raw or "").strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]  # written by an export to keep spreadsheets from running it
    return text


def _many(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _custom(spec: CustomField, text: str) -> Any:
    if spec.type is not FieldType.NUMBER:
        return text
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # refused by name in profile_changes


def _row(line: int, cells: dict[str, str], specs: Sequence[CustomField]) -> ImportRow:
    data: dict[str, Any] = {}
    for column in ("name", "company", "tier", "language"):
        if cells.get(column):
            data[column] = cells[column]
    if cells.get("tags"):
        data["tags"] = _many(cells["tags"])
    custom = {
        s.name: _custom(s, cells[f"custom.{s.name}"])
        for s in specs
        if cells.get(f"custom.{s.name}")
    }
    if custom:
        data["custom"] = custom
    values = profile_changes(data, specs)
    idents: list[Identity] = []
    for column in IDENTITY_COLUMNS:
        for n, value in enumerate(_many(cells.get(column, ""))):
            where = column if n == 0 else f"{column}[{n}]"
            if column == "external":
                system, sep, external_id = value.partition(":")
                if not sep or not external_id:
                    raise InvalidInput(f"{where} must be <system>:<id>, like erp:C-1001")
                idents.append(
                    identity(f"{EXTERNAL_PREFIX}{system}", external_id, where, value_field=where)
                )
            else:
                idents.append(identity(column, value, where, value_field=where))
    if not idents and not data.get("name"):
        raise InvalidInput("a customer needs a name or at least one identity")
    owner = cells.get("owner_email") or None
    return ImportRow(line, values, tuple(idents), owner.lower() if owner else None)


def read_import(text: str, specs: Sequence[CustomField]) -> ImportPlan:
    """Every line of ``text`` checked: rows to import, and errors naming line and column.
    An identity on two lines is an error on the later one."""
    plan = ImportPlan()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = sorted(set(header) - set(columns(specs)))
    if not header:
        raise InvalidInput("the file is empty; the first line names the columns")
    if unknown:
        raise InvalidInput(
            f"line 1: unknown column(s): {', '.join(unknown)}; known: {', '.join(columns(specs))}"
        )
    reader.fieldnames = header
    first_line: dict[Identity, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise InvalidInput(f"the file has more than {MAX_ROWS} customers; split it")
        cells = {k: _cell(v) for k, v in raw.items() if k is not None and isinstance(v, str)}
        if not any(cells.values()):
            continue
        try:
            row = _row(number, cells, specs)
        except InvalidInput as exc:
            plan.errors.append(LineError(number, exc.message))
            continue
        repeated = [i for i in row.identities if i in first_line]
        if repeated:
            kind, value = identity_kind_json(repeated[0])
            plan.errors.append(
                LineError(number, f"{kind} {value} is also on line {first_line[repeated[0]]}")
            )
            continue
        for ident in row.identities:
            first_line[ident] = number
        plan.rows.append(row)
    return plan


def _line(cells: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([csv_safe(c) for c in cells])
    return out.getvalue()


def header_line(specs: Sequence[CustomField]) -> str:
    return _line(columns(specs))


def customer_lines(
    profiles: Iterable[Profile], specs: Sequence[CustomField], owners: dict[int, str]
) -> Iterator[str]:
    """One CSV line per customer, in ``columns`` order (``owners``: user id to email)."""
    for p in profiles:
        by_kind: dict[str, list[str]] = {c: [] for c in IDENTITY_COLUMNS}
        for ident in p.identities:
            kind, value = identity_kind_json(ident)
            if kind.startswith(EXTERNAL_PREFIX):
                by_kind["external"].append(f"{kind.removeprefix(EXTERNAL_PREFIX)}:{value}")
            else:
                by_kind[kind].append(value)
        yield _line(
            [
                p.name,
                p.company,
                p.tier,
                p.language,
                ";".join(p.tags),
                owners.get(p.owner_id) if p.owner_id is not None else None,
                *(";".join(by_kind[c]) for c in IDENTITY_COLUMNS),
                *(p.custom.get(s.name) for s in specs),
            ]
        )
