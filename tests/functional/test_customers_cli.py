"""``contact-hub customers import/export`` as an administrator runs them: a dry run reports
errors by line and duplicates matched on identities and writes nothing; a file with a bad line
is refused whole unless --skip-invalid; an export imports back as duplicates, not copies."""

from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.cli import main
from tests.functional.test_cli import cli, hub_env

FIELDS = "[{name: plan, type: choice, choices: [basic, pro]}, {name: seats, type: number}]"

FIRST = """name,company,tier,email,phone,external,custom.plan,custom.seats,tags
Grace Hopper,Navy,important,grace@example.com,+1 415 555 0100,erp:C-1,pro,12,vip;beta
Alan Turing,,normal,alan@example.com,,,basic,,
Bad Tier,,gold,bad@example.com,,,,,
Copy Of Grace,,,GRACE@example.com,,,,,
Bad Seats,,,seats@example.com,,,,many,
"""


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def run(tmp_path: Path, *args: str) -> Done:
    """The command, in this process (with the environment an operator would set)."""
    env = hub_env(tmp_path, HUB_CUSTOMER_FIELDS=FIELDS)
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("HUB_")]:
            patch.delenv(key)
        for key, value in env.items():
            if key.startswith("HUB_"):
                patch.setenv(key, value)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(cli("customers", *args)[3:])
    return Done(code, out.getvalue(), err.getvalue())


def exported(tmp_path: Path) -> list[str]:
    done = run(tmp_path, "export")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_import_reports_by_line_and_writes_all_or_nothing(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(FIRST, encoding="utf-8")

    dry = run(tmp_path, "import", str(first), "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert dry.stdout.splitlines() == [
        "line 4: error: tier must be one of important, normal, potential",
        "line 5: error: email grace@example.com is also on line 2",
        "line 6: error: custom.seats must be a number",
        "would import (nothing written): 2 new, 0 updated, 3 with errors",
    ]
    assert len(exported(tmp_path)) == 1  # the header only

    refused = run(tmp_path, "import", str(first))
    assert refused.returncode == 1 and "nothing was written" in refused.stderr
    assert len(exported(tmp_path)) == 1

    done = run(tmp_path, "import", str(first), "--skip-invalid")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "imported: 2 new, 0 updated, 3 with errors"
    lines = exported(tmp_path)
    assert lines[0] == (
        "name,company,tier,language,tags,owner_email,email,phone,webchat,external,"
        "custom.plan,custom.seats"
    )
    # A phone number starts with "+": the export keeps spreadsheets from reading a formula.
    assert lines[1] == (
        "Grace Hopper,Navy,important,,vip;beta,,grace@example.com,'+14155550100,,erp:C-1,pro,12"
    )

    # A later file matches existing customers on any identity and updates them.
    second = tmp_path / "second.csv"
    second.write_text(
        "name,company,phone,email\nGrace H.,US Navy,+14155550100,amazing.grace@example.com\n",
        encoding="utf-8",
    )
    done = run(tmp_path, "import", str(second))
    assert done.returncode == 0, done.stderr
    matched, totals = done.stdout.splitlines()
    # (Ids are not 1, 2 ... on PostgreSQL, whose sequences move on in rolled-back runs.)
    assert re.fullmatch(
        r"line 2: duplicate of customer \d+ \(matched on phone \+14155550100\)", matched
    )
    assert totals == "imported: 0 new, 1 updated, 0 with errors"
    grace = exported(tmp_path)[1]
    assert grace.startswith("Grace H.,US Navy,important,")
    assert "grace@example.com;amazing.grace@example.com" in grace

    # The export itself imports back as duplicates of the same customers.
    (tmp_path / "all.csv").write_text("\n".join(exported(tmp_path)) + "\n", encoding="utf-8")
    again = run(tmp_path, "import", str(tmp_path / "all.csv"), "--dry-run")
    assert again.returncode == 0, again.stdout
    assert again.stdout.splitlines()[-1] == (
        "would import (nothing written): 0 new, 2 updated, 0 with errors"
    )
