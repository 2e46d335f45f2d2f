"""The ``simulate`` subcommand: play a staffing scenario through the engine, beside Erlang C.

``add_parser(subparsers)`` registers it on the ``contact-hub`` command line;
``cmd_simulate(args)`` runs it and returns the exit code (2 for arguments it refuses).
With ``--multiskill`` it instead compares three routing set-ups (plain FIFO, ``most_skilled``,
escalation) on one multi-skill scenario (``routing.simulation.MultiSkillScenario``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from routing.simulation import (
    ROUTINGS,
    MultiSkillResult,
    MultiSkillScenario,
    Result,
    Scenario,
    compare_routings,
    simulate,
)

EXIT_USAGE = 2
# Required for the single-queue run; --multiskill has defaults for all of them (or refuses).
_REQUIRED = ("agents", "arrival_rate", "aht_s", "sla_s", "calls", "seed")
MULTISKILL_CALLS = 20_000
MULTISKILL_SEED = 1


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
    p.add_argument("--agents", type=int, metavar="N", help="agents logged in")
    p.add_argument("--arrival-rate", type=float, metavar="PER_S", help="calls per second")
    p.add_argument("--aht-s", type=float, metavar="S", help="mean handling time")
    p.add_argument("--sla-s", type=float, metavar="S", help="answer target")
    p.add_argument("--calls", type=int, metavar="N", help="calls to simulate")
    p.add_argument("--seed", type=int, metavar="N", help="random seed")
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
    p.add_argument(
        "--multiskill",
        action="store_true",
        help=(
            "compare plain FIFO, most_skilled and escalation on a multi-skill team instead "
            f"(defaults: --calls {MULTISKILL_CALLS}, --seed {MULTISKILL_SEED}; --arrival-rate, "
            "--aht-s, --sla-s, --patience-s and --warmup-calls override the scenario's)"
        ),
    )
    p.add_argument(
        "--escalate-after-s",
        type=float,
        metavar="S",
        help="with --multiskill: seconds a call waits for an expert before anyone may take it",
    )
    p.set_defaults(func=cmd_simulate, simulate_parser=p)


def cmd_simulate(args: argparse.Namespace) -> int:
    if getattr(args, "multiskill", False):
        return cmd_multiskill(args)
    if getattr(args, "escalate_after_s", None) is not None:
        print("contact-hub simulate: --escalate-after-s needs --multiskill", file=sys.stderr)
        return EXIT_USAGE
    missing = [name for name in _REQUIRED if getattr(args, name, None) is None]
    if missing:
        # What argparse said when these flags were required, word for word.
        names = ", ".join("--" + name.replace("_", "-") for name in missing)
        parser: argparse.ArgumentParser = args.simulate_parser
        parser.error(f"the following arguments are required: {names}")
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


def cmd_multiskill(args: argparse.Namespace) -> int:
    """``simulate --multiskill``: the three routing set-ups side by side."""
    if args.agents is not None:
        print(
            "contact-hub simulate: --agents does not apply to --multiskill "
            "(its team is fixed; see routing.simulation.DEFAULT_TEAM)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    overrides: dict[str, Any] = {
        "calls": MULTISKILL_CALLS if args.calls is None else args.calls,
        "seed": MULTISKILL_SEED if args.seed is None else args.seed,
        "warmup_calls": args.warmup_calls,
        "patience_s": args.patience_s,
    }
    for flag, field in (
        ("arrival_rate", "arrival_rate_per_s"),
        ("aht_s", "aht_s"),
        ("sla_s", "sla_s"),
        ("escalate_after_s", "escalate_after_s"),
    ):
        if getattr(args, flag) is not None:
            overrides[field] = getattr(args, flag)
    try:
        scenario = MultiSkillScenario(**overrides)
    except ValueError as exc:
        print(f"contact-hub simulate: {_flag_names(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    results = compare_routings(scenario)
    if args.json:
        data: dict[str, Any] = {"scenario": scenario.to_json()}
        data.update({name: r.to_json() for name, r in results.items()})
        print(json.dumps(data, allow_nan=False))
    else:
        print(render_multiskill(scenario, results))
    return 0


def render_multiskill(s: MultiSkillScenario, results: dict[str, MultiSkillResult]) -> str:
    """A readable table: one column per routing set-up, the same calls in each."""
    team = "; ".join(
        f"{g.count} x " + (", ".join(f"{k} {v}" for k, v in g.skills) or "no skills")
        for g in s.team
    )
    total = sum(share for _, share in s.call_types)
    mix = ", ".join(f"{name} {share / total:.0%}" for name, share in s.call_types)
    first = results[ROUTINGS[0]]
    lines = [
        f"{s.agents} agents: {team}",
        f"calls: {mix}, {s.arrival_rate_per_s:.4g}/s; AHT {s.aht_s:g} s at proficiency 5 "
        f"(x{s.factor(2):.2f} at 2, x{s.factor(0):.2f} at 0)",
        f"-> offered load {s.traffic:.3f} Erlangs at full proficiency; target {s.sla_s:g} s"
        + (f"; mean patience {s.patience_s:g} s" if s.patience_s is not None else ""),
        f"{first.calls} calls measured after {s.warmup} warm-up (seed {s.seed}, "
        f"{first.measured_s / 3600:.1f} simulated hours), the same calls for each set-up",
        "",
        f"{'':<24}" + "".join(f"{name:>14}" for name in ROUTINGS),
    ]

    def row(label: str, values: list[str]) -> str:
        return f"{label:<24}" + "".join(f"{v:>14}" for v in values)

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    def sec(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f} s"

    rs = [results[name] for name in ROUTINGS]
    lines += [
        row(f"service level ({s.sla_s:g} s)", [pct(r.service_level) for r in rs]),
        row("ASA", [sec(r.asa_s) for r in rs]),
        row("mean handling time", [sec(r.mean_handling_s) for r in rs]),
        row("occupancy", [pct(r.occupancy) for r in rs]),
        row(f"answered by expert (>={s.expert_level})", [pct(r.expert_share) for r in rs]),
        row("abandoned", [pct(r.abandonment_rate) for r in rs]),
        "",
        "fifo: the agent idle longest takes the oldest call, whatever its type",
        "most_skilled: the free agent best at the call's skill (at least 1)",
        f"escalation: agents at >= {s.expert_level} on the call's skill for "
        f"{s.escalate_after_s:g} s, then anyone with it",
    ]
    return "\n".join(lines)


def _flag_names(message: str) -> str:
    """Name the command-line flags in a ``Scenario`` error, so the user knows what to change."""
    message = re.sub(r"^(agents|calls)\b", r"--\1", message)
    return re.sub(
        r"\b(?:arrival_rate_per_s|warmup_calls|patience_s|aht_s|sla_s|escalate_after_s)\b",
        _flag,
        message,
    )


def _flag(match: re.Match[str]) -> str:
    return _FLAGS[match.group(0)]


_FLAGS = {
    "arrival_rate_per_s": "--arrival-rate",
    "warmup_calls": "--warmup-calls",
    "patience_s": "--patience-s",
    "aht_s": "--aht-s",
    "sla_s": "--sla-s",
    "escalate_after_s": "--escalate-after-s",
}
