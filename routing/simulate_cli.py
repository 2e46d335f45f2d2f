"""The ``simulate`` subcommand: play a staffing scenario through the engine, beside Erlang C.

``add_parser(subparsers)`` registers it on the ``contact-hub`` command line;
``cmd_simulate(args)`` runs it and returns the exit code (2 for arguments it refuses).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from routing.simulation import Result, Scenario, simulate

EXIT_USAGE = 2


def add_parser(subparsers: Any) -> None:
    """Register ``simulate`` on an ``ArgumentParser.add_subparsers()`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="simulate a voice queue through the routing engine and compare with Erlang C",
        description=(
            "Play Poisson arrivals with exponential handling times through the real routing "
            "engine on a virtual clock, and print the measured service level, ASA and "
            "occupancy (with 95%% batch-means confidence intervals) beside Erlang C."
        ),
    )
    p.add_argument("--agents", type=int, required=True, metavar="N", help="agents logged in")
    p.add_argument(
        "--arrival-rate", type=float, required=True, metavar="PER_S", help="calls per second"
    )
    p.add_argument("--aht-s", type=float, required=True, metavar="S", help="mean handling time")
    p.add_argument("--sla-s", type=float, required=True, metavar="S", help="answer target")
    p.add_argument("--calls", type=int, required=True, metavar="N", help="calls to simulate")
    p.add_argument("--seed", type=int, required=True, metavar="N", help="random seed")
    p.add_argument(
        "--warmup-calls",
        type=int,
        metavar="N",
        help="first calls left out of the figures (default: 10%% of --calls)",
    )
    p.add_argument(
        "--patience-s",
        type=float,
        metavar="S",
        help="mean patience; callers still waiting after it hang up (default: nobody does)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        scenario = Scenario(
            agents=args.agents,
            arrival_rate_per_s=args.arrival_rate,
            aht_s=args.aht_s,
            sla_s=args.sla_s,
            calls=args.calls,
            seed=args.seed,
            warmup_calls=args.warmup_calls,
            patience_s=args.patience_s,
        )
    except ValueError as exc:
        print(f"contact-hub simulate: {_flag_names(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    result = simulate(scenario)
    if args.json:
        print(json.dumps(result.to_json(), allow_nan=False))
    else:
        print(render(result))
    return 0


def render(r: Result) -> str:
    """A readable table: each simulated figure with its 95 % CI beside Erlang C."""
    s = r.scenario
    lines = [
        f"{s.agents} agents, {s.arrival_rate_per_s:g} calls/s, AHT {s.aht_s:g} s "
        f"-> offered load {s.traffic:.3f} Erlangs; target {s.sla_s:g} s"
        + (f"; mean patience {s.patience_s:g} s" if s.patience_s is not None else ""),
        f"{r.calls} calls measured after {s.warmup} warm-up (seed {s.seed}, "
        f"{r.measured_s / 3600:.1f} simulated hours): {r.answered} answered, "
        f"{r.abandoned} abandoned ({r.abandonment_rate:.1%})",
        "",
        f"{'':<22}{'simulated (95% CI)':>24}{'Erlang C':>12}  within CI",
    ]

    def row(name: str, sim: float | None, ci: float | None, theory: float | None, pct: bool) -> str:
        def fmt(x: float) -> str:
            return f"{x:.2%}" if pct else f"{x:.2f} s"

        shown = "-" if sim is None else fmt(sim) + ("" if ci is None else f" ± {fmt(ci)}")
        expected = "-" if theory is None else fmt(theory)
        verdict = "-"
        if sim is not None and ci is not None and theory is not None:
            verdict = "yes" if abs(sim - theory) <= ci else "no"
        return f"{name:<22}{shown:>24}{expected:>12}  {verdict}"

    lines += [
        row(
            f"service level ({s.sla_s:g} s)",
            r.service_level,
            r.service_level_ci95,
            r.erlang_c_service_level,
            True,
        ),
        row("ASA", r.asa_s, r.asa_ci95, r.erlang_c_asa_s, False),
        row(
            "P(wait)",
            r.probability_of_wait,
            r.probability_of_wait_ci95,
            r.erlang_c_probability_of_wait,
            True,
        ),
        row("occupancy", r.occupancy, r.occupancy_ci95, r.erlang_c_occupancy, True),
    ]
    if r.erlang_c_service_level is None:
        lines.append("Erlang C: no steady state at this load (offered load >= agents).")
    elif s.patience_s is not None:
        lines.append("Erlang C assumes nobody hangs up; with abandonment expect it to differ.")
    return "\n".join(lines)


def _flag_names(message: str) -> str:
    """Name the command-line flags in a ``Scenario`` error, so the user knows what to change."""
    message = re.sub(r"^(agents|calls)\b", r"--\1", message)
    return re.sub(r"\b(?:arrival_rate_per_s|warmup_calls|patience_s|aht_s|sla_s)\b", _flag, message)


def _flag(match: re.Match[str]) -> str:
    return _FLAGS[match.group(0)]


_FLAGS = {
    "arrival_rate_per_s": "--arrival-rate",
    "warmup_calls": "--warmup-calls",
    "patience_s": "--patience-s",
    "aht_s": "--aht-s",
    "sla_s": "--sla-s",
}
