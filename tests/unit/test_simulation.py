"""The simulator drives the real routing engine and agrees with Erlang C within its own CIs."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from routing import erlang
from routing.simulate_cli import add_parser
from routing.simulation import Result, Scenario, simulate

AHT = 180.0


def scenario(agents: int, traffic: float, **kw: object) -> Scenario:
    fields: dict[str, object] = {
        "agents": agents,
        "arrival_rate_per_s": traffic / AHT,
        "aht_s": AHT,
        "sla_s": 20.0,
        "calls": 2_000,
        "seed": 1,
    }
    fields.update(kw)
    return Scenario(**fields)  # type: ignore[arg-type]


def close(sim: float | None, ci: float | None, theory: float | None) -> bool:
    """Within three 95 % half-widths: sampling error, with room for batch correlation."""
    assert sim is not None and ci is not None and theory is not None
    return abs(sim - theory) <= 3 * ci


# ------------------------------------------------------------------ against Erlang C


@pytest.mark.parametrize(
    ("agents", "traffic", "calls"),
    [(1, 0.5, 10_000), (5, 4.0, 20_000), (10, 8.0, 20_000)],
    ids=["N1-A0.5", "N5-A4", "N10-A8"],
)
def test_simulation_matches_erlang_c_within_its_confidence_interval(
    agents: int, traffic: float, calls: int
) -> None:
    r = simulate(scenario(agents, traffic, calls=calls, seed=2024))
    assert (r.answered, r.abandoned) == (r.calls, 0)
    assert close(r.service_level, r.service_level_ci95, r.erlang_c_service_level)
    assert close(r.asa_s, r.asa_ci95, r.erlang_c_asa_s)
    assert close(r.probability_of_wait, r.probability_of_wait_ci95, r.erlang_c_probability_of_wait)
    assert close(r.occupancy, r.occupancy_ci95, r.erlang_c_occupancy)
    # The intervals must be tight enough to mean something.
    assert r.service_level_ci95 < 0.06
    assert r.occupancy_ci95 < 0.03


def test_the_comparison_can_fail_when_theory_and_run_differ() -> None:
    """A mis-staffed prediction lies far outside the interval: the check has teeth."""
    r = simulate(scenario(10, 8.0, calls=10_000, seed=3))
    one_agent_fewer = erlang.service_level(9, 8.0 / AHT, AHT, 20)
    assert not close(r.service_level, r.service_level_ci95, one_agent_fewer)


# ------------------------------------------------------------------ reproducibility


def test_same_seed_gives_identical_results() -> None:
    a, b = simulate(scenario(5, 4.0, seed=7)), simulate(scenario(5, 4.0, seed=7))
    assert a == b
    assert a.to_json() == b.to_json()


def test_different_seeds_give_different_results() -> None:
    a, b = simulate(scenario(5, 4.0, seed=7)), simulate(scenario(5, 4.0, seed=8))
    assert a.asa_s != b.asa_s
    assert a.service_level != b.service_level or a.occupancy != b.occupancy


def test_an_injected_random_stream_replaces_the_seed() -> None:
    s = scenario(5, 4.0, seed=7)
    assert simulate(s, rng=random.Random(7)) == simulate(s)
    assert simulate(s, rng=random.Random(99)) != simulate(s)


# ------------------------------------------------------------------ what is measured


def test_warm_up_defaults_to_a_tenth_of_the_calls() -> None:
    assert simulate(scenario(5, 3.0, calls=2_000)).calls == 1_800
    assert simulate(scenario(5, 3.0, calls=2_000, warmup_calls=0)).calls == 2_000


def test_idle_agents_answer_at_once() -> None:
    """With a trickle of calls nearly nobody waits, and those who do are still answered."""
    r = simulate(scenario(20, 0.5, calls=1_000))
    assert r.probability_of_wait == 0.0
    assert r.service_level == 1.0
    assert r.asa_s == 0.0
    assert r.occupancy == pytest.approx(0.5 / 20, rel=0.2)


def test_impatient_callers_abandon_and_shorten_the_wait() -> None:
    patient = simulate(scenario(5, 4.0, calls=5_000, seed=11))
    impatient = simulate(scenario(5, 4.0, calls=5_000, seed=11, patience_s=60.0))
    assert impatient.abandoned > 0
    assert impatient.answered + impatient.abandoned == impatient.calls
    assert impatient.abandonment_rate == pytest.approx(impatient.abandoned / impatient.calls)
    assert impatient.asa_s is not None and patient.asa_s is not None
    assert impatient.asa_s < patient.asa_s
    assert impatient.occupancy < patient.occupancy
    # Erlang C is still printed for comparison; it ignores abandonment.
    assert impatient.erlang_c_asa_s == patient.erlang_c_asa_s


def test_an_overload_with_abandonment_settles_without_erlang_c() -> None:
    r = simulate(scenario(5, 7.0, calls=3_000, patience_s=90.0))
    assert r.erlang_c_service_level is None and r.erlang_c_asa_s is None
    assert r.abandonment_rate > 0.1
    assert 0.9 < r.occupancy <= 1.0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"agents": 0}, "agents must be at least 1"),
        ({"aht_s": 0.0}, "aht_s must be"),
        ({"arrival_rate_per_s": -1.0}, "arrival_rate_per_s must be"),
        ({"sla_s": -1.0}, "sla_s must be"),
        ({"patience_s": 0.0}, "patience_s must be"),
        ({"warmup_calls": -1}, "warmup_calls must be"),
        ({"calls": 40}, "calls must exceed the 4 warm-up calls by at least 40"),
        ({"arrival_rate_per_s": 5 / AHT}, "unstable load"),
    ],
)
def test_a_scenario_refuses_what_it_cannot_run(kw: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "agents": 5,
        "arrival_rate_per_s": 4 / AHT,
        "aht_s": AHT,
        "sla_s": 20.0,
        "calls": 2_000,
        "seed": 1,
    }
    fields.update(kw)
    with pytest.raises(ValueError, match=message):
        Scenario(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the command line


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="contact-hub")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulate", *argv])
    return int(args.func(args))


BASE = ["--agents", "5", "--arrival-rate", str(4 / AHT), "--aht-s", "180", "--sla-s", "20"]


def test_cli_json_is_one_object_with_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([*BASE, "--calls", "2000", "--seed", "3", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON document, nothing else
    assert isinstance(data, dict)
    for key in ("service_level", "asa_s", "occupancy", "erlang_c_service_level", "erlang_c_asa_s"):
        assert isinstance(data[key], float), key
    assert 0 <= data["service_level"] <= 1
    assert 0 <= data["erlang_c_service_level"] <= 1
    expected: Result = simulate(scenario(5, 4.0, seed=3))
    assert data["asa_s"] == expected.asa_s


def test_cli_table_shows_simulated_beside_erlang_c(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([*BASE, "--calls", "2000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Erlang C" in out
    for row in ("service level (20 s)", "ASA", "P(wait)", "occupancy"):
        assert row in out
    assert "±" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agents", "0"], "--agents must be at least 1"),
        (["--agents", "4"], "unstable load"),
        (["--aht-s", "-3"], "--aht-s must be"),
    ],
)
def test_cli_refuses_bad_arguments_with_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Later flags win in argparse, so these override the ones in BASE.
    assert run_cli([*BASE, "--calls", "2000", "--seed", "1", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_cli_accepts_an_overload_when_callers_hang_up(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*BASE, "--agents", "3", "--calls", "1000", "--seed", "1", "--patience-s", "60"]
    assert run_cli(argv) == 0
    assert "no steady state" in capsys.readouterr().out
