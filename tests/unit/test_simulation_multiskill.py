"""On a multi-skill team, skill-based routing beats plain FIFO, through the real engine."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from routing.simulate_cli import add_parser
from routing.simulation import (
    ROUTINGS,
    AgentGroup,
    MultiSkillResult,
    MultiSkillScenario,
    compare_routings,
    simulate_multiskill,
)

CALLS = 3_000  # three set-ups of this size run in about a second


@pytest.fixture(scope="module")
def default() -> dict[str, MultiSkillResult]:
    return compare_routings(MultiSkillScenario(calls=CALLS, seed=5))


# ------------------------------------------------------------------ what a user reads


def test_skill_based_routing_handles_calls_faster_than_fifo(
    default: dict[str, MultiSkillResult],
) -> None:
    fifo = default["fifo"].mean_handling_s
    assert fifo is not None
    for routing in ("most_skilled", "escalation"):
        faster = default[routing].mean_handling_s
        assert faster is not None
        assert faster < 0.9 * fifo, routing


def test_skill_based_routing_sends_more_calls_to_experts(
    default: dict[str, MultiSkillResult],
) -> None:
    fifo = default["fifo"].expert_share
    assert fifo is not None
    for routing in ("most_skilled", "escalation"):
        share = default[routing].expert_share
        assert share is not None
        assert share > fifo + 0.2, routing


def test_faster_handling_frees_agents_and_most_skilled_answers_sooner(
    default: dict[str, MultiSkillResult],
) -> None:
    fifo, best = default["fifo"], default["most_skilled"]
    assert best.occupancy < fifo.occupancy
    assert default["escalation"].occupancy < fifo.occupancy
    assert best.service_level > fifo.service_level
    assert best.asa_s is not None and fifo.asa_s is not None
    assert best.asa_s < fifo.asa_s


def test_escalation_makes_calls_wait_for_an_expert_first(
    default: dict[str, MultiSkillResult],
) -> None:
    """Holding a call for a specialist costs answer time that most_skilled does not pay."""
    esc, best = default["escalation"], default["most_skilled"]
    assert esc.asa_s is not None and best.asa_s is not None
    assert esc.asa_s > best.asa_s


def test_without_patience_every_set_up_answers_every_call(
    default: dict[str, MultiSkillResult],
) -> None:
    assert set(default) == set(ROUTINGS)
    for routing, r in default.items():
        assert r.routing == routing
        assert r.calls == CALLS - CALLS // 10
        assert (r.answered, r.abandoned, r.abandonment_rate) == (r.calls, 0, 0.0)
        assert 0 <= r.service_level <= 1
        assert 0 < r.occupancy < 1


def test_impatient_callers_abandon_most_where_they_wait_for_experts() -> None:
    results = compare_routings(MultiSkillScenario(calls=CALLS, seed=5, patience_s=60.0))
    for r in results.values():
        assert r.abandoned > 0
        assert r.answered + r.abandoned == r.calls
        assert r.abandonment_rate == pytest.approx(r.abandoned / r.calls)
    assert results["escalation"].abandonment_rate > results["most_skilled"].abandonment_rate


def test_with_only_specialists_escalation_and_most_skilled_route_alike() -> None:
    """Nobody to escalate to and nobody to rank: both send each call to its experts alone."""
    team = (AgentGroup.of(3, billing=5), AgentGroup.of(3, tech=5))
    s = MultiSkillScenario(
        call_types=(("billing", 1.0), ("tech", 1.0)),
        team=team,
        arrival_rate_per_s=3.0 / 180.0,
        calls=1_000,
        seed=2,
    )
    results = compare_routings(s)
    best, esc = results["most_skilled"].to_json(), results["escalation"].to_json()
    assert best.pop("routing") == "most_skilled" and esc.pop("routing") == "escalation"
    # The same calls to the same agents; only the busy-time sum is cut at other instants
    # (escalation deadlines), which moves occupancy in its last digits.
    assert best == pytest.approx(esc, rel=1e-9)
    assert best["expert_share"] == 1.0
    assert results["fifo"].expert_share is not None and results["fifo"].expert_share < 1.0


# ------------------------------------------------------------------ reproducibility


def test_same_seed_gives_identical_results() -> None:
    s = MultiSkillScenario(calls=1_000, seed=9)
    assert compare_routings(s) == compare_routings(s)


def test_different_seeds_give_different_results() -> None:
    a = simulate_multiskill(MultiSkillScenario(calls=1_000, seed=9), "fifo")
    b = simulate_multiskill(MultiSkillScenario(calls=1_000, seed=10), "fifo")
    assert a.mean_handling_s != b.mean_handling_s


def test_an_injected_random_stream_replaces_the_seed() -> None:
    s = MultiSkillScenario(calls=1_000, seed=9)
    assert simulate_multiskill(s, "escalation", rng=random.Random(9)) == simulate_multiskill(
        s, "escalation"
    )


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"call_types": ()}, "at least one call type"),
        ({"call_types": (("billing", 0.5), ("billing", 0.5))}, "distinct names"),
        ({"call_types": (("and", 1.0),)}, "cannot be a skill name"),
        ({"call_types": (("billing", 0.0),)}, "share of 'billing' must be"),
        ({"call_types": (("billing", 0.5), ("french", 0.5))}, "nobody on the team has"),
        ({"team": (AgentGroup.of(0, billing=5),)}, "count must be at least 1"),
        ({"team": (AgentGroup.of(1, billing=6),)}, "proficiency on 'billing' must be"),
        ({"escalate_after_s": 0.0}, "escalate_after_s must be"),
        ({"expert_level": 0}, "expert_level must be"),
        ({"calls": 5, "warmup_calls": 4}, "calls must exceed the 4 warm-up calls"),
        ({"arrival_rate_per_s": 12 / 180}, "unstable load"),
    ],
)
def test_a_scenario_refuses_what_it_cannot_run(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MultiSkillScenario(**kw)  # type: ignore[arg-type]


def test_an_unknown_routing_is_refused() -> None:
    with pytest.raises(ValueError, match="routing must be one of"):
        simulate_multiskill(MultiSkillScenario(calls=100), "ring_all")


# ------------------------------------------------------------------ the command line


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="contact-hub")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulate", *argv])
    return int(args.func(args))


def test_cli_table_compares_the_three_set_ups(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--multiskill", "--calls", "1000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    for name in ROUTINGS:
        assert name in out
    for row in ("service level (20 s)", "ASA", "mean handling time", "occupancy", "abandoned"):
        assert row in out
    assert "seed 3" in out


def test_cli_json_has_one_key_per_set_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--multiskill", "--calls", "1000", "--seed", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # exactly one JSON document
    expected = compare_routings(MultiSkillScenario(calls=1_000, seed=3))
    for name in ROUTINGS:
        for key in ("service_level", "asa_s", "mean_handling_s", "occupancy"):
            assert isinstance(data[name][key], float), (name, key)
        assert data[name] == expected[name].to_json()
    assert data["scenario"]["calls"] == 1_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agents", "5"], "--agents does not apply to --multiskill"),
        (["--escalate-after-s", "0"], "--escalate-after-s must be"),
        (["--patience-s", "-1"], "--patience-s must be"),
        (["--arrival-rate", "1"], "unstable load"),
    ],
)
def test_cli_multiskill_refuses_bad_arguments_with_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--multiskill", "--calls", "1000", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_cli_still_requires_the_single_queue_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(["--agents", "3"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: --arrival-rate" in capsys.readouterr().err


def test_cli_escalate_after_needs_multiskill(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--agents", "5", "--arrival-rate", "0.02", "--aht-s", "180", "--sla-s", "20"]
    assert run_cli([*argv, "--calls", "1000", "--seed", "1", "--escalate-after-s", "5"]) == 2
    assert "--escalate-after-s needs --multiskill" in capsys.readouterr().err
